//! Plan: ResourceGraph + State -> [`Plan`], the ordered changes that bring the cloud to
//! what the configuration asks for, each with its action, attribute diffs and the reason a
//! replacement is needed. Planning reads state and calls no provider write method: data
//! sources are read through the provider's read path ([`data`]), `moved` blocks were
//! applied to the state it is given ([`moves`]), and `import` blocks' objects are diffed
//! as previewed ([`imports`]).
//!
//! The plan is the schedule apply follows: [`Plan::steps`] lists every provider call, what
//! each waits for and how rollback undoes it (see [`schedule`]). A replacement creates the
//! new object before deleting the old one unless a unique name it keeps forbids two at
//! once ([`crate::providers::identity`]) or `create_before_destroy = false` says
//! otherwise; a delete-first replacement is irreversible, and plan output says so.

pub mod data;
mod deps;
mod diff;
pub mod imports;
pub mod moves;
mod schedule;

pub use data::{BlockingReader, DataRead, DataReader, Deferred, NoReader};
pub use diff::{AttrChange, diff, is_ignored};
pub use imports::{ImportTarget, Importing};
pub(crate) use schedule::dependents_first;
pub use schedule::{Step, StepKind, Undo};

use crate::addr::{AddrIndex, DataAddr, ProviderAddr, ResourceAddr};
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::{self, Hook, Inputs, computed_value};
use crate::graph::{Node, ResourceGraph};
use crate::providers::identity::unique_keys;
use crate::providers::schema;
use crate::state::State;
use crate::value::Value;
use deps::Dependencies;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What happens to one resource instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Replace, deleting the old object first: a unique name it keeps forbids two objects
    /// at once, or `create_before_destroy = false`. Irreversible.
    DeleteThenCreate,
    /// Replace, creating the new object first (keel's default where the type allows it).
    CreateThenDelete,
    Delete,
}

impl Action {
    /// The symbol plan output shows.
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::DeleteThenCreate => "-/+",
            Action::CreateThenDelete => "+/-",
            Action::Delete => "-",
        }
    }

    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }

    /// Deletes something that exists, before or without a replacement: apply cannot undo it.
    pub fn is_irreversible(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::Delete)
    }
}

/// The planned change of one resource instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub addr: ResourceAddr,
    pub action: Action,
    /// What state recorded; `None` for a create.
    pub before: Option<Value>,
    /// The planned object: configured values, computed ones from state or unknown. `Null`
    /// for a delete.
    pub after: Value,
    /// The configured attributes apply will send, unknowns included.
    pub config: Value,
    /// Changed attributes (empty for creates and deletes).
    pub attrs: Vec<AttrChange>,
    /// The resources this one depends on.
    pub dependencies: Vec<ResourceAddr>,
    /// The provider configuration that creates or updates it (for a delete: the one state
    /// recorded).
    pub provider: ProviderAddr,
    /// A delete of an old object that a create-first replacement left behind (an apply
    /// that was killed or whose last deletes failed), not of the current one.
    #[serde(default)]
    pub deposed: bool,
}

impl Change {
    /// Attributes that force the replacement, for "# forces replacement".
    pub fn replace_paths(&self) -> Vec<&str> {
        self.attrs
            .iter()
            .filter(|a| a.forces_replacement)
            .map(|a| a.name.as_str())
            .collect()
    }
}

