//! The printed views: tables, or JSON with stable field names.

use crate::cli::View;
use crate::out;
use crate::resolve::existing_library;
use crate::stop;
use crate::{Failure, Outcome};
use rsm::*;
use serde_json::{json, Value};

/// Prints a one-line success.
pub fn done(json: bool, message: &str) -> Outcome {
    if json {
        out::json(&json!({"ok": true, "message": message}))
    } else {
        out::line(message)
    }
}

// ---- the words for states: the views, the demo and messages use these ----

/// A drive's state: its NTMS name without the prefix, lower-cased (`loaded`).
pub fn drive_state(s: DriveState) -> String {
    s.ntms_name().trim_start_matches("NTMS_DRIVESTATE_").to_lowercase()
}

/// A cartridge's state, after its NTMS name (`NTMS_MEDIASTATE_INUSE`: `inuse`).
pub fn media_state(s: MediaState) -> &'static str {
    match s {
        MediaState::Idle => "idle",
        MediaState::InUse => "inuse",
        MediaState::Mounted => "mounted",
        MediaState::Loaded => "loaded",
        MediaState::Unloaded => "unloaded",
        MediaState::OpError => "operror",
    }
}

/// A slot's state.
pub fn slot_state(s: SlotState) -> &'static str {
    match s {
        SlotState::Full => "full",
        SlotState::Empty => "empty",
        SlotState::NotPresent => "not_present",
        SlotState::NeedsInventory => "needs_inventory",
    }
}

/// An inventory method.
pub fn inventory_method(m: InventoryMethod) -> &'static str {
    match m {
        InventoryMethod::None => "none",
        InventoryMethod::Fast => "fast",
        InventoryMethod::Omid => "omid",
        InventoryMethod::Default => "default",
    }
}

/// A request's state.
pub fn request_state(s: RequestState) -> &'static str {
    match s {
        RequestState::Queued => "queued",
        RequestState::InProcess => "in_progress",
        RequestState::Passed => "completed",
        RequestState::Failed => "failed",
        RequestState::Cancelled => "cancelled",
        RequestState::Waiting => "waiting",
        RequestState::Stopped => "stopped",
    }
}

/// Prints an accepted request; with `wait`, runs the workers until it ends first.
pub async fn request(engine: &Engine, id: RequestId, wait: bool, json: bool) -> Outcome {
    if wait {
        engine
            .run_until(move |s| stop::received().is_some() || s.requests.get(&id).is_none_or(|r| r.state.is_terminal()))
            .await?;
    }
    let r = engine.query(move |s| s.requests.get(&id).map(|r| request_json(s, r))).await?.ok_or_else(|| {
        Failure::Rejected(NtmsError::new(ErrorCode::ObjectNotFound, format!("request {id} left the views")))
    })?;
    let state = r["state"].as_str().unwrap_or("").to_string();
    let ended_badly = wait && state != "completed";
    let document = json!({"request": id.to_string(), "state": state, "detail": r});
    if let Some(signal) = stop::received().filter(|_| wait && !is_terminal(&state)) {
        return Err(Failure::Stopped(signal, document, LEFT_TO_THE_NEXT_RUN));
    }
    if wait && !is_terminal(&state) {
        // Nothing this process does can free what it waits for (a drive a
        // session holds): it stays in the queue for whoever frees one.
        let left = still_queued(&r);
        return Err(if json { Failure::Ended(left, document) } else { Failure::Rejected(left) });
    }
    match (json, ended_badly) {
        // One document: the error, with the request it reports.
        (true, true) => return Err(Failure::Ended(request_failure(&r), document)),
        (true, false) => out::json(&document)?,
        (false, _) => out::line(&request_line(&r))?,
    }
    if ended_badly {
        return Err(Failure::Rejected(request_failure(&r)));
    }
    Ok(())
}

/// Prints the requests a command of several made: one line each, or
/// `{"requests": [...]}`; with `wait`, runs the workers until every one
/// ends first, and the first that did not complete gives the exit code.
pub async fn requests(engine: &Engine, ids: Vec<RequestId>, wait: bool, json: bool) -> Outcome {
    let all = ids.clone();
    let terminal = move |s: &State| all.iter().all(|id| s.requests.get(id).is_none_or(|r| r.state.is_terminal()));
    if wait {
        let done = terminal.clone();
        engine.run_until(move |s| stop::received().is_some() || done(s)).await?;
    }
    let rows: Vec<Value> = engine
        .query(move |s| ids.iter().filter_map(|id| s.requests.get(id)).map(|r| request_json(s, r)).collect())
        .await?;
    let document = json!({"requests": rows});
    if let Some(signal) = stop::received().filter(|_| wait) {
        if rows.iter().any(|r| !is_terminal(r["state"].as_str().unwrap_or(""))) {
            return Err(Failure::Stopped(signal, document, LEFT_TO_THE_NEXT_RUN));
        }
    }
    let failure = rows.iter().find(|r| wait && r["state"] != "completed").map(|r| {
        if is_terminal(r["state"].as_str().unwrap_or("")) {
            request_failure(r)
        } else {
            still_queued(r)
        }
    });
    if json {
        return match failure {
            Some(e) => Err(Failure::Ended(e, document)),
            None => out::json(&document),
        };
    }
    for r in &rows {
        out::line(&request_line(r))?;
    }
    failure.map_or(Ok(()), |e| Err(Failure::Rejected(e)))
}

