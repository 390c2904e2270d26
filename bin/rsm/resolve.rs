//! Names to ids: what the command line names (a name, a bar code or an id)
//! resolved against the views.

use crate::Failure;
use rsm::*;

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

/// A drive's library and element address.
pub async fn drive_place(engine: &Engine, drive: DriveId) -> Result<(LibraryId, u16), Failure> {
    engine
        .query(move |s| s.drives.get(&drive).map(|d| (d.library, d.element_address)))
        .await?
        .ok_or_else(|| Failure::Rejected(NtmsError::new(ErrorCode::InvalidDrive, format!("no drive {drive}"))))
}
