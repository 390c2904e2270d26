//! The engine end to end on the embedded log: storage error codes, replay,
//! snapshots and crash reconciliation.

use rsm_engine::*;
use rsm_hardware::{Fault, SimTimings};
use rsm_log::{MemoryLog, SledLog};
use rsm_model::*;
use std::sync::Arc;

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

async fn media(engine: &Engine, barcode: &str) -> MediaId {
    let b = barcode.to_string();
    engine.query(move |s| s.medium_by_barcode(&b).expect("known bar code").id).await.unwrap()
}

async fn drive(engine: &Engine, name: &str) -> DriveId {
    let n = name.to_string();
    engine.query(move |s| s.drive_named(&n).expect("known drive").id).await.unwrap()
}

#[tokio::test]
async fn workers_carry_out_mounts_and_dismounts() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineConfig::default()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    s.create_library(spec("lib", 2, 6, 4)).await.unwrap();
    let m = media(&engine, "LIB0001L8").await;
    let r = s.mount_media(m, MountOptions::default()).await.unwrap().wait().await.unwrap();
    assert_eq!(r.state, RequestState::Passed);
    let d = r.drive.expect("a mount names its drive");
    assert_eq!(s.dismount_drive(d).await.err().map(|e| e.code()), Some(5023), "opened media are not pulled");
    s.dismount_media(m, false).await.unwrap().wait().await.unwrap();
    let home = engine.query(move |st| st.media[&m].location).await.unwrap();
    assert!(matches!(home, Location::Slot(_)));
    let report = engine.verify_replay().await.unwrap();
    assert!(report.ok(), "{report:?}");
    engine.shutdown().await;
}

/// A mount that waits for the one drive runs, with the workers running,
/// as soon as the session holding it lets it go (a deferred release wakes
/// the library's worker; no tick is needed).
#[tokio::test]
async fn a_waiting_mount_runs_when_another_session_lets_the_drive_go() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineConfig::default()).await.unwrap();
    let a = engine.open_session("a").await.unwrap();
    let lib = a.create_library(spec("lib", 1, 6, 2)).await.unwrap();
    a.submit(Command::GrantAccess { session: a.id(), library: lib, principal: "b".into(), rights: AccessMask::USE })
        .await
        .unwrap();
    let b = engine.open_session("b").await.unwrap();
    let (m1, m2) = (media(&engine, "LIB0001L8").await, media(&engine, "LIB0002L8").await);
    a.mount_media(m1, MountOptions::default()).await.unwrap().wait().await.unwrap();
    let waiting = b.mount_media(m2, MountOptions::default()).await.unwrap();
    let state = engine.query({
        let id = waiting.id();
        move |s| s.requests[&id].state
    });
    assert_eq!(state.await.unwrap(), RequestState::Waiting);
    a.dismount_media(m1, true).await.unwrap();
    let done = tokio::time::timeout(std::time::Duration::from_secs(30), waiting.wait()).await;
    assert_eq!(done.expect("ran before the timeout").unwrap().state, RequestState::Passed);
    engine.shutdown().await;
}

#[tokio::test]
async fn database_full_at_the_configured_capacity_and_completions_still_land() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineConfig { log_capacity_records: Some(3), ..quiet() }).await.unwrap();
    let s = engine.open_session("app").await.unwrap(); // record 1
    s.create_library(spec("lib", 2, 4, 2)).await.unwrap(); // record 2
    let m = media(&engine, "LIB0001L8").await;
    let mount = s.mount_media(m, MountOptions::default()).await.unwrap(); // record 3
    let e = s.mount_media(media(&engine, "LIB0002L8").await, MountOptions::default()).await.err().unwrap();
    assert_eq!((e.name(), e.code()), ("ERROR_DATABASE_FULL", 4314));
    let d = drive(&engine, "lib-drive-1").await;
    let e = s.dismount_drive(d).await.err().unwrap();
    assert_eq!(e.kind(), ErrorCode::InvalidState, "validation comes before recording");
    // The accepted mount still finishes: the worker's events may pass the capacity.
    engine.run_until_idle().await.unwrap();
    assert_eq!(mount.wait().await.unwrap().state, RequestState::Passed);
    engine.shutdown().await;
}

