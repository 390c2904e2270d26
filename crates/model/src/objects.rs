//! The objects of a library and their NTMS states.

use crate::ids::*;
use crate::media_services::*;
use crate::ntms::ntms_values;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `NtmsLibraryType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LibraryKind {
    /// NTMS_LIBRARYTYPE_ONLINE (2): a robotic changer library.
    Changer,
    /// NTMS_LIBRARYTYPE_STANDALONE (3): one drive, no robot, no slots.
    Standalone,
}

ntms_values! {
    LibraryKind in "NtmsLibraryType" {
        Changer = 2 => "NTMS_LIBRARYTYPE_ONLINE",
        Standalone = 3 => "NTMS_LIBRARYTYPE_STANDALONE",
    }
}

/// `NtmsOperationalState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationalState {
    /// NTMS_READY (0).
    Ready,
    /// NTMS_NEEDS_SERVICE (20): failed, needs service.
    NeedsService,
    /// NTMS_NOT_PRESENT (21): known but not connected.
    NotPresent,
}

ntms_values! {
    OperationalState in "NtmsOperationalState" {
        Ready = 0 => "NTMS_READY",
        NeedsService = 20 => "NTMS_NEEDS_SERVICE",
        NotPresent = 21 => "NTMS_NOT_PRESENT",
    }
}

/// `NtmsDriveState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DriveState {
    /// NTMS_DRIVESTATE_DISMOUNTED (0): empty.
    Dismounted,
    /// NTMS_DRIVESTATE_MOUNTED (1): a medium is in the drive, not ready for I/O.
    Mounted,
    /// NTMS_DRIVESTATE_LOADED (2): a medium is in the drive and ready.
    Loaded,
    /// NTMS_DRIVESTATE_UNLOADED (5): unloaded, ready to be taken out.
    Unloaded,
    /// NTMS_DRIVESTATE_BEING_CLEANED (6).
    BeingCleaned,
    /// NTMS_DRIVESTATE_DISMOUNTABLE (7): released; may be removed at any time.
    Dismountable,
}

ntms_values! {
    DriveState in "NtmsDriveState" {
        Dismounted = 0 => "NTMS_DRIVESTATE_DISMOUNTED",
        Mounted = 1 => "NTMS_DRIVESTATE_MOUNTED",
        Loaded = 2 => "NTMS_DRIVESTATE_LOADED",
        Unloaded = 5 => "NTMS_DRIVESTATE_UNLOADED",
        BeingCleaned = 6 => "NTMS_DRIVESTATE_BEING_CLEANED",
        Dismountable = 7 => "NTMS_DRIVESTATE_DISMOUNTABLE",
    }
}

impl DriveState {
    /// True when the drive holds a data medium (DismountDrive rule 7).
    pub fn holds_data_medium(self) -> bool {
        matches!(self, DriveState::Mounted | DriveState::Loaded | DriveState::Unloaded | DriveState::Dismountable)
    }
}

/// `NtmsSlotState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlotState {
    /// NTMS_SLOTSTATE_FULL (1).
    Full,
    /// NTMS_SLOTSTATE_EMPTY (2).
    Empty,
    /// NTMS_SLOTSTATE_NOTPRESENT (3): its magazine is removed.
    NotPresent,
    /// NTMS_SLOTSTATE_NEEDSINVENTORY (4): the door was open, so the
    /// operator may have touched it; no request relies on it until an
    /// inventory settles it.
    NeedsInventory,
}

ntms_values! {
    SlotState in "NtmsSlotState" {
        Full = 1 => "NTMS_SLOTSTATE_FULL",
        Empty = 2 => "NTMS_SLOTSTATE_EMPTY",
        NotPresent = 3 => "NTMS_SLOTSTATE_NOTPRESENT",
        NeedsInventory = 4 => "NTMS_SLOTSTATE_NEEDSINVENTORY",
    }
}

/// `NtmsDoorState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoorState {
    /// NTMS_DOORSTATE_CLOSED (1).
    Closed,
    /// NTMS_DOORSTATE_OPEN (2): unlocked for the operator.
    Open,
}

ntms_values! {
    DoorState in "NtmsDoorState" {
        Closed = 1 => "NTMS_DOORSTATE_CLOSED",
        Open = 2 => "NTMS_DOORSTATE_OPEN",
    }
}

