//! Operator requests on the command line (spec §3.5, §6): `rsm operator
//! list|submit|satisfy|cancel|wait`.

use crate::cli::{OperatorCmd, OperatorKindArg, View};
use crate::render::{self, done, operator_request_json};
use crate::{out, resolve, stop, Failure, Outcome};
use rsm::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// How long `rsm operator wait` lets time pass before it looks again.
const RETRY: Duration = Duration::from_millis(100);

/// An operator request id as typed (ERROR_INVALID_PARAMETER when it is not one).
fn request_id(text: &str) -> Result<OperatorRequestId, Failure> {
    text.parse::<OperatorRequestId>().map_err(|_| {
        Failure::Rejected(NtmsError::new(
            ErrorCode::InvalidParameter,
            format!("{text:?} is not an operator request id"),
        ))
    })
}

fn required<'a>(value: &'a Option<String>, flag: &str, kind: &str) -> Result<&'a str, Failure> {
    value.as_deref().ok_or_else(|| Failure::Usage(format!("a {kind} request needs {flag}")))
}

/// `rsm operator ...`.
pub async fn operator(engine: &Engine, user: &str, command: &OperatorCmd, json: bool) -> Outcome {
    match command {
        OperatorCmd::List => render::show(engine, View::OperatorRequests, None, json).await,
        OperatorCmd::Submit { kind, message, pool, library, device, media } => {
            let kind = match kind {
                OperatorKindArg::NewMedia => OperatorRequestKind::NewMedia {
                    pool: resolve::pool(engine, required(pool, "--pool", "new-media")?).await?,
                },
                OperatorKindArg::Cleaner => OperatorRequestKind::Cleaner {
                    library: resolve::library(engine, required(library, "--library", "cleaner")?).await?,
                },
                OperatorKindArg::DeviceService => {
                    let text = required(device, "--device", "device-service")?.to_string();
                    let device = engine.query(move |s| object_reference(s, &text)).await??;
                    OperatorRequestKind::DeviceService { device }
                }
                OperatorKindArg::MoveMedia => OperatorRequestKind::MoveMedia {
                    media: resolve::media(engine, required(media, "--media", "move-media")?).await?,
                    library: match library {
                        Some(l) => Some(resolve::library(engine, l).await?),
                        None => None,
                    },
                },
                OperatorKindArg::Message => OperatorRequestKind::Message,
            };
            let id = engine.session_for(user).await?.submit_operator_request(kind, message).await?;
            if json {
                let row =
                    engine.query(move |s| s.operator_requests.get(&id).map(|r| operator_request_json(s, r))).await?;
                return out::json(&row.unwrap_or_else(|| json!({"id": id.to_string()})));
            }
            out::line(&format!("operator request {id} submitted"))
        }
        OperatorCmd::Satisfy { id } => {
            let id = request_id(id)?;
            engine.session_for(user).await?.answer_operator_request(id, true).await?;
            done(json, &format!("operator request {id} satisfied"))
        }
        OperatorCmd::Cancel { id } => {
            let id = request_id(id)?;
            engine.session_for(user).await?.answer_operator_request(id, false).await?;
            done(json, &format!("operator request {id} refused"))
        }
        OperatorCmd::Wait { id, timeout } => wait(engine, request_id(id)?, *timeout, json).await,
    }
}

/// WaitForNtmsOperatorRequest: ERROR_SUCCESS once COMPLETE, ERROR_CANCELLED
/// once REFUSED, ERROR_TIMEOUT when the time runs out first (at once for
/// 0). Meanwhile the queue is worked: an arrival may meet the need.
async fn wait(engine: &Engine, id: OperatorRequestId, timeout: Option<u64>, json: bool) -> Outcome {
    let deadline = timeout.map(|ms| Instant::now() + Duration::from_millis(ms));
    let state = move |s: &State| s.operator_requests.get(&id).map(|r| r.state);
    loop {
        match engine.query(state).await? {
            None => {
                return Err(Failure::Rejected(NtmsError::new(
                    ErrorCode::ObjectNotFound,
                    format!("no operator request {id}"),
                )))
            }
            Some(OperatorRequestState::Complete) => return done(json, &format!("operator request {id} is complete")),
            Some(OperatorRequestState::Refused) => {
                return Err(Failure::Rejected(NtmsError::new(
                    ErrorCode::Cancelled,
                    format!("operator request {id} was refused"),
                )))
            }
            Some(open) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Err(Failure::Rejected(NtmsError::new(
                        ErrorCode::Timeout,
                        format!("operator request {id} is still {}", open.ntms_name()),
                    )));
                }
                if let Some(signal) = stop::received() {
                    let document = json!({"operator_request": id.to_string(), "state": open.ntms_name()});
                    return Err(Failure::Stopped(signal, document, "the operator request stays open"));
                }
            }
        }
        let past = move || deadline.is_some_and(|d| Instant::now() >= d);
        engine
            .run_until(move |s| stop::received().is_some() || past() || state(s).is_some_and(|x| x.is_terminal()))
            .await?;
        if engine.query(state).await?.is_some_and(|x| !x.is_terminal()) {
            tokio::time::sleep(RETRY).await;
        }
    }
}
