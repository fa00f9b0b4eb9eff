//! The guardrails' sections of every plan report: the cost before and after (with each
//! priced resource) and the policy findings, waived ones with their reasons. One model
//! ([`crate::guard::Report`]), rendered here for the terminal, JSON and Markdown.

use super::Redactor;
use crate::cost::money::{signed, usd, usd_hour};
use crate::cost::{Estimate, Line, Priced, Total};
use crate::guard::{Finding, Report};
use crate::plan::Action;
use serde_json::{Value as Json, json};
use std::fmt::Write;

/// Findings a PR comment lists before it says "and N more".
const MARKDOWN_FINDINGS: usize = 50;

fn symbol(a: Action) -> &'static str {
    match a {
        Action::NoOp => " ",
        other => other.symbol(),
    }
}

fn side(p: &Priced, hours: f64) -> String {
    match p {
        Priced::Known {
            hourly, estimate, ..
        } => format!(
            "{}/h, {}/month{}",
            usd_hour(*hourly),
            usd(hourly * hours),
            if *estimate { " (estimate)" } else { "" }
        ),
        Priced::Unknown { why, .. } => format!("price unknown: {why}"),
    }
}

fn line_text(l: &Line, hours: f64) -> (String, String) {
    match (&l.before, &l.after) {
        (None, Some(a)) => (a.what().to_string(), side(a, hours)),
        (Some(b), None) => (b.what().to_string(), format!("was {}", side(b, hours))),
        (Some(b), Some(a)) if b == a => (a.what().to_string(), side(a, hours)),
        (Some(b), Some(a)) => {
            let what = if b.what() == a.what() {
                a.what().to_string()
            } else {
                format!("{} -> {}", b.what(), a.what())
            };
            (what, format!("{} -> {}", side(b, hours), side(a, hours)))
        }
        (None, None) => (String::new(), String::new()),
    }
}

fn total(t: &Total, e: &Estimate) -> String {
    format!(
        "{}/month ({}/h)",
        usd(e.monthly(t.hourly)),
        usd_hour(t.hourly)
    )
}

/// The terminal text: a blank line, then the cost and policy sections.
pub fn human(r: &Report, redact: &Redactor) -> String {
    let mut out = String::new();
    let e = &r.cost;
    if e.lines.is_empty() {
        let _ = writeln!(
            out,
            "\nCost estimate: $0.00/month ($0.00/h) before and after; nothing here has an hourly price (usage such as S3 storage, requests and data transfer is not estimated)."
        );
    } else {
        let _ = writeln!(
            out,
            "\nCost estimate (on-demand prices for {} as of {}; a month is {} hours):",
            e.region, e.date, e.hours_per_month
        );
        let rows: Vec<(String, String, String)> = e
            .lines
            .iter()
            .map(|l| {
                let (what, cost) = line_text(l, e.hours_per_month);
                (format!("{} {}", symbol(l.action), l.addr), what, cost)
            })
            .collect();
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        for (addr, what, cost) in rows {
            let _ = writeln!(out, "  {addr:<w0$}  {what:<w1$}  {cost}");
        }
        let _ = writeln!(
            out,
            "  Total: {} -> {}, {}/month",
            total(&e.before, e),
            total(&e.after, e),
            signed(e.delta_monthly()),
        );
        let unpriced = e.after.unpriced.max(e.before.unpriced);
        if unpriced > 0 {
            let _ = writeln!(
                out,
                "  {unpriced} resource(s) without a price are left out of the totals."
            );
        }
        for (key, values) in &e.by_tag {
            let spend: Vec<String> = values
                .iter()
                .map(|(v, h)| format!("{v} {}/month", usd(e.monthly(*h))))
                .collect();
            let _ = writeln!(out, "  By {key}: {}", spend.join(", "));
        }
        if let Some(b) = r.budget {
            let _ = writeln!(out, "  Budget: {}/month", usd(b));
        }
        if e.has_estimates() {
            let _ = writeln!(
                out,
                "  Spot prices are estimates: on-demand less {:.0}%.",
                e.spot_discount * 100.0
            );
        }
        for n in &e.notes {
            let _ = writeln!(out, "  {n}");
        }
    }
    let (deny, warn, waived) = r.counts();
    if r.findings.is_empty() {
        let _ = writeln!(out, "\nPolicy: no findings.");
    } else {
        let _ = writeln!(out, "\nPolicy: {deny} deny, {warn} warn, {waived} waived");
        let width = r.findings.iter().map(|f| f.rule.len()).max().unwrap_or(0);
        for f in &r.findings {
            finding_lines(&mut out, f, width, redact);
        }
    }
    for w in &r.unused_waivers {
        let _ = writeln!(out, "  Unused waiver: {w} matches no finding; remove it.");
    }
    for n in &r.notes {
        let _ = writeln!(out, "  Note: {n}.");
    }
    out
}

