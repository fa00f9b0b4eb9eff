//! Typed addresses shared by every stage: `aws_vpc.main`, `aws_subnet.private["a"]`,
//! `module.net.aws_vpc.this`. Plans, state and errors all print these.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// Which instance of a resource with `count` or `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    Int(u64),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", crate::value::quote(s)),
        }
    }
}

/// One step of a module path: `module.net` or `module.net["a"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleStep {
    pub name: String,
    pub key: Option<InstanceKey>,
}

impl fmt::Display for ModuleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "module.{}", self.name)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// A module instance as people read it: `module.net["a"].module.subnets`; empty for the
/// stack's root module.
pub fn module_path(steps: &[ModuleStep]) -> String {
    steps
        .iter()
        .map(ModuleStep::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The address of one resource instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceAddr {
    pub module: Vec<ModuleStep>,
    pub type_: String,
    pub name: String,
    pub key: Option<InstanceKey>,
}

impl ResourceAddr {
    pub fn new(type_: impl Into<String>, name: impl Into<String>) -> ResourceAddr {
        ResourceAddr {
            module: Vec::new(),
            type_: type_.into(),
            name: name.into(),
            key: None,
        }
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.module {
            write!(f, "{step}.")?;
        }
        write!(f, "{}.{}", self.type_, self.name)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// A resource block in one module instance: module path, type and name.
type BlockKey<'a> = (&'a [ModuleStep], &'a str, &'a str);

fn block_key(a: &ResourceAddr) -> BlockKey<'_> {
    (&a.module, &a.type_, &a.name)
}

/// What recorded dependencies name among a set of instances. A dependency with an
/// instance key names that instance; one without names every instance of its resource in
/// its module instance (`aws_subnet.private` names `aws_subnet.private[0]`, `[1]`, ...),
/// which is how plans and state record them: one entry per resource a block refers to,
/// not one per instance, so a block of N instances reading a block of M records N
/// entries, not N x M.
#[derive(Debug)]
pub struct AddrIndex<'a, T> {
    exact: HashMap<&'a ResourceAddr, Vec<T>>,
    /// Block -> index into `lists`.
    blocks: HashMap<BlockKey<'a>, usize>,
    lists: Vec<Vec<T>>,
}

impl<'a, T: Copy> AddrIndex<'a, T> {
    pub fn new() -> Self {
        AddrIndex {
            exact: HashMap::new(),
            blocks: HashMap::new(),
            lists: Vec::new(),
        }
    }

    pub fn insert(&mut self, addr: &'a ResourceAddr, value: T) {
        self.exact.entry(addr).or_default().push(value);
        let next = self.lists.len();
        let i = *self.blocks.entry(block_key(addr)).or_insert(next);
        if i == next {
            self.lists.push(Vec::new());
        }
        self.lists[i].push(value);
    }

    /// What `dependency` names, in insertion order.
    pub fn resolve(&self, dependency: &ResourceAddr) -> &[T] {
        if dependency.key.is_some() {
            return self.exact.get(dependency).map(Vec::as_slice).unwrap_or(&[]);
        }
        // The map is covariant in its keys' lifetime: shorten it to the query's.
        let blocks: &HashMap<BlockKey<'_>, usize> = &self.blocks;
        match blocks.get(&block_key(dependency)) {
            Some(&i) => &self.lists[i],
            None => &[],
        }
    }
}

impl<'a, T: Copy> Default for AddrIndex<'a, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, T: Copy> FromIterator<(&'a ResourceAddr, T)> for AddrIndex<'a, T> {
    fn from_iter<I: IntoIterator<Item = (&'a ResourceAddr, T)>>(iter: I) -> Self {
        let mut index = AddrIndex::new();
        for (addr, value) in iter {
            index.insert(addr, value);
        }
        index
    }
}

/// The address of one data source instance: `data.aws_ami.ubuntu`,
/// `module.net["a"].data.aws_availability_zones.all[0]`. The inner address carries the
/// module path, type, name and key; only its rendering differs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DataAddr(pub ResourceAddr);

impl fmt::Display for DataAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.0.module {
            write!(f, "{step}.")?;
        }
        write!(f, "data.{}.{}", self.0.type_, self.0.name)?;
        if let Some(k) = &self.0.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// Why an address string could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("\"{input}\" is not a resource address (expected TYPE.NAME, e.g. aws_vpc.main): {reason}")]
pub struct AddrParseError {
    pub input: String,
    pub reason: &'static str,
}

impl FromStr for ResourceAddr {
    type Err = AddrParseError;

    fn from_str(input: &str) -> Result<ResourceAddr, AddrParseError> {
        let err = |reason| AddrParseError {
            input: input.to_string(),
            reason,
        };
        let mut rest = input;
        let mut module = Vec::new();
        while let Some(after) = rest.strip_prefix("module.") {
            let (name, tail) = split_ident(after).ok_or_else(|| err("bad module name"))?;
            let (key, tail) = parse_key(tail).map_err(err)?;
            module.push(ModuleStep {
                name: name.to_string(),
                key,
            });
            rest = tail.strip_prefix('.').ok_or_else(|| err("expected '.'"))?;
        }
        let (type_, tail) = split_ident(rest).ok_or_else(|| err("bad resource type"))?;
        let tail = tail.strip_prefix('.').ok_or_else(|| err("expected '.'"))?;
        let (name, tail) = split_ident(tail).ok_or_else(|| err("bad resource name"))?;
        let (key, tail) = parse_key(tail).map_err(err)?;
        if !tail.is_empty() {
            return Err(err("unexpected text after the address"));
        }
        Ok(ResourceAddr {
            module,
            type_: type_.to_string(),
            name: name.to_string(),
            key,
        })
    }
}

fn split_ident(s: &str) -> Option<(&str, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    if end == 0 {
        None
    } else {
        Some((&s[..end], &s[end..]))
    }
}

fn parse_key(s: &str) -> Result<(Option<InstanceKey>, &str), &'static str> {
    let Some(inner) = s.strip_prefix('[') else {
        return Ok((None, s));
    };
    if let Some(quoted) = inner.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, c)) => out.push(c),
                    None => return Err("unterminated key"),
                },
                '"' => {
                    let tail = quoted[i + 1..].strip_prefix(']').ok_or("expected ']'")?;
                    return Ok((Some(InstanceKey::Str(out)), tail));
                }
                c => out.push(c),
            }
        }
        Err("unterminated key")
    } else {
        let end = inner.find(']').ok_or("expected ']'")?;
        let n = inner[..end].parse().map_err(|_| "index is not a number")?;
        Ok((Some(InstanceKey::Int(n)), &inner[end + 1..]))
    }
}

