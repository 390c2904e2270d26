//! Cleaner management: the cleaner slot, the cleaner, and a cleaning's
//! steps (the cleaner into the drive, the drive cleaned, the cleaner home).

use super::requests::{finish, queued, record_finished};
use super::{
    arrive, drive_mut, element, library_mut, medium, medium_mut, rehome, relocate, request_mut, unindex, Applied,
};
use crate::ids::*;
use crate::media_services::SideState;
use crate::objects::*;
use crate::state::State;

pub(super) fn slot_reserved(state: &mut State, library: LibraryId, slot: SlotId) -> Applied {
    super::slot(state, slot)?;
    library_mut(state, library)?.cleaner_slot = Some(slot);
    Ok(())
}

pub(super) fn slot_released(state: &mut State, library: LibraryId) -> Applied {
    let lib = library_mut(state, library)?;
    lib.cleaner_slot = None;
    lib.cleaner_expected = None;
    Ok(())
}

pub(super) fn expected(state: &mut State, library: LibraryId, cleans: u32) -> Applied {
    library_mut(state, library)?.cleaner_expected = Some(cleans);
    Ok(())
}

/// A new cartridge becomes a cleaner: it has no sides.
pub(super) fn make_cleaner(state: &mut State, media: MediaId) -> Applied {
    unindex(state, media);
    let m = medium_mut(state, media)?;
    let sides: Vec<SideId> = m.sides.iter().map(|x| m.side_id(x.number)).collect();
    m.sides.clear();
    for side in sides {
        state.sides.remove(&side);
    }
    Ok(())
}

/// The cleaner is in its slot: the library's, with the uses announced
/// (unlimited when nobody said).
pub(super) fn installed(state: &mut State, library: LibraryId, media: MediaId) -> Applied {
    medium(state, media)?;
    let lib = library_mut(state, library)?;
    lib.cleaner = Some(media);
    lib.cleaner_uses_remaining = lib.cleaner_expected.take().unwrap_or(CLEANER_USES_UNLIMITED);
    Ok(())
}

/// A reading found the cleaner in the cleaner slot.
pub(super) fn found(state: &mut State, library: LibraryId, media: MediaId, barcode: &str) -> Applied {
    let slot = super::library(state, library)?.cleaner_slot.ok_or(crate::error::MissingObject::Library(library))?;
    arrive(state, media, barcode, library, SideState::Unknown)?;
    make_cleaner(state, media)?;
    rehome(state, media, slot)?;
    relocate(state, media, Location::Slot(slot))?;
    medium_mut(state, media)?.state = MediaState::Idle;
    installed(state, library, media)
}

/// The cleaner left the library (ejected, taken out, deleted).
pub(super) fn gone(state: &mut State, media: MediaId) {
    for lib in state.libraries.values_mut().filter(|l| l.cleaner == Some(media)) {
        lib.cleaner = None;
        lib.cleaner_uses_remaining = 0;
    }
}

pub(super) fn wanted(state: &mut State, drive: DriveId, submitter: &str, at_ms: u64) -> Applied {
    drive_mut(state, drive)?.cleaning_wanted =
        Some(CleaningWanted { submitter: submitter.to_string(), since_ms: at_ms, operator_request: None });
    Ok(())
}

pub(super) fn cleaner_awaited(state: &mut State, drive: DriveId, operator_request: OperatorRequestId) -> Applied {
    super::operator_request(state, operator_request)?;
    if let Some(w) = drive_mut(state, drive)?.cleaning_wanted.as_mut() {
        w.operator_request = Some(operator_request);
    }
    Ok(())
}

pub(super) fn refused(state: &mut State, drive: DriveId) -> Applied {
    drive_mut(state, drive)?.cleaning_wanted = None;
    Ok(())
}

/// The cleaning request: queued (the wanted cleaning is now a request), or
/// recorded failed (a spent cleaner: the cleaning stays wanted).
pub(super) fn clean_queued(state: &mut State, request: &LibraryRequest) -> Applied {
    if request.state.is_terminal() {
        record_finished(state, request);
        return Ok(());
    }
    queued(state, request)?;
    drive_mut(state, element(request.drive, request.id, "drive")?)?.cleaning_wanted = None;
    Ok(())
}

/// The robot put the cleaner in the drive, which cleans.
pub(super) fn cleaner_loaded(state: &mut State, request: RequestId) -> Applied {
    let drive = super::mounts::moved_into_drive(state, request, RequestPhase::Cleaning)?;
    drive_mut(state, drive)?.state = DriveState::BeingCleaned;
    Ok(())
}

/// The drive is clean and ejected the cleaner, one use less.
pub(super) fn drive_cleaned(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = request_mut(state, request)?;
    r.phase = Some(RequestPhase::AwaitingRobot);
    let r = r.clone();
    drive_mut(state, element(r.drive, request, "drive")?)?.last_cleaned_ms = Some(at_ms);
    medium_mut(state, r.media)?.state = MediaState::Unloaded;
    let lib = library_mut(state, r.library)?;
    if lib.cleaner == Some(r.media) && lib.cleaner_uses_remaining != CLEANER_USES_UNLIMITED {
        lib.cleaner_uses_remaining = lib.cleaner_uses_remaining.saturating_sub(1);
    }
    Ok(())
}

/// The cleaner is home: the cleaning passed.
pub(super) fn completed(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Passed, at_ms)?;
    relocate(state, r.media, Location::Slot(element(r.slot, request, "slot")?))?;
    medium_mut(state, r.media)?.state = MediaState::Idle;
    Ok(())
}

pub(super) fn standalone_cleaned(state: &mut State, drive: DriveId, at_ms: u64) -> Applied {
    drive_mut(state, drive)?.last_cleaned_ms = Some(at_ms);
    Ok(())
}
