//! `moved { from = ... to = ... }` and `import { to = ... id = ... }` blocks: the
//! addresses they name, read from their traversals (`aws_vpc.a`, `aws_subnet.s[0]`,
//! `module.net["a"].aws_vpc.this`, `module.net`). Nothing is evaluated here but the
//! shape of the addresses; `plan::refactor` applies them.

use super::*;
use crate::addr::{InstanceKey, ModuleStep};
use crate::diag::{Diagnostic, Diagnostics};
use hcl_edit::expr::{Expression, TraversalOperator};
use std::fmt;

/// What a `moved` block's `from` or `to` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MoveEndpoint {
    /// A resource (`aws_vpc.a`, every instance) or one instance of it (`aws_vpc.a[0]`),
    /// possibly inside a module (`module.net.aws_vpc.this`).
    Resource(ResourceAddr),
    /// A module call (`module.net`, every instance) or one instance (`module.net["a"]`).
    Module(Vec<ModuleStep>),
}

impl fmt::Display for MoveEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoveEndpoint::Resource(a) => write!(f, "{a}"),
            MoveEndpoint::Module(steps) => f.write_str(&crate::addr::module_path(steps)),
        }
    }
}

impl MoveEndpoint {
    /// The same endpoint written inside module instance `prefix` (a statement in a child
    /// module is relative to it).
    pub fn within(&self, prefix: &[ModuleStep]) -> MoveEndpoint {
        match self {
            MoveEndpoint::Resource(a) => {
                let mut module = prefix.to_vec();
                module.extend(a.module.iter().cloned());
                MoveEndpoint::Resource(ResourceAddr {
                    module,
                    ..a.clone()
                })
            }
            MoveEndpoint::Module(steps) => {
                let mut module = prefix.to_vec();
                module.extend(steps.iter().cloned());
                MoveEndpoint::Module(module)
            }
        }
    }
}

/// `moved { from = ..., to = ... }`.
#[derive(Debug, Clone)]
pub struct Moved {
    pub from: MoveEndpoint,
    pub to: MoveEndpoint,
    /// The `moved` keyword.
    pub span: Option<Span>,
}

/// `import { to = ..., id = ..., provider = ... }` (root module only).
#[derive(Debug, Clone)]
pub struct ImportBlock {
    pub to: ResourceAddr,
    pub to_span: Option<Span>,
    /// The cloud's id for the object; evaluated (variables and locals allowed) at plan time.
    pub id: Expr,
    pub provider: Option<ProviderRef>,
    /// The `import` keyword.
    pub span: Option<Span>,
}

/// Reads a `moved` block into `module.moved`.
pub(super) fn read_moved(
    module: &mut Module,
    file: FileId,
    block: &Block,
    span: Option<Span>,
    diags: &mut Diagnostics,
) {
    let mut from = None;
    let mut to = None;
    only_attributes(file, block, "moved", "from and to", diags);
    for attr in block.body.attributes() {
        let slot = match attr.key.as_str() {
            "from" => &mut from,
            "to" => &mut to,
            other => {
                diags.push(
                    Diagnostic::error(format!("unsupported argument \"{other}\" in a moved block"))
                        .at(attr_span(file, attr))
                        .help("a moved block takes from and to: moved { from = aws_vpc.old  to = aws_vpc.new }"),
                );
                continue;
            }
        };
        match endpoint(&attr.value) {
            Some(e) => *slot = Some(e),
            None => diags.push(
                Diagnostic::error(format!(
                    "{} in a moved block must be a resource or module address",
                    attr.key.as_str()
                ))
                .at(span_of(file, attr.value.span()))
                .help("write an address without quotes: aws_vpc.main, aws_subnet.a[0], aws_subnet.a[\"key\"], module.net or module.net.aws_vpc.this"),
            ),
        }
    }
    match (from, to) {
        (Some(from), Some(to)) => {
            let kinds_match = matches!(
                (&from, &to),
                (MoveEndpoint::Resource(_), MoveEndpoint::Resource(_))
                    | (MoveEndpoint::Module(_), MoveEndpoint::Module(_))
            );
            if !kinds_match {
                diags.push(
                    Diagnostic::error(format!(
                        "a moved block cannot move {from} to {to}: one is a module and the other a resource"
                    ))
                    .at(span)
                    .help("move a resource to a resource (module.net.aws_vpc.this is a resource inside a module), or a module to a module"),
                );
                return;
            }
            module.moved.push(Moved { from, to, span });
        }
        (from, _) => diags.push(
            Diagnostic::error(format!(
                "a moved block needs {}",
                if from.is_none() { "from" } else { "to" }
            ))
            .at(span)
            .help("write moved { from = aws_vpc.old  to = aws_vpc.new }"),
        ),
    }
}

