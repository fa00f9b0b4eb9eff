//! A resource block's body, checked against its type's schema and evaluated into one object.

use super::{Ctx, Env, ProviderSettings, Repetition};
use crate::addr::ResourceAddr;
use crate::config::{Config, ProviderBlock, Resource, attr_span, block_header_span, span_of};
use crate::diag::{Diagnostic, Diagnostics, FileId, Span, suggest};
use crate::eval::SENSITIVE;
use crate::eval::sensitive::Found;
use crate::providers::schema::{Attr, BlockType, Mode, Ty};
use crate::providers::{schema, supported_types};
use crate::value::{Value, format_number};
use hcl_edit::Span as _;
use hcl_edit::structure::Body;
use std::collections::BTreeMap;

/// Tag keys keel puts on everything it creates.
pub const TAG_STACK: &str = "keel:stack";
pub const TAG_ADDRESS: &str = "keel:address";

/// Evaluates a resource's body into its configured attributes: everything the user set,
/// defaults for what they left out, and `tags_all` with keel's ownership tags.
pub fn resource_config(
    config: &Config,
    res: &Resource,
    addr: &ResourceAddr,
    env: &Env,
    provider: &ProviderSettings,
    repetition: Option<&Repetition>,
) -> Result<Value, Diagnostics> {
    resource_config_marked(config, res, addr, env, provider, repetition).map(|(v, _)| v)
}

/// [`resource_config`], and what in it is sensitive: the top-level attributes set from a
/// sensitive value (or blocks with such an attribute inside), and the secret strings read
/// or computed on the way.
pub fn resource_config_marked(
    config: &Config,
    res: &Resource,
    addr: &ResourceAddr,
    env: &Env,
    provider: &ProviderSettings,
    repetition: Option<&Repetition>,
) -> Result<(Value, Found), Diagnostics> {
    let Some(schema) = schema(&res.type_) else {
        return Err(unsupported(res).into());
    };
    let mut diags = Diagnostics::default();
    let mut found = Found::default();
    let cx = BodyCx {
        file: res.file,
        env,
        repetition,
        bindings: Vec::new(),
    };
    let body = without_unset_region(&res.body, schema.attr("region"), &addr.to_string(), &cx)?;
    let mut map = eval_body(
        &body,
        schema.attrs,
        schema.blocks,
        &addr.to_string(),
        res.span.clone(),
        &cx,
        &mut diags,
        &mut found,
    );
    if found.attrs.contains("tags") {
        found.attrs.insert("tags_all".to_string());
    }
    if schema.taggable {
        let tags = map.get("tags").cloned().unwrap_or(Value::Null);
        if let Some(m) = tags.as_map()
            && let Some(bad) = m.keys().find(|k| k.starts_with("keel:"))
        {
            let at = res
                .body
                .get_attribute("tags")
                .and_then(|a| span_of(res.file, a.value.span()));
            diags.push(
                Diagnostic::error(format!(
                    "tag \"{bad}\" in {addr} uses keel's reserved prefix",
                ))
                .at(at)
                .help("keel sets keel:stack and keel:address itself; choose another key"),
            );
        }
        let tags_all = match tags {
            Value::Unknown => Value::Unknown,
            other => {
                let mut all: BTreeMap<String, Value> = provider
                    .default_tags
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::str(v)))
                    .collect();
                if let Some(m) = other.as_map() {
                    all.extend(m.clone());
                }
                all.insert(TAG_STACK.into(), Value::str(&config.stack));
                all.insert(TAG_ADDRESS.into(), Value::str(addr.to_string()));
                if all.values().any(Value::has_unknown) {
                    Value::Unknown
                } else {
                    Value::Map(all)
                }
            }
        };
        map.insert("tags_all".into(), tags_all);
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((Value::Map(map), found))
}

/// The error for a resource block whose type keel does not manage, naming those it does.
pub fn unsupported(res: &Resource) -> Diagnostic {
    let supported = supported_types();
    let mut d = Diagnostic::error(format!(
        "keel does not support resource type \"{}\"",
        res.type_
    ))
    .at(res.type_span.clone().or(res.span.clone()))
    .label("unsupported type");
    d = match suggest(&res.type_, supported.iter().copied()) {
        Some(s) => d.help(format!(
            "did you mean \"{s}\"? Supported types: {}",
            supported.join(", ")
        )),
        None => d.help(format!("supported types: {}", supported.join(", "))),
    };
    d
}

