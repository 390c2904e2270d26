//! MountMedia / DismountMedia: one test per NTMS code they return here.

mod common;
use common::World;
use rsm_model::*;

fn world() -> (World, SessionId, LibraryId) {
    let mut w = World::new();
    let s = w.session("app");
    let lib = w.changer(s, "lib", 2, 6, 4);
    (w, s, lib)
}

fn mount_cmd(w: &World, s: SessionId, barcode: &str, drive: Option<&str>) -> Command {
    Command::MountMedia {
        session: s,
        media: w.media(barcode),
        options: MountOptions { drive: drive.map(|d| w.drive(d)), ..Default::default() },
    }
}

#[test]
fn success_reserves_the_drive_and_completes_into_a_held_drive() {
    let (mut w, s, lib) = world();
    let req = w.mount(s, "LIB0001L8", None);
    let r = w.request(req).clone();
    assert_eq!((r.kind, r.state), (RequestKind::Mount, RequestState::Queued));
    assert_eq!(w.state.drives[&r.drive.unwrap()].name, "lib-drive-1", "the first empty drive");
    assert_eq!(w.state.drives[&r.drive.unwrap()].reserved_by, Some(req));
    assert_eq!(w.state.media[&r.media].state, MediaState::InUse);
    w.work(lib);
    let d = &w.state.drives[&r.drive.unwrap()];
    assert_eq!((d.state, d.holder, d.medium, d.mount_count), (DriveState::Loaded, Some(s), Some(r.media), 1));
    assert_eq!(w.state.media[&r.media].state, MediaState::Loaded);
    assert_eq!(w.request(req).state, RequestState::Passed);
}

#[test]
fn invalid_handle() {
    let (mut w, _, _) = world();
    let cmd = mount_cmd(&w, SessionId(uuid::Uuid::from_u128(3)), "LIB0001L8", None);
    w.rejects(cmd, ErrorCode::InvalidHandle);
}

#[test]
fn invalid_parameter_for_zero_ids_and_priority_out_of_range() {
    let (mut w, s, _) = world();
    w.rejects(
        Command::MountMedia { session: s, media: MediaId::NIL, options: MountOptions::default() },
        ErrorCode::InvalidParameter,
    );
    let media = w.media("LIB0001L8");
    w.rejects(
        Command::MountMedia {
            session: s,
            media,
            options: MountOptions { drive: Some(DriveId::NIL), ..Default::default() },
        },
        ErrorCode::InvalidParameter,
    );
    w.rejects(
        Command::MountMedia { session: s, media, options: MountOptions { priority: 16, ..Default::default() } },
        ErrorCode::InvalidParameter,
    );
}

#[test]
fn invalid_media_for_an_unknown_medium() {
    let (mut w, s, _) = world();
    let e = w.rejects(
        Command::MountMedia { session: s, media: MediaId(uuid::Uuid::from_u128(77)), options: MountOptions::default() },
        ErrorCode::InvalidMedia,
    );
    assert_eq!(e.code(), 4300);
}

#[test]
fn invalid_drive_for_an_unknown_named_drive() {
    let (mut w, s, _) = world();
    let media = w.media("LIB0001L8");
    let drive = Some(DriveId(uuid::Uuid::from_u128(78)));
    w.rejects(
        Command::MountMedia { session: s, media, options: MountOptions { drive, ..Default::default() } },
        ErrorCode::InvalidDrive,
    );
}

#[test]
fn drive_media_mismatch_across_libraries() {
    let (mut w, s, _) = world();
    w.changer(s, "other", 1, 2, 1);
    let cmd = mount_cmd(&w, s, "LIB0001L8", Some("other-drive-1"));
    let e = w.rejects(cmd, ErrorCode::DriveMediaMismatch);
    assert_eq!(e.code(), 4303);
}

#[test]
fn access_denied_without_use_access() {
    let (mut w, s, lib) = world();
    let eve = w.session("eve");
    let cmd = mount_cmd(&w, eve, "LIB0001L8", None);
    w.rejects(cmd.clone(), ErrorCode::AccessDenied);
    w.grant(s, lib, "eve", AccessMask::USE);
    w.ok(cmd);
}

