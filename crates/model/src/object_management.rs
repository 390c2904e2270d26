//! Object management (spec §3.6): the NTMS object types, the rights that
//! govern each object, extended attributes, descriptions, enumeration and
//! the security of the computer, libraries and pools.
//!
//! The reads (information, attributes, enumeration, security) are pure
//! functions of the projection here, with the access checks the spec gives
//! them; the writes are commands (`decide/object_management.rs`).

use crate::error::{ErrorCode as E, NtmsError};
use crate::ids::*;
use crate::ntms::ntms_values;
use crate::objects::{AccessMask, ObjectRef};
use crate::policy::Policy;
use crate::state::State;
use serde::{Deserialize, Serialize};

/// NTMS_MAXATTR_NAMELEN less the terminating NUL: the longest attribute name.
pub const ATTRIBUTE_NAME_LEN_MAX: usize = 31;
/// Attribute data must be shorter than NTMS_MAXATTR_LENGTH (0x10000).
pub const ATTRIBUTE_LEN_MAX: usize = 0xFFFF;
/// NTMS_DESCRIPTION_LENGTH: the longest description, in characters.
pub const DESCRIPTION_LEN_MAX: usize = 127;
/// The rights a principal holds on the computer when its access list does
/// not name it: USE; MODIFY (offline media records, media types' and the
/// system pools' descriptions) and CONTROL are the administrator's and
/// those granted them (rsm rule).
pub const COMPUTER_DEFAULT_RIGHTS: AccessMask = AccessMask::USE;

/// The computer's writable settings (`NTMS_COMPUTERINFORMATION`, spec §1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputerSettings {
    /// dwLibRequestPurgeTime: seconds a finished library request stays in the views.
    pub lib_request_purge_s: u32,
    /// dwLibRequestFlags: NTMS_LIBREQFLAGS_NOAUTOPURGE, NOFAILEDPURGE.
    pub lib_request_flags: u32,
    /// dwOpRequestPurgeTime: seconds a finished operator request stays.
    pub op_request_purge_s: u32,
    /// dwOpRequestFlags: NTMS_OPREQFLAGS_NOAUTOPURGE, NOFAILEDPURGE, NOALERTS, NOTRAYICON.
    pub op_request_flags: u32,
    /// dwMediaPoolPolicy: NTMS_POOLPOLICY_PURGEOFFLINESCRATCH, KEEPOFFLINEIMPORT.
    pub media_pool_policy: u32,
}

/// The Windows default purge time: 72 hours.
pub const REQUEST_PURGE_S_DEFAULT: u32 = 259_200;
/// NTMS_LIBREQFLAGS_NOAUTOPURGE and NTMS_OPREQFLAGS_NOAUTOPURGE: never purge.
pub const NO_AUTO_PURGE: u32 = 0x01;
/// NTMS_LIBREQFLAGS_NOFAILEDPURGE and NTMS_OPREQFLAGS_NOFAILEDPURGE: keep
/// failed library requests, refused operator requests.
pub const NO_FAILED_PURGE: u32 = 0x02;
/// The operator request flags rsm knows (NOALERTS 0x10 and NOTRAYICON 0x20
/// concern Windows' desktop: kept, and nothing else happens).
pub const OP_REQUEST_FLAGS: u32 = 0x01 | 0x02 | 0x10 | 0x20;
/// NTMS_POOLPOLICY_PURGEOFFLINESCRATCH: free media taken out are deleted.
pub const PURGE_OFFLINE_SCRATCH: u32 = 0x01;
/// NTMS_POOLPOLICY_KEEPOFFLINEIMPORT: import media taken out are kept offline.
pub const KEEP_OFFLINE_IMPORT: u32 = 0x02;

impl Default for ComputerSettings {
    fn default() -> Self {
        Self {
            lib_request_purge_s: REQUEST_PURGE_S_DEFAULT,
            lib_request_flags: 0,
            op_request_purge_s: REQUEST_PURGE_S_DEFAULT,
            op_request_flags: 0,
            media_pool_policy: 0,
        }
    }
}

