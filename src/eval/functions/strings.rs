//! String functions: case, trimming, slicing, searching with regular expressions (RE2
//! syntax as Terraform uses, through `regex-lite`), and printf-style formatting.

use super::{Arg, R, describe, each, take};
use crate::value::{Value, format_number};
use regex_lite::Regex;
use std::collections::BTreeMap;

/// The functions this file defines.
pub(super) const NAMES: &[&str] = &[
    "lower",
    "upper",
    "trimspace",
    "strrev",
    "title",
    "chomp",
    "trim",
    "trimprefix",
    "trimsuffix",
    "startswith",
    "endswith",
    "strcontains",
    "substr",
    "indent",
    "join",
    "split",
    "replace",
    "regex",
    "regexall",
    "format",
    "formatlist",
];

pub(super) fn call(name: &str, args: Vec<Value>) -> R {
    match name {
        "lower" | "upper" | "trimspace" | "strrev" | "title" | "chomp" => one_string(name, args),
        "trim" | "trimprefix" | "trimsuffix" | "startswith" | "endswith" | "strcontains" => {
            two_strings(name, args)
        }
        "substr" => substr(args),
        "indent" => indent(args),
        "join" => join(args),
        "split" => split(args),
        "replace" => replace(args),
        "regex" | "regexall" => regex(name, args),
        "format" => {
            if args.is_empty() {
                return Err("takes a format string and the values to format".into());
            }
            let mut args = each(args, "value");
            let spec = args.remove(0);
            let spec = Arg {
                name: "format",
                ..spec
            };
            spec.string()
                .and_then(|f| format(&f, &args.into_iter().map(|a| a.v).collect::<Vec<_>>()))
                .map(Value::String)
        }
        "formatlist" => formatlist(args),
        other => Err(format!("there is no function named \"{other}\"")),
    }
}

fn one_string(name: &str, args: Vec<Value>) -> R {
    let [s] = take(args, ["string"])?;
    let s = s.string()?;
    Ok(Value::String(match name {
        "lower" => s.to_lowercase(),
        "upper" => s.to_uppercase(),
        "trimspace" => s.trim().to_string(),
        "strrev" => s.chars().rev().collect(),
        "title" => title(&s),
        _ => s.trim_end_matches(['\n', '\r']).to_string(),
    }))
}

fn two_strings(name: &str, args: Vec<Value>) -> R {
    let second = match name {
        "trim" => "cutset",
        "trimprefix" | "startswith" => "prefix",
        "trimsuffix" | "endswith" => "suffix",
        _ => "substr",
    };
    let [s, t] = take(args, ["string", second])?;
    let (s, t) = (s.string()?, t.string()?);
    Ok(match name {
        "trim" => Value::String(s.trim_matches(|c| t.contains(c)).to_string()),
        "trimprefix" => Value::String(s.strip_prefix(t.as_str()).unwrap_or(&s).to_string()),
        "trimsuffix" => Value::String(s.strip_suffix(t.as_str()).unwrap_or(&s).to_string()),
        "startswith" => Value::Bool(s.starts_with(t.as_str())),
        "endswith" => Value::Bool(s.ends_with(t.as_str())),
        _ => Value::Bool(s.contains(t.as_str())),
    })
}

/// Upper-cases the first letter of every word, as Go's strings.Title does.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    out
}

fn substr(args: Vec<Value>) -> R {
    let [s, offset, length] = take(args, ["string", "offset", "length"])?;
    let chars: Vec<char> = s.string()?.chars().collect();
    let total = chars.len() as i64;
    let mut offset = offset.int()?;
    let length = length.int()?;
    if offset < 0 {
        offset = (total + offset).max(0);
    }
    if offset >= total {
        return Ok(Value::str(""));
    }
    let end = if length < 0 {
        total
    } else {
        (offset + length).min(total)
    };
    Ok(Value::String(
        chars[offset as usize..end as usize].iter().collect(),
    ))
}

fn indent(args: Vec<Value>) -> R {
    let [spaces, s] = take(args, ["spaces", "string"])?;
    let n = spaces.int()?;
    if n < 0 {
        return Err(spaces.err("must not be negative"));
    }
    let pad = " ".repeat(n as usize);
    Ok(Value::String(
        s.string()?.replace('\n', &format!("\n{pad}")),
    ))
}

fn join(args: Vec<Value>) -> R {
    if args.len() < 2 {
        return Err("takes a separator and at least one list".into());
    }
    let mut args = each(args, "list");
    let sep = Arg {
        name: "separator",
        ..args.remove(0)
    }
    .string()?;
    let mut parts = Vec::new();
    for list in &args {
        for item in list.list()? {
            match item {
                Value::Null => return Err(list.err("contains null")),
                v => parts.push(
                    Arg {
                        v: v.clone(),
                        ..list.clone()
                    }
                    .string()
                    .map_err(|_| list.err(format!("holds {}, not strings", describe(v))))?,
                ),
            }
        }
    }
    Ok(Value::String(parts.join(&sep)))
}

