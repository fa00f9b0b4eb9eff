output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "The VPC's IPv4 range: the only source the stacks' security groups admit."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets for compute, one per availability zone, in the order of availability_zones (the zones given, or those picked)."
  value       = [for az in local.zones : aws_subnet.private[az].id]
}

output "private_subnet_ids_by_az" {
  description = "Private subnet ids keyed by availability zone."
  value       = { for az, s in aws_subnet.private : az => s.id }
}

output "public_subnet_ids" {
  description = "Public subnets holding the NAT gateway (empty when enable_nat_gateway is false)."
  value       = [for az in local.zones : aws_subnet.public[az].id if var.enable_nat_gateway]
}

output "private_route_table_ids" {
  description = "Route tables of the private subnets (the S3 endpoint's routes live there)."
  value       = [for az in local.zones : aws_route_table.private[az].id]
}

output "nat_gateway_id" {
  description = "The NAT gateway's id, or null without one."
  value       = var.enable_nat_gateway ? aws_nat_gateway.this[0].id : null
}

output "s3_endpoint_id" {
  description = "The S3 gateway endpoint's id (for aws:sourceVpce conditions in bucket policies)."
  value       = aws_vpc_endpoint.s3.id
}

output "s3_prefix_list_id" {
  description = "S3's prefix list, for security group egress rules that allow only S3."
  value       = aws_vpc_endpoint.s3.prefix_list_id
}

output "flow_log_bucket" {
  description = "The bucket flow logs are delivered to."
  value       = aws_s3_bucket.flow_logs.bucket
}

output "availability_zones" {
  description = "The zones the subnets are in: those given, or the first zone_count the region has available."
  value       = local.zones
}
