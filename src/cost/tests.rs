//! Cost figures against the shipped table: every expected figure is computed from the
//! table's own entries, hourly x 730 for a month.

use super::*;
use crate::config::testing::load_ok;
use crate::guard::view::Inventory;
use crate::state::{ResourceState, State};

fn table() -> PriceTable {
    PriceTable::builtin()
}

fn od(instance_type: &str) -> f64 {
    table().instance(instance_type).unwrap()
}

/// Plans `hcl` against `state`, and estimates it.
fn estimate_against(state: &State, hcl: &str) -> (Plan, Estimate) {
    let (_root, config) = load_ok(&[("stack/main.hcl", hcl)]);
    let graph = crate::graph::build(&config).unwrap();
    let inputs = crate::eval::Inputs::default();
    let plan = crate::plan::plan(&config, &graph, &inputs, state, false).unwrap();
    let inv = Inventory::build(&config, &graph, &inputs, &plan);
    let region = inv
        .providers
        .get(&Default::default())
        .and_then(|p| p.region.clone());
    let e = estimate(&plan, &inv, &table(), region.as_deref());
    (plan, e)
}

fn estimate_of(hcl: &str) -> Estimate {
    estimate_against(&State::new("s"), hcl).1
}

/// The state an apply of `hcl` would leave (unknown attributes recorded as null).
fn applied(hcl: &str) -> State {
    let (plan, _) = estimate_against(&State::new("s"), hcl);
    let mut state = State::new("s");
    for c in &plan.changes {
        state.resources.insert(
            c.addr.clone(),
            ResourceState {
                type_: c.addr.type_.clone(),
                provider: Default::default(),
                id: format!("id-{}", c.addr),
                attributes: c.after.to_json(),
                dependencies: vec![],
                sensitive_attributes: Default::default(),
            },
        );
    }
    state
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn node(instance_type: &str, extra: &str) -> String {
    format!(
        r#"
resource "aws_instance" "node" {{
  count         = 2
  ami           = "ami-12345678"
  instance_type = "{instance_type}"
  {extra}
}}
"#
    )
}

#[test]
fn two_on_demand_p5_cost_twice_the_table_price_for_730_hours() {
    let e = estimate_of(&node("p5.48xlarge", ""));
    let p5 = od("p5.48xlarge");
    assert_eq!(e.lines.len(), 2);
    assert!(close(e.after.hourly, 2.0 * p5));
    assert!(close(e.monthly(e.after.hourly), 2.0 * p5 * 730.0));
    assert!(close(e.before.hourly, 0.0));
    assert!(close(e.delta_monthly(), 2.0 * p5 * 730.0));
    assert!(!e.has_estimates());
    let line = &e.lines[0];
    assert_eq!(line.addr.to_string(), "aws_instance.node[0]");
    assert_eq!(line.action, Action::Create);
    assert_eq!(line.before, None);
    assert_eq!(
        line.after,
        Some(Priced::Known {
            hourly: p5,
            estimate: false,
            what: "p5.48xlarge".into()
        })
    );
    assert_eq!(e.region, "us-east-1");
    assert!(e.notes.iter().any(|n| n.contains("on-demand Linux")));
}

#[test]
fn spot_is_an_estimate_at_the_tables_discount() {
    let spot = "instance_market_options {\n    market_type = \"spot\"\n  }";
    let e = estimate_of(&node("g6e.xlarge", spot));
    let expected = od("g6e.xlarge") * (1.0 - table().spot_discount);
    assert!(close(e.after.hourly, 2.0 * expected));
    assert!(e.after.estimate && e.has_estimates());
    let after = e.lines[0].after.as_ref().unwrap();
    assert!(after.is_estimate());
    assert_eq!(after.what(), "g6e.xlarge spot");
}

#[test]
fn a_root_volume_adds_its_gb_month_price() {
    let e = estimate_of(&node(
        "g5.xlarge",
        "root_block_device {\n    volume_size = 500\n    volume_type = \"gp3\"\n  }",
    ));
    let gp3 = table().ebs_gb_month["gp3"];
    assert!(close(
        e.monthly(e.after.hourly),
        2.0 * (od("g5.xlarge") * 730.0 + 500.0 * gp3)
    ));
    assert_eq!(
        e.lines[0].after.as_ref().unwrap().what(),
        "g5.xlarge + 500 GB gp3"
    );
}

#[test]
fn an_update_prices_the_old_type_before_and_the_new_one_after() {
    let state = applied(&node("m5.large", ""));
    let (plan, e) = estimate_against(&state, &node("m7i.large", ""));
    assert!(plan.changes.iter().all(|c| c.action == Action::Update));
    assert!(close(e.before.hourly, 2.0 * od("m5.large")));
    assert!(close(e.after.hourly, 2.0 * od("m7i.large")));
    assert!(close(
        e.delta_monthly(),
        2.0 * (od("m7i.large") - od("m5.large")) * 730.0
    ));
}

#[test]
fn a_replacement_is_priced_on_both_sides() {
    let state = applied(&node("p4d.24xlarge", ""));
    let (plan, e) = estimate_against(
        &state,
        &node("p4de.24xlarge", "").replace("ami-12345678", "ami-87654321"),
    );
    assert!(
        plan.changes.iter().all(|c| c.action.is_replace()),
        "{:?}",
        plan.changes.iter().map(|c| c.action).collect::<Vec<_>>()
    );
    assert!(close(e.before.hourly, 2.0 * od("p4d.24xlarge")));
    assert!(close(e.after.hourly, 2.0 * od("p4de.24xlarge")));
}

const NETWORK: &str = r#"
resource "aws_eip" "nat" {
  domain = "vpc"
}

resource "aws_nat_gateway" "main" {
  allocation_id = aws_eip.nat.id
  subnet_id     = "subnet-0123456789abcdef0"
}

resource "aws_kms_key" "data" {
  enable_key_rotation = true
}
"#;

#[test]
fn nat_gateways_elastic_ips_and_keys_have_fixed_prices() {
    let e = estimate_of(NETWORK);
    let t = table();
    let hourly = t.nat_gateway_hour + t.public_ipv4_hour + t.kms_key_month / 730.0;
    assert!(close(e.after.hourly, hourly));
    assert!(close(
        e.monthly(e.after.hourly),
        (t.nat_gateway_hour + t.public_ipv4_hour) * 730.0 + t.kms_key_month
    ));
    assert!(
        e.notes
            .iter()
            .any(|n| n.contains("data processing (per GB) is not estimated")),
        "{:?}",
        e.notes
    );
}

#[test]
fn a_delete_is_priced_before_only() {
    let state = applied(&format!("{NETWORK}{}", node("c7i.large", "")));
    let (plan, e) = estimate_against(&state, &node("c7i.large", ""));
    let nat = e
        .lines
        .iter()
        .find(|l| l.addr.to_string() == "aws_nat_gateway.main")
        .unwrap();
    assert_eq!(nat.action, Action::Delete);
    assert!(nat.before.is_some() && nat.after.is_none());
    assert!(plan.changes.iter().any(|c| c.action == Action::NoOp));
    let t = table();
    assert!(close(
        e.before.hourly - e.after.hourly,
        t.nat_gateway_hour + t.public_ipv4_hour + t.kms_key_month / 730.0
    ));
    assert!(close(e.after.hourly, 2.0 * od("c7i.large")));
}

#[test]
fn an_unknown_instance_type_is_price_unknown_not_zero() {
    let e = estimate_of(&node("x9.colossal", ""));
    assert_eq!(e.after.unpriced, 2);
    assert!(close(e.after.hourly, 0.0));
    assert_eq!(
        e.lines[0].after,
        Some(Priced::Unknown {
            what: "x9.colossal".into(),
            why: "the price table has no price for x9.colossal".into()
        })
    );
}

#[test]
fn the_launch_templates_type_and_volumes_are_priced_per_instance() {
    let e = estimate_of(
        r#"
resource "aws_launch_template" "gpu" {
  name          = "gpu"
  instance_type = "trn1.32xlarge"
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 1000
      volume_type = "gp3"
    }
  }
  instance_market_options {
    market_type = "spot"
  }
}

resource "aws_instance" "node" {
  count = 3
  launch_template {
    id = aws_launch_template.gpu.id
  }
}
"#,
    );
    let t = table();
    let one =
        od("trn1.32xlarge") * (1.0 - t.spot_discount) + 1000.0 * t.ebs_gb_month["gp3"] / 730.0;
    assert!(close(e.after.hourly, 3.0 * one));
    assert!(e.after.estimate);
}

