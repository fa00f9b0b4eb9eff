//! Refresh: State + cloud -> State. Reads every resource the state records through the
//! provider and returns a copy holding what the cloud reports now, so a plan starts from
//! the truth. Objects deleted outside keel drop out of the copy (and plan to be created
//! again). The copy is written only by an apply that follows.

use crate::addr::ResourceAddr;
use crate::providers::{Provider, ProviderError};
use crate::state::State;

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

/// Reads every recorded resource. `progress` gets one line per resource.
pub async fn refresh<P: Provider>(
    state: &State,
    provider: &P,
    progress: &mut dyn FnMut(String),
) -> Result<Refreshed, RefreshError> {
    let mut out = state.clone();
    let mut gone = Vec::new();
    let mut changed = Vec::new();
    for (addr, r) in &state.resources {
        progress(format!("{addr}: Refreshing state... [id={}]", r.id));
        let prior = r.value();
        match provider.read(&r.type_, &prior).await {
            Ok(Some(now)) => {
                if now != prior {
                    changed.push(addr.clone());
                }
                let entry = out.resources.get_mut(addr).expect("copied from state");
                entry.attributes = now.to_json();
                if let Some(id) = now.get("id").as_str() {
                    entry.id = id.to_string();
                }
            }
            Ok(None) => {
                out.resources.remove(addr);
                gone.push(addr.clone());
            }
            Err(error) => {
                return Err(RefreshError {
                    addr: addr.clone(),
                    error,
                });
            }
        }
    }
    Ok(Refreshed {
        state: out,
        gone,
        changed,
    })
}