/// The whole plan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Plan {
    pub stack: String,
    /// The state it was made against.
    pub lineage: String,
    pub serial: u64,
    pub destroy: bool,
    /// Every instance in the configuration or state, in dependency order, deletes last.
    pub changes: Vec<Change>,
    /// The schedule: delete-first replacements' deletes (dependents first), then creates and
    /// updates in dependency order, then deletes (dependents first); each step says what
    /// it waits for and how it is undone.
    pub steps: Vec<Step>,
    /// Output values as planned (unknown ones shown as such).
    pub outputs: BTreeMap<String, Value>,
    /// Outputs whose declaration says `sensitive = true`.
    pub sensitive_outputs: HashSet<String>,
    /// Attributes whose values are sensitive, by address: set from sensitive values now,
    /// or recorded as sensitive in state. Every renderer hides them.
    pub sensitive_attrs: BTreeMap<ResourceAddr, BTreeSet<String>>,
    /// The sensitive strings evaluation read or computed for these changes (see
    /// [`eval::Desired::secrets`]): reports scrub them from free text.
    pub secrets: Vec<String>,
    /// Outputs that differ from what state recorded: name -> (recorded, planned).
    pub output_changes: BTreeMap<String, (Option<Value>, Value)>,
    /// The guardrails' verdict (policy findings, cost, budget), once checked
    /// ([`crate::guard::Guard::check`]); reports show it when present.
    /// Not saved with a plan: `keel apply PLANFILE` checks the saved plan again.
    #[serde(skip)]
    pub guard: Option<crate::guard::Report>,
    /// Every data source instance, read now or (`deferred`) during apply, in walk order.
    pub data_reads: Vec<DataRead>,
    /// What `moved` blocks moved in state before planning: (from, to) per instance. The
    /// state the plan was made against holds them at `to`; apply records that.
    pub moved: Vec<(ResourceAddr, ResourceAddr)>,
    /// Objects `import` blocks bring under keel: apply imports each before its change.
    pub imports: Vec<Importing>,
    /// Things the plan could not do but went on without (moves whose destination state
    /// already holds), as sentences.
    pub warnings: Vec<String>,
}

/// Counts with a replacement counted once, as a replacement (PR comments and JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    /// Objects brought under keel by `import` blocks.
    pub import: usize,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for ch in &self.changes {
            match ch.action {
                Action::NoOp => {}
                Action::Create => c.add += 1,
                Action::Update => c.change += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    c.add += 1;
                    c.destroy += 1;
                }
                Action::Delete => c.destroy += 1,
            }
        }
        c
    }

    /// Resource changes; see also `output_changes`.
    /// Like [`Plan::counts`], but a replacement is one `replace`, not an add and a destroy.
    pub fn summary(&self) -> Summary {
        let c = self.counts();
        let replace = self
            .changes
            .iter()
            .filter(|c| c.action.is_replace())
            .count();
        Summary {
            add: c.add - replace,
            change: c.change,
            replace,
            destroy: c.destroy - replace,
            import: self.imports.len(),
        }
    }

    /// The changes that do something, by address: the order reports list them in. A
    /// resource that only moved, or is only imported, is listed too.
    pub fn changed_sorted(&self) -> Vec<&Change> {
        let mut changed: Vec<&Change> = self
            .changes
            .iter()
            .filter(|c| {
                c.action != Action::NoOp
                    || self.moved_from(&c.addr).is_some()
                    || self.importing(&c.addr).is_some()
            })
            .collect();
        changed.sort_by(|a, b| a.addr.cmp(&b.addr));
        changed
    }

    /// Whether applying would do anything: a change, a move to record, an import.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
            || !self.moved.is_empty()
            || !self.imports.is_empty()
    }

    /// Where a `moved` block moved `addr` from, when it did.
    pub fn moved_from(&self, addr: &ResourceAddr) -> Option<&ResourceAddr> {
        self.moved.iter().find(|(_, to)| to == addr).map(|(f, _)| f)
    }

    /// The `import` block that brings `addr` under keel, when one does.
    pub fn importing(&self, addr: &ResourceAddr) -> Option<&Importing> {
        self.imports.iter().find(|i| &i.addr == addr)
    }

    pub fn change(&self, addr: &ResourceAddr) -> Option<&Change> {
        self.changes.iter().find(|c| &c.addr == addr)
    }

    /// The data sources read during apply, by address.
    pub fn deferred_reads(&self) -> Vec<&DataRead> {
        let mut reads: Vec<&DataRead> = self
            .data_reads
            .iter()
            .filter(|r| r.deferred.is_some())
            .collect();
        reads.sort_by(|a, b| a.addr.cmp(&b.addr));
        reads
    }
}

/// The hook that decides, resource by resource, what changes, and reads data sources.
struct Planner<'a> {
    state: &'a State,
    graph: &'a ResourceGraph,
    deps: Dependencies<'a>,
    changes: Vec<Change>,
    diags: Diagnostics,
    reader: &'a mut dyn DataReader,
    reads: Vec<DataRead>,
    /// Resource nodes with an instance that changes, and data nodes read during apply:
    /// a data source whose `depends_on` names one of them waits for apply.
    pending: HashSet<Node>,
}

