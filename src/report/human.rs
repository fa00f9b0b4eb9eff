//! The terminal renderer: Terraform's familiar `+ / ~ / -/+ / -` blocks with attribute-level
//! before and after, "# forces replacement" where it applies, and a closing summary line.

use super::Redactor;
use crate::apply::ApplyReport;
use crate::eval::SENSITIVE;
use crate::plan::{Action, Change, Plan};
use crate::providers::schema;
use crate::value::{Value, quote};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Renders a plan the way `keel plan` prints it.
pub fn plan(plan: &Plan, redact: &Redactor) -> String {
    let mut out = String::new();
    let changed = plan.changed_sorted();
    let reads = plan.deferred_reads();
    if changed.is_empty() && reads.is_empty() {
        out.push_str("No changes. Your infrastructure matches the configuration.\n");
        if !plan.output_changes.is_empty() {
            out.push('\n');
            output_lines(&mut out, plan, redact);
            out.push_str("\nApplying will record the new output values; no resource changes.\n");
        }
        warning_lines(&mut out, plan);
        if let Some(g) = &plan.guard {
            out.push_str(&super::guard::human(g, redact));
        }
        return out;
    }
    out.push_str("keel will perform the following actions:\n\n");
    let mut symbols: Vec<(&str, &str)> = [
        (Action::Create, "create"),
        (Action::Update, "update in-place"),
        (
            Action::DeleteThenCreate,
            "destroy and then create replacement",
        ),
        (
            Action::CreateThenDelete,
            "create replacement and then destroy",
        ),
        (Action::Delete, "destroy"),
    ]
    .into_iter()
    .filter(|(a, _)| changed.iter().any(|c| c.action == *a))
    .map(|(a, t)| (a.symbol(), t))
    .collect();
    if !reads.is_empty() {
        symbols.push(("<=", "read (data resources)"));
    }
    if !symbols.is_empty() {
        out.push_str("Resource actions are indicated with the following symbols:\n");
        for (s, t) in symbols {
            let _ = writeln!(out, "{s:>5} {t}");
        }
        out.push('\n');
    }
    for r in &reads {
        deferred_read(&mut out, r, redact);
        out.push('\n');
    }
    for c in &changed {
        change(&mut out, plan, &super::masked(plan, c), redact);
        out.push('\n');
    }
    let counts = plan.counts();
    let imports = if plan.imports.is_empty() {
        String::new()
    } else {
        format!("{} to import, ", plan.imports.len())
    };
    let _ = writeln!(
        out,
        "Plan: {imports}{} to add, {} to change, {} to destroy.",
        counts.add, counts.change, counts.destroy
    );
    let irreversible: Vec<String> = changed
        .iter()
        .filter(|c| c.action.is_irreversible())
        .map(|c| c.addr.to_string())
        .collect();
    if !irreversible.is_empty() {
        let _ = writeln!(
            out,
            "\nIrreversible: {} step(s) delete an existing object and cannot be undone if the apply fails later: {}",
            irreversible.len(),
            irreversible.join(", ")
        );
    }
    if !plan.output_changes.is_empty() && !plan.destroy {
        out.push('\n');
        output_lines(&mut out, plan, redact);
    }
    warning_lines(&mut out, plan);
    if let Some(g) = &plan.guard {
        out.push_str(&super::guard::human(g, redact));
    }
    out
}

/// Moves the plan could not make, as Terraform warns of them.
fn warning_lines(out: &mut String, plan: &Plan) {
    if plan.warnings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nWarning: Unresolved resource instance address changes\n"
    );
    for w in &plan.warnings {
        let _ = writeln!(out, "  - {w}");
    }
}

/// `<= data "TYPE" "NAME" { ... }`: a data source read during apply, and why.
fn deferred_read(out: &mut String, r: &crate::plan::DataRead, redact: &Redactor) {
    let _ = writeln!(out, "  # {} will be read during apply", r.addr);
    if let Some(why) = r.deferred {
        let _ = writeln!(out, "  # ({})", why.note());
    }
    let _ = writeln!(
        out,
        " <= data \"{}\" \"{}\" {{",
        r.addr.0.type_, r.addr.0.name
    );
    let map = r.value.as_map().cloned().unwrap_or_default();
    object_lines(out, &map, "+", 6, redact, &[]);
    let _ = writeln!(out, "    }}");
}

