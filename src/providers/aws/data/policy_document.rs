//! `data "aws_iam_policy_document"`: an IAM policy rendered from `statement` blocks and
//! merged with `source_policy_documents` / `override_policy_documents`, exactly as the
//! Terraform AWS provider (v5) renders it: keys `Version`, `Id`, `Statement`, then per
//! statement `Sid` (left out when empty), `Effect`, `Action`, `NotAction`, `Resource`,
//! `NotResource`, `Principal`, `NotPrincipal`, `Condition`; a one-element list written as
//! its string, longer lists of actions, resources and principals in reverse sorted order,
//! condition values in the order written; `&{` written as `${`; `json` pretty-printed
//! with two spaces and `minified_json` compact, both with Go's escaping. `id` is the
//! CRC-32 of `json`, as Terraform's. No cloud call is made.
//!
//! Terraform keeps `principals` and `condition` blocks in sets, so where two blocks of a
//! statement name the same principal type (or the same test and variable) their values
//! are joined in a hash order of its own; keel joins them in the order written.

use super::gojson::Json;
use crate::providers::schema::{Attr, BlockType, DataSchema, Default, Ty, one_of};
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};

const PRINCIPAL_ATTRS: &[Attr] = &[
    Attr::required("type", Ty::String),
    Attr::required("identifiers", Ty::StringSet),
];

const STATEMENT_BLOCKS: &[BlockType] = &[
    principals_block("principals"),
    principals_block("not_principals"),
    BlockType {
        name: "condition",
        attrs: &[
            Attr::required("test", Ty::String),
            Attr::required("variable", Ty::String),
            Attr::required("values", Ty::StringList),
        ],
        blocks: &[],
        min_items: 0,
        max_items: None,
        force_new: false,
        computed: false,
    },
];

const fn principals_block(name: &'static str) -> BlockType {
    BlockType {
        name,
        attrs: PRINCIPAL_ATTRS,
        blocks: &[],
        min_items: 0,
        max_items: None,
        force_new: false,
        computed: false,
    }
}

fn sid_check(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(s) if !s.chars().all(|c| c.is_ascii_alphanumeric()) => Err(format!(
            "sid \"{s}\" must only include alphanumeric characters"
        )),
        _ => Ok(()),
    }
}

fn effect_check(v: &Value) -> Result<(), String> {
    one_of(v, &["Allow", "Deny"])
}

fn version_check(v: &Value) -> Result<(), String> {
    one_of(v, &["2008-10-17", "2012-10-17"])
}

fn removed_check(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some("") | None => Ok(()),
        Some(_) => Err(
            "source_json and override_json were removed in the AWS provider v5; use source_policy_documents = [...] or override_policy_documents = [...]"
                .into(),
        ),
    }
}

pub(crate) const SCHEMA: DataSchema = DataSchema {
    type_name: "aws_iam_policy_document",
    args: &[
        Attr::optional("version", Ty::String)
            .default(Default::Str("2012-10-17"))
            .check(version_check),
        Attr::optional("policy_id", Ty::String),
        Attr::optional("source_policy_documents", Ty::StringList),
        Attr::optional("override_policy_documents", Ty::StringList),
        Attr::optional("source_json", Ty::String).check(removed_check),
        Attr::optional("override_json", Ty::String).check(removed_check),
    ],
    blocks: &[BlockType {
        name: "statement",
        attrs: &[
            Attr::optional("sid", Ty::String).check(sid_check),
            Attr::optional("effect", Ty::String)
                .default(Default::Str("Allow"))
                .check(effect_check),
            Attr::optional("actions", Ty::StringSet),
            Attr::optional("not_actions", Ty::StringSet),
            Attr::optional("resources", Ty::StringSet),
            Attr::optional("not_resources", Ty::StringSet),
        ],
        blocks: STATEMENT_BLOCKS,
        min_items: 0,
        max_items: None,
        force_new: false,
        computed: false,
    }],
    results: &["json", "minified_json"],
};

/// A string, or a list of strings, as a policy holds them.
#[derive(Debug, Clone, PartialEq)]
enum Strings {
    One(String),
    Many(Vec<String>),
}

impl Strings {
    fn json(&self) -> Json {
        match self {
            Strings::One(s) => Json::Str(s.clone()),
            Strings::Many(v) => Json::List(v.iter().cloned().map(Json::Str).collect()),
        }
    }

