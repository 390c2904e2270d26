//! # rsm-engine: the running engine
//!
//! Owns the sequencer (stamp → decide → group commit → apply → answer), the
//! workers that drive hardware adapters, sessions and request waiters,
//! start-up replay and crash reconciliation, and the metrics. It is the only
//! crate that spawns threads or tasks.
//!
//! **Must not touch:** the rules (they are `rsm_model::decide`/`apply`), the
//! byte format of the log (`rsm_log::codec`), device protocols (adapters).
//! Time, ids, the log and the hardware come in through [`EngineParts`], so the
//! same engine runs in production and in a seeded simulation.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use rsm_engine::{Engine, EngineConfig};
//! use rsm_model::{LibraryKind, LibrarySpec, MountOptions, RequestState};
//! let dir = tempfile::tempdir().unwrap();
//! let engine = Engine::open(dir.path(), EngineConfig::default()).await.unwrap();
//! let session = engine.open_session("backup").await.unwrap();
//! let spec = LibrarySpec { name: "lib".into(), kind: LibraryKind::Changer, drives: 1, slots: 4, ie_ports: 0, barcodes: vec!["A00001L8".into()], media_type: rsm_model::default_media_type(), unlabelled: vec![] };
//! session.create_library(spec).await.unwrap();
//! let media = engine.query(|s| s.medium_by_barcode("A00001L8").unwrap().id).await.unwrap();
//! let mount = session.mount_media(media, MountOptions::default()).await.unwrap();
//! assert_eq!(mount.wait().await.unwrap().state, RequestState::Passed);
//! engine.shutdown().await;
//! # });
//! ```
#![deny(missing_docs)]

mod clock;
pub mod core;
mod hardware;
pub mod notify;
pub mod replay;
mod sequencer;
mod session;
mod steps;
mod wakeups;
pub mod worker;

pub use crate::core::{Accepted, Core, CoreConfig};
pub use clock::{Clock, IdSource, RandomIds, SeededIds, SystemClock};
pub use hardware::{
    discover, element_layout, failure_code, first_blocks_of, model_sense, observe, DeviceProvider, HardwareProvider,
    SimProvider, ISCSI_INITIATOR,
};
pub use notify::{NotificationChannel, Since, Subscription, INFINITE};
pub use replay::ReplayReport;
pub use sequencer::CommitStats;
pub use session::{RequestHandle, Session};

use rsm_hardware::{HardwareAdapter, SimTimings, SimulatedLibrary};
use rsm_log::{EventLog, SledLog};
use rsm_model::{
    Command, ErrorCode, LibraryId, LibraryKind, MediaTypeId, NtmsError, Policy, RequestId, RequestState, State,
};
use sequencer::{Input, Sequencer};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};
use wakeups::Wakeups;

/// How an engine runs.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Acceptance rules (queue bound, the XP access switch).
    pub policy: Policy,
    /// This node's id, written in every record.
    pub node: u32,
    /// Records the log may hold; past it callers get ERROR_DATABASE_FULL.
    pub log_capacity_records: Option<u64>,
    /// Most commands in one group commit.
    pub batch_max: usize,
    /// Commands waiting for the sequencer; beyond it callers wait (back-pressure).
    pub inbox_max: usize,
    /// A snapshot every this many records (0: only at shutdown).
    pub snapshot_every: u64,
    /// Save a snapshot when the engine stops (off only for measurements
    /// that must find the log as they left it).
    pub snapshot_at_stop: bool,
    /// Start a worker per changer library and a timer for deferred dismounts.
    pub run_workers: bool,
    /// Move and load times of simulated libraries.
    pub sim_timings: SimTimings,
    /// Check every invariant after every command (tests, simulation).
    pub check_invariants: bool,
    /// The iSCSI initiator name (IQN) logins to attached libraries use; a
    /// target's access list may name it.
    pub iscsi_initiator: String,
    /// [`Engine::open`] may create a store where there is none. Off for
    /// commands that only read: a mistyped directory is then an error, not
    /// a new empty store.
    pub create_store: bool,
    /// Committed groups the notification channel keeps for subscribers
    /// that are behind; one further behind reads the log instead.
    pub notify_buffer_groups: usize,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            node: 1,
            log_capacity_records: None,
            // About 260 bytes a record: 400 keep a commit group's sled value
            // under sled's 128 KiB threshold, past which every value becomes
            // a file of its own (measured: one blob per append at 512).
            batch_max: 400,
            inbox_max: 16_384,
            snapshot_every: 100_000,
            snapshot_at_stop: true,
            run_workers: true,
            sim_timings: SimTimings::default(),
            check_invariants: cfg!(debug_assertions),
            iscsi_initiator: ISCSI_INITIATOR.to_owned(),
            create_store: true,
            // At most this many groups stay in memory for a slow
            // subscriber (up to `batch_max` records each; far fewer under
            // most loads); past that it reads the log, which costs the
            // sequencer nothing.
            notify_buffer_groups: 256,
        }
    }
}

/// The injected parts of an engine: everything that touches the outside world.
pub struct EngineParts {
    /// The event log.
    pub log: Box<dyn EventLog>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Request ids.
    pub ids: Box<dyn IdSource>,
    /// Adapters for the libraries.
    pub hardware: Arc<dyn HardwareProvider>,
}

