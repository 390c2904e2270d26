//! The durable log: one sled value per commit group, flushed before an
//! append returns.

use crate::codec::HeadSlot;
use crate::failpoint;
use crate::head::{HeadFile, HEAD_FILE, HEAD_TEMP_FILE};
use crate::scan::{self, key_seq, seq_key};
use crate::seal;
use crate::sled_files::SledFiles;
use crate::{
    codec, prepare_append, tail_after, Envelope, EventLog, Hash, LogError, LogReader, Record, Snapshot, GENESIS_HASH,
    SNAPSHOTS_KEPT,
};
use rsm_model::uuid::Uuid;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

/// sled's page cache bound. Measured: replaying 1M records with the default
/// 1 GiB cache grew RSS to 369 MiB (about 1.9x the logical log); with 64 MiB
/// it stayed at 151 MiB for a 10% slower scan.
pub(crate) const CACHE_CAPACITY_BYTES: u64 = 64 << 20;

/// Waits of 10 ms for sled's own file lock to be released by an earlier
/// handle of this same process (at most 2 s).
const SLED_LOCK_WAITS: u32 = 200;

/// The name of the lock file in the log's directory.
const LOCK_FILE: &str = "LOCK";
use crate::sled_files::DB_FILE as SLED_DB_FILE;
/// The key (in sled's default tree) of the id of the store the database belongs to.
const STORE_ID_KEY: &[u8] = b"rsm-store-id";

/// An [`EventLog`] stored in a sled database in a directory of its own.
///
/// Tree `log`: key = the first seq of a commit group (u64 big-endian, so keys
/// sort by seq), value = the group's batch value ([`codec::encode_batch`]).
/// Tree `snapshots`: key = seq big-endian, value = [`codec::encode_snapshot`].
/// One insert and one flush per append: sled alone would flush only in the
/// background, so nothing here relies on it.
///
/// Every method blocks the calling thread on I/O.
pub struct SledLog {
    /// The directory, for messages.
    path: String,
    /// The database, flushed after every write.
    db: sled::Db,
    /// Batches by first seq.
    log: sled::Tree,
    /// Snapshots by seq.
    snapshots: sled::Tree,
    /// How far the log reached, kept apart from sled (see `head.rs`).
    head: HeadFile,
    /// sled's files, synced after every flush (`sled_files.rs`).
    files: SledFiles,
    /// False only in the benchmark that measures what the head costs.
    head_updates: bool,
    /// The seq the next record must carry.
    next_seq: u64,
    /// Hash of the last record.
    last_hash: Hash,
    /// Why appends are refused: an append failed after touching the store,
    /// so what is stored is unknown until the log is reopened.
    broken: Option<String>,
    /// What the log's readers share with it (see [`SledReader`]).
    shared: Arc<SledReader>,
    /// Declared after sled's handles, so it seals their files once they
    /// are closed (`seal.rs`).
    seal: SealOnClose,
    /// The exclusive lock on the directory's lock file, held while the log
    /// is open. Declared last so it is released after sled has closed.
    _lock: File,
}

fn io(why: impl Into<String>) -> LogError {
    LogError::Io(why.into())
}

/// A sled error in words: its own Display shows internals (`Some(Inline(194))
/// backtrace ()`) that mean nothing to an operator.
fn sled_words(e: &sled::Error) -> String {
    match e {
        sled::Error::Io(e) => e.to_string(),
        sled::Error::Corruption { .. } => "sled found damaged data in the database".into(),
        sled::Error::CollectionNotFound(_) => "a tree of the database is missing".into(),
        sled::Error::Unsupported(why) | sled::Error::ReportableBug(why) => format!("sled refused: {why}"),
        #[allow(unreachable_patterns)]
        _ => "sled failed".into(),
    }
}

fn store(e: sled::Error) -> LogError {
    LogError::Io(sled_words(&e))
}

fn not_a_store(path: &str, reason: &str) -> LogError {
    LogError::NotAStore { path: path.to_owned(), reason: reason.to_owned() }
}

/// Takes the exclusive lock on `dir`'s lock file, held while the log is open.
fn lock_dir(dir: &Path, path: &str) -> Result<File, LogError> {
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(|e| io(format!("cannot open the lock file in {path}: {e}")))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(TryLockError::WouldBlock) => Err(LogError::Locked { path: path.to_owned() }),
        Err(TryLockError::Error(e)) => Err(io(format!("cannot lock {path}: {e}"))),
    }
}

