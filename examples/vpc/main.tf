# One private VPC, in one file: two private subnets in different zones, each with its
# own route table, and an S3 gateway endpoint on those tables so S3 traffic stays inside
# AWS. No internet gateway, no NAT, no public address: nothing gets in or out but S3.
#
#   keel apply examples/vpc
#
# modules/isolated-vpc adds NAT egress, network ACLs and flow logs.

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
  description = "AWS region of the VPC."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Name tag prefix of the VPC and its subnets."
  default     = "keel-example"
}

variable "cidr_block" {
  type        = string
  description = "The VPC's IPv4 range."
  default     = "10.50.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.cidr_block))
    error_message = "cidr_block must be an IPv4 CIDR block such as 10.50.0.0/16."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Two zones of the region, one private subnet in each; null (the default) takes the region's first two available zones."
  default     = null
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

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  zones = var.availability_zones != null ? var.availability_zones : slice(data.aws_availability_zones.available.names, 0, 2)
  azs   = { for i, az in local.zones : az => i }
}

resource "aws_vpc" "main" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

resource "aws_subnet" "private" {
  for_each          = local.azs
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.cidr_block, 4, each.value)
  availability_zone = each.key

  tags = { Name = "${var.name}-private-${each.key}" }
}

resource "aws_route_table" "private" {
  for_each = local.azs
  vpc_id   = aws_vpc.main.id

  tags = { Name = "${var.name}-private-${each.key}" }
}

resource "aws_route_table_association" "private" {
  for_each       = local.azs
  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.main.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for rt in aws_route_table.private : rt.id]

  tags = { Name = "${var.name}-s3" }
}

output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.main.id
}

output "private_subnet_ids" {
  description = "The private subnets, one per zone."
  value       = [for az in local.zones : aws_subnet.private[az].id]
}
