# workload-role: one IAM role per workload (trainer, data pipeline, inference server,
# team), allowed exactly what it needs on the buckets and KMS keys it is given: list and
# read them, or read and write them. Every statement names its resources; there is no
# wildcard action and no wildcard resource. With an instance profile for EC2.

locals {
  read_only  = [for b in var.buckets : b if b.access == "read-only"]
  read_write = [for b in var.buckets : b if b.access == "read-write"]
  read_keys  = distinct([for b in var.buckets : b.kms_key_arn if b.kms_key_arn != null])
  write_keys = distinct([for b in local.read_write : b.kms_key_arn if b.kms_key_arn != null])

  # Each statement only when it has something to name: IAM refuses an empty Resource.
  statements = [for s in [
    {
      sid       = "ListBuckets"
      actions   = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"]
      resources = [for b in var.buckets : b.arn]
    },
    {
      sid       = "ReadObjects"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = [for b in local.read_only : "${b.arn}/*"]
    },
    {
      sid = "ReadWriteObjects"
      actions = [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
      ]
      resources = [for b in local.read_write : "${b.arn}/*"]
    },
    {
      sid       = "DecryptWithBucketKeys"
      actions   = ["kms:Decrypt", "kms:DescribeKey"]
      resources = local.read_keys
    },
    {
      sid       = "EncryptWithBucketKeys"
      actions   = ["kms:GenerateDataKey"]
      resources = local.write_keys
    },
  ] : s if length(s.resources) > 0]
}

# Who may assume the role: the workload's service, and nothing else.
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = var.trusted_services
    }
  }
}

data "aws_iam_policy_document" "data_access" {
  count = length(var.buckets) == 0 ? 0 : 1

  dynamic "statement" {
    for_each = local.statements
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  description          = var.description
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary
  assume_role_policy   = data.aws_iam_policy_document.trust.json

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_iam_role_policy" "data_access" {
  count  = length(var.buckets) == 0 ? 0 : 1
  name   = "data-access"
  role   = aws_iam_role.this.name
  policy = data.aws_iam_policy_document.data_access[0].json
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
