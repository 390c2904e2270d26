//! Configuration that `decide` reads besides the state. It is not part of the
//! log: changing it changes what future commands may do, never the past.

use crate::limits;
use crate::media_services::Pool;
use crate::objects::{AccessMask, Library};
use crate::state::State;
use serde::{Deserialize, Serialize};

/// Rules of acceptance chosen by the operator of an engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Requests not yet finished allowed in one library's queue.
    pub queue_per_library_max: usize,
    /// The right DismountDrive needs: MODIFY (Windows Server 2003, the
    /// default) or CONTROL (the Windows XP rule, as a switch).
    pub dismount_drive_right: AccessMask,
    /// The administrator: a principal who always holds every right on
    /// every library (spec §1.18: the creator and the local system account
    /// always have full access), so access can never be lost for good.
    pub administrator: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            queue_per_library_max: limits::QUEUE_PER_LIBRARY_DEFAULT,
            dismount_drive_right: AccessMask::MODIFY,
            administrator: None,
        }
    }
}

impl Policy {
    /// The rights `principal` holds on `library`: every right for the
    /// administrator, else what the library's access list grants.
    pub fn rights(&self, state: &State, library: &Library, principal: &str) -> AccessMask {
        if self.administrator.as_deref() == Some(principal) {
            AccessMask::ALL
        } else {
            state.rights(library, principal)
        }
    }

    /// The rights `principal` holds on `pool`: every right for the
    /// administrator and, on the system pools (free, import, unrecognized:
    /// rsm manages them, the libraries' own access guards the cartridges),
    /// for everyone; else what the pool's access list grants.
    pub fn pool_rights(&self, pool: &Pool, principal: &str) -> AccessMask {
        if self.administrator.as_deref() == Some(principal) || pool.is_system() {
            AccessMask::ALL
        } else {
            pool.access.get(principal).copied().unwrap_or_default()
        }
    }

    /// The rights `principal` holds on the computer: every right for the
    /// administrator, else what its access list grants, else USE and
    /// MODIFY ([`crate::COMPUTER_DEFAULT_RIGHTS`]).
    pub fn computer_rights(&self, state: &State, principal: &str) -> AccessMask {
        if self.administrator.as_deref() == Some(principal) {
            AccessMask::ALL
        } else {
            state.computer_access.get(principal).copied().unwrap_or(crate::object_management::COMPUTER_DEFAULT_RIGHTS)
        }
    }

    /// The Windows XP access rule: DismountDrive needs CONTROL access.
    pub fn windows_xp_rules(mut self) -> Self {
        self.dismount_drive_right = AccessMask::CONTROL;
        self
    }
}
