//! Database notifications (spec §3.7): the notices each event produces.
//!
//! A notice says that an object of some type was inserted, updated or
//! deleted, or that a library or operator request finished
//! (`NTMS_NOTIFICATIONINFORMATION`: dwOperation and ObjectId). They are a
//! pure function of the event alone, never of the state it applies to, so
//! the notices of record `n` are the same whether a subscriber met it live
//! or read it back from the log years later: that is what makes a
//! subscription resumable from any sequence number.
//!
//! The price of purity is that an event notifies the objects it names. A
//! request's progress names only the request, so a client following a
//! mount's drive watches the request (its UPDATE and COMPLETE) and reads
//! the drive then; the events that queue a request name its drive, medium
//! and port, and those are notified when it is queued.

use crate::error::{ErrorCode, NtmsError};
use crate::event::{Event, LibraryTopology};
use crate::ids::*;
use crate::media_services::{media_type, SystemPools};
use crate::ntms::ntms_values;
use crate::object_management::ObjectType;
use crate::objects::{AccessMask, LibraryRequest, Location, ObjectRef};
use crate::policy::Policy;
use crate::state::State;
use serde::{Deserialize, Serialize};

/// `NtmsNotificationOperations`: what happened to the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NoticeOperation {
    /// NTMS_OBJ_UPDATE (1): one of its fields or states changed.
    Update,
    /// NTMS_OBJ_INSERT (2): it was created.
    Insert,
    /// NTMS_OBJ_DELETE (3): it left the views (the log keeps its history).
    Delete,
    /// NTMS_EVENT_COMPLETE (5): a library or operator request finished
    /// (passed, failed, cancelled, refused). rsm names the request itself,
    /// whatever the operation (its drive, medium or port are read from it).
    Complete,
}

ntms_values! {
    NoticeOperation in "NtmsNotificationOperations" {
        Update = 1 => "NTMS_OBJ_UPDATE",
        Insert = 2 => "NTMS_OBJ_INSERT",
        Delete = 3 => "NTMS_OBJ_DELETE",
        Complete = 5 => "NTMS_EVENT_COMPLETE",
    }
}

impl NoticeOperation {
    /// A short lowercase name, as the command line prints it.
    pub fn name(self) -> &'static str {
        match self {
            NoticeOperation::Update => "update",
            NoticeOperation::Insert => "insert",
            NoticeOperation::Delete => "delete",
            NoticeOperation::Complete => "complete",
        }
    }
}

/// One change notice: the object (its type and id) and what happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Notice {
    /// The object, typed: its NTMS type is [`Notice::object_type`].
    pub object: ObjectRef,
    /// What happened to it.
    pub operation: NoticeOperation,
}

impl Notice {
    /// The object's NTMS type (a channel's `dwType`).
    pub fn object_type(&self) -> ObjectType {
        self.object.object_type()
    }

    /// The object's id (`ObjectId`); the computer, the one object of its
    /// type, has the null GUID.
    pub fn object_id(&self) -> uuid::Uuid {
        match self.object {
            ObjectRef::Library(id) => id.0,
            ObjectRef::Drive(id) => id.0,
            ObjectRef::Slot(id) => id.0,
            ObjectRef::Port(id) => id.0,
            ObjectRef::Media(id) => id.0,
            ObjectRef::Pool(id) => id.0,
            ObjectRef::Side(id) => id.0,
            ObjectRef::LogicalMedia(id) => id.0,
            ObjectRef::MediaType(id) => id.0,
            ObjectRef::Request(id) => id.0,
            ObjectRef::OperatorRequest(id) => id.0,
            ObjectRef::Computer => uuid::Uuid::nil(),
        }
    }
}

/// Collects notices in order, each once: an event naming one object twice
/// (a slot that is both where a cartridge was found and its home) notifies
/// it once, and an object it inserts is not also updated (its INSERT
/// already says it is new, as it now is).
#[derive(Default)]
struct Notices(Vec<Notice>);

