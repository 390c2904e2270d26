//! The sequencer: the one owner of the projection. It stamps each command,
//! decides it, applies the events, appends a whole batch of commands with one
//! flush (group commit) and only then answers the callers.
//!
//! It runs on its own OS thread: sled's flush blocks, and a dedicated thread
//! spares every command a hop through the async runtime's scheduler.

use crate::clock::{Clock, IdSource};
use crate::wakeups::Wakeups;
use rsm_log::{Envelope, EventLog, Snapshot};
use rsm_model::{apply, decide, Command, ErrorCode, Event, NtmsError, Policy, RequestId, Stamped, State};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, watch};

/// A command that was accepted and is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The command's correlation id (the id of the library request it made, if any).
    pub request: RequestId,
    /// The events it appended (none for a worker poll that found nothing to do).
    pub events: Vec<Event>,
    /// Sequence number of its last event (or of the log's end when it appended none).
    pub last_seq: u64,
}

/// A read of the views, run between batches (so it sees only durable state).
pub(crate) type Query = Box<dyn FnOnce(&State) + Send>;

pub(crate) enum Input {
    Command {
        command: Command,
        reply: oneshot::Sender<Result<Accepted, NtmsError>>,
    },
    Query(Query),
    Snapshot {
        reply: oneshot::Sender<Result<u64, NtmsError>>,
    },
    Verify {
        reply: oneshot::Sender<Result<crate::ReplayReport, NtmsError>>,
    },
    /// Finish this batch, snapshot, and end the thread.
    Stop,
}

/// What the sequencer needs to run.
pub(crate) struct Sequencer {
    pub state: State,
    pub policy: Policy,
    pub log: Box<dyn EventLog>,
    pub clock: Arc<dyn Clock>,
    pub ids: Box<dyn IdSource>,
    pub node: u32,
    /// Records the log may hold before callers' commands get ERROR_DATABASE_FULL.
    pub capacity_records: Option<u64>,
    pub batch_max: usize,
    pub snapshot_every: u64,
    pub last_snapshot_seq: u64,
    pub check_invariants: bool,
    pub committed: watch::Sender<u64>,
    pub wakeups: Arc<Wakeups>,
    /// Set when an append failed: the outcome of that batch is unknown, so
    /// nothing more is accepted until the log is reopened (and replayed).
    pub poisoned: Option<String>,
    last_time_ms: u64,
    stopping: bool,
}

type Reply = (oneshot::Sender<Result<Accepted, NtmsError>>, Result<Accepted, NtmsError>);

