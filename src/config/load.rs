//! Reading a stack directory into a [`Config`].

use super::*;
use crate::diag::{Diagnostic, Diagnostics, SourceFile};
use hcl_edit::structure::BlockLabel;
use std::collections::HashMap;
use std::path::Path;

/// Loads every `*.hcl` and `*.tf` file in `dir` (not recursing), in name order, then every
/// module its `module` blocks call (each directory once), and builds the module tree.
pub fn load(dir: &Path) -> Result<Config, (SourceMap, Diagnostics)> {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let mut terraform = Terraform::default();
    let root = match read_module(dir, &mut sources, &mut diags, Some(&mut terraform)) {
        Ok(root) => root,
        Err(problem) => {
            let d = match problem {
                DirProblem::Unreadable(e) => Diagnostic::error(format!(
                    "cannot read stack directory {}: {e}",
                    dir.display()
                ))
                .help("pass the directory that holds the stack's .hcl files"),
                DirProblem::Empty => {
                    Diagnostic::error(format!("no .hcl or .tf files in {}", dir.display()))
                        .help("a stack is a directory of HCL files; check the path")
                }
            };
            diags.push(d);
            return Err((sources, diags));
        }
    };
    super::shared::read(dir, &mut sources, &mut diags, &mut terraform);
    let tfvars = super::tfvars::read_auto(dir, &mut sources, &mut diags);
    let mut modules = vec![root];
    super::call::load_called(&mut modules, &mut sources, &mut diags);
    // Calls whose module could not be loaded are left out of the tree; the rest is still
    // checked, so every problem is reported at once.
    let scopes = super::tree::build(&modules, &mut diags);
    if diags.has_errors() {
        return Err((sources, diags));
    }
    Ok(Config {
        dir: dir.to_path_buf(),
        stack: stack_name(dir),
        sources,
        terraform,
        tfvars,
        modules,
        scopes,
    })
}

/// Why a directory holds no module.
pub(super) enum DirProblem {
    Unreadable(std::io::Error),
    Empty,
}

/// Reads one directory's `*.hcl` and `*.tf` files into a [`Module`]. Problems inside the
/// files go to `diags`; `terraform` receives the root module's settings.
pub(super) fn read_module(
    dir: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
    terraform: Option<&mut Terraform>,
) -> Result<Module, DirProblem> {
    let entries = std::fs::read_dir(dir).map_err(DirProblem::Unreadable)?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("hcl" | "tf"))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(DirProblem::Empty);
    }
    let root = terraform.is_some();
    let mut ignored = Terraform::default();
    let terraform = terraform.unwrap_or(&mut ignored);
    let mut module = Module {
        dir: dir.to_path_buf(),
        ..Module::default()
    };
    for path in paths {
        if let Some((file, body)) = parse_file(&path, sources, diags) {
            read_body(&mut module, terraform, root, file, body, diags);
        }
    }
    check_duplicates(&module, sources, diags);
    module.index_resources();
    Ok(module)
}

/// Reads and parses one file into `sources`; a read or syntax error is reported and
/// gives `None`.
pub(super) fn parse_file(
    path: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Option<(FileId, Body)> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error(format!(
                "cannot read {}: {e}",
                path.display()
            )));
            return None;
        }
    };
    let file = sources.add(SourceFile::new(path, display_path(path), text));
    match hcl_edit::parser::parse_body(&sources.file(file).text) {
        Ok(body) => Some((file, body)),
        Err(e) => {
            let offset = e.location().offset();
            diags.push(
                Diagnostic::error(format!("syntax error: {}", e.message()))
                    .at(Some(Span {
                        file,
                        range: offset..offset + 1,
                    }))
                    .label("here"),
            );
            None
        }
    }
}

fn stack_name(dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    canonical
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("default")
        .to_string()
}

/// Paths relative to the working directory read best in errors.
pub(super) fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    match cwd.and_then(|c| abs.strip_prefix(c).ok().map(Path::to_path_buf)) {
        Some(rel) => rel.display().to_string(),
        None => path.display().to_string(),
    }
}

