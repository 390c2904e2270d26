//! Configuration that `decide` reads besides the state. It is not part of the
//! log: changing it changes what future commands may do, never the past.

use crate::limits;
use crate::objects::AccessMask;
use serde::{Deserialize, Serialize};

/// Rules of acceptance chosen by the operator of an engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Requests not yet finished allowed in one library's queue.
    pub queue_per_library_max: usize,
    /// The right DismountDrive needs: MODIFY (Windows Server 2003, the
    /// default) or CONTROL (the Windows XP rule, as a switch).
    pub dismount_drive_right: AccessMask,
}

impl Default for Policy {
    fn default() -> Self {
        Self { queue_per_library_max: limits::QUEUE_PER_LIBRARY_DEFAULT, dismount_drive_right: AccessMask::MODIFY }
    }
}

impl Policy {
    /// The Windows XP access rule: DismountDrive needs CONTROL access.
    pub fn windows_xp_rules(mut self) -> Self {
        self.dismount_drive_right = AccessMask::CONTROL;
        self
    }
}
