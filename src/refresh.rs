//! Refresh: State + cloud -> State. Reads every resource the state records through the
//! provider and returns a copy holding what the cloud reports now, so a plan starts from
//! the truth. Objects deleted outside keel drop out of the copy (and plan to be created
//! again). The copy is written only by an apply that follows.

use crate::addr::{ProviderAddr, ResourceAddr};
use crate::providers::{Provider, ProviderError, ProviderSet};
use crate::state::State;
use crate::value::Value;
use std::collections::BTreeMap;

/// The refreshed state and what changed on the way.
#[derive(Debug)]
pub struct Refreshed {
    pub state: State,
    /// Resources state recorded that no longer exist in the cloud.
    pub gone: Vec<ResourceAddr>,
    /// Resources whose attributes in the cloud differ from the record.
    pub changed: Vec<ResourceAddr>,
}

/// A read that failed, with the address it was for.
#[derive(Debug, thiserror::Error)]
#[error("refreshing {addr}: {error}")]
pub struct RefreshError {
    pub addr: ResourceAddr,
    pub error: ProviderError,
}

/// Reads every recorded resource through the provider configuration state recorded for
/// it: one batched read per configuration and type, all at once. `progress` gets one line
/// per resource.
pub async fn refresh<P: Provider>(
    state: &State,
    providers: &ProviderSet<P>,
    progress: &mut dyn FnMut(String),
) -> Result<Refreshed, RefreshError> {
    type Batch<'a> = Vec<(&'a ResourceAddr, Value)>;
    let mut by_type: BTreeMap<(&ProviderAddr, &str), Batch> = BTreeMap::new();
    for (addr, r) in &state.resources {
        progress(format!("{addr}: Refreshing state... [id={}]", r.id));
        by_type
            .entry((&r.provider, r.type_.as_str()))
            .or_default()
            .push((addr, r.value()));
    }
    let reads = by_type.iter().map(|((provider, type_), items)| async move {
        let priors: Vec<Value> = items.iter().map(|(_, v)| v.clone()).collect();
        let read = async { providers.get(provider)?.read_many(type_, &priors).await };
        read.await.map_err(|error| RefreshError {
            // A batch fails as a whole; name its first resource so the user knows
            // which type's read it was.
            addr: items[0].0.clone(),
            error,
        })
    });
    let answers = futures_util::future::try_join_all(reads).await?;

    let mut out = state.clone();
    let mut gone = Vec::new();
    let mut changed = Vec::new();
    for ((_, items), answers) in by_type.iter().zip(answers) {
        for ((addr, prior), now) in items.iter().zip(answers) {
            match now {
                Some(now) => {
                    if &now != prior {
                        changed.push((*addr).clone());
                    }
                    let entry = out.resources.get_mut(*addr).expect("copied from state");
                    entry.attributes = now.to_json();
                    if let Some(id) = now.get("id").as_str() {
                        entry.id = id.to_string();
                    }
                }
                None => {
                    out.resources.remove(*addr);
                    gone.push((*addr).clone());
                }
            }
        }
    }
    gone.sort();
    changed.sort();
    Ok(Refreshed {
        state: out,
        gone,
        changed,
    })
}