fn text_of(r: &Value, key: &str) -> String {
    r[key].as_str().unwrap_or("-").to_string()
}

/// A `--wait` that ended with its request still queued or waiting: nothing
/// this process does can free what it waits for (a drive a session holds),
/// so it stays in the queue for whoever frees one.
fn still_queued(r: &Value) -> NtmsError {
    // Found by a hostile run: a mount held back by an open door was said to
    // wait for a held drive.
    let why = if r["awaits_operator_request"].is_string() {
        "its cartridge is offline and the operator is asked to bring it (rsm operator list)".to_string()
    } else if r["door_open"] == true {
        format!("the door of library {} is open (rsm door close)", text_of(r, "library"))
    } else {
        "every drive it may use is held".to_string()
    };
    NtmsError::new(
        ErrorCode::Busy,
        format!(
            "request {} is {}: {why}; it stays queued, and `rsm run` (or the next --wait) carries it on once \
             that changes",
            text_of(r, "id"),
            text_of(r, "state")
        ),
    )
}

/// Whether a request's state (as the views name it) is final.
fn is_terminal(state: &str) -> bool {
    matches!(state, "completed" | "failed" | "cancelled" | "stopped")
}

/// One line about a request: `request ID STATE: KIND BARCODE in DRIVE`
/// (or `via PORT` for an eject or inject).
fn request_line(r: &Value) -> String {
    let text = |k: &str| r[k].as_str().unwrap_or("-").to_string();
    let place = match r["port"].as_str() {
        Some(port) => format!("via {port}"),
        None => format!("in {}", text("drive")),
    };
    let awaits = match r["awaits_operator_request"].as_str() {
        Some(o) => format!(" (offline: the operator is asked to bring it, operator request {o})"),
        None => String::new(),
    };
    format!("request {} {}: {} {} {place}{awaits}", text("id"), text("state"), text("kind"), text("barcode"))
}

/// A request that ended but not well, as the error its own code names, with
/// the device's sense in words (`hardware error: mechanical positioning error
/// (sense 04/15/01)`).
pub fn request_failure(r: &Value) -> NtmsError {
    let code = r["error_code"].as_u64().and_then(|c| ErrorCode::from_code(c as u32)).unwrap_or(ErrorCode::Cancelled);
    let sense = r["sense_text"].as_str().map(|s| format!(": {s}")).unwrap_or_default();
    let text = |k: &str| r[k].as_str().unwrap_or("-").to_string();
    NtmsError::new(code, format!("request {} {}{sense}", text("id"), text("state")))
}

fn name_of_drive(s: &State, d: Option<DriveId>) -> Value {
    d.map(|d| Value::from(s.drives.get(&d).map(|x| x.name.clone()).unwrap_or_else(|| d.to_string())))
        .unwrap_or(Value::Null)
}

fn name_of_port(s: &State, p: Option<PortId>) -> Value {
    p.map(|p| Value::from(s.ports.get(&p).map(|x| x.name.clone()).unwrap_or_else(|| p.to_string())))
        .unwrap_or(Value::Null)
}

fn name_of_slot(s: &State, d: Option<SlotId>) -> Value {
    d.map(|d| Value::from(s.slots.get(&d).map(|x| x.name.clone()).unwrap_or_else(|| d.to_string())))
        .unwrap_or(Value::Null)
}

fn barcode_of(s: &State, m: Option<MediaId>) -> Value {
    m.and_then(|m| s.media.get(&m)).map(|m| Value::from(m.barcode.clone())).unwrap_or(Value::Null)
}

pub fn request_json(s: &State, r: &LibraryRequest) -> Value {
    json!({
        "id": r.id.to_string(),
        "library": s.libraries.get(&r.library).map(|l| l.name.clone()).unwrap_or_else(|| r.library.to_string()),
        "kind": r.kind.name(),
        "operation": r.kind.ntms_value(),
        "state": request_state(r.state),
        "ntms_state": r.state.ntms_value(),
        "priority": r.priority,
        "order": request_order(s, r.id),
        "drive": name_of_drive(s, r.drive),
        "barcode": s.media.get(&r.media).map(|m| m.barcode.clone()),
        "slot": name_of_slot(s, r.slot),
        "port": name_of_port(s, r.port),
        "submitter": r.submitter,
        "queued_ms": r.time_queued_ms,
        "completed_ms": r.time_completed_ms,
        "error": r.error.and_then(ErrorCode::from_code).map(|c| c.name()),
        "error_code": r.error,
        "sense": r.sense.map(|x| format!("{:02X}/{:02X}/{:02X}", x.key, x.asc, x.ascq)),
        "sense_text": r.sense.map(|x| rsm_scsi::explain(x.key, x.asc, x.ascq)),
        "awaits_operator_request": s.awaiting_media.get(&r.id).map(|o| o.to_string()),
        "door_open": s.libraries.get(&r.library).is_some_and(|l| l.robot_held()),
    })
}