#[test]
fn prices_from_another_region_are_called_out() {
    let e = estimate_of(&format!(
        "provider \"aws\" {{\n  region = \"eu-west-1\"\n}}\n{}",
        node("g5.xlarge", "")
    ));
    assert!(
        e.notes
            .iter()
            .any(|n| n.contains("the stack deploys to eu-west-1")),
        "{:?}",
        e.notes
    );
}

#[test]
fn spend_is_grouped_by_cost_allocation_tag() {
    let hcl = r#"
provider "aws" {
  default_tags {
    tags = { team = "ml-platform" }
  }
}

resource "aws_instance" "a" {
  instance_type = "p5.48xlarge"
  tags          = { experiment = "llama-ft-7" }
}

resource "aws_instance" "b" {
  count         = 2
  instance_type = "g6.xlarge"
  tags          = { experiment = "whisper-eval" }
}

resource "aws_nat_gateway" "n" {
  subnet_id = "subnet-0123456789abcdef0"
}
"#;
    let (_root, config) = load_ok(&[("stack/main.hcl", hcl)]);
    let graph = crate::graph::build(&config).unwrap();
    let inputs = crate::eval::Inputs::default();
    let plan = crate::plan::plan(&config, &graph, &inputs, &State::new("s"), false).unwrap();
    let inv = Inventory::build(&config, &graph, &inputs, &plan);
    let e = estimate(&plan, &inv, &table(), None);
    let groups = by_tag(&e, &inv, &["team".into(), "experiment".into()]);
    let t = table();
    assert!(close(groups["experiment"]["llama-ft-7"], od("p5.48xlarge")));
    assert!(close(
        groups["experiment"]["whisper-eval"],
        2.0 * od("g6.xlarge")
    ));
    assert!(close(groups["experiment"][UNTAGGED], t.nat_gateway_hour));
    assert!(close(groups["team"]["ml-platform"], e.after.hourly));
}
