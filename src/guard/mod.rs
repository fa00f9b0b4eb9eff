//! Guard: Plan + Config -> [`Report`], the guardrails every plan passes before anything is
//! applied: policy findings ([`rules`]: encryption, public access, TLS, IAM wildcards,
//! open ingress, GPU isolation, IMDSv2, cost-allocation tags), the cost before and after
//! ([`crate::cost`]) and the stack's budget.
//!
//! A deny finding no waiver covers, or a plan that would raise the monthly cost over
//! the budget, *blocks* the plan: `keel plan` and `keel apply` exit 1 and apply changes
//! nothing. The CLI checks the plan made from state alone first, and does not refresh
//! (read the cloud) when that plan is blocked already, so a denied plan makes no AWS
//! call at all.
//!
//! The stack's `policy`, `budget` and `cost` blocks ([`settings`]) turn rules off, change
//! their severity, waive a rule for an address with a reason every report shows, set the
//! budget and merge a user's prices over the shipped table.

pub mod document;
pub mod finding;
pub mod rules;
pub mod settings;
pub mod view;

pub use finding::{Finding, Location, Severity};
pub use settings::Settings;

use crate::config::{Config, attr_span, block_header_span};
use crate::cost::{self, Estimate, PriceTable, money};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::eval::Inputs;
use crate::graph::ResourceGraph;
use crate::plan::Plan;
use view::Inventory;

/// The rule id of budget findings.
pub const BUDGET: &str = "budget";

/// What the guard says about one plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Blocking findings first (deny), then warnings, then waived ones; by rule, then
    /// address.
    pub findings: Vec<Finding>,
    pub cost: Estimate,
    /// The budget the plan was held to, per month.
    pub budget: Option<f64>,
    /// Waivers that matched no finding: `RULE for ADDRESS`.
    pub unused_waivers: Vec<String>,
    /// What the rules could not see (references that could not be traced).
    pub notes: Vec<String>,
}

impl Report {
    /// Does anything stop this plan?
    pub fn blocked(&self) -> bool {
        self.findings.iter().any(Finding::blocks)
    }

    /// (deny, warn, waived) counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let waived = self.findings.iter().filter(|f| f.waiver.is_some()).count();
        let deny = self.findings.iter().filter(|f| f.blocks()).count();
        (deny, self.findings.len() - deny - waived, waived)
    }

    /// The sentence the CLI ends with when the plan is blocked.
    pub fn blocked_message(&self) -> String {
        let (deny, _, _) = self.counts();
        let budget = self.findings.iter().any(|f| f.rule == BUDGET && f.blocks());
        let rules = deny - usize::from(budget);
        let mut parts = Vec::new();
        if rules > 0 {
            parts.push(format!(
                "{rules} deny finding{}",
                if rules == 1 { "" } else { "s" }
            ));
        }
        if budget {
            parts.push("the budget".to_string());
        }
        format!(
            "the stack's guardrails stop this plan ({}); nothing was changed. Fix what they report, or waive a finding with a written reason: policy {{ waiver \"RULE\" {{ address = \"...\", reason = \"...\" }} }}",
            parts.join(" and ")
        )
    }
}

/// The guardrails of one stack, ready to check its plans.
#[derive(Debug, Clone)]
pub struct Guard {
    pub settings: Settings,
    pub prices: PriceTable,
}

impl Guard {
    /// Reads the stack's settings and its price table (a user's prices file merged over
    /// the shipped one).
    pub fn load(config: &Config, inputs: &Inputs) -> Result<Guard, Diagnostics> {
        let settings = settings::read(config, inputs)?;
        let mut prices = PriceTable::builtin();
        if let Some((path, span)) = &settings.prices_file
            && let Err(msg) = prices.merge_file(path)
        {
            return Err(Diagnostic::error(msg)
                .at(span.clone())
                .help("a prices file is JSON shaped like keel's src/cost/prices-us-east-1.json; every field is optional")
                .into());
        }
        if let Some(d) = settings.spot_discount {
            prices.spot_discount = d;
        }
        Ok(Guard { settings, prices })
    }