fn finding_lines(out: &mut String, f: &Finding, width: usize, redact: &Redactor) {
    let what = match (&f.address, &f.location) {
        (Some(a), Some(l)) => format!("{a} ({l})"),
        (Some(a), None) => a.to_string(),
        (None, Some(l)) => format!("the stack ({l})"),
        (None, None) => "the stack".to_string(),
    };
    let _ = writeln!(out, "  {:<6}  {:<width$}  {what}", f.status(), f.rule);
    let _ = writeln!(out, "          {}", redact.text(&f.message));
    match &f.waiver {
        Some(reason) => {
            let _ = writeln!(
                out,
                "          waived ({}): {}",
                f.severity,
                redact.text(reason)
            );
        }
        None => {
            let _ = writeln!(out, "          fix: {}", redact.text(&f.fix));
        }
    }
}

fn money_json(x: f64, decimals: i32) -> Json {
    let scale = 10f64.powi(decimals);
    json!((x * scale).round() / scale)
}

fn priced_json(p: &Option<Priced>, hours: f64) -> Json {
    match p {
        None => Json::Null,
        Some(Priced::Known {
            hourly,
            estimate,
            what,
        }) => json!({
            "what": what,
            "hourly": money_json(*hourly, 6),
            "monthly": money_json(hourly * hours, 2),
            "estimate": estimate,
        }),
        Some(Priced::Unknown { what, why }) => json!({
            "what": what,
            "hourly": null,
            "monthly": null,
            "price_unknown": why,
        }),
    }
}

fn total_json(t: &Total, e: &Estimate) -> Json {
    json!({
        "hourly": money_json(t.hourly, 6),
        "monthly": money_json(e.monthly(t.hourly), 2),
        "estimate": t.estimate,
        "unpriced": t.unpriced,
    })
}

/// The `cost` member of `keel-plan/1`.
pub fn cost_json(r: &Report) -> Json {
    let e = &r.cost;
    json!({
        "currency": "USD",
        "region": e.region,
        "prices_date": e.date,
        "prices_source": e.source,
        "prices_file": e.overrides,
        "hours_per_month": e.hours_per_month,
        "spot_discount": e.spot_discount,
        "before": total_json(&e.before, e),
        "after": total_json(&e.after, e),
        "delta_monthly": money_json(e.delta_monthly(), 2),
        "budget_monthly": r.budget,
        "by_tag": e.by_tag.iter().map(|(k, values)| (
            k.clone(),
            values.iter().map(|(v, h)| (v.clone(), money_json(e.monthly(*h), 2))).collect::<serde_json::Map<_, _>>().into(),
        )).collect::<serde_json::Map<String, Json>>(),
        "resources": e.lines.iter().map(|l| json!({
            "address": l.addr.to_string(),
            "action": super::json::action_name(l.action),
            "before": priced_json(&l.before, e.hours_per_month),
            "after": priced_json(&l.after, e.hours_per_month),
        })).collect::<Vec<_>>(),
        "notes": e.notes,
    })
}

