//! Newtype identifiers. Every object is named by a 128-bit id (an `NTMS_GUID`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The all-zero id (`NTMS_NULLGUID`); rsm treats it as a missing argument.
            pub const NIL: Self = Self(Uuid::nil());

            /// True for the all-zero id.
            pub fn is_nil(&self) -> bool {
                self.0.is_nil()
            }
        }

        /// The zero id: a missing argument.
        impl Default for $name {
            fn default() -> Self {
                Self::NIL
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::from_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A session opened by a principal; every command names one.
    SessionId
);
id_type!(
    /// A library: a robotic changer library or a stand-alone drive.
    LibraryId
);
impl LibraryId {
    /// The offline library: the shelf outside every device. Media of a
    /// deleted library go there (spec §3.3, DeleteNtmsLibrary); it is no
    /// object of the projection, so it cannot be deleted or addressed.
    /// (Its id spells "offline" in ASCII.)
    pub const OFFLINE: LibraryId = LibraryId(Uuid::from_u128(0x006f_6666_6c69_6e65));
}

id_type!(
    /// A drive (data transfer element).
    DriveId
);
id_type!(
    /// A storage slot.
    SlotId
);
id_type!(
    /// An import/export port.
    PortId
);
id_type!(
    /// A device change detection (BeginNtmsDeviceChangeDetection's handle).
    DetectionId
);
id_type!(
    /// A physical medium (cartridge).
    MediaId
);
id_type!(
    /// A library request, and the correlation id of the command that made it.
    RequestId
);

id_type!(
    /// A media type (`NTMS_MEDIA_TYPE`): one of the catalog's
    /// ([`crate::media_types`]), fixed for ever.
    MediaTypeId
);
id_type!(
    /// A media pool (`NTMS_MEDIA_POOL`): a system pool or an application's.
    PoolId
);
id_type!(
    /// A side of a physical medium (`NTMS_PARTITION`).
    SideId
);
id_type!(
    /// A logical medium (`NTMS_LOGICAL_MEDIA`, an LMID): what an application
    /// holds while a side is allocated to it.
    LogicalMediaId
);
id_type!(
    /// An operator request (`NTMS_OPREQUEST`): something rsm asks a person
    /// to do, such as bringing new media.
    OperatorRequestId
);

impl SideId {
    /// The id of side `number` of `media`: a pure function of the medium's
    /// id, so the events that make a medium need not carry its sides'.
    pub fn of(media: MediaId, number: u8) -> SideId {
        SideId(derive_id(RequestId(media.0), SIDE_SALT + u64::from(number)))
    }
}

/// Keeps sides' derived ids apart from the ids a command derives (which
/// count from 0).
const SIDE_SALT: u64 = 0x51DE_0000_0000;

/// Derives the `n`-th object id of a command from the command's request id.
///
/// `decide` may not draw randomness, yet commands such as CreateLibrary mint
/// many ids: they are a pure function of the stamped request id, so replaying
/// the same command yields the same ids.
pub fn derive_id(request: RequestId, n: u64) -> Uuid {
    let bytes = request.0.as_u128();
    let hi = splitmix64((bytes >> 64) as u64 ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let lo = splitmix64(bytes as u64 ^ hi ^ n);
    let mut id = ((hi as u128) << 64) | lo as u128;
    // Shape it as a version-8 (custom) RFC 9562 uuid so tools print it sensibly.
    id = (id & !(0xF << 76)) | (0x8 << 76);
    id = (id & !(0x3 << 62)) | (0x2 << 62);
    Uuid::from_u128(id)
}

/// SplitMix64: a tiny, well-known bijective mixer.
pub fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_distinct_and_stable() {
        let r = RequestId(Uuid::from_u128(42));
        let a = derive_id(r, 0);
        let b = derive_id(r, 1);
        assert_ne!(a, b);
        assert_eq!(a, derive_id(r, 0));
        assert!(!a.is_nil());
        assert_eq!(a.get_version_num(), 8);
    }

    #[test]
    fn ids_parse_and_print() {
        let id = DriveId(Uuid::from_u128(7));
        let back: DriveId = id.to_string().parse().expect("printed ids parse");
        assert_eq!(id, back);
        assert!(DriveId::NIL.is_nil());
    }
}
