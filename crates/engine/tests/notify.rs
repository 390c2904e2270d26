//! Database notifications of a running engine (spec §3.7): subscriptions
//! deliver every committed record's notices once, in log order, resumable
//! from any sequence number; a subscriber that sleeps falls behind into the
//! log and catches up; the Windows-shaped channel answers each of its codes.

use rsm_engine::*;
use rsm_log::{MemoryLog, MemoryLogFaults};
use rsm_model::*;
use std::sync::Arc;
use std::time::Duration;

fn spec(name: &str, drives: u16, slots: u32, media: u32) -> LibrarySpec {
    let barcodes = (1..=media).map(|i| format!("{}{i:04}L8", name.to_uppercase())).collect();
    LibrarySpec {
        name: name.into(),
        kind: LibraryKind::Changer,
        drives,
        slots,
        ie_ports: 1,
        barcodes,
        media_type: rsm_model::default_media_type(),
        unlabelled: Vec::new(),
    }
}

fn quiet() -> EngineConfig {
    EngineConfig { run_workers: false, ..EngineConfig::default() }
}

struct NoHardware;
impl HardwareProvider for NoHardware {
    fn adapter(
        &self,
        _: &State,
        _: &Library,
    ) -> Result<Arc<dyn rsm_hardware::HardwareAdapter>, rsm_hardware::AdapterError> {
        Err(rsm_hardware::AdapterError::NotConnected("no hardware in this test".into()))
    }
}

/// An engine on a memory log, with the handle that injects its faults.
async fn on_memory(config: EngineConfig) -> (Engine, MemoryLogFaults) {
    let log = MemoryLog::new();
    let faults = log.faults();
    let parts = EngineParts {
        log: Box::new(log),
        clock: Arc::new(SystemClock),
        ids: Box::new(SeededIds::new(11)),
        hardware: Arc::new(NoHardware),
    };
    (Engine::open_with(parts, config).await.expect("an engine on a memory log"), faults)
}

/// What a subscription must deliver for these acceptances: each event's
/// notices at its sequence number, in order.
fn expected(accepted: &[Accepted]) -> Vec<(u64, Notice)> {
    let mut out = Vec::new();
    for a in accepted {
        let first = a.last_seq + 1 - a.events.len() as u64;
        for (i, event) in a.events.iter().enumerate() {
            out.extend(notices(event).into_iter().map(|n| (first + i as u64, n)));
        }
    }
    out.sort_by_key(|(seq, _)| *seq); // stable: a record's notices keep their order
    out
}

/// Everything `subscription` delivers up to record `last`.
async fn drain(subscription: &mut Subscription, last: u64) -> Vec<(u64, Notice)> {
    let mut out = Vec::new();
    while let Some((seq, record)) = subscription.next_record_until(last).await.expect("a healthy subscription") {
        out.extend(record.into_iter().map(|n| (seq, n)));
    }
    out
}

/// A library and `n` attribute changes on it, committed one by one: the
/// acceptances, in order.
async fn some_history(engine: &Engine, n: usize) -> Vec<Accepted> {
    let s = engine.open_session("app").await.unwrap();
    let mut accepted = Vec::new();
    let library = s.create_library(spec("lib", 2, 6, 3)).await.unwrap();
    accepted.push(s.submit(Command::GrantAccess {
        session: s.id(),
        library,
        principal: "bob".into(),
        rights: AccessMask::USE,
    }));
    let mut done = Vec::new();
    for a in accepted {
        done.push(a.await.unwrap());
    }
    for i in 0..n {
        done.push(
            s.submit(Command::SetAttribute {
                session: s.id(),
                object: ObjectRef::Library(library),
                name: "n".into(),
                value: vec![i as u8 + 1],
            })
            .await
            .unwrap(),
        );
    }
    done
}

#[tokio::test]
async fn a_subscription_from_the_first_record_delivers_every_notice_in_log_order() {
    let (engine, _) = on_memory(quiet()).await;
    let mut from_the_start = engine.subscribe(&[], Since::Seq(1)).unwrap();
    let mut live = engine.subscribe(&[], Since::Now).unwrap();
    let accepted = some_history(&engine, 20).await;
    let head = engine.last_seq();
    let seen = drain(&mut from_the_start, head).await;
    // The library's creation is in the history, so the whole log is: compare it all.
    let all = engine.subscribe(&[], Since::Seq(1)).map(|mut s| async move { drain(&mut s, head).await }).unwrap().await;
    assert_eq!(seen, all);
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "in log order");
    let ours = expected(&accepted);
    assert!(seen.ends_with(&ours), "the history's notices, at their sequence numbers");
    assert!(seen[..seen.len() - ours.len()].iter().all(|(seq, _)| *seq < ours[0].0), "nothing else after it");
    // A live subscription made before the history saw exactly the same.
    assert_eq!(drain(&mut live, head).await, seen);
    assert!(seen.iter().any(|(_, n)| n.operation == NoticeOperation::Insert && n.object_type() == ObjectType::Library));
    engine.shutdown().await;
}

