//! Operator requests (spec §3.5, §6): those applications submit, the
//! operators' answers (satisfy, refuse), and an allocation's
//! NTMS_OPREQ_NEWMEDIA withdrawn when its caller stops waiting.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::object_management::require_over;
use crate::objects::{AccessMask, ObjectRef};
use crate::operator::*;

impl<'a> Ctx<'a> {
    /// SubmitNtmsOperatorRequest. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a message of at most 255 characters without control characters,
    ///    the kind's arguments given (not zero ids) and a device that is a
    ///    library, a drive or a medium (ERROR_INVALID_PARAMETER);
    /// 3. the arguments exist (ERROR_OBJECT_NOT_FOUND);
    /// 4. USE on the computer for a message, CONTROL on the library for a
    ///    cleaner or a device's service, CONTROL over the pool (or the
    ///    medium's container) for new media or a move (ERROR_ACCESS_DENIED).
    pub(super) fn submit_operator_request(
        &self,
        session: SessionId,
        kind: &OperatorRequestKind,
        message: &str,
    ) -> Result<Vec<Event>, NtmsError> {
        use OperatorRequestKind as K;
        let s = self.session(session)?;
        if message.chars().count() > OPERATOR_MESSAGE_LEN_MAX || message.chars().any(char::is_control) {
            return reject(
                E::InvalidParameter,
                format!("a message has at most {OPERATOR_MESSAGE_LEN_MAX} characters, none of them control characters"),
            );
        }
        let (object, right) = match *kind {
            K::NewMedia { pool } if !pool.is_nil() => (ObjectRef::Pool(pool), AccessMask::CONTROL),
            K::Cleaner { library } if !library.is_nil() => (ObjectRef::Library(library), AccessMask::CONTROL),
            K::DeviceService { device: d @ ObjectRef::Library(l) } if !l.is_nil() => (d, AccessMask::CONTROL),
            K::DeviceService { device: d @ ObjectRef::Drive(x) } if !x.is_nil() => (d, AccessMask::CONTROL),
            K::DeviceService { device: d @ ObjectRef::Media(m) } if !m.is_nil() => (d, AccessMask::CONTROL),
            K::MoveMedia { media, library } if !media.is_nil() && library.is_none_or(|l| !l.is_nil()) => {
                (ObjectRef::Media(media), AccessMask::CONTROL)
            }
            K::Message => (ObjectRef::Computer, AccessMask::USE),
            _ => {
                return reject(
                    E::InvalidParameter,
                    format!(
                        "a {} request needs its arguments (a device is a library, a drive or a medium)",
                        kind.name()
                    ),
                )
            }
        };
        crate::object_management::governor(self.state, object)?;
        if let K::MoveMedia { library: Some(l), .. } = kind {
            if !self.state.libraries.contains_key(l) {
                return reject(E::ObjectNotFound, format!("no library {l}"));
            }
        }
        require_over(self.state, self.policy, &s.principal, object, right, "ask the operator about it")?;
        let text = if message.is_empty() {
            format!("{} requested about {}", kind.name(), crate::object_management::object_name(self.state, object))
        } else {
            message.to_string()
        };
        let request = OperatorRequest::submitted(
            OperatorRequestId(self.cmd.request.0),
            *kind,
            session,
            &s.principal,
            text,
            self.now(),
        );
        Ok(vec![Event::OperatorRequestSubmitted { request }])
    }