/// What a stopped `--wait` leaves behind.
pub const LEFT_TO_THE_NEXT_RUN: &str =
    "what the requests still need is left to the next run or --wait (a move under way is finished or settled first)";

/// Prints the differences an inventory recorded: one line each, or
/// `{"library", "differences": [{"kind", "barcode", "at", ...}]}`.
pub async fn inventory(engine: &Engine, library: &str, events: Vec<Event>, wait: bool, json: bool) -> Outcome {
    let media: Vec<MediaId> = events
        .iter()
        .filter_map(|e| match e {
            Event::LabelRequested { request } => Some(request.media),
            _ => None,
        })
        .collect();
    // Earlier label work on the same cartridges (an identification before
    // this inventory) is not this inventory's.
    let since_ms = events
        .iter()
        .filter_map(|e| match e {
            Event::LabelRequested { request } => Some(request.time_queued_ms),
            _ => None,
        })
        .min()
        .unwrap_or(0);
    let differences = differences(engine, events).await?;
    let all_labels = label_requests_of(library, media, 0);
    let labels = move |s: &State| -> Vec<RequestId> {
        all_labels(s)
            .into_iter()
            .filter(|id| s.requests.get(id).is_some_and(|r| r.time_queued_ms >= since_ms))
            .collect()
    };
    if wait {
        let labels = labels.clone();
        engine
            .run_until(move |s| {
                stop::received().is_some()
                    || labels(s).iter().all(|id| s.requests.get(id).is_none_or(|r| r.state.is_terminal()))
            })
            .await?;
    }
    let rows = engine
        .query(move |s| labels(s).iter().filter_map(|id| s.requests.get(id)).map(|r| request_json(s, r)).collect())
        .await?;
    let rows: Vec<Value> = rows;
    if let Some(signal) = stop::received().filter(|_| wait) {
        if rows.iter().any(|r| !is_terminal(r["state"].as_str().unwrap_or(""))) {
            let document = json!({"library": library, "differences": differences, "requests": rows});
            return Err(Failure::Stopped(signal, document, LEFT_TO_THE_NEXT_RUN));
        }
    }
    let failure = rows.iter().find(|r| wait && r["state"] != "completed").map(request_failure);
    if json {
        let mut document = json!({"library": library, "differences": differences});
        if !rows.is_empty() {
            document["requests"] = Value::from(rows);
        }
        return match failure {
            Some(e) => Err(Failure::Ended(e, document)),
            None => out::json(&document),
        };
    }
    if differences.is_empty() {
        out::line("no differences")?;
    } else {
        print_differences(&differences)?;
    }
    for r in &rows {
        out::line(&request_line(r))?;
    }
    failure.map_or(Ok(()), |e| Err(Failure::Rejected(e)))
}

/// The label requests (classification, free label) of `media`, oldest
/// first: what an arrival sets off.
///
/// The arrival work still unfinished in `library` from before (a run
/// stopped or killed while it classified or labelled) is theirs too: a
/// later `--wait` finishes it rather than leaving it to `rsm run`.
///
/// Only requests from order `since` on: a cartridge that comes back has
/// the label requests of its earlier arrivals in the views too (found by a
/// hostile run: `inject --wait` listed an old classification as this one's).
fn label_requests_of(
    library: &str,
    media: Vec<MediaId>,
    since: u64,
) -> impl Fn(&State) -> Vec<RequestId> + Clone + Send + 'static {
    let library = library.to_string();
    // Leftover work seen unfinished once is listed when it has finished too.
    let leftover = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    move |s: &State| {
        let mut seen = leftover.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for r in s.library_named(&library).map(|l| l.active_requests.as_slice()).unwrap_or_default() {
            if s.requests.get(r).is_some_and(|r| r.is_arrival_work()) {
                seen.insert(*r);
            }
        }
        let mut labels: Vec<&LibraryRequest> = s
            .requests
            .values()
            .filter(|r| (r.kind.labels() && media.contains(&r.media) && r.order >= since) || seen.contains(&r.id))
            .collect();
        labels.sort_by_key(|r| r.order);
        labels.into_iter().map(|r| r.id).collect()
    }
}

