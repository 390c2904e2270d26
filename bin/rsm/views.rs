//! Name resolution and the printed views (tables, or JSON with stable field names).

use crate::cli::{FaultKind, SimCmd, View};
use crate::{Failure, Outcome};
use rsm::hardware::Fault;
use rsm::*;
use serde_json::{json, Value};

/// The topology `library create-sim` asks for; bar codes are `NAME` upper-cased, a number and `L8`.
pub fn sim_spec(name: &str, drives: u16, slots: u32, ie_ports: u16, media: u32, standalone: bool) -> LibrarySpec {
    let prefix: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_uppercase();
    let barcodes = (1..=media).map(|i| format!("{prefix}{i:04}L8")).collect();
    if standalone {
        LibrarySpec { name: name.into(), kind: LibraryKind::Standalone, drives: 1, slots: 0, ie_ports: 0, barcodes }
    } else {
        LibrarySpec { name: name.into(), kind: LibraryKind::Changer, drives, slots, ie_ports, barcodes }
    }
}

/// An object by its name (or bar code), else by its id: an id that names
/// nothing still goes to the engine, which answers with the right code.
async fn resolve<T: std::str::FromStr + Send + 'static>(
    engine: &Engine,
    name: &str,
    by_name: fn(&State, &str) -> Option<T>,
    is_nil: fn(&T) -> bool,
    (code, what): (ErrorCode, &str),
) -> Result<T, Failure> {
    let n = name.to_string();
    let found = engine.query(move |s| by_name(s, &n).or_else(|| n.parse::<T>().ok().filter(|id| !is_nil(id)))).await?;
    found.ok_or_else(|| Failure::Rejected(NtmsError::new(code, format!("no {what} named {name}"))))
}

/// A drive by name or id.
pub async fn drive(engine: &Engine, name: &str) -> Result<DriveId, Failure> {
    resolve(engine, name, |s, n| s.drive_named(n).map(|d| d.id), DriveId::is_nil, (ErrorCode::InvalidDrive, "drive"))
        .await
}

/// An import/export port by name: its library and element address.
pub async fn port(engine: &Engine, name: &str) -> Result<(LibraryId, u16), Failure> {
    let n = name.to_string();
    engine
        .query(move |s| match s.names.get(&n) {
            Some(ObjectRef::Port(p)) => s.ports.get(p).map(|p| (p.library, p.element_address)),
            _ => None,
        })
        .await?
        .ok_or_else(|| Failure::Usage(format!("no import/export port named {name}")))
}

/// A library by name or id.
pub async fn library(engine: &Engine, name: &str) -> Result<LibraryId, Failure> {
    let lookup = |s: &State, n: &str| s.library_named(n).map(|l| l.id);
    resolve(engine, name, lookup, LibraryId::is_nil, (ErrorCode::InvalidLibrary, "library")).await
}

/// A cartridge by bar code or id.
pub async fn media(engine: &Engine, barcode: &str) -> Result<MediaId, Failure> {
    let lookup = |s: &State, n: &str| s.medium_by_barcode(n).map(|m| m.id);
    resolve(engine, barcode, lookup, MediaId::is_nil, (ErrorCode::InvalidMedia, "cartridge with bar code")).await
}

/// Prints a one-line success.
pub fn done(json: bool, message: &str) -> Outcome {
    if json {
        println!("{}", json!({"ok": true, "message": message}));
    } else {
        println!("{message}");
    }
    Ok(())
}

fn state_name(s: RequestState) -> &'static str {
    match s {
        RequestState::Queued => "queued",
        RequestState::InProcess => "in_progress",
        RequestState::Passed => "completed",
        RequestState::Failed => "failed",
        RequestState::Cancelled => "cancelled",
    }
}

