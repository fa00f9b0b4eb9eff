//! `module "NAME" { source = "./x" ... }` blocks: reading one into a [`ModuleCall`], and
//! loading every directory the calls name, each once however many calls name it.

use super::load::{DirProblem, read_module};
use super::*;
use crate::diag::{Diagnostic, Diagnostics};
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use std::collections::HashMap;
use std::path::{Component, Path};

/// Reads a `module` block into `module.calls`.
pub(super) fn read_call(
    module: &mut Module,
    file: FileId,
    name: &str,
    block: &Block,
    span: Option<Span>,
    diags: &mut Diagnostics,
) {
    let mut call = ModuleCall {
        name: name.to_string(),
        source: String::new(),
        source_span: None,
        module: None,
        args: Vec::new(),
        count: None,
        for_each: None,
        depends_on: Vec::new(),
        providers: Vec::new(),
        file,
        span: span.clone(),
    };
    let what = format!("module.{name}");
    let mut has_source = false;
    for structure in block.body.iter() {
        let Some(attr) = structure.as_attribute() else {
            let inner = structure.as_block().expect("not an attribute, so a block");
            diags.push(
                Diagnostic::error(format!(
                    "unsupported block \"{}\" in {what}",
                    inner.ident.as_str()
                ))
                .at(block_header_span(file, inner))
                .help("a module block takes source, its input variables as NAME = VALUE, count, for_each, depends_on and providers"),
            );
            continue;
        };
        let expr = || Expr {
            file,
            expr: attr.value.clone(),
        };
        let value_span = span_of(file, attr.value.span());
        match attr.key.as_str() {
            "source" => {
                has_source = true;
                call.source_span = value_span.clone();
                match attr.value.as_str() {
                    Some(s) => call.source = s.to_string(),
                    None => diags.push(
                        Diagnostic::error(format!("the source of {what} must be a literal string"))
                            .at(value_span)
                            .help("write source = \"./modules/NAME\"; keel reads modules before evaluating anything"),
                    ),
                }
            }
            "version" => diags.push(
                Diagnostic::error(format!(
                    "version in {what} applies only to registry modules"
                ))
                .at(attr_span(file, attr))
                .help("keel supports local module sources (./ or ../) for now; remove version"),
            ),
            "count" | "for_each" => {
                let other = if attr.key.as_str() == "count" {
                    call.count = Some(expr());
                    &call.for_each
                } else {
                    call.for_each = Some(expr());
                    &call.count
                };
                if other.is_some() {
                    diags.push(
                        Diagnostic::error(format!("{what} sets both count and for_each"))
                            .at(attr_span(file, attr))
                            .help("use one of them: count for N alike instances, for_each for one instance per key"),
                    );
                }
            }
            "depends_on" => match attr.value.as_array() {
                Some(items) => call.depends_on.extend(items.iter().map(|e| Expr {
                    file,
                    expr: e.clone(),
                })),
                None => diags.push(
                    Diagnostic::error("depends_on must be a list of references")
                        .at(value_span)
                        .help("write depends_on = [aws_vpc.main, module.network]"),
                ),
            },
            "providers" => read_providers(&mut call, file, &attr.value, diags),
            _ => call.args.push(Local {
                name: attr.key.as_str().to_string(),
                expr: expr(),
                span: attr_span(file, attr),
            }),
        }
    }
    if !has_source {
        diags.push(
            Diagnostic::error(format!("{what} has no source"))
                .at(span)
                .help("add source = \"./modules/NAME\": the directory that holds the module"),
        );
        return;
    }
    module.calls.push(call);
}

/// `providers = { aws = aws.west, aws.east = aws.east }`.
fn read_providers(
    call: &mut ModuleCall,
    file: FileId,
    value: &Expression,
    diags: &mut Diagnostics,
) {
    let bad = |span: Option<Span>| {
        Diagnostic::error("providers must map the module's provider names to this module's, like { aws = aws.west }")
            .at(span)
            .help("each entry is NAME = CONFIGURATION, where both are aws or aws.ALIAS")
    };
    let Some(obj) = value.as_object() else {
        diags.push(bad(span_of(file, value.span())));
        return;
    };
    for (key, v) in obj.iter() {
        let child = match key {
            ObjectKey::Ident(i) => Some(i.as_str().to_string()),
            ObjectKey::Expression(e) => provider_name(e),
        };
        let parent = provider_name(v.expr());
        match (child, parent) {
            (Some(child), Some(parent)) => call.providers.push(ProviderPass {
                child,
                parent,
                span: span_of(file, v.expr().span()),
            }),
            _ => diags.push(bad(span_of(file, v.expr().span()))),
        }
    }
}