/// The body without a `region = null` argument: the AWS provider v6 takes a region on
/// every resource, and modules written for it pass `region = var.region`, null unless
/// set. keel follows v5, where the provider configuration chooses the region, so null is
/// accepted (it means the provider's region) and any other value is an error.
pub(super) fn without_unset_region<'b>(
    body: &'b Body,
    own: Option<&Attr>,
    what: &str,
    cx: &BodyCx<'_>,
) -> Result<std::borrow::Cow<'b, Body>, Diagnostics> {
    let Some(attr) = body.get_attribute("region") else {
        return Ok(std::borrow::Cow::Borrowed(body));
    };
    if own.is_some_and(|a| a.settable()) {
        return Ok(std::borrow::Cow::Borrowed(body));
    }
    match cx.ctx().eval(&attr.value)? {
        Value::Null => {
            let mut body = body.clone();
            body.remove_attribute("region");
            Ok(std::borrow::Cow::Owned(body))
        }
        _ => Err(Diagnostic::error(format!(
            "region in {what} is the AWS provider v6's per-resource region; keel follows v5, where the provider configuration sets the region"
        ))
        .at(attr_span(cx.file, attr))
        .help("configure a provider \"aws\" block with alias and that region, and write provider = aws.ALIAS here")
        .into()),
    }
}

/// Where a body is evaluated: its file, the module instance's values, the resource
/// instance's `count.index` / `each.*`, and the iterators of the `dynamic` blocks
/// around it.
#[derive(Clone)]
pub(super) struct BodyCx<'a> {
    pub file: FileId,
    pub env: &'a Env,
    pub repetition: Option<&'a Repetition>,
    pub bindings: Vec<(String, Value)>,
}

impl<'a> BodyCx<'a> {
    pub fn ctx(&self) -> Ctx<'a> {
        Ctx::new(self.env, self.file)
            .with_repetition(self.repetition)
            .with_bindings(self.bindings.clone())
    }
}

