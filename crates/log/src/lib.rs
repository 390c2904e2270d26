//! # rsm-log: the durable event log of rsm
//!
//! Owns the [`EventLog`] contract and everything below it: the record
//! [`Envelope`] the sequencer hands over, the byte layout of records, batches
//! and snapshots ([`codec`], the only module that knows bytes), the durable
//! [`SledLog`], the in-memory [`MemoryLog`] with fault injection for the
//! simulation, and the [`conformance`] suite every implementation passes.
//!
//! **Must not touch:** the model's rules (`decide`, `apply`: events are
//! opaque payloads here), the clock (`at_ms` arrives stamped), tokio tasks
//! (the engine owns every thread and task; the methods here just run on the
//! caller's thread, and [`SledLog`]'s block on I/O).
//!
//! Key types: [`EventLog`], [`Envelope`], [`Record`], [`Snapshot`],
//! [`LogError`].
//!
//! ```
//! use rsm_log::{EventLog, Envelope, MemoryLog, GENESIS_HASH};
//! use rsm_model::{uuid::Uuid, Event, RequestId, SessionId};
//!
//! let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! rt.block_on(async {
//!     let mut log = MemoryLog::new();
//!     let envelope = |seq: u64| Envelope {
//!         seq,
//!         at_ms: 1_000 + seq,
//!         request: RequestId(Uuid::from_u128(7)),
//!         principal: "alice".into(),
//!         node: 1,
//!         event: Event::SessionClosed { session: SessionId(Uuid::from_u128(seq as u128)) },
//!     };
//!     let stored = log.append(&[envelope(1), envelope(2)]).await.unwrap();
//!     assert_eq!(stored[0].prev_hash, GENESIS_HASH);
//!     assert_eq!(stored[1].prev_hash, stored[0].hash);
//!     assert_eq!(log.next_seq(), 3);
//!     // Reading from the middle of a batch returns verified records.
//!     assert_eq!(log.read(2, 10).await.unwrap(), stored[1..].to_vec());
//!     // A gap is refused and leaves no trace.
//!     assert!(log.append(&[envelope(9)]).await.is_err());
//!     assert_eq!(log.read(3, 10).await.unwrap(), vec![]);
//! });
//! ```
#![deny(missing_docs)]

pub mod codec;
pub mod conformance;
pub mod failpoint;
mod head;
mod memory;
#[cfg(feature = "raw")]
pub mod raw;
mod scan;
mod seal;
mod sled_files;
mod sled_log;

pub use head::create_dir_durably;
pub use memory::{MemoryLog, MemoryLogFaults};
pub use sled_log::SledLog;

/// `prev_hash` of record 1, and [`EventLog::last_hash`] of an empty log.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// A blake3 hash.
pub type Hash = [u8; 32];

/// What the sequencer hands the log: one event and its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// Position in the log: gapless from 1.
    pub seq: u64,
    /// Milliseconds since the epoch, from the engine's clock.
    pub at_ms: u64,
    /// Correlation id of the command that caused the event.
    pub request: rsm_model::RequestId,
    /// Who caused it (at most [`codec::PRINCIPAL_LEN_MAX`] bytes).
    pub principal: String,
    /// The node that wrote it.
    pub node: u32,
    /// The fact itself.
    pub event: rsm_model::Event,
}

/// A record as stored: the envelope plus its chain hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The envelope.
    pub envelope: Envelope,
    /// Hash of the previous record ([`GENESIS_HASH`] for record 1).
    pub prev_hash: Hash,
    /// blake3 of this record's bytes up to and including `prev_hash`.
    pub hash: Hash,
}

