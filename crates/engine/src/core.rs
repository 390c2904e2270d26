//! The sans-I/O heart of the sequencer: stamp, decide, stage, and hand the
//! staged records out as a batch.
//!
//! `Core` owns the projection, never the log: it reads the log once, to
//! recover, and from then on asks for its effects as values (a batch to
//! append, a snapshot to save) that its driver carries out and reports
//! back. The functions [`commit`], [`snapshot`] and [`verify`] are that
//! driver's one effect path: the production sequencer runs them from its
//! thread, and the deterministic simulation runs them step by step on a
//! memory log whose faults it chooses from a seed.

use crate::clock::{Clock, IdSource};
use crate::replay;
use crate::ReplayReport;
use rsm_log::{Envelope, EventLog, LogError, Snapshot};
use rsm_model::{apply, decide, ApplyError, Command, ErrorCode, Event, NtmsError, Policy, RequestId, Stamped, State};
use std::sync::Arc;

/// A command that was accepted (durable once its batch is committed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The command's correlation id (the id of the library request it made, if any).
    pub request: RequestId,
    /// The events it appended (none for a worker poll that found nothing to do).
    pub events: Vec<Event>,
    /// Sequence number of its last event (or of the log's end when it appended none).
    pub last_seq: u64,
}

/// The rules of acceptance and recording that do not come from the log.
#[derive(Clone, Debug)]
pub struct CoreConfig {
    /// Acceptance policy.
    pub policy: Policy,
    /// Node id written in every record.
    pub node: u32,
    /// Records the log may hold before callers' commands get ERROR_DATABASE_FULL.
    pub capacity_records: Option<u64>,
    /// Check every invariant after every accepted command.
    pub check_invariants: bool,
}

/// The projection and the stamping of commands.
pub struct Core {
    state: State,
    config: CoreConfig,
    /// The seq the next committed record will carry: the durable log's end.
    next_seq: u64,
    clock: Arc<dyn Clock>,
    ids: Box<dyn IdSource>,
    staged: Vec<Envelope>,
    /// Set when an append failed: the outcome of that batch is unknown, so
    /// nothing more is accepted until the log is reopened (and replayed).
    poisoned: Option<String>,
    last_time_ms: u64,
    last_snapshot_seq: u64,
}

impl Core {
    /// Rebuilds the projection from `log` (newest snapshot + tail): the one
    /// read of the log a core makes.
    pub async fn recover(
        log: &dyn EventLog,
        clock: Arc<dyn Clock>,
        ids: Box<dyn IdSource>,
        config: CoreConfig,
    ) -> Result<Self, NtmsError> {
        let (state, last_snapshot_seq) = replay::load(log).await?;
        Ok(Self {
            state,
            config,
            next_seq: log.next_seq(),
            clock,
            ids,
            staged: Vec::new(),
            poisoned: None,
            last_time_ms: 0,
            last_snapshot_seq,
        })
    }

    /// The projection: durable state plus whatever is staged.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The sequence number of the last durable record (0: none).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Why the core stopped accepting commands, if it did.
    pub fn poisoned(&self) -> Option<&str> {
        self.poisoned.as_deref()
    }

    /// Sequence number of the newest snapshot.
    pub fn last_snapshot_seq(&self) -> u64 {
        self.last_snapshot_seq
    }

    /// Records staged and not yet committed.
    pub fn staged(&self) -> usize {
        self.staged.len()
    }

    fn failure(&self) -> NtmsError {
        NtmsError::new(
            ErrorCode::DatabaseFailure,
            format!(
                "the event log failed earlier ({}); reopen the engine",
                self.poisoned.as_deref().unwrap_or("unknown")
            ),
        )
    }

    /// Stamps, decides and (speculatively, until [`Core::commit`]) applies one command.
    pub fn accept(&mut self, command: Command) -> Result<Accepted, NtmsError> {
        if self.poisoned.is_some() {
            return Err(self.failure());
        }
        // Time only moves forward, whatever the wall clock does.
        let at_ms = self.clock.now_ms().max(self.last_time_ms);
        self.last_time_ms = at_ms;
        let request = self.ids.next_id();
        let principal = match &command {
            Command::OpenSession { principal, .. } => principal.clone(),
            c => match c.session() {
                Some(s) => self.state.sessions.get(&s).map(|s| s.principal.clone()).unwrap_or_default(),
                None => "rsm".to_string(),
            },
        };
        let is_caller = command.session().is_some() || matches!(command, Command::OpenSession { .. });
        let stamped = Stamped { at_ms, request, command };
        let events = decide(&self.state, &self.config.policy, &stamped)?;
        let next = self.next_seq + self.staged.len() as u64;
        if let (Some(cap), true) = (self.config.capacity_records, is_caller) {
            // Workers' completions may go past the capacity: they are bounded
            // by the requests already accepted, which must be able to finish.
            if next - 1 + events.len() as u64 > cap {
                return Err(NtmsError::new(
                    ErrorCode::DatabaseFull,
                    format!("the event log holds {} records, its configured capacity is {cap}", next - 1),
                ));
            }
        }
        let staged_before = self.staged.len();
        for (i, event) in events.iter().enumerate() {
            let seq = next + i as u64;
            if let Err(e) = apply(&mut self.state, event) {
                return Err(self.unappliable(stamped.command.name(), seq, &e, staged_before));
            }
            self.staged.push(Envelope {
                seq,
                at_ms,
                request,
                principal: principal.clone(),
                node: self.config.node,
                event: event.clone(),
            });
        }
        if self.config.check_invariants {
            if let Err(broken) = self.state.check_invariants() {
                panic!("invariant broken after {}: {broken}", stamped.command.name());
            }
        }
        let last_seq = next - 1 + events.len() as u64;
        Ok(Accepted { request, events, last_seq })
    }

