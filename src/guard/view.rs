//! Plan + Config -> [`Inventory`]: the resources a plan leaves in place (everything but
//! deletes), with the values policy rules and cost estimates judge.
//!
//! At plan time a resource's `id` or `arn` is unknown, so a bucket's encryption
//! configuration says `bucket = (known after apply)`: comparing values cannot tell which
//! bucket it belongs to. So the configuration is evaluated once more, with every unknown
//! string attribute of a planned resource standing as a *marker* that names it
//! (`⟦aws_s3_bucket.data.id⟧`). References then carry their target through locals,
//! module variables and outputs, `for_each`, string templates and `jsonencode`: the
//! configuration's own reference graph, instance by instance. A policy document written
//! with `jsonencode` and `aws_s3_bucket.data.arn` parses, its resource reading
//! `⟦aws_s3_bucket.data.arn⟧/*`. Data sources read what the plan read; a policy document
//! the plan defers to apply (it names a bucket not created yet) is rendered here, markers
//! and all, so a policy built with `data "aws_iam_policy_document"` parses as one written
//! with `jsonencode`. The markers never leave the guard: the plan and what apply sends
//! are untouched.
//!
//! Unknowns that are not strings (numbers, blocks left to the cloud) stay unknown, and a
//! rule that meets one it cannot judge does not deny on it.

use crate::addr::{DataAddr, ProviderAddr, ResourceAddr};
use crate::config::Config;
use crate::diag::Diagnostics;
use crate::eval::{self, Hook, Inputs, ProviderSettings, computed_value};
use crate::graph::{Kind, Node, ResourceGraph};
use crate::plan::{Action, Change, Plan};
use crate::providers::schema;
use crate::providers::schema::{Mode, Ty};
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};

const OPEN: char = '⟦';
const CLOSE: char = '⟧';

/// The marker standing for `addr.attr` while it is unknown.
pub fn marker(addr: &ResourceAddr, attr: &str) -> String {
    format!("{OPEN}{addr}.{attr}{CLOSE}")
}

/// The resource attribute a value stands for, when the whole value is one marker.
pub fn parse_marker(s: &str) -> Option<(ResourceAddr, String)> {
    let inner = s.strip_prefix(OPEN)?.strip_suffix(CLOSE)?;
    if inner.contains(OPEN) {
        return None;
    }
    let (addr, attr) = inner.rsplit_once('.')?;
    Some((addr.parse().ok()?, attr.to_string()))
}

/// Every marker inside a string (`⟦aws_s3_bucket.b.arn⟧/*` holds one).
pub fn markers_in(s: &str) -> Vec<(ResourceAddr, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start..];
        let Some(end) = after.find(CLOSE) else { break };
        let end = end + CLOSE.len_utf8();
        if let Some(m) = parse_marker(&after[..end]) {
            out.push(m);
        }
        rest = &after[end..];
    }
    out
}

/// Does the string hold a marker (a value known only after apply)?
pub fn has_marker(s: &str) -> bool {
    s.contains(OPEN)
}

/// One resource the plan leaves in place.
#[derive(Debug)]
pub struct Planned<'a> {
    pub addr: &'a ResourceAddr,
    pub change: &'a Change,
    /// What the configuration asks for, with markers for unknown references and the
    /// attributes only the cloud sets (see [`judged`]).
    pub value: Value,
}

impl Planned<'_> {
    pub fn type_(&self) -> &str {
        &self.addr.type_
    }

    pub fn get(&self, attr: &str) -> &Value {
        self.value.get(attr)
    }

    /// The first object of a nested block (`metadata_options`, `root_block_device`).
    pub fn block(&self, name: &str) -> Option<&Value> {
        first(self.value.get(name))
    }
}

/// The first object of a block value (a list of objects).
pub fn first(v: &Value) -> Option<&Value> {
    v.as_list()
        .and_then(|l| l.first())
        .filter(|v| v.as_map().is_some())
}

/// What a reference-valued attribute points at.
#[derive(Debug)]
pub enum Target<'i, 'a> {
    /// A resource of the plan (and which of its attributes).
    Resource(&'i Planned<'a>, String),
    /// A known value that names nothing in the plan: something outside the stack.
    Outside,
    /// Not known: the rule cannot tell.
    Unknown,
}