#[tokio::test]
async fn database_failure_when_an_append_fails_and_nothing_after_it_is_accepted() {
    let mut log = MemoryLog::new();
    let parts = |log: MemoryLog| EngineParts {
        log: Box::new(log),
        clock: Arc::new(SystemClock),
        ids: Box::new(SeededIds::new(7)),
        hardware: Arc::new(NoHardware),
    };
    let engine = Engine::open_with(parts(log.clone()), quiet()).await.unwrap();
    engine.open_session("app").await.unwrap();
    engine.shutdown().await;
    log.fail_next_append();
    let engine = Engine::open_with(parts(log), quiet()).await.unwrap();
    let e = engine.open_session("app").await.err().unwrap();
    assert_eq!((e.name(), e.code()), ("ERROR_DATABASE_FAILURE", 4313));
    let e = engine.open_session("other").await.err().unwrap();
    assert_eq!(e.code(), 4313, "a failed append poisons the sequencer");
    engine.shutdown().await;
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

#[tokio::test]
async fn not_enough_memory_when_the_queue_is_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = quiet();
    config.policy.queue_per_library_max = 1;
    let engine = Engine::open(dir.path(), config).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    s.create_library(spec("lib", 2, 4, 2)).await.unwrap();
    s.mount_media(media(&engine, "LIB0001L8").await, MountOptions::default()).await.unwrap();
    let e = s.mount_media(media(&engine, "LIB0002L8").await, MountOptions::default()).await.err().unwrap();
    assert_eq!((e.name(), e.code()), ("ERROR_NOT_ENOUGH_MEMORY", 8));
    engine.shutdown().await;
}

#[tokio::test]
async fn a_damaged_record_is_a_database_failure_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    s.create_library(spec("lib", 2, 4, 2)).await.unwrap();
    for _ in 0..3 {
        engine.open_session("other").await.unwrap();
    }
    let last = engine.last_seq();
    engine.shutdown().await;
    {
        let log = SledLog::open(&dir.path().join("log")).unwrap();
        log.corrupt_byte_for_test(2, 40);
    }
    // Start-up reads only the snapshot and the tail: it opens.
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let e = engine.verify_replay().await.expect_err("the audit reads every record");
    assert_eq!(e.code(), 4313);
    assert!(e.message().contains("record 2"), "{}", e.message());
    engine.shutdown().await;
    // Damage in the tail stops start-up itself, with the record's number.
    {
        let log = SledLog::open(&dir.path().join("log")).unwrap();
        log.corrupt_byte_for_test(last, 60);
    }
    let Err(e) = Engine::open(dir.path(), quiet()).await else { panic!("damaged tail") };
    assert_eq!(e.name(), "ERROR_DATABASE_FAILURE");
    assert!(e.message().contains(&last.to_string()), "{}", e.message());
}

/// Regression: an event naming an object the projection does not have (a
/// damaged or foreign log) once panicked in `apply` or was skipped silently.
#[tokio::test]
async fn a_record_naming_an_unknown_drive_is_a_database_failure_naming_it() {
    use rsm_log::{Envelope, EventLog};
    let mut log = MemoryLog::new();
    let drive = DriveId(uuid::Uuid::from_u128(0xD21E));
    let envelope = |seq: u64, event: Event| Envelope {
        seq,
        at_ms: 1_000,
        request: RequestId(uuid::Uuid::from_u128(u128::from(seq))),
        principal: "app".into(),
        node: 0,
        event,
    };
    let opened = Event::SessionOpened {
        session: SessionId(uuid::Uuid::from_u128(1)),
        principal: "app".into(),
        application: "RSM".into(),
    };
    log.append(&[envelope(1, opened), envelope(2, Event::HoldReleased { drive })]).await.unwrap();
    let parts = EngineParts {
        log: Box::new(log),
        clock: Arc::new(SystemClock),
        ids: Box::new(SeededIds::new(7)),
        hardware: Arc::new(NoHardware),
    };
    let e = Engine::open_with(parts, quiet()).await.err().expect("the log does not apply");
    assert_eq!((e.name(), e.code()), ("ERROR_DATABASE_FAILURE", 4313));
    assert!(e.message().contains("record 2"), "{}", e.message());
    assert!(e.message().contains(&format!("HoldReleased names unknown drive {drive}")), "{}", e.message());
}