    /// Checks a plan: every enabled rule over the resources it leaves in place, the cost
    /// before and after, and the budget.
    pub fn check(
        &self,
        config: &Config,
        graph: &ResourceGraph,
        inputs: &Inputs,
        plan: &Plan,
    ) -> Report {
        let inv = Inventory::build(config, graph, inputs, plan);
        let mut findings = Vec::new();
        let mut used = vec![false; self.settings.waivers.len()];
        for (order, rule) in rules::RULES.iter().enumerate() {
            let rc = self.settings.rule(rule);
            if !rc.enabled {
                continue;
            }
            for hit in (rule.check)(&inv, &rc) {
                let waiver = self
                    .settings
                    .waivers
                    .iter()
                    .enumerate()
                    .rev()
                    .find(|(_, w)| w.covers(rule.id, &hit.addr));
                if let Some((i, _)) = waiver {
                    used[i] = true;
                }
                findings.push((
                    order,
                    Finding {
                        rule: rule.id,
                        severity: rc.severity,
                        location: location(config, &hit.addr, hit.attr),
                        address: Some(hit.addr),
                        message: hit.message,
                        fix: hit.fix.unwrap_or_else(|| rule.fix.to_string()),
                        waiver: waiver.map(|(_, w)| w.reason.clone()),
                    },
                ));
            }
        }
        let region = inv
            .providers
            .get(&crate::addr::ProviderAddr::default())
            .and_then(|p| p.region.clone());
        let mut cost = cost::estimate(plan, &inv, &self.prices, region.as_deref());
        if let Some(tags) = rules::find("required-tags") {
            cost.by_tag = cost::by_tag(&cost, &inv, &self.settings.rule(tags).tags);
        }
        let budget = self.settings.budget.as_ref();
        if let Some(b) = budget
            && let Some(f) = over_budget(config, &cost, b.monthly_usd, b.span.as_ref())
        {
            findings.push((rules::RULES.len(), f));
        }
        findings.sort_by(|(oa, a), (ob, b)| {
            let rank = |f: &Finding| match (f.blocks(), f.waiver.is_some()) {
                (true, _) => 0,
                (false, false) => 1,
                (false, true) => 2,
            };
            (rank(a), oa, &a.address, &a.message).cmp(&(rank(b), ob, &b.address, &b.message))
        });
        let unused_waivers = self
            .settings
            .waivers
            .iter()
            .zip(used)
            .filter(|(_, used)| !used)
            .map(|(w, _)| format!("{} for {}", w.rule, w.address))
            .collect();
        let mut notes = Vec::new();
        if !inv.symbolic && !plan.destroy {
            notes.push("keel could not trace references between resources (an expression fails on a value known only after apply), so rules that relate resources (a bucket's encryption, a VPC's flow log, an instance's subnet) judged known values only".to_string());
        }
        Report {
            findings: findings.into_iter().map(|(_, f)| f).collect(),
            cost,
            budget: budget.map(|b| b.monthly_usd),
            unused_waivers,
            notes,
        }
    }
}

/// The budget finding: a deny when the plan raises the monthly cost above the budget, a
/// warning when the stack is over it already and the plan does not raise it.
fn over_budget(
    config: &Config,
    cost: &Estimate,
    budget: f64,
    span: Option<&Span>,
) -> Option<Finding> {
    let after = cost.monthly(cost.after.hourly);
    if after <= budget {
        return None;
    }
    let before = cost.monthly(cost.before.hourly);
    let raises = after > before + 0.005;
    let mut message = format!(
        "this plan would cost {}/month ({}/h) after apply, over the budget of {}/month; it costs {}/month now",
        money::usd(after),
        money::usd_hour(cost.after.hourly),
        money::usd(budget),
        money::usd(before),
    );
    if cost.after.unpriced > 0 {
        message.push_str(&format!(
            " (and {} resource(s) have no price, so it is more)",
            cost.after.unpriced
        ));
    }
    if cost.after.estimate {
        message.push_str(" (spot prices estimated)");
    }
    Some(Finding {
        rule: BUDGET,
        severity: if raises {
            Severity::Deny
        } else {
            Severity::Warn
        },
        address: None,
        location: span.map(|s| span_location(config, s)),
        message,
        fix: if raises {
            format!(
                "cut {}/month (fewer or smaller instances, spot), or raise budget {{ monthly_usd }} if the spend is intended",
                money::usd(after - budget)
            )
        } else {
            "the stack is over its budget already; this plan does not raise the cost".to_string()
        },
        waiver: None,
    })
}

fn span_location(config: &Config, span: &Span) -> Location {
    let file = config.sources.file(span.file);
    let (line, column) = file.line_col(span.range.start);
    Location {
        file: file.display.clone(),
        line,
        column,
    }
}

/// Where a finding points: the attribute or block `attr` of the resource, or its header.
fn location(
    config: &Config,
    addr: &crate::addr::ResourceAddr,
    attr: Option<&str>,
) -> Option<Location> {
    let (_, _, res) = config.find_resource(addr)?;
    let at = attr.and_then(|a| {
        res.body
            .get_attribute(a)
            .and_then(|x| attr_span(res.file, x))
            .or_else(|| {
                res.body
                    .get_blocks(a)
                    .next()
                    .and_then(|b| block_header_span(res.file, b))
            })
    });
    at.or(res.span.clone()).map(|s| span_location(config, &s))
}

#[cfg(test)]
mod tests;