/// A field SetNtmsObjectInformation writes, beside szDescription and a
/// pool's allocation policies (commands of their own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InfoField {
    /// szName: a library's, a pool's (its own level of the path), or a
    /// medium's, side's or logical medium's (empty: none again).
    Name(String),
    /// A drive's dwDeferDismountDelay in seconds (none: its library's).
    DeferDismountDelay(Option<u32>),
    /// A pool's MediaType.
    PoolMediaType(MediaTypeId),
    /// The computer's dwLibRequestPurgeTime (seconds).
    LibRequestPurgeTime(u32),
    /// The computer's dwLibRequestFlags.
    LibRequestFlags(u32),
    /// The computer's dwOpRequestPurgeTime (seconds).
    OpRequestPurgeTime(u32),
    /// The computer's dwOpRequestFlags.
    OpRequestFlags(u32),
    /// The computer's dwMediaPoolPolicy.
    MediaPoolPolicy(u32),
    /// A library door's MaxOpenSecs (NTMS_IEDOORINFORMATION; the door is its library's).
    DoorMaxOpenSecs(u16),
    /// A library's InventoryMethod: FAST or OMID (what DEFAULT means).
    InventoryMethod(crate::objects::InventoryMethod),
}

impl InfoField {
    /// The field's name, as `rsm info set` takes it.
    pub fn name(&self) -> &'static str {
        match self {
            InfoField::Name(_) => "name",
            InfoField::DeferDismountDelay(_) => "defer_dismount_delay",
            InfoField::PoolMediaType(_) => "media_type",
            InfoField::LibRequestPurgeTime(_) => "lib_request_purge_time",
            InfoField::LibRequestFlags(_) => "lib_request_flags",
            InfoField::OpRequestPurgeTime(_) => "op_request_purge_time",
            InfoField::OpRequestFlags(_) => "op_request_flags",
            InfoField::MediaPoolPolicy(_) => "media_pool_policy",
            InfoField::DoorMaxOpenSecs(_) => "door_max_open_secs",
            InfoField::InventoryMethod(_) => "inventory_method",
        }
    }
}

/// `NtmsObjectsTypes`: the kinds of object rsm has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ObjectType {
    /// NTMS_COMPUTER (4): the server itself.
    Computer,
    /// NTMS_DRIVE (5).
    Drive,
    /// NTMS_IEPORT (8).
    IePort,
    /// NTMS_LIBRARY (9).
    Library,
    /// NTMS_LIBREQUEST (10).
    LibraryRequest,
    /// NTMS_LOGICAL_MEDIA (11).
    LogicalMedia,
    /// NTMS_MEDIA_POOL (12).
    MediaPool,
    /// NTMS_MEDIA_TYPE (13).
    MediaType,
    /// NTMS_PARTITION (14): a side.
    Partition,
    /// NTMS_PHYSICAL_MEDIA (15).
    PhysicalMedia,
    /// NTMS_STORAGESLOT (16).
    StorageSlot,
    /// NTMS_OPREQUEST (17).
    OperatorRequest,
}

ntms_values! {
    ObjectType in "NtmsObjectsTypes" {
        Computer = 4 => "NTMS_COMPUTER",
        Drive = 5 => "NTMS_DRIVE",
        IePort = 8 => "NTMS_IEPORT",
        Library = 9 => "NTMS_LIBRARY",
        LibraryRequest = 10 => "NTMS_LIBREQUEST",
        LogicalMedia = 11 => "NTMS_LOGICAL_MEDIA",
        MediaPool = 12 => "NTMS_MEDIA_POOL",
        MediaType = 13 => "NTMS_MEDIA_TYPE",
        Partition = 14 => "NTMS_PARTITION",
        PhysicalMedia = 15 => "NTMS_PHYSICAL_MEDIA",
        StorageSlot = 16 => "NTMS_STORAGESLOT",
        OperatorRequest = 17 => "NTMS_OPREQUEST",
    }
}