#[tokio::test]
async fn a_second_process_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let Err(e) = Engine::open(dir.path(), quiet()).await else { panic!("locked") };
    assert_eq!(e.code(), 4313);
    assert!(e.message().contains("in use"), "{}", e.message());
    engine.shutdown().await;
}

#[tokio::test]
async fn snapshot_plus_tail_equals_replay_from_zero() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig { snapshot_every: 5, ..quiet() };
    let engine = Engine::open(dir.path(), config.clone()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    s.create_library(spec("lib", 2, 8, 6)).await.unwrap();
    for i in 1..=4 {
        let m = media(&engine, &format!("LIB{i:04}L8")).await;
        let h = s.mount_media(m, MountOptions::default()).await;
        engine.run_until_idle().await.unwrap();
        if h.is_ok() {
            s.dismount_media(m, i % 2 == 0).await.unwrap();
        }
    }
    engine.run_until_idle().await.unwrap();
    let live = engine.state().await.unwrap();
    let report = engine.verify_replay().await.unwrap();
    assert!(report.snapshot_seq > 0 && report.ok(), "{report:?}");
    engine.shutdown().await;
    let engine = Engine::open(dir.path(), config).await.unwrap();
    assert_eq!(engine.state().await.unwrap(), live);
    engine.shutdown().await;
}

#[tokio::test]
async fn an_engine_told_not_to_snapshot_at_stop_leaves_only_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig { snapshot_every: 0, snapshot_at_stop: false, ..quiet() };
    let engine = Engine::open(dir.path(), config.clone()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    s.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    let last = engine.last_seq();
    engine.shutdown().await;
    let engine = Engine::open(dir.path(), config).await.unwrap();
    let report = engine.verify_replay().await.unwrap();
    assert_eq!(report.snapshot_seq, 0, "{report:?}");
    assert!(report.ok() && engine.last_seq() >= last, "{report:?}");
    engine.shutdown().await;
}

#[tokio::test]
async fn a_robot_failure_fails_the_request_with_its_sense_data() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let lib = s.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    engine.simulator(lib).await.unwrap().inject(Fault::RobotFailure, 1).unwrap();
    let m = media(&engine, "LIB0001L8").await;
    let h = s.mount_media(m, MountOptions::default()).await.unwrap();
    engine.run_until_idle().await.unwrap();
    let e = h.wait().await.err().unwrap();
    assert_eq!(e.kind(), ErrorCode::MediumNotAccessible);
    assert!(e.message().contains("04/15/01"), "{}", e.message());
    let r = engine.query(move |st| st.requests.values().next().cloned()).await.unwrap().unwrap();
    assert_eq!(r.sense, Some(Sense { key: 4, asc: 0x15, ascq: 1 }));
    // The cartridge is where the robot left it, and a retry works.
    let h = s.mount_media(m, MountOptions::default()).await.unwrap();
    engine.run_until_idle().await.unwrap();
    assert_eq!(h.wait().await.unwrap().state, RequestState::Passed);
    engine.shutdown().await;
}

#[tokio::test]
async fn a_drive_that_will_not_unload_leaves_the_cartridge_dismountable() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let lib = s.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    let m = media(&engine, "LIB0001L8").await;
    s.mount_media(m, MountOptions::default()).await.unwrap();
    engine.run_until_idle().await.unwrap();
    let d = drive(&engine, "lib-drive-1").await;
    let address = engine.query(move |st| st.drives[&d].element_address).await.unwrap();
    engine.simulator(lib).await.unwrap().inject(Fault::DriveWillNotUnload { drive: address }, 1).unwrap();
    let h = s.dismount_media(m, false).await.unwrap();
    engine.run_until_idle().await.unwrap();
    assert_eq!(h.wait().await.err().unwrap().kind(), ErrorCode::UnableToLoadMedium);
    let state = engine.query(move |st| st.drives[&d].state).await.unwrap();
    assert_eq!(state, DriveState::Dismountable);
    // DismountDrive empties it once the drive behaves.
    let h = s.dismount_drive(d).await.unwrap();
    engine.run_until_idle().await.unwrap();
    assert_eq!(h.wait().await.unwrap().state, RequestState::Passed);
    engine.shutdown().await;
}