/// Prints what an inject found and queued: a line per note (a cartridge
/// taken from a port, unlabeled or foreign) and per request, or
/// `{"library", "differences": [...], "requests": [...]}`. With `wait`, the
/// workers run until every request ended; the first that did not complete
/// gives the exit code. The requests an inject sets off (a new cartridge
/// classified, a blank one given its free-media label) are waited for and
/// listed with it.
pub async fn inject(engine: &Engine, library: &str, events: Vec<Event>, wait: bool, json: bool) -> Outcome {
    let (mut ids, mut media): (Vec<RequestId>, Vec<MediaId>) = events
        .iter()
        .filter_map(|e| match e {
            Event::InjectRequested { request, .. } => Some((request.id, request.media)),
            _ => None,
        })
        .unzip();
    // Injects still unfinished from before (a stopped or killed run) are
    // this library's injects too: waited for and listed.
    let name = library.to_string();
    let earlier: Vec<(RequestId, MediaId)> = engine
        .query(move |s| {
            let Some(lib) = s.library_named(&name) else { return Vec::new() };
            lib.active_requests
                .iter()
                .filter_map(|r| s.requests.get(r))
                .filter(|r| r.kind == RequestKind::Inject)
                .map(|r| (r.id, r.media))
                .collect()
        })
        .await?;
    for (id, m) in earlier {
        if !ids.contains(&id) {
            ids.push(id);
            media.push(m);
        }
    }
    let notes = differences(engine, events).await?;
    // The inject requests, then the label requests of their cartridges
    // queued since the first of them.
    let first = ids.clone();
    let since = engine
        .query(move |s| first.iter().filter_map(|id| s.requests.get(id)).map(|r| r.order).min().unwrap_or(s.next_order))
        .await?;
    let labels = label_requests_of(library, media, since);
    let involved = move |s: &State| -> Vec<RequestId> {
        let mut all = ids.clone();
        all.extend(labels(s));
        all
    };
    if wait {
        let involved = involved.clone();
        engine
            .run_until(move |s| {
                stop::received().is_some()
                    || involved(s).iter().all(|id| s.requests.get(id).is_none_or(|r| r.state.is_terminal()))
            })
            .await?;
    }
    let rows = engine
        .query(move |s| {
            involved(s).iter().filter_map(|id| s.requests.get(id)).map(|r| request_json(s, r)).collect::<Vec<Value>>()
        })
        .await?;
    if let Some(signal) = stop::received().filter(|_| wait) {
        if rows.iter().any(|r| !is_terminal(r["state"].as_str().unwrap_or(""))) {
            let document = json!({"library": library, "differences": notes, "requests": rows});
            return Err(Failure::Stopped(signal, document, LEFT_TO_THE_NEXT_RUN));
        }
    }
    // With `wait`, the first request that did not complete gives the outcome.
    let failure = rows.iter().find(|r| wait && r["state"] != "completed").map(request_failure);
    if json {
        let document = json!({"library": library, "differences": notes, "requests": rows});
        return match failure {
            Some(e) => Err(Failure::Ended(e, document)),
            None => out::json(&document),
        };
    }
    print_differences(&notes)?;
    if rows.is_empty() {
        out::line(&format!("no cartridge to take in from the ports of {library}"))?;
    }
    for r in &rows {
        out::line(&request_line(r))?;
    }
    failure.map_or(Ok(()), |e| Err(Failure::Rejected(e)))
}

/// The differences an inventory (or an inject) recorded, as JSON rows.
async fn differences(engine: &Engine, events: Vec<Event>) -> Result<Vec<Value>, Failure> {
    Ok(engine
        .query(move |s| {
            let barcode = |m: &MediaId| s.media.get(m).map(|m| Value::from(m.barcode.clone())).unwrap_or(Value::Null);
            let element = |lib: &LibraryId, address: u16| {
                let lib = s.libraries.get(lib);
                let drive = lib.and_then(|l| {
                    l.drives.iter().map(|d| &s.drives[d]).find(|d| d.element_address == address).map(|d| d.name.clone())
                });
                let slot = lib.and_then(|l| {
                    l.slots.iter().map(|x| &s.slots[x]).find(|x| x.element_address == address).map(|x| x.name.clone())
                });
                let port = lib.and_then(|l| {
                    l.ports.iter().map(|x| &s.ports[x]).find(|x| x.element_address == address).map(|x| x.name.clone())
                });
                drive.or(slot).or(port).map(Value::from).unwrap_or(Value::Null)
            };
            events
                .iter()
                .filter_map(|e| match e {
                    Event::CartridgeAppeared { media, at, .. } => {
                        let (_, at) = location_json(s, *at);
                        Some(json!({"kind": "appeared", "barcode": barcode(media), "at": at}))
                    }
                    Event::CleanerSlotReleased { .. } => {
                        Some(json!({"kind": "cleaner-slot-released", "barcode": Value::Null, "at": Value::Null}))
                    }
                    Event::CleanerSlotReserved { slot, .. } => {
                        let at = s.slots.get(slot).map(|x| x.name.clone());
                        Some(json!({"kind": "cleaner-slot-moved", "barcode": Value::Null, "at": at}))
                    }
                    // Found by a hostile run: the cleaner found was "no differences".
                    Event::CleanerFound { library, barcode, .. } => {
                        let slot = s.libraries.get(library).and_then(|l| l.cleaner_slot);
                        let at = slot.and_then(|x| s.slots.get(&x)).map(|x| x.name.clone());
                        Some(json!({"kind": "cleaner-found", "barcode": barcode, "at": at}))
                    }
                    Event::CartridgeVanished { media } => {
                        Some(json!({"kind": "vanished", "barcode": barcode(media), "at": Value::Null}))
                    }
                    Event::CartridgeTakenFromPort { media } => {
                        Some(json!({"kind": "taken", "barcode": barcode(media), "at": Value::Null}))
                    }
                    Event::CartridgeMoved { media, to } => {
                        // A move offline only breaks a cycle; the cartridge's final move follows.
                        if *to == Location::Offline {
                            return None;
                        }
                        let (_, at) = location_json(s, *to);
                        Some(json!({"kind": "moved", "barcode": barcode(media), "at": at}))
                    }
                    Event::UnlabeledCartridgeFound { library, address } => Some(
                        json!({"kind": "unlabeled", "barcode": Value::Null, "at": element(library, *address), "address": address}),
                    ),
                    Event::ForeignCartridgeFound { library, address, barcode } => Some(
                        json!({"kind": "foreign", "barcode": barcode, "at": element(library, *address), "address": address}),
                    ),
                    Event::DrivePresence { drive, present } => {
                        let kind = if *present { "drive-back" } else { "drive-gone" };
                        Some(json!({"kind": kind, "barcode": Value::Null, "at": name_of_drive(s, Some(*drive))}))
                    }
                    Event::RequestFailed { request, error, .. } => {
                        let r = s.requests.get(request)?;
                        let error = ErrorCode::from_code(*error).map(|c| c.name());
                        if r.kind != RequestKind::Eject {
                            return Some(json!({"kind": "request-failed", "barcode": barcode(&r.media), "at": Value::Null, "request": request.to_string(), "operation": r.kind.name(), "error": error}));
                        }
                        let port = r.port.map(|p| name_of_port(s, Some(p))).unwrap_or(Value::Null);
                        Some(json!({"kind": "eject-failed", "barcode": barcode(&r.media), "at": port, "request": request.to_string(), "error": error}))
                    }
                    _ => None,
                })
                .collect::<Vec<Value>>()
        })
        .await?)
}

