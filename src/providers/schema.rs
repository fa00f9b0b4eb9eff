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
    /// Checks a known configured value; the error is a sentence saying what is allowed
    /// (evaluation reports it at the attribute, with its file:line:column).
    pub check: Option<Check>,
    /// A computed counter that other resources' activity moves (a policy's
    /// `attachment_count`): refreshed into state, but never reported as drift.
    pub volatile: bool,
}

/// A check of one attribute's value: `Err` says what is wrong and what would be right.
pub type Check = fn(&Value) -> Result<(), String>;

/// Defaults are static data.
#[derive(Debug, Clone, Copy)]
pub enum Default {
    Bool(bool),
    Str(&'static str),
    Number(f64),
}

impl Default {
    pub fn value(self) -> Value {
        match self {
            Default::Bool(b) => Value::Bool(b),
            Default::Str(s) => Value::str(s),
            Default::Number(n) => Value::Number(n),
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
            check: None,
            volatile: false,
        }
    }
    pub const fn optional(name: &'static str, ty: Ty) -> Attr {
        Attr {
            name,
            ty,
            mode: Mode::Optional,
            force_new: false,
            default: None,
            check: None,
            volatile: false,
        }
    }
    pub const fn optional_computed(name: &'static str, ty: Ty) -> Attr {
        Attr {
            name,
            ty,
            mode: Mode::OptionalComputed,
            force_new: false,
            default: None,
            check: None,
            volatile: false,
        }
    }
    pub const fn computed(name: &'static str, ty: Ty) -> Attr {
        Attr {
            name,
            ty,
            mode: Mode::Computed,
            force_new: false,
            default: None,
            check: None,
            volatile: false,
        }
    }
    /// A Terraform argument keel does not manage yet. Modules pass such arguments
    /// through from variables that default to null, false or empty, so those values are
    /// accepted (and mean what leaving it out means); any other value is an error at the
    /// argument, saying so.
    pub const fn unmanaged(name: &'static str, ty: Ty) -> Attr {
        Attr::optional(name, ty).check(must_be_unset)
    }
    pub const fn force_new(mut self) -> Attr {
        self.force_new = true;
        self
    }
    pub const fn default(mut self, d: Default) -> Attr {
        self.default = Some(d);
        self
    }
    pub const fn volatile(mut self) -> Attr {
        self.volatile = true;
        self
    }
    pub const fn check(mut self, check: Check) -> Attr {
        self.check = Some(check);
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

impl BlockType {
    /// Every argument of the block is the cloud's to choose when left out (an instance's
    /// `root_block_device` or `metadata_options`): a configuration without the block leaves
    /// it to the cloud, as Terraform's optional-and-computed blocks do, so it is no change.
    pub fn cloud_chosen(&self) -> bool {
        !self.attrs.is_empty()
            && self
                .attrs
                .iter()
                .all(|a| matches!(a.mode, Mode::OptionalComputed | Mode::Computed))
    }

    /// Can a change inside this block replace the resource?
    pub fn can_force_new(&self) -> bool {
        self.force_new
            || self.attrs.iter().any(|a| a.force_new)
            || self.blocks.iter().any(BlockType::can_force_new)
    }
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

/// The schema of one data source type: the arguments a read takes (checked and
/// converted like a resource's) and the names of the results it produces.
#[derive(Debug, Clone, Copy)]
pub struct DataSchema {
    pub type_name: &'static str,
    pub args: &'static [Attr],
    pub blocks: &'static [BlockType],
    /// What a read computes besides `id`; unknown until the read is made.
    pub results: &'static [&'static str],
}

/// For [`Attr::unmanaged`]: only the values that mean "not set".
fn must_be_unset(v: &Value) -> Result<(), String> {
    let unset = match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    };
    if unset {
        Ok(())
    } else {
        Err(format!(
            "keel does not manage this argument yet, so it must be left unset (null), not {}",
            v.to_hcl()
        ))
    }
}

/// For [`Attr::check`]s: the value is one of `allowed`.
pub fn one_of(v: &Value, allowed: &[&str]) -> Result<(), String> {
    match v.as_str() {
        Some(s) if !allowed.contains(&s) => Err(format!(
            "\"{s}\" is not one of {}",
            allowed
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        _ => Ok(()),
    }
}

/// For [`Attr::check`]s: the value is a whole number from `lo` to `hi`.
pub fn whole_number_in(v: &Value, lo: i64, hi: i64) -> Result<(), String> {
    match v {
        Value::Number(n) if n.fract() == 0.0 && (lo as f64..=hi as f64).contains(n) => Ok(()),
        _ => Err(format!(
            "must be a whole number from {lo} to {hi}, got {}",
            v.to_hcl()
        )),
    }
}
