//! The library request life cycle: queued (with what it promises), started,
//! given the robot, finished (passed, failed, cancelled) and purged from the
//! views by count.

use super::{
    drive_mut, element, library_mut, medium, medium_mut, port_mut, rehome, release_home, relocate, request_mut, Applied,
};
use crate::command::Observed;
use crate::error::{ErrorCode, MissingObject};
use crate::ids::*;
use crate::limits;
use crate::objects::*;
use crate::state::State;

/// Puts a new unfinished request in its library's queue and takes what it promises.
pub(super) fn queued(state: &mut State, request: &LibraryRequest) -> Applied {
    let mut r = request.clone();
    r.order = state.next_order;
    state.next_order += 1;
    library_mut(state, r.library)?.active_requests.push(r.id);
    if let Some(d) = r.drive {
        let drive = drive_mut(state, d)?;
        if drive.reserved_by.is_some() {
            drive.next_reserved_by = Some(r.id);
        } else {
            drive.reserved_by = Some(r.id);
        }
        drive.dismount_deadline_ms = None;
    }
    if let Some(p) = r.port {
        port_mut(state, p)?.reserved_by = Some(r.id);
    }
    let m = medium_mut(state, r.media)?;
    m.pending_request = Some(r.id);
    m.state = MediaState::InUse;
    if let Some(slot) = r.slot {
        rehome(state, r.media, slot)?;
    }
    let mount = r.kind == RequestKind::Mount && matches!(r.state, RequestState::Queued | RequestState::Waiting);
    let id = r.id;
    state.requests.insert(id, r);
    if mount {
        super::mount_order::insert(state, id)?;
    }
    Ok(())
}

/// A mount with no drive yet, waiting for one.
pub(super) fn waiting(state: &mut State, request: &LibraryRequest, drive: Option<DriveId>) -> Applied {
    queued(state, request)?;
    if let Some(d) = drive {
        state.waiting_drives.insert(request.id, d);
    }
    Ok(())
}

/// A waiting mount got its drive: promised to it (after the dismount that
/// makes room, if one was queued first), and it is queued.
pub(super) fn waiting_assigned(state: &mut State, request: RequestId, drive: DriveId) -> Applied {
    let r = request_mut(state, request)?;
    r.state = RequestState::Queued;
    r.drive = Some(drive);
    state.waiting_drives.remove(&request);
    let d = drive_mut(state, drive)?;
    if d.reserved_by.is_some() {
        d.next_reserved_by = Some(request);
    } else {
        d.reserved_by = Some(request);
    }
    d.dismount_deadline_ms = None;
    Ok(())
}

pub(super) fn started(state: &mut State, request: RequestId) -> Applied {
    state.deadlines.remove(&request);
    let library = request_mut(state, request)?.library;
    super::mount_order::remove(state, library, request)?;
    let r = request_mut(state, request)?;
    r.state = RequestState::InProcess;
    let (library, id) = (r.library, r.id);
    match r.kind {
        RequestKind::Mount
        | RequestKind::Eject
        | RequestKind::Inject
        | RequestKind::Classify
        | RequestKind::WriteScratch
        | RequestKind::Clean
        | RequestKind::InjectCleaner
        | RequestKind::EjectCleaner => {
            r.phase = Some(RequestPhase::Moving);
            library_mut(state, library)?.robot = Some(id);
        }
        RequestKind::Dismount => r.phase = Some(RequestPhase::Unloading),
    }
    Ok(())
}

/// Back to the queue, in its place: its promises (drive, slot, port, the
/// medium's pending request) stay, the robot is freed if it held it, and
/// the cartridge is where the request found it (the hardware said nothing
/// moved), as when it was queued.
pub(super) fn requeued(state: &mut State, request: RequestId) -> Applied {
    let r = request_mut(state, request)?;
    r.state = RequestState::Queued;
    r.phase = None;
    let r = r.clone();
    if r.kind == RequestKind::Mount {
        super::mount_order::put_first(state, request)?;
    }
    release_robot(state, &r)?;
    let start = match r.kind {
        RequestKind::Mount
        | RequestKind::Eject
        | RequestKind::EjectCleaner
        | RequestKind::Classify
        | RequestKind::WriteScratch
        | RequestKind::Clean => Location::Slot(element(r.slot, request, "slot")?),
        RequestKind::Dismount => Location::Drive(element(r.drive, request, "drive")?),
        RequestKind::Inject | RequestKind::InjectCleaner => Location::Port(element(r.port, request, "port")?),
    };
    relocate(state, r.media, start)?;
    medium_mut(state, r.media)?.state = MediaState::InUse;
    Ok(())
}

