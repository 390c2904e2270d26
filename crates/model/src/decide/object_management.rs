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
