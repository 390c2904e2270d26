//! Arrival and classification (spec §7.2): new cartridges are mounted,
//! their first block read and classified; blank ones get rsm's free-media
//! label (NTMS_LM_WRITESCRATCH) before anyone may allocate them.

mod common;

use common::World;
use rsm_model::*;

/// A library `lib` (2 drives, 8 slots) whose cartridges LIB0001L8 ..
/// LIB0006L8 arrive unlabelled: they are classified by reading what the
/// test wrote on them.
fn library_of_unlabelled(blocks: &[(&str, Vec<u8>)]) -> (World, SessionId, LibraryId) {
    let mut w = World::new();
    for (barcode, block) in blocks {
        w.first_blocks.insert((*barcode).into(), block.clone());
    }
    let s = w.session("admin");
    let barcodes: Vec<String> = (1..=6).map(|i| format!("LIB{i:04}L8")).collect();
    let (_, events) = w.ok(Command::CreateLibrary {
        session: s,
        spec: LibrarySpec {
            name: "lib".into(),
            kind: LibraryKind::Changer,
            drives: 2,
            slots: 8,
            ie_ports: 1,
            barcodes: barcodes.clone(),
            media_type: default_media_type(),
            unlabelled: barcodes,
        },
    });
    let queued = events.iter().filter(|e| matches!(e, Event::LabelRequested { .. })).count();
    assert_eq!(queued, 6, "one classification request per unlabelled cartridge: {events:?}");
    let lib = w.state.library_named("lib").expect("created").id;
    (w, s, lib)
}

/// The library's first label request, started and moved into its drive:
/// the request, its drive and its cartridge's bar code.
fn first_in_drive(w: &mut World, lib: LibraryId) -> (RequestId, DriveId, String) {
    let first = w.state.libraries[&lib].active_requests[0];
    let barcode = w.state.media[&w.state.requests[&first].media].barcode.clone();
    w.ok(Command::StartNext { library: lib });
    w.ok(Command::AdvanceRequest { request: first });
    (first, w.state.requests[&first].drive.expect("a drive"), barcode)
}

/// What an inventory of every slot of `lib` sees: the views' contents.
fn slots_as_seen(w: &World, lib: LibraryId) -> Vec<(u16, Seen)> {
    w.state.libraries[&lib]
        .slots
        .iter()
        .map(|x| &w.state.slots[x])
        .map(|slot| {
            let content = slot.content.map(|m| Seen::Cartridge(w.state.media[&m].barcode.clone()));
            (slot.element_address, content.unwrap_or(Seen::Empty))
        })
        .collect()
}

fn sides(w: &World, barcode: &str) -> (String, SideState, Option<String>) {
    let m = &w.state.media[&w.media(barcode)];
    (w.state.pool_path(m.pool), m.sides[0].state, m.sides[0].omid.as_deref().map(Omid::display))
}

#[test]
fn every_class_of_section_7_2_lands_in_its_pool_with_its_side_state() {
    let (mut w, s, lib) = library_of_unlabelled(&[
        ("LIB0002L8", free_media_label("LIB0002L8")),
        ("LIB0003L8", vol1("BAC001", "Bacula", "backup")),
        ("LIB0004L8", vol1("LT0042", "LTFS", "")),
        ("LIB0005L8", b"a tar archive, not a label".to_vec()),
    ]);
    // Before classification nobody may allocate them, or move them.
    let m = w.media("LIB0001L8");
    assert!(w.state.media[&m].sides.iter().all(|x| x.state == SideState::Unknown));
    w.rejects(
        Command::MoveToMediaPool { session: s, media: m, pool: SystemPools::of(default_media_type()).import },
        ErrorCode::InvalidMediaPool,
    );
    w.work(lib);
    assert_eq!(sides(&w, "LIB0001L8"), ("\\Free\\LTO-8".into(), SideState::Available, Some("RSM:LIB0001L8".into())));
    assert_eq!(sides(&w, "LIB0002L8"), ("\\Free\\LTO-8".into(), SideState::Available, Some("RSM:LIB0002L8".into())));
    assert_eq!(sides(&w, "LIB0003L8"), ("\\Import\\LTO-8".into(), SideState::Import, Some("ANSI:BAC001".into())));
    assert_eq!(sides(&w, "LIB0004L8"), ("\\Import\\LTO-8".into(), SideState::Import, Some("LTFS:LT0042".into())));
    assert_eq!(sides(&w, "LIB0005L8"), ("\\Unrecognized\\LTO-8".into(), SideState::Foreign, None));
    // The blank one was classified, then prepared: two requests, both passed.
    let blank = w.media("LIB0001L8");
    let kinds: Vec<(RequestKind, RequestState)> =
        w.state.requests.values().filter(|r| r.media == blank).map(|r| (r.kind, r.state)).collect();
    assert_eq!(
        kinds.iter().filter(|(k, _)| *k == RequestKind::WriteScratch).count(),
        1,
        "a free-label request followed: {kinds:?}"
    );
    assert!(kinds.iter().all(|(_, state)| *state == RequestState::Passed), "{kinds:?}");
    for m in w.state.media.values() {
        assert!(matches!(m.location, Location::Slot(_)) && m.pending_request.is_none(), "{m:?}");
    }
    assert!(w.state.drives.values().all(|d| d.medium.is_none() && d.reserved_by.is_none()));
    w.state.check_invariants().expect("invariants");
}

