//! The sequencer thread: drives the [`Core`] for the running engine. It
//! drains up to `batch_max` inputs, accepts each command, commits the whole
//! batch with one flush (group commit), and only then answers the callers.
//!
//! It runs on its own OS thread: sled's flush blocks, and a dedicated thread
//! spares every command a hop through the async runtime's scheduler. The
//! start-up replay runs there too, off the async runtime's threads.

use crate::clock::{Clock, IdSource};
use crate::core::{self, Accepted, Core, CoreConfig};
use crate::notify::Published;
use crate::wakeups::Wakeups;
use rsm_log::{Envelope, EventLog};
use rsm_model::{Command, Event, NtmsError, State};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

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

/// What the sequencer recovers its core from.
pub(crate) struct Recovery {
    pub log: Box<dyn EventLog>,
    pub clock: Arc<dyn Clock>,
    pub ids: Box<dyn IdSource>,
    pub config: CoreConfig,
}

/// How the sequencer batches and whom it tells.
pub(crate) struct Settings {
    pub batch_max: usize,
    /// A snapshot every this many records (0: only at shutdown).
    pub snapshot_every: u64,
    pub snapshot_at_stop: bool,
    pub committed: watch::Sender<u64>,
    /// Every committed group, for notification subscribers.
    pub published: broadcast::Sender<Published>,
    pub wakeups: Arc<Wakeups>,
    pub stats: Arc<CommitStats>,
    /// Set once the core stops accepting commands (a failed append).
    pub failed: Arc<std::sync::OnceLock<String>>,
}

pub(crate) struct Sequencer {
    core: Core,
    log: Box<dyn EventLog>,
    batch_max: usize,
    snapshot_every: u64,
    snapshot_at_stop: bool,
    committed: watch::Sender<u64>,
    published: broadcast::Sender<Published>,
    wakeups: Arc<Wakeups>,
    stats: Arc<CommitStats>,
    /// Why the core stopped accepting commands, once it did.
    failed: Arc<std::sync::OnceLock<String>>,
}

/// Group-commit counters: how many flushes, carrying how many records.
#[derive(Debug, Default)]
pub struct CommitStats {
    commits: std::sync::atomic::AtomicU64,
    records: std::sync::atomic::AtomicU64,
}

impl CommitStats {
    fn record(&self, records: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.commits.fetch_add(1, Relaxed);
        self.records.fetch_add(records as u64, Relaxed);
    }

    /// (flushes, records) since the engine opened.
    pub fn read(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.commits.load(Relaxed), self.records.load(Relaxed))
    }
}

type Reply = (oneshot::Sender<Result<Accepted, NtmsError>>, Result<Accepted, NtmsError>);

/// A batch at least this large means many callers are waiting on flushes.
const LINGER_FROM: usize = 8;
/// The longest wait for a batch to fill, well under one flush.
const LINGER: std::time::Duration = std::time::Duration::from_micros(50);

/// Moves what waits in the inbox into `batch`, up to `max` inputs.
fn drain(inbox: &mut mpsc::Receiver<Input>, batch: &mut Vec<Input>, max: usize) {
    while batch.len() < max {
        match inbox.try_recv() {
            Ok(input) => batch.push(input),
            Err(_) => break,
        }
    }
}