/// A running engine. Cheap to clone; every clone talks to the same sequencer.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    inbox: mpsc::Sender<Input>,
    committed: watch::Receiver<u64>,
    wakeups: Arc<Wakeups>,
    /// Keeps readings of a library's elements apart from its workers' steps.
    steps: Arc<steps::StepGuards>,
    hardware: Arc<dyn HardwareProvider>,
    /// Real changers of libraries with a `device`, whatever `hardware` is.
    devices: DeviceProvider,
    /// The acceptance rules, for asking `decide` what a command would do
    /// before the hardware is consulted (see [`Engine::probe_in_place`]).
    policy: Policy,
    sim: Option<Arc<SimProvider>>,
    shutdown: watch::Sender<bool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    dir: Option<PathBuf>,
    stats: Arc<CommitStats>,
    /// Where subscribers join the committed groups (weak: the sequencer's
    /// sender alone keeps the channel open, so subscribers learn it stopped).
    published: tokio::sync::broadcast::WeakSender<notify::Published>,
    /// The log, read by subscribers that fell behind.
    reader: Arc<dyn rsm_log::LogReader>,
    /// Set once the sequencer stops accepting commands.
    failed: Arc<std::sync::OnceLock<String>>,
}

impl Engine {
    /// Opens the engine whose log and simulators live in `dir`, creating
    /// the store there when [`EngineConfig::create_store`] allows it.
    pub async fn open(dir: impl AsRef<Path>, config: EngineConfig) -> Result<Engine, NtmsError> {
        let dir = dir.as_ref().to_path_buf();
        let log_dir = dir.join("log");
        let create = config.create_store;
        if create {
            rsm_log::create_dir_durably(&dir).map_err(|e| {
                NtmsError::new(
                    ErrorCode::DatabaseFailure,
                    format!("cannot create data directory {}: {e}", dir.display()),
                )
            })?;
        } else if !dir.is_dir() {
            return Err(replay::log_failure(&rsm_log::LogError::NoStore { path: dir.display().to_string() }));
        }
        let recorded = read_store_marker(&dir)?;
        let log = tokio::task::spawn_blocking(move || match recorded {
            Some(store) => SledLog::open_for_store(&log_dir, create, store),
            None if create => SledLog::open(&log_dir),
            None => SledLog::open_existing(&log_dir),
        })
        .await
        .map_err(|e| NtmsError::new(ErrorCode::DatabaseFailure, format!("opening the log panicked: {e}")))?
        .map_err(|e| replay::log_failure(&e))?;
        check_store_marker(&dir, &log, create)?;
        let sim = Arc::new(SimProvider::new(&dir, config.sim_timings));
        let parts = EngineParts {
            log: Box::new(log),
            clock: Arc::new(SystemClock),
            ids: Box::new(RandomIds::default()),
            hardware: sim.clone(),
        };
        Self::start(parts, config, Some(sim), Some(dir)).await
    }

    /// Opens an engine from injected parts (a memory log, a simulated clock, ...).
    pub async fn open_with(parts: EngineParts, config: EngineConfig) -> Result<Engine, NtmsError> {
        Self::start(parts, config, None, None).await
    }

    async fn start(
        parts: EngineParts,
        config: EngineConfig,
        sim: Option<Arc<SimProvider>>,
        dir: Option<PathBuf>,
    ) -> Result<Engine, NtmsError> {
        let core_config = CoreConfig {
            policy: config.policy.clone(),
            node: config.node,
            capacity_records: config.log_capacity_records,
            check_invariants: config.check_invariants,
        };
        let (committed_tx, committed) = watch::channel(0);
        let wakeups = Arc::new(Wakeups::default());
        let stats = Arc::new(CommitStats::default());
        let reader = parts.log.reader();
        let (published, _) = tokio::sync::broadcast::channel(config.notify_buffer_groups.max(1));
        let failed = Arc::new(std::sync::OnceLock::new());
        let recovery = sequencer::Recovery { log: parts.log, clock: parts.clock, ids: parts.ids, config: core_config };
        let settings = sequencer::Settings {
            batch_max: config.batch_max,
            snapshot_every: config.snapshot_every,
            snapshot_at_stop: config.snapshot_at_stop,
            committed: committed_tx,
            published: published.clone(),
            wakeups: wakeups.clone(),
            stats: stats.clone(),
            failed: failed.clone(),
        };
        let weak_published = published.downgrade();
        drop(published);
        let (inbox, rx) = mpsc::channel(config.inbox_max.max(1));
        let (ready_tx, ready) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("rsm-sequencer".into())
            .spawn(move || Sequencer::run(recovery, settings, rx, ready_tx))
            .map_err(|e| NtmsError::new(ErrorCode::NotEnoughMemory, format!("cannot start the sequencer: {e}")))?;
        // The replay runs on the sequencer's thread; a failed one ends it.
        let recovered = ready.await.unwrap_or_else(|_| Err(stopped()));
        if let Err(e) = recovered {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
            return Err(e);
        }
        let engine = Engine {
            inner: Arc::new(Inner {
                inbox,
                committed,
                wakeups,
                steps: Default::default(),
                hardware: parts.hardware,
                devices: DeviceProvider::new(&config.iscsi_initiator),
                policy: config.policy.clone(),
                sim,
                shutdown: watch::channel(false).0,
                thread: Mutex::new(Some(thread)),
                tasks: Mutex::new(Vec::new()),
                dir,
                stats,
                published: weak_published,
                reader,
                failed,
            }),
        };
        engine.reconcile().await?;
        engine.settle_doors().await?;
        if config.run_workers {
            engine.start_workers();
        }
        Ok(engine)
    }

    /// The acceptance rules the engine runs with.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Group-commit counters since the engine opened.
    pub fn commit_stats(&self) -> &CommitStats {
        &self.inner.stats
    }

