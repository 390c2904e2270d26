//! The notices each event produces (spec §3.7): one table row per event
//! family, with the exact notices in order. Every variant is also covered by
//! the golden events of `rsm-log` (`every_event_notifies_as_its_family_says`).

use rsm_model::uuid::Uuid;
use rsm_model::*;
use NoticeOperation::{Complete, Delete, Insert, Update};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

const LIB: LibraryId = LibraryId(Uuid::from_u128(0x11));
const DRIVE: DriveId = DriveId(Uuid::from_u128(0x22));
const SLOT: SlotId = SlotId(Uuid::from_u128(0x33));
const PORT: PortId = PortId(Uuid::from_u128(0x44));
const MEDIA: MediaId = MediaId(Uuid::from_u128(0x55));
const REQ: RequestId = RequestId(Uuid::from_u128(0x66));
const POOL: PoolId = PoolId(Uuid::from_u128(0x77));
const LMID: LogicalMediaId = LogicalMediaId(Uuid::from_u128(0x88));

fn request(kind: RequestKind) -> LibraryRequest {
    let mut r = LibraryRequest::new(REQ, kind, LIB, MEDIA, "alice", 1_000);
    match kind {
        RequestKind::Eject | RequestKind::Inject => r.port = Some(PORT),
        _ => r.drive = Some(DRIVE),
    }
    r.slot = Some(SLOT);
    r
}

fn n(object: ObjectRef, operation: NoticeOperation) -> Notice {
    Notice { object, operation }
}

/// `check(event, expected)`: the one helper every row goes through.
fn check(event: Event, expected: &[Notice]) {
    assert_eq!(notices(&event), expected, "notices of {}", event.name());
}

#[test]
fn sessions_notify_nothing() {
    check(Event::SessionOpened { session: SessionId(id(1)), principal: "a".into(), application: "RSM".into() }, &[]);
    check(Event::SessionClosed { session: SessionId(id(1)) }, &[]);
}

#[test]
fn a_new_library_inserts_every_object_in_it_and_updates_its_system_pools() {
    let media_type = default_media_type();
    let topology = LibraryTopology {
        id: LIB,
        name: "lib".into(),
        kind: LibraryKind::Changer,
        drives: vec![(DRIVE, "d".into(), 1)],
        slots: vec![(SLOT, "s".into(), 2)],
        ports: vec![(PORT, "p".into(), 3)],
        media: vec![(MEDIA, "A00001L8".into(), Some(SLOT))],
        unlabelled: vec![],
        defer_dismount_delay_s: 0,
        media_type,
    };
    let pools = SystemPools::of(media_type);
    let sides = media_type_of(media_type);
    let mut expected = vec![
        n(ObjectRef::Library(LIB), Insert),
        n(ObjectRef::Drive(DRIVE), Insert),
        n(ObjectRef::Slot(SLOT), Insert),
        n(ObjectRef::Port(PORT), Insert),
        n(ObjectRef::Media(MEDIA), Insert),
    ];
    expected.extend((0..sides).map(|s| n(ObjectRef::Side(SideId::of(MEDIA, s)), Insert)));
    expected.extend([pools.free, pools.import, pools.unrecognized].map(|p| n(ObjectRef::Pool(p), Update)));
    check(Event::LibraryCreated { topology: topology.clone(), creator: "alice".into() }, &expected);
    check(
        Event::LibraryAttached { topology, in_drives: vec![], device: "/dev/sg0".into(), creator: "alice".into() },
        &expected,
    );
}

fn media_type_of(t: MediaTypeId) -> u8 {
    media_type(t).expect("the default media type is in the catalog").sides
}

#[test]
fn libraries_update_and_delete() {
    let rows = [
        (Event::AccessGranted { library: LIB, principal: "bob".into(), rights: AccessMask::USE }, Update),
        (Event::AccessRevoked { library: LIB, principal: "bob".into(), rights: AccessMask::USE }, Update),
        (Event::LibraryDeletionStarted { library: LIB }, Update),
        (Event::UnlabeledCartridgeFound { library: LIB, address: 7 }, Update),
        (Event::ForeignCartridgeFound { library: LIB, address: 7, barcode: "X".into() }, Update),
        (Event::LibraryDeleted { library: LIB }, Delete),
    ];
    for (event, op) in rows {
        check(event, &[n(ObjectRef::Library(LIB), op)]);
    }
}

