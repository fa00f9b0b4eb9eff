# isolated-vpc: a VPC for AI workloads across 2-3 availability zones. Compute lives in
# private subnets (no public IPs, no route from an internet gateway); egress, when enabled,
# leaves through one NAT gateway in a public subnet; S3 is reached through a gateway
# endpoint, so training data never crosses the internet; every flow is logged to a
# hardened S3 bucket. Nothing here admits traffic from 0.0.0.0/0 except the return half
# of connections the subnets opened themselves (network ACLs are stateless).

# The region's zones, when the caller names none: the first zone_count that are
# available and need no opt-in (Local and Wavelength Zones are not for a VPC's core).
data "aws_availability_zones" "available" {
  count = var.availability_zones == null ? 1 : 0
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  zones = var.availability_zones != null ? var.availability_zones : slice(data.aws_availability_zones.available[0].names, 0, var.zone_count)

  # Availability zone -> its index: subnet addresses and CIDRs are keyed by zone.
  azs = { for i, az in local.zones : az => i }
  nat = var.enable_nat_gateway ? local.azs : {}

  # The first three quarters of the VPC hold one private subnet per zone; the last
  # quarter is split in sixteen, the first of which hold the (small) public subnets.
  private_cidrs = { for az, i in local.azs : az => cidrsubnet(var.cidr_block, 2, i) }
  public_cidrs  = { for az, i in local.azs : az => cidrsubnet(cidrsubnet(var.cidr_block, 2, 3), 4, i) }

  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })
}

# --- private subnets: where compute runs ---------------------------------------------

resource "aws_subnet" "private" {
  for_each          = local.azs
  vpc_id            = aws_vpc.this.id
  cidr_block        = local.private_cidrs[each.key]
  availability_zone = each.key

  tags = merge(var.tags, { Name = "${var.name}-private-${each.key}", tier = "private" })
}

resource "aws_route_table" "private" {
  for_each = local.azs
  vpc_id   = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-private-${each.key}", tier = "private" })
}

resource "aws_route_table_association" "private" {
  for_each       = local.azs
  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}

# S3 through the VPC's own gateway: datasets and checkpoints never leave AWS's network.
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for az in local.zones : aws_route_table.private[az].id]
  policy            = var.s3_endpoint_policy

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

# Stateless rules for the private subnets: anything from inside the VPC; from outside,
# only replies (TCP ephemeral ports) to connections the subnets opened through the NAT
# gateway or the S3 endpoint.
resource "aws_network_acl" "private" {
  vpc_id     = aws_vpc.this.id
  subnet_ids = [for az in local.zones : aws_subnet.private[az].id]

  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    cidr_block = var.cidr_block
    from_port  = 0
    to_port    = 0
  }

  ingress {
    rule_no    = 200
    action     = "allow"
    protocol   = "6"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65535
  }

  egress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }

  tags = merge(var.tags, { Name = "${var.name}-private" })
}

# --- optional egress: public subnets, an internet gateway and one NAT gateway ----------

resource "aws_subnet" "public" {
  for_each          = local.nat
  vpc_id            = aws_vpc.this.id
  cidr_block        = local.public_cidrs[each.key]
  availability_zone = each.key

  tags = merge(var.tags, { Name = "${var.name}-public-${each.key}", tier = "public" })
}

resource "aws_internet_gateway" "this" {
  count  = var.enable_nat_gateway ? 1 : 0
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_route_table" "public" {
  count  = var.enable_nat_gateway ? 1 : 0
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-public", tier = "public" })
}

resource "aws_route" "public_internet" {
  count                  = var.enable_nat_gateway ? 1 : 0
  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  for_each       = local.nat
  subnet_id      = aws_subnet.public[each.key].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  count  = var.enable_nat_gateway ? 1 : 0
  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name}-nat" })
}

resource "aws_nat_gateway" "this" {
  count         = var.enable_nat_gateway ? 1 : 0
  allocation_id = aws_eip.nat[0].id
  subnet_id     = aws_subnet.public[local.zones[0]].id

  tags = merge(var.tags, { Name = var.name })

  depends_on = [aws_route.public_internet]
}

resource "aws_route" "private_egress" {
  for_each               = local.nat
  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[0].id
}

# --- flow logs: every accepted and rejected flow, to a bucket only log delivery writes --

resource "aws_s3_bucket" "flow_logs" {
  bucket        = "${var.name}-flow-logs"
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Name = "${var.name}-flow-logs" })
}

resource "aws_s3_bucket_server_side_encryption_configuration" "flow_logs" {
  bucket = aws_s3_bucket.flow_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "flow_logs" {
  bucket                  = aws_s3_bucket.flow_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "flow_logs" {
  bucket = aws_s3_bucket.flow_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# TLS only; log delivery may write under AWSLogs/ and check the bucket's ACL, for this
# account's flow logs only (aws:SourceAccount and aws:SourceArn keep another account's
# log delivery from writing here: the confused deputy).
data "aws_iam_policy_document" "flow_logs" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.flow_logs.arn, "${aws_s3_bucket.flow_logs.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "AWSLogDeliveryWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.flow_logs.arn}/AWSLogs/${local.account_id}/*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${local.region}:${local.account_id}:*"]
    }
  }

  statement {
    sid       = "AWSLogDeliveryAclCheck"
    actions   = ["s3:GetBucketAcl", "s3:ListBucket"]
    resources = [aws_s3_bucket.flow_logs.arn]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "flow_logs" {
  bucket = aws_s3_bucket.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json

  depends_on = [aws_s3_bucket_public_access_block.flow_logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "flow_logs" {
  bucket = aws_s3_bucket.flow_logs.id

  rule {
    id     = "expire-flow-logs"
    status = "Enabled"
    filter {}

    expiration {
      days = var.flow_log_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = var.flow_log_traffic_type
  log_destination_type     = "s3"
  log_destination          = aws_s3_bucket.flow_logs.arn
  max_aggregation_interval = 600

  tags = merge(var.tags, { Name = var.name })

  depends_on = [aws_s3_bucket_policy.flow_logs]
}
