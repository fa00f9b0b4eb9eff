output "vpc_id" {
  description = "The ID of the VPC"
  value       = try(aws_vpc.this[0].id, null)
}

output "vpc_cidr_block" {
  value = try(aws_vpc.this[0].cidr_block, null)
}

output "public_subnets" {
  value = aws_subnet.public[*].id
}

output "private_subnets" {
  value = aws_subnet.private[*].id
}

output "public_route_table_ids" {
  value = aws_route_table.public[*].id
}

output "private_route_table_ids" {
  value = aws_route_table.private[*].id
}

output "nat_ids" {
  value = aws_eip.nat[*].id
}

output "natgw_ids" {
  value = aws_nat_gateway.this[*].id
}

output "workload_security_group_id" {
  value = try(aws_security_group.workload[0].id, null)
}

output "gateway_endpoints" {
  value = { for k, v in aws_vpc_endpoint.gateway : k => v.id }
}

output "azs" {
  value = var.azs
}
