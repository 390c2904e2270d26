//! Cleaner management (spec §3.4): ReserveNtmsCleanerSlot,
//! ReleaseNtmsCleanerSlot, InjectNtmsCleaner, EjectNtmsCleaner and
//! CleanNtmsDrive, one row per code of each table, and a cleaning's life:
//! wanted, the operator asked for a cleaner, queued, carried out, counted.

mod common;

use common::World;
use rsm_model::*;

const PORT: u16 = rsm_model::limits::PORT_ADDRESS_FIRST;

fn slot(w: &World, lib: LibraryId, n: usize) -> SlotId {
    w.state.libraries[&lib].slots[n]
}

fn reserve(session: SessionId, library: LibraryId, slot: SlotId) -> Command {
    Command::ReserveCleanerSlot { session, library, slot }
}

fn inject(session: SessionId, library: LibraryId, barcode: &str, cleans: u32) -> Command {
    Command::InjectCleaner {
        session,
        library,
        found: vec![(PORT, Seen::Cartridge(barcode.into()))],
        cleans,
        action: CLEANER_START,
        operation: None,
    }
}

fn clean(session: SessionId, drive: DriveId) -> Command {
    Command::CleanDrive { session: Some(session), drive }
}

/// A changer `la` (2 drives, 6 slots, 2 cartridges, one port) with slot 6
/// reserved for the cleaner and a cleaner of `cleans` uses in it.
fn with_cleaner(cleans: u32) -> (World, SessionId, LibraryId) {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 2, 6, 2);
    let last = slot(&w, lib, 5);
    w.ok(reserve(alice, lib, last));
    w.ok(inject(alice, lib, "CLN001L1", cleans));
    w.work(lib);
    (w, alice, lib)
}

#[test]
fn reserve_cleaner_slot_codes() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let (full, empty) = (slot(&w, lib, 0), slot(&w, lib, 3));
    w.rejects(reserve(SessionId(uuid::Uuid::from_u128(99)), lib, empty), ErrorCode::InvalidHandle);
    w.rejects(reserve(alice, lib, SlotId::NIL), ErrorCode::InvalidParameter);
    w.rejects(reserve(alice, LibraryId(uuid::Uuid::from_u128(7)), empty), ErrorCode::InvalidLibrary);
    let other = w.changer(alice, "lb", 1, 2, 0);
    w.rejects(reserve(alice, lib, slot(&w, other, 0)), ErrorCode::ObjectNotFound);
    let bob = w.session("bob");
    w.rejects(reserve(bob, lib, empty), ErrorCode::AccessDenied);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(reserve(alice, lib, empty), ErrorCode::ResourceDisabled);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: true });
    w.rejects(reserve(alice, lib, full), ErrorCode::ResourceNotAvailable);

    let events = w.ok(reserve(alice, lib, empty)).1;
    assert!(matches!(events[..], [Event::CleanerSlotReserved { .. }]), "{events:?}");
    assert_eq!(w.state.libraries[&lib].cleaner_slot, Some(empty));
    w.rejects(reserve(alice, lib, slot(&w, lib, 2)), ErrorCode::CleanerSlotSet);
}

#[test]
fn the_cleaner_slot_takes_no_data_cartridge() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 3, 2);
    let last = slot(&w, lib, 2);
    w.ok(reserve(alice, lib, last));
    // The only empty slot is the cleaner's: a new cartridge finds no room.
    let found = vec![(PORT, Seen::Cartridge("NEW001L8".into()))];
    w.rejects(Command::InjectMedia { session: alice, library: lib, found }, ErrorCode::LibraryFull);
}

