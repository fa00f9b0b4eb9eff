//! Typed addresses shared by every stage: `aws_vpc.main`, `aws_subnet.private["a"]`,
//! `module.net.aws_vpc.this`. Plans, state and errors all print these.

use serde::{Deserialize, Serialize};
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
