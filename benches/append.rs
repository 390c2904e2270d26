//! Durable appends at batch sizes 1, 8, 64 and 512, in records per second,
//! with the raw sled ceiling measured in the same run.
//!
//! One criterion group per batch size, each in a fresh temporary directory:
//!
//! * `sled_log`: `SledLog::append` (encode, chain-hash, one sled insert of
//!   the batch value, flush), called through a current-thread tokio runtime
//!   as the sequencer calls it.
//! * `memory_log`: `MemoryLog::append`: the same encoding and hashing, no I/O.
//! * `raw_sled_value`: the ceiling of the layout: one plain `insert` of a
//!   pre-encoded value of the same bytes as the log's batch value, then
//!   `flush`, on a sled db configured as `SledLog` configures it.
//! * `raw_sled_per_key` (batch 64 and 512): one `insert` per record of the
//!   same record bytes, then `flush`: the one-key-per-event layout.
//!
//! After each group, the three sled cases run again interleaved round by
//! round for a few seconds (outside criterion, printed as `paired
//! append/N`), so that the log/raw ratio is taken from measurements that
//! shared the same disk conditions.
//!
//! Each case's db is deleted and the disk `sync`ed (untimed) before the
//! next case starts, so no case pays for the previous one's write-back.
//!
//! The records are realistic envelopes: MountRequested events decided on a
//! 1,000-slot library, principal "backup-server".
//!
//! Run: `cargo bench --bench append`.

mod common;

use common::{Fixture, NODE, PRINCIPAL, T0_MS};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rsm::log::{codec, EventLog, MemoryLog, SledLog, GENESIS_HASH};
use rsm::log::{Envelope, Hash};
use rsm::*;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const BATCHES: [usize; 4] = [1, 8, 64, 512];
/// Batch sizes that also get the one-key-per-record raw case.
const PER_KEY_BATCHES: [usize; 2] = [64, 512];
/// The memory log is emptied (untimed) once it holds this many records, so
/// that its memory does not grow with the iteration count.
const MEMORY_LOG_RECORDS_MAX: u64 = 1 << 16;
/// `SledLog`'s page cache bound, so the raw db is configured the same way.
const SLED_CACHE_BYTES: u64 = 64 << 20;
/// How long the interleaved rounds of each batch size run (see [`paired`]).
const PAIRED_TIME: Duration = Duration::from_secs(4);
/// The fewest interleaved rounds, however slow the disk.
const PAIRED_ROUNDS_MIN: usize = 30;

/// `n` envelopes of MountRequested events, as the sequencer would hand them over.
fn envelopes(n: usize) -> Vec<Envelope> {
    let mut f = Fixture::new(1, 1_000, 16, 800, false);
    let session = f.session;
    let media = f.libs[0].media.clone();
    let mut events = Vec::new();
    for &m in &media[..16] {
        let cmd = f.stamp(Command::MountMedia { session, media: m, options: Default::default() });
        let accepted = decide(&f.state, &f.policy, &cmd).expect("the mount is accepted");
        for e in &accepted {
            apply(&mut f.state, e).expect("a decided event applies");
        }
        let [event @ Event::MountRequested { .. }] = accepted.as_slice() else { panic!("{accepted:?}") };
        events.push((cmd.request, cmd.at_ms, event.clone()));
    }
    (0..n)
        .map(|i| {
            let (request, at_ms, event) = events[i % events.len()].clone();
            Envelope { seq: 1 + i as u64, at_ms, request, principal: PRINCIPAL.into(), node: NODE, event }
        })
        .collect()
}

/// Renumbers `batch` to start at `first`, as the sequencer numbers a commit group.
fn number(batch: &mut [Envelope], first: u64) {
    for (i, e) in batch.iter_mut().enumerate() {
        e.seq = first + i as u64;
        e.at_ms = T0_MS + e.seq;
    }
}

/// Deletes a finished case's db and waits for the disk to absorb what is
/// still being written back, so the next case starts from the same place.
fn settle(dir: &Path) {
    std::fs::remove_dir_all(dir).expect("remove a finished case's db");
    let synced = std::process::Command::new("sync").status().is_ok_and(|s| s.success());
    if !synced {
        eprintln!("warning: `sync` failed; the next case may pay for this one's write-back");
    }
}

/// A sled db configured as `SledLog` configures its own.
fn raw_db(dir: &Path) -> (sled::Db, sled::Tree) {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(SLED_CACHE_BYTES)
        .flush_every_ms(None)
        .open()
        .expect("open a raw sled db");
    let tree = db.open_tree("log").expect("open the raw tree");
    (db, tree)
}

/// The p-th percentile of `times` (sorted in place).
fn percentile(times: &mut [Duration], p: usize) -> Duration {
    times.sort_unstable();
    times[(times.len() - 1) * p / 100]
}

