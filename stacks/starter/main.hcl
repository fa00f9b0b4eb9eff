# The starter stack: an isolated VPC with two private subnets in different availability
# zones, and an SSE-KMS encrypted bucket for training data. The smallest real stack keel
# applies end to end; the GPU, IAM and data-lake stacks build on the same pieces.

terraform {
  required_version = ">= 0.1"
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      team = var.team
    }
  }
}

variable "region" {
  description = "AWS region to deploy into."
  default     = "us-east-1"
}

variable "team" {
  description = "Cost-allocation tag put on every resource."
  default     = "ml-platform"
}

variable "vpc_cidr" {
  description = "Address range of the VPC."
  default     = "10.42.0.0/16"
}

variable "bucket_name" {
  description = "Name of the training-data bucket (globally unique in real AWS)."
  default     = "keel-starter-training-data"
}

locals {
  name = "starter"
}

resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = {
    Name = "${local.name}-vpc"
  }
}

resource "aws_subnet" "private_a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 1)
  availability_zone = "${var.region}a"

  tags = {
    Name = "${local.name}-private-a"
    tier = "private"
  }
}

resource "aws_subnet" "private_b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 2)
  availability_zone = "${var.region}b"

  tags = {
    Name = "${local.name}-private-b"
    tier = "private"
  }
}

resource "aws_s3_bucket" "data" {
  bucket = var.bucket_name

  tags = {
    Name = "${local.name}-training-data"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}

output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.main.id
}

output "private_subnet_ids" {
  description = "Subnets for compute, one per availability zone."
  value       = [aws_subnet.private_a.id, aws_subnet.private_b.id]
}

output "bucket" {
  description = "The training-data bucket."
  value       = aws_s3_bucket.data.bucket
}
