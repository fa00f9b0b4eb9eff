variable "create_bucket" {
  description = "Controls if the bucket should be created"
  type        = bool
  default     = true
}

variable "bucket" {
  type    = string
  default = null
}

variable "force_destroy" {
  type    = bool
  default = false
}

variable "object_lock_enabled" {
  description = "Object Lock is not managed by keel yet; left false it is accepted"
  type        = bool
  default     = false
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "versioning" {
  description = "Map of versioning settings: enabled, status, mfa_delete"
  type        = map(string)
  default     = {}
}

variable "server_side_encryption_configuration" {
  description = "Map of the server-side encryption configuration"
  type        = any
  default     = {}
}

variable "lifecycle_rule" {
  description = "List of maps of lifecycle rules"
  type        = any
  default     = []
}

variable "logging" {
  description = "Access logging (aws_s3_bucket_logging is not a type keel manages; leave empty)"
  type        = map(string)
  default     = {}
}

variable "attach_deny_insecure_transport_policy" {
  type    = bool
  default = false
}

variable "attach_require_latest_tls_policy" {
  type    = bool
  default = false
}

variable "attach_policy" {
  type    = bool
  default = false
}

variable "policy" {
  description = "A valid bucket policy JSON document, merged into the attached policy"
  type        = string
  default     = null
}

variable "block_public_acls" {
  type    = bool
  default = true
}

variable "block_public_policy" {
  type    = bool
  default = true
}

variable "ignore_public_acls" {
  type    = bool
  default = true
}

variable "restrict_public_buckets" {
  type    = bool
  default = true
}

variable "control_object_ownership" {
  type    = bool
  default = false
}

variable "object_ownership" {
  type    = string
  default = "BucketOwnerEnforced"
}
