//! NTMS error codes (Win32 values from `winerror.h`) and the error type every
//! rejected command returns.

use crate::ids::*;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $value:literal => $name:literal, $sentence:literal; )*) => {
        /// An NTMS result code with its Win32 numeric value.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code rsm knows, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The Win32 numeric value.
            pub const fn code(self) -> u32 {
                match self { $(ErrorCode::$variant => $value,)* }
            }

            /// The symbolic name, e.g. `ERROR_INVALID_STATE`.
            pub const fn name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* }
            }

            /// A human sentence describing the code in general.
            pub const fn sentence(self) -> &'static str {
                match self { $(ErrorCode::$variant => $sentence,)* }
            }

            /// Looks a code up by its Win32 value.
            pub fn from_code(value: u32) -> Option<ErrorCode> {
                match value { $($value => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

error_codes! {
    /// Done, or accepted and queued.
    Success = 0 => "ERROR_SUCCESS", "the operation succeeded";
    /// The caller lacks the right the function needs.
    AccessDenied = 5 => "ERROR_ACCESS_DENIED", "access is denied";
    /// The session is missing, closed or unknown.
    InvalidHandle = 6 => "ERROR_INVALID_HANDLE", "the session handle is not valid";
    /// The request queue or an allocation limit is full.
    NotEnoughMemory = 8 => "ERROR_NOT_ENOUGH_MEMORY", "not enough resources to accept the call";
    /// The drive id names no drive.
    InvalidDrive = 15 => "ERROR_INVALID_DRIVE", "the drive identifier names no drive";
    /// The service restarted before the work was done (rsm: a request
    /// reconciled after a crash that had not happened is failed with it and re-queued).
    NotReady = 21 => "ERROR_NOT_READY", "the service was not ready";
    /// The operation does not apply to this device.
    NotSupported = 50 => "ERROR_NOT_SUPPORTED", "the operation is not supported by this device";
    /// A required argument is missing or out of range.
    InvalidParameter = 87 => "ERROR_INVALID_PARAMETER", "a parameter is missing or not valid";
    /// No media label library recognizes a side's label.
    BadFormat = 11 => "ERROR_BAD_FORMAT", "no media label library recognizes the label";
    /// A side is complete, read-only or write-once and a write was asked.
    WriteProtect = 19 => "ERROR_WRITE_PROTECT", "the media is write protected";
    /// A name is malformed or too long.
    InvalidName = 123 => "ERROR_INVALID_NAME", "the name is not valid";
    /// A buffer (an attribute's, a list's) is too small for the answer.
    InsufficientBuffer = 122 => "ERROR_INSUFFICIENT_BUFFER", "the buffer is too small";
    /// An attribute's data is too large.
    NoData = 232 => "ERROR_NO_DATA", "the data is too large";
    /// The object has no security descriptor of its own.
    NoSecurityOnObject = 1350 => "ERROR_NO_SECURITY_ON_OBJECT", "the object has no security of its own";
    /// Media or drives are in use.
    Busy = 170 => "ERROR_BUSY", "the media or drive is in use";
    /// An object with that name already exists.
    AlreadyExists = 183 => "ERROR_ALREADY_EXISTS", "an object with that name already exists";
    /// The adapter lost the device (request failures only).
    DeviceNotConnected = 1167 => "ERROR_DEVICE_NOT_CONNECTED", "the device is not connected";
    /// The request was cancelled.
    Cancelled = 1223 => "ERROR_CANCELLED", "the request was cancelled";
    /// The caller's timeout expired.
    Timeout = 1460 => "ERROR_TIMEOUT", "the operation timed out";
    /// A medium id is not valid, duplicated, or in use where it must not be.
    InvalidMedia = 4300 => "ERROR_INVALID_MEDIA", "the media identifier is not valid";
    /// The library is not valid for this operation.
    InvalidLibrary = 4301 => "ERROR_INVALID_LIBRARY", "the library is not valid";
    /// The medium and the drive are not in the same library.
    DriveMediaMismatch = 4303 => "ERROR_DRIVE_MEDIA_MISMATCH", "the media and the drive are not in the same library";
    /// The pool id names no pool, or not one this operation may use.
    InvalidMediaPool = 4302 => "ERROR_INVALID_MEDIA_POOL", "the media pool is not valid";
    /// The medium is offline.
    MediaOffline = 4304 => "ERROR_MEDIA_OFFLINE", "the media is offline";
    /// The library is offline.
    LibraryOffline = 4305 => "ERROR_LIBRARY_OFFLINE", "the library is offline";
    /// The object still holds others (a pool its media or pools).
    NotEmpty = 4307 => "ERROR_NOT_EMPTY", "the object is not empty";
    /// No medium could be allocated.
    MediaUnavailable = 4308 => "ERROR_MEDIA_UNAVAILABLE", "no media is available";
    /// A resource needed by the call is disabled.
    ResourceDisabled = 4309 => "ERROR_RESOURCE_DISABLED", "a resource required for this operation is disabled";
    /// The id names no object of the expected kind.
    ObjectNotFound = 4312 => "ERROR_OBJECT_NOT_FOUND", "the object was not found";
    /// The event log is unreachable or damaged.
    DatabaseFailure = 4313 => "ERROR_DATABASE_FAILURE", "the database is unreachable or damaged";
    /// The event log reached its configured capacity.
    DatabaseFull = 4314 => "ERROR_DATABASE_FULL", "the database is full";
    /// The media type does not fit (a pool's, a drive's, a side count).
    MediaIncompatible = 4315 => "ERROR_MEDIA_INCOMPATIBLE", "the media is not compatible";
    /// The medium is disabled or otherwise unavailable.
    MediaNotAvailable = 4318 => "ERROR_MEDIA_NOT_AVAILABLE", "the media is not available";
    /// A device needed is not enabled or not connected.
    DeviceNotAvailable = 4319 => "ERROR_DEVICE_NOT_AVAILABLE", "the device is not available";
    /// The operator refused the operator request a call waited on.
    RequestRefused = 4320 => "ERROR_REQUEST_REFUSED", "the operator refused the request";
    /// The changer cannot reach the medium (request failures only).
    MediumNotAccessible = 4323 => "ERROR_MEDIUM_NOT_ACCESSIBLE", "the changer cannot reach the medium";
    /// The drive would not load or unload the medium (request failures only).
    UnableToLoadMedium = 4324 => "ERROR_UNABLE_TO_LOAD_MEDIUM", "the drive could not load or unload the medium";
    /// No free slot is available.
    LibraryFull = 4322 => "ERROR_LIBRARY_FULL", "no free slot is available";
    /// The robot's gripper already holds a medium (request failures only).
    TransportFull = 4328 => "ERROR_TRANSPORT_FULL", "the transport already holds a medium";
    /// A drive object is inconsistent with the hardware (request failures only).
    InvalidDriveObject = 4321 => "ERROR_INVALID_DRIVE_OBJECT", "the drive object does not match the hardware";
    /// A required resource (door, port, slot) does not exist.
    ResourceNotPresent = 4316 => "ERROR_RESOURCE_NOT_PRESENT", "a required resource (door, port, slot) does not exist";
    /// The slot or drive is not available.
    ResourceNotAvailable = 5006 => "ERROR_RESOURCE_NOT_AVAILABLE", "the resource is not available";
    /// The object is not in a state that allows the operation.
    InvalidState = 5023 => "ERROR_INVALID_STATE", "the object is not in a state that allows this operation";
    /// The service cannot be reached (a notification channel of an engine that stopped).
    NotConnected = 2250 => "ERROR_NOT_CONNECTED", "the service is unreachable";
    /// The reserved cleaner slot holds no cleaner.
    Empty = 4306 => "ERROR_EMPTY", "the library, drive, slot or pool is empty";
    /// The cartridge offered as a cleaner is not one (a data cartridge).
    InvalidCleaner = 4310 => "ERROR_INVALID_CLEANER", "the cleaner cartridge is not valid";
    /// The drive could not be cleaned (request failures only).
    UnableToClean = 4311 => "ERROR_UNABLE_TO_CLEAN", "the drive could not be cleaned";
    /// STOP named no operation in progress.
    InvalidOperation = 4317 => "ERROR_INVALID_OPERATION", "the operation identifier is not valid";
    /// A cleaner slot is already reserved in the library.
    CleanerSlotSet = 4331 => "ERROR_CLEANER_SLOT_SET", "a cleaner slot is already reserved";
    /// No cleaner slot is reserved in the library.
    CleanerSlotNotSet = 4332 => "ERROR_CLEANER_SLOT_NOT_SET", "no cleaner slot is reserved";
    /// The cleaner has no cleanings left.
    CleanerCartridgeSpent = 4333 => "ERROR_CLEANER_CARTRIDGE_SPENT", "the cleaner has no cleanings left";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

/// A rejected command or a failed request: an NTMS code and a sentence about
/// this particular case.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct NtmsError {
    code: ErrorCode,
    message: String,
}

impl NtmsError {
    /// An error with `code` and a sentence naming the objects involved.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    /// The NTMS code.
    pub fn kind(&self) -> ErrorCode {
        self.code
    }

    /// The Win32 numeric value.
    pub fn code(&self) -> u32 {
        self.code.code()
    }

    /// The symbolic name, e.g. `ERROR_INVALID_STATE`.
    pub fn name(&self) -> &'static str {
        self.code.name()
    }

    /// The sentence about this case.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An event that cannot be applied: it names an object the projection does
/// not have. Every event in a log of rsm's was decided against the state it
/// follows, so this means a damaged or foreign log (or, in a live engine, a
/// rule that `decide` and `apply` disagree on). The engine turns it into
/// ERROR_DATABASE_FAILURE naming the record's sequence number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{event} names {missing}")]
pub struct ApplyError {
    /// The event's name ([`crate::Event::name`]).
    pub event: &'static str,
    /// What it names that is not there.
    pub missing: MissingObject,
}

/// An object an event names (directly, or through the request it names)
/// that the projection does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingObject {
    /// No such session.
    Session(SessionId),
    /// No such library.
    Library(LibraryId),
    /// No such drive.
    Drive(DriveId),
    /// No such slot.
    Slot(SlotId),
    /// No such import/export port.
    Port(PortId),
    /// No such medium.
    Medium(MediaId),
    /// No such library request.
    Request(RequestId),
    /// The request lacks the element its kind always names (a mount's
    /// drive, a dismount's or an inject's slot, an eject's port).
    RequestElement {
        /// The request.
        request: RequestId,
        /// `"drive"`, `"slot"` or `"port"`.
        element: &'static str,
    },
    /// No such media type in the catalog.
    MediaType(MediaTypeId),
    /// No such pool.
    Pool(PoolId),
    /// No such side.
    Side(SideId),
    /// No such logical medium.
    LogicalMedia(LogicalMediaId),
    /// No such operator request.
    OperatorRequest(OperatorRequestId),
    /// No such change detection.
    Detection(DetectionId),
    /// An object of this type has no such writable field.
    Field {
        /// The object's type.
        object_type: &'static str,
        /// The field.
        field: &'static str,
    },
}

impl fmt::Display for MissingObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MissingObject::Session(id) => write!(f, "unknown session {id}"),
            MissingObject::Library(id) => write!(f, "unknown library {id}"),
            MissingObject::Drive(id) => write!(f, "unknown drive {id}"),
            MissingObject::Slot(id) => write!(f, "unknown slot {id}"),
            MissingObject::Port(id) => write!(f, "unknown port {id}"),
            MissingObject::Medium(id) => write!(f, "unknown medium {id}"),
            MissingObject::Request(id) => write!(f, "unknown request {id}"),
            MissingObject::RequestElement { request, element } => write!(f, "request {request} without its {element}"),
            MissingObject::MediaType(id) => write!(f, "unknown media type {id}"),
            MissingObject::Pool(id) => write!(f, "unknown pool {id}"),
            MissingObject::Side(id) => write!(f, "unknown side {id}"),
            MissingObject::LogicalMedia(id) => write!(f, "unknown logical medium {id}"),
            MissingObject::OperatorRequest(id) => write!(f, "unknown operator request {id}"),
            MissingObject::Detection(id) => write!(f, "unknown change detection {id}"),
            MissingObject::Field { object_type, field } => write!(f, "a {object_type} has no field {field}"),
        }
    }
}

