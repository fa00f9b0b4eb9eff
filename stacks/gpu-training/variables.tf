variable "name" {
  type        = string
  description = "Name of this training environment: prefixes its buckets (<name>-datasets, <name>-checkpoints, <name>-flow-logs), roles and cluster, so two copies of the stack can live side by side."
  default     = "gpu-training"

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
  description = "Two or three zones of the region; the cluster runs in the first. null (the default) picks the first three zones the region has available."
  default     = null
}

variable "team" {
  type        = string
  description = "Cost-allocation tag on every resource: the team that pays."
  default     = "ml-platform"
}

variable "experiment" {
  type        = string
  description = "Cost-allocation tag on every resource: the experiment or project."
  default     = "baseline"
}

variable "vpc_cidr" {
  type        = string
  description = "Address range of the VPC (/16 to /22)."
  default     = "10.20.0.0/16"
}

variable "enable_nat_gateway" {
  type        = bool
  description = "Let the nodes reach the internet (pip, container registries) through a NAT gateway. false: S3 only, through its endpoint."
  default     = true
}

variable "instance_type" {
  type        = string
  description = "GPU instance type of the training nodes (p4d.24xlarge, p5.48xlarge, ...; see modules/gpu-cluster)."
  default     = "p5.48xlarge"
}

variable "instance_count" {
  type        = number
  description = "Number of training nodes."
  default     = 2
}

variable "ami_id" {
  type        = string
  description = "AMI of the nodes. The default is a Deep Learning AMI id that the local test endpoint knows; pass your region's current Deep Learning AMI."
  default     = "ami-999844e0"
}

variable "root_volume_size" {
  type        = number
  description = "Encrypted root volume per node, in GiB."
  default     = 500
}

variable "spot" {
  type        = bool
  description = "Run the nodes on spot capacity (training must resume from checkpoints)."
  default     = false
}

variable "user_data" {
  type        = string
  description = "Boot script of every node, as plain text."
  default     = <<-EOT
    #!/bin/bash
    set -euo pipefail
    # Deep Learning AMIs ship the NVIDIA driver, CUDA, EFA and NCCL: check that they work.
    nvidia-smi
    /opt/amazon/efa/bin/fi_info -p efa || echo "no EFA device on this instance type"
  EOT
}

variable "node_managed_policy_arns" {
  type        = list(string)
  description = "Managed policies for the training nodes' role besides data access, e.g. arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore for Session Manager."
  default     = []
}

variable "checkpoint_version_retention_days" {
  type        = number
  description = "Days an overwritten checkpoint's old version is kept."
  default     = 14
}

variable "kms_key_deletion_window_in_days" {
  type        = number
  description = "Days the buckets' KMS keys wait after destroy before deletion (7-30)."
  default     = 30
}

variable "force_destroy" {
  type        = bool
  description = "Let destroy delete buckets that still hold objects. Leave false for real data."
  default     = false
}
