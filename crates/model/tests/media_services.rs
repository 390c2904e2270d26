//! Media services (spec §3.2, §7): media types, pools, and the life of a
//! side, one test per function with a row per code of its table.

mod common;

use common::World;
use rsm_model::*;

fn lto8() -> MediaTypeId {
    default_media_type()
}

fn named(name: &str) -> MediaTypeId {
    media_type_named(name).expect("in the catalog").id
}

/// A world with alice's library `la` (2 drives, 6 slots, 3 cartridges).
fn world() -> (World, SessionId, LibraryId) {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 2, 6, 3);
    (w, alice, lib)
}

fn create_pool(w: &mut World, session: SessionId, path: &str, media_type: Option<MediaTypeId>) -> PoolId {
    w.ok(Command::CreateMediaPool { session, path: path.into(), media_type, action: PoolAction::CreateNew });
    w.state.pool_at(path).expect("created").id
}

fn allocate(w: &mut World, session: SessionId, pool: PoolId) -> LogicalMediaId {
    let (_, events) = w.ok(Command::AllocateMedia {
        session,
        pool,
        side: None,
        options: AllocateOptions::default(),
        wait: AllocationWait::NoWait,
    });
    match events.as_slice() {
        [Event::SideAllocated { lmid, .. }] => *lmid,
        other => panic!("{other:?}"),
    }
}

/// An allocation from `pool` that finds nothing and raises a new-media
/// operator request: its id.
fn raise_new_media_request(w: &mut World, session: SessionId, pool: PoolId) -> OperatorRequestId {
    let (_, events) = w.ok(Command::AllocateMedia {
        session,
        pool,
        side: None,
        options: AllocateOptions::default(),
        wait: AllocationWait::Raise,
    });
    match events.as_slice() {
        [Event::OperatorRequestSubmitted { request }] => request.id,
        other => panic!("{other:?}"),
    }
}

fn side_of(w: &World, lmid: LogicalMediaId) -> Side {
    w.state.logical_medium(lmid).expect("bound").1.clone()
}

#[test]
fn a_new_library_brings_its_media_type_system_pools_and_available_sides() {
    let (w, _, lib) = world();
    let free = SystemPools::of(lto8()).free;
    assert_eq!(w.state.pool_path(free), "\\Free\\LTO-8");
    assert_eq!(w.state.pool_at("\\Import\\LTO-8").map(|p| p.kind), Some(PoolType::Import));
    assert_eq!(w.state.pool_at("Unrecognized\\lto-8").map(|p| p.kind), Some(PoolType::Unrecognized));
    assert!(w.state.libraries[&lib].media_types.contains(&lto8()));
    for m in w.state.media.values() {
        assert_eq!((m.pool, m.sides.len(), m.sides[0].state), (free, 1, SideState::Available));
    }
}

#[test]
fn add_media_type_codes() {
    let (mut w, alice, lib) = world();
    let add = |session, library, media_type| Command::AddMediaType { session, library, media_type };
    w.rejects(add(SessionId(uuid::Uuid::from_u128(99)), lib, lto8()), ErrorCode::InvalidHandle);
    w.rejects(add(alice, LibraryId::NIL, lto8()), ErrorCode::InvalidParameter);
    w.rejects(add(alice, LibraryId(uuid::Uuid::from_u128(5)), lto8()), ErrorCode::InvalidLibrary);
    w.rejects(add(alice, lib, MediaTypeId(uuid::Uuid::from_u128(5))), ErrorCode::InvalidMedia);
    let bob = w.session("bob");
    w.rejects(add(bob, lib, named("LTO-7")), ErrorCode::AccessDenied);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(add(alice, lib, named("LTO-7")), ErrorCode::LibraryOffline);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: true });
    let (_, events) = w.ok(add(alice, lib, named("LTO-7")));
    assert_eq!(events.len(), 1);
    assert!(w.state.pool_at("\\Free\\LTO-7").is_some());
    let (_, again) = w.ok(add(alice, lib, named("LTO-7")));
    assert!(again.is_empty(), "already related: nothing recorded");
}

#[test]
fn delete_media_type_codes_and_its_pools_go_with_the_last_relation() {
    let (mut w, alice, lib) = world();
    let delete = |session, media_type| Command::DeleteMediaType { session, library: lib, media_type };
    w.rejects(
        Command::DeleteMediaType { session: alice, library: LibraryId::NIL, media_type: lto8() },
        ErrorCode::InvalidParameter,
    );
    let bob = w.session("bob");
    w.rejects(delete(bob, lto8()), ErrorCode::AccessDenied);
    w.rejects(delete(alice, lto8()), ErrorCode::NotEmpty);
    w.ok(Command::AddMediaType { session: alice, library: lib, media_type: named("LTO-7") });
    w.ok(delete(alice, named("LTO-7")));
    assert!(w.state.pool_at("\\Free\\LTO-7").is_none(), "no library, medium or pool of LTO-7 is left");
    let (_, nothing) = w.ok(delete(alice, named("LTO-7")));
    assert!(nothing.is_empty(), "a relation that did not exist: success, nothing recorded");
}

