//! The Markdown renderer: a pull-request comment a reviewer takes in at a glance. Per stack
//! a headline with counts, the irreversible steps called out first, then one collapsible
//! `<details>` per resource with a `diff` block. Under the headline, the guardrails: the
//! cost line (increase or decrease) and the policy findings ([`super::guard`]). The comment stays under GitHub's 65,536-character
//! limit by leaving out resource details from the end, with a note saying so.

use super::Redactor;
use crate::eval::SENSITIVE;
use crate::plan::{Action, Change, Plan};
use crate::value::Value;
use std::fmt::Write;

/// GitHub refuses comments longer than this many characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// The comment for one or more stacks' plans, at most `limit` characters long.
pub fn comment(plans: &[(&Plan, &Redactor)], limit: usize) -> String {
    let mut head = String::from("## keel plan\n\n");
    let mut details: Vec<String> = Vec::new();
    let mut stacks = Vec::new();
    for (plan, redact) in plans {
        let (summary, blocks) = stack(plan, redact);
        stacks.push((summary, blocks.len()));
        details.extend(blocks);
    }
    // Headlines and warnings always go in; details as long as they fit.
    let mandatory: usize = head.len() + stacks.iter().map(|(s, _)| s.len() + 2).sum::<usize>();
    let note_room = 200;
    let mut budget = limit.saturating_sub(mandatory + note_room);
    let mut kept = 0;
    for d in &details {
        if d.len() > budget {
            break;
        }
        budget -= d.len();
        kept += 1;
    }
    let mut index = 0;
    for (summary, n) in &stacks {
        head.push_str(summary);
        for d in details.iter().skip(index).take(*n) {
            if index < kept {
                head.push_str(d);
            }
            index += 1;
        }
        head.push('\n');
    }
    let left_out = details.len() - kept;
    if left_out > 0 {
        let _ = writeln!(
            head,
            "> [!NOTE]\n> {left_out} resource diff(s) were left out to stay under GitHub's {GITHUB_COMMENT_LIMIT}-character comment limit. Run `keel plan` for the whole plan.\n"
        );
    }
    head
}

/// The headline block and the per-resource details of one stack.
fn stack(plan: &Plan, redact: &Redactor) -> (String, Vec<String>) {
    let summary = plan.summary();
    let mut s = String::new();
    let changed = plan.changed_sorted();
    let reads = plan.deferred_reads();
    if changed.is_empty() && reads.is_empty() {
        let _ = writeln!(s, "### `{}`: no changes\n", plan.stack);
        if let Some(g) = &plan.guard {
            s.push_str(&super::guard::markdown(g, redact));
        }
        return (s, Vec::new());
    }
    let imports = if summary.import > 0 {
        format!("{} to import, ", summary.import)
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "### `{}`: {imports}{} to add, {} to change, {} to replace, {} to destroy\n",
        plan.stack, summary.add, summary.change, summary.replace, summary.destroy
    );
    let irreversible: Vec<&&Change> = changed
        .iter()
        .filter(|c| c.action.is_irreversible())
        .collect();
    if !irreversible.is_empty() {
        let _ = writeln!(
            s,
            "> [!WARNING]\n> **Irreversible steps**: these delete an existing object and cannot be undone if the apply fails later."
        );
        for c in irreversible {
            let why = match c.action {
                Action::Delete => "destroyed".to_string(),
                _ => format!(
                    "replaced, old object deleted first (forced by {})",
                    code_list(&c.replace_paths())
                ),
            };
            let _ = writeln!(s, "> - `{}`: {why}", c.addr);
        }
        s.push('\n');
    }
    if let Some(g) = &plan.guard {
        s.push_str(&super::guard::markdown(g, redact));
    }
    let _ = writeln!(s, "| action | resource |\n|---|---|");
    for r in &reads {
        let _ = writeln!(s, "| read during apply | `{}` |", r.addr);
    }
    for c in &changed {
        let _ = writeln!(s, "| {} | `{}` |", row_label(plan, c), c.addr);
    }
    s.push('\n');
    if !plan.warnings.is_empty() {
        let _ = writeln!(
            s,
            "> [!WARNING]\n> **Unresolved resource instance address changes**"
        );
        for w in &plan.warnings {
            let _ = writeln!(s, "> - {w}");
        }
        s.push('\n');
    }
    let mut details: Vec<String> = reads.iter().map(|r| read_detail(r, redact)).collect();
    details.extend(
        changed
            .iter()
            .map(|c| detail(plan, &super::masked(plan, c), super::marks(plan, c), redact)),
    );
    (s, details)
}

/// The action column: the action, and a move or import that comes with it.
fn row_label(plan: &Plan, c: &Change) -> String {
    let moved = plan.moved_from(&c.addr);
    let imported = plan.importing(&c.addr);
    match (c.action, moved, imported) {
        (Action::NoOp, Some(from), _) => format!("move (from `{from}`)"),
        (Action::NoOp, None, Some(_)) => "import".to_string(),
        (a, Some(from), _) => format!("{} (moved from `{from}`)", label(a)),
        (a, None, Some(_)) => format!("import, then {}", label(a)),
        (a, None, None) => label(a).to_string(),
    }
}