const TOP_LEVEL: &[&str] = &[
    "terraform",
    "provider",
    "variable",
    "locals",
    "resource",
    "data",
    "module",
    "output",
    "policy",
    "budget",
    "cost",
    "moved",
    "import",
];
const NOT_YET: &[&str] = &["check", "removed"];

fn read_body(
    config: &mut Module,
    terraform: &mut Terraform,
    root: bool,
    file: FileId,
    body: Body,
    diags: &mut Diagnostics,
) {
    for structure in body.into_iter() {
        let block = match structure.into_block() {
            Ok(block) => block,
            Err(structure) => {
                let attr = structure
                    .as_attribute()
                    .expect("not a block, so an attribute");
                diags.push(
                    Diagnostic::error(format!(
                        "unexpected attribute \"{}\" at the top level of a file",
                        attr.key.as_str()
                    ))
                    .at(attr_span(file, attr))
                    .help(format!(
                        "top-level files hold blocks: {}",
                        TOP_LEVEL.join(", ")
                    )),
                );
                continue;
            }
        };
        let header = block_header_span(file, &block);
        let kind = block.ident.as_str().to_string();
        let labels: Vec<String> = block
            .labels
            .iter()
            .map(|l| label_str(l).to_string())
            .collect();
        let want_labels = match kind.as_str() {
            "terraform" | "locals" | "policy" | "budget" | "cost" | "moved" | "import" => 0,
            "provider" | "variable" | "output" | "module" => 1,
            "resource" | "data" => 2,
            _ => usize::MAX,
        };
        if want_labels == usize::MAX {
            let mut d = Diagnostic::error(format!("unsupported block type \"{kind}\""))
                .at(header)
                .label("not understood");
            d = if NOT_YET.contains(&kind.as_str()) {
                d.help(format!(
                    "keel does not support \"{kind}\" blocks yet; supported blocks: {}",
                    TOP_LEVEL.join(", ")
                ))
            } else {
                match crate::diag::suggest(&kind, TOP_LEVEL.iter().copied()) {
                    Some(s) => d.help(format!("did you mean \"{s}\"?")),
                    None => d.help(format!("supported blocks: {}", TOP_LEVEL.join(", "))),
                }
            };
            diags.push(d);
            continue;
        }
        if labels.len() != want_labels {
            diags.push(
                Diagnostic::error(format!(
                    "a \"{kind}\" block takes {want_labels} label(s), this one has {}",
                    labels.len()
                ))
                .at(header)
                .help(match kind.as_str() {
                    "resource" => "write it as resource \"TYPE\" \"NAME\" { ... }",
                    "data" => "write it as data \"TYPE\" \"NAME\" { ... }",
                    "provider" => "write it as provider \"aws\" { ... }",
                    "variable" => "write it as variable \"NAME\" { ... }",
                    "output" => "write it as output \"NAME\" { value = ... }",
                    "module" => "write it as module \"NAME\" { source = \"./modules/NAME\" }",
                    _ => "remove the labels",
                }),
            );
            continue;
        }
        match kind.as_str() {
            "terraform" => read_terraform(terraform, file, block.body, diags),
            "provider" if !root => diags.push(
                Diagnostic::error("provider blocks belong in the stack's root module, not in a called module")
                    .at(header)
                    .help("configure the provider in the stack and pass it in: module \"NAME\" { providers = { aws = aws.ALIAS } }"),
            ),
            "provider" => {
                let alias_attr = block.body.get_attribute("alias");
                let alias = alias_attr.and_then(|a| a.value.as_str().map(str::to_string));
                if let Some(a) = alias_attr {
                    let ok = alias.as_deref().is_some_and(|s| {
                        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    });
                    if !ok {
                        diags.push(
                            Diagnostic::error("a provider alias must be a name in quotes, like alias = \"west\"")
                                .at(span_of(file, a.value.span())),
                        );
                    }
                }
                config.providers.push(ProviderBlock {
                    name: labels[0].clone(),
                    alias,
                    body: block.body,
                    file,
                    span: header,
                });
            }
            "policy" | "budget" | "cost" if !root => diags.push(
                Diagnostic::error(format!("{kind} blocks belong in the stack, not in a called module"))
                    .at(header)
                    .help("guardrails apply to a whole stack: move the block into the stack's files (or a keel.hcl beside the stack)"),
            ),
            "policy" | "budget" | "cost" => terraform.guardrails.push(Backend {
                kind: kind.clone(),
                body: block.body,
                file,
                span: header,
            }),
            "variable" => read_variable(config, file, &labels[0], header, block.body, diags),
            "locals" => {
                for structure in block.body.into_iter() {
                    match structure.into_attribute() {
                        Ok(attr) => config.locals.push(Local {
                            name: attr.key.as_str().to_string(),
                            span: attr_span(file, &attr),
                            expr: Expr {
                                file,
                                expr: attr.value,
                            },
                        }),
                        Err(s) => diags.push(
                            Diagnostic::error("blocks are not allowed inside locals")
                                .at(s.as_block().and_then(|b| block_header_span(file, b)))
                                .help("write each local as NAME = EXPRESSION"),
                        ),
                    }
                }
            }
            "resource" => {
                let r = read_resource(file, &labels, &block, header, diags);
                config.resources.push(r);
            }
            "data" => {
                let r = read_resource(file, &labels, &block, header, diags);
                let lc = &r.lifecycle;
                if lc.prevent_destroy
                    || lc.create_before_destroy.is_some()
                    || !lc.ignore_changes.is_empty()
                {
                    diags.push(
                        Diagnostic::error(format!(
                            "data.{} takes no lifecycle settings: keel reads a data source, it never creates or destroys one",
                            r.key()
                        ))
                        .at(r.span.clone())
                        .help("remove the lifecycle block"),
                    );
                }
                config.data.push(r);
            }
            "moved" => super::refactor::read_moved(config, file, &block, header, diags),
            "import" => super::refactor::read_import(config, file, &block, header, root, diags),
            "output" => read_output(config, file, &labels[0], header, block.body, diags),
            "module" => super::call::read_call(config, file, &labels[0], &block, header, diags),
            _ => unreachable!("label counts are only defined for known blocks"),
        }
    }
}