/// `NtmsInventoryMethod`: how a library takes its inventory (the stored
/// ones; NTMS_INVENTORY_SLOT and NTMS_INVENTORY_STOP are actions only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InventoryMethod {
    /// NTMS_INVENTORY_NONE (0): none (the views are trusted).
    None,
    /// NTMS_INVENTORY_FAST (1): the bar codes (READ ELEMENT STATUS).
    Fast,
    /// NTMS_INVENTORY_OMID (2): the bar codes, then every cartridge mounted
    /// and its label read.
    Omid,
    /// NTMS_INVENTORY_DEFAULT (3): the library's own method.
    Default,
}

ntms_values! {
    InventoryMethod in "NtmsInventoryMethod" {
        None = 0 => "NTMS_INVENTORY_NONE",
        Fast = 1 => "NTMS_INVENTORY_FAST",
        Omid = 2 => "NTMS_INVENTORY_OMID",
        Default = 3 => "NTMS_INVENTORY_DEFAULT",
    }
}

/// NTMS_INVENTORY_STOP: the dwAction of InventoryNtmsLibrary that stops
/// the running inventory (no method).
pub const INVENTORY_STOP: u32 = 5;

impl InventoryMethod {
    /// The method a dwAction (AccessNtmsLibraryDoor, InventoryNtmsLibrary)
    /// names, if it names one (NTMS_INVENTORY_SLOT and STOP name none).
    pub fn of_action(action: u32) -> Option<InventoryMethod> {
        InventoryMethod::ALL.iter().copied().find(|m| m.ntms_value() == action)
    }

    /// The method itself: DEFAULT resolved to the library's.
    pub fn resolved(self, library_default: InventoryMethod) -> InventoryMethod {
        match self {
            InventoryMethod::Default => library_default,
            m => m,
        }
    }
}

/// A library's door (`NTMS_IEDOORINFORMATION`): one per changer library,
/// named by its library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Door {
    /// Open (unlocked for the operator) or closed.
    pub state: DoorState,
    /// MaxOpenSecs: open longer than this, an operator request to close it is raised.
    pub max_open_secs: u16,
    /// AccessNtmsLibraryDoor waits for the robot to be idle: the inventory
    /// it chose, until the door unlocks.
    pub access_pending: Option<InventoryMethod>,
    /// The inventory to take once the door closes (resolved: never DEFAULT).
    pub inventory_after: InventoryMethod,
    /// When it was unlocked (ms since the epoch).
    pub opened_ms: Option<u64>,
    /// The operator request "close the door" raised past MaxOpenSecs.
    pub close_request: Option<OperatorRequestId>,
}

/// MaxOpenSecs of a new door (rsm rule: five minutes).
pub const DOOR_MAX_OPEN_SECS_DEFAULT: u16 = 300;

impl Door {
    /// A closed door with the default MaxOpenSecs.
    pub fn closed() -> Self {
        Self {
            state: DoorState::Closed,
            max_open_secs: DOOR_MAX_OPEN_SECS_DEFAULT,
            access_pending: None,
            inventory_after: InventoryMethod::None,
            opened_ms: None,
            close_request: None,
        }
    }
}

/// `NtmsMediaState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaState {
    /// NTMS_MEDIASTATE_IDLE (0).
    Idle,
    /// NTMS_MEDIASTATE_INUSE (1): a request that moves it was accepted.
    InUse,
    /// NTMS_MEDIASTATE_MOUNTED (2).
    Mounted,
    /// NTMS_MEDIASTATE_LOADED (3).
    Loaded,
    /// NTMS_MEDIASTATE_UNLOADED (4).
    Unloaded,
    /// NTMS_MEDIASTATE_OPERROR (5).
    OpError,
}

ntms_values! {
    MediaState in "NtmsMediaState" {
        Idle = 0 => "NTMS_MEDIASTATE_IDLE",
        InUse = 1 => "NTMS_MEDIASTATE_INUSE",
        Mounted = 2 => "NTMS_MEDIASTATE_MOUNTED",
        Loaded = 3 => "NTMS_MEDIASTATE_LOADED",
        Unloaded = 4 => "NTMS_MEDIASTATE_UNLOADED",
        OpError = 5 => "NTMS_MEDIASTATE_OPERROR",
    }
}

