//! Media services (spec §3.2, §7): media types related to libraries,
//! application pools, and allocation with the life of every side.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::limits;
use crate::media_labels::*;
use crate::media_services::*;
use crate::objects::*;

impl<'a> Ctx<'a> {
    // ---- look-ups of the family ---------------------------------------------

    /// A pool named by a caller: ERROR_INVALID_PARAMETER for the zero id,
    /// ERROR_INVALID_MEDIA_POOL when it names no pool.
    pub(super) fn pool(&self, id: PoolId) -> Result<&'a Pool, NtmsError> {
        if id.is_nil() {
            return reject(E::InvalidParameter, "a pool id is required");
        }
        self.state.pools.get(&id).ok_or_else(|| NtmsError::new(E::InvalidMediaPool, format!("no pool {id}")))
    }

    /// An application pool that holds media (ERROR_INVALID_MEDIA_POOL for a
    /// system pool or one that holds only pools).
    pub(super) fn media_pool(&self, id: PoolId) -> Result<&'a Pool, NtmsError> {
        let pool = self.pool(id)?;
        if pool.is_system() {
            return reject(E::InvalidMediaPool, format!("{} is a system pool", self.state.pool_path(id)));
        }
        if pool.media_type.is_none() {
            return reject(E::InvalidMediaPool, format!("{} holds only pools", self.state.pool_path(id)));
        }
        Ok(pool)
    }

    /// A media type named by a caller: ERROR_INVALID_PARAMETER for the zero
    /// id, ERROR_INVALID_MEDIA when the catalog has no such type.
    pub(super) fn media_type(&self, id: MediaTypeId) -> Result<&'static MediaType, NtmsError> {
        if id.is_nil() {
            return reject(E::InvalidParameter, "a media type id is required");
        }
        media_type(id).ok_or_else(|| NtmsError::new(E::InvalidMedia, format!("{id} is not a media type")))
    }

    /// A logical medium named by a caller, with its medium and side.
    pub(super) fn logical_medium(&self, id: LogicalMediaId) -> Result<(&'a Medium, &'a Side), NtmsError> {
        if id.is_nil() {
            return reject(E::InvalidParameter, "a logical medium id is required");
        }
        self.state.logical_medium(id).ok_or_else(|| NtmsError::new(E::InvalidMedia, format!("no logical medium {id}")))
    }

    /// A side named by a caller, with its medium.
    pub(super) fn side(&self, id: SideId) -> Result<(&'a Medium, &'a Side), NtmsError> {
        if id.is_nil() {
            return reject(E::InvalidParameter, "a side id is required");
        }
        self.state.side(id).ok_or_else(|| NtmsError::new(E::InvalidMedia, format!("no side {id}")))
    }

    /// The pool a medium is in (ERROR_INVALID_MEDIA_POOL when it is gone:
    /// only a damaged projection has that).
    pub(super) fn pool_of(&self, medium: &Medium) -> Result<&'a Pool, NtmsError> {
        self.state.pools.get(&medium.pool).ok_or_else(|| {
            NtmsError::new(E::InvalidMediaPool, format!("the pool of medium {} is gone", medium.barcode))
        })
    }

    pub(super) fn require_pool(
        &self,
        pool: &Pool,
        session: &Session,
        right: AccessMask,
        what: &str,
    ) -> Result<(), NtmsError> {
        if self.policy.pool_rights(pool, &session.principal).allows(right) {
            return Ok(());
        }
        reject(
            E::AccessDenied,
            format!(
                "{} lacks {} access to pool {} needed to {what}",
                session.principal,
                right.names().join("+"),
                self.state.pool_path(pool.id)
            ),
        )
    }

    /// The rights a principal holds over a medium in `pool`: an
    /// application pool's own access list; for a system pool (free, import,
    /// unrecognized), the principal's rights on the medium's library, since
    /// those pools are everyone's and the library is whose cartridges they
    /// are; for a medium on the offline shelf, the computer's (everyone's
    /// USE and MODIFY, the administrator's CONTROL).
    pub(super) fn require_media(
        &self,
        medium: &Medium,
        pool: &Pool,
        session: &Session,
        right: AccessMask,
        what: &str,
    ) -> Result<(), NtmsError> {
        if !pool.is_system() {
            return self.require_pool(pool, session, right, what);
        }
        match self.state.libraries.get(&medium.library) {
            Some(lib) => self.require(lib, session, right, what),
            // On the offline shelf: the computer's rights.
            None if self.policy.computer_rights(self.state, &session.principal).allows(right) => Ok(()),
            None => reject(
                E::AccessDenied,
                format!("{} lacks access to medium {} on the offline shelf", session.principal, medium.barcode),
            ),
        }
    }

    /// A medium a session holds mounted, or a request moves: in use. (One
    /// that sits released in a drive is not.)
    pub(super) fn held_or_moving(&self, m: &Medium) -> bool {
        let held = match m.location {
            Location::Drive(d) => self.state.drives.get(&d).is_some_and(|d| d.holder.is_some()),
            _ => false,
        };
        held || m.pending_request.is_some()
    }

    // ---- AddNtmsMediaType / DeleteNtmsMediaType -------------------------------

    /// AddNtmsMediaType. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. both ids given (ERROR_INVALID_PARAMETER);
    /// 3. the library is valid (ERROR_INVALID_LIBRARY);
    /// 4. the media type is in the catalog (ERROR_INVALID_MEDIA);
    /// 5. MODIFY access to the library (ERROR_ACCESS_DENIED);
    /// 6. the library is enabled and ready (ERROR_LIBRARY_OFFLINE).
    ///
    /// A type already related is no error and records nothing.
    pub(super) fn add_media_type(
        &self,
        session: SessionId,
        library: LibraryId,
        media_type: MediaTypeId,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if library.is_nil() || media_type.is_nil() {
            return reject(E::InvalidParameter, "a library and a media type are required");
        }
        let lib = self.valid_library(library)?;
        let kind = self.media_type(media_type)?;
        self.require(lib, s, AccessMask::MODIFY, "add a media type")?;
        if !Self::library_available(lib) {
            return reject(E::LibraryOffline, format!("library {} is disabled or not ready", lib.name));
        }
        if lib.media_types.contains(&kind.id) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::MediaTypeAdded { library, media_type }])
    }

    /// DeleteNtmsMediaType. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. both ids given (ERROR_INVALID_PARAMETER);
    /// 3. the library is valid (ERROR_INVALID_LIBRARY);
    /// 4. MODIFY access to the library (ERROR_ACCESS_DENIED);
    /// 5. the library holds no medium of the type (ERROR_NOT_EMPTY).
    ///
    /// A relation that did not exist is no error and records nothing. When
    /// no library handles the type any more and no medium or application
    /// pool is of it, its system pools go too.
    pub(super) fn delete_media_type(
        &self,
        session: SessionId,
        library: LibraryId,
        media_type: MediaTypeId,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if library.is_nil() || media_type.is_nil() {
            return reject(E::InvalidParameter, "a library and a media type are required");
        }
        let lib = self.valid_library(library)?;
        self.require(lib, s, AccessMask::MODIFY, "delete a media type")?;
        let st = self.state;
        if st.media.values().any(|m| m.library == library && m.media_type == media_type) {
            return reject(E::NotEmpty, format!("library {} holds media of that type", lib.name));
        }
        if !lib.media_types.contains(&media_type) {
            return Ok(Vec::new());
        }
        let still_used = st.libraries.values().any(|l| l.id != library && l.media_types.contains(&media_type))
            || st.media.values().any(|m| m.media_type == media_type)
            || st.pools.values().any(|p| !p.is_system() && p.media_type == Some(media_type));
        Ok(vec![Event::MediaTypeRemoved { library, media_type, pools_deleted: !still_used }])
    }

    // ---- CreateNtmsMediaPool / DeleteNtmsMediaPool / policies ---------------------

    /// CreateNtmsMediaPool. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a path given (ERROR_INVALID_PARAMETER);
    /// 3. the path's syntax: levels of 1 to `NAME_LEN_MAX` plain characters
    ///    (spaces allowed inside), at most `POOL_DEPTH_MAX` levels and
    ///    `POOL_PATH_LEN_MAX` characters (ERROR_INVALID_NAME);
    /// 4. the media type, when given, is in the catalog (ERROR_INVALID_MEDIA);
    /// 5. every level above the last exists (ERROR_OBJECT_NOT_FOUND), is an
    ///    application pool and holds pools, not media (ERROR_INVALID_MEDIA_POOL);
    /// 6. the last level: present with OPEN_EXISTING or OPEN_ALWAYS, USE access
    ///    to it (ERROR_ACCESS_DENIED), and nothing is recorded; present with
    ///    CREATE_NEW (ERROR_ALREADY_EXISTS); a system pool (ERROR_INVALID_MEDIA_POOL);
    ///    absent with OPEN_EXISTING (ERROR_OBJECT_NOT_FOUND);
    /// 7. to create: CONTROL access to the parent (ERROR_ACCESS_DENIED; every
    ///    principal holds it on the root).
    ///
    /// A new pool inherits its parent's access list (not the root's) and its
    /// creator holds every right.
    pub(super) fn create_media_pool(
        &self,
        session: SessionId,
        path: &str,
        media_type: Option<MediaTypeId>,
        action: PoolAction,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if path.is_empty() {
            return reject(E::InvalidParameter, "a pool name is required");
        }
        let levels = pool_levels(path)?;
        let kind = media_type.map(|t| self.media_type(t)).transpose()?;
        let (last, above) = levels.split_last().expect("pool_levels returns at least one level");
        let mut parent: Option<&Pool> = None;
        for level in above {
            let found = self.state.pool_child(parent.map(|p| p.id), level).ok_or_else(|| {
                NtmsError::new(E::ObjectNotFound, format!("pool level {level} does not exist: create it first"))
            })?;
            if found.is_system() {
                return reject(
                    E::InvalidMediaPool,
                    format!("{} is a system pool: applications' pools go elsewhere", self.state.pool_path(found.id)),
                );
            }
            if found.media_type.is_some() {
                return reject(
                    E::InvalidMediaPool,
                    format!("{} holds media, not pools", self.state.pool_path(found.id)),
                );
            }
            parent = Some(found);
        }
        if let Some(existing) = self.state.pool_child(parent.map(|p| p.id), last) {
            let at = self.state.pool_path(existing.id);
            if existing.is_system() {
                return reject(E::InvalidMediaPool, format!("{at} is a system pool"));
            }
            return match action {
                PoolAction::CreateNew => reject(E::AlreadyExists, format!("pool {at} exists")),
                PoolAction::OpenExisting | PoolAction::OpenAlways => {
                    self.require_pool(existing, s, AccessMask::USE, "open it")?;
                    Ok(Vec::new())
                }
            };
        }
        if action == PoolAction::OpenExisting {
            return reject(E::ObjectNotFound, format!("no pool {path}"));
        }
        if let Some(parent) = parent {
            self.require_pool(parent, s, AccessMask::CONTROL, "create a pool in it")?;
        }
        let id = PoolId(derive_id(self.cmd.request, 1));
        let mut pool = Pool::application(id, last, parent.map(|p| p.id), kind.map(|k| k.id), &s.principal);
        if let Some(parent) = parent {
            for (principal, rights) in &parent.access {
                let mask = pool.access.entry(principal.clone()).or_default();
                *mask = mask.with(*rights);
            }
        }
        Ok(vec![Event::PoolCreated { pool }])
    }

    /// DeleteNtmsMediaPool. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the pool id given (ERROR_INVALID_PARAMETER);
    /// 3. a pool, and an application's (ERROR_INVALID_MEDIA_POOL);
    /// 4. MODIFY access to it (ERROR_ACCESS_DENIED);
    /// 5. it holds no media and no pools (ERROR_NOT_EMPTY).
    pub(super) fn delete_media_pool(&self, session: SessionId, pool: PoolId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let p = self.pool(pool)?;
        if p.is_system() {
            return reject(E::InvalidMediaPool, format!("{} is a system pool", self.state.pool_path(pool)));
        }
        self.require_pool(p, s, AccessMask::MODIFY, "delete it")?;
        let media = self.state.media.values().filter(|m| m.pool == pool).count();
        let pools = self.state.pools.values().filter(|c| c.parent == Some(pool)).count();
        if media + pools > 0 {
            return reject(
                E::NotEmpty,
                format!("pool {} holds {media} media and {pools} pools", self.state.pool_path(pool)),
            );
        }
        // A caller waiting for new media in it waits in vain: its request
        // is refused (the allocation answers ERROR_CANCELLED).
        let mut events: Vec<Event> = self
            .state
            .operator_requests
            .values()
            .filter(|r| !r.state.is_terminal() && r.kind == (crate::operator::OperatorRequestKind::NewMedia { pool }))
            .map(|r| {
                self.operator_request_closed(r.id, crate::operator::OperatorRequestState::Refused, Some(E::Cancelled))
            })
            .collect();
        events.push(Event::PoolDeleted { pool });
        Ok(events)
    }

    /// SetNtmsObjectInformation on a pool's policies. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the pool id given (ERROR_INVALID_PARAMETER);
    /// 3. an application pool that holds media (ERROR_INVALID_MEDIA_POOL);
    /// 4. MODIFY access to it (ERROR_ACCESS_DENIED).
    pub(super) fn set_pool_policy(
        &self,
        session: SessionId,
        pool: PoolId,
        from_scratch: bool,
        to_scratch: bool,
        max_allocates: u32,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let p = self.media_pool(pool)?;
        self.require_pool(p, s, AccessMask::MODIFY, "change its policies")?;
        if (p.from_scratch, p.to_scratch, p.max_allocates) == (from_scratch, to_scratch, max_allocates) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::PoolPolicyChanged { pool, from_scratch, to_scratch, max_allocates }])
    }

    // ---- MoveToNtmsMediaPool ------------------------------------------------------

    /// MoveToNtmsMediaPool. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. both ids given (ERROR_INVALID_PARAMETER);
    /// 3. the medium, and its pool, are valid (ERROR_INVALID_MEDIA);
    /// 4. the destination is a pool that holds media (ERROR_INVALID_MEDIA_POOL);
    /// 5. CONTROL access to the source and the destination, USE enough on a
    ///    free pool; a system pool's rights are those on the medium's library
    ///    (ERROR_ACCESS_DENIED);
    /// 6. the same media type (ERROR_MEDIA_INCOMPATIBLE);
    /// 7. the moves §3.2 allows: out of an import or unrecognized pool only
    ///    into the free pool; into the free pool only with no side allocated,
    ///    complete or reserved, or a side retired; into an import pool only with every side
    ///    IMPORT; into an unrecognized pool never (ERROR_INVALID_MEDIA_POOL);
    /// 8. not held mounted by a session or being moved (ERROR_BUSY).
    ///
    /// Into the free pool from an import or unrecognized pool, every side
    /// becomes UNPREPARED (it needs a free-media label); from an
    /// application pool the sides keep their states (rsm's label is on them).
    pub(super) fn move_to_media_pool(
        &self,
        session: SessionId,
        media: MediaId,
        pool: PoolId,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if media.is_nil() || pool.is_nil() {
            return reject(E::InvalidParameter, "a medium and a pool are required");
        }
        let m = self.medium(media)?;
        let from = self
            .state
            .pools
            .get(&m.pool)
            .ok_or_else(|| NtmsError::new(E::InvalidMedia, format!("the pool of medium {} is gone", m.barcode)))?;
        let to = self.pool(pool)?;
        let to_path = self.state.pool_path(pool);
        if to.media_type.is_none() {
            return reject(E::InvalidMediaPool, format!("{to_path} holds only pools"));
        }
        let right = |p: &Pool| if p.kind == PoolType::Free { AccessMask::USE } else { AccessMask::CONTROL };
        self.require_media(m, from, s, right(from), "move media out of its pool")?;
        self.require_media(m, to, s, right(to), "move media into the pool")?;
        if to.media_type != Some(m.media_type) {
            return reject(E::MediaIncompatible, format!("medium {} is not of the media type of {to_path}", m.barcode));
        }
        let refused = move_refused(m, from, to);
        if let Some(why) = refused {
            return reject(E::InvalidMediaPool, format!("medium {} cannot go to {to_path}: {why}", m.barcode));
        }
        if self.held_or_moving(m) {
            return reject(E::Busy, format!("medium {} is in use", m.barcode));
        }
        if m.pool == pool {
            return Ok(Vec::new());
        }
        let sides = sides_on_arrival(from, to);
        let mut events = vec![Event::MediumMovedToPool { media, pool, sides }];
        events.extend(self.prepare_after_move(m, sides));
        Ok(events)
    }
}

