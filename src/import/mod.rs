//! Import: a cloud object that keel did not create -> a state entry at an address, read
//! through the provider (`keel import ADDR ID`, and `import` blocks, which planning
//! previews with [`preview_import`] and apply makes with [`import_resource`]), and a
//! Terraform state -> a keel state ([`terraform`]).
//!
//! An imported object is read with a prior holding only its id, then again with the tags
//! it carries (minus keel's own and the provider's default tags), so state records them
//! as a configuration that sets them would. Taggable objects then get keel's ownership
//! tags (`keel:stack`, `keel:address`), the one change import makes in the cloud, so that
//! drift detection and crash recovery know them like any object keel created.

pub mod terraform;

use crate::addr::ResourceAddr;
use crate::eval::{TAG_ADDRESS, TAG_STACK};
use crate::providers::{Provider, ProviderError, schema, supported_types};
use crate::state::{ResourceState, State};
use crate::value::Value;
use std::collections::BTreeMap;

/// Why an object could not be imported. State was not changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("keel does not manage {type_} yet\n  help: keel manages {}", supported_types().join(", "))]
    Unsupported { type_: String },
    #[error(
        "{0} is already in state\n  help: to import a different object there, forget this one first with keel state rm {0}"
    )]
    AlreadyManaged(ResourceAddr),
    #[error(
        "no {type_} with id \"{id}\" exists (for {addr})\n  help: check the id and the provider's region"
    )]
    NotFound {
        addr: ResourceAddr,
        type_: String,
        id: String,
    },
    #[error(
        "{addr}: the object {id} already belongs to keel stack \"{stack}\" as {owner}\n  help: one object has one owner; remove it from that stack's state first (keel state rm)"
    )]
    OwnedElsewhere {
        addr: ResourceAddr,
        id: String,
        stack: String,
        owner: String,
    },
    #[error("{addr}: {error}")]
    Provider {
        addr: ResourceAddr,
        error: ProviderError,
    },
}

/// The provider settings import needs: the default tags, which are not the resource's own.
#[derive(Debug, Clone, Default)]
pub struct ImportContext {
    pub stack: String,
    pub default_tags: BTreeMap<String, String>,
    /// The provider configuration the imported resources belong to.
    pub provider: crate::addr::ProviderAddr,
}

/// Reads the object `id` of `addr`'s type and records it at `addr`. Returns the entry.
pub async fn import_resource<P: Provider>(
    provider: &P,
    state: &mut State,
    addr: &ResourceAddr,
    id: &str,
    cx: &ImportContext,
) -> Result<Imported, ImportError> {
    if state.resources.contains_key(addr) {
        return Err(ImportError::AlreadyManaged(addr.clone()));
    }
    let prior = Value::Map(BTreeMap::from([("id".to_string(), Value::str(id))]));
    let (entry, tagged) = read_as_imported(provider, addr, prior, cx, true).await?;
    state.resources.insert(addr.clone(), entry.clone());
    Ok(Imported { entry, tagged })
}

/// What [`import_resource`] recorded, and whether it wrote keel's ownership tags to the
/// object (an object that already carried them for this address was left as it was).
#[derive(Debug, Clone)]
pub struct Imported {
    pub entry: ResourceState,
    pub tagged: bool,
}

/// Undoes [`import_resource`] for `addr`: takes off the ownership tags it wrote (when
/// `tagged`) and forgets the object. The object stays in the cloud. On error the record
/// stays as it was, so nothing keel tagged goes untracked.
pub async fn unimport<P: Provider>(
    provider: &P,
    state: &mut State,
    addr: &ResourceAddr,
    tagged: bool,
) -> Result<(), ImportError> {
    let Some(entry) = state.resources.get(addr) else {
        return Ok(());
    };
    if tagged {
        let current = entry.value();
        let mut tags_all = string_map(current.get("tags_all"));
        tags_all.remove(TAG_STACK);
        tags_all.remove(TAG_ADDRESS);
        provider
            .update(addr, &current, &with_tags_all(&current, tags_all))
            .await
            .map_err(|error| ImportError::Provider {
                addr: addr.clone(),
                error,
            })?;
    }
    state.resources.remove(addr);
    Ok(())
}

/// What [`import_resource`] would record for object `id` at `addr`, found without
/// changing the cloud: the object as read, with the ownership tags import would give it.
/// Planning diffs an `import` block's object against the configuration with this.
pub async fn preview_import<P: Provider>(
    provider: &P,
    addr: &ResourceAddr,
    id: &str,
    cx: &ImportContext,
) -> Result<ResourceState, ImportError> {
    let prior = Value::Map(BTreeMap::from([("id".to_string(), Value::str(id))]));
    read_as_imported(provider, addr, prior, cx, false)
        .await
        .map(|(entry, _)| entry)
}

