//! `count` and `for_each`, on resources and module calls: which instances a block has, and
//! how their values look together to references.

use super::{Ctx, Env, refs};
use crate::addr::{InstanceKey, ResourceAddr};
use crate::config::Expr;
use crate::diag::{Diagnostic, Diagnostics};
use crate::value::Value;
use std::collections::BTreeSet;

/// What `count.index` and `each.key` / `each.value` are for one instance.
#[derive(Debug, Clone, PartialEq)]
pub enum Repetition {
    Count(u64),
    Each { key: String, value: Value },
}

impl Repetition {
    pub fn key(&self) -> InstanceKey {
        match self {
            Repetition::Count(i) => InstanceKey::Int(*i),
            Repetition::Each { key, .. } => InstanceKey::Str(key.clone()),
        }
    }
}

/// How a block's instances look to references: one object (`TYPE.NAME.id`), a list
/// (`TYPE.NAME[0].id` with count) or a map (`TYPE.NAME["k"].id` with for_each). Module
/// calls have the same three shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    One,
    List,
    Map,
}

impl Shape {
    pub fn of(count: bool, for_each: bool) -> Shape {
        match (count, for_each) {
            (true, _) => Shape::List,
            (_, true) => Shape::Map,
            _ => Shape::One,
        }
    }
}

/// Puts the values the hook returned for each instance together into what references to
/// the block see.
pub fn assemble(shape: Shape, seen: Vec<(ResourceAddr, Value)>) -> Value {
    match shape {
        Shape::One => seen.into_iter().next().map(|(_, v)| v).unwrap_or_default(),
        Shape::List => Value::List(seen.into_iter().map(|(_, v)| v).collect()),
        Shape::Map => Value::Map(
            seen.into_iter()
                .map(|(a, v)| {
                    let k = match a.key {
                        Some(InstanceKey::Str(s)) => s,
                        Some(InstanceKey::Int(i)) => i.to_string(),
                        None => String::new(),
                    };
                    (k, v)
                })
                .collect(),
        ),
    }
}

/// Evaluates `count` / `for_each` of `what` (`aws_subnet.a`, `module.net`): which
/// instances it has, in key order; `[None]` when it has neither. A `for_each` computed
/// from a sensitive value is refused: instance keys show in every address.
///
/// `validating` (keel validate, where variables may be unknown): a count or for_each that
/// is unknown gives one stand-in instance, so the block's body is still checked.
pub(super) fn repetitions(
    what: &str,
    count: Option<&Expr>,
    for_each: Option<&Expr>,
    env: &Env,
    validating: bool,
) -> Result<Vec<Option<Repetition>>, Diagnostics> {
    let unknown = |arg: &str, e: &Expr| -> Diagnostics {
        let names: Vec<String> = refs::references(e)
            .into_iter()
            .filter(|r| !matches!(r.subject, refs::Subject::Builtin))
            .map(|r| r.text)
            .collect();
        let from = if names.is_empty() {
            String::new()
        } else {
            format!(" (it depends on {})", names.join(", "))
        };
        Diagnostic::error(format!(
            "the {arg} of {what} is not known until apply{from}"
        ))
        .at(e.span())
        .label("known only after apply")
        .help(format!(
            "keel must know how many instances to plan: compute {arg} from variables, locals or literal values, not from attributes AWS assigns"
        ))
        .into()
    };
    if let Some(e) = count {
        let mut ctx = Ctx::new(env, e.file);
        let v = ctx.eval(&e.expr)?;
        let n = match v {
            Value::Unknown if validating => 1,
            Value::Unknown => return Err(unknown("count", e)),
            Value::Number(n) if n >= 0.0 && n.fract() == 0.0 => n as u64,
            other => {
                return Err(Diagnostic::error(format!(
                    "count of {what} must be a whole number of zero or more, got {}",
                    ctx.scrub(&other.to_hcl())
                ))
                .at(e.span())
                .into());
            }
        };
        return Ok((0..n).map(|i| Some(Repetition::Count(i))).collect());
    }
    if let Some(e) = for_each {
        let (v, sensitive) = Ctx::new(env, e.file).eval_marked(&e.expr)?;
        if sensitive {
            // Instance keys appear in every address, plan and log line.
            return Err(Diagnostic::error(format!(
                "the for_each of {what} is derived from a sensitive value"
            ))
            .at(e.span())
            .help("instance keys are shown in every plan and address, so they cannot be secret; use nonsensitive keys (for_each over names, look secrets up inside)")
            .into());
        }
        // A map's keys are always known; its values may be unknown until apply.
        let unknown_keys = match &v {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::has_unknown),
            _ => false,
        };
        if unknown_keys && validating {
            return Ok(vec![Some(Repetition::Each {
                key: String::new(),
                value: Value::Unknown,
            })]);
        }
        if unknown_keys {
            return Err(unknown("for_each", e));
        }
        let bad = |why: &str| -> Diagnostics {
            Diagnostic::error(format!("for_each of {what} {why}"))
                .at(e.span())
                .help("for_each takes a map, or a set of strings such as toset([\"a\", \"b\"])")
                .into()
        };
        let reps: Vec<Option<Repetition>> = match v {
            Value::Map(m) => m
                .into_iter()
                .map(|(key, value)| Some(Repetition::Each { key, value }))
                .collect(),
            Value::List(items) => {
                let mut keys = BTreeSet::new();
                for item in items {
                    match item {
                        Value::String(s) => {
                            keys.insert(s);
                        }
                        Value::Null => return Err(bad("contains null")),
                        other => {
                            return Err(bad(&format!(
                                "must hold strings, but holds {}",
                                other.to_hcl()
                            )));
                        }
                    }
                }
                keys.into_iter()
                    .map(|k| {
                        Some(Repetition::Each {
                            key: k.clone(),
                            value: Value::String(k),
                        })
                    })
                    .collect()
            }
            Value::Null => return Err(bad("is null")),
            other => return Err(bad(&format!("is {}, not a map or set", other.to_hcl()))),
        };
        return Ok(reps);
    }
    Ok(vec![None])
}
