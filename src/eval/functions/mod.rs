//! Built-in functions, with Terraform's names and behaviour: a name and argument values in,
//! a value or a sentence naming the argument that was wrong out. Every function is
//! deterministic: the same inputs give the same plan on every run, so `timestamp()`,
//! `uuid()` and `bcrypt()` are refused. An unknown argument makes the result unknown.
//!
//! `try`, `can` and `templatefile` need the evaluator (they evaluate lazily or render a
//! template) and live in [`special`]; everything else is a plain function of its arguments.

mod collections;
mod encoding;
mod network;
mod numbers;
pub(super) mod special;
mod strings;

use crate::value::Value;
use std::collections::BTreeMap;

pub use encoding::json_encode;
pub use special::{templatefile, try_can};

/// The names `call` understands, for "did you mean" hints.
pub const NAMES: &[&str] = &[
    // strings
    "chomp",
    "endswith",
    "format",
    "formatlist",
    "indent",
    "join",
    "lower",
    "regex",
    "regexall",
    "replace",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "title",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    // collections
    "alltrue",
    "anytrue",
    "chunklist",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "flatten",
    "index",
    "keys",
    "length",
    "lookup",
    "merge",
    "one",
    "range",
    "reverse",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "slice",
    "sort",
    "sum",
    "transpose",
    "values",
    "zipmap",
    // numbers
    "abs",
    "ceil",
    "floor",
    "log",
    "max",
    "min",
    "parseint",
    "pow",
    "signum",
    // conversion
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    // encoding and files
    "base64decode",
    "base64encode",
    "base64gzip",
    "file",
    "filebase64",
    "fileexists",
    "jsondecode",
    "jsonencode",
    "md5",
    "sha1",
    "sha256",
    "templatefile",
    "urlencode",
    // network
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    // special forms
    "can",
    "try",
];

/// Terraform functions keel refuses, and why.
const REFUSED: &[(&str, &str)] = &[
    (
        "timestamp",
        "returns the current time, which differs on every run, so every plan would show a change",
    ),
    (
        "plantimestamp",
        "returns the time of planning, which differs on every run, so every plan would show a change",
    ),
    (
        "uuid",
        "returns a new random UUID on every call, so every plan would show a change",
    ),
    (
        "bcrypt",
        "salts its hash randomly, so every plan would show a change",
    ),
    (
        "yamlencode",
        "is not available in keel yet (no YAML library is built in); use jsonencode(), which YAML readers accept",
    ),
    (
        "yamldecode",
        "is not available in keel yet (no YAML library is built in); use jsondecode() on a JSON document",
    ),
];

type R = Result<Value, String>;

/// One argument of a call: its position (from 1), the name Terraform's documentation gives
/// it, and its value. Its readers say which argument was wrong and what it should be.
#[derive(Debug, Clone)]
pub(super) struct Arg {
    pub pos: usize,
    pub name: &'static str,
    pub v: Value,
}

impl Arg {
    pub fn err(&self, what: impl std::fmt::Display) -> String {
        format!("argument {} ({}) {what}", self.pos, self.name)
    }

    fn wrong(&self, want: &str) -> String {
        self.err(format!("must be {want}, got {}", describe(&self.v)))
    }

    /// A string; numbers and bools convert, as Terraform does.
    pub fn string(&self) -> Result<String, String> {
        match &self.v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(crate::value::format_number(*n)),
            Value::Bool(b) => Ok(b.to_string()),
            _ => Err(self.wrong("a string")),
        }
    }

    /// A number; numeric strings convert.
    pub fn number(&self) -> Result<f64, String> {
        match &self.v {
            Value::Number(n) => Ok(*n),
            Value::String(s) => s.trim().parse().map_err(|_| self.wrong("a number")),
            _ => Err(self.wrong("a number")),
        }
    }

    /// A whole number.
    pub fn int(&self) -> Result<i64, String> {
        match self.number() {
            Ok(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(n as i64),
            _ => Err(self.wrong("a whole number")),
        }
    }

    pub fn bool(&self) -> Result<bool, String> {
        match &self.v {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            _ => Err(self.wrong("true or false")),
        }
    }

    pub fn list(&self) -> Result<&[Value], String> {
        self.v.as_list().ok_or_else(|| self.wrong("a list"))
    }

    pub fn map(&self) -> Result<&BTreeMap<String, Value>, String> {
        self.v.as_map().ok_or_else(|| self.wrong("a map or object"))
    }
}

