//! The stack's guardrail settings, read from its `policy`, `budget` and `cost` blocks (and
//! a shared `keel.hcl` above it): which rules run and how severe they are, waivers with
//! their reasons, the monthly budget and where extra prices come from.
//!
//! ```hcl
//! policy {
//!   rule "s3-versioning" { severity = "deny" }
//!   rule "kms-rotation" { enabled = false }
//!   rule "sg-open-ingress" { allowed_ports = [443] }
//!   rule "required-tags" { tags = ["team", "experiment"] }
//!   waiver "s3-versioning" {
//!     address = "aws_s3_bucket.scratch"
//!     reason  = "scratch space, rebuilt from the raw bucket every night"
//!   }
//! }
//! budget { monthly_usd = 25000 }
//! cost { prices_file = "prices.json" }
//! ```
//!
//! Values may use the stack's variables (`monthly_usd = var.budget`). Later blocks win
//! over earlier ones, so a stack's own settings win over the shared file's.

use super::finding::Severity;
use super::rules::{self, Rule};
use crate::addr::ResourceAddr;
use crate::config::{Backend, Config, attr_span, block_header_span, span_of};
use crate::diag::{Diagnostic, Diagnostics, Span, suggest};
use crate::eval::{Ctx, Env, Inputs, variable_value};
use crate::value::Value;
use hcl_edit::Span as _;
use hcl_edit::structure::{Attribute, Body};
use std::collections::HashMap;
use std::path::PathBuf;

/// How one rule runs in this stack.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleConfig {
    pub enabled: bool,
    pub severity: Severity,
    /// `sg-open-ingress`: ports that may be open to the internet (inclusive ranges).
    pub allowed_ports: Vec<(u16, u16)>,
    /// `required-tags`: tag keys every taggable resource carries.
    pub tags: Vec<String>,
    /// `s3-tls-only`: also require a policy that denies TLS older than this (`"1.2"`).
    pub min_tls_version: Option<String>,
}

impl RuleConfig {
    /// The rule as it runs when nothing configures it.
    pub fn default_for(rule: &Rule) -> RuleConfig {
        RuleConfig {
            enabled: true,
            severity: rule.severity,
            allowed_ports: Vec::new(),
            tags: rule.default_tags.iter().map(|t| t.to_string()).collect(),
            min_tls_version: None,
        }
    }
}

/// `waiver "RULE" { address = "...", reason = "..." }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiver {
    pub rule: String,
    /// An instance address, or a prefix of addresses: `aws_s3_bucket.x` waives every
    /// instance of that block, `module.data` everything in that module.
    pub address: String,
    pub reason: String,
    pub span: Option<Span>,
}

impl Waiver {
    pub fn covers(&self, rule: &str, addr: &ResourceAddr) -> bool {
        if self.rule != rule {
            return false;
        }
        let a = addr.to_string();
        a == self.address
            || a.strip_prefix(self.address.as_str())
                .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
    }
}

/// `budget { monthly_usd = N }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub monthly_usd: f64,
    pub span: Option<Span>,
}

/// Everything the stack says about its guardrails.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    rules: HashMap<&'static str, RuleConfig>,
    pub waivers: Vec<Waiver>,
    pub budget: Option<Budget>,
    /// `cost { prices_file = "..." }`, resolved against the directory of the file that
    /// names it.
    pub prices_file: Option<(PathBuf, Option<Span>)>,
    /// `cost { spot_discount = 0.6 }`: overrides the price table's.
    pub spot_discount: Option<f64>,
}

impl Settings {
    /// How `rule` runs: as configured, or its defaults.
    pub fn rule(&self, rule: &Rule) -> RuleConfig {
        self.rules
            .get(rule.id)
            .cloned()
            .unwrap_or_else(|| RuleConfig::default_for(rule))
    }
}

