//! The objects of the media services (spec §1.10–1.14, §7): media types,
//! pools, sides and logical media.
//!
//! **Media types** are a fixed catalog, not objects anyone creates: on
//! Windows they came from the storage drivers, and here from
//! [`MEDIA_TYPES`], each with an id that never changes. A library relates
//! to the types it handles ([`crate::Library::media_types`]).
//!
//! **System pools** exist per media type (free, import, unrecognized), each
//! inside a folder pool of its kind; their ids are pure functions of the
//! type's id ([`SystemPools::of`]), so the events that create or fill them
//! need not carry them.

use crate::ids::*;
use crate::objects::AccessMask;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What can be done to a medium's data (`NtmsReadWriteCharacteristics`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ReadWrite {
    /// NTMS_MEDIARW_UNKNOWN (0).
    Unknown,
    /// NTMS_MEDIARW_REWRITABLE (1).
    Rewritable,
    /// NTMS_MEDIARW_WRITEONCE (2).
    WriteOnce,
    /// NTMS_MEDIARW_READONLY (3).
    ReadOnly,
}

crate::ntms::ntms_values! {
    ReadWrite in "NtmsReadWriteCharacteristics" {
        Unknown = 0 => "NTMS_MEDIARW_UNKNOWN",
        Rewritable = 1 => "NTMS_MEDIARW_REWRITABLE",
        WriteOnce = 2 => "NTMS_MEDIARW_WRITEONCE",
        ReadOnly = 3 => "NTMS_MEDIARW_READONLY",
    }
}

/// A media type of the catalog (`NTMS_MEDIATYPEINFORMATION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaType {
    /// Its id, fixed for ever (stored in logs).
    pub id: MediaTypeId,
    /// Its name, as operators type it (`LTO-8`).
    pub name: &'static str,
    /// Sides per medium.
    pub sides: u8,
    /// What may be written.
    pub read_write: ReadWrite,
    /// The generation a drive of this family must be at least to read it
    /// (its own generation for media no drive reads back further).
    pub family: &'static str,
    /// The generation within the family.
    pub generation: u8,
}

impl MediaType {
    /// Whether a drive of type `drive` (a media type's name: the media it
    /// writes natively) reads media of this type: same family, and the
    /// drive at most `READ_BACK` generations newer (LTO reads two back from
    /// LTO-7 down, one back from LTO-8 on).
    pub fn readable_by(&self, drive: &MediaType) -> bool {
        let read_back = if self.family == "LTO" && drive.generation >= 8 { 1 } else { 2 };
        self.family == drive.family
            && drive.generation >= self.generation
            && drive.generation - self.generation <= read_back
    }
}

const fn media_type_id(n: u128) -> MediaTypeId {
    MediaTypeId(Uuid::from_u128(0x6d74_7970_6500_4000_8000_0000_0000_0000 | n))
}

macro_rules! catalog {
    ($($n:literal: $name:literal, $family:literal $generation:literal, $sides:literal, $rw:ident;)*) => {
        /// The catalog: every media type rsm knows. Entries are only ever
        /// added (with a new number): their ids are stored in logs.
        pub const MEDIA_TYPES: &[MediaType] = &[
            $(MediaType {
                id: media_type_id($n),
                name: $name,
                sides: $sides,
                read_write: ReadWrite::$rw,
                family: $family,
                generation: $generation,
            },)*
        ];
    };
}

catalog! {
    1: "LTO-1", "LTO" 1, 1, Rewritable;
    2: "LTO-2", "LTO" 2, 1, Rewritable;
    3: "LTO-3", "LTO" 3, 1, Rewritable;
    4: "LTO-4", "LTO" 4, 1, Rewritable;
    5: "LTO-5", "LTO" 5, 1, Rewritable;
    6: "LTO-6", "LTO" 6, 1, Rewritable;
    7: "LTO-7", "LTO" 7, 1, Rewritable;
    8: "LTO-8", "LTO" 8, 1, Rewritable;
    9: "LTO-9", "LTO" 9, 1, Rewritable;
    10: "LTO-8-WORM", "LTO" 8, 1, WriteOnce;
    11: "LTO-9-WORM", "LTO" 9, 1, WriteOnce;
    12: "DLT-IV", "DLT" 1, 1, Rewritable;
    13: "3592-JE", "3592" 7, 1, Rewritable;
    14: "T10000-T2", "T10000" 4, 1, Rewritable;
    15: "MO-2SIDED", "MO" 1, 2, Rewritable;
    16: "CD-ROM", "CD" 1, 1, ReadOnly;
}

/// The type simulated libraries get unless told otherwise.
pub const DEFAULT_MEDIA_TYPE: &str = "LTO-8";

