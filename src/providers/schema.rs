//! Resource schemas: which attributes a type has, which the user sets, which the cloud
//! computes, and which force a replacement when they change. Names follow the Terraform AWS
//! provider (v5).

use crate::value::Value;

/// The type of an attribute's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    String,
    Bool,
    Number,
    /// A map of strings (tags).
    StringMap,
    StringList,
    /// A list of strings whose order means nothing (security group ids, CIDR blocks): kept
    /// sorted and without duplicates, so the order AWS answers in is never a change.
    StringSet,
    /// A JSON policy document held as a string, compared by meaning
    /// ([`crate::providers::policy::equivalent`]).
    Policy,
}

/// Who sets an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    /// Optional; when left out, the cloud chooses and the value is read back.
    OptionalComputed,
    Computed,
}

#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Ty,
    pub mode: Mode,
    /// A change to this attribute replaces the resource.
    pub force_new: bool,
    /// Value used when an optional attribute is left out.
    pub default: Option<Default>,
}

/// Defaults are static data.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    Bool(bool),
    Str(&'static str),
}

impl Default {
    pub fn value(self) -> Value {
        match self {
            Default::Bool(b) => Value::Bool(b),
            Default::Str(s) => Value::str(s),
        }
    }
}

impl Attr {
    pub const fn required(name: &'static str, ty: Ty) -> Attr {
        Attr {
            name,
            ty,
            mode: Mode::Required,
            force_new: false,
            default: None,
        }
    }
    pub const fn optional(name: &'static str, ty: Ty) -> Attr {
        Attr {
            name,
            ty,
            mode: Mode::Optional,
            force_new: false,
            default: None,
        }
    }
    pub const fn optional_computed(name: &'static str, ty: Ty) -> Attr {
        Attr {
            name,
            ty,
            mode: Mode::OptionalComputed,
            force_new: false,
            default: None,
        }
    }
    pub const fn computed(name: &'static str, ty: Ty) -> Attr {
        Attr {
            name,
            ty,
            mode: Mode::Computed,
            force_new: false,
            default: None,
        }
    }
    pub const fn force_new(mut self) -> Attr {
        self.force_new = true;
        self
    }
    pub const fn default(mut self, d: Default) -> Attr {
        self.default = Some(d);
        self
    }
    /// The user may write this attribute.
    pub fn settable(&self) -> bool {
        self.mode != Mode::Computed
    }
}

/// A nested block type, e.g. `rule { ... }`. Its instances are kept as a list of objects.
#[derive(Debug, Clone, Copy)]
pub struct BlockType {
    pub name: &'static str,
    pub attrs: &'static [Attr],
    pub blocks: &'static [BlockType],
    pub min_items: usize,
    pub max_items: Option<usize>,
    pub force_new: bool,
    /// Optional and computed, like Terraform's attributes-as-blocks (`ConfigMode: Attr`,
    /// e.g. a security group's `ingress`): when the configuration writes no such block,
    /// keel leaves what the cloud holds alone instead of managing it as empty. Writing it
    /// as an argument, `ingress = []`, manages it as empty.
    pub computed: bool,
}

/// The schema of one resource type.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSchema {
    pub type_name: &'static str,
    pub attrs: &'static [Attr],
    pub blocks: &'static [BlockType],
    /// Carries `tags` / `tags_all`, and so keel's ownership tags.
    pub taggable: bool,
}

impl ResourceSchema {
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn block(&self, name: &str) -> Option<&'static BlockType> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// Does changing this top-level attribute or block replace the resource?
    pub fn forces_new(&self, name: &str) -> bool {
        self.attr(name).map(|a| a.force_new).unwrap_or(false)
            || self.block(name).map(|b| b.force_new).unwrap_or(false)
    }
}
