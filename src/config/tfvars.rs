//! Variables files: `*.tfvars` (HCL `name = value` lines) and `*.tfvars.json` (one JSON
//! object) -> [`Assignment`]s. The stack's `terraform.tfvars`, `terraform.tfvars.json` and
//! `*.auto.tfvars[.json]` are read when it loads; `-var-file` files when a command asks.

use super::load::parse_file;
use super::{Expr, attr_span, block_header_span};
use crate::diag::{Diagnostic, Diagnostics, FileId, SourceFile, SourceMap, Span};
use crate::value::Value;
use std::path::{Path, PathBuf};

/// One `name = value` from a variables file.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: String,
    pub value: Assigned,
    /// The name, where errors about this value point.
    pub span: Option<Span>,
    pub file: FileId,
}

/// The value side of an assignment.
#[derive(Debug, Clone)]
pub enum Assigned {
    /// From a `.tfvars` file: an expression of constants.
    Expr(Expr),
    /// From a `.tfvars.json` file.
    Json(Value),
}

/// `terraform.tfvars`, `terraform.tfvars.json`, then `*.auto.tfvars` and
/// `*.auto.tfvars.json` in name order: the files Terraform reads without being asked, in
/// the order later ones win.
pub fn read_auto(dir: &Path, sources: &mut SourceMap, diags: &mut Diagnostics) -> Vec<Assignment> {
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json")
                })
        })
        .collect();
    auto.sort();
    let fixed = ["terraform.tfvars", "terraform.tfvars.json"]
        .into_iter()
        .map(|n| dir.join(n))
        .filter(|p| p.is_file());
    let mut out = Vec::new();
    for path in fixed.chain(auto) {
        out.extend(read_file(&path, sources, diags));
    }
    out
}

/// Reads one variables file, JSON when its name ends in `.json`.
pub fn read_file(path: &Path, sources: &mut SourceMap, diags: &mut Diagnostics) -> Vec<Assignment> {
    if path.extension().and_then(|e| e.to_str()) == Some("json") {
        return read_json(path, sources, diags);
    }
    let Some((file, body)) = parse_file(path, sources, diags) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for structure in body.iter() {
        if let Some(attr) = structure.as_attribute() {
            out.push(Assignment {
                name: attr.key.as_str().to_string(),
                value: Assigned::Expr(Expr {
                    file,
                    expr: attr.value.clone(),
                }),
                span: attr_span(file, attr),
                file,
            });
        } else if let Some(block) = structure.as_block() {
            diags.push(
                Diagnostic::error(format!(
                    "a variables file holds name = value lines, not blocks (found \"{}\")",
                    block.ident.as_str()
                ))
                .at(block_header_span(file, block))
                .help("declare variables in the stack's .hcl files; set their values here"),
            );
        }
    }
    out
}

fn read_json(path: &Path, sources: &mut SourceMap, diags: &mut Diagnostics) -> Vec<Assignment> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error(format!(
                "cannot read the variables file {}: {e}",
                path.display()
            )));
            return Vec::new();
        }
    };
    let file = sources.add(SourceFile::new(
        path,
        super::load::display_path(path),
        text.clone(),
    ));
    let json: serde_json::Value = match serde_json::from_str(&text) {
        Ok(j) => j,
        Err(e) => {
            let offset = offset_of(&text, e.line(), e.column());
            diags.push(
                Diagnostic::error(format!("this variables file is not valid JSON: {e}"))
                    .at(Some(Span {
                        file,
                        range: offset..offset + 1,
                    }))
                    .label("here"),
            );
            return Vec::new();
        }
    };
    let serde_json::Value::Object(map) = json else {
        diags.push(
            Diagnostic::error("a .tfvars.json file holds one JSON object of variable values")
                .at(Some(Span { file, range: 0..1 }))
                .help("write {\"name\": value, ...}"),
        );
        return Vec::new();
    };
    let mut from = 0;
    map.into_iter()
        .map(|(name, v)| {
            let quoted = serde_json::to_string(&name).unwrap_or_default();
            let span = text[from..].find(&quoted).map(|i| {
                let start = from + i;
                from = start + quoted.len();
                Span {
                    file,
                    range: start..start + quoted.len(),
                }
            });
            Assignment {
                name,
                value: Assigned::Json(Value::from_json(&v)),
                span,
                file,
            }
        })
        .collect()
}

/// The byte offset of a one-based line and column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (start + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_files_are_read_in_terraform_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("b.auto.tfvars.json"),
            r#"{"x": "b-json", "list": [1, 2]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("a.auto.tfvars"), "x = \"a\"\n").unwrap();
        std::fs::write(
            dir.path().join("terraform.tfvars.json"),
            r#"{"x": "main-json"}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("terraform.tfvars"), "x = \"main\"\n").unwrap();
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::default();
        let got = read_auto(dir.path(), &mut sources, &mut diags);
        assert!(diags.is_empty());
        let order: Vec<String> = got
            .iter()
            .map(|a| match &a.value {
                Assigned::Json(v) => v.to_hcl(),
                Assigned::Expr(e) => e.expr.to_string().trim().to_string(),
            })
            .collect();
        assert_eq!(
            order,
            ["\"main\"", "\"main-json\"", "\"a\"", "\"b-json\"", "[1, 2]"]
        );
        let list = &got[4];
        let span = list.span.clone().unwrap();
        assert_eq!(
            sources.location(&span).rsplit_once('/').unwrap().1,
            "b.auto.tfvars.json:1:17"
        );
    }

    #[test]
    fn bad_json_is_pointed_at() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tfvars.json");
        std::fs::write(&p, "{\n  \"a\": 1,\n  oops\n}").unwrap();
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::default();
        assert!(read_file(&p, &mut sources, &mut diags).is_empty());
        let d = &diags.items[0];
        assert!(d.message.contains("not valid JSON"), "{}", d.message);
        assert!(sources.location(d.span.as_ref().unwrap()).ends_with(":3:3"));
        let p = dir.path().join("y.tfvars.json");
        std::fs::write(&p, "[1]").unwrap();
        read_file(&p, &mut sources, &mut diags);
        assert!(diags.items[1].message.contains("one JSON object"));
    }
}
