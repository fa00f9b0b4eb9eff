//! `import` blocks before planning: each target checked against the configuration (its
//! resource block exists, its key fits the block's count / for_each, one block per
//! address) and its id evaluated. The caller reads each object through the provider
//! without changing it ([`crate::import::preview_import`]) and plans as if state held
//! it; apply imports it for real before making the planned changes.

use crate::addr::{InstanceKey, ProviderAddr, ResourceAddr};
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::eval::refs::{Subject, references};
use crate::eval::{self, Ctx, Inputs};
use crate::graph::{Kind, Node, ResourceGraph};
use crate::value::Value;

/// One `import` block, checked and with its id known.
#[derive(Debug, Clone)]
pub struct ImportTarget {
    pub addr: ResourceAddr,
    pub id: String,
    /// The provider configuration of the resource it is imported into.
    pub provider: ProviderAddr,
    pub span: Option<Span>,
}

/// An object an `import` block brings under keel, as a plan lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Importing {
    pub addr: ResourceAddr,
    pub id: String,
    pub provider: ProviderAddr,
}

/// The stack's import blocks, checked, with their ids evaluated.
pub fn targets(
    config: &Config,
    graph: &ResourceGraph,
    inputs: &Inputs,
) -> Result<Vec<ImportTarget>, Diagnostics> {
    let blocks = &config.root().imports;
    if blocks.is_empty() {
        return Ok(Vec::new());
    }
    let mut diags = Diagnostics::default();
    // What the ids refer to: root variables and locals.
    let root = config.root();
    let mut needed = Vec::new();
    for b in blocks {
        for r in references(&b.id) {
            let node = match &r.subject {
                Subject::Var(n) => root.variable(n).map(Kind::Var),
                Subject::Local(n) => root
                    .locals
                    .iter()
                    .position(|l| &l.name == n)
                    .map(Kind::Local),
                Subject::Builtin => continue,
                _ => {
                    diags.push(
                        Diagnostic::error(format!(
                            "the id of an import block can refer to variables and locals, not {}",
                            r.text
                        ))
                        .at(r.span.clone())
                        .help("import ids must be known before planning: write the id, or compute it from variables and locals"),
                    );
                    continue;
                }
            };
            match node {
                Some(kind) => needed.push(Node::root(kind)),
                None => diags.push(
                    Diagnostic::error(format!("reference to undeclared {}", r.text))
                        .at(r.span.clone()),
                ),
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let envs = eval::evaluate_for(config, graph, inputs, &needed)?;
    let mut out: Vec<ImportTarget> = Vec::new();
    for b in blocks {
        let addr = &b.to;
        let Some((scope, i, r)) = config.find_resource(addr) else {
            diags.push(
                Diagnostic::error(format!(
                    "Configuration for import target does not exist: the configuration for the given import target {addr} does not exist"
                ))
                .at(b.to_span.clone())
                .help(format!(
                    "write its resource block first, resource \"{}\" \"{}\" {{ ... }}, so that keel knows what the object should look like",
                    addr.type_, addr.name
                )),
            );
            continue;
        };
        let fits = matches!(
            (&addr.key, &r.count, &r.for_each),
            (Some(InstanceKey::Int(_)), Some(_), None)
                | (Some(InstanceKey::Str(_)), None, Some(_))
                | (None, None, None)
        );
        if !fits {
            let expected = match (&r.count, &r.for_each) {
                (Some(_), _) => "an index, as in [0] (the block has count)",
                (_, Some(_)) => "a key, as in [\"name\"] (the block has for_each)",
                _ => "no index (the block has neither count nor for_each)",
            };
            diags.push(
                Diagnostic::error(format!(
                    "{addr} does not fit its resource block: the address needs {expected}"
                ))
                .at(b.to_span.clone()),
            );
            continue;
        }
        let provider = config.scope(scope).resource_providers[i].clone();
        if let Some(p) = &b.provider
            && p.name != provider.to_string()
        {
            diags.push(
                Diagnostic::error(format!(
                    "the import block names provider {}, but {addr} is managed through {provider}",
                    p.name
                ))
                .at(p.span.clone())
                .help("name the resource's own provider configuration, or leave provider out"),
            );
            continue;
        }
        if let Some(first) = out.iter().find(|t| &t.addr == addr) {
            let mut d = Diagnostic::error(format!("Duplicate import configuration for {addr}"))
                .at(b.span.clone());
            if let Some(s) = &first.span {
                d = d.help(format!(
                    "{addr} is already imported by the block at {}; each object is imported once",
                    config.sources.location(s)
                ));
            }
            diags.push(d);
            continue;
        }
        let mut ctx = Ctx::new(envs.env(0), b.id.file);
        let id = match ctx.eval(&b.id.expr) {
            Ok(Value::String(s)) if !s.is_empty() => s,
            Ok(Value::Unknown) => {
                diags.push(
                    Diagnostic::error(format!(
                        "the id to import into {addr} is not known before apply"
                    ))
                    .at(b.id.span())
                    .help("import ids must be known at plan time"),
                );
                continue;
            }
            Ok(other) => {
                diags.push(
                    Diagnostic::error(format!(
                        "the id to import into {addr} must be a non-empty string, got {}",
                        ctx.scrub(&other.to_hcl())
                    ))
                    .at(b.id.span()),
                );
                continue;
            }
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        out.push(ImportTarget {
            addr: addr.clone(),
            id,
            provider,
            span: b.span.clone(),
        });
    }
    diags.into_result()?;
    Ok(out)
}