pub(super) fn robot_assigned(state: &mut State, request: RequestId) -> Applied {
    let r = request_mut(state, request)?;
    r.phase = Some(RequestPhase::Stowing);
    let (library, id) = (r.library, r.id);
    library_mut(state, library)?.robot = Some(id);
    Ok(())
}

pub(super) fn failed(
    state: &mut State,
    request: RequestId,
    error: ErrorCodeValue,
    sense: Option<Sense>,
    observed: Observed,
    at_ms: u64,
) -> Applied {
    let r = finish(state, request, RequestState::Failed, at_ms)?;
    let q = request_mut(state, request)?;
    q.error = Some(error);
    q.sense = sense;
    let place = match observed {
        Observed::Slot(s) => Location::Slot(s),
        Observed::Drive(d) => Location::Drive(d),
        Observed::Port(p) => Location::Port(p),
        Observed::Missing => Location::Offline,
        Observed::Unknown => medium(state, r.media)?.location,
    };
    relocate(state, r.media, place)?;
    if r.kind.enters() && matches!(place, Location::Port(_)) {
        // Never taken in: the slot promised as its home is free again.
        release_home(state, r.media)?;
    }
    settle_medium(state, r.media)
}

pub(super) fn cancelled(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Cancelled, at_ms)?;
    request_mut(state, request)?.error = Some(ErrorCode::Cancelled.code());
    if r.kind.enters() && matches!(medium(state, r.media)?.location, Location::Port(_)) {
        // Never taken in (found by a hostile run: a stopped inject of a
        // cleaner kept the cleaner slot promised, and jammed it).
        release_home(state, r.media)?;
    }
    settle_medium(state, r.media)
}

/// A mount of an offline medium waits for the operator: the medium is not
/// promised to it meanwhile (an inject or an inventory brings it back).
pub(super) fn awaits_medium(state: &mut State, request: RequestId, operator_request: OperatorRequestId) -> Applied {
    let media = request_mut(state, request)?.media;
    let m = medium_mut(state, media)?;
    m.pending_request = None;
    m.state = MediaState::Idle;
    state.awaiting_media.insert(request, operator_request);
    Ok(())
}

/// The awaited medium is in a slot: promised to the mount, from there.
pub(super) fn awaited_medium_arrived(state: &mut State, request: RequestId) -> Applied {
    let media = request_mut(state, request)?.media;
    let at = match medium(state, media)?.location {
        Location::Slot(s) => Some(s),
        _ => None,
    };
    let m = medium_mut(state, media)?;
    m.pending_request = Some(request);
    m.state = MediaState::InUse;
    request_mut(state, request)?.slot = at;
    state.awaiting_media.remove(&request);
    Ok(())
}

/// The operator refused to bring the medium: the mount fails.
pub(super) fn refused_by_operator(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Failed, at_ms)?;
    request_mut(state, request)?.error = Some(ErrorCode::RequestRefused.code());
    settle_medium(state, r.media)
}

/// NTMS_INVENTORY_STOP: a queued identification is STOPPED.
pub(super) fn stopped(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Stopped, at_ms)?;
    settle_medium(state, r.media)
}

/// A label request whose work was done when its trip home was cut short:
/// passed, its cartridge where it is.
pub(super) fn label_settled(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Passed, at_ms)?;
    settle_medium(state, r.media)
}

/// Its deadline passed before it started: cancelled, its caller told `error`.
pub(super) fn timed_out(state: &mut State, request: RequestId, error: ErrorCodeValue, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Cancelled, at_ms)?;
    request_mut(state, request)?.error = Some(error);
    settle_medium(state, r.media)
}