/// Why MoveToNtmsMediaPool (and ChangeNtmsMediaType) may not take medium
/// `m` from pool `from` to pool `to`, media types aside: out of an import
/// or unrecognized pool only into the free pool; into the free pool only
/// with no side allocated, complete, reserved or retired; into an import
/// pool only with every side IMPORT; into an unrecognized pool never.
fn move_refused(m: &Medium, from: &Pool, to: &Pool) -> Option<&'static str> {
    let all = |state: SideState| m.sides.iter().all(|side| side.state == state);
    let bound = m.sides.iter().any(|side| side.state.is_allocated() || side.state == SideState::Reserved);
    if m.sides.iter().any(|x| x.state == SideState::Unknown) {
        return Some("it is not classified yet (its first block has not been read)");
    }
    match (from.kind, to.kind) {
        (PoolType::Import | PoolType::Unrecognized, kind) if kind != PoolType::Free => {
            Some("media of an import or unrecognized pool go only to the free pool")
        }
        (_, PoolType::Free) if bound => Some("a side is allocated, complete or reserved"),
        (_, PoolType::Free) if m.sides.iter().any(|x| x.state == SideState::Decommissioned) => {
            Some("a retired side never goes back to scratch")
        }
        (_, PoolType::Import) if !all(SideState::Import) => Some("only media whose sides are all IMPORT go there"),
        (_, PoolType::Unrecognized) => Some("only classification puts media there"),
        _ => None,
    }
}

