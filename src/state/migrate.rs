//! Moving a stack's state between backends (local file <-> S3, bucket to bucket) without
//! loss: both locked, the source read however it is stored, the destination written
//! (sealed if its encryption says so) and read back to check it holds the same thing.

use super::{Backend, State, StateError};

/// Why a migration did not happen. Nothing was written unless it says so.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error("there is no state at {0} to move")]
    Empty(String),
    #[error(
        "{location} already holds state (lineage {lineage}, serial {serial}, {count} resource(s)) that is not this stack's state from {from}\n  help: nothing was changed. To replace it anyway, pass -force-copy (its current version is kept as the backup)"
    )]
    DestinationHasState {
        location: String,
        from: String,
        lineage: String,
        serial: u64,
        count: usize,
    },
    #[error(
        "the state written to {0} does not read back as what was read from the source\n  help: the source was left as it is; check the destination"
    )]
    Verify(String),
}

/// What a migration did.
#[derive(Debug, PartialEq)]
pub struct Migrated {
    pub resources: usize,
    /// The destination already held this exact state: nothing was written.
    pub already: bool,
}

/// Copies the state in `from` to `to`.
pub async fn migrate(from: &Backend, to: &Backend, force: bool) -> Result<Migrated, MigrateError> {
    let _from_lock = from.lock("init -migrate-state").await?;
    let _to_lock = to.lock("init -migrate-state").await?;
    let Some((mut state, _)) = from.read_any().await? else {
        return Err(MigrateError::Empty(from.location()));
    };
    if let Some((there, _)) = to.read_any().await? {
        let same = there.lineage == state.lineage;
        if same && there.serial >= state.serial && there.resources == state.resources {
            return Ok(Migrated {
                resources: state.resources.len(),
                already: true,
            });
        }
        let empty = there.resources.is_empty() && there.deposed.is_empty();
        if !same && !empty && !force {
            return Err(MigrateError::DestinationHasState {
                location: to.location(),
                from: from.location(),
                lineage: there.lineage,
                serial: there.serial,
                count: there.resources.len(),
            });
        }
        // Keep serials moving forward at the destination.
        state.serial = state.serial.max(there.serial);
    }
    let expected = state.clone();
    to.write(&_to_lock, &mut state).await?;
    let back: Option<State> = to.read_any().await?.map(|(s, _)| s);
    match back {
        Some(b)
            if b.lineage == expected.lineage
                && b.resources == expected.resources
                && b.outputs == expected.outputs
                && b.deposed == expected.deposed =>
        {
            Ok(Migrated {
                resources: b.resources.len(),
                already: false,
            })
        }
        _ => Err(MigrateError::Verify(to.location())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceState;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn copies_and_refuses_to_clobber_other_state() {
        let dir = tempfile::tempdir().unwrap();
        let from = Backend::local(dir.path().join("a.json"), "s");
        let to = Backend::local(dir.path().join("b.json"), "s");
        block_on(async {
            assert!(matches!(
                migrate(&from, &to, false).await,
                Err(MigrateError::Empty(_))
            ));
            let mut s = State::new("s");
            s.resources.insert(
                "aws_vpc.main".parse().unwrap(),
                ResourceState {
                    type_: "aws_vpc".into(),
                    id: "vpc-1".into(),
                    attributes: serde_json::json!({"id": "vpc-1"}),
                    dependencies: vec![],
                    provider: Default::default(),
                    sensitive_attributes: vec![],
                },
            );
            let lock = from.lock("t").await.unwrap();
            from.write(&lock, &mut s).await.unwrap();
            drop(lock);
            let done = migrate(&from, &to, false).await.unwrap();
            assert_eq!(
                done,
                Migrated {
                    resources: 1,
                    already: false
                }
            );
            let copied = to.read().await.unwrap().unwrap();
            assert_eq!(copied.lineage, s.lineage);
            assert_eq!(copied.resources, s.resources);
            assert!(migrate(&from, &to, false).await.unwrap().already);

            // Someone else's state at the destination is not overwritten without force.
            let other = Backend::local(dir.path().join("c.json"), "s");
            let mut o = State::new("s");
            o.resources = s.resources.clone();
            let lock = other.lock("t").await.unwrap();
            other.write(&lock, &mut o).await.unwrap();
            drop(lock);
            assert!(matches!(
                migrate(&from, &other, false).await,
                Err(MigrateError::DestinationHasState { .. })
            ));
            assert_eq!(other.read().await.unwrap().unwrap().lineage, o.lineage);
            migrate(&from, &other, true).await.unwrap();
            assert_eq!(other.read().await.unwrap().unwrap().lineage, s.lineage);
        });
    }
}
