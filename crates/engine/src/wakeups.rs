//! Wake-ups from the sequencer to idle workers, one per library, without
//! lost signals (a `Notify` keeps a permit when nobody waits).

use rsm_model::LibraryId;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The workers' doorbells.
#[derive(Default)]
pub(crate) struct Wakeups {
    libraries: Mutex<BTreeMap<LibraryId, Arc<Notify>>>,
    /// Rung when libraries appear or objects are enabled: the supervisor looks for new work.
    pub topology: Notify,
}

impl Wakeups {
    pub fn library(&self, id: LibraryId) -> Arc<Notify> {
        self.libraries.lock().expect("the wake-up map lock is never held across a panic").entry(id).or_default().clone()
    }

    pub fn wake(&self, id: LibraryId) {
        self.library(id).notify_one();
    }

    pub fn wake_all(&self) {
        for n in self.libraries.lock().expect("the wake-up map lock is never held across a panic").values() {
            n.notify_one();
        }
        self.topology.notify_one();
    }
}