#[test]
fn an_import_moved_to_the_free_pool_is_prepared_by_a_free_label_request() {
    let (mut w, s, lib) = library_of_unlabelled(&[("LIB0001L8", vol1("BAC001", "Bacula", ""))]);
    w.work(lib);
    let m = w.media("LIB0001L8");
    let free = SystemPools::of(default_media_type()).free;
    let (_, events) = w.ok(Command::MoveToMediaPool { session: s, media: m, pool: free });
    assert!(
        matches!(events.as_slice(), [Event::MediumMovedToPool { sides: Some(SideState::Unprepared), .. }, Event::LabelRequested { request }]
            if request.kind == RequestKind::WriteScratch),
        "{events:?}"
    );
    w.work(lib);
    assert_eq!(sides(&w, "LIB0001L8"), ("\\Free\\LTO-8".into(), SideState::Available, Some("RSM:LIB0001L8".into())));
    w.state.check_invariants().expect("invariants");
}

#[test]
fn report_first_block_codes() {
    let (mut w, _, lib) = library_of_unlabelled(&[]);
    let queued = w.state.libraries[&lib].active_requests[0];
    let report = |request, block| Command::ReportFirstBlock { request, block };
    w.rejects(report(RequestId(uuid::Uuid::from_u128(9)), None), ErrorCode::InvalidParameter);
    w.rejects(report(queued, None), ErrorCode::InvalidState);
    w.ok(Command::StartNext { library: lib });
    // Moving, not yet reading.
    w.rejects(report(queued, None), ErrorCode::InvalidState);
    w.ok(Command::AdvanceRequest { request: queued });
    w.ok(Command::AdvanceRequest { request: queued });
    assert_eq!(w.state.requests[&queued].phase, Some(RequestPhase::Labelling));
    w.rejects(report(queued, Some(vec![b'x'; LABEL_BYTES_MAX + 1])), ErrorCode::InvalidParameter);
    w.rejects(Command::AdvanceRequest { request: queued }, ErrorCode::InvalidState);
    let (_, events) = w.ok(report(queued, Some(vol1("ARC001", "", ""))));
    assert!(matches!(events.as_slice(), [Event::MediaClassified { class: Classification::Import(_), .. }]));
    assert_eq!(w.state.requests[&queued].phase, Some(RequestPhase::Unloading));
    w.state.check_invariants().expect("invariants");
}

/// After a restart, a classification request found with its cartridge
/// still at home and nothing read goes back to the queue; one whose label
/// was read and whose cartridge is home is done.
#[test]
fn a_label_request_left_in_process_is_settled_from_where_its_cartridge_is() {
    let (mut w, _, lib) = library_of_unlabelled(&[]);
    let first = w.state.libraries[&lib].active_requests[0];
    let home = w.state.requests[&first].slot.expect("a home");
    w.ok(Command::StartNext { library: lib });
    let (_, events) = w.ok(Command::Reconcile { request: first, observed: Observed::Slot(home) });
    assert!(matches!(events.as_slice(), [Event::RequestRequeued { .. }]), "{events:?}");
    // Started again in the drive it was given: read, unloaded, then found home.
    w.ok(Command::StartNext { library: lib });
    w.ok(Command::AdvanceRequest { request: first });
    w.ok(Command::AdvanceRequest { request: first });
    w.ok(Command::ReportFirstBlock { request: first, block: None });
    let (_, events) = w.ok(Command::Reconcile { request: first, observed: Observed::Slot(home) });
    assert!(
        matches!(events.first(), Some(Event::LabelRequestCompleted { .. })),
        "home with its label read: done ({events:?})"
    );
    w.state.check_invariants().expect("invariants");
}

