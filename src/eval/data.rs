//! A data block's body, checked against its data source's schema and evaluated into the
//! arguments a read takes; and what a data source looks like before it is read (every
//! result unknown), which is what `keel validate` and reads deferred to apply show.

use super::resource::{BodyCx, eval_body};
use super::sensitive::Found;
use super::{Env, Repetition};
use crate::addr::DataAddr;
use crate::config::Resource;
use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::providers::{data_schema, supported_data_types};
use crate::value::Value;

/// Evaluates a data block's arguments for one instance, and what in them is sensitive.
pub fn data_config_marked(
    data: &Resource,
    addr: &DataAddr,
    env: &Env,
    repetition: Option<&Repetition>,
) -> Result<(Value, Found), Diagnostics> {
    let Some(schema) = data_schema(&data.type_) else {
        return Err(unsupported(data).into());
    };
    let mut diags = Diagnostics::default();
    let mut found = Found::default();
    let cx = BodyCx {
        file: data.file,
        env,
        repetition,
        bindings: Vec::new(),
    };
    let body = super::resource::without_unset_region(
        &data.body,
        schema.args.iter().find(|a| a.name == "region"),
        &addr.to_string(),
        &cx,
    )?;
    let map = eval_body(
        &body,
        schema.args,
        schema.blocks,
        &addr.to_string(),
        data.span.clone(),
        &cx,
        &mut diags,
        &mut found,
    );
    diags.into_result()?;
    Ok((Value::Map(map), found))
}

/// The error for a data block whose type keel cannot read, naming those it can.
pub fn unsupported(data: &Resource) -> Diagnostic {
    let supported = supported_data_types();
    let mut d = Diagnostic::error(format!(
        "keel does not support data source type \"{}\"",
        data.type_
    ))
    .at(data.type_span.clone().or(data.span.clone()))
    .label("unsupported data source");
    d = match suggest(&data.type_, supported.iter().copied()) {
        Some(s) => d.help(format!(
            "did you mean \"{s}\"? Supported data sources: {}",
            supported.join(", ")
        )),
        None => d.help(format!("supported data sources: {}", supported.join(", "))),
    };
    d
}

/// A data source not read yet: its arguments as configured, every result unknown.
pub fn unread(type_: &str, args: &Value) -> Value {
    let mut map = args.as_map().cloned().unwrap_or_default();
    if let Some(schema) = data_schema(type_) {
        for r in schema.results {
            let v = map.entry(r.to_string()).or_insert(Value::Unknown);
            if v.is_null() {
                *v = Value::Unknown;
            }
        }
    }
    map.insert("id".into(), Value::Unknown);
    Value::Map(map)
}
