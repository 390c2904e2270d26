//! AttachLibrary: a changer library built from a real device's discovery.

mod common;
use common::World;
use rsm_model::*;

fn layout() -> ElementLayout {
    ElementLayout {
        drives: vec![(256, Some("D00001L8".into())), (257, None)],
        slots: vec![(1024, Some("S00001L8".into())), (1025, None), (1026, Some("S00002L8".into())), (1027, None)],
        ports: vec![(16, None)],
        media_type: None,
    }
}

fn attach(
    w: &mut World,
    s: SessionId,
    name: &str,
    layout: ElementLayout,
) -> Result<(RequestId, Vec<Event>), NtmsError> {
    w.run(Command::AttachLibrary {
        session: s,
        name: name.into(),
        layout,
        device: "iscsi://h:3260/iqn.x/0".into(),
        classify: false,
    })
}

#[test]
fn attach_uses_the_device_addresses_and_a_cartridge_in_a_drive_can_be_dismounted_home() {
    let mut w = World::new();
    let s = w.session("admin");
    attach(&mut w, s, "vtl", layout()).expect("attached");
    let lib = w.state.library_named("vtl").expect("created").clone();
    assert_eq!(lib.device.as_deref(), Some("iscsi://h:3260/iqn.x/0"));
    let addresses = |ids: &[DriveId]| ids.iter().map(|d| w.state.drives[d].element_address).collect::<Vec<_>>();
    assert_eq!(addresses(&lib.drives), [256, 257]);
    let slots: Vec<u16> = lib.slots.iter().map(|s| w.state.slots[s].element_address).collect();
    assert_eq!(slots, [1024, 1025, 1026, 1027]);
    assert_eq!(w.state.ports[&lib.ports[0]].element_address, 16);

    let in_slot = w.state.medium_by_barcode("S00002L8").expect("adopted").clone();
    assert_eq!(in_slot.location, Location::Slot(lib.slots[2]));
    assert_eq!(in_slot.home_slot, Some(lib.slots[2]));

    // The cartridge found in drive 256: loaded, held by nobody, its home
    // the lowest empty slot (1025), which stays empty and reserved.
    let drive = w.drive("vtl-drive-1");
    let in_drive = w.state.medium_by_barcode("D00001L8").expect("adopted").clone();
    assert_eq!(in_drive.location, Location::Drive(drive));
    assert_eq!(in_drive.state, MediaState::Loaded);
    assert_eq!(in_drive.home_slot, Some(lib.slots[1]));
    let d = &w.state.drives[&drive];
    assert_eq!((d.state, d.medium, d.holder), (DriveState::Loaded, Some(in_drive.id), None));
    let home = &w.state.slots[&lib.slots[1]];
    assert_eq!((home.state, home.content, home.home_of), (SlotState::Empty, None, Some(in_drive.id)));

    let (request, events) = w.ok(Command::DismountDrive { session: s, drive });
    assert!(matches!(events.as_slice(), [Event::DismountRequested { .. }]), "{events:?}");
    assert_eq!(w.state.requests[&request].slot, Some(lib.slots[1]));
    w.work(lib.id);
    assert_eq!(w.state.requests[&request].state, RequestState::Passed);
    assert_eq!(w.state.media[&in_drive.id].location, Location::Slot(lib.slots[1]));
    assert_eq!(w.state.drives[&drive].state, DriveState::Dismounted);
}

#[test]
fn a_cartridge_in_a_drive_with_no_free_slot_has_no_home_and_its_dismount_finds_the_library_full() {
    let mut w = World::new();
    let s = w.session("admin");
    let full = ElementLayout {
        drives: vec![(256, Some("D00001L8".into()))],
        slots: vec![(1024, Some("S00001L8".into()))],
        ports: vec![],
        media_type: None,
    };
    attach(&mut w, s, "vtl", full).expect("attached");
    assert_eq!(w.state.medium_by_barcode("D00001L8").expect("adopted").home_slot, None);
    let drive = w.drive("vtl-drive-1");
    w.rejects(Command::DismountDrive { session: s, drive }, ErrorCode::LibraryFull);
}

#[test]
fn attach_rejects_a_bad_layout() {
    let mut w = World::new();
    let s = w.session("admin");
    let mut twice = layout();
    twice.slots[1].0 = 256;
    assert_eq!(attach(&mut w, s, "a", twice).unwrap_err().kind(), ErrorCode::InvalidParameter);
    let mut dup = layout();
    dup.slots[1].1 = Some("D00001L8".into());
    assert_eq!(attach(&mut w, s, "b", dup).unwrap_err().kind(), ErrorCode::InvalidMedia);
    let mut bad = layout();
    bad.slots[1].1 = Some("has space".into());
    assert_eq!(attach(&mut w, s, "c", bad).unwrap_err().kind(), ErrorCode::InvalidParameter);
    let none = ElementLayout { drives: vec![], ..layout() };
    assert_eq!(attach(&mut w, s, "d", none).unwrap_err().kind(), ErrorCode::InvalidParameter);
    attach(&mut w, s, "e", layout()).expect("attached");
    // The same cartridges again: bar codes already used.
    assert_eq!(attach(&mut w, s, "f", layout()).unwrap_err().kind(), ErrorCode::InvalidMedia);
}

/// An attached library's media type comes from the layout (the operator's
/// configuration, since the changer's element status does not say); an
/// unknown one is ERROR_INVALID_MEDIA; none is the default type.
#[test]
fn attach_takes_the_media_type_it_is_given() {
    let mut w = World::new();
    let s = w.session("admin");
    let lto7 = media_type_named("LTO-7").expect("in the catalog").id;
    let unknown = ElementLayout { media_type: Some(MediaTypeId(uuid::Uuid::from_u128(9))), ..layout() };
    assert_eq!(attach(&mut w, s, "x", unknown).map_err(|e| e.kind()), Err(ErrorCode::InvalidMedia));
    attach(&mut w, s, "seven", ElementLayout { media_type: Some(lto7), ..layout() }).expect("attached");
    let lib = w.state.library_named("seven").expect("attached").clone();
    assert_eq!(lib.media_type, lto7);
    assert!(lib.drives.iter().all(|d| w.state.drives[d].media_type == lto7));
    assert_eq!(w.state.medium_by_barcode("S00001L8").map(|m| m.media_type), Some(lto7));
}

/// Attaching with classification: the cartridges found in slots are
/// UNKNOWN with a classification request each; the one in a drive is
/// taken as it is.
#[test]
fn an_attach_that_classifies_queues_a_request_per_cartridge_in_a_slot() {
    let mut w = World::new();
    let s = w.session("admin");
    let (_, events) = w
        .run(Command::AttachLibrary {
            session: s,
            name: "vtl".into(),
            layout: layout(),
            device: "iscsi://h:3260/iqn.x/0".into(),
            classify: true,
        })
        .expect("attached");
    let classify = events
        .iter()
        .filter(|e| matches!(e, Event::LabelRequested { request } if request.kind == RequestKind::Classify))
        .count();
    assert_eq!(classify, 2, "{events:?}");
    let state = |w: &World, barcode: &str| w.state.medium_by_barcode(barcode).expect("catalogued").sides[0].state;
    let found = (state(&w, "S00001L8"), state(&w, "S00002L8"), state(&w, "D00001L8"));
    assert_eq!(found, (SideState::Unknown, SideState::Unknown, SideState::Available));
    let lib = w.state.library_named("vtl").expect("attached").id;
    w.work(lib);
    assert_eq!(state(&w, "S00001L8"), SideState::Available, "classified blank, then prepared");
    w.state.check_invariants().expect("invariants");
}