#[test]
fn resource_disabled_for_a_disabled_medium_drive_or_library() {
    let (mut w, s, lib) = world();
    let media = w.media("LIB0001L8");
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Media(media), enabled: false });
    let e = w.rejects(mount_cmd(&w, s, "LIB0001L8", None), ErrorCode::ResourceDisabled);
    assert_eq!(e.code(), 4309);
    let d = w.drive("lib-drive-2");
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Drive(d), enabled: false });
    w.rejects(mount_cmd(&w, s, "LIB0002L8", Some("lib-drive-2")), ErrorCode::ResourceDisabled);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(mount_cmd(&w, s, "LIB0003L8", None), ErrorCode::ResourceDisabled);
}

#[test]
fn media_offline_on_the_shelf_of_a_standalone_drive() {
    let mut w = World::new();
    let s = w.session("app");
    w.standalone(s, "sa", 2);
    let e = w.rejects(mount_cmd(&w, s, "SA0001L8", None), ErrorCode::MediaOffline);
    assert_eq!(e.code(), 4304);
    // Once the operator puts it in the drive, the mount is satisfied in place.
    let drive = w.drive("sa-drive-1");
    w.ok(Command::OperatorInsert { session: s, drive, barcode: "SA0001L8".into() });
    let (req, events) = w.ok(mount_cmd(&w, s, "SA0001L8", None));
    assert!(matches!(events.as_slice(), [Event::MountSatisfiedInPlace { .. }]));
    assert_eq!(w.request(req).state, RequestState::Passed);
    assert_eq!(w.state.drives[&drive].holder, Some(s));
}

#[test]
fn busy_for_a_drive_in_use_a_medium_in_use_or_no_free_drive() {
    let (mut w, s, lib) = world();
    let no_wait = |w: &World, barcode: &str, drive: Option<&str>| {
        let mut command = mount_cmd(w, s, barcode, drive);
        if let Command::MountMedia { options, .. } = &mut command {
            options.no_wait_if_busy = true;
        }
        command
    };
    w.mount(s, "LIB0001L8", Some("lib-drive-1"));
    let e = w.rejects(no_wait(&w, "LIB0002L8", Some("lib-drive-1")), ErrorCode::Busy);
    assert_eq!(e.code(), 170);
    w.rejects(mount_cmd(&w, s, "LIB0001L8", None), ErrorCode::Busy);
    w.mount(s, "LIB0002L8", None);
    w.rejects(no_wait(&w, "LIB0003L8", None), ErrorCode::Busy);
    w.work(lib);
    // Mounted and held by a session: busy for everyone.
    let other = w.session("app");
    w.rejects(mount_cmd(&w, other, "LIB0001L8", None), ErrorCode::Busy);
}

/// Spec §3.2: a mount that finds every drive busy waits (NTMS_LM_WAITING)
/// unless NTMS_MOUNT_ERROR_NOT_AVAILABLE is given; it is given a drive as
/// one frees up, the most urgent first, and one that waits for a named
/// drive does not hold back another; its timeout fails it with ERROR_BUSY
/// while it waits (rsm rule).
#[test]
fn a_mount_with_every_drive_busy_waits_for_one() {
    let mut w = World::new();
    let s = w.session("app");
    let lib = w.changer(s, "lib", 2, 6, 5);
    w.mount(s, "LIB0001L8", Some("lib-drive-1"));
    w.mount(s, "LIB0002L8", Some("lib-drive-2"));
    w.work(lib);
    let (low, events) = w.ok(mount_cmd(&w, s, "LIB0003L8", None));
    assert!(
        matches!(events.as_slice(), [Event::MountWaiting { request, drive: None }] if request.drive.is_none()),
        "{events:?}"
    );
    assert_eq!(w.request(low).state, RequestState::Waiting);
    assert_eq!(w.request(low).state.ntms_value(), 5);
    // A later, more urgent one goes first; one for drive 2 only waits for it.
    let mut urgent = mount_cmd(&w, s, "LIB0004L8", None);
    if let Command::MountMedia { options, .. } = &mut urgent {
        options.priority = 5;
    }
    let (urgent, _) = w.ok(urgent);
    let other = w.session("other");
    w.grant(s, lib, "other", AccessMask::USE);
    let mut timed = mount_cmd(&w, other, "LIB0005L8", Some("lib-drive-2"));
    if let Command::MountMedia { options, .. } = &mut timed {
        options.timeout_ms = Some(60_000);
    }
    let (timed, _) = w.ok(timed);
    // Nothing is free: nothing is assigned, nothing starts.
    assert!(w.ok(Command::StartNext { library: lib }).1.is_empty());
    // Drive 1 frees up: the urgent one takes it, the named one keeps waiting.
    w.ok(Command::DismountMedia { session: s, media: w.media("LIB0001L8"), deferred: false });
    w.work(lib);
    assert_eq!(w.state.drives[&w.drive("lib-drive-1")].medium, Some(w.media("LIB0004L8")));
    assert_eq!((w.request(urgent).state, w.request(low).state), (RequestState::Passed, RequestState::Waiting));
    assert_eq!(w.request(timed).state, RequestState::Waiting);
    // Its timeout runs out while it waits: ERROR_BUSY, its medium free again.
    w.now_ms += 60_000;
    let (_, events) = w.ok(Command::Tick);
    assert!(
        matches!(events.as_slice(), [Event::RequestTimedOut { error, .. }] if *error == ErrorCode::Busy.code()),
        "{events:?}"
    );
    assert_eq!(w.state.media[&w.media("LIB0005L8")].pending_request, None);
    w.ok(Command::DismountMedia { session: s, media: w.media("LIB0002L8"), deferred: true });
    w.work(lib);
    assert_eq!(w.request(low).state, RequestState::Passed, "a released cartridge makes room for it");
    w.state.check_invariants().expect("invariants");
}

