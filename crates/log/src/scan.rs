//! Reading verified records out of stored batch values: shared by every log,
//! so that each one verifies exactly the same way.

use crate::{codec, EventLog, Hash, LogError, Record, Snapshot, GENESIS_HASH};

/// Collects up to `max` records with seq >= `from` out of `batches`: stored
/// batch values (first seq, bytes) in key order, starting with the batch that
/// holds `from` or, when none is at or below `from`, the log's first batch.
/// `before` is the batch stored just before the first one (None when the
/// first one should be the log's first).
///
/// Verifies every record it decodes (each batch is decoded whole, so records
/// before `from` in the first batch are checked too), that each batch starts
/// where the one before ended, and that it chains to it.
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
    for item in batches {
        let (first, bytes) = item?;
        if first != expected {
            return Err(LogError::Corrupt {
                seq: expected,
                reason: format!("the next stored batch starts at record {first}"),
            });
        }
        let records = codec::decode_batch(bytes.as_ref(), first)?;
        let (Some(head), Some(last)) = (records.first(), records.last()) else {
            return Err(LogError::Corrupt { seq: first, reason: "empty batch".into() });
        };
        if head.prev_hash != prev_hash {
            return Err(LogError::Corrupt {
                seq: first,
                reason: format!("it does not chain to record {}", first.saturating_sub(1)),
            });
        }
        expected = last.envelope.seq.saturating_add(1);
        prev_hash = last.hash;
        for record in records.into_iter().filter(|r| r.envelope.seq >= from) {
            out.push(record);
            if out.len() >= max {
                return Ok(out);
            }
        }
    }
    Ok(out)
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