fn print_differences(differences: &[Value]) -> Outcome {
    for d in differences {
        {
            let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| "-".into());
            let line = match d["kind"].as_str() {
                Some("appeared") => format!("appeared: {} in {}", text(&d["barcode"]), text(&d["at"])),
                Some("vanished") => format!("vanished: {} (now offline)", text(&d["barcode"])),
                Some("cleaner-found") => format!("cleaner found: {} in {}", text(&d["barcode"]), text(&d["at"])),
                Some("cleaner-slot-released") => {
                    "cleaner slot released: a data cartridge is in it (rsm cleaner reserve another)".to_string()
                }
                Some("cleaner-slot-moved") => {
                    format!("cleaner slot moved to {}, where the cleaner is now", text(&d["at"]))
                }
                Some("taken") => format!("taken from its port: {} (now offline)", text(&d["barcode"])),
                Some("moved") => format!("moved: {} to {}", text(&d["barcode"]), text(&d["at"])),
                Some("request-failed") => format!(
                    "{} of {} failed ({}): the operator moved or took the cartridge; request {}",
                    text(&d["operation"]),
                    text(&d["barcode"]),
                    text(&d["error"]),
                    text(&d["request"])
                ),
                Some("drive-gone") => {
                    format!("drive gone: {} (not present; rsm drive delete removes it)", text(&d["at"]))
                }
                Some("drive-back") => format!("drive back: {} (ready)", text(&d["at"])),
                Some("eject-failed") => format!(
                    "eject of {} failed ({}): its port {} is full; request {}",
                    text(&d["barcode"]),
                    text(&d["error"]),
                    text(&d["at"]),
                    text(&d["request"])
                ),
                Some("unlabeled") => format!("unlabeled cartridge in {} (address {})", text(&d["at"]), d["address"]),
                _ => format!(
                    "foreign cartridge {} in {} (address {})",
                    text(&d["barcode"]),
                    text(&d["at"]),
                    d["address"]
                ),
            };
            out::line(&line)?;
        }
    }
    Ok(())
}

pub fn location_json(s: &State, l: Location) -> (&'static str, Value) {
    match l {
        Location::Slot(x) => ("slot", name_of_slot(s, Some(x))),
        Location::Drive(d) => ("drive", name_of_drive(s, Some(d))),
        Location::Port(p) => ("port", name_of_port(s, Some(p))),
        Location::Offline => ("offline", Value::Null),
    }
}

