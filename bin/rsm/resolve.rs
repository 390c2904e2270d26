//! Names to ids: what the command line names (a name, a bar code or an id)
//! resolved against the views.

use crate::Failure;
use rsm::*;

/// A reference resolved by the model's rule (`rsm_model::*_reference`): a
/// name or bar code to its id; an id, the zero id or nothing at all go to
/// the engine as they are, and its rules answer for them.
async fn resolve<T: Send + 'static>(
    engine: &Engine,
    text: &str,
    rule: fn(&State, &str) -> Result<T, NtmsError>,
) -> Result<T, Failure> {
    let text = text.to_string();
    Ok(engine.query(move |s| rule(s, &text)).await??)
}

/// A drive by name or id.
pub async fn drive(engine: &Engine, name: &str) -> Result<DriveId, Failure> {
    resolve(engine, name, drive_reference).await
}

/// An import/export port by name: its library and element address.
pub async fn port(engine: &Engine, name: &str) -> Result<(LibraryId, u16), Failure> {
    if name.is_empty() {
        return Err(Failure::Rejected(NtmsError::new(ErrorCode::InvalidParameter, "a port is required")));
    }
    let n = name.to_string();
    engine
        .query(move |s| match s.names.get(&n) {
            Some(ObjectRef::Port(p)) => s.ports.get(p).map(|p| (p.library, p.element_address)),
            _ => None,
        })
        .await?
        .ok_or_else(|| {
            Failure::Rejected(NtmsError::new(ErrorCode::ObjectNotFound, format!("no import/export port named {name}")))
        })
}

/// A library that exists, by name or id, for a view's filter or the
/// simulator: a missing or zero one is ERROR_INVALID_PARAMETER, one that
/// names nothing ERROR_INVALID_LIBRARY, as the rules answer.
pub async fn existing_library(engine: &Engine, name: &str) -> Result<LibraryId, Failure> {
    let id = library(engine, name).await?;
    if id.is_nil() {
        return Err(Failure::Rejected(NtmsError::new(ErrorCode::InvalidParameter, "a library is required")));
    }
    if !engine.query(move |s| s.libraries.contains_key(&id)).await? {
        return Err(Failure::Rejected(NtmsError::new(ErrorCode::InvalidLibrary, format!("no library {name}"))));
    }
    Ok(id)
}

/// A storage slot by name or id.
pub async fn slot(engine: &Engine, name: &str) -> Result<SlotId, Failure> {
    resolve(engine, name, slot_reference).await
}

/// A library by name or id.
pub async fn library(engine: &Engine, name: &str) -> Result<LibraryId, Failure> {
    resolve(engine, name, library_reference).await
}

/// A cartridge by bar code or id.
pub async fn media(engine: &Engine, barcode: &str) -> Result<MediaId, Failure> {
    resolve(engine, barcode, media_reference).await
}

/// A drive's library and element address.
pub async fn drive_place(engine: &Engine, drive: DriveId) -> Result<(LibraryId, u16), Failure> {
    if drive.is_nil() {
        return Err(Failure::Rejected(NtmsError::new(ErrorCode::InvalidParameter, "a drive is required")));
    }
    engine
        .query(move |s| s.drives.get(&drive).map(|d| (d.library, d.element_address)))
        .await?
        .ok_or_else(|| Failure::Rejected(NtmsError::new(ErrorCode::InvalidDrive, format!("no drive {drive}"))))
}

/// A pool by path or id.
pub async fn pool(engine: &Engine, path: &str) -> Result<PoolId, Failure> {
    resolve(engine, path, pool_reference).await
}

/// A logical medium by id, or the bar code of its cartridge.
pub async fn logical_media(engine: &Engine, text: &str) -> Result<LogicalMediaId, Failure> {
    resolve(engine, text, logical_media_reference).await
}

/// A side by id, or a bar code (side A).
pub async fn side(engine: &Engine, text: &str) -> Result<SideId, Failure> {
    resolve(engine, text, side_reference).await
}
