//! Functions over lists, sets and maps. Sets are lists kept sorted and free of duplicates
//! (see [`super::set_of`]); maps keep their keys sorted.

use super::{Arg, R, describe, each, set_of, take};
use crate::value::Value;
use std::collections::BTreeMap;

/// The functions this file defines.
pub(super) const NAMES: &[&str] = &[
    "length",
    "concat",
    "merge",
    "lookup",
    "element",
    "keys",
    "values",
    "contains",
    "coalesce",
    "coalescelist",
    "distinct",
    "flatten",
    "compact",
    "slice",
    "reverse",
    "sort",
    "index",
    "one",
    "alltrue",
    "anytrue",
    "chunklist",
    "setunion",
    "setintersection",
    "setsubtract",
    "setproduct",
    "transpose",
    "sum",
    "range",
    "zipmap",
];

pub(super) fn call(name: &str, args: Vec<Value>) -> R {
    match name {
        "length" => length(args),
        "concat" => {
            let mut out = Vec::new();
            for a in each(args, "list") {
                out.extend(a.list()?.iter().cloned());
            }
            Ok(Value::List(out))
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for a in each(args, "map") {
                match &a.v {
                    Value::Null => {}
                    _ => out.extend(a.map()?.clone()),
                }
            }
            Ok(Value::Map(out))
        }
        "lookup" => lookup(args),
        "element" => {
            let [list, index] = take(args, ["list", "index"])?;
            let items = list.list()?;
            if items.is_empty() {
                return Err(list.err("is empty, so it has no elements"));
            }
            let i = index.int()?;
            if i < 0 {
                return Err(index.err("must not be negative"));
            }
            Ok(items[(i as usize) % items.len()].clone())
        }
        "keys" | "values" => {
            let [m] = take(args, ["map"])?;
            let m = m.map()?;
            Ok(Value::List(if name == "keys" {
                m.keys().map(|k| Value::String(k.clone())).collect()
            } else {
                m.values().cloned().collect()
            }))
        }
        "contains" => {
            let [list, value] = take(args, ["list", "value"])?;
            Ok(Value::Bool(list.list()?.contains(&value.v)))
        }
        "coalesce" => args
            .into_iter()
            .find(|v| !v.is_null() && v != &Value::str(""))
            .ok_or_else(|| "every argument is null or an empty string".into()),
        "coalescelist" => {
            let lists = each(args, "list");
            for a in &lists {
                if !a.list()?.is_empty() {
                    return Ok(a.v.clone());
                }
            }
            Err("every argument is an empty list".into())
        }
        "distinct" => {
            let [list] = take(args, ["list"])?;
            let mut out: Vec<Value> = Vec::new();
            for v in list.list()? {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Ok(Value::List(out))
        }
        "flatten" => {
            let [list] = take(args, ["list"])?;
            fn go(v: &Value, out: &mut Vec<Value>) {
                match v {
                    Value::List(items) => items.iter().for_each(|i| go(i, out)),
                    other => out.push(other.clone()),
                }
            }
            let mut out = Vec::new();
            for item in list.list()? {
                go(item, &mut out);
            }
            Ok(Value::List(out))
        }
        "compact" => {
            let [list] = take(args, ["list"])?;
            Ok(Value::List(
                list.list()?
                    .iter()
                    .filter(|v| !v.is_null() && *v != &Value::str(""))
                    .cloned()
                    .collect(),
            ))
        }
        "slice" => slice(args),
        "reverse" => {
            let [list] = take(args, ["list"])?;
            Ok(Value::List(list.list()?.iter().rev().cloned().collect()))
        }
        "sort" => sort(args),
        "index" => {
            let [list, value] = take(args, ["list", "value"])?;
            list.list()?
                .iter()
                .position(|v| v == &value.v)
                .map(|i| Value::Number(i as f64))
                .ok_or_else(|| value.err(format!("{} is not in the list", describe(&value.v))))
        }
        "one" => {
            let [list] = take(args, ["list"])?;
            match list.list()? {
                [] => Ok(Value::Null),
                [v] => Ok(v.clone()),
                more => Err(list.err(format!(
                    "must have zero or one elements, but has {}",
                    more.len()
                ))),
            }
        }
        "alltrue" | "anytrue" => {
            let [list] = take(args, ["list"])?;
            let mut bools = Vec::new();
            for v in list.list()? {
                let item = Arg {
                    v: v.clone(),
                    ..list.clone()
                };
                bools.push(
                    item.bool()
                        .map_err(|_| list.err(format!("holds {}, not a bool", describe(v))))?,
                );
            }
            Ok(Value::Bool(if name == "alltrue" {
                bools.iter().all(|b| *b)
            } else {
                bools.iter().any(|b| *b)
            }))
        }
        "chunklist" => {
            let [list, size] = take(args, ["list", "size"])?;
            let items = list.list()?;
            let n = size.int()?;
            if n < 0 {
                return Err(size.err("must not be negative"));
            }
            if n == 0 {
                return Ok(Value::List(vec![list.v.clone()]));
            }
            Ok(Value::List(
                items
                    .chunks(n as usize)
                    .map(|c| Value::List(c.to_vec()))
                    .collect(),
            ))
        }
        "setunion" | "setintersection" | "setsubtract" => sets(name, args),
        "setproduct" => setproduct(args),
        "transpose" => transpose(args),
        "sum" => {
            let [list] = take(args, ["list"])?;
            let items = list.list()?;
            if items.is_empty() {
                return Err(list.err("is empty; sum needs at least one number"));
            }
            let mut total = 0.0;
            for v in items {
                total += super::numbers::number(v)
                    .ok_or_else(|| list.err(format!("holds {}, not a number", describe(v))))?;
            }
            Ok(Value::Number(total))
        }
        "range" => range(args),
        "zipmap" => {
            let [keys, values] = take(args, ["keys", "values"])?;
            let (k, v) = (keys.list()?, values.list()?);
            if k.len() != v.len() {
                return Err(format!(
                    "the lists differ in length ({} keys, {} values)",
                    k.len(),
                    v.len()
                ));
            }
            let mut out = BTreeMap::new();
            for (key, value) in k.iter().zip(v) {
                let key = Arg {
                    v: key.clone(),
                    ..keys.clone()
                }
                .string()?;
                out.insert(key, value.clone());
            }
            Ok(Value::Map(out))
        }
        other => Err(format!("there is no function named \"{other}\"")),
    }
}

fn length(args: Vec<Value>) -> R {
    let [v] = take(args, ["value"])?;
    match &v.v {
        Value::String(s) => Ok(Value::Number(s.chars().count() as f64)),
        Value::List(l) => Ok(Value::Number(l.len() as f64)),
        Value::Map(m) => Ok(Value::Number(m.len() as f64)),
        Value::Unknown => Ok(Value::Unknown),
        other => Err(v.err(format!(
            "must be a string, list or map, got {}",
            describe(other)
        ))),
    }
}

fn lookup(args: Vec<Value>) -> R {
    let n = args.len();
    if !(2..=3).contains(&n) {
        return Err(format!(
            "takes 2 or 3 arguments (map, key, default), got {n}"
        ));
    }
    let mut args = args.into_iter();
    let map = Arg {
        pos: 1,
        name: "map",
        v: args.next().unwrap_or_default(),
    };
    let key = Arg {
        pos: 2,
        name: "key",
        v: args.next().unwrap_or_default(),
    };
    let k = key.string()?;
    match map.map()?.get(&k) {
        Some(v) => Ok(v.clone()),
        None => args.next().ok_or_else(|| {
            key.err(format!(
                "\"{k}\" is not in the map and no default was given"
            ))
        }),
    }
}

fn slice(args: Vec<Value>) -> R {
    let [list, start, end] = take(args, ["list", "start_index", "end_index"])?;
    let items = list.list()?;
    let (s, e) = (start.int()?, end.int()?);
    if s < 0 {
        return Err(start.err("must not be negative"));
    }
    if e > items.len() as i64 {
        return Err(end.err(format!(
            "must not be greater than the list's length ({})",
            items.len()
        )));
    }
    if s > e {
        return Err(start.err("must not be greater than end_index"));
    }
    Ok(Value::List(items[s as usize..e as usize].to_vec()))
}

fn sort(args: Vec<Value>) -> R {
    let [list] = take(args, ["list"])?;
    let mut out = Vec::new();
    for v in list.list()? {
        let item = Arg {
            v: v.clone(),
            ..list.clone()
        };
        out.push(
            item.string()
                .map_err(|_| list.err(format!("holds {}, not a string", describe(v))))?,
        );
    }
    out.sort();
    Ok(Value::List(out.into_iter().map(Value::String).collect()))
}

fn sets(name: &str, args: Vec<Value>) -> R {
    if args.is_empty() || (name == "setsubtract" && args.len() != 2) {
        return Err(if name == "setsubtract" {
            format!("takes 2 arguments (a, b), got {}", args.len())
        } else {
            "takes at least one set".into()
        });
    }
    let sets = each(args, "set");
    let mut lists = Vec::with_capacity(sets.len());
    for s in &sets {
        lists.push(s.list()?.to_vec());
    }
    let mut lists = lists.into_iter();
    let first = lists.next().unwrap_or_default();
    let out: Vec<Value> = match name {
        "setunion" => first.into_iter().chain(lists.flatten()).collect(),
        "setintersection" => {
            let rest: Vec<Vec<Value>> = lists.collect();
            first
                .into_iter()
                .filter(|v| rest.iter().all(|r| r.contains(v)))
                .collect()
        }
        _ => {
            let b = lists.next().unwrap_or_default();
            first.into_iter().filter(|v| !b.contains(v)).collect()
        }
    };
    Ok(Value::List(set_of(out)))
}

/// Every combination of one element from each set, the first set varying slowest.
fn setproduct(args: Vec<Value>) -> R {
    if args.len() < 2 {
        return Err(format!("takes at least 2 sets, got {}", args.len()));
    }
    let mut out: Vec<Vec<Value>> = vec![vec![]];
    for a in each(args, "set") {
        let items = a.list()?;
        let mut next = Vec::with_capacity(out.len() * items.len());
        for prefix in &out {
            for item in items {
                let mut row = prefix.clone();
                row.push(item.clone());
                next.push(row);
            }
        }
        if next.len() > 100_000 {
            return Err("the product has more than 100000 elements".into());
        }
        out = next;
    }
    Ok(Value::List(out.into_iter().map(Value::List).collect()))
}

/// Swaps the keys and values of a map of lists of strings.
fn transpose(args: Vec<Value>) -> R {
    let [m] = take(args, ["map"])?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, list) in m.map()? {
        let Some(items) = list.as_list() else {
            return Err(m.err(format!(
                "must map to lists of strings; \"{k}\" holds {}",
                describe(list)
            )));
        };
        for item in items {
            let Value::String(s) = item else {
                return Err(m.err(format!(
                    "must map to lists of strings; \"{k}\" holds {}",
                    describe(item)
                )));
            };
            out.entry(s.clone())
                .or_default()
                .push(Value::String(k.clone()));
        }
    }
    Ok(Value::Map(
        out.into_iter()
            .map(|(k, v)| (k, Value::List(set_of(v))))
            .collect(),
    ))
}

