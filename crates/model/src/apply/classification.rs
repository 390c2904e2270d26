//! Arrival and classification: label requests queued and given a drive,
//! cartridges classified, free-media labels written.

use super::{drive_mut, forget_medium, mounts, reindex, request_mut, requests, unindex, Applied};
use crate::error::MissingObject;
use crate::ids::*;
use crate::media_labels::{Classification, Omid};
use crate::media_services::*;
use crate::objects::*;
use crate::state::State;

pub(super) fn drive_assigned(state: &mut State, request: RequestId, drive: DriveId) -> Applied {
    request_mut(state, request)?.drive = Some(drive);
    let d = drive_mut(state, drive)?;
    d.reserved_by = Some(request);
    d.dismount_deadline_ms = None;
    Ok(())
}

/// The label request's drive holds the cartridge loaded: reading or writing comes next.
pub(super) fn medium_loaded(state: &mut State, request: RequestId) -> Applied {
    let r = request_mut(state, request)?;
    r.phase = Some(RequestPhase::Labelling);
    let (drive, media) = (r.drive, r.media);
    drive_mut(state, super::element(drive, request, "drive")?)?.state = DriveState::Loaded;
    super::medium_mut(state, media)?.state = MediaState::Loaded;
    Ok(())
}

pub(super) fn media_classified(
    state: &mut State,
    media: MediaId,
    class: &Classification,
    request: Option<RequestId>,
) -> Applied {
    let m = super::medium(state, media)?;
    let pools = SystemPools::of(m.media_type);
    let (pool, sides, omid) = match class {
        Classification::Blank => (pools.free, SideState::Unprepared, None),
        Classification::Free(omid) => (pools.free, SideState::Available, Some(omid)),
        Classification::Import(omid) => (pools.import, SideState::Import, Some(omid)),
        Classification::Foreign => (pools.unrecognized, SideState::Foreign, None),
        Classification::Incompatible => (pools.unrecognized, SideState::Incompatible, None),
    };
    super::pool(state, pool)?;
    unindex(state, media);
    let m = super::medium_mut(state, media)?;
    m.pool = pool;
    for x in &mut m.sides {
        x.state = sides;
        x.omid = omid.cloned().map(Box::new);
    }
    reindex(state, media);
    if let Some(request) = request {
        request_mut(state, request)?.phase = Some(RequestPhase::Unloading);
    }
    Ok(())
}

/// The shelf's medium `known` is the cartridge that arrived as `arrival`:
/// it takes the arrival's physical facts (library, place, home, bar code,
/// the request carrying it) and every element and request that named the
/// arrival names it; the arrival's record is forgotten.
pub(super) fn media_recognized(state: &mut State, arrival: MediaId, known: MediaId, request: RequestId) -> Applied {
    let a = super::medium(state, arrival)?.clone();
    super::medium(state, known)?;
    unindex(state, known);
    forget_medium(state, arrival);
    let arrival_sides: Vec<ObjectRef> =
        a.sides.iter().map(|x| ObjectRef::Side(a.side_id(x.number))).chain([ObjectRef::Media(arrival)]).collect();
    for object in arrival_sides {
        state.attributes.remove(&object);
        state.descriptions.remove(&object);
        state.object_names.remove(&object);
    }
    let k = super::medium_mut(state, known)?;
    let shelf_barcode = std::mem::replace(&mut k.barcode, a.barcode.clone());
    k.library = a.library;
    k.home_slot = a.home_slot;
    k.location = a.location;
    k.state = a.state;
    k.pending_request = a.pending_request;
    state.barcodes.remove(&shelf_barcode);
    state.barcodes.insert(a.barcode.clone(), known);
    let rename = |m: &mut Option<MediaId>| {
        if *m == Some(arrival) {
            *m = Some(known);
        }
    };
    if let Some(lib) = state.libraries.get(&a.library) {
        for s in &lib.slots {
            if let Some(slot) = state.slots.get_mut(s) {
                rename(&mut slot.content);
                rename(&mut slot.home_of);
            }
        }
        for d in &lib.drives {
            if let Some(drive) = state.drives.get_mut(d) {
                rename(&mut drive.medium);
            }
        }
        for p in &lib.ports {
            if let Some(port) = state.ports.get_mut(p) {
                rename(&mut port.content);
            }
        }
    }
    for r in state.requests.values_mut().filter(|r| r.media == arrival) {
        r.media = known;
    }
    request_mut(state, request)?.phase = Some(RequestPhase::Unloading);
    reindex(state, known);
    Ok(())
}

pub(super) fn free_label_written(state: &mut State, request: RequestId, omid: &Omid) -> Applied {
    let r = request_mut(state, request)?;
    r.phase = Some(RequestPhase::Unloading);
    let media = r.media;
    unindex(state, media);
    let m = super::medium_mut(state, media)?;
    for x in m.sides.iter_mut().filter(|x| x.state == SideState::Unprepared) {
        x.state = SideState::Available;
        x.omid = Some(Box::new(omid.clone()));
    }
    reindex(state, media);
    Ok(())
}

/// Home again: as a dismount ends.
pub(super) fn completed(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    mounts::dismount_completed(state, request, at_ms)
}

/// Queued like any request.
pub(super) fn requested(state: &mut State, request: &LibraryRequest) -> Applied {
    if !request.kind.labels() {
        return Err(MissingObject::Request(request.id));
    }
    requests::queued(state, request)
}
