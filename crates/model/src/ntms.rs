//! Every constant rsm shares with the Windows SDK, in one enumerable registry.
//!
//! rsm speaks the NTMS API, so its states, request kinds, rights and error
//! codes carry the numeric values of `ntmsapi.h` and `winerror.h`. Each type
//! that carries such values implements [`NtmsConstants`], and
//! [`ntms_constants`] lists every one of them. The test
//! `tests/ntms_header.rs` reads the SDK headers and compares every entry of
//! that registry with the header's own definition, so a wrong value or a
//! misspelt symbol cannot go unnoticed.
//!
//! **Adding a type with NTMS or Win32 values** (object types, operation
//! codes, pool types, side states, operator request kinds, ...): declare its
//! values with the crate's `ntms_values!` macro (or implement
//! [`NtmsConstants`] by hand) *and add a line for it to [`ntms_constants`]*.
//! Document each variant as `NTMS_NAME (value)`: the header test also checks
//! that every value so documented in this crate is in the registry, which
//! catches a type that was forgotten here.

use crate::error::ErrorCode;
use crate::limits;
use crate::media_services::*;
use crate::objects::*;

/// A type whose values are constants of the Windows SDK headers.
pub trait NtmsConstants {
    /// The C enum of `ntmsapi.h` that holds the values (e.g. `NtmsDriveState`),
    /// or `None` when the header spells them as `#define`s (e.g. `ERROR_*`).
    const HEADER_ENUM: Option<&'static str>;

    /// Every value rsm defines, as the header's symbol and its value
    /// (e.g. `("NTMS_DRIVESTATE_LOADED", 2)`), in declaration order.
    fn constants() -> Vec<(&'static str, i64)>;
}

/// One group of constants in the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstantTable {
    /// Where rsm defines them (a type name, or a module for loose constants).
    pub rsm: &'static str,
    /// The C enum of `ntmsapi.h` that holds them, if the header uses one.
    pub header_enum: Option<&'static str>,
    /// The header's symbol and rsm's value of each.
    pub constants: Vec<(&'static str, i64)>,
}

impl ConstantTable {
    /// The table of a type that implements [`NtmsConstants`].
    pub fn of<T: NtmsConstants>() -> ConstantTable {
        let path = std::any::type_name::<T>();
        ConstantTable {
            rsm: path.rsplit("::").next().unwrap_or(path),
            header_enum: T::HEADER_ENUM,
            constants: T::constants(),
        }
    }
}

/// Every constant rsm defines that has a counterpart in `ntmsapi.h` or
/// `winerror.h`, one table per type.
///
/// **Each new type with NTMS or Win32 values must be added here**; the
/// header test only checks what this function lists.
pub fn ntms_constants() -> Vec<ConstantTable> {
    vec![
        ConstantTable::of::<ErrorCode>(),
        ConstantTable::of::<LibraryKind>(),
        ConstantTable::of::<OperationalState>(),
        ConstantTable::of::<DriveState>(),
        ConstantTable::of::<SlotState>(),
        ConstantTable::of::<DoorState>(),
        ConstantTable::of::<InventoryMethod>(),
        ConstantTable {
            rsm: "InventoryAction",
            header_enum: Some("NtmsInventoryMethod"),
            constants: vec![("NTMS_INVENTORY_STOP", i64::from(INVENTORY_STOP))],
        },
        ConstantTable {
            rsm: "CleanerInjectAction",
            header_enum: Some("NtmsInjectOperation"),
            constants: vec![
                ("NTMS_INJECT_START", i64::from(crate::CLEANER_START)),
                ("NTMS_INJECT_STOP", i64::from(crate::CLEANER_STOP)),
            ],
        },
        ConstantTable {
            rsm: "CleanerEjectAction",
            header_enum: Some("NtmsEjectOperation"),
            constants: vec![
                ("NTMS_EJECT_START", i64::from(crate::CLEANER_START)),
                ("NTMS_EJECT_STOP", i64::from(crate::CLEANER_STOP)),
            ],
        },
        ConstantTable {
            rsm: "LibraryFlags",
            header_enum: Some("NtmsLibraryFlags"),
            constants: vec![
                ("NTMS_LIBRARYFLAG_CLEANERPRESENT", i64::from(crate::LIBRARY_FLAG_CLEANER_PRESENT)),
                (
                    "NTMS_LIBRARYFLAG_IGNORECLEANERUSESREMAINING",
                    i64::from(crate::LIBRARY_FLAG_IGNORE_CLEANER_USES_REMAINING),
                ),
            ],
        },
        ConstantTable::of::<MediaState>(),
        ConstantTable::of::<RequestState>(),
        ConstantTable::of::<RequestKind>(),
        ConstantTable::of::<AccessMask>(),
        ConstantTable::of::<ReadWrite>(),
        ConstantTable::of::<PoolType>(),
        ConstantTable::of::<SideState>(),
        ConstantTable::of::<PoolAction>(),
        ConstantTable::of::<crate::operator::OperatorCommand>(),
        ConstantTable::of::<crate::object_management::ObjectType>(),
        ConstantTable::of::<crate::operator::OperatorRequestState>(),
        ConstantTable::of::<crate::notice::NoticeOperation>(),
        ConstantTable {
            rsm: "NOTIFICATION_TYPES",
            header_enum: Some("NtmsObjectsTypes"),
            constants: vec![
                ("NTMS_OBJECT", i64::from(*crate::notice::NOTIFICATION_TYPES.start())),
                ("NTMS_UI_DESTINATION", i64::from(*crate::notice::NOTIFICATION_TYPES.end())),
            ],
        },
        ConstantTable {
            rsm: "OmidLabel",
            header_enum: None,
            constants: vec![
                ("NTMS_OMID_TYPE_RAW_LABEL", i64::from(OmidLabel::RAW_LABEL)),
                ("NTMS_OMID_TYPE_FILESYSTEM_INFO", i64::from(OmidLabel::FILESYSTEM_INFO)),
            ],
        },
        ConstantTable {
            rsm: "limits",
            header_enum: None,
            constants: vec![
                // The header's lengths count the terminating NUL; rsm's count characters.
                ("NTMS_OBJECTNAME_LENGTH", limits::NAME_LEN_MAX as i64 + 1),
                ("NTMS_BARCODE_LENGTH", limits::BARCODE_LEN_MAX as i64 + 1),
            ],
        },
        ConstantTable {
            rsm: "limits",
            header_enum: Some("NtmsMountPriority"),
            constants: vec![
                ("NTMS_PRIORITY_LOWEST", limits::PRIORITY_MIN as i64),
                ("NTMS_PRIORITY_HIGHEST", limits::PRIORITY_MAX as i64),
            ],
        },
    ]
}

impl NtmsConstants for ErrorCode {
    const HEADER_ENUM: Option<&'static str> = None;

