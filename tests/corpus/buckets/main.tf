# Buckets as teams write them with the public s3-bucket module: a log bucket with
# lifecycle rules and a TLS-only policy, data buckets by for_each over a map of objects
# with KMS encryption from a key made here, and a bucket switched off.

provider "aws" {}

variable "prefix" {
  type    = string
  default = "corpus"
}

variable "datasets" {
  type = map(object({
    versioned = bool
    expire    = optional(number)
  }))
  default = {
    raw      = { versioned = true }
    features = { versioned = false, expire = 30 }
  }
}

resource "aws_kms_key" "data" {
  description             = "${var.prefix} data buckets"
  deletion_window_in_days = 7
  enable_key_rotation     = true
}

module "logs" {
  source = "../modules/s3-bucket"

  bucket        = "${var.prefix}-logs"
  force_destroy = true

  versioning = {
    enabled = true
  }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm = "AES256"
      }
    }
  }

  lifecycle_rule = [
    {
      id      = "archive"
      enabled = true
      filter = {
        prefix = "alb/"
      }
      transition = [
        { days = 30, storage_class = "STANDARD_IA" },
        { days = 90, storage_class = "GLACIER" },
      ]
      expiration = {
        days = 365
      }
      noncurrent_version_expiration = {
        days = 30
      }
    },
    {
      id      = "tmp"
      status  = "enabled"
      prefix  = "tmp/"
      expiration = {
        days = 7
      }
    },
  ]

  attach_deny_insecure_transport_policy = true
  attach_require_latest_tls_policy      = true

  tags = {
    Purpose = "logs"
  }
}

module "data" {
  source   = "../modules/s3-bucket"
  for_each = var.datasets

  bucket        = "${var.prefix}-${each.key}"
  force_destroy = true

  versioning = each.value.versioned ? { status = "Enabled" } : {}

  server_side_encryption_configuration = {
    rule = {
      bucket_key_enabled = true
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = aws_kms_key.data.arn
      }
    }
  }

  lifecycle_rule = each.value.expire == null ? [] : [{
    id         = "expire"
    enabled    = true
    expiration = { days = each.value.expire }
  }]

  control_object_ownership = true

  tags = {
    Dataset = each.key
  }
}

module "disabled" {
  source = "../modules/s3-bucket"

  create_bucket = false
  bucket        = "${var.prefix}-never"
}

output "log_bucket" {
  value = module.logs.s3_bucket_id
}

output "data_buckets" {
  value = { for k, m in module.data : k => m.s3_bucket_arn }
}