#[tokio::test]
async fn requests_left_in_process_are_reconciled_from_the_hardware() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let lib = s.create_library(spec("lib", 2, 4, 2)).await.unwrap();
    let a = s.mount_media(media(&engine, "LIB0001L8").await, MountOptions::default()).await.unwrap();
    // The worker starts it and the robot moves the cartridge, then the process dies.
    engine.submit(Command::StartNext { library: lib }).await.unwrap();
    let sim = engine.simulator(lib).await.unwrap();
    use rsm_hardware::HardwareAdapter;
    sim.move_medium(1000, 500).await.unwrap();
    sim.load(500).await.unwrap();
    let b = s.mount_media(media(&engine, "LIB0002L8").await, MountOptions::default()).await.unwrap();
    engine.shutdown().await;
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    assert_eq!(engine.wait_for(a.id()).await.unwrap().state, RequestState::Passed, "done in the hardware: completed");
    // Now b starts, nothing moves, and the process stops: b goes back to
    // the queue under its own id (a watcher of b never sees a failure).
    engine.submit(Command::StartNext { library: lib }).await.unwrap();
    engine.shutdown().await;
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let id = b.id();
    let state = engine.query(move |st| st.requests[&id].state).await.unwrap();
    assert_eq!(state, RequestState::Queued, "not done: queued again, same id");
    engine.run_until_idle().await.unwrap();
    assert_eq!(engine.wait_for(b.id()).await.unwrap().state, RequestState::Passed);
    let loaded = engine.query(|st| st.drives.values().filter(|d| d.state == DriveState::Loaded).count()).await.unwrap();
    assert_eq!(loaded, 2);
    assert!(engine.verify_replay().await.unwrap().ok());
    engine.shutdown().await;
}

#[tokio::test]
async fn workers_carry_out_ejects_and_injects_on_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), EngineConfig::default()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let library = s.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    let m = media(&engine, "LIB0001L8").await;
    // No `run_until`: the workers must be woken by the requests themselves.
    let r = tokio::time::timeout(std::time::Duration::from_secs(20), s.eject_media(m).await.unwrap().wait())
        .await
        .expect("the eject is carried out without being driven")
        .unwrap();
    assert_eq!((r.kind, r.state), (RequestKind::Eject, RequestState::Passed));
    let sim = engine.simulator(library).await.unwrap();
    let port = engine.query(move |st| st.ports.values().next().map(|p| p.element_address)).await.unwrap().unwrap();
    assert_eq!(sim.locate("LIB0001L8"), Some(port), "the simulated robot put it in the port");
    sim.operator_empty_port(port).unwrap();
    sim.operator_fill_port(port, "NEW0001L8").unwrap();
    let accepted = s.inject_media(library).await.unwrap();
    let Some(Event::InjectRequested { request, .. }) =
        accepted.events.iter().find(|e| matches!(e, Event::InjectRequested { .. }))
    else {
        panic!("an inject request: {:?}", accepted.events)
    };
    let id = request.id;
    let r = tokio::time::timeout(std::time::Duration::from_secs(20), engine.wait_for(id))
        .await
        .expect("the inject is carried out without being driven")
        .unwrap();
    assert_eq!(r.state, RequestState::Passed);
    assert!(matches!(sim.locate("NEW0001L8"), Some(a) if a != port));
    engine.shutdown().await;
}

