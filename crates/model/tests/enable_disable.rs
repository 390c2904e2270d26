//! EnableNtmsObject / DisableNtmsObject (spec §3.6): one row per code of
//! its table, and the effect on the views: the flag, and a disabled drive
//! emptied when nobody holds its cartridge.

mod common;

use common::World;
use rsm_model::*;

fn set(session: SessionId, object: ObjectRef, enabled: bool) -> Command {
    Command::SetEnabled { session, object, enabled }
}

#[test]
fn enable_and_disable_codes() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 2, 6, 3);
    let drive = ObjectRef::Drive(w.drive("la-drive-1"));
    let medium = ObjectRef::Media(w.media("LA0001L8"));

    w.rejects(set(SessionId(uuid::Uuid::from_u128(99)), drive, false), ErrorCode::InvalidHandle);
    w.rejects(set(alice, ObjectRef::Slot(w.state.libraries[&lib].slots[0]), false), ErrorCode::InvalidParameter);
    w.rejects(set(alice, ObjectRef::Drive(DriveId::NIL), false), ErrorCode::InvalidParameter);
    w.rejects(set(alice, ObjectRef::Drive(DriveId(uuid::Uuid::from_u128(5))), false), ErrorCode::ObjectNotFound);
    let bob = w.session("bob");
    w.rejects(set(bob, drive, false), ErrorCode::AccessDenied);
    w.rejects(set(alice, drive, true), ErrorCode::InvalidState);

    // Success: the flag, and what needs the object is refused.
    w.ok(set(alice, medium, false));
    assert!(!w.state.media[&w.media("LA0001L8")].enabled);
    w.rejects(set(alice, medium, false), ErrorCode::InvalidState);
    w.rejects(
        Command::MountMedia { session: alice, media: w.media("LA0001L8"), options: MountOptions::default() },
        ErrorCode::ResourceDisabled,
    );
    w.ok(set(alice, medium, true));
    w.ok(set(alice, ObjectRef::Library(lib), false));
    assert!(!w.state.libraries[&lib].enabled);
    w.ok(set(alice, ObjectRef::Library(lib), true));

    // The offline shelf cannot be enabled or disabled.
    w.policy.administrator = Some("alice".into());
    w.ok(Command::CreateMedia {
        session: alice,
        barcode: "OFF001L8".into(),
        pool: SystemPools::of(default_media_type()).import,
        sides: vec![SideState::Import],
        labels: Vec::new(),
        error_on_duplicate: false,
    });
    w.rejects(set(alice, ObjectRef::Media(w.media("OFF001L8")), false), ErrorCode::LibraryOffline);
    // Found by a hostile run: an ejected cartridge taken out of its port
    // (on the shelf, its library's id kept) could be disabled.
    let m2 = w.media("LA0002L8");
    w.ok(Command::EjectMedia { session: alice, media: m2 });
    w.work(lib);
    let port = &w.state.ports[&w.state.libraries[&lib].ports[0]];
    let empty = vec![(port.element_address, Seen::Empty)];
    w.ok(Command::RecordInventory {
        method: InventoryMethod::Fast,
        session: Some(alice),
        library: lib,
        observed: empty,
    });
    assert_eq!(w.state.media[&m2].location, Location::Offline);
    w.rejects(set(alice, ObjectRef::Media(m2), false), ErrorCode::LibraryOffline);
    w.state.check_invariants().expect("invariants");
}

/// A drive disabled with a released cartridge in it is emptied: the
/// cartridge goes home though the drive takes no other work; one a
/// session holds stays until it is dismounted.
#[test]
fn a_disabled_drive_is_emptied_when_nobody_holds_its_cartridge() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 2, 6, 3);
    let (d1, d2) = (w.drive("la-drive-1"), w.drive("la-drive-2"));
    let (m1, m2) = (w.media("LA0001L8"), w.media("LA0002L8"));
    for (m, d) in [(m1, d1), (m2, d2)] {
        w.ok(Command::MountMedia {
            session: alice,
            media: m,
            options: MountOptions { drive: Some(d), ..Default::default() },
        });
    }
    w.work(lib);
    w.ok(Command::DismountMedia { session: alice, media: m1, deferred: true });
    let (_, events) = w.ok(set(alice, ObjectRef::Drive(d1), false));
    assert!(
        matches!(events.as_slice(), [Event::EnabledChanged { .. }, Event::DismountRequested { request }]
            if request.origin == Some(DismountOrigin::Disabled) && request.drive == Some(d1)),
        "{events:?}"
    );
    // The one m2's session holds is left alone.
    let (_, events) = w.ok(set(alice, ObjectRef::Drive(d2), false));
    assert!(matches!(events.as_slice(), [Event::EnabledChanged { .. }]), "{events:?}");
    w.work(lib);
    assert_eq!(w.state.drives[&d1].medium, None, "emptied");
    assert!(matches!(w.state.media[&m1].location, Location::Slot(_)));
    assert_eq!(w.state.drives[&d2].medium, Some(m2));
    // A disabled drive takes no mount.
    w.rejects(
        Command::MountMedia {
            session: alice,
            media: m1,
            options: MountOptions { drive: Some(d1), ..Default::default() },
        },
        ErrorCode::ResourceDisabled,
    );
    w.state.check_invariants().expect("invariants");
}

/// Found by a hostile run: a cartridge its session held when its drive was
/// disabled could never leave (every release was ERROR_DEVICE_NOT_AVAILABLE,
/// and closing the session left it dismountable with nothing queued). Now
/// its release, deferred or not, and its session's close take it home.
#[test]
fn a_held_cartridge_leaves_a_disabled_drive_when_released() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 2, 6, 3);
    let (d1, d2) = (w.drive("la-drive-1"), w.drive("la-drive-2"));
    let (m1, m2) = (w.media("LA0001L8"), w.media("LA0002L8"));
    let bob = w.session("bob");
    w.grant(alice, lib, "bob", AccessMask::USE);
    w.ok(Command::MountMedia {
        session: alice,
        media: m1,
        options: MountOptions { drive: Some(d1), ..Default::default() },
    });
    w.ok(Command::MountMedia {
        session: bob,
        media: m2,
        options: MountOptions { drive: Some(d2), ..Default::default() },
    });
    w.work(lib);
    for d in [d1, d2] {
        w.ok(set(alice, ObjectRef::Drive(d), false));
    }
    // A deferred release of a disabled drive's cartridge takes it home.
    let (_, events) = w.ok(Command::DismountMedia { session: alice, media: m1, deferred: true });
    assert!(
        events.iter().any(
            |e| matches!(e, Event::DismountRequested { request } if request.origin == Some(DismountOrigin::Disabled))
        ),
        "{events:?}"
    );
    // Closing the session that holds the other does too.
    let (_, events) = w.ok(Command::CloseSession { session: bob });
    assert!(events.iter().any(|e| matches!(e, Event::DismountRequested { .. })), "{events:?}");
    w.work(lib);
    assert!(w.state.drives.values().all(|d| d.medium.is_none()), "both drives emptied");
    w.state.check_invariants().expect("invariants");
}