/// "Changes to Outputs:" with `+`, `~` and `-` lines.
fn output_lines(out: &mut String, plan: &Plan, redact: &Redactor) {
    let _ = writeln!(out, "Changes to Outputs:");
    let width = plan
        .output_changes
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(0);
    for (name, (before, after)) in &plan.output_changes {
        let show = |v: &Value| {
            if plan.sensitive_outputs.contains(name) {
                "(sensitive value)".to_string()
            } else {
                redact.value(v)
            }
        };
        let _ = match (before, after) {
            (None, a) => writeln!(out, "  + {name:<width$} = {}", show(a)),
            (Some(b), Value::Null) => writeln!(out, "  - {name:<width$} = {} -> null", show(b)),
            (Some(b), a) => writeln!(out, "  ~ {name:<width$} = {} -> {}", show(b), show(a)),
        };
    }
}

fn header(plan: &Plan, c: &Change) -> String {
    let moved = plan.moved_from(&c.addr);
    let imported = plan.importing(&c.addr);
    if c.action == Action::NoOp {
        if let Some(from) = moved {
            return format!("  # {from} has moved to {}", c.addr);
        }
        if imported.is_some() {
            return format!("  # {} will be imported", c.addr);
        }
    }
    let what = match c.action {
        Action::Create => "will be created".to_string(),
        Action::Update => "will be updated in-place".to_string(),
        Action::DeleteThenCreate => {
            "must be replaced (irreversible: the old object is deleted before its replacement is created)".to_string()
        }
        Action::CreateThenDelete => "must be replaced (the replacement is created first)".to_string(),
        Action::Delete => "will be destroyed (irreversible)".to_string(),
        Action::NoOp => "is unchanged".to_string(),
    };
    let mut line = format!("  # {} {what}", c.addr);
    if let Some(from) = moved {
        line.push_str(&format!("\n  # (moved from {from})"));
    }
    if let Some(i) = imported {
        line.push_str(&format!("\n  # (imported from {})", quote(&i.id)));
    }
    line
}

fn change(out: &mut String, plan: &Plan, c: &Change, redact: &Redactor) {
    let _ = writeln!(out, "{}", header(plan, c));
    let sym = c.action.symbol();
    let name_part = format!("\"{}\" \"{}\"", c.addr.type_, c.addr.name);
    let _ = writeln!(out, "{sym:>3} resource {name_part} {{");
    match c.action {
        Action::Create => {
            let map = c.after.as_map().cloned().unwrap_or_default();
            object_lines(out, &map, "+", 6, redact, &[]);
        }
        Action::Delete => {
            let before = c.before.clone().unwrap_or_default();
            let id = before.get("id");
            let _ = writeln!(out, "      - id = {} -> null", redact.value(id));
            let hidden = before
                .as_map()
                .map(|m| m.values().filter(|v| !v.is_null()).count())
                .unwrap_or(1);
            if hidden > 1 {
                let _ = writeln!(
                    out,
                    "        # ({} unchanged attributes hidden)",
                    hidden - 1
                );
            }
        }
        Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete => {
            changed_lines(out, c, redact);
        }
        Action::NoOp => {
            let id = c.after.get("id");
            let _ = writeln!(out, "        id = {}", redact.value(id));
            let hidden = c
                .after
                .as_map()
                .map(|m| m.values().filter(|v| !v.is_null()).count())
                .unwrap_or(1);
            if hidden > 1 {
                let _ = writeln!(
                    out,
                    "        # ({} unchanged attributes hidden)",
                    hidden - 1
                );
            }
        }
    }
    let _ = writeln!(out, "    }}");
}

