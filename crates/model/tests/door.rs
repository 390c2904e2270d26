//! AccessNtmsLibraryDoor, InventoryNtmsLibrary's actions and
//! IdentifyNtmsSlot (spec §3.3, §1.8): one row per code of each table, and
//! the effect on the views: the door's state, slots that need an
//! inventory, the robot held while the operator may be inside.

mod common;

use common::World;
use rsm_model::*;

const NONE: u32 = 0;
const FAST: u32 = 1;
const OMID: u32 = 2;
const DEFAULT: u32 = 3;
const SLOT: u32 = 4;

fn open(session: SessionId, library: LibraryId, action: u32) -> Command {
    Command::AccessDoor { session, library, action }
}

fn slot_states(w: &World, library: LibraryId) -> Vec<SlotState> {
    w.state.libraries[&library].slots.iter().map(|s| w.state.slots[s].state).collect()
}

#[test]
fn access_door_codes() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 2, 6, 3);
    let stand = w.standalone(alice, "sa", 1);

    w.rejects(open(SessionId(uuid::Uuid::from_u128(99)), lib, FAST), ErrorCode::InvalidHandle);
    w.rejects(open(alice, lib, 4), ErrorCode::InvalidParameter);
    w.rejects(open(alice, LibraryId::NIL, FAST), ErrorCode::InvalidParameter);
    w.rejects(open(alice, LibraryId(uuid::Uuid::from_u128(7)), FAST), ErrorCode::InvalidLibrary);
    w.rejects(open(alice, LibraryId::OFFLINE, FAST), ErrorCode::InvalidLibrary);
    let bob = w.session("bob");
    w.rejects(open(bob, lib, FAST), ErrorCode::AccessDenied);
    w.rejects(open(alice, stand, FAST), ErrorCode::ResourceNotPresent);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(open(alice, lib, FAST), ErrorCode::ResourceDisabled);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: true });

    // Success: the robot is idle, so the door opens at once; every slot
    // needs an inventory; DEFAULT is the library's method (FAST).
    let events = w.ok(open(alice, lib, DEFAULT)).1;
    assert!(matches!(events[..], [Event::DoorUnlocked { inventory: InventoryMethod::Fast, .. }]), "{events:?}");
    assert_eq!(w.state.libraries[&lib].door.as_ref().map(|d| d.state), Some(DoorState::Open));
    assert!(slot_states(&w, lib).iter().all(|s| *s == SlotState::NeedsInventory));
    // Open already: the new choice is kept for when it closes.
    let events = w.ok(open(alice, lib, OMID)).1;
    assert!(matches!(events[..], [Event::DoorInventoryChosen { method: InventoryMethod::Omid, .. }]));
}

#[test]
fn a_mount_waits_while_the_door_is_open_and_the_inventory_after_it_closes_settles_the_slots() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    w.ok(open(alice, lib, NONE));
    let mount = w.mount(alice, "LA0001L8", None);
    w.work(lib);
    assert_eq!(w.request(mount).state, RequestState::Queued, "the robot does not move while the door is open");

    // Closed with no inventory chosen: the slots are what the views say, and the robot goes on.
    let events = w.ok(Command::CloseDoor { session: Some(alice), library: lib }).1;
    assert!(matches!(events[..], [Event::DoorClosed { .. }]));
    assert!(!w.state.libraries[&lib].inventory_due);
    assert_eq!(slot_states(&w, lib), [SlotState::Full, SlotState::Full, SlotState::Empty, SlotState::Empty]);
    w.work(lib);
    assert_eq!(w.request(mount).state, RequestState::Passed);

    // Closed with FAST chosen: the slots wait for the reading, and so does the robot.
    w.ok(open(alice, lib, FAST));
    let bob = w.session("bob");
    w.rejects(Command::CloseDoor { session: Some(bob), library: lib }, ErrorCode::AccessDenied);
    w.ok(Command::CloseDoor { session: None, library: lib });
    w.rejects(Command::CloseDoor { session: None, library: lib }, ErrorCode::InvalidState);
    assert!(w.state.libraries[&lib].inventory_due);
    assert!(slot_states(&w, lib).iter().all(|s| *s == SlotState::NeedsInventory));
    let dismount = w.ok(Command::DismountMedia { session: alice, media: w.media("LA0001L8"), deferred: false }).0;
    w.work(lib);
    assert_ne!(w.request(dismount).state, RequestState::Passed, "no move until the inventory settles the slots");
    let slot1 = w.state.slots[&w.state.libraries[&lib].slots[1]].element_address;
    let events = w
        .ok(Command::RecordInventory {
            session: None,
            library: lib,
            observed: vec![(slot1, Seen::Empty)],
            method: InventoryMethod::Fast,
        })
        .1;
    assert!(matches!(events.last(), Some(Event::InventoryCompleted { .. })), "{events:?}");
    assert!(events.iter().any(|e| matches!(e, Event::CartridgeVanished { .. })), "the operator took LA0002L8");
    assert_eq!(slot_states(&w, lib), [SlotState::Empty, SlotState::Empty, SlotState::Empty, SlotState::Empty]);
    w.work(lib);
    assert_eq!(w.request(dismount).state, RequestState::Passed);
}