#[test]
fn not_enough_memory_when_the_queue_is_full() {
    let (mut w, s, _) = world();
    w.policy.queue_per_library_max = 1;
    w.mount(s, "LIB0001L8", None);
    let e = w.rejects(mount_cmd(&w, s, "LIB0002L8", None), ErrorCode::NotEnoughMemory);
    assert_eq!(e.code(), 8);
}

#[test]
fn invalid_library_while_the_library_is_being_deleted() {
    let (mut w, s, lib) = world();
    w.mount(s, "LIB0001L8", None);
    w.ok(Command::StartNext { library: lib });
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.ok(Command::DeleteLibrary { session: s, library: lib });
    w.rejects(mount_cmd(&w, s, "LIB0002L8", None), ErrorCode::InvalidLibrary);
    // The robot finishes; the library goes.
    let r = w.state.libraries[&lib].active_requests[0];
    w.finish(r);
    assert!(!w.state.libraries.contains_key(&lib));
    let offline = w.state.medium_by_barcode("LIB0001L8").expect("its media move to the offline library");
    assert_eq!(offline.library, LibraryId::OFFLINE);
}

#[test]
fn a_deferred_dismount_is_reused_in_place_and_expires_into_a_dismount() {
    let (mut w, s, lib) = world();
    w.mount(s, "LIB0001L8", None);
    w.work(lib);
    let media = w.media("LIB0001L8");
    w.ok(Command::DismountMedia { session: s, media, deferred: true });
    let drive = w.drive("lib-drive-1");
    assert_eq!(w.state.drives[&drive].state, DriveState::Dismountable);
    let (_, events) = w.ok(mount_cmd(&w, s, "LIB0001L8", None));
    assert!(matches!(events.as_slice(), [Event::MountSatisfiedInPlace { .. }]), "{events:?}");
    w.ok(Command::DismountMedia { session: s, media, deferred: true });
    // Nothing is due yet.
    let (_, events) = w.ok(Command::Tick);
    assert!(events.is_empty());
    w.now_ms += 301_000;
    let (_, events) = w.ok(Command::Tick);
    assert!(matches!(events.as_slice(), [Event::DismountRequested { .. }]));
    w.work(lib);
    assert_eq!(w.state.drives[&drive].state, DriveState::Dismounted);
}

#[test]
fn a_mount_makes_room_in_a_drive_holding_a_released_medium() {
    let mut w = World::new();
    let s = w.session("app");
    let lib = w.changer(s, "lib", 1, 4, 2);
    w.mount(s, "LIB0001L8", None);
    w.work(lib);
    let first = w.media("LIB0001L8");
    w.ok(Command::DismountMedia { session: s, media: first, deferred: true });
    let (_, events) = w.ok(mount_cmd(&w, s, "LIB0002L8", None));
    assert!(matches!(events.as_slice(), [Event::DismountRequested { .. }, Event::MountRequested { .. }]));
    w.work(lib);
    let drive = w.drive("lib-drive-1");
    assert_eq!(w.state.drives[&drive].medium, Some(w.media("LIB0002L8")));
    assert!(matches!(w.state.media[&first].location, Location::Slot(_)));
}