    /// The data directory, when the engine was opened on one.
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    /// Submits a command and waits until it is durable (or rejected).
    pub async fn submit(&self, command: Command) -> Result<Accepted, NtmsError> {
        let (reply, answer) = oneshot::channel();
        self.inner.inbox.send(Input::Command { command, reply }).await.map_err(|_| stopped())?;
        let accepted = answer.await.map_err(|_| stopped())??;
        for event in &accepted.events {
            match event {
                rsm_model::Event::LibraryCreated { topology, .. } => self.create_simulator(topology.id).await?,
                // Its simulated hardware goes with the library (the log keeps its history).
                rsm_model::Event::LibraryDeleted { library } => {
                    if let Some(sim) = &self.inner.sim {
                        sim.forget(*library);
                    }
                }
                _ => {}
            }
        }
        Ok(accepted)
    }

    /// A simulated library's hardware comes to be with the library: its
    /// state file is made right after the creation is durable. (A crash in
    /// between leaves a library whose simulator is missing, which says so.)
    async fn create_simulator(&self, library: LibraryId) -> Result<(), NtmsError> {
        let Some(sim) = self.inner.sim.clone() else { return Ok(()) };
        self.query(move |s| match s.libraries.get(&library) {
            Some(lib) if lib.device.is_none() => sim.create_simulator(s, lib).map(|_| ()),
            _ => Ok(()),
        })
        .await?
        .map_err(|e| NtmsError::new(ErrorCode::DeviceNotConnected, format!("the library's simulator: {e}")))
    }

