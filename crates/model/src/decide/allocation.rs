//! Allocation and the life of a side (spec §3.2, §7.3): AllocateNtmsMedia,
//! DeallocateNtmsMedia, SetNtmsMediaComplete, DecommissionNtmsMedia,
//! SwapNtmsMedia.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::media_services::*;
use crate::objects::*;
use crate::operator::*;

impl<'a> Ctx<'a> {
    /// AllocateNtmsMedia. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the pool id given, NEW and NEXT not both (ERROR_INVALID_PARAMETER);
    /// 3. an application pool that holds media (ERROR_INVALID_MEDIA_POOL);
    /// 4. a named side, or NEXT's logical medium, is valid (ERROR_INVALID_MEDIA);
    /// 5. CONTROL access to the pool (ERROR_ACCESS_DENIED);
    /// 6. with NEXT: a reserved side left on that medium (ERROR_INVALID_MEDIA);
    ///    with a named side: in this pool, its free pool or (IMPORT) its
    ///    import pool (ERROR_INVALID_MEDIA), AVAILABLE or IMPORT
    ///    (ERROR_INVALID_STATE), online (ERROR_MEDIA_OFFLINE), and CONTROL on
    ///    a non-free source pool, USE on a free one's library (ERROR_ACCESS_DENIED);
    /// 7. otherwise the selection rule: an online, enabled, AVAILABLE side
    ///    of the pool whose cartridge no session holds and no request moves,
    ///    from the free pool only cartridges of libraries the caller may use, else (NTMS_ALLOCATE_FROMSCRATCH) of the free pool of
    ///    its type; preferring side 0, then the fewest allocations, then a
    ///    medium already in a drive, then the oldest (the lowest sequence
    ///    number). Nothing found: with [`AllocationWait::Raise`] and without
    ///    ERROR_IF_UNAVAILABLE, an NTMS_OPREQ_NEWMEDIA operator request is
    ///    raised (the only event: the caller waits, and retries); otherwise
    ///    ERROR_MEDIA_UNAVAILABLE.
    ///
    /// A retry ([`AllocationWait::Retry`]) names the operator request it
    /// waits on, checked after step 2: this session's (ERROR_ACCESS_DENIED),
    /// existing (ERROR_OBJECT_NOT_FOUND), a new-media request for this pool
    /// (ERROR_INVALID_PARAMETER), not refused (ERROR_CANCELLED). A side
    /// found closes the request COMPLETE: the need is met.
    pub(super) fn allocate_media(
        &self,
        session: SessionId,
        pool: PoolId,
        side: Option<SideId>,
        options: &AllocateOptions,
        wait: AllocationWait,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if pool.is_nil() {
            return reject(E::InvalidParameter, "a pool id is required");
        }
        if options.new && options.next.is_some() {
            return reject(E::InvalidParameter, "NEW and NEXT cannot both be given");
        }
        let waiting = match wait {
            AllocationWait::Retry(id) => {
                let r = self.own_operator_request(session, id)?;
                if r.kind != (OperatorRequestKind::NewMedia { pool }) {
                    return reject(
                        E::InvalidParameter,
                        format!("operator request {id} is not a new-media request for this pool"),
                    );
                }
                if r.state == OperatorRequestState::Refused {
                    return reject(E::Cancelled, format!("operator request {id} for new media was refused"));
                }
                (!r.state.is_terminal()).then_some(id)
            }
            AllocationWait::NoWait | AllocationWait::Raise => None,
        };
        let p = self.media_pool(pool)?;
        let named = side.map(|id| self.side(id)).transpose()?;
        let next = options.next.map(|lmid| self.logical_medium(lmid)).transpose()?;
        self.require_pool(p, s, AccessMask::CONTROL, "allocate from it")?;
        let lmid = LogicalMediaId(derive_id(self.cmd.request, 1));
        let allocated = |m: &Medium, number: u8| Event::SideAllocated {
            media: m.id,
            side: number,
            lmid,
            pool,
            reserve_others: options.new,
        };
        if let Some((m, _)) = next {
            let reserved = m.sides.iter().find(|x| x.state == SideState::Reserved).ok_or_else(|| {
                NtmsError::new(E::InvalidMedia, format!("medium {} has no reserved side left", m.barcode))
            })?;
            return Ok(vec![allocated(m, reserved.number)]);
        }
        let types = SystemPools::of(p.media_type.expect("media_pool returns pools that hold media"));
        if let Some((m, x)) = named {
            let import = x.state == SideState::Import && m.pool == types.import;
            if m.pool != pool && m.pool != types.free && !import {
                return reject(
                    E::InvalidMedia,
                    format!("side {} of medium {} is not in {}", x.number, m.barcode, self.state.pool_path(pool)),
                );
            }
            if !matches!(x.state, SideState::Available | SideState::Import) {
                return reject(E::InvalidState, format!("side {} of medium {} is {:?}", x.number, m.barcode, x.state));
            }
            if !Self::online(m) {
                return reject(E::MediaOffline, format!("medium {} is offline", m.barcode));
            }
            if m.pool != pool {
                let source = self.pool_of(m)?;
                let right = if source.kind == PoolType::Free { AccessMask::USE } else { AccessMask::CONTROL };
                self.require_media(m, source, s, right, "allocate its media")?;
            }
            return Ok(vec![allocated(m, x.number)]);
        }
        let eligible = |m: &Medium, from: PoolId| {
            m.enabled
                && Self::online(m)
                && !self.held_or_moving(m)
                // From the free pool, only cartridges of libraries the caller may use.
                && (from == pool || self.may_use(m, s))
        };
        // The pool's available sides come in the rule's order (side A, then
        // the fewest allocations, then the oldest); among those that tie
        // with the first eligible one, a cartridge already in a drive wins.
        let best = |from: PoolId| -> Option<(&Medium, u8)> {
            let index = self.state.available.get(&from)?;
            let mut candidates = index.iter().filter_map(|(number, count, _, id)| {
                let m = self.state.media.get(id)?;
                eligible(m, from).then_some((m, *number, *count))
            });
            let (first, number, count) = candidates.next()?;
            let in_drive = self
                .state
                .drives
                .values()
                .filter_map(|d| d.medium.and_then(|id| self.state.media.get(&id)))
                .filter(|m| m.pool == from && eligible(m, from))
                .filter(|m| {
                    m.sides
                        .get(usize::from(number))
                        .is_some_and(|x| x.state == SideState::Available && x.allocate_count == count)
                })
                .min_by_key(|m| m.sequence);
            Some((in_drive.unwrap_or(first), number))
        };
        let found = best(pool).or_else(|| if p.from_scratch { best(types.free) } else { None });
        match found {
            Some((m, number)) => {
                let mut events = vec![allocated(m, number)];
                events.extend(waiting.map(|id| self.operator_request_closed(id, OperatorRequestState::Complete, None)));
                Ok(events)
            }
            None if wait == AllocationWait::Raise && !options.error_if_unavailable => {
                let kind = OperatorRequestKind::NewMedia { pool };
                let media_type = p.media_type.and_then(media_type).map_or("", |t| t.name);
                let text = format!("new {media_type} media are needed in pool {}", self.state.pool_path(pool));
                let id = OperatorRequestId(derive_id(self.cmd.request, 2));
                let request = OperatorRequest::submitted(id, kind, session, &s.principal, text, self.now());
                Ok(vec![Event::OperatorRequestSubmitted { request }])
            }
            None => reject(
                E::MediaUnavailable,
                format!(
                    "no available side in {}{}",
                    self.state.pool_path(pool),
                    if p.from_scratch { " or its free pool" } else { "" }
                ),
            ),
        }
    }