fn label_str(label: &BlockLabel) -> &str {
    label.as_str()
}

fn read_terraform(terraform: &mut Terraform, file: FileId, body: Body, diags: &mut Diagnostics) {
    for structure in body.into_iter() {
        match structure.into_block() {
            Ok(block) => match block.ident.as_str() {
                "backend" => {
                    let span = block_header_span(file, &block);
                    let kind = block.labels.first().map(|l| label_str(l).to_string());
                    match kind.as_deref() {
                        Some(kind @ ("local" | "s3")) => {
                            terraform.backend = Some(Backend {
                                kind: kind.into(),
                                body: block.body,
                                file,
                                span,
                            })
                        }
                        Some(other) => diags.push(
                            Diagnostic::error(format!("backend \"{other}\" is not supported yet"))
                                .at(span)
                                .help("use backend \"s3\" { bucket = ..., key = ... } or backend \"local\" { path = \"...\" }, or leave the backend out to keep state in state/<stack>.json"),
                        ),
                        None => diags.push(
                            Diagnostic::error("a backend block needs its type as a label")
                                .at(span)
                                .help("write backend \"local\" { path = \"...\" }"),
                        ),
                    }
                }
                "encryption" => {
                    terraform.encryption = Some(Backend {
                        kind: "encryption".into(),
                        span: block_header_span(file, &block),
                        body: block.body,
                        file,
                    })
                }
                // Provider requirements and cloud settings are accepted and ignored: keel
                // ships its AWS provider built in.
                "required_providers" | "cloud" => {}
                other => diags.push(
                    Diagnostic::error(format!(
                        "unsupported block \"{other}\" in terraform settings"
                    ))
                    .at(block_header_span(file, &block))
                    .help("terraform blocks hold required_version, required_providers, backend and encryption"),
                ),
            },
            Err(structure) => {
                let attr = structure.into_attribute().expect("not a block");
                match attr.key.as_str() {
                    "required_version" => {
                        terraform.required_version = Some(Expr {
                            file,
                            expr: attr.value,
                        })
                    }
                    "experiments" => {}
                    other => diags.push(
                        Diagnostic::error(format!(
                            "unsupported setting \"{other}\" in terraform block"
                        ))
                        .at(attr_span(file, &attr)),
                    ),
                }
            }
        }
    }
}

