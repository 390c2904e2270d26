//! Replay of a 1,000,000-event sled log, with the scan-only figure in the same run.
//!
//! The log is built once per run, by a child process of this binary (so the
//! builder's heap does not slow the measuring process), in a temporary
//! directory reused by every sample. Its events come from driving
//! `decide`/`apply` with a seeded mix of commands over four changer
//! libraries (1,000 slots, 16 drives, 800 cartridges each): sessions opened
//! and closed, mounts, the workers' starts, steps, completions and a few
//! failures, immediate and deferred dismounts, timer ticks (and the
//! make-room dismounts and cancellations they lead to). The same records are
//! written twice with `SledLog::append`: in batches of 4,096 (`batch_4096`,
//! one ~1 MB sled value per batch) and in batches of 8 (`batch_8`, the
//! commit groups of a moderately loaded engine), since a stored value is a
//! commit group and replay reads values.
//!
//! * `full`: `SledLog::open` + the engine's replay
//!   (`rsm_engine::replay::apply_tail`: `read(from, 4096)` decoding and
//!   verifying the hash chain, and `apply` of every event to an empty
//!   `State`; it pipelines the two on two threads).
//! * `full_sequential`: the same open, read loop and `apply`, one after the
//!   other on one thread: the sum of the parts.
//! * `scan_only`: the same open and read loop, without `apply`.
//! * `raw_sled_scan`: a plain sled open and iteration of the stored batch
//!   values, no decoding: the storage floor under both.
//!
//! Each case runs once untimed first (checking that the replay rebuilds the
//! builder's projection, and warming the OS page cache); its measurement
//! time is then set so each of the 10 samples holds two iterations.
//!
//! Every iteration opens the log afresh; the files stay in the OS page
//! cache, so this is a warm-disk, cold-process-cache replay. Dropping the
//! log and the projection is not timed.
//!
//! Run: `cargo bench --bench replay`.

mod common;

use common::Fixture;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput};
use rsm::log::{EventLog, SledLog};
use rsm::*;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Events in the log.
const EVENTS: u64 = 1_000_000;
/// Envelopes per append of each log built (each must divide the first).
const BUILD_BATCHES: [usize; 2] = [4_096, 8];
/// Records per read while replaying (the engine's chunk).
const READ_CHUNK: usize = 4_096;
/// `SledLog`'s page cache bound, so the raw scan is configured the same way.
const SLED_CACHE_BYTES: u64 = 64 << 20;
/// When set, this process only builds the log in the directory it names.
const BUILD_ENV: &str = "RSM_BENCH_BUILD_REPLAY_LOG";
/// What the builder learned of the final projection, for checking the replay.
const SUMMARY_FILE: &str = "summary.txt";

/// A tiny deterministic generator (splitmix64 over a counter).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 += 1;
        splitmix64(self.0) % n
    }
}

/// What a replayed projection must look like: counts that depend on every event.
fn summary(state: &State) -> String {
    let open = state.sessions.values().filter(|s| s.open).count();
    let loaded = state.drives.values().filter(|d| d.medium.is_some()).count();
    let mounts: u64 = state.drives.values().map(|d| d.mount_count).sum();
    format!(
        "sessions={} open={open} requests={} next_order={} loaded_drives={loaded} mounts={mounts}",
        state.sessions.len(),
        state.requests.len(),
        state.next_order
    )
}