impl ObjectType {
    /// A short lowercase name, as the command line takes it.
    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Computer => "computer",
            ObjectType::Drive => "drive",
            ObjectType::IePort => "port",
            ObjectType::Library => "library",
            ObjectType::LibraryRequest => "request",
            ObjectType::LogicalMedia => "lmid",
            ObjectType::MediaPool => "pool",
            ObjectType::MediaType => "media-type",
            ObjectType::Partition => "side",
            ObjectType::PhysicalMedia => "media",
            ObjectType::StorageSlot => "slot",
            ObjectType::OperatorRequest => "operator-request",
        }
    }
}

impl ObjectRef {
    /// The object's NTMS type.
    pub fn object_type(&self) -> ObjectType {
        match self {
            ObjectRef::Library(_) => ObjectType::Library,
            ObjectRef::Drive(_) => ObjectType::Drive,
            ObjectRef::Slot(_) => ObjectType::StorageSlot,
            ObjectRef::Port(_) => ObjectType::IePort,
            ObjectRef::Media(_) => ObjectType::PhysicalMedia,
            ObjectRef::Pool(_) => ObjectType::MediaPool,
            ObjectRef::Side(_) => ObjectType::Partition,
            ObjectRef::LogicalMedia(_) => ObjectType::LogicalMedia,
            ObjectRef::MediaType(_) => ObjectType::MediaType,
            ObjectRef::Request(_) => ObjectType::LibraryRequest,
            ObjectRef::OperatorRequest(_) => ObjectType::OperatorRequest,
            ObjectRef::Computer => ObjectType::Computer,
        }
    }
}

/// Where an object's rights come from (spec §1.18, GetNtmsObjectInformation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Governor {
    /// The computer's access list.
    Computer,
    /// A library's.
    Library(LibraryId),
    /// A pool's: the innermost pool decides for its media.
    Pool(PoolId),
}

/// The container whose access list governs `object`: ERROR_OBJECT_NOT_FOUND
/// when it does not exist. Media, sides and logical media in a system pool
/// are their library's (the offline shelf's: the computer's).
pub fn governor(state: &State, object: ObjectRef) -> Result<Governor, NtmsError> {
    let missing =
        || NtmsError::new(E::ObjectNotFound, format!("no {} {}", object.object_type().name(), object_id(object)));
    let medium = |id: MediaId| -> Result<Governor, NtmsError> {
        let m = state.media.get(&id).ok_or_else(missing)?;
        match state.pools.get(&m.pool) {
            Some(p) if !p.is_system() => Ok(Governor::Pool(p.id)),
            _ if state.libraries.contains_key(&m.library) => Ok(Governor::Library(m.library)),
            _ => Ok(Governor::Computer),
        }
    };
    match object {
        ObjectRef::Computer => Ok(Governor::Computer),
        ObjectRef::MediaType(id) => {
            crate::media_services::media_type(id).ok_or_else(missing)?;
            Ok(Governor::Computer)
        }
        // A request for media is its pool's business.
        ObjectRef::OperatorRequest(id) => match state.operator_requests.get(&id).ok_or_else(missing)?.kind {
            crate::operator::OperatorRequestKind::NewMedia { pool } if state.pools.contains_key(&pool) => {
                governor(state, ObjectRef::Pool(pool))
            }
            crate::operator::OperatorRequestKind::Cleaner { library } if state.libraries.contains_key(&library) => {
                Ok(Governor::Library(library))
            }
            crate::operator::OperatorRequestKind::DeviceService { device } if governor(state, device).is_ok() => {
                governor(state, device)
            }
            crate::operator::OperatorRequestKind::MoveMedia { media, .. } if state.media.contains_key(&media) => {
                governor(state, ObjectRef::Media(media))
            }
            _ => Ok(Governor::Computer),
        },
        ObjectRef::Library(id) => state.libraries.get(&id).map(|l| Governor::Library(l.id)).ok_or_else(missing),
        ObjectRef::Drive(id) => state.drives.get(&id).map(|d| Governor::Library(d.library)).ok_or_else(missing),
        ObjectRef::Slot(id) => state.slots.get(&id).map(|s| Governor::Library(s.library)).ok_or_else(missing),
        ObjectRef::Port(id) => state.ports.get(&id).map(|p| Governor::Library(p.library)).ok_or_else(missing),
        ObjectRef::Request(id) => state.requests.get(&id).map(|r| Governor::Library(r.library)).ok_or_else(missing),
        // The system pools are the server's: the computer governs them as
        // objects (their media are their libraries').
        ObjectRef::Pool(id) => match state.pools.get(&id).ok_or_else(missing)? {
            p if p.is_system() => Ok(Governor::Computer),
            p => Ok(Governor::Pool(p.id)),
        },
        ObjectRef::Media(id) => medium(id),
        ObjectRef::Side(id) => medium(*state.sides.get(&id).ok_or_else(missing)?),
        ObjectRef::LogicalMedia(id) => {
            let side = state.lmids.get(&id).ok_or_else(missing)?;
            medium(*state.sides.get(side).ok_or_else(missing)?)
        }
    }
}

