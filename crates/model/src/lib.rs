//! # rsm-model: the pure core of rsm
//!
//! Owns the vocabulary of the Removable Storage Manager: identifiers, the
//! library objects and their NTMS states, commands, events, NTMS error codes,
//! the acceptance [`Policy`], and the two pure functions everything else is
//! built on:
//!
//! * [`decide`]`(&State, &Policy, &Stamped<Command>) -> Result<Vec<Event>, NtmsError>`
//! * [`apply`]`(&mut State, &Event) -> Result<(), ApplyError>`
//!
//! **Must not touch:** I/O, clocks, randomness, threads, async. Time and the
//! request id arrive stamped on the command; ids of new objects are derived
//! from the request id ([`derive_id`]). That is what makes replay exact and
//! the whole engine simulable.
//!
//! [`ntms_constants`] lists every value rsm shares with the Windows SDK
//! headers (`ntmsapi.h`, `winerror.h`); a test checks each against them.
//!
//! ```
//! use rsm_model::*;
//! let policy = Policy::default();
//! let mut state = State::new();
//! let mut step = |state: &mut State, n: u128, command: Command| {
//!     let cmd = Stamped { at_ms: 1_000, request: RequestId(uuid::Uuid::from_u128(n)), command };
//!     let events = decide(state, &policy, &cmd)?;
//!     for e in &events {
//!         apply(state, e).expect("decided events apply");
//!     }
//!     Ok::<_, NtmsError>(events)
//! };
//! step(&mut state, 1, Command::OpenSession { principal: "alice".into(), application: String::new() }).unwrap();
//! let session = SessionId(uuid::Uuid::from_u128(1));
//! // A drive that holds nothing cannot be dismounted.
//! let spec = LibrarySpec { name: "lib".into(), kind: LibraryKind::Changer, drives: 1, slots: 2, ie_ports: 0, barcodes: vec!["A00001L8".into()], media_type: default_media_type(), unlabelled: vec![] };
//! step(&mut state, 2, Command::CreateLibrary { session, spec }).unwrap();
//! let drive = state.drive_named("lib-drive-1").unwrap().id;
//! let err = step(&mut state, 3, Command::DismountDrive { session, drive }).unwrap_err();
//! assert_eq!((err.name(), err.code()), ("ERROR_INVALID_STATE", 5023));
//! state.check_invariants().unwrap();
//! ```
#![deny(missing_docs)]

mod apply;
mod command;
mod decide;
mod error;
mod event;
mod ids;
pub mod limits;
mod media_labels;
mod media_reports;
mod media_services;
mod notice;
mod ntms;
mod object_management;
mod objects;
mod operator;
#[cfg(feature = "planted-bug")]
mod planted;
mod policy;
mod reference;
mod state;

#[cfg(not(feature = "planted-bug"))]
pub use apply::apply;
pub use command::*;
pub use decide::{decide, request_order, CLEANER_START, CLEANER_STOP, EJECT_ASK_USER, EJECT_FORCE, EJECT_STOP};
pub use error::{ApplyError, ErrorCode, MissingObject, NtmsError};
pub use event::*;
pub use ids::*;
pub use media_labels::*;
pub use media_reports::*;
pub use media_services::*;
pub use notice::{check_open_notification, notices, notification_type, Notice, NoticeOperation, NOTIFICATION_TYPES};
pub use ntms::{ntms_constants, ConstantTable, NtmsConstants};
pub use object_management::*;
pub use objects::*;
pub use operator::*;
#[cfg(feature = "planted-bug")]
pub use planted::apply;
pub use policy::Policy;
pub use reference::{
    drive_reference, library_reference, logical_media_reference, media_reference, object_reference, pool_reference,
    side_reference, slot_reference,
};
pub use state::State;
pub use uuid;
