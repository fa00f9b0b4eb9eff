# inference: a small fleet of g5/g6 GPU instances serving a model from inside an
# isolated VPC.
#
#   * an isolated VPC with no internet egress by default: the servers load the model
#     from S3 through the VPC's gateway endpoint;
#   * the servers, spread over the private subnets (and a spread placement group, so no
#     two share hardware), IMDSv2 only, encrypted root volumes;
#   * a security group that admits the serving port from the VPC's own range and
#     nothing else;
#   * an encrypted model bucket, and a role that may only read it.

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
  subnet_ids = module.network.private_subnet_ids
}

module "network" {
  source = "../../modules/isolated-vpc"

  name               = var.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  enable_nat_gateway = var.enable_nat_gateway
  force_destroy      = var.force_destroy
}

module "models" {
  source = "../../modules/encrypted-bucket"

  name                            = "${var.name}-models"
  infrequent_access_after_days    = 90
  kms_key_deletion_window_in_days = var.kms_key_deletion_window_in_days
  force_destroy                   = var.force_destroy
  tags                            = { workload = "models" }
}

module "server_role" {
  source = "../../modules/workload-role"

  name                = "${var.name}-server"
  description         = "Inference servers of ${var.name}: read the model bucket"
  managed_policy_arns = var.server_managed_policy_arns
  buckets = [
    { arn = module.models.bucket_arn, access = "read-only", kms_key_arn = module.models.kms_key_arn },
  ]
  tags = { workload = "inference" }
}

# Clients inside the VPC (a load balancer, other services) reach the serving port;
# nothing else gets in. Out: HTTPS to S3 through its endpoint, and to the internet only
# when the VPC has a NAT gateway.
resource "aws_security_group" "server" {
  name        = "${var.name}-server"
  description = "Inference servers of ${var.name}: serving port from the VPC only"
  vpc_id      = module.network.vpc_id
  ingress     = []
  egress      = []

  tags = { Name = "${var.name}-server", workload = "inference" }
}

resource "aws_vpc_security_group_ingress_rule" "serving" {
  security_group_id = aws_security_group.server.id
  cidr_ipv4         = module.network.vpc_cidr_block
  ip_protocol       = "tcp"
  from_port         = var.serving_port
  to_port           = var.serving_port
  description       = "Inference requests from inside the VPC"

  tags = { Name = "${var.name}-serving", workload = "inference" }
}

resource "aws_vpc_security_group_egress_rule" "s3" {
  security_group_id = aws_security_group.server.id
  prefix_list_id    = module.network.s3_prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "S3 through the gateway endpoint"

  tags = { Name = "${var.name}-s3", workload = "inference" }
}

resource "aws_vpc_security_group_egress_rule" "https" {
  count             = var.enable_nat_gateway ? 1 : 0
  security_group_id = aws_security_group.server.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS out through the NAT gateway"

  tags = { Name = "${var.name}-https", workload = "inference" }
}

resource "aws_placement_group" "spread" {
  name     = "${var.name}-spread"
  strategy = "spread"

  tags = { Name = "${var.name}-spread", workload = "inference" }
}

resource "aws_launch_template" "server" {
  name                   = "${var.name}-server"
  description            = "Inference servers of ${var.name}"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.server.id]
  user_data              = base64encode(var.user_data)
  update_default_version = true

  iam_instance_profile {
    name = module.server_role.instance_profile_name
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = var.root_device_name

    ebs {
      volume_size           = var.root_volume_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "volume"
    tags = {
      Name       = "${var.name}-server"
      team       = var.team
      experiment = var.experiment
      workload   = "inference"
    }
  }

  tags = { Name = "${var.name}-server", workload = "inference" }
}

resource "aws_instance" "server" {
  count           = var.instance_count
  subnet_id       = element(local.subnet_ids, count.index)
  placement_group = aws_placement_group.spread.name

  launch_template {
    id      = aws_launch_template.server.id
    version = aws_launch_template.server.latest_version
  }

  tags = { Name = "${var.name}-server-${count.index}", workload = "inference" }
}
