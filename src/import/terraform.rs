//! `keel state import-terraform FILE`: a Terraform state (format version 4) -> a keel
//! state, for the resource types keel supports, so a team switches without recreating
//! anything. Each resource instance is read back through the provider from what
//! Terraform recorded (its id, its tags, its other arguments), so the new state holds
//! what keel itself would record; lineage, serial and outputs carry over.

use super::{ImportContext, ImportError, adopt};
use crate::addr::{InstanceKey, ResourceAddr};
use crate::providers::{Provider, schema};
use crate::state::{OutputState, State};
use crate::value::Value;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Why a Terraform state could not be brought in. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum TfImportError {
    #[error("{path} is not a Terraform state file: {reason}")]
    NotTfstate { path: String, reason: String },
    #[error(
        "{path} has Terraform state format version {found}; keel reads version 4 (Terraform 0.12 and later)\n  help: run terraform (0.12 or later) once on it, e.g. terraform refresh, to upgrade it"
    )]
    Version { path: String, found: u64 },
    #[error(
        "{path} holds resources keel does not manage:\n{}\n  help: nothing was imported. Move them out with terraform state rm first, or pass -skip-unsupported to leave them behind",
        list.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
    )]
    Unsupported { path: String, list: Vec<String> },
    #[error(
        "{} resource(s) from {path} could not be read from the cloud:\n{}\n  help: nothing was imported",
        list.len(),
        list.iter().map(|e| format!("    {e}")).collect::<Vec<_>>().join("\n")
    )]
    Read {
        path: String,
        list: Vec<ImportError>,
    },
}

#[derive(Deserialize)]
struct Tfstate {
    version: u64,
    #[serde(default)]
    serial: u64,
    #[serde(default)]
    lineage: String,
    #[serde(default)]
    outputs: BTreeMap<String, TfOutput>,
    #[serde(default)]
    resources: Vec<TfResource>,
}

#[derive(Deserialize)]
struct TfOutput {
    value: serde_json::Value,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
struct TfResource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    type_: String,
    name: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    instances: Vec<TfInstance>,
}

#[derive(Deserialize)]
struct TfInstance {
    #[serde(default)]
    index_key: Option<serde_json::Value>,
    #[serde(default)]
    attributes: serde_json::Value,
    #[serde(default)]
    dependencies: Vec<String>,
}

/// What an import made, besides the state.
#[derive(Debug, Default)]
pub struct TfImported {
    /// Addresses left out with -skip-unsupported, with why.
    pub skipped: Vec<String>,
}

/// One managed instance found in the file.
struct Found {
    addr: ResourceAddr,
    prior: Value,
    dependencies: Vec<String>,
}

/// Reads `text` (the Terraform state at `path`) and brings every managed AWS resource of
/// a type keel supports into a new state for `cx.stack`.
pub async fn import_terraform<P: Provider>(
    provider: &P,
    path: &str,
    text: &str,
    cx: &ImportContext,
    skip_unsupported: bool,
) -> Result<(State, TfImported), TfImportError> {
    let not = |reason: String| TfImportError::NotTfstate {
        path: path.to_string(),
        reason,
    };
    let tf = parse(path, text)?;

    let mut found = Vec::new();
    let mut unsupported = Vec::new();
    for r in &tf.resources {
        if r.mode != "managed" {
            continue; // data sources are read again at every plan; nothing to carry over
        }
        for inst in &r.instances {
            let addr = match address(r, inst) {
                Ok(a) => a,
                Err(reason) => return Err(not(reason)),
            };
            if !r.provider.contains("hashicorp/aws\"]") {
                unsupported.push(format!(
                    "{addr} (provider {}; keel's AWS provider has no aliases)",
                    r.provider
                ));
                continue;
            }
            if schema(&r.type_).is_none() {
                unsupported.push(format!("{addr} ({} is not a type keel manages)", r.type_));
                continue;
            }
            let mut prior: BTreeMap<String, Value> = match Value::from_json(&inst.attributes) {
                Value::Map(m) => m,
                _ => return Err(not(format!("{addr} has no attributes"))),
            };
            prior.retain(|_, v| !v.is_null());
            if prior
                .get("id")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(not(format!("{addr} has no id")));
            }
            found.push(Found {
                addr,
                prior: Value::Map(prior),
                dependencies: inst.dependencies.clone(),
            });
        }
    }
    if !unsupported.is_empty() && !skip_unsupported {
        return Err(TfImportError::Unsupported {
            path: path.to_string(),
            list: unsupported,
        });
    }

    let mut state = State::new(&cx.stack);
    if !tf.lineage.is_empty() {
        state.lineage = tf.lineage.clone();
    }
    state.serial = tf.serial;
    let mut errors = Vec::new();
    for f in &found {
        match adopt(provider, &f.addr, f.prior.clone(), cx).await {
            Ok(entry) => {
                state.resources.insert(f.addr.clone(), entry);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(TfImportError::Read {
            path: path.to_string(),
            list: errors,
        });
    }
    // Terraform records dependencies per resource, without module instance keys; keel
    // per resource in each module instance holding instances of it.
    for f in &found {
        let mut deps: Vec<ResourceAddr> = f
            .dependencies
            .iter()
            .filter_map(|d| d.parse::<ResourceAddr>().ok())
            .flat_map(|d| crate::state::ops::matching(&state, &d))
            .map(|a| ResourceAddr { key: None, ..a })
            .collect();
        deps.sort();
        deps.dedup();
        if let Some(r) = state.resources.get_mut(&f.addr) {
            r.dependencies = deps;
        }
    }
    state.outputs = tf
        .outputs
        .into_iter()
        .map(|(k, o)| {
            (
                k,
                OutputState {
                    value: o.value,
                    sensitive: o.sensitive,
                },
            )
        })
        .collect();
    Ok((
        state,
        TfImported {
            skipped: unsupported,
        },
    ))
}

/// Checks that `text` is a Terraform state this keel reads (format version 4).
pub fn check(path: &str, text: &str) -> Result<(), TfImportError> {
    parse(path, text).map(|_| ())
}

fn parse(path: &str, text: &str) -> Result<Tfstate, TfImportError> {
    let not = |reason: String| TfImportError::NotTfstate {
        path: path.to_string(),
        reason,
    };
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| not(format!("not valid JSON ({e})")))?;
    match json.get("version").and_then(|v| v.as_u64()) {
        Some(4) => {}
        Some(found) => {
            return Err(TfImportError::Version {
                path: path.to_string(),
                found,
            });
        }
        None => return Err(not("it has no format version".into())),
    }
    if json.get("terraform_version").is_none() {
        return Err(not("it has no terraform_version".into()));
    }
    let tf: Tfstate = serde_json::from_value(json).map_err(|e| not(e.to_string()))?;
    debug_assert_eq!(tf.version, 4);
    Ok(tf)
}

