//! Evaluating one HCL expression against the values known so far. Unknown values flow
//! through operators, templates and functions: anything computed from an unknown is unknown.
//! Sensitivity flows the same way: a context that reads a sensitive value says so
//! ([`Ctx::is_sensitive`]), and its error messages never show that value.

use super::functions;
use super::{Env, Repetition};
use crate::config::span_of;
use crate::diag::{Diagnostic, FileId, suggest};
use crate::value::{Value, format_number};
use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Directive, Element, Template};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// What an expression can see: the environment plus names bound by `for` expressions.
pub struct Ctx<'a> {
    pub env: &'a Env,
    pub file: FileId,
    /// `count.index` / `each.key` and `each.value` of the instance being evaluated.
    pub repetition: Option<&'a Repetition>,
    bindings: Vec<(String, Value)>,
    /// Something sensitive was read: what this context computes is sensitive.
    sensitive: bool,
    /// The sensitive values read, and values computed from them, to keep out of errors.
    secrets: Vec<Value>,
    /// Bindings (by index into `bindings`) of a `for` over the instances of a resource or
    /// module call with sensitive attributes or outputs: reading one of those through the
    /// name is sensitive, reading the others is not.
    bound_marks: Vec<(usize, BTreeSet<String>)>,
}

type Result<T> = std::result::Result<T, Diagnostic>;

impl<'a> Ctx<'a> {
    pub fn new(env: &'a Env, file: FileId) -> Ctx<'a> {
        Ctx {
            env,
            file,
            repetition: None,
            bindings: Vec::new(),
            sensitive: false,
            secrets: Vec::new(),
            bound_marks: Vec::new(),
        }
    }

    /// Whether anything evaluated so far in this context read a sensitive value.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    /// Evaluates `expr` and says whether the result is sensitive.
    pub fn eval_marked(&mut self, expr: &Expression) -> Result<(Value, bool)> {
        let v = self.eval(expr)?;
        Ok((v, self.sensitive))
    }

    /// The strings inside the sensitive values this context read or computed.
    pub fn secret_strings(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.secrets
            .iter()
            .for_each(|v| super::sensitive::strings(v, &mut out));
        out
    }

    /// `text` with the sensitive values this context read replaced by "(sensitive value)".
    pub fn scrub(&self, text: &str) -> String {
        if self.sensitive {
            super::sensitive::scrub_values(text, &self.secrets)
        } else {
            text.to_string()
        }
    }

    fn mark(&mut self, value: &Value) {
        self.sensitive = true;
        self.secrets.push(value.clone());
    }

    /// A context in which `names` are bound, as the variables of a template are.
    pub fn with_bindings(mut self, names: Vec<(String, Value)>) -> Ctx<'a> {
        self.bindings.extend(names);
        self
    }