/// A new cartridge found by inventory in a slot is classified; one an
/// inject takes in is classified once home.
#[test]
fn inventory_and_inject_arrivals_are_classified() {
    let mut w = World::new();
    let s = w.session("admin");
    let lib = w.changer(s, "lib", 1, 6, 1);
    w.first_blocks.insert("NEW001L8".into(), vol1("NEW001", "", ""));
    let mut seen = slots_as_seen(&w, lib);
    seen[3].1 = Seen::Cartridge("NEW001L8".into());
    w.ok(Command::RecordInventory { method: InventoryMethod::Fast, session: Some(s), library: lib, observed: seen });
    w.work(lib);
    assert_eq!(sides(&w, "NEW001L8"), ("\\Import\\LTO-8".into(), SideState::Import, Some("ANSI:NEW001".into())));
    w.state.check_invariants().expect("invariants");
}

/// A drive that refuses the cartridge (INCOMPATIBLE MEDIUM INSTALLED)
/// makes it INCOMPATIBLE, in the unrecognized pool.
#[test]
fn a_cartridge_the_drive_refuses_is_incompatible() {
    let (mut w, _, lib) = library_of_unlabelled(&[]);
    let (first, drive, barcode) = first_in_drive(&mut w, lib);
    let (_, events) = w.ok(Command::FailRequest {
        request: first,
        error: ErrorCode::MediaIncompatible,
        sense: Some(Sense { key: 5, asc: 0x30, ascq: 0 }),
        observed: Observed::Drive(drive),
    });
    assert!(matches!(events.last(), Some(Event::MediaClassified { class: Classification::Incompatible, .. })));
    assert_eq!(sides(&w, &barcode), ("\\Unrecognized\\LTO-8".into(), SideState::Incompatible, None));
    w.state.check_invariants().expect("invariants");
}

/// A classification cut short with its cartridge in the drive (a restart
/// after the move, or the process carrying it stopping): the request ends
/// cancelled (it failed at nothing), a dismount takes the cartridge home, and there it is classified again; an inventory retries one that
/// failed at home.
#[test]
fn a_classification_cut_short_is_done_again_once_the_cartridge_is_home() {
    let (mut w, _, lib) = library_of_unlabelled(&[]);
    let (first, drive, barcode) = first_in_drive(&mut w, lib);
    let (_, events) = w.ok(Command::Reconcile { request: first, observed: Observed::Drive(drive) });
    assert!(
        matches!(events.as_slice(), [Event::RequestCancelled { .. }, Event::DismountRequested { request }] if request.drive == Some(drive)),
        "{events:?}"
    );
    w.work(lib);
    let m = &w.state.media[&w.media(&barcode)];
    assert_eq!((m.sides[0].state, matches!(m.location, Location::Slot(_))), (SideState::Available, true), "{m:?}");
    // A failure at home is retried by the next inventory.
    let (mut w, s2, lib2) = library_of_unlabelled(&[]);
    let first = w.state.libraries[&lib2].active_requests[0];
    let home = w.state.requests[&first].slot.expect("a home");
    w.ok(Command::StartNext { library: lib2 });
    w.ok(Command::FailRequest {
        request: first,
        error: ErrorCode::MediumNotAccessible,
        sense: None,
        observed: Observed::Slot(home),
    });
    w.work(lib2);
    let unknown = w.state.media.values().filter(|m| m.sides[0].state == SideState::Unknown).count();
    assert_eq!(unknown, 1, "the failed one waits");
    let seen = slots_as_seen(&w, lib2);
    let (_, events) = w.ok(Command::RecordInventory {
        method: InventoryMethod::Fast,
        session: Some(s2),
        library: lib2,
        observed: seen,
    });
    assert!(matches!(events.as_slice(), [Event::LabelRequested { .. }]), "{events:?}");
    w.work(lib2);
    assert!(w.state.media.values().all(|m| m.sides[0].state == SideState::Available));
    w.state.check_invariants().expect("invariants");
}

