//! DismountDrive (spec §4): one test per row of the return-value table.

mod common;
use common::World;
use rsm_model::*;

/// A changer with LIB0001L8 mounted in lib-drive-1 and released, owned by "admin".
fn loaded_and_released() -> (World, SessionId, DriveId) {
    let mut w = World::new();
    let s = w.session("admin");
    let lib = w.changer(s, "lib", 2, 4, 3);
    w.mount(s, "LIB0001L8", Some("lib-drive-1"));
    w.work(lib);
    let media = w.media("LIB0001L8");
    w.ok(Command::DismountMedia { session: s, media, deferred: true });
    let d = w.drive("lib-drive-1");
    (w, s, d)
}

#[test]
fn success_queues_the_move_home_and_reserves_the_slot() {
    let (mut w, s, drive) = loaded_and_released();
    let (req, events) = w.ok(Command::DismountDrive { session: s, drive });
    assert!(matches!(events.as_slice(), [Event::DismountRequested { .. }]));
    let r = w.request(req).clone();
    assert_eq!(r.kind, RequestKind::Dismount);
    assert_eq!(r.state, RequestState::Queued);
    assert_eq!(r.kind.ntms_value(), 16);
    let home = w.state.media[&r.media].home_slot;
    assert_eq!(r.slot, home, "the destination is the medium's home slot");
    assert_eq!(w.state.slots[&home.unwrap()].home_of, Some(r.media), "the slot stays reserved");
    assert_eq!(w.state.media[&r.media].state, MediaState::InUse);
    assert_eq!(w.state.drives[&drive].reserved_by, Some(req));
    assert_eq!(w.state.drives[&drive].dismount_deadline_ms, None, "the deferred timer is cancelled");
    // The worker carries it out.
    let lib = w.state.drives[&drive].library;
    w.work(lib);
    assert_eq!(w.request(req).state, RequestState::Passed);
    assert_eq!(w.state.drives[&drive].state, DriveState::Dismounted);
    assert_eq!(w.state.media[&r.media].location, Location::Slot(home.unwrap()));
    assert_eq!(w.state.slots[&home.unwrap()].state, SlotState::Full);
}

#[test]
fn invalid_state_when_the_drive_is_empty() {
    let (mut w, s, _) = loaded_and_released();
    let empty = w.drive("lib-drive-2");
    let e = w.rejects(Command::DismountDrive { session: s, drive: empty }, ErrorCode::InvalidState);
    assert_eq!(e.code(), 5023);
}

#[test]
fn invalid_state_when_the_medium_is_opened() {
    let mut w = World::new();
    let s = w.session("admin");
    let lib = w.changer(s, "lib", 1, 4, 2);
    w.mount(s, "LIB0001L8", None);
    w.work(lib);
    let drive = w.drive("lib-drive-1");
    assert!(w.state.drives[&drive].holder.is_some());
    let e = w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::InvalidState);
    assert!(e.message().contains("opened"), "{}", e.message());
}

#[test]
fn invalid_state_when_a_dismount_is_already_queued() {
    let (mut w, s, drive) = loaded_and_released();
    w.ok(Command::DismountDrive { session: s, drive });
    w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::InvalidState);
}

#[test]
fn invalid_drive_for_an_unknown_id() {
    let (mut w, s, _) = loaded_and_released();
    let e = w.rejects(
        Command::DismountDrive { session: s, drive: DriveId(uuid::Uuid::from_u128(99)) },
        ErrorCode::InvalidDrive,
    );
    assert_eq!(e.code(), 15);
}

#[test]
fn invalid_drive_for_the_id_of_another_kind_of_object() {
    let (mut w, s, _) = loaded_and_released();
    let media = w.media("LIB0002L8");
    w.rejects(Command::DismountDrive { session: s, drive: DriveId(media.0) }, ErrorCode::InvalidDrive);
}

#[test]
fn invalid_parameter_for_the_zero_id() {
    let (mut w, s, _) = loaded_and_released();
    let e = w.rejects(Command::DismountDrive { session: s, drive: DriveId::NIL }, ErrorCode::InvalidParameter);
    assert_eq!(e.code(), 87);
}

#[test]
fn invalid_handle_for_unknown_and_closed_sessions() {
    let (mut w, s, drive) = loaded_and_released();
    let e = w.rejects(
        Command::DismountDrive { session: SessionId(uuid::Uuid::from_u128(5)), drive },
        ErrorCode::InvalidHandle,
    );
    assert_eq!(e.code(), 6);
    w.ok(Command::CloseSession { session: s });
    w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::InvalidHandle);
}

#[test]
fn invalid_library_while_its_library_is_being_deleted() {
    // A mount is in process on drive 2 when the (disabled) library is deleted:
    // deletion waits for the robot, and meanwhile the library is not valid.
    let (mut w, s, drive) = loaded_and_released();
    let lib = w.state.drives[&drive].library;
    w.mount(s, "LIB0002L8", Some("lib-drive-2"));
    let (_, started) = w.ok(Command::StartNext { library: lib });
    assert!(matches!(started.as_slice(), [Event::RequestStarted { .. }]));
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.ok(Command::DeleteLibrary { session: s, library: lib });
    assert!(w.state.libraries[&lib].deleting);
    let e = w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::InvalidLibrary);
    assert_eq!(e.code(), 4301);
}

#[test]
fn device_not_available_when_the_drive_is_disabled() {
    let (mut w, s, drive) = loaded_and_released();
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Drive(drive), enabled: false });
    let e = w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::DeviceNotAvailable);
    assert_eq!(e.code(), 4319);
}