impl Hook for Planner<'_> {
    fn resource(
        &mut self,
        config: &Config,
        node: Node,
        addr: &ResourceAddr,
        value: Value,
    ) -> Result<Value, Diagnostics> {
        let (resource, provider) = node.resource_in(config).expect("a resource node");
        let dependencies = self.deps.of(node, addr);
        self.deps.planned(node, addr);
        let schema = schema(&resource.type_).expect("evaluation checked the type");
        let prior = self.state.resources.get(addr).map(|r| r.value());
        let (action, attrs, seen) = match &prior {
            None => (
                Action::Create,
                Vec::new(),
                computed_value(&resource.type_, &value, None),
            ),
            Some(prior) => {
                let attrs = diff(schema, &value, prior, &resource.lifecycle.ignore_changes);
                let replace = attrs.iter().any(|a| a.forces_replacement);
                if replace {
                    let action = match resource.lifecycle.create_before_destroy {
                        Some(true) => Action::CreateThenDelete,
                        Some(false) => Action::DeleteThenCreate,
                        None if keeps_unique_key(&resource.type_, &attrs, &value) => {
                            Action::DeleteThenCreate
                        }
                        None => Action::CreateThenDelete,
                    };
                    (action, attrs, computed_value(&resource.type_, &value, None))
                } else if attrs.is_empty() {
                    (
                        Action::NoOp,
                        attrs,
                        computed_value(&resource.type_, &value, Some(prior)),
                    )
                } else {
                    (
                        Action::Update,
                        attrs,
                        computed_value(&resource.type_, &value, Some(prior)),
                    )
                }
            }
        };
        if action != Action::NoOp {
            self.pending.insert(node);
        }
        if action.is_replace() && resource.lifecycle.prevent_destroy {
            self.diags.push(
                Diagnostic::error(format!(
                    "{addr} has lifecycle.prevent_destroy set, but this plan would replace it (because of {})",
                    attrs
                        .iter()
                        .filter(|a| a.forces_replacement)
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .at(resource.span.clone())
                .help("undo the change to that attribute, or remove prevent_destroy if replacing it is really intended"),
            );
        }
        self.changes.push(Change {
            addr: addr.clone(),
            action,
            before: prior,
            after: seen.clone(),
            config: value,
            attrs,
            dependencies,
            provider: provider.clone(),
            deposed: false,
        });
        Ok(seen)
    }

    fn data(
        &mut self,
        config: &Config,
        node: Node,
        addr: &DataAddr,
        args: Value,
    ) -> Result<Value, Diagnostics> {
        let (data, provider) = node.data_in(config).expect("a data node");
        let deferred = if args.has_unknown() {
            Some(Deferred::ConfigUnknown)
        } else if self
            .graph
            .data_depends_on(node)
            .iter()
            .any(|d| self.pending.contains(d))
        {
            Some(Deferred::DependencyPending)
        } else {
            None
        };
        let value = match deferred {
            Some(_) => {
                self.pending.insert(node);
                eval::unread_data(&data.type_, &args)
            }
            None => self
                .reader
                .read(provider, &data.type_, &args)
                .map_err(|e| {
                    Diagnostic::error(format!("reading {addr} failed: {e}"))
                        .at(data.span.clone())
                        .help("check the data source's arguments; nothing was changed")
                })?,
        };
        self.reads.push(DataRead {
            addr: addr.clone(),
            provider: provider.clone(),
            config: args,
            value: value.clone(),
            deferred,
        });
        Ok(value)
    }
}

/// What a plan needs besides configuration and state: a way to read data sources, what
/// `moved` blocks already did to the state ([`moves::apply_moves`]), and the objects
/// `import` blocks bring in, read without changing them.
pub struct Prepared<'a> {
    pub reader: &'a mut dyn DataReader,
    pub moves: moves::Outcome,
    /// Each import block's target and the record importing it would make.
    pub imports: Vec<(ImportTarget, crate::state::ResourceState)>,
}

/// ResourceGraph + State -> Plan, with no provider to read data sources through (a
/// stack that reads one fails to plan; see [`plan_with`]). With `destroy`, every
/// resource in state is deleted and the configuration is not evaluated.
pub fn plan(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
    state: &State,
    destroy: bool,
) -> Result<Plan, Diagnostics> {
    let prepared = Prepared {
        reader: &mut NoReader,
        moves: moves::Outcome::default(),
        imports: Vec::new(),
    };
    plan_with(config, graph, inputs, state, destroy, prepared)
}

