//! Built-in functions, with Terraform's names and behaviour. Every function is
//! deterministic: the same inputs give the same plan on every run. An unknown argument
//! makes the result unknown.

use super::expr::{Ctx, to_number, to_template_string};
use crate::diag::Diagnostic;
use crate::value::{Value, format_number};
use hcl_edit::expr::FuncCall;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The names `call` understands, for "did you mean" hints.
pub const NAMES: &[&str] = &[
    "length",
    "lower",
    "upper",
    "trimspace",
    "join",
    "split",
    "replace",
    "format",
    "concat",
    "merge",
    "lookup",
    "element",
    "keys",
    "values",
    "contains",
    "coalesce",
    "min",
    "max",
    "range",
    "tostring",
    "tonumber",
    "tobool",
    "tolist",
    "toset",
    "tomap",
    "jsonencode",
    "jsondecode",
    "cidrsubnet",
    "cidrhost",
    "cidrnetmask",
    "zipmap",
    "distinct",
    "flatten",
    "try",
    "can",
    "formatlist",
    "base64encode",
    "base64decode",
    "sha256",
    "md5",
    "file",
];

type R = Result<Value, String>;

/// `try(a, b, ...)` returns the first argument that evaluates without error;
/// `can(x)` says whether `x` evaluates without error.
pub fn try_can(ctx: &mut Ctx<'_>, name: &str, f: &FuncCall) -> Result<Value, Diagnostic> {
    if name == "can" {
        let Some(arg) = f.args.iter().next() else {
            return Err(Diagnostic::error("can() takes one argument"));
        };
        return Ok(match ctx.eval(arg) {
            Ok(v) if v.has_unknown() => Value::Unknown,
            Ok(_) => Value::Bool(true),
            Err(_) => Value::Bool(false),
        });
    }
    let mut last = None;
    for arg in f.args.iter() {
        match ctx.eval(arg) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Diagnostic::error("try() needs at least one argument")))
}

