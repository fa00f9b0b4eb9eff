# gpu-cluster: N GPU instances for distributed training or inference in one private
# subnet, packed into a cluster placement group for the lowest latency between them, and
# launched from a template that requires IMDSv2, encrypts the root volume, attaches an
# Elastic Fabric Adapter where the instance type has one, and optionally asks for spot
# capacity. The instances get their permissions from the instance profile passed in, and
# admit traffic only from each other.

locals {
  efa_types = [
    "p4d.24xlarge", "p4de.24xlarge", "p5.48xlarge", "p5e.48xlarge", "p5en.48xlarge",
    "g5.8xlarge", "g5.12xlarge", "g5.16xlarge", "g5.24xlarge", "g5.48xlarge",
    "g6.8xlarge", "g6.12xlarge", "g6.16xlarge", "g6.24xlarge", "g6.48xlarge",
    "g6e.8xlarge", "g6e.12xlarge", "g6e.16xlarge", "g6e.24xlarge", "g6e.48xlarge",
  ]
  efa = var.efa_enabled == null ? contains(local.efa_types, var.instance_type) : var.efa_enabled

  security_group_ids = concat([aws_security_group.cluster.id], var.additional_security_group_ids)
  user_data          = var.user_data == "" ? null : base64encode(var.user_data)

  # Exactly one of the two templates exists (spot or on-demand).
  template = concat(aws_launch_template.spot, aws_launch_template.on_demand)[0]
}

resource "aws_placement_group" "this" {
  name     = var.name
  strategy = "cluster"

  tags = merge(var.tags, { Name = var.name })
}

# EFA and NCCL traffic flows between the nodes only: the group admits what comes from
# itself and nothing else; out, it allows itself and HTTPS.
resource "aws_security_group" "cluster" {
  name        = "${var.name}-cluster"
  description = "GPU cluster ${var.name}: traffic between its nodes, HTTPS out"
  vpc_id      = var.vpc_id
  ingress     = []
  egress      = []

  tags = merge(var.tags, { Name = "${var.name}-cluster" })
}

resource "aws_vpc_security_group_ingress_rule" "from_cluster" {
  security_group_id            = aws_security_group.cluster.id
  referenced_security_group_id = aws_security_group.cluster.id
  ip_protocol                  = "-1"
  description                  = "All traffic between the cluster's nodes (EFA, NCCL)"

  tags = merge(var.tags, { Name = "${var.name}-from-cluster" })
}

resource "aws_vpc_security_group_egress_rule" "to_cluster" {
  security_group_id            = aws_security_group.cluster.id
  referenced_security_group_id = aws_security_group.cluster.id
  ip_protocol                  = "-1"
  description                  = "All traffic between the cluster's nodes (EFA, NCCL)"

  tags = merge(var.tags, { Name = "${var.name}-to-cluster" })
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each          = toset(var.https_egress_cidr_blocks)
  security_group_id = aws_security_group.cluster.id
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS out"

  tags = merge(var.tags, { Name = "${var.name}-https" })
}

resource "aws_launch_template" "on_demand" {
  count                  = var.spot ? 0 : 1
  name                   = var.name
  description            = "GPU nodes of ${var.name}"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  key_name               = var.key_name
  user_data              = local.user_data
  update_default_version = true

  iam_instance_profile {
    name = var.instance_profile_name
  }

  # IMDSv2 only: a request without a session token gets nothing.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = var.metadata_hop_limit
  }

  block_device_mappings {
    device_name = var.root_device_name

    ebs {
      volume_size           = var.root_volume_size
      volume_type           = "gp3"
      iops                  = var.root_volume_iops
      throughput            = var.root_volume_throughput
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  network_interfaces {
    device_index          = 0
    network_card_index    = 0
    interface_type        = local.efa ? "efa" : null
    subnet_id             = var.subnet_id
    security_groups       = local.security_group_ids
    delete_on_termination = true
  }

  placement {
    group_name = aws_placement_group.this.name
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = var.name })
  }

  tag_specifications {
    resource_type = "network-interface"
    tags          = merge(var.tags, { Name = var.name })
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_launch_template" "spot" {
  count                  = var.spot ? 1 : 0
  name                   = "${var.name}-spot"
  description            = "GPU nodes of ${var.name} (spot)"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  key_name               = var.key_name
  user_data              = local.user_data
  update_default_version = true

  iam_instance_profile {
    name = var.instance_profile_name
  }

  # IMDSv2 only: a request without a session token gets nothing.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = var.metadata_hop_limit
  }

  block_device_mappings {
    device_name = var.root_device_name

    ebs {
      volume_size           = var.root_volume_size
      volume_type           = "gp3"
      iops                  = var.root_volume_iops
      throughput            = var.root_volume_throughput
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  network_interfaces {
    device_index          = 0
    network_card_index    = 0
    interface_type        = local.efa ? "efa" : null
    subnet_id             = var.subnet_id
    security_groups       = local.security_group_ids
    delete_on_termination = true
  }

  instance_market_options {
    market_type = "spot"

    spot_options {
      max_price                      = var.spot_max_price
      spot_instance_type             = "one-time"
      instance_interruption_behavior = "terminate"
    }
  }

  placement {
    group_name = aws_placement_group.this.name
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(var.tags, { Name = var.name })
  }

  tag_specifications {
    resource_type = "network-interface"
    tags          = merge(var.tags, { Name = var.name })
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_instance" "node" {
  count           = var.instance_count
  placement_group = aws_placement_group.this.name

  launch_template {
    id      = local.template.id
    version = local.template.latest_version
  }

  tags = merge(var.tags, { Name = "${var.name}-${count.index}" })
}