#[test]
fn create_media_pool_codes() {
    let (mut w, alice, _) = world();
    let create = |session, path: &str, media_type, action| Command::CreateMediaPool {
        session,
        path: path.into(),
        media_type,
        action,
    };
    w.rejects(create(alice, "", None, PoolAction::OpenAlways), ErrorCode::InvalidParameter);
    for bad in ["\\", "a\\\\b", "tab\there", &"x".repeat(64), " lead", "a\\b\\c\\d\\e\\f\\g\\h\\i"] {
        w.rejects(create(alice, bad, None, PoolAction::OpenAlways), ErrorCode::InvalidName);
    }
    w.rejects(
        create(alice, "App", Some(MediaTypeId(uuid::Uuid::from_u128(3))), PoolAction::OpenAlways),
        ErrorCode::InvalidMedia,
    );
    w.rejects(create(alice, "App\\Daily", Some(lto8()), PoolAction::OpenAlways), ErrorCode::ObjectNotFound);
    w.rejects(create(alice, "App", None, PoolAction::OpenExisting), ErrorCode::ObjectNotFound);
    let app = create_pool(&mut w, alice, "\\App", None);
    w.rejects(create(alice, "app", None, PoolAction::CreateNew), ErrorCode::AlreadyExists);
    let (_, opened) = w.ok(create(alice, "App", Some(named("LTO-7")), PoolAction::OpenAlways));
    assert!(opened.is_empty(), "opening records nothing; the media type is ignored");
    let daily = create_pool(&mut w, alice, "App\\Daily", Some(lto8()));
    assert_eq!(w.state.pool_path(daily), "\\App\\Daily");
    assert_eq!(w.state.pools[&daily].parent, Some(app));
    w.rejects(create(alice, "App\\Daily\\Deeper", None, PoolAction::OpenAlways), ErrorCode::InvalidMediaPool);
    w.rejects(create(alice, "Free", None, PoolAction::OpenAlways), ErrorCode::InvalidMediaPool);
    w.rejects(create(alice, "Free\\Mine", None, PoolAction::OpenAlways), ErrorCode::InvalidMediaPool);
    let bob = w.session("bob");
    w.rejects(create(bob, "App\\Bobs", Some(lto8()), PoolAction::CreateNew), ErrorCode::AccessDenied);
    w.rejects(create(bob, "App", None, PoolAction::OpenExisting), ErrorCode::AccessDenied);
    // Bob's own top-level pool: he holds every right, alice none.
    create_pool(&mut w, bob, "Bob", None);
    w.rejects(create(alice, "Bob", None, PoolAction::OpenExisting), ErrorCode::AccessDenied);
}

#[test]
fn delete_media_pool_codes() {
    let (mut w, alice, _) = world();
    let delete = |session, pool| Command::DeleteMediaPool { session, pool };
    w.rejects(delete(alice, PoolId::NIL), ErrorCode::InvalidParameter);
    w.rejects(delete(alice, PoolId(uuid::Uuid::from_u128(8))), ErrorCode::InvalidMediaPool);
    w.rejects(delete(alice, SystemPools::of(lto8()).free), ErrorCode::InvalidMediaPool);
    let app = create_pool(&mut w, alice, "App", None);
    let daily = create_pool(&mut w, alice, "App\\Daily", Some(lto8()));
    let bob = w.session("bob");
    w.rejects(delete(bob, daily), ErrorCode::AccessDenied);
    w.rejects(delete(alice, app), ErrorCode::NotEmpty);
    let m = w.media("LA0001L8");
    w.ok(Command::MoveToMediaPool { session: alice, media: m, pool: daily });
    w.rejects(delete(alice, daily), ErrorCode::NotEmpty);
    w.ok(Command::MoveToMediaPool { session: alice, media: m, pool: SystemPools::of(lto8()).free });
    w.ok(delete(alice, daily));
    w.ok(delete(alice, app));
}

#[test]
fn move_to_media_pool_codes() {
    let (mut w, alice, lib) = world();
    let mv = |session, media, pool| Command::MoveToMediaPool { session, media, pool };
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    let m = w.media("LA0001L8");
    w.rejects(mv(alice, MediaId::NIL, daily), ErrorCode::InvalidParameter);
    w.rejects(mv(alice, MediaId(uuid::Uuid::from_u128(4)), daily), ErrorCode::InvalidMedia);
    w.rejects(mv(alice, m, PoolId(uuid::Uuid::from_u128(4))), ErrorCode::InvalidMediaPool);
    let folder = create_pool(&mut w, alice, "Folder", None);
    w.rejects(mv(alice, m, folder), ErrorCode::InvalidMediaPool);
    let bob = w.session("bob");
    w.rejects(mv(bob, m, daily), ErrorCode::AccessDenied);
    let lto7 = create_pool(&mut w, alice, "Old", Some(named("LTO-7")));
    w.rejects(mv(alice, m, lto7), ErrorCode::MediaIncompatible);
    w.rejects(mv(alice, m, SystemPools::of(lto8()).import), ErrorCode::InvalidMediaPool);
    w.rejects(mv(alice, m, SystemPools::of(lto8()).unrecognized), ErrorCode::InvalidMediaPool);
    w.mount(alice, "LA0001L8", None);
    w.rejects(mv(alice, m, daily), ErrorCode::Busy);
    let _ = lib;
    let m2 = w.media("LA0002L8");
    w.ok(mv(alice, m2, daily));
    assert_eq!(w.state.media[&m2].pool, daily);
    let lmid = allocate(&mut w, alice, daily);
    assert_eq!(w.state.logical_medium(lmid).map(|(m, _)| m.id), Some(m2));
    w.rejects(mv(alice, m2, SystemPools::of(lto8()).free), ErrorCode::InvalidMediaPool);
}