    fn replace_vars(self, version: &str) -> Result<Strings, String> {
        let fix = |s: String| -> Result<String, String> {
            if version == "2008-10-17" && s.contains("&{") {
                return Err(format!(
                    "found &{{ sequence in ({s}), which is not supported in document version 2008-10-17"
                ));
            }
            Ok(s.replace("&{", "${"))
        };
        Ok(match self {
            Strings::One(s) => Strings::One(fix(s)?),
            Strings::Many(v) => Strings::Many(v.into_iter().map(fix).collect::<Result<_, _>>()?),
        })
    }
}

/// A configured string set: its single element, or all of them in reverse sorted order.
fn decode_set(mut items: Vec<String>) -> Strings {
    if items.len() == 1 {
        return Strings::One(items.remove(0));
    }
    items.sort();
    items.reverse();
    Strings::Many(items)
}

#[derive(Debug, Clone)]
struct Principal {
    type_: String,
    ids: Strings,
}

#[derive(Debug, Clone)]
struct Condition {
    test: String,
    variable: String,
    values: Strings,
}

/// One statement. `Action` and friends keep the JSON they were read from when they come
/// from a source or override document, as the provider's `any` fields do.
#[derive(Debug, Clone, Default)]
struct Statement {
    sid: String,
    effect: String,
    action: Option<Json>,
    not_action: Option<Json>,
    resource: Option<Json>,
    not_resource: Option<Json>,
    principals: Vec<Principal>,
    not_principals: Vec<Principal>,
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, Default)]
struct Doc {
    version: String,
    id: String,
    statements: Vec<Statement>,
}

impl Doc {
    /// The provider's `Merge`: a later document's Id wins, its Version upgrades, and its
    /// statements replace those with the same Sid or are appended.
    fn merge(&mut self, other: Doc) {
        if !other.id.is_empty() {
            self.id = other.id;
        }
        if other.version > self.version {
            self.version = other.version;
        }
        for s in other.statements {
            if s.sid.is_empty() {
                self.statements.push(s);
                continue;
            }
            match self.statements.iter_mut().find(|e| e.sid == s.sid) {
                Some(existing) => *existing = s,
                None => self.statements.push(s),
            }
        }
    }

    fn json(&self) -> Json {
        let mut fields = Vec::new();
        if !self.version.is_empty() {
            fields.push(("Version".to_string(), Json::Str(self.version.clone())));
        }
        if !self.id.is_empty() {
            fields.push(("Id".to_string(), Json::Str(self.id.clone())));
        }
        if !self.statements.is_empty() {
            fields.push((
                "Statement".to_string(),
                Json::List(self.statements.iter().map(Statement::json).collect()),
            ));
        }
        Json::Obj(fields)
    }
}

impl Statement {
    fn json(&self) -> Json {
        let mut f = Vec::new();
        let mut put = |k: &str, v: Option<Json>| {
            if let Some(v) = v {
                f.push((k.to_string(), v));
            }
        };
        put(
            "Sid",
            (!self.sid.is_empty()).then(|| Json::Str(self.sid.clone())),
        );
        put(
            "Effect",
            (!self.effect.is_empty()).then(|| Json::Str(self.effect.clone())),
        );
        put("Action", self.action.clone());
        put("NotAction", self.not_action.clone());
        put("Resource", self.resource.clone());
        put("NotResource", self.not_resource.clone());
        put("Principal", principals_json(&self.principals));
        put("NotPrincipal", principals_json(&self.not_principals));
        put("Condition", conditions_json(&self.conditions));
        Json::Obj(f)
    }
}

/// The provider's `MarshalJSON` of a principal set: `"*"` for the one principal
/// `{type = "*", identifiers = ["*"]}`, otherwise an object by type (keys sorted), each
/// type's identifiers joined in order, lists reverse sorted.
fn principals_json(ps: &[Principal]) -> Option<Json> {
    if ps.is_empty() {
        return None;
    }
    if let [p] = ps
        && p.type_ == "*"
        && matches!(&p.ids, Strings::One(s) if s == "*")
    {
        return Some(Json::Str("*".into()));
    }
    let mut raw: BTreeMap<String, Strings> = BTreeMap::new();
    for p in ps {
        let entry = raw.remove(&p.type_);
        let joined = match (entry, &p.ids) {
            (None, ids) => match ids {
                Strings::Many(v) => {
                    let mut v = v.clone();
                    v.sort();
                    v.reverse();
                    Strings::Many(v)
                }
                one => one.clone(),
            },
            (Some(existing), ids) => {
                let mut all = match existing {
                    Strings::One(s) => vec![s],
                    Strings::Many(v) => v,
                };
                match ids {
                    Strings::One(s) => all.push(s.clone()),
                    Strings::Many(v) => {
                        let mut v = v.clone();
                        v.sort();
                        v.reverse();
                        all.extend(v);
                    }
                }
                Strings::Many(all)
            }
        };
        raw.insert(p.type_.clone(), joined);
    }
    Some(Json::Obj(
        raw.into_iter().map(|(k, v)| (k, v.json())).collect(),
    ))
}