#[test]
fn dismount_media_codes() {
    let (mut w, s, lib) = world();
    let media = w.media("LIB0001L8");
    w.rejects(Command::DismountMedia { session: s, media: MediaId::NIL, deferred: false }, ErrorCode::InvalidParameter);
    w.rejects(
        Command::DismountMedia { session: s, media: MediaId(uuid::Uuid::from_u128(1)), deferred: false },
        ErrorCode::InvalidMedia,
    );
    w.rejects(Command::DismountMedia { session: s, media, deferred: false }, ErrorCode::InvalidState);
    w.mount(s, "LIB0001L8", None);
    w.work(lib);
    let eve = w.session("eve");
    w.rejects(Command::DismountMedia { session: eve, media, deferred: false }, ErrorCode::AccessDenied);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Media(media), enabled: false });
    w.rejects(Command::DismountMedia { session: s, media, deferred: false }, ErrorCode::MediaNotAvailable);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Media(media), enabled: true });
    // A disabled library runs nothing; a disabled drive still lets its
    // cartridge go (see `enable_disable.rs`).
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(Command::DismountMedia { session: s, media, deferred: false }, ErrorCode::DeviceNotAvailable);
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Library(lib), enabled: true });
    let (_, events) = w.ok(Command::DismountMedia { session: s, media, deferred: false });
    assert!(matches!(events.as_slice(), [Event::HoldReleased { .. }, Event::DismountRequested { .. }]));
    w.rejects(Command::DismountMedia { session: s, media, deferred: false }, ErrorCode::InvalidState);
    w.work(lib);
    let mut sa = World::new();
    let s2 = sa.session("app");
    sa.standalone(s2, "sa", 1);
    let m = sa.media("SA0001L8");
    sa.rejects(Command::DismountMedia { session: s2, media: m, deferred: false }, ErrorCode::MediaOffline);
}

#[test]
fn closing_a_session_releases_its_holds_and_cancels_its_queued_mounts() {
    let (mut w, s, lib) = world();
    w.mount(s, "LIB0001L8", None);
    w.work(lib);
    let queued = w.mount(s, "LIB0002L8", None);
    w.ok(Command::CloseSession { session: s });
    let drive = w.drive("lib-drive-1");
    assert_eq!(w.state.drives[&drive].holder, None);
    assert_eq!(w.state.drives[&drive].state, DriveState::Dismountable);
    assert_eq!(w.request(queued).state, RequestState::Cancelled);
    assert!(w.state.libraries[&lib].active_requests.is_empty());
}

#[test]
fn a_failed_mount_leaves_the_medium_where_the_robot_says() {
    let (mut w, s, lib) = world();
    let req = w.mount(s, "LIB0001L8", None);
    w.ok(Command::StartNext { library: lib });
    let home = w.request(req).slot.unwrap();
    w.ok(Command::FailRequest {
        request: req,
        error: ErrorCode::MediumNotAccessible,
        sense: Some(Sense { key: 4, asc: 0x15, ascq: 1 }),
        observed: Observed::Slot(home),
    });
    let r = w.request(req);
    assert_eq!((r.state, r.error), (RequestState::Failed, Some(4323)));
    assert_eq!(w.state.media[&r.media].location, Location::Slot(home));
    assert_eq!(w.state.drives[&r.drive.unwrap()].reserved_by, None);
}

#[test]
fn reconcile_completes_what_happened_and_requeues_what_did_not() {
    let (mut w, s, lib) = world();
    let a = w.mount(s, "LIB0001L8", None);
    w.ok(Command::StartNext { library: lib });
    let drive = w.request(a).drive.unwrap();
    w.ok(Command::Reconcile { request: a, observed: Observed::Drive(drive) });
    assert_eq!(w.request(a).state, RequestState::Passed);
    let b = w.mount(s, "LIB0002L8", None);
    w.ok(Command::StartNext { library: lib });
    let home = w.request(b).slot.unwrap();
    // Nothing moved: back to the queue under its own id (a regression:
    // it was failed and queued again as a new request, so a caller
    // watching it saw a failure that never happened).
    let (_, events) = w.ok(Command::Reconcile { request: b, observed: Observed::Slot(home) });
    assert!(matches!(events.as_slice(), [Event::RequestRequeued { .. }]), "{events:?}");
    assert_eq!((w.request(b).state, w.request(b).error), (RequestState::Queued, None));
    w.work(lib);
    assert_eq!(w.request(b).state, RequestState::Passed);
    assert_eq!(w.state.media[&w.media("LIB0002L8")].state, MediaState::Loaded);
}