#[test]
fn release_cleaner_slot_codes() {
    let (mut w, alice, lib) = with_cleaner(10);
    let release = |s| Command::ReleaseCleanerSlot { session: s, library: lib };
    w.rejects(release(alice), ErrorCode::ResourceNotAvailable);
    let bob = w.session("bob");
    w.rejects(release(bob), ErrorCode::AccessDenied);
    // Ejected and taken: the slot is free again.
    w.ok(Command::EjectCleaner { session: alice, library: lib, action: CLEANER_START, operation: None });
    w.work(lib);
    assert_eq!(w.state.libraries[&lib].cleaner, None);
    assert_eq!(w.state.libraries[&lib].flags() & LIBRARY_FLAG_CLEANER_PRESENT, 0);
    let taken = vec![(PORT, Seen::Empty)];
    w.ok(Command::RecordInventory {
        session: Some(alice),
        library: lib,
        observed: taken,
        method: InventoryMethod::Fast,
    });
    assert!(w.state.medium_by_barcode("CLN001L1").is_none(), "a cleaner taken out leaves the catalog");
    w.ok(release(alice));
    assert_eq!(w.state.libraries[&lib].cleaner_slot, None);
    w.rejects(release(alice), ErrorCode::CleanerSlotNotSet);
}

#[test]
fn inject_cleaner_codes_and_effect() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    w.rejects(inject(alice, lib, "CLN001L1", 5), ErrorCode::CleanerSlotNotSet);
    let mut stop = inject(alice, lib, "CLN001L1", 5);
    if let Command::InjectCleaner { action, .. } = &mut stop {
        *action = 7;
    }
    w.rejects(stop, ErrorCode::InvalidParameter);
    w.ok(reserve(alice, lib, slot(&w, lib, 3)));
    let nothing = Command::InjectCleaner {
        session: alice,
        library: lib,
        found: vec![(PORT, Seen::Empty)],
        cleans: 5,
        action: CLEANER_START,
        operation: None,
    };
    w.rejects(nothing, ErrorCode::Empty);
    w.rejects(inject(alice, lib, "LA0001L8", 5), ErrorCode::InvalidCleaner);
    let bob = w.session("bob");
    w.rejects(inject(bob, lib, "CLN001L1", 5), ErrorCode::AccessDenied);
    let unknown = Command::InjectCleaner {
        session: alice,
        library: lib,
        found: vec![],
        cleans: 5,
        action: CLEANER_STOP,
        operation: Some(RequestId(uuid::Uuid::from_u128(5))),
    };
    w.rejects(unknown, ErrorCode::InvalidOperation);

    let (request, events) = w.ok(inject(alice, lib, "CLN001L1", 5));
    assert!(matches!(events[..], [Event::CleanerExpected { cleans: 5, .. }, Event::InjectRequested { .. }]));
    w.rejects(inject(alice, lib, "CLN002L1", 5), ErrorCode::ResourceNotAvailable);
    assert_eq!(w.request(request).kind, RequestKind::InjectCleaner);
    w.work(lib);
    let l = &w.state.libraries[&lib];
    let cleaner = w.state.medium_by_barcode("CLN001L1").expect("catalogued").clone();
    assert!(cleaner.is_cleaner());
    assert_eq!(l.cleaner, Some(cleaner.id));
    assert_eq!(cleaner.location, Location::Slot(slot(&w, lib, 3)));
    assert_eq!(l.cleaner_uses_remaining, 5);
    assert_eq!(l.flags(), LIBRARY_FLAG_CLEANER_PRESENT);
    // The data functions do not touch it.
    w.rejects(Command::EjectMedia { session: alice, media: cleaner.id }, ErrorCode::InvalidMedia);
    let mount = Command::MountMedia { session: alice, media: cleaner.id, options: MountOptions::default() };
    w.rejects(mount, ErrorCode::InvalidMedia);
    w.state.check_invariants().expect("invariants hold");
}

