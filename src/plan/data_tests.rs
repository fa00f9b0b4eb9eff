//! Data sources while planning, against the in-memory provider: read as the walk reaches
//! them and fed to resources; deferred to apply when an argument is unknown or a
//! `depends_on` has pending changes; inside modules and with count; unsupported types
//! named once each; `keel validate` and a plan without a provider.

use super::*;
use crate::config::testing::{load_ok, write};
use crate::providers::ProviderSet;
use crate::providers::memory::MemoryProvider;
use crate::state::ResourceState;

struct Planned {
    plan: Plan,
    calls: Vec<String>,
}

fn plan_files(files: &[(&str, &str)], state: &State) -> Result<Planned, String> {
    let (_root, config) = load_ok(files);
    let graph = crate::graph::build(&config).map_err(|d| messages(&d))?;
    let providers = ProviderSet::single(MemoryProvider::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut reader = BlockingReader {
        providers: &providers,
        runtime: &runtime,
    };
    let prepared = Prepared {
        reader: &mut reader,
        moves: moves::Outcome::default(),
        imports: Vec::new(),
    };
    let plan = plan_with(&config, &graph, &Inputs::default(), state, false, prepared)
        .map_err(|d| messages(&d))?;
    let calls = providers
        .get(&ProviderAddr::default())
        .expect("default")
        .calls
        .lock()
        .expect("lock")
        .clone();
    Ok(Planned { plan, calls })
}

fn messages(d: &Diagnostics) -> String {
    d.items
        .iter()
        .map(|d| d.message.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

fn stack(hcl: &str) -> Vec<(&'static str, String)> {
    vec![("stack/main.hcl", hcl.to_string())]
}

fn plan_hcl(hcl: &str, state: &State) -> Result<Planned, String> {
    let files = stack(hcl);
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    plan_files(&refs, state)
}

/// A state holding every object `plan` creates, as created.
fn applied(plan: &Plan) -> State {
    let mut state = State::new("s");
    for c in plan.changes.iter().filter(|c| c.action == Action::Create) {
        let mut attrs = c.config.as_map().cloned().unwrap_or_default();
        let id = format!("{}-id", c.addr.name);
        attrs.insert("id".into(), Value::str(&id));
        state.resources.insert(
            c.addr.clone(),
            ResourceState {
                type_: c.addr.type_.clone(),
                provider: c.provider.clone(),
                id,
                attributes: Value::Map(attrs).to_json(),
                dependencies: c.dependencies.clone(),
                sensitive_attributes: Vec::new(),
            },
        );
    }
    state
}

#[test]
fn data_sources_are_read_while_planning_and_feed_resources() {
    let p = plan_hcl(
        r#"
data "aws_caller_identity" "me" {}

resource "aws_s3_bucket" "logs" {
  bucket = "logs-${data.aws_caller_identity.me.account_id}"
}
"#,
        &State::new("s"),
    )
    .unwrap();
    assert_eq!(p.calls, ["read_data aws_caller_identity"]);
    let bucket = p
        .plan
        .change(&"aws_s3_bucket.logs".parse().unwrap())
        .unwrap();
    assert_eq!(
        bucket.config.get("bucket"),
        &Value::str("logs-account_id-0")
    );
    assert_eq!(p.plan.data_reads.len(), 1);
    assert_eq!(
        p.plan.data_reads[0].addr.to_string(),
        "data.aws_caller_identity.me"
    );
    assert!(p.plan.data_reads[0].deferred.is_none());
    assert!(p.plan.deferred_reads().is_empty());
}

#[test]
fn arguments_known_only_after_apply_defer_the_read_to_apply() {
    let p = plan_hcl(
        r#"
resource "aws_s3_bucket" "b" {
  bucket = "data"
}

data "aws_iam_policy_document" "tls" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.b.arn, "${aws_s3_bucket.b.arn}/*"]
  }
}

resource "aws_s3_bucket_policy" "b" {
  bucket = aws_s3_bucket.b.id
  policy = data.aws_iam_policy_document.tls.json
}
"#,
        &State::new("s"),
    )
    .unwrap();
    assert!(p.calls.is_empty(), "nothing is read now: {:?}", p.calls);
    let reads = p.plan.deferred_reads();
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].deferred, Some(Deferred::ConfigUnknown));
    assert_eq!(reads[0].value.get("json"), &Value::Unknown);
    let policy = p
        .plan
        .change(&"aws_s3_bucket_policy.b".parse().unwrap())
        .unwrap();
    assert_eq!(policy.config.get("policy"), &Value::Unknown);
    let text = crate::report::human::plan(&p.plan, &crate::report::Redactor::default());
    assert!(
        text.contains("  # data.aws_iam_policy_document.tls will be read during apply\n  # (config refers to values not yet known)\n <= data \"aws_iam_policy_document\" \"tls\" {"),
        "{text}"
    );
    assert!(text.contains("   <= read (data resources)"), "{text}");
}

