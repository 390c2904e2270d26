//! Reading verified records out of stored batch values: shared by every log,
//! so that each one verifies exactly the same way.

use crate::{codec, EventLog, Hash, LogError, Record, Snapshot, GENESIS_HASH};

/// Collects up to `max` records with seq >= `from` out of `batches`: stored
/// batch values (first seq, bytes) in key order, starting with the batch that
/// holds `from` or, when none is at or below `from`, the log's first batch.
/// `before` is the batch stored just before the first one (None when the
/// first one should be the log's first).
///
/// Verifies every record of every batch it reads (each batch is decoded
/// whole, so records before `from` in the first batch and after the last
/// one returned in the last batch are checked too), that each batch starts
/// where the one before ended, and that it chains to it.
///
/// Decoding and verifying (BLAKE3 of every record) are most of a read's
/// cost, and batches decode independently: a read of many records splits
/// them over two threads, then checks the links between batches in order.
pub(crate) fn collect<B: AsRef<[u8]>>(
    from: u64,
    max: usize,
    before: Option<(u64, B)>,
    batches: impl Iterator<Item = Result<(u64, B), LogError>>,
) -> Result<Vec<Record>, LogError> {
    let mut out = Vec::new();
    if max == 0 {
        return Ok(out);
    }
    // Where the next batch must start, and the hash its first record must chain to.
    let (mut expected, mut prev_hash): (u64, Hash) = match before {
        None => (1, GENESIS_HASH),
        Some((first, bytes)) => codec::batch_tail(bytes.as_ref(), first)?,
    };
    // The stored batches that hold the records wanted, by their declared
    // counts (checked again when split into records).
    let mut stored: Vec<(u64, B)> = Vec::new();
    let mut wanted = 0usize;
    for item in batches {
        let (first, bytes) = item?;
        let declared = codec::batch_count(bytes.as_ref()).unwrap_or(1).max(1);
        let end = first.saturating_add(u64::from(declared));
        wanted = wanted.saturating_add(usize::try_from(end.saturating_sub(from.max(first))).unwrap_or(usize::MAX));
        stored.push((first, bytes));
        if wanted >= max {
            break;
        }
    }
    // Every record slice in seq order, each batch checked to start where the
    // one before ended; the first damaged batch ends the list.
    let mut slices: Vec<(u64, &[u8])> = Vec::new();
    let mut damage: Option<LogError> = None;
    for (first, bytes) in &stored {
        if *first != expected {
            damage = Some(LogError::Corrupt {
                seq: expected,
                reason: format!("the next stored batch starts at record {first}"),
            });
            break;
        }
        match codec::batch_records(bytes.as_ref(), *first) {
            Ok(records) => {
                expected = first.saturating_add(records.len() as u64);
                slices.extend(records);
            }
            Err(e) => {
                damage = Some(e);
                break;
            }
        }
    }
    // Decoded and verified in any order, then chained in seq order, so the
    // first damage reported is the first in the log. Every batch read is
    // checked whole, also past the last record returned.
    for decoded in decode_all(&slices) {
        let record = decoded?;
        if record.prev_hash != prev_hash {
            let seq = record.envelope.seq;
            return Err(LogError::Corrupt {
                seq,
                reason: format!("it does not chain to record {}", seq.saturating_sub(1)),
            });
        }
        prev_hash = record.hash;
        if record.envelope.seq >= from && out.len() < max {
            out.push(record);
        }
    }
    match damage {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Records below which a read decodes on the calling thread only: a thread
/// costs tens of microseconds, a record about one.
const PARALLEL_RECORDS_MIN: usize = 1_024;

/// Whether a second core is there, asked once per process: the answer
/// reads cgroup files on Linux, too slow to ask on every read.
fn two_cores() -> bool {
    static TWO: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TWO.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2))
}

/// Decodes and verifies each record, in order; on two threads when there is
/// enough work and a second core.
fn decode_all(slices: &[(u64, &[u8])]) -> Vec<Result<Record, LogError>> {
    let decode = |part: &[(u64, &[u8])]| -> Vec<Result<Record, LogError>> {
        part.iter().map(|(seq, bytes)| codec::decode_record(bytes, *seq)).collect()
    };
    if slices.len() < PARALLEL_RECORDS_MIN || !two_cores() {
        return decode(slices);
    }
    let (head, tail) = slices.split_at(slices.len() / 2);
    std::thread::scope(|scope| {
        let second = scope.spawn(|| decode(tail));
        let mut out = decode(head);
        match second.join() {
            Ok(rest) => out.extend(rest),
            // The decoder does not panic on any input; should it, decode again here.
            Err(_) => out.extend(decode(tail)),
        }
        out
    })
}

/// The seq a stored key names (keys are seqs, big-endian, so that they sort).
pub(crate) fn key_seq(key: &[u8]) -> Result<u64, LogError> {
    <[u8; 8]>::try_from(key)
        .map(u64::from_be_bytes)
        .map_err(|_| LogError::Corrupt { seq: 0, reason: format!("a stored key of {} bytes is not a seq", key.len()) })
}

/// The stored key of a seq.
pub(crate) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Whether a decoded snapshot stored under `key` belongs to `log`'s history:
/// it names its key, and its hash is the hash of the log's record at its seq.
/// Damage to that record makes it not belong; a storage failure is an error.
pub(crate) async fn snapshot_belongs<L: EventLog + ?Sized>(
    log: &L,
    key: u64,
    snapshot: &Snapshot,
) -> Result<bool, LogError> {
    if snapshot.seq != key {
        return Ok(false);
    }
    if snapshot.seq == 0 {
        return Ok(snapshot.hash == GENESIS_HASH);
    }
    if snapshot.seq >= log.next_seq() {
        return Ok(false);
    }
    match log.read(snapshot.seq, 1).await {
        Ok(records) => Ok(records.first().map(|r| r.hash) == Some(snapshot.hash)),
        Err(LogError::Corrupt { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}