/// ResourceGraph + State -> Plan, reading data sources through the reader as the walk
/// reaches them and diffing imported objects as if state held them. With `destroy`,
/// every resource in state is deleted and the configuration is not evaluated (nor any
/// data source read, nor anything imported).
pub fn plan_with(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
    state: &State,
    destroy: bool,
    prepared: Prepared<'_>,
) -> Result<Plan, Diagnostics> {
    let Prepared {
        reader,
        moves,
        imports,
    } = prepared;
    let imports: Vec<(ImportTarget, crate::state::ResourceState)> = if destroy {
        Vec::new()
    } else {
        imports
            .into_iter()
            .filter(|(t, _)| !state.resources.contains_key(&t.addr))
            .collect()
    };
    let with_imports;
    let state = if imports.is_empty() {
        state
    } else {
        let mut s = state.clone();
        for (t, entry) in &imports {
            s.resources.insert(t.addr.clone(), entry.clone());
        }
        with_imports = s;
        &with_imports
    };
    let mut changes = Vec::new();
    let mut outputs = BTreeMap::new();
    let mut marked = BTreeMap::new();
    let mut secrets = Vec::new();
    let mut data_reads = Vec::new();
    if !destroy {
        let mut planner = Planner {
            state,
            graph,
            deps: Dependencies::new(config, graph, state),
            changes: Vec::new(),
            diags: Diagnostics::default(),
            reader,
            reads: Vec::new(),
            pending: HashSet::new(),
        };
        let walked = eval::walk(config, graph, inputs, &mut planner)?;
        planner.diags.into_result()?;
        let declared: Vec<&ResourceAddr> = planner.changes.iter().map(|c| &c.addr).collect();
        let mut diags = moves::check_declared(config, &declared);
        for (t, _) in &imports {
            if !declared.contains(&&t.addr) {
                diags.push(
                    Diagnostic::error(format!(
                        "Configuration for import target does not exist: the configuration declares no instance {}",
                        t.addr
                    ))
                    .at(t.span.clone())
                    .help("check the resource's count or for_each: the instance to import into must be one the configuration plans"),
                );
            }
        }
        diags.into_result()?;
        changes = planner.changes;
        data_reads = planner.reads;
        outputs = walked.outputs;
        marked = walked.sensitive_attrs;
        secrets = walked.secrets;
    }

    // Whatever state holds that the configuration no longer declares is deleted.
    let planned: HashSet<&ResourceAddr> = changes.iter().map(|c| &c.addr).collect();
    let mut deletes: Vec<Change> = Vec::new();
    let mut diags = Diagnostics::default();
    for (addr, r) in &state.resources {
        if planned.contains(addr) {
            continue;
        }
        if let Some((_, _, res)) = config.find_resource(addr)
            && res.lifecycle.prevent_destroy
        {
            let d = if destroy {
                Diagnostic::error(format!(
                    "{addr} has lifecycle.prevent_destroy set; keel will not destroy it"
                ))
                .help("remove prevent_destroy from its lifecycle block first")
            } else {
                Diagnostic::error(format!(
                    "{addr} has lifecycle.prevent_destroy set, but this plan would destroy it"
                ))
            };
            diags.push(d.at(res.span.clone()));
        }
        deletes.push(Change {
            addr: addr.clone(),
            action: Action::Delete,
            before: Some(r.value()),
            after: Value::Null,
            config: Value::Null,
            attrs: Vec::new(),
            dependencies: r.dependencies.clone(),
            provider: r.provider.clone(),
            deposed: false,
        });
    }
    // Old objects a create-first replacement left behind go too.
    for d in &state.deposed {
        deletes.push(Change {
            addr: d.addr.clone(),
            action: Action::Delete,
            before: Some(d.resource.value()),
            after: Value::Null,
            config: Value::Null,
            attrs: Vec::new(),
            dependencies: d.resource.dependencies.clone(),
            provider: d.resource.provider.clone(),
            deposed: true,
        });
    }
    diags.into_result()?;
    let deletes = reverse_dependency_order(deletes);

    changes.extend(deletes);
    let steps = schedule::schedule(&changes, config, graph);

    let mut sensitive_attrs: BTreeMap<ResourceAddr, BTreeSet<String>> = BTreeMap::new();
    for c in &changes {
        let mut set: BTreeSet<String> = marked.remove(&c.addr).unwrap_or_default();
        if let Some(r) = state.resources.get(&c.addr) {
            set.extend(r.sensitive_attributes.iter().cloned());
        }
        if !set.is_empty() {
            sensitive_attrs.insert(c.addr.clone(), set);
        }
    }
    let sensitive_outputs = config
        .root()
        .outputs
        .iter()
        .filter(|o| o.sensitive)
        .map(|o| o.name.clone())
        .collect();
    let mut output_changes: BTreeMap<String, (Option<Value>, Value)> = BTreeMap::new();
    for (name, v) in &outputs {
        let recorded = state.outputs.get(name).map(|o| Value::from_json(&o.value));
        if v.has_unknown() || recorded.as_ref() != Some(v) {
            output_changes.insert(name.clone(), (recorded, v.clone()));
        }
    }
    for (name, o) in &state.outputs {
        if !outputs.contains_key(name) {
            output_changes.insert(
                name.clone(),
                (Some(Value::from_json(&o.value)), Value::Null),
            );
        }
    }
    Ok(Plan {
        stack: config.stack.clone(),
        output_changes,
        lineage: state.lineage.clone(),
        serial: state.serial,
        destroy,
        changes,
        steps,
        outputs,
        sensitive_outputs,
        sensitive_attrs,
        secrets,
        guard: None,
        data_reads,
        moved: if destroy { Vec::new() } else { moves.moved },
        imports: imports
            .into_iter()
            .map(|(t, _)| Importing {
                addr: t.addr,
                id: t.id,
                provider: t.provider,
            })
            .collect(),
        warnings: moves.blocked,
    })
}

