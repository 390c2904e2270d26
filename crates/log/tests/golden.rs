//! Golden fixtures: the stored bytes of one canonical instance of every
//! event variant, and of a small snapshot, compared byte for byte.
//!
//! A failure here means the stored format changed: logs written before the
//! change would no longer read. Either undo the change, or make it on
//! purpose (bump `codec::SCHEMA_VERSION` or `CODEC_V1` and keep decoding the
//! old bytes) and rewrite the fixtures with
//! `RSM_BLESS=1 cargo test -p rsm-log --test golden`.

use rsm_log::{codec, Envelope, Snapshot, GENESIS_HASH};
use rsm_model::uuid::Uuid;
use rsm_model::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const AT_MS: u64 = 1_700_000_000_000;

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

fn blessing() -> bool {
    std::env::var("RSM_BLESS").as_deref() == Ok("1")
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0000_5EED_0000_0000_0000_0000_0000_0000 | n)
}

fn request(kind: RequestKind, state: RequestState) -> LibraryRequest {
    LibraryRequest {
        id: RequestId(id(0x100)),
        library: LibraryId(id(0x10)),
        kind,
        state,
        phase: None,
        priority: -3,
        order: 17,
        drive: (!kind.uses_port()).then_some(DriveId(id(0x20))),
        media: MediaId(id(0x40)),
        slot: Some(SlotId(id(0x30))),
        session: Some(SessionId(id(0x1))),
        submitter: "alice".into(),
        write: true,
        origin: match kind {
            RequestKind::Dismount => Some(DismountOrigin::DeferredExpiry),
            RequestKind::Mount
            | RequestKind::Eject
            | RequestKind::Inject
            | RequestKind::Classify
            | RequestKind::WriteScratch
            | RequestKind::Clean
            | RequestKind::InjectCleaner
            | RequestKind::EjectCleaner => None,
        },
        time_queued_ms: AT_MS,
        time_completed_ms: Some(AT_MS + 4_500),
        error: None,
        sense: Some(Sense { key: 2, asc: 0x3A, ascq: 0 }),
        port: kind.uses_port().then_some(PortId(id(0x50))),
    }
}

