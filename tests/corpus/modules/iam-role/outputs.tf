output "iam_role_arn" {
  description = "ARN of the IAM role"
  value       = try(aws_iam_role.this[0].arn, "")
}

output "iam_role_name" {
  value = try(aws_iam_role.this[0].name, "")
}

output "iam_instance_profile_name" {
  value = try(aws_iam_instance_profile.this[0].name, "")
}

output "trust_policy" {
  value = try(data.aws_iam_policy_document.assume_role[0].json, "")
}

output "account_arn" {
  value = "arn:${local.partition}:iam::${local.account_id}:root"
}
