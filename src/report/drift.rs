//! Drift reports for the on-call engineer: the terminal text, JSON (`keel-drift/1`) and
//! a Markdown issue body. Changed attributes show both values; secrets stay hidden.

use super::Redactor;
use crate::drift::AttrDrift;
use crate::eval::SENSITIVE;
use crate::value::Value;

/// A drifted value, unless state recorded the attribute as sensitive.
fn shown(a: &AttrDrift, v: &Value, redact: &Redactor) -> String {
    if a.sensitive {
        SENSITIVE.to_string()
    } else {
        redact.value(v)
    }
}
use crate::drift::DriftReport;
use serde_json::json;
use std::fmt::Write;

pub fn human(r: &DriftReport, redact: &Redactor) -> String {
    let mut out = String::new();
    if r.is_empty() {
        let _ = writeln!(
            out,
            "No drift: the cloud matches what stack {} recorded.",
            r.stack
        );
        return out;
    }
    let _ = writeln!(
        out,
        "Drift in stack {}: {} changed, {} missing, {} unmanaged.\n",
        r.stack,
        r.changed.len(),
        r.missing.len(),
        r.unmanaged.len()
    );
    for m in &r.missing {
        let _ = writeln!(out, "  - {} [id={}] was deleted outside keel", m.addr, m.id);
    }
    for c in &r.changed {
        let _ = writeln!(out, "  ~ {} [id={}] changed outside keel:", c.addr, c.id);
        for a in &c.attrs {
            let _ = writeln!(
                out,
                "      {}: {} (recorded) -> {} (in the cloud)",
                a.name,
                shown(a, &a.recorded, redact),
                shown(a, &a.actual, redact)
            );
        }
    }
    for u in &r.unmanaged {
        let _ = writeln!(
            out,
            "  ? {} {} is not managed by the stack ({})",
            u.kind, u.id, u.reason
        );
    }
    let _ = writeln!(
        out,
        "\nTo put the cloud back as the stack says: keel apply. To import or remove unmanaged objects, do it by hand for now."
    );
    out
}

pub fn json(r: &DriftReport, redact: &Redactor) -> serde_json::Value {
    json!({
        "format_version": "keel-drift/1",
        "stack": r.stack,
        "summary": { "changed": r.changed.len(), "missing": r.missing.len(), "unmanaged": r.unmanaged.len() },
        "changed": r.changed.iter().map(|c| json!({
            "address": c.addr.to_string(),
            "id": c.id,
            "attributes": c.attrs.iter().map(|a| json!({
                "name": a.name,
                "recorded": if a.sensitive { json!(SENSITIVE) } else { redact.json(&a.recorded) },
                "actual": if a.sensitive { json!(SENSITIVE) } else { redact.json(&a.actual) },
                "sensitive": a.sensitive,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "missing": r.missing.iter().map(|m| json!({"address": m.addr.to_string(), "id": m.id})).collect::<Vec<_>>(),
        "unmanaged": r.unmanaged.iter().map(|u| json!({"type": u.kind, "id": u.id, "reason": u.reason})).collect::<Vec<_>>(),
    })
}

pub fn markdown(r: &DriftReport, redact: &Redactor) -> String {
    let mut out = String::new();
    if r.is_empty() {
        let _ = writeln!(out, "### `{}`: no drift", r.stack);
        return out;
    }
    let _ = writeln!(
        out,
        "### `{}`: {} changed, {} missing, {} unmanaged\n",
        r.stack,
        r.changed.len(),
        r.missing.len(),
        r.unmanaged.len()
    );
    if !r.missing.is_empty() {
        let _ = writeln!(out, "**Missing** (deleted outside keel):\n");
        for m in &r.missing {
            let _ = writeln!(out, "- `{}` (`{}`)", m.addr, m.id);
        }
        out.push('\n');
    }
    if !r.changed.is_empty() {
        let _ = writeln!(
            out,
            "**Changed**:\n\n| resource | attribute | recorded | in the cloud |\n|---|---|---|---|"
        );
        for c in &r.changed {
            for a in &c.attrs {
                let _ = writeln!(
                    out,
                    "| `{}` | `{}` | `{}` | `{}` |",
                    c.addr,
                    a.name,
                    shown(a, &a.recorded, redact).replace('|', "\\|"),
                    shown(a, &a.actual, redact).replace('|', "\\|")
                );
            }
        }
        out.push('\n');
    }
    if !r.unmanaged.is_empty() {
        let _ = writeln!(out, "**Unmanaged**:\n");
        for u in &r.unmanaged {
            let _ = writeln!(out, "- {} `{}`: {}", u.kind, u.id, u.reason);
        }
        out.push('\n');
    }
    out
}
