output "buckets" {
  description = "Bucket of each zone."
  value       = { for zone, m in module.zone : zone => m.bucket }
}

output "kms_key_arns" {
  description = "KMS key of each zone."
  value       = { for zone, m in module.zone : zone => m.kms_key_arn }
}

output "team_role_arns" {
  description = "Role of each team."
  value       = { for team, m in module.team_role : team => m.role_arn }
}

output "team_instance_profiles" {
  description = "Instance profile of each team, for its EC2 jobs."
  value       = { for team, m in module.team_role : team => m.instance_profile_name }
}
