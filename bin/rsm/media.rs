//! The media services' commands: media types, pools, allocation and the
//! life of a side.

use crate::cli::{MediaCmd, MediaTypeCmd, PoolCmd, SideStateArg};
use crate::render::done;
use crate::{out, resolve, Failure, Outcome};
use rsm::*;
use serde_json::json;

fn type_named(name: &str) -> Result<MediaTypeId, Failure> {
    media_type_named(name).map(|t| t.id).ok_or_else(|| Failure::Usage(format!("{name} is not a media type rsm knows")))
}

pub async fn media_type(engine: &Engine, user: &str, command: &MediaTypeCmd, json: bool) -> Outcome {
    let session = engine.session_for(user).await?;
    match command {
        MediaTypeCmd::Add { media_type, library } => {
            let id = resolve::library(engine, library).await?;
            session.add_media_type(id, type_named(media_type)?).await?;
            done(json, &format!("library {} handles {media_type}", library))
        }
        MediaTypeCmd::Delete { media_type, library } => {
            let id = resolve::library(engine, library).await?;
            session.delete_media_type(id, type_named(media_type)?).await?;
            done(json, &format!("library {} no longer handles {media_type}", library))
        }
    }
}

pub async fn pool(engine: &Engine, user: &str, command: &PoolCmd, json: bool) -> Outcome {
    let session = engine.session_for(user).await?;
    match command {
        PoolCmd::Create { path, media_type, open_always, from_scratch, to_scratch, max_allocates } => {
            let kind = media_type.as_deref().map(type_named).transpose()?;
            let policies = *from_scratch || *to_scratch || *max_allocates > 0;
            if policies && kind.is_none() {
                return Err(Failure::Usage(
                    "--from-scratch, --to-scratch and --max-allocates need --type: a pool without one holds only pools"
                        .into(),
                ));
            }
            let action = if *open_always { PoolAction::OpenAlways } else { PoolAction::CreateNew };
            let wanted = path.clone();
            let existed = engine.query(move |s| s.pool_at(&wanted).is_some()).await?;
            let id = session.create_media_pool(path, kind, action).await?;
            // Opening a pool leaves it as it is (its type and policies too).
            if !existed && policies {
                session.set_pool_policy(id, *from_scratch, *to_scratch, *max_allocates).await?;
            }
            pool_report(engine, id, json).await
        }
        PoolCmd::Delete { path } => {
            let id = resolve::pool(engine, path).await?;
            let at = engine.query(move |s| s.pool_path(id)).await?;
            session.delete_media_pool(id).await?;
            done(json, &format!("pool {at} deleted"))
        }
        PoolCmd::Move { barcode, pool } => {
            let media = resolve::media(engine, barcode).await?;
            let id = resolve::pool(engine, pool).await?;
            session.move_to_media_pool(media, id).await?;
            let path = engine.query(move |s| s.pool_path(id)).await?;
            done(json, &format!("{barcode} moved to {path}"))
        }
    }
}

async fn pool_report(engine: &Engine, id: PoolId, json: bool) -> Outcome {
    let (path, row) = engine.query(move |s| (s.pool_path(id), crate::render::pool_json(s, &s.pools[&id]))).await?;
    if json {
        return out::json(&row);
    }
    out::line(&format!("pool {path} ({id})"))
}

/// `rsm allocate`'s arguments.
pub struct AllocateArgs<'a> {
    pub pool: &'a str,
    pub new: bool,
    pub next: Option<&'a str>,
    pub side: Option<&'a str>,
    pub timeout: AllocationTimeout,
    /// NTMS_ALLOCATE_ERROR_IF_UNAVAILABLE.
    pub no_operator: bool,
}

pub async fn allocate(engine: &Engine, user: &str, args: AllocateArgs<'_>, json: bool) -> Outcome {
    let AllocateArgs { pool, new, next, side, timeout, no_operator } = args;
    let pool = resolve::pool(engine, pool).await?;
    let next = match next {
        Some(lmid) => Some(resolve::logical_media(engine, lmid).await?),
        None => None,
    };
    let side = match side {
        Some(side) => Some(resolve::side(engine, side).await?),
        None => None,
    };
    let session = engine.session_for(user).await?;
    let options = AllocateOptions { new, next, error_if_unavailable: no_operator };
    let lmid = if timeout == AllocationTimeout::Zero {
        session.allocate_media(pool, side, options).await?
    } else {
        let allocation = session.allocate_media_waiting(pool, side, options, timeout);
        tokio::pin!(allocation);
        loop {
            tokio::select! {
                result = &mut allocation => break result?,
                signal = crate::stop::first() => {
                    // Stopped waiting: the new-media request goes with the wait.
                    session.withdraw_operator_requests(ErrorCode::Cancelled).await?;
                    let path = engine.query(move |s| s.pool_path(pool)).await?;
                    let document = json!({"pool": path, "lmid": null});
                    let left = "nothing was allocated and the new-media operator request was withdrawn";
                    return Err(Failure::Stopped(signal, document, left));
                }
                // The queue is worked meanwhile (this process holds the
                // store): a classification or a free label may bring media.
                _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                    engine.run_until(|_| crate::stop::received().is_some()).await?;
                }
            }
        }
    };
    let row = engine
        .query(move |s| {
            let (m, x) = s.logical_medium(lmid)?;
            Some(json!({"lmid": lmid.to_string(), "side": m.side_id(x.number).to_string(), "side_number": x.number,
                        "barcode": m.barcode, "pool": s.pool_path(m.pool)}))
        })
        .await?
        .ok_or_else(|| Failure::Io("the logical medium just allocated is not in the views".into()))?;
    if json {
        return out::json(&row);
    }
    let text = |k: &str| row[k].as_str().unwrap_or_default().to_string();
    out::line(&format!(
        "allocated {} (side {} of {}) in {}",
        text("lmid"),
        row["side_number"],
        text("barcode"),
        text("pool")
    ))
}

