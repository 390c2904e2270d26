//! Operator requests (spec §3.5, §6): SubmitNtmsOperatorRequest,
//! SatisfyNtmsOperatorRequest and CancelNtmsOperatorRequest, a row per
//! code, their effect on the views and on the allocation that raised one.

mod common;

use common::World;
use rsm_model::*;

fn world() -> (World, SessionId, LibraryId, PoolId) {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "lo", 1, 4, 2);
    let pool = w.daily_pool(alice);
    (w, alice, lib, pool)
}

fn submit(session: SessionId, kind: OperatorRequestKind, message: &str) -> Command {
    Command::SubmitOperatorRequest { session, kind, message: message.into() }
}

fn submitted(events: &[Event]) -> OperatorRequestId {
    match events {
        [Event::OperatorRequestSubmitted { request }] => request.id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn submit_operator_request_codes() {
    let (mut w, alice, lib, pool) = world();
    let nobody = SessionId(uuid::Uuid::from_u128(99));
    w.rejects(submit(nobody, OperatorRequestKind::Message, "hello"), ErrorCode::InvalidHandle);
    w.rejects(submit(alice, OperatorRequestKind::Message, &"x".repeat(256)), ErrorCode::InvalidParameter);
    w.rejects(submit(alice, OperatorRequestKind::Message, "two\nlines"), ErrorCode::InvalidParameter);
    w.rejects(submit(alice, OperatorRequestKind::NewMedia { pool: PoolId::NIL }, ""), ErrorCode::InvalidParameter);
    let slot = ObjectRef::Slot(w.state.libraries[&lib].slots[0]);
    w.rejects(submit(alice, OperatorRequestKind::DeviceService { device: slot }, ""), ErrorCode::InvalidParameter);
    let unknown = OperatorRequestKind::Cleaner { library: LibraryId(uuid::Uuid::from_u128(5)) };
    w.rejects(submit(alice, unknown, ""), ErrorCode::ObjectNotFound);
    let elsewhere = OperatorRequestKind::MoveMedia {
        media: w.media("LO0001L8"),
        library: Some(LibraryId(uuid::Uuid::from_u128(5))),
    };
    w.rejects(submit(alice, elsewhere, ""), ErrorCode::ObjectNotFound);
    // Rights: CONTROL on the library, or over the pool; a message needs USE only.
    let bob = w.session("bob");
    w.rejects(submit(bob, OperatorRequestKind::Cleaner { library: lib }, ""), ErrorCode::AccessDenied);
    w.rejects(submit(bob, OperatorRequestKind::NewMedia { pool }, ""), ErrorCode::AccessDenied);
    let (_, events) = w.ok(submit(bob, OperatorRequestKind::Message, "change the tape in the safe"));
    let message = submitted(&events);
    let r = &w.state.operator_requests[&message];
    assert_eq!(
        (r.state, r.principal.as_str(), r.text.as_str()),
        (OperatorRequestState::Submitted, "bob", "change the tape in the safe")
    );
    // Every kind, each with its arguments; an empty message is worded by rsm.
    let drive = ObjectRef::Drive(w.drive("lo-drive-1"));
    for kind in [
        OperatorRequestKind::NewMedia { pool },
        OperatorRequestKind::Cleaner { library: lib },
        OperatorRequestKind::DeviceService { device: drive },
        OperatorRequestKind::MoveMedia { media: w.media("LO0002L8"), library: Some(lib) },
    ] {
        let (_, events) = w.ok(submit(alice, kind, ""));
        let id = submitted(&events);
        assert_eq!(w.state.operator_requests[&id].kind, kind);
        assert!(w.state.operator_requests[&id].text.contains(kind.name()), "{}", w.state.operator_requests[&id].text);
    }
    w.state.check_invariants().expect("invariants");
}

#[test]
fn satisfy_and_cancel_operator_request_codes() {
    let (mut w, alice, _, _) = world();
    let (_, events) = w.ok(submit(alice, OperatorRequestKind::Message, "one"));
    let first = submitted(&events);
    let (_, events) = w.ok(submit(alice, OperatorRequestKind::Message, "two"));
    let second = submitted(&events);
    let satisfy = |session, request| Command::SatisfyOperatorRequest { session, request };
    let cancel = |session, request| Command::CancelOperatorRequest { session, request };
    w.rejects(satisfy(SessionId(uuid::Uuid::from_u128(99)), first), ErrorCode::InvalidHandle);
    w.rejects(satisfy(alice, OperatorRequestId::NIL), ErrorCode::InvalidParameter);
    w.rejects(cancel(alice, OperatorRequestId(uuid::Uuid::from_u128(5))), ErrorCode::ObjectNotFound);
    // The operators' commands are the computer's administrators'.
    w.rejects(satisfy(alice, first), ErrorCode::AccessDenied);
    w.rejects(cancel(alice, first), ErrorCode::AccessDenied);
    w.policy.administrator = Some("alice".into());
    w.ok(satisfy(alice, first));
    assert_eq!(w.state.operator_requests[&first].state, OperatorRequestState::Complete);
    w.rejects(satisfy(alice, first), ErrorCode::ObjectNotFound);
    w.rejects(cancel(alice, first), ErrorCode::InvalidState);
    w.ok(cancel(alice, second));
    let r = &w.state.operator_requests[&second];
    assert_eq!((r.state, r.reason), (OperatorRequestState::Refused, None));
    w.state.check_invariants().expect("invariants");
}

/// §6.3: an allocation that raised NTMS_OPREQ_NEWMEDIA searches again once
/// the operator satisfies it, and fails with ERROR_CANCELLED once refused.
#[test]
fn the_operators_answer_reaches_the_allocation_that_raised_it() {
    let (mut w, alice, _, pool) = world();
    let allocate =
        |wait| Command::AllocateMedia { session: alice, pool, side: None, options: AllocateOptions::default(), wait };
    let (_, events) = w.ok(allocate(AllocationWait::Raise));
    let raised = submitted(&events);
    w.policy.administrator = Some("alice".into());
    w.ok(Command::CancelOperatorRequest { session: alice, request: raised });
    w.rejects(allocate(AllocationWait::Retry(raised)), ErrorCode::Cancelled);
    // Raised again and satisfied: the search is retried, from scratch once the pool allows it.
    let (_, events) = w.ok(allocate(AllocationWait::Raise));
    let raised = submitted(&events);
    w.ok(Command::SatisfyOperatorRequest { session: alice, request: raised });
    w.rejects(allocate(AllocationWait::Retry(raised)), ErrorCode::MediaUnavailable);
    w.ok(Command::SetPoolPolicy { session: alice, pool, from_scratch: true, to_scratch: false, max_allocates: 0 });
    let (_, events) = w.ok(allocate(AllocationWait::Retry(raised)));
    assert!(matches!(events.first(), Some(Event::SideAllocated { .. })), "{events:?}");
    w.state.check_invariants().expect("invariants");
}
