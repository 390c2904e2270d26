//! The in-memory log: the same bytes as the sled log, kept in a `Vec`, with
//! fault injection for the deterministic simulation.

use crate::scan;
use crate::{
    codec, prepare_append, tail_after, Envelope, EventLog, Hash, LogError, LogReader, Record, Snapshot, GENESIS_HASH,
    SNAPSHOTS_KEPT,
};
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
/// [`fail_reads`](Self::fail_reads), and through [`faults`](Self::faults)
/// (which reach the log after it was handed to an engine) read failures and
/// a log that drops its oldest records.
#[derive(Debug)]
pub struct MemoryLog {
    /// The stored batches, shared with the log's readers.
    stored: Arc<RwLock<Stored>>,
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
}

/// What a [`MemoryLog`] shares with its readers and its fault handle.
#[derive(Clone, Debug)]
struct Stored {
    /// Batch values in seq order, each with its first seq.
    batches: Vec<(u64, Vec<u8>)>,
    /// The last batch dropped by [`MemoryLogFaults::forget_before`]: the
    /// first batch held chains to it.
    anchor: Option<(u64, Vec<u8>)>,
    /// The oldest record held.
    first_seq: u64,
    /// One past the last record of an append that returned `Ok`.
    acknowledged: u64,
    /// Reads and snapshot loads fail.
    fail_reads: bool,
}

impl Stored {
    fn empty() -> Self {
        Stored { batches: Vec::new(), anchor: None, first_seq: 1, acknowledged: 1, fail_reads: false }
    }

    /// Up to `max` records from `from`, none at or past `next_seq`.
    fn read(&self, from: u64, max: usize, next_seq: u64) -> Result<Vec<Record>, LogError> {
        if self.fail_reads {
            return Err(LogError::Io("injected read failure".into()));
        }
        let from = from.max(1);
        if from < self.first_seq {
            return Err(LogError::Forgotten { from, first: self.first_seq });
        }
        if max == 0 || from >= next_seq {
            return Ok(Vec::new());
        }
        let max = max.min(usize::try_from(next_seq - from).unwrap_or(usize::MAX));
        fn as_entry((first, bytes): &(u64, Vec<u8>)) -> (u64, &[u8]) {
            (*first, bytes)
        }
        let start = self.batches.partition_point(|(first, _)| *first <= from).checked_sub(1);
        let (before, batches) = match start {
            Some(i) => (i.checked_sub(1).map(|j| as_entry(&self.batches[j])), &self.batches[i..]),
            None => (None, &self.batches[..]),
        };
        let before = before.or(self.anchor.as_ref().map(as_entry));
        let mut records = scan::collect(from, max, before, batches.iter().map(|b| Ok(as_entry(b))))?;
        records.retain(|r| r.envelope.seq < next_seq);
        Ok(records)
    }
}

/// A copy is the image a crash leaves: it shares nothing with the original.
impl Clone for MemoryLog {
    fn clone(&self) -> Self {
        MemoryLog {
            stored: Arc::new(RwLock::new(self.stored().clone())),
            snapshots: self.snapshots.clone(),
            next_seq: self.next_seq,
            last_hash: self.last_hash,
            broken: self.broken.clone(),
            fail_next_append: self.fail_next_append,
            fail_next_append_after_write: self.fail_next_append_after_write,
        }
    }
}

/// Faults injected into a [`MemoryLog`] from outside, also once the log was
/// handed over (to an engine): they act on the log and its readers.
#[derive(Clone, Debug)]
pub struct MemoryLogFaults(Arc<RwLock<Stored>>);

impl MemoryLogFaults {
    /// While `on`, reads (the log's and its readers') and snapshot loads
    /// fail with [`LogError::Io`].
    pub fn fail_reads(&self, on: bool) {
        self.0.write().unwrap_or_else(PoisonError::into_inner).fail_reads = on;
    }

