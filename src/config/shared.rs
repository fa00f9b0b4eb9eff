//! `keel.hcl` in the directory above a stack: guardrails (`policy`, `budget`, `cost`
//! blocks) shared by every stack beside it, e.g. `stacks/keel.hcl` for `stacks/*`. They
//! come before the stack's own blocks, so a stack's settings win. Nothing else may be
//! written there.

use super::load::parse_file;
use super::*;
use crate::diag::{Diagnostic, Diagnostics};
use std::path::Path;

/// The shared file's name.
pub const SHARED_FILE: &str = "keel.hcl";

const KINDS: &[&str] = &["policy", "budget", "cost"];

/// Reads `DIR/../keel.hcl` when there is one, putting its blocks before the stack's.
pub(super) fn read(
    dir: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
    terraform: &mut Terraform,
) {
    let Some(parent) = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.parent().map(Path::to_path_buf))
    else {
        return;
    };
    let path = parent.join(SHARED_FILE);
    if !path.is_file() {
        return;
    }
    let Some((file, body)) = parse_file(&path, sources, diags) else {
        return;
    };
    let mut shared = Vec::new();
    for structure in body.into_iter() {
        match structure.into_block() {
            Ok(block) if KINDS.contains(&block.ident.as_str()) && block.labels.is_empty() => {
                shared.push(Backend {
                    kind: block.ident.as_str().to_string(),
                    span: block_header_span(file, &block),
                    body: block.body,
                    file,
                })
            }
            Ok(block) => diags.push(
                Diagnostic::error(format!(
                    "a shared {SHARED_FILE} holds only policy, budget and cost blocks (found \"{}\"{})",
                    block.ident.as_str(),
                    if block.labels.is_empty() { "" } else { " with labels" }
                ))
                .at(block_header_span(file, &block))
                .help("it sets guardrails for every stack beside it; put resources and other blocks in the stack's own files"),
            ),
            Err(structure) => {
                let span = structure
                    .as_attribute()
                    .and_then(|a| attr_span(file, a));
                diags.push(
                    Diagnostic::error(format!(
                        "a shared {SHARED_FILE} holds only policy, budget and cost blocks"
                    ))
                    .at(span),
                )
            }
        }
    }
    shared.append(&mut terraform.guardrails);
    terraform.guardrails = shared;
}