    /// The context of one instance of a resource with `count` or `for_each`.
    pub fn with_repetition(mut self, repetition: Option<&'a Repetition>) -> Ctx<'a> {
        self.repetition = repetition;
        self
    }

    fn err(&self, expr: &impl hcl_edit::Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(message).at(span_of(self.file, expr.span()))
    }

    /// Evaluates one expression. An error never shows a sensitive value.
    pub fn eval(&mut self, expr: &Expression) -> Result<Value> {
        match self.eval_inner(expr) {
            Err(d) if self.sensitive => Err(Diagnostic {
                message: self.scrub(&d.message),
                label: d.label.as_deref().map(|l| self.scrub(l)),
                help: d.help.as_deref().map(|h| self.scrub(h)),
                ..d
            }),
            r => r,
        }
    }

    fn eval_inner(&mut self, expr: &Expression) -> Result<Value> {
        Ok(match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => Value::Number(n.value().as_f64().unwrap_or(0.0)),
            Expression::String(s) => Value::String(s.value().clone()),
            Expression::Array(items) => {
                Value::List(items.iter().map(|e| self.eval(e)).collect::<Result<_>>()?)
            }
            Expression::Object(obj) => {
                let mut map = BTreeMap::new();
                for (k, v) in obj.iter() {
                    let key = match k {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(e) => match self.eval(e)? {
                            Value::String(s) => s,
                            Value::Number(n) => format_number(n),
                            Value::Bool(b) => b.to_string(),
                            Value::Unknown => return Ok(Value::Unknown),
                            other => {
                                return Err(self.err(
                                    e,
                                    format!(
                                        "an object key must be a string, not {}",
                                        other.type_name()
                                    ),
                                ));
                            }
                        },
                    };
                    map.insert(key, self.eval(v.expr())?);
                }
                Value::Map(map)
            }
            Expression::StringTemplate(t) => self.template(t)?,
            Expression::HeredocTemplate(h) => self.template(&h.template)?,
            Expression::Parenthesis(p) => self.eval(p.inner())?,
            Expression::Variable(v) => self.bound(v.as_str(), None, expr)?,
            Expression::Conditional(c) => match as_bool(self.eval(&c.cond_expr)?) {
                Value::Bool(true) => self.eval(&c.true_expr)?,
                Value::Bool(false) => self.eval(&c.false_expr)?,
                Value::Unknown => Value::Unknown,
                other => {
                    return Err(self.err(
                        &c.cond_expr,
                        format!(
                            "a condition must be true or false, not {}",
                            other.type_name()
                        ),
                    ));
                }
            },
            Expression::FuncCall(f) => {
                let name = f.name.name.as_str();
                if name == "try" || name == "can" {
                    return functions::try_can(self, name, f);
                }
                if name == "templatefile" {
                    return functions::templatefile(self, f);
                }
                let args = f
                    .args
                    .iter()
                    .map(|e| self.eval(e))
                    .collect::<Result<Vec<_>>>()?;
                let result = functions::call(name, args, f.args.expand_final())
                    .map_err(|msg| self.err(expr, format!("{name}(): {msg}")))?;
                // What a function computes from a secret is as secret (base64 of a password).
                if self.sensitive {
                    self.secrets.push(result.clone());
                }
                result
            }
            Expression::Traversal(t) => {
                let (mut value, skip, mut splat) = match &t.expr {
                    Expression::Variable(v) if !self.is_bound(v.as_str()) => {
                        let (root, used) = self.traversal_root(v.as_str(), t)?;
                        self.follow(root, t, used)?
                    }
                    Expression::Variable(v) => {
                        let attr = match t.operators.first().map(|op| op.value()) {
                            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
                            _ => None,
                        };
                        (self.bound(v.as_str(), attr, expr)?, 0, false)
                    }
                    other => (self.eval(other)?, 0, false),
                };
                for op in t.operators.iter().skip(skip) {
                    value = match op.value() {
                        TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                            splat = true;
                            match value {
                                Value::Null => Value::List(vec![]),
                                Value::List(_) | Value::Unknown => value,
                                other => Value::List(vec![other]),
                            }
                        }
                        TraversalOperator::GetAttr(name) if splat => match value {
                            Value::List(items) => Value::List(
                                items
                                    .into_iter()
                                    .map(|v| self.get_attr(v, name.as_str(), op))
                                    .collect::<Result<_>>()?,
                            ),
                            other => other,
                        },
                        TraversalOperator::GetAttr(name) => {
                            self.get_attr(value, name.as_str(), op)?
                        }
                        TraversalOperator::Index(e) => {
                            let key = self.eval(e)?;
                            self.index(value, key, e)?
                        }
                        TraversalOperator::LegacyIndex(n) => {
                            self.index(value, Value::Number(*n.value() as f64), op)?
                        }
                    };
                }
                value
            }
            Expression::UnaryOp(u) => {
                let v = self.eval(&u.expr)?;
                let v = match u.operator.value() {
                    UnaryOperator::Not => as_bool(v),
                    _ => v,
                };
                match (u.operator.value(), v) {
                    (_, Value::Unknown) => Value::Unknown,
                    (UnaryOperator::Neg, Value::Number(n)) => Value::Number(-n),
                    (UnaryOperator::Not, Value::Bool(b)) => Value::Bool(!b),
                    (op, v) => {
                        return Err(self.err(
                            expr,
                            format!(
                                "operator {} does not apply to {}",
                                op.as_str(),
                                v.type_name()
                            ),
                        ));
                    }
                }
            }
            Expression::BinaryOp(b) => self.binary(expr, b)?,
            Expression::ForExpr(f) => self.for_expr(f)?,
        })
    }

    fn is_bound(&self, name: &str) -> bool {
        self.bindings.iter().any(|(n, _)| n == name)
    }

    /// A bare identifier: a `for` variable, or a mistake. `attr`: the attribute read from
    /// it next, which decides whether reading an instance of a marked block is sensitive.
    fn bound(&mut self, name: &str, attr: Option<&str>, expr: &Expression) -> Result<Value> {
        if let Some(i) = self.bindings.iter().rposition(|(n, _)| n == name) {
            let v = self.bindings[i].1.clone();
            let marked = self
                .bound_marks
                .iter()
                .find(|(at, _)| *at == i)
                .is_some_and(|(_, attrs)| attr.is_none_or(|a| attrs.contains(a)));
            if marked {
                let mut parts = Vec::new();
                let attrs = &self
                    .bound_marks
                    .iter()
                    .find(|(at, _)| *at == i)
                    .expect("marked")
                    .1;
                super::sensitive::attr_values(&v, attrs, &mut parts);
                self.sensitive = true;
                self.secrets.extend(parts);
            }
            return Ok(v);
        }
        Err(self.err(expr, format!("unknown name \"{name}\"")).help(
            "references look like var.NAME, local.NAME or TYPE.NAME.ATTRIBUTE; strings need quotes",
        ))
    }

    /// Follows attribute and index steps through a borrowed value for as long as they
    /// lead somewhere, so reading `aws_subnet.x[5].id` copies one string, not every
    /// instance of `aws_subnet.x`; a splat and the attribute names after it
    /// (`aws_subnet.x[*].id`) copy only the attribute of each instance. Returns the value,
    /// how many operators were used, and whether a splat was among them.
    fn follow(
        &mut self,
        mut cur: Cow<'a, Value>,
        t: &hcl_edit::expr::Traversal,
        mut used: usize,
    ) -> Result<(Value, usize, bool)> {
        while let Some(op) = t.operators.get(used) {
            let Cow::Borrowed(v) = cur else { break };
            if let TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) = op.value() {
                let names: Vec<&str> = t.operators[used + 1..]
                    .iter()
                    .map_while(|op| match op.value() {
                        TraversalOperator::GetAttr(a) => Some(a.as_str()),
                        _ => None,
                    })
                    .collect();
                if let Some(list) = splat_attrs(v, &names) {
                    return Ok((list, used + 1 + names.len(), true));
                }
                break;
            }
            let next = match op.value() {
                TraversalOperator::GetAttr(name) => match v {
                    Value::Map(m) => m.get(name.as_str()),
                    _ => None,
                },
                TraversalOperator::Index(e) => {
                    let key = self.eval(e)?;
                    let found = match (v, &key) {
                        (Value::List(items), Value::Number(n)) if *n >= 0.0 && n.fract() == 0.0 => {
                            items.get(*n as usize)
                        }
                        (Value::Map(m), Value::String(k)) => m.get(k),
                        _ => None,
                    };
                    if found.is_none() {
                        // Unknown, out of range, or a mistake: the general path says which.
                        cur = Cow::Owned(self.index(v.clone(), key, e)?);
                        used += 1;
                        continue;
                    }
                    found
                }
                _ => None,
            };
            let Some(n) = next else { break };
            cur = Cow::Borrowed(n);
            used += 1;
        }
        Ok((cur.into_owned(), used, false))
    }

    /// Resolves `var.x`, `local.x`, `TYPE.NAME`, `module.NAME`, `path.module`; returns the
    /// value and how many traversal operators it used, and notes when what it read is
    /// sensitive: a marked variable or local, a marked attribute of a resource, or a
    /// sensitive output of a module call.
    fn traversal_root(
        &mut self,
        root: &str,
        t: &hcl_edit::expr::Traversal,
    ) -> Result<(Cow<'a, Value>, usize)> {
        let (value, used) = self.lookup(root, t)?;
        let first = match t.operators.first().map(|op| op.value()) {
            Some(TraversalOperator::GetAttr(a)) => a.as_str(),
            _ => "",
        };
        let marks = &self.env.sensitive;
        match root {
            "var" | "local" if marks.is_marked(&format!("{root}.{first}")) => self.mark(&value),
            "var" | "local" | "path" | "terraform" | "count" | "each" => {}
            // `TYPE.NAME`, `data.TYPE.NAME` and `module.NAME` alike.
            type_ => {
                let (key, skip) = if type_ == "data" {
                    let name = match t.operators.get(1).map(|op| op.value()) {
                        Some(TraversalOperator::GetAttr(a)) => a.as_str(),
                        _ => "",
                    };
                    (format!("data.{first}.{name}"), 2)
                } else {
                    (format!("{type_}.{first}"), 1)
                };
                // The attribute read: the first name after the instance key or splat.
                let attr = t
                    .operators
                    .iter()
                    .skip(skip)
                    .find_map(|op| match op.value() {
                        TraversalOperator::GetAttr(a) => Some(a.as_str()),
                        _ => None,
                    });
                if marks.resource_read_is_sensitive(&key, attr) {
                    let mut parts = Vec::new();
                    if let Some(attrs) = marks.attrs(&key) {
                        super::sensitive::attr_values(&value, attrs, &mut parts);
                    }
                    self.sensitive = true;
                    self.secrets.extend(parts);
                }
            }
        }
        Ok((value, used))
    }

    /// The marked attributes of each element of `value`, when `expr` reads a whole
    /// resource or module call (`module.net`, `aws_db.a`) whose instances are a list
    /// (count) or a map (for_each) and have marked attributes or outputs.
    fn instance_marks(&self, expr: &Expression, value: &Value) -> Option<&'a BTreeSet<String>> {
        let Expression::Traversal(t) = expr else {
            return None;
        };
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let root = root.as_str();
        if self.is_bound(root)
            || matches!(
                root,
                "var" | "local" | "path" | "terraform" | "count" | "each"
            )
        {
            return None;
        }
        let [op] = t.operators.as_slice() else {
            return None;
        };
        let TraversalOperator::GetAttr(name) = op.value() else {
            return None;
        };
        let env: &'a Env = self.env;
        let attrs = env.sensitive.attrs(&format!("{root}.{}", name.as_str()))?;
        let instances = match value {
            Value::List(_) => true,
            // A map of instances, not one object with the marked attributes as keys.
            Value::Map(m) => !attrs.iter().any(|a| m.contains_key(a)),
            _ => false,
        };
        instances.then_some(attrs)
    }

    fn lookup(&self, root: &str, t: &hcl_edit::expr::Traversal) -> Result<(Cow<'a, Value>, usize)> {
        let env: &'a Env = self.env;
        let first = t.operators.first().and_then(|op| match op.value() {
            TraversalOperator::GetAttr(a) => Some(a.as_str()),
            _ => None,
        });
        let Some(first) = first else {
            return Err(self.err(t, format!("\"{root}\" must be followed by .NAME")));
        };
        let here = || span_of(self.file, t.span());
        let found = match root {
            "var" => env.vars.get(first).map(Cow::Borrowed).ok_or_else(|| {
                let mut d =
                    Diagnostic::error(format!("reference to undeclared variable var.{first}"))
                        .at(here());
                if let Some(s) = suggest(first, self.env.vars.keys().map(String::as_str)) {
                    d = d.help(format!("did you mean var.{s}?"));
                } else {
                    d = d.help(format!("declare it with variable \"{first}\" {{}}"));
                }
                d
            })?,
            "local" => env.locals.get(first).map(Cow::Borrowed).ok_or_else(|| {
                let mut d =
                    Diagnostic::error(format!("reference to undeclared local value local.{first}"))
                        .at(here());
                if let Some(s) = suggest(first, self.env.locals.keys().map(String::as_str)) {
                    d = d.help(format!("did you mean local.{s}?"));
                }
                d
            })?,
            "path" => match first {
                "module" => Cow::Owned(Value::String(env.path_module.clone())),
                "root" => Cow::Owned(Value::String(env.path_root.clone())),
                "cwd" => Cow::Owned(Value::String(env.path_cwd.clone())),
                other => {
                    return Err(self
                        .err(t, format!("path.{other} does not exist"))
                        .help("use path.module, path.root or path.cwd"));
                }
            },
            "terraform" => match first {
                "workspace" => Cow::Owned(Value::str("default")),
                other => return Err(self.err(t, format!("terraform.{other} does not exist"))),
            },
            "count" => match (self.repetition, first) {
                (Some(Repetition::Count(i)), "index") => Cow::Owned(Value::Number(*i as f64)),
                (Some(Repetition::Count(_)), other) => {
                    return Err(self
                        .err(t, format!("count.{other} does not exist"))
                        .help("count has one attribute: count.index"));
                }
                _ => {
                    return Err(self
                        .err(
                            t,
                            format!("count.{first} is only available in a resource with count set"),
                        )
                        .help("add count = N to the resource, or remove the reference"));
                }
            },
            "each" => match (self.repetition, first) {
                (Some(Repetition::Each { key, .. }), "key") => {
                    Cow::Owned(Value::String(key.clone()))
                }
                (Some(Repetition::Each { value, .. }), "value") => Cow::Borrowed(value),
                (Some(Repetition::Each { .. }), other) => {
                    return Err(self
                        .err(t, format!("each.{other} does not exist"))
                        .help("each has two attributes: each.key and each.value"));
                }
                _ => {
                    return Err(self
                        .err(
                            t,
                            format!(
                                "each.{first} is only available in a resource with for_each set"
                            ),
                        )
                        .help("add for_each = ... to the resource, or remove the reference"));
                }
            },
            "module" => env.modules.get(first).map(Cow::Borrowed).ok_or_else(|| {
                let mut d =
                    Diagnostic::error(format!("reference to undeclared module module.{first}"))
                        .at(here());
                if let Some(s) = suggest(first, env.modules.keys().map(String::as_str)) {
                    d = d.help(format!("did you mean module.{s}?"));
                }
                d
            })?,
            "data" => {
                let name = match t.operators.get(1).map(|op| op.value()) {
                    Some(TraversalOperator::GetAttr(a)) => a.as_str(),
                    _ => {
                        return Err(self
                            .err(
                                t,
                                format!("data.{first} must be followed by the data source's name"),
                            )
                            .help("read a data source as data.TYPE.NAME.ATTRIBUTE"));
                    }
                };
                let key = format!("{first}.{name}");
                let found = env.data.get(&key).ok_or_else(|| {
                    let mut d = Diagnostic::error(format!(
                        "reference to undeclared data source data.{key}"
                    ))
                    .at(here());
                    if let Some(s) = suggest(&key, env.data.keys().map(String::as_str)) {
                        d = d.help(format!("did you mean data.{s}?"));
                    }
                    d
                })?;
                return Ok((Cow::Borrowed(found), 2));
            }
            "self" => {
                return Err(self.err(t, format!("\"{root}.{first}\" is not supported yet")));
            }
            type_ => {
                let key = format!("{type_}.{first}");
                env.resources.get(&key).map(Cow::Borrowed).ok_or_else(|| {
                    let mut d =
                        Diagnostic::error(format!("reference to undeclared resource {key}"))
                            .at(here());
                    if let Some(s) = suggest(&key, env.resources.keys().map(String::as_str)) {
                        d = d.help(format!("did you mean {s}?"));
                    }
                    d
                })?
            }
        };
        Ok((found, 1))
    }

    fn get_attr(&self, value: Value, name: &str, at: &impl hcl_edit::Span) -> Result<Value> {
        match value {
            Value::Unknown => Ok(Value::Unknown),
            Value::Map(mut map) => map.remove(name).ok_or_else(|| {
                let mut d = self.err(at, format!("this object has no attribute \"{name}\""));
                if let Some(s) = suggest(name, map.keys().map(String::as_str)) {
                    d = d.help(format!("did you mean \"{s}\"?"));
                }
                d
            }),
            Value::Null => Err(self.err(at, format!("cannot read \"{name}\" of a null value"))),
            other => Err(self.err(
                at,
                format!(
                    "cannot read attribute \"{name}\" of a {}",
                    other.type_name()
                ),
            )),
        }
    }

    fn index(&self, value: Value, key: Value, at: &impl hcl_edit::Span) -> Result<Value> {
        match (value, key) {
            (Value::Unknown, _) | (_, Value::Unknown) => Ok(Value::Unknown),
            (Value::List(items), Value::Number(n)) => {
                let len = items.len();
                items
                    .into_iter()
                    .nth(n as usize)
                    .filter(|_| n >= 0.0 && n.fract() == 0.0)
                    .ok_or_else(|| {
                        self.err(
                            at,
                            format!(
                                "index {} is out of range for a list of {len}",
                                format_number(n)
                            ),
                        )
                    })
            }
            (Value::Map(mut map), Value::String(k)) => map
                .remove(&k)
                .ok_or_else(|| self.err(at, format!("this map has no key \"{k}\""))),
            (Value::Map(mut map), Value::Number(n)) => {
                map.remove(&format_number(n)).ok_or_else(|| {
                    self.err(at, format!("this map has no key \"{}\"", format_number(n)))
                })
            }
            (v, k) => Err(self.err(
                at,
                format!("cannot index a {} with a {}", v.type_name(), k.type_name()),
            )),
        }
    }

    pub(crate) fn template(&mut self, t: &Template) -> Result<Value> {
        // "${x}" alone keeps x's type, as in Terraform.
        let elements: Vec<&Element> = t.iter().collect();
        if let [Element::Interpolation(i)] = elements.as_slice() {
            return self.eval(&i.expr);
        }
        let mut out = String::new();
        let mut unknown = false;
        self.render(t, &mut out, &mut unknown, (false, false))?;
        Ok(if unknown {
            Value::Unknown
        } else {
            Value::String(out)
        })
    }

    /// Renders `t` into `out`. `strip` says whether the directive around `t` strips the
    /// whitespace at its start and end (`%{ for x in xs ~}` ... `%{~ endfor }`).
    fn render(
        &mut self,
        t: &Template,
        out: &mut String,
        unknown: &mut bool,
        strip: (bool, bool),
    ) -> Result<()> {
        let elements: Vec<&Element> = t.iter().collect();
        for (i, element) in elements.iter().enumerate() {
            match element {
                Element::Literal(s) => {
                    let mut text = s.value().as_str();
                    let before = if i == 0 {
                        strip.0
                    } else {
                        strips_after(elements[i - 1])
                    };
                    let after = match elements.get(i + 1) {
                        None => strip.1,
                        Some(next) => strips_before(next),
                    };
                    if before {
                        text = text.trim_start();
                    }
                    if after {
                        text = text.trim_end();
                    }
                    out.push_str(text);
                }
                Element::Interpolation(i) => {
                    let v = self.eval(&i.expr)?;
                    match to_template_string(&v) {
                        Some(Some(s)) => out.push_str(&s),
                        Some(None) => *unknown = true,
                        None => {
                            return Err(self
                                .err(
                                    &i.expr,
                                    format!("cannot put a {} into a string", v.type_name()),
                                )
                                .help("convert it first, e.g. with jsonencode() or join()"));
                        }
                    }
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => match self.eval(&d.if_expr.cond_expr)? {
                        Value::Bool(true) => {
                            let end = match &d.else_expr {
                                Some(e) => e.strip.strip_start(),
                                None => d.endif_expr.strip.strip_start(),
                            };
                            let strip = (d.if_expr.strip.strip_end(), end);
                            self.render(&d.if_expr.template, out, unknown, strip)?
                        }
                        Value::Bool(false) => {
                            if let Some(e) = &d.else_expr {
                                let strip = (e.strip.strip_end(), d.endif_expr.strip.strip_start());
                                self.render(&e.template, out, unknown, strip)?;
                            }
                        }
                        Value::Unknown => *unknown = true,
                        other => {
                            return Err(self.err(
                                &d.if_expr.cond_expr,
                                format!(
                                    "a condition must be true or false, not {}",
                                    other.type_name()
                                ),
                            ));
                        }
                    },
                    Directive::For(d) => {
                        let f = &d.for_expr;
                        let items = self.eval(&f.collection_expr)?;
                        let pairs = match iter_pairs(items) {
                            Some(Some(pairs)) => pairs,
                            Some(None) => {
                                *unknown = true;
                                continue;
                            }
                            None => {
                                return Err(
                                    self.err(&f.collection_expr, "for needs a list or a map")
                                );
                            }
                        };
                        for (k, v) in pairs {
                            let before = self.bindings.len();
                            if let Some(kv) = &f.key_var {
                                self.bindings.push((kv.as_str().to_string(), k));
                            }
                            self.bindings.push((f.value_var.as_str().to_string(), v));
                            let strip = (f.strip.strip_end(), d.endfor_expr.strip.strip_start());
                            let r = self.render(&f.template, out, unknown, strip);
                            self.bindings.truncate(before);
                            r?;
                        }
                    }
                },
            }
        }
        Ok(())
    }

    fn binary(&mut self, expr: &Expression, b: &hcl_edit::expr::BinaryOp) -> Result<Value> {
        use BinaryOperator::*;
        let op = *b.operator.value();
        let logical = matches!(op, And | Or);
        let lhs = self.eval(&b.lhs_expr)?;
        let lhs = if logical { as_bool(lhs) } else { lhs };
        // Short-circuit logic, as HCL does for a known left side.
        match (op, &lhs) {
            (And, Value::Bool(false)) => return Ok(Value::Bool(false)),
            (Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
            _ => {}
        }
        let rhs = self.eval(&b.rhs_expr)?;
        let rhs = if logical { as_bool(rhs) } else { rhs };
        if lhs == Value::Unknown || rhs == Value::Unknown {
            return Ok(Value::Unknown);
        }
        let mismatch = |this: &Self, l: &Value, r: &Value| {
            this.err(
                expr,
                format!(
                    "operator {} does not apply to {} and {}",
                    op.as_str(),
                    l.type_name(),
                    r.type_name()
                ),
            )
        };
        Ok(match op {
            Eq => Value::Bool(lhs == rhs),
            NotEq => Value::Bool(lhs != rhs),
            And | Or => match (&lhs, &rhs) {
                (Value::Bool(l), Value::Bool(r)) => {
                    Value::Bool(if op == And { *l && *r } else { *l || *r })
                }
                _ => return Err(mismatch(self, &lhs, &rhs)),
            },
            _ => {
                let (Some(l), Some(r)) = (to_number(&lhs), to_number(&rhs)) else {
                    return Err(mismatch(self, &lhs, &rhs));
                };
                match op {
                    Less => Value::Bool(l < r),
                    LessEq => Value::Bool(l <= r),
                    Greater => Value::Bool(l > r),
                    GreaterEq => Value::Bool(l >= r),
                    Plus => Value::Number(l + r),
                    Minus => Value::Number(l - r),
                    Mul => Value::Number(l * r),
                    Div if r == 0.0 => return Err(self.err(expr, "division by zero")),
                    Div => Value::Number(l / r),
                    Mod if r == 0.0 => return Err(self.err(expr, "modulo by zero")),
                    Mod => Value::Number(l % r),
                    _ => unreachable!("all operators are matched above"),
                }
            }
        })
    }

    fn for_expr(&mut self, f: &hcl_edit::expr::ForExpr) -> Result<Value> {
        let was_sensitive = self.sensitive;
        let collection = self.eval(&f.intro.collection_expr)?;
        // `for k, m in module.net : ...` over instances with sensitive outputs: each `m`
        // carries the marks, so `m.name` is not sensitive and `m.token` is.
        let element_marks = self
            .instance_marks(&f.intro.collection_expr, &collection)
            .cloned();
        if element_marks.is_some() {
            self.sensitive = was_sensitive;
        }
        let pairs = match iter_pairs(collection) {
            Some(Some(pairs)) => pairs,
            Some(None) => return Ok(Value::Unknown),
            None => return Err(self.err(&f.intro.collection_expr, "for needs a list or a map")),
        };
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, v) in pairs {
            let before = self.bindings.len();
            if let Some(kv) = &f.intro.key_var {
                self.bindings.push((kv.as_str().to_string(), k));
            }
            if let Some(marks) = &element_marks {
                self.bound_marks.push((self.bindings.len(), marks.clone()));
            }
            self.bindings
                .push((f.intro.value_var.as_str().to_string(), v));
            let result = (|| -> Result<Option<(Option<Value>, Value)>> {
                if let Some(c) = &f.cond {
                    match self.eval(&c.expr)? {
                        Value::Bool(true) => {}
                        Value::Bool(false) => return Ok(None),
                        Value::Unknown => return Ok(Some((None, Value::Unknown))),
                        other => {
                            return Err(self.err(
                                &c.expr,
                                format!(
                                    "an if clause must be true or false, not {}",
                                    other.type_name()
                                ),
                            ));
                        }
                    }
                }
                let key = match &f.key_expr {
                    Some(k) => Some(self.eval(k)?),
                    None => None,
                };
                Ok(Some((key, self.eval(&f.value_expr)?)))
            })();
            self.bindings.truncate(before);
            self.bound_marks.retain(|(at, _)| *at < before);
            match result? {
                None => {}
                Some((None, value)) => list.push(value),
                Some((Some(key), value)) => {
                    let key = match key {
                        Value::String(s) => s,
                        Value::Number(n) => format_number(n),
                        Value::Bool(b) => b.to_string(),
                        Value::Unknown => return Ok(Value::Unknown),
                        other => {
                            return Err(self.err(
                                f.key_expr.as_ref().expect("key present"),
                                format!("a for key must be a string, not {}", other.type_name()),
                            ));
                        }
                    };
                    if f.grouping {
                        grouped.entry(key).or_default().push(value);
                    } else if map.insert(key.clone(), value).is_some() {
                        return Err(self
                            .err(
                                f.key_expr.as_ref().expect("key present"),
                                format!("duplicate key \"{key}\" in for expression"),
                            )
                            .help("add ... after the value to group values by key"));
                    }
                }
            }
        }
        Ok(if f.key_expr.is_some() {
            if f.grouping {
                Value::Map(
                    grouped
                        .into_iter()
                        .map(|(k, v)| (k, Value::List(v)))
                        .collect(),
                )
            } else {
                Value::Map(map)
            }
        } else {
            Value::List(list)
        })
    }
}