#[test]
fn finished_requests_are_purged_from_the_views_oldest_first() {
    let mut w = World::new();
    let s = w.session("app");
    w.standalone(s, "sa", 0);
    let drive = w.drive("sa-drive-1");
    w.ok(Command::OperatorInsert { session: s, drive, barcode: "SA0001L8".into() });
    let media = w.media("SA0001L8");
    let first = w.ok(Command::MountMedia { session: s, media, options: MountOptions::default() }).0;
    // Each in-place mount and deferred dismount pair finishes one request.
    // Straight through decide and apply: the harness's per-command checks are
    // quadratic over this many requests.
    for i in 0..limits::FINISHED_REQUESTS_KEPT as u128 {
        for command in [
            Command::DismountMedia { session: s, media, deferred: true },
            Command::MountMedia { session: s, media, options: MountOptions::default() },
        ] {
            let request = RequestId(uuid::Uuid::from_u128((i << 8) | 0xEE));
            let stamped = Stamped { at_ms: 2_000_000 + i as u64, request, command };
            for e in decide(&w.state, &w.policy, &stamped).expect("accepted") {
                apply(&mut w.state, &e).expect("a decided event applies");
            }
        }
    }
    w.state.check_invariants().expect("invariants hold after the purge");
    assert_eq!(w.state.finished.len(), limits::FINISHED_REQUESTS_KEPT);
    assert!(!w.state.requests.contains_key(&first), "the oldest finished request left the views");
    assert_eq!(w.state.requests.len(), limits::FINISHED_REQUESTS_KEPT);
}

/// Found by the liveness property: a mount whose move the views had
/// recorded, but whose cartridge the hardware reports still in its slot, is
/// queued again with the cartridge back in the slot, and then completes.
#[test]
fn a_requeued_mount_puts_the_cartridge_back_where_the_hardware_has_it() {
    let (mut w, s, lib) = world();
    let r = w.mount(s, "LIB0001L8", None);
    w.ok(Command::StartNext { library: lib });
    w.ok(Command::AdvanceRequest { request: r });
    let home = w.request(r).slot.expect("a mount names its slot");
    let events = w.ok(Command::Reconcile { request: r, observed: Observed::Slot(home) }).1;
    assert!(matches!(events.as_slice(), [Event::RequestRequeued { .. }]), "{events:?}");
    assert_eq!(w.state.media[&w.media("LIB0001L8")].location, Location::Slot(home));
    w.work(lib);
    assert_eq!(w.request(r).state, RequestState::Passed);
}

/// Regression: a USE-only principal could release another session's hold
/// (`dismount-media --deferred`), after which the holder's own dismount
/// failed. Only the holder's session, or CONTROL as the operator's
/// override (recorded), may release it.
#[test]
fn only_the_holder_or_control_releases_a_hold() {
    let (mut w, alice, lib) = world();
    w.grant(alice, lib, "bob", AccessMask::USE);
    w.grant(alice, lib, "carol", AccessMask::USE.with(AccessMask::CONTROL));
    let bob = w.session("bob");
    let carol = w.session("carol");
    w.mount(alice, "LIB0001L8", None);
    w.work(lib);
    let media = w.media("LIB0001L8");
    for deferred in [true, false] {
        w.rejects(Command::DismountMedia { session: bob, media, deferred }, ErrorCode::AccessDenied);
    }
    let (_, events) = w.ok(Command::DismountMedia { session: carol, media, deferred: true });
    assert!(
        matches!(events.as_slice(), [Event::HoldOverridden { by, .. }, Event::DriveMadeDismountable { .. }] if by == "carol"),
        "{events:?}"
    );
    // Mounted again by alice, released by alice herself: no override.
    w.ok(mount_cmd(&w, alice, "LIB0001L8", None));
    let (_, events) = w.ok(Command::DismountMedia { session: alice, media, deferred: false });
    assert!(matches!(events.as_slice(), [Event::HoldReleased { .. }, Event::DismountRequested { .. }]), "{events:?}");
}