impl Ctx<'_> {
    /// A medium moved into the free pool with its sides UNPREPARED gets
    /// its free-media label written (spec §3.2 MoveToNtmsMediaPool, rsm
    /// rule), when it is home and a drive reads it; otherwise later (an
    /// inject that brings it home).
    fn prepare_after_move(&self, m: &Medium, sides: Option<SideState>) -> Option<Event> {
        let mut moved = m.clone();
        for x in &mut moved.sides {
            x.state = sides?;
        }
        self.prepare(&moved, 0)
    }
}

/// The state every side takes when a medium moves from `from` to `to`:
/// UNPREPARED into the free pool from an import or unrecognized one (it
/// needs a free-media label), else unchanged.
fn sides_on_arrival(from: &Pool, to: &Pool) -> Option<SideState> {
    (to.kind == PoolType::Free && matches!(from.kind, PoolType::Import | PoolType::Unrecognized))
        .then_some(SideState::Unprepared)
}

/// The levels of a pool path (`\A\B` or `A\B`), each checked (ERROR_INVALID_NAME).
pub(super) fn pool_levels(path: &str) -> Result<Vec<&str>, NtmsError> {
    let trimmed = path.strip_prefix('\\').unwrap_or(path);
    let levels: Vec<&str> = trimmed.split('\\').collect();
    let plain_level = |level: &&str| {
        !level.is_empty()
            && level.chars().count() <= limits::NAME_LEN_MAX
            && level.chars().all(|c| c == ' ' || limits::is_plain(c))
            && !level.starts_with(' ')
            && !level.ends_with(' ')
            && *level != "."
            && *level != ".."
    };
    if path.chars().count() > limits::POOL_PATH_LEN_MAX
        || levels.len() > limits::POOL_DEPTH_MAX
        || !levels.iter().all(plain_level)
    {
        return reject(
            E::InvalidName,
            format!(
                "\"{}\" is not a pool path: at most {} levels of 1 to {} printable characters, \\-separated, \
                 at most {} characters in all",
                path.escape_debug(),
                limits::POOL_DEPTH_MAX,
                limits::NAME_LEN_MAX,
                limits::POOL_PATH_LEN_MAX
            ),
        );
    }
    Ok(levels)
}

