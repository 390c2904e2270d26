//! The in-memory log: the same bytes as the sled log, kept in a `Vec`, with
//! fault injection for the deterministic simulation.

use crate::scan;
use crate::{
    codec, prepare_append, tail_after, Envelope, EventLog, Hash, LogError, Record, Snapshot, GENESIS_HASH,
    SNAPSHOTS_KEPT,
};
use std::collections::BTreeMap;

/// Bytes cut off the end of the last batch by [`MemoryLog::tear_last_record`].
const TORN_BYTES: usize = 3;

/// An [`EventLog`] held in memory. It stores encoded batch values exactly as
/// [`crate::SledLog`] does, so the codec and the verification are exercised.
///
/// Everything it holds is durable in the simulation's sense: to simulate a
/// crash keep a clone, drop the original, and [`reopen`](Self::reopen) the
/// clone. Faults: [`fail_next_append`](Self::fail_next_append),
/// [`fail_next_append_after_write`](Self::fail_next_append_after_write),
/// [`tear_last_record`](Self::tear_last_record),
/// [`fail_reads`](Self::fail_reads).
#[derive(Clone, Debug)]
pub struct MemoryLog {
    /// Batch values in seq order, each with its first seq.
    batches: Vec<(u64, Vec<u8>)>,
    /// Snapshot values by seq.
    snapshots: BTreeMap<u64, Vec<u8>>,
    /// The seq the next record must carry.
    next_seq: u64,
    /// Hash of the last record.
    last_hash: Hash,
    /// Why appends are refused until reopened (a failed append).
    broken: Option<String>,
    /// The next non-empty append fails without writing.
    fail_next_append: bool,
    /// The next non-empty append writes its batch, then reports failure.
    fail_next_append_after_write: bool,
    /// Reads and snapshot loads fail.
    fail_reads: bool,
}