/// Prints an accepted request; with `wait`, runs the workers until it ends first.
pub async fn request(engine: &Engine, id: RequestId, wait: bool, json: bool) -> Outcome {
    if wait {
        engine.run_until(move |s| s.requests.get(&id).is_none_or(|r| r.state.is_terminal())).await?;
    }
    let r = engine
        .query(move |s| s.requests.get(&id).map(|r| request_json(s, r)))
        .await?
        .ok_or_else(|| Failure::Usage(format!("request {id} vanished")))?;
    let state = r["state"].as_str().unwrap_or("").to_string();
    if json {
        println!("{}", json!({"request": id.to_string(), "state": state, "detail": r}));
    } else {
        println!("{}", request_line(&r));
    }
    if wait && state != "completed" {
        return Err(Failure::Rejected(request_failure(&r)));
    }
    Ok(())
}

/// One line about a request: `request ID STATE: KIND BARCODE in DRIVE`
/// (or `via PORT` for an eject or inject).
fn request_line(r: &Value) -> String {
    let text = |k: &str| r[k].as_str().unwrap_or("-").to_string();
    let place = match r["port"].as_str() {
        Some(port) => format!("via {port}"),
        None => format!("in {}", text("drive")),
    };
    format!("request {} {}: {} {} {place}", text("id"), text("state"), text("kind"), text("barcode"))
}

/// A request that ended but not well, as the error its own code names.
fn request_failure(r: &Value) -> NtmsError {
    let code = r["error_code"].as_u64().and_then(|c| ErrorCode::from_code(c as u32)).unwrap_or(ErrorCode::Cancelled);
    let sense = r["sense"].as_str().map(|s| format!(", sense {s}")).unwrap_or_default();
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

fn request_json(s: &State, r: &LibraryRequest) -> Value {
    json!({
        "id": r.id.to_string(),
        "library": s.libraries.get(&r.library).map(|l| l.name.clone()).unwrap_or_else(|| r.library.to_string()),
        "kind": r.kind.name(),
        "operation": r.kind.ntms_value(),
        "state": state_name(r.state),
        "ntms_state": r.state.ntms_value(),
        "priority": r.priority,
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
    })
}

fn snake(s: &str) -> String {
    s.trim_start_matches("NTMS_DRIVESTATE_").to_lowercase()
}

/// Prints the differences an inventory recorded: one line each, or
/// `{"library", "differences": [{"kind", "barcode", "at", ...}]}`.
pub async fn inventory(engine: &Engine, library: &str, events: Vec<Event>, json: bool) -> Outcome {
    let differences = differences(engine, events).await?;
    if json {
        println!("{}", json!({"library": library, "differences": differences}));
    } else if differences.is_empty() {
        println!("no differences");
    } else {
        print_differences(&differences);
    }
    Ok(())
}

/// Prints what an inject found and queued: a line per note (a cartridge
/// taken from a port, unlabeled or foreign) and per request, or
/// `{"library", "differences": [...], "requests": [...]}`. With `wait`, the
/// workers run until every request ended; the first that did not complete
/// gives the exit code.
pub async fn inject(engine: &Engine, library: &str, events: Vec<Event>, wait: bool, json: bool) -> Outcome {
    let ids: Vec<RequestId> = events
        .iter()
        .filter_map(|e| match e {
            Event::InjectRequested { request, .. } => Some(request.id),
            _ => None,
        })
        .collect();
    let notes = differences(engine, events).await?;
    if wait {
        let all = ids.clone();
        engine
            .run_until(move |s| all.iter().all(|id| s.requests.get(id).is_none_or(|r| r.state.is_terminal())))
            .await?;
    }
    let rows = engine
        .query(move |s| {
            ids.iter().filter_map(|id| s.requests.get(id)).map(|r| request_json(s, r)).collect::<Vec<Value>>()
        })
        .await?;
    if json {
        println!("{}", json!({"library": library, "differences": notes, "requests": rows}));
    } else {
        print_differences(&notes);
        if rows.is_empty() {
            println!("no cartridge to take in from the ports of {library}");
        }
        for r in &rows {
            println!("{}", request_line(r));
        }
    }
    match rows.iter().find(|r| wait && r["state"] != "completed") {
        Some(r) => Err(Failure::Rejected(request_failure(r))),
        None => Ok(()),
    }
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
                    _ => None,
                })
                .collect::<Vec<Value>>()
        })
        .await?)
}

