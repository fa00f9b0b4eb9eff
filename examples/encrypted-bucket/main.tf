# One encrypted bucket, in one file: a KMS key with yearly rotation and an alias; a bucket
# with SSE-KMS and a bucket key, versioning, public access blocked, ACLs disabled, a
# policy that refuses plain HTTP, and lifecycle rules. Copy it, set bucket_name, apply:
#
#   keel apply -var bucket_name=my-team-datasets examples/encrypted-bucket
#
# modules/encrypted-bucket is the same thing as a module, for stacks with many buckets.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      team       = var.team
      experiment = var.experiment
    }
  }
}

variable "region" {
  type        = string
  description = "AWS region of the bucket."
  default     = "us-east-1"
}

variable "bucket_name" {
  type        = string
  description = "The bucket's name: globally unique in AWS, so choose your own."
  default     = "keel-example-encrypted-bucket"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lowercase letters, digits, dots or hyphens."
  }
}

variable "team" {
  type        = string
  description = "Cost-allocation tag: the team that pays."
  default     = "ml-platform"
}

variable "experiment" {
  type        = string
  description = "Cost-allocation tag: the experiment or project."
  default     = "example"
}

resource "aws_kms_key" "data" {
  description             = "Encrypts s3://${var.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "data" {
  name          = "alias/${var.bucket_name}"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_s3_bucket" "data" {
  bucket = var.bucket_name
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.tls_only.json

  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    id     = "infrequent-access"
    status = "Enabled"
    filter {}

    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }

    noncurrent_version_expiration {
      noncurrent_days = 90
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

output "bucket" {
  description = "The bucket's name."
  value       = aws_s3_bucket.data.bucket
}

output "kms_key_arn" {
  description = "The key that encrypts it."
  value       = aws_kms_key.data.arn
}
