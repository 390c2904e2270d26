//! The deterministic simulation: one seed decides every command arrival,
//! batch boundary, robot timing, fault and crash. The engine code under test
//! is the production code: [`Core`] (stamp, decide, stage, group commit),
//! replay and reconciliation, the worker's plan ([`work_order`], [`perform`],
//! [`outcome_command`]) and the simulator adapter. Only time, the log's
//! storage and the scheduling are simulated.
//!
//! After every step it checks: the projection's invariants; the projection
//! agrees with the simulated hardware for every cartridge at rest; rejected
//! commands changed nothing; and, after every crash, every acknowledged
//! command's events are in the log, every command whose outcome was unknown
//! is whole or absent, and the log replays to the live views and the newest
//! snapshot. A final fault-free phase must drain every queue.

use rsm_engine::worker::{outcome_command, perform, started, work_order};
use rsm_engine::{core, observe, Clock, Core, CoreConfig, SeededIds};
use rsm_hardware::{AdapterError, Fault, HardwareAdapter, SimLayout, SimTimings, SimulatedLibrary};
use rsm_log::{EventLog, MemoryLog};
use rsm_model::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Simulated time, moved only by the scheduler.
#[derive(Debug, Default)]
pub struct SimClock(AtomicU64);

impl Clock for SimClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl SimClock {
    fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

/// A failing seed: rerun it with `rsm-proof simulate --seed SEED --seeds 1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The seed.
    pub seed: u64,
    /// The step at which a check failed.
    pub step: u64,
    /// What was broken.
    pub message: String,
}

/// What one seed did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Steps run.
    pub steps: u64,
    /// Faults injected (log, robot, drive, crash).
    pub faults_injected: u64,
    /// Commands acknowledged.
    pub acknowledged: u64,
    /// Commands rejected with an NTMS code.
    pub rejected: u64,
    /// Commands whose outcome was unknown (in a batch whose flush failed).
    pub unknown: u64,
    /// Crashes and restarts of the engine.
    pub crashes: u64,
    /// Ejects and injects acknowledged as done (the import/export path's coverage).
    pub port_moves: u64,
    /// Sides allocated (the media services' coverage).
    pub allocations: u64,
    /// Libraries deleted while a request of theirs was in process.
    pub deletions_in_process: u64,
    /// Doors closed after the operator worked through them, and the
    /// inventories that settled their slots.
    pub door_inventories: u64,
    /// Drives cleaned (the cleaner management's coverage).
    pub cleanings: u64,
    /// The first failed check, if any.
    pub failure: Option<Failure>,
}

/// Options of a run.
#[derive(Clone, Copy, Debug)]
pub struct SimOptions {
    /// Steps per seed (the fault phase; the drain phase comes after).
    pub steps: u64,
    /// Inject faults (the checkers must hold either way).
    pub faults: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self { steps: 300, faults: true }
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = splitmix64(self.0);
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())])
    }
}

/// A request a library's worker has in hand. Each step is one scheduling
/// decision, so a crash can fall between the robot's or a drive's physical
/// work and its report, and jobs of one library interleave.
#[derive(Clone, Debug)]
enum Job {
    /// The physical step of its current phase is still to do.
    Pending(RequestId),
    /// The step was done (or failed); its report is still to send.
    Done(RequestId, RequestKind, RequestPhase, Result<rsm_engine::worker::StepResult, AdapterError>, Observed),
}

/// What the test knows of a command it sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    Acknowledged,
    Unknown,
}

struct World {
    seed: u64,
    step: u64,
    rng: Rng,
    faults: bool,
    clock: Arc<SimClock>,
    config: CoreConfig,
    core: Core,
    /// The durable log the core's batches are appended to (it survives crashes).
    log: MemoryLog,
    rt: tokio::runtime::Runtime,
    hardware: BTreeMap<LibraryId, Arc<SimulatedLibrary>>,
    /// Ports the operator changed that no recorded reading has settled yet:
    /// until one does, the views may disagree with the hardware there.
    unrecorded: std::collections::BTreeSet<(LibraryId, u16)>,
    jobs: BTreeMap<LibraryId, Vec<Job>>,
    principals: Vec<String>,
    /// Every command sent that was not rejected: its fate and the number of events it made.
    ledger: BTreeMap<RequestId, (Fate, usize)>,
    /// The events of the last batch that was committed.
    last_events: Vec<Event>,
    report: SeedReport,
}

type Check = Result<(), String>;

const ADMIN: &str = "admin";

impl World {
    fn new(seed: u64, options: SimOptions) -> Result<World, String> {
        let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
        let clock = Arc::new(SimClock::default());
        clock.advance(1_700_000_000_000);
        let config = CoreConfig {
            policy: Policy { queue_per_library_max: 12, ..Policy::default() },
            node: 1,
            capacity_records: None,
            check_invariants: false,
        };
        let log = MemoryLog::new();
        let core = rt
            .block_on(Core::recover(&log, clock.clone(), Box::new(SeededIds::new(seed)), config.clone()))
            .map_err(|e| e.to_string())?;
        let mut world = World {
            seed,
            step: 0,
            rng: Rng(seed ^ 0xD1B5_4A32_D192_ED03),
            faults: options.faults,
            clock,
            config,
            core,
            log,
            rt,
            hardware: BTreeMap::new(),
            unrecorded: Default::default(),
            jobs: BTreeMap::new(),
            principals: [ADMIN, "backup-1", "backup-2", "backup-3", "auditor"].map(String::from).to_vec(),
            ledger: BTreeMap::new(),
            last_events: Vec::new(),
            report: SeedReport { seed, ..SeedReport::default() },
        };
        world.setup()?;
        Ok(world)
    }