/// Spec §7.2 case 1: a cartridge that arrives under a bar code nobody
/// knows, but whose label names a medium on the shelf (offline: its bar
/// code label was replaced, say), is that medium. It keeps its id, pool,
/// sides and named data, takes the new bar code and the arrival's place,
/// and the arrival's record goes. A second cartridge with the same label,
/// once the first is online, is only an import: a label names one medium.
#[test]
fn a_new_bar_code_whose_label_names_a_shelf_medium_is_that_medium() {
    let label = vol1("BAC001", "Bacula", "");
    let (mut w, s, lib) = library_of_unlabelled(&[("LIB0003L8", label.clone()), ("LIB0005L8", label.clone())]);
    let import = SystemPools::of(default_media_type()).import;
    w.policy.administrator = Some("admin".into());
    w.ok(Command::CreateMedia {
        session: s,
        barcode: "OLD001L8".into(),
        pool: import,
        sides: vec![SideState::Import],
        labels: vec![Some(label)],
        error_on_duplicate: false,
    });
    let known = w.media("OLD001L8");
    w.ok(Command::SetAttribute {
        session: s,
        object: ObjectRef::Media(known),
        name: "Owner".into(),
        value: b"backup".to_vec(),
    });
    let arrival = w.media("LIB0003L8");
    w.work(lib);
    assert!(!w.state.media.contains_key(&arrival), "the arrival's record is gone");
    assert_eq!(w.media("LIB0003L8"), known, "the new bar code names the shelf's medium");
    assert!(w.state.medium_by_barcode("OLD001L8").is_none());
    let m = &w.state.media[&known];
    assert_eq!((m.library, m.home_slot.map(Location::Slot)), (lib, Some(m.location)), "home, in the library");
    assert_eq!(sides(&w, "LIB0003L8"), ("\\Import\\LTO-8".into(), SideState::Import, Some("ANSI:BAC001".into())));
    assert!(w.state.attributes[&ObjectRef::Media(known)].contains_key(&attribute_key("Owner")), "its named data stays");
    let classify = w.state.requests.values().find(|r| r.kind == RequestKind::Classify && r.media == known);
    assert_eq!(classify.map(|r| r.state), Some(RequestState::Passed), "the request that read it names it");
    assert!(w.state.requests.values().all(|r| r.media != arrival));
    // The same label again, its medium now online: an import of its own.
    let twin = w.media("LIB0005L8");
    assert_ne!(twin, known);
    assert_eq!(sides(&w, "LIB0005L8"), ("\\Import\\LTO-8".into(), SideState::Import, Some("ANSI:BAC001".into())));
    assert_eq!(w.state.media.len(), 6);
    w.state.check_invariants().expect("invariants");
}

/// Found by a hostile run: a classification stopped after its drive had
/// read the label (on its way home) was recorded cancelled, though its work
/// was done. It now ends passed, its cartridge is taken home by a dismount,
/// and nothing is classified again.
#[test]
fn a_classification_stopped_after_its_reading_ends_passed() {
    let (mut w, _, lib) = library_of_unlabelled(&[]);
    let (first, drive, barcode) = first_in_drive(&mut w, lib);
    w.ok(Command::AdvanceRequest { request: first });
    w.ok(Command::ReportFirstBlock { request: first, block: Some(vol1("ARC001", "", "")) });
    let (_, events) = w.ok(Command::Reconcile { request: first, observed: Observed::Drive(drive) });
    assert!(
        matches!(events.as_slice(), [Event::LabelRequestSettled { .. }, Event::DismountRequested { .. }]),
        "{events:?}"
    );
    assert_eq!(w.state.requests[&first].state, RequestState::Passed);
    w.work(lib);
    let m = w.media(&barcode);
    let classify = w.state.requests.values().filter(|r| r.media == m && r.kind == RequestKind::Classify).count();
    assert_eq!(classify, 1, "not classified again");
    assert_eq!(sides(&w, &barcode).1, SideState::Import);
    w.state.check_invariants().expect("invariants");
}
