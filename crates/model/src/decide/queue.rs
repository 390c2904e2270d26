//! The library request queue as administrators steer it (spec §3.3
//! CancelNtmsLibraryRequest, Get/SetNtmsRequestOrder, DeleteNtmsRequests;
//! §5.3, §5.4). The order itself is kept by `apply/mount_order.rs`.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::object_management::require_over;
use crate::objects::*;

impl<'a> Ctx<'a> {
    /// CancelNtmsLibraryRequest. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a request id (ERROR_INVALID_PARAMETER);
    /// 3. the request exists and has not finished (ERROR_OBJECT_NOT_FOUND);
    /// 4. CONTROL on its library (ERROR_ACCESS_DENIED);
    /// 5. it is QUEUED or WAITING, not in process (ERROR_INVALID_STATE, the
    ///    spec's rsm difference 6), and no mount waits for it to make room
    ///    (ERROR_INVALID_STATE: cancel that mount first).
    pub(super) fn cancel_request(&self, session: SessionId, request: RequestId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if request.is_nil() {
            return reject(E::InvalidParameter, "a request id is required");
        }
        let r = self
            .state
            .requests
            .get(&request)
            .filter(|r| !r.state.is_terminal())
            .ok_or_else(|| NtmsError::new(E::ObjectNotFound, format!("no unfinished request {request}")))?;
        let lib = self.valid_library(r.library)?;
        self.require(lib, s, AccessMask::CONTROL, "cancel its requests")?;
        if r.state == RequestState::InProcess {
            return reject(
                E::InvalidState,
                format!("request {request} is in process: it finishes, it is not cancelled"),
            );
        }
        let successor = r.drive.and_then(|d| self.state.drives.get(&d)).and_then(|d| d.next_reserved_by);
        if let (RequestKind::Dismount, Some(mount)) = (r.kind, successor) {
            return reject(
                E::InvalidState,
                format!("mount {mount} waits for this dismount to make room; cancel the mount first"),
            );
        }
        let mut events = vec![Event::RequestCancelled { request, at_ms: self.now() }];
        events.extend(self.withdraw_move_request(request, E::Cancelled));
        Ok(events)
    }

    /// SetNtmsRequestOrder. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a request id and a position other than 0 (ERROR_INVALID_PARAMETER);
    /// 3. the request exists (ERROR_OBJECT_NOT_FOUND);
    /// 4. CONTROL on the computer (ERROR_ACCESS_DENIED);
    /// 5. it is orderable: a QUEUED or WAITING mount, order number not 0
    ///    (ERROR_INVALID_STATE, the spec's rsm difference 7).
    pub(super) fn set_request_order(
        &self,
        session: SessionId,
        request: RequestId,
        position: u32,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if request.is_nil() || position == 0 {
            return reject(E::InvalidParameter, "a request id and a position from 1 are required");
        }
        let r = self
            .state
            .requests
            .get(&request)
            .ok_or_else(|| NtmsError::new(E::ObjectNotFound, format!("no request {request}")))?;
        require_over(
            self.state,
            self.policy,
            &s.principal,
            ObjectRef::Computer,
            AccessMask::CONTROL,
            "reorder requests",
        )?;
        if request_order(self.state, r.id) == 0 {
            return reject(
                E::InvalidState,
                format!("request {request} has no order number: only queued and waiting mounts do"),
            );
        }
        Ok(vec![Event::RequestOrderSet { request, position }])
    }

    /// DeleteNtmsRequests. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. some request named (ERROR_INVALID_PARAMETER);
    /// 3. MODIFY on the computer (ERROR_ACCESS_DENIED).
    ///
    /// Unfinished and unknown requests are skipped without error.
    pub(super) fn delete_requests(
        &self,
        session: SessionId,
        requests: &[RequestId],
        operator_requests: &[OperatorRequestId],
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if requests.is_empty() && operator_requests.is_empty() {
            return reject(E::InvalidParameter, "name the requests to delete");
        }
        require_over(
            self.state,
            self.policy,
            &s.principal,
            ObjectRef::Computer,
            AccessMask::MODIFY,
            "delete requests",
        )?;
        let finished = finished_of(requests, |r| self.state.requests.get(r).is_some_and(|r| r.state.is_terminal()));
        let closed = finished_of(operator_requests, |r| {
            self.state.operator_requests.get(r).is_some_and(|r| r.state.is_terminal())
        });
        if finished.is_empty() && closed.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Event::RequestsDeleted { requests: finished, operator_requests: closed }])
    }
}

impl<'a> Ctx<'a> {
    /// The purge (spec §5.4, §6.3): finished library requests older than
    /// dwLibRequestPurgeTime and closed operator requests older than
    /// dwOpRequestPurgeTime leave the views, unless NOAUTOPURGE, or, for a
    /// failed library request or a refused operator request, NOFAILEDPURGE.
    /// At most [`PURGED_PER_TICK`] a tick, oldest first.
    pub(super) fn purge_due(&self) -> Option<Event> {
        use crate::object_management::{NO_AUTO_PURGE, NO_FAILED_PURGE};
        let now = self.now();
        let c = &self.state.computer;
        let due = |completed: Option<u64>, purge_s: u32| {
            completed.is_some_and(|t| t.saturating_add(u64::from(purge_s) * 1000) <= now)
        };
        let mut requests = Vec::new();
        if c.lib_request_flags & NO_AUTO_PURGE == 0 {
            requests = self
                .state
                .finished
                .iter()
                .filter_map(|id| self.state.requests.get(id))
                .filter(|r| due(r.time_completed_ms, c.lib_request_purge_s))
                .filter(|r| r.state != RequestState::Failed || c.lib_request_flags & NO_FAILED_PURGE == 0)
                .map(|r| r.id)
                .take(PURGED_PER_TICK)
                .collect();
        }
        let mut operator_requests = Vec::new();
        if c.op_request_flags & NO_AUTO_PURGE == 0 {
            operator_requests = self
                .state
                .operator_requests
                .values()
                .filter(|r| r.state.is_terminal() && due(r.closed_ms, c.op_request_purge_s))
                .filter(|r| {
                    r.state != crate::operator::OperatorRequestState::Refused
                        || c.op_request_flags & NO_FAILED_PURGE == 0
                })
                .map(|r| r.id)
                .take(PURGED_PER_TICK)
                .collect();
        }
        (!requests.is_empty() || !operator_requests.is_empty())
            .then_some(Event::RequestsDeleted { requests, operator_requests })
    }
}

/// The ids of `ids` that name a finished request, each once, in order.
fn finished_of<T: Ord + Copy>(ids: &[T], finished: impl Fn(&T) -> bool) -> Vec<T> {
    ids.iter().filter(|r| finished(r)).copied().collect::<std::collections::BTreeSet<T>>().into_iter().collect()
}

/// The most requests one tick purges: the event stays small, and a backlog
/// goes over the next ticks.
const PURGED_PER_TICK: usize = 4_096;

/// GetNtmsRequestOrder: a queued or waiting mount's 1-based place in its
/// library's mount order; 0 for every other request (not orderable).
pub fn request_order(state: &crate::state::State, request: RequestId) -> u32 {
    let Some(r) = state.requests.get(&request) else { return 0 };
    let Some(lib) = state.libraries.get(&r.library) else { return 0 };
    lib.mount_order.iter().position(|(q, _)| *q == request).map_or(0, |p| p as u32 + 1)
}
