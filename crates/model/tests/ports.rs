//! EjectNtmsMedia and InjectNtmsMedia through import/export ports: a test
//! per code they return, the cartridge's path through the port, and how a
//! crash in the middle is settled from the hardware's truth.

mod common;
use common::World;
use rsm_model::*;

/// Given a changer `lib` with 1 drive, 4 slots, 1 port and LIB0001L8,
/// LIB0002L8 in slots 1 and 2.
fn given() -> (World, SessionId, LibraryId) {
    let mut w = World::new();
    let s = w.session("admin");
    let lib = w.changer(s, "lib", 1, 4, 2);
    (w, s, lib)
}

fn port(w: &World, lib: LibraryId) -> &Port {
    &w.state.ports[&w.state.libraries[&lib].ports[0]]
}

fn eject(w: &mut World, session: SessionId, barcode: &str) -> RequestId {
    let media = w.media(barcode);
    w.ok(Command::EjectMedia { session, media }).0
}

fn inject(w: &mut World, session: SessionId, library: LibraryId, found: Vec<(u16, Seen)>) -> Vec<Event> {
    w.ok(Command::InjectMedia { session, library, found }).1
}

fn inject_one(w: &mut World, session: SessionId, library: LibraryId, barcode: &str) -> Vec<Event> {
    let found = in_port(w, library, barcode);
    inject(w, session, library, found)
}

fn in_port(w: &World, lib: LibraryId, barcode: &str) -> Vec<(u16, Seen)> {
    vec![(port(w, lib).element_address, Seen::Cartridge(barcode.into()))]
}

#[test]
fn an_eject_puts_the_cartridge_in_the_port_and_keeps_its_home() {
    let (mut w, s, lib) = given();
    let m = w.media("LIB0001L8");
    let home = w.state.media[&m].home_slot.expect("a home");
    let r = eject(&mut w, s, "LIB0001L8");
    assert_eq!(w.request(r).kind, RequestKind::Eject);
    assert_eq!(w.request(r).kind.ntms_value(), 10, "NTMS_LM_EJECT");
    assert_eq!(w.state.media[&m].state, MediaState::InUse);
    assert_eq!(port(&w, lib).reserved_by, Some(r), "the port is promised");
    w.work(lib);
    assert_eq!(w.request(r).state, RequestState::Passed);
    assert_eq!(w.state.media[&m].location, Location::Port(port(&w, lib).id));
    assert_eq!(w.state.media[&m].state, MediaState::Idle);
    assert_eq!(w.state.slots[&home].state, SlotState::Empty);
    assert_eq!(w.state.slots[&home].home_of, Some(m), "the home stays reserved until the operator takes it");
    assert_eq!(port(&w, lib).reserved_by, None);
}

#[test]
fn the_operator_taking_an_ejected_cartridge_sends_it_offline_without_a_home() {
    let (mut w, s, lib) = given();
    let m = w.media("LIB0001L8");
    let home = w.state.media[&m].home_slot.expect("a home");
    eject(&mut w, s, "LIB0001L8");
    w.work(lib);
    let empty_port = vec![(port(&w, lib).element_address, Seen::Empty)];
    let events = w
        .ok(Command::RecordInventory {
            method: InventoryMethod::Fast,
            session: Some(s),
            library: lib,
            observed: empty_port,
        })
        .1;
    assert_eq!(events, vec![Event::CartridgeTakenFromPort { media: m }]);
    assert_eq!(w.state.media[&m].location, Location::Offline);
    assert_eq!(w.state.media[&m].home_slot, None);
    assert_eq!(w.state.slots[&home].home_of, None, "the slot is free for another cartridge");
    assert_eq!(port(&w, lib).content, None);
    // Seen again in the port, it is back in the port (which is full again):
    // ports are read like slots.
    let again = in_port(&w, lib, "LIB0001L8");
    let port_id = port(&w, lib).id;
    assert_eq!(
        w.ok(Command::RecordInventory {
            method: InventoryMethod::Fast,
            session: Some(s),
            library: lib,
            observed: again
        })
        .1,
        vec![Event::CartridgeMoved { media: m, to: Location::Port(port_id) }]
    );
    assert_eq!(port(&w, lib).content, Some(m));
}