fn print_differences(differences: &[Value]) {
    for d in differences {
        {
            let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| "-".into());
            let line = match d["kind"].as_str() {
                Some("appeared") => format!("appeared: {} in {}", text(&d["barcode"]), text(&d["at"])),
                Some("vanished") => format!("vanished: {} (now offline)", text(&d["barcode"])),
                Some("taken") => format!("taken from its port: {} (now offline)", text(&d["barcode"])),
                Some("moved") => format!("moved: {} to {}", text(&d["barcode"]), text(&d["at"])),
                Some("unlabeled") => format!("unlabeled cartridge in {} (address {})", text(&d["at"]), d["address"]),
                _ => format!(
                    "foreign cartridge {} in {} (address {})",
                    text(&d["barcode"]),
                    text(&d["at"]),
                    d["address"]
                ),
            };
            println!("{line}");
        }
    }
}

fn location_json(s: &State, l: Location) -> (&'static str, Value) {
    match l {
        Location::Slot(x) => ("slot", name_of_slot(s, Some(x))),
        Location::Drive(d) => ("drive", name_of_drive(s, Some(d))),
        Location::Port(p) => ("port", name_of_port(s, Some(p))),
        Location::Offline => ("offline", Value::Null),
    }
}

/// The rows of a view, as JSON objects.
fn rows(s: &State, view: View, library: Option<LibraryId>) -> Vec<Value> {
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
                    "access": l.access.iter().map(|(p, m)| (p.clone(), Value::from(m.names()))).collect::<serde_json::Map<_, _>>(),
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
                    "state": snake(d.state.ntms_name()), "ntms_state": d.state.ntms_value(), "enabled": d.enabled,
                    "barcode": barcode_of(s, d.medium),
                    "holder": d.holder.and_then(|h| s.sessions.get(&h)).map(|h| h.principal.clone()),
                    "reserved_by": d.reserved_by.map(|r| r.to_string()),
                    "mount_count": d.mount_count,
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
                    "state": match x.state { SlotState::Full => "full", SlotState::Empty => "empty", SlotState::NotPresent => "not_present" },
                    "ntms_state": x.state.ntms_value(),
                    "barcode": barcode_of(s, x.content), "home_of": barcode_of(s, x.home_of),
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
                    "state": if x.content.is_some() { "full" } else { "empty" },
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
                    "id": m.id.to_string(), "barcode": m.barcode, "name": m.barcode,
                    "library": s.libraries.get(&m.library).map(|l| l.name.clone()),
                    "state": format!("{:?}", m.state).to_lowercase(), "ntms_state": m.state.ntms_value(),
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
    }
}

const COLUMNS: &[(View, &[&str])] = &[
    (View::Libraries, &["name", "kind", "enabled", "state", "drives", "slots", "ports", "media", "queued"]),
    (View::Drives, &["name", "library", "address", "state", "enabled", "barcode", "holder"]),
    (View::Slots, &["name", "library", "address", "state", "barcode"]),
    (View::Ports, &["name", "library", "address", "state", "barcode"]),
    (View::Media, &["barcode", "library", "state", "location", "at", "home_slot", "enabled"]),
    (View::Queue, &["id", "library", "kind", "state", "drive", "barcode", "slot", "port", "submitter", "error"]),
];

/// Prints a view.
pub async fn show(engine: &Engine, view: View, library_name: Option<&str>, json: bool) -> Outcome {
    let lib = match library_name {
        Some(n) => Some(library(engine, n).await?),
        None => None,
    };
    let rows = engine.query(move |s| rows(s, view, lib)).await?;
    if json {
        println!("{}", Value::from(rows));
        return Ok(());
    }
    let columns = COLUMNS.iter().find(|(v, _)| *v == view).map(|(_, c)| *c).unwrap_or(&[]);
    print!("{}", table(columns, &rows));
    Ok(())
}

