//! Object management (spec §3.6): attributes, descriptions, enumeration
//! and security, one test per function with a row per code.

mod common;

use common::World;
use rsm_model::*;

/// alice's library `la` (1 drive, 4 slots, 2 cartridges) and her pool `Daily`.
fn world() -> (World, SessionId, LibraryId, PoolId) {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let pool = w.daily_pool(alice);
    (w, alice, lib, pool)
}

#[test]
fn set_and_get_attribute_codes() {
    let (mut w, alice, lib, _) = world();
    let set = |session, object, name: &str, value: &[u8]| Command::SetAttribute {
        session,
        object,
        name: name.into(),
        value: value.to_vec(),
    };
    let library = ObjectRef::Library(lib);
    w.rejects(set(SessionId(uuid::Uuid::from_u128(99)), library, "x", b"1"), ErrorCode::InvalidHandle);
    w.rejects(set(alice, library, "", b"1"), ErrorCode::InvalidName);
    w.rejects(set(alice, library, &"n".repeat(32), b"1"), ErrorCode::InvalidName);
    w.rejects(set(alice, library, "x", &vec![0; 0x10000]), ErrorCode::NoData);
    w.rejects(set(alice, ObjectRef::Media(MediaId(uuid::Uuid::from_u128(5))), "x", b"1"), ErrorCode::ObjectNotFound);
    let bob = w.session("bob");
    w.rejects(set(bob, library, "x", b"1"), ErrorCode::AccessDenied);
    w.ok(set(alice, library, "Backup-Job", b"nightly"));
    // The computer's MODIFY is the administrator's unless granted.
    w.rejects(set(alice, ObjectRef::Computer, "site", b"Lyon"), ErrorCode::AccessDenied);
    w.policy.administrator = Some("alice".into());
    w.ok(set(alice, ObjectRef::Computer, "site", b"Lyon"));
    let medium = ObjectRef::Media(w.media("LA0001L8"));
    w.ok(set(alice, medium, "owner", &vec![7; ATTRIBUTE_LEN_MAX]));
    // Names are not case-sensitive; reads need USE.
    assert_eq!(get_attribute(&w.state, &w.policy, "alice", library, "backup-job").unwrap(), b"nightly");
    assert_eq!(get_attribute(&w.state, &w.policy, "bob", ObjectRef::Computer, "SITE").unwrap(), b"Lyon");
    let denied = get_attribute(&w.state, &w.policy, "bob", library, "backup-job").unwrap_err();
    assert_eq!(denied.kind(), ErrorCode::AccessDenied);
    let missing = get_attribute(&w.state, &w.policy, "alice", library, "nothing").unwrap_err();
    assert_eq!(missing.kind(), ErrorCode::ObjectNotFound);
    assert_eq!(list_attributes(&w.state, &w.policy, "alice", library).unwrap(), vec![("backup-job".into(), 7)]);
    // Empty data removes it; removing what is not there records nothing.
    w.ok(set(alice, library, "BACKUP-JOB", b""));
    assert!(!w.state.attributes.contains_key(&library));
    let (_, nothing) = w.ok(set(alice, library, "backup-job", b""));
    assert!(nothing.is_empty());
    // A deleted medium's attributes go with it.
    let import = SystemPools::of(default_media_type()).import;
    w.ok(Command::CreateMedia {
        session: alice,
        barcode: "OFF001L8".into(),
        pool: import,
        sides: vec![SideState::Import],
        labels: Vec::new(),
        error_on_duplicate: false,
    });
    let off = ObjectRef::Media(w.media("OFF001L8"));
    w.ok(set(alice, off, "shelf", b"B-12"));
    w.ok(Command::DeleteMedia { session: alice, media: w.media("OFF001L8") });
    assert!(!w.state.attributes.contains_key(&off));
    w.state.check_invariants().expect("invariants");
}

#[test]
fn descriptions_and_their_rights() {
    let (mut w, alice, lib, pool) = world();
    let describe = |session, object, text: &str| Command::SetDescription { session, object, description: text.into() };
    w.rejects(describe(alice, ObjectRef::Pool(pool), &"d".repeat(128)), ErrorCode::InvalidParameter);
    w.rejects(describe(alice, ObjectRef::Pool(pool), "tab\there"), ErrorCode::InvalidParameter);
    w.rejects(describe(alice, ObjectRef::Pool(PoolId(uuid::Uuid::from_u128(3))), "x"), ErrorCode::ObjectNotFound);
    let bob = w.session("bob");
    w.grant(alice, lib, "bob", AccessMask::MODIFY);
    // A library needs CONTROL; its drives MODIFY.
    w.rejects(describe(bob, ObjectRef::Library(lib), "the big one"), ErrorCode::AccessDenied);
    w.ok(describe(bob, ObjectRef::Drive(w.drive("la-drive-1")), "left bay"));
    w.ok(describe(alice, ObjectRef::Library(lib), "the big one"));
    assert_eq!(w.state.descriptions[&ObjectRef::Library(lib)], "the big one");
    w.ok(describe(alice, ObjectRef::Library(lib), ""));
    assert!(!w.state.descriptions.contains_key(&ObjectRef::Library(lib)));
    w.state.check_invariants().expect("invariants");
}