/// The provider's `MarshalJSON` of a condition set: test -> variable -> values (keys
/// sorted), values of the same test and variable joined, one value written as a string.
fn conditions_json(cs: &[Condition]) -> Option<Json> {
    if cs.is_empty() {
        return None;
    }
    let mut raw: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for c in cs {
        let values = raw
            .entry(c.test.clone())
            .or_default()
            .entry(c.variable.clone())
            .or_default();
        match &c.values {
            Strings::One(s) => values.push(s.clone()),
            Strings::Many(v) => values.extend(v.iter().cloned()),
        }
    }
    Some(Json::Obj(
        raw.into_iter()
            .map(|(test, vars)| {
                let vars = vars
                    .into_iter()
                    .map(|(var, mut values)| {
                        let v = if values.len() == 1 {
                            Json::Str(values.remove(0))
                        } else {
                            Json::List(values.into_iter().map(Json::Str).collect())
                        };
                        (var, v)
                    })
                    .collect();
                (test, Json::Obj(vars))
            })
            .collect(),
    ))
}

/// Renders the document: the data source's results (`json`, `minified_json`, `id`) added
/// to its arguments. An error is a sentence about the configuration.
pub(crate) fn render(config: &Value) -> Result<Value, String> {
    let mut merged = Doc::default();
    let version = config
        .get("version")
        .as_str()
        .unwrap_or("2012-10-17")
        .to_string();
    if let Some(sources) = config.get("source_policy_documents").as_list() {
        let mut sids = BTreeSet::new();
        for (i, src) in sources.iter().enumerate() {
            let Some(text) = src.as_str() else { continue };
            let doc = parse_doc(text).map_err(|e| format!("merging source document {i}: {e}"))?;
            for (j, s) in doc.statements.iter().enumerate() {
                if !s.sid.is_empty() && !sids.insert(s.sid.clone()) {
                    return Err(format!(
                        "merging source document {i}: duplicate Sid ({}) in source_policy_documents (statement {j}). Remove the Sid or ensure Sids are unique.",
                        s.sid
                    ));
                }
            }
            merged.merge(doc);
        }
    }
    let mut doc = Doc {
        version: version.clone(),
        id: config
            .get("policy_id")
            .as_str()
            .unwrap_or_default()
            .to_string(),
        statements: Vec::new(),
    };
    let mut sids = BTreeSet::new();
    for stmt in config.get("statement").as_list().unwrap_or(&[]) {
        let sid = stmt.get("sid").as_str().unwrap_or_default().to_string();
        if !sid.is_empty() && !sids.insert(sid.clone()) {
            return Err(format!(
                "duplicate Sid ({sid}). Remove the Sid or ensure the Sid is unique."
            ));
        }
        doc.statements
            .push(configured_statement(stmt, sid, &version)?);
    }
    merged.merge(doc);
    if let Some(overrides) = config.get("override_policy_documents").as_list() {
        for (i, o) in overrides.iter().enumerate() {
            let Some(text) = o.as_str() else { continue };
            let doc = parse_doc(text).map_err(|e| format!("merging override document {i}: {e}"))?;
            merged.merge(doc);
        }
    }
    let rendered = merged.json();
    let json = rendered.pretty();
    let minified = rendered.compact();
    let mut out = config.as_map().cloned().unwrap_or_default();
    out.insert(
        "id".into(),
        Value::str(crc32fast::hash(json.as_bytes()).to_string()),
    );
    out.insert("json".into(), Value::str(json));
    out.insert("minified_json".into(), Value::str(minified));
    Ok(Value::Map(out))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

fn configured_statement(stmt: &Value, sid: String, version: &str) -> Result<Statement, String> {
    let set = |key: &str| -> Option<Strings> {
        let items = strings(stmt.get(key));
        (!items.is_empty()).then(|| decode_set(items))
    };
    let with_vars = |key: &str| -> Result<Option<Json>, String> {
        match set(key) {
            Some(s) => Ok(Some(s.replace_vars(version)?.json())),
            None => Ok(None),
        }
    };
    let principals = |key: &str| -> Result<Vec<Principal>, String> {
        stmt.get(key)
            .as_list()
            .unwrap_or(&[])
            .iter()
            .map(|p| {
                Ok(Principal {
                    type_: p.get("type").as_str().unwrap_or_default().to_string(),
                    ids: decode_set(strings(p.get("identifiers"))).replace_vars(version)?,
                })
            })
            .collect()
    };
    let conditions = stmt
        .get("condition")
        .as_list()
        .unwrap_or(&[])
        .iter()
        .map(|c| {
            let mut values = strings(c.get("values"));
            let values = if values.len() == 1 {
                Strings::One(values.remove(0))
            } else {
                Strings::Many(values)
            };
            Ok(Condition {
                test: c.get("test").as_str().unwrap_or_default().to_string(),
                variable: c.get("variable").as_str().unwrap_or_default().to_string(),
                values: values.replace_vars(version)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Statement {
        sid,
        effect: stmt.get("effect").as_str().unwrap_or("Allow").to_string(),
        action: set("actions").map(|s| s.json()),
        not_action: set("not_actions").map(|s| s.json()),
        resource: with_vars("resources")?,
        not_resource: with_vars("not_resources")?,
        principals: principals("principals")?,
        not_principals: principals("not_principals")?,
        conditions,
    })
}

/// A source or override document, read as the provider's `UnmarshalJSON` reads it.
fn parse_doc(text: &str) -> Result<Doc, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON document: {e}"))?;
    let obj = json
        .as_object()
        .ok_or("the document is not a JSON object")?;
    let field = |name: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let text_of =
        |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let statements = match field("Statement") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(parse_statement)
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("Statement must be a list of statements".into()),
    };
    Ok(Doc {
        version: text_of(field("Version")),
        id: text_of(field("Id")),
        statements,
    })
}

fn parse_statement(v: &serde_json::Value) -> Result<Statement, String> {
    let obj = v.as_object().ok_or("a statement is not a JSON object")?;
    let field = |name: &str| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let text_of = |name: &str| {
        field(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let any = |name: &str| field(name).filter(|v| !v.is_null()).map(to_json);
    Ok(Statement {
        sid: text_of("Sid"),
        effect: text_of("Effect"),
        action: any("Action"),
        not_action: any("NotAction"),
        resource: any("Resource"),
        not_resource: any("NotResource"),
        principals: parse_principals(field("Principal"))?,
        not_principals: parse_principals(field("NotPrincipal"))?,
        conditions: parse_conditions(field("Condition"))?,
    })
}

fn to_json(v: &serde_json::Value) -> Json {
    match v {
        serde_json::Value::String(s) => Json::Str(s.clone()),
        serde_json::Value::Bool(b) => Json::Bool(*b),
        serde_json::Value::Array(items) => Json::List(items.iter().map(to_json).collect()),
        serde_json::Value::Object(m) => {
            Json::Obj(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        other => Json::Str(other.to_string()),
    }
}

fn parse_principals(v: Option<&serde_json::Value>) -> Result<Vec<Principal>, String> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::String(_)) => Ok(vec![Principal {
            type_: "*".into(),
            ids: Strings::One("*".into()),
        }]),
        Some(serde_json::Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let ids = match v {
                    serde_json::Value::String(s) => Strings::One(s.clone()),
                    serde_json::Value::Array(items) => {
                        let mut ids = items
                            .iter()
                            .map(|i| {
                                i.as_str().map(str::to_string).ok_or_else(|| {
                                    format!("a principal identifier of type {k} is not a string")
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        ids.sort();
                        Strings::Many(ids)
                    }
                    _ => return Err(format!("the principals of type {k} are not strings")),
                };
                Ok(Principal {
                    type_: k.clone(),
                    ids,
                })
            })
            .collect(),
        Some(_) => Err("Principal must be \"*\" or an object".into()),
    }
}

fn parse_conditions(v: Option<&serde_json::Value>) -> Result<Vec<Condition>, String> {
    let Some(serde_json::Value::Object(tests)) = v else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (test, vars) in tests {
        let Some(vars) = vars.as_object() else {
            return Err(format!("the condition {test} is not an object"));
        };
        for (var, values) in vars {
            let values = match values {
                serde_json::Value::String(s) => Strings::Many(vec![s.clone()]),
                serde_json::Value::Bool(b) => Strings::One(b.to_string()),
                serde_json::Value::Array(items) => Strings::Many(
                    items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_string))
                        .collect(),
                ),
                _ => continue,
            };
            out.push(Condition {
                test: test.clone(),
                variable: var.clone(),
                values,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
