output "vpc_id" {
  description = "The training VPC."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets, one per zone; the cluster runs in the first."
  value       = module.network.private_subnet_ids
}

output "node_ids" {
  description = "The GPU nodes' instance ids."
  value       = module.cluster.instance_ids
}

output "node_private_ips" {
  description = "The GPU nodes' private addresses: the host list for torchrun / mpirun."
  value       = module.cluster.private_ips
}

output "placement_group" {
  description = "The cluster placement group."
  value       = module.cluster.placement_group
}

output "efa_enabled" {
  description = "Whether the nodes have an Elastic Fabric Adapter."
  value       = module.cluster.efa_enabled
}

output "efa_interfaces" {
  description = "EFA interfaces per node: one per EFA-capable network card (32 on a p5.48xlarge)."
  value       = module.cluster.efa_interfaces
}

output "availability_zones" {
  description = "The zones of the private subnets, in their order; the cluster runs in the first."
  value       = module.network.availability_zones
}

output "datasets_bucket" {
  description = "Bucket for training data (read-only for trainers)."
  value       = module.datasets.bucket
}

output "checkpoints_bucket" {
  description = "Bucket for checkpoints (read-write for trainers)."
  value       = module.checkpoints.bucket
}

output "trainer_role_arn" {
  description = "Role of the training nodes."
  value       = module.trainer_role.role_arn
}

output "pipeline_role_arn" {
  description = "Role of the data pipeline, the only writer of datasets."
  value       = module.pipeline_role.role_arn
}

output "flow_log_bucket" {
  description = "Where the VPC's flow logs land."
  value       = module.network.flow_log_bucket
}
