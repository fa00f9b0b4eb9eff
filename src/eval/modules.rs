//! Module calls during evaluation: which child instances a call has (its `count` /
//! `for_each`, in each instance of the caller), and the value of each child input variable
//! (its argument, evaluated in the caller with the instance's `each` / `count`).

use super::repeat::repetitions;
use super::{Ctx, Envs, Repetition, Shape};
use crate::config::{Config, ScopeId};
use crate::diag::{Diagnostic, Diagnostics};
use crate::value::Value;

/// The instances a module call has in one instance of the calling module.
#[derive(Debug, Clone)]
pub struct Expansion {
    /// The calling module instance (an index into [`Envs::modules`]).
    pub parent: usize,
    pub shape: Shape,
    /// One entry per child instance, in key order; `[None]` without count / for_each.
    pub repetitions: Vec<Option<Repetition>>,
}

/// Expands call `c` of `scope` in every instance of `scope`.
pub(super) fn expand(
    config: &Config,
    scope: ScopeId,
    c: usize,
    envs: &Envs,
) -> Result<Vec<Expansion>, Diagnostics> {
    let call = &config.module(scope).calls[c];
    let what = format!("{}module.{}", config.scope(scope).prefix(), call.name);
    let shape = Shape::of(call.count.is_some(), call.for_each.is_some());
    envs.instances(scope)
        .iter()
        .map(|&parent| {
            let reps = repetitions(
                &what,
                call.count.as_ref(),
                call.for_each.as_ref(),
                envs.env(parent),
            )?;
            Ok(Expansion {
                parent,
                shape,
                repetitions: reps,
            })
        })
        .collect()
}

/// The value of variable `i` of the module instance `id`: its call's argument, evaluated
/// where the call is written, else the variable's default.
pub(super) fn input(
    config: &Config,
    scope: ScopeId,
    i: usize,
    envs: &Envs,
    id: usize,
) -> Result<Value, Diagnostics> {
    let var = &config.module(scope).variables[i];
    let me = &envs.modules[id];
    let (Some(call), Some(parent)) = (config.call_of(scope), me.parent) else {
        return Err(Diagnostic::error(format!(
            "variable \"{}\" of a module was evaluated outside any module call",
            var.name
        ))
        .at(var.span.clone())
        .into());
    };
    if let Some(arg) = call.arg(&var.name) {
        return Ok(Ctx::new(envs.env(parent), arg.expr.file)
            .with_repetition(me.repetition.as_ref())
            .eval(&arg.expr.expr)?);
    }
    match &var.default {
        Some(d) => Ok(Ctx::new(envs.env(id), d.file).eval(&d.expr)?),
        None => Err(Diagnostic::error(format!(
            "module.{} is missing the required input \"{}\"",
            call.name, var.name
        ))
        .at(call.span.clone())
        .help(format!("add {} = VALUE to the module block", var.name))
        .into()),
    }
}