    fn setup(&mut self) -> Check {
        let admin = self.session_of(0)?;
        let libraries = 1 + self.rng.below(2);
        for l in 0..libraries {
            let name = format!("lib{l}");
            let drives = 2 + self.rng.below(3) as u16;
            let slots = 6 + self.rng.below(6) as u32;
            let media = slots - 1 - self.rng.below(3) as u32;
            let barcodes = (1..=media).map(|i| format!("L{l}M{i:03}")).collect();
            let spec = LibrarySpec {
                name: name.clone(),
                kind: LibraryKind::Changer,
                drives,
                slots,
                ie_ports: 1,
                barcodes,
                media_type: rsm_model::default_media_type(),
                unlabelled: Vec::new(),
            };
            self.send(vec![Command::CreateLibrary { session: admin, spec }], false)?;
            let lib = self.core.state().library_named(&name).ok_or("library not created")?.clone();
            for (i, p) in self.principals.clone().into_iter().enumerate().skip(1) {
                let rights = if i == 4 { AccessMask::USE } else { AccessMask::USE.with(AccessMask::MODIFY) };
                let grant = Command::GrantAccess { session: admin, library: lib.id, principal: p, rights };
                self.send(vec![grant], false)?;
            }
            let layout = layout_of(self.core.state(), &lib);
            let sim = SimulatedLibrary::in_memory(&layout, SimTimings::default()).map_err(|e| e.to_string())?;
            // Most libraries start with a cleaner in their last slot, brought
            // in through the port (a few uses, so some get spent).
            if self.rng.chance(700) {
                let (last, port) =
                    (lib.slots[lib.slots.len() - 1], self.core.state().ports[&lib.ports[0]].element_address);
                self.send(vec![Command::ReserveCleanerSlot { session: admin, library: lib.id, slot: last }], false)?;
                let barcode = format!("CLN{l}");
                sim.operator_fill_port(port, &barcode).map_err(|e| e.to_string())?;
                let found = vec![(port, Seen::Cartridge(barcode))];
                let cleans = 1 + self.rng.below(6) as u32;
                let inject = Command::InjectCleaner {
                    session: admin,
                    library: lib.id,
                    found,
                    cleans,
                    action: CLEANER_START,
                    operation: None,
                };
                self.send(vec![inject], false)?;
            }
            self.hardware.insert(lib.id, Arc::new(sim));
            self.jobs.insert(lib.id, Vec::new());
        }
        Ok(())
    }

    fn session_of(&mut self, who: usize) -> Result<SessionId, String> {
        if let Some(s) = self.core.state().open_session_of(&self.principals[who]) {
            return Ok(s);
        }
        let open = Command::OpenSession { principal: self.principals[who].clone(), application: "sim".into() };
        self.send(vec![open], false)?;
        self.core.state().open_session_of(&self.principals[who]).ok_or_else(|| "session did not open".to_string())
    }

    /// Sends a batch of commands through the core and commits it (one group
    /// commit), with a fault in the flush when `faulty`. Returns once the
    /// engine is running again (a failed flush crashes and restarts it).
    fn send(&mut self, commands: Vec<Command>, faulty: bool) -> Check {
        let mut sent = Vec::new();
        self.last_events.clear();
        for command in commands {
            let before = (self.core.state().clone(), self.core.staged());
            let accepted = self.core.accept(command.clone());
            if std::env::var_os("RSM_SIM_TRACE").is_some() {
                // A failing seed, step by step: what each command decided.
                eprintln!("step {}: {command:?}\n  -> {:?}", self.step, accepted.as_ref().map(|a| &a.events));
            }
            match accepted {
                Ok(a) => {
                    if !a.events.is_empty() {
                        sent.push((a.request, a.events.len()));
                    }
                    self.last_events.extend(a.events);
                }
                Err(e) => {
                    self.report.rejected += 1;
                    if (self.core.state(), self.core.staged()) != (&before.0, before.1) {
                        return Err(format!("{} was rejected with {} but changed the state", command.name(), e.name()));
                    }
                }
            }
            self.core.state().check_invariants().map_err(|e| format!("after {}: {e}", command.name()))?;
        }
        let fault = if faulty && self.faults && self.core.staged() > 0 && self.rng.chance(40) {
            Some(self.rng.below(3))
        } else {
            None
        };
        match fault {
            Some(0) => self.log.fail_next_append(),
            Some(_) => self.log.fail_next_append_after_write(),
            None => {}
        }
        let committed = self.rt.block_on(core::commit(&mut self.core, &mut self.log));
        if fault.is_some() {
            self.report.faults_injected += 1;
        }
        match committed {
            Ok(_) => {
                self.report.port_moves += self
                    .last_events
                    .iter()
                    .filter(|e| matches!(e, Event::EjectCompleted { .. } | Event::InjectCompleted { .. }))
                    .count() as u64;
                self.report.allocations +=
                    self.last_events.iter().filter(|e| matches!(e, Event::SideAllocated { .. })).count() as u64;
                self.report.door_inventories +=
                    self.last_events.iter().filter(|e| matches!(e, Event::InventoryCompleted { .. })).count() as u64;
                self.report.cleanings +=
                    self.last_events.iter().filter(|e| matches!(e, Event::CleanCompleted { .. })).count() as u64;
                for (request, events) in sent {
                    self.report.acknowledged += 1;
                    self.ledger.insert(request, (Fate::Acknowledged, events));
                }
                Ok(())
            }
            Err(_) => {
                self.last_events.clear();
                for (request, events) in sent {
                    self.report.unknown += 1;
                    self.ledger.insert(request, (Fate::Unknown, events));
                }
                if fault == Some(2) {
                    // The flush tore the batch it was writing.
                    self.log.tear_last_record();
                }
                self.crash_and_restart()
            }
        }
    }

