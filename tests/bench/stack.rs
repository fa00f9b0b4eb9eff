//! Synthetic stacks for the scale benchmarks: a stack of `n` resource instances (count-
//! and for_each-expanded blocks, many distinct blocks, cross references, module calls),
//! written as HCL, and the state keel would record had it applied that stack, so plans
//! can be timed against an empty state and a full one.
//!
//! Shared by the benchmark binary (`tests/bench/generate.rs`) and the smoke test in the
//! normal suite (`tests/testsuite/bench_smoke.rs`), which keeps this code from rotting.

use keel::addr::ResourceAddr;
use keel::plan::Action;
use keel::providers::schema;
use keel::providers::schema::Mode;
use keel::state::{ResourceState, State};
use keel::value::Value;
use std::path::Path;

/// Instances one "unit" of distinct blocks makes (see [`write_stack`]).
const UNIT: usize = 20;

/// The counts a generated stack plans: `instances` in all, `blocks` resource blocks
/// (module blocks counted once per call) and `modules` module calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub instances: usize,
    pub blocks: usize,
    pub modules: usize,
}

/// Writes a stack of exactly `n` resource instances (`n` a multiple of 100, at most
/// 100,000: `range()` stops at 1,024 elements) into `dir`
/// (created): `main.hcl` and the module it calls, `modules/net/main.hcl`.
///
/// A tenth of the instances come from one `count` block (IAM roles), a tenth from one
/// `for_each` over `toset()` (buckets, each naming the first of those roles, so a block of
/// n/10 instances depends on a block of n/10); the rest are units of 20 instances, each unit its
/// own distinct blocks: a VPC, 8 subnets (`count`) in it, a security group in it, an IAM
/// role, 4 buckets (`count`) tagged with the role's name and a subnet's id, and a module
/// call making a VPC and 4 subnets from the unit's VPC's CIDR.
pub fn write_stack(dir: &Path, n: usize) -> std::io::Result<Shape> {
    assert!(
        n >= 100 && n.is_multiple_of(100),
        "size must be a multiple of 100"
    );
    let big = n / 10;
    let units = (n - 2 * big) / UNIT;
    std::fs::create_dir_all(dir.join("modules/net"))?;
    std::fs::write(dir.join("modules/net/main.hcl"), MODULE)?;
    let mut hcl = String::with_capacity(units * 1400 + 2000);
    hcl.push_str(&format!(
        r#"provider "aws" {{
  region = "us-east-1"
  default_tags {{
    tags = {{ bench = "scale" }}
  }}
}}

variable "prefix" {{
  default = "bench"
}}

locals {{
  team  = "ml-platform"
  # range() stops at 1,024 elements, as Terraform's does.
  names = flatten([for a in range({tens}) : [for b in range(10) : "${{var.prefix}}-shared-${{a}}-${{b}}"]])
}}

resource "aws_iam_role" "many" {{
  count              = {big}
  name               = "${{var.prefix}}-many-${{count.index}}"
  assume_role_policy = local.assume
  tags               = {{ team = local.team }}
}}

resource "aws_s3_bucket" "shared" {{
  for_each = toset(local.names)
  bucket   = each.key
  tags     = {{ role = aws_iam_role.many[0].name }}
}}

locals {{
  assume = jsonencode({{
    Version   = "2012-10-17"
    Statement = [{{ Effect = "Allow", Action = "sts:AssumeRole", Principal = {{ Service = "ec2.amazonaws.com" }} }}]
  }})
}}
"#,
        tens = big / 10,
    ));
    for u in 0..units {
        let (a, b) = (u / 200, u % 200);
        hcl.push_str(&format!(
            r#"
resource "aws_vpc" "vpc_{u}" {{
  cidr_block = "10.{a}.{b}.0/24"
  tags       = {{ Name = "${{var.prefix}}-{u}", team = local.team }}
}}

resource "aws_subnet" "subnet_{u}" {{
  count      = 8
  vpc_id     = aws_vpc.vpc_{u}.id
  cidr_block = cidrsubnet(aws_vpc.vpc_{u}.cidr_block, 3, count.index)
  tags       = {{ Name = "${{var.prefix}}-{u}-${{count.index}}" }}
}}

resource "aws_security_group" "sg_{u}" {{
  name        = "${{var.prefix}}-sg-{u}"
  description = "unit {u}"
  vpc_id      = aws_vpc.vpc_{u}.id
}}

resource "aws_iam_role" "role_{u}" {{
  name               = "${{var.prefix}}-role-{u}"
  assume_role_policy = local.assume
}}

resource "aws_s3_bucket" "bucket_{u}" {{
  count  = 4
  bucket = "${{var.prefix}}-bucket-{u}-${{count.index}}"
  tags = {{
    role   = aws_iam_role.role_{u}.name
    subnet = aws_subnet.subnet_{u}[count.index].id
  }}
}}

module "net_{u}" {{
  source = "./modules/net"
  name   = "${{var.prefix}}-net-{u}"
  cidr   = "172.{a}.{b}.0/24"
  peer   = aws_vpc.vpc_{u}.id
}}
"#
        ));
    }
    std::fs::write(dir.join("main.hcl"), hcl)?;
    Ok(Shape {
        instances: 2 * big + units * UNIT,
        blocks: 2 + units * 7,
        modules: units,
    })
}