/// Shorthand used by `decide`.
pub(crate) fn reject<T>(code: ErrorCode, message: impl Into<String>) -> Result<T, NtmsError> {
    Err(NtmsError::new(code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_winerror() {
        let table = [
            (ErrorCode::Success, 0),
            (ErrorCode::AccessDenied, 5),
            (ErrorCode::InvalidHandle, 6),
            (ErrorCode::NotEnoughMemory, 8),
            (ErrorCode::InvalidDrive, 15),
            (ErrorCode::InvalidParameter, 87),
            (ErrorCode::Busy, 170),
            (ErrorCode::InvalidMedia, 4300),
            (ErrorCode::InvalidLibrary, 4301),
            (ErrorCode::DriveMediaMismatch, 4303),
            (ErrorCode::DatabaseFailure, 4313),
            (ErrorCode::DatabaseFull, 4314),
            (ErrorCode::DeviceNotAvailable, 4319),
            (ErrorCode::LibraryFull, 4322),
            (ErrorCode::InvalidState, 5023),
            (ErrorCode::NotConnected, 2250),
        ];
        for (code, value) in table {
            assert_eq!(code.code(), value, "{}", code.name());
            assert_eq!(ErrorCode::from_code(value), Some(code));
        }
    }

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.code()), "duplicate value {}", code.code());
            assert!(code.name().starts_with("ERROR_"));
        }
    }

    #[test]
    fn error_reports_code_and_name() {
        let e = NtmsError::new(ErrorCode::InvalidState, "drive d1 holds no medium");
        assert_eq!(e.code(), 5023);
        assert_eq!(e.name(), "ERROR_INVALID_STATE");
        assert_eq!(e.to_string(), "drive d1 holds no medium");
    }
}