    /// The engine dies: only the log and the hardware survive. It restarts,
    /// replays, checks the durability claims and reconciles.
    fn crash_and_restart(&mut self) -> Check {
        self.report.crashes += 1;
        let mut log = self.log.reopen().map_err(|e| format!("the log does not reopen after a crash: {e}"))?;
        if self.faults && self.rng.chance(200) {
            // A read error during start-up: the engine must refuse to start, not start wrong.
            self.report.faults_injected += 1;
            log.fail_reads(true);
            let attempt = self.rt.block_on(Core::recover(
                &log,
                self.clock.clone(),
                Box::new(SeededIds::new(0)),
                self.config.clone(),
            ));
            match attempt {
                Err(e) if e.kind() == ErrorCode::DatabaseFailure => {}
                Err(e) => {
                    return Err(format!(
                        "a log read error at start-up gave {} instead of ERROR_DATABASE_FAILURE",
                        e.name()
                    ))
                }
                Ok(_) => return Err("the engine started although its log could not be read".into()),
            }
            log.fail_reads(false);
        }
        let ids = Box::new(SeededIds::new(self.seed.wrapping_add(self.report.crashes.wrapping_mul(0x9E37))));
        self.core = self
            .rt
            .block_on(Core::recover(&log, self.clock.clone(), ids, self.config.clone()))
            .map_err(|e| format!("restart failed: {e}"))?;
        self.log = log;
        self.check_durability()?;
        for jobs in self.jobs.values_mut() {
            jobs.clear();
        }
        self.reconcile()?;
        self.check_replay()
    }

    /// Acknowledged = present (all its events); unknown = whole or absent.
    fn check_durability(&mut self) -> Check {
        let mut found: BTreeMap<RequestId, usize> = BTreeMap::new();
        let mut next = 1;
        loop {
            let records = self.rt.block_on(self.log.read(next, 4096)).map_err(|e| format!("reading the log: {e}"))?;
            let Some(last) = records.last() else { break };
            next = last.envelope.seq + 1;
            for r in &records {
                *found.entry(r.envelope.request).or_default() += 1;
            }
        }
        for (request, (fate, events)) in &self.ledger {
            let present = found.get(request).copied().unwrap_or(0);
            match fate {
                Fate::Acknowledged if present != *events => {
                    return Err(format!(
                        "acknowledged command {request} has {present} of its {events} events in the log"
                    ))
                }
                Fate::Unknown if present != 0 && present != *events => {
                    return Err(format!(
                        "command {request} in flight at the crash is half there ({present} of {events})"
                    ))
                }
                _ => {}
            }
        }
        // Unknown outcomes are settled now: read back, they are facts.
        for (request, (fate, events)) in self.ledger.iter_mut() {
            if *fate == Fate::Unknown && found.get(request).copied().unwrap_or(0) == *events {
                *fate = Fate::Acknowledged;
            }
        }
        self.ledger.retain(|r, (fate, _)| *fate == Fate::Acknowledged || found.contains_key(r));
        Ok(())
    }

    /// Requests left in process are settled from the hardware's truth.
    fn reconcile(&mut self) -> Check {
        let pending: Vec<(RequestId, LibraryId, String)> = self
            .core
            .state()
            .requests
            .values()
            .filter(|r| r.state == RequestState::InProcess)
            .map(|r| {
                (r.id, r.library, self.core.state().media.get(&r.media).map(|m| m.barcode.clone()).unwrap_or_default())
            })
            .collect();
        for (request, library, barcode) in pending {
            let observed = self.locate(library, &barcode)?;
            self.send(vec![Command::Reconcile { request, observed }], false)?;
        }
        if let Some(r) = self.core.state().requests.values().find(|r| r.state == RequestState::InProcess) {
            return Err(format!("request {} is still in process after reconciliation", r.id));
        }
        Ok(())
    }

    fn locate(&self, library: LibraryId, barcode: &str) -> Result<Observed, String> {
        let sim = self.hardware.get(&library).ok_or("no hardware for a library")?;
        let status = self.rt.block_on(sim.element_status()).map_err(|e| e.to_string())?;
        let state = self.core.state();
        Ok(state.libraries.get(&library).map(|lib| observe(state, lib, &status, barcode)).unwrap_or(Observed::Unknown))
    }

    fn check_replay(&mut self) -> Check {
        let report =
            self.rt.block_on(core::verify(&self.core, &self.log)).map_err(|e| format!("audit replay failed: {e}"))?;
        if !report.ok() {
            return Err(format!("replay differs: {report:?}"));
        }
        Ok(())
    }

    /// Every cartridge at rest is where the hardware has it.
    fn check_hardware(&self) -> Check {
        let state = self.core.state();
        for (library, sim) in &self.hardware {
            if !state.libraries.contains_key(library) {
                continue;
            }
            let status = self.rt.block_on(sim.element_status()).map_err(|e| e.to_string())?;
            for m in state.media.values().filter(|m| m.library == *library && m.pending_request.is_none()) {
                let address = match m.location {
                    Location::Slot(s) if self.unrecorded.contains(&(*library, state.slots[&s].element_address)) => {
                        continue;
                    }
                    Location::Slot(s) => state.slots[&s].element_address,
                    Location::Drive(d) => state.drives[&d].element_address,
                    Location::Port(p) if self.unrecorded.contains(&(*library, state.ports[&p].element_address)) => {
                        continue;
                    }
                    Location::Port(p) => state.ports[&p].element_address,
                    Location::Offline => continue,
                };
                let there = status.iter().find(|e| e.address == address).and_then(|e| e.barcode.as_deref());
                if there != Some(m.barcode.as_str()) {
                    return Err(format!(
                        "the views put {} at element {address}, the hardware has {there:?} there",
                        m.barcode
                    ));
                }
            }
        }
        Ok(())
    }