/// The rows of a view, as JSON objects.
pub fn rows(s: &State, view: View, library: Option<LibraryId>) -> Vec<Value> {
    let in_lib = |l: LibraryId| library.is_none_or(|x| x == l);
    match view {
        View::Libraries => s
            .libraries
            .values()
            .filter(|l| in_lib(l.id))
            .map(|l| {
                json!({
                    "id": l.id.to_string(), "name": l.name,
                    "kind": if l.kind == LibraryKind::Changer { "changer" } else { "standalone" },
                    "type": l.kind.ntms_value(), "enabled": l.enabled,
                    "state": if l.deleting { "deleting" } else { "ready" },
                    "drives": l.drives.len(), "slots": l.slots.len(), "ports": l.ports.len(),
                    "media": s.media.values().filter(|m| m.library == l.id).count(),
                    "queued": l.active_requests.len(), "device": l.device,
                    "access": access_json(&l.access),
                    "door": l.door.as_ref().map(|d| if d.state == DoorState::Open { "open" } else { "closed" }),
                    "door_max_open_s": l.door.as_ref().map(|d| d.max_open_secs),
                    "inventory_method": inventory_method(l.inventory_method),
                    "inventory_due": l.inventory_due,
                    "cleaner_slot": l.cleaner_slot.and_then(|x| s.slots.get(&x)).map(|x| x.name.clone()),
                    "cleaner": barcode_of(s, l.cleaner),
                    "cleaner_uses_remaining": match (l.cleaner, l.cleaner_uses_remaining) {
                        (None, _) => Value::Null,
                        (Some(_), CLEANER_USES_UNLIMITED) => json!("unlimited"),
                        (Some(_), n) => json!(n),
                    },
                    "flags": l.flags(),
                })
            })
            .collect(),
        View::Drives => s
            .libraries
            .values()
            .filter(|l| in_lib(l.id))
            .flat_map(|l| l.drives.iter().map(|d| &s.drives[d]))
            .map(|d| {
                json!({
                    "id": d.id.to_string(), "name": d.name,
                    "library": s.libraries[&d.library].name, "address": d.element_address,
                    "state": if d.operational == OperationalState::NotPresent { "not_present".to_string() } else { drive_state(d.state) },
                    "ntms_state": d.state.ntms_value(), "operational": d.operational.ntms_value(), "enabled": d.enabled,
                    "barcode": barcode_of(s, d.medium),
                    "holder": d.holder.and_then(|h| s.sessions.get(&h)).map(|h| h.principal.clone()),
                    "reserved_by": d.reserved_by.map(|r| r.to_string()),
                    "mount_count": d.mount_count,
                    "defer_dismount_delay_s": d.defer_dismount_delay_s.unwrap_or(s.libraries[&d.library].defer_dismount_delay_s),
                    "last_cleaned_ms": d.last_cleaned_ms,
                    "cleaning_wanted": d.cleaning_wanted.is_some(),
                })
            })
            .collect(),
        View::Slots => s
            .libraries
            .values()
            .filter(|l| in_lib(l.id))
            .flat_map(|l| l.slots.iter().map(|x| &s.slots[x]))
            .map(|x| {
                json!({
                    "id": x.id.to_string(), "name": x.name, "library": s.libraries[&x.library].name,
                    "address": x.element_address,
                    "state": slot_state(x.state),
                    "ntms_state": x.state.ntms_value(),
                    "barcode": barcode_of(s, x.content), "home_of": barcode_of(s, x.home_of),
                    "cleaner_slot": s.libraries[&x.library].cleaner_slot == Some(x.id),
                })
            })
            .collect(),
        View::Ports => s
            .libraries
            .values()
            .filter(|l| in_lib(l.id))
            .flat_map(|l| l.ports.iter().map(|x| &s.ports[x]))
            .map(|x| {
                json!({
                    "id": x.id.to_string(), "name": x.name, "library": s.libraries[&x.library].name,
                    "address": x.element_address,
                    // Found by a hostile run: a port holding a cartridge rsm
                    // did not take in (unlabeled, another library's) read "empty".
                    "state": if x.content.is_some() { "full" } else if x.stranger { "full (not taken in)" } else { "empty" },
                    "barcode": barcode_of(s, x.content),
                    "reserved_by": x.reserved_by.map(|r| r.to_string()),
                })
            })
            .collect(),
        View::Media => {
            let mut media: Vec<&Medium> = s.media.values().filter(|m| in_lib(m.library)).collect();
            media.sort_by(|a, b| a.barcode.cmp(&b.barcode));
            media
            .into_iter()
            .map(|m| {
                let (kind, at) = location_json(s, m.location);
                json!({
                    "id": m.id.to_string(), "barcode": m.barcode, "name": s.object_names.get(&ObjectRef::Media(m.id)).unwrap_or(&m.barcode),
                    "library": s.libraries.get(&m.library).map(|l| l.name.clone()),
                    "state": media_state(m.state), "ntms_state": m.state.ntms_value(),
                    "location": kind, "at": at, "home_slot": name_of_slot(s, m.home_slot), "enabled": m.enabled,
                })
            })
            .collect()
        }
        View::Queue => {
            let mut rs: Vec<&LibraryRequest> = s.requests.values().filter(|r| in_lib(r.library)).collect();
            rs.sort_by_key(|r| r.order);
            rs.into_iter().map(|r| request_json(s, r)).collect()
        }
        View::MediaTypes => MEDIA_TYPES
            .iter()
            .map(|t| {
                let libraries: Vec<&str> = s
                    .libraries
                    .values()
                    .filter(|l| in_lib(l.id) && l.media_types.contains(&t.id))
                    .map(|l| l.name.as_str())
                    .collect();
                json!({
                    "id": t.id.to_string(), "name": t.name, "sides": t.sides,
                    "read_write": format!("{:?}", t.read_write).to_lowercase(), "ntms_read_write": t.read_write.ntms_value(),
                    "libraries": libraries,
                })
            })
            .filter(|row| library.is_none() || row["libraries"].as_array().is_some_and(|l| !l.is_empty()))
            .collect(),
        View::Pools => {
            let mut pools: Vec<Value> = s.pools.values().map(|p| pool_json(s, p)).collect();
            pools.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
            pools
        }
        View::Sides => {
            let mut media: Vec<&Medium> = s.media.values().filter(|m| in_lib(m.library)).collect();
            media.sort_by(|a, b| a.barcode.cmp(&b.barcode));
            media
                .into_iter()
                .flat_map(|m| m.sides.iter().map(move |x| side_json(s, m, x)))
                .collect()
        }
        View::Lmids => {
            let mut rows: Vec<Value> = s
                .lmids
                .values()
                .filter_map(|side| s.side(*side))
                .filter(|(m, _)| in_lib(m.library))
                .map(|(m, x)| side_json(s, m, x))
                .collect();
            rows.sort_by(|a, b| a["lmid"].as_str().cmp(&b["lmid"].as_str()));
            rows
        }
        View::OperatorRequests => {
            let mut requests: Vec<&OperatorRequest> = s.operator_requests.values().collect();
            requests.sort_by_key(|r| (r.submitted_ms, r.id));
            requests
                .into_iter()
                .filter(|r| match r.kind {
                    // A pool spans libraries, a message names none: shown
                    // whatever the library asked for.
                    OperatorRequestKind::NewMedia { .. } | OperatorRequestKind::Message => true,
                    OperatorRequestKind::Cleaner { library } => in_lib(library),
                    OperatorRequestKind::DeviceService { device } => match device {
                        ObjectRef::Library(l) => in_lib(l),
                        ObjectRef::Drive(d) => s.drives.get(&d).is_none_or(|d| in_lib(d.library)),
                        ObjectRef::Media(m) => s.media.get(&m).is_none_or(|m| in_lib(m.library)),
                        _ => true,
                    },
                    OperatorRequestKind::MoveMedia { media, library } => {
                        library.is_some_and(in_lib) || s.media.get(&media).is_none_or(|m| in_lib(m.library))
                    }
                })
                .map(|r| operator_request_json(s, r))
                .collect()
        }
    }
}

