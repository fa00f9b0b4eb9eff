//! Module calls during evaluation: which child instances a call has (its `count` /
//! `for_each`, in each instance of the caller), and the value of each child input variable
//! (its argument, evaluated in the caller with the instance's `each` / `count`, then
//! converted to the variable's type and validated as a stack's own variables are).

use super::repeat::repetitions;
use super::{Ctx, Envs, Repetition, Shape, variables};
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

/// Expands call `c` of `scope` in every instance of `scope`. `validating`: an unknown
/// count or for_each gives one stand-in instance (see [`repetitions`]).
pub(super) fn expand(
    config: &Config,
    scope: ScopeId,
    c: usize,
    envs: &Envs,
    validating: bool,
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
                validating,
            )?;
            Ok(Expansion {
                parent,
                shape,
                repetitions: reps,
            })
        })
        .collect()
}

/// The value of variable `i` of the module instance `id`, and whether it is sensitive
/// (declared so, or computed from a sensitive value in the caller): its call's argument,
/// evaluated where the call is written, else the variable's default; converted to the
/// variable's type and checked against its validation rules.
pub(super) fn input(
    config: &Config,
    scope: ScopeId,
    i: usize,
    envs: &Envs,
    id: usize,
) -> Result<(Value, bool), Diagnostics> {
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
    let what = config.scope(scope).display();
    let arg = match call.arg(&var.name) {
        Some(arg) => {
            let mut ctx =
                Ctx::new(envs.env(parent), arg.expr.file).with_repetition(me.repetition.as_ref());
            let value = ctx.eval(&arg.expr.expr)?;
            Some((value, ctx.is_sensitive(), arg.expr.span()))
        }
        None if var.default.is_none() => {
            return Err(Diagnostic::error(format!(
                "{what} is missing the required input \"{}\"",
                var.name
            ))
            .at(call.span.clone())
            .help(format!("add {} = VALUE to the module block", var.name))
            .into());
        }
        None => None,
    };
    let sensitive = var.sensitive || arg.as_ref().is_some_and(|(_, s, _)| *s);
    let value = variables::module_input(
        config,
        var,
        &what,
        arg.map(|(v, _, span)| (v, span)),
        sensitive,
        envs.env(id),
    )?;
    Ok((value, sensitive))
}