const MODULE: &str = r#"variable "name" {}
variable "cidr" {}
variable "peer" {}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
  tags       = { Name = var.name, peer = var.peer }
}

resource "aws_subnet" "this" {
  count      = 4
  vpc_id     = aws_vpc.this.id
  cidr_block = cidrsubnet(var.cidr, 2, count.index)
  tags       = { Name = "${var.name}-${count.index}" }
}

output "subnet_ids" {
  value = aws_subnet.this[*].id
}
"#;

/// The state keel would record had it applied the stack in `dir`: every instance the
/// plan creates, with its configured attributes and made-up computed ones (`id`, `arn`,
/// ...), as an in-memory provider fills them. Plans against it until nothing is left to
/// create, one level of the dependency graph per round, so references resolve to the ids
/// recorded for what they point at. A plan against the result has no changes.
pub fn full_state(dir: &Path) -> Result<State, String> {
    let config = keel::config::load(dir).map_err(|(_, d)| format!("{d:?}"))?;
    let graph = keel::graph::build(&config).map_err(|d| format!("{d:?}"))?;
    let inputs = keel::eval::Inputs::default();
    let mut state = State::new(&config.stack);
    let mut next = 0usize;
    loop {
        let plan = keel::plan::plan(&config, &graph, &inputs, &state, false)
            .map_err(|d| format!("{d:?}"))?;
        let mut added = 0;
        let mut waiting = 0;
        for c in &plan.changes {
            match c.action {
                Action::NoOp => {}
                Action::Create if !c.config.has_unknown() => {
                    next += 1;
                    state
                        .resources
                        .insert(c.addr.clone(), applied(&c.addr, &c.config, next, c));
                    added += 1;
                }
                Action::Create => waiting += 1,
                other => return Err(format!("{}: unexpected {other:?}", c.addr)),
            }
        }
        if waiting == 0 {
            state.outputs = plan
                .outputs
                .iter()
                .map(|(k, v)| {
                    let output = keel::state::OutputState {
                        value: v.to_json(),
                        sensitive: false,
                    };
                    (k.clone(), output)
                })
                .collect();
            return Ok(state);
        }
        if added == 0 {
            return Err(format!("{waiting} creates never became known"));
        }
    }
}

/// One instance as if created: the configuration, then every computed attribute the
/// configuration left out filled with a made-up value.
fn applied(addr: &ResourceAddr, config: &Value, n: usize, c: &keel::plan::Change) -> ResourceState {
    let type_ = addr.type_.as_str();
    let id = format!("{}-{n:08x}", type_.trim_start_matches("aws_"));
    let mut attrs = config.as_map().cloned().unwrap_or_default();
    if let Some(s) = schema(type_) {
        for a in s.attrs {
            let unset = attrs.get(a.name).is_none_or(Value::is_null);
            if a.mode == Mode::Computed || (a.mode == Mode::OptionalComputed && unset) {
                let v = match a.name {
                    "id" => Value::str(&id),
                    "arn" => Value::str(format!("arn:aws:bench:::{type_}/{id}")),
                    "tags_all" => continue,
                    _ => Value::str(format!("{}-{id}", a.name)),
                };
                attrs.insert(a.name.to_string(), v);
            }
        }
    }
    ResourceState {
        type_: type_.to_string(),
        provider: c.provider.clone(),
        id,
        attributes: Value::Map(attrs).to_json(),
        dependencies: c.dependencies.clone(),
        sensitive_attributes: Vec::new(),
    }
}