/// Every resource a plan leaves in place.
#[derive(Debug)]
pub struct Inventory<'a> {
    items: Vec<Planned<'a>>,
    index: HashMap<&'a ResourceAddr, usize>,
    /// Every provider configuration, evaluated (default tags, region).
    pub providers: BTreeMap<ProviderAddr, ProviderSettings>,
    /// False when the configuration could not be evaluated with markers; references are
    /// then unknown and rules judge known values only.
    pub symbolic: bool,
}

impl<'a> Inventory<'a> {
    /// The plan's resources, with references traced through the configuration.
    pub fn build(
        config: &Config,
        graph: &ResourceGraph,
        inputs: &Inputs,
        plan: &'a Plan,
    ) -> Inventory<'a> {
        let kept: Vec<&'a Change> = plan
            .changes
            .iter()
            .filter(|c| c.action != Action::Delete)
            .collect();
        let mut hook = Symbolic {
            planned: kept.iter().map(|c| (&c.addr, &c.after)).collect(),
            reads: plan
                .data_reads
                .iter()
                .filter(|r| r.deferred.is_none())
                .map(|r| (&r.addr, &r.value))
                .collect(),
            seen: HashMap::new(),
        };
        // Markers only ever stand in for unknown values: a plan that knows every value
        // (a stack already applied, planned again) is judged by its own values, and
        // evaluating the whole configuration a second time would find nothing new. Only
        // the provider settings are evaluated then.
        let all_known = kept
            .iter()
            .all(|c| !c.config.has_unknown() && !c.after.has_unknown());
        let walked = if plan.destroy {
            None
        } else if all_known {
            let providers: Vec<Node> = graph
                .order()
                .iter()
                .copied()
                .filter(|n| matches!(n.kind, Kind::Provider(_)))
                .collect();
            eval::evaluate_for(config, graph, inputs, &providers)
                .ok()
                .map(|envs| envs.providers)
        } else {
            eval::walk(config, graph, inputs, &mut hook)
                .ok()
                .map(|w| w.providers)
        };
        let symbolic = walked.is_some();
        let providers = walked.unwrap_or_default();
        let mut seen = hook.seen;
        let items: Vec<Planned<'a>> = kept
            .into_iter()
            .map(|c| Planned {
                addr: &c.addr,
                change: c,
                value: seen
                    .remove(&c.addr)
                    .unwrap_or_else(|| judged(&c.addr.type_, &c.config, &c.after)),
            })
            .collect();
        let index = items.iter().enumerate().map(|(i, p)| (p.addr, i)).collect();
        Inventory {
            items,
            index,
            providers,
            symbolic,
        }
    }

    pub fn all(&self) -> &[Planned<'a>] {
        &self.items
    }

    pub fn of_type<'s>(
        &'s self,
        type_: &str,
    ) -> impl Iterator<Item = &'s Planned<'a>> + use<'s, 'a> {
        let type_ = type_.to_string();
        self.items.iter().filter(move |p| p.type_() == type_)
    }

    pub fn get(&self, addr: &ResourceAddr) -> Option<&Planned<'a>> {
        self.index.get(addr).map(|&i| &self.items[i])
    }

    /// What `v` (a bucket name, a VPC id, a launch template id) points at among resources
    /// of `types`: a marker names its resource; a known string is compared with each
    /// candidate's `attrs`.
    pub fn resolve(&self, v: &Value, types: &[&str], attrs: &[&str]) -> Target<'_, 'a> {
        let Some(s) = v.as_str() else {
            return Target::Unknown;
        };
        if let Some((addr, attr)) = parse_marker(s) {
            return match self.get(&addr) {
                Some(p) if types.contains(&p.type_()) => Target::Resource(p, attr),
                _ => Target::Outside,
            };
        }
        if has_marker(s) {
            return Target::Unknown;
        }
        for t in types {
            for p in self.of_type(t) {
                if let Some(attr) = attrs.iter().find(|a| p.get(a).as_str() == Some(s)) {
                    return Target::Resource(p, attr.to_string());
                }
            }
        }
        Target::Outside
    }

    /// The provider settings a resource is managed with (default tags, region).
    pub fn provider_of(&self, p: &Planned) -> Option<&ProviderSettings> {
        self.providers.get(&p.change.provider)
    }
}

