//! Object management: attributes, descriptions, the computer's and pools'
//! access lists; and what goes with an object when it leaves.

use super::{pool_mut, Applied};
use crate::error::MissingObject;
use crate::object_management::{attribute_key, governor};
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

/// Attributes and descriptions of objects that no longer exist go with them.
pub(super) fn forget_departed(state: &mut State) {
    let departed: Vec<ObjectRef> = state
        .attributes
        .keys()
        .chain(state.descriptions.keys())
        .filter(|o| governor(state, **o).is_err())
        .copied()
        .collect();
    for object in departed {
        state.attributes.remove(&object);
        state.descriptions.remove(&object);
    }
}