    /// Whether the session's principal has USE on the medium's library.
    fn may_use(&self, m: &Medium, s: &Session) -> bool {
        self.state
            .libraries
            .get(&m.library)
            .is_some_and(|lib| self.policy.rights(self.state, lib, &s.principal).allows(AccessMask::USE))
    }

    /// A medium in a library (not on the offline library's shelf, not offline).
    fn online(m: &Medium) -> bool {
        m.library != LibraryId::OFFLINE && m.location != Location::Offline
    }

    /// DeallocateNtmsMedia. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the id given (ERROR_INVALID_PARAMETER);
    /// 3. a logical medium (ERROR_INVALID_MEDIA), its pool valid (ERROR_INVALID_MEDIA_POOL);
    /// 4. CONTROL access to its pool (ERROR_ACCESS_DENIED);
    /// 5. its medium not held mounted by a session or being moved
    ///    (ERROR_INVALID_STATE, an rsm extension: a mounted side is still the
    ///    application's; one left released in a drive is not).
    ///
    /// The side becomes DECOMMISSIONED at the pool's allocation limit, else
    /// AVAILABLE; the medium's reserved sides become AVAILABLE; with
    /// NTMS_DEALLOCATE_TOSCRATCH a medium whose sides are then all available
    /// goes back to its free pool.
    pub(super) fn deallocate_media(&self, session: SessionId, lmid: LogicalMediaId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let (m, x) = self.logical_medium(lmid)?;
        let p = self.pool_of(m)?;
        self.require_pool(p, s, AccessMask::CONTROL, "deallocate from it")?;
        if self.held_or_moving(m) {
            return reject(
                E::InvalidState,
                format!("medium {} is mounted or being moved: dismount it first", m.barcode),
            );
        }
        let limit_reached = p.max_allocates > 0 && x.allocate_count >= p.max_allocates;
        let to = if limit_reached { SideState::Decommissioned } else { SideState::Available };
        let others_free = m
            .sides
            .iter()
            .filter(|o| o.number != x.number)
            .all(|o| matches!(o.state, SideState::Available | SideState::Reserved));
        let to_pool =
            (p.to_scratch && to == SideState::Available && others_free).then(|| SystemPools::of(m.media_type).free);
        Ok(vec![Event::SideDeallocated { lmid, to, to_pool }])
    }

