//! Inventory: what a reading of the library's elements found.

use super::{arrive, drive_mut, medium, medium_mut, port_mut, relocate, slot, slot_mut, Applied};
use crate::ids::*;
use crate::media_services::SideState;
use crate::objects::*;
use crate::state::State;

/// A cartridge rsm did not know: a new medium of the library.
pub(super) fn appeared(
    state: &mut State,
    media: MediaId,
    barcode: &str,
    library: LibraryId,
    at: Location,
    home: Option<SlotId>,
) -> Applied {
    // Unknown until classified (spec §7.2).
    arrive(state, media, barcode, library, SideState::Unknown)?;
    if let Some(h) = home {
        take_home(state, media, h)?;
    }
    found_at(state, media, at)
}

/// A known cartridge seen nowhere: offline, its home kept.
pub(super) fn vanished(state: &mut State, media: MediaId) -> Applied {
    relocate(state, media, Location::Offline)?;
    medium_mut(state, media)?.state = MediaState::Idle;
    Ok(())
}

/// Inventory placed a cartridge: in a slot (which becomes its home), in a
/// drive (loaded, held by nobody) or offline.
pub(super) fn found_at(state: &mut State, media: MediaId, at: Location) -> Applied {
    if let Location::Slot(s) = at {
        take_home(state, media, s)?;
    }
    relocate(state, media, at)?;
    match at {
        Location::Drive(d) => {
            medium_mut(state, media)?.state = MediaState::Loaded;
            drive_mut(state, d)?.state = DriveState::Loaded;
        }
        _ => medium_mut(state, media)?.state = MediaState::Idle,
    }
    Ok(())
}

/// Makes `home` the medium's home; the slot's former owner, if another
/// medium, takes the medium's old home (or none).
fn take_home(state: &mut State, media: MediaId, home: SlotId) -> Applied {
    let old = medium(state, media)?.home_slot;
    if old == Some(home) {
        return Ok(());
    }
    let owner = slot(state, home)?.home_of;
    if let Some(o) = old {
        slot_mut(state, o)?.home_of = None;
    }
    if let Some(y) = owner.filter(|y| *y != media) {
        medium_mut(state, y)?.home_slot = old;
        if let Some(o) = old {
            slot_mut(state, o)?.home_of = Some(y);
        }
    }
    slot_mut(state, home)?.home_of = Some(media);
    medium_mut(state, media)?.home_slot = Some(home);
    Ok(())
}

/// An unlabeled or foreign cartridge was seen at `address`: at a port, the
/// port is full of something the catalog does not hold.
pub(super) fn stranger_found(state: &mut State, library: LibraryId, address: u16) -> Applied {
    if let Some(port) = state.ports.values_mut().find(|p| p.library == library && p.element_address == address) {
        port.stranger = true;
    }
    Ok(())
}

/// A reading found empty a port that held a stranger.
pub(super) fn port_found_empty(state: &mut State, port: PortId) -> Applied {
    port_mut(state, port)?.stranger = false;
    Ok(())
}