#[test]
fn object_management_updates_the_object_named() {
    for object in [ObjectRef::Drive(DRIVE), ObjectRef::Pool(POOL), ObjectRef::Computer] {
        let rows = [
            Event::EnabledChanged { object, enabled: false },
            Event::AttributeSet { object, name: "k".into(), value: vec![1] },
            Event::DescriptionChanged { object, description: "d".into() },
            Event::ObjectAccessChanged { object, principal: "bob".into(), rights: AccessMask::USE },
            Event::ObjectInformationChanged { object, field: InfoField::Name("x".into()) },
        ];
        for event in rows {
            check(event, &[n(object, Update)]);
        }
    }
}

#[test]
fn a_queued_request_is_inserted_with_what_it_promised_itself() {
    let r = ObjectRef::Request(REQ);
    let (m, d, p) = (ObjectRef::Media(MEDIA), ObjectRef::Drive(DRIVE), ObjectRef::Port(PORT));
    let rows = [
        (
            Event::MountRequested { request: request(RequestKind::Mount) },
            vec![n(r, Insert), n(m, Update), n(d, Update)],
        ),
        (
            Event::DismountRequested { request: request(RequestKind::Dismount) },
            vec![n(r, Insert), n(m, Update), n(d, Update)],
        ),
        (
            Event::EjectRequested { request: request(RequestKind::Eject) },
            vec![n(r, Insert), n(m, Update), n(p, Update)],
        ),
        (
            Event::LabelRequested { request: request(RequestKind::Classify) },
            vec![n(r, Insert), n(m, Update), n(d, Update)],
        ),
        (
            Event::MountWaiting { request: request(RequestKind::Mount), drive: None },
            vec![n(r, Insert), n(m, Update), n(d, Update)],
        ),
        (
            Event::InjectRequested { request: request(RequestKind::Inject), barcode: "A".into(), new: true },
            vec![n(m, Insert), n(r, Insert), n(p, Update)],
        ),
        (
            Event::InjectRequested { request: request(RequestKind::Inject), barcode: "A".into(), new: false },
            vec![n(r, Insert), n(m, Update), n(p, Update)],
        ),
        (
            Event::MountSatisfiedInPlace { request: request(RequestKind::Mount) },
            vec![n(r, Insert), n(r, Complete), n(m, Update), n(d, Update)],
        ),
    ];
    for (event, expected) in rows {
        check(event, &expected);
    }
}

#[test]
fn a_request_progresses_by_updates_and_ends_with_complete() {
    let r = ObjectRef::Request(REQ);
    let progress = [
        Event::RequestStarted { request: REQ, at_ms: 1 },
        Event::MediumMoved { request: REQ, at_ms: 1 },
        Event::DriveUnloaded { request: REQ, at_ms: 1 },
        Event::RobotAssigned { request: REQ, at_ms: 1 },
        Event::RequestRequeued { request: REQ, at_ms: 1 },
        Event::MediumLoaded { request: REQ, at_ms: 1 },
        Event::RequestDeadlineSet { request: REQ, deadline_ms: 9 },
        Event::RequestOrderSet { request: REQ, position: 1 },
    ];
    for event in progress {
        check(event, &[n(r, Update)]);
    }
    let ends = [
        Event::MountCompleted { request: REQ, at_ms: 1 },
        Event::DismountCompleted { request: REQ, at_ms: 1 },
        Event::RequestFailed { request: REQ, error: 4323, sense: None, observed: Observed::Unknown, at_ms: 1 },
        Event::RequestCancelled { request: REQ, at_ms: 1 },
        Event::EjectCompleted { request: REQ, at_ms: 1 },
        Event::InjectCompleted { request: REQ, at_ms: 1 },
        Event::LabelRequestCompleted { request: REQ, at_ms: 1 },
        Event::RequestTimedOut { request: REQ, error: 1460, at_ms: 1 },
        Event::LabelRequestSettled { request: REQ, at_ms: 1 },
    ];
    for event in ends {
        check(event, &[n(r, Update), n(r, Complete)]);
    }
    let d = ObjectRef::Drive(DRIVE);
    check(Event::DriveAssigned { request: REQ, drive: DRIVE }, &[n(r, Update), n(d, Update)]);
    check(Event::WaitingMountAssigned { request: REQ, drive: DRIVE }, &[n(r, Update), n(d, Update)]);
    check(
        Event::RequestsDeleted { requests: vec![REQ], operator_requests: vec![OperatorRequestId(id(9))] },
        &[n(r, Delete), n(ObjectRef::OperatorRequest(OperatorRequestId(id(9))), Delete)],
    );
}