/// Builds the log in `dir/log` (run in a child process).
fn build(dir: &Path) {
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime");
    let mut logs: Vec<(usize, SledLog)> =
        BUILD_BATCHES.iter().map(|&n| (n, SledLog::open(&log_dir(dir, n)).expect("open a sled log"))).collect();
    assert!(logs.iter().all(|(_, log)| log.next_seq() == 1), "fresh directories");
    let mut f = Fixture::new(4, 1_000, 16, 800, true);
    let media: Vec<MediaId> = f.libs.iter().flat_map(|l| l.media.iter().copied()).collect();
    let libraries: Vec<LibraryId> = f.libs.iter().map(|l| l.id).collect();
    let mut sessions = vec![f.session];
    let mut rng = Rng(0x00C0_FFEE);
    let mut counts: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let mut rejected = 0u64;
    let mut commands: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let mut rejections: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let mut flush = |f: &mut Fixture, all: bool, counts: &mut std::collections::BTreeMap<&'static str, u64>| {
        let pending = f.envelopes.as_mut().expect("recording");
        while pending.len() >= BUILD_BATCHES[0] || (all && !pending.is_empty()) {
            let batch: Vec<_> = pending.drain(..pending.len().min(BUILD_BATCHES[0])).collect();
            for e in &batch {
                *counts.entry(e.event.name()).or_default() += 1;
            }
            for (n, log) in &mut logs {
                for chunk in batch.chunks(*n) {
                    rt.block_on(log.append(chunk)).expect("append");
                }
            }
        }
    };
    while f.next_seq <= EVENTS {
        // Time passes between commands: 0 to 4 s, so deferred dismounts (300 s) expire.
        f.now_ms += rng.below(4_000);
        let left = EVENTS + 1 - f.next_seq;
        let command = if left < 8 {
            // Land on exactly EVENTS with one-event commands.
            Command::OpenSession { principal: common::PRINCIPAL.into(), application: "bench".into() }
        } else {
            match rng.below(1_000) {
                0..=9 if sessions.len() < 8 => {
                    Command::OpenSession { principal: common::PRINCIPAL.into(), application: "bench".into() }
                }
                10..=11 if sessions.len() > 1 => {
                    let session = sessions.swap_remove(rng.below(sessions.len() as u64) as usize);
                    Command::CloseSession { session }
                }
                15..=29 => Command::Tick,
                30..=379 => Command::MountMedia {
                    session: sessions[rng.below(sessions.len() as u64) as usize],
                    media: media[rng.below(media.len() as u64) as usize],
                    options: MountOptions { write: rng.below(2) == 0, ..Default::default() },
                },
                380..=549 => {
                    let held: Vec<(SessionId, MediaId)> = f
                        .state
                        .drives
                        .values()
                        .filter_map(|d| Some((d.holder?, d.medium?)))
                        .filter(|(s, _)| sessions.contains(s))
                        .collect();
                    if held.is_empty() {
                        continue;
                    }
                    let (session, media) = held[rng.below(held.len() as u64) as usize];
                    Command::DismountMedia { session, media, deferred: rng.below(4) == 0 }
                }
                _ => {
                    // A worker reports: a step done, a failure now and then, or asks for work.
                    let library = libraries[rng.below(libraries.len() as u64) as usize];
                    let mut commands = common::worker_commands(&f.state, library);
                    match commands.swap_remove(rng.below(commands.len() as u64) as usize) {
                        Command::AdvanceRequest { request } | Command::CompleteRequest { request }
                            if rng.below(100) == 0 =>
                        {
                            Command::FailRequest {
                                request,
                                error: ErrorCode::DeviceNotConnected,
                                sense: Some(Sense { key: 4, asc: 0x15, ascq: 1 }),
                                observed: Observed::Unknown,
                            }
                        }
                        command => command,
                    }
                }
            }
        };
        let opens = matches!(command, Command::OpenSession { .. });
        let name = command.name();
        match f.try_step(command) {
            Ok(events) if opens && !events.is_empty() => sessions.push(SessionId(f.last_request.0)),
            Ok(_) => {}
            Err(_) => {
                rejected += 1;
                *rejections.entry(name).or_default() += 1;
            }
        }
        *commands.entry(name).or_default() += 1;
        if f.next_seq % 200_000 < 8 {
            f.state.check_invariants().expect("the generated history is valid");
        }
        flush(&mut f, false, &mut counts);
    }
    flush(&mut f, true, &mut counts);
    for (_, log) in &logs {
        assert_eq!(log.next_seq(), EVENTS + 1, "exactly {EVENTS} events");
    }
    f.state.check_invariants().expect("the generated history is valid");
    std::fs::write(dir.join(SUMMARY_FILE), summary(&f.state)).expect("write the summary");
    eprintln!(
        "built {EVENTS} events from {} commands ({rejected} rejected) in {:.1?}; {}",
        f.stamped,
        started.elapsed(),
        summary(&f.state)
    );
    for (n, log) in &logs {
        eprintln!("log in batches of {n}: {} B on disk", log.size_bytes());
    }
    eprintln!("event mix: {counts:?}");
    eprintln!("commands: {commands:?}");
    eprintln!("rejected: {rejections:?}");
}

