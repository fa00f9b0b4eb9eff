//! Load: a stack directory of `*.hcl` / `*.tf` files -> [`Config`], the syntax tree with
//! source spans kept. Nothing is evaluated here; every syntax and structure problem in every
//! file is reported at once.

mod load;
pub mod tfvars;
mod types;

pub use load::load;
pub use tfvars::{Assigned, Assignment};
pub use types::{Attribute as TypeAttribute, Type};

use crate::diag::{FileId, SourceMap, Span};
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body};
use std::path::PathBuf;

/// An expression together with the file it came from, so errors can point at it.
#[derive(Debug, Clone)]
pub struct Expr {
    pub file: FileId,
    pub expr: Expression,
}

impl Expr {
    pub fn span(&self) -> Option<Span> {
        span_of(self.file, self.expr.span())
    }
}

pub(crate) fn span_of(file: FileId, range: Option<std::ops::Range<usize>>) -> Option<Span> {
    range.map(|range| Span { file, range })
}

/// A parsed stack.
#[derive(Debug)]
pub struct Config {
    /// The stack's directory.
    pub dir: PathBuf,
    /// The stack's name: the directory's name. Tags and the default state file use it.
    pub stack: String,
    pub sources: SourceMap,
    pub terraform: Terraform,
    pub providers: Vec<ProviderBlock>,
    pub variables: Vec<Variable>,
    pub locals: Vec<Local>,
    pub resources: Vec<Resource>,
    pub outputs: Vec<Output>,
    /// `name = value` lines of `terraform.tfvars`, `terraform.tfvars.json`, then
    /// `*.auto.tfvars[.json]` (sorted): later ones win.
    pub tfvars: Vec<Assignment>,
}

/// Settings from `terraform { ... }` blocks.
#[derive(Debug, Default)]
pub struct Terraform {
    pub required_version: Option<Expr>,
    pub backend: Option<Backend>,
}

/// `backend "local" { path = "..." }`.
#[derive(Debug)]
pub struct Backend {
    pub kind: String,
    pub body: Body,
    pub file: FileId,
    pub span: Option<Span>,
}

/// `provider "aws" { ... }`.
#[derive(Debug)]
pub struct ProviderBlock {
    pub name: String,
    pub alias: Option<String>,
    pub body: Body,
    pub file: FileId,
    pub span: Option<Span>,
}

/// `variable "name" { ... }`.
#[derive(Debug)]
pub struct Variable {
    pub name: String,
    pub default: Option<Expr>,
    pub description: Option<String>,
    pub sensitive: bool,
    pub span: Option<Span>,
    /// `type = ...`; `None` accepts any value.
    pub ty: Option<Type>,
    /// `nullable = false` refuses null (and uses the default instead, when there is one).
    pub nullable: bool,
    pub validations: Vec<Validation>,
}

/// `validation { condition = ..., error_message = ... }` inside a variable.
#[derive(Debug)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: Expr,
    /// The `validation` keyword.
    pub span: Option<Span>,
}

/// One entry of a `locals { ... }` block.
#[derive(Debug)]
pub struct Local {
    pub name: String,
    pub expr: Expr,
    pub span: Option<Span>,
}

/// `resource "TYPE" "NAME" { ... }`.
#[derive(Debug)]
pub struct Resource {
    pub type_: String,
    pub name: String,
    /// The body without meta-arguments.
    pub body: Body,
    pub file: FileId,
    /// The block's opening: `resource "aws_vpc" "main"`.
    pub span: Option<Span>,
    pub type_span: Option<Span>,
    /// `depends_on = [...]` entries.
    pub depends_on: Vec<Expr>,
    pub lifecycle: Lifecycle,
    /// `count = N`: N instances addressed `TYPE.NAME[i]`.
    pub count: Option<Expr>,
    /// `for_each = map or set of strings`: instances addressed `TYPE.NAME["key"]`.
    pub for_each: Option<Expr>,
}

impl Resource {
    /// `TYPE.NAME`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.type_, self.name)
    }
}

/// `lifecycle { ... }` inside a resource.
#[derive(Debug, Default)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub create_before_destroy: Option<bool>,
    pub ignore_changes: Vec<String>,
}

/// `output "name" { ... }`.
#[derive(Debug)]
pub struct Output {
    pub name: String,
    pub value: Expr,
    pub description: Option<String>,
    pub sensitive: bool,
    pub span: Option<Span>,
}

impl Config {
    pub fn resource(&self, type_: &str, name: &str) -> Option<&Resource> {
        self.resources
            .iter()
            .find(|r| r.type_ == type_ && r.name == name)
    }
}

/// The span of a block's header (`resource "a" "b"`), which is where errors about the
/// whole block point.
pub(crate) fn block_header_span(file: FileId, block: &Block) -> Option<Span> {
    let start = block.ident.span()?.start;
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .map(|r| r.end)
        .unwrap_or_else(|| block.ident.span().map(|r| r.end).unwrap_or(start));
    Some(Span {
        file,
        range: start..end,
    })
}

pub(crate) fn attr_span(file: FileId, attr: &Attribute) -> Option<Span> {
    span_of(file, attr.key.span())
}