#[test]
fn a_stopped_inject_of_a_cleaner_is_cancelled() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    w.ok(reserve(alice, lib, slot(&w, lib, 3)));
    let (request, _) = w.ok(inject(alice, lib, "CLN001L1", 5));
    let stop = Command::InjectCleaner {
        session: alice,
        library: lib,
        found: vec![],
        cleans: 0,
        action: CLEANER_STOP,
        operation: Some(request),
    };
    w.ok(stop);
    assert_eq!(w.request(request).state, RequestState::Cancelled);
}

#[test]
fn a_library_without_ports_takes_its_cleaner_through_the_door() {
    let mut w = World::new();
    let alice = w.session("alice");
    w.ok(Command::CreateLibrary {
        session: alice,
        spec: LibrarySpec {
            name: "lp".into(),
            kind: LibraryKind::Changer,
            drives: 1,
            slots: 3,
            ie_ports: 0,
            barcodes: vec!["LP0001L8".into()],
            media_type: default_media_type(),
            unlabelled: Vec::new(),
        },
    });
    let lib = w.state.library_named("lp").expect("created").id;
    let cleaner_slot = slot(&w, lib, 2);
    w.ok(reserve(alice, lib, cleaner_slot));
    let events = w.ok(inject(alice, lib, "ignored", 30)).1;
    assert!(matches!(events[..], [Event::CleanerExpected { cleans: 30, .. }, Event::DoorUnlocked { .. }]));
    w.ok(Command::CloseDoor { session: None, library: lib });
    let address = w.state.slots[&cleaner_slot].element_address;
    let first = w.state.slots[&slot(&w, lib, 0)].element_address;
    let observed = vec![
        (first, Seen::Cartridge("LP0001L8".into())),
        (first + 1, Seen::Empty),
        (address, Seen::Cartridge("CLN777L1".into())),
    ];
    let events =
        w.ok(Command::RecordInventory { session: None, library: lib, observed, method: InventoryMethod::Fast }).1;
    assert!(events.iter().any(|e| matches!(e, Event::CleanerFound { .. })), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::LabelRequested { .. })), "a cleaner is not classified");
    assert_eq!(w.state.libraries[&lib].cleaner_uses_remaining, 30);
    // Ejected through the door: the reading after it closes finds the slot empty.
    let events = w.ok(Command::EjectCleaner { session: alice, library: lib, action: CLEANER_START, operation: None }).1;
    assert!(matches!(events[..], [Event::DoorUnlocked { .. }]));
    w.ok(Command::CloseDoor { session: None, library: lib });
    let observed = vec![(first, Seen::Cartridge("LP0001L8".into())), (first + 1, Seen::Empty), (address, Seen::Empty)];
    w.ok(Command::RecordInventory { session: None, library: lib, observed, method: InventoryMethod::Fast });
    assert_eq!(w.state.libraries[&lib].cleaner, None);
    assert!(w.state.medium_by_barcode("CLN777L1").is_none());
    w.state.check_invariants().expect("invariants hold");
}

#[test]
fn eject_cleaner_codes() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let eject = |s| Command::EjectCleaner { session: s, library: lib, action: CLEANER_START, operation: None };
    w.rejects(eject(alice), ErrorCode::CleanerSlotNotSet);
    w.ok(reserve(alice, lib, slot(&w, lib, 3)));
    w.rejects(eject(alice), ErrorCode::Empty);
    let stop = Command::EjectCleaner {
        session: alice,
        library: lib,
        action: CLEANER_STOP,
        operation: Some(RequestId(uuid::Uuid::from_u128(5))),
    };
    w.rejects(stop, ErrorCode::InvalidOperation);
    let no_operation = Command::EjectCleaner { session: alice, library: lib, action: CLEANER_STOP, operation: None };
    w.rejects(no_operation, ErrorCode::InvalidParameter);
    w.ok(inject(alice, lib, "CLN001L1", 5));
    w.work(lib);
    let bob = w.session("bob");
    w.rejects(eject(bob), ErrorCode::AccessDenied);
    let (request, _) = w.ok(eject(alice));
    assert_eq!(w.request(request).kind, RequestKind::EjectCleaner);
    w.work(lib);
    assert_eq!(w.request(request).state, RequestState::Passed);
    assert_eq!(w.state.libraries[&lib].cleaner_uses_remaining, 0);
}

