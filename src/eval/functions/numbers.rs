//! Numeric functions, and the type conversions `tostring`, `tonumber`, `tobool`, `tolist`,
//! `toset` and `tomap`.

use super::{R, describe, each, set_of, take};
use crate::value::Value;

/// A number, or a string that holds one (as Terraform converts them).
pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => Some(*n),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The functions this file defines.
pub(super) const NAMES: &[&str] = &[
    "abs", "ceil", "floor", "signum", "pow", "log", "min", "max", "parseint", "tostring",
    "tonumber", "tobool", "tolist", "toset", "tomap",
];

pub(super) fn call(name: &str, args: Vec<Value>) -> R {
    match name {
        "abs" | "ceil" | "floor" | "signum" => {
            let [x] = take(args, ["number"])?;
            let x = x.number()?;
            Ok(Value::Number(match name {
                "abs" => x.abs(),
                "ceil" => x.ceil(),
                "floor" => x.floor(),
                _ if x == 0.0 => 0.0,
                _ => x.signum(),
            }))
        }
        "pow" => {
            let [x, y] = take(args, ["num", "power"])?;
            Ok(Value::Number(x.number()?.powf(y.number()?)))
        }
        "log" => {
            let [x, base] = take(args, ["num", "base"])?;
            let (x, b) = (x.number()?, base.number()?);
            if b <= 0.0 || b == 1.0 {
                return Err(base.err("must be positive and not 1"));
            }
            Ok(Value::Number(x.ln() / b.ln()))
        }
        "min" | "max" => {
            if args.is_empty() {
                return Err("takes at least one number".into());
            }
            let nums = each(args, "number")
                .iter()
                .map(|a| a.number())
                .collect::<Result<Vec<f64>, String>>()?;
            let f = if name == "min" { f64::min } else { f64::max };
            Ok(Value::Number(nums.into_iter().fold(
                if name == "min" {
                    f64::INFINITY
                } else {
                    f64::NEG_INFINITY
                },
                f,
            )))
        }
        "parseint" => parseint(args),
        "tostring" => {
            let [v] = take(args, ["value"])?;
            match &v.v {
                Value::Null => Ok(Value::Null),
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    v.string().map(Value::String)
                }
                other => Err(v.err(format!(
                    "cannot be converted to a string: it is {}",
                    describe(other)
                ))),
            }
        }
        "tonumber" => {
            let [v] = take(args, ["value"])?;
            match &v.v {
                Value::Null => Ok(Value::Null),
                other => number(other).map(Value::Number).ok_or_else(|| {
                    v.err(format!(
                        "cannot be converted to a number: it is {}",
                        describe(other)
                    ))
                }),
            }
        }
        "tobool" => {
            let [v] = take(args, ["value"])?;
            match &v.v {
                Value::Null => Ok(Value::Null),
                _ => v.bool().map(Value::Bool),
            }
        }
        "tolist" => {
            let [v] = take(args, ["value"])?;
            Ok(Value::List(v.list()?.to_vec()))
        }
        "toset" => {
            let [v] = take(args, ["value"])?;
            Ok(Value::List(set_of(v.list()?.to_vec())))
        }
        "tomap" => {
            let [v] = take(args, ["value"])?;
            Ok(Value::Map(v.map()?.clone()))
        }
        other => Err(format!("there is no function named \"{other}\"")),
    }
}

/// `parseint("ff", 16)`: digits 0-9, then a-z, then A-Z for bases above 36.
fn parseint(args: Vec<Value>) -> R {
    let [s, base] = take(args, ["number", "base"])?;
    let text = s.string()?;
    let b = base.int()?;
    if !(2..=62).contains(&b) {
        return Err(base.err("must be a whole number from 2 to 62"));
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    let bad = || s.err(format!("\"{text}\" is not a base-{b} integer"));
    if digits.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as i64 - '0' as i64,
            'a'..='z' => c as i64 - 'a' as i64 + 10,
            'A'..='Z' if b > 36 => c as i64 - 'A' as i64 + 36,
            'A'..='Z' => c as i64 - 'A' as i64 + 10,
            _ => return Err(bad()),
        };
        if d >= b {
            return Err(bad());
        }
        total = total * b as f64 + d as f64;
    }
    Ok(Value::Number(if negative { -total } else { total }))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::super::test_util::*;
    use crate::value::Value;

    #[test]
    fn arithmetic() {
        assert_eq!(call("abs", &[n(-3.5)]), Ok(n(3.5)));
        assert_eq!(call("ceil", &[n(4.1)]), Ok(n(5.0)));
        assert_eq!(call("floor", &[s("4.9")]), Ok(n(4.0)));
        assert_eq!(call("pow", &[n(2.0), n(10.0)]), Ok(n(1024.0)));
        assert_eq!(call("signum", &[n(-7.0)]), Ok(n(-1.0)));
        assert_eq!(call("signum", &[n(0.0)]), Ok(n(0.0)));
        assert_eq!(call("log", &[n(16.0), n(2.0)]), Ok(n(4.0)));
        assert_eq!(call("max", &[n(1.0), s("7"), n(3.0)]), Ok(n(7.0)));
        assert_eq!(call("min", &[n(1.0), n(-7.0)]), Ok(n(-7.0)));
        fails(
            "abs",
            &[s("x")],
            "argument 1 (number) must be a number, got \"x\"",
        );
        fails("pow", &[n(2.0), l(&[])], "argument 2 (power)");
        fails("max", &[n(1.0), s("x")], "argument 2 (number)");
        fails("max", &[], "at least one number");
        fails("log", &[n(2.0), n(1.0)], "argument 2 (base)");
    }

    #[test]
    fn parseint_reads_every_base() {
        assert_eq!(call("parseint", &[s("100"), n(10.0)]), Ok(n(100.0)));
        assert_eq!(call("parseint", &[s("FF"), n(16.0)]), Ok(n(255.0)));
        assert_eq!(call("parseint", &[s("-1010"), n(2.0)]), Ok(n(-10.0)));
        assert_eq!(
            call("parseint", &[s("zZ"), n(62.0)]),
            Ok(n(35.0 * 62.0 + 61.0))
        );
        fails(
            "parseint",
            &[s("12"), n(2.0)],
            "\"12\" is not a base-2 integer",
        );
        fails(
            "parseint",
            &[s("1"), n(99.0)],
            "argument 2 (base) must be a whole number from 2 to 62",
        );
    }

    #[test]
    fn conversions() {
        assert_eq!(call("tostring", &[n(8.0)]), Ok(s("8")));
        assert_eq!(call("tonumber", &[s("8")]), Ok(n(8.0)));
        assert_eq!(call("tobool", &[s("true")]), Ok(Value::Bool(true)));
        assert_eq!(call("tostring", &[Value::Null]), Ok(Value::Null));
        assert_eq!(
            call("toset", &[l(&[n(10.0), n(9.0), n(9.0)])]),
            Ok(l(&[n(9.0), n(10.0)]))
        );
        fails("tonumber", &[s("x")], "cannot be converted to a number");
        fails("tostring", &[l(&[])], "cannot be converted to a string");
        fails("tobool", &[n(1.0)], "must be true or false");
    }
}