/// The id of [`DEFAULT_MEDIA_TYPE`].
pub fn default_media_type() -> MediaTypeId {
    media_type_named(DEFAULT_MEDIA_TYPE).expect("the default media type is in the catalog").id
}

/// A media type of the catalog by id.
pub fn media_type(id: MediaTypeId) -> Option<&'static MediaType> {
    MEDIA_TYPES.iter().find(|t| t.id == id)
}

/// A media type of the catalog by name (case-insensitive).
pub fn media_type_named(name: &str) -> Option<&'static MediaType> {
    MEDIA_TYPES.iter().find(|t| t.name.eq_ignore_ascii_case(name))
}

/// The type of pool (`NtmsPoolType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PoolType {
    /// NTMS_POOLTYPE_SCRATCH (1): the free pool of a media type (or the
    /// folder of them).
    Free,
    /// NTMS_POOLTYPE_FOREIGN (2): the unrecognized pool.
    Unrecognized,
    /// NTMS_POOLTYPE_IMPORT (3): the import pool.
    Import,
    /// NTMS_POOLTYPE_APPLICATION (1000): an application's pool.
    Application,
}

crate::ntms::ntms_values! {
    PoolType in "NtmsPoolType" {
        Free = 1 => "NTMS_POOLTYPE_SCRATCH",
        Unrecognized = 2 => "NTMS_POOLTYPE_FOREIGN",
        Import = 3 => "NTMS_POOLTYPE_IMPORT",
        Application = 1000 => "NTMS_POOLTYPE_APPLICATION",
    }
}

impl PoolType {
    /// The folder's name (system pools) or "" (application pools).
    pub fn folder_name(self) -> &'static str {
        match self {
            PoolType::Free => "Free",
            PoolType::Unrecognized => "Unrecognized",
            PoolType::Import => "Import",
            PoolType::Application => "",
        }
    }
}

/// A media pool (`NTMS_MEDIAPOOLINFORMATION`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// Id.
    pub id: PoolId,
    /// Its own name (one level of the path).
    pub name: String,
    /// The pool it is in; none at the top.
    pub parent: Option<PoolId>,
    /// System or application.
    pub kind: PoolType,
    /// The one media type of its media; none for a pool that holds only pools.
    pub media_type: Option<MediaTypeId>,
    /// NTMS_ALLOCATE_FROMSCRATCH: when empty, draw from the free pool.
    pub from_scratch: bool,
    /// NTMS_DEALLOCATE_TOSCRATCH: media whose sides are all available
    /// again go back to the free pool.
    pub to_scratch: bool,
    /// Allocations a side may have before deallocation decommissions it;
    /// 0 is unlimited.
    pub max_allocates: u32,
    /// Rights per principal (the pool's security descriptor).
    pub access: BTreeMap<String, AccessMask>,
}

impl Pool {
    /// An application pool just created: policies clear, no limit, its
    /// creator holding every right.
    pub fn application(
        id: PoolId,
        name: &str,
        parent: Option<PoolId>,
        media_type: Option<MediaTypeId>,
        creator: &str,
    ) -> Pool {
        Pool {
            id,
            name: name.to_string(),
            parent,
            kind: PoolType::Application,
            media_type,
            from_scratch: false,
            to_scratch: false,
            max_allocates: 0,
            access: [(creator.to_string(), AccessMask::ALL)].into_iter().collect(),
        }
    }

    /// A system pool: managed by rsm, anyone may use it.
    fn system(id: PoolId, name: &str, parent: Option<PoolId>, kind: PoolType, media_type: Option<MediaTypeId>) -> Pool {
        Pool {
            id,
            name: name.to_string(),
            parent,
            kind,
            media_type,
            from_scratch: false,
            to_scratch: false,
            max_allocates: 0,
            access: BTreeMap::new(),
        }
    }

    /// True for the free, import and unrecognized pools and their folders.
    pub fn is_system(&self) -> bool {
        self.kind != PoolType::Application
    }
}

/// The system pools of one media type, and their folders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemPools {
    /// The free pool.
    pub free: PoolId,
    /// The import pool.
    pub import: PoolId,
    /// The unrecognized pool.
    pub unrecognized: PoolId,
}

impl SystemPools {
    /// The ids of `media_type`'s system pools (whether they exist or not).
    pub fn of(media_type: MediaTypeId) -> SystemPools {
        let pool = |n| PoolId(derive_id(RequestId(media_type.0), n));
        SystemPools { free: pool(1), import: pool(2), unrecognized: pool(3) }
    }

