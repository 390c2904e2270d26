//! The conformance suite of the [`EventLog`] contract: every implementation
//! runs it in its tests, so they all behave alike.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! rsm_log::conformance::run_suite(rsm_log::MemoryLog::new).await;
//! # });
//! ```

use crate::{codec, Envelope, EventLog, LogError, Record, Snapshot, GENESIS_HASH};
use rsm_model::{uuid::Uuid, Event, RequestId, SessionId, State};

/// Runs every check of the contract, each on a fresh empty log from `make`;
/// panics, naming the check, at the first failure.
pub async fn run_suite<L: EventLog, F: FnMut() -> L>(mut make: F) {
    empty_log(make()).await;
    gapless(make()).await;
    batch_of_n_is_n_records(make()).await;
    chain_verifies_across_batches(make()).await;
    read_windows(make()).await;
    snapshots_save_and_load_newest(make()).await;
    reader_follows_acknowledged_appends(make()).await;
}

/// A sample envelope for seq `seq`; the event varies with it.
pub fn envelope(seq: u64) -> Envelope {
    let id = Uuid::from_u128(u128::from(seq));
    Envelope {
        seq,
        at_ms: 1_700_000_000_000 + seq,
        request: RequestId(Uuid::from_u128(0x5EED_0000 + u128::from(seq))),
        principal: format!("principal-{}", seq % 3),
        node: 1,
        event: match seq % 3 {
            0 => Event::SessionClosed { session: SessionId(id) },
            1 => Event::SessionOpened { session: SessionId(id), principal: "alice".into(), application: "RSM".into() },
            _ => Event::RequestStarted { request: RequestId(id), at_ms: seq },
        },
    }
}

/// Sample envelopes for `from..to`.
pub fn envelopes(from: u64, to: u64) -> Vec<Envelope> {
    (from..to).map(envelope).collect()
}

fn ok<T>(result: Result<T, LogError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: {e}"),
    }
}

async fn append<L: EventLog>(log: &mut L, from: u64, to: u64) -> Vec<Record> {
    ok(log.append(&envelopes(from, to)).await, &format!("append {from}..{to}"))
}

async fn read_all<L: EventLog>(log: &L) -> Vec<Record> {
    ok(log.read(1, usize::MAX).await, "read everything")
}

async fn empty_log<L: EventLog>(log: L) {
    assert_eq!(log.next_seq(), 1, "an empty log starts at 1");
    assert_eq!(log.last_hash(), GENESIS_HASH, "an empty log's last hash is the genesis hash");
    assert_eq!(read_all(&log).await, vec![], "an empty log reads nothing");
    assert_eq!(ok(log.read(0, 10).await, "read from 0"), vec![]);
    assert_eq!(ok(log.latest_snapshot().await, "latest snapshot"), None, "an empty log has no snapshot");
}

async fn gapless<L: EventLog>(mut log: L) {
    let refused = log.append(&envelopes(2, 3)).await;
    assert!(
        matches!(refused, Err(LogError::OutOfSequence { expected: 1, got: 2 })),
        "an append not starting at 1 is refused: {refused:?}"
    );
    let gap = vec![envelope(1), envelope(3)];
    let refused = log.append(&gap).await;
    assert!(
        matches!(refused, Err(LogError::OutOfSequence { expected: 2, got: 3 })),
        "a batch with a gap is refused: {refused:?}"
    );
    assert_eq!((log.next_seq(), log.last_hash()), (1, GENESIS_HASH), "a refused append changes nothing");
    assert_eq!(read_all(&log).await, vec![], "a refused append writes nothing");
    assert_eq!(ok(log.append(&[]).await, "empty append"), vec![], "an empty batch is a no-op");
    assert_eq!(log.next_seq(), 1, "an empty batch is a no-op");

    let stored = append(&mut log, 1, 3).await;
    for bad in [1, 2, 4] {
        let refused = log.append(&envelopes(bad, bad + 1)).await;
        assert!(
            matches!(refused, Err(LogError::OutOfSequence { expected: 3, got }) if got == bad),
            "an append at {bad} after 2 records is refused: {refused:?}"
        );
    }
    assert_eq!(read_all(&log).await, stored, "refused appends leave the stored records alone");
    append(&mut log, 3, 4).await;
    assert_eq!(log.next_seq(), 4, "the log stays usable after refused appends");
}

async fn batch_of_n_is_n_records<L: EventLog>(mut log: L) {
    let stored = append(&mut log, 1, 6).await;
    let seqs: Vec<u64> = stored.iter().map(|r| r.envelope.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5], "a batch of 5 is 5 records");
    let envelopes: Vec<Envelope> = stored.iter().map(|r| r.envelope.clone()).collect();
    assert_eq!(envelopes, self::envelopes(1, 6), "records hold the appended envelopes");
    assert_eq!(read_all(&log).await, stored, "read returns what append returned");
    assert_eq!(log.next_seq(), 6);
    assert_eq!(log.last_hash(), stored[4].hash, "last_hash is the last record's hash");
    assert!(log.size_bytes() > 0, "a log holding records reports a size");
}

