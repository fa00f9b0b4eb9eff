//! Recovery: a journal left by a keel that was killed -> a state that knows every object.
//! Each create that was in flight is looked for ([`Provider::find`]) and adopted if it
//! exists; updates and deletes in flight are read back. A killed apply's journal is then
//! dropped (the next plan starts from the truth); a pending rollback's stays, for
//! [`super::rollback`] to resume.

use super::ApplyError;
use super::events::{Event, Progress};
use crate::addr::ResourceAddr;
use crate::providers::{Provider, ProviderError, ProviderSet};
use crate::state::{OpKind, Phase, ResourceState, State, Status};
use crate::value::Value;

/// What recovery found.
#[derive(Debug, Default, Clone)]
pub struct Recovered {
    /// The state held a journal.
    pub journal: bool,
    /// A rollback is pending (resume it with [`super::rollback`]).
    pub rollback_pending: bool,
    /// When the unfinished apply started.
    pub started: String,
    /// Objects whose create was never answered, found and adopted: (address, id).
    pub adopted: Vec<(ResourceAddr, String)>,
    /// Creates in flight whose object does not exist: they never took effect.
    pub void: Vec<ResourceAddr>,
}

impl Recovered {
    /// Did recovery change the state?
    pub fn changed(&self) -> bool {
        self.journal
    }
}

/// The first object of type `type_` found that state does not record already (under
/// any address, or deposed): a create-first replacement's old object carries the same
/// tags as its new one. (Ids are compared within the type: an IAM role and its instance
/// profile often share a name.)
pub(super) fn unrecorded(state: &State, type_: &str, found: Vec<Value>) -> Option<Value> {
    found.into_iter().find(|v| {
        let id = v.get("id").as_str().unwrap_or_default();
        !state
            .resources
            .values()
            .any(|r| r.type_ == type_ && r.id == id)
            && !state
                .deposed
                .iter()
                .any(|d| d.resource.type_ == type_ && d.resource.id == id)
    })
}

/// Resolves the operations the journal records as in flight. Reads the cloud; changes
/// only `state` (the caller writes it, or keeps it in memory for a plan). With
/// `roll_back`, a killed apply's journal is turned into a pending rollback (`keel
/// rollback`) instead of being dropped.
pub async fn recover<P: Provider>(
    state: &mut State,
    providers: &ProviderSet<P>,
    roll_back: bool,
    progress: &mut dyn Progress,
) -> Result<Recovered, ApplyError> {
    let mut out = Recovered::default();
    let Some(journal) = state.journal.clone() else {
        return Ok(out);
    };
    out.journal = true;
    out.started = journal.started.clone();
    let fail = |addr: &ResourceAddr, e: ProviderError| {
        ApplyError::Eval(format!(
            "{addr}: cannot resolve what the unfinished apply left in flight: {e}\n  help: keel changed nothing; run the command again once the cloud answers"
        ))
    };
    for (i, op) in journal.ops.iter().enumerate() {
        if op.status != Status::Started {
            continue;
        }
        let provider = providers.get(&op.provider).map_err(|e| fail(&op.addr, e))?;
        let status = if op.kind.creates() {
            let config = op.config.clone().unwrap_or(Value::Null);
            let found = provider
                .find(&op.addr, &config, &op.token, false)
                .await
                .map_err(|e| fail(&op.addr, e))?;
            match unrecorded(state, &op.type_, found) {
                Some(found) => {
                    let id = found.get("id").as_str().unwrap_or_default().to_string();
                    state.resources.insert(
                        op.addr.clone(),
                        ResourceState {
                            type_: op.type_.clone(),
                            provider: op.provider.clone(),
                            id: id.clone(),
                            attributes: found.to_json(),
                            dependencies: op.dependencies.clone(),
                            sensitive_attributes: op.sensitive.clone(),
                        },
                    );
                    state.create_tokens.remove(&op.addr);
                    progress.event(&Event::Adopted {
                        addr: op.addr.clone(),
                        id: id.clone(),
                    });
                    out.adopted.push((op.addr.clone(), id));
                    Status::Done
                }
                None => {
                    if op.kind == OpKind::CreateReplacement
                        && !state.resources.contains_key(&op.addr)
                    {
                        // Nothing replaced the old object: it is current again.
                        let old_id = op.before.as_ref().map(|b| b.id.clone());
                        if let Some(p) = state.deposed.iter().position(|d| {
                            d.addr == op.addr && Some(&d.resource.id) == old_id.as_ref()
                        }) {
                            let d = state.deposed.remove(p);
                            state.resources.insert(op.addr.clone(), d.resource);
                        }
                    }
                    state
                        .create_tokens
                        .insert(op.addr.clone(), op.token.clone());
                    out.void.push(op.addr.clone());
                    Status::Void
                }
            }
        } else {
            let Some(before) = &op.before else {
                continue;
            };
            let now = provider
                .read(&op.type_, &before.value())
                .await
                .map_err(|e| fail(&op.addr, e))?;
            match (op.kind, now) {
                (OpKind::Update, Some(v)) => {
                    if let Some(r) = state.resources.get_mut(&op.addr) {
                        r.attributes = v.to_json();
                    }
                    // Rollback restores it either way.
                    Status::Done
                }
                (OpKind::Update, None) => Status::Done,
                (OpKind::Delete, None) => {
                    state.resources.remove(&op.addr);
                    Status::Done
                }
                (OpKind::DeleteDeposed, None) => {
                    state
                        .deposed
                        .retain(|d| !(d.addr == op.addr && d.resource.id == before.id));
                    Status::Done
                }
                // Still there: the delete did not happen.
                _ => Status::Failed,
            }
        };
        if let Some(j) = state.journal.as_mut() {
            j.ops[i].status = status;
        }
    }
    match (journal.phase, roll_back) {
        (Phase::Applying, false) => state.journal = None,
        (Phase::Applying, true) => {
            if let Some(j) = state.journal.as_mut() {
                j.phase = Phase::RollingBack;
                j.reason = Some("keel was stopped before the apply finished".into());
            }
            out.rollback_pending = true;
        }
        (Phase::RollingBack, _) => out.rollback_pending = true,
    }
    Ok(out)
}