fn read_variable(
    config: &mut Module,
    file: FileId,
    name: &str,
    span: Option<Span>,
    body: Body,
    diags: &mut Diagnostics,
) {
    let mut var = Variable {
        name: name.to_string(),
        default: None,
        description: None,
        sensitive: false,
        span,
        ty: None,
        nullable: true,
        validations: Vec::new(),
    };
    let literal_bool = |attr: &Attribute, diags: &mut Diagnostics| match attr.value.as_bool() {
        Some(b) => b,
        None => {
            diags.push(
                Diagnostic::error(format!(
                    "{} in variable \"{name}\" must be true or false, written literally",
                    attr.key.as_str()
                ))
                .at(span_of(file, attr.value.span())),
            );
            false
        }
    };
    for structure in body.into_iter() {
        match structure.into_attribute() {
            Ok(attr) => match attr.key.as_str() {
                "default" => {
                    var.default = Some(Expr {
                        file,
                        expr: attr.value,
                    })
                }
                "description" => var.description = attr.value.as_str().map(str::to_string),
                "sensitive" => var.sensitive = literal_bool(&attr, diags),
                "nullable" => var.nullable = literal_bool(&attr, diags),
                "type" => match super::Type::parse(file, &attr.value) {
                    Ok(t) => var.ty = Some(t),
                    Err(d) => diags.push(d),
                },
                "ephemeral" => {}
                other => diags.push(
                    Diagnostic::error(format!(
                        "unsupported argument \"{other}\" in variable \"{name}\""
                    ))
                    .at(attr_span(file, &attr))
                    .help("variables take default, description, type, sensitive, nullable and validation blocks"),
                ),
            },
            Err(s) => match s.into_block() {
                Ok(block) if block.ident.as_str() == "validation" => {
                    read_validation(&mut var, file, &block, diags)
                }
                Ok(block) => diags.push(
                    Diagnostic::error(format!(
                        "unsupported block \"{}\" in variable \"{name}\"",
                        block.ident.as_str()
                    ))
                    .at(block_header_span(file, &block))
                    .help("variables take validation { condition = ..., error_message = \"...\" } blocks"),
                ),
                Err(_) => {}
            },
        }
    }
    config.variables.push(var);
}

/// `validation { condition = ..., error_message = "..." }`.
fn read_validation(var: &mut Variable, file: FileId, block: &Block, diags: &mut Diagnostics) {
    let header = block_header_span(file, block);
    let get = |key: &str| {
        block.body.get_attribute(key).map(|a| Expr {
            file,
            expr: a.value.clone(),
        })
    };
    for attr in block.body.attributes() {
        if !matches!(attr.key.as_str(), "condition" | "error_message") {
            diags.push(
                Diagnostic::error(format!(
                    "unsupported argument \"{}\" in a validation of variable \"{}\"",
                    attr.key.as_str(),
                    var.name
                ))
                .at(attr_span(file, attr))
                .help("a validation block takes condition and error_message"),
            );
        }
    }
    match (get("condition"), get("error_message")) {
        (Some(condition), Some(error_message)) => var.validations.push(Validation {
            condition,
            error_message,
            span: header,
        }),
        (c, _) => diags.push(
            Diagnostic::error(format!(
                "a validation of variable \"{}\" needs {}",
                var.name,
                if c.is_none() { "a condition" } else { "an error_message" }
            ))
            .at(header)
            .help("write validation { condition = BOOL_EXPRESSION, error_message = \"what is wrong, and what to do\" }"),
        ),
    }
}

