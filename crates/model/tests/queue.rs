//! The library request queue (spec §3.3 CancelNtmsLibraryRequest,
//! Get/SetNtmsRequestOrder, DeleteNtmsRequests; §5.3 the mount order and
//! its fairness): a row per code, the effect on the views, and property
//! tests of the order.

mod common;

use common::World;
use proptest::prelude::*;
use rsm_model::*;

/// A changer `lq` with one drive held by `holder`'s mount of LQ0001L8, so
/// that every later mount waits; `n` cartridges in all.
fn busy_library(n: usize) -> (World, SessionId, LibraryId) {
    let mut w = World::new();
    let holder = w.session("holder");
    let lib = w.changer(holder, "lq", 1, n as u32 + 2, n);
    w.mount(holder, "LQ0001L8", None);
    w.work(lib);
    (w, holder, lib)
}

fn mount(w: &mut World, session: SessionId, barcode: &str, priority: i8) -> RequestId {
    let media = w.media(barcode);
    let options = MountOptions { priority, ..Default::default() };
    w.ok(Command::MountMedia { session, media, options }).0
}

fn order(w: &World, lib: LibraryId) -> Vec<RequestId> {
    w.state.libraries[&lib].mount_order.iter().map(|(r, _)| *r).collect()
}

#[test]
fn cancel_request_codes() {
    let (mut w, holder, lib) = busy_library(4);
    let waiting = mount(&mut w, holder, "LQ0002L8", 0);
    w.rejects(
        Command::CancelRequest { session: SessionId(uuid::Uuid::from_u128(99)), request: waiting },
        ErrorCode::InvalidHandle,
    );
    w.rejects(Command::CancelRequest { session: holder, request: RequestId::NIL }, ErrorCode::InvalidParameter);
    w.rejects(
        Command::CancelRequest { session: holder, request: RequestId(uuid::Uuid::from_u128(5)) },
        ErrorCode::ObjectNotFound,
    );
    let guest = w.session("guest");
    w.grant(holder, lib, "guest", AccessMask::USE.with(AccessMask::MODIFY));
    w.rejects(Command::CancelRequest { session: guest, request: waiting }, ErrorCode::AccessDenied);
    // In process: it finishes, it is not cancelled.
    w.ok(Command::DismountMedia { session: holder, media: w.media("LQ0001L8"), deferred: false });
    let dismount = w.state.libraries[&lib]
        .active_requests
        .iter()
        .copied()
        .find(|r| w.state.requests[r].kind == RequestKind::Dismount)
        .expect("queued");
    w.ok(Command::StartNext { library: lib });
    w.rejects(Command::CancelRequest { session: holder, request: dismount }, ErrorCode::InvalidState);
    // Success: cancelled, its cartridge free, its order number gone.
    let (_, events) = w.ok(Command::CancelRequest { session: holder, request: waiting });
    assert!(matches!(events.as_slice(), [Event::RequestCancelled { .. }]), "{events:?}");
    assert_eq!(w.request(waiting).state, RequestState::Cancelled);
    assert_eq!(w.state.media[&w.media("LQ0002L8")].pending_request, None);
    assert_eq!(request_order(&w.state, waiting), 0);
    // Finished: not found.
    w.rejects(Command::CancelRequest { session: holder, request: waiting }, ErrorCode::ObjectNotFound);
    w.state.check_invariants().expect("invariants");
}