#[test]
fn eject_error_table() {
    let (mut w, s, lib) = given();
    let m1 = w.media("LIB0001L8");
    w.rejects(Command::EjectMedia { session: s, media: MediaId(uuid::Uuid::nil()) }, ErrorCode::InvalidParameter);
    w.rejects(Command::EjectMedia { session: s, media: MediaId(uuid::Uuid::from_u128(77)) }, ErrorCode::InvalidMedia);
    // CONTROL is needed: USE and MODIFY are not enough.
    let bob = w.session("bob");
    w.grant(s, lib, "bob", AccessMask::USE.with(AccessMask::MODIFY));
    w.rejects(Command::EjectMedia { session: bob, media: m1 }, ErrorCode::AccessDenied);
    // A disabled medium, then a disabled library.
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Media(m1), enabled: false });
    w.rejects(Command::EjectMedia { session: s, media: m1 }, ErrorCode::MediaNotAvailable);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Media(m1), enabled: true });
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(Command::EjectMedia { session: s, media: m1 }, ErrorCode::DeviceNotAvailable);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: true });
    // A mounted cartridge is busy.
    let r = w.mount(s, "LIB0001L8", None);
    w.rejects(Command::EjectMedia { session: s, media: m1 }, ErrorCode::Busy);
    w.work(lib);
    assert_eq!(w.request(r).state, RequestState::Passed);
    w.rejects(Command::EjectMedia { session: s, media: m1 }, ErrorCode::Busy);
    // One port: a second eject waits for the first to be taken.
    eject(&mut w, s, "LIB0002L8");
    let m2 = w.media("LIB0002L8");
    w.rejects(Command::EjectMedia { session: s, media: m2 }, ErrorCode::Busy);
    w.work(lib);
    w.rejects(Command::EjectMedia { session: s, media: m2 }, ErrorCode::Busy);
    // Taken by the operator: it is in the offline library.
    let empty_port = vec![(port(&w, lib).element_address, Seen::Empty)];
    w.ok(Command::RecordInventory {
        method: InventoryMethod::Fast,
        session: Some(s),
        library: lib,
        observed: empty_port,
    });
    w.rejects(Command::EjectMedia { session: s, media: m2 }, ErrorCode::LibraryOffline);
}

#[test]
fn a_library_without_a_port_has_no_eject_or_inject() {
    let mut w = World::new();
    let s = w.session("admin");
    let spec = LibrarySpec {
        name: "noport".into(),
        kind: LibraryKind::Changer,
        drives: 1,
        slots: 2,
        ie_ports: 0,
        barcodes: vec!["NP0001L8".into()],
        media_type: rsm_model::default_media_type(),
        unlabelled: Vec::new(),
    };
    w.ok(Command::CreateLibrary { session: s, spec });
    let lib = w.state.library_named("noport").expect("created").id;
    let m = w.media("NP0001L8");
    w.rejects(Command::EjectMedia { session: s, media: m }, ErrorCode::ResourceNotPresent);
    w.rejects(Command::InjectMedia { session: s, library: lib, found: vec![] }, ErrorCode::ResourceNotPresent);
    let sa = w.standalone(s, "desk", 0);
    w.rejects(Command::InjectMedia { session: s, library: sa, found: vec![] }, ErrorCode::ResourceNotPresent);
}

#[test]
fn an_inject_adopts_a_new_cartridge_into_a_free_slot() {
    let (mut w, s, lib) = given();
    let found = in_port(&w, lib, "NEW001L8");
    let events = inject(&mut w, s, lib, found);
    let [Event::InjectRequested { request, barcode, new: true }] = events.as_slice() else {
        panic!("one inject request for a new medium: {events:?}")
    };
    assert_eq!(barcode, "NEW001L8");
    assert_eq!(request.kind.ntms_value(), 12, "NTMS_LM_INJECT");
    let m = w.media("NEW001L8");
    assert_eq!(w.state.media[&m].location, Location::Port(port(&w, lib).id));
    assert_eq!(w.state.media[&m].state, MediaState::InUse);
    let slot = request.slot.expect("a destination");
    assert_eq!(w.state.slots[&slot].home_of, Some(m), "the destination is promised as its home");
    assert_eq!(w.state.slots[&slot].name, "lib-slot-3", "the first free slot");
    w.work(lib);
    assert_eq!(w.request(request.id).state, RequestState::Passed);
    assert_eq!(w.state.media[&m].location, Location::Slot(slot));
    assert_eq!(w.state.media[&m].state, MediaState::Idle);
    assert_eq!(port(&w, lib).content, None);
    // It mounts like any other cartridge.
    let r = w.mount(s, "NEW001L8", None);
    w.work(lib);
    assert_eq!(w.request(r).state, RequestState::Passed);
}

