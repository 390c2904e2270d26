//! MountNtmsMedia of an offline cartridge (spec §3.2, §6.3): it waits for
//! the operator to bring it (NTMS_OPREQ_MOVEMEDIA), and the operator
//! request's end decides the mount's: the cartridge back in a slot (the
//! request completed by rsm), refused, timed out, cancelled.

mod common;

use common::World;
use rsm_model::*;

/// A library whose cartridge LA0001L8 an inventory found gone (offline).
fn with_an_offline_cartridge() -> (World, SessionId, LibraryId, u16) {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let slot = w.state.slots[&w.state.libraries[&lib].slots[0]].element_address;
    w.ok(Command::RecordInventory {
        session: Some(alice),
        library: lib,
        observed: vec![(slot, Seen::Empty)],
        method: InventoryMethod::Fast,
    });
    assert_eq!(w.state.media[&w.media("LA0001L8")].location, Location::Offline);
    (w, alice, lib, slot)
}

fn mount(w: &mut World, session: SessionId, options: MountOptions) -> Result<(RequestId, Vec<Event>), NtmsError> {
    let media = w.media("LA0001L8");
    w.run(Command::MountMedia { session, media, options })
}

fn move_request(w: &World) -> &OperatorRequest {
    w.state
        .operator_requests
        .values()
        .find(|o| matches!(o.kind, OperatorRequestKind::MoveMedia { .. }))
        .expect("a move-media operator request")
}

#[test]
fn error_offline_refuses_at_once_and_a_set_never_waits_for_the_operator() {
    let (mut w, alice, _, _) = with_an_offline_cartridge();
    let e = mount(&mut w, alice, MountOptions { error_if_offline: true, ..Default::default() }).unwrap_err();
    assert_eq!(e.kind(), ErrorCode::MediaOffline);
    let set = Command::MountMediaSet {
        session: alice,
        media: vec![w.media("LA0001L8"), w.media("LA0002L8")],
        drives: vec![],
        options: MountOptions::default(),
    };
    w.rejects(set, ErrorCode::MediaOffline);
    assert!(w.state.operator_requests.is_empty());
}

#[test]
fn the_mount_waits_for_the_operator_and_runs_once_the_cartridge_is_back() {
    let (mut w, alice, lib, slot) = with_an_offline_cartridge();
    let (request, events) = mount(&mut w, alice, MountOptions::default()).unwrap();
    assert!(
        matches!(
            events[..],
            [Event::MountWaiting { .. }, Event::OperatorRequestSubmitted { .. }, Event::MountAwaitsMedium { .. }]
        ),
        "{events:?}"
    );
    let asked = move_request(&w).clone();
    assert_eq!(asked.kind, OperatorRequestKind::MoveMedia { media: w.media("LA0001L8"), library: Some(lib) });
    assert_eq!(asked.session, alice);
    assert_eq!(w.request(request).state, RequestState::Waiting);
    // Nobody else may take it meanwhile, nor delete it.
    let bob = w.session("bob");
    w.grant(alice, lib, "bob", AccessMask::ALL);
    assert_eq!(mount(&mut w, bob, MountOptions::default()).unwrap_err().kind(), ErrorCode::Busy);
    w.rejects(Command::DeleteMedia { session: alice, media: w.media("LA0001L8") }, ErrorCode::InvalidState);
    // While it is offline the mount goes on waiting.
    w.work(lib);
    assert_eq!(w.request(request).state, RequestState::Waiting);

    // The operator put it back; the inventory sees it; the mount gets it.
    w.ok(Command::RecordInventory {
        session: Some(alice),
        library: lib,
        observed: vec![(slot, Seen::Cartridge("LA0001L8".into()))],
        method: InventoryMethod::Fast,
    });
    w.work(lib);
    assert_eq!(w.request(request).state, RequestState::Passed);
    assert_eq!(w.state.operator_requests[&asked.id].state, OperatorRequestState::Complete, "its need was met");
    assert!(w.state.awaiting_media.is_empty());
}

#[test]
fn a_refused_operator_request_fails_the_mount() {
    let (mut w, alice, _, _) = with_an_offline_cartridge();
    let admin = w.session("root");
    w.policy.administrator = Some("root".into());
    let (request, _) = mount(&mut w, alice, MountOptions::default()).unwrap();
    let asked = move_request(&w).id;
    let events = w.ok(Command::CancelOperatorRequest { session: admin, request: asked }).1;
    assert!(events.iter().any(|e| matches!(e, Event::MountRefusedByOperator { .. })), "{events:?}");
    let r = w.request(request);
    assert_eq!((r.state, r.error), (RequestState::Failed, Some(ErrorCode::RequestRefused.code())));
    // The cartridge is free again for the next caller.
    let (again, _) = mount(&mut w, alice, MountOptions::default()).unwrap();
    assert_eq!(w.request(again).state, RequestState::Waiting);
}

#[test]
fn a_timeout_or_a_cancel_withdraws_the_operator_request() {
    let (mut w, alice, _, _) = with_an_offline_cartridge();
    let (request, _) = mount(&mut w, alice, MountOptions { timeout_ms: Some(1_000), ..Default::default() }).unwrap();
    let asked = move_request(&w).id;
    w.now_ms += 2_000;
    w.ok(Command::Tick);
    let r = w.request(request);
    assert_eq!((r.state, r.error), (RequestState::Cancelled, Some(ErrorCode::Timeout.code())));
    let o = &w.state.operator_requests[&asked];
    assert_eq!((o.state, o.reason), (OperatorRequestState::Refused, Some(ErrorCode::Timeout)));

    let (request, _) = mount(&mut w, alice, MountOptions::default()).unwrap();
    let asked = w.state.awaiting_media[&request];
    w.ok(Command::CancelRequest { session: alice, request });
    let o = &w.state.operator_requests[&asked];
    assert_eq!((o.state, o.reason), (OperatorRequestState::Refused, Some(ErrorCode::Cancelled)));
    // A closed session takes its waiting mount and its operator request with it.
    let (request, _) = mount(&mut w, alice, MountOptions::default()).unwrap();
    let asked = w.state.awaiting_media[&request];
    w.ok(Command::CloseSession { session: alice });
    assert_eq!(w.request(request).state, RequestState::Cancelled);
    assert_eq!(w.state.operator_requests[&asked].state, OperatorRequestState::Refused);
}

/// Regression (found by the binary test): an inject of the awaited
/// cartridge promised it to the inject while the mount still named it, and
/// the invariants counted two promises.
#[test]
fn an_inject_brings_the_awaited_cartridge_back() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 2);
    let media = w.media("LA0001L8");
    let eject = w.ok(Command::EjectMedia { session: alice, media }).0;
    w.work(lib);
    assert_eq!(w.request(eject).state, RequestState::Passed);
    let port = w.state.ports[&w.state.libraries[&lib].ports[0]].element_address;
    w.ok(Command::RecordInventory {
        session: Some(alice),
        library: lib,
        observed: vec![(port, Seen::Empty)],
        method: InventoryMethod::Fast,
    });
    let (request, _) = mount(&mut w, alice, MountOptions::default()).unwrap();
    w.ok(Command::InjectMedia {
        session: alice,
        library: lib,
        found: vec![(port, Seen::Cartridge("LA0001L8".into()))],
    });
    w.work(lib);
    assert_eq!(w.request(request).state, RequestState::Passed);
}
