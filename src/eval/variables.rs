//! Input variables: where each value comes from ([`Inputs`], with Terraform's precedence,
//! for the stack's own variables; the call's argument for a module's), converting it to the
//! declared type, `nullable`, and the `validation` rules. Every problem names the variable,
//! what was given (never a sensitive value) and what was wanted.

use super::convert::{Mismatch, convert};
use super::{Ctx, Env};
use crate::config::{Assigned, Config, Variable, tfvars};
use crate::diag::{Diagnostic, Diagnostics, SourceMap, Span};
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Values the user passed in. Later sources win, as in Terraform: the environment
/// (`TF_VAR_name`, `KEEL_VAR_name`), then the stack's `terraform.tfvars[.json]` and
/// `*.auto.tfvars[.json]` (in [`Config::tfvars`]), then `-var` and `-var-file` in the order
/// they were given on the command line, then answers typed at a prompt.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `-var`, `-var-file` and prompt answers, in order.
    pub given: Vec<Given>,
    /// From the environment: variable name -> (text, the environment variable it came
    /// from). `KEEL_VAR_` wins over `TF_VAR_`.
    pub env: BTreeMap<String, (String, String)>,
    /// `keel validate`: a variable that has no value is unknown instead of an error.
    pub unknown_when_missing: bool,
}

/// One value given for a variable.
#[derive(Debug, Clone)]
pub struct Given {
    pub name: String,
    pub value: Raw,
    pub origin: Origin,
}

/// A value before it is converted to the variable's type.
#[derive(Debug, Clone)]
pub enum Raw {
    /// From `-var`, the environment or a prompt: taken literally for `string`, `number`
    /// and `bool` variables (and untyped ones), parsed as an HCL expression otherwise.
    Text(String),
    /// From a variables file.
    Assigned(Assigned),
}

/// Where a value came from, for messages.
#[derive(Debug, Clone)]
pub enum Origin {
    Flag,
    File(Option<Span>),
    Prompt,
    Env(String),
    Default,
    /// The argument of a module call (`module.net`, or `module.net.module.subnets`).
    Argument {
        call: String,
        span: Option<Span>,
    },
}

impl Origin {
    fn describe(&self, sources: Option<&SourceMap>) -> String {
        match self {
            Origin::Flag => "-var".into(),
            Origin::File(Some(span)) => match sources {
                Some(s) => s.file(span.file).display.clone(),
                None => "a variables file".into(),
            },
            Origin::File(None) => "a variables file".into(),
            Origin::Prompt => "the prompt".into(),
            Origin::Env(name) => name.clone(),
            Origin::Default => "its default".into(),
            Origin::Argument { call, .. } => format!("the argument in {call}"),
        }
    }

    fn span(&self) -> Option<Span> {
        match self {
            Origin::File(span) | Origin::Argument { span, .. } => span.clone(),
            _ => None,
        }
    }
}

impl Inputs {
    /// Reads `KEEL_VAR_name` and `TF_VAR_name` (KEEL_ wins) from the environment, and
    /// `-var` arguments.
    pub fn from_env_and_args(args: &[(String, String)]) -> Inputs {
        let mut inputs = Inputs::from_env();
        for (k, v) in args {
            inputs.add_var(k, v);
        }
        inputs
    }

    /// The environment's `TF_VAR_` / `KEEL_VAR_` values alone.
    pub fn from_env() -> Inputs {
        let mut env = BTreeMap::new();
        for prefix in ["TF_VAR_", "KEEL_VAR_"] {
            for (k, v) in std::env::vars() {
                if let Some(name) = k.strip_prefix(prefix) {
                    env.insert(name.to_string(), (v, k.clone()));
                }
            }
        }
        Inputs {
            env,
            ..Inputs::default()
        }
    }

    /// Inputs that give exactly these values (a saved plan's, see [`given_values`]).
    pub fn from_values(values: BTreeMap<String, Value>) -> Inputs {
        Inputs {
            given: values
                .into_iter()
                .map(|(name, v)| Given {
                    name,
                    value: Raw::Assigned(Assigned::Json(v)),
                    origin: Origin::File(None),
                })
                .collect(),
            ..Inputs::default()
        }
    }

    /// `-var name=value`.
    pub fn add_var(&mut self, name: &str, text: &str) {
        self.given.push(Given {
            name: name.to_string(),
            value: Raw::Text(text.to_string()),
            origin: Origin::Flag,
        });
    }