#[test]
fn device_not_available_when_the_library_is_disabled() {
    let (mut w, s, drive) = loaded_and_released();
    let lib = w.state.drives[&drive].library;
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::DeviceNotAvailable);
}

#[test]
fn access_denied_without_modify_access() {
    let (mut w, s, drive) = loaded_and_released();
    let lib = w.state.drives[&drive].library;
    let bob = w.session("bob");
    let e = w.rejects(Command::DismountDrive { session: bob, drive }, ErrorCode::AccessDenied);
    assert_eq!(e.code(), 5);
    // USE alone is not enough; MODIFY is (Server 2003 rule).
    w.grant(s, lib, "bob", AccessMask::USE);
    w.rejects(Command::DismountDrive { session: bob, drive }, ErrorCode::AccessDenied);
    w.grant(s, lib, "bob", AccessMask::MODIFY);
    w.ok(Command::DismountDrive { session: bob, drive });
}

#[test]
fn windows_xp_rule_needs_control_access() {
    let (mut w, s, drive) = loaded_and_released();
    w.policy = Policy::default().windows_xp_rules();
    let lib = w.state.drives[&drive].library;
    let bob = w.session("bob");
    w.grant(s, lib, "bob", AccessMask::MODIFY);
    w.rejects(Command::DismountDrive { session: bob, drive }, ErrorCode::AccessDenied);
    w.grant(s, lib, "bob", AccessMask::CONTROL);
    w.ok(Command::DismountDrive { session: bob, drive });
}

#[test]
fn not_enough_memory_when_the_queue_is_full() {
    let (mut w, s, drive) = loaded_and_released();
    let lib = w.state.drives[&drive].library;
    // One queued request fills a queue of one.
    w.mount(s, "LIB0002L8", Some("lib-drive-2"));
    w.policy.queue_per_library_max = 1;
    let e = w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::NotEnoughMemory);
    assert_eq!(e.code(), 8);
    w.work(lib);
    w.ok(Command::DismountDrive { session: s, drive });
}

#[test]
fn library_full_when_the_home_slot_is_gone_and_no_slot_is_free() {
    // rsm extension (spec §4.3 rule 9): a NOTPRESENT home with no free slot.
    let (mut w, s, drive) = loaded_and_released();
    let media = w.state.drives[&drive].medium.unwrap();
    let home = w.state.media[&media].home_slot.unwrap();
    let lib = w.state.drives[&drive].library;
    let slots = w.state.libraries[&lib].slots.clone();
    w.state.slots.get_mut(&home).unwrap().state = SlotState::NotPresent;
    let free: Vec<SlotId> = slots.into_iter().filter(|s| w.state.slots[s].home_of.is_none()).collect();
    for s in free {
        w.state.slots.get_mut(&s).unwrap().state = SlotState::NotPresent;
    }
    let e = w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::LibraryFull);
    assert_eq!(e.code(), 4322);
}

#[test]
fn a_missing_home_slot_is_replaced_by_the_lowest_free_slot() {
    let (mut w, s, drive) = loaded_and_released();
    let media = w.state.drives[&drive].medium.unwrap();
    let home = w.state.media[&media].home_slot.unwrap();
    w.state.slots.get_mut(&home).unwrap().state = SlotState::NotPresent;
    let (req, _) = w.ok(Command::DismountDrive { session: s, drive });
    let dest = w.request(req).slot.unwrap();
    assert_ne!(dest, home);
    assert_eq!(w.state.slots[&dest].name, "lib-slot-4", "slots 1-3 are homes of the three cartridges");
    assert_eq!(w.state.media[&media].home_slot, Some(dest));
}

#[test]
fn standalone_drive_becomes_dismountable_and_the_request_is_recorded_passed() {
    let mut w = World::new();
    let s = w.session("op");
    w.standalone(s, "sa", 1);
    let drive = w.drive("sa-drive-1");
    w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::InvalidState);
    w.ok(Command::OperatorInsert { session: s, drive, barcode: "SA0001L8".into() });
    let (req, _) = w.ok(Command::DismountDrive { session: s, drive });
    assert_eq!(w.state.drives[&drive].state, DriveState::Dismountable);
    assert_eq!(w.request(req).state, RequestState::Passed);
    assert_eq!(w.request(req).kind, RequestKind::Dismount);
    let media = w.media("SA0001L8");
    assert_eq!(w.state.media[&media].location, Location::Drive(drive), "the medium stays in the drive");
    // The operator takes it out.
    w.ok(Command::OperatorRemove { session: s, drive });
    assert_eq!(w.state.media[&media].location, Location::Offline);
    assert_eq!(w.state.drives[&drive].state, DriveState::Dismounted);
}

#[test]
fn the_order_of_checks_follows_the_spec() {
    // An unknown session beats a zero drive id; a zero id beats everything after.
    let (mut w, _s, _) = loaded_and_released();
    w.rejects(Command::DismountDrive { session: SessionId::NIL, drive: DriveId::NIL }, ErrorCode::InvalidHandle);
    let bob = w.session("bob");
    w.rejects(Command::DismountDrive { session: bob, drive: DriveId::NIL }, ErrorCode::InvalidParameter);
    // Access (4) is checked before enabled (5) and state (6).
    let empty = w.drive("lib-drive-2");
    w.rejects(Command::DismountDrive { session: bob, drive: empty }, ErrorCode::AccessDenied);
}
