# gpu-cluster: N GPU instances for distributed training or inference in one private
# subnet, packed into a cluster placement group for the lowest latency between them, and
# launched from one template that requires IMDSv2, encrypts the root volume, gives the
# instance one Elastic Fabric Adapter per EFA-capable network card (4 on a p4d, 32 on a
# p5), and optionally asks for spot capacity. The instances get their permissions from
# the instance profile passed in, and admit traffic only from each other.

locals {
  # EFA interfaces an instance type takes: one per network card that supports EFA
  # (EC2 DescribeInstanceTypes: NetworkInfo.EfaInfo.MaximumEfaInterfaces). Types not
  # listed (g5/g6/g6e below 8xlarge) have no EFA.
  efa_interfaces = {
    "p4d.24xlarge"  = 4
    "p4de.24xlarge" = 4
    "p5.48xlarge"   = 32
    "p5e.48xlarge"  = 32
    "p5en.48xlarge" = 16
    "g5.8xlarge"    = 1
    "g5.12xlarge"   = 1
    "g5.16xlarge"   = 1
    "g5.24xlarge"   = 1
    "g5.48xlarge"   = 1
    "g6.8xlarge"    = 1
    "g6.12xlarge"   = 1
    "g6.16xlarge"   = 1
    "g6.24xlarge"   = 1
    "g6.48xlarge"   = 1
    "g6e.8xlarge"   = 1
    "g6e.12xlarge"  = 1
    "g6e.16xlarge"  = 1
    "g6e.24xlarge"  = 2
    "g6e.48xlarge"  = 4
  }
  efa_cards = lookup(local.efa_interfaces, var.instance_type, 0)
  efa       = var.efa_enabled == null ? local.efa_cards > 0 : var.efa_enabled

  # One interface per EFA card (network card i); without EFA, one plain interface.
  network_cards = local.efa ? range(max(local.efa_cards, 1)) : [0]

  security_group_ids = concat([aws_security_group.cluster.id], var.additional_security_group_ids)
  user_data          = var.user_data == "" ? null : base64encode(var.user_data)
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

resource "aws_launch_template" "this" {
  name                   = var.name
  description            = var.spot ? "GPU nodes of ${var.name} (spot)" : "GPU nodes of ${var.name}"
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

  # Card 0 holds the primary interface (device 0); every further EFA card gets its own
  # EFA interface at device 1, as EC2 asks for instances with several network cards.
  dynamic "network_interfaces" {
    for_each = local.network_cards
    content {
      device_index          = network_interfaces.value == 0 ? 0 : 1
      network_card_index    = network_interfaces.value
      interface_type        = local.efa ? "efa" : null
      subnet_id             = var.subnet_id
      security_groups       = local.security_group_ids
      delete_on_termination = true
    }
  }

  dynamic "instance_market_options" {
    for_each = var.spot ? [var.spot_max_price] : []
    content {
      market_type = "spot"

      spot_options {
        max_price                      = instance_market_options.value
        spot_instance_type             = "one-time"
        instance_interruption_behavior = "terminate"
      }
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

# The template was aws_launch_template.on_demand[0] (with a spot twin) before it took
# its market options from var.spot: state recorded there follows it here. (A spot
# cluster's old template, spot[0], named <name>-spot, is replaced: Terraform allows one
# moved block per destination.)
moved {
  from = aws_launch_template.on_demand[0]
  to   = aws_launch_template.this
}

resource "aws_instance" "node" {
  count           = var.instance_count
  placement_group = aws_placement_group.this.name

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  tags = merge(var.tags, { Name = "${var.name}-${count.index}" })
}
