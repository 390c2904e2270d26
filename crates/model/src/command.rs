//! Commands: what callers (and workers) ask the engine to do.

use crate::ids::*;
use crate::media_services::*;
use crate::objects::*;
use serde::{Deserialize, Serialize};

/// A command with everything `decide` may know about the outside world,
/// stamped once by the sequencer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped<C> {
    /// Milliseconds since the epoch, from the sequencer's clock.
    pub at_ms: u64,
    /// The correlation id; also the id of a library request the command makes,
    /// and the seed of any object ids it mints (see [`derive_id`]).
    pub request: RequestId,
    /// The command.
    pub command: C,
}

/// The shape of a library to create (the topology that inventory will later find).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibrarySpec {
    /// Unique name; drives are named `NAME-drive-N`, slots `NAME-slot-N`, ports `NAME-port-N`.
    pub name: String,
    /// Changer or stand-alone.
    pub kind: LibraryKind,
    /// Number of drives (exactly 1 for a stand-alone library).
    pub drives: u16,
    /// Number of storage slots (0 for a stand-alone library).
    pub slots: u32,
    /// Number of import/export ports.
    pub ie_ports: u16,
    /// Bar codes of the cartridges; in a changer they fill slots 1.. in order,
    /// at a stand-alone drive they start on the shelf.
    pub barcodes: Vec<String>,
    /// The media type of its cartridges and drives.
    pub media_type: MediaTypeId,
    /// Those of `barcodes` whose on-media label is not known: they arrive
    /// UNKNOWN and are classified by reading their first block (§7.2);
    /// the others arrive as prepared free media.
    pub unlabelled: Vec<String>,
}

/// The elements a real changer reported at attach (READ ELEMENT STATUS):
/// each element's address and the bar code of the cartridge found there
/// (`None`: empty). Elements holding a cartridge without a readable bar code
/// are left out by the caller: rsm can neither name the cartridge nor use
/// the element, so it does not manage it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementLayout {
    /// Data transfer elements, in address order.
    pub drives: Vec<(u16, Option<String>)>,
    /// Storage elements, in address order.
    pub slots: Vec<(u16, Option<String>)>,
    /// Import/export elements, in address order.
    pub ports: Vec<(u16, Option<String>)>,
    /// The media type of its cartridges and drives, when the device or the
    /// operator said (else [`crate::DEFAULT_MEDIA_TYPE`]).
    pub media_type: Option<MediaTypeId>,
}

/// Options of a mount (`NtmsMountOptions` that apply here).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountOptions {
    /// NTMS_MOUNT_SPECIFIC_DRIVE: use this drive.
    pub drive: Option<DriveId>,
    /// NTMS_MOUNT_WRITE.
    pub write: bool,
    /// Priority, -15..15.
    pub priority: i8,
    /// NTMS_MOUNT_ERROR_NOT_AVAILABLE: ERROR_BUSY at once rather than wait
    /// when every usable drive (or the named one) is busy.
    pub no_wait_if_busy: bool,
    /// Milliseconds the mount may wait before it starts; past it a waiting
    /// mount fails with ERROR_BUSY, a queued one with ERROR_TIMEOUT (none:
    /// INFINITE).
    pub timeout_ms: Option<u64>,
    /// NTMS_MOUNT_ERROR_OFFLINE: ERROR_MEDIA_OFFLINE at once for an
    /// offline medium, rather than an operator request to bring it.
    pub error_if_offline: bool,
}

/// What the hardware showed about a medium after a request, in object terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observed {
    /// The adapter did not say (the medium stays where the projection had it).
    Unknown,
    /// The medium is in this slot.
    Slot(SlotId),
    /// The medium is in this drive.
    Drive(DriveId),
    /// The medium was not found anywhere in the library.
    Missing,
    // New variants go last (bincode numbers variants by position).
    /// The medium is in this import/export port.
    Port(PortId),
}

/// What READ ELEMENT STATUS showed at one element, for an inventory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Seen {
    /// The element is empty.
    Empty,
    /// A cartridge with this bar code.
    Cartridge(String),
    /// A cartridge whose bar code could not be read (or is not a valid bar code).
    Unlabeled,
}