pub enum SideAction {
    Deallocate,
    Complete,
}

pub async fn logical(engine: &Engine, user: &str, lmid: &str, action: SideAction, json: bool) -> Outcome {
    let id = resolve::logical_media(engine, lmid).await?;
    let session = engine.session_for(user).await?;
    match action {
        SideAction::Deallocate => {
            session.deallocate_media(id).await?;
            done(json, &format!("{} deallocated", lmid))
        }
        SideAction::Complete => {
            session.set_media_complete(id).await?;
            done(json, &format!("{} marked complete", lmid))
        }
    }
}

pub async fn decommission(engine: &Engine, user: &str, side: &str, json: bool) -> Outcome {
    let id = resolve::side(engine, side).await?;
    let session = engine.session_for(user).await?;
    session.decommission_media(id).await?;
    done(json, &format!("{} decommissioned", side))
}

pub async fn swap(engine: &Engine, user: &str, first: &str, second: &str, json: bool) -> Outcome {
    let a = resolve::logical_media(engine, first).await?;
    let b = resolve::logical_media(engine, second).await?;
    let session = engine.session_for(user).await?;
    session.swap_media(a, b).await?;
    done(json, &format!("{} and {} swapped their sides", first, second))
}

pub async fn media(engine: &Engine, user: &str, command: &MediaCmd, json: bool) -> Outcome {
    let session = engine.session_for(user).await?;
    match command {
        MediaCmd::Create { barcode, pool, side_states, label_files, error_on_duplicate } => {
            let labels = label_files.iter().map(|f| read_label(f).map(Some)).collect::<Result<Vec<_>, _>>()?;
            let id = resolve::pool(engine, pool).await?;
            let states: Vec<SideState> = if side_states.is_empty() {
                // One side of the default state per side of the pool's type.
                let default = engine
                    .query(move |s| {
                        let p = s.pools.get(&id)?;
                        let kind = rsm::media_type(p.media_type?)?;
                        let state = if p.kind == PoolType::Import { SideState::Import } else { SideState::Available };
                        Some(vec![state; usize::from(kind.sides)])
                    })
                    .await?;
                default.unwrap_or_default()
            } else {
                side_states
                    .iter()
                    .map(|s| match s {
                        SideStateArg::Available => SideState::Available,
                        SideStateArg::Allocated => SideState::Allocated,
                        SideStateArg::Complete => SideState::Complete,
                        SideStateArg::Import => SideState::Import,
                        SideStateArg::Unprepared => SideState::Unprepared,
                        SideStateArg::Decommissioned => SideState::Decommissioned,
                    })
                    .collect()
            };
            let media = session.create_media(barcode, id, states, labels, *error_on_duplicate).await?;
            done(json, &format!("{} recorded offline ({media})", barcode.trim_end_matches(' ')))
        }
        MediaCmd::Label { lmid, file, from_drive, filesystem, volume, serial } => {
            let id = resolve::logical_media(engine, lmid).await?;
            let label = match (file, filesystem) {
                (Some(file), _) => Some(OmidLabel::Raw(read_label(file)?)),
                (None, Some(file_system)) => Some(OmidLabel::FileSystem {
                    file_system: file_system.clone(),
                    volume: volume.clone().unwrap_or_default(),
                    serial: *serial,
                }),
                (None, None) if *from_drive => None,
                (None, None) => return Err(Failure::Usage("--file, --from-drive or --filesystem is required".into())),
            };
            match label {
                Some(label) => session.update_omid(id, label).await?,
                None => session.update_omid_from_drive(id).await?,
            }
            let omid = engine
                .query(move |s| s.logical_medium(id).and_then(|(_, x)| x.omid.as_deref().map(Omid::display)))
                .await?
                .unwrap_or_default();
            done(json, &format!("{lmid} is labelled {}", out::escape(&omid)))
        }
        MediaCmd::Delete { barcode } => {
            let media = resolve::media(engine, barcode).await?;
            session.delete_media(media).await?;
            done(json, &format!("{barcode} deleted"))
        }
        MediaCmd::Retype { barcode, pool } => {
            let media = resolve::media(engine, barcode).await?;
            let id = resolve::pool(engine, pool).await?;
            session.change_media_type(media, id).await?;
            done(json, &format!("{barcode} moved to {pool} and retyped"))
        }
    }
}

/// A label file's bytes: at most a label's size, read no further.
pub fn read_label(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let cannot = |e: std::io::Error| Failure::Usage(format!("cannot read the label file {}: {e}", path.display()));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(LABEL_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > LABEL_BYTES_MAX {
        return Err(Failure::Usage(format!(
            "the label file {} is larger than a label ({LABEL_BYTES_MAX} bytes)",
            path.display()
        )));
    }
    Ok(bytes)
}
