//! Workers: one per changer library. Each asks the sequencer for the next
//! request (the scheduler is the pure `StartNext` rule), drives the adapter,
//! and reports the outcome as a command. A worker never changes state by any
//! other road.

use crate::hardware::{failure_code, model_sense, observe};
use crate::Engine;
use rsm_hardware::{AdapterError, HardwareAdapter};
use rsm_model::{Command, Event, LibraryId, NtmsError, Observed, RequestId, RequestKind, State};
use std::sync::Arc;
use std::time::Instant;

/// What a started request asks of the robot, in element addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkOrder {
    /// Mount or dismount.
    pub kind: RequestKind,
    /// The drive's element address.
    pub drive: u16,
    /// The slot's element address (source of a mount, destination of a dismount).
    pub slot: u16,
    /// The cartridge's bar code.
    pub barcode: String,
}

/// The robot's work for a started request.
pub fn work_order(state: &State, request: RequestId) -> Option<WorkOrder> {
    let r = state.requests.get(&request)?;
    Some(WorkOrder {
        kind: r.kind,
        drive: state.drives.get(&r.drive)?.element_address,
        slot: state.slots.get(&r.slot?)?.element_address,
        barcode: state.media.get(&r.media)?.barcode.clone(),
    })
}

/// Carries out one request of `library`, if one can start. Returns the
/// request it settled.
pub(crate) async fn execute_one(
    engine: &Engine,
    library: LibraryId,
    adapter: &Arc<dyn HardwareAdapter>,
) -> Result<Option<RequestId>, NtmsError> {
    let accepted = engine.submit(Command::StartNext { library }).await?;
    let Some(Event::RequestStarted { request, .. }) = accepted.events.first() else { return Ok(None) };
    let request = *request;
    let Some(order) = engine.query(move |s| work_order(s, request)).await? else {
        return Ok(Some(request));
    };
    let started = Instant::now();
    let outcome = perform(adapter.as_ref(), &order).await;
    let kind = if order.kind == RequestKind::Mount { "mount" } else { "dismount" };
    metrics::histogram!("rsm_request_seconds", "kind" => kind).record(started.elapsed().as_secs_f64());
    let observed = match &outcome {
        Ok(()) => Observed::Unknown,
        Err(error) => {
            tracing::warn!(%request, %error, "request failed in the hardware");
            locate(engine, adapter, library, order.barcode).await
        }
    };
    engine.submit(outcome_command(request, outcome, observed)).await?;
    Ok(Some(request))
}

/// The robot's moves for a work order: a mount moves then loads; a dismount
/// unloads then moves.
pub async fn perform(adapter: &dyn HardwareAdapter, order: &WorkOrder) -> Result<(), AdapterError> {
    match order.kind {
        RequestKind::Mount => {
            adapter.move_medium(order.slot, order.drive).await?;
            adapter.load(order.drive).await
        }
        RequestKind::Dismount => {
            adapter.unload(order.drive).await?;
            adapter.move_medium(order.drive, order.slot).await
        }
    }
}

/// The command that reports what the hardware did (`observed` matters only on failure).
pub fn outcome_command(request: RequestId, outcome: Result<(), AdapterError>, observed: Observed) -> Command {
    match outcome {
        Ok(()) => Command::CompleteRequest { request },
        Err(error) => {
            Command::FailRequest { request, error: failure_code(&error), sense: model_sense(&error), observed }
        }
    }
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

/// The worker task of one library: runs requests until shut down.
pub(crate) async fn run(engine: Engine, library: LibraryId, adapter: Arc<dyn HardwareAdapter>) {
    let bell = engine.inner.wakeups.library(library);
    let mut shutdown = engine.inner.shutdown.subscribe();
    loop {
        if *shutdown.borrow() {
            return;
        }
        match execute_one(&engine, library, &adapter).await {
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(%library, error = %e, "worker stopped");
                return;
            }
        }
        tokio::select! {
            _ = bell.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}