/// Calls a function by name. `expand` is set when the last argument was written `xs...`.
pub fn call(name: &str, mut args: Vec<Value>, expand: bool) -> R {
    if expand {
        match args.pop() {
            Some(Value::List(items)) => args.extend(items),
            Some(Value::Unknown) => return Ok(Value::Unknown),
            _ => return Err("the argument before ... must be a list".into()),
        }
    }
    if args.iter().any(Value::has_unknown) && name != "length" {
        return Ok(Value::Unknown);
    }
    let n = args.len();
    let arity = |want: usize| -> Result<(), String> {
        if n == want {
            Ok(())
        } else {
            Err(format!("takes {want} argument(s), got {n}"))
        }
    };
    match name {
        "length" => {
            arity(1)?;
            match &args[0] {
                Value::String(s) => Ok(num(s.chars().count())),
                Value::List(l) => Ok(num(l.len())),
                Value::Map(m) => Ok(num(m.len())),
                Value::Unknown => Ok(Value::Unknown),
                v => Err(format!("cannot take the length of a {}", v.type_name())),
            }
        }
        "lower" | "upper" | "trimspace" => {
            arity(1)?;
            let s = string(&args[0])?;
            Ok(Value::String(match name {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                _ => s.trim().to_string(),
            }))
        }
        "join" => {
            if n < 2 {
                return Err("takes a separator and at least one list".into());
            }
            let sep = string(&args[0])?;
            let mut parts = Vec::new();
            for list in &args[1..] {
                for item in list_of(list)? {
                    parts.push(string(item)?);
                }
            }
            Ok(Value::String(parts.join(&sep)))
        }
        "split" => {
            arity(2)?;
            let sep = string(&args[0])?;
            let s = string(&args[1])?;
            if s.is_empty() {
                return Ok(Value::List(vec![]));
            }
            Ok(Value::List(
                s.split(sep.as_str()).map(Value::from).collect(),
            ))
        }
        "replace" => {
            arity(3)?;
            let (s, from, to) = (string(&args[0])?, string(&args[1])?, string(&args[2])?);
            if from.len() > 2 && from.starts_with('/') && from.ends_with('/') {
                return Err("regular expression patterns are not supported yet".into());
            }
            Ok(Value::String(s.replace(&from, &to)))
        }
        "format" => {
            if n == 0 {
                return Err("takes a format string".into());
            }
            format(&string(&args[0])?, &args[1..]).map(Value::String)
        }
        "formatlist" => {
            if n == 0 {
                return Err("takes a format string".into());
            }
            let spec = string(&args[0])?;
            // Lists are iterated together; other arguments repeat for every element.
            let mut len: Option<usize> = None;
            for a in &args[1..] {
                if let Value::List(l) = a {
                    match len {
                        Some(m) if m != l.len() => {
                            return Err(format!(
                                "all list arguments must have the same length ({m} and {})",
                                l.len()
                            ));
                        }
                        _ => len = Some(l.len()),
                    }
                }
            }
            let Some(len) = len else {
                return Err("needs at least one list argument".into());
            };
            let mut out = Vec::with_capacity(len);
            for i in 0..len {
                let row: Vec<Value> = args[1..]
                    .iter()
                    .map(|a| match a {
                        Value::List(l) => l[i].clone(),
                        other => other.clone(),
                    })
                    .collect();
                out.push(Value::String(format(&spec, &row)?));
            }
            Ok(Value::List(out))
        }
        "base64encode" => {
            arity(1)?;
            use base64::Engine as _;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(string(&args[0])?),
            ))
        }
        "base64decode" => {
            arity(1)?;
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(string(&args[0])?)
                .map_err(|e| format!("not valid base64: {e}"))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| "the decoded bytes are not UTF-8 text".into())
        }
        "sha256" | "md5" => {
            arity(1)?;
            let text = string(&args[0])?;
            let digest: Vec<u8> = if name == "md5" {
                use md5::Digest as _;
                md5::Md5::digest(text.as_bytes()).to_vec()
            } else {
                use sha2::Digest as _;
                sha2::Sha256::digest(text.as_bytes()).to_vec()
            };
            Ok(Value::String(
                digest.iter().map(|b| format!("{b:02x}")).collect(),
            ))
        }
        "file" => {
            arity(1)?;
            let path = string(&args[0])?;
            std::fs::read_to_string(&path).map(Value::String).map_err(|e| {
                format!("cannot read \"{path}\": {e} (relative paths start at the directory keel runs in; use \"${{path.module}}/NAME\")")
            })
        }
        "concat" => {
            let mut out = Vec::new();
            for a in &args {
                out.extend(list_of(a)?.iter().cloned());
            }
            Ok(Value::List(out))
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for a in &args {
                match a {
                    Value::Map(m) => out.extend(m.clone()),
                    Value::Null => {}
                    v => return Err(format!("takes maps or objects, got a {}", v.type_name())),
                }
            }
            Ok(Value::Map(out))
        }
        "lookup" => {
            if !(2..=3).contains(&n) {
                return Err("takes a map, a key and an optional default".into());
            }
            let key = string(&args[1])?;
            match args[0].as_map().and_then(|m| m.get(&key)) {
                Some(v) => Ok(v.clone()),
                None if n == 3 => Ok(args[2].clone()),
                None => Err(format!(
                    "the map has no key \"{key}\" and no default was given"
                )),
            }
        }
        "element" => {
            arity(2)?;
            let list = list_of(&args[0])?;
            if list.is_empty() {
                return Err("cannot take an element of an empty list".into());
            }
            let i = int(&args[1])?;
            Ok(list[(i as usize) % list.len()].clone())
        }
        "keys" | "values" => {
            arity(1)?;
            let m = args[0].as_map().ok_or("takes a map")?;
            Ok(Value::List(if name == "keys" {
                m.keys().map(|k| Value::String(k.clone())).collect()
            } else {
                m.values().cloned().collect()
            }))
        }
        "contains" => {
            arity(2)?;
            Ok(Value::Bool(list_of(&args[0])?.contains(&args[1])))
        }
        "coalesce" => args
            .into_iter()
            .find(|v| !v.is_null() && v != &Value::str(""))
            .ok_or_else(|| "all arguments are null or empty".into()),
        "min" | "max" => {
            if n == 0 {
                return Err("takes at least one number".into());
            }
            let nums = args
                .iter()
                .map(|a| to_number(a).ok_or_else(|| format!("{} is not a number", a.to_hcl())))
                .collect::<Result<Vec<f64>, String>>()?;
            let f = if name == "min" { f64::min } else { f64::max };
            Ok(Value::Number(
                nums.into_iter().reduce(f).expect("non-empty"),
            ))
        }
        "range" => {
            let nums = args
                .iter()
                .map(|a| to_number(a).ok_or_else(|| format!("{} is not a number", a.to_hcl())))
                .collect::<Result<Vec<f64>, String>>()?;
            let (start, end, step) = match nums.as_slice() {
                [e] => (0.0, *e, 1.0),
                [s, e] => (*s, *e, if e >= s { 1.0 } else { -1.0 }),
                [s, e, st] => (*s, *e, *st),
                _ => return Err("takes one to three numbers".into()),
            };
            if step == 0.0 {
                return Err("step must not be zero".into());
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                out.push(Value::Number(x));
                x += step;
                if out.len() > 1024 {
                    return Err("more than 1024 elements".into());
                }
            }
            Ok(Value::List(out))
        }
        "tostring" => {
            arity(1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                v => to_template_string(v)
                    .flatten()
                    .map(Value::String)
                    .ok_or_else(|| format!("cannot convert a {} to a string", v.type_name())),
            }
        }
        "tonumber" => {
            arity(1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                v => to_number(v)
                    .map(Value::Number)
                    .ok_or_else(|| format!("cannot convert {} to a number", v.to_hcl())),
            }
        }
        "tobool" => {
            arity(1)?;
            match &args[0] {
                Value::Null => Ok(Value::Null),
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::String(s) if s == "true" => Ok(Value::Bool(true)),
                Value::String(s) if s == "false" => Ok(Value::Bool(false)),
                v => Err(format!("cannot convert {} to a bool", v.to_hcl())),
            }
        }
        "tolist" => {
            arity(1)?;
            Ok(Value::List(list_of(&args[0])?.to_vec()))
        }
        "toset" | "distinct" => {
            arity(1)?;
            let mut out: Vec<Value> = Vec::new();
            for v in list_of(&args[0])? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            if name == "toset" {
                out.sort_by_key(|v| v.to_hcl());
            }
            Ok(Value::List(out))
        }
        "tomap" => {
            arity(1)?;
            args[0]
                .as_map()
                .map(|m| Value::Map(m.clone()))
                .ok_or_else(|| "takes an object or map".into())
        }
        "zipmap" => {
            arity(2)?;
            let (k, v) = (list_of(&args[0])?, list_of(&args[1])?);
            if k.len() != v.len() {
                return Err(format!(
                    "the lists differ in length ({} and {})",
                    k.len(),
                    v.len()
                ));
            }
            Ok(Value::Map(
                k.iter()
                    .map(string)
                    .zip(v.iter().cloned())
                    .map(|(k, v)| k.map(|k| (k, v)))
                    .collect::<Result<_, _>>()?,
            ))
        }
        "flatten" => {
            arity(1)?;
            fn go(v: &Value, out: &mut Vec<Value>) {
                match v {
                    Value::List(items) => items.iter().for_each(|i| go(i, out)),
                    other => out.push(other.clone()),
                }
            }
            let mut out = Vec::new();
            for item in list_of(&args[0])? {
                go(item, &mut out);
            }
            Ok(Value::List(out))
        }
        "jsonencode" => {
            arity(1)?;
            Ok(Value::String(json_encode(&args[0])))
        }
        "jsondecode" => {
            arity(1)?;
            let s = string(&args[0])?;
            let json: serde_json::Value =
                serde_json::from_str(&s).map_err(|e| format!("not valid JSON: {e}"))?;
            Ok(Value::from_json(&json))
        }
        "cidrsubnet" => {
            arity(3)?;
            let (addr, len) = parse_cidr(&string(&args[0])?)?;
            let newbits = int(&args[1])? as u32;
            let netnum = int(&args[2])? as u64;
            let newlen = len + newbits;
            if newlen > 32 {
                return Err(format!(
                    "prefix /{len} extended by {newbits} bits is longer than 32"
                ));
            }
            if newbits < 64 && netnum >= (1u64 << newbits) {
                return Err(format!("netnum {netnum} does not fit in {newbits} bits"));
            }
            let base = u32::from(addr) & mask(len);
            let net = base | (netnum as u32).checked_shl(32 - newlen).unwrap_or(0);
            Ok(Value::String(format!("{}/{newlen}", Ipv4Addr::from(net))))
        }
        "cidrhost" => {
            arity(2)?;
            let (addr, len) = parse_cidr(&string(&args[0])?)?;
            let host = int(&args[1])?;
            let size = 1i64 << (32 - len);
            let host = if host < 0 { size + host } else { host };
            if host < 0 || host >= size {
                return Err(format!("host number {host} is outside the /{len} network"));
            }
            let ip = (u32::from(addr) & mask(len)) + host as u32;
            Ok(Value::String(Ipv4Addr::from(ip).to_string()))
        }
        "cidrnetmask" => {
            arity(1)?;
            let (_, len) = parse_cidr(&string(&args[0])?)?;
            Ok(Value::String(Ipv4Addr::from(mask(len)).to_string()))
        }
        other => {
            let mut msg = format!("there is no function named \"{other}\"");
            if let Some(s) = crate::diag::suggest(other, NAMES.iter().copied()) {
                msg.push_str(&format!("; did you mean {s}()?"));
            }
            Err(msg)
        }
    }
}