#[test]
fn depends_on_a_pending_change_defers_the_read_and_a_settled_one_does_not() {
    let hcl = r#"
resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
}

data "aws_region" "here" {
  depends_on = [aws_vpc.v]
}

data "aws_caller_identity" "me" {
  depends_on = [data.aws_region.here]
}
"#;
    let first = plan_hcl(hcl, &State::new("s")).unwrap();
    let reads = first.plan.deferred_reads();
    assert_eq!(
        reads.len(),
        2,
        "a data source waiting on a deferred one waits too"
    );
    assert!(
        reads
            .iter()
            .all(|r| r.deferred == Some(Deferred::DependencyPending))
    );
    assert!(first.calls.is_empty(), "{:?}", first.calls);
    let settled = plan_hcl(hcl, &applied(&first.plan)).unwrap();
    assert!(!settled.plan.has_changes());
    assert!(settled.plan.deferred_reads().is_empty());
    assert_eq!(
        settled.calls,
        ["read_data aws_region", "read_data aws_caller_identity"]
    );
}

#[test]
fn data_sources_inside_modules_and_with_count_have_module_addresses() {
    let p = plan_files(
        &[
            (
                "stack/main.hcl",
                r#"
module "net" {
  source = "../modules/net"
}
"#,
            ),
            (
                "modules/net/main.tf",
                r#"
data "aws_region" "r" {
  count = 2
}

resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
  tags = {
    Region = data.aws_region.r[1].name
  }
}
"#,
            ),
        ],
        &State::new("s"),
    )
    .unwrap();
    let addrs: Vec<String> = p
        .plan
        .data_reads
        .iter()
        .map(|r| r.addr.to_string())
        .collect();
    assert_eq!(
        addrs,
        [
            "module.net.data.aws_region.r[0]",
            "module.net.data.aws_region.r[1]"
        ]
    );
    let vpc = p
        .plan
        .change(&"module.net.aws_vpc.v".parse().unwrap())
        .unwrap();
    assert_eq!(vpc.config.get("tags").get("Region"), &Value::str("name-1"));
}