/// `NtmsLmState`: where a library request is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestState {
    /// NTMS_LM_QUEUED (0).
    Queued,
    /// NTMS_LM_INPROCESS (1).
    InProcess,
    /// NTMS_LM_PASSED (2).
    Passed,
    /// NTMS_LM_FAILED (3).
    Failed,
    /// NTMS_LM_CANCELLED (7).
    Cancelled,
    /// NTMS_LM_WAITING (5): a mount accepted while no drive could take it;
    /// it is given one as one frees up (no drive is promised to it before).
    Waiting,
    /// NTMS_LM_STOPPED (8): stopped before it started (NTMS_INVENTORY_STOP).
    Stopped,
}

ntms_values! {
    RequestState in "NtmsLmState" {
        Queued = 0 => "NTMS_LM_QUEUED",
        InProcess = 1 => "NTMS_LM_INPROCESS",
        Passed = 2 => "NTMS_LM_PASSED",
        Failed = 3 => "NTMS_LM_FAILED",
        Cancelled = 7 => "NTMS_LM_CANCELLED",
        Waiting = 5 => "NTMS_LM_WAITING",
        Stopped = 8 => "NTMS_LM_STOPPED",
    }
}

impl RequestState {
    /// True once the request can change no more.
    pub fn is_terminal(self) -> bool {
        matches!(self, RequestState::Passed | RequestState::Failed | RequestState::Cancelled | RequestState::Stopped)
    }
}

/// Where a request in process is in its physical work. The robot is needed
/// only while moving a cartridge; a drive loads or unloads on its own, so
/// the robot serves another request meanwhile (spec §5.3: keep it busy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestPhase {
    /// Mount: the robot carries the cartridge from its slot to the drive;
    /// eject and inject: between its slot and the port (their one phase).
    Moving,
    /// Mount: the cartridge is in the drive, which loads it.
    Loading,
    /// Dismount: the drive unloads (rewinds and ejects) the tape.
    Unloading,
    /// Dismount: unloaded, waiting for the robot.
    AwaitingRobot,
    /// Dismount: the robot carries the cartridge from the drive to its slot.
    Stowing,
    /// Classification and free-label requests: the loaded drive reads or
    /// writes the side's first block (between Loading and Unloading).
    Labelling,
    /// Cleaning: the cleaner is in the drive, which cleans its heads and
    /// ejects it (then the cleaner waits for the robot).
    Cleaning,
}

impl RequestPhase {
    /// True while the phase holds the library's robot.
    pub fn uses_robot(self) -> bool {
        matches!(self, RequestPhase::Moving | RequestPhase::Stowing)
    }
}

/// `NtmsLmOperation`: the kind of a library request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestKind {
    /// NTMS_LM_MOUNT (17).
    Mount,
    /// NTMS_LM_DISMOUNT (16).
    Dismount,
    /// NTMS_LM_EJECT (10): a cartridge leaves through an import/export port.
    Eject,
    /// NTMS_LM_INJECT (12): a cartridge comes in through an import/export port.
    Inject,
    /// NTMS_LM_CLASSIFY (19): a new cartridge is mounted, its first block
    /// read and classified (spec §7.2), and it goes home.
    Classify,
    /// NTMS_LM_WRITESCRATCH (18): rsm's free-media label is written on an
    /// UNPREPARED cartridge, whose sides become AVAILABLE.
    WriteScratch,
    /// NTMS_LM_CLEANDRIVE (15): the cleaner goes into the drive, the drive
    /// cleans, the cleaner goes back to its slot.
    Clean,
    /// NTMS_LM_INJECTCLEANER (13): a cleaner comes in through a port, to
    /// the cleaner slot.
    InjectCleaner,
    /// NTMS_LM_EJECTCLEANER (11): the cleaner leaves through a port.
    EjectCleaner,
}

ntms_values! {
    RequestKind in "NtmsLmOperation" {
        Mount = 17 => "NTMS_LM_MOUNT",
        Dismount = 16 => "NTMS_LM_DISMOUNT",
        Eject = 10 => "NTMS_LM_EJECT",
        Inject = 12 => "NTMS_LM_INJECT",
        Classify = 19 => "NTMS_LM_CLASSIFY",
        WriteScratch = 18 => "NTMS_LM_WRITESCRATCH",
        Clean = 15 => "NTMS_LM_CLEANDRIVE",
        InjectCleaner = 13 => "NTMS_LM_INJECTCLEANER",
        EjectCleaner = 11 => "NTMS_LM_EJECTCLEANER",
    }
}