/// The `policy` member of `keel-plan/1`.
pub fn policy_json(r: &Report, redact: &Redactor) -> Json {
    let (deny, warn, waived) = r.counts();
    json!({
        "blocked": r.blocked(),
        "counts": { "deny": deny, "warn": warn, "waived": waived },
        "findings": r.findings.iter().map(|f| json!({
            "rule": f.rule,
            "severity": f.severity.name(),
            "status": f.status(),
            "address": f.address.as_ref().map(ToString::to_string),
            "location": f.location.as_ref().map(|l| json!({
                "file": l.file, "line": l.line, "column": l.column,
            })),
            "message": redact.text(&f.message),
            "fix": redact.text(&f.fix),
            "waiver_reason": f.waiver.as_ref().map(|w| redact.text(w)),
        })).collect::<Vec<_>>(),
        "unused_waivers": r.unused_waivers,
        "notes": r.notes,
    })
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The cost line alone, for a PR comment's headline: `$0.00 → $80,358.40 per month
/// (**+$80,358.40**)`.
pub fn cost_line(e: &Estimate) -> String {
    let delta = e.delta_monthly();
    let change = if delta.abs() < 0.005 {
        "no change".to_string()
    } else if delta > 0.0 {
        format!("**{} increase**", signed(delta))
    } else {
        format!("**{} decrease**", usd(delta.abs()))
    };
    let mut s = format!(
        "**Cost**: {} → {} per month ({change}); on-demand {} prices of {}",
        usd(e.monthly(e.before.hourly)),
        usd(e.monthly(e.after.hourly)),
        e.region,
        e.date
    );
    if e.has_estimates() {
        s.push_str(&format!(
            "; spot estimated at {:.0}% off",
            e.spot_discount * 100.0
        ));
    }
    let unpriced = e.after.unpriced.max(e.before.unpriced);
    if unpriced > 0 {
        s.push_str(&format!(
            "; {unpriced} resource(s) without a price left out"
        ));
    }
    s
}

/// A stack's guardrail section in a PR comment: the cost line, the findings table (deny
/// first), and the cost by resource folded away.
pub fn markdown(r: &Report, redact: &Redactor) -> String {
    let mut s = String::new();
    if r.blocked() {
        let _ = writeln!(
            s,
            "> [!CAUTION]\n> **The guardrails stop this plan**: apply will not run until the deny findings below are fixed or waived.\n"
        );
    }
    let e = &r.cost;
    let _ = writeln!(s, "{}\n", cost_line(e));
    let (deny, warn, waived) = r.counts();
    if r.findings.is_empty() {
        let _ = writeln!(s, "**Policy**: no findings\n");
    } else {
        let _ = writeln!(
            s,
            "**Policy**: {deny} deny, {warn} warn, {waived} waived\n\n| | rule | resource | finding |\n|---|---|---|---|"
        );
        for f in r.findings.iter().take(MARKDOWN_FINDINGS) {
            let badge = match f.status() {
                "deny" => "⛔ deny",
                "warn" => "⚠️ warn",
                _ => "✅ waived",
            };
            let resource = match (&f.address, &f.location) {
                (Some(a), Some(l)) => format!("`{a}` ({l})"),
                (Some(a), None) => format!("`{a}`"),
                (None, Some(l)) => format!("the stack ({l})"),
                (None, None) => "the stack".to_string(),
            };
            let tail = match &f.waiver {
                Some(w) => format!("Waived ({}): {}", f.severity, redact.text(w)),
                None => format!("Fix: {}", redact.text(&f.fix)),
            };
            let _ = writeln!(
                s,
                "| {badge} | `{}` | {} | {}. {} |",
                f.rule,
                cell(&resource),
                cell(&redact.text(&f.message)),
                cell(&tail)
            );
        }
        if r.findings.len() > MARKDOWN_FINDINGS {
            let _ = writeln!(
                s,
                "\n{} more finding(s) left out; run `keel plan` for all of them.",
                r.findings.len() - MARKDOWN_FINDINGS
            );
        }
        s.push('\n');
    }
    for n in &r.notes {
        let _ = writeln!(s, "> [!NOTE]\n> {}.\n", cell(n));
    }
    if !e.lines.is_empty() {
        let _ = writeln!(
            s,
            "<details><summary>Cost by resource</summary>\n\n| resource | priced as | before | after |\n|---|---|---|---|"
        );
        let month = |p: &Option<Priced>| match p {
            None => "—".to_string(),
            Some(Priced::Known {
                hourly, estimate, ..
            }) => format!(
                "{}/mo{}",
                usd(hourly * e.hours_per_month),
                if *estimate { " (est.)" } else { "" }
            ),
            Some(Priced::Unknown { .. }) => "price unknown".to_string(),
        };
        for l in &e.lines {
            let what = l
                .after
                .as_ref()
                .or(l.before.as_ref())
                .map(Priced::what)
                .unwrap_or("");
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} |",
                l.addr,
                cell(what),
                month(&l.before),
                month(&l.after)
            );
        }
        for (key, values) in &e.by_tag {
            let spend: Vec<String> = values
                .iter()
                .map(|(v, h)| format!("`{v}` {}/mo", usd(e.monthly(*h))))
                .collect();
            let _ = writeln!(s, "\nBy {key}: {}", cell(&spend.join(", ")));
        }
        for n in &e.notes {
            let _ = writeln!(s, "\n{}", cell(n));
        }
        s.push_str("\n</details>\n\n");
    }
    s
}
