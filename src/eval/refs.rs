//! References an expression makes (`var.x`, `local.y`, `aws_vpc.main.id`): the edges of the
//! dependency graph. Names bound by `for` expressions are not references.

use crate::config::{Expr, span_of};
use crate::diag::{FileId, Span};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::template::{Directive, Element, Template};

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Var(String),
    Local(String),
    Resource {
        type_: String,
        name: String,
    },
    /// `data.TYPE.NAME`.
    Data {
        type_: String,
        name: String,
    },
    /// `module.NAME`, and the output read from it when there is one
    /// (`module.net.vpc_id`, `module.gpu["a"].ids`, `module.gpu[*].ids`).
    Module {
        name: String,
        output: Option<String>,
    },
    /// `path.module`, `terraform.workspace`: always known, no graph edge.
    Builtin,
    /// A root the language does not know (`foo` alone, `data.x` without a name).
    Unsupported(String),
}

/// A reference and where it is written.
#[derive(Debug, Clone)]
pub struct Reference {
    pub subject: Subject,
    pub span: Option<Span>,
    /// The text as written, up to the resource name: `aws_vpc.main`.
    pub text: String,
}

/// Every reference in an expression.
pub fn references(expr: &Expr) -> Vec<Reference> {
    expression_references(expr.file, &expr.expr)
}

/// Every reference in an expression of `file`.
pub fn expression_references(file: FileId, expr: &Expression) -> Vec<Reference> {
    expression_references_within(file, expr, &[])
}

/// Every reference in an expression of `file` where `bound` names are local (the
/// iterators of the `dynamic` blocks around it), not references.
pub fn expression_references_within(
    file: FileId,
    expr: &Expression,
    bound: &[String],
) -> Vec<Reference> {
    let mut out = Vec::new();
    let mut bound = bound.to_vec();
    walk(file, expr, &mut bound, &mut out);
    out
}

const RESERVED: &[&str] = &[
    "var",
    "local",
    "path",
    "terraform",
    "count",
    "each",
    "self",
    "data",
    "module",
];

fn walk(file: FileId, expr: &Expression, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    match expr {
        Expression::Null(_)
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::String(_) => {}
        Expression::Array(items) => items.iter().for_each(|e| walk(file, e, bound, out)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                if let Some(k) = k.as_expr() {
                    walk(file, k, bound, out);
                }
                walk(file, v.expr(), bound, out);
            }
        }
        Expression::StringTemplate(t) => walk_template(file, t, bound, out),
        Expression::HeredocTemplate(h) => walk_template(file, &h.template, bound, out),
        Expression::Parenthesis(p) => walk(file, p.inner(), bound, out),
        Expression::Variable(v) => {
            if !bound.iter().any(|b| b == v.as_str()) {
                root_reference(file, v.as_str(), &[], None, v.span(), out);
            }
        }
        Expression::Conditional(c) => {
            walk(file, &c.cond_expr, bound, out);
            walk(file, &c.true_expr, bound, out);
            walk(file, &c.false_expr, bound, out);
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|e| walk(file, e, bound, out)),
        Expression::Traversal(t) => {
            if let Expression::Variable(v) = &t.expr {
                if !bound.iter().any(|b| b == v.as_str()) {
                    let attrs: Vec<&str> = t
                        .operators
                        .iter()
                        .map_while(|op| match op.value() {
                            TraversalOperator::GetAttr(a) => Some(a.as_str()),
                            _ => None,
                        })
                        .take(if v.as_str() == "data" { 2 } else { 1 })
                        .collect();
                    let output = if v.as_str() == "module" {
                        module_output(&t.operators)
                    } else {
                        None
                    };
                    let last = match &output {
                        Some((_, i)) => t.operators.get(*i),
                        None if attrs.len() == 2 => t.operators.get(1),
                        None => t.operators.first(),
                    };
                    let end = last.and_then(|o| o.span()).map(|r| r.end);
                    let span = v.span().map(|r| r.start..end.unwrap_or(r.end));
                    let output = output.map(|(name, _)| name);
                    root_reference(file, v.as_str(), &attrs, output, span, out);
                }
            } else {
                walk(file, &t.expr, bound, out);
            }
            for op in &t.operators {
                if let TraversalOperator::Index(e) = op.value() {
                    walk(file, e, bound, out);
                }
            }
        }
        Expression::UnaryOp(u) => walk(file, &u.expr, bound, out),
        Expression::BinaryOp(b) => {
            walk(file, &b.lhs_expr, bound, out);
            walk(file, &b.rhs_expr, bound, out);
        }
        Expression::ForExpr(f) => {
            walk(file, &f.intro.collection_expr, bound, out);
            let before = bound.len();
            if let Some(k) = &f.intro.key_var {
                bound.push(k.as_str().to_string());
            }
            bound.push(f.intro.value_var.as_str().to_string());
            if let Some(k) = &f.key_expr {
                walk(file, k, bound, out);
            }
            walk(file, &f.value_expr, bound, out);
            if let Some(c) = &f.cond {
                walk(file, &c.expr, bound, out);
            }
            bound.truncate(before);
        }
    }
}