    fn random_command(&mut self) -> Result<Command, String> {
        let who = self.rng.below(self.principals.len());
        let session = self.session_of(who)?;
        let state = self.core.state();
        let media: Vec<MediaId> = state.media.keys().copied().collect();
        let drives: Vec<DriveId> = state.drives.keys().copied().collect();
        let libraries: Vec<LibraryId> = state.libraries.keys().copied().collect();
        let garbage = self.rng.chance(40);
        let medium =
            if garbage { MediaId(uuid_of(self.rng.next())) } else { self.rng.pick(&media).unwrap_or(MediaId::NIL) };
        let drive =
            if garbage { DriveId(uuid_of(self.rng.next())) } else { self.rng.pick(&drives).unwrap_or(DriveId::NIL) };
        Ok(match self.rng.below(100) {
            0..=39 => {
                let drive = self.rng.chance(300).then_some(drive);
                Command::MountMedia {
                    session,
                    media: medium,
                    options: MountOptions {
                        drive,
                        write: self.rng.chance(500),
                        priority: (self.rng.below(31) as i8) - 15,
                        no_wait_if_busy: self.rng.chance(300),
                        timeout_ms: self.rng.chance(200).then(|| self.rng.below(120_000) as u64),
                        error_if_offline: self.rng.chance(500),
                    },
                }
            }
            // Several at once, all or none (a pair that may repeat itself).
            40..=43 => {
                let second = self.rng.pick(&media).unwrap_or(MediaId::NIL);
                if self.rng.chance(500) {
                    Command::MountMediaSet {
                        session,
                        media: vec![medium, second],
                        drives: vec![],
                        options: MountOptions::default(),
                    }
                } else {
                    Command::DismountMediaSet { session, media: vec![medium, second], deferred: self.rng.chance(400) }
                }
            }
            44..=59 => Command::DismountMedia { session, media: medium, deferred: self.rng.chance(400) },
            60..=74 => Command::DismountDrive { session, drive },
            75..=80 => {
                let object = match self.rng.below(3) {
                    0 => ObjectRef::Drive(drive),
                    1 => ObjectRef::Media(medium),
                    _ => ObjectRef::Library(self.rng.pick(&libraries).unwrap_or(LibraryId::NIL)),
                };
                Command::SetEnabled { session, object, enabled: self.rng.chance(600) }
            }
            81..=84 => Command::CloseSession { session },
            85 => Command::DismountDrive { session: SessionId(uuid_of(self.rng.next())), drive },
            // The queue steered: a request cancelled or a mount reordered.
            86 | 87 => {
                let requests: Vec<RequestId> = self.core.state().requests.keys().copied().collect();
                let request = self.rng.pick(&requests).unwrap_or(RequestId::NIL);
                if self.rng.chance(500) {
                    Command::CancelRequest { session, request }
                } else {
                    Command::SetRequestOrder { session, request, position: self.rng.below(4) as u32 + 1 }
                }
            }
            88..=91 => Command::EjectMedia { session, media: medium },
            // The cleaner: its slot reserved or released, taken out, drives cleaned.
            92..=94 => self.cleaner_command(session, drive),
            // The pool's owner (its rights are the pool's, not the library's).
            95..=99 => {
                let owner = self.session_of(0)?;
                self.media_services_command(owner, medium)
            }
            _ => Command::MountMedia { session, media: medium, options: MountOptions::default() },
        })
    }

    /// A command of the cleaner management: a library's cleaner slot
    /// reserved (one of its slots, often its last) or released, its cleaner
    /// ejected, a drive cleaned at a caller's or the drive's own request.
    fn cleaner_command(&mut self, session: SessionId, drive: DriveId) -> Command {
        let state = self.core.state();
        let libraries: Vec<LibraryId> = state.libraries.keys().copied().collect();
        let library = self.rng.pick(&libraries).unwrap_or(LibraryId::NIL);
        let slots: Vec<SlotId> = state.libraries.get(&library).map(|l| l.slots.clone()).unwrap_or_default();
        match self.rng.below(10) {
            0..=2 => {
                let slot = if self.rng.chance(500) { slots.last().copied() } else { self.rng.pick(&slots) }
                    .unwrap_or(SlotId::NIL);
                Command::ReserveCleanerSlot { session, library, slot }
            }
            3 => Command::ReleaseCleanerSlot { session, library },
            4 => Command::EjectCleaner { session, library, action: CLEANER_START, operation: None },
            5..=7 => Command::CleanDrive { session: Some(session), drive },
            _ => Command::CleanDrive { session: None, drive },
        }
    }

    /// A command of the media services: the simulation's one application
    /// pool (`Sim`, LTO-8) made, its policies changed, media moved in and
    /// out, sides allocated, completed and deallocated.
    fn media_services_command(&mut self, session: SessionId, medium: MediaId) -> Command {
        let state = self.core.state();
        let pool = state.pool_at("Sim").map(|p| p.id).unwrap_or(PoolId::NIL);
        let lmids: Vec<LogicalMediaId> = state.lmids.keys().copied().collect();
        let lmid = self.rng.pick(&lmids).unwrap_or(LogicalMediaId::NIL);
        let opreqs: Vec<OperatorRequestId> = state.operator_requests.keys().copied().collect();
        let opreq = self.rng.pick(&opreqs).unwrap_or(OperatorRequestId::NIL);
        let choice = if pool.is_nil() && self.rng.chance(900) { 0 } else { self.rng.below(10) };
        match choice {
            0 => Command::CreateMediaPool {
                session,
                path: "Sim".into(),
                media_type: Some(default_media_type()),
                action: PoolAction::OpenAlways,
            },
            1 => Command::SetPoolPolicy {
                session,
                pool,
                from_scratch: self.rng.chance(700),
                to_scratch: self.rng.chance(500),
                max_allocates: self.rng.below(4) as u32,
            },
            2 | 3 => Command::AllocateMedia {
                session,
                pool,
                side: None,
                options: AllocateOptions::default(),
                // An empty pool then raises a new-media operator request,
                // left open until the session closes.
                wait: if choice == 3 { AllocationWait::Raise } else { AllocationWait::NoWait },
            },
            4 => Command::DeallocateMedia { session, lmid },
            5 => Command::SetMediaComplete { session, lmid },
            6 => Command::MoveToMediaPool { session, media: medium, pool },
            // The operator's side: asked, then answering either way.
            8 => Command::SubmitOperatorRequest {
                session,
                kind: if self.rng.chance(500) {
                    OperatorRequestKind::NewMedia { pool }
                } else {
                    OperatorRequestKind::Message
                },
                message: String::new(),
            },
            9 if self.rng.chance(500) => Command::SatisfyOperatorRequest { session, request: opreq },
            9 => Command::CancelOperatorRequest { session, request: opreq },
            _ => Command::MoveToMediaPool { session, media: medium, pool: SystemPools::of(default_media_type()).free },
        }
    }

