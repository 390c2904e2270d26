//! Workers: one per changer library. Each asks the sequencer for the next
//! request (the scheduler is the pure `StartNext` rule), drives the adapter,
//! and reports the outcome as a command. A worker never changes state by any
//! other road.

use crate::hardware::{failure_code, model_sense, observe};
use crate::steps::StepGuards;
use crate::Engine;
use rsm_hardware::{AdapterError, HardwareAdapter};
use rsm_model::{
    Command, ErrorCode, Event, LibraryId, NtmsError, Observed, RequestId, RequestKind, RequestPhase, State,
};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{watch, Notify};

/// What a worker of one library is handed: the engine's public face for its
/// commands and queries, and the few shared parts it coordinates through.
#[derive(Clone)]
pub(crate) struct WorkerContext {
    /// Commands and queries, as any caller makes them.
    pub engine: Engine,
    /// The library served.
    pub library: LibraryId,
    /// The library's adapter.
    pub adapter: Arc<dyn HardwareAdapter>,
    /// Held shared for each step and its report (see `steps`).
    pub steps: Arc<StepGuards>,
    /// Rung when the library may have work.
    pub bell: Arc<Notify>,
    /// True once the engine stops: no new step starts.
    pub shutdown: watch::Receiver<bool>,
}

impl WorkerContext {
    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }
}

/// What a request in process asks of the hardware, in element addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkOrder {
    /// Mount, dismount, eject or inject.
    pub kind: RequestKind,
    /// Where the request is in its work (none once finished).
    pub phase: Option<RequestPhase>,
    /// The drive's element address (mounts and dismounts).
    pub drive: Option<u16>,
    /// The slot's element address (source of a mount or an eject,
    /// destination of a dismount or an inject).
    pub slot: u16,
    /// The import/export port's element address (ejects and injects).
    pub port: Option<u16>,
    /// The cartridge's bar code.
    pub barcode: String,
}

/// The hardware's work for a request, as the projection has it now.
pub fn work_order(state: &State, request: RequestId) -> Option<WorkOrder> {
    let r = state.requests.get(&request)?;
    Some(WorkOrder {
        kind: r.kind,
        phase: r.phase,
        drive: match r.drive {
            Some(d) => Some(state.drives.get(&d)?.element_address),
            None => None,
        },
        slot: state.slots.get(&r.slot?)?.element_address,
        port: match r.port {
            Some(p) => Some(state.ports.get(&p)?.element_address),
            None => None,
        },
        barcode: state.media.get(&r.media)?.barcode.clone(),
    })
}

/// The requests a scheduler decision put to work (started, or given the robot).
pub fn started(events: &[Event]) -> Vec<RequestId> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RequestStarted { request, .. } | Event::RobotAssigned { request, .. } => Some(*request),
            _ => None,
        })
        .collect()
}

/// How many steps of a scheduling round make the next round worth taking
/// at once: waiting mounts given a drive, cleanings queued or waiting for
/// a cleaner.
fn assigned(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::WaitingMountAssigned { .. }
                    | Event::AwaitedMediumArrived { .. }
                    | Event::CleanQueued { .. }
                    | Event::CleanerAwaited { .. }
                    | Event::OperatorRequestClosed { .. }
            )
        })
        .count()
}

/// What a step brought back besides its success: a classification's
/// reading of the first block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// Done.
    Done,
    /// The first block (none: nothing written).
    FirstBlock(Option<Vec<u8>>),
}

/// The physical step of a phase: a mount moves then loads; a dismount
/// unloads, waits for the robot, then moves home; an eject moves the
/// cartridge from its slot to the port, an inject from the port to its
/// slot; a label request moves and loads as a mount does, reads or writes
/// the first block, then unloads and goes home as a dismount does. Only
/// the moves use the robot.
pub async fn perform(
    adapter: &dyn HardwareAdapter,
    order: &WorkOrder,
    phase: RequestPhase,
) -> Result<StepResult, AdapterError> {
    let drive = order.drive;
    let missing = |what: &str| AdapterError::Io(format!("a {:?} request names no {what}", order.kind));
    match (order.kind, phase) {
        (RequestKind::Classify, RequestPhase::Labelling) => {
            adapter.read_first_block(drive.ok_or_else(|| missing("drive"))?).await.map(StepResult::FirstBlock)
        }
        (_, RequestPhase::Labelling) => {
            let label = rsm_model::free_media_label(&order.barcode);
            adapter.write_first_block(drive.ok_or_else(|| missing("drive"))?, &label).await.map(|()| StepResult::Done)
        }
        _ => perform_move(adapter, order, phase).await.map(|()| StepResult::Done),
    }
}