fn num(n: usize) -> Value {
    Value::Number(n as f64)
}

fn string(v: &Value) -> Result<String, String> {
    to_template_string(v)
        .flatten()
        .ok_or_else(|| format!("expected a string, got a {}", v.type_name()))
}

fn int(v: &Value) -> Result<i64, String> {
    match to_number(v) {
        Some(n) if n.fract() == 0.0 => Ok(n as i64),
        _ => Err(format!("expected a whole number, got {}", v.to_hcl())),
    }
}

fn list_of(v: &Value) -> Result<&[Value], String> {
    v.as_list()
        .ok_or_else(|| format!("expected a list, got a {}", v.type_name()))
}

fn mask(len: u32) -> u32 {
    if len == 0 { 0 } else { u32::MAX << (32 - len) }
}

fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u32), String> {
    let (ip, len) = s
        .split_once('/')
        .ok_or_else(|| format!("\"{s}\" is not a CIDR block like 10.0.0.0/16"))?;
    let ip: Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("\"{s}\" is not an IPv4 CIDR block (IPv6 comes later)"))?;
    let len: u32 = len
        .parse()
        .ok()
        .filter(|l| *l <= 32)
        .ok_or_else(|| format!("\"{s}\" has a bad prefix length"))?;
    Ok((ip, len))
}