#[test]
fn clean_drive_codes() {
    let (mut w, alice, lib) = with_cleaner(10);
    let drive = w.state.libraries[&lib].drives[0];
    w.rejects(
        Command::CleanDrive { session: Some(SessionId(uuid::Uuid::from_u128(99))), drive },
        ErrorCode::InvalidHandle,
    );
    w.rejects(clean(alice, DriveId::NIL), ErrorCode::InvalidParameter);
    w.rejects(clean(alice, DriveId(uuid::Uuid::from_u128(3))), ErrorCode::InvalidDrive);
    let bob = w.session("bob");
    w.rejects(clean(bob, drive), ErrorCode::AccessDenied);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Drive(drive), enabled: false });
    w.rejects(clean(alice, drive), ErrorCode::ResourceDisabled);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Drive(drive), enabled: true });
    // The server's own ask for a drive that cannot be cleaned now records nothing.
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Drive(drive), enabled: false });
    assert!(w.ok(Command::CleanDrive { session: None, drive }).1.is_empty());
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Drive(drive), enabled: true });
    // A full reading without the drive: it is gone (NTMS_NOT_PRESENT).
    let mut observed: Vec<(u16, Seen)> = w.state.libraries[&lib]
        .slots
        .iter()
        .map(|s| {
            let slot = &w.state.slots[s];
            let seen = slot.content.map_or(Seen::Empty, |m| Seen::Cartridge(w.state.media[&m].barcode.clone()));
            (slot.element_address, seen)
        })
        .collect();
    let other = w.state.libraries[&lib].drives[1];
    observed.push((w.state.drives[&other].element_address, Seen::Empty));
    w.ok(Command::RecordInventory { session: Some(alice), library: lib, observed, method: InventoryMethod::Fast });
    w.rejects(clean(alice, drive), ErrorCode::DeviceNotAvailable);

    let events = w.ok(clean(alice, other)).1;
    assert!(matches!(events[..], [Event::CleaningWanted { .. }]), "{events:?}");
    assert!(w.ok(clean(alice, other)).1.is_empty(), "asked twice: the one cleaning");
}

#[test]
fn a_cleaning_moves_the_cleaner_through_the_drive_and_counts_one_use() {
    let (mut w, alice, lib) = with_cleaner(10);
    let drive = w.state.libraries[&lib].drives[0];
    w.ok(clean(alice, drive));
    let queued = w.ok(Command::StartNext { library: lib }).1;
    let Some(Event::CleanQueued { request }) = queued.first() else { panic!("{queued:?}") };
    let request = request.id;
    assert_eq!(w.request(request).kind, RequestKind::Clean);
    assert!(w.state.drives[&drive].cleaning_wanted.is_none());
    w.ok(Command::StartNext { library: lib });
    w.ok(Command::AdvanceRequest { request });
    assert_eq!(w.state.drives[&drive].state, DriveState::BeingCleaned);
    assert_eq!(w.request(request).phase, Some(RequestPhase::Cleaning));
    w.state.check_invariants().expect("invariants hold while cleaning");
    w.ok(Command::AdvanceRequest { request });
    w.work(lib);
    assert_eq!(w.request(request).state, RequestState::Passed);
    let d = &w.state.drives[&drive];
    assert_eq!((d.state, d.medium), (DriveState::Dismounted, None));
    assert!(d.last_cleaned_ms.is_some());
    assert_eq!(w.state.libraries[&lib].cleaner_uses_remaining, 9);
    let cleaner = w.state.medium_by_barcode("CLN001L1").expect("kept");
    assert_eq!(cleaner.location, Location::Slot(slot(&w, lib, 5)));
}