/// The rights `principal` holds over `object` (through its governor).
pub fn rights_over(
    state: &State,
    policy: &Policy,
    principal: &str,
    object: ObjectRef,
) -> Result<AccessMask, NtmsError> {
    Ok(match governor(state, object)? {
        Governor::Computer => policy.computer_rights(state, principal),
        Governor::Library(id) => match state.libraries.get(&id) {
            Some(lib) => policy.rights(state, lib, principal),
            None => AccessMask::default(),
        },
        Governor::Pool(id) => match state.pools.get(&id) {
            Some(pool) => policy.pool_rights(pool, principal),
            None => AccessMask::default(),
        },
    })
}

/// ERROR_ACCESS_DENIED unless `principal` holds `right` over `object`.
pub fn require_over(
    state: &State,
    policy: &Policy,
    principal: &str,
    object: ObjectRef,
    right: AccessMask,
    what: &str,
) -> Result<(), NtmsError> {
    if rights_over(state, policy, principal, object)?.allows(right) {
        return Ok(());
    }
    Err(NtmsError::new(
        E::AccessDenied,
        format!(
            "{principal} lacks {} access over {} needed to {what}",
            right.names().join("+"),
            match object {
                ObjectRef::Computer => "the computer".to_string(),
                _ => format!("{} {}", object.object_type().name(), object_name(state, object)),
            }
        ),
    ))
}

/// What people call an object in messages: a name, a bar code, a pool
/// path, a media type; else its id.
pub fn object_name(state: &State, object: ObjectRef) -> String {
    let named = match object {
        ObjectRef::Library(id) => state.libraries.get(&id).map(|l| l.name.clone()),
        ObjectRef::Drive(id) => state.drives.get(&id).map(|d| d.name.clone()),
        ObjectRef::Slot(id) => state.slots.get(&id).map(|s| s.name.clone()),
        ObjectRef::Port(id) => state.ports.get(&id).map(|p| p.name.clone()),
        ObjectRef::Media(id) => state.media.get(&id).map(|m| m.barcode.clone()),
        ObjectRef::Pool(id) => state.pools.get(&id).map(|_| state.pool_path(id)),
        ObjectRef::MediaType(id) => crate::media_services::media_type(id).map(|t| t.name.to_string()),
        ObjectRef::Computer => Some("computer".into()),
        _ => None,
    };
    named.unwrap_or_else(|| object_id(object))
}

/// The object's id as text (the computer has none).
pub fn object_id(object: ObjectRef) -> String {
    match object {
        ObjectRef::Library(id) => id.to_string(),
        ObjectRef::Drive(id) => id.to_string(),
        ObjectRef::Slot(id) => id.to_string(),
        ObjectRef::Port(id) => id.to_string(),
        ObjectRef::Media(id) => id.to_string(),
        ObjectRef::Pool(id) => id.to_string(),
        ObjectRef::Side(id) => id.to_string(),
        ObjectRef::LogicalMedia(id) => id.to_string(),
        ObjectRef::MediaType(id) => id.to_string(),
        ObjectRef::Request(id) => id.to_string(),
        ObjectRef::OperatorRequest(id) => id.to_string(),
        ObjectRef::Computer => "computer".into(),
    }
}

