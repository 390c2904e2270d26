//! Libraries: created, attached from a device, deleted; enabled and
//! disabled objects, access rights.

use super::{
    arrive, drive_mut, ensure_system_pools, forget_medium, library_mut, medium, medium_mut, release_home, relocate,
    slot_mut, Applied,
};
use crate::error::MissingObject;
use crate::event::LibraryTopology;
use crate::ids::*;
use crate::media_services::SideState;
use crate::objects::*;
use crate::state::State;

/// A library with its elements and cartridges, each cartridge in its home
/// slot (or offline when it has none).
pub(super) fn created(state: &mut State, t: &LibraryTopology, creator: &str) -> Applied {
    ensure_system_pools(state, t.media_type)?;
    let mut lib = Library::new(t.id, &t.name, t.kind, t.defer_dismount_delay_s, creator, t.media_type);
    lib.drives = t.drives.iter().map(|d| d.0).collect();
    lib.slots = t.slots.iter().map(|s| s.0).collect();
    lib.ports = t.ports.iter().map(|p| p.0).collect();
    state.names.insert(t.name.clone(), ObjectRef::Library(t.id));
    state.libraries.insert(t.id, lib);
    for (id, name, address) in &t.drives {
        state.names.insert(name.clone(), ObjectRef::Drive(*id));
        state.drives.insert(*id, Drive::new(*id, name, t.id, *address, t.media_type));
    }
    for (id, name, address) in &t.slots {
        state.names.insert(name.clone(), ObjectRef::Slot(*id));
        state.slots.insert(*id, Slot::new(*id, name, t.id, *address));
    }
    for (id, name, address) in &t.ports {
        state.names.insert(name.clone(), ObjectRef::Port(*id));
        state.ports.insert(*id, Port::new(*id, name, t.id, *address));
    }
    for (id, barcode, home) in &t.media {
        // A cartridge adopted from the offline library keeps its pool and sides.
        let sides = if t.unlabelled.contains(id) { SideState::Unknown } else { SideState::Available };
        arrive(state, *id, barcode, t.id, sides)?;
        if let Some(home) = *home {
            let s = slot_mut(state, home)?;
            s.content = Some(*id);
            s.home_of = Some(*id);
            s.state = SlotState::Full;
            let cartridge = medium_mut(state, *id)?;
            cartridge.home_slot = Some(home);
            cartridge.location = Location::Slot(home);
            cartridge.state = MediaState::Idle;
        }
    }
    Ok(())
}

/// A library found on a device: created, then the cartridges seen in drives
/// are put there.
pub(super) fn attached(
    state: &mut State,
    topology: &LibraryTopology,
    in_drives: &[(MediaId, DriveId)],
    device: &str,
    creator: &str,
) -> Applied {
    created(state, topology, creator)?;
    library_mut(state, topology.id)?.device = Some(device.to_string());
    for (media, drive) in in_drives {
        place_in_drive(state, *media, *drive)?;
    }
    Ok(())
}

/// A cartridge found in a drive at attach: it leaves the home slot
/// `created` put it in (which stays reserved for it) and sits in the
/// drive, loaded and held by nobody.
fn place_in_drive(state: &mut State, media: MediaId, drive: DriveId) -> Applied {
    if let Location::Slot(slot) = medium(state, media)?.location {
        let s = slot_mut(state, slot)?;
        s.content = None;
        s.state = SlotState::Empty;
    }
    let m = medium_mut(state, media)?;
    m.location = Location::Drive(drive);
    m.state = MediaState::Loaded;
    let d = drive_mut(state, drive)?;
    d.medium = Some(media);
    d.state = DriveState::Loaded;
    Ok(())
}

pub(super) fn access_granted(state: &mut State, library: LibraryId, principal: &str, rights: AccessMask) -> Applied {
    let lib = library_mut(state, library)?;
    let mask = lib.access.entry(principal.to_string()).or_default();
    *mask = mask.with(rights);
    Ok(())
}

pub(super) fn access_revoked(state: &mut State, library: LibraryId, principal: &str, rights: AccessMask) -> Applied {
    let lib = library_mut(state, library)?;
    if let Some(mask) = lib.access.get_mut(principal) {
        *mask = mask.without(rights);
        if mask.0 == 0 {
            lib.access.remove(principal);
        }
    }
    Ok(())
}

pub(super) fn enabled_changed(state: &mut State, object: ObjectRef, enabled: bool) -> Applied {
    match object {
        ObjectRef::Library(id) => library_mut(state, id)?.enabled = enabled,
        ObjectRef::Drive(id) => drive_mut(state, id)?.enabled = enabled,
        ObjectRef::Media(id) => medium_mut(state, id)?.enabled = enabled,
        // Only libraries, drives and media have an Enabled flag; `decide`
        // records no such event for the others.
        ObjectRef::Slot(_)
        | ObjectRef::Port(_)
        | ObjectRef::Pool(_)
        | ObjectRef::Side(_)
        | ObjectRef::LogicalMedia(_)
        | ObjectRef::MediaType(_)
        | ObjectRef::Request(_)
        | ObjectRef::OperatorRequest(_)
        | ObjectRef::Computer => {}
    }
    Ok(())
}

pub(super) fn deletion_started(state: &mut State, library: LibraryId) -> Applied {
    library_mut(state, library)?.deleting = true;
    Ok(())
}

/// The library, its elements and its media leave the views.
pub(super) fn deleted(state: &mut State, library: LibraryId) -> Applied {
    let lib = state.libraries.remove(&library).ok_or(MissingObject::Library(library))?;
    state.names.remove(&lib.name);
    for (_, watched) in state.change_detections.values_mut() {
        watched.remove(&library);
    }
    for id in &lib.drives {
        let d = state.drives.remove(id).ok_or(MissingObject::Drive(*id))?;
        state.names.remove(&d.name);
    }
    for id in &lib.slots {
        let s = state.slots.remove(id).ok_or(MissingObject::Slot(*id))?;
        state.names.remove(&s.name);
    }
    for id in &lib.ports {
        let p = state.ports.remove(id).ok_or(MissingObject::Port(*id))?;
        state.names.remove(&p.name);
    }
    // Its finished requests name elements that no longer exist: they leave
    // the views (the log keeps their history), as a purge would take them.
    state.finished.retain(|r| state.requests.get(r).is_none_or(|q| q.library != library));
    state.requests.retain(|_, q| q.library != library);
    // Logs written before media moved to the offline library on deletion.
    let gone: Vec<MediaId> = state.media.values().filter(|m| m.library == library).map(|m| m.id).collect();
    for id in gone {
        forget_medium(state, id);
    }
    Ok(())
}

/// Its library was deleted: the medium goes to the offline library, idle,
/// with no home slot.
pub(super) fn media_moved_offline(state: &mut State, media: MediaId) -> Applied {
    relocate(state, media, Location::Offline)?;
    release_home(state, media)?;
    let m = medium_mut(state, media)?;
    m.state = MediaState::Idle;
    m.library = LibraryId::OFFLINE;
    m.pending_request = None;
    Ok(())
}