#[test]
fn a_drive_holding_a_cartridge_is_cleaned_once_emptied_and_takes_no_new_mount_before() {
    let (mut w, alice, lib) = with_cleaner(10);
    let d0 = w.drive("la-drive-1");
    let first = w.mount(alice, "LA0001L8", Some("la-drive-1"));
    w.work(lib);
    assert_eq!(w.request(first).state, RequestState::Passed);
    w.ok(clean(alice, d0));
    w.work(lib);
    assert!(w.state.drives[&d0].cleaning_wanted.is_some(), "it waits for the drive to be empty");
    let media = w.media("LA0001L8");
    w.ok(Command::DismountMedia { session: alice, media, deferred: false });
    w.work(lib);
    assert!(w.state.drives[&d0].last_cleaned_ms.is_some(), "cleaned once emptied");
    // Wanted again with a cleaner at hand: a new mount goes to the other drive.
    w.ok(clean(alice, d0));
    let second = w.mount(alice, "LA0002L8", None);
    assert_ne!(w.request(second).drive, Some(d0));
}

#[test]
fn without_a_cleaner_the_operator_is_asked_for_one_and_its_arrival_lets_the_cleaning_run() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let drive = w.state.libraries[&lib].drives[0];
    w.ok(clean(alice, drive));
    let events = w.ok(Command::StartNext { library: lib }).1;
    let Some(Event::OperatorRequestSubmitted { request }) = events.first() else { panic!("{events:?}") };
    assert_eq!(request.kind, OperatorRequestKind::Cleaner { library: lib });
    let opreq = request.id;
    assert!(w.ok(Command::StartNext { library: lib }).1.is_empty(), "asked once");
    w.ok(reserve(alice, lib, slot(&w, lib, 3)));
    w.ok(inject(alice, lib, "CLN001L1", 3));
    w.work(lib);
    assert_eq!(w.state.operator_requests[&opreq].state, OperatorRequestState::Complete, "its need was met");
    assert!(w.state.drives[&drive].last_cleaned_ms.is_some());
    assert_eq!(w.state.libraries[&lib].cleaner_uses_remaining, 2);
}

#[test]
fn a_refused_cleaner_drops_the_cleaning() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let drive = w.state.libraries[&lib].drives[0];
    w.ok(clean(alice, drive));
    w.ok(Command::StartNext { library: lib });
    let opreq = w.state.drives[&drive].cleaning_wanted.as_ref().and_then(|c| c.operator_request).expect("asked");
    w.policy.administrator = Some("root".into());
    let root = w.session("root");
    let events = w.ok(Command::CancelOperatorRequest { session: root, request: opreq }).1;
    assert!(events.iter().any(|e| matches!(e, Event::CleaningRefused { .. })), "{events:?}");
    assert!(w.state.drives[&drive].cleaning_wanted.is_none());
}

#[test]
fn a_spent_cleaner_fails_the_next_cleaning_and_asks_for_another() {
    let (mut w, alice, lib) = with_cleaner(1);
    let drive = w.state.libraries[&lib].drives[0];
    w.ok(clean(alice, drive));
    w.work(lib);
    assert_eq!(w.state.libraries[&lib].cleaner_uses_remaining, 0);
    w.ok(clean(alice, drive));
    let events = w.ok(Command::StartNext { library: lib }).1;
    let failed = events.iter().find_map(|e| match e {
        Event::CleanQueued { request } => Some(request.clone()),
        _ => None,
    });
    let failed = failed.expect("a cleaning recorded failed");
    assert_eq!(failed.state, RequestState::Failed);
    assert_eq!(failed.error, Some(ErrorCode::CleanerCartridgeSpent.code()));
    assert!(events.iter().any(|e| matches!(e, Event::OperatorRequestSubmitted { .. })));
    assert!(w.state.drives[&drive].cleaning_wanted.is_some(), "it still waits for a cleaner");
}