#[test]
fn unsupported_types_are_named_once_each_with_what_is_supported() {
    let root = write(&[(
        "stack/main.hcl",
        r#"
variable "create_table" {
  default = false
}

resource "aws_dynamodb_table" "a" {
  name = "a"
}

resource "aws_dynamodb_table" "b" {
  name = "b"
}

resource "aws_lambda_function" "f" {
  function_name = "f"
}

data "aws_vpc" "default" {
  default = true
}

# Blocks with no instances never reach a provider: a module's optional parts of types
# keel does not manage are fine while they are switched off.
resource "aws_dynamodb_table" "off" {
  count = var.create_table ? 1 : 0
  name  = "off"
}

resource "aws_s3_bucket_acl" "off" {
  count  = var.create_table ? 1 : 0
  bucket = "b"
}
"#,
    )]);
    let config = crate::config::testing::load_stack(&root).expect("loads");
    let graph = crate::graph::build(&config).expect("a graph");
    let diags = plan(&config, &graph, &Inputs::default(), &State::new("s"), false).unwrap_err();
    let located = crate::config::testing::located(&config.sources, &diags);
    assert_eq!(located.len(), 3, "{located:#?}");
    assert!(
        located.iter().any(|l| l.starts_with(
            "stack/main.hcl:6:10: keel does not support resource type \"aws_dynamodb_table\""
        )),
        "{located:#?}"
    );
    assert!(
        located
            .iter()
            .any(|l| l.contains("keel does not support resource type \"aws_lambda_function\"")),
        "{located:#?}"
    );
    assert!(
        located.iter().any(|l| l.starts_with(
            "stack/main.hcl:18:6: keel does not support data source type \"aws_vpc\""
        )),
        "{located:#?}"
    );
    for d in &diags.items {
        let help = d.help.as_deref().unwrap_or_default();
        assert!(
            help.contains("aws_vpc, aws_subnet") || help.contains("aws_iam_policy_document"),
            "{help}"
        );
    }
    // The same types, switched off, plan nothing and need nothing.
    let off = write(&[(
        "stack/main.hcl",
        r#"
resource "aws_dynamodb_table" "off" {
  count = 0
  name  = "off"
}

data "aws_vpc" "off" {
  for_each = toset([])
}
"#,
    )]);
    let config = crate::config::testing::load_stack(&off).expect("loads");
    let graph = crate::graph::build(&config).expect("a graph");
    let p = plan(&config, &graph, &Inputs::default(), &State::new("s"), false).unwrap();
    assert!(!p.has_changes());
}

#[test]
fn a_v6_region_argument_left_unset_is_accepted_and_a_set_one_explained() {
    let unset = plan_hcl(
        r#"
variable "region" {
  default = null
}

data "aws_region" "current" {
  region = var.region
}

resource "aws_s3_bucket" "b" {
  region = var.region
  bucket = "b-${data.aws_region.current.region}"
}
"#,
        &State::new("s"),
    )
    .unwrap();
    let b = unset
        .plan
        .change(&"aws_s3_bucket.b".parse().unwrap())
        .unwrap();
    assert_eq!(b.config.get("bucket"), &Value::str("b-region-0"));
    let set = plan_hcl(
        r#"
resource "aws_vpc" "v" {
  region     = "eu-west-1"
  cidr_block = "10.0.0.0/16"
}
"#,
        &State::new("s"),
    )
    .err()
    .unwrap();
    assert!(
        set.contains("region in aws_vpc.v is the AWS provider v6's per-resource region"),
        "{set}"
    );
}

#[test]
fn validate_reads_nothing_and_a_plan_without_a_provider_says_why() {
    let (_root, config) = load_ok(&[(
        "stack/main.hcl",
        r#"
data "aws_availability_zones" "az" {
  state = "available"
}

resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "s" {
  for_each          = toset(data.aws_availability_zones.az.names)
  vpc_id            = aws_vpc.v.id
  availability_zone = each.key
  cidr_block        = "10.0.1.0/24"
}
"#,
    )]);
    let graph = crate::graph::build(&config).unwrap();
    let diags = eval::validate(&config, &graph, &Inputs::default());
    assert!(!diags.has_errors(), "{}", messages(&diags));
    let err = plan(&config, &graph, &Inputs::default(), &State::new("s"), false).unwrap_err();
    assert!(
        messages(&err).contains("reading data.aws_availability_zones.az failed: aws_availability_zones is read through the provider"),
        "{}",
        messages(&err)
    );
}

#[test]
fn data_source_arguments_are_checked_against_their_schema() {
    let err = plan_hcl(
        r#"
data "aws_ami" "gpu" {
  most_recent = true
  owner       = ["amazon"]
  filter {
    name = "name"
  }
}
"#,
        &State::new("s"),
    )
    .err()
    .unwrap();
    assert!(
        err.contains("unsupported argument \"owner\" in data.aws_ami.gpu"),
        "{err}"
    );
    assert!(
        err.contains("data.aws_ami.gpu.filter is missing the required argument \"values\""),
        "{err}"
    );
}
