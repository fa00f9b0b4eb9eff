# An assumable role in the style of terraform-aws-modules/iam (iam-assumable-role):
# the trust policy built from dynamic statements of a policy document, managed policy
# attachments by count, an optional inline policy and instance profile, all behind
# `create_role`.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  role_name = var.role_name != null ? var.role_name : "keel-role"

  create_inline_policy = var.create_role && length(var.inline_policy_statements) > 0
}

data "aws_iam_policy_document" "assume_role" {
  count = var.create_role ? 1 : 0

  dynamic "statement" {
    for_each = length(var.trusted_role_services) > 0 ? [var.trusted_role_services] : []
    content {
      sid     = "TrustServices"
      effect  = "Allow"
      actions = ["sts:AssumeRole"]

      principals {
        type        = "Service"
        identifiers = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.trusted_role_arns) > 0 ? [var.trusted_role_arns] : []
    content {
      sid     = "TrustAccounts"
      effect  = "Allow"
      actions = ["sts:AssumeRole", "sts:TagSession"]

      principals {
        type        = "AWS"
        identifiers = statement.value
      }

      dynamic "condition" {
        for_each = var.role_requires_mfa ? [true] : []
        content {
          test     = "Bool"
          variable = "aws:MultiFactorAuthPresent"
          values   = ["true"]
        }
      }
    }
  }
}

resource "aws_iam_role" "this" {
  count = var.create_role ? 1 : 0

  name                 = local.role_name
  path                 = var.role_path
  description          = var.role_description
  max_session_duration = var.max_session_duration

  force_detach_policies = var.force_detach_policies
  permissions_boundary  = var.role_permissions_boundary_arn != "" ? var.role_permissions_boundary_arn : null

  assume_role_policy = data.aws_iam_policy_document.assume_role[0].json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "custom" {
  count = var.create_role ? length(var.custom_role_policy_arns) : 0

  role       = aws_iam_role.this[0].name
  policy_arn = element(var.custom_role_policy_arns, count.index)
}

data "aws_iam_policy_document" "inline" {
  count = local.create_inline_policy ? 1 : 0

  dynamic "statement" {
    for_each = var.inline_policy_statements
    content {
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_policy" "inline" {
  count = local.create_inline_policy ? 1 : 0

  name        = "${local.role_name}-inline"
  path        = var.role_path
  description = "Inline permissions of ${local.role_name}"
  policy      = data.aws_iam_policy_document.inline[0].json

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "inline" {
  count = local.create_inline_policy ? 1 : 0

  role       = aws_iam_role.this[0].name
  policy_arn = aws_iam_policy.inline[0].arn
}

resource "aws_iam_instance_profile" "this" {
  count = var.create_role && var.create_instance_profile ? 1 : 0

  name = local.role_name
  path = var.role_path
  role = aws_iam_role.this[0].name

  tags = var.tags
}