/// Everything the engine can be asked to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// OpenNtmsSession.
    OpenSession {
        /// Who.
        principal: String,
        /// Application name; empty means "RSM".
        application: String,
    },
    /// CloseNtmsSession: cancels its queued mounts and releases its holds (deferred).
    CloseSession {
        /// Session.
        session: SessionId,
    },
    /// Creates a library with its drives, slots, ports and cartridges.
    CreateLibrary {
        /// Session.
        session: SessionId,
        /// Topology.
        spec: LibrarySpec,
    },
    /// MountNtmsMedia for one cartridge.
    MountMedia {
        /// Session.
        session: SessionId,
        /// The cartridge.
        media: MediaId,
        /// Options.
        options: MountOptions,
    },
    /// MountNtmsMedia for several cartridges at once: one request each, all
    /// accepted or none.
    MountMediaSet {
        /// Session.
        session: SessionId,
        /// The cartridges, no two alike.
        media: Vec<MediaId>,
        /// A drive for each (NTMS_MOUNT_SPECIFIC_DRIVE), or none at all.
        drives: Vec<DriveId>,
        /// Options (their `drive` is ignored: `drives` names them).
        options: MountOptions,
    },
    /// DismountNtmsMedia for several cartridges at once: all or none.
    DismountMediaSet {
        /// Session.
        session: SessionId,
        /// The cartridges, no two alike.
        media: Vec<MediaId>,
        /// NTMS_DISMOUNT_DEFERRED rather than IMMEDIATE.
        deferred: bool,
    },
    /// DismountNtmsMedia for one cartridge.
    DismountMedia {
        /// Session.
        session: SessionId,
        /// The cartridge.
        media: MediaId,
        /// NTMS_DISMOUNT_DEFERRED rather than IMMEDIATE.
        deferred: bool,
    },
    /// DismountNtmsDrive.
    DismountDrive {
        /// Session.
        session: SessionId,
        /// The drive.
        drive: DriveId,
    },
    /// EnableNtmsObject / DisableNtmsObject.
    SetEnabled {
        /// Session.
        session: SessionId,
        /// A library, drive or medium.
        object: ObjectRef,
        /// Enable (true) or disable (false).
        enabled: bool,
    },
    /// Grants rights on a library to a principal.
    GrantAccess {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// Grantee.
        principal: String,
        /// Rights added.
        rights: AccessMask,
    },
    /// Revokes rights on a library from a principal.
    RevokeAccess {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// Principal.
        principal: String,
        /// Rights removed.
        rights: AccessMask,
    },
    /// DeleteNtmsLibrary: the library must be disabled first (or be stand-alone).
    DeleteLibrary {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
    },
    /// The operator put a cartridge into a stand-alone drive.
    OperatorInsert {
        /// Session of the operator.
        session: SessionId,
        /// The drive.
        drive: DriveId,
        /// Bar code of the cartridge (a new medium when unknown).
        barcode: String,
    },
    /// The operator took the cartridge out of a stand-alone drive.
    OperatorRemove {
        /// Session of the operator.
        session: SessionId,
        /// The drive.
        drive: DriveId,
    },
    /// Worker: start the next dispatchable request of a library, if any.
    StartNext {
        /// Library.
        library: LibraryId,
    },
    /// Worker: the current phase's physical step is done (a mount's move, a
    /// dismount's unload); the request goes on to its next phase.
    AdvanceRequest {
        /// Request.
        request: RequestId,
    },
    /// Worker: a classification request's drive read the first block of
    /// its cartridge (none: nothing is written on it).
    ReportFirstBlock {
        /// Request.
        request: RequestId,
        /// The block, at most [`crate::LABEL_BYTES_MAX`] bytes of it.
        block: Option<Vec<u8>>,
    },
    /// Worker: the adapter finished the request's last step (a mount's load, a dismount's move home).
    CompleteRequest {
        /// Request.
        request: RequestId,
    },
    /// Worker: the adapter failed; objects follow what it observed.
    FailRequest {
        /// Request.
        request: RequestId,
        /// NTMS code mapped from the device's failure.
        error: ErrorCode,
        /// Device sense data.
        sense: Option<Sense>,
        /// Where the hardware says the medium is.
        observed: Observed,
    },
    /// Restart: settle a request left in process from the hardware's truth.
    Reconcile {
        /// Request.
        request: RequestId,
        /// Where the hardware says the medium is.
        observed: Observed,
    },
    /// Timers: queue the dismounts of deferred dismounts that expired by `at_ms`.
    Tick,
    /// Creates a changer library from a real device's discovery: its
    /// element addresses and the cartridges found in them.
    AttachLibrary {
        /// Session.
        session: SessionId,
        /// Unique name; elements are named as by `CreateLibrary`.
        name: String,
        /// What the device reported.
        layout: ElementLayout,
        /// How to reach the device: an `iscsi://` URL or a `/dev/sgN` path.
        device: String,
        /// Classify the cartridges found in its slots (§7.2: each mounted
        /// and its first block read); otherwise they are taken as rsm's
        /// free media.
        classify: bool,
    },
    /// Inventory: what READ ELEMENT STATUS saw in a library, compared with
    /// the projection; every difference becomes an event.
    RecordInventory {
        /// Session; none when the server takes it by itself (the device
        /// said its elements changed, or one was due at start).
        session: Option<SessionId>,
        /// Library.
        library: LibraryId,
        /// Each element's address and what was seen there.
        observed: Vec<(u16, Seen)>,
        /// FAST (the reading only) or OMID (then every known cartridge
        /// identified); DEFAULT is the library's; NONE settles the slots as
        /// the views have them.
        method: InventoryMethod,
    },
    /// InventoryNtmsLibrary's checks and what needs no reading: `action` is
    /// dwAction (NTMS_INVENTORY_*). STOP stops the identifications an
    /// inventory queued; with the door open the method is kept for when it
    /// closes. Otherwise no event: the caller reads the elements and
    /// records them (`RecordInventory`).
    InventoryLibrary {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// dwAction.
        action: u32,
    },
    /// AccessNtmsLibraryDoor: `action` is the inventory after the door
    /// closes (NTMS_INVENTORY_NONE, FAST, OMID or DEFAULT).
    AccessDoor {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// dwAction.
        action: u32,
    },
    /// The operator closed a library's door (the simulator's operator, a
    /// changer's report, or the operator saying so).
    CloseDoor {
        /// Session; none when the changer reported it.
        session: Option<SessionId>,
        /// Library.
        library: LibraryId,
    },
    /// DeleteNtmsDrive: a drive that is no longer present leaves the views
    /// (a stand-alone drive takes its library with it).
    DeleteDrive {
        /// Session.
        session: SessionId,
        /// Drive.
        drive: DriveId,
    },
    /// IdentifyNtmsSlot: the cartridge in the slot is mounted, its label
    /// read and classified (an empty slot: nothing). `option` is dwOption
    /// (0, NTMS_DISMOUNT_DEFERRED or NTMS_DISMOUNT_IMMEDIATE).
    IdentifySlot {
        /// Session.
        session: SessionId,
        /// Slot.
        slot: SlotId,
        /// dwOption.
        option: u32,
    },
    /// EjectNtmsMedia (NTMS_EJECT_START): the robot puts the cartridge in a
    /// free import/export port of its library, for the operator to take.
    EjectMedia {
        /// Session.
        session: SessionId,
        /// The cartridge.
        media: MediaId,
    },
    /// InjectNtmsMedia (NTMS_INJECT_START), after the operator filled the
    /// ports: what READ ELEMENT STATUS showed in the library's import/export
    /// elements. Each cartridge found gets a request that carries it to a
    /// free slot, its new home.
    InjectMedia {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// Each port's element address and what was seen there.
        found: Vec<(u16, Seen)>,
    },
    /// AddNtmsMediaType: relate a media type to a library (its system
    /// pools made where missing).
    AddMediaType {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// Media type.
        media_type: MediaTypeId,
    },
    /// DeleteNtmsMediaType: end a library's relation to a media type.
    DeleteMediaType {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// Media type.
        media_type: MediaTypeId,
    },
    /// CreateNtmsMediaPool: create or open an application pool by path.
    CreateMediaPool {
        /// Session.
        session: SessionId,
        /// `\A\B`: each level created separately, parent first.
        path: String,
        /// Its media type; none for a pool that holds only pools.
        media_type: Option<MediaTypeId>,
        /// Open, create or either.
        action: PoolAction,
    },
    /// DeleteNtmsMediaPool: delete an empty application pool.
    DeleteMediaPool {
        /// Session.
        session: SessionId,
        /// Pool.
        pool: PoolId,
    },
    /// SetNtmsObjectInformation on a pool's writable policy fields.
    SetPoolPolicy {
        /// Session.
        session: SessionId,
        /// Pool.
        pool: PoolId,
        /// NTMS_ALLOCATE_FROMSCRATCH.
        from_scratch: bool,
        /// NTMS_DEALLOCATE_TOSCRATCH.
        to_scratch: bool,
        /// dwMaxAllocates (0: unlimited).
        max_allocates: u32,
    },
    /// MoveToNtmsMediaPool: move a medium (all its sides) to another pool.
    MoveToMediaPool {
        /// Session.
        session: SessionId,
        /// Medium.
        media: MediaId,
        /// Destination.
        pool: PoolId,
    },
    /// AllocateNtmsMedia: take a side for the caller; a new logical medium.
    AllocateMedia {
        /// Session.
        session: SessionId,
        /// The application pool to allocate from.
        pool: PoolId,
        /// A specific side (AVAILABLE, or IMPORT: the import path).
        side: Option<SideId>,
        /// NEW, NEXT, ERROR_IF_UNAVAILABLE.
        options: AllocateOptions,
        /// What to do when nothing can be allocated.
        wait: AllocationWait,
    },
    /// DeallocateNtmsMedia: give an allocated side back.
    DeallocateMedia {
        /// Session.
        session: SessionId,
        /// The logical medium.
        lmid: LogicalMediaId,
    },
    /// SetNtmsMediaComplete: mark a logical medium full.
    SetMediaComplete {
        /// Session.
        session: SessionId,
        /// The logical medium.
        lmid: LogicalMediaId,
    },
    /// DecommissionNtmsMedia: retire an available side for ever.
    DecommissionMedia {
        /// Session.
        session: SessionId,
        /// The side.
        side: SideId,
    },
    /// CreateNtmsMedia: a record for a new offline medium and its sides
    /// (cartridges arriving from another server).
    CreateMedia {
        /// Session.
        session: SessionId,
        /// Bar code (trailing spaces are removed).
        barcode: String,
        /// An import or application pool; the medium takes its media type.
        pool: PoolId,
        /// The state of each side, one per side of the pool's media type.
        sides: Vec<SideState>,
        /// Each side's raw on-media label (OmidLabelId), claimed by a media
        /// label library; none at all, or one entry per side.
        labels: Vec<Option<Vec<u8>>>,
        /// NTMS_ERROR_ON_DUPLICATE: refuse an on-media identifier another
        /// medium has.
        error_on_duplicate: bool,
    },
    /// DeleteNtmsMedia: forget an offline medium (lost or destroyed).
    DeleteMedia {
        /// Session.
        session: SessionId,
        /// Medium.
        media: MediaId,
    },
    /// ChangeNtmsMediaType: move a medium into a pool of another media type,
    /// correcting a misidentified type.
    ChangeMediaType {
        /// Session.
        session: SessionId,
        /// Medium.
        media: MediaId,
        /// Destination pool (its media type becomes the medium's).
        pool: PoolId,
    },
    /// SetNtmsObjectAttribute: an object's named data (empty: removed).
    SetAttribute {
        /// Session.
        session: SessionId,
        /// Object.
        object: ObjectRef,
        /// Name (fewer than 32 characters).
        name: String,
        /// The bytes (fewer than 65,536).
        value: Vec<u8>,
    },
    /// SetNtmsObjectInformation's szDescription, on any object.
    SetDescription {
        /// Session.
        session: SessionId,
        /// Object.
        object: ObjectRef,
        /// At most 127 characters, no control characters.
        description: String,
    },
    /// SetNtmsObjectInformation's other writable fields: one field of one
    /// object (see [`crate::InfoField`]).
    SetObjectInformation {
        /// Session.
        session: SessionId,
        /// Object.
        object: ObjectRef,
        /// The field and its new value.
        field: crate::object_management::InfoField,
    },
    /// SubmitNtmsOperatorRequest.
    SubmitOperatorRequest {
        /// Session.
        session: SessionId,
        /// What is asked, with its arguments.
        kind: crate::operator::OperatorRequestKind,
        /// The message (at most 255 characters; empty: rsm words one).
        message: String,
    },
    /// SatisfyNtmsOperatorRequest: done (COMPLETE).
    SatisfyOperatorRequest {
        /// Session.
        session: SessionId,
        /// The operator request.
        request: OperatorRequestId,
    },
    /// CancelNtmsOperatorRequest: refused (REFUSED).
    CancelOperatorRequest {
        /// Session.
        session: SessionId,
        /// The operator request.
        request: OperatorRequestId,
    },
    /// CancelNtmsLibraryRequest.
    CancelRequest {
        /// Session.
        session: SessionId,
        /// The library request.
        request: RequestId,
    },
    /// SetNtmsRequestOrder.
    SetRequestOrder {
        /// Session.
        session: SessionId,
        /// A queued or waiting mount.
        request: RequestId,
        /// 1 = next; past the end (or `u32::MAX`) = last.
        position: u32,
    },
    /// DeleteNtmsRequests: finished library and operator requests leave
    /// the views (unfinished and unknown ones are skipped).
    DeleteRequests {
        /// Session.
        session: SessionId,
        /// Library requests.
        requests: Vec<RequestId>,
        /// Operator requests.
        operator_requests: Vec<OperatorRequestId>,
    },
    /// SetNtmsObjectSecurity on the computer, a library or a pool: grants
    /// (`grant`) or revokes `rights` of `principal`.
    SetObjectAccess {
        /// Session.
        session: SessionId,
        /// The computer, a library or a pool.
        object: ObjectRef,
        /// Principal.
        principal: String,
        /// Rights.
        rights: AccessMask,
        /// Grant (else revoke).
        grant: bool,
    },
    /// UpdateNtmsOmidInfo: the label an application just wrote on an
    /// allocated side.
    UpdateOmid {
        /// Session.
        session: SessionId,
        /// The logical medium.
        lmid: LogicalMediaId,
        /// The label.
        label: OmidLabel,
    },
    /// Withdraws an operator request the session's own operation raised,
    /// when that operation ends without it (its timeout): REFUSED with
    /// `reason`.
    WithdrawOperatorRequest {
        /// Session.
        session: SessionId,
        /// The operator request.
        request: OperatorRequestId,
        /// The raising operation's error (ERROR_TIMEOUT).
        reason: ErrorCode,
    },
    /// SwapNtmsMedia: exchange the sides behind two logical media.
    SwapMedia {
        /// Session.
        session: SessionId,
        /// First logical medium.
        first: LogicalMediaId,
        /// Second logical medium.
        second: LogicalMediaId,
    },
    /// ReserveNtmsCleanerSlot.
    ReserveCleanerSlot {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// The slot to reserve.
        slot: SlotId,
    },
    /// ReleaseNtmsCleanerSlot.
    ReleaseCleanerSlot {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
    },
    /// InjectNtmsCleaner, after the engine read the library's ports (a
    /// library without ports takes it through its door).
    InjectCleaner {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// What the reading found in each port (by element address).
        found: Vec<(u16, Seen)>,
        /// dwNumberOfCleansLeft ([`crate::CLEANER_USES_UNLIMITED`]: until spent).
        cleans: u32,
        /// dwAction: NTMS_INJECT_START (0) or NTMS_INJECT_STOP (1).
        action: u32,
        /// STOP: the operation (the request START returned) to stop.
        operation: Option<RequestId>,
    },
    /// EjectNtmsCleaner.
    EjectCleaner {
        /// Session.
        session: SessionId,
        /// Library.
        library: LibraryId,
        /// dwAction: NTMS_EJECT_START (0) or NTMS_EJECT_STOP (1).
        action: u32,
        /// STOP: the operation (the request START returned) to stop.
        operation: Option<RequestId>,
    },
    /// EjectDiskFromSADrive: the stand-alone drive named `device` ejects
    /// its cartridge.
    EjectFromStandaloneDrive {
        /// Session.
        session: SessionId,
        /// lpDeviceName: the drive's name.
        device: String,
        /// dwOptions (`NtmsEjectOperation`).
        option: u32,
    },
    /// BeginNtmsDeviceChangeDetection.
    BeginChangeDetection {
        /// Session.
        session: SessionId,
    },
    /// SetNtmsDeviceChangeDetection: watch these stand-alone libraries, or
    /// those that could hold these media or media of these types (all of
    /// one kind); with no detection, poll them once.
    SetChangeDetection {
        /// Session.
        session: SessionId,
        /// The detection (none: poll once).
        detection: Option<DetectionId>,
        /// Libraries, physical media or media types.
        objects: Vec<ObjectRef>,
    },
    /// EndNtmsDeviceChangeDetection.
    EndChangeDetection {
        /// Session.
        session: SessionId,
        /// The detection.
        detection: DetectionId,
    },
    /// CleanNtmsDrive; no session when the drive itself reported that it
    /// needs cleaning (the server asks).
    CleanDrive {
        /// Session.
        session: Option<SessionId>,
        /// Drive.
        drive: DriveId,
    },
}