/// The lines of an update or replacement: each changed attribute, then computed
/// attributes that become unknown, then a count of what is hidden.
fn changed_lines(out: &mut String, c: &Change, redact: &Redactor) {
    let before = c.before.clone().unwrap_or_default();
    let after = c.after.as_map().cloned().unwrap_or_default();
    let width = c.attrs.iter().map(|a| a.name.len()).max().unwrap_or(0);
    let mut shown = Vec::new();
    let schema = schema(&c.addr.type_);
    for a in &c.attrs {
        shown.push(a.name.clone());
        let is_block = schema.is_some_and(|s| s.block(&a.name).is_some());
        let force = if a.forces_replacement {
            " # forces replacement"
        } else {
            ""
        };
        if is_block {
            block_change(out, &a.name, &a.before, &a.after, redact, force);
            continue;
        }
        if let Some((b, n)) = document_pair(a, redact) {
            let _ = writeln!(out, "      ~ {:<width$} = <<-EOT{force}", a.name);
            for (tag, line) in line_diff(b, n) {
                let _ = writeln!(out, "        {tag} {line}");
            }
            let _ = writeln!(out, "          EOT");
            continue;
        }
        match (&a.before, &a.after) {
            (Value::Map(b), Value::Map(n)) => {
                let _ = writeln!(out, "      ~ {:<width$} = {{{force}", a.name);
                map_diff(out, b, n, 10, redact);
                let _ = writeln!(out, "        }}");
            }
            (b, n) => {
                let (b, n) = (redact.value(b), redact.value(n));
                if b == SENSITIVE && n == SENSITIVE {
                    // Which secret changed, not what it is.
                    let _ = writeln!(out, "      ~ {:<width$} = {SENSITIVE}{force}", a.name);
                } else {
                    let _ = writeln!(out, "      ~ {:<width$} = {b} -> {n}{force}", a.name);
                }
            }
        }
    }
    if c.action.is_replace() {
        let unknown: Vec<(&String, &Value)> = after
            .iter()
            .filter(|(k, v)| matches!(v, Value::Unknown) && !shown.contains(k))
            .collect();
        let width = unknown.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, _) in unknown {
            shown.push(k.clone());
            let _ = writeln!(
                out,
                "      ~ {k:<width$} = {} -> (known after apply)",
                redact.value(before.get(k))
            );
        }
    }
    let hidden = after
        .iter()
        .filter(|(k, v)| !v.is_null() && !shown.contains(k))
        .count();
    if hidden > 0 {
        let _ = writeln!(out, "        # ({hidden} unchanged attributes hidden)");
    }
}

fn map_diff(
    out: &mut String,
    before: &BTreeMap<String, Value>,
    after: &BTreeMap<String, Value>,
    indent: usize,
    redact: &Redactor,
) {
    let pad = " ".repeat(indent);
    let width = before
        .keys()
        .chain(after.keys())
        .map(|k| quote(k).len())
        .max()
        .unwrap_or(0);
    let mut unchanged = 0;
    let keys: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for k in keys {
        let q = quote(k);
        match (before.get(k), after.get(k)) {
            (Some(b), Some(a)) if b == a => unchanged += 1,
            (Some(b), Some(a)) => {
                let _ = writeln!(
                    out,
                    "{pad}~ {q:<width$} = {} -> {}",
                    redact.value(b),
                    redact.value(a)
                );
            }
            (None, Some(a)) => {
                let _ = writeln!(out, "{pad}+ {q:<width$} = {}", redact.value(a));
            }
            (Some(b), None) => {
                let _ = writeln!(out, "{pad}- {q:<width$} = {} -> null", redact.value(b));
            }
            (None, None) => {}
        }
    }
    if unchanged > 0 {
        let _ = writeln!(out, "{pad}  # ({unchanged} unchanged elements hidden)");
    }
}

fn block_change(
    out: &mut String,
    name: &str,
    before: &Value,
    after: &Value,
    redact: &Redactor,
    force: &str,
) {
    let empty = [];
    let b = before.as_list().unwrap_or(&empty);
    let a = after.as_list().unwrap_or(&empty);
    for item in b {
        let _ = writeln!(out, "      - {name} {{{force}");
        object_lines(
            out,
            item.as_map().unwrap_or(&BTreeMap::new()),
            "-",
            10,
            redact,
            &[],
        );
        let _ = writeln!(out, "        }}");
    }
    for item in a {
        let _ = writeln!(out, "      + {name} {{{force}");
        object_lines(
            out,
            item.as_map().unwrap_or(&BTreeMap::new()),
            "+",
            10,
            redact,
            &[],
        );
        let _ = writeln!(out, "        }}");
    }
}

