//! `rsm door`, `rsm inventory`, `rsm identify` and the simulator's operator
//! at the door (`rsm sim door`): AccessNtmsLibraryDoor, InventoryNtmsLibrary
//! and IdentifyNtmsSlot.

use crate::cli::{DoorCmd, DoorInventory, InventoryChoice, SimDoorCmd};
use crate::render::{self, done};
use crate::sim::device_error;
use crate::{resolve, Failure, Outcome};
use rsm::*;

/// `rsm inventory LIBRARY [--method M] [--wait]`.
pub async fn inventory(
    engine: &Engine,
    user: &str,
    library: &str,
    method: InventoryChoice,
    wait: bool,
    json: bool,
) -> Outcome {
    let id = resolve::library(engine, library).await?;
    let session = engine.session_for(user).await?;
    let action = match method {
        InventoryChoice::Fast => InventoryMethod::Fast.ntms_value(),
        InventoryChoice::Omid => InventoryMethod::Omid.ntms_value(),
        InventoryChoice::Default => InventoryMethod::Default.ntms_value(),
        InventoryChoice::Stop => INVENTORY_STOP,
    };
    let accepted = session.inventory_by(id, action).await?;
    for e in &accepted.events {
        match e {
            Event::InventoryStopped { requests, .. } => {
                return done(json, &format!("{} identifications of library {library} stopped", requests.len()))
            }
            Event::DoorInventoryChosen { method, .. } => {
                let text = format!(
                    "the door of library {library} is open: {} is taken when it closes",
                    inventory_words(*method)
                );
                return done(json, &text);
            }
            _ => {}
        }
    }
    if matches!(method, InventoryChoice::Stop) {
        return done(json, &format!("no identification of library {library} was waiting"));
    }
    render::inventory(engine, library, accepted.events, wait, json).await
}

/// An inventory method in a sentence.
fn inventory_words(method: InventoryMethod) -> &'static str {
    match method {
        InventoryMethod::None => "no inventory (the views are trusted)",
        InventoryMethod::Fast => "a fast inventory",
        InventoryMethod::Omid => "an OMID inventory",
        InventoryMethod::Default => "the library's inventory",
    }
}

fn door_action(choice: DoorInventory) -> u32 {
    match choice {
        DoorInventory::None => InventoryMethod::None,
        DoorInventory::Fast => InventoryMethod::Fast,
        DoorInventory::Omid => InventoryMethod::Omid,
        DoorInventory::Default => InventoryMethod::Default,
    }
    .ntms_value()
}

/// `rsm door open|close LIBRARY`.
pub async fn door(engine: &Engine, user: &str, cmd: &DoorCmd, json: bool) -> Outcome {
    match cmd {
        DoorCmd::Open { library, inventory } => {
            let id = resolve::library(engine, library).await?;
            let session = engine.session_for(user).await?;
            let accepted = session.access_door(id, door_action(*inventory)).await?;
            let text = accepted
                .events
                .iter()
                .find_map(|e| match e {
                    Event::DoorUnlocked { inventory, .. } => Some(format!(
                        "the door of library {library} is open; once it closes {} is taken",
                        inventory_words(*inventory)
                    )),
                    Event::DoorAccessQueued { .. } => Some(format!(
                        "the robot of library {library} finishes its moves, then the door opens (rsm run)"
                    )),
                    Event::DoorInventoryChosen { method, .. } => Some(format!(
                        "the door of library {library} is already open; once it closes {} is taken",
                        inventory_words(*method)
                    )),
                    _ => None,
                })
                .unwrap_or_default();
            done(json, &text)
        }
        DoorCmd::Close { library } => close(engine, user, library, json).await,
    }
}

async fn close(engine: &Engine, user: &str, library: &str, json: bool) -> Outcome {
    let id = resolve::library(engine, library).await?;
    let session = engine.session_for(user).await?;
    let (_, inventory) = session.close_door(id).await?;
    match inventory {
        Some(accepted) => render::inventory(engine, library, accepted.events, false, json).await,
        None => done(json, &format!("the door of library {library} is closed")),
    }
}

/// `rsm identify SLOT`: synchronous, as IdentifyNtmsSlot is.
pub async fn identify(engine: &Engine, user: &str, slot: &str, json: bool) -> Outcome {
    let id = resolve::slot(engine, slot).await?;
    let session = engine.session_for(user).await?;
    match session.identify_slot(id, 0).await? {
        Some(handle) => render::request(engine, handle.id(), true, json).await,
        None => done(json, &format!("slot {slot} is empty: nothing to identify")),
    }
}

/// A slot's library and element address, by name or id.
async fn slot_place(engine: &Engine, slot: &str) -> Result<(LibraryId, u16), Failure> {
    let id = resolve::slot(engine, slot).await?;
    engine.query(move |s| s.slots.get(&id).map(|x| (x.library, x.element_address))).await?.ok_or_else(|| {
        Failure::Rejected(NtmsError::new(ErrorCode::ObjectNotFound, format!("no storage slot named {slot}")))
    })
}

/// The operator's hands reach the slots only through an open door; the
/// answer is what records their work (found by a hostile run: with no
/// inventory chosen, the message promised one).
async fn door_must_be_open(engine: &Engine, library: LibraryId) -> Result<&'static str, Failure> {
    let (open, after, name) = engine
        .query(move |s| {
            s.libraries
                .get(&library)
                .map(|l| (l.door_open(), l.door.as_ref().map(|d| d.inventory_after), l.name.clone()))
                .unwrap_or_default()
        })
        .await?;
    if open {
        return Ok(match after {
            Some(InventoryMethod::None) => "no inventory follows the door's close: rsm inventory records it",
            _ => "the inventory after the door closes records it",
        });
    }
    Err(Failure::Rejected(NtmsError::new(
        ErrorCode::InvalidState,
        format!("the door of library {name} is locked: rsm door open {name} first"),
    )))
}

/// `rsm sim door close|put|take`: the operator at a simulated library's door.
pub async fn sim_door(engine: &Engine, user: &str, cmd: &SimDoorCmd, json: bool) -> Outcome {
    let operator = engine.session_for(user).await?;
    match cmd {
        SimDoorCmd::Close { library } => {
            let id = resolve::existing_library(engine, library).await?;
            operator.simulator(id).await?;
            close(engine, user, library, json).await
        }
        SimDoorCmd::Put { slot, barcode } => {
            crate::sim::check_barcode(barcode)?;
            let (library, address) = slot_place(engine, slot).await?;
            let then = door_must_be_open(engine, library).await?;
            let sim = operator.simulator(library).await?;
            sim.operator_put_in_slot(address, barcode).map_err(device_error)?;
            done(json, &format!("{barcode} is in {slot}; {then}"))
        }
        SimDoorCmd::Take { slot } => {
            let (library, address) = slot_place(engine, slot).await?;
            let then = door_must_be_open(engine, library).await?;
            let sim = operator.simulator(library).await?;
            let barcode = sim.operator_take_from_slot(address).map_err(device_error)?;
            done(json, &format!("{barcode} taken out of {slot}; {then}"))
        }
    }
}