/// What rules judge: the configuration (markers for references; defaults for optional
/// arguments left out; nothing for what is left to the cloud), plus the attributes only
/// the cloud sets (`id`, `arn`), which identify a resource that exists already. What the
/// cloud chose for a setting the configuration leaves out is drift's business, not
/// policy's: a rule reads what the stack asks for.
fn judged(type_: &str, config: &Value, after: &Value) -> Value {
    let mut map = config.as_map().cloned().unwrap_or_default();
    if let Some(schema) = schema(type_) {
        for a in schema.attrs.iter().filter(|a| a.mode == Mode::Computed) {
            if let Some(v) = after.get_opt(a.name) {
                map.entry(a.name.to_string()).or_insert_with(|| v.clone());
            }
        }
    }
    Value::Map(map)
}

/// The evaluation hook that stands markers in for unknown string attributes.
struct Symbolic<'a> {
    planned: HashMap<&'a ResourceAddr, &'a Value>,
    /// What the plan read of each data source it did not defer.
    reads: HashMap<&'a DataAddr, &'a Value>,
    seen: HashMap<ResourceAddr, Value>,
}

impl Hook for Symbolic<'_> {
    fn resource(
        &mut self,
        config: &Config,
        node: Node,
        addr: &ResourceAddr,
        value: Value,
    ) -> Result<Value, Diagnostics> {
        let type_ = node
            .resource_in(config)
            .map(|(r, _)| r.type_.clone())
            .unwrap_or_default();
        let mut map = match self.planned.get(addr) {
            Some(v) => v.as_map().cloned().unwrap_or_default(),
            None => match computed_value(&type_, &value, None) {
                Value::Map(m) => m,
                _ => Default::default(),
            },
        };
        // What the configuration says, references included, over the plan's value.
        if let Some(configured) = value.as_map() {
            for (k, v) in configured {
                let written = !(v.is_null()
                    || matches!(v, Value::Unknown)
                    || v.as_list().is_some_and(|l| l.is_empty()));
                let unknown = map.get(k).is_none_or(Value::has_unknown);
                if unknown && (written || !map.contains_key(k)) {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        let full = Value::Map(map);
        self.seen
            .insert(addr.clone(), judged(&type_, &value, &full));
        let Value::Map(mut map) = full else {
            unreachable!("built as a map above")
        };
        // References to the resource see markers for its unknown strings.
        if let Some(schema) = schema(&type_) {
            for a in schema.attrs {
                if a.ty == Ty::String && matches!(map.get(a.name), Some(Value::Unknown)) {
                    map.insert(a.name.to_string(), Value::String(marker(addr, a.name)));
                }
            }
        }
        Ok(Value::Map(map))
    }

    /// A data source the plan read is what it read (zones, an AMI, the account). One read
    /// during apply because its arguments are unknown is rendered here when it needs no
    /// cloud: a policy document over `aws_s3_bucket.b.arn` renders with the bucket's
    /// marker in it, so rules read the policy it becomes. Anything else stays unknown.
    fn data(
        &mut self,
        config: &Config,
        node: Node,
        addr: &DataAddr,
        args: Value,
    ) -> Result<Value, Diagnostics> {
        if let Some(read) = self.reads.get(addr) {
            return Ok((*read).clone());
        }
        let type_ = node
            .data_in(config)
            .map(|(d, _)| d.type_.clone())
            .unwrap_or_default();
        if !args.has_unknown()
            && let Some(Ok(rendered)) = crate::providers::render_offline(&type_, &args)
        {
            return Ok(rendered);
        }
        Ok(eval::unread_data(&type_, &args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_are_found_inside_strings() {
        let addr: ResourceAddr = "module.lake[\"raw\"].aws_s3_bucket.data".parse().unwrap();
        let m = marker(&addr, "arn");
        assert_eq!(parse_marker(&m), Some((addr.clone(), "arn".to_string())));
        let inside = format!("{m}/*");
        assert_eq!(parse_marker(&inside), None);
        assert_eq!(markers_in(&inside), vec![(addr, "arn".to_string())]);
        assert!(has_marker(&inside));
        assert!(!has_marker("arn:aws:s3:::b"));
    }
}
