//! What a caller's reference names: a name (or a bar code), or an id.
//!
//! Callers that take text (the command line, later the network API) turn
//! it into an id here and hand the id to the rules, which answer for it
//! (a missing id is ERROR_INVALID_PARAMETER, one that names nothing the
//! object's own code). Only a name that names nothing is answered here,
//! with the code the rules give an id that names nothing.

use crate::error::{ErrorCode, NtmsError};
use crate::ids::*;
use crate::state::State;
use std::str::FromStr;

fn resolve<T: FromStr + Default>(
    text: &str,
    by_name: impl FnOnce(&str) -> Option<T>,
    unknown: (ErrorCode, &str),
) -> Result<T, NtmsError> {
    if text.is_empty() {
        // A missing argument: the rules answer for the zero id.
        return Ok(T::default());
    }
    // An id is an id (names may not read as ids), so no name can stand in
    // for another object's id.
    if let Ok(id) = text.parse::<T>() {
        return Ok(id);
    }
    by_name(text).ok_or_else(|| NtmsError::new(unknown.0, format!("no {} named {text}", unknown.1)))
}

/// A drive by name or id.
pub fn drive_reference(state: &State, text: &str) -> Result<DriveId, NtmsError> {
    resolve(text, |n| state.drive_named(n).map(|d| d.id), (ErrorCode::InvalidDrive, "drive"))
}

/// A storage slot by name or id.
pub fn slot_reference(state: &State, text: &str) -> Result<SlotId, NtmsError> {
    let by_name = |n: &str| match state.names.get(n) {
        Some(crate::objects::ObjectRef::Slot(s)) => Some(*s),
        _ => None,
    };
    resolve(text, by_name, (ErrorCode::ObjectNotFound, "slot"))
}

/// A library by name or id.
pub fn library_reference(state: &State, text: &str) -> Result<LibraryId, NtmsError> {
    resolve(text, |n| state.library_named(n).map(|l| l.id), (ErrorCode::InvalidLibrary, "library"))
}

/// A cartridge by bar code or id; the id of one of its sides or of the
/// logical medium allocated on it names it too (MountNtmsMedia and
/// DismountNtmsMedia take "a logical medium or a side").
pub fn media_reference(state: &State, text: &str) -> Result<MediaId, NtmsError> {
    let media = resolve(
        text,
        |n| state.medium_by_barcode(n).map(|m| m.id),
        (ErrorCode::InvalidMedia, "cartridge with bar code"),
    )?;
    let behind =
        state.logical_medium(LogicalMediaId(media.0)).or_else(|| state.side(SideId(media.0))).map(|(m, _)| m.id);
    Ok(behind.unwrap_or(media))
}

/// A pool by its path (`\\App\\Daily`) or id.
pub fn pool_reference(state: &State, text: &str) -> Result<PoolId, NtmsError> {
    resolve(text, |n| state.pool_at(n).map(|p| p.id), (ErrorCode::InvalidMediaPool, "pool"))
}

/// A logical medium by id, or by the bar code of the one cartridge it is
/// allocated on (a cartridge with two is ERROR_INVALID_PARAMETER).
pub fn logical_media_reference(state: &State, text: &str) -> Result<LogicalMediaId, NtmsError> {
    if let Some(m) = state.medium_by_barcode(text) {
        let mut lmids = m.sides.iter().filter_map(|s| s.lmid);
        return match (lmids.next(), lmids.next()) {
            (Some(lmid), None) => Ok(lmid),
            (Some(_), Some(_)) => Err(NtmsError::new(
                ErrorCode::InvalidParameter,
                format!("cartridge {text} carries more than one logical medium: name it by its id"),
            )),
            (None, _) => {
                Err(NtmsError::new(ErrorCode::InvalidMedia, format!("cartridge {text} carries no logical medium")))
            }
        };
    }
    resolve(text, |_| None, (ErrorCode::InvalidMedia, "cartridge with bar code"))
}