    /// Reads the views (only durable state is visible).
    pub async fn query<R: Send + 'static>(&self, f: impl FnOnce(&State) -> R + Send + 'static) -> Result<R, NtmsError> {
        let (tx, rx) = oneshot::channel();
        let q: sequencer::Query = Box::new(move |s| {
            let _ = tx.send(f(s));
        });
        self.inner.inbox.send(Input::Query(q)).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())
    }

    /// A copy of the whole projection.
    pub async fn state(&self) -> Result<State, NtmsError> {
        self.query(|s| s.clone()).await
    }

    /// Saves a snapshot now; returns its sequence number.
    pub async fn snapshot(&self) -> Result<u64, NtmsError> {
        let (reply, answer) = oneshot::channel();
        self.inner.inbox.send(Input::Snapshot { reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// The sequence number of the last durable record.
    pub fn last_seq(&self) -> u64 {
        *self.inner.committed.borrow()
    }

    /// The notices of committed records of `types` (empty: every type),
    /// from record `since` on, in log order, each with its record's
    /// sequence number: no gap, no duplicate, only durable records, and
    /// `Since::Seq(last + 1)` continues exactly where a subscription that
    /// saw `last` stopped, in this process or the next. A slow subscriber
    /// never slows the sequencer (it catches up from the log).
    ///
    /// ERROR_NO_DATA when `since` is older than the oldest record the log
    /// still holds; ERROR_INVALID_PARAMETER for record 0 or beyond the
    /// head + 1; ERROR_NOT_CONNECTED when the engine has stopped.
    pub fn subscribe(&self, types: &[rsm_model::ObjectType], since: Since) -> Result<Subscription, NtmsError> {
        let sender = self
            .inner
            .published
            .upgrade()
            .ok_or_else(|| NtmsError::new(ErrorCode::NotConnected, "the engine has stopped"))?;
        // Joined before the head is read: every group after the head reaches it.
        let live = sender.subscribe();
        drop(sender);
        Subscription::start(types, since, live, self.inner.reader.clone(), self.inner.committed.clone())
    }

    /// OpenNtmsNotification for `session`: a channel of the notices of
    /// objects of type `dw_type` (`NtmsObjectsTypes`) from now on. Codes, in
    /// order: ERROR_NOT_CONNECTED (the engine stopped), ERROR_INVALID_HANDLE
    /// (the session is unknown or closed), ERROR_INVALID_PARAMETER (a type
    /// outside 1..18), ERROR_ACCESS_DENIED (no USE on the computer),
    /// ERROR_DATABASE_FAILURE (the engine accepts nothing since its log
    /// failed). A valid type rsm keeps no objects of opens a channel that
    /// stays silent.
    pub async fn open_notification(
        &self,
        session: rsm_model::SessionId,
        dw_type: u32,
    ) -> Result<NotificationChannel, NtmsError> {
        let policy = self.inner.policy.clone();
        let delivered = self
            .query(move |s| rsm_model::check_open_notification(s, &policy, session, dw_type))
            .await
            .map_err(|_| NtmsError::new(ErrorCode::NotConnected, "the engine has stopped"))??;
        if let Some(why) = self.inner.failed.get() {
            return Err(NtmsError::new(
                ErrorCode::DatabaseFailure,
                format!("the engine accepts nothing until reopened: {why}"),
            ));
        }
        let subscription = match delivered {
            Some(t) => self.subscribe(&[t], Since::Now)?,
            // A type rsm keeps no objects of: a filter nothing passes.
            None => self.subscribe(&[], Since::Now)?.silent(),
        };
        Ok(NotificationChannel::open(subscription, self.inner.committed.clone()))
    }

    /// Opens a session for `principal`.
    pub async fn open_session(&self, principal: &str) -> Result<Session, NtmsError> {
        let a = self.submit(Command::OpenSession { principal: principal.into(), application: String::new() }).await?;
        Ok(Session::new(self.clone(), rsm_model::SessionId(a.request.0), principal))
    }

    /// The principal's open session if it has one, else a new one. The
    /// command-line tool uses it so that holds survive between invocations.
    pub async fn session_for(&self, principal: &str) -> Result<Session, NtmsError> {
        let p = principal.to_string();
        match self.query(move |s| s.open_session_of(&p)).await? {
            Some(id) => Ok(Session::new(self.clone(), id, principal)),
            None => self.open_session(principal).await,
        }
    }

    /// The simulator of a library (when the engine runs simulated libraries).
    pub async fn simulator(&self, library: LibraryId) -> Result<Arc<SimulatedLibrary>, NtmsError> {
        let sim =
            self.inner.sim.clone().ok_or_else(|| {
                NtmsError::new(ErrorCode::NotSupported, "this engine does not run simulated libraries")
            })?;
        let result = self
            .query(move |s| {
                s.libraries.get(&library).map(|lib| match &lib.device {
                    // The operator's hands and injected faults exist only in a simulator.
                    Some(device) => Err(NtmsError::new(
                        ErrorCode::NotSupported,
                        format!("library {} is the device {device}, not a simulator", lib.name),
                    )),
                    None => {
                        sim.simulator(s, lib).map_err(|e| NtmsError::new(ErrorCode::DeviceNotConnected, e.to_string()))
                    }
                })
            })
            .await?;
        result.unwrap_or_else(|| Err(NtmsError::new(ErrorCode::InvalidLibrary, format!("no library {library}"))))
    }

    /// The first block of the tape loaded in `drive` (none: nothing
    /// written): what an application's label reads as, for
    /// UpdateNtmsOmidInfo from the drive. ERROR_INVALID_STATE when no
    /// cartridge is loaded there; a device failure is its NTMS code.
    pub async fn read_first_block(&self, drive: rsm_model::DriveId) -> Result<Option<Vec<u8>>, NtmsError> {
        let found = self
            .query(move |s| s.drives.get(&drive).map(|d| (d.library, d.element_address, d.state, d.medium.is_some())))
            .await?;
        let (library, address, state, full) =
            found.ok_or_else(|| NtmsError::new(ErrorCode::InvalidDrive, format!("no drive {drive}")))?;
        if !full || state != rsm_model::DriveState::Loaded {
            return Err(NtmsError::new(ErrorCode::InvalidState, "no cartridge is loaded in the drive: mount it first"));
        }
        let adapter = self.adapter(library).await?;
        adapter.read_first_block(address).await.map_err(|e| NtmsError::new(failure_code(&e), e.to_string()))
    }

    /// The adapter of a library: its real changer when it has a `device`
    /// (attached on first use), else the injected provider's.
    async fn adapter(&self, library: LibraryId) -> Result<Arc<dyn HardwareAdapter>, NtmsError> {
        if library.is_nil() {
            // As the rules answer a missing library argument.
            return Err(NtmsError::new(ErrorCode::InvalidParameter, "a library id is required"));
        }
        enum Resolved {
            Device(String),
            Provided(Result<Arc<dyn HardwareAdapter>, rsm_hardware::AdapterError>),
        }
        let hw = self.inner.hardware.clone();
        let result = self
            .query(move |s| {
                s.libraries.get(&library).map(|lib| match &lib.device {
                    Some(device) => Resolved::Device(device.clone()),
                    None => Resolved::Provided(hw.adapter(s, lib)),
                })
            })
            .await?;
        let not_connected =
            |e: rsm_hardware::AdapterError| NtmsError::new(ErrorCode::DeviceNotConnected, e.to_string());
        match result {
            Some(Resolved::Provided(r)) => r.map_err(not_connected),
            Some(Resolved::Device(device)) => {
                let changer = self.inner.devices.changer(library, &device).await.map_err(not_connected)?;
                Ok(changer)
            }
            None => Err(NtmsError::new(ErrorCode::InvalidLibrary, format!("no library {library}"))),
        }
    }

    /// Creates a changer library from the real device at `device` (an
    /// `iscsi://HOST:PORT/IQN/LUN` URL): attaches, reads its elements and
    /// what is in them, and submits `AttachLibrary`. Returns the
    /// acceptance and the warnings of discovery (elements left out, drives
    /// paired by guesswork). The attached changer serves the library for
    /// the rest of the engine's life.
    pub(crate) async fn attach_library(
        &self,
        session: &Session,
        name: &str,
        device: &str,
        media_type: Option<MediaTypeId>,
        classify: bool,
    ) -> Result<(Accepted, Vec<String>), NtmsError> {
        let d = device.to_string();
        if let Some(existing) = self
            .query(move |s| s.libraries.values().find(|l| l.device.as_deref() == Some(&d)).map(|l| l.name.clone()))
            .await?
        {
            return Err(NtmsError::new(
                ErrorCode::AlreadyExists,
                format!("the device {device} is already attached, as library {existing}"),
            ));
        }
        let (changer, topology) = discover(device, self.inner.devices.initiator())
            .await
            .map_err(|e| NtmsError::new(ErrorCode::DeviceNotConnected, format!("cannot attach {device}: {e}")))?;
        let (mut layout, mut warnings) = element_layout(&topology);
        let (reported, notes) = hardware::reported_media_type(&topology);
        warnings.extend(notes);
        layout.media_type = match (reported, media_type) {
            (Some(reported), Some(configured)) if reported != configured => {
                let name = |t| rsm_model::media_type(t).map_or("?", |t| t.name);
                warnings.push(format!(
                    "the library reports {} media; the configured {} is not used",
                    name(reported),
                    name(configured)
                ));
                Some(reported)
            }
            (reported, configured) => reported.or(configured),
        };
        warnings.extend(topology.warnings.iter().cloned());
        let accepted = session
            .submit(Command::AttachLibrary {
                session: session.id(),
                name: name.to_string(),
                layout,
                device: device.to_string(),
                classify,
            })
            .await?;
        let n = name.to_string();
        if let Some(library) = self.query(move |s| s.library_named(&n).map(|l| l.id)).await? {
            self.inner.devices.keep(library, changer);
        }
        Ok((accepted, warnings))
    }

    /// A mount that the rules would satisfy in place (the cartridge already
    /// sits in a drive) is answered from the views alone: before it is
    /// accepted, the drive is asked whether it is there and ready (the
    /// adapter's load: TEST UNIT READY, and a LOAD of a tape the drive
    /// holds unloaded). A drive that cannot answer, or holds nothing, fails
    /// the mount with the device's code and nothing is recorded. The rules
    /// are asked first (a speculative `decide` on the current views), so a
    /// mount they refuse is refused for its own reason, never probed.
    pub(crate) async fn probe_in_place(&self, command: &Command) -> Result<(), NtmsError> {
        let (policy, probe) = (self.inner.policy.clone(), command.clone());
        let in_place = self
            .query(move |s| {
                let stamped = rsm_model::Stamped { at_ms: 0, request: RequestId(Default::default()), command: probe };
                let Ok(events) = rsm_model::decide(s, &policy, &stamped) else { return Vec::new() };
                events
                    .iter()
                    .filter_map(|e| match e {
                        rsm_model::Event::MountSatisfiedInPlace { request } => {
                            let drive = s.drives.get(&request.drive?)?;
                            let lib = s.libraries.get(&drive.library)?;
                            let barcode = s.media.get(&request.media).map(|m| m.barcode.clone()).unwrap_or_default();
                            (lib.kind == LibraryKind::Changer)
                                .then(|| (drive.library, drive.element_address, drive.name.clone(), barcode))
                        }
                        _ => None,
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        // A mount of several cartridges may find several in place: each drive is asked.
        for (library, address, drive, barcode) in in_place {
            let adapter = self.adapter(library).await?;
            let _step = self.inner.steps.step(library).await;
            adapter.load(address).await.map_err(|e| {
                NtmsError::new(
                    hardware::failure_code(&e),
                    format!("drive {drive}, where the views have {barcode}, did not answer ready: {e}"),
                )
            })?;
        }
        Ok(())
    }

    /// Inventory of a library: READ ELEMENT STATUS of its drives, slots and
    /// ports compared with the views, every difference recorded as an event.
    /// Requests under way go on: the elements and cartridges they rely on
    /// are left out, and the reading waits for a step in flight to be reported.
    pub(crate) async fn inventory(
        &self,
        session: &Session,
        library: LibraryId,
        action: u32,
    ) -> Result<Accepted, NtmsError> {
        let checked = session.submit(Command::InventoryLibrary { session: session.id(), library, action }).await?;
        // STOP, or a door open: nothing to read now.
        let method = rsm_model::InventoryMethod::of_action(action);
        match method {
            Some(method) if checked.events.is_empty() => {
                self.record_inventory(Some(session.id()), library, method).await
            }
            _ => Ok(checked),
        }
    }

    /// Reads the library's elements (unless `method` is NONE) and records
    /// what differs from the views; `session` none: the server's own.
    async fn record_inventory(
        &self,
        session: Option<rsm_model::SessionId>,
        library: LibraryId,
        method: rsm_model::InventoryMethod,
    ) -> Result<Accepted, NtmsError> {
        use rsm_hardware::ElementKind;
        if method == rsm_model::InventoryMethod::None {
            return self.submit(Command::RecordInventory { session, library, observed: vec![], method }).await;
        }
        let kinds = [ElementKind::Storage, ElementKind::DataTransfer, ElementKind::ImportExport];
        self.read_and_submit(library, &kinds, move |observed| Command::RecordInventory {
            session,
            library,
            observed,
            method,
        })
        .await
    }

    /// AccessNtmsLibraryDoor: the door unlocks at once if the robot is
    /// idle (PREVENT ALLOW MEDIUM REMOVAL on a changer), else once it is.
    pub(crate) async fn access_door(
        &self,
        session: &Session,
        library: LibraryId,
        action: u32,
    ) -> Result<Accepted, NtmsError> {
        let accepted = session.submit(Command::AccessDoor { session: session.id(), library, action }).await?;
        self.unlock_doors(library, &accepted.events).await;
        Ok(accepted)
    }

    /// Carries out a `DoorUnlocked` among `events` on the device. A device
    /// that refuses is warned about: the door is recorded open either way
    /// (a library whose door software cannot lock behaves the same).
    pub(crate) async fn unlock_doors(&self, library: LibraryId, events: &[rsm_model::Event]) {
        if events.iter().any(|e| matches!(e, rsm_model::Event::DoorUnlocked { .. })) {
            self.unlock_door(library).await;
        }
    }

    async fn unlock_door(&self, library: LibraryId) {
        match self.adapter(library).await {
            Ok(adapter) => {
                if let Err(e) = adapter.allow_medium_removal(true).await {
                    tracing::warn!(%library, error = %e, "the changer refused to unlock its door");
                }
            }
            Err(e) => tracing::warn!(%library, error = %e, "cannot reach the changer to unlock its door"),
        }
    }

    /// The door was closed (`session` none: the changer said so): it is
    /// locked again, and the inventory chosen when it was opened is taken.
    /// Returns the close's acceptance and the inventory's, if one was due.
    pub(crate) async fn close_door(
        &self,
        session: Option<rsm_model::SessionId>,
        library: LibraryId,
    ) -> Result<(Accepted, Option<Accepted>), NtmsError> {
        let closed = self.submit(Command::CloseDoor { session, library }).await?;
        let adapter = self.adapter(library).await?;
        if let Err(e) = adapter.allow_medium_removal(false).await {
            tracing::warn!(%library, error = %e, "the changer refused to lock its door");
        }
        let inventory = self.due_inventory(session, library).await?;
        Ok((closed, inventory))
    }

    /// The inventory a library waits for since its door was open, taken
    /// now; none if none is due.
    async fn due_inventory(
        &self,
        session: Option<rsm_model::SessionId>,
        library: LibraryId,
    ) -> Result<Option<Accepted>, NtmsError> {
        let due = self
            .query(move |s| {
                s.libraries
                    .get(&library)
                    .filter(|l| l.inventory_due && !l.door_open())
                    .map(|l| l.door.as_ref().map_or(rsm_model::InventoryMethod::Fast, |d| d.inventory_after))
            })
            .await?;
        match due {
            Some(method) => self.record_inventory(session, library, method).await.map(Some),
            None => Ok(None),
        }
    }

    /// The device said its elements may have changed (UNIT ATTENTION 28h):
    /// someone opened it. An open door was closed; an inventory is taken
    /// either way, by the library's method.
    pub(crate) async fn elements_changed(&self, library: LibraryId) -> Result<(), NtmsError> {
        let door_open = self.query(move |s| s.libraries.get(&library).is_some_and(|l| l.door_open())).await?;
        if door_open {
            self.close_door(None, library).await?;
            return Ok(());
        }
        let method = self
            .query(move |s| s.libraries.get(&library).map(|l| l.inventory_method))
            .await?
            .unwrap_or(rsm_model::InventoryMethod::Fast);
        self.record_inventory(None, library, method).await.map(drop)
    }

    /// InjectNtmsMedia: reads the library's import/export ports and queues an
    /// inject request for each cartridge the operator put there (the
    /// accepted events hold one `InjectRequested` each). Requests in process
    /// elsewhere in the library go on; the reading waits for a step in
    /// flight to be reported.
    pub(crate) async fn inject(&self, session: &Session, library: LibraryId) -> Result<Accepted, NtmsError> {
        use rsm_hardware::ElementKind;
        let session_id = session.id();
        self.read_and_submit(library, &[ElementKind::ImportExport], move |found| Command::InjectMedia {
            session: session_id,
            library,
            found,
        })
        .await
    }

    /// Change detection (spec §3.8): reads the drives of these stand-alone
    /// libraries and records what is in them as an inventory (a cartridge
    /// the operator put in or took out without a word to rsm). A library
    /// whose device does not answer is warned about and skipped.
    pub(crate) async fn detect_changes(&self, libraries: &[LibraryId]) {
        use rsm_hardware::ElementKind;
        for library in libraries.iter().copied() {
            let make = move |observed| Command::RecordInventory {
                session: None,
                library,
                observed,
                method: rsm_model::InventoryMethod::Fast,
            };
            if let Err(e) = self.read_and_submit(library, &[ElementKind::DataTransfer], make).await {
                tracing::warn!(%library, error = %e, "change detection could not read the drive");
            }
        }
    }

    /// Polls every stand-alone library an open change detection watches.
    pub(crate) async fn poll_detections(&self) {
        let watched: Vec<LibraryId> = self
            .query(|s| {
                let all: BTreeSet<LibraryId> =
                    s.change_detections.values().flat_map(|(_, l)| l.iter().copied()).collect();
                all.into_iter().collect()
            })
            .await
            .unwrap_or_default();
        self.detect_changes(&watched).await;
    }

    /// InjectNtmsCleaner (START): reads the ports, as an inject does (a
    /// library without ports reads nothing: its door opens).
    pub(crate) async fn inject_cleaner(
        &self,
        session: &Session,
        library: LibraryId,
        cleans: u32,
    ) -> Result<Accepted, NtmsError> {
        use rsm_hardware::ElementKind;
        let session_id = session.id();
        let make = move |found| Command::InjectCleaner {
            session: session_id,
            library,
            found,
            cleans,
            action: rsm_model::CLEANER_START,
            operation: None,
        };
        let has_ports = self.query(move |s| s.libraries.get(&library).is_some_and(|l| !l.ports.is_empty())).await?;
        if has_ports {
            self.read_and_submit(library, &[ElementKind::ImportExport], make).await
        } else {
            // Through the door: the changer unlocks it for the operator.
            let accepted = self.submit(make(Vec::new())).await?;
            self.unlock_doors(library, &accepted.events).await;
            Ok(accepted)
        }
    }

    /// Reads the elements of `kinds` (READ ELEMENT STATUS) and submits the
    /// command `make` builds from what was seen, holding the library's step
    /// guard exclusively from the reading until the command is decided: no
    /// worker step runs or reports in between, so the reading and the views
    /// it is compared with describe the same moment.
    async fn read_and_submit(
        &self,
        library: LibraryId,
        kinds: &[rsm_hardware::ElementKind],
        make: impl FnOnce(Vec<(u16, rsm_model::Seen)>) -> Command,
    ) -> Result<Accepted, NtmsError> {
        use rsm_model::Seen;
        let adapter = self.adapter(library).await?;
        let _reading = self.inner.steps.reading(library).await;
        let status = adapter
            .element_status()
            .await
            .map_err(|e| NtmsError::new(hardware::failure_code(&e), format!("READ ELEMENT STATUS failed: {e}")))?;
        let observed = status
            .into_iter()
            .filter(|e| kinds.contains(&e.kind))
            .map(|e| {
                let seen = match (e.full, e.barcode) {
                    (false, _) => Seen::Empty,
                    (true, Some(b)) if !b.trim().is_empty() => Seen::Cartridge(b.trim().to_string()),
                    (true, _) => Seen::Unlabeled,
                };
                (e.address, seen)
            })
            .collect();
        self.submit(make(observed)).await
    }

    /// After a restart: an open door is unlocked again on the device (a
    /// simulator forgets it), and an inventory due since a door closed is
    /// taken now; one the device cannot give is warned about, and the
    /// library's robot waits for it (`rsm inventory` takes it later).
    async fn settle_doors(&self) -> Result<(), NtmsError> {
        let doors: Vec<(LibraryId, bool, bool)> = self
            .query(|s| {
                s.libraries
                    .values()
                    .filter(|l| !l.deleting && (l.door_open() || l.inventory_due))
                    .map(|l| (l.id, l.door_open(), l.inventory_due))
                    .collect()
            })
            .await?;
        for (library, open, due) in doors {
            if open {
                self.unlock_door(library).await;
            } else if due {
                if let Err(e) = self.due_inventory(None, library).await {
                    tracing::warn!(%library, error = %e, "the inventory due since the door closed failed; the robot waits for one");
                }
            }
        }
        Ok(())
    }

    /// After a restart: every request left in process is settled from what
    /// the hardware says is true (never guessed).
    ///
    /// A mount whose cartridge is found in its drive is complete only once
    /// the drive has loaded it: the load is asked of the drive again (it
    /// may have been cut off between the move and the load), and a drive
    /// that fails it fails the mount with its sense.
    async fn reconcile(&self) -> Result<(), NtmsError> {
        type Pending = (RequestId, LibraryId, String, Option<(rsm_model::DriveId, u16)>);
        let pending: Vec<Pending> = self
            .query(|s| {
                s.requests
                    .values()
                    .filter(|r| r.state == RequestState::InProcess)
                    .map(|r| {
                        let barcode = s.media.get(&r.media).map(|m| m.barcode.clone()).unwrap_or_default();
                        let mount_drive = (r.kind == rsm_model::RequestKind::Mount)
                            .then_some(r.drive)
                            .flatten()
                            .and_then(|d| s.drives.get(&d).map(|drive| (d, drive.element_address)));
                        (r.id, r.library, barcode, mount_drive)
                    })
                    .collect()
            })
            .await?;
        for (request, library, barcode, mount_drive) in pending {
            let adapter = match self.adapter(library).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(%request, error = %e, "cannot reach the hardware to reconcile; request stays in process");
                    continue;
                }
            };
            let observed = worker::locate(self, &adapter, library, barcode).await;
            if let Some((_, address)) = mount_drive.filter(|(d, _)| observed == rsm_model::Observed::Drive(*d)) {
                if let Err(e) = adapter.load(address).await {
                    let (error, sense) = (hardware::failure_code(&e), hardware::model_sense(&e));
                    self.submit(Command::FailRequest { request, error, sense, observed }).await?;
                    continue;
                }
            }
            self.submit(Command::Reconcile { request, observed }).await?;
        }
        Ok(())
    }

    /// The drives of `library` that say they need cleaning get a cleaning
    /// (CleanNtmsDrive on the server's behalf; one already wanted or queued
    /// is kept). A device that does not answer is asked again later.
    pub(crate) async fn cleanings_reported(
        &self,
        library: LibraryId,
        adapter: &dyn HardwareAdapter,
    ) -> Result<(), NtmsError> {
        let addresses = match adapter.drives_needing_cleaning().await {
            Ok(addresses) => addresses,
            Err(e) => {
                tracing::debug!(%library, error = %e, "the device did not say which drives need cleaning");
                return Ok(());
            }
        };
        if addresses.is_empty() {
            return Ok(());
        }
        let drives = self
            .query(move |s| {
                let Some(lib) = s.libraries.get(&library) else { return Vec::new() };
                lib.drives
                    .iter()
                    .filter_map(|d| s.drives.get(d))
                    .filter(|d| addresses.contains(&d.element_address))
                    .filter(|d| d.cleaning_wanted.is_none())
                    .map(|d| d.id)
                    .collect::<Vec<_>>()
            })
            .await?;
        for drive in drives {
            self.submit(Command::CleanDrive { session: None, drive }).await?;
        }
        Ok(())
    }

    /// Carries out queued requests until none can start; returns how many were settled.
    pub async fn run_until_idle(&self) -> Result<usize, NtmsError> {
        self.run_until(|_| false).await
    }

    /// Runs the workers in this task until `done(state)` or nothing can start.
    /// Returns how many requests finished meanwhile.
    pub async fn run_until(
        &self,
        done: impl Fn(&State) -> bool + Send + Sync + Clone + 'static,
    ) -> Result<usize, NtmsError> {
        let finished = || self.query(|s| s.requests.values().filter(|r| r.state.is_terminal()).count());
        let before = finished().await?;
        self.submit(Command::Tick).await?;
        for library in self.changer_libraries().await? {
            self.cleanings_reported(library, &*self.adapter(library).await?).await?;
        }
        self.poll_detections().await;
        loop {
            let check = done.clone();
            if self.query(move |s| check(s)).await? {
                break;
            }
            let mut progress = false;
            for library in self.changer_libraries().await? {
                let ctx = self.worker_context(library, self.adapter(library).await?);
                progress |= worker::execute_one(&ctx).await? > 0;
            }
            if !progress {
                break;
            }
        }
        Ok(finished().await?.saturating_sub(before))
    }

    /// What a worker of `library` is handed.
    fn worker_context(&self, library: LibraryId, adapter: Arc<dyn HardwareAdapter>) -> worker::WorkerContext {
        worker::WorkerContext {
            engine: self.clone(),
            library,
            adapter,
            steps: self.inner.steps.clone(),
            bell: self.inner.wakeups.library(library),
            shutdown: self.inner.shutdown.subscribe(),
        }
    }

    async fn changer_libraries(&self) -> Result<Vec<LibraryId>, NtmsError> {
        self.query(|s| s.libraries.values().filter(|l| l.kind == LibraryKind::Changer).map(|l| l.id).collect()).await
    }

    /// Watches the sequence number of the last committed record.
    pub(crate) fn committed(&self) -> watch::Receiver<u64> {
        self.inner.committed.clone()
    }

    /// Waits until request `id` is finished; a failed or cancelled request is an error with its code.
    pub async fn wait_for(&self, id: RequestId) -> Result<rsm_model::LibraryRequest, NtmsError> {
        let mut committed = self.inner.committed.clone();
        loop {
            let r = self.query(move |s| s.requests.get(&id).cloned()).await?;
            match r {
                None => return Err(NtmsError::new(ErrorCode::InvalidParameter, format!("no request {id}"))),
                Some(r) if r.state.is_terminal() => return session::outcome(r),
                Some(_) => committed.changed().await.map_err(|_| stopped())?,
            }
        }
    }

    fn start_workers(&self) {
        let engine = self.clone();
        // Subscribed here, not in the task: a shutdown sent before the task
        // first runs must still be seen (it checks the value each round).
        let mut shutdown = engine.inner.shutdown.subscribe();
        let supervisor = tokio::spawn(async move {
            let mut running = BTreeSet::new();
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            let mut ticks = 0u64;
            loop {
                if *shutdown.borrow_and_update() {
                    return;
                }
                if let Ok(libraries) = engine.changer_libraries().await {
                    for library in libraries {
                        if running.contains(&library) {
                            continue;
                        }
                        match engine.adapter(library).await {
                            Ok(adapter) => {
                                running.insert(library);
                                let task = tokio::spawn(worker::run(engine.worker_context(library, adapter)));
                                engine
                                    .inner
                                    .tasks
                                    .lock()
                                    .expect("the task list lock is never held across a panic")
                                    .push(task);
                            }
                            Err(e) => tracing::warn!(%library, error = %e, "no adapter; library not served"),
                        }
                    }
                }
                tokio::select! {
                    _ = engine.inner.wakeups.topology.notified() => {}
                    _ = tick.tick() => {
                        let _ = engine.submit(Command::Tick).await;
                        ticks += 1;
                        // Stand-alone drives under change detection are polled.
                        if ticks.is_multiple_of(DETECTION_POLL_TICKS) {
                            engine.poll_detections().await;
                        }
                    }
                    _ = shutdown.changed() => return,
                }
            }
        });
        self.inner.tasks.lock().expect("the task list lock is never held across a panic").push(supervisor);
    }

    /// Audit: replays the whole log from the first record (verifying the
    /// hash chain) and compares with the live views and the newest snapshot.
    pub async fn verify_replay(&self) -> Result<ReplayReport, NtmsError> {
        let (reply, answer) = oneshot::channel();
        self.inner.inbox.send(Input::Verify { reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Stops the workers (no new step starts; steps under way finish and
    /// are reported), settles every request still in process from what the
    /// hardware says, lets the sequencer drain and snapshot, and waits for it.
    pub async fn shutdown(self) {
        let _ = self.inner.shutdown.send(true);
        let tasks: Vec<_> =
            std::mem::take(&mut *self.inner.tasks.lock().expect("the task list lock is never held across a panic"));
        for t in tasks {
            let _ = t.await;
        }
        // A request this process was carrying must not wait, in process, for
        // the next process to find it: settled now, under its own id.
        if let Err(e) = self.reconcile().await {
            tracing::warn!(error = %e, "requests in process could not be settled before stopping");
        }
        let thread = self.inner.thread.lock().expect("the thread lock is never held across a panic").take();
        let _ = self.inner.inbox.send(Input::Stop).await;
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// The data directory's own record of which store it holds (`DIR/STORE`,
/// the store id), written when the store is created: a `log/` directory
/// copied in from another store carries its own head and database, which
/// agree with each other, and is told apart only by this. A store made
/// before the marker existed gets it at its next creating command.
fn check_store_marker(dir: &Path, log: &SledLog, create: bool) -> Result<(), NtmsError> {
    let failure = |why: String| NtmsError::new(ErrorCode::DatabaseFailure, why);
    let marker = dir.join(STORE_MARKER);
    let id = rsm_model::uuid::Uuid::from_bytes(log.store_id()).to_string();
    match std::fs::read_to_string(&marker) {
        Ok(text) if text.trim() == id => Ok(()),
        Ok(_) => Err(failure(format!(
            "{} holds the log of another store than {} records (was a log directory copied in?)",
            dir.join("log").display(),
            marker.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let temp = dir.join(format!("{STORE_MARKER}.new"));
            std::fs::File::create(&temp)
                .and_then(|mut f| {
                    std::io::Write::write_all(&mut f, format!("{id}\n").as_bytes()).and_then(|_| f.sync_all())
                })
                .and_then(|_| std::fs::rename(&temp, &marker))
                .and_then(|_| std::fs::File::open(dir)?.sync_all())
                .map_err(|e| failure(format!("cannot write {}: {e}", marker.display())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(failure(format!("cannot read {}: {e}", marker.display()))),
    }
}

/// The store id `DIR/STORE` records, if there is one.
fn read_store_marker(dir: &Path) -> Result<Option<[u8; 16]>, NtmsError> {
    let marker = dir.join(STORE_MARKER);
    match std::fs::read_to_string(&marker) {
        Ok(text) => rsm_model::uuid::Uuid::parse_str(text.trim()).map(|id| Some(id.into_bytes())).map_err(|_| {
            NtmsError::new(ErrorCode::DatabaseFailure, format!("{} is damaged: it holds no store id", marker.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(NtmsError::new(ErrorCode::DatabaseFailure, format!("cannot read {}: {e}", marker.display()))),
    }
}

/// The data directory's store marker file.
const STORE_MARKER: &str = "STORE";

/// Seconds between two polls of the stand-alone drives under change
/// detection (the supervisor ticks every second).
const DETECTION_POLL_TICKS: u64 = 5;

pub(crate) fn stopped() -> NtmsError {
    NtmsError::new(ErrorCode::DatabaseFailure, "the engine has stopped")
}