async fn chain_verifies_across_batches<L: EventLog>(mut log: L) {
    let mut stored = append(&mut log, 1, 4).await;
    stored.extend(append(&mut log, 4, 5).await);
    stored.extend(append(&mut log, 5, 9).await);
    assert_eq!(read_all(&log).await, stored, "three batches read back as one sequence");
    let mut prev = GENESIS_HASH;
    for record in &stored {
        assert_eq!(record.prev_hash, prev, "record {} chains to the one before", record.envelope.seq);
        let (_, hash) = codec::encode_record(&record.envelope, record.prev_hash);
        assert_eq!(record.hash, hash, "record {}'s hash is the hash of its bytes", record.envelope.seq);
        prev = record.hash;
    }
    assert_eq!(log.last_hash(), prev);
}

async fn read_windows<L: EventLog>(mut log: L) {
    let mut stored = append(&mut log, 1, 4).await;
    stored.extend(append(&mut log, 4, 8).await);
    stored.extend(append(&mut log, 8, 9).await);
    let window = |from: u64, max: usize| -> Vec<Record> {
        stored.iter().filter(|r| r.envelope.seq >= from).take(max).cloned().collect()
    };
    for (from, max) in [(2, 1), (2, 2), (3, 3), (5, 2), (5, 100), (4, 4), (7, 2), (8, 1), (1, 8), (0, 3)] {
        let got = ok(log.read(from, max).await, &format!("read({from}, {max})"));
        assert_eq!(got, window(from, max), "read({from}, {max})");
    }
    for (from, max) in [(9, 10), (10, 1), (u64::MAX, 5), (1, 0), (5, 0)] {
        assert_eq!(ok(log.read(from, max).await, "read past the end"), vec![], "read({from}, {max}) is empty");
    }
}

async fn snapshots_save_and_load_newest<L: EventLog>(mut log: L) {
    let stored = append(&mut log, 1, 9).await;
    let snapshot_at = |seq: u64, order: u64| {
        let mut state = State::new();
        state.next_order = order;
        Snapshot { seq, hash: stored[seq as usize - 1].hash, state }
    };
    let first = snapshot_at(3, 30);
    ok(log.save_snapshot(&first).await, "save snapshot 3");
    assert_eq!(ok(log.latest_snapshot().await, "latest"), Some(first), "a saved snapshot loads back");
    for seq in [4, 6, 5, 8, 7] {
        ok(log.save_snapshot(&snapshot_at(seq, seq * 10)).await, "save snapshot");
    }
    assert_eq!(
        ok(log.latest_snapshot().await, "latest"),
        Some(snapshot_at(8, 80)),
        "the newest snapshot is the one at the highest seq"
    );
    append(&mut log, 9, 10).await;
    for (seq, why) in [(9, "its hash is not the log's record 9"), (20, "it is past the log's end")] {
        let foreign = Snapshot { seq, hash: [9; 32], state: State::new() };
        ok(log.save_snapshot(&foreign).await, "save a snapshot of another history");
        assert_eq!(
            ok(log.latest_snapshot().await, "latest"),
            Some(snapshot_at(8, 80)),
            "a snapshot at {seq} is skipped: {why}"
        );
    }
    assert_eq!(read_all(&log).await.len(), 9, "snapshots leave the records alone");
}

async fn reader_follows_acknowledged_appends<L: EventLog>(mut log: L) {
    assert_eq!(log.first_seq(), 1, "a log that drops nothing begins at 1");
    let reader = log.reader();
    assert_eq!((reader.first_seq(), reader.next_seq()), (1, 1), "a reader of an empty log");
    assert_eq!(ok(reader.read(1, 10), "a reader reads an empty log"), vec![]);
    let stored = append(&mut log, 1, 4).await;
    let more = append(&mut log, 4, 6).await;
    assert_eq!(reader.next_seq(), 6, "a reader made before the appends sees them");
    let all = ok(reader.read(1, 100), "a reader reads everything");
    assert_eq!(all, [stored, more].concat(), "a reader reads what the log reads");
    assert_eq!(all, read_all(&log).await);
    assert_eq!(ok(reader.read(3, 2), "a window"), all[2..4].to_vec(), "a reader's window across batches");
    assert_eq!(ok(reader.read(6, 10), "past the end"), vec![], "a reader past the end reads nothing");
    let late = log.reader();
    assert_eq!(ok(late.read(5, 10), "a later reader"), all[4..].to_vec());
    drop(log);
    let closed = reader.read(1, 10);
    assert!(matches!(closed, Err(LogError::Io(_))), "a reader of a closed log fails its reads: {closed:?}");
}