/// MountNtmsMedia of several cartridges: one request each, all accepted
/// or none, no two in one drive; DismountNtmsMedia of several likewise.
#[test]
fn several_cartridges_are_mounted_and_dismounted_together_or_not_at_all() {
    let mut w = World::new();
    let s = w.session("app");
    let lib = w.changer(s, "lib", 2, 8, 5);
    let other = w.changer(s, "two", 1, 2, 1);
    let set = |w: &World, barcodes: &[&str], drives: &[&str]| Command::MountMediaSet {
        session: s,
        media: barcodes.iter().map(|b| w.media(b)).collect(),
        drives: drives.iter().map(|d| w.drive(d)).collect(),
        options: MountOptions::default(),
    };
    w.rejects(set(&w, &[], &[]), ErrorCode::InvalidParameter);
    w.rejects(set(&w, &["LIB0001L8", "LIB0002L8"], &["lib-drive-1"]), ErrorCode::InvalidParameter);
    w.rejects(set(&w, &["LIB0001L8", "LIB0001L8"], &[]), ErrorCode::InvalidMedia);
    w.rejects(set(&w, &["LIB0001L8", "TWO0001L8"], &[]), ErrorCode::DriveMediaMismatch);
    // One refusal refuses them all: nothing is queued.
    w.ok(Command::SetEnabled { session: s, object: ObjectRef::Media(w.media("LIB0003L8")), enabled: false });
    w.rejects(set(&w, &["LIB0001L8", "LIB0003L8"], &[]), ErrorCode::ResourceDisabled);
    assert!(w.state.libraries[&lib].active_requests.is_empty());
    // Two drives, three cartridges: two queued on different drives, the third waits.
    let (first, events) = w.ok(set(&w, &["LIB0001L8", "LIB0002L8", "LIB0004L8"], &[]));
    let drives: Vec<Option<DriveId>> = events
        .iter()
        .filter_map(|e| match e {
            Event::MountRequested { request } => Some(request.drive),
            _ => None,
        })
        .collect();
    assert_eq!(drives.len(), 2);
    assert_ne!(drives[0], drives[1], "no two in one drive");
    assert!(matches!(events.last(), Some(Event::MountWaiting { .. })), "{events:?}");
    assert_eq!(w.request(first).media, w.media("LIB0001L8"), "the first has the command's id");
    w.work(lib);
    // Named drives, one each.
    let dismount = |w: &World, barcodes: &[&str]| Command::DismountMediaSet {
        session: s,
        media: barcodes.iter().map(|b| w.media(b)).collect(),
        deferred: false,
    };
    w.rejects(dismount(&w, &["LIB0001L8", "LIB0001L8"]), ErrorCode::InvalidMedia);
    w.rejects(dismount(&w, &["LIB0001L8", "LIB0005L8"]), ErrorCode::InvalidState);
    let (_, events) = w.ok(dismount(&w, &["LIB0001L8", "LIB0002L8"]));
    assert_eq!(events.iter().filter(|e| matches!(e, Event::DismountRequested { .. })).count(), 2, "{events:?}");
    w.work(lib);
    let m4 = w.media("LIB0004L8");
    assert!(w.state.drives.values().any(|d| d.medium == Some(m4)), "the waiting one got a drive");
    let _ = other;
    w.state.check_invariants().expect("invariants");
}

/// Regression (found by a hostile run): a mount of several cartridges
/// naming one drive twice was accepted, and the second waited on the
/// first's drive while the others stayed free.
#[test]
fn a_set_naming_a_drive_twice_is_refused() {
    let mut w = World::new();
    let s = w.session("app");
    w.changer(s, "lib", 2, 6, 3);
    let d = w.drive("lib-drive-1");
    let set = Command::MountMediaSet {
        session: s,
        media: vec![w.media("LIB0001L8"), w.media("LIB0002L8")],
        drives: vec![d, d],
        options: MountOptions::default(),
    };
    w.rejects(set, ErrorCode::InvalidParameter);
}