#[test]
fn an_ejected_cartridge_comes_back_home_whether_or_not_it_was_taken() {
    let (mut w, s, lib) = given();
    let m = w.media("LIB0001L8");
    let home = w.state.media[&m].home_slot.expect("a home");
    // Never taken: it goes back to the slot still reserved for it.
    eject(&mut w, s, "LIB0001L8");
    w.work(lib);
    let found = in_port(&w, lib, "LIB0001L8");
    let events = inject(&mut w, s, lib, found);
    assert!(
        matches!(events.as_slice(), [Event::InjectRequested { new: false, request, .. }] if request.slot == Some(home))
    );
    w.work(lib);
    assert_eq!(w.state.media[&m].location, Location::Slot(home));
    // Taken, then brought back: a free slot becomes its home.
    eject(&mut w, s, "LIB0001L8");
    w.work(lib);
    let empty_port = vec![(port(&w, lib).element_address, Seen::Empty)];
    w.ok(Command::RecordInventory {
        method: InventoryMethod::Fast,
        session: Some(s),
        library: lib,
        observed: empty_port,
    });
    let found = in_port(&w, lib, "LIB0001L8");
    let events = inject(&mut w, s, lib, found);
    assert!(matches!(events.as_slice(), [Event::InjectRequested { new: false, .. }]), "{events:?}");
    w.work(lib);
    assert!(matches!(w.state.media[&m].location, Location::Slot(_)));
    assert_eq!(w.state.media.len(), 2, "no second medium for the same cartridge");
}

#[test]
fn inject_error_table_and_notes() {
    let (mut w, s, lib) = given();
    let a = port(&w, lib).element_address;
    // Nothing in the port: nothing to do.
    assert_eq!(inject(&mut w, s, lib, vec![(a, Seen::Empty)]), vec![]);
    // An unreadable label and a cartridge of another library are noted, not adopted.
    assert_eq!(
        inject(&mut w, s, lib, vec![(a, Seen::Unlabeled)]),
        vec![Event::UnlabeledCartridgeFound { library: lib, address: a }]
    );
    let other = w.changer(s, "other", 1, 2, 1);
    let _ = other;
    assert_eq!(
        inject_one(&mut w, s, lib, "OTHER0001L8"),
        vec![Event::ForeignCartridgeFound { library: lib, address: a, barcode: "OTHER0001L8".into() }]
    );
    w.rejects(
        Command::InjectMedia { session: s, library: lib, found: vec![(a, Seen::Empty), (a, Seen::Empty)] },
        ErrorCode::InvalidParameter,
    );
    w.rejects(
        Command::InjectMedia { session: s, library: LibraryId(uuid::Uuid::from_u128(9)), found: vec![] },
        ErrorCode::InvalidLibrary,
    );
    let bob = w.session("bob");
    w.grant(s, lib, "bob", AccessMask::USE);
    w.rejects(
        Command::InjectMedia { session: bob, library: lib, found: in_port(&w, lib, "N1L8") },
        ErrorCode::AccessDenied,
    );
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(Command::InjectMedia { session: s, library: lib, found: vec![] }, ErrorCode::DeviceNotAvailable);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: true });
    // Fill the two free slots; the next cartridge finds no room.
    for b in ["FILL01L8", "FILL02L8"] {
        inject_one(&mut w, s, lib, b);
        w.work(lib);
    }
    w.rejects(
        Command::InjectMedia { session: s, library: lib, found: in_port(&w, lib, "FULL01L8") },
        ErrorCode::LibraryFull,
    );
}

#[test]
fn a_crash_during_an_eject_or_inject_is_settled_from_where_the_cartridge_is() {
    let (mut w, s, lib) = given();
    let m = w.media("LIB0001L8");
    let home = w.state.media[&m].home_slot.expect("a home");
    let p = port(&w, lib).id;
    // The move happened before the crash: the eject is complete.
    let r = eject(&mut w, s, "LIB0001L8");
    w.ok(Command::StartNext { library: lib });
    w.ok(Command::Reconcile { request: r, observed: Observed::Port(p) });
    assert_eq!(w.request(r).state, RequestState::Passed);
    assert_eq!(w.state.media[&m].location, Location::Port(p));
    // An inject whose cartridge never left the port is queued again, same id.
    let found = in_port(&w, lib, "LIB0001L8");
    let r = inject(&mut w, s, lib, found);
    let Event::InjectRequested { request, .. } = &r[0] else { panic!("{r:?}") };
    let r = request.id;
    w.ok(Command::StartNext { library: lib });
    let events = w.ok(Command::Reconcile { request: r, observed: Observed::Port(p) }).1;
    assert!(matches!(events.as_slice(), [Event::RequestRequeued { .. }]), "{events:?}");
    assert_eq!((w.request(r).state, w.request(r).error), (RequestState::Queued, None));
    w.work(lib);
    assert_eq!(w.request(r).state, RequestState::Passed);
    assert_eq!(w.state.media[&m].location, Location::Slot(home));
    // An eject that never moved is queued again; then it completes.
    let r = eject(&mut w, s, "LIB0001L8");
    w.ok(Command::StartNext { library: lib });
    let events = w.ok(Command::Reconcile { request: r, observed: Observed::Slot(home) }).1;
    assert!(matches!(events.as_slice(), [Event::RequestRequeued { .. }]), "{events:?}");
    w.work(lib);
    assert_eq!(w.request(r).state, RequestState::Passed);
    assert_eq!(w.state.media[&m].location, Location::Port(p));
}