#[tokio::test]
async fn filters_deliver_only_their_types() {
    let (engine, _) = on_memory(quiet()).await;
    some_history(&engine, 5).await;
    let head = engine.last_seq();
    let all = drain(&mut engine.subscribe(&[], Since::Seq(1)).unwrap(), head).await;
    for types in
        [vec![ObjectType::Drive], vec![ObjectType::Library, ObjectType::PhysicalMedia], vec![ObjectType::Computer]]
    {
        let got = drain(&mut engine.subscribe(&types, Since::Seq(1)).unwrap(), head).await;
        let want: Vec<_> = all.iter().filter(|(_, n)| types.contains(&n.object_type())).cloned().collect();
        assert_eq!(got, want, "{types:?}");
    }
    assert!(drain(&mut engine.subscribe(&[ObjectType::Computer], Since::Seq(1)).unwrap(), head).await.is_empty());
    engine.shutdown().await;
}

#[tokio::test]
async fn a_subscription_resumes_from_a_sequence_number_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    some_history(&engine, 10).await;
    let head = engine.last_seq();
    let all = drain(&mut engine.subscribe(&[], Since::Seq(1)).unwrap(), head).await;
    // A subscriber that saw the first records' notices, up to a record boundary.
    let mut first = engine.subscribe(&[], Since::Seq(1)).unwrap();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (seq, record) = first.next_record().await.unwrap();
        seen.extend(record.into_iter().map(|n| (seq, n)));
    }
    let last = seen.last().expect("three records seen").0;
    assert_eq!(first.position(), last + 1);
    drop(first);
    engine.shutdown().await;

    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let mut rest = engine.subscribe(&[], Since::Seq(last + 1)).unwrap();
    seen.extend(drain(&mut rest, head).await);
    assert_eq!(seen, all, "the continuation, no gap, no duplicate");
    // And it goes on live.
    let s = engine.session_for("app").await.unwrap();
    let library = engine.query(|s| s.library_named("lib").unwrap().id).await.unwrap();
    s.submit(Command::SetDescription { session: s.id(), object: ObjectRef::Library(library), description: "x".into() })
        .await
        .unwrap();
    let (seq, notice) = rest.next().await.unwrap();
    assert_eq!(
        (seq, notice),
        (engine.last_seq(), Notice { object: ObjectRef::Library(library), operation: NoticeOperation::Update })
    );
    engine.shutdown().await;
}

/// A subscriber that sleeps while thousands of commands commit (from
/// several sessions at once, so groups hold many records) falls out of the
/// live channel's few groups, reads what it missed from the log, and still
/// sees every notice exactly once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sleeping_subscriber_catches_up_from_the_log_and_sees_everything_once() {
    let config = EngineConfig { notify_buffer_groups: 4, ..quiet() };
    let (engine, _) = on_memory(config).await;
    let admin = engine.open_session("app").await.unwrap();
    let library = admin.create_library(spec("lib", 1, 4, 1)).await.unwrap();
    let start = engine.last_seq();
    let mut sleeper = engine.subscribe(&[], Since::Now).unwrap();
    let mut reader = engine.subscribe(&[ObjectType::Library], Since::Now).unwrap();
    const TASKS: usize = 8;
    const EACH: usize = 400;
    // One subscriber reads along, sleeping now and then.
    let along = tokio::spawn(async move {
        let mut seen = Vec::new();
        while seen.len() < TASKS * EACH {
            seen.push(reader.next().await.expect("a healthy subscription"));
            if seen.len() % 500 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        seen
    });
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let s = engine.open_session("app").await.unwrap();
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                s.submit(Command::SetAttribute {
                    session: s.id(),
                    object: ObjectRef::Library(library),
                    name: format!("t{t}"),
                    value: (i as u32 + 1).to_le_bytes().to_vec(),
                })
                .await
                .expect("accepted");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let head = engine.last_seq();
    let seen = drain(&mut sleeper, head).await;
    let updates: Vec<u64> = seen
        .iter()
        .filter(|(_, n)| n == &Notice { object: ObjectRef::Library(library), operation: NoticeOperation::Update })
        .map(|(seq, _)| *seq)
        .collect();
    assert_eq!(updates.len(), TASKS * EACH, "every attribute change, once");
    assert!(updates.windows(2).all(|w| w[0] < w[1]), "in log order, no duplicate");
    assert!(seen.iter().all(|(seq, _)| *seq > start && *seq <= head));
    // Records without notices (the sessions) aside, nothing is missing.
    let along = along.await.unwrap();
    assert_eq!(along.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), updates);
    let (flushes, _) = engine.commit_stats().read();
    assert!(flushes > 4, "more groups than the live channel keeps: {flushes}");
    engine.shutdown().await;
}

