variable "name" {
  type        = string
  description = "The bucket's name (globally unique in AWS); the KMS alias is alias/<name>."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$", var.name))
    error_message = "name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit."
  }
}

variable "infrequent_access_prefix" {
  type        = string
  description = "Objects under this prefix move to STANDARD_IA after infrequent_access_after_days (\"\" for the whole bucket, \"checkpoints/\" for a folder)."
  default     = ""
}

variable "infrequent_access_after_days" {
  type        = number
  description = "Days after which objects move to S3 Standard-IA (S3 requires at least 30)."
  default     = 30

  validation {
    condition     = var.infrequent_access_after_days >= 30 && floor(var.infrequent_access_after_days) == var.infrequent_access_after_days
    error_message = "infrequent_access_after_days must be a whole number of days, at least 30 (S3's minimum for STANDARD_IA)."
  }
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days an overwritten or deleted object's old version is kept before S3 deletes it."
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "kms_key_rotation_period_in_days" {
  type        = number
  description = "How often KMS rotates the key's material (90-2560 days)."
  default     = 365

  validation {
    condition     = var.kms_key_rotation_period_in_days >= 90 && var.kms_key_rotation_period_in_days <= 2560
    error_message = "kms_key_rotation_period_in_days must be from 90 to 2560."
  }
}

variable "kms_key_deletion_window_in_days" {
  type        = number
  description = "Days the KMS key waits, after destroy, before it is deleted (7-30); until then it can be restored and the bucket's data read."
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be from 7 to 30."
  }
}

variable "min_tls_version" {
  type        = string
  description = "Refuse requests over TLS older than this (\"1.2\", \"1.3\") as well as plain HTTP; null refuses plain HTTP only."
  default     = null

  validation {
    condition     = var.min_tls_version == null ? true : contains(["1.2", "1.3"], var.min_tls_version)
    error_message = "min_tls_version must be \"1.2\", \"1.3\" or null."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Let destroy delete the bucket with its objects and versions in it. Leave false for real data."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for the bucket and key (cost allocation: team, experiment), on top of the provider's default_tags."
  default     = {}
}