    /// The folder that holds every pool of `kind` (a system kind).
    pub fn folder(kind: PoolType) -> PoolId {
        let n: u128 = match kind {
            PoolType::Free => 1,
            PoolType::Unrecognized => 2,
            PoolType::Import => 3,
            PoolType::Application => 4,
        };
        PoolId(Uuid::from_u128(0x706f_6f6c_0000_4000_8000_0000_0000_0000 | n))
    }

    /// The folders and the three pools of `media_type`, folders first.
    pub fn all(media_type: &MediaType) -> Vec<Pool> {
        let ids = SystemPools::of(media_type.id);
        let mut pools = Vec::new();
        for (kind, id) in
            [(PoolType::Free, ids.free), (PoolType::Import, ids.import), (PoolType::Unrecognized, ids.unrecognized)]
        {
            let folder = SystemPools::folder(kind);
            pools.push(Pool::system(folder, kind.folder_name(), None, kind, None));
            pools.push(Pool::system(id, media_type.name, Some(folder), kind, Some(media_type.id)));
        }
        pools
    }
}

/// The state of a side (`NtmsPartitionState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SideState {
    /// NTMS_PARTSTATE_UNKNOWN (0).
    Unknown,
    /// NTMS_PARTSTATE_UNPREPARED (1): waits for a free-media label.
    Unprepared,
    /// NTMS_PARTSTATE_INCOMPATIBLE (2): no drive of the library reads it.
    Incompatible,
    /// NTMS_PARTSTATE_DECOMMISSIONED (3): retired for ever.
    Decommissioned,
    /// NTMS_PARTSTATE_AVAILABLE (4): may be allocated.
    Available,
    /// NTMS_PARTSTATE_ALLOCATED (5): an application's, through an LMID.
    Allocated,
    /// NTMS_PARTSTATE_COMPLETE (6): allocated and full.
    Complete,
    /// NTMS_PARTSTATE_FOREIGN (7): a label nobody recognizes.
    Foreign,
    /// NTMS_PARTSTATE_IMPORT (8): a recognized label this database does not know.
    Import,
    /// NTMS_PARTSTATE_RESERVED (9): held for the application that allocated
    /// another side of the medium with NTMS_ALLOCATE_NEW.
    Reserved,
}

crate::ntms::ntms_values! {
    SideState in "NtmsPartitionState" {
        Unknown = 0 => "NTMS_PARTSTATE_UNKNOWN",
        Unprepared = 1 => "NTMS_PARTSTATE_UNPREPARED",
        Incompatible = 2 => "NTMS_PARTSTATE_INCOMPATIBLE",
        Decommissioned = 3 => "NTMS_PARTSTATE_DECOMMISSIONED",
        Available = 4 => "NTMS_PARTSTATE_AVAILABLE",
        Allocated = 5 => "NTMS_PARTSTATE_ALLOCATED",
        Complete = 6 => "NTMS_PARTSTATE_COMPLETE",
        Foreign = 7 => "NTMS_PARTSTATE_FOREIGN",
        Import = 8 => "NTMS_PARTSTATE_IMPORT",
        Reserved = 9 => "NTMS_PARTSTATE_RESERVED",
    }
}

impl SideState {
    /// True while a logical medium is bound to the side.
    pub fn is_allocated(self) -> bool {
        matches!(self, SideState::Allocated | SideState::Complete)
    }
}

/// A side of a physical medium (`NTMS_PARTITIONINFORMATION`), kept inside
/// its medium.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    /// 0 for side A, 1 for side B.
    pub number: u8,
    /// State.
    pub state: SideState,
    /// The logical medium bound to it while allocated.
    pub lmid: Option<LogicalMediaId>,
    /// Times mounted.
    pub mount_count: u32,
    /// Times allocated.
    pub allocate_count: u32,
    /// Its on-media identifier, once known (boxed: most sides have none,
    /// and a side is kept for every cartridge).
    pub omid: Option<Box<crate::media_labels::Omid>>,
}

impl Side {
    /// A side as it arrives.
    pub fn new(number: u8, state: SideState) -> Side {
        Side { number, state, lmid: None, mount_count: 0, allocate_count: 0, omid: None }
    }
}

/// UpdateNtmsOmidInfo's label (labelType with lpBuffer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OmidLabel {
    /// NTMS_OMID_TYPE_RAW_LABEL (1): the label bytes just written, for a
    /// media label library to claim.
    Raw(Vec<u8>),
    /// NTMS_OMID_TYPE_FILESYSTEM_INFO (2): NTMS_FILESYSTEM_INFO.
    FileSystem {
        /// FileSystemType.
        file_system: String,
        /// VolumeName.
        volume: String,
        /// SerialNumber.
        serial: u32,
    },
}

impl OmidLabel {
    /// NTMS_OMID_TYPE_RAW_LABEL's value.
    pub const RAW_LABEL: u32 = 1;
    /// NTMS_OMID_TYPE_FILESYSTEM_INFO's value.
    pub const FILESYSTEM_INFO: u32 = 2;