impl Notices {
    fn push(&mut self, object: ObjectRef, operation: NoticeOperation) -> &mut Self {
        let notice = Notice { object, operation };
        let inserted = Notice { object, operation: NoticeOperation::Insert };
        let redundant = operation == NoticeOperation::Update && self.0.contains(&inserted);
        if !redundant && !self.0.contains(&notice) {
            self.0.push(notice);
        }
        self
    }
    fn insert(&mut self, object: ObjectRef) -> &mut Self {
        self.push(object, NoticeOperation::Insert)
    }
    fn update(&mut self, object: ObjectRef) -> &mut Self {
        self.push(object, NoticeOperation::Update)
    }
    fn delete(&mut self, object: ObjectRef) -> &mut Self {
        self.push(object, NoticeOperation::Delete)
    }
    /// A request that ended: its last change, then its completion.
    fn finished(&mut self, request: RequestId) -> &mut Self {
        self.update(ObjectRef::Request(request)).push(ObjectRef::Request(request), NoticeOperation::Complete)
    }
    /// A request just queued, and the objects it promised itself.
    fn queued(&mut self, request: &LibraryRequest) -> &mut Self {
        self.insert(ObjectRef::Request(request.id)).promised(request)
    }
    fn promised(&mut self, request: &LibraryRequest) -> &mut Self {
        self.update(ObjectRef::Media(request.media));
        if let Some(drive) = request.drive {
            self.update(ObjectRef::Drive(drive));
        }
        if let Some(port) = request.port {
            self.update(ObjectRef::Port(port));
        }
        self
    }
    fn place(&mut self, at: Location) -> &mut Self {
        match at {
            Location::Slot(slot) => self.update(ObjectRef::Slot(slot)),
            Location::Drive(drive) => self.update(ObjectRef::Drive(drive)),
            Location::Port(port) => self.update(ObjectRef::Port(port)),
            Location::Offline => self,
        }
    }
    /// A media type's system pools: created with the type, or (the event
    /// cannot say which) given media, so an UPDATE either way.
    fn system_pools(&mut self, media_type: MediaTypeId, operation: NoticeOperation) -> &mut Self {
        let pools = SystemPools::of(media_type);
        for pool in [pools.free, pools.import, pools.unrecognized] {
            self.push(ObjectRef::Pool(pool), operation);
        }
        self
    }
    /// A new library and every object in it.
    fn topology(&mut self, t: &LibraryTopology) -> &mut Self {
        self.insert(ObjectRef::Library(t.id));
        for (drive, _, _) in &t.drives {
            self.insert(ObjectRef::Drive(*drive));
        }
        for (slot, _, _) in &t.slots {
            self.insert(ObjectRef::Slot(*slot));
        }
        for (port, _, _) in &t.ports {
            self.insert(ObjectRef::Port(*port));
        }
        let sides = media_type(t.media_type).map_or(1, |t| t.sides);
        for (media, _, _) in &t.media {
            self.insert(ObjectRef::Media(*media));
            for number in 0..sides {
                self.insert(ObjectRef::Side(SideId::of(*media, number)));
            }
        }
        self.system_pools(t.media_type, NoticeOperation::Update)
    }
}

