//! Object management (spec §3.6): extended attributes, descriptions and the
//! security of the computer and of pools (a library's is `libraries`').
//! The reads are pure functions of `crate::object_management`.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::limits;
use crate::object_management::*;
use crate::objects::*;

impl<'a> Ctx<'a> {
    /// SetNtmsObjectInformation's other writable fields. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the object exists (ERROR_OBJECT_NOT_FOUND);
    /// 3. the field is one its type has (ERROR_INVALID_PARAMETER: a name on
    ///    a library, a pool, a medium, a side or a logical medium; a
    ///    deferral delay on a drive; a media type on a pool), well formed
    ///    (a library's name by the name rules, ERROR_INVALID_PARAMETER; a
    ///    pool's one level of a pool path or another's 1 to 63 printable
    ///    characters, ERROR_INVALID_NAME; a media type of the catalog,
    ///    ERROR_INVALID_PARAMETER);
    /// 4. CONTROL on a library, MODIFY over anything else, through its
    ///    governing container (ERROR_ACCESS_DENIED);
    /// 5. a system pool keeps its name and type (ERROR_INVALID_MEDIA_POOL);
    ///    a library's new name is no other object's, a pool's none of its
    ///    siblings' (ERROR_ALREADY_EXISTS); a pool changes its type only
    ///    while it holds no media and no pools (ERROR_INVALID_STATE).
    ///
    /// Writing what is already there records nothing.
    pub(super) fn set_object_information(
        &self,
        session: SessionId,
        object: ObjectRef,
        field: &InfoField,
    ) -> Result<Vec<Event>, NtmsError> {
        use crate::objects::ObjectRef as O;
        let s = self.session(session)?;
        governor(self.state, object)?;
        let unchanged = match (object, field) {
            (O::Library(id), InfoField::Name(name)) => {
                super::check_name(name)?;
                self.state.libraries[&id].name == *name
            }
            (O::Pool(id), InfoField::Name(name)) => {
                if super::media_services::pool_levels(name)?.len() != 1 || name.starts_with('\\') {
                    return reject(E::InvalidName, format!("{name:?} is one level of a pool path, without \\"));
                }
                self.state.pools[&id].name == *name
            }
            (O::Media(_) | O::Side(_) | O::LogicalMedia(_), InfoField::Name(name)) => {
                let plain = name.chars().count() <= limits::NAME_LEN_MAX
                    && name.chars().all(|c| c == ' ' || limits::is_plain(c))
                    && name.trim() == name;
                if !plain {
                    return reject(
                        E::InvalidName,
                        format!(
                            "a name has at most {} printable characters, no leading or trailing space",
                            limits::NAME_LEN_MAX
                        ),
                    );
                }
                let unchanged = self.state.object_names.get(&object).map_or("", String::as_str) == name;
                // Found by a hostile run: a cartridge could be named like
                // another cartridge, a library or a pool, and then not be
                // found by that name. A name answers for one object only.
                if !name.is_empty() && !unchanged {
                    if name.contains('\\')
                        || name.eq_ignore_ascii_case("computer")
                        || crate::media_services::media_type_named(name).is_some()
                        || uuid::Uuid::parse_str(name).is_ok()
                    {
                        return reject(
                            E::InvalidName,
                            format!("{name:?} reads as a pool path, the computer, a media type or an id"),
                        );
                    }
                    if self.name_taken(name) {
                        return reject(E::AlreadyExists, format!("an object named {name} exists"));
                    }
                }
                unchanged
            }
            (O::Drive(id), InfoField::DeferDismountDelay(delay)) => {
                if delay.is_some_and(|d| d > limits::DEFER_DISMOUNT_DELAY_S_MAX) {
                    return reject(
                        E::InvalidParameter,
                        format!("a deferral delay is at most {} seconds", limits::DEFER_DISMOUNT_DELAY_S_MAX),
                    );
                }
                self.state.drives[&id].defer_dismount_delay_s == *delay
            }
            (O::Computer, field) if computer_field(field).is_some() => {
                let (value, known) = computer_field(field).expect("matched by the guard");
                if value & !known != 0 {
                    return reject(
                        E::InvalidParameter,
                        format!("{} {value:#x} holds flags rsm does not know", field.name()),
                    );
                }
                let mut after = self.state.computer;
                set_computer_field(&mut after, field);
                after == self.state.computer
            }
            (O::Library(id), InfoField::DoorMaxOpenSecs(secs)) => match &self.state.libraries[&id].door {
                Some(door) => door.max_open_secs == *secs,
                None => {
                    let name = &self.state.libraries[&id].name;
                    return reject(E::ResourceNotPresent, format!("library {name} has no door"));
                }
            },
            (O::Library(id), InfoField::InventoryMethod(m)) => {
                if !matches!(m, crate::objects::InventoryMethod::Fast | crate::objects::InventoryMethod::Omid) {
                    return reject(E::InvalidParameter, "a library's inventory method is FAST or OMID");
                }
                self.state.libraries[&id].inventory_method == *m
            }
            (O::Pool(id), InfoField::PoolMediaType(t)) => {
                if crate::media_services::media_type(*t).is_none() {
                    return reject(E::InvalidParameter, format!("{t} is not a media type of the catalog"));
                }
                self.state.pools[&id].media_type == Some(*t)
            }
            _ => {
                return reject(
                    E::InvalidParameter,
                    format!("{} has no writable {}", object.object_type().name(), field.name()),
                )
            }
        };
        let right = if matches!(object, O::Library(_)) { AccessMask::CONTROL } else { AccessMask::MODIFY };
        require_over(self.state, self.policy, &s.principal, object, right, "change its information")?;
        if let O::Pool(id) = object {
            let pool = &self.state.pools[&id];
            if pool.is_system() {
                return reject(E::InvalidMediaPool, format!("{} is a system pool", self.state.pool_path(id)));
            }
            match field {
                InfoField::Name(name)
                    if self.state.pool_child(pool.parent, name).is_some_and(|other| other.id != id) =>
                {
                    return reject(E::AlreadyExists, format!("a pool named {name} is there already"));
                }
                InfoField::PoolMediaType(_) if !unchanged => {
                    let holds_media = self.state.media.values().any(|m| m.pool == id);
                    let holds_pools = self.state.pools.values().any(|p| p.parent == Some(id));
                    if holds_media || holds_pools {
                        return reject(
                            E::InvalidState,
                            format!("{} holds media or pools: its type stays", self.state.pool_path(id)),
                        );
                    }
                }
                _ => {}
            }
        }
        if let (O::Library(_), InfoField::Name(name)) = (object, field) {
            if !unchanged && self.name_taken(name) {
                return reject(E::AlreadyExists, format!("an object named {name} exists"));
            }
        }
        if unchanged {
            return Ok(Vec::new());
        }
        Ok(vec![Event::ObjectInformationChanged { object, field: field.clone() }])
    }