/// Reads every guardrail block of `config`; every problem is reported at once.
pub fn read(config: &Config, inputs: &Inputs) -> Result<Settings, Diagnostics> {
    let env = variables(config, inputs);
    let mut reader = Reader {
        config,
        env: &env,
        diags: Diagnostics::default(),
        settings: Settings::default(),
    };
    for block in &config.terraform.guardrails {
        match block.kind.as_str() {
            "policy" => reader.policy(block),
            "budget" => reader.budget(block),
            "cost" => reader.cost(block),
            _ => {}
        }
    }
    reader.diags.into_result()?;
    Ok(reader.settings)
}

/// The root module's variables, for settings that use them.
fn variables(config: &Config, inputs: &Inputs) -> Env {
    let mut env = Env::for_config(config);
    for (i, v) in config.root().variables.iter().enumerate() {
        if let Ok(value) = variable_value(config, i, inputs, &env) {
            env.vars.insert(v.name.clone(), value);
        }
    }
    env
}

struct Reader<'a> {
    config: &'a Config,
    env: &'a Env,
    diags: Diagnostics,
    settings: Settings,
}

impl Reader<'_> {
    fn eval(&mut self, block: &Backend, attr: &Attribute) -> Option<Value> {
        match Ctx::new(self.env, block.file).eval(&attr.value) {
            Ok(Value::Unknown) => {
                self.error(block, attr, "must be known before planning");
                None
            }
            Ok(v) => Some(v),
            Err(d) => {
                self.diags.push(d);
                None
            }
        }
    }

    fn error(&mut self, block: &Backend, attr: &Attribute, msg: &str) {
        self.diags.push(
            Diagnostic::error(format!("\"{}\" in {} {msg}", attr.key.as_str(), block.kind))
                .at(span_of(block.file, attr.value.span())),
        );
    }

    fn unexpected_attr(&mut self, block: &Backend, attr: &Attribute, takes: &str) {
        self.diags.push(
            Diagnostic::error(format!(
                "unsupported argument \"{}\" in {}",
                attr.key.as_str(),
                block.kind
            ))
            .at(attr_span(block.file, attr))
            .help(takes.to_string()),
        );
    }

    fn string(&mut self, block: &Backend, attr: &Attribute) -> Option<String> {
        match self.eval(block, attr)? {
            Value::String(s) => Some(s),
            other => {
                self.error(
                    block,
                    attr,
                    &format!("must be a string, got {}", other.type_name()),
                );
                None
            }
        }
    }

    fn number(&mut self, block: &Backend, attr: &Attribute) -> Option<f64> {
        match self.eval(block, attr)? {
            Value::Number(n) => Some(n),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => s.trim().parse().ok(),
            other => {
                self.error(
                    block,
                    attr,
                    &format!("must be a number, got {}", other.type_name()),
                );
                None
            }
        }
    }

    fn policy(&mut self, block: &Backend) {
        for attr in block.body.attributes() {
            self.unexpected_attr(
                block,
                attr,
                "a policy block holds rule \"ID\" { ... } and waiver \"ID\" { ... } blocks",
            );
        }
        for inner in block.body.blocks() {
            let header = block_header_span(block.file, inner);
            let label = inner.labels.first().map(|l| l.as_str().to_string());
            let kind = inner.ident.as_str();
            if !matches!(kind, "rule" | "waiver") {
                self.diags.push(
                    Diagnostic::error(format!("unsupported block \"{kind}\" in policy"))
                        .at(header)
                        .help("a policy block holds rule \"ID\" { ... } and waiver \"ID\" { ... } blocks"),
                );
                continue;
            }
            let (Some(id), 1) = (label, inner.labels.len()) else {
                self.diags.push(
                    Diagnostic::error(format!(
                        "a {kind} block takes the rule's id as its one label"
                    ))
                    .at(header)
                    .help(format!("write {kind} \"s3-versioning\" {{ ... }}")),
                );
                continue;
            };
            let Some(rule) = rules::find(&id) else {
                let ids = rules::RULES.iter().map(|r| r.id);
                let d = Diagnostic::error(format!("there is no policy rule \"{id}\""))
                    .at(header)
                    .label("unknown rule");
                self.diags.push(match suggest(&id, ids.clone()) {
                    Some(s) => d.help(format!("did you mean \"{s}\"?")),
                    None => d.help(format!(
                        "the rules are: {}",
                        ids.collect::<Vec<_>>().join(", ")
                    )),
                });
                continue;
            };
            if kind == "rule" {
                self.rule(block, rule, &inner.body);
            } else {
                self.waiver(block, rule, &inner.body, header);
            }
        }
    }

    fn rule(&mut self, block: &Backend, rule: &'static Rule, body: &Body) {
        let mut rc = self.settings.rule(rule);
        let takes = {
            let mut names = vec!["enabled", "severity"];
            names.extend(rule.options);
            format!("rule \"{}\" takes {}", rule.id, names.join(", "))
        };
        for inner in body.blocks() {
            self.diags.push(
                Diagnostic::error(format!(
                    "unsupported block \"{}\" in rule \"{}\"",
                    inner.ident.as_str(),
                    rule.id
                ))
                .at(block_header_span(block.file, inner))
                .help(takes.clone()),
            );
        }
        for attr in body.attributes() {
            let key = attr.key.as_str();
            if !(["enabled", "severity"].contains(&key) || rule.options.contains(&key)) {
                self.unexpected_attr(block, attr, &takes);
                continue;
            }
            match key {
                "enabled" => match self.eval(block, attr) {
                    Some(Value::Bool(b)) => rc.enabled = b,
                    Some(_) => self.error(block, attr, "must be true or false"),
                    None => {}
                },
                "severity" => {
                    if let Some(s) = self.string(block, attr) {
                        match Severity::parse(&s) {
                            Some(sev) => rc.severity = sev,
                            None => self.error(
                                block,
                                attr,
                                &format!("must be \"deny\" or \"warn\", got \"{s}\""),
                            ),
                        }
                    }
                }
                "allowed_ports" => {
                    if let Some(v) = self.eval(block, attr) {
                        match ports(&v) {
                            Ok(p) => rc.allowed_ports = p,
                            Err(msg) => self.error(block, attr, &msg),
                        }
                    }
                }
                "tags" => match self.eval(block, attr) {
                    Some(Value::List(items)) if items.iter().all(|i| i.as_str().is_some()) => {
                        rc.tags = items
                            .iter()
                            .filter_map(|i| i.as_str().map(str::to_string))
                            .collect()
                    }
                    Some(_) => self.error(block, attr, "must be a list of tag keys"),
                    None => {}
                },
                "min_tls_version" => {
                    if let Some(s) = self.string(block, attr) {
                        if s.parse::<f64>().is_ok() {
                            rc.min_tls_version = Some(s);
                        } else {
                            self.error(block, attr, "must be a TLS version like \"1.2\"");
                        }
                    }
                }
                _ => {}
            }
        }
        self.settings.rules.insert(rule.id, rc);
    }

    fn waiver(&mut self, block: &Backend, rule: &'static Rule, body: &Body, header: Option<Span>) {
        let mut address = None;
        let mut reason = None;
        for attr in body.attributes() {
            match attr.key.as_str() {
                "address" => {
                    if let Some(a) = self.string(block, attr) {
                        let parses = a.parse::<ResourceAddr>().is_ok()
                            || format!("{a}.t.n").parse::<ResourceAddr>().is_ok();
                        if parses {
                            address = Some(a);
                        } else {
                            self.error(
                                block,
                                attr,
                                &format!("\"{a}\" is not a resource or module address (e.g. aws_s3_bucket.data, module.lake)"),
                            );
                        }
                    }
                }
                "reason" => reason = self.string(block, attr),
                _ => self.unexpected_attr(block, attr, "a waiver takes address and reason"),
            }
        }
        let reason = reason.map(|r| r.trim().to_string()).unwrap_or_default();
        if reason.is_empty() {
            self.diags.push(
                Diagnostic::error(format!("the waiver of \"{}\" has no reason", rule.id))
                    .at(header.clone())
                    .help("write why the rule does not apply: reason = \"...\"; every report shows it"),
            );
            return;
        }
        let Some(address) = address else {
            self.diags.push(
                Diagnostic::error(format!("the waiver of \"{}\" names no address", rule.id))
                    .at(header)
                    .help("add address = \"aws_s3_bucket.scratch\"; to turn the rule off everywhere, write rule \"ID\" { enabled = false }"),
            );
            return;
        };
        self.settings.waivers.push(Waiver {
            rule: rule.id.to_string(),
            address,
            reason,
            span: header,
        });
    }

    fn budget(&mut self, block: &Backend) {
        let mut monthly = None;
        let mut written = false;
        for attr in block.body.attributes() {
            match attr.key.as_str() {
                "monthly_usd" => {
                    written = true;
                    match self.number(block, attr) {
                        Some(n) if n >= 0.0 => monthly = Some(n),
                        Some(_) => self.error(block, attr, "must not be negative"),
                        None => {}
                    }
                }
                _ => self.unexpected_attr(block, attr, "a budget block takes monthly_usd"),
            }
        }
        match monthly {
            Some(n) => {
                self.settings.budget = Some(Budget {
                    monthly_usd: n,
                    span: block.span.clone(),
                })
            }
            None if written => {}
            None => self.diags.push(
                Diagnostic::error("a budget block needs monthly_usd")
                    .at(block.span.clone())
                    .help("write budget { monthly_usd = 25000 }"),
            ),
        }
    }

    fn cost(&mut self, block: &Backend) {
        for attr in block.body.attributes() {
            match attr.key.as_str() {
                "prices_file" => {
                    if let Some(p) = self.string(block, attr) {
                        let base = self
                            .config
                            .sources
                            .file(block.file)
                            .path
                            .parent()
                            .map(|d| d.to_path_buf())
                            .unwrap_or_default();
                        self.settings.prices_file =
                            Some((base.join(p), span_of(block.file, attr.value.span())));
                    }
                }
                "spot_discount" => match self.number(block, attr) {
                    Some(n) if (0.0..1.0).contains(&n) => self.settings.spot_discount = Some(n),
                    Some(_) => self.error(
                        block,
                        attr,
                        "must be a fraction from 0 to below 1 (0.6 is 60% off on-demand)",
                    ),
                    None => {}
                },
                _ => self.unexpected_attr(
                    block,
                    attr,
                    "a cost block takes prices_file and spot_discount",
                ),
            }
        }
    }
}

/// `[443, "8000-8100"]` as inclusive port ranges.
fn ports(v: &Value) -> Result<Vec<(u16, u16)>, String> {
    let bad = || "must be a list of ports: numbers, or \"FROM-TO\" ranges".to_string();
    let port = |n: f64| -> Result<u16, String> {
        if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) {
            Ok(n as u16)
        } else {
            Err(format!("{n} is not a port (0 to 65535)"))
        }
    };
    let items = v.as_list().ok_or_else(bad)?;
    let mut out = Vec::new();
    for item in items {
        match item {
            Value::Number(n) => {
                let p = port(*n)?;
                out.push((p, p));
            }
            Value::String(s) => {
                let (a, b) = s.split_once('-').unwrap_or((s, s));
                let a: f64 = a.trim().parse().map_err(|_| bad())?;
                let b: f64 = b.trim().parse().map_err(|_| bad())?;
                let (a, b) = (port(a)?, port(b)?);
                if a > b {
                    return Err(format!("\"{s}\": the range runs backwards"));
                }
                out.push((a, b));
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}