#[test]
fn drives_and_holds() {
    let d = ObjectRef::Drive(DRIVE);
    check(Event::HoldReleased { drive: DRIVE }, &[n(d, Update)]);
    check(Event::HoldOverridden { drive: DRIVE, holder: SessionId(id(1)), by: "admin".into() }, &[n(d, Update)]);
    check(Event::DriveMadeDismountable { drive: DRIVE, deadline_ms: Some(5), audit: None }, &[n(d, Update)]);
    // A stand-alone drive's DismountNtmsDrive records its audit request, passed.
    let audit = request(RequestKind::Dismount);
    let r = ObjectRef::Request(REQ);
    check(
        Event::DriveMadeDismountable { drive: DRIVE, deadline_ms: None, audit: Some(audit) },
        &[n(d, Update), n(r, Insert), n(r, Complete), n(ObjectRef::Media(MEDIA), Update)],
    );
    let m = ObjectRef::Media(MEDIA);
    check(
        Event::MediaInserted { drive: DRIVE, media: MEDIA, barcode: "A".into(), new: true },
        &[n(m, Insert), n(d, Update)],
    );
    check(
        Event::MediaInserted { drive: DRIVE, media: MEDIA, barcode: "A".into(), new: false },
        &[n(m, Update), n(d, Update)],
    );
    check(Event::MediaRemoved { drive: DRIVE, media: MEDIA }, &[n(m, Update), n(d, Update)]);
}

#[test]
fn inventory_and_ports() {
    let (m, s, p) = (ObjectRef::Media(MEDIA), ObjectRef::Slot(SLOT), ObjectRef::Port(PORT));
    let other = SlotId(id(0x34));
    check(
        Event::CartridgeAppeared {
            media: MEDIA,
            barcode: "A".into(),
            library: LIB,
            at: Location::Slot(SLOT),
            home: Some(SLOT),
        },
        // The slot is both where it was found and its home: notified once.
        &[n(m, Insert), n(s, Update)],
    );
    check(
        Event::CartridgeAppeared {
            media: MEDIA,
            barcode: "A".into(),
            library: LIB,
            at: Location::Drive(DRIVE),
            home: Some(other),
        },
        &[n(m, Insert), n(ObjectRef::Drive(DRIVE), Update), n(ObjectRef::Slot(other), Update)],
    );
    check(Event::CartridgeMoved { media: MEDIA, to: Location::Port(PORT) }, &[n(m, Update), n(p, Update)]);
    check(Event::CartridgeMoved { media: MEDIA, to: Location::Offline }, &[n(m, Update)]);
    for event in [
        Event::CartridgeVanished { media: MEDIA },
        Event::CartridgeTakenFromPort { media: MEDIA },
        Event::MediaMovedOffline { media: MEDIA },
    ] {
        check(event, &[n(m, Update)]);
    }
    check(Event::PortFoundEmpty { port: PORT }, &[n(p, Update)]);
}