    /// `-var-file FILE`: its values, added to `sources` so errors can point into it.
    pub fn add_var_file(&mut self, path: &Path, sources: &mut SourceMap, diags: &mut Diagnostics) {
        if !path.is_file() {
            diags.push(
                Diagnostic::error(format!(
                    "the variables file {} does not exist",
                    path.display()
                ))
                .help("-var-file takes a path relative to the directory keel runs in"),
            );
            return;
        }
        for a in tfvars::read_file(path, sources, diags) {
            self.given.push(Given {
                name: a.name,
                origin: Origin::File(a.span),
                value: Raw::Assigned(a.value),
            });
        }
    }

    /// An answer typed at the prompt.
    pub fn add_prompted(&mut self, name: &str, text: String) {
        self.given.push(Given {
            name: name.to_string(),
            value: Raw::Text(text),
            origin: Origin::Prompt,
        });
    }
}

/// Where variable `var` gets its value, if anywhere but its default.
fn source(config: &Config, var: &Variable, inputs: &Inputs) -> Option<(Raw, Origin)> {
    if let Some(g) = inputs.given.iter().rev().find(|g| g.name == var.name) {
        return Some((g.value.clone(), g.origin.clone()));
    }
    if let Some(a) = config.tfvars.iter().rev().find(|a| a.name == var.name) {
        return Some((Raw::Assigned(a.value.clone()), Origin::File(a.span.clone())));
    }
    inputs
        .env
        .get(&var.name)
        .map(|(v, from)| (Raw::Text(v.clone()), Origin::Env(from.clone())))
}

/// The values the inputs give the stack's variables (defaults left out), each converted
/// to its type: what a saved plan carries, so that applying it evaluates exactly what
/// was planned.
pub fn given_values(
    config: &Config,
    inputs: &Inputs,
) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let mut out = BTreeMap::new();
    for (i, var) in config.root().variables.iter().enumerate() {
        if source(config, var, inputs).is_some() {
            let value = variable_value(config, i, inputs, &Env::default())?;
            out.insert(var.name.clone(), value);
        }
    }
    Ok(out)
}

/// The variables that have no value from anywhere and no default: the ones to ask for.
pub fn missing<'a>(config: &'a Config, inputs: &Inputs) -> Vec<&'a Variable> {
    config
        .root()
        .variables
        .iter()
        .filter(|v| v.default.is_none() && source(config, v, inputs).is_none())
        .collect()
}

/// `-var` values for variables the stack does not declare are errors, as in Terraform.
pub fn check_given(config: &Config, inputs: &Inputs) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let names = || config.root().variables.iter().map(|v| v.name.as_str());
    for g in &inputs.given {
        if !matches!(g.origin, Origin::Flag) || names().any(|n| n == g.name) {
            continue;
        }
        let mut d = Diagnostic::error(format!(
            "-var sets \"{}\", but the stack declares no variable of that name",
            g.name
        ));
        d = match crate::diag::suggest(&g.name, names()) {
            Some(s) => d.help(format!("did you mean {s}?")),
            None => d.help(format!(
                "declare it with variable \"{}\" {{}}, or remove the -var",
                g.name
            )),
        };
        diags.push(d);
    }
    diags
}

/// The value of the stack's variable `i`, converted to its type: from the inputs, then its
/// default.
pub fn variable_value(
    config: &Config,
    i: usize,
    inputs: &Inputs,
    env: &Env,
) -> Result<Value, Diagnostics> {
    let var = &config.root().variables[i];
    let (raw, origin) = match (source(config, var, inputs), &var.default) {
        (Some(found), _) => found,
        (None, Some(_)) => return default_value(config, var, env, var.sensitive),
        (None, None) if inputs.unknown_when_missing => return Ok(Value::Unknown),
        (None, None) => {
            return Err(Diagnostic::error(format!(
                "no value for required variable \"{}\"",
                var.name
            ))
            .at(var.span.clone())
            .help(format!(
                "pass -var {0}=VALUE or -var-file FILE, set it in terraform.tfvars, set KEEL_VAR_{0} (or TF_VAR_{0}), run keel in a terminal to be asked for it, or give the variable a default",
                var.name
            ))
            .into());
        }
    };
    let value = raw_value(config, var, &raw, &origin)?;
    not_null_or_typed(config, var, value, &origin, var.sensitive, env)
}

/// `nullable = false` (null takes the default, or is refused), then the type.
fn not_null_or_typed(
    config: &Config,
    var: &Variable,
    value: Value,
    origin: &Origin,
    sensitive: bool,
    env: &Env,
) -> Result<Value, Diagnostics> {
    if value.is_null() && !var.nullable {
        if var.default.is_some() {
            return default_value(config, var, env, sensitive);
        }
        return Err(Diagnostic::error(format!(
            "variable \"{}\" must not be null, but {} gave null",
            var.name,
            origin.describe(Some(&config.sources))
        ))
        .at(origin.span().or(var.span.clone()))
        .help("give it a value, or declare it nullable = true")
        .into());
    }
    typed(config, var, value, origin, sensitive)
}

