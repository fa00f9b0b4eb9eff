//! A finding: one rule's verdict on one resource (or on the whole stack, for the budget),
//! with where it is written and how to fix it. Every renderer shows the same findings.

use crate::addr::ResourceAddr;
use std::fmt;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Stops `keel plan` and `keel apply` (exit 1) before any call to the cloud.
    Deny,
    /// Shown, never stops anything.
    Warn,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Deny => "deny",
            Severity::Warn => "warn",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "deny" => Some(Severity::Deny),
            "warn" => Some(Severity::Warn),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `file:line:column` of what a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One rule's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule's id, e.g. `s3-versioning`; `budget` for the stack's budget.
    pub rule: &'static str,
    /// The severity the stack's policy gives the rule.
    pub severity: Severity,
    /// The resource instance; `None` for a finding about the whole stack.
    pub address: Option<ResourceAddr>,
    pub location: Option<Location>,
    /// One line: what is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// The written reason of the waiver that covers it.
    pub waiver: Option<String>,
}

impl Finding {
    /// A deny that no waiver covers: it stops the plan.
    pub fn blocks(&self) -> bool {
        self.severity == Severity::Deny && self.waiver.is_none()
    }

    /// "deny", "warn" or "waived", as reports label it.
    pub fn status(&self) -> &'static str {
        if self.waiver.is_some() {
            "waived"
        } else {
            self.severity.name()
        }
    }
}
