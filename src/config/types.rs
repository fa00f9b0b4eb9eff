//! Type constraints of `variable` blocks: `type = list(object({ a = string, b = optional(number, 3) }))`
//! -> [`Type`]. Converting values to a type is evaluation's job (`eval::convert`); this
//! file only reads the constraint and names it back the way Terraform writes it.

use super::{Expr, span_of};
use crate::diag::{Diagnostic, FileId};
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use std::fmt;

/// A type constraint.
#[derive(Debug, Clone)]
pub enum Type {
    Any,
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(Vec<Attribute>),
}

/// One attribute of an object type.
#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    /// Declared with `optional(...)`: may be left out.
    pub optional: bool,
    /// The second argument of `optional(T, default)`, used when the attribute is absent or null.
    pub default: Option<Expr>,
}

impl Type {
    /// `string`, `number` and `bool`: values of these types given on the command line or in
    /// the environment are taken as literal text, as Terraform does.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// Reads a type expression.
    pub fn parse(file: FileId, expr: &Expression) -> Result<Type, Diagnostic> {
        parse(file, expr, false).map(|(t, _)| t)
    }
}

fn bad(file: FileId, expr: &Expression, what: impl Into<String>) -> Diagnostic {
    Diagnostic::error(what)
        .at(span_of(file, expr.span()))
        .label("not a type")
        .help("types are string, number, bool, any, list(T), set(T), map(T), tuple([T, ...]) and object({ name = T, ... })")
}

/// `Some(default)` for an attribute written `optional(T)` or `optional(T, default)`.
type OptionalMark = Option<Option<Expr>>;