/// An operator request's row.
pub fn operator_request_json(s: &State, r: &OperatorRequest) -> Value {
    let library = |l: &LibraryId| s.libraries.get(l).map(|l| l.name.clone()).unwrap_or_else(|| l.to_string());
    let (pool, object, to) = match r.kind {
        OperatorRequestKind::NewMedia { pool } => (s.pools.get(&pool).map(|_| s.pool_path(pool)), None, None),
        OperatorRequestKind::Cleaner { library: l } => (None, Some(library(&l)), None),
        OperatorRequestKind::DeviceService { device } => (None, Some(object_name(s, device)), None),
        OperatorRequestKind::MoveMedia { media, library: to } => {
            (None, Some(object_name(s, ObjectRef::Media(media))), to.map(|l| library(&l)))
        }
        OperatorRequestKind::Message => (None, None, None),
    };
    json!({
        "id": r.id.to_string(), "kind": r.kind.name(), "ntms_kind": r.kind.command().ntms_value(),
        "state": format!("{:?}", r.state).to_lowercase(), "ntms_state": r.state.ntms_value(),
        "pool": pool, "object": object, "to_library": to, "text": r.text,
        "principal": r.principal, "submitted_ms": r.submitted_ms, "closed_ms": r.closed_ms,
        "reason": r.reason.map(|c| c.name()),
    })
}

/// A side's row (the sides and lmids views).
pub fn side_json(s: &State, m: &Medium, x: &Side) -> Value {
    json!({
        "id": m.side_id(x.number).to_string(), "barcode": m.barcode, "side": x.number, "name": s.object_names.get(&ObjectRef::Side(m.side_id(x.number))),
        "state": side_state(x.state), "ntms_state": x.state.ntms_value(),
        "lmid": x.lmid.map(|l| l.to_string()), "pool": s.pool_path(m.pool),
        "media_type": media_type(m.media_type).map(|t| t.name),
        "library": s.libraries.get(&m.library).map(|l| l.name.clone()),
        "mounts": x.mount_count, "allocations": x.allocate_count,
        "omid": x.omid.as_deref().map(Omid::display),
        "omid_type": x.omid.as_ref().map(|o| o.label_type.clone()),
        "omid_info": x.omid.as_ref().map(|o| o.info.clone()),
    })
}

/// A side's state: its NTMS name without the prefix, lower-cased (`available`).
pub fn side_state(state: SideState) -> String {
    format!("{state:?}").to_lowercase()
}