impl Sequencer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        state: State,
        policy: Policy,
        log: Box<dyn EventLog>,
        clock: Arc<dyn Clock>,
        ids: Box<dyn IdSource>,
        node: u32,
        capacity_records: Option<u64>,
        batch_max: usize,
        snapshot_every: u64,
        last_snapshot_seq: u64,
        check_invariants: bool,
        committed: watch::Sender<u64>,
        wakeups: Arc<Wakeups>,
    ) -> Self {
        Self {
            state,
            policy,
            log,
            clock,
            ids,
            node,
            capacity_records,
            batch_max: batch_max.max(1),
            snapshot_every,
            last_snapshot_seq,
            check_invariants,
            committed,
            wakeups,
            poisoned: None,
            last_time_ms: 0,
            stopping: false,
        }
    }

    /// The thread body: runs until every sender is dropped, then snapshots.
    pub fn run(mut self, mut inbox: mpsc::Receiver<Input>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime can always be built on a fresh thread");
        let mut batch = Vec::with_capacity(self.batch_max);
        while let Some(first) = inbox.blocking_recv() {
            batch.push(first);
            while batch.len() < self.batch_max {
                match inbox.try_recv() {
                    Ok(input) => batch.push(input),
                    Err(_) => break,
                }
            }
            self.process(&rt, &mut batch);
            if self.stopping {
                break;
            }
        }
        if self.poisoned.is_none() && self.log.next_seq() - 1 > self.last_snapshot_seq {
            let _ = self.snapshot(&rt);
        }
    }

    fn process(&mut self, rt: &tokio::runtime::Runtime, batch: &mut Vec<Input>) {
        let mut replies: Vec<Reply> = Vec::new();
        let mut envelopes: Vec<Envelope> = Vec::new();
        let mut queries = Vec::new();
        let mut snapshots = Vec::new();
        let mut verifies = Vec::new();
        for input in batch.drain(..) {
            match input {
                Input::Command { command, reply } => {
                    let name = command.name();
                    let result = self.accept(command, &mut envelopes);
                    if let Err(e) = &result {
                        metrics::counter!("rsm_commands_rejected_total", "command" => name, "error" => e.name())
                            .increment(1);
                    } else {
                        metrics::counter!("rsm_commands_accepted_total", "command" => name).increment(1);
                    }
                    replies.push((reply, result));
                }
                Input::Query(q) => queries.push(q),
                Input::Snapshot { reply } => snapshots.push(reply),
                Input::Verify { reply } => verifies.push(reply),
                Input::Stop => self.stopping = true,
            }
        }
        if !envelopes.is_empty() {
            let started = Instant::now();
            let appended = rt.block_on(self.log.append(&envelopes));
            metrics::histogram!("rsm_append_batch_records").record(envelopes.len() as f64);
            metrics::histogram!("rsm_flush_seconds").record(started.elapsed().as_secs_f64());
            match appended {
                Ok(_) => {
                    let last = envelopes.last().map(|e| e.seq).unwrap_or(0);
                    self.wake_workers(&envelopes);
                    let _ = self.committed.send(last);
                }
                Err(e) => {
                    tracing::error!(error = %e, "append failed; the engine accepts nothing more until reopened");
                    self.poisoned = Some(e.to_string());
                    for (_, result) in replies.iter_mut() {
                        if let Ok(a) = result {
                            if !a.events.is_empty() {
                                *result = Err(NtmsError::new(
                                    ErrorCode::DatabaseFailure,
                                    format!("the event log failed while recording this command; its outcome is unknown: {e}"),
                                ));
                            }
                        }
                    }
                }
            }
        }
        for (reply, result) in replies {
            let _ = reply.send(result);
        }
        for q in queries {
            q(&self.state);
        }
        for reply in verifies {
            let _ = reply.send(rt.block_on(crate::replay::verify(self.log.as_ref(), &self.state)));
        }
        let due = self.snapshot_every > 0 && self.log.next_seq() > self.last_snapshot_seq + self.snapshot_every;
        if (due || !snapshots.is_empty()) && self.poisoned.is_none() {
            let result = self.snapshot(rt);
            for reply in snapshots {
                let _ = reply.send(result.clone());
            }
        } else {
            for reply in snapshots {
                let _ = reply.send(Err(self.failure()));
            }
        }
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

    fn snapshot(&mut self, rt: &tokio::runtime::Runtime) -> Result<u64, NtmsError> {
        let seq = self.log.next_seq() - 1;
        let snapshot = Snapshot { seq, hash: self.log.last_hash(), state: self.state.clone() };
        rt.block_on(self.log.save_snapshot(&snapshot))
            .map_err(|e| NtmsError::new(ErrorCode::DatabaseFailure, format!("snapshot failed: {e}")))?;
        self.last_snapshot_seq = seq;
        Ok(seq)
    }

    /// Stamps, decides and (speculatively, until the flush) applies one command.
    fn accept(&mut self, command: Command, envelopes: &mut Vec<Envelope>) -> Result<Accepted, NtmsError> {
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
        let events = decide(&self.state, &self.policy, &stamped)?;
        let next = self.log.next_seq() + envelopes.len() as u64;
        if let (Some(cap), true) = (self.capacity_records, is_caller) {
            // Workers' completions may go past the capacity: they are bounded
            // by the requests already accepted, which must be able to finish.
            if next - 1 + events.len() as u64 > cap {
                return Err(NtmsError::new(
                    ErrorCode::DatabaseFull,
                    format!("the event log holds {} records, its configured capacity is {cap}", next - 1),
                ));
            }
        }
        for (i, event) in events.iter().enumerate() {
            apply(&mut self.state, event);
            envelopes.push(Envelope {
                seq: next + i as u64,
                at_ms,
                request,
                principal: principal.clone(),
                node: self.node,
                event: event.clone(),
            });
        }
        if self.check_invariants {
            if let Err(broken) = self.state.check_invariants() {
                panic!("invariant broken after {}: {broken}", stamped.command.name());
            }
        }
        let last_seq = next - 1 + events.len() as u64;
        Ok(Accepted { request, events, last_seq })
    }

    fn wake_workers(&self, envelopes: &[Envelope]) {
        for e in envelopes {
            match &e.event {
                Event::MountRequested { request } | Event::DismountRequested { request } => {
                    self.wakeups.wake(request.library)
                }
                Event::LibraryCreated { .. } | Event::EnabledChanged { .. } | Event::SessionClosed { .. } => {
                    self.wakeups.wake_all()
                }
                _ => {}
            }
        }
    }
}
