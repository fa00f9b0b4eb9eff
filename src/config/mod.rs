//! Load: a stack directory of `*.hcl` / `*.tf` files, and the module directories its
//! `module` blocks name -> [`Config`], the module tree with source spans kept. Nothing is
//! evaluated here; every syntax and structure problem in every file is reported at once.
//!
//! A [`Module`] is one directory's blocks, parsed once however often it is called. A
//! [`Scope`] is one place the tree instantiates a module: the root, `module.net`,
//! `module.net.module.subnets` (static paths, before `count` / `for_each` expand them).

mod call;
mod load;
mod refactor;
mod shared;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
pub mod tfvars;
mod tree;
mod types;

pub use load::load;
pub use refactor::{ImportBlock, MoveEndpoint, Moved};
pub use tfvars::{Assigned, Assignment};
pub use types::{Attribute as TypeAttribute, Type};

use crate::addr::{ModuleStep, ProviderAddr, ResourceAddr};
use crate::diag::{FileId, SourceMap, Span};
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body};
use std::collections::HashMap;
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

/// A parsed stack: its root module, every module it calls, and the tree of calls.
#[derive(Debug)]
pub struct Config {
    /// The stack's directory.
    pub dir: PathBuf,
    /// The stack's name: the directory's name. Tags and the default state file use it.
    pub stack: String,
    /// Every file of every module.
    pub sources: SourceMap,
    pub terraform: Terraform,
    /// `name = value` lines of `terraform.tfvars`, `terraform.tfvars.json`, then
    /// `*.auto.tfvars[.json]` (sorted): later ones win.
    pub tfvars: Vec<Assignment>,
    /// One entry per module directory, each read once; `modules[0]` is the stack's own.
    pub modules: Vec<Module>,
    /// The module tree: `scopes[0]` is the root, then one entry per static call path.
    pub scopes: Vec<Scope>,
}

/// Index of a [`Module`] in [`Config::modules`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub u32);

/// Index of a [`Scope`] in [`Config::scopes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeId(pub u32);

impl ScopeId {
    pub const ROOT: ScopeId = ScopeId(0);

    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The blocks of one directory: the stack itself or a module it calls.
#[derive(Debug, Default)]
pub struct Module {
    pub dir: PathBuf,
    /// Only the root module holds provider blocks; modules get them from their caller.
    pub providers: Vec<ProviderBlock>,
    pub variables: Vec<Variable>,
    pub locals: Vec<Local>,
    pub resources: Vec<Resource>,
    /// `data "TYPE" "NAME" { ... }` blocks: the same shape as resources, read not managed.
    pub data: Vec<Resource>,
    pub outputs: Vec<Output>,
    pub calls: Vec<ModuleCall>,
    /// `moved { ... }` blocks, addresses relative to this module.
    pub moved: Vec<Moved>,
    /// `import { ... }` blocks (the root module only).
    pub imports: Vec<ImportBlock>,
    /// `TYPE.NAME` -> index into `resources`.
    resource_index: HashMap<String, usize>,
    /// `TYPE.NAME` -> index into `data`.
    data_index: HashMap<String, usize>,
    /// Module call name -> index into `calls` (a stack may call a module thousands of
    /// times, and every instance address is looked up through its calls).
    call_index: HashMap<String, usize>,
}

impl Module {
    pub fn resource(&self, type_: &str, name: &str) -> Option<usize> {
        self.resource_index.get(&format!("{type_}.{name}")).copied()
    }

    /// The `data "TYPE" "NAME"` block's index in `data`.
    pub fn data_source(&self, type_: &str, name: &str) -> Option<usize> {
        self.data_index.get(&format!("{type_}.{name}")).copied()
    }

    pub fn call(&self, name: &str) -> Option<usize> {
        match self.call_index.get(name) {
            Some(&i) => Some(i),
            // Not indexed (a module assembled by hand, as tests do).
            None if self.call_index.len() != self.calls.len() => {
                self.calls.iter().position(|c| c.name == name)
            }
            None => None,
        }
    }

    pub fn variable(&self, name: &str) -> Option<usize> {
        self.variables.iter().position(|v| v.name == name)
    }

    pub fn output(&self, name: &str) -> Option<usize> {
        self.outputs.iter().position(|o| o.name == name)
    }

    pub(crate) fn index_resources(&mut self) {
        self.resource_index = self
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key(), i))
            .collect();
        self.data_index = self
            .data
            .iter()
            .enumerate()
            .map(|(i, r)| (r.key(), i))
            .collect();
        // The first of two calls of one name, as a search from the front finds it.
        self.call_index = HashMap::new();
        for (i, c) in self.calls.iter().enumerate() {
            self.call_index.entry(c.name.clone()).or_insert(i);
        }
    }
}

/// `module "NAME" { source = "../x" ... }`.
#[derive(Debug)]
pub struct ModuleCall {
    pub name: String,
    /// As written: `../../modules/isolated-vpc`.
    pub source: String,
    pub source_span: Option<Span>,
    /// The module `source` names, once loaded.
    pub module: Option<ModuleId>,
    /// Everything that is not a meta-argument: the child's input variables.
    pub args: Vec<Local>,
    pub count: Option<Expr>,
    pub for_each: Option<Expr>,
    pub depends_on: Vec<Expr>,
    /// `providers = { aws = aws.west }`: the child's name -> the caller's name.
    pub providers: Vec<ProviderPass>,
    pub file: FileId,
    /// The block's opening: `module "net"`.
    pub span: Option<Span>,
}