    /// SetNtmsMediaComplete. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the id given (ERROR_INVALID_PARAMETER);
    /// 3. a logical medium (ERROR_INVALID_MEDIA), its pool valid (ERROR_INVALID_MEDIA_POOL);
    /// 4. CONTROL access to its pool (ERROR_ACCESS_DENIED);
    /// 5. the side ALLOCATED, its medium not held mounted or being moved (ERROR_INVALID_STATE).
    pub(super) fn set_media_complete(&self, session: SessionId, lmid: LogicalMediaId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let (m, x) = self.logical_medium(lmid)?;
        let p = self.pool_of(m)?;
        self.require_pool(p, s, AccessMask::CONTROL, "mark its media complete")?;
        if x.state != SideState::Allocated {
            return reject(E::InvalidState, format!("logical medium {lmid} is already complete"));
        }
        if self.held_or_moving(m) {
            return reject(E::InvalidState, format!("medium {} is mounted or being moved", m.barcode));
        }
        Ok(vec![Event::SideCompleted { lmid }])
    }

    /// DecommissionNtmsMedia. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the id given (ERROR_INVALID_PARAMETER);
    /// 3. a side (ERROR_INVALID_MEDIA), its pool valid (ERROR_INVALID_MEDIA_POOL);
    /// 4. CONTROL access to its pool; for a system pool, to its library
    ///    (ERROR_ACCESS_DENIED);
    /// 5. the side AVAILABLE (ERROR_INVALID_STATE).
    pub(super) fn decommission_media(&self, session: SessionId, side: SideId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let (m, x) = self.side(side)?;
        let p = self.pool_of(m)?;
        self.require_media(m, p, s, AccessMask::CONTROL, "decommission its media")?;
        if x.state != SideState::Available {
            return reject(
                E::InvalidState,
                format!("side {} of medium {} is {:?}, not available", x.number, m.barcode, x.state),
            );
        }
        Ok(vec![Event::SideDecommissioned { media: m.id, side: x.number }])
    }

    /// SwapNtmsMedia. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. both ids given and different (ERROR_INVALID_PARAMETER);
    /// 3. both logical media (ERROR_INVALID_MEDIA);
    /// 4. in the same, valid pool (ERROR_INVALID_MEDIA_POOL);
    /// 5. MODIFY access to it (ERROR_ACCESS_DENIED);
    /// 6. neither medium held mounted or being moved (ERROR_INVALID_MEDIA).
    pub(super) fn swap_media(
        &self,
        session: SessionId,
        first: LogicalMediaId,
        second: LogicalMediaId,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if first == second && !first.is_nil() {
            return reject(E::InvalidParameter, "two different logical media are required");
        }
        let (m1, _) = self.logical_medium(first)?;
        let (m2, _) = self.logical_medium(second)?;
        if m1.pool != m2.pool {
            return reject(E::InvalidMediaPool, "the two logical media are in different pools");
        }
        let p = self.pool_of(m1)?;
        self.require_pool(p, s, AccessMask::MODIFY, "swap its media")?;
        if let Some(busy) = [m1, m2].into_iter().find(|m| self.held_or_moving(m)) {
            return reject(E::InvalidMedia, format!("medium {} is in use", busy.barcode));
        }
        Ok(vec![Event::LogicalMediaSwapped { first, second }])
    }
}
