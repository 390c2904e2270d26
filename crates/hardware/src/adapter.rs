//! The adapter contract.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// A SCSI element address (SMC-3: 16 bits).
pub type ElementAddress = u16;

/// SMC-3 element types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ElementKind {
    /// Medium transport element (the robot's gripper), type code 1.
    Transport,
    /// Storage element (slot), type code 2.
    Storage,
    /// Import/export element (mail slot), type code 3.
    ImportExport,
    /// Data transfer element (drive), type code 4.
    DataTransfer,
}

/// SCSI sense data: key, additional sense code and qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SenseData {
    /// Sense key (0x2 NOT READY, 0x4 HARDWARE ERROR, 0x5 ILLEGAL REQUEST, 0x6 UNIT ATTENTION, ...).
    pub key: u8,
    /// Additional sense code.
    pub asc: u8,
    /// Additional sense code qualifier.
    pub ascq: u8,
}

impl SenseData {
    /// ILLEGAL REQUEST, MEDIUM SOURCE ELEMENT EMPTY (05/3B/0E).
    pub const SOURCE_EMPTY: SenseData = SenseData { key: 0x5, asc: 0x3B, ascq: 0x0E };
    /// ILLEGAL REQUEST, MEDIUM DESTINATION ELEMENT FULL (05/3B/0D).
    pub const DESTINATION_FULL: SenseData = SenseData { key: 0x5, asc: 0x3B, ascq: 0x0D };
    /// ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED (05/53/02).
    pub const REMOVAL_PREVENTED: SenseData = SenseData { key: 0x5, asc: 0x53, ascq: 0x02 };
    /// ILLEGAL REQUEST, INVALID ELEMENT ADDRESS (05/21/01).
    pub const INVALID_ELEMENT: SenseData = SenseData { key: 0x5, asc: 0x21, ascq: 0x01 };
    /// HARDWARE ERROR, MECHANICAL POSITIONING ERROR (04/15/01): the robot failed.
    pub const ROBOT_FAILURE: SenseData = SenseData { key: 0x4, asc: 0x15, ascq: 0x01 };
    /// HARDWARE ERROR, MEDIUM LOAD OR EJECT FAILED (04/53/00): the drive will not load or unload.
    pub const LOAD_EJECT_FAILED: SenseData = SenseData { key: 0x4, asc: 0x53, ascq: 0x00 };
    /// NOT READY, MEDIUM NOT PRESENT (02/3A/00).
    pub const MEDIUM_NOT_PRESENT: SenseData = SenseData { key: 0x2, asc: 0x3A, ascq: 0x00 };
    /// NOT READY, LOGICAL UNIT NOT READY, INITIALIZING COMMAND REQUIRED
    /// (02/04/02): a cartridge is in the drive but not loaded.
    pub const NOT_LOADED: SenseData = SenseData { key: 0x2, asc: 0x04, ascq: 0x02 };
    /// NOT READY, LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED
    /// (02/04/03): the door is open, so the robot does not move.
    pub const DOOR_OPEN: SenseData = SenseData { key: 0x2, asc: 0x04, ascq: 0x03 };
}

/// What an adapter reports when a device operation fails.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The device answered CHECK CONDITION with this sense data.
    #[error("{operation} failed: {}", rsm_scsi::explain(sense.key, sense.asc, sense.ascq))]
    Check {
        /// What was attempted, e.g. "MOVE MEDIUM 1000 -> 500".
        operation: String,
        /// The device's sense data.
        sense: SenseData,
    },
    /// The device cannot be reached (transport down, library gone).
    #[error("device not connected: {0}")]
    NotConnected(String),
    /// The adapter's own storage or transport failed.
    #[error("adapter I/O error: {0}")]
    Io(String),
}

impl AdapterError {
    /// The sense data, when the device gave any.
    pub fn sense(&self) -> Option<SenseData> {
        match self {
            AdapterError::Check { sense, .. } => Some(*sense),
            _ => None,
        }
    }
}

/// One element as READ ELEMENT STATUS reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementStatus {
    /// Address.
    pub address: ElementAddress,
    /// Type.
    pub kind: ElementKind,
    /// FULL bit: a medium is in the element.
    pub full: bool,
    /// Primary volume tag (bar code), when full and readable.
    pub barcode: Option<String>,
}

/// A robot and its drives, addressed by element.
///
/// Contract: each method returns only once the physical effect is complete
/// and is true in the device (for the simulator: persisted), so that a crash
/// after a return never loses a movement. A failed call leaves the device
/// in a state [`HardwareAdapter::element_status`] reports truthfully.
#[async_trait]
pub trait HardwareAdapter: Send + Sync {
    /// MOVE MEDIUM from `source` to `destination` with the transport.
    async fn move_medium(&self, source: ElementAddress, destination: ElementAddress) -> Result<(), AdapterError>;
    /// Waits for the drive to load the medium just placed in it and become ready.
    async fn load(&self, drive: ElementAddress) -> Result<(), AdapterError>;
    /// SSC LOAD UNLOAD (unload): the drive ejects the tape so the robot can take it.
    async fn unload(&self, drive: ElementAddress) -> Result<(), AdapterError>;
    /// READ ELEMENT STATUS of every element: the device's truth.
    async fn element_status(&self) -> Result<Vec<ElementStatus>, AdapterError>;
    /// Rewinds the tape loaded in `drive` and reads its first block, at
    /// most [`FIRST_BLOCK_MAX`] bytes of it; `None` when nothing is written
    /// (blank, or a filemark first). Leaves the tape rewound.
    async fn read_first_block(&self, drive: ElementAddress) -> Result<Option<Vec<u8>>, AdapterError>;
    /// Rewinds the tape loaded in `drive` and writes `block` as its first
    /// block, then a filemark (whatever followed is gone). Leaves the tape
    /// rewound.
    async fn write_first_block(&self, drive: ElementAddress, block: &[u8]) -> Result<(), AdapterError>;
    /// PREVENT ALLOW MEDIUM REMOVAL on the changer: `allow` unlocks its
    /// door for the operator, otherwise it is locked. A library whose door
    /// software cannot lock accepts both and changes nothing.
    async fn allow_medium_removal(&self, allow: bool) -> Result<(), AdapterError> {
        let _ = allow;
        Ok(())
    }
    /// Waits while `drive` cleans its heads with the cleaning cartridge just
    /// placed in it, until it has ejected the cartridge for the robot to
    /// take. A drive that cleans by itself on seeing the cartridge (most
    /// do) needs only its unload.
    async fn clean(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        self.unload(drive).await
    }
    /// The drives that said, since the last call, that they need cleaning
    /// (SCSI "cleaning requested"); a device that never says so answers none.
    async fn drives_needing_cleaning(&self) -> Result<Vec<ElementAddress>, AdapterError> {
        Ok(Vec::new())
    }
    /// True when the device said, since the last call, that its medium or
    /// elements may have changed (someone opened it, used its port): an
    /// inventory is due. A device that never says so answers false.
    async fn elements_changed(&self) -> Result<bool, AdapterError> {
        Ok(false)
    }
}

/// The most of a first block rsm reads: the usual largest tape block, and
/// far more than any label.
pub const FIRST_BLOCK_MAX: usize = 64 * 1024;