#[test]
fn allocate_deallocate_complete_decommission_the_typical_flow() {
    let (mut w, alice, _) = world();
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    let alloc = |session, pool, side, options| Command::AllocateMedia {
        session,
        pool,
        side,
        options,
        wait: AllocationWait::NoWait,
    };
    w.rejects(alloc(alice, PoolId::NIL, None, AllocateOptions::default()), ErrorCode::InvalidParameter);
    let both =
        AllocateOptions { new: true, next: Some(LogicalMediaId(uuid::Uuid::from_u128(1))), ..Default::default() };
    w.rejects(alloc(alice, daily, None, both), ErrorCode::InvalidParameter);
    w.rejects(
        alloc(alice, SystemPools::of(lto8()).free, None, AllocateOptions::default()),
        ErrorCode::InvalidMediaPool,
    );
    w.rejects(
        alloc(alice, daily, Some(SideId(uuid::Uuid::from_u128(6))), AllocateOptions::default()),
        ErrorCode::InvalidMedia,
    );
    // An empty pool that does not draw from scratch has nothing.
    w.rejects(alloc(alice, daily, None, AllocateOptions::default()), ErrorCode::MediaUnavailable);
    let bob = w.session("bob");
    w.rejects(alloc(bob, daily, None, AllocateOptions::default()), ErrorCode::AccessDenied);
    w.ok(Command::SetPoolPolicy {
        session: alice,
        pool: daily,
        from_scratch: true,
        to_scratch: true,
        max_allocates: 2,
    });
    let lmid = allocate(&mut w, alice, daily);
    let (m, side) = w.state.logical_medium(lmid).map(|(m, s)| (m.clone(), s.clone())).expect("bound");
    assert_eq!(
        (m.barcode.as_str(), m.pool, side.state, side.allocate_count),
        ("LA0001L8", daily, SideState::Allocated, 1)
    );
    // Complete, then deallocate: back to the free pool (to scratch).
    let complete = |session, lmid| Command::SetMediaComplete { session, lmid };
    w.rejects(complete(alice, LogicalMediaId::NIL), ErrorCode::InvalidParameter);
    w.rejects(complete(alice, LogicalMediaId(uuid::Uuid::from_u128(2))), ErrorCode::InvalidMedia);
    w.rejects(complete(bob, lmid), ErrorCode::AccessDenied);
    w.ok(complete(alice, lmid));
    assert_eq!(side_of(&w, lmid).state, SideState::Complete);
    w.rejects(complete(alice, lmid), ErrorCode::InvalidState);
    let dealloc = |session, lmid| Command::DeallocateMedia { session, lmid };
    w.rejects(dealloc(alice, LogicalMediaId::NIL), ErrorCode::InvalidParameter);
    w.rejects(dealloc(alice, LogicalMediaId(uuid::Uuid::from_u128(2))), ErrorCode::InvalidMedia);
    w.rejects(dealloc(bob, lmid), ErrorCode::AccessDenied);
    w.ok(dealloc(alice, lmid));
    assert!(w.state.logical_medium(lmid).is_none(), "the logical medium is gone");
    let again = &w.state.media[&m.id];
    assert_eq!((again.pool, again.sides[0].state), (SystemPools::of(lto8()).free, SideState::Available));
    // The selection rule prefers the fewest allocations: from scratch, the
    // next is LA0002L8; LA0001L8 alone in the pool is taken again.
    w.ok(Command::SetPoolPolicy {
        session: alice,
        pool: daily,
        from_scratch: false,
        to_scratch: false,
        max_allocates: 2,
    });
    w.ok(Command::MoveToMediaPool { session: alice, media: m.id, pool: daily });
    // At the allocation limit (2), deallocation decommissions the side.
    let lmid = allocate(&mut w, alice, daily);
    assert_eq!(side_of(&w, lmid).allocate_count, 2);
    w.ok(dealloc(alice, lmid));
    let retired = &w.state.media[&m.id];
    assert_eq!((retired.pool, retired.sides[0].state), (daily, SideState::Decommissioned));
    // A decommissioned side is never picked: the pool has nothing, the free pool LA0002L8.
    w.rejects(alloc(alice, daily, None, AllocateOptions::default()), ErrorCode::MediaUnavailable);
    w.ok(Command::SetPoolPolicy {
        session: alice,
        pool: daily,
        from_scratch: true,
        to_scratch: false,
        max_allocates: 2,
    });
    let lmid = allocate(&mut w, alice, daily);
    assert_eq!(w.state.logical_medium(lmid).map(|(m, _)| m.barcode.clone()), Some("LA0002L8".into()));
}

#[test]
fn a_mounted_medium_is_neither_deallocated_nor_completed() {
    let (mut w, alice, lib) = world();
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    w.ok(Command::MoveToMediaPool { session: alice, media: w.media("LA0001L8"), pool: daily });
    let lmid = allocate(&mut w, alice, daily);
    let mount = w.mount(alice, "LA0001L8", None);
    w.work(lib);
    w.finish(mount);
    w.rejects(Command::DeallocateMedia { session: alice, lmid }, ErrorCode::InvalidState);
    w.rejects(Command::SetMediaComplete { session: alice, lmid }, ErrorCode::InvalidState);
}

#[test]
fn decommission_media_codes() {
    let (mut w, alice, _) = world();
    let m = w.media("LA0003L8");
    let side = SideId::of(m, 0);
    let retire = |session, side| Command::DecommissionMedia { session, side };
    w.rejects(retire(alice, SideId::NIL), ErrorCode::InvalidParameter);
    w.rejects(retire(alice, SideId(uuid::Uuid::from_u128(9))), ErrorCode::InvalidMedia);
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    w.ok(Command::MoveToMediaPool { session: alice, media: m, pool: daily });
    let bob = w.session("bob");
    w.rejects(retire(bob, side), ErrorCode::AccessDenied);
    let lmid = allocate(&mut w, alice, daily);
    w.rejects(retire(alice, side), ErrorCode::InvalidState);
    w.ok(Command::DeallocateMedia { session: alice, lmid });
    w.ok(retire(alice, side));
    assert_eq!(w.state.side(side).map(|(_, s)| s.state), Some(SideState::Decommissioned));
    w.rejects(retire(alice, side), ErrorCode::InvalidState);
}