/// The sled cases again, interleaved round by round outside criterion: each
/// round runs each case once (in alternating order), on dbs opened together,
/// so a drift in the disk's flush latency (the machine is shared) hits every
/// case alike. Prints each case's median and the log/raw throughput ratios:
/// of the medians, and the median of the per-round ratios.
fn paired(n: usize, batch: &mut [Envelope], value: &[u8], record_bytes: &[Vec<u8>], dir: &Path, rt: &Runtime) {
    let log_path = dir.join("paired_sled_log");
    let mut log = SledLog::open(&log_path).expect("open a sled log");
    let value_path = dir.join("paired_raw_sled_value");
    let (value_db, value_tree) = raw_db(&value_path);
    let key_path = dir.join("paired_raw_sled_per_key");
    let per_key = PER_KEY_BATCHES.contains(&n).then(|| raw_db(&key_path));
    let (mut value_next, mut key_next) = (1u64, 1u64);
    let cases = if per_key.is_some() { 3 } else { 2 };
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); cases];
    let deadline = Instant::now() + PAIRED_TIME;
    let mut round = 0;
    while Instant::now() < deadline || round < PAIRED_ROUNDS_MIN {
        for i in 0..cases {
            let case = if round % 2 == 0 { i } else { cases - 1 - i };
            number(batch, log.next_seq());
            let start = Instant::now();
            match case {
                0 => drop(rt.block_on(log.append(batch)).expect("append")),
                1 => {
                    value_tree.insert(value_next.to_be_bytes(), value).expect("insert");
                    value_db.flush().expect("flush");
                    value_next += n as u64;
                }
                _ => {
                    let (db, tree) = per_key.as_ref().expect("a per-key db");
                    for bytes in record_bytes {
                        tree.insert(key_next.to_be_bytes(), bytes.as_slice()).expect("insert");
                        key_next += 1;
                    }
                    db.flush().expect("flush");
                }
            }
            times[case].push(start.elapsed());
        }
        round += 1;
    }
    // Per round, raw time / log time = log throughput / raw throughput
    // (computed before the sorting below breaks the pairing of rounds).
    let per_round: Vec<f64> = (1..cases)
        .map(|raw| {
            let mut r: Vec<f64> =
                times[0].iter().zip(&times[raw]).map(|(log, raw)| raw.as_secs_f64() / log.as_secs_f64()).collect();
            r.sort_by(f64::total_cmp);
            r[r.len() / 2]
        })
        .collect();
    let names = ["sled_log", "raw_sled_value", "raw_sled_per_key"];
    let mut report = format!("paired append/{n}: {round} rounds;");
    let medians: Vec<Duration> = times.iter_mut().map(|t| percentile(t, 50)).collect();
    for (case, t) in times.iter_mut().enumerate() {
        let (p10, p50, p90) = (percentile(t, 10), medians[case], percentile(t, 90));
        let rate = n as f64 / p50.as_secs_f64();
        report += &format!(" {} p50 {p50:.1?} (p10 {p10:.1?}, p90 {p90:.1?}) = {rate:.0} rec/s;", names[case]);
    }
    for raw in 1..cases {
        let of_medians = medians[raw].as_secs_f64() / medians[0].as_secs_f64();
        report += &format!(
            " log/{} throughput {of_medians:.2}x (median of per-round ratios {:.2}x);",
            names[raw],
            per_round[raw - 1]
        );
    }
    println!("{report}");
    drop(log);
    drop((value_tree, value_db));
    drop(per_key);
    for path in [&log_path, &value_path] {
        settle(path);
    }
    if key_path.exists() {
        settle(&key_path);
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("a current-thread runtime");
    for n in BATCHES {
        let mut batch = envelopes(n);
        let (value, records) = codec::encode_batch(&batch, GENESIS_HASH).expect("encode a batch");
        let record_bytes: Vec<Vec<u8>> = {
            let mut prev: Hash = GENESIS_HASH;
            batch
                .iter()
                .map(|e| {
                    let (bytes, hash) = codec::encode_record(e, prev);
                    prev = hash;
                    bytes
                })
                .collect()
        };
        eprintln!(
            "batch {n}: value {} B, {:.0} B per record ({} records decoded back)",
            value.len(),
            value.len() as f64 / n as f64,
            records.len()
        );

        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut group = c.benchmark_group(format!("append/{n}"));
        group.throughput(Throughput::Elements(n as u64));

        let path = dir.path().join("sled_log");
        let mut log = SledLog::open(&path).expect("open a sled log");
        group.bench_function(BenchmarkId::new("sled_log", n), |b| {
            b.iter(|| {
                number(&mut batch, log.next_seq());
                rt.block_on(log.append(&batch)).expect("append")
            })
        });
        eprintln!("sled_log: {} records, {} B on disk", log.next_seq() - 1, log.size_bytes());
        drop(log);
        settle(&path);

        let mut log = MemoryLog::new();
        group.bench_function(BenchmarkId::new("memory_log", n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    if log.next_seq() > MEMORY_LOG_RECORDS_MAX {
                        log = MemoryLog::new();
                    }
                    let room = (MEMORY_LOG_RECORDS_MAX + 1 - log.next_seq()) / n as u64 + 1;
                    let chunk = left.min(room);
                    let start = Instant::now();
                    for _ in 0..chunk {
                        number(&mut batch, log.next_seq());
                        black_box(rt.block_on(log.append(&batch)).expect("append"));
                    }
                    total += start.elapsed();
                    left -= chunk;
                }
                total
            })
        });
        drop(log);

        let path = dir.path().join("raw_sled_value");
        let (db, tree) = raw_db(&path);
        let mut next = 1u64;
        group.bench_function(BenchmarkId::new("raw_sled_value", n), |b| {
            b.iter(|| {
                tree.insert(next.to_be_bytes(), value.as_slice()).expect("insert");
                db.flush().expect("flush");
                next += n as u64;
            })
        });
        drop((tree, db));
        settle(&path);

        if PER_KEY_BATCHES.contains(&n) {
            let path = dir.path().join("raw_sled_per_key");
            let (db, tree) = raw_db(&path);
            let mut next = 1u64;
            group.bench_function(BenchmarkId::new("raw_sled_per_key", n), |b| {
                b.iter(|| {
                    for bytes in &record_bytes {
                        tree.insert(next.to_be_bytes(), bytes.as_slice()).expect("insert");
                        next += 1;
                    }
                    db.flush().expect("flush");
                })
            });
            drop((tree, db));
            settle(&path);
        }
        group.finish();
        paired(n, &mut batch, &value, &record_bytes, dir.path(), &rt);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