/// printf-style formatting with Terraform's verbs: %s %d %f %v %q %t %%.
fn format(spec: &str, args: &[Value]) -> Result<String, String> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == '#' || c == ' ' {
                flags.push(c);
                chars.next();
            } else {
                break;
            }
        }
        let verb = chars.next().ok_or("the format string ends in %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = args
            .next()
            .ok_or_else(|| format!("not enough arguments for %{verb}"))?;
        let text = match verb {
            's' | 'v' => match arg {
                Value::List(_) | Value::Map(_) if verb == 'v' => json_encode(arg),
                _ => string(arg)?,
            },
            'q' => crate::value::quote(&string(arg)?),
            't' => match arg {
                Value::Bool(b) => b.to_string(),
                _ => return Err(format!("%t needs a bool, got {}", arg.to_hcl())),
            },
            'd' => format!("{}", int(arg)?),
            'f' => {
                let n = to_number(arg)
                    .ok_or_else(|| format!("%f needs a number, got {}", arg.to_hcl()))?;
                let precision = flags
                    .split_once('.')
                    .and_then(|(_, p)| p.parse().ok())
                    .unwrap_or(6);
                format!("{n:.precision$}")
            }
            other => return Err(format!("unsupported format verb %{other}")),
        };
        let width: usize = flags
            .trim_start_matches(['-', '+', '#', ' '])
            .split('.')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        if flags.starts_with('-') {
            out.push_str(&format!("{text:<width$}"));
        } else if flags.starts_with('0') && verb == 'd' {
            out.push_str(&format!("{:0>width$}", text));
        } else {
            out.push_str(&format!("{text:>width$}"));
        }
    }
    if args.next().is_some() {
        return Err("too many arguments for the format string".into());
    }
    Ok(out)
}

/// JSON the way Terraform's jsonencode writes it: compact, keys sorted, and `<`, `>`, `&`
/// escaped so the result is safe to embed in HTML.
pub fn json_encode(v: &Value) -> String {
    let mut out = String::new();
    write_json(v, &mut out);
    out
}

fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format_number(*n)),
        Value::String(s) => {
            let quoted = serde_json::to_string(s).expect("strings always serialise");
            out.push_str(
                &quoted
                    .replace('<', "\\u003c")
                    .replace('>', "\\u003e")
                    .replace('&', "\\u0026"),
            );
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(&Value::String(k.clone()), out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::str(x)
    }
    fn n(x: f64) -> Value {
        Value::Number(x)
    }

    #[test]
    fn cidr_functions_match_terraform() {
        assert_eq!(
            call("cidrsubnet", vec![s("10.0.0.0/16"), n(8.0), n(1.0)], false),
            Ok(s("10.0.1.0/24"))
        );
        assert_eq!(
            call("cidrsubnet", vec![s("10.1.0.0/16"), n(4.0), n(15.0)], false),
            Ok(s("10.1.240.0/20"))
        );
        assert_eq!(
            call("cidrhost", vec![s("10.0.1.0/24"), n(5.0)], false),
            Ok(s("10.0.1.5"))
        );
        assert_eq!(
            call("cidrhost", vec![s("10.0.1.0/24"), n(-1.0)], false),
            Ok(s("10.0.1.255"))
        );
        assert_eq!(
            call("cidrnetmask", vec![s("10.0.0.0/12")], false),
            Ok(s("255.240.0.0"))
        );
        assert!(
            call(
                "cidrsubnet",
                vec![s("10.0.0.0/16"), n(8.0), n(256.0)],
                false
            )
            .is_err()
        );
    }

    #[test]
    fn format_handles_terraform_verbs() {
        assert_eq!(
            format("%s-%03d-%%", &[s("gpu"), n(7.0)]).unwrap(),
            "gpu-007-%"
        );
        assert_eq!(format("%q", &[s("a")]).unwrap(), "\"a\"");
        assert!(format("%s %s", &[s("a")]).is_err());
    }

    #[test]
    fn jsonencode_sorts_keys_and_escapes_html() {
        let v = Value::Map(BTreeMap::from([
            ("b".to_string(), n(1.0)),
            ("a".to_string(), s("<x>&")),
        ]));
        assert_eq!(json_encode(&v), r#"{"a":"\u003cx\u003e\u0026","b":1}"#);
    }

    #[test]
    fn unknown_arguments_make_unknown_results() {
        assert_eq!(
            call("upper", vec![Value::Unknown], false),
            Ok(Value::Unknown)
        );
        assert_eq!(
            call(
                "join",
                vec![s(","), Value::List(vec![Value::Unknown])],
                false
            ),
            Ok(Value::Unknown)
        );
    }

    #[test]
    fn unknown_function_suggests_a_near_name() {
        let e = call("jion", vec![], false).unwrap_err();
        assert!(e.contains("did you mean join()"), "{e}");
    }

    #[test]
    fn encoding_and_hashing_match_terraform() {
        assert_eq!(
            call("base64encode", vec![s("keel")], false),
            Ok(s("a2VlbA=="))
        );
        assert_eq!(
            call("base64decode", vec![s("a2VlbA==")], false),
            Ok(s("keel"))
        );
        assert!(call("base64decode", vec![s("%%")], false).is_err());
        assert_eq!(
            call("sha256", vec![s("hello")], false),
            Ok(s(
                "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
            ))
        );
        assert_eq!(
            call("md5", vec![s("hello")], false),
            Ok(s("5d41402abc4b2a76b9719d911017c592"))
        );
    }

    #[test]
    fn formatlist_zips_lists_and_repeats_scalars() {
        let azs = Value::List(vec![s("a"), s("b")]);
        assert_eq!(
            call("formatlist", vec![s("%s-%s"), s("net"), azs.clone()], false),
            Ok(Value::List(vec![s("net-a"), s("net-b")]))
        );
        let short = Value::List(vec![s("x")]);
        assert!(call("formatlist", vec![s("%s%s"), azs, short], false).is_err());
    }

    #[test]
    fn file_reads_text_and_names_a_missing_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, "{}").unwrap();
        let p = s(&path.display().to_string());
        assert_eq!(call("file", vec![p], false), Ok(s("{}")));
        let e = call("file", vec![s("/nonexistent/x")], false).unwrap_err();
        assert!(e.contains("/nonexistent/x"), "{e}");
    }

    #[test]
    fn collection_functions() {
        let l = Value::List(vec![s("b"), s("a"), s("b")]);
        assert_eq!(
            call("distinct", vec![l.clone()], false),
            Ok(Value::List(vec![s("b"), s("a")]))
        );
        assert_eq!(
            call("toset", vec![l.clone()], false),
            Ok(Value::List(vec![s("a"), s("b")]))
        );
        assert_eq!(call("element", vec![l.clone(), n(4.0)], false), Ok(s("a")));
        assert_eq!(call("length", vec![l], false), Ok(n(3.0)));
        assert_eq!(
            call("range", vec![n(3.0)], false),
            Ok(Value::List(vec![n(0.0), n(1.0), n(2.0)]))
        );
        assert_eq!(
            call("coalesce", vec![Value::Null, s(""), s("x")], false),
            Ok(s("x"))
        );
    }
}
