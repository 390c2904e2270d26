//! Rebuilding the views from the log: at start-up (latest snapshot + tail)
//! and for audits (from the first record, compared with both).

use rsm_log::{EventLog, LogError, Record};
use rsm_model::{apply, ApplyError, ErrorCode, NtmsError, State};
use std::time::Instant;

/// Records read per call while replaying.
const READ_CHUNK: usize = 4_096;

/// Maps a log failure to the NTMS code callers see.
pub fn log_failure(e: &LogError) -> NtmsError {
    match e {
        LogError::Locked { path } => NtmsError::new(
            ErrorCode::DatabaseFailure,
            format!("the data directory {path} is in use by another rsm process"),
        ),
        LogError::NoStore { path } => NtmsError::new(
            ErrorCode::DatabaseFailure,
            format!("there is no rsm store at {path} (`rsm library create-sim` or `library attach` creates one)"),
        ),
        other => NtmsError::new(ErrorCode::DatabaseFailure, other.to_string()),
    }
}

/// A record whose event names an object the projection does not have: the
/// log is damaged or not rsm's. Replay stops there.
pub fn unappliable(seq: u64, e: &ApplyError) -> NtmsError {
    NtmsError::new(
        ErrorCode::DatabaseFailure,
        format!("record {seq} cannot be applied: {e} (the log is damaged or not rsm's)"),
    )
}

/// The projection after applying records `from..` to `state`; returns the
/// number of records applied.
///
/// Reading (sled, decoding, verifying every hash and the chain) and applying
/// are pipelined on two threads: verification costs about as much as
/// applying, and replay time is what a restart waits for.
pub async fn apply_tail(log: &dyn EventLog, state: &mut State, from: u64) -> Result<u64, NtmsError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Record>, LogError>>(4);
    // Applied chunks go back to the reader to be freed: memory freed on the
    // thread that allocated it is reused at once, where freeing it on the
    // applying thread left the reader faulting in fresh pages.
    let (spent_tx, spent_rx) = std::sync::mpsc::channel::<Vec<Record>>();
    let mut applied = 0;
    let mut next = from;
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(LogError::Io(format!("cannot start the replay reader: {e}"))));
                    return;
                }
            };
            let mut next = from;
            loop {
                while let Ok(spent) = spent_rx.try_recv() {
                    drop(spent);
                }
                let chunk = rt.block_on(log.read(next, READ_CHUNK));
                let last = chunk.as_ref().ok().and_then(|c| c.last().map(|r| r.envelope.seq));
                let stop = chunk.is_err() || last.is_none();
                if tx.send(chunk).is_err() || stop {
                    return;
                }
                next = last.map(|s| s + 1).unwrap_or(next);
            }
        });
        for chunk in rx {
            let records = chunk.map_err(|e| log_failure(&e))?;
            let Some(last) = records.last() else { break };
            next = last.envelope.seq + 1;
            for r in &records {
                apply(state, &r.envelope.event).map_err(|e| unappliable(r.envelope.seq, &e))?;
            }
            applied += records.len() as u64;
            // The reader may have ended; then the chunk is freed here.
            let _ = spent_tx.send(records);
        }
        Ok::<(), NtmsError>(())
    })?;
    if next != log.next_seq() {
        return Err(NtmsError::new(
            ErrorCode::DatabaseFailure,
            format!("the log ends at record {} but reports {} as its next record", next - 1, log.next_seq()),
        ));
    }
    Ok(applied)
}

/// Start-up: the newest valid snapshot, checked against the log, plus the tail.
/// Returns the state and the sequence number of the snapshot used (0 if none).
pub async fn load(log: &dyn EventLog) -> Result<(State, u64), NtmsError> {
    let started = Instant::now();
    let snapshot = log.latest_snapshot().await.map_err(|e| log_failure(&e))?;
    let (mut state, from) = match snapshot {
        Some(s) if s.seq < log.next_seq() && s.seq > 0 => {
            // The snapshot must belong to this log: its hash is the hash of record `seq`.
            let at = log.read(s.seq, 1).await.map_err(|e| log_failure(&e))?;
            match at.first() {
                Some(r) if r.hash == s.hash => (s.state, s.seq),
                _ => {
                    tracing::warn!(seq = s.seq, "snapshot does not match the log; replaying from the start");
                    (State::new(), 0)
                }
            }
        }
        _ => (State::new(), 0),
    };
    apply_tail(log, &mut state, from + 1).await?;
    metrics::histogram!("rsm_replay_seconds").record(started.elapsed().as_secs_f64());
    Ok((state, from))
}

/// What an audit replay found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// Records replayed from the first.
    pub records: u64,
    /// The sequence number of the newest snapshot (0 if none).
    pub snapshot_seq: u64,
    /// Replay from zero equals the live projection (snapshot + tail).
    pub matches_live: bool,
    /// Replay from zero up to the snapshot equals the snapshot.
    pub matches_snapshot: bool,
}

impl ReplayReport {
    /// True when every comparison agreed.
    pub fn ok(&self) -> bool {
        self.matches_live && self.matches_snapshot
    }
}

/// Audit: replays every record from the first (verifying the whole hash chain)
/// and compares with `live` and with the newest snapshot.
pub async fn verify(log: &dyn EventLog, live: &State) -> Result<ReplayReport, NtmsError> {
    let snapshot = log.latest_snapshot().await.map_err(|e| log_failure(&e))?;
    let mut state = State::new();
    let mut records = 0;
    let mut matches_snapshot = true;
    let snapshot_seq = snapshot.as_ref().map(|s| s.seq).unwrap_or(0);
    if let Some(s) = &snapshot {
        records += apply_until(log, &mut state, 1, s.seq).await?;
        matches_snapshot = state == s.state;
    }
    records += apply_tail(log, &mut state, snapshot_seq + 1).await?;
    Ok(ReplayReport { records, snapshot_seq, matches_live: &state == live, matches_snapshot })
}

async fn apply_until(log: &dyn EventLog, state: &mut State, from: u64, to: u64) -> Result<u64, NtmsError> {
    let mut next = from;
    while next <= to {
        let want = usize::try_from(to - next + 1).unwrap_or(usize::MAX).min(READ_CHUNK);
        let records = log.read(next, want).await.map_err(|e| log_failure(&e))?;
        let Some(last) = records.last() else {
            return Err(NtmsError::new(ErrorCode::DatabaseFailure, format!("the log ends before record {to}")));
        };
        next = last.envelope.seq + 1;
        for r in &records {
            apply(state, &r.envelope.event).map_err(|e| unappliable(r.envelope.seq, &e))?;
        }
    }
    Ok(to + 1 - from)
}