#[test]
fn swap_media_codes_and_effect() {
    let (mut w, alice, _) = world();
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    let weekly = create_pool(&mut w, alice, "Weekly", Some(lto8()));
    for (barcode, pool) in [("LA0001L8", daily), ("LA0002L8", daily), ("LA0003L8", weekly)] {
        w.ok(Command::MoveToMediaPool { session: alice, media: w.media(barcode), pool });
    }
    let a = allocate(&mut w, alice, daily);
    let b = allocate(&mut w, alice, daily);
    let c = allocate(&mut w, alice, weekly);
    let swap = |session, first, second| Command::SwapMedia { session, first, second };
    w.rejects(swap(alice, a, a), ErrorCode::InvalidParameter);
    w.rejects(swap(alice, LogicalMediaId::NIL, b), ErrorCode::InvalidParameter);
    w.rejects(swap(alice, a, LogicalMediaId(uuid::Uuid::from_u128(5))), ErrorCode::InvalidMedia);
    w.rejects(swap(alice, a, c), ErrorCode::InvalidMediaPool);
    let bob = w.session("bob");
    w.rejects(swap(bob, a, b), ErrorCode::AccessDenied);
    let before = (w.state.lmids[&a], w.state.lmids[&b]);
    w.ok(swap(alice, a, b));
    assert_eq!((w.state.lmids[&a], w.state.lmids[&b]), (before.1, before.0));
    w.mount(alice, "LA0001L8", None);
    w.rejects(swap(alice, a, b), ErrorCode::InvalidMedia);
}

#[test]
fn new_and_next_allocate_the_sides_of_a_two_sided_medium() {
    let mut w = World::new();
    let alice = w.session("alice");
    let spec = LibrarySpec {
        name: "mo".into(),
        kind: LibraryKind::Changer,
        drives: 1,
        slots: 4,
        ie_ports: 0,
        barcodes: vec!["MO0001".into()],
        media_type: named("MO-2SIDED"),
        unlabelled: Vec::new(),
    };
    w.ok(Command::CreateLibrary { session: alice, spec });
    let pool = create_pool(&mut w, alice, "Disks", Some(named("MO-2SIDED")));
    w.ok(Command::MoveToMediaPool { session: alice, media: w.media("MO0001"), pool });
    let new = AllocateOptions { new: true, ..Default::default() };
    let (_, events) =
        w.ok(Command::AllocateMedia { session: alice, pool, side: None, options: new, wait: AllocationWait::NoWait });
    let Event::SideAllocated { lmid: first, .. } = events[0] else { panic!("{events:?}") };
    let m = &w.state.media[&w.media("MO0001")];
    assert_eq!((m.sides[0].state, m.sides[1].state), (SideState::Allocated, SideState::Reserved));
    // A plain allocation does not take a reserved side.
    w.rejects(
        Command::AllocateMedia {
            session: alice,
            pool,
            side: None,
            options: AllocateOptions::default(),
            wait: AllocationWait::NoWait,
        },
        ErrorCode::MediaUnavailable,
    );
    let next = AllocateOptions { next: Some(first), ..Default::default() };
    w.ok(Command::AllocateMedia { session: alice, pool, side: None, options: next, wait: AllocationWait::NoWait });
    let m = &w.state.media[&w.media("MO0001")];
    assert_eq!((m.sides[0].state, m.sides[1].state), (SideState::Allocated, SideState::Allocated));
    w.rejects(
        Command::AllocateMedia { session: alice, pool, side: None, options: next, wait: AllocationWait::NoWait },
        ErrorCode::InvalidMedia,
    );
}

#[test]
fn mount_refuses_what_the_side_or_the_drives_forbid() {
    let (mut w, alice, lib) = world();
    let mount = |session, media, write| Command::MountMedia {
        session,
        media,
        options: MountOptions { write, ..Default::default() },
    };
    // Complete: readable, not writable.
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    let m = w.media("LA0001L8");
    w.ok(Command::MoveToMediaPool { session: alice, media: m, pool: daily });
    let lmid = allocate(&mut w, alice, daily);
    w.ok(Command::SetMediaComplete { session: alice, lmid });
    w.rejects(mount(alice, m, true), ErrorCode::WriteProtect);
    let read = w.mount(alice, "LA0001L8", None);
    w.work(lib);
    w.finish(read);
    // Decommissioned: never mounted.
    let retired = w.media("LA0003L8");
    w.ok(Command::DecommissionMedia { session: alice, side: SideId::of(retired, 0) });
    w.rejects(mount(alice, retired, false), ErrorCode::InvalidState);
    // An LTO-6 cartridge adopted by an LTO-8 library: no drive reads it.
    let old = w.session("old");
    let spec = LibrarySpec {
        name: "lb".into(),
        kind: LibraryKind::Changer,
        drives: 1,
        slots: 2,
        ie_ports: 0,
        barcodes: vec!["OLD001L6".into()],
        media_type: named("LTO-6"),
        unlabelled: Vec::new(),
    };
    let lb = w.ok(Command::CreateLibrary { session: old, spec }).1;
    let Event::LibraryCreated { topology, .. } = &lb[0] else { panic!("{lb:?}") };
    let lb = topology.id;
    w.ok(Command::SetEnabled { session: old, object: ObjectRef::Library(lb), enabled: false });
    w.ok(Command::DeleteLibrary { session: old, library: lb });
    let spec = LibrarySpec {
        name: "lc".into(),
        kind: LibraryKind::Changer,
        drives: 1,
        slots: 2,
        ie_ports: 0,
        barcodes: vec!["OLD001L6".into()],
        media_type: lto8(),
        unlabelled: Vec::new(),
    };
    w.ok(Command::CreateLibrary { session: alice, spec });
    let adopted = w.media("OLD001L6");
    assert_eq!(w.state.media[&adopted].media_type, named("LTO-6"), "a known cartridge keeps its type");
    w.rejects(mount(alice, adopted, false), ErrorCode::MediaIncompatible);
}