/// Evaluates a body against a schema: its arguments checked and converted, its nested
/// blocks (written out or generated by `dynamic` blocks) as lists of objects, defaults
/// for what is left out.
#[allow(clippy::too_many_arguments)]
pub(super) fn eval_body(
    body: &Body,
    attrs: &[Attr],
    blocks: &[BlockType],
    what: &str,
    header: Option<Span>,
    cx: &BodyCx<'_>,
    diags: &mut Diagnostics,
    found: &mut Found,
) -> BTreeMap<String, Value> {
    let file = cx.file;
    let mut map = BTreeMap::new();
    let names = || {
        attrs
            .iter()
            .filter(|a| a.settable())
            .map(|a| a.name)
            .chain(blocks.iter().map(|b| b.name))
    };
    // Computed blocks written as arguments (`ingress = [...]`), Terraform's
    // attributes-as-blocks syntax.
    let mut as_argument = Vec::new();
    for attr in body.attributes() {
        let key = attr.key.as_str();
        if let Some(bt) = blocks.iter().find(|b| b.name == key && b.computed) {
            let mut ctx = cx.ctx();
            let result = ctx.eval(&attr.value);
            found.note(key, &ctx);
            match result {
                // `ingress = null` is the same as leaving it out.
                Ok(Value::Null) => {}
                Ok(v) => match block_list(v, bt) {
                    Ok(v) => {
                        map.insert(key.to_string(), v);
                        as_argument.push(key);
                    }
                    Err(msg) => diags.push(
                        Diagnostic::error(format!("\"{key}\" in {what}: {}", ctx.scrub(&msg)))
                            .at(span_of(file, attr.value.span())),
                    ),
                },
                Err(d) => diags.push(d),
            }
            continue;
        }
        let Some(schema) = attrs.iter().find(|a| a.name == key) else {
            let mut d = Diagnostic::error(format!("unsupported argument \"{key}\" in {what}"))
                .at(attr_span(file, attr))
                .label("not an argument of this type");
            d = match suggest(key, names()) {
                Some(s) => d.help(format!("did you mean \"{s}\"?")),
                None => d.help(format!(
                    "arguments of {what}: {}",
                    names().collect::<Vec<_>>().join(", ")
                )),
            };
            diags.push(d);
            continue;
        };
        if schema.mode == Mode::Computed {
            diags.push(
                Diagnostic::error(format!(
                    "\"{key}\" in {what} is set by AWS and cannot be configured"
                ))
                .at(attr_span(file, attr))
                .help(format!("remove it; read it elsewhere as {what}.{key}")),
            );
            continue;
        }
        if blocks.iter().any(|b| b.name == key) {
            diags.push(
                Diagnostic::error(format!("\"{key}\" in {what} is a block, not an argument"))
                    .at(attr_span(file, attr))
                    .help(format!("write it as {key} {{ ... }}")),
            );
            continue;
        }
        let mut ctx = cx.ctx();
        match ctx.eval(&attr.value) {
            Ok(v) => {
                found.note(key, &ctx);
                match coerce(v, schema.ty) {
                    Ok(v) => {
                        // Values known only at apply are checked then, when this runs again.
                        if let Some(check) = schema.check
                            && !v.is_null()
                            && !v.has_unknown()
                            && let Err(msg) = check(&v)
                        {
                            diags.push(
                                Diagnostic::error(format!(
                                    "\"{key}\" in {what}: {}",
                                    ctx.scrub(&msg)
                                ))
                                .at(span_of(file, attr.value.span())),
                            );
                        }
                        map.insert(key.to_string(), v);
                    }
                    Err(msg) => diags.push(
                        Diagnostic::error(format!(
                            "\"{key}\" in {what}: {}",
                            ctx.scrub(&msg).replace("\"(sensitive value)\"", SENSITIVE)
                        ))
                        .at(span_of(file, attr.value.span())),
                    ),
                }
            }
            Err(d) => diags.push(d),
        }
    }
    for block in body.blocks() {
        let key = block.ident.as_str();
        if key == "dynamic" {
            super::dynamic::expand(
                block,
                blocks,
                what,
                cx,
                &as_argument,
                &mut map,
                diags,
                found,
            );
            continue;
        }
        match blocks.iter().find(|b| b.name == key) {
            Some(_) if as_argument.contains(&key) => diags.push(
                Diagnostic::error(format!(
                    "\"{key}\" in {what} is written both as an argument and as blocks"
                ))
                .at(block_header_span(file, block))
                .help(format!(
                    "use either {key} = [...] or {key} {{ ... }} blocks"
                )),
            ),
            Some(bt) => push_block(
                &block.body,
                bt,
                what,
                block_header_span(file, block),
                cx,
                &mut map,
                diags,
                found,
            ),
            None => {
                let mut d = Diagnostic::error(format!("unsupported block \"{key}\" in {what}"))
                    .at(block_header_span(file, block));
                if let Some(s) = suggest(key, names()) {
                    d = d.help(format!("did you mean \"{s}\"?"));
                }
                diags.push(d);
            }
        }
    }
    for a in attrs {
        if map.contains_key(a.name) {
            continue;
        }
        match a.mode {
            Mode::Required => diags.push(
                Diagnostic::error(format!(
                    "{what} is missing the required argument \"{}\"",
                    a.name
                ))
                .at(header.clone())
                .help(format!("add {} = ...", a.name)),
            ),
            Mode::Optional => {
                map.insert(
                    a.name.to_string(),
                    a.default.map(|d| d.value()).unwrap_or(Value::Null),
                );
            }
            Mode::OptionalComputed | Mode::Computed => {}
        }
    }
    for b in blocks {
        let n = match map.get(b.name) {
            // Generated by a dynamic block whose for_each is known only at apply.
            Some(Value::Unknown) => continue,
            Some(v) => v.as_list().map(<[Value]>::len).unwrap_or(0),
            None => 0,
        };
        if n < b.min_items {
            diags.push(
                Diagnostic::error(format!(
                    "{what} needs at least {} \"{}\" block(s)",
                    b.min_items, b.name
                ))
                .at(header.clone())
                .help(format!("add {} {{ ... }}", b.name)),
            );
        }
        // A computed block left out stays out: the cloud's value is kept.
        if !b.computed {
            map.entry(b.name.to_string())
                .or_insert_with(|| Value::List(vec![]));
        }
    }
    map
}