impl ModuleCall {
    pub fn arg(&self, name: &str) -> Option<&Local> {
        self.args.iter().find(|a| a.name == name)
    }
}

/// One entry of a module call's `providers` map.
#[derive(Debug, Clone)]
pub struct ProviderPass {
    /// The name inside the module: `aws` or `aws.west`.
    pub child: String,
    /// The caller's name for the configuration it passes.
    pub parent: String,
    pub span: Option<Span>,
}

/// One static place in the module tree.
#[derive(Debug)]
pub struct Scope {
    pub module: ModuleId,
    /// Call names from the root: `["net", "subnets"]` for `module.net.module.subnets`.
    pub path: Vec<String>,
    /// The scope holding the call, and the call's index in that scope's module.
    pub parent: Option<(ScopeId, usize)>,
    /// One child scope per call of the module, in the order of `Module::calls`.
    pub children: Vec<ScopeId>,
    /// The provider configuration each resource of the module uses here.
    pub resource_providers: Vec<ProviderAddr>,
    /// The provider configuration each data source of the module reads through here.
    pub data_providers: Vec<ProviderAddr>,
}

impl Scope {
    /// `module.net.module.subnets`, or "" for the root.
    pub fn display(&self) -> String {
        self.path
            .iter()
            .map(|n| format!("module.{n}"))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// `module.net.` before a name in this scope, or "" in the root.
    pub fn prefix(&self) -> String {
        self.path.iter().map(|n| format!("module.{n}.")).collect()
    }
}

/// Settings from `terraform { ... }` blocks.
#[derive(Debug, Default)]
pub struct Terraform {
    pub required_version: Option<Expr>,
    pub backend: Option<Backend>,
    /// `encryption { ... }`: client-side encryption of state and plans (kind "encryption");
    /// read by `state::settings`.
    pub encryption: Option<Backend>,
    /// The guardrails: top-level `policy`, `budget` and `cost` blocks (kind = the block's
    /// name), those of a shared `keel.hcl` in the directory above the stack first, then
    /// the stack's own; read by `guard::settings`.
    pub guardrails: Vec<Backend>,
}

/// `backend "local" { path = "..." }` or `backend "s3" { ... }` (read by
/// `state::settings`), and likewise the `encryption` block.
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

impl ProviderBlock {
    pub fn addr(&self) -> ProviderAddr {
        ProviderAddr {
            name: self.name.clone(),
            alias: self.alias.clone(),
        }
    }
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

/// `resource "TYPE" "NAME" { ... }`, and `data "TYPE" "NAME" { ... }` (which has no
/// lifecycle).
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
    /// `provider = aws.west`: the configuration to use instead of the default one.
    pub provider: Option<ProviderRef>,
}

impl Resource {
    /// `TYPE.NAME`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.type_, self.name)
    }

    /// The provider a resource type belongs to: the prefix before the first `_`.
    pub fn provider_name(&self) -> &str {
        self.type_.split('_').next().unwrap_or(&self.type_)
    }
}

/// `provider = aws.west` in a resource.
#[derive(Debug, Clone)]
pub struct ProviderRef {
    /// As written: `aws.west`.
    pub name: String,
    pub span: Option<Span>,
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
    /// The stack's own module.
    pub fn root(&self) -> &Module {
        &self.modules[0]
    }

    pub fn scope(&self, id: ScopeId) -> &Scope {
        &self.scopes[id.index()]
    }

    /// The module instantiated at `scope`.
    pub fn module(&self, scope: ScopeId) -> &Module {
        &self.modules[self.scope(scope).module.0 as usize]
    }

    /// The module call that instantiates `scope`; `None` for the root.
    pub fn call_of(&self, scope: ScopeId) -> Option<&ModuleCall> {
        let (parent, i) = self.scope(scope).parent?;
        Some(&self.module(parent).calls[i])
    }

    /// Does any module of the stack read a data source?
    pub fn has_data(&self) -> bool {
        self.modules.iter().any(|m| !m.data.is_empty())
    }

    /// Every scope, the root first.
    pub fn scope_ids(&self) -> impl Iterator<Item = ScopeId> + '_ {
        (0..self.scopes.len() as u32).map(ScopeId)
    }

    /// The scope a module instance path belongs to (instance keys are not checked).
    pub fn scope_of(&self, path: &[ModuleStep]) -> Option<ScopeId> {
        let mut scope = ScopeId::ROOT;
        for step in path {
            let i = self.module(scope).call(&step.name)?;
            scope = self.scope(scope).children[i];
        }
        Some(scope)
    }

    /// The resource block an instance address belongs to: its scope, its index in that
    /// scope's module, and the block.
    pub fn find_resource(&self, addr: &ResourceAddr) -> Option<(ScopeId, usize, &Resource)> {
        let scope = self.scope_of(&addr.module)?;
        let module = self.module(scope);
        let i = module.resource(&addr.type_, &addr.name)?;
        Some((scope, i, &module.resources[i]))
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