/// A store is created only in a directory that holds nothing of anyone
/// else's: at most our lock file and a head file that a creation stopped
/// before renaming. Anything more (a database whose head was removed,
/// another program's files) is refused rather than overwritten.
fn refuse_foreign(dir: &Path, path: &str) -> Result<(), LogError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io(format!("cannot list {path}: {e}")))?;
    for entry in entries {
        let name = entry.map_err(|e| io(format!("cannot list {path}: {e}")))?.file_name();
        if name != LOCK_FILE && name != HEAD_TEMP_FILE {
            return Err(not_a_store(
                path,
                &format!("it holds {} but no head file (removed, or not rsm's)", name.to_string_lossy()),
            ));
        }
    }
    Ok(())
}

/// Opens sled in `dir`. We hold our own lock file, so no other rsm process
/// has this log; sled's lock can still linger for a moment after this
/// process closed an earlier handle (its threads let go of the file
/// asynchronously): wait for it, boundedly, rather than report a false "in
/// use". sled is read by third-party code from files that may be damaged:
/// a panic in it is a damaged store, never a crash of rsm.
fn open_sled(dir: &Path, path: &str) -> Result<sled::Db, LogError> {
    let mut attempts = 0;
    loop {
        let opened = std::panic::catch_unwind(|| {
            sled::Config::new().path(dir).cache_capacity(CACHE_CAPACITY_BYTES).flush_every_ms(None).open()
        })
        .map_err(|_| io(format!("sled failed reading the database in {path}")))?;
        match opened {
            Ok(db) => return Ok(db),
            Err(e) if e.to_string().contains("could not acquire lock") && attempts < SLED_LOCK_WAITS => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            // A process that does not take our lock file still meets sled's own lock.
            Err(e) if e.to_string().contains("could not acquire lock") => {
                return Err(LogError::Locked { path: path.to_owned() })
            }
            Err(e) => return Err(io(format!("cannot open the log in {path}: {}", sled_words(&e)))),
        }
    }
}

/// The database carries the id of the store it was made for, so that a
/// database from elsewhere (or one sled reset to empty) is not taken for
/// this store's. Written on the first open of a new store.
fn check_store_id(db: &sled::Db, path: &str, reach: &HeadSlot) -> Result<(), LogError> {
    match db.get(STORE_ID_KEY).map_err(store)? {
        Some(id) if id.as_ref() == reach.store => Ok(()),
        Some(_) => Err(not_a_store(path, "its database belongs to another store")),
        None if reach.seq > 0 => Err(LogError::Corrupt {
            seq: 1,
            reason: format!("the database is empty or was reset; the log reached record {}", reach.seq),
        }),
        None => {
            db.insert(STORE_ID_KEY, &reach.store[..]).map_err(store)?;
            db.flush().map_err(store)?;
            Ok(())
        }
    }
}

/// Walks every stored batch's header: the batches must follow each other
/// with no gap from record 1, reach the head, and hold the head's record
/// at its seq; the last batch is verified whole. Answers where the log
/// ends (the next seq and the last hash). Each record's hash and the chain
/// are verified when records are read (replay, `replay --verify`); this
/// walk costs a scan of the stored bytes, no hashing.
fn check_reach(log: &sled::Tree, reach: &HeadSlot) -> Result<(u64, Hash), LogError> {
    let mut expected = 1u64;
    let mut last: Option<(u64, sled::IVec)> = None;
    let scanned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<(), LogError> {
        for item in log.iter() {
            let (key, value) = item.map_err(store)?;
            let first = key_seq(&key)?;
            if first != expected {
                return Err(LogError::Corrupt {
                    seq: expected,
                    reason: format!("missing: the next stored batch starts at record {first}"),
                });
            }
            let (end, _) = codec::batch_tail(&value, first)?;
            if (first..end).contains(&reach.seq)
                && codec::stored_record_hash(&value, first, reach.seq) != Some(reach.hash)
            {
                return Err(LogError::Corrupt {
                    seq: reach.seq,
                    reason: "the record differs from the one the head recorded".into(),
                });
            }
            expected = end;
            last = Some((first, value));
        }
        Ok(())
    }));
    scanned.map_err(|_| io("sled failed reading the log's batches"))??;
    if expected <= reach.seq {
        return Err(LogError::Corrupt {
            seq: expected,
            reason: format!("missing: the log ends at record {} but reached record {}", expected - 1, reach.seq),
        });
    }
    match last {
        None => Ok((1, GENESIS_HASH)),
        Some((first, value)) => {
            let records = codec::decode_batch(&value, first)?;
            let last = records.last().ok_or_else(|| LogError::Corrupt { seq: first, reason: "empty batch".into() })?;
            Ok((last.envelope.seq.saturating_add(1), last.hash))
        }
    }
}