#[test]
fn a_stand_alone_drive_is_recorded_cleaned_at_once() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.standalone(alice, "sa", 0);
    let drive = w.state.libraries[&lib].drives[0];
    let events = w.ok(clean(alice, drive)).1;
    assert!(matches!(events[..], [Event::StandaloneDriveCleaned { .. }]));
    assert!(w.state.drives[&drive].last_cleaned_ms.is_some());
}

/// Found by the simulation: two drives' cleanings failed on a spent
/// cleaner in one scheduling round, under one request id.
#[test]
fn regression_cleanings_failed_on_a_spent_cleaner_in_one_round_are_two_requests() {
    let (mut w, alice, lib) = with_cleaner(1);
    let (d0, d1) = (w.state.libraries[&lib].drives[0], w.state.libraries[&lib].drives[1]);
    w.ok(clean(alice, d0));
    w.work(lib);
    w.ok(clean(alice, d0));
    w.ok(clean(alice, d1));
    let events = w.ok(Command::StartNext { library: lib }).1;
    let failed: Vec<RequestId> = events
        .iter()
        .filter_map(|e| match e {
            Event::CleanQueued { request } => Some(request.id),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 2, "{events:?}");
    assert_ne!(failed[0], failed[1]);
}

/// Found by the simulation: a library deleted with its cleaner put the
/// cleaner on the offline shelf, where cleaners are not kept.
#[test]
fn regression_a_deleted_librarys_cleaner_leaves_the_catalog() {
    let (mut w, alice, lib) = with_cleaner(3);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: false });
    w.ok(Command::DeleteLibrary { session: alice, library: lib });
    assert!(w.state.medium_by_barcode("CLN001L1").is_none());
    assert!(w.state.medium_by_barcode("LA0001L8").is_some(), "data cartridges go to the shelf");
}

/// Found by the simulation: a cleaner injected through a port the views
/// still held an ejected cartridge in (the operator had taken it) left that
/// cartridge in two minds about where it was.
#[test]
fn regression_inject_cleaner_reads_what_the_operator_took_from_the_port() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    w.ok(reserve(alice, lib, slot(&w, lib, 3)));
    let media = w.media("LA0001L8");
    w.ok(Command::EjectMedia { session: alice, media });
    w.work(lib);
    assert!(matches!(w.state.media[&media].location, Location::Port(_)));
    let events = w.ok(inject(alice, lib, "CLN001L1", 4)).1;
    assert!(matches!(events[0], Event::CartridgeTakenFromPort { .. }), "{events:?}");
    w.work(lib);
    assert_eq!(w.state.media[&media].location, Location::Offline);
    assert!(w.state.libraries[&lib].cleaner.is_some());
}

/// Found by a hostile run: a stopped inject of a cleaner kept the cleaner
/// slot promised, and every cleaner function then refused.
#[test]
fn regression_a_stopped_inject_of_a_cleaner_can_be_made_again() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    w.ok(reserve(alice, lib, slot(&w, lib, 3)));
    let (request, _) = w.ok(inject(alice, lib, "CLN001L1", 5));
    w.ok(Command::CancelRequest { session: alice, request });
    assert_eq!(w.state.slots[&slot(&w, lib, 3)].home_of, None, "the slot is no longer promised");
    let (again, events) = w.ok(inject(alice, lib, "CLN001L1", 5));
    assert!(events.iter().any(|e| matches!(e, Event::InjectRequested { new: false, .. })), "{events:?}");
    w.work(lib);
    assert_eq!(w.request(again).state, RequestState::Passed);
    assert!(w.state.libraries[&lib].cleaner.is_some());
}