    /// DeleteNtmsLibrary of a library with a request in process (it must be
    /// disabled first): the deletion waits for that request, which must
    /// still finish, and the library's media move to the offline library.
    /// Only while another library remains, so the seed goes on working.
    fn delete_a_busy_library(&mut self) -> Check {
        let state = self.core.state();
        if state.libraries.len() < 2 {
            return Ok(());
        }
        let busy: Vec<LibraryId> = state
            .libraries
            .values()
            .filter(|l| l.active_requests.iter().any(|r| state.requests[r].state == RequestState::InProcess))
            // An opened medium refuses the deletion (rightly): pick one without.
            .filter(|l| l.drives.iter().all(|d| state.drives[d].holder.is_none()))
            .map(|l| l.id)
            .collect();
        let Some(library) = self.rng.pick(&busy) else { return Ok(()) };
        let admin = self.session_of(0)?;
        let disable = Command::SetEnabled { session: admin, object: ObjectRef::Library(library), enabled: false };
        self.send(vec![disable, Command::DeleteLibrary { session: admin, library }], true)?;
        if self.last_events.iter().any(|e| matches!(e, Event::LibraryDeletionStarted { .. })) {
            self.report.deletions_in_process += 1;
        }
        Ok(())
    }

    /// The operator at a library's import/export port: takes out what is
    /// there, or puts in a new cartridge; then an inject or an inventory of
    /// the ports reads what the port holds, as the engine would.
    fn operator_at_port(&mut self) -> Check {
        let libraries: Vec<LibraryId> = self.hardware.keys().copied().collect();
        let Some(library) = self.rng.pick(&libraries) else { return Ok(()) };
        let Some(lib) = self.core.state().libraries.get(&library).cloned() else { return Ok(()) };
        let sim = self.hardware.get(&library).cloned().ok_or("no hardware")?;
        let ports: Vec<u16> = lib.ports.iter().map(|p| self.core.state().ports[p].element_address).collect();
        let Some(port) = self.rng.pick(&ports) else { return Ok(()) };
        // Hands off a port a request is using: a real port is locked then.
        let reserved = lib.ports.iter().any(|p| {
            let p = &self.core.state().ports[p];
            p.element_address == port && p.reserved_by.is_some()
        });
        if !reserved {
            if sim.locate_at(port).is_some() {
                sim.operator_empty_port(port).map_err(|e| e.to_string())?;
                self.unrecorded.insert((library, port));
            } else if self.rng.chance(700) {
                let barcode =
                    if self.rng.chance(300) { format!("CLN{:07}", self.step) } else { format!("N{:07}", self.step) };
                sim.operator_fill_port(port, &barcode).map_err(|e| e.to_string())?;
                self.unrecorded.insert((library, port));
            }
        }
        let status = self.rt.block_on(sim.element_status()).map_err(|e| e.to_string())?;
        let seen =
            |e: &rsm_hardware::ElementStatus| (e.address, e.barcode.clone().map_or(Seen::Empty, Seen::Cartridge));
        let found: Vec<(u16, Seen)> = status.iter().filter(|e| ports.contains(&e.address)).map(seen).collect();
        let session = self.session_of(0)?;
        let cleaner_in_port = found.iter().any(|(_, seen)| matches!(seen, Seen::Cartridge(b) if b.starts_with("CLN")));
        let choice = if cleaner_in_port && self.rng.chance(700) { 5 } else { self.rng.below(10) };
        let command = match choice {
            0..=4 => Command::InjectMedia { session, library, found },
            5 | 6 => Command::InjectCleaner {
                session,
                library,
                found,
                cleans: if self.rng.chance(300) { CLEANER_USES_UNLIMITED } else { 1 + self.rng.below(3) as u32 },
                action: CLEANER_START,
                operation: None,
            },
            7 => Command::RecordInventory {
                session: Some(session),
                library,
                observed: found,
                method: InventoryMethod::Fast,
            },
            // A whole inventory, while requests may be half done: what they
            // rely on must be left alone, the rest must agree.
            _ => {
                let observed =
                    status.iter().filter(|e| e.kind != rsm_hardware::ElementKind::Transport).map(seen).collect();
                Command::RecordInventory { session: Some(session), library, observed, method: InventoryMethod::Fast }
            }
        };
        self.send(vec![command], true)?;
        self.settle_ports(library, &sim);
        Ok(())
    }