    /// `decide` accepted a command whose events `apply` cannot follow: the
    /// rules disagree with each other, and the projection may be partly
    /// changed. Like a failed append this stops the core: none of the
    /// command's records is staged, the command gets ERROR_DATABASE_FAILURE,
    /// and nothing more is accepted until the engine is reopened (replay
    /// rebuilds the projection from the log, which never sees this command).
    /// The batch's earlier commands were decided and applied whole on the
    /// state the log reproduces, so they are still committed and answered.
    fn unappliable(&mut self, command: &str, seq: u64, e: &ApplyError, staged_before: usize) -> NtmsError {
        self.staged.truncate(staged_before);
        tracing::error!(command, seq, error = %e, "an accepted command does not apply; accepting nothing more until reopened");
        self.poisoned = Some(format!("{command} was accepted but record {seq} does not apply: {e}"));
        NtmsError::new(
            ErrorCode::DatabaseFailure,
            format!(
                "{command} was accepted but its record {seq} cannot be applied ({e}); nothing of it was recorded, \
                 and nothing more is accepted until the engine is reopened"
            ),
        )
    }

    /// The staged records, as one batch for the driver to append (`None`
    /// when nothing is staged). Report the append with [`Core::appended`].
    pub fn take_batch(&mut self) -> Option<Vec<Envelope>> {
        (!self.staged.is_empty()).then(|| std::mem::take(&mut self.staged))
    }

    /// The driver's report of `batch`'s append. On failure the core is
    /// poisoned: the batch is neither acknowledged nor undone.
    pub fn appended(
        &mut self,
        batch: Vec<Envelope>,
        outcome: Result<(), LogError>,
    ) -> Result<Vec<Envelope>, NtmsError> {
        match outcome {
            Ok(()) => {
                self.next_seq += batch.len() as u64;
                Ok(batch)
            }
            Err(e) => {
                tracing::error!(error = %e, "append failed; accepting nothing more until reopened");
                self.poisoned = Some(e.to_string());
                Err(NtmsError::new(
                    ErrorCode::DatabaseFailure,
                    format!("the event log failed while recording this command; its outcome is unknown: {e}"),
                ))
            }
        }
    }

    /// The committed projection to save as a snapshot at [`Core::last_seq`];
    /// refused while the core is poisoned or records are staged.
    pub fn snapshot_state(&self) -> Result<&State, NtmsError> {
        if self.poisoned.is_some() || !self.staged.is_empty() {
            return Err(self.failure());
        }
        Ok(&self.state)
    }

    /// The driver saved a snapshot at `seq`.
    pub fn snapshot_saved(&mut self, seq: u64) {
        self.last_snapshot_seq = seq;
    }

    /// Records committed since the newest snapshot.
    pub fn records_since_snapshot(&self) -> u64 {
        self.last_seq().saturating_sub(self.last_snapshot_seq)
    }
}

/// Appends what `core` staged to `log` as one durable batch and reports the
/// outcome back to it; answers the committed records.
pub async fn commit(core: &mut Core, log: &mut dyn EventLog) -> Result<Vec<Envelope>, NtmsError> {
    let Some(batch) = core.take_batch() else { return Ok(Vec::new()) };
    let outcome = log.append(&batch).await.map(|_| ());
    core.appended(batch, outcome)
}

/// Saves a snapshot of `core`'s committed projection in `log`; answers its seq.
pub async fn snapshot(core: &mut Core, log: &mut dyn EventLog) -> Result<u64, NtmsError> {
    let seq = core.last_seq();
    if log.next_seq() != seq + 1 {
        return Err(NtmsError::new(
            ErrorCode::DatabaseFailure,
            format!("the log ends at record {} but the projection at {seq}", log.next_seq() - 1),
        ));
    }
    let snapshot = Snapshot { seq, hash: log.last_hash(), state: core.snapshot_state()?.clone() };
    log.save_snapshot(&snapshot)
        .await
        .map_err(|e| NtmsError::new(ErrorCode::DatabaseFailure, format!("snapshot failed: {e}")))?;
    core.snapshot_saved(seq);
    Ok(seq)
}

/// Audit: replays `log` from the first record, compared with `core`'s
/// projection and the newest snapshot.
pub async fn verify(core: &Core, log: &dyn EventLog) -> Result<ReplayReport, NtmsError> {
    replay::verify(log, core.state()).await
}