/// GetNtmsObjectAttribute: the attribute's bytes. ERROR_OBJECT_NOT_FOUND
/// for an object or an attribute that does not exist; ERROR_ACCESS_DENIED
/// without USE over the object.
pub fn get_attribute(
    state: &State,
    policy: &Policy,
    principal: &str,
    object: ObjectRef,
    name: &str,
) -> Result<Vec<u8>, NtmsError> {
    require_over(state, policy, principal, object, AccessMask::USE, "read its attributes")?;
    state
        .attributes
        .get(&object)
        .and_then(|a| a.get(&attribute_key(name)))
        .cloned()
        .ok_or_else(|| NtmsError::new(E::ObjectNotFound, format!("{} has no attribute {name:?}", object_id(object))))
}

/// The names of an object's attributes with their sizes (USE over it).
pub fn list_attributes(
    state: &State,
    policy: &Policy,
    principal: &str,
    object: ObjectRef,
) -> Result<Vec<(String, usize)>, NtmsError> {
    require_over(state, policy, principal, object, AccessMask::USE, "read its attributes")?;
    Ok(state
        .attributes
        .get(&object)
        .map(|a| a.iter().map(|(name, value)| (name.clone(), value.len())).collect())
        .unwrap_or_default())
}

/// Attribute names compare without regard to case (Windows' do), kept as
/// given the first time: the key is the name lower-cased.
pub fn attribute_key(name: &str) -> String {
    name.to_lowercase()
}

/// The access list of an object that has one (the computer, a library, a
/// pool): ERROR_NO_SECURITY_ON_OBJECT for any other, ERROR_ACCESS_DENIED
/// without USE over it (rsm's READ_CONTROL).
pub fn object_security(
    state: &State,
    policy: &Policy,
    principal: &str,
    object: ObjectRef,
) -> Result<std::collections::BTreeMap<String, AccessMask>, NtmsError> {
    governor(state, object)?;
    let list = match object {
        ObjectRef::Computer => state.computer_access.clone(),
        ObjectRef::Library(id) => state.libraries.get(&id).map(|l| l.access.clone()).unwrap_or_default(),
        ObjectRef::Pool(id) => state.pools.get(&id).map(|p| p.access.clone()).unwrap_or_default(),
        other => {
            return Err(NtmsError::new(
                E::NoSecurityOnObject,
                format!("a {} has no security of its own: its container's governs it", other.object_type().name()),
            ))
        }
    };
    require_over(state, policy, principal, object, AccessMask::USE, "read its security")?;
    Ok(list)
}

