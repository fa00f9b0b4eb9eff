//! A value + a variable's [`Type`] -> the value converted as Terraform converts it ("8"
//! is a fine number, a list becomes a set, absent `optional(T, default)` attributes get
//! their default, attributes the type does not name are dropped), or where and why it
//! does not fit.

use super::{Ctx, Env};
use crate::config::Type;
use crate::diag::Diagnostic;
use crate::value::{Value, format_number};
use std::collections::BTreeMap;

/// Why a value does not fit a type.
#[derive(Debug, Clone)]
pub enum Mismatch {
    /// The value at `path` (`[1].port`, empty for the whole value) is not what `want` says.
    Type {
        path: String,
        given: Value,
        want: String,
    },
    /// The object at `path` lacks a required attribute.
    Missing { path: String, attribute: String },
    /// An `optional(T, default)` default failed to evaluate.
    Default(Diagnostic),
}

/// Converts `v` to `ty`. Null fits every type; unknown values pass through.
pub fn convert(v: Value, ty: &Type) -> Result<Value, Mismatch> {
    go(v, ty, &mut String::new())
}

fn mismatch(path: &str, given: Value, want: impl Into<String>) -> Mismatch {
    Mismatch::Type {
        path: path.to_string(),
        given,
        want: want.into(),
    }
}

fn go(v: Value, ty: &Type, path: &mut String) -> Result<Value, Mismatch> {
    if matches!(v, Value::Null | Value::Unknown) {
        return Ok(v);
    }
    match ty {
        Type::Any => Ok(v),
        Type::String => match v {
            Value::String(_) => Ok(v),
            Value::Number(n) => Ok(Value::String(format_number(n))),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(mismatch(path, other, "a string")),
        },
        Type::Number => match v {
            Value::Number(_) => Ok(v),
            Value::String(ref s) => match s.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(Value::Number(n)),
                _ => Err(mismatch(path, v, "a number")),
            },
            other => Err(mismatch(path, other, "a number")),
        },
        Type::Bool => match v {
            Value::Bool(_) => Ok(v),
            Value::String(ref s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            other => Err(mismatch(path, other, "true or false")),
        },
        Type::List(t) | Type::Set(t) => {
            let Value::List(items) = v else {
                return Err(mismatch(path, v, format!("a list of {}", plural(t))));
            };
            let items = elements(items, t, path)?;
            Ok(Value::List(if matches!(ty, Type::Set(_)) {
                set(items)
            } else {
                items
            }))
        }
        Type::Map(t) => {
            let Value::Map(m) = v else {
                return Err(mismatch(path, v, format!("a map of {}", plural(t))));
            };
            let mut out = BTreeMap::new();
            for (k, item) in m {
                let len = path.len();
                path.push_str(&format!("[{}]", crate::value::quote(&k)));
                let item = go(item, t, path)?;
                path.truncate(len);
                out.insert(k, item);
            }
            Ok(Value::Map(out))
        }
        Type::Tuple(ts) => match v {
            Value::List(items) if items.len() == ts.len() => {
                let mut out = Vec::with_capacity(items.len());
                for (i, (item, t)) in items.into_iter().zip(ts).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    out.push(go(item, t, path)?);
                    path.truncate(len);
                }
                Ok(Value::List(out))
            }
            other => Err(mismatch(
                path,
                other,
                format!("a list of exactly {} elements", ts.len()),
            )),
        },
        Type::Object(attrs) => {
            let Value::Map(mut m) = v else {
                return Err(mismatch(path, v, "an object"));
            };
            let mut out = BTreeMap::new();
            for a in attrs {
                let given = m.remove(&a.name);
                let len = path.len();
                path.push('.');
                path.push_str(&a.name);
                let value = match (given, &a.default) {
                    (None | Some(Value::Null), Some(d)) => {
                        let d = Ctx::new(&Env::default(), d.file)
                            .eval(&d.expr)
                            .map_err(Mismatch::Default)?;
                        go(d, &a.ty, path)?
                    }
                    (None, _) if !a.optional => {
                        path.truncate(len);
                        return Err(Mismatch::Missing {
                            path: path.clone(),
                            attribute: a.name.clone(),
                        });
                    }
                    (None, _) => Value::Null,
                    (Some(given), _) => go(given, &a.ty, path)?,
                };
                path.truncate(len);
                out.insert(a.name.clone(), value);
            }
            Ok(Value::Map(out))
        }
    }
}