impl<'a> Ctx<'a> {
    // ---- CreateNtmsMedia / DeleteNtmsMedia / ChangeNtmsMediaType ---------------------

    /// CreateNtmsMedia. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a pool id and at least one side given (ERROR_INVALID_PARAMETER);
    /// 3. the bar code well formed after its trailing spaces are removed
    ///    (ERROR_INVALID_PARAMETER) and new (ERROR_INVALID_MEDIA);
    /// 4. the pool is an import or application pool that holds media
    ///    (ERROR_INVALID_MEDIA_POOL);
    /// 5. MODIFY access to the pool, and to the computer
    ///    (ERROR_ACCESS_DENIED; an import pool's are everyone's);
    /// 6. as many sides as the pool's media type has (ERROR_MEDIA_INCOMPATIBLE);
    /// 7. each side's state one a new record may take: not RESERVED, and
    ///    IMPORT only in an import pool (ERROR_INVALID_PARAMETER);
    /// 8. each label given claimed by a media label library
    ///    (ERROR_INVALID_PARAMETER), and with NTMS_ERROR_ON_DUPLICATE no
    ///    other medium's (ERROR_INVALID_MEDIA, the docs' ERROR_DUPLICATE_OMID).
    ///
    /// The medium is in the offline library; an ALLOCATED or COMPLETE side
    /// gets a new logical medium. rsm rule: the labels are optional (a
    /// record known by its bar code alone), where Windows requires one per
    /// side.
    pub(super) fn create_media(
        &self,
        session: SessionId,
        barcode: &str,
        pool: PoolId,
        sides: &[SideState],
        labels: &[Option<Vec<u8>>],
        error_on_duplicate: bool,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if pool.is_nil() || sides.is_empty() {
            return reject(E::InvalidParameter, "a pool and the state of each side are required");
        }
        if !labels.is_empty() && labels.len() != sides.len() {
            return reject(E::InvalidParameter, format!("{} labels for {} sides", labels.len(), sides.len()));
        }
        let barcode = barcode.trim_end_matches(' ');
        super::check_barcode(barcode)?;
        if self.state.barcodes.contains_key(barcode) {
            return reject(E::InvalidMedia, format!("a medium with bar code {barcode} exists"));
        }
        let p = self.pool(pool)?;
        if !matches!(p.kind, PoolType::Import | PoolType::Application) || p.media_type.is_none() {
            return reject(
                E::InvalidMediaPool,
                format!("{} is not an import or application pool of media", self.state.pool_path(pool)),
            );
        }
        if !p.is_system() {
            self.require_pool(p, s, AccessMask::MODIFY, "create media in it")?;
        }
        crate::object_management::require_over(
            self.state,
            self.policy,
            &s.principal,
            ObjectRef::Computer,
            AccessMask::MODIFY,
            "create media records",
        )?;
        let kind = media_type(p.media_type.expect("checked above")).ok_or_else(|| {
            NtmsError::new(E::InvalidMediaPool, format!("the media type of {} is unknown", self.state.pool_path(pool)))
        })?;
        if sides.len() != usize::from(kind.sides) {
            return reject(
                E::MediaIncompatible,
                format!("{} has {} sides per medium, not {}", kind.name, kind.sides, sides.len()),
            );
        }
        let allowed = |state: &SideState| match state {
            SideState::Reserved => false,
            SideState::Import => p.kind == PoolType::Import,
            _ => true,
        };
        if let Some(bad) = sides.iter().find(|x| !allowed(x)) {
            return reject(E::InvalidParameter, format!("a new medium's side cannot be {bad:?} in this pool"));
        }
        let mut omids = Vec::with_capacity(labels.len());
        for (n, label) in labels.iter().enumerate() {
            let omid = label.as_deref().map(|bytes| self.claimed(bytes, E::InvalidParameter)).transpose()?;
            if let Some(omid) = omid.as_ref().filter(|_| error_on_duplicate) {
                if let Some(other) = self.medium_with_omid(omid) {
                    return reject(
                        E::InvalidMedia,
                        format!("medium {} already has label {}", other.barcode, omid.display()),
                    );
                }
                if omids.iter().any(|o: &Option<Omid>| o.as_ref() == Some(omid)) {
                    return reject(E::InvalidMedia, format!("side {n} repeats label {}", omid.display()));
                }
            }
            omids.push(omid);
        }
        let id = MediaId(derive_id(self.cmd.request, 1));
        let mut medium = Medium::new(id, barcode, LibraryId::OFFLINE, kind);
        medium.pool = pool;
        for (side, omid) in medium.sides.iter_mut().zip(omids) {
            side.omid = omid.map(Box::new);
        }
        for (n, (side, state)) in medium.sides.iter_mut().zip(sides).enumerate() {
            side.state = *state;
            if state.is_allocated() {
                side.lmid = Some(LogicalMediaId(derive_id(self.cmd.request, 10 + n as u64)));
            }
        }
        Ok(vec![Event::MediaCreated { medium }])
    }