/// Found by a hostile run: a data cartridge the operator put in the
/// cleaner slot took it as its home, and the cleaner he put in another
/// slot took that one; the cleaner functions then contradicted each other.
#[test]
fn regression_the_cleaner_slot_stays_the_cleaners_whatever_the_operator_moves() {
    let (mut w, alice, lib) = with_cleaner(5);
    let (cleaner_slot, spare, data_home) = (slot(&w, lib, 5), slot(&w, lib, 4), slot(&w, lib, 0));
    let address = |w: &World, s: SlotId| w.state.slots[&s].element_address;
    // The operator swaps: LA0001L8 into the cleaner slot, the cleaner into slot 5.
    let mut observed: Vec<(u16, Seen)> =
        w.state.libraries[&lib].slots.iter().map(|s| (w.state.slots[s].element_address, Seen::Empty)).collect();
    for (at, seen) in observed.iter_mut() {
        if *at == address(&w, cleaner_slot) {
            *seen = Seen::Cartridge("LA0001L8".into());
        } else if *at == address(&w, spare) {
            *seen = Seen::Cartridge("CLN001L1".into());
        } else if *at == address(&w, slot(&w, lib, 1)) {
            *seen = Seen::Cartridge("LA0002L8".into());
        }
    }
    w.ok(Command::RecordInventory { session: Some(alice), library: lib, observed, method: InventoryMethod::Fast });
    let data = w.media("LA0001L8");
    assert_eq!(w.state.media[&data].location, Location::Slot(cleaner_slot));
    assert_eq!(w.state.media[&data].home_slot, Some(cleaner_slot), "a data slot again");
    assert_eq!(w.state.slots[&data_home].home_of, None);
    let cleaner = w.state.libraries[&lib].cleaner.expect("still the cleaner");
    assert_eq!(w.state.libraries[&lib].cleaner_slot, Some(spare), "the cleaner slot follows the cleaner");
    assert_eq!(w.state.media[&cleaner].home_slot, Some(spare));
    // The displaced cleaner still cleans, from where it is.
    let drive = w.state.libraries[&lib].drives[0];
    w.ok(clean(alice, drive));
    w.work(lib);
    assert!(w.state.drives[&drive].last_cleaned_ms.is_some());
    assert_eq!(w.state.media[&cleaner].location, Location::Slot(spare));
    // The slot holds a data cartridge: the refusals say so.
    let err = w.rejects(Command::ReleaseCleanerSlot { session: alice, library: lib }, ErrorCode::ResourceNotAvailable);
    assert!(err.to_string().contains("cleaner CLN001L1"), "{err}");
}

/// Found by a hostile run: cleanings waited silently for a disabled cleaner.
#[test]
fn regression_a_disabled_cleaner_asks_the_operator() {
    let (mut w, alice, lib) = with_cleaner(5);
    let cleaner = w.state.libraries[&lib].cleaner.expect("a cleaner");
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Media(cleaner), enabled: false });
    let drive = w.state.libraries[&lib].drives[0];
    w.ok(clean(alice, drive));
    let events = w.ok(Command::StartNext { library: lib }).1;
    let Some(Event::OperatorRequestSubmitted { request }) = events.first() else { panic!("{events:?}") };
    assert!(request.text.contains("disabled"), "{}", request.text);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Media(cleaner), enabled: true });
    w.work(lib);
    assert!(w.state.drives[&drive].last_cleaned_ms.is_some());
}

/// Found by a hostile run: IdentifyNtmsSlot loaded the cleaner and classified it.
#[test]
fn regression_identify_refuses_the_cleaner() {
    let (mut w, alice, lib) = with_cleaner(5);
    let identify = Command::IdentifySlot { session: alice, slot: slot(&w, lib, 5), option: 0 };
    w.rejects(identify, ErrorCode::InvalidMedia);
}

