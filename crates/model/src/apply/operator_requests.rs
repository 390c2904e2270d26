//! Operator requests raised and closed.

use super::{operator_request_mut, pool, session, Applied};
use crate::error::ErrorCode;
use crate::ids::OperatorRequestId;
use crate::operator::{OperatorRequest, OperatorRequestKind, OperatorRequestState};
use crate::state::State;

pub(super) fn submitted(state: &mut State, request: &OperatorRequest) -> Applied {
    // The zero session: rsm raised it for no caller's operation (a door left open).
    if !request.session.is_nil() {
        session(state, request.session)?;
    }
    if let OperatorRequestKind::NewMedia { pool: p } = request.kind {
        pool(state, p)?;
    }
    state.operator_requests.insert(request.id, request.clone());
    Ok(())
}

pub(super) fn closed(
    state: &mut State,
    id: OperatorRequestId,
    to: OperatorRequestState,
    reason: Option<ErrorCode>,
    at_ms: u64,
) -> Applied {
    let r = operator_request_mut(state, id)?;
    r.state = to;
    r.reason = reason;
    r.closed_ms = Some(at_ms);
    Ok(())
}