/// Where a bool is expected, the strings "true" and "false" are bools, as Terraform
/// converts them (a `map(string)` turns `enabled = true` into "true").
fn as_bool(v: Value) -> Value {
    match v {
        Value::String(s) if s == "true" => Value::Bool(true),
        Value::String(s) if s == "false" => Value::Bool(false),
        other => other,
    }
}

/// Does this template element strip the whitespace of the literal after it (`~}`)?
fn strips_after(e: &Element) -> bool {
    match e {
        Element::Literal(_) => false,
        Element::Interpolation(i) => i.strip.strip_end(),
        Element::Directive(d) => match d.as_ref() {
            Directive::If(d) => d.endif_expr.strip.strip_end(),
            Directive::For(d) => d.endfor_expr.strip.strip_end(),
        },
    }
}

/// Does this template element strip the whitespace of the literal before it (`${~`)?
fn strips_before(e: &Element) -> bool {
    match e {
        Element::Literal(_) => false,
        Element::Interpolation(i) => i.strip.strip_start(),
        Element::Directive(d) => match d.as_ref() {
            Directive::If(d) => d.if_expr.strip.strip_start(),
            Directive::For(d) => d.for_expr.strip.strip_start(),
        },
    }
}

/// Key/value pairs of a collection; `Some(None)` when it is unknown, `None` when not a collection.
fn iter_pairs(v: Value) -> Option<Option<Vec<(Value, Value)>>> {
    match v {
        Value::Unknown => Some(None),
        Value::List(items) => Some(Some(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v))
                .collect(),
        )),
        Value::Map(map) => Some(Some(
            map.into_iter()
                .map(|(k, v)| (Value::String(k), v))
                .collect(),
        )),
        _ => None,
    }
}