impl RequestKind {
    /// A short lowercase name, for views and metrics.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Mount => "mount",
            RequestKind::Dismount => "dismount",
            RequestKind::Eject => "eject",
            RequestKind::Inject => "inject",
            RequestKind::Classify => "classify",
            RequestKind::WriteScratch => "write-scratch",
            RequestKind::Clean => "clean",
            RequestKind::InjectCleaner => "inject-cleaner",
            RequestKind::EjectCleaner => "eject-cleaner",
        }
    }

    /// Dispatch class (spec §5.3 rule 1): dismounts, then ejects and
    /// injects (cleaners too), then cleanings, then mounts, then
    /// classification and free labels.
    pub fn dispatch_class(self) -> u8 {
        match self {
            RequestKind::Dismount => 2,
            RequestKind::Eject | RequestKind::Inject | RequestKind::InjectCleaner | RequestKind::EjectCleaner => 3,
            RequestKind::Clean => 4,
            RequestKind::Mount => 5,
            RequestKind::Classify | RequestKind::WriteScratch => 6,
        }
    }

    /// True when `phase` is the kind's last physical step, whose success
    /// completes the request (a mount's load, a dismount's or a label
    /// request's move home, the one move of an eject or inject); any other
    /// step's success advances it.
    pub fn last_step(self, phase: RequestPhase) -> bool {
        match self {
            RequestKind::Mount => phase == RequestPhase::Loading,
            RequestKind::Dismount | RequestKind::Classify | RequestKind::WriteScratch | RequestKind::Clean => {
                phase == RequestPhase::Stowing
            }
            RequestKind::Eject | RequestKind::Inject | RequestKind::InjectCleaner | RequestKind::EjectCleaner => {
                phase == RequestPhase::Moving
            }
        }
    }

    /// True for the kinds that mount a cartridge to read or write its
    /// first block and take it home again.
    pub fn labels(self) -> bool {
        matches!(self, RequestKind::Classify | RequestKind::WriteScratch)
    }

    /// True for the kinds that pass through an import/export port.
    pub fn uses_port(self) -> bool {
        matches!(
            self,
            RequestKind::Eject | RequestKind::Inject | RequestKind::InjectCleaner | RequestKind::EjectCleaner
        )
    }

    /// True for the kinds that carry a cartridge out of the library
    /// through a port (its slot to the port).
    pub fn leaves(self) -> bool {
        matches!(self, RequestKind::Eject | RequestKind::EjectCleaner)
    }

    /// True for the kinds that carry a cartridge in through a port.
    pub fn enters(self) -> bool {
        matches!(self, RequestKind::Inject | RequestKind::InjectCleaner)
    }
}

/// Why a dismount was asked for: recorded for the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DismountOrigin {
    /// DismountDrive.
    Drive,
    /// DismountMedia with the immediate option.
    Media,
    /// A deferred dismount whose delay expired.
    DeferredExpiry,
    /// A mount chose a drive holding another, released medium.
    MakeRoom,
    /// Re-queued after crash reconciliation found it not done.
    Requeued,
    /// The drive was disabled holding a cartridge nobody held: emptied
    /// (EnableNtmsObject's rule), the one request a disabled drive runs.
    Disabled,
}

/// Rights in an access mask (`NtmsAccessMask`); each is an independent bit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessMask(pub u8);

impl AccessMask {
    /// NTMS_USE_ACCESS.
    pub const USE: AccessMask = AccessMask(0x1);
    /// NTMS_MODIFY_ACCESS.
    pub const MODIFY: AccessMask = AccessMask(0x2);
    /// NTMS_CONTROL_ACCESS.
    pub const CONTROL: AccessMask = AccessMask(0x4);
    /// Every right.
    pub const ALL: AccessMask = AccessMask(0x7);

    /// True when every bit of `right` is granted.
    pub fn allows(self, right: AccessMask) -> bool {
        self.0 & right.0 == right.0 && right.0 != 0
    }

    /// The union of two masks.
    pub fn with(self, other: AccessMask) -> AccessMask {
        AccessMask(self.0 | other.0)
    }