/// Opens sled in `dir` and checks what it holds against the head: the
/// store's id, then the log's reach ([`check_reach`]).
fn open_checked(dir: &Path, path: &str, reach: &HeadSlot) -> Result<OpenedSled, LogError> {
    let db = open_sled(dir, path).map_err(|e| match e {
        LogError::Io(why) if reach.seq > 0 => LogError::Corrupt {
            seq: 1,
            reason: format!("the database does not open ({why}); the log reached record {}", reach.seq),
        },
        other => other,
    })?;
    let log = db.open_tree("log").map_err(store)?;
    let snapshots = db.open_tree("snapshots").map_err(store)?;
    check_store_id(&db, path, reach)?;
    let (next_seq, last_hash) = check_reach(&log, reach)?;
    Ok((db, log, snapshots, next_seq, last_hash))
}

type OpenedSled = (sled::Db, sled::Tree, sled::Tree, u64, Hash);

/// Opens a copy of sled's files and checks it as [`open_checked`] would the
/// originals: files that changed since rsm closed them are opened in place
/// only when the copy passes, so sled's recovery never rewrites a damaged
/// store before rsm has refused it (`seal.rs`).
fn trial_open(dir: &Path, path: &str, reach: &HeadSlot) -> Result<(), LogError> {
    let trial = seal::Trial::copy(dir).map_err(|e| io(format!("cannot copy the log in {path} to check it: {e}")))?;
    let checked = open_checked(trial.path(), path, reach).map(|_| ());
    drop(trial);
    checked
}

/// Writes the seal when the log closes, unless an append left the store in
/// an unknown state.
struct SealOnClose {
    dir: std::path::PathBuf,
    /// Set by the log's own drop when nothing is broken.
    wanted: bool,
}

impl Drop for SealOnClose {
    fn drop(&mut self) {
        if self.wanted {
            seal::write_seal(&self.dir, &self.dir.join(SLED_DB_FILE));
        }
    }
}

impl Drop for SledLog {
    fn drop(&mut self) {
        // First, so no reader keeps sled's files open once the log is gone
        // (waits for a read under way).
        *self.shared.log.write().unwrap_or_else(PoisonError::into_inner) = None;
        self.seal.wanted = self.broken.is_none() && self.db.flush().is_ok() && self.files.after_flush().is_ok();
    }
}

impl SledLog {
    /// Opens the store in `dir`, creating it when `dir` is absent or empty.
    ///
    /// Fails with [`LogError::Locked`] when another process (or another
    /// `SledLog` of this one) has `dir` open; [`LogError::NotAStore`] when
    /// `dir` holds something that is not an rsm store (files but no head) or
    /// another store's database; [`LogError::Corrupt`] naming the first
    /// missing or damaged record when the log is shorter than its head, has
    /// a hole, or its last batch does not verify; [`LogError::Io`] when the
    /// store fails.
    pub fn open(dir: &Path) -> Result<SledLog, LogError> {
        Self::open_store(dir, true)
    }

    /// Opens the store in `dir`, which must exist: as [`open`](Self::open),
    /// but a missing directory is [`LogError::NoStore`] and one without a
    /// head file [`LogError::NotAStore`], and nothing is created or written
    /// in either case. For commands that only read.
    pub fn open_existing(dir: &Path) -> Result<SledLog, LogError> {
        Self::open_store(dir, false)
    }

    /// As [`open`](Self::open) (with `create`) or
    /// [`open_existing`](Self::open_existing), for the store whose id its
    /// data directory records: a log of another store (a log directory
    /// copied in) is [`LogError::NotAStore`], found from its head before
    /// sled touches a file.
    pub fn open_for_store(dir: &Path, create: bool, expected: [u8; 16]) -> Result<SledLog, LogError> {
        let path = dir.display().to_string();
        if !dir.join(HEAD_FILE).exists() {
            return Err(not_a_store(
                &path,
                "the store's log has no head file (its log directory is missing or not rsm's)",
            ));
        }
        let head = HeadFile::open(dir)?;
        if head.is_some_and(|h| h.slot().store != expected) {
            return Err(not_a_store(&path, "it holds the log of another store (was a log directory copied in?)"));
        }
        Self::open_store(dir, create)
    }

