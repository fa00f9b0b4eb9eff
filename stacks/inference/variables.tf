variable "name" {
  type        = string
  description = "Name of this inference environment: prefixes its model bucket (<name>-models), role, security group and servers, so copies of the stack can live side by side."
  default     = "inference"

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

variable "availability_zones" {
  type        = list(string)
  description = "Two or three zones of the region; servers are spread over them. null (the default) picks the first three zones the region has available."
  default     = null
}

variable "team" {
  type        = string
  description = "Cost-allocation tag on every resource: the team that pays."
  default     = "ml-serving"
}

variable "experiment" {
  type        = string
  description = "Cost-allocation tag on every resource: the model or product served."
  default     = "baseline"
}

variable "vpc_cidr" {
  type        = string
  description = "Address range of the VPC (/16 to /22); the only source the servers admit."
  default     = "10.30.0.0/16"
}

variable "enable_nat_gateway" {
  type        = bool
  description = "Give the servers HTTPS egress to the internet through a NAT gateway. The default, false, leaves them S3 (through its endpoint) and nothing else."
  default     = false
}

variable "instance_type" {
  type        = string
  description = "GPU instance type of the servers: a g5, g6 or g6e size."
  default     = "g5.2xlarge"

  validation {
    condition     = can(regex("^(g5|g6|g6e)\\.(x|2x|4x|8x|12x|16x|24x|48x)large$", var.instance_type))
    error_message = "instance_type must be a g5, g6 or g6e size (g5.xlarge to g6e.48xlarge): inference fleets use the single-node GPU families."
  }
}

variable "instance_count" {
  type        = number
  description = "Number of servers, spread over the zones in turn."
  default     = 2

  validation {
    condition     = var.instance_count >= 0 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number, 0 or more."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI of the servers. The default is a Deep Learning AMI id that the local test endpoint knows; pass your region's current Deep Learning AMI."
  default     = "ami-999844e0"
}

variable "root_device_name" {
  type        = string
  description = "The AMI's root device: /dev/xvda for Amazon Linux based AMIs, /dev/sda1 for Ubuntu based ones."
  default     = "/dev/xvda"
}

variable "root_volume_size" {
  type        = number
  description = "Encrypted root volume per server, in GiB (room for the model weights)."
  default     = 200

  validation {
    condition     = var.root_volume_size >= 100 && var.root_volume_size <= 16384
    error_message = "root_volume_size must be from 100 to 16384 GiB."
  }
}

variable "serving_port" {
  type        = number
  description = "TCP port the model server listens on."
  default     = 8080

  validation {
    condition     = var.serving_port >= 1 && var.serving_port <= 65535 && floor(var.serving_port) == var.serving_port
    error_message = "serving_port must be a TCP port, 1-65535."
  }
}

variable "user_data" {
  type        = string
  description = "Boot script of every server, as plain text: fetch the model and start the server."
  default     = <<-EOT
    #!/bin/bash
    set -euo pipefail
    nvidia-smi
    # Fetch the model from the model bucket and start your server here, e.g.
    # aws s3 sync s3://MODEL_BUCKET/current /opt/model && systemctl start model-server
  EOT
}

variable "server_managed_policy_arns" {
  type        = list(string)
  description = "Managed policies for the servers' role besides reading models, e.g. arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore."
  default     = []
}

variable "kms_key_deletion_window_in_days" {
  type        = number
  description = "Days the model bucket's KMS key waits after destroy before deletion (7-30)."
  default     = 30
}

variable "force_destroy" {
  type        = bool
  description = "Let destroy delete buckets that still hold objects. Leave false for real models."
  default     = false
}
