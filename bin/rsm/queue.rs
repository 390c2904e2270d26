//! The library request queue on the command line (spec §3.3, §5): `rsm
//! queue`, `rsm cancel`, `rsm order`, `rsm wait`, `rsm requests delete`.

use crate::cli::{RequestsCmd, View};
use crate::render::{self, done, rows, table, COLUMNS};
use crate::resolve::existing_library;
use crate::{out, stop, Failure, Outcome};
use rsm::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// How long `rsm wait` lets time pass before it looks at the queue again.
const RETRY: Duration = Duration::from_millis(100);

/// A request id as typed (ERROR_INVALID_PARAMETER when it is not one).
pub fn request_id(text: &str) -> Result<RequestId, Failure> {
    text.parse::<RequestId>().map_err(|_| {
        Failure::Rejected(NtmsError::new(ErrorCode::InvalidParameter, format!("{text:?} is not a request id")))
    })
}

/// `rsm queue [--library L] [--state S]`.
pub async fn show(engine: &Engine, library: Option<&str>, state: Option<&str>, json: bool) -> Outcome {
    const STATES: &[&str] = &["queued", "waiting", "in_progress", "completed", "failed", "cancelled"];
    if let Some(s) = state.filter(|s| !STATES.contains(s)) {
        return Err(Failure::Usage(format!("--state {s:?}: one of {}", STATES.join(", "))));
    }
    let lib = match library {
        Some(n) => Some(existing_library(engine, n).await?),
        None => None,
    };
    let wanted = state.map(str::to_string);
    let rows: Vec<Value> = engine
        .query(move |s| {
            rows(s, View::Queue, lib)
                .into_iter()
                .filter(|r| wanted.as_deref().is_none_or(|w| r["state"] == w))
                .collect()
        })
        .await?;
    if json {
        return out::json(&Value::from(rows));
    }
    let columns = COLUMNS.iter().find(|(v, _)| *v == View::Queue).map(|(_, c)| *c).unwrap_or(&[]);
    out::text(&table(columns, &rows))
}

/// `rsm cancel REQUEST`.
pub async fn cancel(engine: &Engine, user: &str, request: &str, json: bool) -> Outcome {
    let id = request_id(request)?;
    engine.session_for(user).await?.cancel_request(id).await?;
    done(json, &format!("request {id} cancelled"))
}

/// `rsm order REQUEST [N]`.
pub async fn order(engine: &Engine, user: &str, request: &str, position: Option<u32>, json: bool) -> Outcome {
    let id = request_id(request)?;
    if let Some(position) = position {
        engine.session_for(user).await?.set_request_order(id, position).await?;
    }
    let (known, number) = engine.query(move |s| (s.requests.contains_key(&id), request_order(s, id))).await?;
    if !known {
        return Err(Failure::Rejected(NtmsError::new(ErrorCode::ObjectNotFound, format!("no request {id}"))));
    }
    if json {
        return out::json(&json!({"request": id.to_string(), "order": number}));
    }
    out::line(&format!("request {id}: order {number}{}", if number == 0 { " (not orderable)" } else { "" }))
}

/// `rsm wait REQUEST [--timeout MS]`: works the queue until the request
/// ends, the timeout passes, a stop signal comes, or nothing more can start.
pub async fn wait(engine: &Engine, request: &str, timeout: Option<u64>, json: bool) -> Outcome {
    let id = request_id(request)?;
    if !engine.query(move |s| s.requests.contains_key(&id)).await? {
        return Err(Failure::Rejected(NtmsError::new(ErrorCode::ObjectNotFound, format!("no request {id}"))));
    }
    let deadline = timeout.map(|ms| Instant::now() + Duration::from_millis(ms));
    let past = move || deadline.is_some_and(|d| Instant::now() >= d);
    let finished = move |s: &State| s.requests.get(&id).is_none_or(|r| r.state.is_terminal());
    // Time moves things too (a deadline, a deferred dismount's delay): when
    // nothing can start, wait a moment and look again, until told to stop.
    loop {
        engine.run_until(move |s| stop::received().is_some() || past() || finished(s)).await?;
        if stop::received().is_some() || past() || engine.query(finished).await? {
            break;
        }
        tokio::time::sleep(RETRY).await;
    }
    let finished = engine.query(finished).await?;
    if !finished && past() && stop::received().is_none() {
        let state = engine.query(move |s| s.requests.get(&id).map(|r| r.state)).await?;
        let state = state.map_or("gone", render::request_state);
        return Err(Failure::Rejected(NtmsError::new(
            ErrorCode::Timeout,
            format!("request {id} is still {state} after {} ms; it stays queued", timeout.unwrap_or(0)),
        )));
    }
    render::request(engine, id, true, json).await
}

/// `rsm requests delete IDS | --finished`.
pub async fn requests(engine: &Engine, user: &str, command: &RequestsCmd, json: bool) -> Outcome {
    let RequestsCmd::Delete { ids, finished } = command;
    let ids = ids.iter().map(|t| request_id(t)).collect::<Result<Vec<_>, _>>()?;
    let all = *finished;
    let (library, operator): (Vec<RequestId>, Vec<OperatorRequestId>) = engine
        .query(move |s| {
            if all {
                let library = s.requests.values().filter(|r| r.state.is_terminal()).map(|r| r.id).collect();
                let operator = s.operator_requests.values().filter(|r| r.state.is_terminal()).map(|r| r.id).collect();
                return (library, operator);
            }
            // An id names a library request or an operator request; one that
            // names neither is passed on as a library request (and skipped).
            let operator: Vec<OperatorRequestId> =
                ids.iter().map(|r| OperatorRequestId(r.0)).filter(|r| s.operator_requests.contains_key(r)).collect();
            let library = ids.iter().copied().filter(|r| !operator.iter().any(|o| o.0 == r.0)).collect();
            (library, operator)
        })
        .await?;
    if library.is_empty() && operator.is_empty() {
        return done(json, "no finished request to delete");
    }
    // Found by a hostile run: the count said how many ids were named, not
    // how many requests left the views (unknown ids are skipped, as the spec says).
    let session = engine.session_for(user).await?;
    let accepted = session
        .submit(Command::DeleteRequests { session: session.id(), requests: library, operator_requests: operator })
        .await?;
    let deleted: usize = accepted
        .events
        .iter()
        .map(|e| match e {
            Event::RequestsDeleted { requests, operator_requests } => requests.len() + operator_requests.len(),
            _ => 0,
        })
        .sum();
    done(json, &format!("{deleted} finished requests deleted from the views (unknown and unfinished ones are skipped)"))
}
