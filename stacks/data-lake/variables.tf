variable "name" {
  type        = string
  description = "Name of the lake: prefixes its buckets (<name>-raw, <name>-curated, <name>-features) and roles (<name>-<team>), so copies can live side by side."
  default     = "data-lake"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "name must be 3-40 lowercase letters, digits or hyphens, starting and ending with a letter or digit (it is part of S3 bucket names)."
  }
}

variable "region" {
  type        = string
  description = "AWS region to deploy into."
  default     = "us-east-1"
}

variable "owner_team" {
  type        = string
  description = "Cost-allocation tag of the lake's buckets and keys: the team that runs the lake. Each team's role carries that team's name instead."
  default     = "data-platform"
}

variable "experiment" {
  type        = string
  description = "Cost-allocation tag on every resource: the project the lake serves."
  default     = "shared"
}

variable "zones" {
  type = map(object({
    infrequent_access_after_days       = optional(number, 30)
    noncurrent_version_expiration_days = optional(number, 90)
  }))
  description = "The lake's zones, one bucket each, with their lifecycle: days until objects move to infrequent access, days old versions are kept."
  default = {
    raw      = { infrequent_access_after_days = 30, noncurrent_version_expiration_days = 30 }
    curated  = { infrequent_access_after_days = 90, noncurrent_version_expiration_days = 90 }
    features = { infrequent_access_after_days = 180, noncurrent_version_expiration_days = 30 }
  }

  validation {
    condition     = length(var.zones) > 0 && alltrue([for z in keys(var.zones) : can(regex("^[a-z0-9][a-z0-9-]{0,20}$", z))])
    error_message = "zones must name at least one zone, each 1-21 lowercase letters, digits or hyphens (it is part of a bucket name)."
  }
}

variable "teams" {
  type        = map(map(string))
  description = "Each team's access: team -> zone -> \"read-only\" or \"read-write\". A zone a team is not given is out of its reach."
  default = {
    ingest    = { raw = "read-write" }
    analytics = { raw = "read-only", curated = "read-write" }
    ml        = { curated = "read-only", features = "read-write" }
  }

  validation {
    condition     = alltrue(flatten([for t, access in var.teams : [for zone, a in access : contains(["read-only", "read-write"], a)]]))
    error_message = "each team's access to a zone must be \"read-only\" or \"read-write\"."
  }

  validation {
    condition     = alltrue([for t in keys(var.teams) : can(regex("^[A-Za-z0-9+=,.@_-]{1,20}$", t))])
    error_message = "team names must be 1-20 letters, digits or +=,.@_- (they are part of role names)."
  }
}

variable "trusted_services" {
  type        = list(string)
  description = "AWS services the teams' roles trust (instances, or e.g. glue.amazonaws.com for jobs)."
  default     = ["ec2.amazonaws.com"]
}

variable "kms_key_deletion_window_in_days" {
  type        = number
  description = "Days the zones' KMS keys wait after destroy before deletion (7-30)."
  default     = 30
}

variable "force_destroy" {
  type        = bool
  description = "Let destroy delete buckets that still hold objects. Leave false for real data."
  default     = false
}
