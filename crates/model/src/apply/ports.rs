//! Ejects and injects through the import/export ports, and the operator
//! taking an ejected cartridge.

use super::requests::{finish, queued};
use super::{arrive, element, medium_mut, release_home, relocate, Applied};
use crate::ids::*;
use crate::media_services::SideState;
use crate::objects::*;
use crate::state::State;

/// A cartridge in a port queued for an inject: known from now on (a new
/// medium when `new`), of the inject's library, in the port.
pub(super) fn inject_requested(state: &mut State, request: &LibraryRequest, barcode: &str, new: bool) -> Applied {
    if new {
        // Unknown until classified at home (spec §7.2).
        arrive(state, request.media, barcode, request.library, SideState::Unknown)?;
        if request.kind == RequestKind::InjectCleaner {
            super::cleaning::make_cleaner(state, request.media)?;
        }
    }
    // A cartridge back from the shelf may come from another library.
    medium_mut(state, request.media)?.library = request.library;
    if let Some(port) = request.port {
        relocate(state, request.media, Location::Port(port))?;
    }
    queued(state, request)
}

pub(super) fn eject_completed(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Passed, at_ms)?;
    relocate(state, r.media, Location::Port(element(r.port, request, "port")?))?;
    medium_mut(state, r.media)?.state = MediaState::Idle;
    if r.kind == RequestKind::EjectCleaner {
        // Out of the library: the cleaner slot is free for the next one.
        super::release_home(state, r.media)?;
        super::cleaning::gone(state, r.media);
    }
    Ok(())
}

pub(super) fn inject_completed(state: &mut State, request: RequestId, at_ms: u64) -> Applied {
    let r = finish(state, request, RequestState::Passed, at_ms)?;
    relocate(state, r.media, Location::Slot(element(r.slot, request, "slot")?))?;
    medium_mut(state, r.media)?.state = MediaState::Idle;
    if r.kind == RequestKind::InjectCleaner {
        super::cleaning::installed(state, r.library, r.media)?;
    }
    Ok(())
}

/// The operator took the cartridge: it goes to the shelf and gives up its home.
pub(super) fn taken_from_port(state: &mut State, media: MediaId) -> Applied {
    relocate(state, media, Location::Offline)?;
    release_home(state, media)?;
    medium_mut(state, media)?.state = MediaState::Idle;
    Ok(())
}