impl Serialize for ResourceAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResourceAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A provider configuration: `aws` (the block without `alias`) or `aws.west` (the block
/// with `alias = "west"`). State records it for every resource, as Terraform records
/// `provider`, so a resource is always read and deleted through the configuration that
/// created it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderAddr {
    pub name: String,
    pub alias: Option<String>,
}

impl ProviderAddr {
    /// The default (unaliased) configuration of provider `name`.
    pub fn default_of(name: impl Into<String>) -> ProviderAddr {
        ProviderAddr {
            name: name.into(),
            alias: None,
        }
    }

    pub fn is_default(&self) -> bool {
        self.alias.is_none()
    }
}

/// `aws`: every resource keel supports today belongs to the AWS provider.
impl Default for ProviderAddr {
    fn default() -> ProviderAddr {
        ProviderAddr::default_of("aws")
    }
}

impl fmt::Display for ProviderAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(a) = &self.alias {
            write!(f, ".{a}")?;
        }
        Ok(())
    }
}

impl FromStr for ProviderAddr {
    type Err = AddrParseError;

    fn from_str(input: &str) -> Result<ProviderAddr, AddrParseError> {
        let err = |reason| AddrParseError {
            input: input.to_string(),
            reason,
        };
        let (name, rest) = split_ident(input).ok_or_else(|| err("bad provider name"))?;
        let alias = match rest.strip_prefix('.') {
            None if rest.is_empty() => None,
            None => return Err(err("unexpected text after the provider name")),
            Some(alias) => match split_ident(alias) {
                Some((a, "")) => Some(a.to_string()),
                _ => return Err(err("bad provider alias")),
            },
        };
        Ok(ProviderAddr {
            name: name.to_string(),
            alias,
        })
    }
}

