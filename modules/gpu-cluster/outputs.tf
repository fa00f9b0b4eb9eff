output "instance_ids" {
  description = "The GPU instances' ids."
  value       = aws_instance.node[*].id
}

output "private_ips" {
  description = "The GPU instances' private addresses (for the training job's host list)."
  value       = aws_instance.node[*].private_ip
}

output "placement_group" {
  description = "The cluster placement group's name."
  value       = aws_placement_group.this.name
}

output "launch_template_id" {
  description = "The launch template's id, for launching more nodes the same way (e.g. an Auto Scaling group)."
  value       = aws_launch_template.this.id
}

output "security_group_id" {
  description = "The cluster's security group: nodes admit traffic only from members of it."
  value       = aws_security_group.cluster.id
}

output "efa_enabled" {
  description = "Whether the nodes have an Elastic Fabric Adapter."
  value       = local.efa
}

output "efa_interfaces" {
  description = "EFA interfaces each instance has: one per EFA-capable network card (32 on a p5.48xlarge), 0 without EFA."
  value       = local.efa ? max(local.efa_cards, 1) : 0
}