/// The steps that move or (un)load a cartridge.
async fn perform_move(
    adapter: &dyn HardwareAdapter,
    order: &WorkOrder,
    phase: RequestPhase,
) -> Result<(), AdapterError> {
    let (drive, port) = (order.drive, order.port);
    let missing = |what: &str| AdapterError::Io(format!("a {:?} request names no {what}", order.kind));
    match (order.kind, phase) {
        (_, RequestPhase::AwaitingRobot | RequestPhase::Labelling) => Ok(()),
        (kind, RequestPhase::Moving) if kind.leaves() => {
            adapter.move_medium(order.slot, port.ok_or_else(|| missing("port"))?).await
        }
        (kind, RequestPhase::Moving) if kind.enters() => {
            adapter.move_medium(port.ok_or_else(|| missing("port"))?, order.slot).await
        }
        (_, RequestPhase::Cleaning) => adapter.clean(drive.ok_or_else(|| missing("drive"))?).await,
        (_, RequestPhase::Moving) => adapter.move_medium(order.slot, drive.ok_or_else(|| missing("drive"))?).await,
        (_, RequestPhase::Loading) => adapter.load(drive.ok_or_else(|| missing("drive"))?).await,
        (_, RequestPhase::Unloading) => adapter.unload(drive.ok_or_else(|| missing("drive"))?).await,
        (_, RequestPhase::Stowing) => adapter.move_medium(drive.ok_or_else(|| missing("drive"))?, order.slot).await,
    }
}

/// The command that reports a phase's step (`observed` matters only on failure).
pub fn outcome_command(
    request: RequestId,
    kind: RequestKind,
    phase: RequestPhase,
    outcome: Result<StepResult, AdapterError>,
    observed: Observed,
) -> Command {
    match outcome {
        Ok(StepResult::FirstBlock(block)) => Command::ReportFirstBlock { request, block },
        Ok(StepResult::Done) if kind.last_step(phase) => Command::CompleteRequest { request },
        Ok(StepResult::Done) => Command::AdvanceRequest { request },
        Err(error) => {
            Command::FailRequest { request, error: failure_code(&error), sense: model_sense(&error), observed }
        }
    }
}

/// Takes one request through its phases until it finishes or waits for the
/// robot. The failpoint `worker.between-moves` sits between two phases,
/// `worker.before-report` between a step and its report.
///
/// Once the engine stops, no new step starts: the request stays in process
/// and the engine settles it from the hardware before it closes.
pub(crate) async fn drive_request(ctx: &WorkerContext, request: RequestId) -> Result<(), NtmsError> {
    let (engine, library, adapter) = (&ctx.engine, ctx.library, &ctx.adapter);
    let started = Instant::now();
    let mut first = true;
    loop {
        let Some(order) = engine.query(move |s| work_order(s, request)).await? else { return Ok(()) };
        let Some(phase) = order.phase.filter(|p| *p != RequestPhase::AwaitingRobot) else {
            if order.phase.is_none() {
                metrics::histogram!("rsm_request_seconds", "kind" => order.kind.name())
                    .record(started.elapsed().as_secs_f64());
            }
            return Ok(());
        };
        if ctx.stopping() {
            return Ok(());
        }
        if !first {
            rsm_log::failpoint::hit("worker.between-moves");
        }
        first = false;
        // Held until the step's report is decided (see `steps`).
        let _step = ctx.steps.step(library).await;
        let outcome = perform(adapter.as_ref(), &order, phase).await;
        let observed = match &outcome {
            Ok(_) => Observed::Unknown,
            Err(error) => {
                tracing::warn!(%request, %error, "request failed in the hardware");
                locate(engine, adapter, library, order.barcode).await
            }
        };
        rsm_log::failpoint::hit("worker.before-report");
        engine.submit(outcome_command(request, order.kind, phase, outcome, observed)).await?;
        if phase == RequestPhase::Unloading {
            // The move home needs the robot: the scheduler grants it, and the
            // task started by that grant carries the request on.
            return Ok(());
        }
    }
}