#[tokio::test]
async fn where_a_subscription_may_start() {
    let (engine, faults) = on_memory(quiet()).await;
    some_history(&engine, 5).await;
    let head = engine.last_seq();
    let code = |r: Result<Subscription, NtmsError>| r.err().map(|e| e.name());
    assert_eq!(code(engine.subscribe(&[], Since::Seq(0))), Some("ERROR_INVALID_PARAMETER"));
    assert_eq!(code(engine.subscribe(&[], Since::Seq(head + 2))), Some("ERROR_INVALID_PARAMETER"));
    assert_eq!(code(engine.subscribe(&[], Since::Seq(head + 1))), None, "the next record");
    assert_eq!(code(engine.subscribe(&[], Since::Seq(1))), None);
    // A log that dropped its oldest records: older starts are ERROR_NO_DATA.
    faults.forget_before(head);
    let e = engine.subscribe(&[], Since::Seq(1)).err().expect("forgotten");
    assert_eq!((e.name(), e.code()), ("ERROR_NO_DATA", 232));
    assert_eq!(code(engine.subscribe(&[], Since::Seq(head))), None, "the records still held");
    engine.shutdown().await;
}

async fn admin_engine() -> (Engine, MemoryLogFaults, rsm_engine::Session) {
    let mut config = quiet();
    config.policy.administrator = Some("admin".into());
    let (engine, faults) = on_memory(config).await;
    let admin = engine.open_session("admin").await.unwrap();
    (engine, faults, admin)
}

#[tokio::test]
async fn open_notification_answers_each_of_its_codes() {
    let (engine, _, admin) = admin_engine().await;
    let name = |r: Result<NotificationChannel, NtmsError>| r.err().map(|e| e.name());
    // ERROR_INVALID_HANDLE: an unknown session, a closed one.
    assert_eq!(
        name(engine.open_notification(SessionId(uuid::Uuid::from_u128(9)), 5).await),
        Some("ERROR_INVALID_HANDLE")
    );
    let closed = engine.open_session("gone").await.unwrap();
    let closed_id = closed.id();
    closed.close().await.unwrap();
    assert_eq!(name(engine.open_notification(closed_id, 5).await), Some("ERROR_INVALID_HANDLE"));
    // ERROR_INVALID_PARAMETER: a type outside 1..18 (checked before access).
    for dw_type in [0, 19, 1_000] {
        assert_eq!(name(admin.open_notification(dw_type).await), Some("ERROR_INVALID_PARAMETER"), "{dw_type}");
    }
    // ERROR_ACCESS_DENIED: no USE on the computer.
    admin.set_object_access(ObjectRef::Computer, "bob", AccessMask::USE, false).await.unwrap();
    let bob = engine.open_session("bob").await.unwrap();
    assert_eq!(name(bob.open_notification(5).await), Some("ERROR_ACCESS_DENIED"));
    assert_eq!(name(bob.open_notification(0).await), Some("ERROR_INVALID_PARAMETER"));
    // Every valid type opens, those rsm keeps no objects of too.
    for dw_type in 1..=18 {
        assert_eq!(name(admin.open_notification(dw_type).await), None, "{dw_type}");
    }
    engine.shutdown().await;
}

#[tokio::test]
async fn open_notification_after_a_failed_append_is_a_database_failure() {
    use rsm_log::EventLog;
    // A log holding one open session (alice's, record 1), whose next append fails.
    let mut log = MemoryLog::new();
    let opened = rsm_log::conformance::envelope(1);
    let Event::SessionOpened { session, .. } = opened.event else { panic!("record 1 opens a session") };
    log.append(&[opened]).await.unwrap();
    log.fail_next_append();
    let parts = EngineParts {
        log: Box::new(log),
        clock: Arc::new(SystemClock),
        ids: Box::new(SeededIds::new(3)),
        hardware: Arc::new(NoHardware),
    };
    let engine = Engine::open_with(parts, quiet()).await.unwrap();
    assert!(engine.open_notification(session, 5).await.is_ok(), "a healthy engine opens channels");
    let e = engine.open_session("x").await.err().expect("the append fails");
    assert_eq!(e.name(), "ERROR_DATABASE_FAILURE");
    let e = engine.open_notification(session, 5).await.err().expect("refused");
    assert_eq!((e.name(), e.code()), ("ERROR_DATABASE_FAILURE", 4313));
    engine.shutdown().await;
}