/// DeleteNtmsRequests: finished requests leave the views at once (the
/// purge by count would take them later).
pub(super) fn deleted(state: &mut State, library: &[RequestId], operator: &[OperatorRequestId]) -> Applied {
    for id in library {
        if state.requests.get(id).is_some_and(|r| r.state.is_terminal()) {
            state.requests.remove(id);
            state.finished.retain(|r| r != id);
            let object = ObjectRef::Request(*id);
            state.attributes.remove(&object);
            state.descriptions.remove(&object);
            state.object_names.remove(&object);
        }
    }
    for id in operator {
        if state.operator_requests.get(id).is_some_and(|r| r.state.is_terminal()) {
            state.operator_requests.remove(id);
            let object = ObjectRef::OperatorRequest(*id);
            state.attributes.remove(&object);
            state.descriptions.remove(&object);
            state.object_names.remove(&object);
        }
    }
    Ok(())
}

/// Records a request that was finished when accepted (audit only).
pub(super) fn record_finished(state: &mut State, request: &LibraryRequest) {
    let mut r = request.clone();
    r.order = state.next_order;
    state.next_order += 1;
    let id = r.id;
    state.requests.insert(id, r);
    retire(state, id);
}

/// A finished request stays in the views until [`limits::FINISHED_REQUESTS_KEPT`]
/// newer ones have finished (spec §5.4's purge, by count: the log keeps the
/// whole history; the projection, its snapshots and start-up stay bounded).
fn retire(state: &mut State, id: RequestId) {
    state.finished.push_back(id);
    while state.finished.len() > limits::FINISHED_REQUESTS_KEPT {
        if let Some(old) = state.finished.pop_front() {
            state.requests.remove(&old);
            state.attributes.remove(&ObjectRef::Request(old));
            state.descriptions.remove(&ObjectRef::Request(old));
            state.object_names.remove(&ObjectRef::Request(old));
        }
    }
}

/// The robot is free again once the request holding it moves on.
pub(super) fn release_robot(state: &mut State, r: &LibraryRequest) -> Applied {
    let lib = library_mut(state, r.library)?;
    if lib.robot == Some(r.id) {
        lib.robot = None;
    }
    Ok(())
}

/// Ends a request: terminal state, out of the queue, promises released.
pub(super) fn finish(
    state: &mut State,
    request: RequestId,
    to: RequestState,
    at_ms: u64,
) -> Result<LibraryRequest, MissingObject> {
    let r = request_mut(state, request)?;
    r.state = to;
    r.phase = None;
    r.time_completed_ms = Some(at_ms);
    let r = r.clone();
    state.deadlines.remove(&request);
    state.awaiting_media.remove(&request);
    state.waiting_drives.remove(&request);
    super::mount_order::remove(state, r.library, request)?;
    retire(state, request);
    release_robot(state, &r)?;
    library_mut(state, r.library)?.active_requests.retain(|q| *q != request);
    if let Some(p) = r.port {
        let port = port_mut(state, p)?;
        if port.reserved_by == Some(request) {
            port.reserved_by = None;
        }
    }
    if let Some(d) = r.drive {
        let drive = drive_mut(state, d)?;
        if drive.reserved_by == Some(request) {
            drive.reserved_by = drive.next_reserved_by.take();
        } else if drive.next_reserved_by == Some(request) {
            drive.next_reserved_by = None;
        }
    }
    let m = medium_mut(state, r.media)?;
    if m.pending_request == Some(request) {
        m.pending_request = None;
    }
    Ok(r)
}

/// After a failure or a cancellation: the medium's state follows where it is.
fn settle_medium(state: &mut State, media: MediaId) -> Applied {
    let m = medium_mut(state, media)?;
    match m.location {
        Location::Drive(d) => {
            m.state = MediaState::Loaded;
            let drive = drive_mut(state, d)?;
            if drive.holder.is_none() {
                // Released and left in the drive: an operator or DismountDrive takes it out.
                drive.state = DriveState::Dismountable;
            }
        }
        _ => m.state = MediaState::Idle,
    }
    Ok(())
}
