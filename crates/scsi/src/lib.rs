//! # rsm-scsi: the SCSI vocabulary of a tape library
//!
//! Owns **CDB building and response/sense parsing** for a SCSI medium
//! changer (SMC-3) and its tape drives (SPC-4, SSC-3): the bytes to send
//! ([`cdb`]) and what the answers mean ([`inquiry`], [`mode_sense`],
//! [`element_status`], [`sense`]).
//!
//! It **must not touch I/O, NTMS objects or codes, or the event log**: it is
//! bytes in, values out. Transports (iSCSI, SG_IO) and the adapter that
//! drives a library with them live elsewhere and call this crate.
//!
//! Key types: [`ElementStatus`] and [`ElementDescriptor`] (READ ELEMENT
//! STATUS), [`ElementMap`] (MODE SENSE page 1Dh), [`Sense`] and its
//! [`Condition`], [`StandardInquiry`] and [`DeviceId`], and [`ParseError`],
//! the one error of every parser. Parsers never panic, never loop without
//! consuming input and never allocate from a length field: what they
//! allocate grows with the input they were given (checked by property tests
//! under a counting allocator).
//!
//! ## Sense → NTMS, for the engine
//!
//! This crate stops at [`Condition`]. The engine owns the mapping to NTMS
//! codes (spec and ARCHITECTURE.md: adapters never see them); it should
//! follow this table:
//!
//! | [`Condition`] | NTMS code |
//! |---|---|
//! | `SourceEmpty` (3B/0E) | ERROR_MEDIUM_NOT_ACCESSIBLE (4323) |
//! | `DestinationFull` (3B/0D) | ERROR_RESOURCE_NOT_AVAILABLE (5006) |
//! | `RemovalPrevented` (53/02) | ERROR_UNABLE_TO_LOAD_MEDIUM (4324) |
//! | `NotReady { .. }` (04/xx, key 2) | ERROR_DEVICE_NOT_AVAILABLE (4319) |
//! | `ElementDisabled` (3B/18) | ERROR_RESOURCE_DISABLED (4309) |
//! | `UnitAttention` (key 6: 28/00, 29/xx) | none: retry the command (bounded), re-read element status |
//! | `InvalidField` (24/00), `InvalidElementAddress` (21/01) | ERROR_INVALID_DRIVE_OBJECT (4321) |
//! | `HardwareError` (key 4) | ERROR_MEDIUM_NOT_ACCESSIBLE (4323) |
//! | `MediumNotPresent` (3A/xx), `Other` | the engine's choice for the command at hand |
//!
//! ## What real devices do (tgt 1.0.85, the test library)
//!
//! Checked against captures in `tests/fixtures/tgt_*.hex`:
//!
//! - READ ELEMENT STATUS sends 8 bytes fewer than its byte counts say, so the
//!   last descriptor is cut: with VolTag only its zero tail, without VolTag
//!   its SValid and source address, with DVCID the end of its identifier.
//!   [`element_status::parse`] keeps what is whole and flags the rest
//!   ([`ElementDescriptor::truncated`], [`ElementStatus::truncated`]).
//!   Always ask with VolTag.
//! - The header's first element address is wrong for a type with one
//!   element; the parser never uses it.
//! - Element type 0 (all) overwrites its own pages: ask for each type
//!   separately. (The parser rejects tgt's answer: its page walk lands on a
//!   reserved element type code.)
//! - Only FULL is ever set: no ACCESS, EXCEPT, ImpExp, InEnab or ExEnab.
//!   `access == false` from tgt does not mean inaccessible.
//! - The source address is the previous element of the last move, not the
//!   medium's home slot; a failed load leaves a stale volume tag on an
//!   empty drive.
//! - A drive not linked to a tape LUN shows ASC/ASCQ 04/02.
//!
//! ## Example
//!
//! ```
//! use rsm_scsi::{cdb, mode_sense, sense, Condition, ElementRange, ModeHeader};
//!
//! // MODE SENSE(6) of page 1Dh, and tgt's answer to it.
//! assert_eq!(cdb::mode_sense6_element_address(255), [0x1a, 0x08, 0x1d, 0x00, 0xff, 0x00]);
//! let answer = [
//!     0x17, 0x00, 0x00, 0x00, 0x1d, 0x12, 0x00, 0x01, 0x00, 0x01, 0x03, 0xe8, 0x00, 0x0a,
//!     0x00, 0x0a, 0x00, 0x01, 0x01, 0xf4, 0x00, 0x02, 0x00, 0x00,
//! ];
//! let map = mode_sense::parse_element_address_assignment(&answer, ModeHeader::Six)?;
//! assert_eq!(map.storage, ElementRange { first: 1000, count: 10 });
//! assert_eq!(map.data_transfer, ElementRange { first: 500, count: 2 });
//!
//! // MOVE MEDIUM 1001 -> 500 while 500 is full: tgt's sense data.
//! let check = [
//!     0x70, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x0d,
//!     0x00, 0x00, 0x00, 0x00,
//! ];
//! let sense = sense::parse(&check)?;
//! assert_eq!(sense.classify(), Condition::DestinationFull);
//! assert_eq!(sense.to_string(), "ILLEGAL REQUEST, ASC/ASCQ 3B/0D");
//! # Ok::<(), rsm_scsi::ParseError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Bytes come from a device: no indexing, no unchecked arithmetic, no lossy
// casts, no panics outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod cdb;
pub mod element_status;
mod error;
pub mod inquiry;
pub mod mode_sense;
pub mod sense;

pub use element_status::{
    ElementDescriptor, ElementStatus, ElementStatusHeader, ElementType, ElementTypeCode, MediumType,
};
pub use error::{ParseError, ParseErrorKind};
pub use inquiry::{Association, CodeSet, DeviceId, DeviceType, IdType, StandardInquiry};
pub use mode_sense::{ElementMap, ElementRange, ModeHeader};
pub use sense::{asc_ascq_text, explain, Condition, Sense, SenseFormat, SenseKey};