/// Every non-null attribute of an object, as `+ name = value` lines; nested blocks
/// (lists of objects) as blocks.
fn object_lines(
    out: &mut String,
    map: &BTreeMap<String, Value>,
    sym: &str,
    indent: usize,
    redact: &Redactor,
    skip: &[&str],
) {
    let pad = " ".repeat(indent);
    let is_block = |v: &Value| matches!(v, Value::List(items) if !items.is_empty() && items.iter().all(|i| matches!(i, Value::Map(_))));
    let attrs: Vec<(&String, &Value)> = map
        .iter()
        .filter(|(k, v)| !v.is_null() && !skip.contains(&k.as_str()) && !is_block(v))
        .filter(|(_, v)| !matches!(v, Value::List(l) if l.is_empty()))
        .collect();
    let width = attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in attrs {
        match v {
            Value::Map(m) if !m.is_empty() => {
                let _ = writeln!(out, "{pad}{sym} {k:<width$} = {{");
                let w = m.keys().map(|k| quote(k).len()).max().unwrap_or(0);
                for (mk, mv) in m {
                    let _ = writeln!(
                        out,
                        "{pad}    {sym} {:<w$} = {}",
                        quote(mk),
                        redact.value(mv)
                    );
                }
                let _ = writeln!(out, "{pad}  }}");
            }
            _ => {
                let _ = writeln!(out, "{pad}{sym} {k:<width$} = {}", redact.value(v));
            }
        }
    }
    for (k, v) in map.iter().filter(|(_, v)| is_block(v)) {
        for item in v.as_list().unwrap_or(&[]) {
            let _ = writeln!(out, "{pad}{sym} {k} {{");
            object_lines(
                out,
                item.as_map().unwrap_or(&BTreeMap::new()),
                sym,
                indent + 4,
                redact,
                &[],
            );
            let _ = writeln!(out, "{pad}  }}");
        }
    }
}

/// The closing lines of `keel apply` and `keel destroy`: what failed and why (the cloud's
/// error code and message), what rollback undid, and what is left pending.
pub fn apply_summary(report: &ApplyReport, destroy: bool) -> String {
    let mut out = String::new();
    if !report.failures.is_empty() || report.interrupted {
        for (addr, err) in &report.failures {
            let _ = writeln!(out, "\nError: {addr}: {err}");
        }
        if report.interrupted && report.failures.is_empty() {
            let _ = writeln!(out, "\nApply interrupted (Ctrl-C).");
        }
        match &report.rollback {
            Some(rb) => {
                let _ = writeln!(
                    out,
                    "\nApply failed and was rolled back{}.",
                    if rb.complete { "" } else { " only in part" }
                );
                if !rb.undone.is_empty() {
                    let _ = writeln!(out, "Undone ({}):", rb.undone.len());
                    for (addr, verb) in &rb.undone {
                        let what = match verb {
                            crate::apply::Verb::UndoUpdate => "restored its previous attributes",
                            crate::apply::Verb::UndoReplace => {
                                "deleted its replacement; the previous object is current again"
                            }
                            _ => "deleted what the apply created",
                        };
                        let _ = writeln!(out, "  {addr}: {what}");
                    }
                }
                for addr in &rb.kept {
                    let _ = writeln!(
                        out,
                        "  {addr}: kept its replacement (irreversible: the old object was deleted first)"
                    );
                }
                for (addr, err) in &rb.failed {
                    let _ = writeln!(out, "  {addr}: could not be undone: {err}");
                }
                for addr in &rb.blocked {
                    let _ = writeln!(
                        out,
                        "  {addr}: not undone yet (waits for an undo that failed)"
                    );
                }
                if rb.complete {
                    let _ = writeln!(
                        out,
                        "The cloud and the state are as they were before the apply."
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "The rollback is pending in state: fix the cause, then run keel rollback (or keel apply, which resumes it first)."
                    );
                }
            }
            None if report.rollback_pending => {
                let _ = writeln!(
                    out,
                    "\nApply stopped; its rollback is pending in state. Run keel rollback (or keel apply, which resumes it first)."
                );
            }
            None if report.cleanup_failed => {
                let _ = writeln!(
                    out,
                    "\nEvery create and update succeeded ({} added, {} changed), but a closing delete failed; it stays in state and the next apply tries it again ({} destroyed so far).",
                    report.added, report.changed, report.destroyed
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "\nApply stopped after the failure (no rollback). Completed so far: {} added, {} changed, {} destroyed; all of it is recorded in state.",
                    report.added, report.changed, report.destroyed
                );
            }
        }
        return out;
    }
    if destroy {
        let _ = writeln!(
            out,
            "\nDestroy complete! Resources: {} destroyed.",
            report.destroyed
        );
    } else {
        let _ = writeln!(
            out,
            "\nApply complete! Resources: {} added, {} changed, {} destroyed.",
            report.added, report.changed, report.destroyed
        );
    }
    out
}