/// What a value is, for error messages: short values are shown, collections by their kind.
pub fn describe_value(v: &Value) -> String {
    describe(v)
}

pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::List(_) => "a list".into(),
        Value::Map(_) => "an object".into(),
        Value::Unknown => "a value known only after apply".into(),
        Value::String(s) if s.chars().count() > 60 => "a long string".into(),
        other => other.to_hcl(),
    }
}

/// Checks the number of arguments and names them.
pub(super) fn take<const N: usize>(
    args: Vec<Value>,
    names: [&'static str; N],
) -> Result<[Arg; N], String> {
    if args.len() != N {
        return Err(format!(
            "takes {N} argument{} ({}), got {}",
            if N == 1 { "" } else { "s" },
            names.join(", "),
            args.len()
        ));
    }
    let mut names = names.into_iter();
    let args: Vec<Arg> = args
        .into_iter()
        .enumerate()
        .map(|(i, v)| Arg {
            pos: i + 1,
            name: names.next().unwrap_or("argument"),
            v,
        })
        .collect();
    args.try_into()
        .map_err(|_| "wrong number of arguments".to_string())
}

/// Every argument, all with the same name (functions that take any number).
pub(super) fn each(args: Vec<Value>, name: &'static str) -> Vec<Arg> {
    args.into_iter()
        .enumerate()
        .map(|(i, v)| Arg {
            pos: i + 1,
            name,
            v,
        })
        .collect()
}

/// Calls a function by name. `expand` is set when the last argument was written `xs...`.
pub fn call(name: &str, mut args: Vec<Value>, expand: bool) -> R {
    if let Some((_, why)) = REFUSED.iter().find(|(n, _)| *n == name) {
        return Err(format!(
            "keel refuses {name}(): it {why}. Pass such a value in as a variable instead"
        ));
    }
    if expand {
        match args.pop() {
            Some(Value::List(items)) => args.extend(items),
            Some(Value::Unknown) => return Ok(Value::Unknown),
            _ => return Err("the argument before ... must be a list".into()),
        }
    }
    // Functions that only rearrange collections know their result while the collections
    // themselves are known, whatever values are still unknown inside them (the keys of a
    // map whose values are not known yet are known): as Terraform's do.
    const SHAPE_ONLY: &[&str] = &[
        "length", "keys", "values", "merge", "concat", "element", "lookup", "slice", "reverse",
    ];
    let unknown = if SHAPE_ONLY.contains(&name) {
        args.iter().any(|a| a == &Value::Unknown)
    } else {
        args.iter().any(Value::has_unknown)
    };
    if unknown {
        return Ok(Value::Unknown);
    }
    type Family = (&'static [&'static str], fn(&str, Vec<Value>) -> R);
    let families: [Family; 5] = [
        (strings::NAMES, strings::call),
        (collections::NAMES, collections::call),
        (numbers::NAMES, numbers::call),
        (encoding::NAMES, encoding::call),
        (network::NAMES, network::call),
    ];
    if let Some((_, f)) = families.iter().find(|(names, _)| names.contains(&name)) {
        return f(name, args);
    }
    let mut msg = format!("there is no function named \"{name}\"");
    if let Some(s) = crate::diag::suggest(name, NAMES.iter().copied()) {
        msg.push_str(&format!("; did you mean {s}()?"));
    }
    Err(msg)
}

/// Sorts set elements the way Terraform orders them: numbers by value, strings
/// lexically, anything else by its rendering; duplicates removed.
pub(super) fn set_of(mut items: Vec<Value>) -> Vec<Value> {
    items.sort_by(|a, b| match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => a.to_hcl().cmp(&b.to_hcl()),
    });
    items.dedup();
    items
}

#[cfg(test)]
pub(super) mod test_util {
    use crate::value::Value;
    use std::collections::BTreeMap;