#[test]
fn security_of_the_computer_libraries_and_pools() {
    let (mut w, alice, lib, pool) = world();
    let access = |session, object, principal: &str, rights, grant| Command::SetObjectAccess {
        session,
        object,
        principal: principal.into(),
        rights,
        grant,
    };
    let bob = w.session("bob");
    w.rejects(access(alice, ObjectRef::Pool(pool), "has space", AccessMask::USE, true), ErrorCode::InvalidParameter);
    w.rejects(access(alice, ObjectRef::Pool(pool), "bob", AccessMask(0), true), ErrorCode::InvalidParameter);
    let side = ObjectRef::Side(SideId::of(w.media("LA0001L8"), 0));
    w.rejects(access(alice, side, "bob", AccessMask::USE, true), ErrorCode::NoSecurityOnObject);
    let free = ObjectRef::Pool(SystemPools::of(default_media_type()).free);
    w.rejects(access(alice, free, "bob", AccessMask::USE, true), ErrorCode::NoSecurityOnObject);
    w.rejects(access(bob, ObjectRef::Pool(pool), "bob", AccessMask::CONTROL, true), ErrorCode::AccessDenied);
    w.ok(access(alice, ObjectRef::Pool(pool), "bob", AccessMask::USE, true));
    let list = object_security(&w.state, &w.policy, "bob", ObjectRef::Pool(pool)).unwrap();
    assert_eq!(list.get("bob"), Some(&AccessMask::USE));
    w.ok(access(alice, ObjectRef::Pool(pool), "bob", AccessMask::USE, false));
    assert!(!w.state.pools[&pool].access.contains_key("bob"));
    // A library's goes through its own rule; the computer's CONTROL is the administrator's.
    w.ok(access(alice, ObjectRef::Library(lib), "bob", AccessMask::USE, true));
    assert!(w.state.libraries[&lib].access["bob"].allows(AccessMask::USE));
    w.rejects(access(alice, ObjectRef::Computer, "bob", AccessMask::MODIFY, false), ErrorCode::AccessDenied);
    w.policy.administrator = Some("root".into());
    let root = w.session("root");
    w.ok(access(root, ObjectRef::Computer, "bob", AccessMask::MODIFY, false));
    assert_eq!(w.policy.computer_rights(&w.state, "bob"), AccessMask::USE);
    // System pools are the computer's: describing one needs its MODIFY.
    w.rejects(
        Command::SetDescription { session: bob, object: free, description: "mine".into() },
        ErrorCode::AccessDenied,
    );
    assert_eq!(w.policy.computer_rights(&w.state, "carol"), COMPUTER_DEFAULT_RIGHTS);
    // CreateNtmsMedia needs MODIFY on the computer: root's, and whom root grants it.
    w.ok(access(root, ObjectRef::Computer, "alice", AccessMask::MODIFY, true));
    let import = SystemPools::of(default_media_type()).import;
    let create = |session| Command::CreateMedia {
        session,
        barcode: "OFF001L8".into(),
        pool: import,
        sides: vec![SideState::Import],
        labels: Vec::new(),
        error_on_duplicate: false,
    };
    w.rejects(create(bob), ErrorCode::AccessDenied);
    w.ok(create(alice));
    let err = object_security(&w.state, &w.policy, "alice", side).unwrap_err();
    assert_eq!(err.kind(), ErrorCode::NoSecurityOnObject);
    w.state.check_invariants().expect("invariants");
}