use crate::error::ErrorCode;

impl Command {
    /// The session the command runs under, if it is a caller's command.
    pub fn session(&self) -> Option<SessionId> {
        match self {
            Command::CloseSession { session }
            | Command::CreateLibrary { session, .. }
            | Command::MountMedia { session, .. }
            | Command::MountMediaSet { session, .. }
            | Command::DismountMediaSet { session, .. }
            | Command::DismountMedia { session, .. }
            | Command::DismountDrive { session, .. }
            | Command::SetEnabled { session, .. }
            | Command::GrantAccess { session, .. }
            | Command::RevokeAccess { session, .. }
            | Command::DeleteLibrary { session, .. }
            | Command::OperatorInsert { session, .. }
            | Command::OperatorRemove { session, .. }
            | Command::AttachLibrary { session, .. }
            | Command::InventoryLibrary { session, .. }
            | Command::AccessDoor { session, .. }
            | Command::IdentifySlot { session, .. }
            | Command::DeleteDrive { session, .. }
            | Command::EjectMedia { session, .. }
            | Command::InjectMedia { session, .. }
            | Command::AddMediaType { session, .. }
            | Command::DeleteMediaType { session, .. }
            | Command::CreateMediaPool { session, .. }
            | Command::DeleteMediaPool { session, .. }
            | Command::SetPoolPolicy { session, .. }
            | Command::MoveToMediaPool { session, .. }
            | Command::AllocateMedia { session, .. }
            | Command::DeallocateMedia { session, .. }
            | Command::SetMediaComplete { session, .. }
            | Command::DecommissionMedia { session, .. }
            | Command::SwapMedia { session, .. }
            | Command::CreateMedia { session, .. }
            | Command::DeleteMedia { session, .. }
            | Command::ChangeMediaType { session, .. }
            | Command::UpdateOmid { session, .. }
            | Command::SetAttribute { session, .. }
            | Command::SetDescription { session, .. }
            | Command::SetObjectInformation { session, .. }
            | Command::CancelRequest { session, .. }
            | Command::SubmitOperatorRequest { session, .. }
            | Command::SatisfyOperatorRequest { session, .. }
            | Command::CancelOperatorRequest { session, .. }
            | Command::SetRequestOrder { session, .. }
            | Command::DeleteRequests { session, .. }
            | Command::SetObjectAccess { session, .. }
            | Command::WithdrawOperatorRequest { session, .. }
            | Command::ReserveCleanerSlot { session, .. }
            | Command::ReleaseCleanerSlot { session, .. }
            | Command::InjectCleaner { session, .. }
            | Command::EjectCleaner { session, .. }
            | Command::EjectFromStandaloneDrive { session, .. }
            | Command::BeginChangeDetection { session }
            | Command::SetChangeDetection { session, .. }
            | Command::EndChangeDetection { session, .. } => Some(*session),
            Command::RecordInventory { session, .. }
            | Command::CloseDoor { session, .. }
            | Command::CleanDrive { session, .. } => *session,
            Command::OpenSession { .. }
            | Command::StartNext { .. }
            | Command::AdvanceRequest { .. }
            | Command::CompleteRequest { .. }
            | Command::ReportFirstBlock { .. }
            | Command::FailRequest { .. }
            | Command::Reconcile { .. }
            | Command::Tick => None,
        }
    }

