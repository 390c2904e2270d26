//! The door's events: unlocked, closed, the inventory that settles the
//! slots the operator may have touched.

use super::*;

fn door_mut(state: &mut State, library: LibraryId) -> Result<&mut Door, MissingObject> {
    library_mut(state, library)?.door.as_mut().ok_or(MissingObject::Library(library))
}

/// The access waits for the robot.
pub(super) fn access_queued(state: &mut State, library: LibraryId, inventory: InventoryMethod) -> Applied {
    door_mut(state, library)?.access_pending = Some(inventory);
    Ok(())
}

/// Open: every slot needs an inventory until one after the door closes.
pub(super) fn unlocked(state: &mut State, library: LibraryId, inventory: InventoryMethod, at_ms: u64) -> Applied {
    let door = door_mut(state, library)?;
    door.state = DoorState::Open;
    door.access_pending = None;
    door.inventory_after = inventory;
    door.opened_ms = Some(at_ms);
    door.close_request = None;
    let lib = library_mut(state, library)?;
    lib.inventory_due = true;
    let slots = lib.slots.clone();
    for s in slots {
        slot_mut(state, s)?.state = SlotState::NeedsInventory;
    }
    Ok(())
}

/// The inventory taken when the door closes.
pub(super) fn inventory_chosen(state: &mut State, library: LibraryId, method: InventoryMethod) -> Applied {
    door_mut(state, library)?.inventory_after = method;
    Ok(())
}

/// Closed: with no inventory to take, the slots are what the views say.
pub(super) fn closed(state: &mut State, library: LibraryId) -> Applied {
    let door = door_mut(state, library)?;
    door.state = DoorState::Closed;
    door.opened_ms = None;
    if door.inventory_after == InventoryMethod::None {
        inventory_completed(state, library)?;
    }
    Ok(())
}

/// The operator request raised for a door left open.
pub(super) fn left_open(state: &mut State, library: LibraryId, request: OperatorRequestId) -> Applied {
    door_mut(state, library)?.close_request = Some(request);
    Ok(())
}

/// Every slot FULL or EMPTY as its content says.
pub(super) fn inventory_completed(state: &mut State, library: LibraryId) -> Applied {
    let lib = library_mut(state, library)?;
    lib.inventory_due = false;
    let slots = lib.slots.clone();
    for s in slots {
        let slot = slot_mut(state, s)?;
        if slot.state == SlotState::NeedsInventory {
            slot.state = if slot.content.is_some() { SlotState::Full } else { SlotState::Empty };
        }
    }
    Ok(())
}