fn walk_template(file: FileId, t: &Template, bound: &mut Vec<String>, out: &mut Vec<Reference>) {
    for element in t.iter() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(i) => walk(file, &i.expr, bound, out),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(d) => {
                    walk(file, &d.if_expr.cond_expr, bound, out);
                    walk_template(file, &d.if_expr.template, bound, out);
                    if let Some(e) = &d.else_expr {
                        walk_template(file, &e.template, bound, out);
                    }
                }
                Directive::For(d) => {
                    walk(file, &d.for_expr.collection_expr, bound, out);
                    let before = bound.len();
                    if let Some(k) = &d.for_expr.key_var {
                        bound.push(k.as_str().to_string());
                    }
                    bound.push(d.for_expr.value_var.as_str().to_string());
                    walk_template(file, &d.for_expr.template, bound, out);
                    bound.truncate(before);
                }
            },
        }
    }
}

/// The output a `module.NAME...` traversal reads, and the index of its operator: the
/// attribute after the name, or after one index or splat (`module.x[0].out`).
fn module_output(ops: &[hcl_edit::Decorated<TraversalOperator>]) -> Option<(String, usize)> {
    let attr = |i: usize| match ops.get(i).map(|o| o.value()) {
        Some(TraversalOperator::GetAttr(a)) => Some((a.as_str().to_string(), i)),
        _ => None,
    };
    match ops.get(1).map(|o| o.value()) {
        Some(TraversalOperator::GetAttr(_)) => attr(1),
        Some(
            TraversalOperator::Index(_)
            | TraversalOperator::LegacyIndex(_)
            | TraversalOperator::AttrSplat(_)
            | TraversalOperator::FullSplat(_),
        ) => attr(2),
        None => None,
    }
}

fn root_reference(
    file: FileId,
    root: &str,
    attrs: &[&str],
    output: Option<String>,
    range: Option<std::ops::Range<usize>>,
    out: &mut Vec<Reference>,
) {
    let span = span_of(file, range);
    let first = attrs.first().copied();
    let (subject, text) = match (root, first) {
        ("var", Some(n)) => (Subject::Var(n.into()), format!("var.{n}")),
        ("module", Some(n)) => (
            Subject::Module {
                name: n.into(),
                output,
            },
            format!("module.{n}"),
        ),
        ("local", Some(n)) => (Subject::Local(n.into()), format!("local.{n}")),
        ("data", Some(t)) => match attrs.get(1) {
            Some(n) => (
                Subject::Data {
                    type_: t.into(),
                    name: (*n).into(),
                },
                format!("data.{t}.{n}"),
            ),
            None => (
                Subject::Unsupported(format!("data.{t}")),
                format!("data.{t}"),
            ),
        },
        ("path" | "terraform", _) => (Subject::Builtin, root.to_string()),
        ("count", Some("index")) | ("each", Some("key" | "value")) => (
            Subject::Builtin,
            format!("{root}.{}", first.unwrap_or_default()),
        ),
        (r, Some(n)) if !RESERVED.contains(&r) => (
            Subject::Resource {
                type_: r.into(),
                name: n.into(),
            },
            format!("{r}.{n}"),
        ),
        (r, Some(n)) => (Subject::Unsupported(format!("{r}.{n}")), format!("{r}.{n}")),
        (r, None) => (Subject::Unsupported(r.into()), r.to_string()),
    };
    out.push(Reference {
        subject,
        span,
        text,
    });
}