/// Builds the log in a child process of this binary; returns its directory.
fn build_in_child() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let exe = std::env::current_exe().expect("this benchmark's path");
    let status = std::process::Command::new(exe).env(BUILD_ENV, dir.path()).status().expect("run the builder");
    assert!(status.success(), "the log builder failed: {status}");
    dir
}

/// How a replay case reads and applies.
#[derive(Clone, Copy)]
enum Mode {
    /// The engine's replay (`apply_tail`: reading and verifying on one
    /// thread, applying on another).
    Engine,
    /// The same read loop and `apply`, one after the other on this thread.
    Sequential,
    /// The read loop alone.
    ScanOnly,
}

/// `SledLog::open` + the read loop (+ `apply` to `state`, by `mode`);
/// returns the records read and the open log.
fn replay(dir: &Path, rt: &tokio::runtime::Runtime, state: &mut State, mode: Mode) -> (u64, SledLog) {
    let log = SledLog::open(dir).expect("open the log");
    let records = match mode {
        Mode::Engine => {
            rt.block_on(rsm_engine::replay::apply_tail(&log, state, 1)).expect("replay verifies and applies")
        }
        Mode::Sequential | Mode::ScanOnly => {
            let mut next = 1;
            let mut read = 0;
            loop {
                let records = rt.block_on(log.read(next, READ_CHUNK)).expect("the log verifies");
                let Some(last) = records.last() else { break };
                next = last.envelope.seq + 1;
                read += records.len() as u64;
                if let Mode::Sequential = mode {
                    for r in &records {
                        apply(state, &r.envelope.event).expect("the log applies");
                    }
                }
                black_box(records);
            }
            read
        }
    };
    (records, log)
}

/// The directory of the log built in batches of `n`.
fn log_dir(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("log_batch_{n}"))
}

/// A plain sled open and iteration of the log tree; returns the bytes seen.
fn raw_scan(dir: &Path) -> usize {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(SLED_CACHE_BYTES)
        .flush_every_ms(None)
        .open()
        .expect("open the log's sled db");
    let tree = db.open_tree("log").expect("the log tree");
    let mut bytes = 0usize;
    for item in tree.iter() {
        let (key, value) = item.expect("sled reads");
        bytes += key.len() + value.len();
    }
    bytes
}

/// Runs `case` once untimed, then as a flat-sampled criterion bench with
/// two iterations per sample. `case` returns the time of what it measures.
fn bench_case(group: &mut BenchmarkGroup<'_, WallTime>, id: BenchmarkId, mut case: impl FnMut() -> Duration) {
    let once = case();
    group.measurement_time((once * 20).max(Duration::from_secs(1)));
    group.bench_function(id, |b| b.iter_custom(|iters| (0..iters).map(|_| case()).sum()));
}

fn bench(c: &mut Criterion, dir: &Path) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime");
    let expected = std::fs::read_to_string(dir.join(SUMMARY_FILE)).expect("the builder's summary");

    let mut group = c.benchmark_group("replay_1M");
    group.sample_size(10).sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(EVENTS));
    group.warm_up_time(Duration::from_millis(1));
    for n in BUILD_BATCHES {
        let path = log_dir(dir, n);
        let label = format!("batch_{n}");
        for (name, mode) in
            [("full", Mode::Engine), ("full_sequential", Mode::Sequential), ("scan_only", Mode::ScanOnly)]
        {
            let mut checked = false;
            bench_case(&mut group, BenchmarkId::new(name, &label), || {
                let mut state = State::new();
                let start = Instant::now();
                let (records, log) = replay(&path, &rt, &mut state, mode);
                let took = start.elapsed();
                assert_eq!(records, EVENTS);
                if !checked && !matches!(mode, Mode::ScanOnly) {
                    assert_eq!(summary(&state), expected, "replay rebuilds the projection the builder had");
                    state.check_invariants().expect("the replayed projection is valid");
                    checked = true;
                }
                drop((black_box(state), log));
                took
            });
        }
        bench_case(&mut group, BenchmarkId::new("raw_sled_scan", &label), || {
            let start = Instant::now();
            black_box(raw_scan(&path));
            start.elapsed()
        });
    }
    group.finish();
}

fn main() {
    if let Some(dir) = std::env::var_os(BUILD_ENV) {
        build(&PathBuf::from(dir));
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    let dir = build_in_child();
    bench(&mut criterion, dir.path());
    criterion.final_summary();
}