/// Found by the demo: allocation handed out a free cartridge another
/// session held mounted (by bar code), and the application's own mount
/// of it then failed ERROR_BUSY.
#[test]
fn allocation_never_picks_a_cartridge_a_session_holds_or_a_request_moves() {
    let (mut w, alice, lib) = world();
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    w.ok(Command::SetPoolPolicy {
        session: alice,
        pool: daily,
        from_scratch: true,
        to_scratch: false,
        max_allocates: 0,
    });
    let held = w.mount(alice, "LA0001L8", None);
    w.work(lib);
    w.finish(held);
    w.mount(alice, "LA0002L8", None);
    let lmid = allocate(&mut w, alice, daily);
    assert_eq!(w.state.logical_medium(lmid).map(|(m, _)| m.barcode.clone()), Some("LA0003L8".into()));
}

/// Regression (found by a user's test): a principal with no right on a
/// library took its scratch cartridges into a pool of its own and retired
/// them for ever. A system pool's rights over a cartridge are those on its
/// library.
#[test]
fn scratch_cartridges_belong_to_their_librarys_users() {
    let (mut w, alice, _) = world();
    let eve = w.session("eve");
    let mine = create_pool(&mut w, eve, "Eve", Some(lto8()));
    w.ok(Command::SetPoolPolicy { session: eve, pool: mine, from_scratch: true, to_scratch: false, max_allocates: 0 });
    w.rejects(
        Command::AllocateMedia {
            session: eve,
            pool: mine,
            side: None,
            options: AllocateOptions::default(),
            wait: AllocationWait::NoWait,
        },
        ErrorCode::MediaUnavailable,
    );
    let m = w.media("LA0002L8");
    w.rejects(Command::DecommissionMedia { session: eve, side: SideId::of(m, 0) }, ErrorCode::AccessDenied);
    w.rejects(Command::MoveToMediaPool { session: eve, media: m, pool: mine }, ErrorCode::AccessDenied);
    w.rejects(
        Command::AllocateMedia {
            session: eve,
            pool: mine,
            side: Some(SideId::of(m, 0)),
            options: AllocateOptions::default(),
            wait: AllocationWait::NoWait,
        },
        ErrorCode::AccessDenied,
    );
    // With USE on the library, the free pool is hers to draw from.
    let lib = w.state.library_named("la").expect("la").id;
    w.grant(alice, lib, "eve", AccessMask::USE);
    allocate(&mut w, eve, mine);
}

/// Regression (found by a user's test): completing one side of a two-sided
/// cartridge refused writes to its other, allocated side; and a retired
/// cartridge could be moved back into the free pool.
#[test]
fn complete_is_per_side_and_retired_media_stay_out_of_scratch() {
    let mut w = World::new();
    let alice = w.session("alice");
    let spec = LibrarySpec {
        name: "mo".into(),
        kind: LibraryKind::Changer,
        drives: 1,
        slots: 4,
        ie_ports: 0,
        barcodes: vec!["MO0001".into(), "MO0002".into()],
        media_type: named("MO-2SIDED"),
        unlabelled: Vec::new(),
    };
    w.ok(Command::CreateLibrary { session: alice, spec });
    let pool = create_pool(&mut w, alice, "Disks", Some(named("MO-2SIDED")));
    w.ok(Command::MoveToMediaPool { session: alice, media: w.media("MO0001"), pool });
    let new = AllocateOptions { new: true, ..Default::default() };
    let (_, events) =
        w.ok(Command::AllocateMedia { session: alice, pool, side: None, options: new, wait: AllocationWait::NoWait });
    let Event::SideAllocated { lmid: first, .. } = events[0] else { panic!("{events:?}") };
    let next = AllocateOptions { next: Some(first), ..Default::default() };
    w.ok(Command::AllocateMedia { session: alice, pool, side: None, options: next, wait: AllocationWait::NoWait });
    w.ok(Command::SetMediaComplete { session: alice, lmid: first });
    let write = MountOptions { write: true, ..Default::default() };
    w.ok(Command::MountMedia { session: alice, media: w.media("MO0001"), options: write });
    let other = w.media("MO0002");
    w.ok(Command::DecommissionMedia { session: alice, side: SideId::of(other, 0) });
    w.ok(Command::MoveToMediaPool { session: alice, media: other, pool });
    w.rejects(
        Command::MoveToMediaPool { session: alice, media: other, pool: SystemPools::of(named("MO-2SIDED")).free },
        ErrorCode::InvalidMediaPool,
    );
}

