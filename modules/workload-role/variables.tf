variable "name" {
  type        = string
  description = "The role's name (and its instance profile's): unique per account, so prefix it with the stack's name."

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits or +=,.@_- (IAM's rule for role names)."
  }
}

variable "description" {
  type        = string
  description = "What the workload is, shown in the IAM console."
  default     = null
}

variable "trusted_services" {
  type        = list(string)
  description = "AWS services allowed to assume the role (ec2.amazonaws.com for instances)."
  default     = ["ec2.amazonaws.com"]

  validation {
    condition     = length(var.trusted_services) > 0 && alltrue([for s in var.trusted_services : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", s))])
    error_message = "trusted_services must list at least one service principal such as ec2.amazonaws.com."
  }
}

variable "buckets" {
  type = list(object({
    arn         = string
    access      = optional(string, "read-only")
    kms_key_arn = optional(string)
  }))
  description = "The buckets the workload may use: each bucket's ARN, \"read-only\" or \"read-write\", and the ARN of the KMS key that encrypts it (read-only gets kms:Decrypt, read-write kms:GenerateDataKey too)."
  default     = []

  validation {
    condition     = alltrue([for b in var.buckets : contains(["read-only", "read-write"], b.access)])
    error_message = "each bucket's access must be \"read-only\" or \"read-write\"."
  }
}

variable "managed_policy_arns" {
  type        = list(string)
  description = "Managed policies to attach as well, e.g. arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore for shell access without SSH. Never an administrator policy."
  default     = []

  validation {
    condition     = alltrue([for a in var.managed_policy_arns : can(regex("^arn:aws[a-z-]*:iam::(aws|\\d{12}):policy/", a))])
    error_message = "managed_policy_arns must be IAM policy ARNs (arn:aws:iam::ACCOUNT:policy/NAME)."
  }

  validation {
    condition     = !anytrue([for a in var.managed_policy_arns : can(regex("(AdministratorAccess|PowerUserAccess|IAMFullAccess)$", a))])
    error_message = "managed_policy_arns must not grant administrator, power-user or full IAM access: a workload role holds least privilege."
  }
}

variable "create_instance_profile" {
  type        = bool
  description = "Create an instance profile of the same name, for EC2 instances."
  default     = true
}

variable "max_session_duration" {
  type        = number
  description = "Longest session, in seconds, that assuming the role gives (3600-43200)."
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be from 3600 to 43200 seconds."
  }
}

variable "permissions_boundary" {
  type        = string
  description = "ARN of a permissions boundary policy, where the account requires one."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags for the role and profile (cost allocation: team, workload), on top of the provider's default_tags."
  default     = {}
}