    /// The id of the store this log belongs to (chosen at its creation).
    pub fn store_id(&self) -> [u8; 16] {
        self.head.slot().store
    }

    fn open_store(dir: &Path, create: bool) -> Result<SledLog, LogError> {
        let path = dir.display().to_string();
        if create {
            crate::create_dir_durably(dir).map_err(|e| io(format!("cannot create {path}: {e}")))?;
        } else if !dir.is_dir() {
            return Err(LogError::NoStore { path });
        } else if !dir.join(HEAD_FILE).exists() {
            return Err(not_a_store(&path, "it has no head file"));
        }
        let lock = lock_dir(dir, &path)?;
        let head = match HeadFile::open(dir)? {
            Some(head) => head,
            None if create => {
                refuse_foreign(dir, &path)?;
                HeadFile::create(dir, Uuid::new_v4().into_bytes())?
            }
            None => return Err(not_a_store(&path, "it has no head file")),
        };
        let reach = head.slot();
        if reach.seq > 0 && !dir.join(SLED_DB_FILE).exists() {
            return Err(LogError::Corrupt {
                seq: 1,
                reason: format!("the database file {SLED_DB_FILE} is missing; the log reached record {}", reach.seq),
            });
        }
        if dir.join(SLED_DB_FILE).exists() && !seal::is_sealed(dir) {
            trial_open(dir, &path, &reach)?;
        }
        seal::break_seal(dir).map_err(|e| io(format!("cannot unseal the log in {path}: {e}")))?;
        let (db, log, snapshots, next_seq, last_hash) = open_checked(dir, &path, &reach)?;
        let files = SledFiles::open(dir).map_err(|e| io(format!("cannot sync the log in {path}: {e}")))?;
        let shared = Arc::new(SledReader { log: RwLock::new(Some(log.clone())), next_seq: AtomicU64::new(next_seq) });
        Ok(SledLog {
            path,
            files,
            db,
            log,
            shared,
            snapshots,
            head,
            head_updates: true,
            next_seq,
            last_hash,
            broken: None,
            seal: SealOnClose { dir: dir.to_path_buf(), wanted: false },
            _lock: lock,
        })
    }

    /// The log without its head's updates, for the benchmark that measures
    /// their cost side by side: a log written so cannot tell a store cut
    /// short from a whole one, and is never what rsm runs on.
    #[cfg(feature = "raw")]
    pub fn without_head_updates(mut self) -> Self {
        self.head_updates = false;
        self
    }

    /// Test helper: flips one byte (at `offset_in_record` within the record's
    /// bytes) of the stored record `seq`, durably, as disk damage would.
    ///
    /// # Panics
    ///
    /// When record `seq` is not stored, the offset is past its end, or the
    /// store fails.
    #[doc(hidden)]
    pub fn corrupt_byte_for_test(&self, seq: u64, offset_in_record: usize) {
        let (key, value) = self
            .log
            .range(..=seq_key(seq))
            .next_back()
            .expect("a stored batch at or before the record")
            .expect("sled reads the batch");
        let first = key_seq(&key).expect("a log key is a seq");
        let span = codec::record_span(&value, first, seq).expect("the batch holds the record");
        assert!(offset_in_record < span.len(), "record {seq} has {} bytes", span.len());
        let mut bytes = value.to_vec();
        bytes[span.start + offset_in_record] ^= 0xFF;
        self.log.insert(key, bytes).expect("sled stores the damaged batch");
        self.db.flush().expect("sled flushes the damaged batch");
    }
}