fn default_value(
    config: &Config,
    var: &Variable,
    env: &Env,
    sensitive: bool,
) -> Result<Value, Diagnostics> {
    let Some(d) = &var.default else {
        return Ok(Value::Null);
    };
    let v = Ctx::new(env, d.file).eval(&d.expr)?;
    if v.is_null() && !var.nullable {
        return Err(Diagnostic::error(format!(
            "variable \"{}\" is declared nullable = false, but its default is null",
            var.name
        ))
        .at(d.span())
        .into());
    }
    typed(config, var, v, &Origin::Default, sensitive).map_err(|mut diags| {
        for d in &mut diags.items {
            d.span = var
                .default
                .as_ref()
                .and_then(|e| e.span())
                .or(d.span.clone());
        }
        diags
    })
}

/// Text is parsed as HCL for complex types; files hold expressions or JSON.
fn raw_value(
    config: &Config,
    var: &Variable,
    raw: &Raw,
    origin: &Origin,
) -> Result<Value, Diagnostics> {
    match raw {
        Raw::Text(s) if var.ty.as_ref().is_none_or(|t| t.is_primitive()) => {
            Ok(Value::String(s.clone()))
        }
        Raw::Text(s) => {
            let fail = |why: String| -> Diagnostics {
                Diagnostic::error(format!(
                    "variable \"{}\": the value from {} is not a valid {} expression: {why}",
                    var.name,
                    origin.describe(Some(&config.sources)),
                    var.ty.as_ref().map(ToString::to_string).unwrap_or_default(),
                ))
                .at(var.span.clone())
                .help("complex values are written in HCL, e.g. -var 'zones=[\"a\", \"b\"]' or -var 'tags={ team = \"ml\" }'")
                .into()
            };
            let expr =
                hcl_edit::parser::parse_expr(s).map_err(|e| fail(e.message().to_string()))?;
            let file = var
                .span
                .as_ref()
                .map(|s| s.file)
                .unwrap_or(crate::diag::FileId(0));
            Ctx::new(&Env::default(), file)
                .eval(&expr)
                .map_err(|d| fail(d.message))
        }
        Raw::Assigned(Assigned::Expr(e)) => Ok(Ctx::new(&Env::default(), e.file).eval(&e.expr)?),
        Raw::Assigned(Assigned::Json(v)) => Ok(v.clone()),
    }
}

/// Converts to the declared type; a mismatch names the variable, what was given (unless
/// it is `sensitive`) and what the type wants.
fn typed(
    config: &Config,
    var: &Variable,
    v: Value,
    origin: &Origin,
    sensitive: bool,
) -> Result<Value, Diagnostics> {
    let Some(ty) = &var.ty else {
        return Ok(v);
    };
    let from = origin.describe(Some(&config.sources));
    let at = origin.span().or(var.span.clone());
    let shown = |given: &Value| {
        if sensitive {
            "(sensitive value)".to_string()
        } else {
            super::functions::describe_value(given)
        }
    };
    convert(v, ty).map_err(|m| {
        let d = match m {
            Mismatch::Type { path, given, want } if path.is_empty() => Diagnostic::error(format!(
                "invalid value for variable \"{}\": {from} gave {}, but its type {ty} wants {want}",
                var.name,
                shown(&given)
            )),
            Mismatch::Type { path, given, want } => Diagnostic::error(format!(
                "invalid value for variable \"{}\": {from} gave {} for var.{}{path}, but its type {ty} wants {want} there",
                var.name,
                shown(&given),
                var.name
            )),
            Mismatch::Missing { path, attribute } => Diagnostic::error(format!(
                "invalid value for variable \"{}\": {from} gave an object without \"{attribute}\"{}, but its type {ty} requires that attribute",
                var.name,
                if path.is_empty() {
                    String::new()
                } else {
                    format!(" for var.{}{path}", var.name)
                }
            ))
            .help(format!("add {attribute} = ..., or declare the attribute optional(...) in the type")),
            Mismatch::Default(d) => return d.into(),
        };
        let d = d.at(at.clone()).label("wrong type");
        match (&origin, &var.span) {
            (Origin::File(_) | Origin::Argument { .. }, Some(decl)) => d.help(format!(
                "variable \"{}\" is declared at {} with type {ty}",
                var.name,
                config.sources.location(decl)
            )),
            _ => d,
        }
        .into()
    })
}