    /// A drive of the hardware says it needs cleaning, and the worker's
    /// poll of the drives turns the drives that say so into cleanings.
    fn drive_asks_for_cleaning(&mut self) -> Check {
        let libraries: Vec<LibraryId> = self.hardware.keys().copied().collect();
        let Some(library) = self.rng.pick(&libraries) else { return Ok(()) };
        let sim = self.hardware.get(&library).cloned().ok_or("no hardware")?;
        let state = self.core.state();
        let Some(lib) = state.libraries.get(&library) else { return Ok(()) };
        let addresses: Vec<u16> = lib.drives.iter().map(|d| state.drives[d].element_address).collect();
        if let Some(address) = self.rng.pick(&addresses) {
            if self.rng.chance(500) {
                sim.set_needs_cleaning(address).map_err(|e| e.to_string())?;
            }
        }
        let asking = self.rt.block_on(sim.drives_needing_cleaning()).map_err(|e| e.to_string())?;
        let state = self.core.state();
        let drives: Vec<DriveId> = state
            .libraries
            .get(&library)
            .map(|l| l.drives.iter().filter(|d| asking.contains(&state.drives[*d].element_address)).copied().collect())
            .unwrap_or_default();
        let commands: Vec<Command> =
            drives.into_iter().map(|drive| Command::CleanDrive { session: None, drive }).collect();
        if !commands.is_empty() {
            self.send(commands, true)?;
        }
        Ok(())
    }

    /// The library's door locked or unlocked on its hardware, as the
    /// engine's worker does when the views say so.
    fn door_lock(&mut self, library: LibraryId, locked: bool) -> Check {
        let sim = self.hardware.get(&library).cloned().ok_or("no hardware")?;
        self.rt.block_on(sim.allow_medium_removal(!locked)).map_err(|e| e.to_string())
    }

    /// The operator at a library's door: asks for it (it opens at once, or
    /// once the robot is idle: a scheduling round unlocks it); once it is
    /// open, takes a cartridge out of a slot or puts a new one in, and
    /// closes it; the inventory chosen is then taken from the hardware, as
    /// one due since a crash is.
    fn operator_at_door(&mut self) -> Check {
        let libraries: Vec<LibraryId> = self.hardware.keys().copied().collect();
        let Some(library) = self.rng.pick(&libraries) else { return Ok(()) };
        let Some(lib) = self.core.state().libraries.get(&library).cloned() else { return Ok(()) };
        let Some(door) = lib.door.clone() else { return Ok(()) };
        let admin = self.session_of(0)?;
        if !lib.door_open() {
            if lib.inventory_due {
                return self.take_due_inventory(library);
            }
            if door.access_pending.is_none() {
                let action = self.rng.below(4) as u32;
                self.send(vec![Command::AccessDoor { session: admin, library, action }], true)?;
                if self.last_events.iter().any(|e| matches!(e, Event::DoorUnlocked { .. })) {
                    self.door_lock(library, false)?;
                }
            }
            return Ok(());
        }
        self.door_lock(library, false)?;
        let sim = self.hardware.get(&library).cloned().ok_or("no hardware")?;
        let state = self.core.state();
        let full: Vec<u16> = lib
            .slots
            .iter()
            .map(|s| &state.slots[s])
            .filter(|s| s.content.is_some_and(|m| state.media[&m].pending_request.is_none()))
            .map(|s| s.element_address)
            .collect();
        let empty: Vec<u16> = lib
            .slots
            .iter()
            .map(|s| &state.slots[s])
            .filter(|s| s.content.is_none() && s.home_of.is_none())
            .map(|s| s.element_address)
            .collect();
        if self.rng.chance(500) {
            // The operator's hands go by what is there: a cartridge taken
            // earlier while the door stayed open is still in the views.
            let full: Vec<u16> = full.into_iter().filter(|slot| sim.locate_at(*slot).is_some()).collect();
            if let Some(slot) = self.rng.pick(&full) {
                sim.operator_take_from_slot(slot).map_err(|e| e.to_string())?;
                self.unrecorded.insert((library, slot));
            }
        } else if self.rng.chance(400) {
            // A cartridge moved from one slot to another (the cleaner too,
            // or into the cleaner slot).
            let full: Vec<u16> = full.into_iter().filter(|slot| sim.locate_at(*slot).is_some()).collect();
            let empty: Vec<u16> = empty.into_iter().filter(|slot| sim.locate_at(*slot).is_none()).collect();
            if let (Some(from), Some(to)) = (self.rng.pick(&full), self.rng.pick(&empty)) {
                let barcode = sim.operator_take_from_slot(from).map_err(|e| e.to_string())?;
                sim.operator_put_in_slot(to, &barcode).map_err(|e| e.to_string())?;
                self.unrecorded.insert((library, from));
                self.unrecorded.insert((library, to));
            }
        } else if let Some(slot) = self.rng.pick(&empty) {
            if sim.locate_at(slot).is_none() {
                let barcode = format!("D{:07}", self.step);
                sim.operator_put_in_slot(slot, &barcode).map_err(|e| e.to_string())?;
                self.unrecorded.insert((library, slot));
            }
        }
        if self.rng.chance(500) {
            return Ok(()); // the door stays open a while
        }
        self.door_lock(library, true)?;
        let session = if self.rng.chance(500) { Some(admin) } else { None };
        self.send(vec![Command::CloseDoor { session, library }], true)?;
        self.take_due_inventory(library)
    }

    /// The inventory a library waits for since its door closed, from what
    /// its hardware holds.
    fn take_due_inventory(&mut self, library: LibraryId) -> Check {
        let Some(lib) = self.core.state().libraries.get(&library).cloned() else { return Ok(()) };
        if !lib.inventory_due || lib.door_open() {
            return Ok(());
        }
        let method = lib.door.as_ref().map_or(InventoryMethod::Fast, |d| d.inventory_after);
        let sim = self.hardware.get(&library).cloned().ok_or("no hardware")?;
        let status = self.rt.block_on(sim.element_status()).map_err(|e| e.to_string())?;
        let observed = status
            .iter()
            .filter(|e| e.kind != rsm_hardware::ElementKind::Transport)
            .map(|e| (e.address, e.barcode.clone().map_or(Seen::Empty, Seen::Cartridge)))
            .collect();
        self.send(vec![Command::RecordInventory { session: None, library, observed, method }], true)?;
        self.settle_slots(library, &sim);
        Ok(())
    }

