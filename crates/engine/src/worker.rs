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
#[derive(Clone, Debug)]
struct WorkOrder {
    kind: RequestKind,
    drive: u16,
    slot: u16,
    barcode: String,
}

fn work_order(state: &State, request: RequestId) -> Option<WorkOrder> {
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
    let outcome = match order.kind {
        RequestKind::Mount => match adapter.move_medium(order.slot, order.drive).await {
            Ok(()) => adapter.load(order.drive).await,
            Err(e) => Err(e),
        },
        RequestKind::Dismount => match adapter.unload(order.drive).await {
            Ok(()) => adapter.move_medium(order.drive, order.slot).await,
            Err(e) => Err(e),
        },
    };
    let kind = if order.kind == RequestKind::Mount { "mount" } else { "dismount" };
    metrics::histogram!("rsm_request_seconds", "kind" => kind).record(started.elapsed().as_secs_f64());
    match outcome {
        Ok(()) => {
            engine.submit(Command::CompleteRequest { request }).await?;
        }
        Err(error) => {
            tracing::warn!(%request, %error, "request failed in the hardware");
            let observed = locate(engine, adapter, library, order.barcode).await;
            engine
                .submit(Command::FailRequest {
                    request,
                    error: failure_code(&error),
                    sense: model_sense(&error),
                    observed,
                })
                .await?;
        }
    }
    Ok(Some(request))
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