/// Why a log operation failed. The engine maps these to NTMS codes; this
/// crate knows none.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A stored record failed to decode or verify (checksum, chain, sequence).
    /// Maps to ERROR_DATABASE_FAILURE naming `seq`.
    #[error("log record {seq} is damaged: {reason}")]
    Corrupt {
        /// The record that failed (the first one expected where the damage is).
        seq: u64,
        /// What was wrong.
        reason: String,
    },
    /// The store failed (I/O error, flush failed), or refused a record it
    /// cannot represent (an over-long principal or payload).
    #[error("log storage failed: {0}")]
    Io(String),
    /// An append did not continue the sequence (programming error of the caller).
    #[error("append out of sequence: expected {expected}, got {got}")]
    OutOfSequence {
        /// The seq the record had to carry.
        expected: u64,
        /// The seq it carried.
        got: u64,
    },
    /// Another process holds the log's directory.
    #[error("the log at {path} is in use by another process")]
    Locked {
        /// The directory.
        path: String,
    },
    /// No store exists at `path` (and the caller asked not to create one).
    #[error("there is no rsm store at {path}")]
    NoStore {
        /// The directory.
        path: String,
    },
    /// `path` exists but is not a usable rsm store: it has no head file, its
    /// head file is damaged, or its database belongs to another store.
    #[error("{path} is not a usable rsm store: {reason}")]
    NotAStore {
        /// The directory or file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The records asked for are no longer held: the log now begins at
    /// `first` (a log that dropped its oldest records). Maps to
    /// ERROR_NO_DATA for a notification subscriber that needed them.
    #[error("record {from} is no longer held: the log begins at record {first}")]
    Forgotten {
        /// The first record asked for.
        from: u64,
        /// The oldest record the log holds.
        first: u64,
    },
    /// A snapshot failed to decode or verify.
    #[error("snapshot at {seq} is damaged: {reason}")]
    BadSnapshot {
        /// The seq the snapshot claims (0 when even that was unreadable).
        seq: u64,
        /// What was wrong.
        reason: String,
    },
}

/// A projection saved at a sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The last record applied to `state` (0: none).
    pub seq: u64,
    /// Hash of record `seq` ([`GENESIS_HASH`] when `seq` is 0).
    pub hash: Hash,
    /// The projection after applying records 1..=`seq`.
    pub state: rsm_model::State,
}

/// The durable, hash-chained, append-only log of events.
///
/// # Contract
///
/// Every implementation passes [`conformance::run_suite`], which checks:
///
/// * **Gapless from 1.** Record `n` carries `seq == n`. An append whose first
///   envelope does not carry [`next_seq`](Self::next_seq), or whose envelopes
///   are not consecutive, fails with [`LogError::OutOfSequence`] and writes
///   nothing.
/// * **A batch is atomic.** After a crash a batch is either wholly in the log
///   or wholly absent.
/// * **Durable when acknowledged.** Once `append` returns `Ok`, the batch
///   survives a crash (it has been flushed; nothing relies on background
///   flushing).
/// * **Reads verify.** Every record returned by `read` has been decoded,
///   checked against its hash, chained to the record before it (across batch
///   boundaries too) and found at its place in the sequence; anything else is
///   [`LogError::Corrupt`] naming the record, never a panic.
/// * **A failed append is an unknown outcome.** When `append` fails with
///   [`LogError::Io`] the batch may or may not be durable, and the log refuses
///   further appends until it is reopened; the caller learns the outcome by
///   reading back after reopening. (`OutOfSequence` and empty batches write
///   nothing and leave the log usable.)
/// * **Snapshots** are kept for the newest few sequence numbers;
///   [`latest_snapshot`](Self::latest_snapshot) returns the newest one that
///   verifies and whose hash matches the log's record at its seq, skipping
///   damaged ones.
///
/// Methods run on the caller's thread: the engine calls them from its
/// dedicated writer thread, since [`SledLog`] blocks on I/O.
#[async_trait::async_trait]
pub trait EventLog: Send + Sync {
    /// Sequence number the next appended record must carry (1 for an empty log).
    fn next_seq(&self) -> u64;

    /// Hash of the last record ([`GENESIS_HASH`] for an empty log).
    fn last_hash(&self) -> Hash;

    /// Appends `batch` (consecutive seqs starting at `next_seq()`) atomically
    /// — all or none — and returns only once durable (flushed). Returns the
    /// stored records (with hashes). An empty batch writes nothing.
    async fn append(&mut self, batch: &[Envelope]) -> Result<Vec<Record>, LogError>;

    /// Up to `max` records with seq >= `from`, in order, each decoded and
    /// verified (hash of its bytes, chain to the previous, gapless seq).
    /// Empty vec past the end.
    async fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError>;

    /// Stores a snapshot durably, keeping only the newest few
    /// ([`SNAPSHOTS_KEPT`]).
    async fn save_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), LogError>;

    /// The newest snapshot that decodes and verifies, if any (a damaged
    /// newest one is skipped for an older one; nothing rather than a panic).
    async fn latest_snapshot(&self) -> Result<Option<Snapshot>, LogError>;

    /// Approximate bytes stored (for capacity reports and metrics).
    fn size_bytes(&self) -> u64;

    /// The oldest record the log still holds: 1 while it holds every record
    /// since the first (rsm's logs keep everything today); a log that drops
    /// its oldest records says here where it now begins, and reads from
    /// before it fail with [`LogError::Forgotten`].
    fn first_seq(&self) -> u64;

    /// A reader of this log for other threads, which sees every append
    /// acknowledged from now on too (see [`LogReader`]).
    fn reader(&self) -> std::sync::Arc<dyn LogReader>;
}