/// `aws` or `aws.west` written as a reference.
fn provider_name(e: &Expression) -> Option<String> {
    match e {
        Expression::Variable(v) => Some(v.as_str().to_string()),
        Expression::Traversal(t) => match (&t.expr, t.operators.as_slice()) {
            (Expression::Variable(v), [op]) => match op.value() {
                TraversalOperator::GetAttr(a) => Some(format!("{}.{}", v.as_str(), a.as_str())),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// Loads the module of every call, breadth first, so each directory is read once.
pub(super) fn load_called(
    modules: &mut Vec<Module>,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) {
    let mut by_dir: HashMap<PathBuf, ModuleId> = HashMap::new();
    if let Ok(root) = modules[0].dir.canonicalize() {
        by_dir.insert(root, ModuleId(0));
    }
    let mut m = 0;
    while m < modules.len() {
        for c in 0..modules[m].calls.len() {
            let call = &modules[m].calls[c];
            let Some(dir) = resolve(&modules[m].dir, call, diags) else {
                continue;
            };
            let at = call.source_span.clone();
            let what = format!("module.{}", call.name);
            let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            let id = match by_dir.get(&canonical) {
                Some(id) => *id,
                None => {
                    match read_module(&dir, sources, diags, None) {
                        Ok(module) => {
                            let id = ModuleId(modules.len() as u32);
                            modules.push(module);
                            by_dir.insert(canonical, id);
                            id
                        }
                        Err(problem) => {
                            let why = match problem {
                                DirProblem::Unreadable(e) => format!("cannot be read: {e}"),
                                DirProblem::Empty => "holds no .hcl or .tf files".to_string(),
                            };
                            diags.push(
                            Diagnostic::error(format!(
                                "the source of {what}, {}, {why}",
                                dir.display()
                            ))
                            .at(at)
                            .help("point source at the directory that holds the module's .hcl files"),
                        );
                            continue;
                        }
                    }
                }
            };
            modules[m].calls[c].module = Some(id);
        }
        m += 1;
    }
}

/// The directory a call's source names, relative to the calling module's directory.
fn resolve(from: &Path, call: &ModuleCall, diags: &mut Diagnostics) -> Option<PathBuf> {
    let source = call.source.as_str();
    let what = format!("module.{}", call.name);
    if source.is_empty() {
        // A non-literal source was already reported.
        return None;
    }
    if !(source.starts_with("./") || source.starts_with("../")) {
        diags.push(
            Diagnostic::error(format!(
                "keel supports local module sources (./ or ../) for now; the source of {what} is \"{source}\""
            ))
            .at(call.source_span.clone())
            .label("not a local path")
            .help("copy the module into the repository and write source = \"./modules/NAME\" (a path relative to this file's directory)"),
        );
        return None;
    }
    let dir = normalize(&from.join(source));
    if !dir.is_dir() {
        diags.push(
            Diagnostic::error(format!(
                "the source of {what}, {}, is not a directory",
                dir.display()
            ))
            .at(call.source_span.clone())
            .label("no such directory")
            .help(format!(
                "source paths are relative to the calling module's directory, {}",
                from.display()
            )),
        );
        return None;
    }
    Some(dir)
}

/// `a/b/../c` -> `a/c`, without touching the file system, so `path.module` and messages
/// read the way the user wrote the path.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn paths_are_normalized_without_the_file_system() {
        assert_eq!(
            normalize(Path::new("stacks/a/../../modules/vpc")),
            Path::new("modules/vpc")
        );
        assert_eq!(normalize(Path::new("./x/./y")), Path::new("x/y"));
        assert_eq!(normalize(Path::new("../a")), Path::new("../a"));
        assert_eq!(normalize(Path::new("a/..")), Path::new("."));
    }
}
