//! Events: facts, in the past tense, appended to the log and applied to views.

use crate::command::Observed;
use crate::error::ErrorCode;
use crate::ids::*;
use crate::media_labels::{Classification, Omid};
use crate::media_services::*;
use crate::objects::*;
use crate::operator::*;
use serde::{Deserialize, Serialize};

/// The full topology of a created library, ids included, so that replay
/// rebuilds exactly the same objects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryTopology {
    /// Id.
    pub id: LibraryId,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: LibraryKind,
    /// Drives: id, name, element address.
    pub drives: Vec<(DriveId, String, u16)>,
    /// Slots: id, name, element address.
    pub slots: Vec<(SlotId, String, u16)>,
    /// Ports: id, name, element address.
    pub ports: Vec<(PortId, String, u16)>,
    /// Cartridges: id, bar code, home slot (none at a stand-alone drive).
    pub media: Vec<(MediaId, String, Option<SlotId>)>,
    /// The cartridges of `media` that arrive UNKNOWN, to be classified.
    pub unlabelled: Vec<MediaId>,
    /// Seconds a deferred dismount leaves a medium in a drive.
    pub defer_dismount_delay_s: u32,
    /// The media type of its cartridges and its drives (schema 3).
    pub media_type: MediaTypeId,
}

/// Everything that can happen, as recorded in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A session was opened.
    SessionOpened {
        /// Session.
        session: SessionId,
        /// Principal.
        principal: String,
        /// Application.
        application: String,
    },
    /// A session was closed.
    SessionClosed {
        /// Session.
        session: SessionId,
    },
    /// A library was created; the creator holds every right on it.
    LibraryCreated {
        /// Topology.
        topology: LibraryTopology,
        /// Creator.
        creator: String,
    },
    /// Rights were granted.
    AccessGranted {
        /// Library.
        library: LibraryId,
        /// Grantee.
        principal: String,
        /// Rights added.
        rights: AccessMask,
    },
    /// Rights were revoked.
    AccessRevoked {
        /// Library.
        library: LibraryId,
        /// Principal.
        principal: String,
        /// Rights removed.
        rights: AccessMask,
    },
    /// An object was enabled or disabled.
    EnabledChanged {
        /// Object.
        object: ObjectRef,
        /// New flag.
        enabled: bool,
    },
    /// A mount was queued: the drive is reserved and the medium is in use.
    MountRequested {
        /// The request.
        request: LibraryRequest,
    },
    /// A mount was satisfied without movement (the medium already sat in the drive).
    MountSatisfiedInPlace {
        /// The request, recorded already passed.
        request: LibraryRequest,
    },
    /// A dismount was queued: the medium is in use and its slot is its destination.
    DismountRequested {
        /// The request.
        request: LibraryRequest,
    },
    /// A medium was released and left in its drive (deferred dismount, or a
    /// stand-alone drive made dismountable).
    DriveMadeDismountable {
        /// Drive.
        drive: DriveId,
        /// When the deferred dismount fires; none at a stand-alone drive.
        deadline_ms: Option<u64>,
        /// The audit request of a stand-alone DismountDrive, recorded passed.
        audit: Option<LibraryRequest>,
    },
    /// The holder of a drive released it ahead of an immediate dismount.
    HoldReleased {
        /// Drive.
        drive: DriveId,
    },
    /// A worker started a request.
    RequestStarted {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// The movement of a mount finished: the medium is loaded, the session holds it.
    MountCompleted {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// The movement of a dismount finished: the medium is back in its slot.
    DismountCompleted {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// A request failed; the medium is where the hardware says.
    RequestFailed {
        /// Request.
        request: RequestId,
        /// Win32 code.
        error: u32,
        /// Device sense data.
        sense: Option<Sense>,
        /// Where the medium is.
        observed: Observed,
        /// When.
        at_ms: u64,
    },
    /// A queued request was cancelled.
    RequestCancelled {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// The operator put a cartridge in a stand-alone drive.
    MediaInserted {
        /// Drive.
        drive: DriveId,
        /// Medium (new when `barcode` was unknown).
        media: MediaId,
        /// Bar code.
        barcode: String,
        /// True when the medium was not known before.
        new: bool,
    },
    /// Deletion of a library began: it accepts nothing more and its queued
    /// requests were cancelled; it goes once its last request in process ends.
    LibraryDeletionStarted {
        /// Library.
        library: LibraryId,
    },
    /// A library and everything in it left the views (the log keeps their history).
    LibraryDeleted {
        /// Library.
        library: LibraryId,
    },
    /// The operator took the cartridge out of a stand-alone drive; it is on the shelf.
    MediaRemoved {
        /// Drive.
        drive: DriveId,
        /// Medium.
        media: MediaId,
    },
    // New variants go last: bincode numbers variants by position, and the
    // golden fixtures in schemas/ pin every earlier variant's bytes.
    /// A mount's cartridge reached its drive: the robot is free, the drive loads.
    MediumMoved {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// A dismount's drive unloaded the tape: the cartridge waits for the robot.
    DriveUnloaded {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// The robot was given to an unloaded dismount, to carry the cartridge home.
    RobotAssigned {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// A changer library was created from a real device's discovery; the
    /// creator holds every right on it.
    LibraryAttached {
        /// Topology: the device's element addresses; `media` lists every
        /// cartridge found, those in slots with that slot as home.
        topology: LibraryTopology,
        /// Cartridges found in drives (listed in `topology.media` too): they
        /// start in the drive, loaded and held by nobody.
        in_drives: Vec<(MediaId, DriveId)>,
        /// How to reach the device: an `iscsi://` URL or a `/dev/sgN` path.
        device: String,
        /// Creator.
        creator: String,
    },
    /// Inventory found a cartridge rsm did not know: a new medium of the
    /// library. In a slot, that slot becomes its home (the slot's former
    /// owner, if any, is left without a home); in a drive it sits loaded and
    /// held by nobody, with `home` as its home.
    CartridgeAppeared {
        /// The new medium.
        media: MediaId,
        /// Bar code.
        barcode: String,
        /// Library.
        library: LibraryId,
        /// Where it was found (a slot or a drive).
        at: Location,
        /// Its home slot.
        home: Option<SlotId>,
    },
    /// Inventory did not find a known cartridge anywhere in its library: it
    /// goes offline; its home slot stays reserved for it.
    CartridgeVanished {
        /// Medium.
        media: MediaId,
    },
    /// Inventory found a known cartridge somewhere else than the projection
    /// had it. Found in a slot, that slot becomes its home (a former owner
    /// of the slot takes the mover's old home); `Offline` only breaks a
    /// cycle of moves (a later event of the same inventory places it).
    CartridgeMoved {
        /// Medium.
        media: MediaId,
        /// Where it was found.
        to: Location,
    },
    /// Inventory found a cartridge without a readable bar code: recorded for
    /// the operator; no medium is created.
    UnlabeledCartridgeFound {
        /// Library.
        library: LibraryId,
        /// Element address.
        address: u16,
    },
    /// Inventory found a cartridge whose bar code belongs to another
    /// library: recorded for the operator, not adopted.
    ForeignCartridgeFound {
        /// Library where it was found.
        library: LibraryId,
        /// Element address.
        address: u16,
        /// Bar code.
        barcode: String,
    },
    /// An eject was queued: the medium is in use and the port is promised to it.
    EjectRequested {
        /// The request (its slot is the source, its port the destination).
        request: LibraryRequest,
    },
    /// An inject was queued for a cartridge the operator put in a port: the
    /// medium is in the port (a new medium when `new`), in use, and the
    /// request's slot is promised to it as its home.
    InjectRequested {
        /// The request (its port is the source, its slot the destination).
        request: LibraryRequest,
        /// Bar code of the cartridge.
        barcode: String,
        /// True when the medium was not known before.
        new: bool,
    },
    /// The robot put an ejected cartridge in its port; its home slot stays
    /// reserved until the operator takes it.
    EjectCompleted {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// The robot carried an injected cartridge to its new home slot.
    InjectCompleted {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// Inventory found a port empty that held a cartridge: the operator took
    /// it; it leaves the library for the shelf and gives up its home slot.
    CartridgeTakenFromPort {
        /// Medium.
        media: MediaId,
    },
    /// Its library was deleted: the medium moves to the offline library
    /// ([`LibraryId::OFFLINE`]), idle, with no home slot.
    MediaMovedOffline {
        /// Medium.
        media: MediaId,
    },
    /// A reading found empty a port that held something the catalog does
    /// not (see [`crate::Port::stranger`]): the operator took it.
    PortFoundEmpty {
        /// Port.
        port: PortId,
    },
    /// A request in process whose cartridge had not moved (the hardware
    /// said so) is queued again under its own id, keeping what it was
    /// promised; the robot, if it held it, is free.
    RequestRequeued {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// A principal with CONTROL released a cartridge another session held
    /// (opened): the operator's override, recorded as such. The hold ends.
    HoldOverridden {
        /// The drive holding the cartridge.
        drive: DriveId,
        /// The session whose hold ended.
        holder: SessionId,
        /// The principal who overrode it.
        by: String,
    },
    /// A library now handles a media type; the type's system pools exist.
    MediaTypeAdded {
        /// Library.
        library: LibraryId,
        /// Media type.
        media_type: MediaTypeId,
    },
    /// A library no longer handles a media type. When no library handles it
    /// and no medium is of it, its system pools went too.
    MediaTypeRemoved {
        /// Library.
        library: LibraryId,
        /// Media type.
        media_type: MediaTypeId,
        /// The type's system pools were deleted.
        pools_deleted: bool,
    },
    /// An application pool was created.
    PoolCreated {
        /// The pool as created (policies clear, its access list).
        pool: Pool,
    },
    /// An empty application pool was deleted.
    PoolDeleted {
        /// Pool.
        pool: PoolId,
    },
    /// A pool's policies changed.
    PoolPolicyChanged {
        /// Pool.
        pool: PoolId,
        /// NTMS_ALLOCATE_FROMSCRATCH.
        from_scratch: bool,
        /// NTMS_DEALLOCATE_TOSCRATCH.
        to_scratch: bool,
        /// dwMaxAllocates.
        max_allocates: u32,
    },
    /// A medium moved to another pool, every side into `sides` when given.
    MediumMovedToPool {
        /// Medium.
        media: MediaId,
        /// Destination.
        pool: PoolId,
        /// The state every side takes (moving into the free pool).
        sides: Option<SideState>,
    },
    /// A side was allocated: a new logical medium bound to it; the medium
    /// moved into `pool` when it came from another pool (the free pool,
    /// or the import path).
    SideAllocated {
        /// Medium.
        media: MediaId,
        /// Side number.
        side: u8,
        /// The new logical medium.
        lmid: LogicalMediaId,
        /// The pool it is allocated in.
        pool: PoolId,
        /// NTMS_ALLOCATE_NEW: the medium's other available sides are
        /// reserved for the caller.
        reserve_others: bool,
    },
    /// A logical medium was deallocated: its side is `to` (AVAILABLE, or
    /// DECOMMISSIONED at the pool's allocation limit), the medium's
    /// reserved sides are available again, and the medium went to
    /// `to_pool` (the free pool) when its pool returns media there.
    SideDeallocated {
        /// The logical medium (gone from now on).
        lmid: LogicalMediaId,
        /// The side's state now.
        to: SideState,
        /// The free pool the medium went back to, if it did.
        to_pool: Option<PoolId>,
    },
    /// A logical medium was marked full.
    SideCompleted {
        /// The logical medium.
        lmid: LogicalMediaId,
    },
    /// An available side was retired for ever.
    SideDecommissioned {
        /// Medium.
        media: MediaId,
        /// Side number.
        side: u8,
    },
    /// Two logical media exchanged their sides.
    LogicalMediaSwapped {
        /// First.
        first: LogicalMediaId,
        /// Second.
        second: LogicalMediaId,
    },
    /// An offline medium was recorded (CreateNtmsMedia): in the offline
    /// library, with its sides (and the logical media of those allocated).
    MediaCreated {
        /// The medium as created (its sequence number is given by `apply`).
        medium: Medium,
    },
    /// An offline medium and its sides were forgotten (DeleteNtmsMedia).
    MediaDeleted {
        /// Medium.
        media: MediaId,
    },
    /// A medium moved to a pool of another media type and took that type;
    /// every side into `sides` when given (moving into the free pool).
    MediaTypeChanged {
        /// Medium.
        media: MediaId,
        /// Destination pool.
        pool: PoolId,
        /// Its media type now.
        media_type: MediaTypeId,
        /// The state every side takes.
        sides: Option<SideState>,
    },
    /// A classification or free-label request was queued for a cartridge
    /// in its slot (no drive yet: the scheduler assigns one).
    LabelRequested {
        /// The request, queued.
        request: LibraryRequest,
    },
    /// The scheduler gave a label request an empty drive that reads its
    /// cartridge.
    DriveAssigned {
        /// Request.
        request: RequestId,
        /// Drive.
        drive: DriveId,
    },
    /// A label request's drive loaded the cartridge: its first block is
    /// read or written next.
    MediumLoaded {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// A new cartridge was classified (spec §7.2): its pool, its sides'
    /// state and (when a label library claimed one) their on-media
    /// identifier. With `request`, the classification request's drive
    /// unloads next.
    MediaClassified {
        /// Medium.
        media: MediaId,
        /// What it was found to be.
        class: Classification,
        /// The classification request that read it, if one did.
        request: Option<RequestId>,
    },
    /// rsm's free-media label was written: every UNPREPARED side is
    /// AVAILABLE; the drive unloads next.
    FreeLabelWritten {
        /// Request.
        request: RequestId,
        /// The label's identifier.
        omid: Omid,
    },
    /// A label request's cartridge is home again.
    LabelRequestCompleted {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// A side's on-media identifier was recorded (UpdateNtmsOmidInfo).
    OmidUpdated {
        /// Medium.
        media: MediaId,
        /// Side number.
        side: u8,
        /// The identifier.
        omid: Omid,
    },
    /// An object's named data was set (an empty value removes it).
    AttributeSet {
        /// Object.
        object: ObjectRef,
        /// Name, as given.
        name: String,
        /// The bytes.
        value: Vec<u8>,
    },
    /// An object's description changed (empty: none).
    DescriptionChanged {
        /// Object.
        object: ObjectRef,
        /// The description.
        description: String,
    },
    /// The rights a principal holds on the computer or a pool are now
    /// `rights` (none: removed from the access list).
    ObjectAccessChanged {
        /// The computer or a pool.
        object: ObjectRef,
        /// Principal.
        principal: String,
        /// Rights now.
        rights: AccessMask,
    },
    /// An operator request was raised.
    OperatorRequestSubmitted {
        /// The request as raised (SUBMITTED).
        request: OperatorRequest,
    },
    /// An operator request reached REFUSED or COMPLETE.
    OperatorRequestClosed {
        /// The operator request.
        request: OperatorRequestId,
        /// REFUSED or COMPLETE.
        state: OperatorRequestState,
        /// Why rsm withdrew it (the raising operation's error), if it did.
        reason: Option<ErrorCode>,
        /// When.
        at_ms: u64,
    },
    /// A new cartridge's label names a medium on the shelf (spec §7.2 case
    /// 1, matching OMID): that medium is the cartridge. It takes the
    /// arrival's library, place, home and bar code, keeps its own pool,
    /// sides and logical media, and the arrival's record goes; the
    /// classification request's drive unloads next.
    MediaRecognized {
        /// The record the arrival made (forgotten).
        arrival: MediaId,
        /// The medium the label names.
        known: MediaId,
        /// The classification request that read the label.
        request: RequestId,
    },
    /// A field of an object's information changed (SetNtmsObjectInformation).
    ObjectInformationChanged {
        /// Object.
        object: ObjectRef,
        /// The field and its new value.
        field: crate::object_management::InfoField,
    },
    /// A mount accepted while no drive could take it (NTMS_LM_WAITING): its
    /// medium is promised to it, no drive yet.
    MountWaiting {
        /// The request, in state Waiting, with no drive.
        request: LibraryRequest,
        /// The drive it was told to use (NTMS_MOUNT_SPECIFIC_DRIVE), if any.
        drive: Option<DriveId>,
    },
    /// A waiting mount was given a drive as one freed up: it is queued.
    WaitingMountAssigned {
        /// Request.
        request: RequestId,
        /// Drive.
        drive: DriveId,
    },
    /// A request must start by then, or it fails (MountNtmsMedia's dwTimeout).
    RequestDeadlineSet {
        /// Request.
        request: RequestId,
        /// Deadline, ms since the epoch.
        deadline_ms: u64,
    },
    /// SetNtmsRequestOrder: a mount moved to a position of its library's
    /// mount order (1-based; past the end: last).
    RequestOrderSet {
        /// Request.
        request: RequestId,
        /// The new position.
        position: u32,
    },
    /// DeleteNtmsRequests: finished requests leave the views (the log keeps
    /// their history).
    RequestsDeleted {
        /// Library requests.
        requests: Vec<RequestId>,
        /// Operator requests.
        operator_requests: Vec<OperatorRequestId>,
    },
    /// A request's deadline passed before it started: it is cancelled, and
    /// its caller is told `error` (ERROR_BUSY while it waited for a drive,
    /// ERROR_TIMEOUT once queued).
    RequestTimedOut {
        /// Request.
        request: RequestId,
        /// The code its caller gets.
        error: ErrorCodeValue,
        /// When.
        at_ms: u64,
    },
    /// A label request whose label was read or written when its trip home
    /// was cut short (a stop, a restart): its work is done, it ends passed,
    /// and its cartridge stays where it is (a dismount takes it home).
    LabelRequestSettled {
        /// Request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// AccessNtmsLibraryDoor while the robot was busy: the door unlocks
    /// once it is idle, and the robot starts nothing new meanwhile.
    DoorAccessQueued {
        /// Library.
        library: LibraryId,
        /// The inventory chosen for after the door closes (resolved).
        inventory: InventoryMethod,
    },
    /// The door is unlocked for the operator: it is OPEN, and every slot
    /// NEEDSINVENTORY until an inventory after it closes settles them.
    DoorUnlocked {
        /// Library.
        library: LibraryId,
        /// The inventory to take once it closes (resolved).
        inventory: InventoryMethod,
        /// When.
        at_ms: u64,
    },
    /// InventoryNtmsLibrary while the door is open: the inventory taken
    /// when it closes becomes this one.
    DoorInventoryChosen {
        /// Library.
        library: LibraryId,
        /// The method (resolved).
        method: InventoryMethod,
    },
    /// The operator closed the door: it is CLOSED; with no inventory to take
    /// the slots are what the views say, else they wait for it.
    DoorClosed {
        /// Library.
        library: LibraryId,
        /// When.
        at_ms: u64,
    },
    /// An inventory settled the slots that needed one (FULL or EMPTY as found).
    InventoryCompleted {
        /// Library.
        library: LibraryId,
    },
    /// An identification (IdentifyNtmsSlot, an OMID inventory) read the
    /// label of a medium already known; its drive unloads next.
    MediaIdentified {
        /// Medium.
        media: MediaId,
        /// The classification request that read it.
        request: RequestId,
        /// The label read is the one the views have (else the views keep
        /// theirs, as the medium holds an application's data: rsm rule).
        matched: bool,
    },
    /// NTMS_INVENTORY_STOP: the identifications an inventory queued and
    /// that had not started are STOPPED.
    InventoryStopped {
        /// Library.
        library: LibraryId,
        /// The requests stopped.
        requests: Vec<RequestId>,
        /// When.
        at_ms: u64,
    },
    /// The door stayed open past its MaxOpenSecs: the operator request
    /// raised just before asks to close it.
    DoorLeftOpen {
        /// Library.
        library: LibraryId,
        /// The operator request (NTMS_OPREQ_DEVICESERVICE).
        request: OperatorRequestId,
    },
    /// A mount of an offline medium (accepted waiting, just before) waits
    /// for the operator to bring it: the operator request raised for it
    /// (NTMS_OPREQ_MOVEMEDIA). The medium is not promised to the mount
    /// until it is back in a slot.
    MountAwaitsMedium {
        /// The mount.
        request: RequestId,
        /// The operator request.
        operator_request: OperatorRequestId,
    },
    /// The medium a mount waited for is back in a slot: promised to the
    /// mount, which waits for a drive as any other.
    AwaitedMediumArrived {
        /// The mount.
        request: RequestId,
    },
    /// The operator refused to bring the medium a mount waited for: the
    /// mount fails with ERROR_REQUEST_REFUSED.
    MountRefusedByOperator {
        /// The mount.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// A full reading of a library found a drive's element gone
    /// (NTMS_NOT_PRESENT), or back (NTMS_READY).
    DrivePresence {
        /// Drive.
        drive: DriveId,
        /// Found in the reading.
        present: bool,
    },
    /// DeleteNtmsDrive: a drive no longer present leaves the views.
    DriveDeleted {
        /// Drive.
        drive: DriveId,
    },
    /// ReserveNtmsCleanerSlot: the slot is the library's cleaner slot
    /// (NTMS_LM_RESERVECLEANER, passed at once).
    CleanerSlotReserved {
        /// Library.
        library: LibraryId,
        /// The slot.
        slot: SlotId,
    },
    /// ReleaseNtmsCleanerSlot: the slot holds data cartridges again
    /// (NTMS_LM_RELEASECLEANER, passed at once).
    CleanerSlotReleased {
        /// Library.
        library: LibraryId,
    },
    /// InjectNtmsCleaner: a cleaner with this many cleanings left is on
    /// its way to the cleaner slot (through a port, or the door).
    CleanerExpected {
        /// Library.
        library: LibraryId,
        /// dwNumberOfCleansLeft ([`crate::CLEANER_USES_UNLIMITED`]: until spent).
        cleans: u32,
    },
    /// A reading found a cartridge the catalog does not hold in the cleaner
    /// slot: the cleaner the operator put there (its uses: those announced,
    /// else unlimited).
    CleanerFound {
        /// Library.
        library: LibraryId,
        /// The cleaner's new id.
        media: MediaId,
        /// Its bar code.
        barcode: String,
    },
    /// CleanNtmsDrive accepted: the drive is cleaned once it is empty and a
    /// usable cleaner is in its slot.
    CleaningWanted {
        /// Drive.
        drive: DriveId,
        /// Who asked (the server, when the drive reported it).
        submitter: String,
        /// When.
        at_ms: u64,
    },
    /// No usable cleaner: the operator request raised just before
    /// (NTMS_OPREQ_CLEANER) asks for one for this drive's cleaning.
    CleanerAwaited {
        /// Drive.
        drive: DriveId,
        /// The operator request.
        operator_request: OperatorRequestId,
    },
    /// The NTMS_LM_CLEANDRIVE request of a wanted cleaning (its medium is
    /// the cleaner); one finished when recorded is kept for the audit (a
    /// spent cleaner: ERROR_CLEANER_CARTRIDGE_SPENT).
    CleanQueued {
        /// The request.
        request: LibraryRequest,
    },
    /// The robot put the cleaner in the drive: NTMS_DRIVESTATE_BEING_CLEANED.
    CleanerLoaded {
        /// The request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// The drive cleaned its heads and ejected the cleaner (LastCleanedTs;
    /// one use less): the cleaner waits for the robot.
    DriveCleaned {
        /// The request.
        request: RequestId,
        /// The drive cleaned.
        drive: DriveId,
        /// When.
        at_ms: u64,
    },
    /// The cleaner is back in its slot: the drive is DISMOUNTED, the
    /// cleaning passed.
    CleanCompleted {
        /// The request.
        request: RequestId,
        /// When.
        at_ms: u64,
    },
    /// The operator refused the cleaner a cleaning waited for: the cleaning
    /// is dropped (ERROR_REQUEST_REFUSED).
    CleaningRefused {
        /// Drive.
        drive: DriveId,
        /// When.
        at_ms: u64,
    },
    /// CleanNtmsDrive of a stand-alone drive: no robot, recorded as cleaned.
    StandaloneDriveCleaned {
        /// Drive.
        drive: DriveId,
        /// Who asked.
        principal: String,
        /// When.
        at_ms: u64,
    },
    /// EjectDiskFromSADrive: the stand-alone drive ejected its cartridge,
    /// which left for the shelf (the NTMS_LM_EJECT request, recorded passed).
    StandaloneDiskEjected {
        /// The request.
        request: LibraryRequest,
    },
    /// BeginNtmsDeviceChangeDetection: a detection opened, watching nothing yet.
    ChangeDetectionBegun {
        /// The handle.
        detection: DetectionId,
        /// The session it belongs to (closing it ends the detection).
        session: SessionId,
    },
    /// SetNtmsDeviceChangeDetection: the detection watches these stand-alone
    /// libraries too (polled by the server until it ends).
    ChangeDetectionWatches {
        /// The handle.
        detection: DetectionId,
        /// Stand-alone libraries.
        libraries: Vec<LibraryId>,
    },
    /// SetNtmsDeviceChangeDetection without a detection: these stand-alone
    /// libraries are polled once now (the readings follow as inventories).
    ChangeDetectionPolled {
        /// Stand-alone libraries.
        libraries: Vec<LibraryId>,
    },
    /// EndNtmsDeviceChangeDetection, or its session closed.
    ChangeDetectionEnded {
        /// The handle.
        detection: DetectionId,
    },
}

impl Event {
    /// A short, stable name: used for fixtures, metrics and the audit view.
    pub fn name(&self) -> &'static str {
        match self {
            Event::SessionOpened { .. } => "SessionOpened",
            Event::SessionClosed { .. } => "SessionClosed",
            Event::LibraryCreated { .. } => "LibraryCreated",
            Event::AccessGranted { .. } => "AccessGranted",
            Event::AccessRevoked { .. } => "AccessRevoked",
            Event::EnabledChanged { .. } => "EnabledChanged",
            Event::MountRequested { .. } => "MountRequested",
            Event::MountSatisfiedInPlace { .. } => "MountSatisfiedInPlace",
            Event::DismountRequested { .. } => "DismountRequested",
            Event::DriveMadeDismountable { .. } => "DriveMadeDismountable",
            Event::HoldReleased { .. } => "HoldReleased",
            Event::RequestStarted { .. } => "RequestStarted",
            Event::MediumMoved { .. } => "MediumMoved",
            Event::DriveUnloaded { .. } => "DriveUnloaded",
            Event::RobotAssigned { .. } => "RobotAssigned",
            Event::LibraryAttached { .. } => "LibraryAttached",
            Event::MountCompleted { .. } => "MountCompleted",
            Event::DismountCompleted { .. } => "DismountCompleted",
            Event::RequestFailed { .. } => "RequestFailed",
            Event::RequestCancelled { .. } => "RequestCancelled",
            Event::MediaInserted { .. } => "MediaInserted",
            Event::MediaRemoved { .. } => "MediaRemoved",
            Event::LibraryDeletionStarted { .. } => "LibraryDeletionStarted",
            Event::LibraryDeleted { .. } => "LibraryDeleted",
            Event::CartridgeAppeared { .. } => "CartridgeAppeared",
            Event::CartridgeVanished { .. } => "CartridgeVanished",
            Event::CartridgeMoved { .. } => "CartridgeMoved",
            Event::UnlabeledCartridgeFound { .. } => "UnlabeledCartridgeFound",
            Event::ForeignCartridgeFound { .. } => "ForeignCartridgeFound",
            Event::EjectRequested { .. } => "EjectRequested",
            Event::InjectRequested { .. } => "InjectRequested",
            Event::EjectCompleted { .. } => "EjectCompleted",
            Event::InjectCompleted { .. } => "InjectCompleted",
            Event::CartridgeTakenFromPort { .. } => "CartridgeTakenFromPort",
            Event::MediaMovedOffline { .. } => "MediaMovedOffline",
            Event::PortFoundEmpty { .. } => "PortFoundEmpty",
            Event::RequestRequeued { .. } => "RequestRequeued",
            Event::HoldOverridden { .. } => "HoldOverridden",
            Event::MediaTypeAdded { .. } => "MediaTypeAdded",
            Event::MediaTypeRemoved { .. } => "MediaTypeRemoved",
            Event::PoolCreated { .. } => "PoolCreated",
            Event::PoolDeleted { .. } => "PoolDeleted",
            Event::PoolPolicyChanged { .. } => "PoolPolicyChanged",
            Event::MediumMovedToPool { .. } => "MediumMovedToPool",
            Event::SideAllocated { .. } => "SideAllocated",
            Event::SideDeallocated { .. } => "SideDeallocated",
            Event::SideCompleted { .. } => "SideCompleted",
            Event::SideDecommissioned { .. } => "SideDecommissioned",
            Event::LogicalMediaSwapped { .. } => "LogicalMediaSwapped",
            Event::MediaCreated { .. } => "MediaCreated",
            Event::MediaDeleted { .. } => "MediaDeleted",
            Event::MediaTypeChanged { .. } => "MediaTypeChanged",
            Event::LabelRequested { .. } => "LabelRequested",
            Event::DriveAssigned { .. } => "DriveAssigned",
            Event::MediumLoaded { .. } => "MediumLoaded",
            Event::MediaClassified { .. } => "MediaClassified",
            Event::FreeLabelWritten { .. } => "FreeLabelWritten",
            Event::LabelRequestCompleted { .. } => "LabelRequestCompleted",
            Event::OmidUpdated { .. } => "OmidUpdated",
            Event::AttributeSet { .. } => "AttributeSet",
            Event::DescriptionChanged { .. } => "DescriptionChanged",
            Event::ObjectAccessChanged { .. } => "ObjectAccessChanged",
            Event::OperatorRequestSubmitted { .. } => "OperatorRequestSubmitted",
            Event::OperatorRequestClosed { .. } => "OperatorRequestClosed",
            Event::MediaRecognized { .. } => "MediaRecognized",
            Event::ObjectInformationChanged { .. } => "ObjectInformationChanged",
            Event::MountWaiting { .. } => "MountWaiting",
            Event::WaitingMountAssigned { .. } => "WaitingMountAssigned",
            Event::RequestDeadlineSet { .. } => "RequestDeadlineSet",
            Event::RequestOrderSet { .. } => "RequestOrderSet",
            Event::RequestsDeleted { .. } => "RequestsDeleted",
            Event::RequestTimedOut { .. } => "RequestTimedOut",
            Event::LabelRequestSettled { .. } => "LabelRequestSettled",
            Event::DoorAccessQueued { .. } => "DoorAccessQueued",
            Event::DoorUnlocked { .. } => "DoorUnlocked",
            Event::DoorInventoryChosen { .. } => "DoorInventoryChosen",
            Event::DoorClosed { .. } => "DoorClosed",
            Event::InventoryCompleted { .. } => "InventoryCompleted",
            Event::MediaIdentified { .. } => "MediaIdentified",
            Event::InventoryStopped { .. } => "InventoryStopped",
            Event::DoorLeftOpen { .. } => "DoorLeftOpen",
            Event::MountAwaitsMedium { .. } => "MountAwaitsMedium",
            Event::AwaitedMediumArrived { .. } => "AwaitedMediumArrived",
            Event::MountRefusedByOperator { .. } => "MountRefusedByOperator",
            Event::DrivePresence { .. } => "DrivePresence",
            Event::DriveDeleted { .. } => "DriveDeleted",
            Event::CleanerSlotReserved { .. } => "CleanerSlotReserved",
            Event::CleanerSlotReleased { .. } => "CleanerSlotReleased",
            Event::CleanerExpected { .. } => "CleanerExpected",
            Event::CleanerFound { .. } => "CleanerFound",
            Event::CleaningWanted { .. } => "CleaningWanted",
            Event::CleanerAwaited { .. } => "CleanerAwaited",
            Event::CleanQueued { .. } => "CleanQueued",
            Event::CleanerLoaded { .. } => "CleanerLoaded",
            Event::DriveCleaned { .. } => "DriveCleaned",
            Event::CleanCompleted { .. } => "CleanCompleted",
            Event::CleaningRefused { .. } => "CleaningRefused",
            Event::StandaloneDriveCleaned { .. } => "StandaloneDriveCleaned",
            Event::StandaloneDiskEjected { .. } => "StandaloneDiskEjected",
            Event::ChangeDetectionBegun { .. } => "ChangeDetectionBegun",
            Event::ChangeDetectionWatches { .. } => "ChangeDetectionWatches",
            Event::ChangeDetectionPolled { .. } => "ChangeDetectionPolled",
            Event::ChangeDetectionEnded { .. } => "ChangeDetectionEnded",
        }
    }
}