/// The notices `event` produces, in the order a client should see them
/// (the object the event is about first). Sessions are no NTMS object and
/// notify nothing.
///
/// The match is exhaustive on purpose: whoever adds an event decides here
/// what it notifies.
pub fn notices(event: &Event) -> Vec<Notice> {
    use ObjectRef as O;
    let mut n = Notices::default();
    match event {
        Event::SessionOpened { .. } | Event::SessionClosed { .. } => {}
        Event::LibraryCreated { topology, .. } => {
            n.topology(topology);
        }
        Event::LibraryAttached { topology, .. } => {
            n.topology(topology);
        }
        Event::AccessGranted { library, .. }
        | Event::AccessRevoked { library, .. }
        | Event::LibraryDeletionStarted { library }
        | Event::UnlabeledCartridgeFound { library, .. }
        | Event::ForeignCartridgeFound { library, .. } => {
            n.update(O::Library(*library));
        }
        Event::LibraryDeleted { library } => {
            n.delete(O::Library(*library));
        }
        Event::EnabledChanged { object, .. }
        | Event::AttributeSet { object, .. }
        | Event::DescriptionChanged { object, .. }
        | Event::ObjectAccessChanged { object, .. }
        | Event::ObjectInformationChanged { object, .. } => {
            n.update(*object);
        }
        Event::MountRequested { request }
        | Event::DismountRequested { request }
        | Event::EjectRequested { request }
        | Event::LabelRequested { request }
        | Event::MountWaiting { request, .. } => {
            n.queued(request);
        }
        Event::InjectRequested { request, new, .. } => {
            if *new {
                n.insert(O::Media(request.media));
            }
            n.queued(request);
        }
        Event::MountSatisfiedInPlace { request } => {
            n.insert(O::Request(request.id)).push(O::Request(request.id), NoticeOperation::Complete).promised(request);
        }
        Event::DriveMadeDismountable { drive, audit, .. } => {
            n.update(O::Drive(*drive));
            if let Some(audit) = audit {
                n.insert(O::Request(audit.id)).push(O::Request(audit.id), NoticeOperation::Complete).promised(audit);
            }
        }
        Event::HoldReleased { drive } | Event::HoldOverridden { drive, .. } => {
            n.update(O::Drive(*drive));
        }
        Event::RequestStarted { request, .. }
        | Event::MediumMoved { request, .. }
        | Event::DriveUnloaded { request, .. }
        | Event::RobotAssigned { request, .. }
        | Event::RequestRequeued { request, .. }
        | Event::MediumLoaded { request, .. }
        | Event::FreeLabelWritten { request, .. }
        | Event::RequestDeadlineSet { request, .. }
        | Event::RequestOrderSet { request, .. } => {
            n.update(O::Request(*request));
        }
        Event::MountCompleted { request, .. }
        | Event::DismountCompleted { request, .. }
        | Event::RequestFailed { request, .. }
        | Event::RequestCancelled { request, .. }
        | Event::EjectCompleted { request, .. }
        | Event::InjectCompleted { request, .. }
        | Event::LabelRequestCompleted { request, .. }
        | Event::RequestTimedOut { request, .. }
        | Event::LabelRequestSettled { request, .. } => {
            n.finished(*request);
        }
        Event::DriveAssigned { request, drive } | Event::WaitingMountAssigned { request, drive } => {
            n.update(O::Request(*request)).update(O::Drive(*drive));
        }
        Event::MediaInserted { drive, media, new, .. } => {
            match new {
                true => n.insert(O::Media(*media)),
                false => n.update(O::Media(*media)),
            };
            n.update(O::Drive(*drive));
        }
        Event::MediaRemoved { drive, media } => {
            n.update(O::Media(*media)).update(O::Drive(*drive));
        }
        Event::CartridgeAppeared { media, at, home, .. } => {
            n.insert(O::Media(*media)).place(*at);
            if let Some(home) = home {
                n.update(O::Slot(*home));
            }
        }
        Event::CartridgeMoved { media, to } => {
            n.update(O::Media(*media)).place(*to);
        }
        Event::CartridgeVanished { media }
        | Event::CartridgeTakenFromPort { media }
        | Event::MediaMovedOffline { media } => {
            n.update(O::Media(*media));
        }
        Event::PortFoundEmpty { port } => {
            n.update(O::Port(*port));
        }
        Event::MediaTypeAdded { library, media_type } => {
            n.update(O::Library(*library))
                .update(O::MediaType(*media_type))
                .system_pools(*media_type, NoticeOperation::Update);
        }
        Event::MediaTypeRemoved { library, media_type, pools_deleted } => {
            n.update(O::Library(*library)).update(O::MediaType(*media_type));
            if *pools_deleted {
                n.system_pools(*media_type, NoticeOperation::Delete);
            }
        }
        Event::PoolCreated { pool } => {
            n.insert(O::Pool(pool.id));
            if let Some(parent) = pool.parent {
                n.update(O::Pool(parent));
            }
        }
        Event::PoolDeleted { pool } => {
            n.delete(O::Pool(*pool));
        }
        Event::PoolPolicyChanged { pool, .. } => {
            n.update(O::Pool(*pool));
        }
        Event::MediumMovedToPool { media, pool, .. } | Event::MediaTypeChanged { media, pool, .. } => {
            n.update(O::Media(*media)).update(O::Pool(*pool));
        }
        Event::SideAllocated { media, side, lmid, pool, .. } => {
            n.insert(O::LogicalMedia(*lmid))
                .update(O::Side(SideId::of(*media, *side)))
                .update(O::Media(*media))
                .update(O::Pool(*pool));
        }
        Event::SideDeallocated { lmid, to_pool, .. } => {
            n.delete(O::LogicalMedia(*lmid));
            if let Some(pool) = to_pool {
                n.update(O::Pool(*pool));
            }
        }
        Event::SideCompleted { lmid } => {
            n.update(O::LogicalMedia(*lmid));
        }
        Event::SideDecommissioned { media, side } => {
            n.update(O::Side(SideId::of(*media, *side))).update(O::Media(*media));
        }
        Event::OmidUpdated { media, side, .. } => {
            n.update(O::Side(SideId::of(*media, *side)));
        }
        Event::LogicalMediaSwapped { first, second } => {
            n.update(O::LogicalMedia(*first)).update(O::LogicalMedia(*second));
        }
        Event::MediaCreated { medium } => {
            n.insert(O::Media(medium.id));
            for side in &medium.sides {
                n.insert(O::Side(medium.side_id(side.number)));
                if let Some(lmid) = side.lmid {
                    n.insert(O::LogicalMedia(lmid));
                }
            }
            n.update(O::Pool(medium.pool));
        }
        Event::MediaDeleted { media } => {
            n.delete(O::Media(*media));
        }
        Event::MediaClassified { media, request, .. } => {
            n.update(O::Media(*media));
            if let Some(request) = request {
                n.update(O::Request(*request));
            }
        }
        Event::MediaRecognized { arrival, known, request } => {
            n.delete(O::Media(*arrival)).update(O::Media(*known)).update(O::Request(*request));
        }
        Event::OperatorRequestSubmitted { request } => {
            n.insert(O::OperatorRequest(request.id));
        }
        Event::OperatorRequestClosed { request, .. } => {
            n.update(O::OperatorRequest(*request)).push(O::OperatorRequest(*request), NoticeOperation::Complete);
        }
        // The door is the library's: its state, the inventory chosen, the
        // slots waiting for it are read from the library.
        Event::DoorAccessQueued { library, .. }
        | Event::DoorUnlocked { library, .. }
        | Event::DoorInventoryChosen { library, .. }
        | Event::DoorClosed { library, .. }
        | Event::InventoryCompleted { library }
        | Event::DoorLeftOpen { library, .. } => {
            n.update(O::Library(*library));
        }
        Event::MediaIdentified { media, request, .. } => {
            n.update(O::Media(*media)).update(O::Request(*request));
        }
        Event::MountAwaitsMedium { request, .. } | Event::AwaitedMediumArrived { request } => {
            n.update(O::Request(*request));
        }
        Event::DrivePresence { drive, .. } => {
            n.update(O::Drive(*drive));
        }
        Event::DriveDeleted { drive } => {
            n.delete(O::Drive(*drive));
        }
        Event::MountRefusedByOperator { request, .. } => {
            n.finished(*request);
        }
        Event::InventoryStopped { requests, .. } => {
            for request in requests {
                n.finished(*request);
            }
        }
        Event::CleanerSlotReserved { library, slot } => {
            n.update(O::Library(*library)).update(O::Slot(*slot));
        }
        Event::CleanerSlotReleased { library } | Event::CleanerExpected { library, .. } => {
            n.update(O::Library(*library));
        }
        Event::CleanerFound { library, media, .. } => {
            n.insert(O::Media(*media)).update(O::Library(*library));
        }
        Event::CleaningWanted { drive, .. }
        | Event::CleanerAwaited { drive, .. }
        | Event::CleaningRefused { drive, .. }
        | Event::StandaloneDriveCleaned { drive, .. } => {
            n.update(O::Drive(*drive));
        }
        Event::CleanQueued { request } if request.state.is_terminal() => {
            n.insert(O::Request(request.id)).push(O::Request(request.id), NoticeOperation::Complete);
        }
        Event::CleanQueued { request } => {
            n.queued(request);
        }
        Event::CleanerLoaded { request, .. } => {
            n.update(O::Request(*request));
        }
        Event::DriveCleaned { request, drive, .. } => {
            n.update(O::Request(*request)).update(O::Drive(*drive));
        }
        // Detections are session state, no NTMS object.
        Event::ChangeDetectionBegun { .. }
        | Event::ChangeDetectionWatches { .. }
        | Event::ChangeDetectionPolled { .. }
        | Event::ChangeDetectionEnded { .. } => {}
        Event::StandaloneDiskEjected { request } => {
            n.insert(O::Request(request.id)).push(O::Request(request.id), NoticeOperation::Complete);
            n.update(O::Media(request.media));
            if let Some(drive) = request.drive {
                n.update(O::Drive(drive));
            }
        }
        Event::CleanCompleted { request, .. } => {
            n.finished(*request);
        }
        Event::RequestsDeleted { requests, operator_requests } => {
            for request in requests {
                n.delete(O::Request(*request));
            }
            for request in operator_requests {
                n.delete(O::OperatorRequest(*request));
            }
        }
    }
    n.0
}