impl Sequencer {
    /// The thread body: recovers the core from the log (answering `ready`
    /// with the outcome), then runs until stopped or every sender is
    /// dropped, and snapshots.
    pub fn run(
        recovery: Recovery,
        settings: Settings,
        inbox: mpsc::Receiver<Input>,
        ready: oneshot::Sender<Result<(), NtmsError>>,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime can always be built on a fresh thread");
        let Recovery { log, clock, ids, config } = recovery;
        let core = match rt.block_on(Core::recover(log.as_ref(), clock, ids, config)) {
            Ok(core) => core,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        settings.committed.send_replace(core.last_seq());
        let _ = ready.send(Ok(()));
        let Settings { batch_max, snapshot_every, snapshot_at_stop, committed, published, wakeups, stats, failed } =
            settings;
        Sequencer {
            core,
            log,
            batch_max,
            snapshot_every,
            snapshot_at_stop,
            committed,
            published,
            wakeups,
            stats,
            failed,
        }
        .serve(&rt, inbox);
    }

    fn serve(mut self, rt: &tokio::runtime::Runtime, mut inbox: mpsc::Receiver<Input>) {
        let mut batch = Vec::with_capacity(self.batch_max);
        let mut stopping = false;
        let mut last_len = 0;
        while let Some(first) = inbox.blocking_recv() {
            batch.push(first);
            let max = self.batch_max.max(1);
            drain(&mut inbox, &mut batch, max);
            // Under load, the callers just answered are about to send their
            // next commands: wait a moment for them rather than flush a
            // batch much smaller than the last (one flush serves them all).
            if last_len >= LINGER_FROM && batch.len() < last_len.min(max) {
                let until = Instant::now() + LINGER;
                while batch.len() < last_len.min(max) && Instant::now() < until {
                    std::thread::yield_now();
                    drain(&mut inbox, &mut batch, max);
                }
            }
            last_len = batch.len();
            stopping |= self.process(rt, &mut batch);
            if stopping {
                break;
            }
        }
        if self.snapshot_at_stop && self.core.poisoned().is_none() && self.core.records_since_snapshot() > 0 {
            let _ = rt.block_on(core::snapshot(&mut self.core, self.log.as_mut()));
        }
    }

    /// One batch; returns true when asked to stop.
    fn process(&mut self, rt: &tokio::runtime::Runtime, batch: &mut Vec<Input>) -> bool {
        let mut replies: Vec<Reply> = Vec::new();
        let mut queries = Vec::new();
        let mut snapshots = Vec::new();
        let mut verifies = Vec::new();
        let mut stop = false;
        for input in batch.drain(..) {
            match input {
                Input::Command { command, reply } => {
                    let name = command.name();
                    let result = self.core.accept(command);
                    match &result {
                        Err(e) => {
                            metrics::counter!("rsm_commands_rejected_total", "command" => name, "error" => e.name())
                                .increment(1)
                        }
                        Ok(_) => metrics::counter!("rsm_commands_accepted_total", "command" => name).increment(1),
                    }
                    replies.push((reply, result));
                }
                Input::Query(q) => queries.push(q),
                Input::Snapshot { reply } => snapshots.push(reply),
                Input::Verify { reply } => verifies.push(reply),
                Input::Stop => stop = true,
            }
        }
        let staged = self.core.staged();
        if staged > 0 {
            let started = Instant::now();
            let committed = rt.block_on(core::commit(&mut self.core, self.log.as_mut()));
            metrics::histogram!("rsm_append_batch_records").record(staged as f64);
            metrics::histogram!("rsm_flush_seconds").record(started.elapsed().as_secs_f64());
            match committed {
                Ok(envelopes) => {
                    self.stats.record(envelopes.len());
                    rsm_log::failpoint::hit("commit.before-reply");
                    self.wake_workers(&envelopes);
                    let _ = self.committed.send(envelopes.last().map(|e| e.seq).unwrap_or(0));
                    // After `committed`, so a subscriber that read it gets
                    // every later group here. Never waits: a subscriber
                    // that falls behind reads the log instead.
                    if let Some(group) = crate::notify::Group::new(envelopes) {
                        let _ = self.published.send(Arc::new(group));
                    }
                }
                Err(failure) => {
                    for (_, result) in replies.iter_mut() {
                        if result.as_ref().is_ok_and(|a| !a.events.is_empty()) {
                            *result = Err(failure.clone());
                        }
                    }
                }
            }
        }
        if let Some(why) = self.core.poisoned() {
            let _ = self.failed.set(why.to_string());
        }
        for (reply, result) in replies {
            let _ = reply.send(result);
        }
        for q in queries {
            q(self.core.state());
        }
        for reply in verifies {
            let _ = reply.send(rt.block_on(core::verify(&self.core, self.log.as_ref())));
        }
        let due = self.snapshot_every > 0 && self.core.records_since_snapshot() >= self.snapshot_every;
        if due || !snapshots.is_empty() {
            let result = rt.block_on(core::snapshot(&mut self.core, self.log.as_mut()));
            for reply in snapshots {
                let _ = reply.send(result.clone());
            }
        }
        stop
    }

    fn wake_workers(&self, envelopes: &[Envelope]) {
        let library_of = |r: &rsm_model::RequestId| self.core.state().requests.get(r).map(|q| q.library);
        for e in envelopes {
            match &e.event {
                Event::MountRequested { request }
                | Event::MountWaiting { request, .. }
                | Event::DismountRequested { request }
                | Event::EjectRequested { request }
                | Event::InjectRequested { request, .. }
                | Event::LabelRequested { request } => self.wakeups.wake(request.library),
                // The door waits for the robot, or the robot for the door and
                // the inventory after it.
                Event::DoorAccessQueued { library, .. }
                | Event::DoorClosed { library, .. }
                | Event::InventoryCompleted { library }
                | Event::InventoryStopped { library, .. } => self.wakeups.wake(*library),
                // The robot or a drive became free: another request may start.
                Event::MediumMoved { request, .. }
                | Event::DriveUnloaded { request, .. }
                | Event::MountCompleted { request, .. }
                | Event::DismountCompleted { request, .. }
                | Event::EjectCompleted { request, .. }
                | Event::InjectCompleted { request, .. }
                | Event::RequestFailed { request, .. }
                | Event::RequestRequeued { request, .. }
                // A drive promised to a request is free again, or the
                // order changed: a waiting mount may get it now.
                | Event::RequestCancelled { request, .. }
                | Event::RequestTimedOut { request, .. }
                | Event::RequestOrderSet { request, .. }
                | Event::WaitingMountAssigned { request, .. }
                | Event::LabelRequestCompleted { request, .. }
                | Event::LabelRequestSettled { request, .. } => {
                    if let Some(library) = library_of(request) {
                        self.wakeups.wake(library)
                    }
                }
                // A session let go of a drive: a waiting mount may take it.
                Event::DriveMadeDismountable { drive, .. } | Event::HoldReleased { drive } => {
                    if let Some(library) = self.core.state().drives.get(drive).map(|d| d.library) {
                        self.wakeups.wake(library)
                    }
                }
                Event::LibraryCreated { .. }
                | Event::LibraryAttached { .. }
                | Event::EnabledChanged { .. }
                | Event::SessionClosed { .. } => self.wakeups.wake_all(),
                _ => {}
            }
        }
    }
}