    /// `self` less the bits of `other`.
    pub fn without(self, other: AccessMask) -> AccessMask {
        AccessMask(self.0 & !other.0)
    }

    /// Readable names of the granted rights.
    pub fn names(self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.0 & 1 != 0 {
            out.push("use");
        }
        if self.0 & 2 != 0 {
            out.push("modify");
        }
        if self.0 & 4 != 0 {
            out.push("control");
        }
        out
    }
}

/// A reference to any addressable object, for enable/disable and names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ObjectRef {
    /// A library.
    Library(LibraryId),
    /// A drive.
    Drive(DriveId),
    /// A storage slot.
    Slot(SlotId),
    /// An import/export port.
    Port(PortId),
    /// A physical medium.
    Media(MediaId),
    /// A media pool.
    Pool(PoolId),
    /// A side of a medium.
    Side(SideId),
    /// A logical medium.
    LogicalMedia(LogicalMediaId),
    /// A media type of the catalog.
    MediaType(MediaTypeId),
    /// A library request.
    Request(RequestId),
    /// An operator request.
    OperatorRequest(OperatorRequestId),
    /// The computer: the server itself.
    Computer,
}

/// Where a medium is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Location {
    /// In a storage slot.
    Slot(SlotId),
    /// In a drive.
    Drive(DriveId),
    /// In an import/export port.
    Port(PortId),
    /// On a shelf outside any device (the offline library).
    Offline,
}

/// An open (or closed) session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The session id (handle).
    pub id: SessionId,
    /// Who opened it; stamped on everything it causes.
    pub principal: String,
    /// The application name (NTMS default "RSM").
    pub application: String,
    /// False once closed: a closed handle answers ERROR_INVALID_HANDLE.
    pub open: bool,
}

impl Session {
    /// A session just opened.
    pub fn new(id: SessionId, principal: &str, application: &str) -> Self {
        Self { id, principal: principal.to_string(), application: application.to_string(), open: true }
    }
}

/// A library.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    /// Id.
    pub id: LibraryId,
    /// Unique human name.
    pub name: String,
    /// Changer or stand-alone.
    pub kind: LibraryKind,
    /// The Enabled flag.
    pub enabled: bool,
    /// Operational state.
    pub operational: OperationalState,
    /// Drives, in element order.
    pub drives: Vec<DriveId>,
    /// Storage slots, in element order.
    pub slots: Vec<SlotId>,
    /// Import/export ports, in element order.
    pub ports: Vec<PortId>,
    /// Rights per principal (the library's security descriptor).
    pub access: BTreeMap<String, AccessMask>,
    /// Requests not yet terminal, in acceptance order: the queue.
    pub active_requests: Vec<RequestId>,
    /// The request whose cartridge the robot is carrying, if any.
    pub robot: Option<RequestId>,
    /// Seconds a deferred dismount leaves a medium in a drive.
    pub defer_dismount_delay_s: u32,
    /// Deletion began: the library is no longer valid for any command.
    pub deleting: bool,
    /// The real device behind it (an `iscsi://` URL or a `/dev/sgN` path); none for a simulated library.
    pub device: Option<String>,
    /// The media type cartridges that arrive are taken to be.
    pub media_type: MediaTypeId,
    /// The media types it handles (AddNtmsMediaType).
    pub media_types: std::collections::BTreeSet<MediaTypeId>,
    /// Its queued and waiting mounts in the order they are served (spec
    /// §5.3: the order numbers 1..n), each with its round (see
    /// `apply/mount_order.rs`).
    pub mount_order: Vec<(RequestId, u64)>,
    /// Its door (changers only).
    pub door: Option<Door>,
    /// Its InventoryMethod: what NTMS_INVENTORY_DEFAULT means (FAST or OMID).
    pub inventory_method: InventoryMethod,
    /// Slots wait for an inventory (NEEDSINVENTORY) since the door was open.
    pub inventory_due: bool,
    /// CleanerSlot: the slot reserved for the cleaning cartridge
    /// (ReserveNtmsCleanerSlot); no data cartridge is homed there.
    pub cleaner_slot: Option<SlotId>,
    /// The cleaner: the cartridge whose home is the cleaner slot
    /// (NTMS_LIBRARYFLAG_CLEANERPRESENT while it is known).
    pub cleaner: Option<MediaId>,
    /// dwCleanerUsesRemaining: cleanings the cleaner has left;
    /// [`CLEANER_USES_UNLIMITED`] means until it stops working.
    pub cleaner_uses_remaining: u32,
    /// InjectNtmsCleaner's dwNumberOfCleansLeft, until the cleaner it
    /// announced is in its slot.
    pub cleaner_expected: Option<u32>,
}

