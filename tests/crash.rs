//! Crash test: a child `rsm stress` appends under load and is killed with
//! SIGKILL at seeded random moments. After each kill every acknowledged
//! command is in the log, the hash chain verifies, requests left in process
//! are reconciled, and replaying the log equals the views.

use rsm::log::{EventLog, SledLog};
use rsm::*;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

const KILLS: u64 = 24;

fn acknowledged_after_kill(dir: &std::path::Path, seed: u64, wait_ms: u64) -> Vec<(RequestId, u64)> {
    let mut child = Process::new(env!("CARGO_BIN_EXE_rsm"))
        .args([
            "--data",
            dir.to_str().expect("utf-8 temp path"),
            "stress",
            "--sessions",
            "6",
            "--seed",
            &seed.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the rsm binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| {
                let mut parts = line.split_whitespace();
                match (parts.next(), parts.next(), parts.next()) {
                    (Some("ack"), Some(id), Some(seq)) => Some((id.parse().ok()?, seq.parse().ok()?)),
                    _ => None,
                }
            })
            .collect::<Vec<(RequestId, u64)>>()
    });
    std::thread::sleep(Duration::from_millis(wait_ms));
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    reader.join().expect("the reader thread ends with the pipe")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commands_survive_sigkill_and_replay_equals_the_views() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut total_acks = 0usize;
    let mut rng = 0x5EED_u64;
    for round in 0..KILLS {
        rng = splitmix64(rng);
        // The first kill comes early (during start-up and library creation), later ones anywhere.
        let wait_ms = if round == 0 { 40 } else { 60 + rng % 500 };
        let acks = acknowledged_after_kill(&data, rng, wait_ms);
        total_acks += acks.len();
        let log = SledLog::open(&data.join("log")).unwrap_or_else(|e| panic!("round {round}: log does not open: {e}"));
        let mut present = BTreeSet::new();
        let mut next = 1;
        loop {
            let records = log.read(next, 4096).await.unwrap_or_else(|e| panic!("round {round}: chain broken: {e}"));
            let Some(last) = records.last() else { break };
            next = last.envelope.seq + 1;
            present.extend(records.iter().map(|r| r.envelope.request));
        }
        let end = next - 1;
        for (request, seq) in &acks {
            assert!(
                present.contains(request),
                "round {round} (seed {rng}): acknowledged {request} at {seq} is missing"
            );
            assert!(*seq <= end, "round {round}: acknowledged seq {seq} beyond the log's end {end}");
        }
        drop(log);
        let engine = Engine::open(&data, EngineConfig { run_workers: false, ..EngineConfig::default() })
            .await
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {} {}", e.name(), e.message()));
        let state = engine.state().await.expect("views");
        state.check_invariants().unwrap_or_else(|e| panic!("round {round}: invariant broken after the crash: {e}"));
        assert!(
            state.requests.values().all(|r| r.state != RequestState::InProcess),
            "round {round}: reconciliation left a request in process"
        );
        let report = engine.verify_replay().await.expect("the audit replay reads every record");
        assert!(report.ok(), "round {round}: replay differs from the views: {report:?}");
        engine.shutdown().await;
    }
    assert!(total_acks > KILLS as usize, "the load acknowledged too little to test anything ({total_acks})");
}
