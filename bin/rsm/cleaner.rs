//! `rsm clean` and `rsm cleaner ...`: CleanNtmsDrive, Reserve/ReleaseNtmsCleanerSlot,
//! InjectNtmsCleaner and EjectNtmsCleaner; `rsm detect`: the device change
//! detection of stand-alone drives.

use crate::cli::{CleanerCmd, DetectCmd, DetectTarget};
use crate::render::{self, done};
use crate::{resolve, stop, Failure, Outcome};
use rsm::*;

/// Where a drive's cleaning is, as the views have it.
struct Cleaning {
    last_cleaned_ms: Option<u64>,
    /// The open operator request asking for a cleaner, if one is.
    awaited: Option<OperatorRequestId>,
    /// Still wanted, or queued or under way.
    pending: bool,
    /// The newest cleaning request of the drive, if it ended badly: its code.
    failed: Option<u32>,
}

fn cleaning(s: &State, drive: DriveId, since_order: u64) -> Cleaning {
    let d = s.drives.get(&drive);
    let wanted = d.and_then(|d| d.cleaning_wanted.as_ref());
    let awaited = wanted
        .and_then(|w| w.operator_request)
        .filter(|r| s.operator_requests.get(r).is_some_and(|r| !r.state.is_terminal()));
    let newest = s
        .requests
        .values()
        .filter(|r| r.kind == RequestKind::Clean && r.order >= since_order)
        .filter(|r| r.drive == Some(drive))
        .max_by_key(|r| r.order);
    Cleaning {
        last_cleaned_ms: d.and_then(|d| d.last_cleaned_ms),
        awaited,
        pending: wanted.is_some() || newest.is_some_and(|r| !r.state.is_terminal()),
        failed: newest.filter(|r| r.state.is_terminal() && r.state != RequestState::Passed).and_then(|r| r.error),
    }
}

/// `rsm clean DRIVE [--wait]`.
pub async fn clean(engine: &Engine, user: &str, name: &str, wait: bool, json: bool) -> Outcome {
    let drive = resolve::drive(engine, name).await?;
    let session = engine.session_for(user).await?;
    let (before, since) =
        engine.query(move |s| (s.drives.get(&drive).and_then(|d| d.last_cleaned_ms), s.next_order)).await?;
    session.clean_drive(drive).await?;
    if wait {
        engine.run_until(move |s| stop::received().is_some() || !cleaning(s, drive, since).pending).await?;
    }
    let now = engine.query(move |s| cleaning(s, drive, since)).await?;
    if let Some(signal) = stop::received().filter(|_| wait && now.pending) {
        // Found by a hostile run: a stopped wait printed nothing.
        let document = serde_json::json!({"drive": name, "state": "wanted"});
        return Err(Failure::Stopped(signal, document, render::LEFT_TO_THE_NEXT_RUN));
    }
    if let Some(code) = now.failed {
        let kind = ErrorCode::from_code(code).unwrap_or(ErrorCode::UnableToClean);
        return Err(Failure::Rejected(NtmsError::new(kind, format!("the cleaning of drive {name} failed"))));
    }
    if now.last_cleaned_ms != before {
        return done(json, &format!("drive {name} cleaned"));
    }
    if let Some(request) = now.awaited {
        return done(
            json,
            &format!("drive {name} waits for a cleaner: operator request {request} asks for one (rsm cleaner inject)"),
        );
    }
    if wait {
        return done(json, &format!("drive {name} is cleaned once it is empty; `rsm run` carries it on"));
    }
    done(json, &format!("cleaning of drive {name} queued: it runs once the drive is empty (rsm run, or --wait)"))
}