/// `module.net.aws_vpc.main["a"]` from a Terraform resource and instance.
fn address(r: &TfResource, inst: &TfInstance) -> Result<ResourceAddr, String> {
    let text = match &r.module {
        Some(m) if !m.is_empty() => format!("{m}.{}.{}", r.type_, r.name),
        _ => format!("{}.{}", r.type_, r.name),
    };
    let mut addr: ResourceAddr = text.parse().map_err(|e| format!("{e}"))?;
    addr.key = match &inst.index_key {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => {
            Some(InstanceKey::Int(n.as_u64().ok_or_else(|| {
                format!("{text}: index {n} is not a whole number")
            })?))
        }
        Some(serde_json::Value::String(s)) => Some(InstanceKey::Str(s.clone())),
        Some(other) => {
            return Err(format!(
                "{text}: index key {other} is neither a number nor a string"
            ));
        }
    };
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::memory::MemoryProvider;

    fn run(text: &str, skip: bool) -> Result<(State, TfImported), TfImportError> {
        let provider = MemoryProvider::default();
        let cx = ImportContext {
            stack: "s".into(),
            ..Default::default()
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(import_terraform(
                &provider,
                "terraform.tfstate",
                text,
                &cx,
                skip,
            ))
    }

    #[test]
    fn refuses_other_versions_and_non_tfstate() {
        let err = run(r#"{"version": 3, "terraform_version": "0.11.14"}"#, false).unwrap_err();
        assert!(
            matches!(err, TfImportError::Version { found: 3, .. }),
            "{err}"
        );
        let err = run(r#"{"version": 1, "lineage": "x"}"#, false).unwrap_err();
        assert!(matches!(err, TfImportError::Version { .. }), "{err}");
        let err = run("{\"version\": 4, ", false).unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }

    #[test]
    fn lists_every_unsupported_resource_unless_skipped() {
        let text = r#"{
          "version": 4, "terraform_version": "1.9.5", "serial": 7, "lineage": "abc",
          "outputs": {"x": {"value": "y", "type": "string"}},
          "resources": [
            {"mode": "managed", "type": "aws_lambda_function", "name": "f",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"attributes": {"id": "f"}}]},
            {"mode": "managed", "type": "google_storage_bucket", "name": "g", "module": "module.gcp",
             "provider": "provider[\"registry.terraform.io/hashicorp/google\"]",
             "instances": [{"index_key": "a", "attributes": {"id": "g"}}]},
            {"mode": "data", "type": "aws_caller_identity", "name": "me",
             "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": []}
          ]
        }"#;
        match run(text, false).unwrap_err() {
            TfImportError::Unsupported { list, .. } => {
                assert_eq!(list.len(), 2, "{list:?}");
                assert!(list[0].starts_with("aws_lambda_function.f "), "{list:?}");
                assert!(
                    list[1].starts_with("module.gcp.google_storage_bucket.g[\"a\"] "),
                    "{list:?}"
                );
            }
            other => panic!("expected the unsupported list, got {other}"),
        }
        let (state, imported) = run(text, true).unwrap();
        assert_eq!(imported.skipped.len(), 2);
        assert_eq!(state.lineage, "abc");
        assert_eq!(state.serial, 7);
        assert_eq!(state.outputs["x"].value, "y");
        assert!(state.resources.is_empty());
    }
}