/// A plain-text table.
pub fn table(columns: &[&str], rows: &[Value]) -> String {
    let cell = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let cells: Vec<Vec<String>> = rows.iter().map(|r| columns.iter().map(|c| cell(&r[*c])).collect()).collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| r[i].len()).chain([c.len()]).max().unwrap_or(0))
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

/// `rsm sim ...`: the operator's hands and fault injection.
pub async fn sim(engine: &Engine, cmd: &SimCmd, user: &str, json: bool) -> Outcome {
    match cmd {
        SimCmd::Insert { drive: name, barcode } => {
            let drive_id = drive(engine, name).await?;
            let (library, address) = drive_place(engine, drive_id).await?;
            let sim = engine.simulator(library).await?;
            sim.operator_insert(address, barcode).map_err(device_error)?;
            let session = engine.session_for(user).await?;
            let cmd = Command::OperatorInsert { session: session.id(), drive: drive_id, barcode: barcode.clone() };
            if let Err(e) = session.submit(cmd).await {
                // rsm refused it: the operator takes the cartridge back out.
                let _ = sim.operator_remove(address);
                return Err(e.into());
            }
            done(json, &format!("{barcode} is in {name}"))
        }
        SimCmd::FillPort { port: name, barcode } => {
            let (library, address) = port(engine, name).await?;
            engine.simulator(library).await?.operator_fill_port(address, barcode).map_err(device_error)?;
            done(json, &format!("{barcode} is in {name}; rsm inject takes it in"))
        }
        SimCmd::EmptyPort { port: name } => {
            let (library, address) = port(engine, name).await?;
            let barcode = engine.simulator(library).await?.operator_empty_port(address).map_err(device_error)?;
            done(json, &format!("{barcode} taken out of {name}; rsm inventory records it offline"))
        }
        SimCmd::Remove { drive: name } => {
            let drive_id = drive(engine, name).await?;
            let (library, address) = drive_place(engine, drive_id).await?;
            let session = engine.session_for(user).await?;
            session.submit(Command::OperatorRemove { session: session.id(), drive: drive_id }).await?;
            let sim = engine.simulator(library).await?;
            let barcode = sim.operator_remove(address).map_err(device_error)?;
            done(json, &format!("{barcode} taken out of {name}"))
        }
        SimCmd::Fail { fault, library: lib_name, drive: drive_name, count } => {
            let drive_id = match drive_name {
                Some(d) => Some(drive(engine, d).await?),
                None => None,
            };
            let library = match (lib_name, drive_id) {
                (Some(l), _) => library(engine, l).await?,
                (None, Some(d)) => drive_place(engine, d).await?.0,
                (None, None) => {
                    let only = engine.query(|s| s.libraries.keys().copied().collect::<Vec<_>>()).await?;
                    match only.as_slice() {
                        [one] => *one,
                        _ => return Err(Failure::Usage("name the library with --library".into())),
                    }
                }
            };
            let address = match drive_id {
                Some(d) => Some(drive_place(engine, d).await?.1),
                None => None,
            };
            let fault = match (fault, address) {
                (FaultKind::Robot, _) => Fault::RobotFailure,
                (FaultKind::Unload, Some(drive)) => Fault::DriveWillNotUnload { drive },
                (FaultKind::Load, Some(drive)) => Fault::DriveWillNotLoad { drive },
                _ => return Err(Failure::Usage("unload and load faults need --drive".into())),
            };
            let sim = engine.simulator(library).await?;
            sim.inject(fault.clone(), *count).map_err(device_error)?;
            done(json, &format!("fault {fault:?} armed {count} time(s)"))
        }
    }
}

async fn drive_place(engine: &Engine, drive: DriveId) -> Result<(LibraryId, u16), Failure> {
    engine
        .query(move |s| s.drives.get(&drive).map(|d| (d.library, d.element_address)))
        .await?
        .ok_or_else(|| Failure::Rejected(NtmsError::new(ErrorCode::InvalidDrive, format!("no drive {drive}"))))
}

fn device_error(e: rsm::hardware::AdapterError) -> Failure {
    let code = failure_code(&e);
    Failure::Rejected(NtmsError::new(code, e.to_string()))
}