/// Regression (found by a user's test): pool names differing only in the
/// case of non-ASCII letters were taken for different pools.
#[test]
fn pool_names_are_case_insensitive_beyond_ascii() {
    let (mut w, alice, _) = world();
    create_pool(&mut w, alice, "Café", None);
    w.rejects(
        Command::CreateMediaPool {
            session: alice,
            path: "CAFÉ".into(),
            media_type: None,
            action: PoolAction::CreateNew,
        },
        ErrorCode::AlreadyExists,
    );
    for bad in [".", "..", "Café\\.."] {
        w.rejects(
            Command::CreateMediaPool {
                session: alice,
                path: bad.into(),
                media_type: None,
                action: PoolAction::OpenAlways,
            },
            ErrorCode::InvalidName,
        );
    }
}

#[test]
fn create_media_codes_and_an_offline_record() {
    let (mut w, alice, _) = world();
    // Offline records need MODIFY on the computer: alice administers it here.
    w.policy.administrator = Some("alice".into());
    let import = SystemPools::of(lto8()).import;
    let create = |session, barcode: &str, pool, sides: Vec<SideState>| Command::CreateMedia {
        session,
        barcode: barcode.into(),
        pool,
        sides,
        labels: Vec::new(),
        error_on_duplicate: false,
    };
    w.rejects(create(alice, "NEW001L8", PoolId::NIL, vec![SideState::Import]), ErrorCode::InvalidParameter);
    w.rejects(create(alice, "NEW001L8", import, vec![]), ErrorCode::InvalidParameter);
    w.rejects(create(alice, "bad\tcode", import, vec![SideState::Import]), ErrorCode::InvalidParameter);
    w.rejects(create(alice, "LA0001L8", import, vec![SideState::Import]), ErrorCode::InvalidMedia);
    w.rejects(
        create(alice, "NEW001L8", PoolId(uuid::Uuid::from_u128(3)), vec![SideState::Import]),
        ErrorCode::InvalidMediaPool,
    );
    w.rejects(
        create(alice, "NEW001L8", SystemPools::of(lto8()).free, vec![SideState::Available]),
        ErrorCode::InvalidMediaPool,
    );
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    let bob = w.session("bob");
    w.rejects(create(bob, "NEW001L8", daily, vec![SideState::Available]), ErrorCode::AccessDenied);
    w.rejects(create(alice, "NEW001L8", daily, vec![SideState::Available; 2]), ErrorCode::MediaIncompatible);
    w.rejects(create(alice, "NEW001L8", daily, vec![SideState::Reserved]), ErrorCode::InvalidParameter);
    w.rejects(create(alice, "NEW001L8", daily, vec![SideState::Import]), ErrorCode::InvalidParameter);
    // From another server: offline, in an import pool (MODIFY on the
    // computer needed); and one still allocated.
    w.rejects(create(bob, "NEW001L8  ", import, vec![SideState::Import]), ErrorCode::AccessDenied);
    w.ok(Command::SetObjectAccess {
        session: alice,
        object: ObjectRef::Computer,
        principal: "bob".into(),
        rights: AccessMask::MODIFY,
        grant: true,
    });
    w.ok(create(bob, "NEW001L8  ", import, vec![SideState::Import]));
    let m = w.state.medium_by_barcode("NEW001L8").expect("trailing spaces removed").clone();
    // Regression: an offline medium's bar code was taken for a free one.
    w.rejects(create(alice, "NEW001L8", import, vec![SideState::Import]), ErrorCode::InvalidMedia);
    assert_eq!((m.library, m.location, m.pool), (LibraryId::OFFLINE, Location::Offline, import));
    w.ok(create(alice, "NEW002L8", daily, vec![SideState::Allocated]));
    let m = w.state.medium_by_barcode("NEW002L8").expect("created").clone();
    assert!(m.sides[0].lmid.is_some_and(|l| w.state.logical_medium(l).is_some()), "an allocated side gets its LMID");
}

#[test]
fn delete_media_codes() {
    let (mut w, alice, _) = world();
    // Offline records need MODIFY on the computer: alice administers it here.
    w.policy.administrator = Some("alice".into());
    let import = SystemPools::of(lto8()).import;
    w.ok(Command::CreateMedia {
        session: alice,
        barcode: "OFF001L8".into(),
        pool: import,
        sides: vec![SideState::Import],
        labels: Vec::new(),
        error_on_duplicate: false,
    });
    let delete = |session, media| Command::DeleteMedia { session, media };
    w.rejects(delete(alice, MediaId::NIL), ErrorCode::InvalidParameter);
    w.rejects(delete(alice, MediaId(uuid::Uuid::from_u128(7))), ErrorCode::InvalidMedia);
    w.rejects(delete(alice, w.media("LA0001L8")), ErrorCode::InvalidState);
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    w.ok(Command::CreateMedia {
        session: alice,
        barcode: "OFF002L8".into(),
        pool: daily,
        sides: vec![SideState::Allocated],
        labels: Vec::new(),
        error_on_duplicate: false,
    });
    w.rejects(delete(alice, w.media("OFF002L8")), ErrorCode::InvalidState);
    let bob = w.session("bob");
    w.rejects(delete(bob, w.media("OFF002L8")), ErrorCode::AccessDenied);
    let off = w.media("OFF001L8");
    // Another's offline record: MODIFY on the computer is needed.
    w.rejects(delete(bob, off), ErrorCode::AccessDenied);
    w.ok(Command::SetObjectAccess {
        session: alice,
        object: ObjectRef::Computer,
        principal: "bob".into(),
        rights: AccessMask::MODIFY,
        grant: true,
    });
    w.ok(delete(bob, off));
    assert!(w.state.medium_by_barcode("OFF001L8").is_none() && !w.state.sides.contains_key(&SideId::of(off, 0)));
}

