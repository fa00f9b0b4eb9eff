variable "create_role" {
  description = "Whether to create a role"
  type        = bool
  default     = false
}

variable "role_name" {
  type    = string
  default = null
}

variable "role_path" {
  type    = string
  default = "/"
}

variable "role_description" {
  type    = string
  default = ""
}

variable "max_session_duration" {
  type    = number
  default = 3600
}

variable "role_permissions_boundary_arn" {
  type    = string
  default = ""
}

variable "trusted_role_services" {
  description = "AWS services that can assume the role"
  type        = list(string)
  default     = []
}

variable "trusted_role_arns" {
  description = "ARNs of AWS entities who can assume the role"
  type        = list(string)
  default     = []
}

variable "role_requires_mfa" {
  type    = bool
  default = false
}

variable "custom_role_policy_arns" {
  description = "Managed policies to attach"
  type        = list(string)
  default     = []
}

variable "inline_policy_statements" {
  description = "Statements of a policy created for the role and attached to it"
  type = list(object({
    sid       = optional(string)
    effect    = optional(string, "Allow")
    actions   = list(string)
    resources = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  default = []
}

variable "create_instance_profile" {
  type    = bool
  default = false
}

variable "force_detach_policies" {
  type    = bool
  default = false
}

variable "tags" {
  type    = map(string)
  default = {}
}