impl Default for MemoryLog {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self {
            batches: Vec::new(),
            snapshots: BTreeMap::new(),
            next_seq: 1,
            last_hash: GENESIS_HASH,
            broken: None,
            fail_next_append: false,
            fail_next_append_after_write: false,
            fail_reads: false,
        }
    }

    /// The log as a restarted process would open it: what is stored, no
    /// faults armed, appends allowed again, and where it ends learned from
    /// the last batch ([`LogError::Corrupt`] when that batch does not verify,
    /// as [`crate::SledLog::open`] does).
    ///
    /// A last batch cut short of its own length prefixes is an append that
    /// never finished (a torn write, which was never acknowledged): it is
    /// dropped, as a write-ahead log truncates its unfinished tail. Any other
    /// damage is reported.
    pub fn reopen(&self) -> Result<MemoryLog, LogError> {
        let mut log =
            MemoryLog { batches: self.batches.clone(), snapshots: self.snapshots.clone(), ..MemoryLog::new() };
        if log.batches.last().is_some_and(|(_, bytes)| codec::is_truncated(bytes)) {
            log.batches.pop();
        }
        if let Some((first, bytes)) = log.batches.last() {
            let records = codec::decode_batch(bytes, *first)?;
            if let Some(last) = records.last() {
                log.next_seq = last.envelope.seq.saturating_add(1);
                log.last_hash = last.hash;
            }
        }
        Ok(log)
    }

    /// The next non-empty append fails with [`LogError::Io`] and writes
    /// nothing; the log then refuses appends until reopened.
    pub fn fail_next_append(&mut self) {
        self.fail_next_append = true;
    }

    /// The next non-empty append stores its batch but fails with
    /// [`LogError::Io`], as a flush that reported an error yet reached the
    /// disk; the log then refuses appends until reopened.
    pub fn fail_next_append_after_write(&mut self) {
        self.fail_next_append_after_write = true;
    }

    /// Cuts the last few bytes off the last stored batch, as a torn write:
    /// reads of it then report [`LogError::Corrupt`], and
    /// [`reopen`](Self::reopen) drops it as an unfinished append.
    pub fn tear_last_record(&mut self) {
        if let Some((_, bytes)) = self.batches.last_mut() {
            bytes.truncate(bytes.len().saturating_sub(TORN_BYTES));
        }
    }

    /// While `on`, [`EventLog::read`] and [`EventLog::latest_snapshot`] fail
    /// with [`LogError::Io`].
    pub fn fail_reads(&mut self, on: bool) {
        self.fail_reads = on;
    }

    /// Test helper: flips one byte (at `offset_in_record` within the record's
    /// bytes) of the stored record `seq`.
    ///
    /// # Panics
    ///
    /// When record `seq` is not stored or the offset is past its end.
    #[doc(hidden)]
    pub fn corrupt_byte_for_test(&mut self, seq: u64, offset_in_record: usize) {
        let index = self.batches.partition_point(|(first, _)| *first <= seq);
        let (first, bytes) =
            index.checked_sub(1).and_then(|i| self.batches.get_mut(i)).expect("a stored batch at or before the record");
        let span = codec::record_span(bytes, *first, seq).expect("the batch holds the record");
        assert!(offset_in_record < span.len(), "record {seq} has {} bytes", span.len());
        bytes[span.start + offset_in_record] ^= 0xFF;
    }

    fn check_reads(&self) -> Result<(), LogError> {
        match self.fail_reads {
            true => Err(LogError::Io("injected read failure".into())),
            false => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl EventLog for MemoryLog {
    fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn last_hash(&self) -> Hash {
        self.last_hash
    }

    async fn append(&mut self, batch: &[Envelope]) -> Result<Vec<Record>, LogError> {
        let Some((value, records)) = prepare_append(self.broken.as_deref(), self.next_seq, self.last_hash, batch)?
        else {
            return Ok(Vec::new());
        };
        if std::mem::take(&mut self.fail_next_append) {
            let why = "injected append failure, nothing written".to_string();
            self.broken = Some(why.clone());
            return Err(LogError::Io(why));
        }
        self.batches.push((self.next_seq, value));
        if let Some((next_seq, last_hash)) = tail_after(&records) {
            (self.next_seq, self.last_hash) = (next_seq, last_hash);
        }
        if std::mem::take(&mut self.fail_next_append_after_write) {
            let why = "injected append failure after the batch was written".to_string();
            self.broken = Some(why.clone());
            return Err(LogError::Io(why));
        }
        Ok(records)
    }

    async fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError> {
        self.check_reads()?;
        let from = from.max(1);
        if max == 0 || from >= self.next_seq {
            return Ok(Vec::new());
        }
        fn as_entry((first, bytes): &(u64, Vec<u8>)) -> (u64, &[u8]) {
            (*first, bytes)
        }
        let start = self.batches.partition_point(|(first, _)| *first <= from).checked_sub(1);
        let (before, batches) = match start {
            Some(i) => (i.checked_sub(1).map(|j| as_entry(&self.batches[j])), &self.batches[i..]),
            None => (None, &self.batches[..]),
        };
        scan::collect(from, max, before, batches.iter().map(|b| Ok(as_entry(b))))
    }

    async fn save_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), LogError> {
        self.snapshots.insert(snapshot.seq, codec::encode_snapshot(snapshot));
        while self.snapshots.len() > SNAPSHOTS_KEPT {
            self.snapshots.pop_first();
        }
        Ok(())
    }

    async fn latest_snapshot(&self) -> Result<Option<Snapshot>, LogError> {
        self.check_reads()?;
        for (key, bytes) in self.snapshots.iter().rev() {
            let Ok(snapshot) = codec::decode_snapshot(bytes) else {
                continue;
            };
            if scan::snapshot_belongs(self, *key, &snapshot).await? {
                return Ok(Some(snapshot));
            }
        }
        Ok(None)
    }

    fn size_bytes(&self) -> u64 {
        let batches: usize = self.batches.iter().map(|(_, b)| b.len()).sum();
        let snapshots: usize = self.snapshots.values().map(Vec::len).sum();
        (batches + snapshots) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{envelopes, run_suite};

    async fn log_with(batches: &[(u64, u64)]) -> MemoryLog {
        let mut log = MemoryLog::new();
        for &(from, to) in batches {
            log.append(&envelopes(from, to)).await.expect("append to a healthy log");
        }
        log
    }

    #[tokio::test]
    async fn memory_log_passes_the_conformance_suite() {
        run_suite(MemoryLog::new).await;
    }

    #[tokio::test]
    async fn failed_append_writes_nothing_and_refuses_appends_until_reopened() {
        let mut log = log_with(&[(1, 3)]).await;
        log.fail_next_append();
        let err = log.append(&envelopes(3, 5)).await.expect_err("injected failure");
        assert!(matches!(err, LogError::Io(_)), "{err}");
        assert_eq!(log.next_seq(), 3);
        let err = log.append(&envelopes(3, 5)).await.expect_err("unusable until reopened");
        assert!(matches!(err, LogError::Io(_)), "{err}");
        let mut log = log.reopen().expect("reopen");
        assert_eq!(log.read(1, 100).await.expect("read").len(), 2, "nothing of the failed batch");
        log.append(&envelopes(3, 5)).await.expect("usable after reopen");
        assert_eq!(log.next_seq(), 5);
    }

    #[tokio::test]
    async fn append_failing_after_write_is_found_whole_on_reopen() {
        let mut log = log_with(&[(1, 3)]).await;
        log.fail_next_append_after_write();
        assert!(matches!(log.append(&envelopes(3, 6)).await, Err(LogError::Io(_))));
        let log = log.reopen().expect("reopen");
        assert_eq!(log.next_seq(), 6, "the whole batch is there");
        assert_eq!(log.read(1, 100).await.expect("read").len(), 5);
    }

    #[tokio::test]
    async fn torn_last_batch_reads_as_corrupt_and_reopen_drops_it() {
        let mut log = log_with(&[(1, 3), (3, 6)]).await;
        log.tear_last_record();
        let err = log.read(1, 100).await.expect_err("torn");
        assert!(matches!(err, LogError::Corrupt { seq: 5, .. }), "{err}");
        assert_eq!(log.read(1, 2).await.expect("records before the torn batch").len(), 2);
        let log = log.reopen().expect("an unfinished append is dropped");
        assert_eq!(log.next_seq(), 3);
        assert_eq!(log.read(1, 100).await.expect("the rest verifies").len(), 2);
    }

    #[tokio::test]
    async fn a_flipped_byte_in_the_last_batch_is_not_mistaken_for_a_torn_write() {
        let mut log = log_with(&[(1, 3), (3, 6)]).await;
        log.corrupt_byte_for_test(4, 20);
        let err = log.reopen().expect_err("damage is reported");
        assert!(matches!(err, LogError::Corrupt { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_large_read_decodes_in_parallel_and_reports_the_first_damage() {
        // 3,000 records in batches of 7 to 400: reads this large decode on two threads.
        let mut bounds = vec![(1, 8)];
        let mut next = 8;
        for size in [400, 393, 400, 400, 1, 400, 400, 400, 198].iter().cycle().take(9) {
            bounds.push((next, next + size));
            next += size;
        }
        let mut log = log_with(&bounds).await;
        let all = log.read(1, 4_096).await.expect("an intact log reads whole");
        assert_eq!(all.len() as u64, next - 1);
        assert!(all.windows(2).all(|w| w[1].envelope.seq == w[0].envelope.seq + 1 && w[1].prev_hash == w[0].hash));
        assert_eq!(log.read(1_500, 1_000).await.expect("a middle range").first().map(|r| r.envelope.seq), Some(1_500));

        // Damage in both halves: the first one in seq order is reported.
        log.corrupt_byte_for_test(2_900, 30);
        let err = log.read(1, 4_096).await.expect_err("damaged");
        assert!(matches!(err, LogError::Corrupt { seq: 2_900, .. }), "{err}");
        log.corrupt_byte_for_test(700, 30);
        let err = log.read(1, 4_096).await.expect_err("damaged");
        assert!(matches!(err, LogError::Corrupt { seq: 700, .. }), "{err}");
        assert!(log.read(1, 699).await.is_err(), "the damaged batch is checked whole");
        assert_eq!(log.read(1, 407).await.expect("the batches before the damaged one").len(), 407);
    }

    #[tokio::test]
    async fn injected_read_failures_are_io_errors() {
        let mut log = log_with(&[(1, 3)]).await;
        log.fail_reads(true);
        assert!(matches!(log.read(1, 10).await, Err(LogError::Io(_))));
        assert!(matches!(log.latest_snapshot().await, Err(LogError::Io(_))));
        log.fail_reads(false);
        assert_eq!(log.read(1, 10).await.expect("reads again").len(), 2);
    }

    #[tokio::test]
    async fn a_clone_is_the_image_a_crash_leaves() {
        let mut log = log_with(&[(1, 3)]).await;
        let image = log.clone();
        log.append(&envelopes(3, 4)).await.expect("append");
        drop(log);
        let log = image.reopen().expect("reopen the image");
        assert_eq!((log.next_seq(), log.read(1, 10).await.expect("read").len()), (3, 2));
    }

    #[tokio::test]
    async fn flipped_byte_is_corrupt_naming_the_record() {
        let mut log = log_with(&[(1, 4), (4, 6)]).await;
        log.corrupt_byte_for_test(2, 30);
        let err = log.read(1, 100).await.expect_err("flipped");
        assert!(matches!(err, LogError::Corrupt { seq: 2, .. }), "{err}");
        assert_eq!(log.read(4, 100).await.expect("later batch").len(), 2);
    }

    #[tokio::test]
    async fn damaged_newest_snapshot_falls_back_to_an_older_one() {
        let mut log = log_with(&[(1, 5)]).await;
        let records = log.read(1, 10).await.expect("read");
        for seq in [2u64, 4] {
            let snapshot = Snapshot { seq, hash: records[seq as usize - 1].hash, state: rsm_model::State::new() };
            log.save_snapshot(&snapshot).await.expect("save");
        }
        let newest = log.snapshots.get_mut(&4).expect("snapshot 4 stored");
        newest[20] ^= 1;
        assert_eq!(log.latest_snapshot().await.expect("latest").map(|s| s.seq), Some(2));
        log.snapshots.get_mut(&2).expect("snapshot 2 stored").truncate(5);
        assert_eq!(log.latest_snapshot().await.expect("latest"), None);
    }
}