#[test]
fn media_services() {
    let t = default_media_type();
    let pools = SystemPools::of(t);
    let system = |op| [pools.free, pools.import, pools.unrecognized].map(|p| n(ObjectRef::Pool(p), op));
    let (l, mt) = (ObjectRef::Library(LIB), ObjectRef::MediaType(t));
    let mut added = vec![n(l, Update), n(mt, Update)];
    added.extend(system(Update));
    check(Event::MediaTypeAdded { library: LIB, media_type: t }, &added);
    let mut removed = vec![n(l, Update), n(mt, Update)];
    removed.extend(system(Delete));
    check(Event::MediaTypeRemoved { library: LIB, media_type: t, pools_deleted: true }, &removed);
    check(Event::MediaTypeRemoved { library: LIB, media_type: t, pools_deleted: false }, &removed[..2]);

    let (m, p, lm) = (ObjectRef::Media(MEDIA), ObjectRef::Pool(POOL), ObjectRef::LogicalMedia(LMID));
    let side = ObjectRef::Side(SideId::of(MEDIA, 0));
    check(Event::PoolDeleted { pool: POOL }, &[n(p, Delete)]);
    check(
        Event::PoolPolicyChanged { pool: POOL, from_scratch: true, to_scratch: true, max_allocates: 0 },
        &[n(p, Update)],
    );
    check(Event::MediumMovedToPool { media: MEDIA, pool: POOL, sides: None }, &[n(m, Update), n(p, Update)]);
    check(
        Event::MediaTypeChanged { media: MEDIA, pool: POOL, media_type: t, sides: None },
        &[n(m, Update), n(p, Update)],
    );
    check(
        Event::SideAllocated { media: MEDIA, side: 0, lmid: LMID, pool: POOL, reserve_others: false },
        &[n(lm, Insert), n(side, Update), n(m, Update), n(p, Update)],
    );
    check(
        Event::SideDeallocated { lmid: LMID, to: SideState::Available, to_pool: Some(POOL) },
        &[n(lm, Delete), n(p, Update)],
    );
    check(Event::SideCompleted { lmid: LMID }, &[n(lm, Update)]);
    check(Event::SideDecommissioned { media: MEDIA, side: 0 }, &[n(side, Update), n(m, Update)]);
    let second = LogicalMediaId(id(0x89));
    check(
        Event::LogicalMediaSwapped { first: LMID, second },
        &[n(lm, Update), n(ObjectRef::LogicalMedia(second), Update)],
    );
    check(Event::MediaDeleted { media: MEDIA }, &[n(m, Delete)]);
}

#[test]
fn classification() {
    let (m, r) = (ObjectRef::Media(MEDIA), ObjectRef::Request(REQ));
    check(
        Event::MediaClassified { media: MEDIA, class: Classification::Blank, request: Some(REQ) },
        &[n(m, Update), n(r, Update)],
    );
    check(Event::MediaClassified { media: MEDIA, class: Classification::Foreign, request: None }, &[n(m, Update)]);
    let known = MediaId(id(0x56));
    check(
        Event::MediaRecognized { arrival: MEDIA, known, request: REQ },
        &[n(m, Delete), n(ObjectRef::Media(known), Update), n(r, Update)],
    );
}

#[test]
fn operator_requests_are_inserted_then_complete() {
    let o = OperatorRequestId(id(0x99));
    let r = ObjectRef::OperatorRequest(o);
    check(
        Event::OperatorRequestClosed { request: o, state: OperatorRequestState::Refused, reason: None, at_ms: 1 },
        &[n(r, Update), n(r, Complete)],
    );
}

#[test]
fn operations_carry_their_ntms_values_and_ids_their_guids() {
    assert_eq!(
        [Update, Insert, Delete, Complete].map(NoticeOperation::ntms_value),
        [1, 2, 3, 5],
        "NtmsNotificationOperations"
    );
    let notice = n(ObjectRef::Drive(DRIVE), Update);
    assert_eq!((notice.object_type(), notice.object_id()), (ObjectType::Drive, DRIVE.0));
    assert_eq!(n(ObjectRef::Computer, Update).object_id(), Uuid::nil());
}

#[test]
fn channel_types_are_one_to_eighteen() {
    for (dw_type, expected) in [
        (0, Err(ErrorCode::InvalidParameter)),
        (1, Ok(None)), // NTMS_OBJECT: valid, rsm keeps none
        (2, Ok(None)), // NTMS_CHANGER
        (5, Ok(Some(ObjectType::Drive))),
        (10, Ok(Some(ObjectType::LibraryRequest))),
        (17, Ok(Some(ObjectType::OperatorRequest))),
        (18, Ok(None)), // NTMS_UI_DESTINATION
        (19, Err(ErrorCode::InvalidParameter)),
        (u32::MAX, Err(ErrorCode::InvalidParameter)),
    ] {
        assert_eq!(notification_type(dw_type).map_err(|e| e.kind()), expected, "dwType {dw_type}");
    }
}

