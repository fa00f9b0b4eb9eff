//! Diagnostics as a JSON document, in the shape of `terraform validate -json`, so editor
//! integrations and CI annotations written for Terraform read keel's too.

use crate::diag::{Diagnostics, Severity, SourceMap};
use serde_json::{Value as Json, json};

/// `{ format_version, valid, error_count, warning_count, diagnostics: [...] }`.
pub fn json(diags: &Diagnostics, sources: &SourceMap) -> Json {
    let errors = diags
        .items
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let items: Vec<Json> = diags
        .items
        .iter()
        .map(|d| {
            let mut item = json!({
                "severity": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                "summary": d.message,
                "detail": d.help.clone().unwrap_or_default(),
            });
            if let Some(span) = &d.span {
                let file = sources.file(span.file);
                let start = span.range.start.min(file.text.len());
                let end = span.range.end.clamp(start, file.text.len());
                let pos = |offset: usize| {
                    let (line, column) = file.line_col(offset);
                    json!({ "line": line, "column": column, "byte": offset })
                };
                let (line, _) = file.line_col(start);
                let line_start = file.text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
                let line_end = file.text[start..]
                    .find('\n')
                    .map(|i| start + i)
                    .unwrap_or(file.text.len());
                item["range"] = json!({
                    "filename": file.display,
                    "start": pos(start),
                    "end": pos(end),
                });
                item["snippet"] = json!({
                    "code": &file.text[line_start..line_end],
                    "start_line": line,
                    "highlight_start_offset": start - line_start,
                    "highlight_end_offset": end.min(line_end).max(start) - line_start,
                });
            }
            item
        })
        .collect();
    json!({
        "format_version": "1.0",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": diags.items.len() - errors,
        "diagnostics": items,
    })
}