    /// Drops every stored batch whose records all come before `seq`, as a
    /// log that compacts its oldest records: [`EventLog::first_seq`] then
    /// names the first record still held (at or before `seq`: a batch is
    /// kept or dropped whole), and reads from before it fail with
    /// [`LogError::Forgotten`].
    pub fn forget_before(&self, seq: u64) {
        let mut stored = self.0.write().unwrap_or_else(PoisonError::into_inner);
        // The batch after each one says where it ends; the last one is never dropped here.
        while stored.batches.len() > 1 && stored.batches[1].0 <= seq {
            let dropped = stored.batches.remove(0);
            stored.anchor = Some(dropped);
        }
        if let Some(&(first, _)) = stored.batches.first() {
            stored.first_seq = stored.first_seq.max(first);
        }
    }
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
            stored: Arc::new(RwLock::new(Stored::empty())),
            snapshots: BTreeMap::new(),
            next_seq: 1,
            last_hash: GENESIS_HASH,
            broken: None,
            fail_next_append: false,
            fail_next_append_after_write: false,
        }
    }

    fn stored(&self) -> RwLockReadGuard<'_, Stored> {
        self.stored.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn stored_mut(&self) -> RwLockWriteGuard<'_, Stored> {
        self.stored.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The handle that injects faults into this log (and no copy of it),
    /// also once it was handed over.
    pub fn faults(&self) -> MemoryLogFaults {
        MemoryLogFaults(self.stored.clone())
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
        let mut stored = Stored { fail_reads: false, ..self.stored().clone() };
        if stored.batches.last().is_some_and(|(_, bytes)| codec::is_truncated(bytes)) {
            stored.batches.pop();
        }
        let mut log = MemoryLog::new();
        log.snapshots = self.snapshots.clone();
        if let Some((first, bytes)) = stored.batches.last() {
            let records = codec::decode_batch(bytes, *first)?;
            if let Some(last) = records.last() {
                log.next_seq = last.envelope.seq.saturating_add(1);
                log.last_hash = last.hash;
            }
        }
        stored.acknowledged = log.next_seq;
        log.stored = Arc::new(RwLock::new(stored));
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
        if let Some((_, bytes)) = self.stored_mut().batches.last_mut() {
            bytes.truncate(bytes.len().saturating_sub(TORN_BYTES));
        }
    }

    /// While `on`, [`EventLog::read`] and [`EventLog::latest_snapshot`] fail
    /// with [`LogError::Io`].
    pub fn fail_reads(&mut self, on: bool) {
        self.faults().fail_reads(on);
    }

    /// Test helper: flips one byte (at `offset_in_record` within the record's
    /// bytes) of the stored record `seq`.
    ///
    /// # Panics
    ///
    /// When record `seq` is not stored or the offset is past its end.
    #[doc(hidden)]
    pub fn corrupt_byte_for_test(&mut self, seq: u64, offset_in_record: usize) {
        let mut stored = self.stored_mut();
        let index = stored.batches.partition_point(|(first, _)| *first <= seq);
        let (first, bytes) = index
            .checked_sub(1)
            .and_then(|i| stored.batches.get_mut(i))
            .expect("a stored batch at or before the record");
        let span = codec::record_span(bytes, *first, seq).expect("the batch holds the record");
        assert!(offset_in_record < span.len(), "record {seq} has {} bytes", span.len());
        bytes[span.start + offset_in_record] ^= 0xFF;
    }

    fn check_reads(&self) -> Result<(), LogError> {
        match self.stored().fail_reads {
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
        self.stored_mut().batches.push((self.next_seq, value));
        if let Some((next_seq, last_hash)) = tail_after(&records) {
            (self.next_seq, self.last_hash) = (next_seq, last_hash);
        }
        if std::mem::take(&mut self.fail_next_append_after_write) {
            let why = "injected append failure after the batch was written".to_string();
            self.broken = Some(why.clone());
            return Err(LogError::Io(why));
        }
        // Readers see the batch only now that it is acknowledged.
        self.stored_mut().acknowledged = self.next_seq;
        Ok(records)
    }

    async fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError> {
        self.stored().read(from, max, self.next_seq)
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
        let batches: usize = self.stored().batches.iter().map(|(_, b)| b.len()).sum();
        let snapshots: usize = self.snapshots.values().map(Vec::len).sum();
        (batches + snapshots) as u64
    }

    fn first_seq(&self) -> u64 {
        self.stored().first_seq
    }

    fn reader(&self) -> Arc<dyn LogReader> {
        Arc::new(MemoryReader(self.stored.clone()))
    }
}

/// A [`MemoryLog`]'s reader: it shares the log's batches. A memory log has
/// no files to release, so a reader outliving its log fails its reads
/// only to keep the contract (see [`LogReader`]): the log's drop marks it.
struct MemoryReader(Arc<RwLock<Stored>>);

impl LogReader for MemoryReader {
    fn first_seq(&self) -> u64 {
        self.0.read().unwrap_or_else(PoisonError::into_inner).first_seq
    }

    fn next_seq(&self) -> u64 {
        self.0.read().unwrap_or_else(PoisonError::into_inner).acknowledged
    }

    fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError> {
        let stored = self.0.read().unwrap_or_else(PoisonError::into_inner);
        if stored.acknowledged == CLOSED {
            return Err(LogError::Io("the log is closed".into()));
        }
        stored.read(from, max, stored.acknowledged)
    }
}

/// `Stored::acknowledged` of a dropped log: its readers read no more.
const CLOSED: u64 = 0;

impl Drop for MemoryLog {
    fn drop(&mut self) {
        self.stored_mut().acknowledged = CLOSED;
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
    async fn a_reader_never_sees_a_failed_append() {
        let mut log = log_with(&[(1, 3)]).await;
        let reader = log.reader();
        log.fail_next_append_after_write();
        assert!(log.append(&envelopes(3, 6)).await.is_err());
        assert_eq!(reader.next_seq(), 3, "stored but not acknowledged");
        assert_eq!(reader.read(1, 100).expect("read").len(), 2);
    }

    #[tokio::test]
    async fn a_log_that_forgot_its_oldest_batches_reads_from_the_first_it_holds() {
        let log = log_with(&[(1, 3), (3, 6), (6, 9)]).await;
        let reader = log.reader();
        log.faults().forget_before(4);
        // Record 4's batch starts at 3: kept whole.
        assert_eq!((log.first_seq(), reader.first_seq()), (3, 3));
        let err = log.read(2, 10).await.expect_err("forgotten");
        assert!(matches!(err, LogError::Forgotten { from: 2, first: 3 }), "{err}");
        assert!(matches!(reader.read(1, 10), Err(LogError::Forgotten { from: 1, first: 3 })));
        let held = reader.read(3, 10).expect("the held records verify, chained to the forgotten batch");
        assert_eq!(held.iter().map(|r| r.envelope.seq).collect::<Vec<_>>(), vec![3, 4, 5, 6, 7, 8]);
        log.faults().fail_reads(true);
        assert!(matches!(reader.read(3, 10), Err(LogError::Io(_))));
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