#[test]
fn a_failed_inject_leaves_the_cartridge_in_the_port_without_a_home() {
    let (mut w, s, lib) = given();
    let p = port(&w, lib).id;
    let events = inject_one(&mut w, s, lib, "NEW001L8");
    let Event::InjectRequested { request, .. } = &events[0] else { panic!("{events:?}") };
    let (r, slot) = (request.id, request.slot.expect("a destination"));
    w.ok(Command::StartNext { library: lib });
    w.ok(Command::FailRequest {
        request: r,
        error: ErrorCode::MediumNotAccessible,
        sense: Some(Sense { key: 4, asc: 0x15, ascq: 1 }),
        observed: Observed::Port(p),
    });
    let m = w.media("NEW001L8");
    assert_eq!(w.state.media[&m].location, Location::Port(p));
    assert_eq!(w.state.media[&m].home_slot, None);
    assert_eq!(w.state.slots[&slot].home_of, None);
    assert_eq!(w.request(r).sense, Some(Sense { key: 4, asc: 0x15, ascq: 1 }));
    // A later inject takes it in.
    inject_one(&mut w, s, lib, "NEW001L8");
    w.work(lib);
    assert!(matches!(w.state.media[&m].location, Location::Slot(_)));
}

#[test]
fn an_inject_that_finds_another_cartridge_in_place_of_an_ejected_one_records_the_swap() {
    let (mut w, s, lib) = given();
    let m = w.media("LIB0001L8");
    eject(&mut w, s, "LIB0001L8");
    w.work(lib);
    let events = inject_one(&mut w, s, lib, "NEW001L8");
    assert!(
        matches!(events.as_slice(), [Event::CartridgeTakenFromPort { media }, Event::InjectRequested { new: true, .. }] if *media == m),
        "{events:?}"
    );
    assert_eq!(w.state.media[&m].location, Location::Offline);
    w.work(lib);
    assert!(matches!(w.state.media[&w.media("NEW001L8")].location, Location::Slot(_)));
}

/// Regression: inventory ignored the import/export ports. A cartridge the
/// operator put in a port was reported as no difference, `show ports` said
/// empty, and a later eject to that port failed at the robot.
#[test]
fn inventory_reads_the_ports_like_slots_and_an_eject_to_a_full_port_is_refused() {
    let (mut w, s, lib) = given();
    let observed = in_port(&w, lib, "NEWP01L8");
    let events =
        w.ok(Command::RecordInventory { method: InventoryMethod::Fast, session: Some(s), library: lib, observed }).1;
    assert!(
        matches!(events.as_slice(), [Event::CartridgeAppeared { at: Location::Port(_), home: Some(_), .. }]),
        "{events:?}"
    );
    let new = w.media("NEWP01L8");
    assert_eq!(port(&w, lib).content, Some(new), "the views have it in the port");
    let busy = w.rejects(Command::EjectMedia { session: s, media: w.media("LIB0001L8") }, ErrorCode::Busy);
    assert!(busy.message().contains("full"), "{busy}");
    // The inject takes it to the home the inventory gave it.
    let home = w.state.media[&new].home_slot;
    inject_one(&mut w, s, lib, "NEWP01L8");
    w.work(lib);
    assert_eq!(w.state.media[&new].location, Location::Slot(home.expect("a home")));

    // Something the catalog cannot hold (unlabeled) fills the port too.
    let address = port(&w, lib).element_address;
    let events = w
        .ok(Command::RecordInventory {
            method: InventoryMethod::Fast,
            session: Some(s),
            library: lib,
            observed: vec![(address, Seen::Unlabeled)],
        })
        .1;
    assert!(matches!(events.as_slice(), [Event::UnlabeledCartridgeFound { .. }]), "{events:?}");
    assert!(port(&w, lib).stranger);
    w.rejects(Command::EjectMedia { session: s, media: w.media("LIB0001L8") }, ErrorCode::Busy);
    // Found empty again: the port is free.
    let events = w
        .ok(Command::RecordInventory {
            method: InventoryMethod::Fast,
            session: Some(s),
            library: lib,
            observed: vec![(address, Seen::Empty)],
        })
        .1;
    assert!(matches!(events.as_slice(), [Event::PortFoundEmpty { .. }]), "{events:?}");
    assert!(!port(&w, lib).stranger);
    eject(&mut w, s, "LIB0001L8");
}