fn range(args: Vec<Value>) -> R {
    let names: &[&str] = if args.len() == 1 {
        &["limit"]
    } else {
        &["start", "limit", "step"]
    };
    let nums = each(args, "number")
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            Arg {
                name: names.get(i).copied().unwrap_or("number"),
                ..a
            }
            .number()
        })
        .collect::<Result<Vec<f64>, String>>()?;
    let (start, end, step) = match nums.as_slice() {
        [e] => (0.0, *e, 1.0),
        [s, e] => (*s, *e, if e >= s { 1.0 } else { -1.0 }),
        [s, e, st] => (*s, *e, *st),
        _ => return Err("takes one to three numbers (start, limit, step)".into()),
    };
    if step == 0.0 {
        return Err("argument 3 (step) must not be zero".into());
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        out.push(Value::Number(x));
        x += step;
        if out.len() > 1024 {
            return Err("the range has more than 1024 elements".into());
        }
    }
    Ok(Value::List(out))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::super::test_util::*;
    use crate::value::Value;

    #[test]
    fn list_basics() {
        let abb = l(&[s("b"), s("a"), s("b")]);
        assert_eq!(call("distinct", &[abb.clone()]), Ok(l(&[s("b"), s("a")])));
        assert_eq!(call("element", &[abb.clone(), n(4.0)]), Ok(s("a")));
        assert_eq!(call("length", &[abb.clone()]), Ok(n(3.0)));
        assert_eq!(
            call("reverse", &[abb.clone()]),
            Ok(l(&[s("b"), s("a"), s("b")]))
        );
        assert_eq!(
            call("sort", &[abb.clone()]),
            Ok(l(&[s("a"), s("b"), s("b")]))
        );
        assert_eq!(call("index", &[abb.clone(), s("a")]), Ok(n(1.0)));
        fails("index", &[abb.clone(), s("z")], "\"z\" is not in the list");
        fails("element", &[l(&[]), n(0.0)], "argument 1 (list) is empty");
        fails(
            "length",
            &[n(3.0)],
            "argument 1 (value) must be a string, list or map",
        );
        fails("sort", &[l(&[l(&[])])], "holds a list, not a string");
    }

    #[test]
    fn slice_and_chunks() {
        let xs = l(&[n(1.0), n(2.0), n(3.0), n(4.0), n(5.0)]);
        assert_eq!(
            call("slice", &[xs.clone(), n(1.0), n(3.0)]),
            Ok(l(&[n(2.0), n(3.0)]))
        );
        fails(
            "slice",
            &[xs.clone(), n(1.0), n(9.0)],
            "argument 3 (end_index) must not be greater",
        );
        fails(
            "slice",
            &[xs.clone(), n(3.0), n(1.0)],
            "argument 2 (start_index)",
        );
        assert_eq!(
            call("chunklist", &[xs.clone(), n(2.0)]),
            Ok(l(&[
                l(&[n(1.0), n(2.0)]),
                l(&[n(3.0), n(4.0)]),
                l(&[n(5.0)])
            ]))
        );
        fails(
            "chunklist",
            &[xs, n(-1.0)],
            "argument 2 (size) must not be negative",
        );
    }

    #[test]
    fn compact_one_and_coalescing() {
        assert_eq!(
            call("compact", &[l(&[s("a"), s(""), Value::Null, s("b")])]),
            Ok(l(&[s("a"), s("b")]))
        );
        assert_eq!(call("one", &[l(&[])]), Ok(Value::Null));
        assert_eq!(call("one", &[l(&[s("x")])]), Ok(s("x")));
        fails(
            "one",
            &[l(&[s("x"), s("y")])],
            "zero or one elements, but has 2",
        );
        assert_eq!(call("coalesce", &[Value::Null, s(""), s("x")]), Ok(s("x")));
        assert_eq!(
            call("coalescelist", &[l(&[]), l(&[s("a")])]),
            Ok(l(&[s("a")]))
        );
        fails(
            "coalescelist",
            &[l(&[]), s("x")],
            "argument 2 (list) must be a list",
        );
    }

    #[test]
    fn bool_aggregates() {
        let t = Value::Bool(true);
        let f = Value::Bool(false);
        assert_eq!(
            call("alltrue", &[l(&[t.clone(), s("true")])]),
            Ok(t.clone())
        );
        assert_eq!(call("alltrue", &[l(&[])]), Ok(t.clone()));
        assert_eq!(
            call("anytrue", &[l(&[f.clone(), t.clone()])]),
            Ok(t.clone())
        );
        assert_eq!(call("anytrue", &[l(&[])]), Ok(f));
        fails("alltrue", &[l(&[n(1.0)])], "holds 1, not a bool");
    }

    #[test]
    fn set_algebra() {
        let ab = l(&[s("b"), s("a")]);
        let bc = l(&[s("b"), s("c")]);
        assert_eq!(
            call("setunion", &[ab.clone(), bc.clone()]),
            Ok(l(&[s("a"), s("b"), s("c")]))
        );
        assert_eq!(
            call("setintersection", &[ab.clone(), bc.clone()]),
            Ok(l(&[s("b")]))
        );
        assert_eq!(
            call("setsubtract", &[ab.clone(), bc.clone()]),
            Ok(l(&[s("a")]))
        );
        assert_eq!(
            call("setproduct", &[l(&[s("x"), s("y")]), l(&[n(1.0), n(2.0)])]),
            Ok(l(&[
                l(&[s("x"), n(1.0)]),
                l(&[s("x"), n(2.0)]),
                l(&[s("y"), n(1.0)]),
                l(&[s("y"), n(2.0)]),
            ]))
        );
        fails("setsubtract", &[ab.clone()], "takes 2 arguments");
        fails("setunion", &[ab, s("x")], "argument 2 (set) must be a list");
    }

    #[test]
    fn maps() {
        let tm = m(&[("a", l(&[s("1"), s("2")])), ("b", l(&[s("2"), s("3")]))]);
        assert_eq!(
            call("transpose", &[tm]),
            Ok(m(&[
                ("1", l(&[s("a")])),
                ("2", l(&[s("a"), s("b")])),
                ("3", l(&[s("b")])),
            ]))
        );
        fails(
            "transpose",
            &[m(&[("a", s("x"))])],
            "must map to lists of strings",
        );
        let kv = m(&[("b", n(2.0)), ("a", n(1.0))]);
        assert_eq!(call("keys", &[kv.clone()]), Ok(l(&[s("a"), s("b")])));
        assert_eq!(call("values", &[kv.clone()]), Ok(l(&[n(1.0), n(2.0)])));
        assert_eq!(call("lookup", &[kv.clone(), s("z"), n(0.0)]), Ok(n(0.0)));
        fails(
            "lookup",
            &[kv.clone(), s("z")],
            "argument 2 (key) \"z\" is not in the map",
        );
        fails(
            "values",
            &[l(&[])],
            "argument 1 (map) must be a map or object, got a list",
        );
        assert_eq!(
            call("merge", &[kv.clone(), Value::Null, m(&[("a", n(9.0))])]),
            Ok(m(&[("a", n(9.0)), ("b", n(2.0))]))
        );
        assert_eq!(
            call("zipmap", &[l(&[s("x")]), l(&[n(1.0)])]),
            Ok(m(&[("x", n(1.0))]))
        );
    }

    #[test]
    fn sums_and_ranges() {
        assert_eq!(call("sum", &[l(&[n(1.0), s("2.5")])]), Ok(n(3.5)));
        fails("sum", &[l(&[])], "empty");
        fails("sum", &[l(&[s("x")])], "holds \"x\", not a number");
        assert_eq!(call("range", &[n(3.0)]), Ok(l(&[n(0.0), n(1.0), n(2.0)])));
        assert_eq!(
            call("range", &[n(3.0), n(0.0)]),
            Ok(l(&[n(3.0), n(2.0), n(1.0)]))
        );
        fails("range", &[n(0.0), n(3.0), n(0.0)], "step");
        fails("range", &[s("x")], "argument 1 (limit) must be a number");
    }
}