    /// A short name for metrics and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Command::OpenSession { .. } => "open_session",
            Command::CloseSession { .. } => "close_session",
            Command::CreateLibrary { .. } => "create_library",
            Command::MountMedia { .. } => "mount_media",
            Command::MountMediaSet { .. } => "mount_media_set",
            Command::DismountMediaSet { .. } => "dismount_media_set",
            Command::DismountMedia { .. } => "dismount_media",
            Command::DismountDrive { .. } => "dismount_drive",
            Command::SetEnabled { .. } => "set_enabled",
            Command::GrantAccess { .. } => "grant_access",
            Command::RevokeAccess { .. } => "revoke_access",
            Command::DeleteLibrary { .. } => "delete_library",
            Command::OperatorInsert { .. } => "operator_insert",
            Command::OperatorRemove { .. } => "operator_remove",
            Command::StartNext { .. } => "start_next",
            Command::AdvanceRequest { .. } => "advance_request",
            Command::CompleteRequest { .. } => "complete_request",
            Command::ReportFirstBlock { .. } => "report_first_block",
            Command::FailRequest { .. } => "fail_request",
            Command::Reconcile { .. } => "reconcile",
            Command::Tick => "tick",
            Command::AttachLibrary { .. } => "attach_library",
            Command::RecordInventory { .. } => "record_inventory",
            Command::InventoryLibrary { .. } => "inventory_library",
            Command::AccessDoor { .. } => "access_door",
            Command::CloseDoor { .. } => "close_door",
            Command::IdentifySlot { .. } => "identify_slot",
            Command::DeleteDrive { .. } => "delete_drive",
            Command::EjectMedia { .. } => "eject_media",
            Command::InjectMedia { .. } => "inject_media",
            Command::AddMediaType { .. } => "add_media_type",
            Command::DeleteMediaType { .. } => "delete_media_type",
            Command::CreateMediaPool { .. } => "create_media_pool",
            Command::DeleteMediaPool { .. } => "delete_media_pool",
            Command::SetPoolPolicy { .. } => "set_pool_policy",
            Command::MoveToMediaPool { .. } => "move_to_media_pool",
            Command::AllocateMedia { .. } => "allocate_media",
            Command::DeallocateMedia { .. } => "deallocate_media",
            Command::SetMediaComplete { .. } => "set_media_complete",
            Command::DecommissionMedia { .. } => "decommission_media",
            Command::SwapMedia { .. } => "swap_media",
            Command::CreateMedia { .. } => "create_media",
            Command::DeleteMedia { .. } => "delete_media",
            Command::ChangeMediaType { .. } => "change_media_type",
            Command::UpdateOmid { .. } => "update_omid",
            Command::SetAttribute { .. } => "set_attribute",
            Command::SetDescription { .. } => "set_description",
            Command::SetObjectInformation { .. } => "set_object_information",
            Command::CancelRequest { .. } => "cancel_request",
            Command::SubmitOperatorRequest { .. } => "submit_operator_request",
            Command::SatisfyOperatorRequest { .. } => "satisfy_operator_request",
            Command::CancelOperatorRequest { .. } => "cancel_operator_request",
            Command::SetRequestOrder { .. } => "set_request_order",
            Command::DeleteRequests { .. } => "delete_requests",
            Command::SetObjectAccess { .. } => "set_object_access",
            Command::WithdrawOperatorRequest { .. } => "withdraw_operator_request",
            Command::ReserveCleanerSlot { .. } => "reserve_cleaner_slot",
            Command::ReleaseCleanerSlot { .. } => "release_cleaner_slot",
            Command::InjectCleaner { .. } => "inject_cleaner",
            Command::EjectCleaner { .. } => "eject_cleaner",
            Command::CleanDrive { .. } => "clean_drive",
            Command::EjectFromStandaloneDrive { .. } => "eject_from_standalone_drive",
            Command::BeginChangeDetection { .. } => "begin_change_detection",
            Command::SetChangeDetection { .. } => "set_change_detection",
            Command::EndChangeDetection { .. } => "end_change_detection",
        }
    }
}