/// `rsm cleaner reserve|release|inject|eject LIBRARY ...`.
pub async fn cleaner(engine: &Engine, user: &str, cmd: &CleanerCmd, json: bool) -> Outcome {
    let session = engine.session_for(user).await?;
    match cmd {
        CleanerCmd::Reserve { library, slot } => {
            let id = resolve::library(engine, library).await?;
            let slot_id = resolve::slot(engine, slot).await?;
            session.reserve_cleaner_slot(id, slot_id).await?;
            done(json, &format!("slot {slot} of library {library} is kept for the cleaner"))
        }
        CleanerCmd::Release { library } => {
            let id = resolve::library(engine, library).await?;
            session.release_cleaner_slot(id).await?;
            done(json, &format!("the cleaner slot of library {library} holds data cartridges again"))
        }
        CleanerCmd::Inject { library, stop: Some(operation), .. }
        | CleanerCmd::Eject { library, stop: Some(operation), .. } => {
            let id = resolve::library(engine, library).await?;
            let operation = crate::queue::request_id(operation)?;
            session.stop_cleaner_operation(id, operation).await?;
            done(json, &format!("operation {operation} stopped"))
        }
        CleanerCmd::Inject { library, cleans, stop: None, wait } => {
            let id = resolve::library(engine, library).await?;
            match session.inject_cleaner(id, cleans.unwrap_or(CLEANER_USES_UNLIMITED)).await? {
                Some(handle) => render::request(engine, handle.id(), *wait, json).await,
                None => done(json, &through_the_door(engine, id, library, "put the cleaner in").await?),
            }
        }
        CleanerCmd::Eject { library, stop: None, wait } => {
            let id = resolve::library(engine, library).await?;
            match session.eject_cleaner(id).await? {
                Some(handle) => render::request(engine, handle.id(), *wait, json).await,
                None => done(json, &through_the_door(engine, id, library, "take the cleaner out of").await?),
            }
        }
    }
}

/// What the operator does at the door of a library without ports.
async fn through_the_door(engine: &Engine, id: LibraryId, library: &str, what: &str) -> Result<String, Failure> {
    let slot = engine
        .query(move |s| {
            s.libraries.get(&id).and_then(|l| l.cleaner_slot).and_then(|x| s.slots.get(&x)).map(|x| x.name.clone())
        })
        .await?
        .unwrap_or_default();
    Ok(format!(
        "library {library} has no port: its door opens; {what} slot {slot}, then close the door \
         (rsm door close {library}); the reading after it finds the cleaner"
    ))
}

/// The objects `rsm detect` names.
async fn detect_targets(engine: &Engine, targets: &[String], of: DetectTarget) -> Result<Vec<ObjectRef>, Failure> {
    let mut objects = Vec::new();
    for t in targets {
        objects.push(match of {
            DetectTarget::Library => ObjectRef::Library(resolve::library(engine, t).await?),
            DetectTarget::Media => ObjectRef::Media(resolve::media(engine, t).await?),
            DetectTarget::MediaType => ObjectRef::MediaType(
                media_type_named(t)
                    .ok_or_else(|| Failure::Usage(format!("{t:?} is not a media type (rsm show media-types)")))?
                    .id,
            ),
        });
    }
    Ok(objects)
}

async fn library_names(engine: &Engine, libraries: Vec<LibraryId>) -> Result<String, Failure> {
    let names = engine
        .query(move |s| libraries.iter().filter_map(|l| s.libraries.get(l)).map(|l| l.name.clone()).collect::<Vec<_>>())
        .await?;
    Ok(if names.is_empty() { "no stand-alone library".into() } else { names.join(", ") })
}

/// `rsm detect poll|watch|end`.
pub async fn detect(engine: &Engine, user: &str, cmd: &DetectCmd, json: bool) -> Outcome {
    let session = engine.session_for(user).await?;
    match cmd {
        DetectCmd::Poll { targets, of } => {
            let objects = detect_targets(engine, targets, *of).await?;
            let libraries = session.set_change_detection(None, objects).await?;
            let names = library_names(engine, libraries).await?;
            done(json, &format!("polled {names}: what is in their drives is recorded (rsm show drives)"))
        }
        DetectCmd::Watch { targets, of } => {
            let objects = detect_targets(engine, targets, *of).await?;
            let detection = session.begin_change_detection().await?;
            let libraries = match session.set_change_detection(Some(detection), objects).await {
                Ok(libraries) => libraries,
                Err(e) => {
                    let _ = session.end_change_detection(detection).await;
                    return Err(e.into());
                }
            };
            let names = library_names(engine, libraries).await?;
            if json {
                // The handle on its own: a script needs it to end the detection.
                let document = serde_json::json!({"ok": true, "detection": detection.to_string(), "libraries": names});
                return crate::out::json(&document);
            }
            done(
                json,
                &format!(
                    "detection {detection} watches {names}: `rsm run` polls them until `rsm detect end {detection}`"
                ),
            )
        }
        DetectCmd::End { detection } => {
            let id = detection.parse::<DetectionId>().map_err(|_| {
                Failure::Rejected(NtmsError::new(
                    ErrorCode::InvalidHandle,
                    format!("{detection:?} is not a detection handle"),
                ))
            })?;
            session.end_change_detection(id).await?;
            done(json, &format!("detection {detection} ended"))
        }
    }
}