/// EnumerateNtmsObject: the objects of `kind` in `container` (none: the
/// whole system; pools: the top level), in a stable order (media by
/// sequence number, requests by acceptance, pools by path, the rest by
/// id), leaving out those `principal` may not USE (rsm rule). With
/// `root_pool` (NTMS_ENUM_ROOTPOOL, pools only, no container) the list
/// also holds the root: rsm's root pool is the computer.
///
/// ERROR_INVALID_PARAMETER for a container the type does not allow, or
/// ROOTPOOL with another type or a container; ERROR_OBJECT_NOT_FOUND for a
/// container that does not exist.
pub fn enumerate(
    state: &State,
    policy: &Policy,
    principal: &str,
    kind: ObjectType,
    container: Option<ObjectRef>,
    root_pool: bool,
) -> Result<Vec<ObjectRef>, NtmsError> {
    use ObjectType as T;
    if let Some(c) = container {
        governor(state, c)?;
    }
    if root_pool && (kind != T::MediaPool || container.is_some()) {
        return Err(NtmsError::new(E::InvalidParameter, "NTMS_ENUM_ROOTPOOL lists pools from the top only"));
    }
    let invalid = || {
        NtmsError::new(
            E::InvalidParameter,
            format!(
                "{} objects are not listed in a {}",
                kind.name(),
                container.map_or("system".into(), |c| c.object_type().name().to_string())
            ),
        )
    };
    let library = match container {
        Some(ObjectRef::Library(id)) => Some(id),
        _ => None,
    };
    let in_library = |lib: LibraryId| library.is_none_or(|l| l == lib);
    let mut found: Vec<ObjectRef> = match (kind, container) {
        (T::Computer, None) => vec![ObjectRef::Computer],
        (T::Library, None) => state.libraries.keys().map(|id| ObjectRef::Library(*id)).collect(),
        (
            T::Drive | T::IePort | T::StorageSlot | T::LibraryRequest | T::MediaType,
            None | Some(ObjectRef::Library(_)),
        ) => match kind {
            T::Drive => {
                state.drives.values().filter(|d| in_library(d.library)).map(|d| ObjectRef::Drive(d.id)).collect()
            }
            T::IePort => {
                state.ports.values().filter(|p| in_library(p.library)).map(|p| ObjectRef::Port(p.id)).collect()
            }
            T::StorageSlot => {
                state.slots.values().filter(|s| in_library(s.library)).map(|s| ObjectRef::Slot(s.id)).collect()
            }
            T::LibraryRequest => {
                let mut rs: Vec<_> = state.requests.values().filter(|r| in_library(r.library)).collect();
                rs.sort_by_key(|r| r.order);
                rs.into_iter().map(|r| ObjectRef::Request(r.id)).collect()
            }
            _ => match library.and_then(|l| state.libraries.get(&l)) {
                Some(lib) => lib.media_types.iter().map(|t| ObjectRef::MediaType(*t)).collect(),
                None => crate::media_services::MEDIA_TYPES.iter().map(|t| ObjectRef::MediaType(t.id)).collect(),
            },
        },
        (T::OperatorRequest, None) => {
            state.operator_requests.keys().map(|id| ObjectRef::OperatorRequest(*id)).collect()
        }
        (T::PhysicalMedia, None | Some(ObjectRef::Library(_)) | Some(ObjectRef::Pool(_))) => {
            let pool = match container {
                Some(ObjectRef::Pool(p)) => Some(p),
                _ => None,
            };
            let mut media: Vec<_> = state
                .media
                .values()
                .filter(|m| in_library(m.library) && pool.is_none_or(|p| m.pool == p && !m.is_cleaner()))
                .collect();
            media.sort_by_key(|m| m.sequence);
            media.into_iter().map(|m| ObjectRef::Media(m.id)).collect()
        }
        (
            T::Partition,
            None | Some(ObjectRef::Pool(_)) | Some(ObjectRef::Media(_)) | Some(ObjectRef::LogicalMedia(_)),
        ) => {
            let mut media: Vec<_> = state.media.values().collect();
            media.sort_by_key(|m| m.sequence);
            media
                .into_iter()
                .flat_map(|m| m.sides.iter().map(move |x| (m, x)))
                .filter(|(m, x)| match container {
                    Some(ObjectRef::Pool(p)) => m.pool == p,
                    Some(ObjectRef::Media(id)) => m.id == id,
                    Some(ObjectRef::LogicalMedia(l)) => x.lmid == Some(l),
                    _ => true,
                })
                .map(|(m, x)| ObjectRef::Side(m.side_id(x.number)))
                .collect()
        }
        (T::LogicalMedia, None | Some(ObjectRef::Pool(_)) | Some(ObjectRef::Side(_))) => state
            .lmids
            .iter()
            .filter(|(_, side)| match container {
                Some(ObjectRef::Side(s)) => **side == s,
                Some(ObjectRef::Pool(p)) => state.side(**side).is_some_and(|(m, _)| m.pool == p),
                _ => true,
            })
            .map(|(lmid, _)| ObjectRef::LogicalMedia(*lmid))
            .collect(),
        (T::MediaPool, None | Some(ObjectRef::Pool(_))) => {
            let parent = match container {
                Some(ObjectRef::Pool(p)) => Some(p),
                _ => None,
            };
            let mut pools: Vec<_> = state.pools.values().filter(|p| p.parent == parent).collect();
            pools.sort_by_key(|p| state.pool_path(p.id).to_lowercase());
            let listed = pools.into_iter().map(|p| ObjectRef::Pool(p.id));
            if root_pool {
                std::iter::once(ObjectRef::Computer).chain(listed).collect()
            } else {
                listed.collect()
            }
        }
        _ => return Err(invalid()),
    };
    found.retain(|o| rights_over(state, policy, principal, *o).is_ok_and(|r| r.allows(AccessMask::USE)));
    Ok(found)
}
