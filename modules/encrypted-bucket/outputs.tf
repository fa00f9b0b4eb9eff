output "bucket" {
  description = "The bucket's name."
  value       = aws_s3_bucket.this.bucket
}

output "bucket_arn" {
  description = "The bucket's ARN, for IAM policies (objects are <arn>/*)."
  value       = aws_s3_bucket.this.arn
}

output "kms_key_arn" {
  description = "ARN of the key that encrypts the bucket; readers need kms:Decrypt on it, writers kms:GenerateDataKey too."
  value       = aws_kms_key.this.arn
}

output "kms_key_id" {
  description = "Id of the bucket's KMS key."
  value       = aws_kms_key.this.key_id
}

output "kms_alias" {
  description = "The key's alias."
  value       = aws_kms_alias.this.name
}

output "policy" {
  description = "The bucket policy (JSON): TLS only, and no TLS older than min_tls_version."
  value       = aws_s3_bucket_policy.this.policy
}