    /// Forgets the operator's changes to the slots of `library` that the
    /// views now agree with.
    fn settle_slots(&mut self, library: LibraryId, sim: &SimulatedLibrary) {
        let state = self.core.state();
        let Some(lib) = state.libraries.get(&library) else { return };
        for slot in lib.slots.iter().map(|s| &state.slots[s]) {
            let viewed = slot.content.and_then(|m| state.media.get(&m)).map(|m| m.barcode.clone());
            if viewed == sim.locate_at(slot.element_address) {
                self.unrecorded.remove(&(library, slot.element_address));
            }
        }
    }

    /// Forgets the operator's changes to the ports of `library` that the
    /// views now agree with.
    fn settle_ports(&mut self, library: LibraryId, sim: &SimulatedLibrary) {
        let state = self.core.state();
        let Some(lib) = state.libraries.get(&library) else { return };
        for port in lib.ports.iter().map(|p| &state.ports[p]) {
            let viewed = port.content.and_then(|m| state.media.get(&m)).map(|m| m.barcode.clone());
            if viewed == sim.locate_at(port.element_address) {
                self.unrecorded.remove(&(library, port.element_address));
            }
        }
    }

    /// One step of a library's worker: a scheduling round, or one job's
    /// physical step, or one job's report.
    fn robot_step(&mut self, library: LibraryId) -> Check {
        let jobs = self.jobs.get(&library).cloned().unwrap_or_default();
        if jobs.is_empty() || self.rng.chance(300) {
            self.send(vec![Command::StartNext { library }], true)?;
            let events = self.last_events.clone();
            if events.iter().any(|e| matches!(e, Event::DoorUnlocked { .. })) {
                self.door_lock(library, false)?;
            }
            let fresh = started(&events);
            let jobs = self.jobs.entry(library).or_default();
            for request in fresh {
                if !jobs.iter().any(|j| matches!(j, Job::Pending(r) | Job::Done(r, ..) if *r == request)) {
                    jobs.push(Job::Pending(request));
                }
            }
            return Ok(());
        }
        let i = self.rng.below(jobs.len());
        match jobs[i].clone() {
            Job::Pending(request) => {
                let Some(order) = work_order(self.core.state(), request) else {
                    self.remove_job(library, i);
                    return Ok(());
                };
                let Some(phase) = order.phase.filter(|p| *p != RequestPhase::AwaitingRobot) else {
                    self.remove_job(library, i);
                    return Ok(());
                };
                let sim = self.hardware.get(&library).cloned().ok_or("no hardware")?;
                if self.faults && self.rng.chance(60) {
                    self.report.faults_injected += 1;
                    let fault = match (self.rng.below(3), order.drive) {
                        (1, Some(drive)) => Fault::DriveWillNotUnload { drive },
                        (2, Some(drive)) => Fault::DriveWillNotLoad { drive },
                        _ => Fault::RobotFailure,
                    };
                    sim.inject(fault, 1).map_err(|e| e.to_string())?;
                }
                let outcome = self.rt.block_on(perform(sim.as_ref(), &order, phase));
                let observed = match &outcome {
                    Ok(_) => Observed::Unknown,
                    Err(_) => self.locate(library, &order.barcode)?,
                };
                if let Some(jobs) = self.jobs.get_mut(&library) {
                    jobs[i] = Job::Done(request, order.kind, phase, outcome, observed);
                }
            }
            Job::Done(request, kind, phase, outcome, observed) => {
                if let Some(jobs) = self.jobs.get_mut(&library) {
                    jobs[i] = Job::Pending(request);
                }
                self.send(vec![outcome_command(request, kind, phase, outcome, observed)], true)?;
            }
        }
        Ok(())
    }

    fn remove_job(&mut self, library: LibraryId, i: usize) {
        if let Some(jobs) = self.jobs.get_mut(&library) {
            jobs.remove(i);
        }
    }

    fn step_once(&mut self) -> Check {
        self.step += 1;
        match self.rng.below(100) {
            0..=44 => {
                let n = 1 + self.rng.below(4);
                let mut batch = Vec::with_capacity(n);
                for _ in 0..n {
                    batch.push(self.random_command()?);
                }
                self.send(batch, true)?;
            }
            45..=84 => {
                let libraries: Vec<LibraryId> = self.jobs.keys().copied().collect();
                if let Some(l) = self.rng.pick(&libraries) {
                    self.robot_step(l)?;
                }
            }
            85..=90 => {
                self.clock.advance(1 + self.rng.next() % 400_000);
                self.send(vec![Command::Tick], true)?;
            }
            91 => self.drive_asks_for_cleaning()?,
            92..=93 => self.operator_at_port()?,
            95 => self.delete_a_busy_library()?,
            96 => self.operator_at_door()?,
            94 => {
                if self.core.staged() == 0 {
                    self.rt
                        .block_on(core::snapshot(&mut self.core, &mut self.log))
                        .map_err(|e| format!("snapshot: {e}"))?;
                }
            }
            _ => {
                if self.faults {
                    self.report.faults_injected += 1;
                    self.crash_and_restart()?;
                }
            }
        }
        self.core.state().check_invariants()?;
        self.check_hardware()?;
        if self.step.is_multiple_of(50) {
            self.check_replay()?;
        }
        Ok(())
    }

