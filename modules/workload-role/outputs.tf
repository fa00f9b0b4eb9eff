output "role_name" {
  description = "The role's name."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "The role's ARN (for bucket and key policies, and for assuming it)."
  value       = aws_iam_role.this.arn
}

output "instance_profile_name" {
  description = "The instance profile's name, for launch templates; null without one."
  value       = var.create_instance_profile ? aws_iam_instance_profile.this[0].name : null
}

output "instance_profile_arn" {
  description = "The instance profile's ARN; null without one."
  value       = var.create_instance_profile ? aws_iam_instance_profile.this[0].arn : null
}

output "policy" {
  description = "The data-access policy document the role holds (JSON), for review."
  value       = length(var.buckets) == 0 ? null : aws_iam_role_policy.data_access[0].policy
}
