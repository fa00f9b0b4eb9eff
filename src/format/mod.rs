//! Format: HCL source -> the same source laid out as `terraform fmt` lays it out (two-space
//! indents, `=` aligned across consecutive one-line attributes, one space between tokens,
//! `"${x}"` unwrapped, block labels quoted). Comments and heredoc bodies are kept byte for
//! byte, blank lines are kept (as Terraform keeps them, trailing spaces removed), and
//! formatting formatted text changes nothing.
//!
//! It works on tokens, as Terraform's formatter does: [`lexer`] splits the source,
//! [`rewrite`] makes Terraform's few non-whitespace changes, [`layout`] puts the spaces back.

mod layout;
mod lexer;
mod rewrite;

use crate::diag::{Diagnostic, FileId, Span};

/// The canonical form of `src`, or where it fails to parse (a file that does not parse is
/// never reformatted: the result could be far from what was meant).
pub fn format(src: &str, file: FileId) -> Result<String, Diagnostic> {
    if let Err(e) = hcl_edit::parser::parse_body(src) {
        let offset = e.location().offset();
        return Err(Diagnostic::error(format!("syntax error: {}", e.message()))
            .at(Some(Span {
                file,
                range: offset..offset + 1,
            }))
            .label("here")
            .help("keel formats only files that parse; fix this first"));
    }
    let tokens = rewrite::rewrite(&lexer::lex(src));
    Ok(layout::layout(&tokens))
}

#[cfg(test)]
mod tests;