    /// SetNtmsObjectAttribute. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a name of 1 to 31 printable characters (ERROR_INVALID_NAME);
    /// 3. fewer than 65,536 bytes (ERROR_NO_DATA);
    /// 4. the object exists (ERROR_OBJECT_NOT_FOUND);
    /// 5. MODIFY over it, through its governing container (ERROR_ACCESS_DENIED).
    ///
    /// Empty data removes the attribute; removing one that is not there
    /// records nothing.
    pub(super) fn set_attribute(
        &self,
        session: SessionId,
        object: ObjectRef,
        name: &str,
        value: &[u8],
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if name.is_empty() || name.chars().count() > ATTRIBUTE_NAME_LEN_MAX || name.chars().any(char::is_control) {
            return reject(
                E::InvalidName,
                format!(
                    "an attribute name has 1 to {ATTRIBUTE_NAME_LEN_MAX} characters, none of them control characters"
                ),
            );
        }
        if value.len() > ATTRIBUTE_LEN_MAX {
            return reject(E::NoData, format!("{} bytes: an attribute holds at most {ATTRIBUTE_LEN_MAX}", value.len()));
        }
        require_over(self.state, self.policy, &s.principal, object, AccessMask::MODIFY, "set its attributes")?;
        let present = self.state.attributes.get(&object).is_some_and(|a| a.contains_key(&attribute_key(name)));
        if value.is_empty() && !present {
            return Ok(Vec::new());
        }
        Ok(vec![Event::AttributeSet { object, name: name.to_string(), value: value.to_vec() }])
    }