/// A data source read during apply: why, and what it is read with.
fn read_detail(r: &crate::plan::DataRead, redact: &Redactor) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<details><summary><code>{}</code>: read during apply</summary>\n\n```diff",
        r.addr
    );
    if let Some(why) = r.deferred {
        let _ = writeln!(out, "# {}", why.note());
    }
    for (path, v) in flatten(&r.value) {
        let _ = writeln!(out, "+ {path} = {}", redact.value(&v));
    }
    out.push_str("```\n\n</details>\n\n");
    out
}

fn code_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn label(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::DeleteThenCreate => "**replace** (delete first)",
        Action::CreateThenDelete => "replace (create first)",
        Action::Delete => "**destroy**",
        Action::NoOp => "no-op",
    }
}

fn detail(
    plan: &Plan,
    c: &Change,
    marks: Option<&std::collections::BTreeSet<String>>,
    redact: &Redactor,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<details><summary><code>{}</code>: {}</summary>\n\n```diff",
        c.addr,
        row_label(plan, c).replace("**", "").replace('`', "")
    );
    if let Some(from) = plan.moved_from(&c.addr) {
        let _ = writeln!(out, "# moved from {from}");
    }
    if let Some(i) = plan.importing(&c.addr) {
        let _ = writeln!(out, "# imported from id {}", crate::value::quote(&i.id));
    }
    match c.action {
        Action::NoOp => {}
        Action::Create => {
            for (path, v) in flatten(&c.after) {
                let _ = writeln!(out, "+ {path} = {}", redact.value(&v));
            }
        }
        Action::Delete => {
            for (path, v) in flatten(c.before.as_ref().unwrap_or(&Value::Null)) {
                let _ = writeln!(out, "- {path} = {}", redact.value(&v));
            }
        }
        _ => {
            for a in &c.attrs {
                let force = if a.forces_replacement {
                    "   # forces replacement"
                } else {
                    ""
                };
                if marks.is_some_and(|m| m.contains(&a.name)) {
                    // Which secret changes, never what it is.
                    let _ = writeln!(out, "- {} = {SENSITIVE}", a.name);
                    let _ = writeln!(out, "+ {} = {SENSITIVE}{force}", a.name);
                    continue;
                }
                if let Some((b, n)) = super::human::document_pair(a, redact) {
                    let _ = writeln!(out, "  {} = <<EOT{force}", a.name);
                    for (tag, line) in super::human::line_diff(b, n) {
                        let _ = writeln!(out, "{tag}   {line}");
                    }
                    let _ = writeln!(out, "  EOT");
                    continue;
                }
                let before = prefixed(&a.name, &a.before);
                let after = prefixed(&a.name, &a.after);
                for (path, v) in &before {
                    if !after.iter().any(|(p, w)| p == path && w == v) {
                        let _ = writeln!(out, "- {path} = {}", redact.value(v));
                    }
                }
                for (path, v) in &after {
                    if !before.iter().any(|(p, w)| p == path && w == v) {
                        let _ = writeln!(out, "+ {path} = {}{force}", redact.value(v));
                    }
                }
            }
            if c.action.is_replace() {
                for (k, v) in c.after.as_map().into_iter().flatten() {
                    if matches!(v, Value::Unknown) && !c.attrs.iter().any(|a| &a.name == k) {
                        let _ = writeln!(out, "+ {k} = (known after apply)");
                    }
                }
            }
        }
    }
    out.push_str("```\n\n</details>\n\n");
    out
}

fn prefixed(name: &str, v: &Value) -> Vec<(String, Value)> {
    match v {
        Value::Map(_) | Value::List(_) => flatten(v)
            .into_iter()
            .map(|(p, v)| {
                (
                    format!("{name}{}{p}", if p.starts_with('[') { "" } else { "." }),
                    v,
                )
            })
            .collect(),
        other => vec![(name.to_string(), other.clone())],
    }
}

/// Leaf values by path (`tags.Name`, `rule[0].bucket_key_enabled`), nulls left out.
pub fn flatten(v: &Value) -> Vec<(String, Value)> {
    fn walk(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Null => {}
            Value::Map(m) if !m.is_empty() => {
                for (k, v) in m {
                    let key = if k
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        k.clone()
                    } else {
                        crate::value::quote(k)
                    };
                    walk(
                        v,
                        if path.is_empty() {
                            key
                        } else {
                            format!("{path}.{key}")
                        },
                        out,
                    );
                }
            }
            Value::List(l) if !l.is_empty() => {
                for (i, v) in l.iter().enumerate() {
                    walk(v, format!("{path}[{i}]"), out);
                }
            }
            Value::Map(_) | Value::List(_) => {}
            other => out.push((path, other.clone())),
        }
    }
    let mut out = Vec::new();
    walk(v, String::new(), &mut out);
    out
}
