//! RecordInventory: READ ELEMENT STATUS compared with the projection, one
//! event per difference, never a silent overwrite.

mod common;
use common::World;
use rsm_model::*;

/// What the hardware would report if it agreed with the projection.
fn agreeing(w: &World, lib: LibraryId) -> Vec<(u16, Seen)> {
    let l = &w.state.libraries[&lib];
    let seen = |m: Option<MediaId>| match m {
        Some(m) => Seen::Cartridge(w.state.media[&m].barcode.clone()),
        None => Seen::Empty,
    };
    let mut out: Vec<(u16, Seen)> =
        l.drives.iter().map(|d| &w.state.drives[d]).map(|d| (d.element_address, seen(d.medium))).collect();
    out.extend(l.slots.iter().map(|s| &w.state.slots[s]).map(|s| (s.element_address, seen(s.content))));
    out
}

fn set(observed: &mut [(u16, Seen)], address: u16, seen: Seen) {
    observed.iter_mut().find(|(a, _)| *a == address).expect("an observed address").1 = seen;
}

fn slot(w: &World, lib: LibraryId, n: usize) -> &Slot {
    &w.state.slots[&w.state.libraries[&lib].slots[n]]
}

fn inventory(w: &mut World, session: SessionId, library: LibraryId, observed: Vec<(u16, Seen)>) -> Vec<Event> {
    w.ok(Command::RecordInventory { session: Some(session), library, observed, method: InventoryMethod::Fast }).1
}

/// Given a changer `lib` with 2 drives, 4 slots and LIB0001L8, LIB0002L8 in slots 1 and 2.
fn given() -> (World, SessionId, LibraryId) {
    let mut w = World::new();
    let s = w.session("admin");
    let lib = w.changer(s, "lib", 2, 4, 2);
    (w, s, lib)
}

#[test]
fn nothing_differs_nothing_is_recorded() {
    let (mut w, s, lib) = given();
    let obs = agreeing(&w, lib);
    assert_eq!(inventory(&mut w, s, lib, obs), vec![]);
}

#[test]
fn a_new_cartridge_in_a_slot_appears_with_that_slot_as_home() {
    let (mut w, s, lib) = given();
    let mut obs = agreeing(&w, lib);
    let a = slot(&w, lib, 3).element_address;
    set(&mut obs, a, Seen::Cartridge("NEW001L8".into()));
    let events = inventory(&mut w, s, lib, obs.clone());
    // Found in its slot, it is classified next (spec §7.2).
    assert!(
        matches!(events.as_slice(), [Event::CartridgeAppeared { barcode, .. }, Event::LabelRequested { request }]
            if barcode == "NEW001L8" && request.kind == RequestKind::Classify),
        "{events:?}"
    );
    let m = w.state.medium_by_barcode("NEW001L8").expect("adopted").clone();
    let sl = slot(&w, lib, 3).id;
    assert_eq!((m.location, m.home_slot, m.library, m.state), (Location::Slot(sl), Some(sl), lib, MediaState::InUse));
    assert!(m.sides.iter().all(|x| x.state == SideState::Unknown), "{m:?}");
    assert_eq!(inventory(&mut w, s, lib, obs), vec![], "a second inventory finds nothing new");
}

#[test]
fn a_new_cartridge_in_a_drive_sits_there_unheld_with_a_free_home() {
    let (mut w, s, lib) = given();
    let mut obs = agreeing(&w, lib);
    let drive = w.drive("lib-drive-2");
    set(&mut obs, w.state.drives[&drive].element_address, Seen::Cartridge("NEW002L8".into()));
    inventory(&mut w, s, lib, obs);
    let m = w.state.medium_by_barcode("NEW002L8").expect("adopted").clone();
    assert_eq!((m.location, m.state), (Location::Drive(drive), MediaState::Loaded));
    assert_eq!(m.home_slot, Some(slot(&w, lib, 2).id), "the lowest slot nobody calls home");
    let d = &w.state.drives[&drive];
    assert_eq!((d.state, d.holder), (DriveState::Loaded, None));
    // It can be taken home like any other.
    let (r, _) = w.ok(Command::DismountDrive { session: s, drive });
    w.work(lib);
    assert_eq!(w.request(r).state, RequestState::Passed);
    assert_eq!(w.state.media[&m.id].location, Location::Slot(slot(&w, lib, 2).id));
}

#[test]
fn a_missing_cartridge_vanishes_offline_and_keeps_its_home() {
    let (mut w, s, lib) = given();
    let mut obs = agreeing(&w, lib);
    let home = slot(&w, lib, 1).clone();
    set(&mut obs, home.element_address, Seen::Empty);
    let m = w.media("LIB0002L8");
    assert_eq!(inventory(&mut w, s, lib, obs), vec![Event::CartridgeVanished { media: m }]);
    let medium = &w.state.media[&m];
    assert_eq!((medium.location, medium.home_slot), (Location::Offline, Some(home.id)));
    assert_eq!(slot(&w, lib, 1).home_of, Some(m));
    let offline = MountOptions { error_if_offline: true, ..MountOptions::default() };
    w.rejects(Command::MountMedia { session: s, media: m, options: offline }, ErrorCode::MediaOffline);
}

