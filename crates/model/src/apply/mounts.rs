//! Mounts and dismounts: a request's moves between slot and drive, holds
//! and their release, and the operator at a stand-alone drive.

use super::requests::{finish, record_finished, release_robot};
use super::{arrive, drive, drive_mut, element, medium_mut, relocate, request_mut, Applied};
use crate::ids::*;
use crate::media_services::SideState;
use crate::objects::*;
use crate::state::State;

/// A mount of a cartridge already in its drive, recorded passed.
pub(super) fn satisfied_in_place(state: &mut State, request: &LibraryRequest) -> Applied {
    record_finished(state, request);
    let d = drive_mut(state, element(request.drive, request.id, "drive")?)?;
    d.holder = request.session;
    d.state = DriveState::Loaded;
    d.dismount_deadline_ms = None;
    d.mount_count += 1;
    medium_mut(state, request.media)?.state = MediaState::Loaded;
    Ok(())
}

pub(super) fn made_dismountable(
    state: &mut State,
    drive: DriveId,
    deadline_ms: Option<u64>,
    audit: Option<&LibraryRequest>,
) -> Applied {
    if let Some(r) = audit {
        record_finished(state, r);
    }
    let d = drive_mut(state, drive)?;
    d.holder = None;
    d.state = DriveState::Dismountable;
    d.dismount_deadline_ms = deadline_ms;
    if let (Some(m), Some(_)) = (d.medium, audit) {
        medium_mut(state, m)?.state = MediaState::Unloaded;
    }
    Ok(())
}

pub(super) fn hold_released(state: &mut State, drive: DriveId) -> Applied {
    drive_mut(state, drive)?.holder = None;
    Ok(())
}

/// A mount's cartridge reached its drive: the robot is free, the drive loads.
pub(super) fn medium_moved(state: &mut State, request: RequestId) -> Applied {
    moved_into_drive(state, request, RequestPhase::Loading).map(drop)
}

/// A request's cartridge reached its drive: the robot is free, the request
/// is at `next`. Returns the drive.
pub(super) fn moved_into_drive(
    state: &mut State,
    request: RequestId,
    next: RequestPhase,
) -> Result<DriveId, crate::error::MissingObject> {
    let r = request_mut(state, request)?;
    r.phase = Some(next);
    let r = r.clone();
    release_robot(state, &r)?;
    let drive = element(r.drive, request, "drive")?;
    relocate(state, r.media, Location::Drive(drive))?;
    medium_mut(state, r.media)?.state = MediaState::Mounted;
    Ok(drive)
}

/// A dismount's drive unloaded: the cartridge waits for the robot.
pub(super) fn drive_unloaded(state: &mut State, request: RequestId) -> Applied {
    let r = request_mut(state, request)?;
    r.phase = Some(RequestPhase::AwaitingRobot);
    let (d, media) = (r.drive, r.media);
    drive_mut(state, element(d, request, "drive")?)?.state = DriveState::Unloaded;
    medium_mut(state, media)?.state = MediaState::Unloaded;
    Ok(())
}

pub(super) fn mount_completed(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Passed, at_ms)?;
    let d = element(r.drive, request, "drive")?;
    relocate(state, r.media, Location::Drive(d))?;
    let d = drive_mut(state, d)?;
    d.state = DriveState::Loaded;
    d.holder = r.session;
    d.mount_count += 1;
    medium_mut(state, r.media)?.state = MediaState::Loaded;
    Ok(())
}

pub(super) fn dismount_completed(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Passed, at_ms)?;
    relocate(state, r.media, Location::Slot(element(r.slot, request, "slot")?))?;
    medium_mut(state, r.media)?.state = MediaState::Idle;
    Ok(())
}

/// The operator put a cartridge in a stand-alone drive (a new medium when `new`).
pub(super) fn media_inserted(state: &mut State, d: DriveId, media: MediaId, barcode: &str, new: bool) -> Applied {
    if new {
        let library = drive(state, d)?.library;
        // At a stand-alone drive nothing can be classified: the
        // operator's cartridge is taken as prepared free media.
        arrive(state, media, barcode, library, SideState::Available)?;
    }
    relocate(state, media, Location::Drive(d))?;
    drive_mut(state, d)?.state = DriveState::Loaded;
    medium_mut(state, media)?.state = MediaState::Loaded;
    Ok(())
}

/// EjectDiskFromSADrive: recorded, and the cartridge is out of its drive.
pub(super) fn standalone_disk_ejected(state: &mut State, request: &LibraryRequest) -> Applied {
    record_finished(state, request);
    drive_mut(state, element(request.drive, request.id, "drive")?)?.holder = None;
    media_removed(state, request.media)
}

pub(super) fn media_removed(state: &mut State, media: MediaId) -> Applied {
    relocate(state, media, Location::Offline)?;
    medium_mut(state, media)?.state = MediaState::Idle;
    Ok(())
}