/// Does a replacement keep every attribute of one of the type's unique keys, as
/// configured? Then the new object cannot exist beside the old one. (An attribute left to
/// the cloud, such as an instance's private IP, gets a new value and conflicts with
/// nothing.)
fn keeps_unique_key(type_: &str, attrs: &[AttrChange], config: &Value) -> bool {
    unique_keys(type_).iter().any(|key| {
        key.iter()
            .all(|a| !attrs.iter().any(|c| c.name == *a) && !config.get(a).is_null())
    })
}

/// Orders changes so that each comes before everything it depends on.
fn reverse_dependency_order(changes: Vec<Change>) -> Vec<Change> {
    let all: Vec<usize> = (0..changes.len()).collect();
    let by_addr: AddrIndex<usize> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.deposed)
        .map(|(i, c)| (&c.addr, i))
        .collect();
    let order = schedule::reverse_dependency_indices(&changes, &by_addr, &all);
    let mut slots: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    order
        .into_iter()
        .map(|i| slots[i].take().expect("each index once"))
        .collect()
}

#[cfg(test)]
mod data_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn change(addr: &str, deps: &[&str]) -> Change {
        Change {
            addr: addr.parse().unwrap(),
            action: Action::Delete,
            before: None,
            after: Value::Null,
            config: Value::Null,
            attrs: vec![],
            dependencies: deps.iter().map(|d| d.parse().unwrap()).collect(),
            provider: ProviderAddr::default(),
            deposed: false,
        }
    }

    #[test]
    fn dependencies_stay_within_a_module_instance_and_cross_modules_as_written() {
        let (_root, config) = crate::config::testing::load_ok(&[
            (
                "stack/main.hcl",
                r#"
module "net" {
  source   = "../modules/net"
  for_each = toset(["a", "b"])
  cidr     = each.key == "a" ? "10.1.0.0/16" : "10.2.0.0/16"
}

resource "aws_s3_bucket" "b" {
  bucket = "b"
  tags = {
    vpc = module.net["a"].vpc_id
  }
}
"#,
            ),
            (
                "modules/net/main.tf",
                r#"
variable "cidr" {}

resource "aws_vpc" "this" {
  cidr_block = var.cidr
}

resource "aws_subnet" "s" {
  vpc_id     = aws_vpc.this.id
  cidr_block = cidrsubnet(var.cidr, 8, 1)
}

output "vpc_id" {
  value = aws_vpc.this.id
}
"#,
            ),
        ]);
        let graph = crate::graph::build(&config).unwrap();
        let state = State::new("s");
        let p = plan(&config, &graph, &Inputs::default(), &state, false).unwrap();
        let deps = |addr: &str| -> Vec<String> {
            p.changes
                .iter()
                .find(|c| c.addr.to_string() == addr)
                .unwrap_or_else(|| panic!("{addr}"))
                .dependencies
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(
            deps("module.net[\"b\"].aws_subnet.s"),
            ["module.net[\"b\"].aws_vpc.this"]
        );
        // A reference from outside depends on the module's resources, every instance
        // (as Terraform records it: by block, not by key).
        assert_eq!(
            deps("aws_s3_bucket.b"),
            [
                "module.net[\"a\"].aws_vpc.this",
                "module.net[\"b\"].aws_vpc.this"
            ]
        );
        assert!(
            p.changes
                .iter()
                .all(|c| c.provider == ProviderAddr::default())
        );
    }

    #[test]
    fn deletes_go_dependents_first() {
        let changes = vec![
            change("aws_vpc.main", &[]),
            change("aws_subnet.a", &["aws_vpc.main"]),
            change("aws_s3_bucket.data", &[]),
            change(
                "aws_s3_bucket_server_side_encryption_configuration.data",
                &["aws_s3_bucket.data"],
            ),
        ];
        let order: Vec<String> = reverse_dependency_order(changes)
            .iter()
            .map(|c| c.addr.to_string())
            .collect();
        let pos = |a: &str| order.iter().position(|x| x == a).unwrap();
        assert!(pos("aws_subnet.a") < pos("aws_vpc.main"), "{order:?}");
        assert!(
            pos("aws_s3_bucket_server_side_encryption_configuration.data")
                < pos("aws_s3_bucket.data"),
            "{order:?}"
        );
    }

    #[test]
    fn a_block_reading_a_counted_block_records_it_once_not_per_instance() {
        let (_root, config) = crate::config::testing::load_ok(&[(
            "stack/main.hcl",
            r#"
resource "aws_iam_role" "many" {
  count              = 50
  name               = "r-${count.index}"
  assume_role_policy = "{}"
}

resource "aws_s3_bucket" "b" {
  count  = 40
  bucket = "b-${count.index}"
  tags = {
    first = aws_iam_role.many[0].name
    all   = length(aws_iam_role.many[*].arn)
  }
}
"#,
        )]);
        let graph = crate::graph::build(&config).unwrap();
        let p = plan(&config, &graph, &Inputs::default(), &State::new("s"), false).unwrap();
        let recorded: usize = p.changes.iter().map(|c| c.dependencies.len()).sum();
        // 40 buckets, each naming the role block once: not 40 x 50.
        assert_eq!(recorded, 40);
        let b7 = p
            .changes
            .iter()
            .find(|c| c.addr.to_string() == "aws_s3_bucket.b[7]")
            .unwrap();
        assert_eq!(b7.dependencies, vec!["aws_iam_role.many".parse().unwrap()]);
        // Nor does the schedule list 40 x 50 waits: apply orders creates through the
        // graph (tested in apply::tests).
        assert!(p.steps.iter().all(|s| s.after.is_empty()));
    }

    #[test]
    fn deletes_follow_a_dependency_on_a_whole_block() {
        let changes = vec![
            change("aws_subnet.s[0]", &["aws_vpc.main"]),
            change("aws_vpc.main", &[]),
            change("aws_instance.gpu[0]", &["aws_subnet.s"]),
            change("aws_subnet.s[1]", &["aws_vpc.main"]),
            change("aws_instance.gpu[1]", &["aws_subnet.s"]),
        ];
        let order: Vec<String> = reverse_dependency_order(changes)
            .iter()
            .map(|c| c.addr.to_string())
            .collect();
        let pos = |a: &str| order.iter().position(|x| x == a).unwrap();
        for gpu in ["aws_instance.gpu[0]", "aws_instance.gpu[1]"] {
            for subnet in ["aws_subnet.s[0]", "aws_subnet.s[1]"] {
                assert!(pos(gpu) < pos(subnet), "{order:?}");
            }
        }
        assert!(pos("aws_subnet.s[1]") < pos("aws_vpc.main"), "{order:?}");
    }
}
