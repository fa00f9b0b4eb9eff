# IAM as teams write it with the public iam module: an EC2 role with an instance profile,
# a CI role assumable from the account with MFA and an inline policy built from
# statements, and a role switched off.

provider "aws" {}

variable "prefix" {
  type    = string
  default = "corpus"
}

data "aws_caller_identity" "current" {}

locals {
  tags = {
    Owner = "platform"
  }
}

module "node_role" {
  source = "../modules/iam-role"

  create_role             = true
  create_instance_profile = true
  role_name               = "${var.prefix}-node"
  role_description        = "GPU nodes"

  trusted_role_services = ["ec2.amazonaws.com"]

  custom_role_policy_arns = [
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
  ]

  tags = local.tags
}

module "ci_role" {
  source = "../modules/iam-role"

  create_role          = true
  role_name            = "${var.prefix}-ci"
  role_path            = "/ci/"
  max_session_duration = 7200
  role_requires_mfa    = true

  trusted_role_arns = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]

  inline_policy_statements = [
    {
      sid       = "ReadArtifacts"
      actions   = ["s3:GetObject", "s3:ListBucket"]
      resources = ["arn:aws:s3:::${var.prefix}-artifacts", "arn:aws:s3:::${var.prefix}-artifacts/*"]
    },
    {
      sid       = "DenyOutsideRegion"
      effect    = "Deny"
      actions   = ["*"]
      resources = ["*"]
      conditions = [{
        test     = "StringNotEquals"
        variable = "aws:RequestedRegion"
        values   = ["us-east-1"]
      }]
    },
  ]

  tags = merge(local.tags, { Purpose = "ci" })
}

module "disabled" {
  source = "../modules/iam-role"

  role_name = "${var.prefix}-never"
}

output "node_role_arn" {
  value = module.node_role.iam_role_arn
}

output "ci_trust_policy" {
  value = module.ci_role.trust_policy
}

output "disabled_role_arn" {
  value = module.disabled.iam_role_arn
}