/// The object types a channel may be opened for: `NtmsObjectsTypes` from
/// NTMS_OBJECT (1) to NTMS_UI_DESTINATION (18). rsm keeps objects of some of
/// them only; a channel of another valid type opens and stays silent.
pub const NOTIFICATION_TYPES: std::ops::RangeInclusive<u32> = 1..=18;

/// The type a channel opened with `dw_type` delivers: `Some` for a type
/// rsm has objects of, `None` for a valid type it has none of.
/// ERROR_INVALID_PARAMETER outside [`NOTIFICATION_TYPES`] (rsm rule).
pub fn notification_type(dw_type: u32) -> Result<Option<ObjectType>, NtmsError> {
    if !NOTIFICATION_TYPES.contains(&dw_type) {
        return Err(NtmsError::new(
            ErrorCode::InvalidParameter,
            format!("{dw_type} is no object type: dwType is 1 to 18 (NtmsObjectsTypes)"),
        ));
    }
    Ok(ObjectType::ALL.iter().copied().find(|t| t.ntms_value() == dw_type))
}

/// OpenNtmsNotification's checks, in the spec's §2.3 order: the session
/// (ERROR_INVALID_HANDLE: unknown or closed), the type
/// (ERROR_INVALID_PARAMETER: outside 1..18), USE on the computer
/// (ERROR_ACCESS_DENIED). Returns the type the channel delivers, as
/// [`notification_type`] does.
pub fn check_open_notification(
    state: &State,
    policy: &Policy,
    session: SessionId,
    dw_type: u32,
) -> Result<Option<ObjectType>, NtmsError> {
    let principal = match state.sessions.get(&session) {
        Some(s) if s.open => s.principal.as_str(),
        Some(_) => return Err(NtmsError::new(ErrorCode::InvalidHandle, format!("session {session} is closed"))),
        None => return Err(NtmsError::new(ErrorCode::InvalidHandle, format!("no session {session}"))),
    };
    let delivered = notification_type(dw_type)?;
    if !policy.computer_rights(state, principal).allows(AccessMask::USE) {
        return Err(NtmsError::new(
            ErrorCode::AccessDenied,
            format!("{principal} lacks use access over the computer needed to open a notification channel"),
        ));
    }
    Ok(delivered)
}