impl std::fmt::Debug for SledLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledLog")
            .field("path", &self.path)
            .field("next_seq", &self.next_seq)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl EventLog for SledLog {
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
        failpoint::hit("append.before-write");
        let written = self.log.insert(seq_key(self.next_seq), value).and_then(|_| {
            failpoint::hit("append.before-flush");
            self.db.flush()
        });
        let written = written
            .map_err(|e| sled_words(&e))
            .and_then(|_| self.files.after_flush().map_err(|e| format!("cannot sync the log in {}: {e}", self.path)));
        if let Err(why) = written {
            self.broken = Some(why.clone());
            return Err(LogError::Io(why));
        }
        failpoint::hit("append.after-flush");
        if let Some((next_seq, last_hash)) = tail_after(&records) {
            // After sled's flush, so the head never claims more than sled
            // holds; durable within the head's sync window (head.rs). A
            // failure leaves the group's outcome unknown to the caller.
            if let Err(e) = self.head.advance_if(self.head_updates, next_seq - 1, last_hash) {
                self.broken = Some(e.to_string());
                return Err(e);
            }
            (self.next_seq, self.last_hash) = (next_seq, last_hash);
            // Readers see the group only now that it is acknowledged.
            self.shared.next_seq.store(next_seq, Ordering::Release);
        }
        Ok(records)
    }

    async fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError> {
        read_tree(&self.log, from, max, self.next_seq)
    }

    async fn save_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), LogError> {
        let bytes = codec::encode_snapshot(snapshot);
        self.snapshots.insert(seq_key(snapshot.seq), bytes).map_err(store)?;
        let stale: Vec<sled::IVec> =
            self.snapshots.iter().keys().rev().skip(SNAPSHOTS_KEPT).collect::<Result<_, _>>().map_err(store)?;
        for key in stale {
            self.snapshots.remove(key).map_err(store)?;
        }
        self.db.flush().map_err(store)?;
        self.files.after_flush().map_err(|e| io(format!("cannot sync the log in {}: {e}", self.path)))?;
        Ok(())
    }

    async fn latest_snapshot(&self) -> Result<Option<Snapshot>, LogError> {
        let stored: Vec<(sled::IVec, sled::IVec)> =
            self.snapshots.iter().rev().collect::<Result<_, _>>().map_err(store)?;
        for (key, bytes) in stored {
            let (Ok(key), Ok(snapshot)) = (key_seq(&key), codec::decode_snapshot(&bytes)) else {
                continue;
            };
            if scan::snapshot_belongs(self, key, &snapshot).await? {
                return Ok(Some(snapshot));
            }
        }
        Ok(None)
    }

    fn size_bytes(&self) -> u64 {
        // Approximate by contract: a failing stat reports nothing stored.
        self.db.size_on_disk().unwrap_or(0)
    }

    fn first_seq(&self) -> u64 {
        1
    }

    fn reader(&self) -> Arc<dyn LogReader> {
        self.shared.clone()
    }
}

/// Up to `max` records from `from` of the log tree, none at or past `next_seq`.
fn read_tree(log: &sled::Tree, from: u64, max: usize, next_seq: u64) -> Result<Vec<Record>, LogError> {
    let from = from.max(1);
    if max == 0 || from >= next_seq {
        return Ok(Vec::new());
    }
    // A reader may meet a group inserted but not yet acknowledged: never
    // read (nor return) past what was.
    let max = max.min(usize::try_from(next_seq - from).unwrap_or(usize::MAX));
    let entry = |item: sled::Result<(sled::IVec, sled::IVec)>| -> Result<(u64, sled::IVec), LogError> {
        let (key, value) = item.map_err(store)?;
        Ok((key_seq(&key)?, value))
    };
    let start = log.range(..=seq_key(from)).next_back().transpose().map_err(store)?;
    let (before, batches) = match start {
        Some((key, _)) => {
            let before = log.range(..key.clone()).next_back().map(entry).transpose()?;
            (before, log.range(key..))
        }
        None => (None, log.iter()),
    };
    let mut records = scan::collect(from, max, before, batches.map(entry))?;
    records.retain(|r| r.envelope.seq < next_seq);
    Ok(records)
}

/// A [`SledLog`]'s reader: its log tree while the log is open, and how far
/// its appends were acknowledged. sled's trees are safe to read from any
/// thread while another inserts.
pub(crate) struct SledReader {
    /// The log tree; taken when the log closes, so that a reader outliving
    /// it holds no sled handle (sled would keep its files open and locked,
    /// and the log's seal could not be written).
    log: RwLock<Option<sled::Tree>>,
    /// One past the last acknowledged record.
    next_seq: AtomicU64,
}

impl LogReader for SledReader {
    fn first_seq(&self) -> u64 {
        1
    }

    fn next_seq(&self) -> u64 {
        self.next_seq.load(Ordering::Acquire)
    }

    fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError> {
        let next_seq = self.next_seq();
        let log = self.log.read().unwrap_or_else(PoisonError::into_inner);
        match log.as_ref() {
            Some(tree) => read_tree(tree, from, max, next_seq),
            None => Err(io("the log is closed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{envelopes, run_suite};

    fn open(dir: &tempfile::TempDir) -> SledLog {
        SledLog::open(dir.path()).expect("open a sled log")
    }

    #[tokio::test]
    async fn sled_log_passes_the_conformance_suite() {
        let mut dirs = Vec::new();
        run_suite(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let log = open(&dir);
            dirs.push(dir);
            log
        })
        .await;
    }

    #[tokio::test]
    async fn reopen_after_drop_keeps_everything() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut log = open(&dir);
        let mut stored = log.append(&envelopes(1, 4)).await.expect("append");
        stored.extend(log.append(&envelopes(4, 6)).await.expect("append"));
        let snapshot = Snapshot { seq: 5, hash: stored[4].hash, state: rsm_model::State::new() };
        log.save_snapshot(&snapshot).await.expect("save snapshot");
        let last_hash = log.last_hash();
        drop(log);

        let mut log = open(&dir);
        assert_eq!((log.next_seq(), log.last_hash()), (6, last_hash));
        assert_eq!(log.read(1, 100).await.expect("read"), stored);
        assert_eq!(log.latest_snapshot().await.expect("snapshot"), Some(snapshot));
        log.append(&envelopes(6, 7)).await.expect("appends continue the chain");
        assert_eq!(log.read(6, 1).await.expect("read")[0].prev_hash, last_hash);
    }

    #[tokio::test]
    async fn flipped_byte_reads_as_corrupt_naming_the_record() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut log = open(&dir);
        log.append(&envelopes(1, 4)).await.expect("append");
        log.append(&envelopes(4, 7)).await.expect("append");
        let len = codec::encode_record(&envelopes(5, 6)[0], GENESIS_HASH).0.len();
        for offset in [0, 1, 40, len / 2, len - 33, len - 1] {
            log.corrupt_byte_for_test(5, offset);
            let err = log.read(1, 100).await.expect_err("flipped byte");
            assert!(matches!(err, LogError::Corrupt { seq: 5, .. }), "offset {offset}: {err}");
            let err = log.read(5, 1).await.expect_err("flipped byte");
            assert!(matches!(err, LogError::Corrupt { seq: 5, .. }), "offset {offset}: {err}");
            assert_eq!(log.read(1, 3).await.expect("the batch before is intact").len(), 3);
            log.corrupt_byte_for_test(5, offset); // flip it back
            assert_eq!(log.read(1, 100).await.expect("repaired").len(), 6);
        }
    }

    #[tokio::test]
    async fn damaged_last_batch_fails_open_as_corrupt() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut log = open(&dir);
        log.append(&envelopes(1, 3)).await.expect("append");
        log.corrupt_byte_for_test(2, 10);
        drop(log);
        let err = SledLog::open(dir.path()).expect_err("damaged last batch");
        assert!(matches!(err, LogError::Corrupt { seq: 2, .. }), "{err}");
    }

    #[tokio::test]
    async fn second_open_of_a_directory_in_use_is_locked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = open(&dir);
        let err = SledLog::open(dir.path()).expect_err("in use");
        match err {
            LogError::Locked { path } => assert_eq!(path, dir.path().display().to_string()),
            other => panic!("expected Locked, got {other}"),
        }
        drop(log);
        open(&dir);
    }

    #[tokio::test]
    async fn damaged_newest_snapshot_falls_back_to_an_older_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut log = open(&dir);
        let stored = log.append(&envelopes(1, 5)).await.expect("append");
        for seq in [2u64, 4] {
            let snapshot = Snapshot { seq, hash: stored[seq as usize - 1].hash, state: rsm_model::State::new() };
            log.save_snapshot(&snapshot).await.expect("save");
        }
        let key = seq_key(4);
        let mut bytes = log.snapshots.get(key).expect("sled").expect("snapshot 4").to_vec();
        bytes[20] ^= 1;
        log.snapshots.insert(key, bytes).expect("sled");
        assert_eq!(log.latest_snapshot().await.expect("latest").map(|s| s.seq), Some(2));
    }

    #[tokio::test]
    async fn only_the_newest_snapshots_are_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut log = open(&dir);
        for seq in 0..6 {
            let snapshot = Snapshot { seq, hash: GENESIS_HASH, state: rsm_model::State::new() };
            log.save_snapshot(&snapshot).await.expect("save");
        }
        let kept: Vec<u64> = log.snapshots.iter().keys().map(|k| key_seq(&k.expect("sled")).expect("seq")).collect();
        assert_eq!(kept, vec![3, 4, 5]);
    }
}