impl Serialize for ProviderAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProviderAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unkeyed_dependency_names_every_instance_of_its_block_in_its_module_instance() {
        let addrs: Vec<ResourceAddr> = [
            "aws_vpc.v",
            "aws_subnet.s[0]",
            "aws_subnet.s[1]",
            "module.n[\"a\"].aws_subnet.s[0]",
            "module.n[\"b\"].aws_subnet.s[0]",
            "module.n[\"b\"].aws_subnet.s[1]",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let index: AddrIndex<usize> = addrs.iter().zip(0..).collect();
        let r = |d: &str| index.resolve(&d.parse().unwrap()).to_vec();
        assert_eq!(r("aws_vpc.v"), [0]);
        assert_eq!(r("aws_subnet.s"), [1, 2]);
        assert_eq!(r("aws_subnet.s[1]"), [2]);
        assert_eq!(r("aws_subnet.s[2]"), [0usize; 0]);
        assert_eq!(r("module.n[\"b\"].aws_subnet.s"), [4, 5]);
        assert_eq!(r("module.n[\"a\"].aws_subnet.s[0]"), [3]);
        assert_eq!(r("module.n.aws_subnet.s"), [0usize; 0]);
        assert_eq!(r("aws_vpc.w"), [0usize; 0]);
    }

    #[test]
    fn addresses_round_trip() {
        for s in [
            "aws_vpc.main",
            "aws_subnet.private[0]",
            "aws_subnet.private[\"us-east-1a\"]",
            "module.net.aws_vpc.this",
            "module.net[\"a\"].module.inner[2].aws_s3_bucket.b",
            "module.gpu[\"a\"].aws_instance.node[0]",
            "module.x[\"we.ird \\\"key\\\"\"].aws_vpc.v",
        ] {
            let a: ResourceAddr = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn data_addresses_put_data_after_the_module_path() {
        let a: ResourceAddr = "module.net[\"a\"].aws_ami.x[0]".parse().unwrap();
        assert_eq!(
            DataAddr(a).to_string(),
            "module.net[\"a\"].data.aws_ami.x[0]"
        );
        assert_eq!(
            DataAddr(ResourceAddr::new("aws_region", "here")).to_string(),
            "data.aws_region.here"
        );
    }

    #[test]
    fn module_steps_print_as_written() {
        let a: ResourceAddr = "module.a[\"x\"].module.b[1].aws_vpc.v".parse().unwrap();
        assert_eq!(module_path(&a.module), "module.a[\"x\"].module.b[1]");
        assert_eq!(module_path(&[]), "");
    }

    #[test]
    fn provider_addresses_round_trip() {
        for s in ["aws", "aws.west"] {
            let p: ProviderAddr = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
        }
        assert_eq!(ProviderAddr::default().to_string(), "aws");
        assert!("aws.".parse::<ProviderAddr>().is_err());
        assert!("aws.west.x".parse::<ProviderAddr>().is_err());
    }

    #[test]
    fn bad_addresses_say_why() {
        let e = "aws_vpc".parse::<ResourceAddr>().unwrap_err();
        assert_eq!(e.reason, "expected '.'");
        assert!("aws_vpc.main[".parse::<ResourceAddr>().is_err());
        assert!("aws_vpc.main extra".parse::<ResourceAddr>().is_err());
    }
}
