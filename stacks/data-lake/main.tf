# data-lake: the shared data lake of an ML organisation, in three zones (raw, curated,
# features), each an encrypted, versioned bucket with its own KMS key, and one role per
# team that reaches exactly the zones the team is given, read-only or read-write. A
# team's role names no other bucket and no other key: IAM keeps the teams apart.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      team       = var.owner_team
      experiment = var.experiment
      stack      = var.name
    }
  }
}

module "zone" {
  source   = "../../modules/encrypted-bucket"
  for_each = var.zones

  name                               = "${var.name}-${each.key}"
  infrequent_access_after_days       = each.value.infrequent_access_after_days
  noncurrent_version_expiration_days = each.value.noncurrent_version_expiration_days
  kms_key_deletion_window_in_days    = var.kms_key_deletion_window_in_days
  force_destroy                      = var.force_destroy
  tags                               = { zone = each.key }
}

module "team_role" {
  source   = "../../modules/workload-role"
  for_each = var.teams

  name             = "${var.name}-${each.key}"
  description      = "Team ${each.key} in data lake ${var.name}"
  trusted_services = var.trusted_services
  buckets = [
    for zone, access in each.value : {
      arn         = module.zone[zone].bucket_arn
      access      = access
      kms_key_arn = module.zone[zone].kms_key_arn
    }
  ]
  # The role is the team's: its cost goes to the team, whoever owns the lake.
  tags = { team = each.key, workload = "data-lake" }
}