#[test]
fn a_cartridge_found_elsewhere_moves_and_a_free_slot_becomes_its_home() {
    let (mut w, s, lib) = given();
    let mut obs = agreeing(&w, lib);
    let (from, to) = (slot(&w, lib, 0).clone(), slot(&w, lib, 3).clone());
    set(&mut obs, from.element_address, Seen::Empty);
    set(&mut obs, to.element_address, Seen::Cartridge("LIB0001L8".into()));
    let m = w.media("LIB0001L8");
    assert_eq!(inventory(&mut w, s, lib, obs), vec![Event::CartridgeMoved { media: m, to: Location::Slot(to.id) }]);
    let medium = &w.state.media[&m];
    assert_eq!((medium.location, medium.home_slot), (Location::Slot(to.id), Some(to.id)));
    assert_eq!(slot(&w, lib, 0).home_of, None);
}

#[test]
fn a_cartridge_found_in_a_drive_moves_there_and_keeps_its_home() {
    let (mut w, s, lib) = given();
    let mut obs = agreeing(&w, lib);
    let home = slot(&w, lib, 0).clone();
    let drive = w.drive("lib-drive-1");
    set(&mut obs, home.element_address, Seen::Empty);
    set(&mut obs, w.state.drives[&drive].element_address, Seen::Cartridge("LIB0001L8".into()));
    let m = w.media("LIB0001L8");
    assert_eq!(inventory(&mut w, s, lib, obs), vec![Event::CartridgeMoved { media: m, to: Location::Drive(drive) }]);
    assert_eq!(w.state.media[&m].home_slot, Some(home.id));
    assert_eq!(w.state.drives[&drive].medium, Some(m));
}

#[test]
fn two_cartridges_swapped_behind_rsms_back_are_both_moved() {
    let (mut w, s, lib) = given();
    let mut obs = agreeing(&w, lib);
    let (a, b) = (slot(&w, lib, 0).clone(), slot(&w, lib, 1).clone());
    set(&mut obs, a.element_address, Seen::Cartridge("LIB0002L8".into()));
    set(&mut obs, b.element_address, Seen::Cartridge("LIB0001L8".into()));
    let events = inventory(&mut w, s, lib, obs.clone());
    assert_eq!(events.len(), 3, "one cartridge goes offline to break the cycle: {events:?}");
    assert_eq!(w.state.media[&w.media("LIB0001L8")].location, Location::Slot(b.id));
    assert_eq!(w.state.media[&w.media("LIB0002L8")].location, Location::Slot(a.id));
    assert_eq!(slot(&w, lib, 0).home_of, Some(w.media("LIB0002L8")));
    assert_eq!(inventory(&mut w, s, lib, obs), vec![]);
}

#[test]
fn a_cartridge_in_another_cartridges_home_takes_it_and_the_owner_vanishes() {
    let (mut w, s, lib) = given();
    let mut obs = agreeing(&w, lib);
    let (a, b) = (slot(&w, lib, 0).clone(), slot(&w, lib, 1).clone());
    // LIB0002L8 is gone; LIB0001L8 now sits in LIB0002L8's home.
    set(&mut obs, a.element_address, Seen::Empty);
    set(&mut obs, b.element_address, Seen::Cartridge("LIB0001L8".into()));
    let (m1, m2) = (w.media("LIB0001L8"), w.media("LIB0002L8"));
    assert_eq!(
        inventory(&mut w, s, lib, obs),
        vec![Event::CartridgeVanished { media: m2 }, Event::CartridgeMoved { media: m1, to: Location::Slot(b.id) }]
    );
    assert_eq!(w.state.media[&m1].home_slot, Some(b.id));
    assert_eq!(w.state.media[&m2].home_slot, Some(a.id), "the owner takes the mover's old home");
}

#[test]
fn unlabeled_and_foreign_cartridges_are_recorded_not_adopted() {
    let (mut w, s, lib) = given();
    let other = w.changer(s, "other", 1, 2, 1);
    let mut obs = agreeing(&w, lib);
    let (c, d) = (slot(&w, lib, 2).element_address, slot(&w, lib, 3).element_address);
    set(&mut obs, c, Seen::Unlabeled);
    set(&mut obs, d, Seen::Cartridge("OTHER0001L8".into()));
    let events = inventory(&mut w, s, lib, obs);
    assert_eq!(
        events,
        vec![
            Event::UnlabeledCartridgeFound { library: lib, address: c },
            Event::ForeignCartridgeFound { library: lib, address: d, barcode: "OTHER0001L8".into() },
        ]
    );
    assert_eq!(w.state.media.len(), 3);
    assert_eq!(w.state.media[&w.media("OTHER0001L8")].library, other);
    assert_eq!(slot(&w, lib, 3).content, None);
}