/// Reads one object from `prior` (its id, and whatever else a record of it holds),
/// settles its tags and gives it keel's ownership tags.
pub(crate) async fn adopt<P: Provider>(
    provider: &P,
    addr: &ResourceAddr,
    prior: Value,
    cx: &ImportContext,
) -> Result<ResourceState, ImportError> {
    read_as_imported(provider, addr, prior, cx, true)
        .await
        .map(|(entry, _)| entry)
}

/// [`adopt`]; with `tag` false the ownership tags are only added to what is returned,
/// not written to the cloud. Also says whether it wrote them.
async fn read_as_imported<P: Provider>(
    provider: &P,
    addr: &ResourceAddr,
    prior: Value,
    cx: &ImportContext,
    tag: bool,
) -> Result<(ResourceState, bool), ImportError> {
    let mut tagged = false;
    let Some(schema) = schema(&addr.type_) else {
        return Err(ImportError::Unsupported {
            type_: addr.type_.clone(),
        });
    };
    let fail = |error| ImportError::Provider {
        addr: addr.clone(),
        error,
    };
    let id = prior.get("id").as_str().unwrap_or_default().to_string();
    let not_found = || ImportError::NotFound {
        addr: addr.clone(),
        type_: addr.type_.clone(),
        id: id.clone(),
    };
    let mut value = provider
        .read(&addr.type_, &prior)
        .await
        .map_err(fail)?
        .ok_or_else(not_found)?;
    if schema.taggable {
        let all = string_map(value.get("tags_all"));
        if let (Some(stack), Some(owner)) = (all.get(TAG_STACK), all.get(TAG_ADDRESS))
            && (stack != &cx.stack || owner != &addr.to_string())
        {
            return Err(ImportError::OwnedElsewhere {
                addr: addr.clone(),
                id,
                stack: stack.clone(),
                owner: owner.clone(),
            });
        }
        let own: BTreeMap<String, Value> = all
            .iter()
            .filter(|(k, v)| !k.starts_with("keel:") && cx.default_tags.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), Value::str(v)))
            .collect();
        let mut with_tags = prior.as_map().cloned().unwrap_or_default();
        with_tags.insert("id".into(), value.get("id").clone());
        with_tags.insert(
            "tags".into(),
            if own.is_empty() {
                Value::Null
            } else {
                Value::Map(own)
            },
        );
        value = provider
            .read(&addr.type_, &Value::Map(with_tags))
            .await
            .map_err(fail)?
            .ok_or_else(not_found)?;
        let mut tags_all = string_map(value.get("tags_all"));
        let owned = tags_all.get(TAG_STACK) == Some(&cx.stack)
            && tags_all.get(TAG_ADDRESS) == Some(&addr.to_string());
        if !owned {
            tags_all.insert(TAG_STACK.into(), cx.stack.clone());
            tags_all.insert(TAG_ADDRESS.into(), addr.to_string());
            let config = with_tags_all(&value, tags_all);
            value = if tag {
                tagged = true;
                provider.update(addr, &value, &config).await.map_err(fail)?
            } else {
                config
            };
        }
    }
    // Arguments the cloud does not hold (force_destroy, revoke_rules_on_delete) read back
    // as null; record their defaults, as a configuration that leaves them out would.
    if let Value::Map(m) = &mut value {
        for a in schema.attrs {
            if let Some(d) = a.default
                && m.get(a.name).is_none_or(Value::is_null)
            {
                m.insert(a.name.to_string(), d.value());
            }
        }
    }
    let entry = ResourceState {
        type_: addr.type_.clone(),
        id: value.get("id").as_str().unwrap_or(&id).to_string(),
        attributes: value.to_json(),
        dependencies: Vec::new(),
        provider: cx.provider.clone(),
        // The configuration marks them at the next plan, as Terraform's import does.
        sensitive_attributes: Vec::new(),
    };
    Ok((entry, tagged))
}

/// `object` with its `tags_all` replaced by `tags`: what an update that changes only the
/// tags is asked for.
fn with_tags_all(object: &Value, tags: BTreeMap<String, String>) -> Value {
    let mut config = object.as_map().cloned().unwrap_or_default();
    config.insert(
        "tags_all".into(),
        Value::Map(tags.into_iter().map(|(k, v)| (k, Value::str(v))).collect()),
    );
    Value::Map(config)
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::memory::MemoryProvider;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn refuses_unknown_types_taken_addresses_and_missing_objects() {
        let provider = MemoryProvider::default();
        let cx = ImportContext {
            stack: "s".into(),
            ..Default::default()
        };
        let mut state = State::new("s");
        block_on(async {
            let err = import_resource(
                &provider,
                &mut state,
                &"aws_thing.x".parse().unwrap(),
                "i-1",
                &cx,
            )
            .await
            .unwrap_err();
            assert!(matches!(err, ImportError::Unsupported { .. }), "{err}");
            let addr: ResourceAddr = "aws_vpc.main".parse().unwrap();
            let err = import_resource(&provider, &mut state, &addr, "vpc-404", &cx)
                .await
                .unwrap_err();
            assert!(matches!(err, ImportError::NotFound { .. }), "{err}");
            assert!(state.resources.is_empty());
        });
    }
}
