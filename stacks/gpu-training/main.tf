# gpu-training: everything a distributed training run needs, safe by default.
#
#   * an isolated VPC: private subnets in 2-3 zones, egress through one NAT gateway,
#     S3 through a gateway endpoint, flow logs kept in S3;
#   * a GPU cluster in one private subnet: p5.48xlarge nodes in a cluster placement
#     group, IMDSv2 only, encrypted root volumes, EFA between the nodes;
#   * encrypted, versioned buckets for datasets and checkpoints, each with its own KMS key;
#   * two roles: trainers read datasets and write checkpoints; the data pipeline writes
#     datasets and never sees checkpoints.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      team       = var.team
      experiment = var.experiment
      stack      = var.name
    }
  }
}

locals {
  # Cost-allocation tags for what EC2 creates from the launch template (volumes, network
  # interfaces), which the provider's default_tags do not reach.
  cost_tags = { team = var.team, experiment = var.experiment, stack = var.name }
}

module "network" {
  source = "../../modules/isolated-vpc"

  name               = var.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  enable_nat_gateway = var.enable_nat_gateway
  force_destroy      = var.force_destroy
}

module "datasets" {
  source = "../../modules/encrypted-bucket"

  name                               = "${var.name}-datasets"
  infrequent_access_after_days       = 90
  noncurrent_version_expiration_days = 30
  kms_key_deletion_window_in_days    = var.kms_key_deletion_window_in_days
  force_destroy                      = var.force_destroy
  tags                               = { workload = "datasets" }
}

module "checkpoints" {
  source = "../../modules/encrypted-bucket"

  name                               = "${var.name}-checkpoints"
  infrequent_access_after_days       = 30
  noncurrent_version_expiration_days = var.checkpoint_version_retention_days
  kms_key_deletion_window_in_days    = var.kms_key_deletion_window_in_days
  force_destroy                      = var.force_destroy
  tags                               = { workload = "checkpoints" }
}

module "trainer_role" {
  source = "../../modules/workload-role"

  name                = "${var.name}-trainer"
  description         = "GPU training nodes of ${var.name}: read datasets, write checkpoints"
  managed_policy_arns = var.node_managed_policy_arns
  buckets = [
    { arn = module.datasets.bucket_arn, access = "read-only", kms_key_arn = module.datasets.kms_key_arn },
    { arn = module.checkpoints.bucket_arn, access = "read-write", kms_key_arn = module.checkpoints.kms_key_arn },
  ]
  tags = { workload = "trainer" }
}

module "pipeline_role" {
  source = "../../modules/workload-role"

  name        = "${var.name}-data-pipeline"
  description = "Data pipeline of ${var.name}: writes datasets"
  buckets = [
    { arn = module.datasets.bucket_arn, access = "read-write", kms_key_arn = module.datasets.kms_key_arn },
  ]
  tags = { workload = "data-pipeline" }
}

module "cluster" {
  source = "../../modules/gpu-cluster"

  name                  = var.name
  vpc_id                = module.network.vpc_id
  subnet_id             = module.network.private_subnet_ids[0]
  instance_profile_name = module.trainer_role.instance_profile_name
  instance_type         = var.instance_type
  instance_count        = var.instance_count
  ami_id                = var.ami_id
  root_volume_size      = var.root_volume_size
  spot                  = var.spot
  user_data             = var.user_data
  tags                  = merge(local.cost_tags, { workload = "trainer" })
}