fn elements(items: Vec<Value>, t: &Type, path: &mut String) -> Result<Vec<Value>, Mismatch> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let len = path.len();
        path.push_str(&format!("[{i}]"));
        out.push(go(item, t, path)?);
        path.truncate(len);
    }
    Ok(out)
}

fn plural(t: &Type) -> String {
    match t {
        Type::Any => "values".into(),
        Type::String => "strings".into(),
        Type::Number => "numbers".into(),
        Type::Bool => "bools".into(),
        other => format!("{other}"),
    }
}

/// Set elements in Terraform's order, duplicates removed.
fn set(mut items: Vec<Value>) -> Vec<Value> {
    if items.iter().any(Value::has_unknown) {
        return items;
    }
    items.sort_by(|a, b| match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => a.to_hcl().cmp(&b.to_hcl()),
    });
    items.dedup();
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn ty(src: &str) -> Type {
        Type::parse(FileId(0), &hcl_edit::parser::parse_expr(src).unwrap()).unwrap()
    }
    fn val(src: &str) -> Value {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        Ctx::new(&Env::default(), FileId(0)).eval(&e).unwrap()
    }
    fn conv(v: &str, t: &str) -> Result<String, String> {
        convert(val(v), &ty(t))
            .map(|v| v.to_hcl())
            .map_err(|m| match m {
                Mismatch::Type { path, given, want } => {
                    format!("{path}: {} wants {want}", given.to_hcl())
                }
                Mismatch::Missing { path, attribute } => format!("{path}: missing {attribute}"),
                Mismatch::Default(d) => d.message,
            })
    }

    #[test]
    fn primitives_convert_as_terraform_does() {
        assert_eq!(conv("\"8\"", "number"), Ok("8".into()));
        assert_eq!(conv("8", "string"), Ok("\"8\"".into()));
        assert_eq!(conv("\"true\"", "bool"), Ok("true".into()));
        assert_eq!(conv("null", "number"), Ok("null".into()));
        assert_eq!(
            conv("\"eight\"", "number"),
            Err(": \"eight\" wants a number".into())
        );
        assert_eq!(conv("[1]", "string"), Err(": [1] wants a string".into()));
        assert_eq!(conv("1", "bool"), Err(": 1 wants true or false".into()));
    }

    #[test]
    fn collections_convert_element_by_element_and_name_the_path() {
        assert_eq!(conv("[\"1\", 2]", "list(number)"), Ok("[1, 2]".into()));
        assert_eq!(
            conv("[\"b\", \"a\", \"b\"]", "set(string)"),
            Ok("[\"a\", \"b\"]".into())
        );
        assert_eq!(
            conv("[1, \"x\"]", "list(number)"),
            Err("[1]: \"x\" wants a number".into())
        );
        assert_eq!(
            conv("{ a = 1 }", "map(string)"),
            Ok("{\"a\" = \"1\"}".into())
        );
        assert_eq!(
            conv("{ a = [] }", "map(number)"),
            Err("[\"a\"]: [] wants a number".into())
        );
        assert_eq!(
            conv("[1, \"a\"]", "tuple([number, string])"),
            Ok("[1, \"a\"]".into())
        );
        assert_eq!(
            conv("[1]", "tuple([number, string])"),
            Err(": [1] wants a list of exactly 2 elements".into())
        );
        assert_eq!(
            conv("\"x\"", "list(string)"),
            Err(": \"x\" wants a list of strings".into())
        );
    }

    #[test]
    fn objects_apply_optional_defaults_and_drop_extra_attributes() {
        let t =
            "object({ name = string, port = optional(number, 80), tags = optional(map(string)) })";
        assert_eq!(
            conv("{ name = \"web\", extra = true }", t),
            Ok("{\"name\" = \"web\", \"port\" = 80, \"tags\" = null}".into())
        );
        assert_eq!(
            conv("{ name = \"web\", port = null }", t),
            Ok("{\"name\" = \"web\", \"port\" = 80, \"tags\" = null}".into())
        );
        assert_eq!(conv("{ port = 1 }", t), Err(": missing name".into()));
        assert_eq!(
            conv("{ name = \"a\", port = \"x\" }", t),
            Err(".port: \"x\" wants a number".into())
        );
        // Nested: defaults apply inside lists of objects too.
        assert_eq!(
            conv("[{ name = \"a\" }]", &format!("list({t})")),
            Ok("[{\"name\" = \"a\", \"port\" = 80, \"tags\" = null}]".into())
        );
        assert_eq!(
            conv("[{ }]", &format!("list({t})")),
            Err("[0]: missing name".into())
        );
    }
}