fn read_output(
    config: &mut Module,
    file: FileId,
    name: &str,
    span: Option<Span>,
    body: Body,
    diags: &mut Diagnostics,
) {
    let mut value = None;
    let mut description = None;
    let mut sensitive = false;
    for structure in body.into_iter() {
        match structure.into_attribute() {
            Ok(attr) => match attr.key.as_str() {
                "value" => {
                    value = Some(Expr {
                        file,
                        expr: attr.value,
                    })
                }
                "description" => description = attr.value.as_str().map(str::to_string),
                "sensitive" => sensitive = attr.value.as_bool().unwrap_or(false),
                "depends_on" => {}
                other => diags.push(
                    Diagnostic::error(format!(
                        "unsupported argument \"{other}\" in output \"{name}\""
                    ))
                    .at(attr_span(file, &attr))
                    .help("outputs take value, description and sensitive"),
                ),
            },
            Err(s) => diags.push(
                Diagnostic::error(format!("unsupported block in output \"{name}\""))
                    .at(s.as_block().and_then(|b| block_header_span(file, b))),
            ),
        }
    }
    match value {
        Some(value) => config.outputs.push(Output {
            name: name.to_string(),
            value,
            description,
            sensitive,
            span,
        }),
        None => diags.push(
            Diagnostic::error(format!("output \"{name}\" has no value"))
                .at(span)
                .help("add value = EXPRESSION"),
        ),
    }
}

fn read_resource(
    file: FileId,
    labels: &[String],
    block: &Block,
    span: Option<Span>,
    diags: &mut Diagnostics,
) -> Resource {
    let mut body = Body::builder().build();
    let mut depends_on = Vec::new();
    let mut lifecycle = Lifecycle::default();
    let mut count = None;
    let mut for_each = None;
    let mut provider = None;
    let name = format!("{}.{}", labels[0], labels[1]);
    for structure in block.body.iter() {
        if let Some(attr) = structure.as_attribute() {
            match attr.key.as_str() {
                "depends_on" => match attr.value.as_array() {
                    Some(items) => depends_on.extend(items.iter().map(|e| Expr {
                        file,
                        expr: e.clone(),
                    })),
                    None => diags.push(
                        Diagnostic::error("depends_on must be a list of resource references")
                            .at(span_of(file, attr.value.span()))
                            .help("write depends_on = [aws_vpc.main]"),
                    ),
                },
                "count" | "for_each" => {
                    let expr = Some(Expr {
                        file,
                        expr: attr.value.clone(),
                    });
                    let other = if attr.key.as_str() == "count" {
                        count = expr;
                        &for_each
                    } else {
                        for_each = expr;
                        &count
                    };
                    if other.is_some() {
                        diags.push(
                            Diagnostic::error(format!(
                                "{name} sets both count and for_each"
                            ))
                            .at(attr_span(file, attr))
                            .help("use one of them: count for N alike instances, for_each for one instance per key"),
                        );
                    }
                }
                "provider" => match provider_ref(file, &attr.value) {
                    Ok(p) => provider = Some(p),
                    Err(d) => diags.push(d),
                },
                _ => {
                    body.push(attr.clone());
                }
            }
        } else if let Some(inner) = structure.as_block() {
            if inner.ident.as_str() == "lifecycle" {
                read_lifecycle(file, &name, inner, &mut lifecycle, diags);
            } else if inner.ident.as_str() == "timeouts" {
                read_timeouts(file, &name, inner, diags);
            } else {
                body.push(inner.clone());
            }
        }
    }
    Resource {
        type_: labels[0].clone(),
        name: labels[1].clone(),
        body,
        file,
        span,
        type_span: block.labels.first().and_then(|l| span_of(file, l.span())),
        depends_on,
        lifecycle,
        count,
        for_each,
        provider,
    }
}

/// `provider = aws.west` (or the older string form `"aws.west"`).
pub(super) fn provider_ref(
    file: FileId,
    value: &hcl_edit::expr::Expression,
) -> Result<ProviderRef, Diagnostic> {
    use hcl_edit::expr::{Expression, TraversalOperator};
    let span = span_of(file, value.span());
    let name = match value {
        Expression::Variable(v) => Some(v.as_str().to_string()),
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [op]) => match op.value() {
                TraversalOperator::GetAttr(a) => Some(format!("{}.{}", v.as_str(), a.as_str())),
                _ => None,
            },
            _ => None,
        },
        other => other.as_str().map(str::to_string),
    };
    match name {
        Some(n) if n.parse::<crate::addr::ProviderAddr>().is_ok() => Ok(ProviderRef { name: n, span }),
        _ => Err(Diagnostic::error("provider must name a provider configuration, like aws.west")
            .at(span)
            .help("write provider = aws.ALIAS, where ALIAS is the alias of a provider \"aws\" block")),
    }
}

