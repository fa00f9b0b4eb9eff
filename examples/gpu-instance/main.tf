# One GPU instance, in one file: a g5.xlarge in a private subnet with no way in (its
# security group admits nothing), IMDSv2 required, an encrypted gp3 root volume, and a
# role that can do nothing yet: give it the buckets it needs with
# modules/workload-role. Reach it with SSM Session Manager, not SSH.
#
#   keel apply -var ami_id=ami-YOUR-DEEP-LEARNING-AMI examples/gpu-instance
#
# modules/gpu-cluster runs N of them in a cluster placement group with EFA.

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
  description = "AWS region of the instance."
  default     = "us-east-1"
}

variable "name" {
  type        = string
  description = "Name of the instance, its role and security group (unique per account)."
  default     = "keel-example-gpu"
}

variable "instance_type" {
  type        = string
  description = "A single-node GPU type: g5, g6 or g6e."
  default     = "g5.xlarge"

  validation {
    condition     = can(regex("^(g5|g6|g6e)\\.(x|2x|4x|8x|12x|16x|24x|48x)large$", var.instance_type))
    error_message = "instance_type must be a g5, g6 or g6e size, such as g5.xlarge."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI to boot. The default is a Deep Learning AMI id that the local test endpoint knows; pass your region's current Deep Learning AMI."
  default     = "ami-999844e0"
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

resource "aws_vpc" "main" {
  cidr_block           = "10.60.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

resource "aws_subnet" "private" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.60.1.0/24"
  availability_zone = "${var.region}a"

  tags = { Name = "${var.name}-private" }
}

# No ingress at all; HTTPS out only (SSM, package mirrors through a NAT if you add one).
resource "aws_security_group" "gpu" {
  name        = var.name
  description = "GPU instance ${var.name}: no ingress, HTTPS out"
  vpc_id      = aws_vpc.main.id
  ingress     = []

  egress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = { Name = var.name }
}

resource "aws_iam_role" "gpu" {
  name = var.name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_instance_profile" "gpu" {
  name = var.name
  role = aws_iam_role.gpu.name
}

resource "aws_instance" "gpu" {
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.private.id
  vpc_security_group_ids = [aws_security_group.gpu.id]
  iam_instance_profile   = aws_iam_instance_profile.gpu.name

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_size = 200
    volume_type = "gp3"
    encrypted   = true
  }

  tags = { Name = var.name }
}

output "instance_id" {
  description = "The GPU instance's id (aws ssm start-session --target ID)."
  value       = aws_instance.gpu.id
}

output "private_ip" {
  description = "Its private address."
  value       = aws_instance.gpu.private_ip
}