#[test]
fn the_door_opens_only_once_the_robot_has_finished_what_it_began() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let first = w.mount(alice, "LA0001L8", None);
    w.ok(Command::StartNext { library: lib });
    assert_eq!(w.request(first).state, RequestState::InProcess);
    let events = w.ok(open(alice, lib, FAST)).1;
    assert!(matches!(events[..], [Event::DoorAccessQueued { .. }]), "{events:?}");
    let second = w.mount(alice, "LA0002L8", None);
    // The mount in process finishes; the queued one does not start; the door opens.
    w.work(lib);
    assert_eq!(w.request(first).state, RequestState::Passed);
    assert_eq!(w.request(second).state, RequestState::Waiting);
    assert!(w.state.libraries[&lib].door_open());
}

#[test]
fn a_door_left_open_raises_one_operator_request_that_closing_it_completes() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    w.ok(open(alice, lib, NONE));
    w.ok(Command::Tick);
    assert!(w.state.operator_requests.is_empty(), "not yet past MaxOpenSecs");
    w.now_ms += u64::from(DOOR_MAX_OPEN_SECS_DEFAULT) * 1000;
    let events = w.ok(Command::Tick).1;
    let raised: Vec<&OperatorRequest> = events
        .iter()
        .filter_map(|e| match e {
            Event::OperatorRequestSubmitted { request } => Some(request),
            _ => None,
        })
        .collect();
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].kind, OperatorRequestKind::DeviceService { device: ObjectRef::Library(lib) });
    let id = raised[0].id;
    assert!(w.ok(Command::Tick).1.iter().all(|e| !matches!(e, Event::OperatorRequestSubmitted { .. })), "once");
    w.ok(Command::CloseDoor { session: Some(alice), library: lib });
    assert_eq!(w.state.operator_requests[&id].state, OperatorRequestState::Complete);
}

#[test]
fn inventory_library_codes() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let check = |session, library, action| Command::InventoryLibrary { session, library, action };
    w.rejects(check(SessionId(uuid::Uuid::from_u128(9)), lib, FAST), ErrorCode::InvalidHandle);
    for action in [NONE, SLOT, 6] {
        w.rejects(check(alice, lib, action), ErrorCode::InvalidParameter);
    }
    w.rejects(check(alice, LibraryId::NIL, FAST), ErrorCode::InvalidParameter);
    w.rejects(check(alice, LibraryId::OFFLINE, FAST), ErrorCode::InvalidLibrary);
    let bob = w.session("bob");
    w.rejects(check(bob, lib, FAST), ErrorCode::AccessDenied);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(check(alice, lib, FAST), ErrorCode::ResourceDisabled);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: true });
    // Nothing to record before the reading; STOP with nothing queued records nothing either.
    assert!(w.ok(check(alice, lib, FAST)).1.is_empty());
    assert!(w.ok(check(alice, lib, INVENTORY_STOP)).1.is_empty());
    // With the door open the method waits for it to close.
    w.ok(open(alice, lib, NONE));
    let events = w.ok(check(alice, lib, OMID)).1;
    assert!(matches!(events[..], [Event::DoorInventoryChosen { method: InventoryMethod::Omid, .. }]));
    w.rejects(
        Command::RecordInventory {
            session: Some(alice),
            library: lib,
            observed: vec![],
            method: InventoryMethod::Fast,
        },
        ErrorCode::Busy,
    );
}

#[test]
fn an_omid_inventory_identifies_every_known_cartridge_and_stop_stops_what_has_not_started() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 6, 3);
    let omid = Command::RecordInventory {
        session: Some(alice),
        library: lib,
        observed: vec![],
        method: InventoryMethod::Omid,
    };
    let events = w.ok(omid).1;
    let identify: Vec<RequestId> = events
        .iter()
        .filter_map(|e| match e {
            Event::LabelRequested { request } => Some(request.id),
            _ => None,
        })
        .collect();
    assert_eq!(identify.len(), 3, "{events:?}");
    // The first runs; the others are stopped before they start.
    w.ok(Command::StartNext { library: lib });
    let events = w.ok(Command::InventoryLibrary { session: alice, library: lib, action: INVENTORY_STOP }).1;
    let [Event::InventoryStopped { requests, .. }] = &events[..] else { panic!("{events:?}") };
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| w.request(*r).state == RequestState::Stopped));
    w.work(lib);
    let ran = identify.iter().find(|r| !requests.contains(r)).expect("one ran");
    assert_eq!(w.request(*ran).state, RequestState::Passed);
    // A free cartridge read blank (no label in this world) is classified
    // by what was read, then given its free label again.
    assert!(w.log.iter().any(|e| matches!(e, Event::MediaClassified { class: Classification::Blank, .. })));
    assert!(w.log.iter().any(|e| matches!(e, Event::FreeLabelWritten { .. })));
}