/// `name = value` lines for outputs, sensitive ones hidden.
pub fn outputs(values: &BTreeMap<String, (Value, bool)>) -> String {
    let mut out = String::new();
    for (name, (v, sensitive)) in values {
        let shown = if *sensitive {
            "<sensitive>".to_string()
        } else {
            v.to_hcl()
        };
        let _ = writeln!(out, "{name} = {shown}");
    }
    out
}

/// Before and after of a changed string attribute that is a document (see
/// [`is_document`]) and holds no secret: such changes are shown line by line.
pub(super) fn document_pair<'a>(
    a: &'a crate::plan::AttrChange,
    redact: &Redactor,
) -> Option<(&'a str, &'a str)> {
    match (&a.before, &a.after) {
        (Value::String(b), Value::String(n))
            if (is_document(b) || is_document(n))
                && redact.value(&a.before) != "(sensitive value)"
                && redact.value(&a.after) != "(sensitive value)" =>
        {
            Some((b, n))
        }
        _ => None,
    }
}

/// A multi-line string or a JSON document (an IAM policy, user data): diffed line by line.
fn is_document(s: &str) -> bool {
    s.contains('\n') || normalized_json(s).is_some()
}

/// A JSON object or array, pretty-printed with sorted keys, so key order never shows as a
/// change.
fn normalized_json(s: &str) -> Option<String> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(s).ok()?;
    // keel's Value keeps map keys sorted.
    serde_json::to_string_pretty(&Value::from_json(&json).to_json()).ok()
}

/// The lines of two documents, each tagged `+`, `-` or ` `.
pub fn line_diff(before: &str, after: &str) -> Vec<(char, String)> {
    let b = normalized_json(before).unwrap_or_else(|| before.to_string());
    let a = normalized_json(after).unwrap_or_else(|| after.to_string());
    similar::TextDiff::from_lines(&b, &a)
        .iter_all_changes()
        .map(|c| {
            let tag = match c.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => ' ',
            };
            (tag, c.value().trim_end_matches('\n').to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_diff_by_line_after_sorting_keys() {
        let before =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}"#;
        let after =
            r#"{"Statement":[{"Action":"s3:PutObject","Effect":"Allow"}],"Version":"2012-10-17"}"#;
        let lines = line_diff(before, after);
        let changed: Vec<String> = lines
            .iter()
            .filter(|(t, _)| *t != ' ')
            .map(|(t, l)| format!("{t}{}", l.trim()))
            .collect();
        assert_eq!(
            changed,
            [
                r#"-"Action": "s3:GetObject","#,
                r#"+"Action": "s3:PutObject","#
            ]
        );
    }

    #[test]
    fn plain_strings_are_not_documents() {
        assert!(!is_document("10.0.0.0/16"));
        assert!(is_document("#!/bin/bash\nnvidia-smi\n"));
        assert!(is_document("[1, 2]"));
    }
}