/// The computer's dwMediaPoolPolicy (spec §1.3): a free cartridge taken out
/// of its port is kept on the shelf unless PURGEOFFLINESCRATCH; an import
/// one is deleted unless KEEPOFFLINEIMPORT.
#[test]
fn the_media_pool_policy_decides_what_an_ejected_cartridge_leaves_behind() {
    let (mut w, s, lib) = given();
    w.policy.administrator = Some("admin".into());
    let taken = |w: &mut World| {
        let empty_port = vec![(port(w, lib).element_address, Seen::Empty)];
        w.ok(Command::RecordInventory {
            method: InventoryMethod::Fast,
            session: Some(s),
            library: lib,
            observed: empty_port,
        })
        .1
    };
    let policy = |w: &mut World, flags: u32| {
        w.ok(Command::SetObjectInformation {
            session: s,
            object: ObjectRef::Computer,
            field: InfoField::MediaPoolPolicy(flags),
        })
    };
    w.rejects(
        Command::SetObjectInformation {
            session: s,
            object: ObjectRef::Computer,
            field: InfoField::MediaPoolPolicy(0x4),
        },
        ErrorCode::InvalidParameter,
    );
    policy(&mut w, PURGE_OFFLINE_SCRATCH);
    let m = w.media("LIB0001L8");
    eject(&mut w, s, "LIB0001L8");
    w.work(lib);
    assert_eq!(taken(&mut w), vec![Event::CartridgeTakenFromPort { media: m }, Event::MediaDeleted { media: m }]);
    assert!(!w.state.media.contains_key(&m));
    // Import cartridges (a VOL1 label another writer made): deleted by
    // default, kept with KEEPOFFLINEIMPORT.
    for (barcode, flags, kept) in [("IMP001L8", 0, false), ("IMP002L8", KEEP_OFFLINE_IMPORT, true)] {
        w.first_blocks.insert(barcode.into(), vol1(&barcode[..6], "Bacula", ""));
        inject_one(&mut w, s, lib, barcode);
        w.work(lib);
        let m = w.media(barcode);
        assert_eq!(w.state.media[&m].sides[0].state, SideState::Import);
        policy(&mut w, flags);
        eject(&mut w, s, barcode);
        w.work(lib);
        let events = taken(&mut w);
        assert_eq!(events.len(), if kept { 1 } else { 2 }, "{events:?}");
        assert_eq!(w.state.media.contains_key(&m), kept);
    }
    w.state.check_invariants().expect("invariants");
}

/// Found by the simulation: an eject not yet started whose port the
/// operator filled and whose cartridge he moved failed twice in one reading.
#[test]
fn regression_an_eject_overtaken_twice_in_one_reading_fails_once() {
    let mut w = World::new();
    let s = w.session("alice");
    let lib = w.changer(s, "lib", 1, 4, 2);
    let media = w.media("LIB0001L8");
    let eject = w.ok(Command::EjectMedia { session: s, media }).0;
    let slots: Vec<u16> = w.state.libraries[&lib].slots.iter().map(|x| w.state.slots[x].element_address).collect();
    let observed = vec![
        (slots[0], Seen::Empty),
        (slots[1], Seen::Cartridge("LIB0002L8".into())),
        (slots[2], Seen::Cartridge("LIB0001L8".into())),
        (slots[3], Seen::Empty),
        (rsm_model::limits::PORT_ADDRESS_FIRST, Seen::Cartridge("OTHER1L8".into())),
    ];
    let events =
        w.ok(Command::RecordInventory { session: Some(s), library: lib, observed, method: InventoryMethod::Fast }).1;
    let failures =
        events.iter().filter(|e| matches!(e, Event::RequestFailed { request, .. } if *request == eject)).count();
    assert_eq!(failures, 1, "{events:?}");
}