/// The variable's value, converted, with its `validation` rules checked: every failing
/// rule is reported, at the variable, with its error_message.
pub fn evaluate_variable(
    config: &Config,
    i: usize,
    inputs: &Inputs,
    env: &Env,
) -> Result<Value, Diagnostics> {
    let var = &config.root().variables[i];
    let mut diags = Diagnostics::default();
    // A default must fit the type even when a value is given, as Terraform checks.
    if var.default.is_some()
        && let Err(d) = default_value(config, var, env, var.sensitive)
    {
        diags.extend(d);
    }
    let value = match variable_value(config, i, inputs, env) {
        Ok(v) => v,
        Err(d) => {
            diags.extend(d);
            return Err(diags);
        }
    };
    diags.into_result()?;
    validate(config, var, &value, env, var.span.clone(), var.sensitive)?;
    Ok(value)
}

/// The value of a module's input variable `var`: the argument of `call` (`module.net`),
/// evaluated where the call is written, with its span, or `None` for the variable's
/// default. It is converted to the variable's type, `nullable` applies, and the
/// validation rules run; every problem points at the argument. `sensitive`: the variable
/// is declared so, or the argument was computed from a sensitive value.
pub(super) fn module_input(
    config: &Config,
    var: &Variable,
    call: &str,
    arg: Option<(Value, Option<Span>)>,
    sensitive: bool,
    env: &Env,
) -> Result<Value, Diagnostics> {
    let mut diags = Diagnostics::default();
    if var.default.is_some()
        && let Err(d) = default_value(config, var, env, sensitive)
    {
        diags.extend(d);
    }
    let (value, at) = match arg {
        Some((v, span)) => {
            let origin = Origin::Argument {
                call: call.to_string(),
                span: span.clone(),
            };
            match not_null_or_typed(config, var, v, &origin, sensitive, env) {
                Ok(v) => (v, span),
                Err(d) => {
                    diags.extend(d);
                    return Err(diags);
                }
            }
        }
        None => match default_value(config, var, env, sensitive) {
            // Reported once, above.
            Err(_) => return Err(diags),
            Ok(v) => (v, var.default.as_ref().and_then(|d| d.span())),
        },
    };
    diags.into_result()?;
    validate(config, var, &value, env, at.or(var.span.clone()), sensitive)?;
    Ok(value)
}

/// Runs `var`'s validation rules on `value`; a failing rule is reported `at` (the
/// variable for the stack's own, the argument for a module's).
fn validate(
    config: &Config,
    var: &Variable,
    value: &Value,
    env: &Env,
    at: Option<Span>,
    sensitive: bool,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    let scope = Env {
        vars: HashMap::from([(var.name.clone(), value.clone())]),
        path_module: env.path_module.clone(),
        path_root: env.path_root.clone(),
        path_cwd: env.path_cwd.clone(),
        ..Env::default()
    };
    let secret = sensitive.then(|| value.clone());
    for rule in &var.validations {
        let cond = Ctx::new(&scope, rule.condition.file).eval(&rule.condition.expr);
        let rule_at = rule
            .span
            .as_ref()
            .map(|s| config.sources.location(s))
            .unwrap_or_default();
        match cond {
            Ok(Value::Bool(true)) | Ok(Value::Unknown) => {}
            Ok(Value::Bool(false)) => {
                let message = match Ctx::new(&scope, rule.error_message.file)
                    .eval(&rule.error_message.expr)
                {
                    Ok(Value::String(s)) => s,
                    Ok(other) => other.to_hcl(),
                    Err(d) => format!("(its error_message failed to evaluate: {})", d.message),
                };
                let message = match &secret {
                    Some(s) => super::scrub(&message, s),
                    None => message,
                };
                diags.push(
                    Diagnostic::error(format!(
                        "invalid value for variable \"{}\": {message}",
                        var.name
                    ))
                    .at(at.clone())
                    .label("rejected by a validation rule")
                    .help(format!("the rule is at {rule_at}")),
                );
            }
            Ok(other) => diags.push(
                Diagnostic::error(format!(
                    "a validation condition of variable \"{}\" must be true or false, got {}",
                    var.name,
                    if sensitive {
                        "(sensitive value)".into()
                    } else {
                        other.to_hcl()
                    }
                ))
                .at(rule.condition.span()),
            ),
            Err(d) => {
                let help = if d.message.contains("undeclared variable") {
                    format!(
                        "a validation rule can refer only to var.{} itself",
                        var.name
                    )
                } else {
                    format!(
                        "while checking a validation rule of variable \"{}\"",
                        var.name
                    )
                };
                let d = match &secret {
                    Some(s) => Diagnostic {
                        message: super::scrub(&d.message, s),
                        ..d
                    },
                    None => d,
                };
                diags.push(d.help(help));
            }
        }
    }
    diags.into_result()
}