/// dwCleanerUsesRemaining 0xFFFFFFFF: the cleaner is used until it stops
/// working (NTMS_LIBRARYFLAG_IGNORECLEANERUSESREMAINING).
pub const CLEANER_USES_UNLIMITED: u32 = u32::MAX;

impl Library {
    /// A new library, enabled and ready, with no elements yet; its creator
    /// holds every right on it.
    pub fn new(
        id: LibraryId,
        name: &str,
        kind: LibraryKind,
        defer_dismount_delay_s: u32,
        creator: &str,
        media_type: MediaTypeId,
    ) -> Self {
        Self {
            id,
            name: name.to_string(),
            kind,
            enabled: true,
            operational: OperationalState::Ready,
            drives: Vec::new(),
            slots: Vec::new(),
            ports: Vec::new(),
            access: [(creator.to_string(), AccessMask::ALL)].into_iter().collect(),
            active_requests: Vec::new(),
            robot: None,
            defer_dismount_delay_s,
            deleting: false,
            device: None,
            media_type,
            media_types: [media_type].into_iter().collect(),
            mount_order: Vec::new(),
            door: (kind == LibraryKind::Changer).then(Door::closed),
            inventory_method: InventoryMethod::Fast,
            inventory_due: false,
            cleaner_slot: None,
            cleaner: None,
            cleaner_uses_remaining: 0,
            cleaner_expected: None,
        }
    }

    /// True while its door is open or waits to be unlocked, or an
    /// inventory must settle slots the operator may have touched: the
    /// robot starts no new work then.
    pub fn robot_held(&self) -> bool {
        self.inventory_due || self.door_open() || self.door.as_ref().is_some_and(|d| d.access_pending.is_some())
    }

    /// True for a slot data cartridges may call home: any but the cleaner slot.
    pub fn data_slot(&self, slot: SlotId) -> bool {
        self.cleaner_slot != Some(slot)
    }

    /// True while its door is open.
    pub fn door_open(&self) -> bool {
        self.door.as_ref().is_some_and(|d| d.state == DoorState::Open)
    }

    /// `NtmsLibraryFlags` as the server keeps them: CLEANERPRESENT while a
    /// cleaner is known, IGNORECLEANERUSESREMAINING while its uses are
    /// unlimited.
    pub fn flags(&self) -> u32 {
        let mut flags = 0;
        if self.cleaner.is_some() {
            flags |= LIBRARY_FLAG_CLEANER_PRESENT;
            if self.cleaner_uses_remaining == CLEANER_USES_UNLIMITED {
                flags |= LIBRARY_FLAG_IGNORE_CLEANER_USES_REMAINING;
            }
        }
        flags
    }
}

/// NTMS_LIBRARYFLAG_CLEANERPRESENT.
pub const LIBRARY_FLAG_CLEANER_PRESENT: u32 = 0x02;
/// NTMS_LIBRARYFLAG_IGNORECLEANERUSESREMAINING.
pub const LIBRARY_FLAG_IGNORE_CLEANER_USES_REMAINING: u32 = 0x08;

/// CleanNtmsDrive accepted for a drive: it is cleaned once it is empty and
/// a usable cleaner is in its slot (then the NTMS_LM_CLEANDRIVE request is
/// queued); meanwhile an NTMS_OPREQ_CLEANER may ask for a cleaner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleaningWanted {
    /// Who asked (the server itself when the drive reported it).
    pub submitter: String,
    /// When it was asked, ms since the epoch.
    pub since_ms: u64,
    /// The open operator request asking for a cleaner, if one was raised.
    pub operator_request: Option<OperatorRequestId>,
}