/// Reads a log from another thread while its owner appends to it: how a
/// notification subscriber that fell behind catches up without asking the
/// appending thread for anything.
///
/// # Contract
///
/// Checked by [`conformance::run_suite`] on every implementation:
///
/// * **Acknowledged records only.** It returns the records of every append
///   that returned `Ok`, made before or after the reader, and never one whose
///   append has not returned (so whatever it returns is durable) nor one of
///   a failed append.
/// * **Reads verify** exactly as [`EventLog::read`] does.
/// * **Closed means closed.** Once the log is dropped, reads fail with
///   [`LogError::Io`]: a reader never keeps the store open behind its
///   owner's back, and never panics.
///
/// Methods block the calling thread on I/O: call them from a blocking thread.
pub trait LogReader: Send + Sync {
    /// As [`EventLog::first_seq`].
    fn first_seq(&self) -> u64;

    /// One past the last acknowledged record (1 for an empty log).
    fn next_seq(&self) -> u64;

    /// Up to `max` acknowledged records with seq >= `from`, in order, each
    /// verified; empty past the end; [`LogError::Forgotten`] from before
    /// [`first_seq`](Self::first_seq).
    fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError>;
}

/// A boxed log is a log: the engine's sequencer holds whichever one it was given.
#[async_trait::async_trait]
impl EventLog for Box<dyn EventLog> {
    fn next_seq(&self) -> u64 {
        (**self).next_seq()
    }
    fn last_hash(&self) -> Hash {
        (**self).last_hash()
    }
    async fn append(&mut self, batch: &[Envelope]) -> Result<Vec<Record>, LogError> {
        (**self).append(batch).await
    }
    async fn read(&self, from: u64, max: usize) -> Result<Vec<Record>, LogError> {
        (**self).read(from, max).await
    }
    async fn save_snapshot(&mut self, snapshot: &Snapshot) -> Result<(), LogError> {
        (**self).save_snapshot(snapshot).await
    }
    async fn latest_snapshot(&self) -> Result<Option<Snapshot>, LogError> {
        (**self).latest_snapshot().await
    }
    fn size_bytes(&self) -> u64 {
        (**self).size_bytes()
    }
    fn first_seq(&self) -> u64 {
        (**self).first_seq()
    }
    fn reader(&self) -> std::sync::Arc<dyn LogReader> {
        (**self).reader()
    }
}

/// How many snapshots a log keeps: the newest, plus two older ones to fall
/// back on should the newest be damaged.
pub const SNAPSHOTS_KEPT: usize = 3;

/// A batch as stored (one value) and its records.
type EncodedBatch = (Vec<u8>, Vec<Record>);

/// What every `append` does before it writes: refuses while `broken` (an
/// earlier append failed, so its outcome is unknown until the log is
/// reopened), answers `None` for an empty batch, checks the sequence and
/// encodes the batch chained to `last_hash`: its stored value and records.
fn prepare_append(
    broken: Option<&str>,
    next_seq: u64,
    last_hash: Hash,
    batch: &[Envelope],
) -> Result<Option<EncodedBatch>, LogError> {
    if let Some(why) = broken {
        return Err(LogError::Io(format!("the log refuses appends until reopened: an append failed ({why})")));
    }
    if batch.is_empty() {
        return Ok(None);
    }
    check_starts_at(next_seq, batch)?;
    codec::encode_batch(batch, last_hash).map(Some)
}

/// The sequence number and hash that follow `records` once they are stored.
fn tail_after(records: &[Record]) -> Option<(u64, Hash)> {
    records.last().map(|last| (last.envelope.seq.saturating_add(1), last.hash))
}

/// Checks that `batch` starts at `next_seq`: the first half of the gapless
/// pair check (the codec checks that the batch is consecutive).
fn check_starts_at(next_seq: u64, batch: &[Envelope]) -> Result<(), LogError> {
    match batch.first() {
        Some(first) if first.seq != next_seq => Err(LogError::OutOfSequence { expected: next_seq, got: first.seq }),
        _ => Ok(()),
    }
}
