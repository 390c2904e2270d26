//! Step guards, one per library: what keeps a reading of a library's
//! elements (inventory, inject) consistent with the views it is compared
//! with.
//!
//! A worker holds its library's guard shared from the start of a physical
//! step (a move, a load, an unload) until the step's report is decided; a
//! reading holds it exclusively from READ ELEMENT STATUS until its own
//! command is decided. So no cartridge moves, and no report lands, between
//! a reading and the decision that interprets it: without the guard, a move
//! finishing in between would be recorded as a difference (an ejected
//! cartridge seen as taken, a moved one as vanished). Drives still load and
//! unload in parallel with each other and with the robot: shared holders do
//! not exclude one another.

use rsm_model::LibraryId;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};

/// The guards, created on first use.
#[derive(Default)]
pub(crate) struct StepGuards {
    libraries: Mutex<BTreeMap<LibraryId, Arc<RwLock<()>>>>,
}

impl StepGuards {
    fn of(&self, library: LibraryId) -> Arc<RwLock<()>> {
        self.libraries
            .lock()
            .expect("the step-guard map lock is never held across a panic")
            .entry(library)
            .or_default()
            .clone()
    }

    /// Held by a worker for one step and its report.
    pub async fn step(&self, library: LibraryId) -> OwnedRwLockReadGuard<()> {
        self.of(library).read_owned().await
    }

    /// Held by a reading until its command is decided; waits for the steps
    /// in flight to be reported, and holds new ones back (the lock is fair).
    pub async fn reading(&self, library: LibraryId) -> OwnedRwLockWriteGuard<()> {
        self.of(library).write_owned().await
    }
}
