//! DeleteNtmsDrive (spec §3.3) and the drive presence a whole reading
//! records: one row per code, and the effects on the views.

mod common;

use common::World;
use rsm_model::*;

/// Every slot and every drive but `missing` of `lib`, as READ ELEMENT STATUS reads them.
fn reading_without(w: &World, lib: LibraryId, missing: Option<DriveId>) -> Vec<(u16, Seen)> {
    let l = &w.state.libraries[&lib];
    let slots = l.slots.iter().map(|s| &w.state.slots[s]).map(|s| {
        let seen = s.content.map_or(Seen::Empty, |m| Seen::Cartridge(w.state.media[&m].barcode.clone()));
        (s.element_address, seen)
    });
    let drives = l.drives.iter().filter(|d| Some(**d) != missing).map(|d| {
        let d = &w.state.drives[d];
        (d.element_address, d.medium.map_or(Seen::Empty, |m| Seen::Cartridge(w.state.media[&m].barcode.clone())))
    });
    slots.chain(drives).collect()
}

fn inventory(session: SessionId, library: LibraryId, observed: Vec<(u16, Seen)>) -> Command {
    Command::RecordInventory { session: Some(session), library, observed, method: InventoryMethod::Fast }
}

#[test]
fn delete_drive_codes_and_effects() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 2, 4, 2);
    let gone = w.drive("la-drive-2");
    let delete = |session, drive| Command::DeleteDrive { session, drive };
    w.rejects(delete(SessionId(uuid::Uuid::from_u128(9)), gone), ErrorCode::InvalidHandle);
    w.rejects(delete(alice, DriveId::NIL), ErrorCode::InvalidParameter);
    w.rejects(delete(alice, DriveId(uuid::Uuid::from_u128(3))), ErrorCode::InvalidDrive);
    let bob = w.session("bob");
    w.rejects(delete(bob, gone), ErrorCode::AccessDenied);
    w.rejects(delete(alice, gone), ErrorCode::InvalidState);

    // A mount waits for the drive named; then a whole reading lacks it.
    let mount = w.mount(alice, "LA0001L8", Some("la-drive-2"));
    let events = w.ok(inventory(alice, lib, reading_without(&w, lib, Some(gone)))).1;
    assert!(events.contains(&Event::DrivePresence { drive: gone, present: false }), "{events:?}");
    assert_eq!(w.state.drives[&gone].operational, OperationalState::NotPresent);
    // A partial reading says nothing of drives.
    let slots_only: Vec<(u16, Seen)> = reading_without(&w, lib, None).into_iter().take(4).collect();
    assert!(w.ok(inventory(alice, lib, slots_only)).1.iter().all(|e| !matches!(e, Event::DrivePresence { .. })));

    let events = w.ok(delete(alice, gone)).1;
    assert!(matches!(events[..], [Event::RequestCancelled { .. }, Event::DriveDeleted { .. }]), "{events:?}");
    assert!(!w.state.drives.contains_key(&gone));
    assert_eq!(w.state.libraries[&lib].drives.len(), 1);
    assert_eq!(w.request(mount).state, RequestState::Cancelled);
    assert!(w.state.drive_named("la-drive-2").is_none());
}

#[test]
fn a_drive_that_comes_back_is_ready_again_and_a_standalone_drive_takes_its_library() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 2, 4, 2);
    let d = w.drive("la-drive-1");
    w.ok(inventory(alice, lib, reading_without(&w, lib, Some(d))));
    let events = w.ok(inventory(alice, lib, reading_without(&w, lib, None))).1;
    assert_eq!(events, vec![Event::DrivePresence { drive: d, present: true }]);
    assert_eq!(w.state.drives[&d].operational, OperationalState::Ready);

    let sa = w.standalone(alice, "sa", 1);
    let drive = w.drive("sa-drive-1");
    w.ok(Command::DeleteDrive { session: alice, drive });
    assert!(!w.state.libraries.contains_key(&sa));
}
