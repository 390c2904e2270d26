//! Operator requests (spec §6): what rsm asks a person to do, and what
//! became of it.
//!
//! rsm raises NTMS_OPREQ_NEWMEDIA itself when an allocation finds a pool
//! empty; applications submit any kind (SubmitNtmsOperatorRequest), and
//! operators satisfy or refuse them.

use crate::error::ErrorCode;
use crate::ids::{LibraryId, MediaId, OperatorRequestId, PoolId, SessionId};
use crate::ntms::ntms_values;
use crate::objects::ObjectRef;
use serde::{Deserialize, Serialize};

/// What the operator is asked to do (`NtmsOpreqCommand`, with its
/// arguments).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperatorRequestKind {
    /// NTMS_OPREQ_NEWMEDIA (1): bring media for this pool (Arg1).
    NewMedia {
        /// The pool an allocation found empty.
        pool: PoolId,
    },
    /// NTMS_OPREQ_CLEANER (2): a cleaner for this library (Arg1).
    Cleaner {
        /// The library.
        library: LibraryId,
    },
    /// NTMS_OPREQ_DEVICESERVICE (3): service this device (Arg1: a library,
    /// a drive or a medium).
    DeviceService {
        /// The device.
        device: ObjectRef,
    },
    /// NTMS_OPREQ_MOVEMEDIA (4): move this medium (Arg1), into this library
    /// (Arg2) if one is named.
    MoveMedia {
        /// The medium.
        media: MediaId,
        /// The library to bring it to.
        library: Option<LibraryId>,
    },
    /// NTMS_OPREQ_MESSAGE (5): a message, nothing to move.
    Message,
}

impl OperatorRequestKind {
    /// The kind without its arguments.
    pub fn command(&self) -> OperatorCommand {
        match self {
            OperatorRequestKind::NewMedia { .. } => OperatorCommand::NewMedia,
            OperatorRequestKind::Cleaner { .. } => OperatorCommand::Cleaner,
            OperatorRequestKind::DeviceService { .. } => OperatorCommand::DeviceService,
            OperatorRequestKind::MoveMedia { .. } => OperatorCommand::MoveMedia,
            OperatorRequestKind::Message => OperatorCommand::Message,
        }
    }

    /// Its name in views and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            OperatorRequestKind::NewMedia { .. } => "new-media",
            OperatorRequestKind::Cleaner { .. } => "cleaner",
            OperatorRequestKind::DeviceService { .. } => "device-service",
            OperatorRequestKind::MoveMedia { .. } => "move-media",
            OperatorRequestKind::Message => "message",
        }
    }
}

/// The longest message an operator request carries, in characters.
pub const OPERATOR_MESSAGE_LEN_MAX: usize = 255;

/// `NtmsOpreqCommand`: the kinds of operator request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperatorCommand {
    /// NTMS_OPREQ_NEWMEDIA (1).
    NewMedia,
    /// NTMS_OPREQ_CLEANER (2).
    Cleaner,
    /// NTMS_OPREQ_DEVICESERVICE (3).
    DeviceService,
    /// NTMS_OPREQ_MOVEMEDIA (4).
    MoveMedia,
    /// NTMS_OPREQ_MESSAGE (5).
    Message,
}

ntms_values! {
    OperatorCommand in "NtmsOpreqCommand" {
        NewMedia = 1 => "NTMS_OPREQ_NEWMEDIA",
        Cleaner = 2 => "NTMS_OPREQ_CLEANER",
        DeviceService = 3 => "NTMS_OPREQ_DEVICESERVICE",
        MoveMedia = 4 => "NTMS_OPREQ_MOVEMEDIA",
        Message = 5 => "NTMS_OPREQ_MESSAGE",
    }
}

/// `NtmsOpreqState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperatorRequestState {
    /// NTMS_OPSTATE_SUBMITTED (1): raised, not yet seen by a console.
    Submitted,
    /// NTMS_OPSTATE_ACTIVE (2): shown on a console.
    Active,
    /// NTMS_OPSTATE_INPROGRESS (3): an operator works on it.
    InProgress,
    /// NTMS_OPSTATE_REFUSED (4): refused or withdrawn (terminal).
    Refused,
    /// NTMS_OPSTATE_COMPLETE (5): done (terminal).
    Complete,
}

ntms_values! {
    OperatorRequestState in "NtmsOpreqState" {
        Submitted = 1 => "NTMS_OPSTATE_SUBMITTED",
        Active = 2 => "NTMS_OPSTATE_ACTIVE",
        InProgress = 3 => "NTMS_OPSTATE_INPROGRESS",
        Refused = 4 => "NTMS_OPSTATE_REFUSED",
        Complete = 5 => "NTMS_OPSTATE_COMPLETE",
    }
}

impl OperatorRequestState {
    /// REFUSED and COMPLETE are final.
    pub fn is_terminal(self) -> bool {
        matches!(self, OperatorRequestState::Refused | OperatorRequestState::Complete)
    }
}

/// An operator request (`NTMS_OPREQUESTINFORMATION`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorRequest {
    /// Id.
    pub id: OperatorRequestId,
    /// What is asked, with its arguments.
    pub kind: OperatorRequestKind,
    /// State.
    pub state: OperatorRequestState,
    /// The session whose operation raised it (the server raises it on the
    /// caller's behalf).
    pub session: SessionId,
    /// The raising session's principal.
    pub principal: String,
    /// The message shown to the operator.
    pub text: String,
    /// When it was raised (ms since the epoch).
    pub submitted_ms: u64,
    /// When it reached REFUSED or COMPLETE.
    pub closed_ms: Option<u64>,
    /// Why it was refused when rsm withdrew it (the raising operation's
    /// error: ERROR_TIMEOUT, ERROR_CANCELLED).
    pub reason: Option<ErrorCode>,
}

impl OperatorRequest {
    /// A request just raised (SUBMITTED) by `principal`'s session `session`
    /// (the zero session: rsm itself, for no caller's operation).
    pub fn submitted(
        id: OperatorRequestId,
        kind: OperatorRequestKind,
        session: SessionId,
        principal: &str,
        text: String,
        at_ms: u64,
    ) -> Self {
        Self {
            id,
            kind,
            state: OperatorRequestState::Submitted,
            session,
            principal: principal.to_string(),
            text,
            submitted_ms: at_ms,
            closed_ms: None,
            reason: None,
        }
    }
}
