//! DeleteNtmsLibrary (spec §3.3): the library's media move to the offline
//! library, and a deletion waiting for a request in process completes.

mod common;

use common::World;
use rsm_model::*;

/// Mounts `barcode`, completes the mount and releases it deferred: the
/// cartridge stays in its drive, held by nobody.
fn in_drive_released(w: &mut World, s: SessionId, lib: LibraryId, barcode: &str) {
    let m = w.mount(s, barcode, None);
    w.work(lib);
    assert_eq!(w.request(m).state, RequestState::Passed);
    let media = w.media(barcode);
    w.ok(Command::DismountMedia { session: s, media, deferred: true });
}

#[test]
fn delete_library_moves_media_in_drives_to_the_offline_library() {
    let mut w = World::new();
    let s = w.session("admin");
    let lib = w.changer(s, "lib", 2, 4, 3);
    in_drive_released(&mut w, s, lib, "LIB0001L8");
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    let (_, events) = w.ok(Command::DeleteLibrary { session: s, library: lib });
    let moved: Vec<MediaId> = events
        .iter()
        .filter_map(|e| match e {
            Event::MediaMovedOffline { media } => Some(*media),
            _ => None,
        })
        .collect();
    assert_eq!(moved.len(), 3, "an event per cartridge: {events:?}");
    assert!(matches!(events.last(), Some(Event::LibraryDeleted { .. })), "{events:?}");
    assert!(!w.state.libraries.contains_key(&lib));
    for barcode in ["LIB0001L8", "LIB0002L8", "LIB0003L8"] {
        let m = w.state.medium_by_barcode(barcode).expect("still in the catalog");
        assert_eq!(
            (m.library, m.location, m.state, m.home_slot),
            (LibraryId::OFFLINE, Location::Offline, MediaState::Idle, None),
            "{barcode}"
        );
    }
    // The offline library cannot be deleted; its media are offline.
    w.rejects(Command::DeleteLibrary { session: s, library: LibraryId::OFFLINE }, ErrorCode::InvalidLibrary);
    let shelved = w.media("LIB0003L8");
    let e = w.rejects(
        Command::MountMedia { session: s, media: shelved, options: MountOptions::default() },
        ErrorCode::MediaOffline,
    );
    assert!(e.message().contains("offline library"), "{e}");
    // A new library holding those cartridges adopts them under their ids.
    let before = w.media("LIB0002L8");
    let again = w.changer(s, "lib", 1, 4, 2);
    let m = w.state.media[&before].clone();
    assert_eq!((m.library, matches!(m.location, Location::Slot(_))), (again, true));
}

#[test]
fn a_deletion_waiting_for_a_request_in_process_completes() {
    // The case proptest shrank a hang to: a dismount unloaded and waiting for
    // the robot when its library is disabled and deleted. A deleting library
    // started nothing, so the robot was never handed out and the deletion
    // waited forever.
    let mut w = World::new();
    let s = w.session("admin");
    let lib = w.changer(s, "lib", 2, 6, 5);
    in_drive_released(&mut w, s, lib, "LIB0005L8");
    let media = w.media("LIB0005L8");
    let (dismount, _) = w.ok(Command::DismountMedia { session: s, media, deferred: false });
    let (_, started) = w.ok(Command::StartNext { library: lib });
    assert!(!started.is_empty());
    w.ok(Command::AdvanceRequest { request: dismount }); // unloaded: waits for the robot
    assert_eq!(w.request(dismount).phase, Some(RequestPhase::AwaitingRobot));
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.ok(Command::DeleteLibrary { session: s, library: lib });
    assert!(w.state.libraries[&lib].deleting);
    let (_, granted) = w.ok(Command::StartNext { library: lib });
    assert!(matches!(granted.as_slice(), [Event::RobotAssigned { .. }]), "{granted:?}");
    let (_, done) = w.ok(Command::CompleteRequest { request: dismount });
    assert!(matches!(done.last(), Some(Event::LibraryDeleted { .. })), "{done:?}");
    assert!(!w.state.libraries.contains_key(&lib));
    assert_eq!(w.state.media[&media].library, LibraryId::OFFLINE);
}

/// Regression: a library or cartridge could be named with another
/// object's id, and commands naming that id then reached the impostor.
#[test]
fn names_and_bar_codes_may_not_read_as_ids() {
    let mut w = World::new();
    let s = w.session("mallory");
    let id = "0192f0c1-0000-7000-8000-000000000001";
    let spec = |name: &str, barcodes: Vec<String>| LibrarySpec {
        name: name.into(),
        kind: LibraryKind::Changer,
        drives: 1,
        slots: 4,
        ie_ports: 1,
        barcodes,
        media_type: rsm_model::default_media_type(),
        unlabelled: Vec::new(),
    };
    w.rejects(Command::CreateLibrary { session: s, spec: spec(id, vec![]) }, ErrorCode::InvalidParameter);
    w.rejects(Command::CreateLibrary { session: s, spec: spec("mal", vec![id.into()]) }, ErrorCode::InvalidParameter);
}