    pub fn s(x: &str) -> Value {
        Value::str(x)
    }
    pub fn n(x: f64) -> Value {
        Value::Number(x)
    }
    pub fn l(items: &[Value]) -> Value {
        Value::List(items.to_vec())
    }
    pub fn m(items: &[(&str, Value)]) -> Value {
        Value::Map(
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }
    pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
        super::call(name, args.to_vec(), false)
    }
    /// The call fails, and its message says `needle`.
    pub fn fails(name: &str, args: &[Value], needle: &str) {
        match call(name, args) {
            Ok(v) => panic!("{name} should fail, gave {v}"),
            Err(e) => assert!(e.contains(needle), "{name}: {e:?} does not say {needle:?}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::test_util::*;
    use super::{NAMES, collections, encoding, network, numbers, set_of, strings};
    use crate::value::Value;

    #[test]
    fn unknown_arguments_make_unknown_results() {
        assert_eq!(call("upper", &[Value::Unknown]), Ok(Value::Unknown));
        assert_eq!(
            call("join", &[s(","), l(&[Value::Unknown])]),
            Ok(Value::Unknown)
        );
        assert_eq!(call("length", &[l(&[Value::Unknown])]), Ok(n(1.0)));
    }

    #[test]
    fn rearranging_collections_keeps_what_is_known() {
        let m = |pairs: &[(&str, Value)]| {
            Value::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.clone()))
                    .collect(),
            )
        };
        // A KMS key's ARN is unknown until apply; the map's keys are not.
        let sse = m(&[("rule", m(&[("kms_master_key_id", Value::Unknown)]))]);
        assert_eq!(call("keys", &[sse.clone()]), Ok(l(&[s("rule")])));
        assert_eq!(call("length", &[sse.clone()]), Ok(n(1.0)));
        let merged = call("merge", &[sse.clone(), m(&[("b", s("x"))])]).unwrap();
        assert_eq!(merged.get("b"), &s("x"));
        assert_eq!(merged.get("rule").get("kms_master_key_id"), &Value::Unknown);
        assert_eq!(
            call("element", &[l(&[s("a"), Value::Unknown]), n(0.0)]),
            Ok(s("a"))
        );
        assert_eq!(
            call("concat", &[l(&[Value::Unknown]), l(&[s("b")])]),
            Ok(l(&[Value::Unknown, s("b")]))
        );
        // A collection that is itself unknown, or a function that needs every value.
        assert_eq!(call("keys", &[Value::Unknown]), Ok(Value::Unknown));
        assert_eq!(
            call("contains", &[l(&[Value::Unknown]), s("a")]),
            Ok(Value::Unknown)
        );
    }

    #[test]
    fn unknown_function_suggests_a_near_name() {
        fails("jion", &[], "did you mean join()");
        fails("nosuchthing", &[], "no function named \"nosuchthing\"");
    }

    #[test]
    fn functions_that_change_every_run_are_refused_with_the_reason() {
        for name in ["timestamp", "uuid", "bcrypt", "plantimestamp"] {
            fails(name, &[], "every plan would show a change");
        }
        fails("yamlencode", &[m(&[])], "jsonencode");
    }

    #[test]
    fn wrong_argument_types_name_the_argument() {
        fails("substr", &[s("abc"), s("x"), n(1.0)], "argument 2 (offset)");
        fails(
            "upper",
            &[l(&[])],
            "argument 1 (string) must be a string, got a list",
        );
        fails(
            "substr",
            &[s("abc")],
            "takes 3 arguments (string, offset, length), got 1",
        );
    }

    #[test]
    fn expansion_spreads_a_list_into_arguments() {
        assert_eq!(
            super::call("max", vec![l(&[n(1.0), n(7.0), n(3.0)])], true),
            Ok(n(7.0))
        );
        assert!(super::call("max", vec![s("x")], true).is_err());
    }

    #[test]
    fn every_function_is_listed_for_suggestions() {
        let defined: Vec<&str> = [
            strings::NAMES,
            collections::NAMES,
            numbers::NAMES,
            encoding::NAMES,
            network::NAMES,
            &["try", "can", "templatefile"],
        ]
        .concat();
        for name in &defined {
            assert!(NAMES.contains(name), "{name} is missing from NAMES");
        }
        for name in NAMES {
            assert!(defined.contains(name), "{name} is listed but not defined");
        }
    }

    #[test]
    fn set_order_is_numeric_for_numbers() {
        assert_eq!(
            set_of(vec![n(10.0), n(9.0), n(10.0)]),
            vec![n(9.0), n(10.0)]
        );
    }
}