#[test]
fn request_order_codes_and_effect() {
    let (mut w, holder, lib) = busy_library(5);
    let a = mount(&mut w, holder, "LQ0002L8", 0);
    let b = mount(&mut w, holder, "LQ0003L8", 0);
    let c = mount(&mut w, holder, "LQ0004L8", 0);
    assert_eq!([a, b, c].map(|r| request_order(&w.state, r)), [1, 2, 3]);
    let set = |session, request, position| Command::SetRequestOrder { session, request, position };
    w.rejects(set(SessionId(uuid::Uuid::from_u128(99)), c, 1), ErrorCode::InvalidHandle);
    w.rejects(set(holder, c, 0), ErrorCode::InvalidParameter);
    w.rejects(set(holder, RequestId::NIL, 1), ErrorCode::InvalidParameter);
    w.rejects(set(holder, RequestId(uuid::Uuid::from_u128(5)), 1), ErrorCode::ObjectNotFound);
    w.rejects(set(holder, c, 1), ErrorCode::AccessDenied);
    w.policy.administrator = Some("holder".into());
    // Not orderable: the mount that completed (order number 0).
    let done = w.state.requests.values().find(|r| r.state == RequestState::Passed).expect("the first mount").id;
    assert_eq!(request_order(&w.state, done), 0);
    w.rejects(set(holder, done, 1), ErrorCode::InvalidState);
    w.ok(set(holder, c, 1));
    assert_eq!(order(&w, lib), [c, a, b]);
    w.ok(set(holder, c, u32::MAX));
    assert_eq!(order(&w, lib), [a, b, c]);
    // The drive frees up: the first in the order takes it.
    w.ok(set(holder, b, 1));
    w.ok(Command::DismountMedia { session: holder, media: w.media("LQ0001L8"), deferred: false });
    w.work(lib);
    assert_eq!(w.request(b).state, RequestState::Passed);
    assert_eq!([a, c].map(|r| request_order(&w.state, r)), [1, 2], "dense 1..n");
    w.state.check_invariants().expect("invariants");
}

#[test]
fn delete_requests_codes_and_effect() {
    let (mut w, holder, lib) = busy_library(3);
    let waiting = mount(&mut w, holder, "LQ0002L8", 0);
    let done = w.state.requests.values().find(|r| r.state == RequestState::Passed).expect("the first mount").id;
    let delete =
        |session, requests: Vec<RequestId>| Command::DeleteRequests { session, requests, operator_requests: vec![] };
    w.rejects(delete(SessionId(uuid::Uuid::from_u128(99)), vec![done]), ErrorCode::InvalidHandle);
    w.rejects(delete(holder, vec![]), ErrorCode::InvalidParameter);
    w.rejects(delete(holder, vec![done]), ErrorCode::AccessDenied);
    w.policy.administrator = Some("holder".into());
    // Unfinished and unknown ones are skipped without error.
    let (_, events) = w.ok(delete(holder, vec![waiting, RequestId(uuid::Uuid::from_u128(5))]));
    assert!(events.is_empty());
    w.ok(delete(holder, vec![done, waiting]));
    assert!(!w.state.requests.contains_key(&done) && w.state.requests.contains_key(&waiting));
    let _ = lib;
    w.state.check_invariants().expect("invariants");
}

/// Priority first; within a priority, round robin over sessions by arrival.
#[test]
fn the_mount_order_is_by_priority_then_round_robin_over_sessions() {
    let (mut w, holder, lib) = busy_library(9);
    let (s1, s2) = (w.session("one"), w.session("two"));
    for s in ["one", "two"] {
        w.grant(holder, lib, s, AccessMask::USE);
    }
    let a1 = mount(&mut w, s1, "LQ0002L8", 0);
    let a2 = mount(&mut w, s1, "LQ0003L8", 0);
    let a3 = mount(&mut w, s1, "LQ0004L8", 0);
    let b1 = mount(&mut w, s2, "LQ0005L8", 0);
    let urgent = mount(&mut w, s2, "LQ0006L8", 5);
    let b2 = mount(&mut w, s2, "LQ0007L8", 0);
    let low = mount(&mut w, s1, "LQ0008L8", -5);
    assert_eq!(order(&w, lib), [urgent, a1, b1, a2, b2, a3, low]);
    w.state.check_invariants().expect("invariants");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// With equal priorities, no mount has more than one mount of any other
    /// session ahead of it that arrived after it (round robin), and serving
    /// the head while newcomers keep arriving serves every mount in a
    /// bounded number of turns (no starvation).
    #[test]
    fn equal_priorities_are_served_round_robin_and_never_starve(
        arrivals in proptest::collection::vec(0..3usize, 1..30),
        newcomers in proptest::collection::vec(0..3usize, 0..30),
    ) {
        let (mut w, holder, lib) = busy_library(70);
        let sessions: Vec<SessionId> = ["s0", "s1", "s2"].iter().map(|p| { w.grant(holder, lib, p, AccessMask::USE); w.session(p) }).collect();
        let mut next = 2;
        let mut owner = std::collections::BTreeMap::new();
        let mut submit = |w: &mut World, who: usize, owner: &mut std::collections::BTreeMap<RequestId, usize>| {
            let barcode = format!("LQ{next:04}L8");
            next += 1;
            let id = mount(w, sessions[who], &barcode, 0);
            owner.insert(id, who);
            id
        };
        for who in &arrivals {
            submit(&mut w, *who, &mut owner);
        }
        // Round robin: before a session's first mount, and between two of
        // its mounts in a row, at most one mount of each other session.
        let now = order(&w, lib);
        for me in 0..3 {
            let mut between = [0usize; 3];
            for r in &now {
                if owner[r] == me {
                    between = [0; 3];
                    continue;
                }
                between[owner[r]] += 1;
                let mine_later = now.iter().skip_while(|x| *x != r).any(|x| owner[x] == me);
                prop_assert!(!mine_later || between[owner[r]] <= 1, "session {} waits behind two of session {}: {:?}", me, owner[r], now);
            }
        }
        // Serve the head, one newcomer arriving per turn: the first mount of
        // the first wave is served within (its position + newcomers) turns.
        let target = *now.last().expect("one at least");
        let bound = now.len() + newcomers.len();
        let mut turns = 0;
        let mut arrivals = newcomers.iter();
        while order(&w, lib).contains(&target) {
            prop_assert!(turns <= bound, "starved after {} turns", turns);
            let head = order(&w, lib)[0];
            w.ok(Command::CancelRequest { session: holder, request: head });
            if let Some(who) = arrivals.next() { submit(&mut w, *who, &mut owner); }
            turns += 1;
        }
        w.state.check_invariants().map_err(TestCaseError::fail)?;
    }
}