#[tokio::test]
async fn an_inject_reads_the_ports_while_a_mount_is_under_way() {
    use rsm_hardware::SimTimings;
    let dir = tempfile::tempdir().unwrap();
    let timings = SimTimings { move_ms: 300, load_ms: 300, unload_ms: 300, clean_ms: 0 };
    let engine =
        Engine::open(dir.path(), EngineConfig { sim_timings: timings, ..EngineConfig::default() }).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let library = s.create_library(spec("lib", 1, 4, 1)).await.unwrap();
    let m = media(&engine, "LIB0001L8").await;
    let mount = s.mount_media(m, MountOptions::default()).await.unwrap();
    let id = mount.id();
    // Wait until the worker has the mount in process (the robot is moving).
    loop {
        let state = engine.query(move |st| st.requests.get(&id).map(|r| r.state)).await.unwrap();
        if state == Some(RequestState::InProcess) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let sim = engine.simulator(library).await.unwrap();
    let port = engine.query(move |st| st.ports.values().next().map(|p| p.element_address)).await.unwrap().unwrap();
    sim.operator_fill_port(port, "NEW0001L8").unwrap();
    // Not refused: the reading waits for the step in flight, then goes on.
    let accepted = s.inject_media(library).await.expect("an inject while a mount is under way");
    let inject = accepted
        .events
        .iter()
        .find_map(|e| match e {
            Event::InjectRequested { request, .. } => Some(request.id),
            _ => None,
        })
        .expect("an inject request");
    assert_eq!(mount.wait().await.unwrap().state, RequestState::Passed);
    assert_eq!(engine.wait_for(inject).await.unwrap().state, RequestState::Passed);
    assert!(matches!(sim.locate("NEW0001L8"), Some(a) if a != port));
    engine.shutdown().await;
}

/// Regression: a mount of a cartridge the views place in a drive was
/// answered "completed" from the views alone, even when the drive could not
/// say it held it. The drive is asked first; its failure is the mount's,
/// and nothing is recorded.
#[tokio::test]
async fn mount_in_place_asks_the_drive_before_it_answers() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let lib = s.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    let m = media(&engine, "LIB0001L8").await;
    s.mount_media(m, MountOptions::default()).await.unwrap();
    engine.run_until_idle().await.unwrap();
    s.dismount_media(m, true).await.unwrap();
    let d = drive(&engine, "lib-drive-1").await;
    let address = engine.query(move |st| st.drives[&d].element_address).await.unwrap();
    engine.simulator(lib).await.unwrap().inject(Fault::DriveWillNotLoad { drive: address }, 1).unwrap();
    let before = engine.last_seq();
    let Err(e) = s.mount_media(m, MountOptions::default()).await else { panic!("the drive failed to answer") };
    assert_eq!(e.kind(), ErrorCode::UnableToLoadMedium, "{e}");
    assert_eq!(engine.last_seq(), before, "a mount the drive did not confirm records nothing");
    // Once the drive answers, the mount is satisfied in place.
    let h = s.mount_media(m, MountOptions::default()).await.unwrap();
    assert!(h.finished_at_acceptance());
    assert_eq!(h.wait().await.unwrap().state, RequestState::Passed);
    // A mount the rules refuse is refused for its own reason, the drive unasked.
    engine.simulator(lib).await.unwrap().inject(Fault::DriveWillNotLoad { drive: address }, 1).unwrap();
    let other = engine.open_session("other").await.unwrap();
    let Err(e) = other.mount_media(m, MountOptions::default()).await else { panic!("held by app") };
    assert_ne!(e.kind(), ErrorCode::UnableToLoadMedium, "{e}");
    engine.shutdown().await;
}

/// Regression: anyone could arm faults or play the operator in another
/// user's simulated library. Those commands need CONTROL.
#[tokio::test]
async fn simulator_commands_need_control_on_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let owner = engine.open_session("owner").await.unwrap();
    let lib = owner.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    owner.grant(lib, "bob", AccessMask::USE.with(AccessMask::MODIFY)).await.unwrap();
    let bob = engine.open_session("bob").await.unwrap();
    let Err(e) = bob.simulator(lib).await else { panic!("bob has no CONTROL") };
    assert_eq!(e.kind(), ErrorCode::AccessDenied, "{e}");
    owner.simulator(lib).await.expect("the creator has CONTROL").inject(Fault::RobotFailure, 1).unwrap();
    owner.grant(lib, "bob", AccessMask::CONTROL).await.unwrap();
    bob.simulator(lib).await.expect("granted CONTROL");
    engine.shutdown().await;
}

