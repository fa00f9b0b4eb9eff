variable "name" {
  type        = string
  description = "Name of the network: prefixes every object's Name tag and the flow-log bucket (<name>-flow-logs), so it must be unique per account and region."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,49}$", var.name))
    error_message = "name must be 2-50 lowercase letters, digits or hyphens, starting with a letter or digit (it names an S3 bucket)."
  }
}

variable "cidr_block" {
  type        = string
  description = "The VPC's IPv4 range, /16 to /22. Three quarters of it go to the private subnets (one per zone), a sixteenth of the rest to the public ones."
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && can(regex("^\\d+\\.\\d+\\.\\d+\\.\\d+/(1[6-9]|2[0-2])$", var.cidr_block))
    error_message = "cidr_block must be an IPv4 CIDR block with a prefix length from /16 to /22, such as 10.0.0.0/16."
  }

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && cidrhost(var.cidr_block, 0) == split("/", var.cidr_block)[0]
    error_message = "cidr_block must start on its network boundary (10.0.0.0/16, not 10.0.3.0/16)."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Two or three availability zones of the provider's region, one private subnet in each. null (the default) picks the first zone_count zones the region has available (data.aws_availability_zones)."
  default     = null

  validation {
    condition     = var.availability_zones == null ? true : length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3
    error_message = "availability_zones must list two or three zones."
  }

  validation {
    condition     = var.availability_zones == null ? true : length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must not repeat a zone."
  }

  validation {
    condition     = var.availability_zones == null ? true : alltrue([for az in var.availability_zones : can(regex("^[a-z]{2}(-[a-z]+)+-\\d[a-z]$", az))])
    error_message = "availability_zones must be zone names such as us-east-1a."
  }
}

variable "zone_count" {
  type        = number
  description = "How many zones to pick when availability_zones is null: 2 or 3."
  default     = 3

  validation {
    condition     = var.zone_count == 2 || var.zone_count == 3
    error_message = "zone_count must be 2 or 3."
  }
}

variable "enable_nat_gateway" {
  type        = bool
  description = "Give the private subnets egress to the internet (package mirrors, container registries) through one NAT gateway in a public subnet. false leaves the VPC with no path to the internet at all; S3 stays reachable through its endpoint."
  default     = true
}

variable "s3_endpoint_policy" {
  type        = string
  description = "Policy of the S3 gateway endpoint (JSON), e.g. to allow only your own buckets. null keeps AWS's default, which allows all of S3."
  default     = null
}

variable "flow_log_traffic_type" {
  type        = string
  description = "Which flows to log: ACCEPT, REJECT or ALL."
  default     = "ALL"

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_log_traffic_type)
    error_message = "flow_log_traffic_type must be ACCEPT, REJECT or ALL."
  }
}

variable "flow_log_retention_days" {
  type        = number
  description = "Days flow-log objects are kept before S3 expires them."
  default     = 90

  validation {
    condition     = var.flow_log_retention_days >= 1 && floor(var.flow_log_retention_days) == var.flow_log_retention_days
    error_message = "flow_log_retention_days must be a whole number of days, at least 1."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Let destroy delete the flow-log bucket with the logs in it. Leave false outside tests and experiments."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for every object the module creates (cost allocation: team, experiment), on top of the provider's default_tags."
  default     = {}
}