/// One canonical instance of every event variant.
fn canonical_events() -> Vec<Event> {
    let r = RequestId(id(0x100));
    vec![
        Event::SessionOpened { session: SessionId(id(0x1)), principal: "alice".into(), application: "RSM".into() },
        Event::SessionClosed { session: SessionId(id(0x1)) },
        Event::LibraryCreated {
            topology: LibraryTopology {
                id: LibraryId(id(0x10)),
                name: "lib".into(),
                kind: LibraryKind::Changer,
                drives: vec![(DriveId(id(0x20)), "lib-drive-1".into(), 500)],
                slots: vec![
                    (SlotId(id(0x30)), "lib-slot-1".into(), 1000),
                    (SlotId(id(0x31)), "lib-slot-2".into(), 1001),
                ],
                ports: vec![(PortId(id(0x50)), "lib-port-1".into(), 10)],
                media: vec![
                    (MediaId(id(0x40)), "A00001L8".into(), Some(SlotId(id(0x30)))),
                    (MediaId(id(0x41)), "A00002L8".into(), None),
                ],
                unlabelled: vec![MediaId(id(0x41))],
                defer_dismount_delay_s: 300,
                media_type: rsm_model::default_media_type(),
            },
            creator: "alice".into(),
        },
        Event::AccessGranted {
            library: LibraryId(id(0x10)),
            principal: "bob".into(),
            rights: AccessMask::USE.with(AccessMask::MODIFY),
        },
        Event::AccessRevoked { library: LibraryId(id(0x10)), principal: "bob".into(), rights: AccessMask::MODIFY },
        Event::EnabledChanged { object: ObjectRef::Drive(DriveId(id(0x20))), enabled: false },
        Event::MountRequested { request: request(RequestKind::Mount, RequestState::Queued) },
        Event::MountSatisfiedInPlace { request: request(RequestKind::Mount, RequestState::Passed) },
        Event::DismountRequested { request: request(RequestKind::Dismount, RequestState::Queued) },
        Event::DriveMadeDismountable {
            drive: DriveId(id(0x20)),
            deadline_ms: Some(AT_MS + 300_000),
            audit: Some(request(RequestKind::Dismount, RequestState::Passed)),
        },
        Event::HoldReleased { drive: DriveId(id(0x20)) },
        Event::RequestStarted { request: r, at_ms: AT_MS + 1 },
        Event::MediumMoved { request: r, at_ms: AT_MS + 1 },
        Event::DriveUnloaded { request: r, at_ms: AT_MS + 1 },
        Event::RobotAssigned { request: r, at_ms: AT_MS + 1 },
        Event::MountCompleted { request: r, at_ms: AT_MS + 2 },
        Event::DismountCompleted { request: r, at_ms: AT_MS + 3 },
        Event::RequestFailed {
            request: r,
            error: 4317,
            sense: Some(Sense { key: 4, asc: 0x15, ascq: 1 }),
            observed: Observed::Slot(SlotId(id(0x31))),
            at_ms: AT_MS + 4,
        },
        Event::RequestCancelled { request: r, at_ms: AT_MS + 5 },
        Event::MediaInserted {
            drive: DriveId(id(0x20)),
            media: MediaId(id(0x42)),
            barcode: "B00001L8".into(),
            new: true,
        },
        Event::LibraryDeletionStarted { library: LibraryId(id(0x10)) },
        Event::LibraryDeleted { library: LibraryId(id(0x10)) },
        Event::MediaRemoved { drive: DriveId(id(0x20)), media: MediaId(id(0x42)) },
        Event::LibraryAttached {
            topology: LibraryTopology {
                id: LibraryId(id(0x11)),
                name: "vtl".into(),
                kind: LibraryKind::Changer,
                drives: vec![(DriveId(id(0x21)), "vtl-drive-1".into(), 500)],
                slots: vec![
                    (SlotId(id(0x32)), "vtl-slot-1".into(), 1024),
                    (SlotId(id(0x33)), "vtl-slot-2".into(), 1025),
                ],
                ports: vec![(PortId(id(0x51)), "vtl-port-1".into(), 2)],
                media: vec![
                    (MediaId(id(0x43)), "A00001L8".into(), Some(SlotId(id(0x32)))),
                    (MediaId(id(0x44)), "A00002L8".into(), Some(SlotId(id(0x33)))),
                ],
                unlabelled: Vec::new(),
                defer_dismount_delay_s: 300,
                media_type: rsm_model::default_media_type(),
            },
            in_drives: vec![(MediaId(id(0x44)), DriveId(id(0x21)))],
            device: "iscsi://127.0.0.1:3260/iqn.2026-11.org.rsm:vtl/0".into(),
            creator: "alice".into(),
        },
        Event::CartridgeAppeared {
            media: MediaId(id(0x45)),
            barcode: "N00001L8".into(),
            library: LibraryId(id(0x11)),
            at: Location::Drive(DriveId(id(0x21))),
            home: Some(SlotId(id(0x33))),
        },
        Event::CartridgeVanished { media: MediaId(id(0x43)) },
        Event::CartridgeMoved { media: MediaId(id(0x44)), to: Location::Slot(SlotId(id(0x32))) },
        Event::UnlabeledCartridgeFound { library: LibraryId(id(0x11)), address: 1026 },
        Event::ForeignCartridgeFound { library: LibraryId(id(0x11)), address: 1027, barcode: "A00001L8".into() },
        Event::EjectRequested { request: request(RequestKind::Eject, RequestState::Queued) },
        Event::InjectRequested {
            request: request(RequestKind::Inject, RequestState::Queued),
            barcode: "C00001L8".into(),
            new: true,
        },
        Event::EjectCompleted { request: r, at_ms: AT_MS + 6 },
        Event::InjectCompleted { request: r, at_ms: AT_MS + 7 },
        Event::CartridgeTakenFromPort { media: MediaId(id(0x40)) },
        Event::MediaMovedOffline { media: MediaId(id(0x40)) },
        Event::PortFoundEmpty { port: PortId(id(0x41)) },
        Event::RequestRequeued { request: RequestId(id(0x42)), at_ms: 1_700_000_000_500 },
        Event::HoldOverridden { drive: DriveId(id(0x43)), holder: SessionId(id(0x44)), by: "operator".into() },
        Event::MediaTypeAdded { library: LibraryId(id(0x45)), media_type: rsm_model::default_media_type() },
        Event::MediaTypeRemoved {
            library: LibraryId(id(0x46)),
            media_type: rsm_model::default_media_type(),
            pools_deleted: true,
        },
        Event::PoolCreated {
            pool: Pool {
                id: PoolId(id(0x47)),
                name: "Daily".into(),
                parent: Some(PoolId(id(0x48))),
                kind: PoolType::Application,
                media_type: Some(rsm_model::default_media_type()),
                from_scratch: true,
                to_scratch: false,
                max_allocates: 30,
                access: [("alice".to_string(), AccessMask::ALL)].into_iter().collect(),
            },
        },
        Event::PoolDeleted { pool: PoolId(id(0x49)) },
        Event::PoolPolicyChanged { pool: PoolId(id(0x4A)), from_scratch: false, to_scratch: true, max_allocates: 5 },
        Event::MediumMovedToPool {
            media: MediaId(id(0x4B)),
            pool: PoolId(id(0x4C)),
            sides: Some(SideState::Unprepared),
        },
        Event::SideAllocated {
            media: MediaId(id(0x4D)),
            side: 1,
            lmid: LogicalMediaId(id(0x4E)),
            pool: PoolId(id(0x4F)),
            reserve_others: true,
        },
        Event::SideDeallocated {
            lmid: LogicalMediaId(id(0x50)),
            to: SideState::Decommissioned,
            to_pool: Some(PoolId(id(0x51))),
        },
        Event::SideCompleted { lmid: LogicalMediaId(id(0x52)) },
        Event::SideDecommissioned { media: MediaId(id(0x53)), side: 0 },
        Event::LogicalMediaSwapped { first: LogicalMediaId(id(0x54)), second: LogicalMediaId(id(0x55)) },
        Event::MediaCreated {
            medium: {
                let kind = rsm_model::media_type(rsm_model::default_media_type()).expect("in the catalog");
                let mut m = Medium::new(MediaId(id(0x56)), "OFF001L8", LibraryId::OFFLINE, kind);
                m.pool = PoolId(id(0x57));
                m.sides[0].state = SideState::Allocated;
                m.sides[0].lmid = Some(LogicalMediaId(id(0x58)));
                m
            },
        },
        Event::MediaDeleted { media: MediaId(id(0x59)) },
        Event::MediaTypeChanged {
            media: MediaId(id(0x5A)),
            pool: PoolId(id(0x5B)),
            media_type: rsm_model::default_media_type(),
            sides: None,
        },
        Event::LabelRequested {
            request: LibraryRequest {
                drive: None,
                session: None,
                write: false,
                submitter: "rsm".into(),
                sense: None,
                time_completed_ms: None,
                ..request(RequestKind::Classify, RequestState::Queued)
            },
        },
        Event::DriveAssigned { request: r, drive: DriveId(id(0x20)) },
        Event::MediumLoaded { request: r, at_ms: AT_MS + 900 },
        Event::MediaClassified {
            media: MediaId(id(0x40)),
            class: Classification::Import(Omid {
                label_type: "LTFS".into(),
                label_id: b"LT0042".to_vec(),
                info: "LTFS volume LT0042".into(),
            }),
            request: Some(r),
        },
        Event::FreeLabelWritten {
            request: r,
            omid: Omid {
                label_type: "RSM".into(),
                label_id: b"A00001".to_vec(),
                info: "rsm free media label, volume A00001".into(),
            },
        },
        Event::LabelRequestCompleted { request: r, at_ms: AT_MS + 3_000 },
        Event::MediaRecognized { arrival: MediaId(id(0x40)), known: MediaId(id(0x41)), request: r },
        Event::ObjectInformationChanged {
            object: ObjectRef::Drive(DriveId(id(0x20))),
            field: InfoField::DeferDismountDelay(Some(60)),
        },
        Event::MountWaiting {
            request: LibraryRequest {
                drive: None,
                state: RequestState::Waiting,
                time_completed_ms: None,
                sense: None,
                ..request(RequestKind::Mount, RequestState::Queued)
            },
            drive: Some(DriveId(id(0x20))),
        },
        Event::WaitingMountAssigned { request: r, drive: DriveId(id(0x20)) },
        Event::RequestDeadlineSet { request: r, deadline_ms: AT_MS + 60_000 },
        Event::RequestOrderSet { request: r, position: 1 },
        Event::RequestsDeleted { requests: vec![r], operator_requests: vec![OperatorRequestId(id(0x70))] },
        Event::RequestTimedOut { request: r, error: 1460, at_ms: AT_MS + 60_000 },
        Event::LabelRequestSettled { request: r, at_ms: AT_MS + 61_000 },
        Event::DoorAccessQueued { library: LibraryId(id(0x10)), inventory: InventoryMethod::Fast },
        Event::DoorUnlocked { library: LibraryId(id(0x10)), inventory: InventoryMethod::Omid, at_ms: AT_MS + 62_000 },
        Event::DoorInventoryChosen { library: LibraryId(id(0x10)), method: InventoryMethod::None },
        Event::DoorClosed { library: LibraryId(id(0x10)), at_ms: AT_MS + 63_000 },
        Event::InventoryCompleted { library: LibraryId(id(0x10)) },
        Event::MediaIdentified { media: MediaId(id(0x60)), request: r, matched: true },
        Event::InventoryStopped { library: LibraryId(id(0x10)), requests: vec![r], at_ms: AT_MS + 64_000 },
        Event::DoorLeftOpen { library: LibraryId(id(0x10)), request: OperatorRequestId(id(0x71)) },
        Event::MountAwaitsMedium { request: r, operator_request: OperatorRequestId(id(0x72)) },
        Event::AwaitedMediumArrived { request: r },
        Event::MountRefusedByOperator { request: r, at_ms: AT_MS + 65_000 },
        Event::DrivePresence { drive: DriveId(id(0x20)), present: false },
        Event::DriveDeleted { drive: DriveId(id(0x20)) },
        Event::CleanerSlotReserved { library: LibraryId(id(0x10)), slot: SlotId(id(0x31)) },
        Event::CleanerSlotReleased { library: LibraryId(id(0x10)) },
        Event::CleanerExpected { library: LibraryId(id(0x10)), cleans: 25 },
        Event::CleanerFound { library: LibraryId(id(0x10)), media: MediaId(id(0x61)), barcode: "CLN001L1".into() },
        Event::CleaningWanted { drive: DriveId(id(0x20)), submitter: "rsm".into(), at_ms: AT_MS + 66_000 },
        Event::CleanerAwaited { drive: DriveId(id(0x20)), operator_request: OperatorRequestId(id(0x73)) },
        Event::CleanQueued { request: request(RequestKind::Clean, RequestState::Queued) },
        Event::CleanerLoaded { request: r, at_ms: AT_MS + 67_000 },
        Event::DriveCleaned { request: r, drive: DriveId(id(0x20)), at_ms: AT_MS + 68_000 },
        Event::CleanCompleted { request: r, at_ms: AT_MS + 69_000 },
        Event::CleaningRefused { drive: DriveId(id(0x20)), at_ms: AT_MS + 70_000 },
        Event::StandaloneDriveCleaned { drive: DriveId(id(0x20)), principal: "alice".into(), at_ms: AT_MS + 71_000 },
        Event::StandaloneDiskEjected { request: request(RequestKind::Eject, RequestState::Passed) },
        Event::ChangeDetectionBegun { detection: DetectionId(id(0x90)), session: SessionId(id(0x1)) },
        Event::ChangeDetectionWatches { detection: DetectionId(id(0x90)), libraries: vec![LibraryId(id(0x10))] },
        Event::ChangeDetectionPolled { libraries: vec![LibraryId(id(0x10))] },
        Event::ChangeDetectionEnded { detection: DetectionId(id(0x90)) },
        Event::OmidUpdated {
            media: MediaId(id(0x60)),
            side: 0,
            omid: Omid {
                label_type: "ANSI".into(),
                label_id: b"BAC001".to_vec(),
                info: "ANSI VOL1 volume BAC001".into(),
            },
        },
        Event::AttributeSet {
            object: ObjectRef::Media(MediaId(id(0x61))),
            name: "Owner".into(),
            value: b"finance".to_vec(),
        },
        Event::DescriptionChanged { object: ObjectRef::Computer, description: "the backup site".into() },
        Event::ObjectAccessChanged {
            object: ObjectRef::Pool(PoolId(id(0x62))),
            principal: "bob".into(),
            rights: AccessMask(0x3),
        },
        Event::OperatorRequestSubmitted {
            request: OperatorRequest {
                id: OperatorRequestId(id(0x5C)),
                kind: OperatorRequestKind::NewMedia { pool: PoolId(id(0x5D)) },
                state: OperatorRequestState::Submitted,
                session: SessionId(id(0x5E)),
                principal: "alice".into(),
                text: "new LTO-8 media are needed in pool \\Daily".into(),
                submitted_ms: AT_MS,
                closed_ms: None,
                reason: None,
            },
        },
        Event::OperatorRequestClosed {
            request: OperatorRequestId(id(0x5F)),
            state: OperatorRequestState::Refused,
            reason: Some(ErrorCode::Timeout),
            at_ms: AT_MS + 30,
        },
    ]
}