    /// SetNtmsObjectInformation's szDescription. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. at most 127 characters, none a control character (ERROR_INVALID_PARAMETER);
    /// 3. the object exists (ERROR_OBJECT_NOT_FOUND);
    /// 4. CONTROL on a library, MODIFY over anything else (ERROR_ACCESS_DENIED).
    pub(super) fn set_description(
        &self,
        session: SessionId,
        object: ObjectRef,
        description: &str,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if description.chars().count() > DESCRIPTION_LEN_MAX || description.chars().any(char::is_control) {
            return reject(
                E::InvalidParameter,
                format!("a description has at most {DESCRIPTION_LEN_MAX} characters, none of them control characters"),
            );
        }
        let right = if matches!(object, ObjectRef::Library(_)) { AccessMask::CONTROL } else { AccessMask::MODIFY };
        require_over(self.state, self.policy, &s.principal, object, right, "describe it")?;
        if self.state.descriptions.get(&object).map_or("", String::as_str) == description {
            return Ok(Vec::new());
        }
        Ok(vec![Event::DescriptionChanged { object, description: description.to_string() }])
    }

    /// SetNtmsObjectSecurity on the computer, a library or a pool. Checks,
    /// in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a principal of 1 to 63 printable characters without spaces and
    ///    rights among use, modify, control (ERROR_INVALID_PARAMETER);
    /// 3. the object exists (ERROR_OBJECT_NOT_FOUND) and has security of its
    ///    own: the computer, a library, an application pool
    ///    (ERROR_NO_SECURITY_ON_OBJECT; system pools take their library's);
    /// 4. CONTROL on it (ERROR_ACCESS_DENIED, rsm's WRITE_DAC).
    ///
    /// A library's goes through `change_access` (its last CONTROL is kept).
    pub(super) fn set_object_access(
        &self,
        session: SessionId,
        object: ObjectRef,
        principal: &str,
        rights: AccessMask,
        grant: bool,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if !limits::is_valid_name(principal) || rights.0 == 0 || rights.0 & !AccessMask::ALL.0 != 0 {
            return reject(
                E::InvalidParameter,
                format!(
                    "name a principal of 1 to {} printable characters without spaces and rights among use, modify, control",
                    limits::NAME_LEN_MAX
                ),
            );
        }
        governor(self.state, object)?;
        let current = match object {
            ObjectRef::Library(library) => return self.change_access(session, library, principal, rights, grant),
            ObjectRef::Computer => self.policy.computer_rights(self.state, principal),
            ObjectRef::Pool(id) if !self.state.pools[&id].is_system() => {
                self.state.pools[&id].access.get(principal).copied().unwrap_or_default()
            }
            other => {
                return reject(
                    E::NoSecurityOnObject,
                    format!("a {} has no security of its own: its container's governs it", other.object_type().name()),
                )
            }
        };
        require_over(self.state, self.policy, &s.principal, object, AccessMask::CONTROL, "change its security")?;
        let rights = if grant { current.with(rights) } else { current.without(rights) };
        if rights == current && (object != ObjectRef::Computer || self.state.computer_access.contains_key(principal)) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::ObjectAccessChanged { object, principal: principal.to_string(), rights }])
    }
}

/// A computer setting's value and the bits it may hold (every bit for a time).
fn computer_field(field: &InfoField) -> Option<(u32, u32)> {
    match *field {
        InfoField::LibRequestPurgeTime(s) | InfoField::OpRequestPurgeTime(s) => Some((s, u32::MAX)),
        InfoField::LibRequestFlags(f) => Some((f, NO_AUTO_PURGE | NO_FAILED_PURGE)),
        InfoField::OpRequestFlags(f) => Some((f, OP_REQUEST_FLAGS)),
        InfoField::MediaPoolPolicy(f) => Some((f, PURGE_OFFLINE_SCRATCH | KEEP_OFFLINE_IMPORT)),
        _ => None,
    }
}

/// Writes a computer setting (the apply of `ObjectInformationChanged` and
/// the rules' own comparison use this one function).
pub(crate) fn set_computer_field(settings: &mut ComputerSettings, field: &InfoField) {
    match *field {
        InfoField::LibRequestPurgeTime(s) => settings.lib_request_purge_s = s,
        InfoField::LibRequestFlags(f) => settings.lib_request_flags = f,
        InfoField::OpRequestPurgeTime(s) => settings.op_request_purge_s = s,
        InfoField::OpRequestFlags(f) => settings.op_request_flags = f,
        InfoField::MediaPoolPolicy(f) => settings.media_pool_policy = f,
        InfoField::Name(_)
        | InfoField::DeferDismountDelay(_)
        | InfoField::PoolMediaType(_)
        | InfoField::DoorMaxOpenSecs(_)
        | InfoField::InventoryMethod(_) => {}
    }
}