#[test]
fn the_door_is_its_librarys_and_a_stopped_inventory_completes_its_requests() {
    let l = ObjectRef::Library(LIB);
    for event in [
        Event::DoorAccessQueued { library: LIB, inventory: InventoryMethod::Fast },
        Event::DoorUnlocked { library: LIB, inventory: InventoryMethod::Fast, at_ms: 1 },
        Event::DoorInventoryChosen { library: LIB, method: InventoryMethod::Omid },
        Event::DoorClosed { library: LIB, at_ms: 2 },
        Event::InventoryCompleted { library: LIB },
        Event::DoorLeftOpen { library: LIB, request: OperatorRequestId(id(0x99)) },
    ] {
        check(event, &[n(l, Update)]);
    }
    check(
        Event::MediaIdentified { media: MEDIA, request: REQ, matched: true },
        &[n(ObjectRef::Media(MEDIA), Update), n(ObjectRef::Request(REQ), Update)],
    );
    let other = RequestId(id(0x67));
    check(
        Event::InventoryStopped { library: LIB, requests: vec![REQ, other], at_ms: 3 },
        &[
            n(ObjectRef::Request(REQ), Update),
            n(ObjectRef::Request(REQ), Complete),
            n(ObjectRef::Request(other), Update),
            n(ObjectRef::Request(other), Complete),
        ],
    );
}

#[test]
fn cleaner_events_update_the_library_and_drive_and_a_cleaning_notifies_as_a_request() {
    let (l, d, m, r) =
        (ObjectRef::Library(LIB), ObjectRef::Drive(DRIVE), ObjectRef::Media(MEDIA), ObjectRef::Request(REQ));
    check(Event::CleanerSlotReserved { library: LIB, slot: SLOT }, &[n(l, Update), n(ObjectRef::Slot(SLOT), Update)]);
    check(Event::CleanerSlotReleased { library: LIB }, &[n(l, Update)]);
    check(Event::CleanerExpected { library: LIB, cleans: 3 }, &[n(l, Update)]);
    check(Event::CleanerFound { library: LIB, media: MEDIA, barcode: "CLN1".into() }, &[n(m, Insert), n(l, Update)]);
    for event in [
        Event::CleaningWanted { drive: DRIVE, submitter: "a".into(), at_ms: 1 },
        Event::CleanerAwaited { drive: DRIVE, operator_request: OperatorRequestId(id(0x99)) },
        Event::CleaningRefused { drive: DRIVE, at_ms: 2 },
        Event::StandaloneDriveCleaned { drive: DRIVE, principal: "a".into(), at_ms: 3 },
    ] {
        check(event, &[n(d, Update)]);
    }
    check(Event::CleanQueued { request: request(RequestKind::Clean) }, &[n(r, Insert), n(m, Update), n(d, Update)]);
    let mut spent = request(RequestKind::Clean);
    spent.state = RequestState::Failed;
    check(Event::CleanQueued { request: spent }, &[n(r, Insert), n(r, Complete)]);
    check(Event::CleanerLoaded { request: REQ, at_ms: 4 }, &[n(r, Update)]);
    check(Event::DriveCleaned { request: REQ, drive: DRIVE, at_ms: 5 }, &[n(r, Update), n(d, Update)]);
    check(Event::CleanCompleted { request: REQ, at_ms: 6 }, &[n(r, Update), n(r, Complete)]);
}

#[test]
fn a_stand_alone_eject_is_a_finished_request_and_updates_its_medium_and_drive() {
    let mut r = request(RequestKind::Eject);
    r.port = None;
    r.drive = Some(DRIVE);
    r.state = RequestState::Passed;
    let (req, m, d) = (ObjectRef::Request(REQ), ObjectRef::Media(MEDIA), ObjectRef::Drive(DRIVE));
    check(Event::StandaloneDiskEjected { request: r }, &[n(req, Insert), n(req, Complete), n(m, Update), n(d, Update)]);
}