/// The purge (spec §5.4, §6.3): finished requests leave the views once the
/// computer's purge time has passed, unless NOAUTOPURGE, or, for failed
/// library requests and refused operator requests, NOFAILEDPURGE; the
/// settings are the computer's (MODIFY).
#[test]
fn finished_requests_are_purged_after_the_computers_purge_time() {
    let (mut w, holder, _) = busy_library(3);
    let set = |field| Command::SetObjectInformation { session: holder, object: ObjectRef::Computer, field };
    w.rejects(set(InfoField::LibRequestPurgeTime(60)), ErrorCode::AccessDenied);
    w.policy.administrator = Some("holder".into());
    w.rejects(set(InfoField::LibRequestFlags(0x4)), ErrorCode::InvalidParameter);
    w.ok(set(InfoField::LibRequestPurgeTime(60)));
    w.ok(set(InfoField::OpRequestPurgeTime(60)));
    let passed = w.state.requests.values().find(|r| r.state == RequestState::Passed).expect("the first mount").id;
    let waiting = mount(&mut w, holder, "LQ0002L8", 0);
    w.ok(Command::CancelRequest { session: holder, request: waiting });
    let (_, events) = w.ok(Command::SubmitOperatorRequest {
        session: holder,
        kind: OperatorRequestKind::Message,
        message: "m".into(),
    });
    let Some(Event::OperatorRequestSubmitted { request }) = events.first() else { panic!("{events:?}") };
    let message = request.id;
    w.ok(Command::CancelOperatorRequest { session: holder, request: message });
    // Not yet.
    let (_, events) = w.ok(Command::Tick);
    assert!(!events.iter().any(|e| matches!(e, Event::RequestsDeleted { .. })), "{events:?}");
    // NOAUTOPURGE keeps library requests; NOFAILEDPURGE keeps refused operator requests.
    w.ok(set(InfoField::LibRequestFlags(NO_AUTO_PURGE)));
    w.ok(set(InfoField::OpRequestFlags(NO_FAILED_PURGE)));
    w.now_ms += 61_000;
    w.ok(Command::Tick);
    assert!(w.state.requests.contains_key(&passed) && w.state.operator_requests.contains_key(&message));
    w.ok(set(InfoField::LibRequestFlags(0)));
    w.ok(set(InfoField::OpRequestFlags(0)));
    w.ok(Command::Tick);
    assert!(!w.state.requests.contains_key(&passed) && !w.state.requests.contains_key(&waiting));
    assert!(!w.state.operator_requests.contains_key(&message));
    assert_eq!(w.state.computer.lib_request_purge_s, 60);
    w.state.check_invariants().expect("invariants");
}
