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

const BATCHES: [usize; 4] = [1, 8, 64, 512];
/// Batch sizes that also get the one-key-per-record raw case.
const PER_KEY_BATCHES: [usize; 2] = [64, 512];
/// The memory log is emptied (untimed) once it holds this many records, so
/// that its memory does not grow with the iteration count.
const MEMORY_LOG_RECORDS_MAX: u64 = 1 << 16;
/// `SledLog`'s page cache bound, so the raw db is configured the same way.
const SLED_CACHE_BYTES: u64 = 64 << 20;

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
            apply(&mut f.state, e);
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

        let mut log = SledLog::open(&dir.path().join("sled_log")).expect("open a sled log");
        group.bench_function(BenchmarkId::new("sled_log", n), |b| {
            b.iter(|| {
                number(&mut batch, log.next_seq());
                rt.block_on(log.append(&batch)).expect("append")
            })
        });
        eprintln!("sled_log: {} records, {} B on disk", log.next_seq() - 1, log.size_bytes());
        drop(log);

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

        let (db, tree) = raw_db(&dir.path().join("raw_sled_value"));
        let mut next = 1u64;
        group.bench_function(BenchmarkId::new("raw_sled_value", n), |b| {
            b.iter(|| {
                tree.insert(next.to_be_bytes(), value.as_slice()).expect("insert");
                db.flush().expect("flush");
                next += n as u64;
            })
        });
        drop((tree, db));

        if PER_KEY_BATCHES.contains(&n) {
            let (db, tree) = raw_db(&dir.path().join("raw_sled_per_key"));
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
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