/// `Some(Some(s))` for a printable value, `Some(None)` for unknown, `None` for a collection.
pub fn to_template_string(v: &Value) -> Option<Option<String>> {
    match v {
        Value::String(s) => Some(Some(s.clone())),
        Value::Number(n) => Some(Some(format_number(*n))),
        Value::Bool(b) => Some(Some(b.to_string())),
        Value::Null => Some(Some(String::new())),
        Value::Unknown => Some(None),
        Value::List(_) | Value::Map(_) => None,
    }
}

pub fn to_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `v[*].a.b` read through a borrowed list, when every element has the attributes:
/// only the values read are copied. `None` sends the traversal down the general path,
/// which reports what is missing.
fn splat_attrs(v: &Value, names: &[&str]) -> Option<Value> {
    let Value::List(items) = v else {
        return None;
    };
    items
        .iter()
        .map(|item| {
            let mut cur = item;
            for name in names {
                match cur {
                    Value::Unknown => return Some(Value::Unknown),
                    Value::Map(m) => cur = m.get(*name)?,
                    _ => return None,
                }
            }
            Some(cur.clone())
        })
        .collect::<Option<Vec<_>>>()
        .map(Value::List)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn eval(text: &str) -> std::result::Result<Value, String> {
        let expr: Expression = text.parse().expect("an expression");
        let env = Env::default();
        Ctx::new(&env, FileId(0)).eval(&expr).map_err(|d| d.message)
    }

    #[test]
    fn the_strings_true_and_false_are_bools_where_a_bool_is_expected() {
        // A map(string) variable turns `enabled = true` into "true", and modules test it.
        assert_eq!(
            eval(r#""true" ? "Enabled" : "Suspended""#),
            Ok(Value::str("Enabled"))
        );
        assert_eq!(eval(r#"!"false""#), Ok(Value::Bool(true)));
        assert_eq!(eval(r#""true" && "false""#), Ok(Value::Bool(false)));
        assert!(
            eval(r#""yes" ? 1 : 2"#)
                .unwrap_err()
                .contains("a condition must be true or false, not string")
        );
        // Equality does not convert, as in Terraform.
        assert_eq!(eval(r#""true" == true"#), Ok(Value::Bool(false)));
    }
}
