//! Object management: attributes, descriptions, the computer's and pools'
//! access lists; and what goes with an object when it leaves.

use super::{pool_mut, Applied};
use crate::error::MissingObject;
use crate::object_management::{attribute_key, governor, InfoField};
use crate::objects::{AccessMask, ObjectRef};
use crate::state::State;

/// The object must exist for anything to be attached to it.
fn exists(state: &State, object: ObjectRef) -> Applied {
    if object == ObjectRef::Computer {
        return Ok(());
    }
    governor(state, object).map(|_| ()).map_err(|_| match object {
        ObjectRef::Pool(id) => MissingObject::Pool(id),
        ObjectRef::Library(id) => MissingObject::Library(id),
        ObjectRef::Drive(id) => MissingObject::Drive(id),
        ObjectRef::Slot(id) => MissingObject::Slot(id),
        ObjectRef::Port(id) => MissingObject::Port(id),
        ObjectRef::Media(id) => MissingObject::Medium(id),
        ObjectRef::Side(id) => MissingObject::Side(id),
        ObjectRef::LogicalMedia(id) => MissingObject::LogicalMedia(id),
        ObjectRef::MediaType(id) => MissingObject::MediaType(id),
        ObjectRef::Request(id) => MissingObject::Request(id),
        ObjectRef::OperatorRequest(id) => MissingObject::OperatorRequest(id),
        // Handled above: the computer always exists.
        ObjectRef::Computer => MissingObject::Session(crate::ids::SessionId::NIL),
    })
}

pub(super) fn attribute_set(state: &mut State, object: ObjectRef, name: &str, value: &[u8]) -> Applied {
    exists(state, object)?;
    let attributes = state.attributes.entry(object).or_default();
    if value.is_empty() {
        attributes.remove(&attribute_key(name));
    } else {
        attributes.insert(attribute_key(name), value.to_vec());
    }
    if attributes.is_empty() {
        state.attributes.remove(&object);
    }
    Ok(())
}

pub(super) fn description_changed(state: &mut State, object: ObjectRef, description: &str) -> Applied {
    exists(state, object)?;
    if description.is_empty() {
        state.descriptions.remove(&object);
    } else {
        state.descriptions.insert(object, description.to_string());
    }
    Ok(())
}

pub(super) fn access_changed(state: &mut State, object: ObjectRef, principal: &str, rights: AccessMask) -> Applied {
    let list = match object {
        ObjectRef::Pool(id) => &mut pool_mut(state, id)?.access,
        _ => &mut state.computer_access,
    };
    if rights.0 == 0 && object != ObjectRef::Computer {
        list.remove(principal);
    } else {
        list.insert(principal.to_string(), rights);
    }
    Ok(())
}

/// A field of an object's information (SetNtmsObjectInformation).
pub(super) fn information_changed(state: &mut State, object: ObjectRef, field: &InfoField) -> Applied {
    exists(state, object)?;
    match (object, field) {
        (ObjectRef::Library(id), InfoField::Name(name)) => {
            let lib = super::library_mut(state, id)?;
            let old = std::mem::replace(&mut lib.name, name.clone());
            state.names.remove(&old);
            state.names.insert(name.clone(), object);
        }
        (ObjectRef::Pool(id), InfoField::Name(name)) => pool_mut(state, id)?.name = name.clone(),
        (ObjectRef::Pool(id), InfoField::PoolMediaType(t)) => pool_mut(state, id)?.media_type = Some(*t),
        (
            ObjectRef::Computer,
            InfoField::LibRequestPurgeTime(_)
            | InfoField::LibRequestFlags(_)
            | InfoField::OpRequestPurgeTime(_)
            | InfoField::OpRequestFlags(_)
            | InfoField::MediaPoolPolicy(_),
        ) => crate::decide::set_computer_field(&mut state.computer, field),
        (ObjectRef::Library(id), InfoField::DoorMaxOpenSecs(secs)) => {
            super::library_mut(state, id)?.door.as_mut().ok_or(MissingObject::Library(id))?.max_open_secs = *secs
        }
        (ObjectRef::Library(id), InfoField::InventoryMethod(m)) => super::library_mut(state, id)?.inventory_method = *m,
        (ObjectRef::Drive(id), InfoField::DeferDismountDelay(delay)) => {
            super::drive_mut(state, id)?.defer_dismount_delay_s = *delay
        }
        (ObjectRef::Media(_) | ObjectRef::Side(_) | ObjectRef::LogicalMedia(_), InfoField::Name(name)) => {
            if name.is_empty() {
                state.object_names.remove(&object);
            } else {
                state.object_names.insert(object, name.clone());
            }
        }
        // The rules let no other pair through; a log that holds one was not
        // written by them.
        (other, field) => {
            return Err(MissingObject::Field { object_type: other.object_type().name(), field: field.name() })
        }
    }
    Ok(())
}

/// Attributes and descriptions of objects that no longer exist go with them.
pub(super) fn forget_departed(state: &mut State) {
    let departed: Vec<ObjectRef> = state
        .attributes
        .keys()
        .chain(state.descriptions.keys())
        .chain(state.object_names.keys())
        .filter(|o| governor(state, **o).is_err())
        .copied()
        .collect();
    for object in departed {
        state.attributes.remove(&object);
        state.descriptions.remove(&object);
        state.object_names.remove(&object);
    }
}