#[test]
fn enumerate_objects_by_type_and_container() {
    let (mut w, alice, lib, pool) = world();
    let list = |w: &World, who: &str, kind, container| enumerate(&w.state, &w.policy, who, kind, container, false);
    let lib_ref = Some(ObjectRef::Library(lib));
    assert_eq!(list(&w, "alice", ObjectType::Drive, lib_ref).unwrap().len(), 1);
    assert_eq!(list(&w, "alice", ObjectType::StorageSlot, lib_ref).unwrap().len(), 4);
    assert_eq!(list(&w, "alice", ObjectType::PhysicalMedia, lib_ref).unwrap().len(), 2);
    let media = list(&w, "alice", ObjectType::PhysicalMedia, None).unwrap();
    assert_eq!(media, vec![ObjectRef::Media(w.media("LA0001L8")), ObjectRef::Media(w.media("LA0002L8"))]);
    assert_eq!(list(&w, "alice", ObjectType::Computer, None).unwrap(), vec![ObjectRef::Computer]);
    // Sides of a medium; logical media of a pool.
    let m = ObjectRef::Media(w.media("LA0001L8"));
    assert_eq!(list(&w, "alice", ObjectType::Partition, Some(m)).unwrap().len(), 1);
    w.ok(Command::SetPoolPolicy { session: alice, pool, from_scratch: true, to_scratch: false, max_allocates: 0 });
    w.ok(Command::AllocateMedia {
        session: alice,
        pool,
        side: None,
        options: AllocateOptions::default(),
        wait: AllocationWait::NoWait,
    });
    assert_eq!(list(&w, "alice", ObjectType::LogicalMedia, Some(ObjectRef::Pool(pool))).unwrap().len(), 1);
    // Pools: the top level, with the root first on request.
    let top = list(&w, "alice", ObjectType::MediaPool, None).unwrap();
    assert!(top.contains(&ObjectRef::Pool(pool)), "{top:?}");
    let with_root = enumerate(&w.state, &w.policy, "alice", ObjectType::MediaPool, None, true).unwrap();
    assert_eq!(with_root.first(), Some(&ObjectRef::Computer));
    // Codes: a container the type does not allow, ROOTPOOL misused, a container that does not exist.
    let code = |r: Result<Vec<ObjectRef>, NtmsError>| r.unwrap_err().kind();
    assert_eq!(code(list(&w, "alice", ObjectType::Drive, Some(ObjectRef::Pool(pool)))), ErrorCode::InvalidParameter);
    assert_eq!(code(list(&w, "alice", ObjectType::Library, lib_ref)), ErrorCode::InvalidParameter);
    assert_eq!(
        code(enumerate(&w.state, &w.policy, "alice", ObjectType::Drive, None, true)),
        ErrorCode::InvalidParameter
    );
    let nowhere = Some(ObjectRef::Library(LibraryId(uuid::Uuid::from_u128(8))));
    assert_eq!(code(list(&w, "alice", ObjectType::Drive, nowhere)), ErrorCode::ObjectNotFound);
    // What the caller may not use is left out.
    assert!(list(&w, "bob", ObjectType::Drive, None).unwrap().is_empty());
    assert!(!list(&w, "bob", ObjectType::MediaPool, None).unwrap().contains(&ObjectRef::Pool(pool)));
    assert_eq!(list(&w, "bob", ObjectType::MediaType, None).unwrap().len(), MEDIA_TYPES.len());
}