    /// labelType.
    pub fn label_type(&self) -> u32 {
        match self {
            OmidLabel::Raw(_) => Self::RAW_LABEL,
            OmidLabel::FileSystem { .. } => Self::FILESYSTEM_INFO,
        }
    }
}

/// What AllocateNtmsMedia does when no side can be allocated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllocationWait {
    /// Fail at once with ERROR_MEDIA_UNAVAILABLE (a zero timeout).
    #[default]
    NoWait,
    /// Raise an NTMS_OPREQ_NEWMEDIA operator request (unless
    /// ERROR_IF_UNAVAILABLE) and answer with it: the caller waits.
    Raise,
    /// A caller waiting on this operator request searches again: found, the
    /// request is COMPLETE; refused, ERROR_CANCELLED; still nothing,
    /// ERROR_MEDIA_UNAVAILABLE (the caller waits on).
    Retry(crate::ids::OperatorRequestId),
}

/// AllocateNtmsMedia's dwTimeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllocationTimeout {
    /// 0: do not wait (the protocol specification's reading; spec §3.2).
    Zero,
    /// Wait up to this many milliseconds (1 ..= 0xFFFFFFFE).
    Millis(u32),
    /// INFINITE (0xFFFFFFFF): wait until media come or the request is refused.
    Infinite,
}

impl AllocationTimeout {
    /// dwTimeout as the API passes it.
    pub fn from_millis(ms: u32) -> AllocationTimeout {
        match ms {
            0 => AllocationTimeout::Zero,
            u32::MAX => AllocationTimeout::Infinite,
            ms => AllocationTimeout::Millis(ms),
        }
    }
}

impl std::fmt::Display for AllocationTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllocationTimeout::Zero => write!(f, "0 ms"),
            AllocationTimeout::Millis(ms) => write!(f, "{ms} ms"),
            AllocationTimeout::Infinite => write!(f, "an unlimited time"),
        }
    }
}

/// NtmsAllocateOptions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocateOptions {
    /// NTMS_ALLOCATE_NEW (0x1): reserve the medium's other sides for the caller.
    pub new: bool,
    /// NTMS_ALLOCATE_NEXT (0x2): the next reserved side of the medium behind
    /// the given logical medium.
    pub next: Option<LogicalMediaId>,
    /// NTMS_ALLOCATE_ERROR_IF_UNAVAILABLE (0x4): no operator request.
    pub error_if_unavailable: bool,
}

/// NtmsCreateOptions, for CreateNtmsMediaPool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolAction {
    /// NTMS_OPEN_EXISTING (1).
    OpenExisting,
    /// NTMS_CREATE_NEW (2).
    CreateNew,
    /// NTMS_OPEN_ALWAYS (3).
    OpenAlways,
}

crate::ntms::ntms_values! {
    PoolAction in "NtmsCreateOptions" {
        OpenExisting = 1 => "NTMS_OPEN_EXISTING",
        CreateNew = 2 => "NTMS_CREATE_NEW",
        OpenAlways = 3 => "NTMS_OPEN_ALWAYS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_and_names_are_unique() {
        let ids: std::collections::BTreeSet<_> = MEDIA_TYPES.iter().map(|t| t.id).collect();
        let names: std::collections::BTreeSet<_> = MEDIA_TYPES.iter().map(|t| t.name.to_ascii_lowercase()).collect();
        assert_eq!((ids.len(), names.len()), (MEDIA_TYPES.len(), MEDIA_TYPES.len()));
        assert!(media_type_named(DEFAULT_MEDIA_TYPE).is_some());
    }

    #[test]
    fn lto_drives_read_back_as_the_format_says() {
        let t = |n| media_type_named(n).expect("in the catalog");
        assert!(t("LTO-7").readable_by(t("LTO-8")));
        assert!(!t("LTO-6").readable_by(t("LTO-8")), "LTO-8 reads one generation back");
        assert!(t("LTO-5").readable_by(t("LTO-7")), "LTO-7 reads two back");
        assert!(!t("LTO-9").readable_by(t("LTO-8")), "never forward");
        assert!(!t("DLT-IV").readable_by(t("LTO-8")));
    }

    #[test]
    fn system_pool_ids_differ_per_type_and_kind() {
        let a = SystemPools::of(MEDIA_TYPES[0].id);
        let b = SystemPools::of(MEDIA_TYPES[1].id);
        let all = [a.free, a.import, a.unrecognized, b.free, b.import, b.unrecognized];
        let distinct: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), 6);
        assert_ne!(SystemPools::folder(PoolType::Free), SystemPools::folder(PoolType::Import));
    }
}