#[test]
fn elements_unknown_to_the_projection_are_ignored() {
    let (mut w, s, lib) = given();
    let mut obs = agreeing(&w, lib);
    obs.push((9999, Seen::Cartridge("STRAY1L8".into())));
    assert_eq!(inventory(&mut w, s, lib, obs), vec![]);
    assert!(w.state.medium_by_barcode("STRAY1L8").is_none());
}

#[test]
fn cartridges_with_a_request_under_way_are_left_to_the_request() {
    let (mut w, s, lib) = given();
    let r = w.mount(s, "LIB0001L8", Some("lib-drive-1"));
    w.ok(Command::StartNext { library: lib });
    assert_eq!(w.request(r).state, RequestState::InProcess);
    let mut obs = agreeing(&w, lib);
    // The hardware shows the mount's cartridge, its slot and drive differently: untouched.
    set(&mut obs, slot(&w, lib, 0).element_address, Seen::Empty);
    let drive = w.drive("lib-drive-1");
    set(&mut obs, w.state.drives[&drive].element_address, Seen::Cartridge("X00001L8".into()));
    assert_eq!(inventory(&mut w, s, lib, obs), vec![]);
    assert_eq!(w.state.media[&w.media("LIB0001L8")].location, Location::Slot(slot(&w, lib, 0).id));
}

#[test]
fn inventory_checks_in_order() {
    let (mut w, s, lib) = given();
    let obs = agreeing(&w, lib);
    let run = |session, library, observed| Command::RecordInventory {
        session: Some(session),
        library,
        observed,
        method: InventoryMethod::Fast,
    };
    w.rejects(run(SessionId(uuid::Uuid::from_u128(7)), lib, obs.clone()), ErrorCode::InvalidHandle);
    let mut twice = obs.clone();
    twice.push(twice[0].clone());
    w.rejects(run(s, lib, twice), ErrorCode::InvalidParameter);
    w.rejects(run(s, LibraryId(uuid::Uuid::from_u128(7)), obs.clone()), ErrorCode::InvalidLibrary);
    let bob = w.session("bob");
    w.grant(s, lib, "bob", AccessMask::USE.with(AccessMask::MODIFY));
    w.rejects(run(bob, lib, obs.clone()), ErrorCode::AccessDenied);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(run(s, lib, obs.clone()), ErrorCode::DeviceNotAvailable);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: true });
    // A mount under way: the robot has put the cartridge in the drive, the
    // views still have it leaving its slot. Its slot, its drive and the
    // cartridge are the mount's: the reading records nothing about them.
    let r = w.mount(s, "LIB0001L8", None);
    w.ok(Command::StartNext { library: lib });
    assert_eq!(w.request(r).state, RequestState::InProcess);
    let drive = w.request(r).drive.expect("a mount names its drive");
    let mut moving = obs.clone();
    set(&mut moving, slot(&w, lib, 0).element_address, Seen::Empty);
    set(&mut moving, w.state.drives[&drive].element_address, Seen::Cartridge("LIB0001L8".into()));
    assert_eq!(inventory(&mut w, s, lib, moving), vec![]);
    w.finish(r);
    let obs = agreeing(&w, lib);
    assert_eq!(inventory(&mut w, s, lib, obs), vec![]);
}

/// Regression (found by a hostile run): the inventory after a door closed
/// ignored a cartridge a queued mount named, so the views kept it in a slot
/// the operator had emptied and the mount failed on the empty slot. A
/// request that has not started moved nothing: the reading wins, and the
/// request fails with the reason.
#[test]
fn an_inventory_fails_a_queued_request_whose_cartridge_the_operator_moved_or_took() {
    let (mut w, s, lib) = given();
    let taken = w.mount(s, "LIB0001L8", Some("lib-drive-1"));
    let moved = w.ok(Command::EjectMedia { session: s, media: w.media("LIB0002L8") }).0;
    let mut obs = agreeing(&w, lib);
    set(&mut obs, slot(&w, lib, 0).element_address, Seen::Empty);
    set(&mut obs, slot(&w, lib, 1).element_address, Seen::Empty);
    let free = w.state.libraries[&lib]
        .slots
        .iter()
        .map(|x| &w.state.slots[x])
        .find(|x| x.content.is_none())
        .expect("a free slot")
        .element_address;
    set(&mut obs, free, Seen::Cartridge("LIB0002L8".into()));
    let events = inventory(&mut w, s, lib, obs);
    assert!(matches!(events[..2], [Event::RequestFailed { .. }, Event::RequestFailed { .. }]), "{events:?}");
    let r = w.request(taken);
    assert_eq!((r.state, r.error), (RequestState::Failed, Some(ErrorCode::MediaOffline.code())));
    assert_eq!(w.request(moved).error, Some(ErrorCode::MediaNotAvailable.code()));
    assert_eq!(w.state.media[&w.media("LIB0001L8")].location, Location::Offline);
    assert!(
        matches!(w.state.media[&w.media("LIB0002L8")].location, Location::Slot(x) if w.state.slots[&x].element_address == free)
    );
}