/// A side by id, or by the bar code of its cartridge (side A).
pub fn side_reference(state: &State, text: &str) -> Result<SideId, NtmsError> {
    let by_barcode = |n: &str| state.medium_by_barcode(n).map(|m| m.side_id(0));
    resolve(text, by_barcode, (ErrorCode::InvalidMedia, "cartridge with bar code"))
}

/// Any object (spec §3.6's functions take every type): `computer`; a
/// library's, drive's, slot's or port's name; a bar code (the cartridge);
/// a pool path (with `\\`); a media type's name; or any object's id.
/// ERROR_OBJECT_NOT_FOUND when nothing answers to it.
pub fn object_reference(state: &State, text: &str) -> Result<crate::objects::ObjectRef, NtmsError> {
    use crate::objects::ObjectRef as O;
    let found = if text.eq_ignore_ascii_case("computer") {
        Some(O::Computer)
    } else if let Some(p) = text.contains('\\').then(|| state.pool_at(text)).flatten() {
        Some(O::Pool(p.id))
    } else if let Some(named) = state.names.get(text) {
        Some(*named)
    } else if let Some(m) = state.medium_by_barcode(text) {
        Some(O::Media(m.id))
    } else if let Some((named, _)) = state.object_names.iter().find(|(_, name)| *name == text) {
        Some(*named)
    } else if let Some(t) = crate::media_services::media_type_named(text) {
        Some(O::MediaType(t.id))
    } else if let Ok(id) = text.parse::<uuid::Uuid>() {
        [
            state.libraries.contains_key(&LibraryId(id)).then_some(O::Library(LibraryId(id))),
            state.drives.contains_key(&DriveId(id)).then_some(O::Drive(DriveId(id))),
            state.slots.contains_key(&SlotId(id)).then_some(O::Slot(SlotId(id))),
            state.ports.contains_key(&PortId(id)).then_some(O::Port(PortId(id))),
            state.media.contains_key(&MediaId(id)).then_some(O::Media(MediaId(id))),
            state.pools.contains_key(&PoolId(id)).then_some(O::Pool(PoolId(id))),
            state.sides.contains_key(&SideId(id)).then_some(O::Side(SideId(id))),
            state.lmids.contains_key(&LogicalMediaId(id)).then_some(O::LogicalMedia(LogicalMediaId(id))),
            state.requests.contains_key(&RequestId(id)).then_some(O::Request(RequestId(id))),
            state
                .operator_requests
                .contains_key(&OperatorRequestId(id))
                .then_some(O::OperatorRequest(OperatorRequestId(id))),
            crate::media_services::media_type(MediaTypeId(id)).map(|t| O::MediaType(t.id)),
        ]
        .into_iter()
        .flatten()
        .next()
    } else {
        // A top-level pool named without its leading backslash.
        state.pool_at(text).map(|p| O::Pool(p.id))
    };
    found.ok_or_else(|| NtmsError::new(ErrorCode::ObjectNotFound, format!("no object named {text}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_nil_ids_go_to_the_rules_unknown_names_get_the_objects_code() {
        let state = State::new();
        assert_eq!(drive_reference(&state, ""), Ok(DriveId::NIL));
        assert_eq!(drive_reference(&state, "00000000-0000-0000-0000-000000000000"), Ok(DriveId::NIL));
        let id = "0192f0c1-0000-7000-8000-000000000001";
        assert_eq!(drive_reference(&state, id).map(|d| d.to_string()), Ok(id.to_string()));
        assert_eq!(drive_reference(&state, "nowhere").map_err(|e| e.kind()), Err(ErrorCode::InvalidDrive));
        assert_eq!(media_reference(&state, "NOPE01L8").map_err(|e| e.kind()), Err(ErrorCode::InvalidMedia));
        assert_eq!(library_reference(&state, "x").map_err(|e| e.kind()), Err(ErrorCode::InvalidLibrary));
        // Regression: a name could shadow another object's id; an id is an id.
        assert_eq!(library_reference(&state, id).map(|l| l.to_string()), Ok(id.to_string()));
    }
}