/// `timeouts { create = "5m" }`: accepted for Terraform compatibility and checked, then
/// left aside; keel waits for each type as long as that type needs.
fn read_timeouts(file: FileId, name: &str, block: &Block, diags: &mut Diagnostics) {
    for attr in block.body.attributes() {
        let key = attr.key.as_str();
        if !matches!(key, "create" | "read" | "update" | "delete") {
            diags.push(
                Diagnostic::error(format!(
                    "unsupported argument \"{key}\" in the timeouts of {name}"
                ))
                .at(attr_span(file, attr))
                .help("timeouts take create, read, update and delete, such as create = \"10m\""),
            );
        }
    }
    for inner in block.body.blocks() {
        diags.push(
            Diagnostic::error(format!("unexpected block in the timeouts of {name}"))
                .at(block_header_span(file, inner)),
        );
    }
}

fn read_lifecycle(
    file: FileId,
    name: &str,
    block: &Block,
    lifecycle: &mut Lifecycle,
    diags: &mut Diagnostics,
) {
    for attr in block.body.attributes() {
        let bool_value = || {
            attr.value.as_bool().ok_or_else(|| {
                Diagnostic::error(format!(
                    "{} in {name} must be true or false",
                    attr.key.as_str()
                ))
                .at(span_of(file, attr.value.span()))
            })
        };
        match attr.key.as_str() {
            "prevent_destroy" => match bool_value() {
                Ok(b) => lifecycle.prevent_destroy = b,
                Err(d) => diags.push(d),
            },
            "create_before_destroy" => match bool_value() {
                Ok(b) => lifecycle.create_before_destroy = Some(b),
                Err(d) => diags.push(d),
            },
            "ignore_changes" => match attr.value.as_array() {
                Some(items) => {
                    for item in items.iter() {
                        match item.as_variable() {
                            Some(ident) => lifecycle.ignore_changes.push(ident.as_str().to_string()),
                            None => match item.as_traversal() {
                                Some(_) => diags.push(
                                    Diagnostic::error("ignore_changes takes top-level attribute names")
                                        .at(span_of(file, item.span())),
                                ),
                                None => diags.push(
                                    Diagnostic::error("ignore_changes entries are attribute names, written without quotes")
                                        .at(span_of(file, item.span())),
                                ),
                            },
                        }
                    }
                }
                None => diags.push(
                    Diagnostic::error("ignore_changes must be a list of attribute names")
                        .at(span_of(file, attr.value.span())),
                ),
            },
            other => diags.push(
                Diagnostic::error(format!(
                    "unsupported lifecycle argument \"{other}\" in {name}"
                ))
                .at(attr_span(file, attr))
                .help("lifecycle takes prevent_destroy, create_before_destroy and ignore_changes"),
            ),
        }
    }
}

fn check_duplicates(module: &Module, sources: &SourceMap, diags: &mut Diagnostics) {
    let mut seen: HashMap<String, Option<Span>> = HashMap::new();
    let mut check = |key: String, span: &Option<Span>, what: &str| {
        if let Some(first) = seen.get(&key) {
            let mut d = Diagnostic::error(format!("{what} {key} is declared twice"))
                .at(span.clone())
                .label("second declaration");
            if let Some(first) = first {
                d = d.help(format!(
                    "the first declaration is at {}; rename or remove one",
                    sources.location(first)
                ));
            }
            diags.push(d);
        } else {
            seen.insert(key, span.clone());
        }
    };
    for r in &module.resources {
        check(r.key(), &r.span, "resource");
    }
    for r in &module.data {
        check(format!("data.{}", r.key()), &r.span, "data source");
    }
    for v in &module.variables {
        check(format!("var.{}", v.name), &v.span, "variable");
    }
    for l in &module.locals {
        check(format!("local.{}", l.name), &l.span, "local value");
    }
    for o in &module.outputs {
        check(format!("output.{}", o.name), &o.span, "output");
    }
    for c in &module.calls {
        check(format!("module.{}", c.name), &c.span, "module");
    }
    for p in &module.providers {
        check(
            format!("provider {}", p.addr()),
            &p.span,
            "configuration of",
        );
    }
}