/// Reads an `import` block into `module.imports`.
pub(super) fn read_import(
    module: &mut Module,
    file: FileId,
    block: &Block,
    span: Option<Span>,
    root: bool,
    diags: &mut Diagnostics,
) {
    if !root {
        diags.push(
            Diagnostic::error("import blocks are only allowed in the stack's root module")
                .at(span)
                .help("move the import block to the stack and name the module in its address: to = module.NAME.aws_vpc.this"),
        );
        return;
    }
    only_attributes(file, block, "import", "to, id and provider", diags);
    let mut to = None;
    let mut id = None;
    let mut provider = None;
    for attr in block.body.attributes() {
        match attr.key.as_str() {
            "to" => match endpoint(&attr.value) {
                Some(MoveEndpoint::Resource(a)) => {
                    to = Some((a, span_of(file, attr.value.span())));
                }
                _ => diags.push(
                    Diagnostic::error("to in an import block must be a resource instance address")
                        .at(span_of(file, attr.value.span()))
                        .help("write an address without quotes: aws_vpc.main, aws_subnet.a[\"key\"] or module.net.aws_vpc.this"),
                ),
            },
            "id" => {
                id = Some(Expr {
                    file,
                    expr: attr.value.clone(),
                })
            }
            "provider" => match super::load::provider_ref(file, &attr.value) {
                Ok(p) => provider = Some(p),
                Err(d) => diags.push(d),
            },
            "for_each" => diags.push(
                Diagnostic::error("for_each in import blocks is not supported yet")
                    .at(attr_span(file, attr))
                    .help("write one import block per object"),
            ),
            other => diags.push(
                Diagnostic::error(format!("unsupported argument \"{other}\" in an import block"))
                    .at(attr_span(file, attr))
                    .help("an import block takes to, id and provider: import { to = aws_vpc.main  id = \"vpc-0abc\" }"),
            ),
        }
    }
    match (to, id) {
        (Some((to, to_span)), Some(id)) => module.imports.push(ImportBlock {
            to,
            to_span,
            id,
            provider,
            span,
        }),
        (to, _) => diags.push(
            Diagnostic::error(format!(
                "an import block needs {}",
                if to.is_none() { "to" } else { "id" }
            ))
            .at(span)
            .help("write import { to = aws_vpc.main  id = \"vpc-0abc\" }"),
        ),
    }
}

fn only_attributes(file: FileId, block: &Block, what: &str, takes: &str, diags: &mut Diagnostics) {
    for inner in block.body.blocks() {
        diags.push(
            Diagnostic::error(format!(
                "unsupported block \"{}\" in a {what} block",
                inner.ident.as_str()
            ))
            .at(block_header_span(file, inner))
            .help(format!("a {what} block takes {takes}")),
        );
    }
}

/// The address a traversal names, when it is one: every step a name or a literal key.
pub(crate) fn endpoint(expr: &Expression) -> Option<MoveEndpoint> {
    let (root, ops): (&str, &[hcl_edit::Decorated<TraversalOperator>]) = match expr {
        Expression::Traversal(t) => match &t.expr {
            Expression::Variable(v) => (v.as_str(), t.operators.as_slice()),
            _ => return None,
        },
        _ => return None,
    };
    // Flatten into names and keys: module.a["x"].aws_vpc.b[0]
    enum Step {
        Name(String),
        Key(InstanceKey),
    }
    let mut steps = vec![Step::Name(root.to_string())];
    for op in ops {
        steps.push(match op.value() {
            TraversalOperator::GetAttr(a) => Step::Name(a.as_str().to_string()),
            TraversalOperator::LegacyIndex(n) => Step::Key(InstanceKey::Int(*n.value())),
            TraversalOperator::Index(e) => match e {
                Expression::Number(n) => Step::Key(InstanceKey::Int(n.value().as_u64()?)),
                Expression::String(s) => Step::Key(InstanceKey::Str(s.value().to_string())),
                _ => return None,
            },
            _ => return None,
        });
    }
    let mut it = steps.into_iter().peekable();
    let mut module = Vec::new();
    loop {
        match it.next()? {
            Step::Name(n) if n == "module" => {
                let Some(Step::Name(name)) = it.next() else {
                    return None;
                };
                let key = match it.peek() {
                    Some(Step::Key(_)) => match it.next() {
                        Some(Step::Key(k)) => Some(k),
                        _ => None,
                    },
                    _ => None,
                };
                module.push(ModuleStep { name, key });
                if it.peek().is_none() {
                    return Some(MoveEndpoint::Module(module));
                }
            }
            Step::Name(type_) => {
                let Some(Step::Name(name)) = it.next() else {
                    return None;
                };
                let key = match it.next() {
                    Some(Step::Key(k)) => Some(k),
                    Some(Step::Name(_)) => return None,
                    None => None,
                };
                if it.next().is_some() || type_ == "data" {
                    return None;
                }
                return Some(MoveEndpoint::Resource(ResourceAddr {
                    module,
                    type_,
                    name,
                    key,
                }));
            }
            Step::Key(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<String> {
        let expr: Expression = text.parse().expect("an expression");
        endpoint(&expr).map(|e| e.to_string())
    }

    #[test]
    fn addresses_are_read_from_traversals() {
        assert_eq!(parse("aws_vpc.main").as_deref(), Some("aws_vpc.main"));
        assert_eq!(parse("aws_subnet.a[0]").as_deref(), Some("aws_subnet.a[0]"));
        assert_eq!(
            parse("aws_subnet.a[\"x\"]").as_deref(),
            Some("aws_subnet.a[\"x\"]")
        );
        assert_eq!(
            parse("module.net[\"a\"].aws_vpc.this").as_deref(),
            Some("module.net[\"a\"].aws_vpc.this")
        );
        assert_eq!(parse("module.net").as_deref(), Some("module.net"));
        assert_eq!(parse("module.net[1]").as_deref(), Some("module.net[1]"));
        assert!(matches!(
            endpoint(&"module.net".parse().unwrap()),
            Some(MoveEndpoint::Module(_))
        ));
    }

    #[test]
    fn what_is_not_an_address_is_refused() {
        for bad in [
            "\"aws_vpc.main\"",
            "aws_vpc",
            "aws_vpc.main.id",
            "aws_subnet.a[var.i]",
            "data.aws_ami.x",
            "module",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