    fn constants() -> Vec<(&'static str, i64)> {
        ErrorCode::ALL.iter().map(|c| (c.name(), i64::from(c.code()))).collect()
    }
}

impl NtmsConstants for AccessMask {
    const HEADER_ENUM: Option<&'static str> = Some("NtmsAccessMask");

    fn constants() -> Vec<(&'static str, i64)> {
        vec![
            ("NTMS_USE_ACCESS", i64::from(AccessMask::USE.0)),
            ("NTMS_MODIFY_ACCESS", i64::from(AccessMask::MODIFY.0)),
            ("NTMS_CONTROL_ACCESS", i64::from(AccessMask::CONTROL.0)),
            // A `#define` (every right) rather than a member of the enum.
            ("NTMS_GENERIC_ALL", i64::from(AccessMask::ALL.0)),
        ]
    }
}

/// Gives a fieldless enum its NTMS values: `ALL`, `ntms_value()`,
/// `ntms_name()` and an [`NtmsConstants`] impl, from one list. The matches
/// are exhaustive, so a variant added to the enum but not here does not
/// compile. The type must still be listed in [`ntms_constants`].
///
/// ```text
/// ntms_values! {
///     DriveState in "NtmsDriveState" {
///         Dismounted = 0 => "NTMS_DRIVESTATE_DISMOUNTED",
///         Mounted = 1 => "NTMS_DRIVESTATE_MOUNTED",
///     }
/// }
/// ```
macro_rules! ntms_values {
    ($ty:ident in $header_enum:literal { $($variant:ident = $value:literal => $name:literal),* $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The NTMS value.
            pub const fn ntms_value(self) -> u32 {
                match self { $($ty::$variant => $value),* }
            }

            /// The NTMS name, e.g. `NTMS_READY`.
            pub const fn ntms_name(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
        }

        impl $crate::ntms::NtmsConstants for $ty {
            const HEADER_ENUM: Option<&'static str> = Some($header_enum);

            fn constants() -> Vec<(&'static str, i64)> {
                $ty::ALL.iter().map(|v| (v.ntms_name(), i64::from(v.ntms_value()))).collect()
            }
        }
    };
}
pub(crate) use ntms_values;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn every_symbol_is_listed_once() {
        let mut seen = BTreeMap::new();
        for table in ntms_constants() {
            assert!(!table.constants.is_empty(), "{} lists nothing", table.rsm);
            for (name, _) in table.constants {
                assert!(name.starts_with("NTMS_") || name.starts_with("ERROR_"), "{name} in {}", table.rsm);
                if let Some(other) = seen.insert(name, table.rsm) {
                    panic!("{name} is listed by both {other} and {}", table.rsm);
                }
            }
        }
    }

    #[test]
    fn tables_agree_with_the_accessors() {
        assert_eq!(ConstantTable::of::<DriveState>().rsm, "DriveState");
        assert!(DriveState::constants().contains(&("NTMS_DRIVESTATE_DISMOUNTABLE", 7)));
        assert_eq!(RequestKind::Mount.ntms_name(), "NTMS_LM_MOUNT");
        assert_eq!(RequestKind::ALL.len(), RequestKind::constants().len());
        assert!(ErrorCode::constants().contains(&("ERROR_INVALID_STATE", 5023)));
    }
}