#[test]
fn identify_slot_codes() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let slots = w.state.libraries[&lib].slots.clone();
    let identify = |session, slot, option| Command::IdentifySlot { session, slot, option };
    w.rejects(identify(SessionId(uuid::Uuid::from_u128(9)), slots[0], 0), ErrorCode::InvalidHandle);
    w.rejects(identify(alice, SlotId::NIL, 0), ErrorCode::InvalidParameter);
    w.rejects(identify(alice, slots[0], 3), ErrorCode::InvalidParameter);
    w.rejects(identify(alice, SlotId(uuid::Uuid::from_u128(4)), 0), ErrorCode::ObjectNotFound);
    let bob = w.session("bob");
    w.rejects(identify(bob, slots[0], 0), ErrorCode::AccessDenied);
    w.ok(open(alice, lib, NONE));
    w.rejects(identify(alice, slots[0], 0), ErrorCode::LibraryOffline);
    w.ok(Command::CloseDoor { session: Some(alice), library: lib });
    // An empty slot: nothing recorded.
    assert!(w.ok(identify(alice, slots[3], 2)).1.is_empty());
    // A cartridge whose label is the one the views have: identified, nothing changes.
    let barcode = "LA0001L8";
    w.first_blocks.insert(barcode.into(), free_media_label(barcode));
    let pool_before = w.state.media[&w.media(barcode)].pool;
    let request = w.ok(identify(alice, slots[0], 1)).0;
    let id = w.state.requests.values().find(|r| r.kind == RequestKind::Classify).map(|r| r.id).expect("queued");
    w.rejects(identify(alice, slots[0], 0), ErrorCode::Busy);
    w.work(lib);
    assert_eq!(w.request(id).state, RequestState::Passed, "{request}");
    let m = &w.state.media[&w.media(barcode)];
    assert_eq!((m.pool, m.sides[0].state, m.location), (pool_before, SideState::Available, Location::Slot(slots[0])));
    // An allocated cartridge whose label reads otherwise keeps its owner.
    let pool = w.daily_pool(alice);
    let other = "LA0002L8";
    w.ok(Command::MoveToMediaPool { session: alice, media: w.media(other), pool });
    w.ok(Command::AllocateMedia {
        session: alice,
        pool,
        side: None,
        options: AllocateOptions::default(),
        wait: AllocationWait::NoWait,
    });
    w.ok(identify(alice, slots[1], 0));
    w.work(lib);
    let m = &w.state.media[&w.media(other)];
    assert_eq!(m.sides[0].state, SideState::Allocated, "an inventory never takes a backup away from its owner");
}

#[test]
fn a_librarys_door_max_open_secs_and_inventory_method_are_writable() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let stand = w.standalone(alice, "sa", 1);
    let set =
        |session, library, field| Command::SetObjectInformation { session, object: ObjectRef::Library(library), field };
    w.rejects(set(alice, stand, InfoField::DoorMaxOpenSecs(10)), ErrorCode::ResourceNotPresent);
    w.rejects(set(alice, lib, InfoField::InventoryMethod(InventoryMethod::None)), ErrorCode::InvalidParameter);
    let bob = w.session("bob");
    w.rejects(set(bob, lib, InfoField::DoorMaxOpenSecs(10)), ErrorCode::AccessDenied);
    w.ok(set(alice, lib, InfoField::DoorMaxOpenSecs(0)));
    w.ok(set(alice, lib, InfoField::InventoryMethod(InventoryMethod::Omid)));
    // DEFAULT is now OMID; MaxOpenSecs 0 raises the close request as soon as the door opens.
    let events = w.ok(open(alice, lib, DEFAULT)).1;
    assert!(matches!(events[..], [Event::DoorUnlocked { inventory: InventoryMethod::Omid, .. }]), "{events:?}");
    let tick = w.ok(Command::Tick).1;
    assert!(tick.iter().any(|e| matches!(e, Event::DoorLeftOpen { .. })), "{tick:?}");
}

/// Regression (found by the property tests): deleting a library whose door
/// was left open left its close-the-door operator request open for ever.
#[test]
fn deleting_a_library_withdraws_its_close_the_door_request() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    w.ok(open(alice, lib, NONE));
    w.now_ms += u64::from(DOOR_MAX_OPEN_SECS_DEFAULT) * 1000;
    w.ok(Command::Tick);
    let asked = *w.state.operator_requests.keys().next().expect("raised");
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: false });
    w.ok(Command::DeleteLibrary { session: alice, library: lib });
    assert_eq!(w.state.operator_requests[&asked].state, OperatorRequestState::Refused);
}