fn split(args: Vec<Value>) -> R {
    let [sep, s] = take(args, ["separator", "string"])?;
    let (sep, s) = (sep.string()?, s.string()?);
    if sep.is_empty() {
        return Ok(Value::List(
            s.chars().map(|c| Value::String(c.to_string())).collect(),
        ));
    }
    Ok(Value::List(
        s.split(sep.as_str()).map(Value::from).collect(),
    ))
}

fn replace(args: Vec<Value>) -> R {
    let [s, from, to] = take(args, ["string", "substring", "replacement"])?;
    let (text, pattern, with) = (s.string()?, from.string()?, to.string()?);
    if pattern.len() > 1 && pattern.starts_with('/') && pattern.ends_with('/') {
        let re = compile(&from, &pattern[1..pattern.len() - 1])?;
        return Ok(Value::String(
            re.replace_all(&text, with.as_str()).into_owned(),
        ));
    }
    Ok(Value::String(text.replace(&pattern, &with)))
}

fn compile(arg: &Arg, pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| arg.err(format!("is not a valid regular expression: {e}")))
}

/// `regex` returns the first match, `regexall` every match: the matched text when the
/// pattern has no capture groups, a list of the groups when they are unnamed, an object
/// when they are named.
fn regex(name: &str, args: Vec<Value>) -> R {
    let [pattern, s] = take(args, ["pattern", "string"])?;
    let re = compile(&pattern, &pattern.string()?)?;
    let text = s.string()?;
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let named = names.iter().filter(|n| n.is_some()).count();
    if named > 0 && named < names.len() {
        return Err(pattern.err("mixes named and unnamed capture groups; use one kind"));
    }
    let result = |caps: regex_lite::Captures<'_>| -> Value {
        let group = |i: usize| {
            caps.get(i)
                .map(|m| Value::str(m.as_str()))
                .unwrap_or(Value::Null)
        };
        if names.is_empty() {
            group(0)
        } else if named > 0 {
            Value::Map(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.unwrap_or_default().to_string(), group(i + 1)))
                    .collect::<BTreeMap<_, _>>(),
            )
        } else {
            Value::List((1..=names.len()).map(group).collect())
        }
    };
    if name == "regexall" {
        return Ok(Value::List(re.captures_iter(&text).map(result).collect()));
    }
    re.captures(&text)
        .map(result)
        .ok_or_else(|| "the pattern did not match any part of the string".to_string())
}

fn formatlist(args: Vec<Value>) -> R {
    if args.is_empty() {
        return Err("takes a format string and the lists to format".into());
    }
    let mut args = args;
    let spec = Arg {
        pos: 1,
        name: "format",
        v: args.remove(0),
    }
    .string()?;
    // Lists are iterated together; other arguments repeat for every element.
    let mut len: Option<usize> = None;
    for a in &args {
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
        let row: Vec<Value> = args
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

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(format_number(*n)),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, got {}", describe(other))),
    }
}

