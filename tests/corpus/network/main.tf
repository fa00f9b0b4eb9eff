# A network stack as teams write it with the public VPC module: zones from
# aws_availability_zones, subnets computed with cidrsubnet() in for expressions, one NAT
# gateway, tags merged from a common map, a second VPC switched off by a variable.

terraform {
  required_version = ">= 1.3"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  default_tags {
    tags = {
      ManagedBy = "keel"
    }
  }
}

variable "name" {
  type    = string
  default = "corpus"
}

variable "cidr" {
  type    = string
  default = "10.70.0.0/16"
}

variable "create_staging" {
  type    = bool
  default = false
}

data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, 3)

  tags = {
    Stack       = var.name
    Environment = "test"
  }
}

module "vpc" {
  source = "../modules/vpc"

  name = var.name
  cidr = var.cidr
  azs  = local.azs

  public_subnets  = [for k, v in local.azs : cidrsubnet(var.cidr, 8, k)]
  private_subnets = [for k, v in local.azs : cidrsubnet(var.cidr, 8, k + 10)]

  public_subnet_names = ["${var.name}-edge"]

  enable_nat_gateway = true
  single_nat_gateway = true

  security_group_rules = {
    https = { port = 443, cidr_blocks = [var.cidr] }
    metrics = {
      port        = 9100
      cidr_blocks = [cidrsubnet(var.cidr, 8, 10)]
      description = "node exporter"
    }
  }

  gateway_endpoints = {
    s3 = { service = "s3" }
    dynamodb = {
      service = "dynamodb"
      create  = false
    }
  }

  tags = merge(local.tags, { Module = "vpc" })
  vpc_tags = {
    Tier = "network"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
  }
}

module "staging" {
  source = "../modules/vpc"

  create_vpc = var.create_staging
  name       = "${var.name}-staging"
  cidr       = "10.71.0.0/16"
  azs        = local.azs
}

output "vpc_id" {
  value = module.vpc.vpc_id
}

output "private_subnets" {
  value = module.vpc.private_subnets
}

output "public_subnets" {
  value = module.vpc.public_subnets
}

output "staging_vpc_id" {
  value = module.staging.vpc_id
}