/// An access list: principal → the names of its rights.
fn access_json(access: &std::collections::BTreeMap<String, AccessMask>) -> Value {
    Value::Object(access.iter().map(|(p, m)| (p.clone(), Value::from(m.names()))).collect())
}

/// A pool's row.
pub fn pool_json(s: &State, p: &Pool) -> Value {
    // A cleaner sits in its type's free pool but holds no data: not counted.
    let media = s.media.values().filter(|m| m.pool == p.id && !m.is_cleaner()).count();
    let lmids = s.lmids.values().filter(|side| s.side(**side).is_some_and(|(m, _)| m.pool == p.id)).count();
    let pools = s.pools.values().filter(|c| c.parent == Some(p.id)).count();
    json!({
        "id": p.id.to_string(), "path": s.pool_path(p.id), "name": p.name,
        "kind": match p.kind { PoolType::Free => "free", PoolType::Import => "import", PoolType::Unrecognized => "unrecognized", PoolType::Application => "application" },
        "ntms_type": p.kind.ntms_value(),
        "media_type": p.media_type.and_then(media_type).map(|t| t.name),
        "from_scratch": p.from_scratch, "to_scratch": p.to_scratch, "max_allocates": p.max_allocates,
        "media": media, "lmids": lmids, "pools": pools, "access": access_json(&p.access),
    })
}

pub const COLUMNS: &[(View, &[&str])] = &[
    (
        View::Libraries,
        &[
            "name",
            "kind",
            "enabled",
            "state",
            "door",
            "drives",
            "slots",
            "ports",
            "media",
            "queued",
            "cleaner",
            "cleaner_uses_remaining",
            "device",
            "access",
        ],
    ),
    (View::Drives, &["name", "library", "address", "state", "enabled", "barcode", "holder"]),
    (View::Slots, &["name", "library", "address", "state", "barcode", "cleaner_slot"]),
    (View::Ports, &["name", "library", "address", "state", "barcode"]),
    (View::Media, &["barcode", "library", "state", "location", "at", "home_slot", "enabled"]),
    (
        View::Queue,
        &[
            "id",
            "library",
            "kind",
            "state",
            "order",
            "priority",
            "drive",
            "barcode",
            "slot",
            "port",
            "submitter",
            "error",
        ],
    ),
    (View::MediaTypes, &["name", "sides", "read_write", "libraries"]),
    (
        View::Pools,
        &["path", "kind", "media_type", "media", "lmids", "from_scratch", "to_scratch", "max_allocates", "access"],
    ),
    (View::Sides, &["barcode", "side", "state", "pool", "lmid", "allocations", "library", "omid"]),
    (View::Lmids, &["lmid", "barcode", "side", "state", "pool", "library"]),
    (View::OperatorRequests, &["id", "kind", "state", "pool", "principal", "reason", "text"]),
];

/// Prints a view.
pub async fn show(engine: &Engine, view: View, library_name: Option<&str>, json: bool) -> Outcome {
    let lib = match library_name {
        Some(n) => Some(existing_library(engine, n).await?),
        None => None,
    };
    let rows = engine.query(move |s| rows(s, view, lib)).await?;
    if json {
        return out::json(&Value::from(rows));
    }
    let columns = COLUMNS.iter().find(|(v, _)| *v == view).map(|(_, c)| *c).unwrap_or(&[]);
    out::text(&table(columns, &rows))
}

/// A table cell, escaped (see [`out::escape`]): a list as `a,b`, a map as
/// `key:value key:value` (access rights: `admin:use,modify,control`).
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".to_string(),
        Value::String(s) => out::escape(s).into_owned(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(","),
        Value::Object(map) if map.is_empty() => "-".to_string(),
        Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{}:{}", out::escape(k), cell(v))).collect::<Vec<_>>().join(" ")
        }
        other => other.to_string(),
    }
}

/// A plain-text table, its cells escaped (see [`out::escape`]).
pub fn table(columns: &[&str], rows: &[Value]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|r| columns.iter().map(|c| cell(&r[*c])).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        // Characters, as `format!` pads (found by a hostile run: byte
        // lengths made columns of accented names twice as wide).
        .map(|(i, c)| cells.iter().map(|r| r[i].chars().count()).chain([c.len()]).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    let line = |out: &mut String, items: Vec<String>| {
        let parts: Vec<String> = items.iter().zip(&widths).map(|(s, w)| format!("{s:<w$}")).collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&mut out, columns.iter().map(|c| c.to_uppercase()).collect());
    for r in cells {
        line(&mut out, r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by a hostile run: columns were as wide as their longest cell in
    /// bytes, so names of accented letters widened them twice over.
    #[test]
    fn table_columns_are_as_wide_as_their_longest_cell_in_characters() {
        let rows = vec![json!({"name": "\u{e9}t\u{e9}", "state": "ok"}), json!({"name": "ab", "state": "ok"})];
        let text = table(&["name", "state"], &rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "\u{e9}t\u{e9}   ok", "as wide as NAME, four characters");
        assert_eq!(lines[2], "ab    ok");
    }
}