/// One scheduling round of `library`, carried out in this task: starts what
/// can start and takes each started request as far as it goes. Returns how
/// many requests it moved.
pub(crate) async fn execute_one(ctx: &WorkerContext) -> Result<usize, NtmsError> {
    if ctx.stopping() {
        return Ok(0);
    }
    let accepted = ctx.engine.submit(Command::StartNext { library: ctx.library }).await?;
    ctx.engine.unlock_doors(ctx.library, &accepted.events).await;
    let requests = started(&accepted.events);
    if !requests.is_empty() {
        rsm_log::failpoint::hit("worker.started");
    }
    for request in &requests {
        drive_request(ctx, *request).await?;
    }
    // Waiting mounts given drives start on the next round: that is progress too.
    Ok(requests.len() + assigned(&accepted.events))
}

/// Asks the device where a cartridge is (READ ELEMENT STATUS), in object terms.
pub(crate) async fn locate(
    engine: &Engine,
    adapter: &Arc<dyn HardwareAdapter>,
    library: LibraryId,
    barcode: String,
) -> Observed {
    match adapter.element_status().await {
        Ok(status) => engine
            .query(move |s| match s.libraries.get(&library) {
                Some(lib) => observe(s, lib, &status, &barcode),
                None => Observed::Unknown,
            })
            .await
            .unwrap_or(Observed::Unknown),
        Err(AdapterError::Check { .. }) | Err(_) => Observed::Unknown,
    }
}

/// How often an idle worker asks its device whether its elements changed.
const ATTENTION_POLL: std::time::Duration = std::time::Duration::from_secs(5);

/// The worker task of one library: the robot serves one move at a time while
/// drives load and unload in parallel, each request in a task of its own.
pub(crate) async fn run(ctx: WorkerContext) {
    let (engine, library) = (&ctx.engine, ctx.library);
    let mut shutdown = ctx.shutdown.clone();
    let mut jobs: tokio::task::JoinSet<Result<(), NtmsError>> = tokio::task::JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        while let Some(done) = jobs.try_join_next() {
            match done {
                Ok(Err(e)) if e.kind() == ErrorCode::DatabaseFailure => {
                    tracing::error!(%library, error = %e, "worker stopped: the log failed");
                    return;
                }
                Ok(Err(e)) => tracing::error!(%library, error = %e, "a request's report was refused"),
                _ => {}
            }
        }
        match engine.submit(Command::StartNext { library }).await {
            Ok(accepted) => {
                engine.unlock_doors(library, &accepted.events).await;
                if assigned(&accepted.events) > 0 {
                    // They start on the next round, at once.
                    ctx.bell.notify_one();
                }
                let requests = started(&accepted.events);
                if !requests.is_empty() {
                    rsm_log::failpoint::hit("worker.started");
                }
                for request in requests {
                    let ctx = ctx.clone();
                    jobs.spawn(async move {
                        let result = drive_request(&ctx, request).await;
                        ctx.bell.notify_one();
                        result
                    });
                }
            }
            Err(e) => {
                tracing::error!(%library, error = %e, "worker stopped");
                break;
            }
        }
        tokio::select! {
            _ = ctx.bell.notified() => {}
            _ = shutdown.changed() => break,
            _ = tokio::time::sleep(ATTENTION_POLL) => {
                // Someone may have opened the library or used its port.
                match ctx.adapter.elements_changed().await {
                    Ok(true) => {
                        if let Err(e) = engine.elements_changed(library).await {
                            tracing::warn!(%library, error = %e, "the inventory the device asked for failed");
                        }
                    }
                    Ok(false) => {}
                    Err(e) => tracing::debug!(%library, error = %e, "the device did not answer TEST UNIT READY"),
                }
                if let Err(e) = engine.cleanings_reported(library, ctx.adapter.as_ref()).await {
                    tracing::warn!(%library, error = %e, "the cleaning a drive asked for was not recorded");
                }
            }
        }
    }
    // Steps under way finish and are reported before the engine stops.
    while jobs.join_next().await.is_some() {}
}