/// The fixture file of an event. No wildcard arm: a new variant does not
/// compile until it has a name here, and `fixtures_cover_every_variant`
/// fails until `canonical_events` holds an instance of it.
fn fixture_name(event: &Event) -> &'static str {
    match event {
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
        Event::MountCompleted { .. } => "MountCompleted",
        Event::DismountCompleted { .. } => "DismountCompleted",
        Event::RequestFailed { .. } => "RequestFailed",
        Event::RequestCancelled { .. } => "RequestCancelled",
        Event::MediaInserted { .. } => "MediaInserted",
        Event::LibraryDeletionStarted { .. } => "LibraryDeletionStarted",
        Event::LibraryDeleted { .. } => "LibraryDeleted",
        Event::MediaRemoved { .. } => "MediaRemoved",
        Event::LibraryAttached { .. } => "LibraryAttached",
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

fn fixture_envelope(event: Event) -> Envelope {
    Envelope { seq: 1, at_ms: AT_MS, request: RequestId(id(0x100)), principal: "alice".into(), node: 1, event }
}

/// A small projection: an open session and a changer library with a drive,
/// two slots, a port and two cartridges, on which a second principal holds
/// rights. Built by `apply` rather than by struct
/// literals, so that a new field in the model changes the bytes (to bless)
/// without breaking this file's build.
fn canonical_state() -> State {
    let mut state = State::new();
    let events = canonical_events();
    for name in ["SessionOpened", "LibraryCreated", "AccessGranted"] {
        let event = events.iter().find(|e| fixture_name(e) == name).expect("a canonical instance of each variant");
        apply(&mut state, event).expect("the canonical events apply");
    }
    state
}

/// Compares `bytes` with the fixture at `path` (rewriting it when blessing);
/// returns what is wrong, if anything.
fn check_fixture(path: &Path, bytes: &[u8]) -> Option<String> {
    if blessing() {
        let dir = path.parent().expect("a fixture path has a directory");
        std::fs::create_dir_all(dir).expect("create the fixture directory");
        std::fs::write(path, bytes).expect("write the fixture");
        return None;
    }
    match std::fs::read(path) {
        Err(e) => Some(format!("{}: cannot read ({e}); bless to create it", path.display())),
        Ok(stored) if stored != bytes => Some(format!(
            "{}: the encoding changed ({} bytes stored, {} now; first difference at byte {})",
            path.display(),
            stored.len(),
            bytes.len(),
            stored.iter().zip(bytes).position(|(a, b)| a != b).unwrap_or(stored.len().min(bytes.len()))
        )),
        Ok(_) => None,
    }
}

fn fail_on(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "golden fixtures differ (if intended, rewrite them with RSM_BLESS=1 cargo test -p rsm-log --test golden):\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_event_record_matches_its_golden_bytes() {
    let dir = schemas_dir().join("events");
    let mut problems = Vec::new();
    for event in canonical_events() {
        let envelope = fixture_envelope(event);
        let (bytes, _) = codec::encode_record(&envelope, GENESIS_HASH);
        let path = dir.join(format!("{}.bin", fixture_name(&envelope.event)));
        problems.extend(check_fixture(&path, &bytes));
        // The stored bytes (old or new) decode to the canonical instance.
        if let Ok(stored) = std::fs::read(&path) {
            match codec::decode_record(&stored, 1) {
                Ok(record) if record.envelope == envelope && record.prev_hash == GENESIS_HASH => {}
                Ok(record) => problems.push(format!("{}: decodes to {:?}", path.display(), record.envelope)),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
    }
    fail_on(problems);
}

#[test]
fn snapshot_matches_its_golden_bytes() {
    let state = canonical_state();
    state.check_invariants().expect("the canonical state is consistent");
    let snapshot = Snapshot { seq: 42, hash: [0xA5; 32], state };
    let path = schemas_dir().join("snapshot.bin");
    let mut problems: Vec<String> = check_fixture(&path, &codec::encode_snapshot(&snapshot)).into_iter().collect();
    if let Ok(stored) = std::fs::read(&path) {
        match codec::decode_snapshot(&stored) {
            Ok(decoded) if decoded == snapshot => {}
            Ok(_) => problems.push(format!("{}: decodes to another snapshot", path.display())),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    fail_on(problems);
}

#[test]
fn head_slot_matches_its_golden_bytes() {
    let slot = codec::HeadSlot { store: [0x5E; 16], generation: 7, seq: 19, hash: [0xA5; 32] };
    let path = schemas_dir().join("head.bin");
    let mut problems: Vec<String> = check_fixture(&path, &codec::encode_head(&slot)).into_iter().collect();
    if let Ok(stored) = std::fs::read(&path) {
        match codec::decode_head(&stored) {
            Ok(decoded) if decoded == slot => {}
            Ok(_) => problems.push(format!("{}: decodes to another head slot", path.display())),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    fail_on(problems);
}

/// Catches the variant names serde knows for an enum.
struct VariantProbe<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for VariantProbe<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only enums are probed"))
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = variants;
        Err(serde::de::Error::custom("probed"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

#[test]
fn fixtures_cover_every_variant_and_nothing_else() {
    let mut variants: &'static [&'static str] = &[];
    let _probed = <Event as serde::Deserialize>::deserialize(VariantProbe(&mut variants));
    let all: BTreeSet<&str> = variants.iter().copied().collect();
    assert!(all.len() >= 20, "serde names the variants of Event: {all:?}");

    let events = canonical_events();
    for event in &events {
        assert_eq!(fixture_name(event), event.name(), "fixture names are the events' stable names");
    }
    let covered: BTreeSet<&str> = events.iter().map(fixture_name).collect();
    assert_eq!(covered.len(), events.len(), "one canonical instance per variant");
    let missing: Vec<_> = all.difference(&covered).collect();
    assert!(missing.is_empty(), "variants without a canonical instance in canonical_events(): {missing:?}");

    let dir = schemas_dir().join("events");
    if blessing() {
        std::fs::create_dir_all(&dir).expect("create the fixture directory");
    }
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the fixture directory exists (bless to create it)") {
        let path = entry.expect("list the fixture directory").path();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        if path.extension().is_some_and(|e| e == "bin") && !covered.contains(stem.as_str()) {
            if blessing() {
                std::fs::remove_file(&path).expect("remove a stale fixture");
            } else {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(stale.is_empty(), "fixtures of no current variant (bless to remove them): {stale:?}");
}

/// Every event variant (one canonical instance each) notifies as the model's
/// rule for its family says: sessions and change detections nothing, every other event at least
/// its own object, COMPLETE only of a library or operator request, and never
/// an object twice for the same operation.
#[test]
fn every_event_notifies_as_its_family_says() {
    for event in canonical_events() {
        let notices = notices(&event);
        let name = event.name();
        match event {
            // Sessions and their change detections are no NTMS objects.
            Event::SessionOpened { .. }
            | Event::SessionClosed { .. }
            | Event::ChangeDetectionBegun { .. }
            | Event::ChangeDetectionWatches { .. }
            | Event::ChangeDetectionPolled { .. }
            | Event::ChangeDetectionEnded { .. } => {
                assert!(notices.is_empty(), "{name} notifies {notices:?}")
            }
            _ => assert!(!notices.is_empty(), "{name} notifies nothing"),
        }
        for notice in &notices {
            if notice.operation == NoticeOperation::Complete {
                assert!(
                    matches!(notice.object_type(), ObjectType::LibraryRequest | ObjectType::OperatorRequest),
                    "{name}: COMPLETE of {:?}",
                    notice.object
                );
            }
        }
        let distinct: BTreeSet<&Notice> = notices.iter().collect();
        assert_eq!(distinct.len(), notices.len(), "{name} repeats a notice: {notices:?}");
    }
}