/// printf-style formatting with Terraform's verbs: %s %d %f %v %q %t %%.
pub(super) fn format(spec: &str, args: &[Value]) -> Result<String, String> {
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
                Value::List(_) | Value::Map(_) if verb == 'v' => super::json_encode(arg),
                _ => text(arg)?,
            },
            'q' => crate::value::quote(&text(arg)?),
            't' => match arg {
                Value::Bool(b) => b.to_string(),
                _ => return Err(format!("%t needs a bool, got {}", describe(arg))),
            },
            'd' => match super::numbers::number(arg) {
                Some(n) if n.fract() == 0.0 => format_number(n),
                _ => return Err(format!("%d needs a whole number, got {}", describe(arg))),
            },
            'f' => {
                let n = super::numbers::number(arg)
                    .ok_or_else(|| format!("%f needs a number, got {}", describe(arg)))?;
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

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::super::test_util::*;
    use super::format;
    use crate::value::Value;

    #[test]
    fn case_and_trimming() {
        assert_eq!(call("upper", &[s("gpu-a")]), Ok(s("GPU-A")));
        assert_eq!(call("lower", &[s("GPU")]), Ok(s("gpu")));
        assert_eq!(
            call("title", &[s("hello wide-world_x")]),
            Ok(s("Hello Wide-World_x"))
        );
        assert_eq!(call("trimspace", &[s("  a b \n")]), Ok(s("a b")));
        assert_eq!(call("trim", &[s("?!hello?!"), s("!?")]), Ok(s("hello")));
        assert_eq!(
            call("trimprefix", &[s("helloworld"), s("hello")]),
            Ok(s("world"))
        );
        assert_eq!(call("trimprefix", &[s("hello"), s("x")]), Ok(s("hello")));
        assert_eq!(
            call("trimsuffix", &[s("helloworld"), s("world")]),
            Ok(s("hello"))
        );
        assert_eq!(call("chomp", &[s("hello\n\r\n")]), Ok(s("hello")));
        assert_eq!(call("strrev", &[s("héllo")]), Ok(s("olléh")));
        assert_eq!(call("indent", &[n(2.0), s("a\nb")]), Ok(s("a\n  b")));
        fails("trim", &[s("x")], "takes 2 arguments (string, cutset)");
        fails(
            "upper",
            &[Value::Null],
            "argument 1 (string) must be a string, got null",
        );
    }

    #[test]
    fn prefixes_and_suffixes() {
        assert_eq!(
            call("startswith", &[s("hello"), s("he")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            call("endswith", &[s("hello"), s("he")]),
            Ok(Value::Bool(false))
        );
        assert_eq!(
            call("strcontains", &[s("hello"), s("ll")]),
            Ok(Value::Bool(true))
        );
        fails("startswith", &[s("x"), l(&[])], "argument 2 (prefix)");
    }

    #[test]
    fn substr_counts_characters_and_clamps_like_terraform() {
        assert_eq!(
            call("substr", &[s("hello world"), n(1.0), n(4.0)]),
            Ok(s("ello"))
        );
        assert_eq!(
            call("substr", &[s("hello"), n(-3.0), n(-1.0)]),
            Ok(s("llo"))
        );
        assert_eq!(
            call("substr", &[s("hello"), n(2.0), n(100.0)]),
            Ok(s("llo"))
        );
        assert_eq!(call("substr", &[s("hello"), n(10.0), n(1.0)]), Ok(s("")));
        assert_eq!(call("substr", &[s("🤔🤷x"), n(0.0), n(1.0)]), Ok(s("🤔")));
        fails(
            "substr",
            &[s("hello"), n(1.5), n(1.0)],
            "argument 2 (offset) must be a whole number",
        );
    }

    #[test]
    fn split_and_join_round_trip() {
        assert_eq!(
            call("split", &[s(","), s("a,b,,c")]),
            Ok(l(&[s("a"), s("b"), s(""), s("c")]))
        );
        // As in Terraform, splitting an empty string gives one empty string.
        assert_eq!(call("split", &[s(","), s("")]), Ok(l(&[s("")])));
        assert_eq!(
            call("join", &[s("-"), l(&[s("a"), n(1.0)]), l(&[s("c")])]),
            Ok(s("a-1-c"))
        );
        fails(
            "join",
            &[s("-"), l(&[Value::Null])],
            "argument 2 (list) contains null",
        );
        fails(
            "join",
            &[s("-"), s("x")],
            "argument 2 (list) must be a list",
        );
    }

    #[test]
    fn regex_results_follow_the_capture_groups() {
        assert_eq!(call("regex", &[s("[a-z]+"), s("53abc12")]), Ok(s("abc")));
        assert_eq!(
            call("regex", &[s("(\\d+)-(\\d+)"), s("port 80-443")]),
            Ok(l(&[s("80"), s("443")]))
        );
        assert_eq!(
            call("regex", &[s("(?P<from>\\d+)-(?P<to>\\d+)"), s("80-443")]),
            Ok(m(&[("from", s("80")), ("to", s("443"))]))
        );
        assert_eq!(
            call("regexall", &[s("\\d+"), s("a1b22c333")]),
            Ok(l(&[s("1"), s("22"), s("333")]))
        );
        assert_eq!(call("regexall", &[s("z"), s("abc")]), Ok(l(&[])));
        fails("regex", &[s("z"), s("abc")], "did not match");
        fails(
            "regex",
            &[s("(unclosed"), s("abc")],
            "argument 1 (pattern) is not a valid regular expression",
        );
        fails(
            "regex",
            &[s("(?P<a>x)(y)"), s("xy")],
            "mixes named and unnamed",
        );
    }

    #[test]
    fn replace_takes_plain_text_or_a_regex() {
        assert_eq!(
            call("replace", &[s("a.b.c"), s("."), s("-")]),
            Ok(s("a-b-c"))
        );
        assert_eq!(
            call(
                "replace",
                &[s("gpu-01, gpu-22"), s("/gpu-(\\d+)/"), s("node$1")]
            ),
            Ok(s("node01, node22"))
        );
        fails(
            "replace",
            &[s("x"), s("/(/"), s("y")],
            "argument 2 (substring) is not a valid regular expression",
        );
    }

    #[test]
    fn format_handles_terraform_verbs() {
        assert_eq!(
            format("%s-%03d-%%", &[s("gpu"), n(7.0)]).unwrap(),
            "gpu-007-%"
        );
        assert_eq!(format("%q", &[s("a")]).unwrap(), "\"a\"");
        assert_eq!(format("%.2f", &[n(1.0 / 3.0)]).unwrap(), "0.33");
        assert!(format("%s %s", &[s("a")]).is_err());
        fails("format", &[s("%d"), s("x")], "%d needs a whole number");
    }

    #[test]
    fn formatlist_zips_lists_and_repeats_scalars() {
        let azs = l(&[s("a"), s("b")]);
        assert_eq!(
            call("formatlist", &[s("%s-%s"), s("net"), azs.clone()]),
            Ok(l(&[s("net-a"), s("net-b")]))
        );
        fails("formatlist", &[s("%s%s"), azs, l(&[s("x")])], "same length");
    }
}