/// SetNtmsObjectInformation's other writable fields: names, a drive's
/// deferral delay, a pool's media type; a row per code.
#[test]
fn set_object_information_codes() {
    let (mut w, alice, lib, daily) = world();
    let set = |session, object, field| Command::SetObjectInformation { session, object, field };
    let name = |n: &str| InfoField::Name(n.into());
    let library = ObjectRef::Library(lib);
    let drive = ObjectRef::Drive(w.state.drive_named("la-drive-1").expect("drive").id);
    let medium = ObjectRef::Media(w.media("LA0001L8"));
    w.rejects(set(SessionId(uuid::Uuid::from_u128(99)), library, name("lb")), ErrorCode::InvalidHandle);
    w.rejects(
        set(alice, ObjectRef::Library(LibraryId(uuid::Uuid::from_u128(5))), name("lb")),
        ErrorCode::ObjectNotFound,
    );
    // A field the type does not have, or a value out of its range.
    w.rejects(set(alice, drive, name("d")), ErrorCode::InvalidParameter);
    w.rejects(set(alice, library, InfoField::DeferDismountDelay(Some(1))), ErrorCode::InvalidParameter);
    // Found by a hostile run: a delay of 136 years was accepted.
    w.rejects(set(alice, drive, InfoField::DeferDismountDelay(Some(u32::MAX))), ErrorCode::InvalidParameter);
    w.rejects(set(alice, library, name("LTO-8")), ErrorCode::InvalidParameter);
    w.rejects(set(alice, ObjectRef::Pool(daily), name("A\\B")), ErrorCode::InvalidName);
    w.rejects(set(alice, medium, name(" padded")), ErrorCode::InvalidName);
    let unknown_type = InfoField::PoolMediaType(MediaTypeId(uuid::Uuid::from_u128(5)));
    w.rejects(set(alice, ObjectRef::Pool(daily), unknown_type), ErrorCode::InvalidParameter);
    // Rights: CONTROL on a library, MODIFY through the container otherwise.
    let bob = w.session("bob");
    w.rejects(set(bob, library, name("lb")), ErrorCode::AccessDenied);
    w.rejects(set(bob, drive, InfoField::DeferDismountDelay(Some(1))), ErrorCode::AccessDenied);
    // State: system pools keep theirs; names stay unique; a pool with media keeps its type.
    let free = ObjectRef::Pool(SystemPools::of(default_media_type()).free);
    w.policy.administrator = Some("alice".into());
    w.rejects(set(alice, free, name("Scratch")), ErrorCode::InvalidMediaPool);
    w.policy.administrator = None;
    w.rejects(set(alice, library, name("la-drive-1")), ErrorCode::AlreadyExists);
    // Found by a hostile run: a library named like a cartridge hid it.
    w.rejects(set(alice, library, name("LA0001L8")), ErrorCode::AlreadyExists);
    let spec = LibrarySpec {
        name: "LA0002L8".into(),
        kind: LibraryKind::Changer,
        drives: 1,
        slots: 2,
        ie_ports: 0,
        barcodes: vec![],
        media_type: default_media_type(),
        unlabelled: vec![],
    };
    w.rejects(Command::CreateLibrary { session: alice, spec }, ErrorCode::AlreadyExists);
    w.ok(Command::CreateMediaPool {
        session: alice,
        path: "Weekly".into(),
        media_type: Some(default_media_type()),
        action: PoolAction::CreateNew,
    });
    w.rejects(set(alice, ObjectRef::Pool(daily), name("weekly")), ErrorCode::AlreadyExists);
    w.ok(Command::MoveToMediaPool { session: alice, media: w.media("LA0001L8"), pool: daily });
    let lto7 = media_type_named("LTO-7").expect("in the catalog").id;
    w.rejects(set(alice, ObjectRef::Pool(daily), InfoField::PoolMediaType(lto7)), ErrorCode::InvalidState);

    // Success and its effect on the views.
    w.ok(set(alice, library, name("tapes")));
    assert_eq!(w.state.library_named("tapes").map(|l| l.id), Some(lib));
    assert!(w.state.library_named("la").is_none());
    w.ok(set(alice, ObjectRef::Pool(daily), name("Nightly")));
    assert_eq!(w.state.pool_path(daily), "\\Nightly");
    let weekly = w.state.pool_at("Weekly").expect("created").id;
    w.ok(set(alice, ObjectRef::Pool(weekly), InfoField::PoolMediaType(lto7)));
    assert_eq!(w.state.pools[&weekly].media_type, Some(lto7));
    w.ok(set(alice, medium, name("Monday full")));
    assert_eq!(w.state.object_names[&medium], "Monday full");
    // Found by a hostile run: names that answer for another object.
    let other = ObjectRef::Media(w.media("LA0002L8"));
    w.rejects(set(alice, other, name("Monday full")), ErrorCode::AlreadyExists);
    w.rejects(set(alice, other, name("LA0001L8")), ErrorCode::AlreadyExists);
    w.rejects(set(alice, other, name("tapes")), ErrorCode::AlreadyExists);
    w.rejects(set(alice, other, name("LTO-8")), ErrorCode::InvalidName);
    assert_eq!(object_reference(&w.state, "Monday full").expect("found by its name"), medium);
    let (_, again) = w.ok(set(alice, medium, name("Monday full")));
    assert!(again.is_empty(), "writing what is there records nothing");
    w.ok(set(alice, medium, name("")));
    assert!(!w.state.object_names.contains_key(&medium));
    // A drive's own deferral delay decides when a deferred cartridge goes home.
    let ObjectRef::Drive(d) = drive else { unreachable!() };
    w.ok(set(alice, drive, InfoField::DeferDismountDelay(Some(60))));
    let m = w.media("LA0002L8");
    w.ok(Command::MountMedia {
        session: alice,
        media: m,
        options: MountOptions { drive: Some(d), ..Default::default() },
    });
    w.work(lib);
    let now = w.now_ms + 10; // the next command's stamp
    w.ok(Command::DismountMedia { session: alice, media: m, deferred: true });
    assert_eq!(w.state.drives[&d].dismount_deadline_ms, Some(now + 60_000));
    w.state.check_invariants().expect("invariants");
}
