//! EjectDiskFromSADrive (spec §3.2): every code of its table and the
//! effect: the cartridge leaves the stand-alone drive for the shelf.

mod common;

use common::World;
use rsm_model::*;

fn eject(session: SessionId, device: &str, option: u32) -> Command {
    Command::EjectFromStandaloneDrive { session, device: device.into(), option }
}

#[test]
fn eject_disk_from_a_stand_alone_drive_codes_and_effect() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.standalone(alice, "sa", 1);
    w.changer(alice, "la", 1, 2, 1);
    let drive = w.state.libraries[&lib].drives[0];
    let name = w.state.drives[&drive].name.clone();
    w.rejects(eject(SessionId(uuid::Uuid::from_u128(9)), &name, 0), ErrorCode::InvalidHandle);
    w.rejects(eject(alice, "", 0), ErrorCode::InvalidParameter);
    w.rejects(eject(alice, &name, 6), ErrorCode::InvalidParameter);
    w.rejects(eject(alice, &name, EJECT_STOP), ErrorCode::InvalidOperation);
    w.rejects(eject(alice, "nowhere", 0), ErrorCode::InvalidDrive);
    w.rejects(eject(alice, "la-drive-1", 0), ErrorCode::InvalidDrive);
    let bob = w.session("bob");
    w.rejects(eject(bob, &name, 0), ErrorCode::AccessDenied);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Drive(drive), enabled: false });
    w.rejects(eject(alice, &name, 0), ErrorCode::DeviceNotAvailable);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Drive(drive), enabled: true });

    // Held by a session: only FORCE ejects it.
    w.rejects(eject(alice, &name, 0), ErrorCode::MediaNotAvailable);
    w.ok(Command::OperatorInsert { session: alice, drive, barcode: "SA0001L8".into() });
    let medium = w.state.drives[&drive].medium.expect("the operator put it in");
    w.ok(Command::MountMedia { session: alice, media: medium, options: MountOptions::default() });
    assert!(w.state.drives[&drive].holder.is_some());
    w.rejects(eject(alice, &name, 0), ErrorCode::MediaNotAvailable);
    let (request, events) = w.ok(eject(alice, &name, EJECT_FORCE));
    assert!(matches!(events[..], [Event::HoldOverridden { .. }, Event::StandaloneDiskEjected { .. }]), "{events:?}");
    assert_eq!(w.request(request).kind, RequestKind::Eject);
    assert_eq!(w.request(request).state, RequestState::Passed);
    assert_eq!(w.state.media[&medium].location, Location::Offline);
    assert_eq!(w.state.drives[&drive].medium, None);
    w.rejects(eject(alice, &name, 0), ErrorCode::MediaNotAvailable);
}