/// Regression: a deleted simulator state file was made anew from the views,
/// losing the cartridges in drives and ports. It is the hardware's truth:
/// the library refuses to work without it.
#[tokio::test]
async fn a_deleted_simulator_file_is_refused_not_recreated() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let lib = s.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    let file = dir.path().join("sim").join(format!("{lib}.json"));
    assert!(file.exists(), "made with the library");
    let m = media(&engine, "LIB0001L8").await;
    s.mount_media(m, MountOptions::default()).await.unwrap();
    engine.run_until_idle().await.unwrap();
    engine.shutdown().await;
    std::fs::remove_file(&file).unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.session_for("app").await.unwrap();
    let h = s.dismount_media(m, false).await.unwrap();
    let Err(e) = engine.run_until_idle().await else { panic!("the library cannot work without its simulator") };
    assert_eq!(e.kind(), ErrorCode::DeviceNotConnected, "{e}");
    let Err(e) = engine.simulator(lib).await else { panic!("no simulator without its file") };
    assert!(e.message().contains("is missing"), "{e}");
    assert!(!file.exists(), "not made anew");
    assert_ne!(engine.query(move |st| st.requests[&h.id()].state).await.unwrap(), RequestState::Passed);
    engine.shutdown().await;
}

/// Regression: a mount cut off between the robot's move and the drive's
/// load was settled as completed (and the drive shown loaded) because the
/// cartridge sat in the drive. The drive is asked to load it; when it
/// cannot, the mount fails with its sense.
#[tokio::test]
async fn a_mount_cut_off_before_its_load_is_completed_only_after_the_drive_loads() {
    use rsm_hardware::HardwareAdapter;
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let lib = s.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    let a = s.mount_media(media(&engine, "LIB0001L8").await, MountOptions::default()).await.unwrap();
    engine.submit(Command::StartNext { library: lib }).await.unwrap();
    let sim = engine.simulator(lib).await.unwrap();
    sim.move_medium(1000, 500).await.unwrap(); // moved, never loaded
    sim.inject(Fault::DriveWillNotLoad { drive: 500 }, 1).unwrap();
    engine.shutdown().await; // settles what is in process from the hardware
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let Err(e) = engine.wait_for(a.id()).await else { panic!("the drive never loaded it") };
    assert_eq!(e.kind(), ErrorCode::UnableToLoadMedium, "{e}");
    engine.shutdown().await;
}

/// Regression: a crash between a simulated library's creation and its
/// state file left a library that could never work. A library exactly as
/// created (no request ever, every cartridge home) gets its file made from
/// the views, which lose nothing then.
#[tokio::test]
async fn an_untouched_library_whose_simulator_file_was_never_made_gets_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let lib = s.create_library(spec("lib", 1, 4, 2)).await.unwrap();
    engine.shutdown().await;
    let file = dir.path().join("sim").join(format!("{lib}.json"));
    std::fs::remove_file(&file).unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let s = engine.session_for("app").await.unwrap();
    let h = s.mount_media(media(&engine, "LIB0001L8").await, MountOptions::default()).await.unwrap();
    engine.run_until_idle().await.unwrap();
    assert_eq!(h.wait().await.unwrap().state, RequestState::Passed);
    assert!(file.exists());
    engine.shutdown().await;
}