/// Evaluates one nested block (`rule { ... }`, or one generated by a `dynamic` block) and
/// appends it to the list under its name.
#[allow(clippy::too_many_arguments)]
pub(super) fn push_block(
    body: &Body,
    bt: &BlockType,
    what: &str,
    header: Option<Span>,
    cx: &BodyCx<'_>,
    map: &mut BTreeMap<String, Value>,
    diags: &mut Diagnostics,
    found: &mut Found,
) {
    let key = bt.name;
    let mut inner_found = Found::default();
    let inner = eval_body(
        body,
        bt.attrs,
        bt.blocks,
        &format!("{what}.{key}"),
        header.clone(),
        cx,
        diags,
        &mut inner_found,
    );
    if !inner_found.attrs.is_empty() {
        found.attrs.insert(key.to_string());
        found.secrets.extend(inner_found.secrets);
    }
    let list = map
        .entry(key.to_string())
        .or_insert_with(|| Value::List(vec![]));
    if let Value::List(items) = list {
        items.push(Value::Map(inner));
        if let Some(max) = bt.max_items
            && items.len() > max
        {
            diags.push(
                Diagnostic::error(format!("{what} takes at most {max} \"{key}\" block(s)"))
                    .at(header),
            );
        }
    }
}

/// A computed block's value written as an argument: a list of objects, each checked
/// against the block's attributes, with defaults for those left out (Terraform insists
/// on every attribute here; keel does not).
fn block_list(v: Value, bt: &BlockType) -> Result<Value, String> {
    let items = match v {
        Value::Unknown => return Ok(Value::Unknown),
        Value::List(items) => items,
        other => {
            return Err(format!(
                "expected a list of objects, got {}",
                other.type_name()
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let fields = match item {
            Value::Unknown => {
                out.push(Value::Unknown);
                continue;
            }
            Value::Map(m) => m,
            other => {
                return Err(format!(
                    "element {i}: expected an object, got {}",
                    other.type_name()
                ));
            }
        };
        if let Some(k) = fields.keys().find(|k| {
            !bt.attrs
                .iter()
                .any(|a| a.name == k.as_str() && a.settable())
        }) {
            let names: Vec<&str> = bt
                .attrs
                .iter()
                .filter(|a| a.settable())
                .map(|a| a.name)
                .collect();
            return Err(format!(
                "element {i}: unsupported attribute \"{k}\"; {} takes {}",
                bt.name,
                names.join(", ")
            ));
        }
        let mut obj = BTreeMap::new();
        for a in bt.attrs.iter().filter(|a| a.settable()) {
            match fields.get(a.name) {
                Some(v) => {
                    let v = coerce(v.clone(), a.ty)
                        .map_err(|msg| format!("element {i}: \"{}\": {msg}", a.name))?;
                    obj.insert(a.name.to_string(), v);
                }
                None if a.mode == Mode::Required => {
                    return Err(format!(
                        "element {i} is missing the required attribute \"{}\"",
                        a.name
                    ));
                }
                None if a.mode == Mode::Optional => {
                    obj.insert(
                        a.name.to_string(),
                        a.default.map(|d| d.value()).unwrap_or(Value::Null),
                    );
                }
                None => {}
            }
        }
        out.push(Value::Map(obj));
    }
    Ok(Value::List(out))
}

/// Converts a value to an attribute's type the way Terraform does ("8" is a fine number).
fn coerce(v: Value, ty: Ty) -> Result<Value, String> {
    match (ty, v) {
        (_, Value::Unknown) => Ok(Value::Unknown),
        (_, Value::Null) => Ok(Value::Null),
        (Ty::String, Value::String(s)) => Ok(Value::String(s)),
        (Ty::String, Value::Number(n)) => Ok(Value::String(format_number(n))),
        (Ty::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
        (Ty::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (Ty::Bool, Value::String(s)) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        (Ty::Number, Value::Number(n)) => Ok(Value::Number(n)),
        (Ty::Number, Value::String(s)) if s.trim().parse::<f64>().is_ok() => {
            Ok(Value::Number(s.trim().parse().expect("checked")))
        }
        (Ty::StringMap, Value::Map(m)) => Ok(Value::Map(
            m.into_iter()
                .map(|(k, v)| coerce(v, Ty::String).map(|v| (k, v)))
                .collect::<Result<_, _>>()?,
        )),
        (Ty::StringList, Value::List(items)) => Ok(Value::List(
            items
                .into_iter()
                .map(|v| coerce(v, Ty::String))
                .collect::<Result<_, _>>()?,
        )),
        (Ty::StringSet, Value::List(items)) => {
            let mut items = items
                .into_iter()
                .map(|v| coerce(v, Ty::String))
                .collect::<Result<Vec<_>, _>>()?;
            if !items.iter().any(Value::has_unknown) {
                items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                items.dedup();
            }
            Ok(Value::List(items))
        }
        (Ty::Policy, Value::String(s)) => match serde_json::from_str::<serde_json::Value>(&s) {
            Ok(serde_json::Value::Object(_)) => Ok(Value::String(s)),
            _ => Err(
                "expected a JSON policy document; build one with jsonencode({ ... }) \
                 or data.aws_iam_policy_document"
                    .to_string(),
            ),
        },
        (ty, v) => Err(format!(
            "expected {}, got {}",
            match ty {
                Ty::String => "a string",
                Ty::Bool => "true or false",
                Ty::Number => "a number",
                Ty::StringMap => "a map of strings",
                Ty::StringList | Ty::StringSet => "a list of strings",
                Ty::Policy => "a JSON policy document",
            },
            if matches!(v, Value::List(_) | Value::Map(_)) {
                format!("a {}", v.type_name())
            } else {
                v.to_hcl()
            },
        )),
    }
}

/// A resource's full object: configured attributes, then computed ones from `prior` (the
/// recorded state) or unknown when there is none.
pub fn computed_value(type_: &str, config: &Value, prior: Option<&Value>) -> Value {
    let mut map = config.as_map().cloned().unwrap_or_default();
    if let Some(schema) = schema(type_) {
        for a in schema.attrs {
            let configured = map.get(a.name).is_some_and(|v| !v.is_null());
            if configured {
                continue;
            }
            match a.mode {
                Mode::Computed | Mode::OptionalComputed => {
                    let v = prior
                        .map(|p| p.get(a.name).clone())
                        .unwrap_or(Value::Unknown);
                    map.insert(a.name.to_string(), v);
                }
                Mode::Required | Mode::Optional => {
                    map.entry(a.name.to_string()).or_insert(Value::Null);
                }
            }
        }
        // A block left to the cloud holds what the cloud chose: one whose arguments are all
        // the cloud's to choose, left out or empty, or a computed block not written at all.
        for b in schema
            .blocks
            .iter()
            .filter(|b| b.cloud_chosen() || b.computed)
        {
            let configured = match map.get(b.name) {
                None | Some(Value::Null) => false,
                Some(_) if b.computed => true,
                Some(v) => v.as_list().is_some_and(|l| !l.is_empty()),
            };
            if !configured {
                let v = prior
                    .map(|p| p.get(b.name).clone())
                    .unwrap_or(Value::Unknown);
                map.insert(b.name.to_string(), v);
            }
        }
    }
    Value::Map(map)
}

/// Evaluates `provider "aws" { ... }`. `lenient` (keel validate, where variables without
/// a value are unknown) treats unknown settings as unset instead of an error.
pub fn provider_settings(
    p: &ProviderBlock,
    env: &Env,
    lenient: bool,
) -> Result<ProviderSettings, Diagnostics> {
    let mut diags = Diagnostics::default();
    let mut out = ProviderSettings::default();
    if p.name != "aws" {
        return Err(
            Diagnostic::error(format!("provider \"{}\" is not supported", p.name))
                .at(p.span.clone())
                .help("keel has one built-in provider: aws")
                .into(),
        );
    }
    let string = |expr: &hcl_edit::expr::Expression, diags: &mut Diagnostics| -> Option<String> {
        match Ctx::new(env, p.file).eval(expr) {
            Ok(Value::String(s)) => Some(s),
            Ok(Value::Null) => None,
            Ok(Value::Unknown) if lenient => None,
            Ok(other) => {
                diags.push(
                    Diagnostic::error(format!("expected a string, got {}", other.to_hcl()))
                        .at(span_of(p.file, expr.span())),
                );
                None
            }
            Err(d) => {
                diags.push(d);
                None
            }
        }
    };
    for attr in p.body.attributes() {
        match attr.key.as_str() {
            "region" => out.region = string(&attr.value, &mut diags),
            "endpoint" => out.endpoint = string(&attr.value, &mut diags),
            "s3_use_path_style" => match Ctx::new(env, p.file).eval(&attr.value) {
                Ok(Value::Bool(b)) => out.s3_use_path_style = Some(b),
                Ok(Value::Unknown) if lenient => {}
                Ok(_) => diags.push(Diagnostic::error("s3_use_path_style must be true or false").at(attr_span(p.file, attr))),
                Err(d) => diags.push(d),
            },
            // Accepted for Terraform compatibility; keel reads credentials from the standard chain.
            "alias" | "profile" | "skip_credentials_validation" | "skip_metadata_api_check"
            | "skip_requesting_account_id" | "skip_region_validation" | "max_retries" => {}
            "access_key" | "secret_key" | "token" => diags.push(
                Diagnostic::error(format!("\"{}\" in the provider block would put a secret in the stack's files", attr.key.as_str()))
                    .at(attr_span(p.file, attr))
                    .help("remove it and use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile, or an instance role"),
            ),
            other => {
                let known = ["region", "endpoint", "s3_use_path_style", "profile", "alias"];
                let mut d = Diagnostic::error(format!("unsupported argument \"{other}\" in provider \"aws\""))
                    .at(attr_span(p.file, attr));
                if let Some(s) = suggest(other, known) {
                    d = d.help(format!("did you mean \"{s}\"?"));
                }
                diags.push(d);
            }
        }
    }
    for block in p.body.blocks() {
        match block.ident.as_str() {
            "default_tags" => {
                if let Some(attr) = block.body.get_attribute("tags") {
                    match Ctx::new(env, p.file).eval(&attr.value) {
                        Ok(Value::Map(m)) => {
                            for (k, v) in m {
                                match v {
                                    Value::String(s) => {
                                        out.default_tags.insert(k, s);
                                    }
                                    Value::Unknown if lenient => {}
                                    other => diags.push(
                                        Diagnostic::error(format!(
                                            "default tag \"{k}\" must be a known string, got {}",
                                            other.to_hcl()
                                        ))
                                        .at(span_of(p.file, attr.value.span())),
                                    ),
                                }
                            }
                        }
                        Ok(Value::Unknown) if lenient => {}
                        Ok(other) => diags.push(
                            Diagnostic::error(format!(
                                "default_tags.tags must be a map, got {}",
                                other.to_hcl()
                            ))
                            .at(span_of(p.file, attr.value.span())),
                        ),
                        Err(d) => diags.push(d),
                    }
                }
            }
            "endpoints" => {
                // endpoints { ec2 = "...", s3 = "..." }: keel uses one endpoint for all services.
                for attr in block.body.attributes() {
                    if let Some(s) = string(&attr.value, &mut diags) {
                        out.endpoint.get_or_insert(s);
                    }
                }
            }
            "assume_role" => diags.push(
                Diagnostic::error("assume_role is not supported yet")
                    .at(block_header_span(p.file, block))
                    .help("use AWS_PROFILE with a role_arn in ~/.aws/config"),
            ),
            other => diags.push(
                Diagnostic::error(format!("unsupported block \"{other}\" in provider \"aws\""))
                    .at(block_header_span(p.file, block)),
            ),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}