/// A drive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drive {
    /// Id.
    pub id: DriveId,
    /// Unique human name.
    pub name: String,
    /// Owning library.
    pub library: LibraryId,
    /// SCSI element address of the data transfer element.
    pub element_address: u16,
    /// The Enabled flag.
    pub enabled: bool,
    /// Operational state.
    pub operational: OperationalState,
    /// NTMS drive state.
    pub state: DriveState,
    /// The medium inside, if any.
    pub medium: Option<MediaId>,
    /// The session that mounted the medium and has not released it ("opened").
    pub holder: Option<SessionId>,
    /// The one request promised this drive now.
    pub reserved_by: Option<RequestId>,
    /// A mount promised the drive next: it waits for the dismount in
    /// `reserved_by` that makes room for it (spec §5.3 rule 5).
    pub next_reserved_by: Option<RequestId>,
    /// When a deferred dismount expires (ms since the epoch).
    pub dismount_deadline_ms: Option<u64>,
    /// Mounts over the drive's life.
    pub mount_count: u64,
    /// Its drive type: the media type it writes natively (it reads what
    /// [`MediaType::readable_by`] allows).
    pub media_type: MediaTypeId,
    /// Its own dwDeferDismountDelay in seconds, if one was set (else its
    /// library's).
    pub defer_dismount_delay_s: Option<u32>,
    /// LastCleanedTs: when its last cleaning ended, ms since the epoch.
    pub last_cleaned_ms: Option<u64>,
    /// A cleaning asked for and not yet queued.
    pub cleaning_wanted: Option<CleaningWanted>,
}

impl Drive {
    /// A new drive, enabled, ready and empty.
    pub fn new(id: DriveId, name: &str, library: LibraryId, element_address: u16, media_type: MediaTypeId) -> Self {
        Self {
            id,
            name: name.to_string(),
            library,
            element_address,
            enabled: true,
            operational: OperationalState::Ready,
            state: DriveState::Dismounted,
            medium: None,
            holder: None,
            reserved_by: None,
            next_reserved_by: None,
            dismount_deadline_ms: None,
            mount_count: 0,
            media_type,
            defer_dismount_delay_s: None,
            last_cleaned_ms: None,
            cleaning_wanted: None,
        }
    }
}

/// A storage slot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Id.
    pub id: SlotId,
    /// Unique human name.
    pub name: String,
    /// Owning library.
    pub library: LibraryId,
    /// SCSI element address.
    pub element_address: u16,
    /// NTMS slot state.
    pub state: SlotState,
    /// The medium inside, if any.
    pub content: Option<MediaId>,
    /// The medium whose home this slot is: reserved for it while it is out.
    pub home_of: Option<MediaId>,
}

impl Slot {
    /// A new slot, empty and nobody's home.
    pub fn new(id: SlotId, name: &str, library: LibraryId, element_address: u16) -> Self {
        Self {
            id,
            name: name.to_string(),
            library,
            element_address,
            state: SlotState::Empty,
            content: None,
            home_of: None,
        }
    }
}

/// An import/export port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    /// Id.
    pub id: PortId,
    /// Unique human name.
    pub name: String,
    /// Owning library.
    pub library: LibraryId,
    /// SCSI element address.
    pub element_address: u16,
    /// The medium inside, if any.
    pub content: Option<MediaId>,
    /// The eject or inject promised this port.
    pub reserved_by: Option<RequestId>,
    /// A reading found something in the port that the catalog does not
    /// hold (an unlabeled cartridge, another library's): the port is full
    /// though no medium of this library is in it. Cleared by a reading
    /// that finds it empty, or a cartridge placed there.
    pub stranger: bool,
}

impl Port {
    /// A new port, empty and promised to nobody.
    pub fn new(id: PortId, name: &str, library: LibraryId, element_address: u16) -> Self {
        Self { id, name: name.to_string(), library, element_address, content: None, reserved_by: None, stranger: false }
    }
}

/// A physical medium.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Medium {
    /// Id.
    pub id: MediaId,
    /// Bar code (unique).
    pub barcode: String,
    /// The library it belongs to.
    pub library: LibraryId,
    /// Home slot in a changer library.
    pub home_slot: Option<SlotId>,
    /// Where it is.
    pub location: Location,
    /// NTMS media state.
    pub state: MediaState,
    /// The Enabled flag.
    pub enabled: bool,
    /// The request that will move it, if any (at most one at a time).
    pub pending_request: Option<RequestId>,
    /// Its media type.
    pub media_type: MediaTypeId,
    /// The pool that owns it (and all its sides).
    pub pool: PoolId,
    /// Its sides, by number (as many as its type has).
    pub sides: Vec<Side>,
    /// The server-assigned sequence number (`szSequenceNumber`): the order
    /// in which rsm came to know its media, 1 for the first.
    pub sequence: u64,
}