    /// Liveness: with faults off, every object enabled and every session
    /// closed, every queue drains.
    fn drain(&mut self) -> Check {
        self.faults = false;
        let admin = self.session_of(0)?;
        let objects: Vec<ObjectRef> = {
            let s = self.core.state();
            s.libraries
                .values()
                .filter(|l| !l.enabled)
                .map(|l| ObjectRef::Library(l.id))
                .chain(s.drives.values().filter(|d| !d.enabled).map(|d| ObjectRef::Drive(d.id)))
                .chain(s.media.values().filter(|m| !m.enabled).map(|m| ObjectRef::Media(m.id)))
                .collect()
        };
        for object in objects {
            self.send(vec![Command::SetEnabled { session: admin, object, enabled: true }], false)?;
        }
        // Cartridges sessions hold keep their drives for ever, and a label
        // request waits for a drive: the applications go home, their holds
        // become deferred dismounts, and the ticks below expire them.
        let open: Vec<SessionId> = self.core.state().sessions.values().filter(|s| s.open).map(|s| s.id).collect();
        for session in open {
            self.send(vec![Command::CloseSession { session }], false)?;
        }
        // The operator closes every open door; the inventories are taken.
        let doors: Vec<LibraryId> = self.hardware.keys().copied().collect();
        for library in doors {
            let Some(lib) = self.core.state().libraries.get(&library).cloned() else { continue };
            if lib.door.as_ref().is_some_and(|d| d.access_pending.is_some()) {
                // The robot finishes what it began, then the door opens: closed at once.
                for _ in 0..100 {
                    self.robot_step(library)?;
                    if self.core.state().libraries.get(&library).is_none_or(|l| l.door_open()) {
                        break;
                    }
                }
            }
            if self.core.state().libraries.get(&library).is_some_and(|l| l.door_open()) {
                self.door_lock(library, true)?;
                self.send(vec![Command::CloseDoor { session: None, library }], false)?;
            }
            self.take_due_inventory(library)?;
        }
        let libraries: Vec<LibraryId> = self.jobs.keys().copied().collect();
        for _ in 0..5_000 {
            let busy = self.core.state().libraries.values().any(|l| !l.active_requests.is_empty())
                || self.jobs.values().any(|j| !j.is_empty());
            if !busy {
                break;
            }
            for l in &libraries {
                self.robot_step(*l)?;
            }
            self.clock.advance(400_000);
            self.send(vec![Command::Tick], false)?;
        }
        let state = self.core.state();
        if let Some(lib) = state.libraries.values().find(|l| !l.active_requests.is_empty()) {
            let stuck: Vec<String> = lib
                .active_requests
                .iter()
                .filter_map(|r| state.requests.get(r))
                .map(|r| format!("{} {:?} {:?} {:?}", r.id, r.kind, r.state, r.phase))
                .collect();
            return Err(format!(
                "library {} still has {} requests after the fault-free phase: {}",
                lib.name,
                lib.active_requests.len(),
                stuck.join("; ")
            ));
        }
        self.check_hardware()?;
        self.check_replay()
    }
}

fn uuid_of(x: u64) -> rsm_model::uuid::Uuid {
    rsm_model::uuid::Uuid::from_u128(u128::from(splitmix64(x)) << 64 | u128::from(x))
}

fn layout_of(state: &State, lib: &Library) -> SimLayout {
    let barcode = |m: Option<MediaId>| m.and_then(|m| state.media.get(&m)).map(|m| m.barcode.clone());
    SimLayout {
        transport: limits::TRANSPORT_ADDRESS,
        drives: lib.drives.iter().map(|d| state.drives[d].element_address).collect(),
        slots: lib.slots.iter().map(|s| (state.slots[s].element_address, barcode(state.slots[s].content))).collect(),
        ports: lib.ports.iter().map(|p| state.ports[p].element_address).collect(),
        first_blocks: rsm_engine::first_blocks_of(state, lib),
    }
}

/// Runs one seed; a failed check is reported, never a panic of the harness.
pub fn run_seed(seed: u64, options: SimOptions) -> SeedReport {
    let mut world = match World::new(seed, options) {
        Ok(w) => w,
        Err(message) => {
            return SeedReport { seed, failure: Some(Failure { seed, step: 0, message }), ..SeedReport::default() }
        }
    };
    let mut result = Ok(());
    for _ in 0..options.steps {
        result = world.step_once();
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = world.drain();
    }
    world.report.steps = world.step;
    if let Err(message) = result {
        world.report.failure = Some(Failure { seed, step: world.step, message });
    }
    world.report
}

/// The summary of many seeds.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Seeds run.
    pub seeds: u64,
    /// Steps per seed.
    pub steps: u64,
    /// Faults injected over all seeds.
    pub faults_injected: u64,
    /// Commands acknowledged over all seeds.
    pub acknowledged: u64,
    /// Crashes over all seeds.
    pub crashes: u64,
    /// Ejects and injects acknowledged as done over all seeds.
    pub port_moves: u64,
    /// Sides allocated over all seeds.
    pub allocations: u64,
    /// Libraries deleted with a request in process, over all seeds.
    pub deletions_in_process: u64,
    /// Inventories after a door closed, over all seeds.
    pub door_inventories: u64,
    /// Drives cleaned over all seeds.
    pub cleanings: u64,
    /// Every failing seed.
    pub failures: Vec<Failure>,
}

/// Runs seeds `first..first + count`.
pub fn run(first: u64, count: u64, options: SimOptions) -> Summary {
    let mut summary = Summary { seeds: count, steps: options.steps, ..Summary::default() };
    for seed in first..first.saturating_add(count) {
        let r = run_seed(seed, options);
        summary.faults_injected += r.faults_injected;
        summary.acknowledged += r.acknowledged;
        summary.crashes += r.crashes;
        summary.port_moves += r.port_moves;
        summary.allocations += r.allocations;
        summary.deletions_in_process += r.deletions_in_process;
        summary.door_inventories += r.door_inventories;
        summary.cleanings += r.cleanings;
        if let Some(f) = r.failure {
            summary.failures.push(f);
        }
    }
    summary
}