/// AllocateNtmsMedia with a timeout: a pool with nothing raises a
/// new-media operator request and waits; media given back by another
/// session end the wait (the request COMPLETE); with nothing coming, the
/// timeout withdraws it (REFUSED, ERROR_TIMEOUT); ERROR_IF_UNAVAILABLE
/// answers at once.
#[tokio::test]
async fn an_allocation_waits_for_media_and_times_out_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), quiet()).await.unwrap();
    let app = engine.open_session("app").await.unwrap();
    app.create_library(spec("lib", 1, 4, 1)).await.unwrap();
    let pool = app.create_media_pool("\\Backup", Some(default_media_type()), PoolAction::CreateNew).await.unwrap();
    app.set_pool_policy(pool, true, false, 0).await.unwrap();
    let held = app.allocate_media(pool, None, AllocateOptions::default()).await.unwrap();

    let no_operator = AllocateOptions { error_if_unavailable: true, ..Default::default() };
    let e = app.allocate_media_waiting(pool, None, no_operator, AllocationTimeout::Infinite).await.unwrap_err();
    assert_eq!(e.kind(), ErrorCode::MediaUnavailable, "{e}");

    let waiter = app.clone();
    let waiting = tokio::spawn(async move {
        waiter.allocate_media_waiting(pool, None, AllocateOptions::default(), AllocationTimeout::Infinite).await
    });
    // The request is raised before anything is given back.
    let raised = loop {
        let open = engine
            .query(|s| s.operator_requests.values().find(|r| r.state == OperatorRequestState::Submitted).map(|r| r.id))
            .await
            .unwrap();
        if let Some(id) = open {
            break id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    };
    app.deallocate_media(held).await.unwrap();
    let lmid = waiting.await.unwrap().expect("the medium given back is allocated to the waiter");
    assert_ne!(lmid, held);
    let state = engine.query(move |s| s.operator_requests[&raised].state).await.unwrap();
    assert_eq!(state, OperatorRequestState::Complete);

    let e = app
        .allocate_media_waiting(pool, None, AllocateOptions::default(), AllocationTimeout::Millis(30))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorCode::Timeout, "{e}");
    let refused = engine
        .query(|s| {
            s.operator_requests
                .values()
                .filter(|r| r.state == OperatorRequestState::Refused)
                .map(|r| r.reason)
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
    assert_eq!(refused, vec![Some(ErrorCode::Timeout)]);
    assert!(engine.verify_replay().await.unwrap().ok());
    engine.shutdown().await;
}

/// AccessNtmsLibraryDoor while the robot works: the mount under way
/// finishes, then the worker's scheduling round unlocks the door on the
/// simulator, whose robot refuses to move while it is unlocked; the next
/// mount waits until the door is closed, which locks it again and wakes
/// the worker; the open door survives a restart of the engine, unlocked
/// again on the device.
#[tokio::test]
async fn the_door_opens_after_the_robot_finishes_and_holds_it_until_closed() {
    let slow = SimTimings { move_ms: 5, load_ms: 400, unload_ms: 5, clean_ms: 0 };
    let config = EngineConfig { sim_timings: slow, ..EngineConfig::default() };
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path(), config.clone()).await.unwrap();
    let s = engine.open_session("app").await.unwrap();
    let lib = s.create_library(spec("lib", 2, 6, 4)).await.unwrap();
    let sim = s.simulator(lib).await.unwrap();
    let first = s.mount_media(media(&engine, "LIB0001L8").await, MountOptions::default()).await.unwrap();
    let id = first.id();
    while engine.query(move |st| st.requests[&id].state).await.unwrap() != RequestState::InProcess {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let queued = s.access_door(lib, InventoryMethod::None.ntms_value()).await.unwrap();
    assert!(matches!(queued.events[..], [Event::DoorAccessQueued { .. }]), "{:?}", queued.events);
    assert!(!sim.door_unlocked());
    assert_eq!(first.wait().await.unwrap().state, RequestState::Passed);
    for _ in 0..400 {
        if sim.door_unlocked() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(sim.door_unlocked(), "the scheduler unlocked the door once the robot was idle");
    assert!(engine.query(move |st| st.libraries[&lib].door_open()).await.unwrap());

    let second = s.mount_media(media(&engine, "LIB0002L8").await, MountOptions::default()).await.unwrap().id();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let state = engine.query(move |st| st.requests[&second].state).await.unwrap();
    assert_eq!(state, RequestState::Queued, "the robot waits while the door is open");
    // A restart keeps the door open, and the device unlocked.
    engine.shutdown().await;
    drop(sim);
    let engine = Engine::open(dir.path(), config).await.unwrap();
    let s = engine.session_for("app").await.unwrap();
    let sim = s.simulator(lib).await.unwrap();
    assert!(sim.door_unlocked(), "unlocked again at start");
    let (_, inventory) = s.close_door(lib).await.unwrap();
    assert!(inventory.is_none(), "NONE: the views are trusted");
    assert!(!sim.door_unlocked());
    let r = engine.wait_for(second).await.unwrap();
    assert_eq!(r.state, RequestState::Passed, "the worker was woken by the close");
    engine.shutdown().await;
}
