//! IPv4 address arithmetic: `cidrsubnet`, `cidrsubnets`, `cidrhost`, `cidrnetmask`.

use super::{Arg, R, each, take};
use crate::value::Value;
use std::net::Ipv4Addr;

/// The functions this file defines.
pub(super) const NAMES: &[&str] = &["cidrsubnet", "cidrsubnets", "cidrhost", "cidrnetmask"];

pub(super) fn call(name: &str, args: Vec<Value>) -> R {
    match name {
        "cidrsubnet" => {
            let [prefix, newbits, netnum] = take(args, ["prefix", "newbits", "netnum"])?;
            let (addr, len) = parse_cidr(&prefix)?;
            let bits = newbits.int()?;
            let num = netnum.int()?;
            if bits < 0 || len as i64 + bits > 32 {
                return Err(newbits.err(format!("extends the /{len} prefix past 32 bits")));
            }
            if num < 0 || num >= (1i64 << bits) {
                return Err(netnum.err(format!("{num} does not fit in {bits} bits")));
            }
            let newlen = len + bits as u32;
            let base = u32::from(addr) & mask(len);
            let net = base | (num as u32).checked_shl(32 - newlen).unwrap_or(0);
            Ok(Value::String(format!("{}/{newlen}", Ipv4Addr::from(net))))
        }
        "cidrsubnets" => cidrsubnets(args),
        "cidrhost" => {
            let [prefix, hostnum] = take(args, ["prefix", "hostnum"])?;
            let (addr, len) = parse_cidr(&prefix)?;
            let host = hostnum.int()?;
            let size = 1i64 << (32 - len);
            let host = if host < 0 { size + host } else { host };
            if host < 0 || host >= size {
                return Err(hostnum.err(format!("{host} is outside the /{len} network")));
            }
            let ip = (u32::from(addr) & mask(len)) + host as u32;
            Ok(Value::String(Ipv4Addr::from(ip).to_string()))
        }
        "cidrnetmask" => {
            let [prefix] = take(args, ["prefix"])?;
            let (_, len) = parse_cidr(&prefix)?;
            Ok(Value::String(Ipv4Addr::from(mask(len)).to_string()))
        }
        other => Err(format!("there is no function named \"{other}\"")),
    }
}

/// Consecutive subnets of the given sizes, each starting where the last ended (rounded
/// up to its own size), as Terraform allocates them.
fn cidrsubnets(args: Vec<Value>) -> R {
    if args.is_empty() {
        return Err("takes a prefix and at least one newbits".into());
    }
    let mut args = each(args, "newbits");
    let prefix = Arg {
        name: "prefix",
        ..args.remove(0)
    };
    let (addr, len) = parse_cidr(&prefix)?;
    let base = u64::from(u32::from(addr) & mask(len));
    let end = base + (1u64 << (32 - len));
    let mut out = Vec::with_capacity(args.len());
    let mut next_free = base;
    for a in &args {
        let bits = a.int()?;
        if bits < 1 || len as i64 + bits > 32 {
            return Err(a.err(format!(
                "must extend the /{len} prefix by 1 to {} bits",
                32 - len
            )));
        }
        let newlen = len + bits as u32;
        let size = 1u64 << (32 - newlen);
        let start = next_free.div_ceil(size) * size;
        if start + size > end {
            return Err(a.err(format!(
                "asks for a /{newlen}, but no room is left in {} after {} subnet(s)",
                prefix.string()?,
                out.len()
            )));
        }
        out.push(Value::String(format!(
            "{}/{newlen}",
            Ipv4Addr::from(start as u32)
        )));
        next_free = start + size;
    }
    Ok(Value::List(out))
}

fn mask(len: u32) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

fn parse_cidr(arg: &Arg) -> Result<(Ipv4Addr, u32), String> {
    let s = arg.string()?;
    let (ip, len) = s
        .split_once('/')
        .ok_or_else(|| arg.err(format!("\"{s}\" is not a CIDR block like 10.0.0.0/16")))?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| {
        arg.err(format!(
            "\"{s}\" is not an IPv4 CIDR block (keel does not do IPv6 arithmetic yet)"
        ))
    })?;
    let len: u32 = len
        .parse()
        .ok()
        .filter(|l| *l <= 32)
        .ok_or_else(|| arg.err(format!("\"{s}\" has a prefix length outside 0-32")))?;
    Ok((ip, len))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::super::test_util::*;

    #[test]
    fn cidr_functions_match_terraform() {
        assert_eq!(
            call("cidrsubnet", &[s("10.0.0.0/16"), n(8.0), n(1.0)]),
            Ok(s("10.0.1.0/24"))
        );
        assert_eq!(
            call("cidrsubnet", &[s("10.1.0.0/16"), n(4.0), n(15.0)]),
            Ok(s("10.1.240.0/20"))
        );
        assert_eq!(
            call("cidrhost", &[s("10.0.1.0/24"), n(5.0)]),
            Ok(s("10.0.1.5"))
        );
        assert_eq!(
            call("cidrhost", &[s("10.0.1.0/24"), n(-1.0)]),
            Ok(s("10.0.1.255"))
        );
        assert_eq!(
            call("cidrnetmask", &[s("10.0.0.0/12")]),
            Ok(s("255.240.0.0"))
        );
        fails(
            "cidrsubnet",
            &[s("10.0.0.0/16"), n(8.0), n(256.0)],
            "argument 3 (netnum) 256 does not fit in 8 bits",
        );
        fails(
            "cidrsubnet",
            &[s("nope"), n(8.0), n(1.0)],
            "argument 1 (prefix) \"nope\" is not a CIDR block",
        );
        fails(
            "cidrhost",
            &[s("10.0.1.0/24"), n(256.0)],
            "argument 2 (hostnum)",
        );
    }

    #[test]
    fn cidrsubnets_allocates_consecutively_like_terraform() {
        // The examples of Terraform's documentation.
        assert_eq!(
            call(
                "cidrsubnets",
                &[s("10.1.0.0/16"), n(4.0), n(4.0), n(8.0), n(4.0)]
            ),
            Ok(l(&[
                s("10.1.0.0/20"),
                s("10.1.16.0/20"),
                s("10.1.32.0/24"),
                s("10.1.48.0/20")
            ]))
        );
        assert_eq!(
            call(
                "cidrsubnets",
                &[s("10.0.0.0/8"), n(8.0), n(8.0), n(8.0), n(8.0)]
            ),
            Ok(l(&[
                s("10.0.0.0/16"),
                s("10.1.0.0/16"),
                s("10.2.0.0/16"),
                s("10.3.0.0/16")
            ]))
        );
        fails(
            "cidrsubnets",
            &[s("10.0.0.0/30"), n(1.0), n(1.0), n(1.0)],
            "argument 4 (newbits) asks for a /31, but no room is left",
        );
        fails(
            "cidrsubnets",
            &[s("10.0.0.0/16"), n(17.0)],
            "argument 2 (newbits) must extend",
        );
    }
}