/// Parses `expr`; `in_object` allows `optional(...)`, whose mark comes back.
fn parse(
    file: FileId,
    expr: &Expression,
    in_object: bool,
) -> Result<(Type, OptionalMark), Diagnostic> {
    if let Some(name) = expr.as_variable() {
        let t = match name.as_str() {
            "string" => Type::String,
            "number" => Type::Number,
            "bool" => Type::Bool,
            "any" => Type::Any,
            // A bare collection keyword means a collection of any, as Terraform reads it.
            "list" => Type::List(Box::new(Type::Any)),
            "set" => Type::Set(Box::new(Type::Any)),
            "map" => Type::Map(Box::new(Type::Any)),
            other => {
                let mut d = bad(file, expr, format!("\"{other}\" is not a type"));
                if let Some(s) = crate::diag::suggest(
                    other,
                    ["string", "number", "bool", "any", "list", "set", "map"],
                ) {
                    d = d.help(format!("did you mean {s}?"));
                }
                return Err(d);
            }
        };
        return Ok((t, None));
    }
    if let Some(s) = expr.as_str() {
        // Terraform 0.11's quoted types.
        return match s {
            "string" => Ok((Type::String, None)),
            "list" => Ok((Type::List(Box::new(Type::String)), None)),
            "map" => Ok((Type::Map(Box::new(Type::String)), None)),
            other => Err(
                bad(file, expr, format!("\"{other}\" in quotes is not a type"))
                    .help("write types without quotes: string, list(string), map(number)"),
            ),
        };
    }
    if let Some(p) = expr.as_parenthesis() {
        return parse(file, p.inner(), in_object);
    }
    let Some(call) = expr.as_func_call() else {
        return Err(bad(file, expr, "this is not a type constraint"));
    };
    let name = call.name.name.as_str();
    let args: Vec<&Expression> = call.args.iter().collect();
    let one = |args: &[&Expression]| -> Result<Type, Diagnostic> {
        match args {
            [a] => Type::parse(file, a),
            _ => Err(bad(
                file,
                expr,
                format!("{name}(...) takes one element type, like {name}(string)"),
            )),
        }
    };
    let t = match name {
        "list" => Type::List(Box::new(one(&args)?)),
        "set" => Type::Set(Box::new(one(&args)?)),
        "map" => Type::Map(Box::new(one(&args)?)),
        "tuple" => match args.as_slice() {
            [a] => match a.as_array() {
                Some(items) => Type::Tuple(
                    items
                        .iter()
                        .map(|e| Type::parse(file, e))
                        .collect::<Result<_, _>>()?,
                ),
                None => {
                    return Err(bad(
                        file,
                        a,
                        "tuple(...) takes a list of types, like tuple([string, number])",
                    ));
                }
            },
            _ => {
                return Err(bad(
                    file,
                    expr,
                    "tuple(...) takes a list of types, like tuple([string, number])",
                ));
            }
        },
        "object" => match args.as_slice() {
            [a] => match a.as_object() {
                Some(obj) => {
                    let mut attrs: Vec<Attribute> = Vec::new();
                    for (k, v) in obj.iter() {
                        let key = match k {
                            ObjectKey::Ident(i) => i.as_str().to_string(),
                            ObjectKey::Expression(e) => match e.as_str() {
                                Some(s) => s.to_string(),
                                None => {
                                    return Err(bad(
                                        file,
                                        e,
                                        "object attribute names are plain names",
                                    ));
                                }
                            },
                        };
                        let (ty, opt) = parse(file, v.expr(), true)?;
                        let optional = opt.is_some();
                        let default = opt.flatten();
                        attrs.retain(|a| a.name != key);
                        attrs.push(Attribute {
                            name: key,
                            ty,
                            optional,
                            default,
                        });
                    }
                    attrs.sort_by(|a, b| a.name.cmp(&b.name));
                    Type::Object(attrs)
                }
                None => return Err(bad(file, a, "object(...) takes { name = type, ... }")),
            },
            _ => return Err(bad(file, expr, "object(...) takes { name = type, ... }")),
        },
        "optional" if in_object => {
            return match args.as_slice() {
                [t] => Ok((Type::parse(file, t)?, Some(None))),
                [t, d] => Ok((
                    Type::parse(file, t)?,
                    Some(Some(Expr {
                        file,
                        expr: (*d).clone(),
                    })),
                )),
                _ => Err(bad(
                    file,
                    expr,
                    "optional(...) takes a type and an optional default, like optional(number, 3)",
                )),
            };
        }
        "optional" => {
            return Err(bad(
                file,
                expr,
                "optional(...) is only allowed for an attribute of object({ ... })",
            ));
        }
        other => return Err(bad(file, expr, format!("\"{other}(...)\" is not a type"))),
    };
    Ok((t, None))
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => f.write_str("any"),
            Type::String => f.write_str("string"),
            Type::Number => f.write_str("number"),
            Type::Bool => f.write_str("bool"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Tuple(ts) => {
                f.write_str("tuple([")?;
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, a) in attrs.iter().enumerate() {
                    f.write_str(if i > 0 { ", " } else { " " })?;
                    if a.optional {
                        write!(f, "{} = optional({})", a.name, a.ty)?;
                    } else {
                        write!(f, "{} = {}", a.name, a.ty)?;
                    }
                }
                f.write_str(if attrs.is_empty() { "})" } else { " })" })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(src: &str) -> Result<String, String> {
        let e = hcl_edit::parser::parse_expr(src).unwrap();
        Type::parse(FileId(0), &e)
            .map(|t| t.to_string())
            .map_err(|d| d.message)
    }

    #[test]
    fn types_parse_and_print_as_terraform_writes_them() {
        assert_eq!(ty("string"), Ok("string".into()));
        assert_eq!(ty("list(number)"), Ok("list(number)".into()));
        assert_eq!(ty("map"), Ok("map(any)".into()));
        assert_eq!(ty("\"list\""), Ok("list(string)".into()));
        assert_eq!(
            ty("tuple([string, bool])"),
            Ok("tuple([string, bool])".into())
        );
        assert_eq!(
            ty("map(object({ port = number, name = optional(string, \"x\") }))"),
            Ok("map(object({ name = optional(string), port = number }))".into())
        );
        assert_eq!(ty("set(list(any))"), Ok("set(list(any))".into()));
    }

    #[test]
    fn bad_types_say_what_is_wrong() {
        assert!(ty("strin").unwrap_err().contains("\"strin\" is not a type"));
        assert!(
            ty("list(string, number)")
                .unwrap_err()
                .contains("one element type")
        );
        assert!(
            ty("optional(string)")
                .unwrap_err()
                .contains("only allowed for an attribute")
        );
        assert!(ty("object(string)").unwrap_err().contains("{ name = type"));
        assert!(ty("\"float\"").unwrap_err().contains("in quotes"));
        assert!(ty("1 + 2").unwrap_err().contains("not a type constraint"));
    }
}
