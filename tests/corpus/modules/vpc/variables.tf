variable "create_vpc" {
  description = "Controls if the VPC and everything in it should be created"
  type        = bool
  default     = true
}

variable "name" {
  description = "Name to be used on all the resources as identifier"
  type        = string
  default     = ""
}

variable "cidr" {
  description = "The IPv4 CIDR block for the VPC"
  type        = string
  default     = "10.0.0.0/16"
}

variable "azs" {
  description = "A list of availability zone names or ids in the region"
  type        = list(string)
  default     = []
}

variable "enable_dns_hostnames" {
  type    = bool
  default = true
}

variable "enable_dns_support" {
  type    = bool
  default = true
}

variable "enable_ipv6" {
  description = "IPv6 is not managed by keel yet; left false it is accepted as is"
  type        = bool
  default     = false
}

variable "public_subnets" {
  type    = list(string)
  default = []
}

variable "private_subnets" {
  type    = list(string)
  default = []
}

variable "public_subnet_suffix" {
  type    = string
  default = "public"
}

variable "private_subnet_suffix" {
  type    = string
  default = "private"
}

variable "public_subnet_names" {
  description = "Explicit names for the public subnets; the rest are named after their zone"
  type        = list(string)
  default     = []
}

variable "map_public_ip_on_launch" {
  type    = bool
  default = false
}

variable "create_igw" {
  type    = bool
  default = true
}

variable "enable_nat_gateway" {
  type    = bool
  default = false
}

variable "single_nat_gateway" {
  type    = bool
  default = false
}

variable "one_nat_gateway_per_az" {
  type    = bool
  default = false
}

variable "manage_default_security_group" {
  description = "aws_default_security_group is not a type keel manages; keep this false"
  type        = bool
  default     = false
}

variable "default_security_group_ingress" {
  type    = list(map(string))
  default = []
}

variable "security_group_rules" {
  description = "Ingress rules of the workload security group, by name"
  type = map(object({
    port        = number
    protocol    = optional(string, "tcp")
    cidr_blocks = list(string)
    description = optional(string)
  }))
  default = {}
}

variable "gateway_endpoints" {
  description = "Gateway endpoints by name: service and whether to create it"
  type        = map(any)
  default     = {}
}

variable "tags" {
  type    = map(string)
  default = {}
}

variable "vpc_tags" {
  type    = map(string)
  default = {}
}

variable "public_subnet_tags" {
  type    = map(string)
  default = {}
}

variable "private_subnet_tags" {
  type    = map(string)
  default = {}
}

variable "nat_gateway_tags" {
  type    = map(string)
  default = {}
}
