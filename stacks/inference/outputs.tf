output "vpc_id" {
  description = "The inference VPC."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets the servers run in, one per zone."
  value       = module.network.private_subnet_ids
}

output "availability_zones" {
  description = "The zones of the private subnets the servers are spread over."
  value       = module.network.availability_zones
}

output "server_ids" {
  description = "The servers' instance ids."
  value       = aws_instance.server[*].id
}

output "server_private_ips" {
  description = "The servers' private addresses, for a load balancer's targets."
  value       = aws_instance.server[*].private_ip
}

output "security_group_id" {
  description = "The servers' security group (admits serving_port from the VPC only)."
  value       = aws_security_group.server.id
}

output "model_bucket" {
  description = "Bucket the servers load models from (read-only for them)."
  value       = module.models.bucket
}

output "server_role_arn" {
  description = "Role of the servers."
  value       = module.server_role.role_arn
}