#[tokio::test]
async fn wait_and_close_answer_each_of_their_codes() {
    let (engine, faults, admin) = admin_engine().await;
    let library = admin.create_library(spec("lib", 1, 4, 1)).await.unwrap();
    let channel = admin.open_notification(ObjectType::Library.ntms_value()).await.unwrap();
    // ERROR_TIMEOUT: nothing came.
    let e = channel.wait(20).await.expect_err("nothing yet");
    assert_eq!((e.name(), e.code()), ("ERROR_TIMEOUT", 1460));
    // ERROR_SUCCESS: a notice of its type (a drive's is not).
    let drive = engine.query(|s| *s.drives.keys().next().expect("the library's drive")).await.unwrap();
    admin.set_description(ObjectRef::Drive(drive), "a drive's notice is not the channel's").await.unwrap();
    admin.set_description(ObjectRef::Library(library), "first").await.unwrap();
    let got = channel.wait(INFINITE).await.unwrap();
    assert_eq!(got, Notice { object: ObjectRef::Library(library), operation: NoticeOperation::Update });
    assert_eq!(channel.wait(0).await.err().map(|e| e.name()), Some("ERROR_TIMEOUT"));

    // ERROR_INVALID_STATE: closing while a wait is outstanding.
    let waiting = {
        let channel = channel.clone();
        tokio::spawn(async move { channel.wait(INFINITE).await })
    };
    // On this single-threaded runtime one yield runs the wait up to its first pause: outstanding.
    tokio::task::yield_now().await;
    assert_eq!(channel.close().err().map(|e| e.name()), Some("ERROR_INVALID_STATE"));
    admin.set_description(ObjectRef::Library(library), "second").await.unwrap();
    assert!(waiting.await.unwrap().is_ok(), "the wait got its notice");
    // ERROR_SUCCESS, then ERROR_INVALID_HANDLE for a closed channel (wait and close).
    channel.close().unwrap();
    assert_eq!(channel.wait(0).await.err().map(|e| e.name()), Some("ERROR_INVALID_HANDLE"));
    assert_eq!(channel.close().err().map(|e| e.name()), Some("ERROR_INVALID_HANDLE"));
    // The null handle: ERROR_INVALID_HANDLE to wait, ERROR_INVALID_PARAMETER to close.
    let null = NotificationChannel::default();
    assert_eq!(null.wait(0).await.err().map(|e| e.name()), Some("ERROR_INVALID_HANDLE"));
    assert_eq!(null.close().err().map(|e| e.name()), Some("ERROR_INVALID_PARAMETER"));

    // ERROR_DATABASE_FAILURE: the log cannot be read where a channel that
    // fell behind must catch up; ERROR_NO_DATA: the log no longer holds it.
    let behind = admin.open_notification(ObjectType::Library.ntms_value()).await.unwrap();
    let forgotten = admin.open_notification(ObjectType::Library.ntms_value()).await.unwrap();
    for i in 0..600u32 {
        admin.set_description(ObjectRef::Library(library), &format!("d{i}")).await.unwrap();
    }
    faults.fail_reads(true);
    let e = behind.wait(1_000).await.expect_err("the log fails");
    assert_eq!((e.name(), e.code()), ("ERROR_DATABASE_FAILURE", 4313));
    faults.fail_reads(false);
    faults.forget_before(engine.last_seq());
    let e = forgotten.wait(1_000).await.expect_err("the log forgot");
    assert_eq!((e.name(), e.code()), ("ERROR_NO_DATA", 232));

    // ERROR_NOT_CONNECTED: the engine stopped (wait and close; close closes all the same).
    let last = admin.open_notification(ObjectType::Library.ntms_value()).await.unwrap();
    let clone = engine.clone();
    engine.shutdown().await;
    let e = last.wait(1_000).await.expect_err("stopped");
    assert_eq!((e.name(), e.code()), ("ERROR_NOT_CONNECTED", 2250));
    assert_eq!(last.close().err().map(|e| e.name()), Some("ERROR_NOT_CONNECTED"));
    assert_eq!(last.close().err().map(|e| e.name()), Some("ERROR_INVALID_HANDLE"));
    assert_eq!(clone.open_notification(admin.id(), 9).await.err().map(|e| e.name()), Some("ERROR_NOT_CONNECTED"));
}