#[test]
fn change_media_type_codes() {
    let (mut w, alice, lib) = world();
    let change = |session, media, pool| Command::ChangeMediaType { session, media, pool };
    let m = w.media("LA0001L8");
    let lto7 = create_pool(&mut w, alice, "Seven", Some(named("LTO-7")));
    w.rejects(change(alice, MediaId::NIL, lto7), ErrorCode::InvalidParameter);
    w.rejects(change(alice, MediaId(uuid::Uuid::from_u128(4)), lto7), ErrorCode::InvalidMedia);
    w.rejects(change(alice, m, PoolId(uuid::Uuid::from_u128(4))), ErrorCode::InvalidMediaPool);
    let bob = w.session("bob");
    w.rejects(change(bob, m, lto7), ErrorCode::AccessDenied);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: false });
    w.rejects(change(alice, m, lto7), ErrorCode::LibraryOffline);
    w.ok(Command::SetEnabled { session: alice, object: ObjectRef::Library(lib), enabled: true });
    w.rejects(change(alice, m, SystemPools::of(named("LTO-7")).import), ErrorCode::InvalidMediaPool);
    let mo = create_pool(&mut w, alice, "Disks", Some(named("MO-2SIDED")));
    w.rejects(change(alice, m, mo), ErrorCode::MediaIncompatible);
    w.ok(change(alice, m, lto7));
    let now = &w.state.media[&m];
    assert_eq!((now.media_type, now.pool), (named("LTO-7"), lto7));
    w.mount(alice, "LA0002L8", None);
    w.rejects(change(alice, w.media("LA0002L8"), lto7), ErrorCode::Busy);
}

/// AllocateNtmsMedia's wait (spec §3.2, §6.3): nothing to allocate raises
/// one NTMS_OPREQ_NEWMEDIA; a retry finds nothing yet, then finds a side
/// and completes the request; the caller's timeout withdraws it (REFUSED,
/// ERROR_TIMEOUT), after which a retry is ERROR_CANCELLED; closing the
/// session withdraws it too (ERROR_CANCELLED).
#[test]
fn an_allocation_that_finds_nothing_raises_a_new_media_request_and_waits_on_it() {
    let (mut w, alice, _) = world();
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    let alloc = |session, wait, options| Command::AllocateMedia { session, pool: daily, side: None, options, wait };
    let plain = AllocateOptions::default();
    // A zero timeout, or ERROR_IF_UNAVAILABLE, never waits.
    w.rejects(alloc(alice, AllocationWait::NoWait, plain), ErrorCode::MediaUnavailable);
    let no_operator = AllocateOptions { error_if_unavailable: true, ..plain };
    w.rejects(alloc(alice, AllocationWait::Raise, no_operator), ErrorCode::MediaUnavailable);
    assert!(w.state.operator_requests.is_empty());

    let (_, events) = w.ok(alloc(alice, AllocationWait::Raise, plain));
    let [Event::OperatorRequestSubmitted { request }] = events.as_slice() else { panic!("{events:?}") };
    let wanted = request.id;
    assert_eq!(request.kind, OperatorRequestKind::NewMedia { pool: daily });
    assert_eq!((request.state, request.kind.command().ntms_value()), (OperatorRequestState::Submitted, 1));
    assert!(request.text.contains("\\Daily"), "{}", request.text);
    // Still nothing: the caller waits on.
    w.rejects(alloc(alice, AllocationWait::Retry(wanted), plain), ErrorCode::MediaUnavailable);
    // Someone else's request, or none, is not a request to wait on.
    let bob = w.session("bob");
    w.rejects(alloc(bob, AllocationWait::Retry(wanted), plain), ErrorCode::AccessDenied);
    let unknown = OperatorRequestId(uuid::Uuid::from_u128(77));
    w.rejects(alloc(alice, AllocationWait::Retry(unknown), plain), ErrorCode::ObjectNotFound);
    // Media arrive (the pool now draws from scratch): the retry allocates
    // and the need is met.
    w.ok(Command::SetPoolPolicy {
        session: alice,
        pool: daily,
        from_scratch: true,
        to_scratch: false,
        max_allocates: 0,
    });
    let (_, events) = w.ok(alloc(alice, AllocationWait::Retry(wanted), plain));
    assert!(
        matches!(
            events.as_slice(),
            [
                Event::SideAllocated { .. },
                Event::OperatorRequestClosed { state: OperatorRequestState::Complete, reason: None, .. }
            ]
        ),
        "{events:?}"
    );
    assert_eq!(w.state.operator_requests[&wanted].state, OperatorRequestState::Complete);

    // A timeout withdraws the request; a retry after that is cancelled.
    w.ok(Command::SetPoolPolicy {
        session: alice,
        pool: daily,
        from_scratch: false,
        to_scratch: false,
        max_allocates: 0,
    });
    let timed_out = raise_new_media_request(&mut w, alice, daily);
    let withdraw = |session, request, reason| Command::WithdrawOperatorRequest { session, request, reason };
    w.rejects(withdraw(alice, timed_out, ErrorCode::Success), ErrorCode::InvalidParameter);
    w.rejects(withdraw(bob, timed_out, ErrorCode::Timeout), ErrorCode::AccessDenied);
    w.rejects(withdraw(alice, unknown, ErrorCode::Timeout), ErrorCode::ObjectNotFound);
    w.ok(withdraw(alice, timed_out, ErrorCode::Timeout));
    let r = &w.state.operator_requests[&timed_out];
    assert_eq!((r.state, r.reason), (OperatorRequestState::Refused, Some(ErrorCode::Timeout)));
    w.rejects(withdraw(alice, timed_out, ErrorCode::Timeout), ErrorCode::InvalidState);
    w.rejects(alloc(alice, AllocationWait::Retry(timed_out), plain), ErrorCode::Cancelled);

    // Closing the session withdraws what it still waits on.
    let orphan = raise_new_media_request(&mut w, alice, daily);
    w.ok(Command::CloseSession { session: alice });
    let r = &w.state.operator_requests[&orphan];
    assert_eq!((r.state, r.reason), (OperatorRequestState::Refused, Some(ErrorCode::Cancelled)));
    w.state.check_invariants().expect("invariants");
}

