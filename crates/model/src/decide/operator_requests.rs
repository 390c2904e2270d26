//! Operator requests (spec §3.5, §6) as the raising operations use them:
//! an allocation's NTMS_OPREQ_NEWMEDIA, withdrawn when its caller stops
//! waiting. Operators' own commands come with library control.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::operator::*;

impl<'a> Ctx<'a> {
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