impl Medium {
    /// A medium just known: offline (placed by the event that made it),
    /// idle, enabled, without a home slot or a pending request; of
    /// `media_type`, in its free pool with every side available (rsm's
    /// simulated and read cartridges arrive prepared).
    pub fn new(id: MediaId, barcode: &str, library: LibraryId, media_type: &MediaType) -> Self {
        Self {
            id,
            barcode: barcode.to_string(),
            library,
            home_slot: None,
            location: Location::Offline,
            state: MediaState::Idle,
            enabled: true,
            pending_request: None,
            media_type: media_type.id,
            pool: SystemPools::of(media_type.id).free,
            sides: (0..media_type.sides).map(|n| Side::new(n, SideState::Available)).collect(),
            sequence: 0,
        }
    }

    /// Side `number`'s id.
    pub fn side_id(&self, number: u8) -> SideId {
        SideId::of(self.id, number)
    }

    /// True for a cleaning cartridge: the one medium with no sides (every
    /// media type has at least one), never allocated, mounted or ejected
    /// by the data functions.
    pub fn is_cleaner(&self) -> bool {
        self.sides.is_empty()
    }
}

/// A library request (`NTMS_LIBREQUEST`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryRequest {
    /// Id (also the correlation id of the command that made it).
    pub id: RequestId,
    /// Library.
    pub library: LibraryId,
    /// Operation.
    pub kind: RequestKind,
    /// State.
    pub state: RequestState,
    /// Where the physical work is while in process.
    pub phase: Option<RequestPhase>,
    /// Mount priority, -15..15 (0 for other kinds).
    pub priority: i8,
    /// Acceptance order within the whole engine.
    pub order: u64,
    /// The drive served (mounts and dismounts; none for ejects and injects).
    pub drive: Option<DriveId>,
    /// The medium served.
    pub media: MediaId,
    /// The slot served (the source of a mount or an eject, the destination
    /// of a dismount or an inject).
    pub slot: Option<SlotId>,
    /// The session that will hold the medium (mounts).
    pub session: Option<SessionId>,
    /// Who submitted it.
    pub submitter: String,
    /// Write access asked (mounts).
    pub write: bool,
    /// Why a dismount was asked.
    pub origin: Option<DismountOrigin>,
    /// When it was queued, ms since the epoch.
    pub time_queued_ms: u64,
    /// When it ended, ms since the epoch.
    pub time_completed_ms: Option<u64>,
    /// The failure code when failed or cancelled.
    pub error: Option<ErrorCodeValue>,
    /// Device sense data of a hardware failure.
    pub sense: Option<Sense>,
    /// The import/export port served (the destination of an eject, the
    /// source of an inject).
    pub port: Option<PortId>,
}

impl LibraryRequest {
    /// True for the work the server queues itself when cartridges arrive:
    /// classifications, free labels, and the dismounts that take their
    /// cartridges home after a step was cut short.
    pub fn is_arrival_work(&self) -> bool {
        self.kind.labels()
            || (self.kind == RequestKind::Dismount
                && self.submitter == crate::decide::SERVER_PRINCIPAL
                && self.origin == Some(DismountOrigin::Requeued))
    }

    /// A request just queued: priority 0, no drive, slot, port or session
    /// yet (the command that makes it fills in what its kind needs).
    pub fn new(
        id: RequestId,
        kind: RequestKind,
        library: LibraryId,
        media: MediaId,
        submitter: &str,
        time_queued_ms: u64,
    ) -> Self {
        Self {
            id,
            library,
            kind,
            state: RequestState::Queued,
            phase: None,
            priority: 0,
            order: 0,
            drive: None,
            media,
            slot: None,
            session: None,
            submitter: submitter.to_string(),
            write: false,
            origin: None,
            time_queued_ms,
            time_completed_ms: None,
            error: None,
            sense: None,
            port: None,
        }
    }
}

/// A Win32 code as stored in a request (`dwErrorCode`).
pub type ErrorCodeValue = u32;

/// SCSI sense data carried by a hardware failure, for the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sense {
    /// Sense key.
    pub key: u8,
    /// Additional sense code.
    pub asc: u8,
    /// Additional sense code qualifier.
    pub ascq: u8,
}