/// Found by a hostile run: a cleaning cut short by a crash before the
/// drive was clean was dropped for good.
#[test]
fn regression_a_cleaning_cut_short_is_wanted_again() {
    let (mut w, alice, lib) = with_cleaner(5);
    let drive = w.state.libraries[&lib].drives[0];
    w.ok(clean(alice, drive));
    w.ok(Command::StartNext { library: lib });
    let request = w.state.libraries[&lib].active_requests[0];
    w.ok(Command::StartNext { library: lib });
    w.ok(Command::AdvanceRequest { request });
    assert_eq!(w.request(request).phase, Some(RequestPhase::Cleaning));
    let events = w.ok(Command::Reconcile { request, observed: Observed::Drive(drive) }).1;
    assert!(events.iter().any(|e| matches!(e, Event::CleaningWanted { .. })), "{events:?}");
    w.work(lib);
    assert!(w.state.drives[&drive].last_cleaned_ms.is_some(), "cleaned after all");
    assert_eq!(w.state.libraries[&lib].cleaner_uses_remaining, 4, "one use counted");
}

/// Found by the simulation: a classification re-queued after a restart
/// with its drive promised, and a cleaning wanted of that drive, each
/// waited for the other for ever.
#[test]
fn regression_a_label_request_keeps_the_drive_promised_to_it_before_a_cleaning() {
    let (mut w, alice, lib) = with_cleaner(5);
    let only = w.state.libraries[&lib].drives[0];
    w.ok(Command::SetEnabled {
        session: alice,
        object: ObjectRef::Drive(w.state.libraries[&lib].drives[1]),
        enabled: false,
    });
    let media = w.media("LA0001L8");
    let slot = w.state.media[&media].home_slot.expect("home");
    w.ok(Command::IdentifySlot { session: alice, slot, option: 0 });
    let request = w.state.libraries[&lib].active_requests[0];
    w.ok(Command::StartNext { library: lib });
    assert_eq!(w.request(request).drive, Some(only));
    // A restart before the move: re-queued with its drive.
    w.ok(Command::Reconcile { request, observed: Observed::Slot(slot) });
    w.ok(clean(alice, only));
    w.work(lib);
    assert!(w.request(request).state.is_terminal(), "{:?}", w.request(request));
    assert!(w.state.drives[&only].last_cleaned_ms.is_some(), "cleaned after it");
}

/// Found by a hostile run: any new cartridge the operator put in the empty
/// cleaner slot was taken for the cleaner. Only one announced, or one whose
/// bar code starts with CLN, is; anything else is data, and the slot a data
/// slot again.
#[test]
fn regression_only_an_announced_or_cln_cartridge_in_the_cleaner_slot_is_the_cleaner() {
    let reading = |w: &World, lib: LibraryId, last: &str| -> Vec<(u16, Seen)> {
        let slots = &w.state.libraries[&lib].slots;
        slots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let seen = match i {
                    0 => Seen::Cartridge("LA0001L8".into()),
                    1 => Seen::Cartridge("LA0002L8".into()),
                    i if i == slots.len() - 1 => Seen::Cartridge(last.into()),
                    _ => Seen::Empty,
                };
                (w.state.slots[s].element_address, seen)
            })
            .collect()
    };
    for (barcode, cleaner) in [("NEWD001L8", false), ("CLN042L1", true)] {
        let mut w = World::new();
        let alice = w.session("alice");
        let lib = w.changer(alice, "la", 1, 4, 2);
        w.ok(reserve(alice, lib, slot(&w, lib, 3)));
        let observed = reading(&w, lib, barcode);
        let events = w
            .ok(Command::RecordInventory {
                session: Some(alice),
                library: lib,
                observed,
                method: InventoryMethod::Fast,
            })
            .1;
        let found = events.iter().any(|e| matches!(e, Event::CleanerFound { .. }));
        let released = events.iter().any(|e| matches!(e, Event::CleanerSlotReleased { .. }));
        assert_eq!((found, released), (cleaner, !cleaner), "{barcode}: {events:?}");
        assert_eq!(w.state.libraries[&lib].cleaner.is_some(), cleaner);
    }
}