    /// SatisfyNtmsOperatorRequest (`to` COMPLETE) and
    /// CancelNtmsOperatorRequest (`to` REFUSED). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a request id (ERROR_INVALID_PARAMETER);
    /// 3. the request exists (ERROR_OBJECT_NOT_FOUND);
    /// 4. CONTROL on the computer (ERROR_ACCESS_DENIED);
    /// 5. it is still open (satisfy: ERROR_OBJECT_NOT_FOUND, "already
    ///    finished"; cancel: ERROR_INVALID_STATE).
    ///
    /// The operation that raised it reacts (spec §6.3): a waiting allocation
    /// searches again on COMPLETE and fails with ERROR_CANCELLED on REFUSED.
    pub(super) fn answer_operator_request(
        &self,
        session: SessionId,
        id: OperatorRequestId,
        to: OperatorRequestState,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if id.is_nil() {
            return reject(E::InvalidParameter, "an operator request id is required");
        }
        let r = self
            .state
            .operator_requests
            .get(&id)
            .ok_or_else(|| NtmsError::new(E::ObjectNotFound, format!("no operator request {id}")))?;
        let what = if to == OperatorRequestState::Complete { "satisfy it" } else { "refuse it" };
        require_over(self.state, self.policy, &s.principal, ObjectRef::Computer, AccessMask::CONTROL, what)?;
        if r.state.is_terminal() {
            let code = if to == OperatorRequestState::Complete { E::ObjectNotFound } else { E::InvalidState };
            return reject(code, format!("operator request {id} is already {}", r.state.ntms_name()));
        }
        let mut events = vec![self.operator_request_closed(id, to, None)];
        // A mount waiting for the medium asked for fails (spec §6.3).
        if to == OperatorRequestState::Refused {
            let mount = self.state.awaiting_media.iter().find(|(_, o)| **o == id).map(|(r, _)| *r);
            events.extend(mount.map(|request| Event::MountRefusedByOperator { request, at_ms: self.now() }));
            events.extend(self.cleanings_refused(id));
        }
        Ok(events)
    }

    /// The operator request a caller waits on: its own session's (else
    /// ERROR_ACCESS_DENIED), existing (ERROR_OBJECT_NOT_FOUND).
    pub(super) fn own_operator_request(
        &self,
        session: SessionId,
        id: OperatorRequestId,
    ) -> Result<&'a OperatorRequest, NtmsError> {
        let r = self
            .state
            .operator_requests
            .get(&id)
            .ok_or_else(|| NtmsError::new(E::ObjectNotFound, format!("no operator request {id}")))?;
        if r.session != session {
            return reject(E::AccessDenied, format!("operator request {id} was raised by another session"));
        }
        Ok(r)
    }

    /// Withdrawing an operator request when the operation that raised it
    /// ends without it (rsm rule, spec §6.2: REFUSED with that operation's
    /// error). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the reason is ERROR_TIMEOUT or ERROR_CANCELLED (ERROR_INVALID_PARAMETER);
    /// 3. the request exists (ERROR_OBJECT_NOT_FOUND) and this session raised it (ERROR_ACCESS_DENIED);
    /// 4. it is still open (ERROR_INVALID_STATE).
    pub(super) fn withdraw_operator_request(
        &self,
        session: SessionId,
        id: OperatorRequestId,
        reason: E,
    ) -> Result<Vec<Event>, NtmsError> {
        self.session(session)?;
        if !matches!(reason, E::Timeout | E::Cancelled) {
            return reject(
                E::InvalidParameter,
                format!("an operator request is withdrawn for a timeout or a cancellation, not {}", reason.name()),
            );
        }
        let r = self.own_operator_request(session, id)?;
        if r.state.is_terminal() {
            return reject(E::InvalidState, format!("operator request {id} is already {}", r.state.ntms_name()));
        }
        Ok(vec![self.operator_request_closed(id, OperatorRequestState::Refused, Some(reason))])
    }

    /// The event that closes an operator request now.
    pub(super) fn operator_request_closed(
        &self,
        request: OperatorRequestId,
        state: OperatorRequestState,
        reason: Option<E>,
    ) -> Event {
        Event::OperatorRequestClosed { request, state, reason, at_ms: self.now() }
    }

    /// The open operator requests a closing session raised: REFUSED with
    /// ERROR_CANCELLED (spec §6.3: the raising call returns ERROR_CANCELLED
    /// when its session closes).
    pub(super) fn withdraw_session_operator_requests(&self, session: SessionId) -> impl Iterator<Item = Event> + '_ {
        self.state
            .operator_requests
            .values()
            .filter(move |r| r.session == session && !r.state.is_terminal())
            .map(|r| self.operator_request_closed(r.id, OperatorRequestState::Refused, Some(E::Cancelled)))
    }
}
