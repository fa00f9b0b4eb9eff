# workload-role: one IAM role per workload (trainer, data pipeline, inference server,
# team), allowed exactly what it needs on the buckets and KMS keys it is given: list and
# read them, or read and write them. Every statement names its resources; there is no
# wildcard action and no wildcard resource. With an instance profile for EC2.

locals {
  read_only  = [for b in var.buckets : b if b.access == "read-only"]
  read_write = [for b in var.buckets : b if b.access == "read-write"]
  read_keys  = distinct([for b in var.buckets : b.kms_key_arn if b.kms_key_arn != null])
  write_keys = distinct([for b in local.read_write : b.kms_key_arn if b.kms_key_arn != null])

  statements = concat(
    length(var.buckets) == 0 ? [] : [{
      Sid      = "ListBuckets"
      Effect   = "Allow"
      Action   = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"]
      Resource = [for b in var.buckets : b.arn]
    }],
    length(local.read_only) == 0 ? [] : [{
      Sid      = "ReadObjects"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource = [for b in local.read_only : "${b.arn}/*"]
    }],
    length(local.read_write) == 0 ? [] : [{
      Sid    = "ReadWriteObjects"
      Effect = "Allow"
      Action = [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
      ]
      Resource = [for b in local.read_write : "${b.arn}/*"]
    }],
    length(local.read_keys) == 0 ? [] : [{
      Sid      = "DecryptWithBucketKeys"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:DescribeKey"]
      Resource = local.read_keys
    }],
    length(local.write_keys) == 0 ? [] : [{
      Sid      = "EncryptWithBucketKeys"
      Effect   = "Allow"
      Action   = ["kms:GenerateDataKey"]
      Resource = local.write_keys
    }],
  )
}

resource "aws_iam_role" "this" {
  name                 = var.name
  description          = var.description
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = var.trusted_services }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_iam_role_policy" "data_access" {
  count  = length(var.buckets) == 0 ? 0 : 1
  name   = "data-access"
  role   = aws_iam_role.this.name
  policy = jsonencode({ Version = "2012-10-17", Statement = local.statements })
}

resource "aws_iam_role_policy_attachment" "managed" {
  for_each   = toset(var.managed_policy_arns)
  role       = aws_iam_role.this.name
  policy_arn = each.value
}

resource "aws_iam_instance_profile" "this" {
  count = var.create_instance_profile ? 1 : 0
  name  = var.name
  role  = aws_iam_role.this.name

  tags = merge(var.tags, { Name = var.name })
}
