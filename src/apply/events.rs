//! What apply tells the outside while it works: one [`Event`] per step started, finished
//! or failed, and the turns an apply takes (rollback, adoption, slowing down). Renderers
//! in `report::progress` turn them into terminal lines, a live display or JSON lines.

use crate::addr::{DataAddr, ResourceAddr};
use crate::providers::ProviderError;
use std::time::Duration;

/// What a step does, as progress names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Update,
    /// The create half of a replacement.
    Replace,
    Delete,
    /// The delete of an old object a create-first replacement kept until the end.
    DeleteDeposed,
    /// Rollback deleting what the apply created.
    UndoCreate,
    /// Rollback putting updated attributes back.
    UndoUpdate,
    /// Rollback deleting a replacement and making the old object current again.
    UndoReplace,
}

impl Verb {
    /// "Creating", "Modifying", ...
    pub fn doing(self) -> &'static str {
        match self {
            Verb::Create | Verb::Replace => "Creating",
            Verb::Update => "Modifying",
            Verb::Delete | Verb::DeleteDeposed => "Destroying",
            Verb::UndoCreate => "Rolling back: destroying",
            Verb::UndoUpdate => "Rolling back: restoring",
            Verb::UndoReplace => "Rolling back: destroying the replacement",
        }
    }

    /// "Creation", "Modifications", ...
    pub fn done(self) -> &'static str {
        match self {
            Verb::Create | Verb::Replace => "Creation",
            Verb::Update => "Modifications",
            Verb::Delete | Verb::DeleteDeposed => "Destruction",
            Verb::UndoCreate | Verb::UndoReplace => "Rollback (destroyed)",
            Verb::UndoUpdate => "Rollback (restored)",
        }
    }

    /// The machine-readable name in `-json` events.
    pub fn name(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Replace => "replace",
            Verb::Delete => "delete",
            Verb::DeleteDeposed => "delete_deposed",
            Verb::UndoCreate => "undo_create",
            Verb::UndoUpdate => "undo_update",
            Verb::UndoReplace => "undo_replace",
        }
    }
}

/// One thing that happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// A provider call went out (its intent is durable in the journal).
    Started {
        addr: ResourceAddr,
        verb: Verb,
        /// The object's id, when it has one already.
        id: Option<String>,
    },
    Finished {
        addr: ResourceAddr,
        verb: Verb,
        elapsed: Duration,
        id: Option<String>,
    },
    Failed {
        addr: ResourceAddr,
        verb: Verb,
        elapsed: Duration,
        error: ProviderError,
    },
    /// Apply stopped scheduling and undoes what it completed.
    RollbackStarted {
        reason: String,
        steps: usize,
    },
    /// A rollback recorded by an earlier run is being resumed.
    RollbackResumed {
        started: String,
        steps: usize,
    },
    RollbackFinished {
        undone: usize,
        failed: usize,
    },
    /// An object whose create was never answered was found and taken into state.
    Adopted {
        addr: ResourceAddr,
        id: String,
    },
    /// The cloud throttled: fewer calls at once (or, once calm again, more).
    Parallelism {
        limit: usize,
        retries: u64,
    },
    /// A data source the plan could not read yet (its arguments were unknown) is read.
    DataReading {
        addr: DataAddr,
    },
    /// ... and was read.
    DataRead {
        addr: DataAddr,
        elapsed: Duration,
        id: String,
    },
    /// Ctrl-C was pressed.
    Interrupted {
        presses: u32,
    },
    /// An `import` block's object is being brought under keel, before the changes.
    Importing {
        addr: ResourceAddr,
        id: String,
    },
    Imported {
        addr: ResourceAddr,
        id: String,
    },
    /// The apply rolled back, so an import it made is undone: keel's tags come off the
    /// object and state forgets it. The object itself stays.
    ImportUndone {
        addr: ResourceAddr,
        id: String,
    },
}

/// Where events go.
pub trait Progress {
    fn event(&mut self, event: &Event);
}

impl<F: FnMut(&Event)> Progress for F {
    fn event(&mut self, event: &Event) {
        self(event)
    }
}