    /// The OMID a media label library makes of `bytes`; unclaimed (or
    /// empty, or larger than a label can be) is `unclaimed`.
    fn claimed(&self, bytes: &[u8], unclaimed: E) -> Result<Omid, NtmsError> {
        if bytes.is_empty() || bytes.len() > LABEL_BYTES_MAX {
            return reject(E::InvalidParameter, format!("a label of {} bytes (1 to {LABEL_BYTES_MAX})", bytes.len()));
        }
        claim_label(bytes).ok_or_else(|| {
            NtmsError::new(unclaimed, "no media label library claims the label (rsm knows ANSI VOL1, LTFS and its own)")
        })
    }

    /// A medium one of whose sides carries `omid`.
    pub(super) fn medium_with_omid(&self, omid: &Omid) -> Option<&'a Medium> {
        self.state.media.values().find(|m| m.sides.iter().any(|x| x.omid.as_deref() == Some(omid)))
    }

    /// UpdateNtmsOmidInfo. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the LMID given; a raw label of 1 to 64 KiB, or file-system
    ///    information whose type and volume fit the OMID's fields
    ///    (ERROR_INVALID_PARAMETER);
    /// 3. the logical medium and its side valid (ERROR_INVALID_MEDIA);
    /// 4. MODIFY access to its pool (ERROR_ACCESS_DENIED);
    /// 5. a raw label claimed by a media label library (ERROR_BAD_FORMAT).
    ///
    /// rsm records the identifier at once (spec: an NTMS_LM_UPDATEOMID
    /// request that passes at once; rsm makes no request of it).
    pub(super) fn update_omid(
        &self,
        session: SessionId,
        lmid: LogicalMediaId,
        label: &OmidLabel,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if lmid.is_nil() {
            return reject(E::InvalidParameter, "a logical medium is required");
        }
        match label {
            OmidLabel::Raw(bytes) if bytes.is_empty() || bytes.len() > LABEL_BYTES_MAX => {
                return reject(E::InvalidParameter, format!("a label of {} bytes (1 to {LABEL_BYTES_MAX})", bytes.len()))
            }
            OmidLabel::FileSystem { file_system, volume, .. }
                if file_system.is_empty()
                    || file_system.chars().count() > OMID_TYPE_LEN_MAX
                    || volume.chars().count() > OMID_ID_LEN_MAX - 9
                    || file_system.chars().chain(volume.chars()).any(char::is_control) =>
            {
                return reject(
                    E::InvalidParameter,
                    format!(
                        "a file system type of 1 to {OMID_TYPE_LEN_MAX} characters and a volume name of at most {} characters, without control characters",
                        OMID_ID_LEN_MAX - 9
                    ),
                )
            }
            _ => {}
        }
        let (m, x) = self.logical_medium(lmid)?;
        let p = self.pool_of(m)?;
        self.require_media(m, p, s, AccessMask::MODIFY, "record its label")?;
        let omid = match label {
            OmidLabel::Raw(bytes) => self.claimed(bytes, E::BadFormat)?,
            OmidLabel::FileSystem { file_system, volume, serial } => file_system_omid(file_system, volume, *serial),
        };
        Ok(vec![Event::OmidUpdated { media: m.id, side: x.number, omid }])
    }

    /// DeleteNtmsMedia. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the id given (ERROR_INVALID_PARAMETER);
    /// 3. a medium (ERROR_INVALID_MEDIA), its pool valid (ERROR_INVALID_MEDIA_POOL);
    /// 4. MODIFY access to its pool (ERROR_ACCESS_DENIED);
    /// 5. offline (not in a library), no side ALLOCATED, COMPLETE or
    ///    RESERVED (ERROR_INVALID_STATE).
    pub(super) fn delete_media(&self, session: SessionId, media: MediaId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let m = self.medium(media)?;
        let p = self.pool_of(m)?;
        self.require_media(m, p, s, AccessMask::MODIFY, "delete media")?;
        if m.location != Location::Offline || m.pending_request.is_some() {
            return reject(E::InvalidState, format!("medium {} is not offline: eject it first", m.barcode));
        }
        if let Some(mount) = self.awaited_by(media) {
            return reject(E::InvalidState, format!("mount {mount} waits for medium {}", m.barcode));
        }
        if m.sides.iter().any(|x| x.state.is_allocated() || x.state == SideState::Reserved) {
            return reject(E::InvalidState, format!("medium {} has a side allocated, complete or reserved", m.barcode));
        }
        Ok(vec![Event::MediaDeleted { media }])
    }

    /// ChangeNtmsMediaType. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. both ids given (ERROR_INVALID_PARAMETER);
    /// 3. the medium is valid (ERROR_INVALID_MEDIA);
    /// 4. the destination is a pool that holds media (ERROR_INVALID_MEDIA_POOL);
    /// 5. MODIFY access to the medium's pool and the destination
    ///    (ERROR_ACCESS_DENIED);
    /// 6. the medium's library, if it is in one, enabled and ready
    ///    (ERROR_LIBRARY_OFFLINE);
    /// 7. the moves MoveToNtmsMediaPool allows, media types aside; out of an
    ///    unrecognized pool only into the free pool (ERROR_INVALID_MEDIA_POOL);
    /// 8. the destination's type has as many sides (ERROR_MEDIA_INCOMPATIBLE);
    /// 9. not held mounted or being moved (ERROR_BUSY).
    pub(super) fn change_media_type(
        &self,
        session: SessionId,
        media: MediaId,
        pool: PoolId,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if media.is_nil() || pool.is_nil() {
            return reject(E::InvalidParameter, "a medium and a pool are required");
        }
        let m = self.medium(media)?;
        let from = self.pool_of(m).map_err(|e| NtmsError::new(E::InvalidMedia, e.message()))?;
        let to = self.pool(pool)?;
        let to_path = self.state.pool_path(pool);
        let Some(new_type) = to.media_type.and_then(media_type) else {
            return reject(E::InvalidMediaPool, format!("{to_path} holds only pools"));
        };
        self.require_media(m, from, s, AccessMask::MODIFY, "change its media's type")?;
        self.require_media(m, to, s, AccessMask::MODIFY, "move media into it")?;
        if let Some(lib) = self.state.libraries.get(&m.library) {
            if !Self::library_available(lib) {
                return reject(E::LibraryOffline, format!("library {} is disabled or not ready", lib.name));
            }
        }
        let refused = move_refused(m, from, to);
        if let Some(why) = refused {
            return reject(E::InvalidMediaPool, format!("medium {} cannot go to {to_path}: {why}", m.barcode));
        }
        if usize::from(new_type.sides) != m.sides.len() {
            return reject(
                E::MediaIncompatible,
                format!(
                    "{} has {} sides per medium, medium {} {}",
                    new_type.name,
                    new_type.sides,
                    m.barcode,
                    m.sides.len()
                ),
            );
        }
        if self.held_or_moving(m) {
            return reject(E::Busy, format!("medium {} is in use", m.barcode));
        }
        if m.pool == pool {
            return Ok(Vec::new());
        }
        let sides = sides_on_arrival(from, to);
        let mut events = vec![Event::MediaTypeChanged { media, pool, media_type: new_type.id, sides }];
        events.extend(self.prepare_after_move(m, sides));
        Ok(events)
    }
}