/// Deleting a pool refuses the new-media requests waiting on it: the
/// waiting allocation answers ERROR_CANCELLED.
#[test]
fn deleting_a_pool_refuses_the_requests_for_media_in_it() {
    let (mut w, alice, _) = world();
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    let id = raise_new_media_request(&mut w, alice, daily);
    w.ok(Command::DeleteMediaPool { session: alice, pool: daily });
    let r = &w.state.operator_requests[&id];
    assert_eq!((r.state, r.reason), (OperatorRequestState::Refused, Some(ErrorCode::Cancelled)));
    w.state.check_invariants().expect("invariants");
}

/// UpdateNtmsOmidInfo: every code of its table, a raw label claimed by a
/// media label library, file-system information, and the identifier on
/// the side.
#[test]
fn update_omid_info_codes_and_the_identifier_it_records() {
    let (mut w, alice, _) = world();
    let daily = create_pool(&mut w, alice, "Daily", Some(lto8()));
    w.ok(Command::SetPoolPolicy {
        session: alice,
        pool: daily,
        from_scratch: true,
        to_scratch: false,
        max_allocates: 0,
    });
    let lmid = allocate(&mut w, alice, daily);
    let update = |session, lmid, label| Command::UpdateOmid { session, lmid, label };
    let bacula = OmidLabel::Raw(vol1("BAC001", "Bacula", "backup"));
    w.rejects(update(SessionId(uuid::Uuid::from_u128(99)), lmid, bacula.clone()), ErrorCode::InvalidHandle);
    w.rejects(update(alice, LogicalMediaId::NIL, bacula.clone()), ErrorCode::InvalidParameter);
    w.rejects(update(alice, lmid, OmidLabel::Raw(Vec::new())), ErrorCode::InvalidParameter);
    w.rejects(update(alice, lmid, OmidLabel::Raw(vec![b'x'; LABEL_BYTES_MAX + 1])), ErrorCode::InvalidParameter);
    let bad_fs = OmidLabel::FileSystem { file_system: String::new(), volume: "v".into(), serial: 1 };
    w.rejects(update(alice, lmid, bad_fs), ErrorCode::InvalidParameter);
    let control = OmidLabel::FileSystem { file_system: "UDF".into(), volume: "a\u{1b}[2J".into(), serial: 1 };
    w.rejects(update(alice, lmid, control), ErrorCode::InvalidParameter);
    w.rejects(update(alice, LogicalMediaId(uuid::Uuid::from_u128(5)), bacula.clone()), ErrorCode::InvalidMedia);
    let bob = w.session("bob");
    w.rejects(update(bob, lmid, bacula.clone()), ErrorCode::AccessDenied);
    w.rejects(update(alice, lmid, OmidLabel::Raw(b"tar data".to_vec())), ErrorCode::BadFormat);
    w.ok(update(alice, lmid, bacula));
    let omid = side_of(&w, lmid).omid.expect("recorded");
    assert_eq!((omid.label_type.as_str(), omid.display().as_str()), ("ANSI", "ANSI:BAC001"));
    w.ok(update(
        alice,
        lmid,
        OmidLabel::FileSystem { file_system: "LTFS".into(), volume: "ARCHIVE".into(), serial: 0xBEEF },
    ));
    assert_eq!(side_of(&w, lmid).omid.expect("recorded").display(), "LTFS:ARCHIVE:0000BEEF");
    w.state.check_invariants().expect("invariants");
}

/// CreateNtmsMedia's on-media identifiers: claimed labels, one per side;
/// NTMS_ERROR_ON_DUPLICATE refuses a label another medium has.
#[test]
fn create_media_records_labels_and_refuses_duplicates_when_asked() {
    let (mut w, alice, _) = world();
    // Offline records need MODIFY on the computer: alice administers it here.
    w.policy.administrator = Some("alice".into());
    let import = SystemPools::of(lto8()).import;
    let create = |barcode: &str, labels: Vec<Option<Vec<u8>>>, error_on_duplicate| Command::CreateMedia {
        session: alice,
        barcode: barcode.into(),
        pool: import,
        sides: vec![SideState::Import],
        labels,
        error_on_duplicate,
    };
    let label = vol1("ARC001", "", "vault");
    w.rejects(create("OFF001L8", vec![None, None], false), ErrorCode::InvalidParameter);
    w.rejects(create("OFF001L8", vec![Some(b"no label".to_vec())], false), ErrorCode::InvalidParameter);
    w.ok(create("OFF001L8", vec![Some(label.clone())], true));
    let m = w.media("OFF001L8");
    assert_eq!(w.state.media[&m].sides[0].omid.as_deref().map(Omid::display).as_deref(), Some("ANSI:ARC001"));
    w.rejects(create("OFF002L8", vec![Some(label.clone())], true), ErrorCode::InvalidMedia);
    // Without NTMS_ERROR_ON_DUPLICATE a copy of a tape may carry the same label.
    w.ok(create("OFF002L8", vec![Some(label)], false));
    w.state.check_invariants().expect("invariants");
}
