//! Mounts and dismounts (spec §3.2 MountNtmsMedia, DismountNtmsMedia;
//! §3.3 DismountNtmsDrive, §4), the operator at a stand-alone drive, and the
//! deferred dismounts whose delay ran out.

use super::check_barcode;
use super::Ctx;
use crate::command::*;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::limits;
use crate::media_services::*;
use crate::objects::*;

/// Keeps the id of an offline mount's operator request apart from the ids
/// the same command derives for requests.
const OFFLINE_MOUNT_SALT: u64 = 1 << 44;

impl<'a> Ctx<'a> {
    /// MountNtmsMedia for one cartridge (spec §3.2). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a medium id, a named drive not the zero id, and a priority within
    ///    `PRIORITY_MIN..=PRIORITY_MAX` (ERROR_INVALID_PARAMETER);
    /// 3. the medium exists (ERROR_INVALID_MEDIA), the named drive exists
    ///    (ERROR_INVALID_DRIVE);
    /// 4. the medium's library, then the drive's, exists and is not being deleted
    ///    (ERROR_INVALID_LIBRARY); drive and medium share a library
    ///    (ERROR_DRIVE_MEDIA_MISMATCH);
    /// 5. USE access to the library (ERROR_ACCESS_DENIED);
    /// 6. medium, library and named drive enabled (ERROR_RESOURCE_DISABLED),
    ///    library and named drive ready (ERROR_DEVICE_NOT_AVAILABLE);
    /// 7. an offline medium with NTMS_MOUNT_ERROR_OFFLINE (ERROR_MEDIA_OFFLINE);
    ///    no request is moving it or waiting for it (ERROR_BUSY);
    /// 8. some side can be mounted: not DECOMMISSIONED or INCOMPATIBLE
    ///    (ERROR_INVALID_STATE); for writing, some side not COMPLETE either,
    ///    and not a read-only type (ERROR_WRITE_PROTECT); a named drive, or some
    ///    drive of the library, reads its media type (ERROR_MEDIA_INCOMPATIBLE);
    /// 9. where it is: in a drive, that drive is held by nobody, is the named one
    ///    if any (ERROR_BUSY) and is enabled and ready (ERROR_RESOURCE_DISABLED),
    ///    and the mount passes at once; in a slot, a usable drive (the named one,
    ///    else an empty one, else one holding a released cartridge) exists
    ///    (ERROR_BUSY), a make-room dismount finds a slot (ERROR_LIBRARY_FULL) and
    ///    the queue has room (ERROR_NOT_ENOUGH_MEMORY); in a port
    ///    (ERROR_INVALID_STATE); offline, it waits for the operator to bring
    ///    it (see `mount_of_offline`).
    pub(super) fn mount_media(
        &self,
        session: SessionId,
        media: MediaId,
        options: &MountOptions,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if media.is_nil() || options.drive.is_some_and(|d| d.is_nil()) {
            return reject(E::InvalidParameter, "a medium id is required, and a named drive may not be the zero id");
        }
        if !(limits::PRIORITY_MIN..=limits::PRIORITY_MAX).contains(&options.priority) {
            return reject(
                E::InvalidParameter,
                format!("priority {} is outside {}..{}", options.priority, limits::PRIORITY_MIN, limits::PRIORITY_MAX),
            );
        }
        let medium = self.medium(media)?;
        let named_drive = match options.drive {
            Some(d) => Some(self.drive(d)?),
            None => None,
        };
        let lib = self.library_of(medium)?;
        if let Some(d) = named_drive {
            self.valid_library(d.library)?;
            if d.library != medium.library {
                return reject(
                    E::DriveMediaMismatch,
                    format!("drive {} and medium {} are in different libraries", d.name, medium.barcode),
                );
            }
        }
        self.require(lib, s, AccessMask::USE, "mount media")?;
        if !medium.enabled || !lib.enabled || named_drive.is_some_and(|d| !d.enabled) {
            return reject(
                E::ResourceDisabled,
                format!("medium {}, its library or the drive is disabled", medium.barcode),
            );
        }
        if lib.operational != OperationalState::Ready
            || named_drive.is_some_and(|d| d.operational != OperationalState::Ready)
        {
            return reject(E::DeviceNotAvailable, format!("library {} or the drive is not ready", lib.name));
        }
        // rsm rule: a stand-alone drive's shelf has no slot to come back to;
        // the operator puts the cartridge in the drive, then it is mounted in place.
        if medium.location == Location::Offline && (options.error_if_offline || lib.kind == LibraryKind::Standalone) {
            return reject(E::MediaOffline, format!("medium {} is offline", medium.barcode));
        }
        if let Some(r) = medium.pending_request.or_else(|| self.awaited_by(media)) {
            return reject(E::Busy, format!("medium {} is being moved by request {r}", medium.barcode));
        }
        self.check_mountable(lib, medium, named_drive, options)?;
        match medium.location {
            Location::Drive(at) => self.mount_in_place(s, lib, medium, &self.state.drives[&at], named_drive, options),
            Location::Slot(_) => self.mount_from_slot(s, lib, medium, named_drive, options),
            Location::Port(_) => {
                reject(E::InvalidState, format!("medium {} is in an import/export port", medium.barcode))
            }
            Location::Offline => self.mount_of_offline(s, lib, medium, named_drive, options),
        }
    }

    /// The MOVEMEDIA operator request of a mount that waited for its
    /// medium, REFUSED with the mount's end (`reason`), if still open.
    pub(super) fn withdraw_move_request(&self, request: RequestId, reason: E) -> Option<Event> {
        let o = self.state.awaiting_media.get(&request)?;
        let open = self.state.operator_requests.get(o).is_some_and(|o| !o.state.is_terminal());
        open.then(|| self.operator_request_closed(*o, crate::operator::OperatorRequestState::Refused, Some(reason)))
    }

    /// A mount accepted WAITING (NTMS_LM_WAITING), with no drive yet.
    fn waiting_mount(&self, s: &Session, lib: &Library, medium: &Medium, options: &MountOptions) -> LibraryRequest {
        let mut r = self.port_request(self.cmd.request, RequestKind::Mount, lib.id, medium.id, &s.principal);
        r.state = RequestState::Waiting;
        r.session = Some(s.id);
        r.write = options.write;
        r.priority = options.priority;
        r
    }

    /// The mount that waits for an offline medium, if one does.
    pub(super) fn awaited_by(&self, media: MediaId) -> Option<RequestId> {
        self.state.awaiting_media.keys().find(|r| self.state.requests.get(r).is_some_and(|r| r.media == media)).copied()
    }

    /// A mount of an offline medium (spec §3.2, §6.3): accepted waiting,
    /// with an NTMS_OPREQ_MOVEMEDIA operator request (Arg1 the medium,
    /// Arg2 its library) raised for the caller's session. The medium comes
    /// back by an inject or an inventory; then the mount is given it
    /// (`AwaitedMediumArrived`, the operator request completed by rsm) and
    /// waits for a drive as any other.
    fn mount_of_offline(
        &self,
        s: &Session,
        lib: &Library,
        medium: &Medium,
        named: Option<&Drive>,
        options: &MountOptions,
    ) -> Result<Vec<Event>, NtmsError> {
        use crate::operator::{OperatorRequest, OperatorRequestKind};
        self.queue_room(lib, 1)?;
        let r = self.waiting_mount(s, lib, medium, options);
        let operator_request = OperatorRequestId(self.secondary_id(OFFLINE_MOUNT_SALT).0);
        let mut events = vec![
            Event::MountWaiting { request: r, drive: named.map(|d| d.id) },
            Event::OperatorRequestSubmitted {
                request: OperatorRequest::submitted(
                    operator_request,
                    OperatorRequestKind::MoveMedia { media: medium.id, library: Some(lib.id) },
                    s.id,
                    &s.principal,
                    format!("bring cartridge {} to library {} (a mount waits for it)", medium.barcode, lib.name),
                    self.now(),
                ),
            },
            Event::MountAwaitsMedium { request: self.cmd.request, operator_request },
        ];
        events.extend(self.mount_deadline(options));
        Ok(events)
    }

    /// Mounts whose offline medium is back in a slot of `lib`, with nothing
    /// else moving it: each is given its medium, and the operator request
    /// raised for it, if still open, is completed by rsm (its need was met).
    pub(super) fn awaited_media_arrived(&self, lib: &Library) -> Vec<Event> {
        use crate::operator::OperatorRequestState;
        let mut events = Vec::new();
        for (request, operator_request) in &self.state.awaiting_media {
            let Some(r) = self.state.requests.get(request).filter(|r| r.library == lib.id) else { continue };
            let Some(m) = self.state.media.get(&r.media) else { continue };
            if !matches!(m.location, Location::Slot(_)) || m.pending_request.is_some() || m.library != lib.id {
                continue;
            }
            events.push(Event::AwaitedMediumArrived { request: *request });
            if self.state.operator_requests.get(operator_request).is_some_and(|o| !o.state.is_terminal()) {
                events.push(self.operator_request_closed(*operator_request, OperatorRequestState::Complete, None));
            }
        }
        events
    }

    /// Check 8 of [`mount_media`](Self::mount_media): the side's state, write
    /// protection, and a drive that reads the medium's type.
    fn check_mountable(
        &self,
        lib: &Library,
        medium: &Medium,
        named: Option<&Drive>,
        options: &MountOptions,
    ) -> Result<(), NtmsError> {
        // rsm mounts the cartridge: it is mountable while a side is, and
        // writable while a side may still be written.
        let retired = |x: &Side| matches!(x.state, SideState::Decommissioned | SideState::Incompatible);
        if medium.sides.iter().all(retired) {
            return reject(
                E::InvalidState,
                format!("medium {} is decommissioned or incompatible: it is never mounted", medium.barcode),
            );
        }
        let kind = media_type(medium.media_type);
        let writable = medium.sides.iter().any(|x| !retired(x) && x.state != SideState::Complete);
        if options.write && (!writable || kind.is_some_and(|k| k.read_write == ReadWrite::ReadOnly)) {
            return reject(E::WriteProtect, format!("medium {} is complete or read-only", medium.barcode));
        }
        let reads = |d: &Drive| {
            matches!(medium.location, Location::Drive(at) if at == d.id)
                || kind.zip(media_type(d.media_type)).is_some_and(|(k, dt)| k.readable_by(dt))
        };
        let readable = match named {
            Some(d) => reads(d),
            None => lib.drives.iter().any(|d| reads(&self.state.drives[d])),
        };
        if !readable {
            return reject(
                E::MediaIncompatible,
                format!(
                    "no drive {}reads medium {}'s media type",
                    if named.is_some() { "named " } else { "" },
                    medium.barcode
                ),
            );
        }
        Ok(())
    }

    fn mount_in_place(
        &self,
        s: &Session,
        lib: &Library,
        medium: &Medium,
        at: &Drive,
        named: Option<&Drive>,
        options: &MountOptions,
    ) -> Result<Vec<Event>, NtmsError> {
        if at.holder.is_some() {
            return reject(
                E::Busy,
                format!("medium {} is mounted in drive {} by another holder", medium.barcode, at.name),
            );
        }
        if named.is_some_and(|d| d.id != at.id) {
            return reject(E::Busy, format!("medium {} sits in drive {}; dismount it first", medium.barcode, at.name));
        }
        if self.taken.contains(&at.id) {
            return reject(
                E::Busy,
                format!("drive {} holding {} is used by another mount of this call", at.name, medium.barcode),
            );
        }
        if !Self::drive_available(at) {
            return reject(E::ResourceDisabled, format!("drive {} holding {} is disabled", at.name, medium.barcode));
        }
        let mut r = self.new_request(self.cmd.request, RequestKind::Mount, at, medium.id, &s.principal);
        r.session = Some(s.id);
        r.write = options.write;
        r.priority = options.priority;
        r.state = RequestState::Passed;
        r.time_completed_ms = Some(self.now());
        let _ = lib;
        Ok(vec![Event::MountSatisfiedInPlace { request: r }])
    }

    /// MountNtmsMedia of several cartridges (spec §3.2): one request per
    /// cartridge, all accepted or none. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. at least one cartridge, and a drive for each or none
    ///    (ERROR_INVALID_PARAMETER); no cartridge twice (ERROR_INVALID_MEDIA);
    /// 3. every cartridge in one library (ERROR_DRIVE_MEDIA_MISMATCH);
    /// 4. each mount's own checks, in the order given, no two sharing a
    ///    drive; the first refusal refuses the whole call;
    /// 5. the queue has room for them all (ERROR_NOT_ENOUGH_MEMORY).
    ///
    /// The first request has the command's id; the others ids derived from it.
    pub(super) fn mount_media_set(
        &self,
        session: SessionId,
        media: &[MediaId],
        drives: &[DriveId],
        options: &MountOptions,
    ) -> Result<Vec<Event>, NtmsError> {
        self.session(session)?;
        if media.is_empty() || !(drives.is_empty() || drives.len() == media.len()) {
            return reject(E::InvalidParameter, "name one cartridge at least, and a drive for each or none");
        }
        // Found by a hostile run: a drive named twice left the second
        // cartridge waiting on the first's drive while others were free.
        if drives.iter().collect::<std::collections::BTreeSet<_>>().len() != drives.len() {
            return reject(E::InvalidParameter, "a drive is named twice: name one drive per cartridge");
        }
        self.one_library(media)?;
        let mut taken = std::collections::BTreeSet::new();
        let mut events = Vec::new();
        for (n, m) in media.iter().enumerate() {
            let stamped = self.part(n);
            let part = Ctx { state: self.state, policy: self.policy, cmd: &stamped, taken: taken.clone() };
            // rsm rule: a set is mounted from media at hand; an offline one
            // refuses it (ERROR_MEDIA_OFFLINE) rather than hold the others.
            let options = MountOptions { drive: drives.get(n).copied(), error_if_offline: true, ..*options };
            let mine = part.mount_media(session, *m, &options)?;
            for e in &mine {
                let used = match e {
                    Event::MountRequested { request } | Event::DismountRequested { request } => request.drive,
                    Event::MountSatisfiedInPlace { request } => request.drive,
                    _ => None,
                };
                taken.extend(used);
            }
            events.extend(mine);
        }
        let new = events
            .iter()
            .filter(|e| {
                matches!(e, Event::MountRequested { .. } | Event::MountWaiting { .. } | Event::DismountRequested { .. })
            })
            .count();
        if let Some(lib) =
            media.first().and_then(|m| self.state.media.get(m)).and_then(|m| self.state.libraries.get(&m.library))
        {
            self.queue_room(lib, new)?;
        }
        Ok(events)
    }

    /// DismountNtmsMedia of several cartridges: each as one, all or none.
    /// Checks, in order: session (ERROR_INVALID_HANDLE); at least one
    /// cartridge (ERROR_INVALID_PARAMETER), none twice (ERROR_INVALID_MEDIA);
    /// each dismount's own checks, in the order given; the queue has room
    /// for them all (ERROR_NOT_ENOUGH_MEMORY).
    pub(super) fn dismount_media_set(
        &self,
        session: SessionId,
        media: &[MediaId],
        deferred: bool,
    ) -> Result<Vec<Event>, NtmsError> {
        self.session(session)?;
        if media.is_empty() {
            return reject(E::InvalidParameter, "name one cartridge at least");
        }
        self.no_duplicates(media)?;
        let mut events = Vec::new();
        for (n, m) in media.iter().enumerate() {
            let stamped = self.part(n);
            let part = Ctx { state: self.state, policy: self.policy, cmd: &stamped, taken: Default::default() };
            events.extend(part.dismount_media(session, *m, deferred)?);
        }
        let mut per_library: std::collections::BTreeMap<LibraryId, usize> = Default::default();
        for e in &events {
            if let Event::DismountRequested { request } = e {
                *per_library.entry(request.library).or_default() += 1;
            }
        }
        for (library, n) in per_library {
            if let Some(lib) = self.state.libraries.get(&library) {
                self.queue_room(lib, n)?;
            }
        }
        Ok(events)
    }

    /// The command as its `n`th part sees it: the first keeps the command's
    /// request id, the others get ids derived from it.
    fn part(&self, n: usize) -> Stamped<Command> {
        /// Far from the ids a single mount derives for its own events.
        const PART_SALT: u64 = 1 << 40;
        let request =
            if n == 0 { self.cmd.request } else { RequestId(derive_id(self.cmd.request, PART_SALT + n as u64)) };
        Stamped { request, ..self.cmd.clone() }
    }

    fn no_duplicates(&self, media: &[MediaId]) -> Result<(), NtmsError> {
        let mut seen = std::collections::BTreeSet::new();
        match media.iter().find(|m| !seen.insert(**m)) {
            Some(m) => reject(E::InvalidMedia, format!("medium {m} is named twice")),
            None => Ok(()),
        }
    }

    /// Every cartridge of a mount of several in one library.
    fn one_library(&self, media: &[MediaId]) -> Result<(), NtmsError> {
        self.no_duplicates(media)?;
        let libraries: std::collections::BTreeSet<LibraryId> =
            media.iter().filter_map(|m| self.state.media.get(m)).map(|m| m.library).collect();
        if libraries.len() > 1 {
            return reject(E::DriveMediaMismatch, "the cartridges of one mount are in different libraries");
        }
        Ok(())
    }

    /// A drive that can take `medium` now, in the scheduler's order of
    /// preference (spec §5.3.5): the named one if it is free, else an empty
    /// one, else one holding another released cartridge (a dismount takes
    /// that home first); none in `taken`.
    pub(super) fn free_drive_for(
        &self,
        lib: &'a Library,
        medium: &Medium,
        named: Option<&'a Drive>,
        taken: &std::collections::BTreeSet<DriveId>,
    ) -> Option<&'a Drive> {
        let kind = media_type(medium.media_type);
        let reads = |d: &Drive| kind.zip(media_type(d.media_type)).is_some_and(|(k, dt)| k.readable_by(dt));
        let usable_empty = |d: &Drive| {
            reads(d)
                && !taken.contains(&d.id)
                && !self.cleaning_due(d)
                && Self::drive_available(d)
                && d.medium.is_none()
                && d.reserved_by.is_none()
                && d.state == DriveState::Dismounted
        };
        let usable_released = |d: &Drive| {
            reads(d)
                && !taken.contains(&d.id)
                && !self.cleaning_due(d)
                && Self::drive_available(d)
                && d.reserved_by.is_none()
                && d.holder.is_none()
                && d.state == DriveState::Dismountable
                && d.medium.is_some_and(|m| self.state.media[&m].pending_request.is_none())
        };
        match named {
            Some(d) => (usable_empty(d) || usable_released(d)).then_some(d),
            None => {
                let drives = || lib.drives.iter().map(|d| &self.state.drives[d]);
                drives().find(|d| usable_empty(d)).or_else(|| drives().find(|d| usable_released(d)))
            }
        }
    }

    /// The deadline MountNtmsMedia's timeout sets on the request this command makes.
    fn mount_deadline(&self, options: &MountOptions) -> Option<Event> {
        options
            .timeout_ms
            .map(|t| Event::RequestDeadlineSet { request: self.cmd.request, deadline_ms: self.now().saturating_add(t) })
    }

    fn mount_from_slot(
        &self,
        s: &Session,
        lib: &'a Library,
        medium: &Medium,
        named: Option<&'a Drive>,
        options: &MountOptions,
    ) -> Result<Vec<Event>, NtmsError> {
        let Some(drive) = self.free_drive_for(lib, medium, named, &self.taken) else {
            if options.no_wait_if_busy {
                return reject(
                    E::Busy,
                    match named {
                        Some(d) => format!("drive {} is in use", d.name),
                        None => format!("every drive of library {} that reads {} is in use", lib.name, medium.barcode),
                    },
                );
            }
            // It waits (NTMS_LM_WAITING) for a drive to free up.
            self.queue_room(lib, 1)?;
            let mut r = self.waiting_mount(s, lib, medium, options);
            r.slot = medium.home_slot;
            let mut events = vec![Event::MountWaiting { request: r, drive: named.map(|d| d.id) }];
            events.extend(self.mount_deadline(options));
            return Ok(events);
        };
        let mut events = Vec::new();
        if drive.medium.is_some() {
            let room =
                self.dismount_request(self.secondary_id(1), lib, drive, &s.principal, DismountOrigin::MakeRoom)?;
            events.push(Event::DismountRequested { request: room });
        }
        self.queue_room(lib, events.len() + 1)?;
        let mut r = self.new_request(self.cmd.request, RequestKind::Mount, drive, medium.id, &s.principal);
        r.session = Some(s.id);
        r.write = options.write;
        r.priority = options.priority;
        r.slot = medium.home_slot;
        events.push(Event::MountRequested { request: r });
        events.extend(self.mount_deadline(options));
        Ok(events)
    }

    /// Waiting mounts of `lib`, in the mount order (spec §5.3), each
    /// given a drive that has freed up (`free_drive_for`); one that finds
    /// none does not hold back those behind it.
    pub(super) fn assign_waiting_mounts(&self, lib: &'a Library) -> Vec<Event> {
        // The mount order holds every waiting mount, in serving order.
        let waiting = lib
            .mount_order
            .iter()
            .filter_map(|(r, _)| self.state.requests.get(r))
            .filter(|r| r.state == RequestState::Waiting);
        let mut taken = std::collections::BTreeSet::new();
        let mut events = Vec::new();
        let mut queued = lib.active_requests.len();
        for (n, r) in waiting.enumerate() {
            if self.state.awaiting_media.contains_key(&r.id) {
                continue; // its cartridge is not back yet
            }
            let Some(medium) = self.state.media.get(&r.media).filter(|m| m.enabled) else { continue };
            let named = self.state.waiting_drives.get(&r.id).and_then(|d| self.state.drives.get(d));
            if self.state.waiting_drives.contains_key(&r.id) && named.is_none() {
                continue;
            }
            let Some(drive) = self.free_drive_for(lib, medium, named, &taken) else { continue };
            if drive.medium.is_some() {
                if queued >= self.policy.queue_per_library_max {
                    continue;
                }
                let id = self.secondary_id(1 + n as u64);
                let Ok(room) = self.dismount_request(id, lib, drive, &r.submitter, DismountOrigin::MakeRoom) else {
                    continue;
                };
                queued += 1;
                events.push(Event::DismountRequested { request: room });
            }
            taken.insert(drive.id);
            events.push(Event::WaitingMountAssigned { request: r.id, drive: drive.id });
        }
        events
    }

    /// DismountNtmsMedia (spec §3.2). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a medium id (ERROR_INVALID_PARAMETER);
    /// 3. the medium exists (ERROR_INVALID_MEDIA), its library exists and is not
    ///    being deleted (ERROR_INVALID_LIBRARY);
    /// 4. USE access to the library (ERROR_ACCESS_DENIED);
    /// 5. the medium is not offline (ERROR_MEDIA_OFFLINE) and is in a drive
    ///    (ERROR_INVALID_STATE);
    /// 6. the medium is enabled (ERROR_MEDIA_NOT_AVAILABLE), its library
    ///    enabled and ready and its drive ready (ERROR_DEVICE_NOT_AVAILABLE);
    ///    a drive disabled while a session held its cartridge still lets it
    ///    go: the release (deferred or not) takes it home (origin
    ///    `Disabled`, as disabling does for a cartridge nobody holds);
    /// 7. no request already moves it or holds its drive (ERROR_INVALID_STATE);
    ///    a deferred dismount needs a session holding it (ERROR_INVALID_STATE);
    /// 8. a cartridge another session holds (opened) is released only by a
    ///    principal with CONTROL, the operator's override, recorded as a
    ///    `HoldOverridden` (ERROR_ACCESS_DENIED otherwise; rsm rule);
    /// 9. an immediate dismount in a changer: a slot to go to
    ///    (ERROR_LIBRARY_FULL), room in the queue (ERROR_NOT_ENOUGH_MEMORY).
    pub(super) fn dismount_media(
        &self,
        session: SessionId,
        media: MediaId,
        deferred: bool,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let medium = self.medium(media)?;
        let lib = self.library_of(medium)?;
        self.require(lib, s, AccessMask::USE, "dismount media")?;
        let drive = match medium.location {
            Location::Offline => return reject(E::MediaOffline, format!("medium {} is offline", medium.barcode)),
            Location::Drive(d) => &self.state.drives[&d],
            _ => return reject(E::InvalidState, format!("medium {} is not in a drive", medium.barcode)),
        };
        if !medium.enabled {
            return reject(E::MediaNotAvailable, format!("medium {} is disabled", medium.barcode));
        }
        if !Self::library_available(lib) || drive.operational != OperationalState::Ready {
            return reject(
                E::DeviceNotAvailable,
                format!("drive {} or library {} is not available", drive.name, lib.name),
            );
        }
        // A disabled drive is emptied, whatever the release asked for.
        let emptying = !drive.enabled && lib.kind == LibraryKind::Changer;
        let deferred = deferred && !emptying;
        if let Some(r) = medium.pending_request.or(drive.reserved_by) {
            return reject(E::InvalidState, format!("medium {} is already the subject of request {r}", medium.barcode));
        }
        let held = drive.holder.is_some();
        if deferred && !held {
            return reject(E::InvalidState, format!("medium {} is not mounted by any session", medium.barcode));
        }
        let mut events = Vec::new();
        if let Some(holder) = drive.holder.filter(|h| *h != s.id) {
            self.require(lib, s, AccessMask::CONTROL, "release a cartridge another session opened")?;
            events.push(Event::HoldOverridden { drive: drive.id, holder, by: s.principal.clone() });
        }
        if deferred || lib.kind == LibraryKind::Standalone {
            let audit = (lib.kind == LibraryKind::Standalone && !deferred)
                .then(|| self.standalone_audit(drive, &s.principal, DismountOrigin::Media));
            let deadline = if deferred { self.deferral_deadline(lib, drive.id) } else { None };
            events.push(Event::DriveMadeDismountable { drive: drive.id, deadline_ms: deadline, audit });
            return Ok(events);
        }
        let origin = if emptying { DismountOrigin::Disabled } else { DismountOrigin::Media };
        let request = self.dismount_request(self.cmd.request, lib, drive, &s.principal, origin)?;
        self.queue_room(lib, 1)?;
        if held && events.is_empty() {
            events.push(Event::HoldReleased { drive: drive.id });
        }
        events.push(Event::DismountRequested { request });
        Ok(events)
    }

    fn standalone_audit(&self, drive: &Drive, submitter: &str, origin: DismountOrigin) -> LibraryRequest {
        let media = drive.medium.expect("a stand-alone dismount is decided only for a drive that holds a medium");
        let mut r = self.new_request(self.cmd.request, RequestKind::Dismount, drive, media, submitter);
        r.state = RequestState::Passed;
        r.origin = Some(origin);
        r.time_completed_ms = Some(self.now());
        r
    }

    /// DismountNtmsDrive: the rules of spec §4.3, checked in their order
    /// (the numbers in the code):
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a drive id (ERROR_INVALID_PARAMETER);
    /// 3. the drive exists (ERROR_INVALID_DRIVE);
    /// 4. its library exists and is not being deleted (ERROR_INVALID_LIBRARY);
    /// 5. the policy's right on the library, MODIFY or CONTROL
    ///    (ERROR_ACCESS_DENIED);
    /// 6. library and drive enabled and ready (ERROR_DEVICE_NOT_AVAILABLE);
    /// 7. the drive holds a medium that no request is already moving
    ///    (ERROR_INVALID_STATE);
    /// 8. no session holds the medium (ERROR_INVALID_STATE);
    /// 9. a changer has a slot to take it to (ERROR_LIBRARY_FULL);
    /// 10. the queue has room (ERROR_NOT_ENOUGH_MEMORY).
    pub(super) fn dismount_drive(&self, session: SessionId, drive: DriveId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?; // 1
        let d = self.drive(drive)?; // 2, 3
        let lib = self.valid_library(d.library)?; // 4
        self.require(lib, s, self.policy.dismount_drive_right, "dismount its drives")?; // 5
        if !Self::library_available(lib) || !Self::drive_available(d) {
            return reject(
                E::DeviceNotAvailable,
                format!("drive {} or its library {} is not enabled", d.name, lib.name),
            ); // 6
        }
        if !d.state.holds_data_medium() || d.medium.is_none() {
            return reject(E::InvalidState, format!("drive {} holds no medium", d.name));
            // 7
        }
        if let Some(r) = d.reserved_by {
            return reject(
                E::InvalidState,
                format!("the medium in drive {} is already being moved by request {r}", d.name),
            ); // 7
        }
        if d.holder.is_some() {
            return reject(
                E::InvalidState,
                format!("the medium in drive {} is opened by a session; it must dismount it", d.name),
            ); // 8
        }
        if lib.kind == LibraryKind::Standalone {
            let audit = self.standalone_audit(d, &s.principal, DismountOrigin::Drive);
            return Ok(vec![Event::DriveMadeDismountable { drive: d.id, deadline_ms: None, audit: Some(audit) }]);
        }
        let request = self.dismount_request(self.cmd.request, lib, d, &s.principal, DismountOrigin::Drive)?; // 9
        self.queue_room(lib, 1)?; // 10
        Ok(vec![Event::DismountRequested { request }])
    }

    // ---- the operator at a stand-alone drive ----------------------------

    /// The checks shared by the operator's commands at a stand-alone drive, in
    /// order: session (ERROR_INVALID_HANDLE); a drive id (ERROR_INVALID_PARAMETER);
    /// the drive (ERROR_INVALID_DRIVE); its library (ERROR_INVALID_LIBRARY);
    /// CONTROL access (ERROR_ACCESS_DENIED); a stand-alone library
    /// (ERROR_NOT_SUPPORTED: a changer's robot moves its media).
    fn standalone_drive(
        &self,
        session: SessionId,
        drive: DriveId,
        what: &str,
    ) -> Result<(&'a Session, &'a Drive), NtmsError> {
        let s = self.session(session)?;
        let d = self.drive(drive)?;
        let lib = self.valid_library(d.library)?;
        self.require(lib, s, AccessMask::CONTROL, what)?;
        if lib.kind != LibraryKind::Standalone {
            return reject(
                E::NotSupported,
                format!("drive {} is in a changer library: the robot moves its media", d.name),
            );
        }
        Ok((s, d))
    }

    /// The operator put a cartridge into a stand-alone drive. Checks, in order:
    /// 1. the bar code is well formed (ERROR_INVALID_PARAMETER; checked before
    ///    the session);
    /// 2. session (ERROR_INVALID_HANDLE), a drive id (ERROR_INVALID_PARAMETER),
    ///    the drive (ERROR_INVALID_DRIVE), its library (ERROR_INVALID_LIBRARY),
    ///    CONTROL access (ERROR_ACCESS_DENIED), a stand-alone library
    ///    (ERROR_NOT_SUPPORTED): see `standalone_drive`;
    /// 3. the drive is empty and promised to no request (ERROR_INVALID_STATE);
    /// 4. a known bar code belongs to a cartridge of this library on the shelf
    ///    (ERROR_INVALID_MEDIA).
    pub(super) fn operator_insert(
        &self,
        session: SessionId,
        drive: DriveId,
        barcode: &str,
    ) -> Result<Vec<Event>, NtmsError> {
        check_barcode(barcode)?;
        let (_, d) = self.standalone_drive(session, drive, "load its drive")?;
        if d.medium.is_some() || d.reserved_by.is_some() {
            return reject(E::InvalidState, format!("drive {} is not empty", d.name));
        }
        let (media, new) = match self.state.medium_by_barcode(barcode) {
            Some(m) if m.library == d.library && m.location == Location::Offline => (m.id, false),
            Some(m) => {
                let st = self.state;
                let place = match m.location {
                    Location::Slot(x) => st.slots.get(&x).map(|x| x.name.clone()),
                    Location::Drive(x) => st.drives.get(&x).map(|x| x.name.clone()),
                    Location::Port(x) => st.ports.get(&x).map(|x| x.name.clone()),
                    Location::Offline => {
                        st.libraries.get(&m.library).map(|l| format!("the shelf of library {}", l.name))
                    }
                };
                let place = place.unwrap_or_else(|| "another library".into());
                return reject(E::InvalidMedia, format!("medium {barcode} is in {place}, not on this drive's shelf"));
            }
            None => (MediaId(derive_id(self.cmd.request, 1)), true),
        };
        Ok(vec![Event::MediaInserted { drive: d.id, media, barcode: barcode.to_string(), new }])
    }

    /// The operator took the cartridge out of a stand-alone drive. Checks, in
    /// order: those of `standalone_drive` (session, drive id, drive, library,
    /// CONTROL access, stand-alone); the drive holds a cartridge
    /// (ERROR_INVALID_STATE) that no session holds (ERROR_INVALID_STATE).
    pub(super) fn operator_remove(&self, session: SessionId, drive: DriveId) -> Result<Vec<Event>, NtmsError> {
        let (_, d) = self.standalone_drive(session, drive, "unload its drive")?;
        let media = d.medium.ok_or_else(|| NtmsError::new(E::InvalidState, format!("drive {} is empty", d.name)))?;
        if d.holder.is_some() {
            // The drive keeps medium removal prevented while a session holds it.
            return reject(E::InvalidState, format!("the medium in drive {} is opened; dismount it first", d.name));
        }
        Ok(vec![Event::MediaRemoved { drive: d.id, media }])
    }

    /// A dismount of whatever sits in `drive` back to its home slot (rule 9
    /// of DismountDrive: a NOTPRESENT home is replaced by the lowest free slot).
    pub(super) fn dismount_request(
        &self,
        id: RequestId,
        lib: &Library,
        drive: &Drive,
        submitter: &str,
        origin: DismountOrigin,
    ) -> Result<LibraryRequest, NtmsError> {
        let media = drive.medium.expect("dismount_request is called only for a drive that holds a medium");
        let medium = &self.state.media[&media];
        let home = medium.home_slot.and_then(|s| self.state.slots.get(&s)).filter(|s| s.state != SlotState::NotPresent);
        let slot = match home {
            Some(s) => s.id,
            None => lib
                .slots
                .iter()
                .map(|s| &self.state.slots[s])
                .find(|s| s.state == SlotState::Empty && s.home_of.is_none() && lib.data_slot(s.id))
                .map(|s| s.id)
                .ok_or_else(|| {
                    NtmsError::new(
                        E::LibraryFull,
                        format!("no free slot in library {} to take {}", lib.name, medium.barcode),
                    )
                })?,
        };
        let mut r = self.new_request(id, RequestKind::Dismount, drive, media, submitter);
        r.slot = Some(slot);
        r.origin = Some(origin);
        Ok(r)
    }

    /// Deferred dismounts whose delay ran out become dismount requests.
    ///
    /// Never rejected: a drive whose deferral is due is skipped while it is
    /// held, promised, disabled, in a library being deleted or unavailable, or
    /// when its queue is full.
    pub(super) fn tick(&self) -> Vec<Event> {
        let mut events: Vec<Event> = self.purge_due().into_iter().collect();
        events.extend(self.doors_left_open());
        // A mount whose dwTimeout ran out before it started: ERROR_BUSY while
        // it waited for a drive (rsm rule), ERROR_TIMEOUT once queued.
        for (request, deadline) in &self.state.deadlines {
            let Some(r) = self.state.requests.get(request).filter(|_| *deadline <= self.now()) else { continue };
            // Waiting for the operator to bring the medium: ERROR_TIMEOUT, and
            // the operator request is withdrawn (spec §6.3).
            let awaiting = self.state.awaiting_media.get(&r.id);
            let error = match r.state {
                RequestState::Waiting if awaiting.is_none() => E::Busy,
                RequestState::Waiting | RequestState::Queued => E::Timeout,
                _ => continue,
            };
            events.push(Event::RequestTimedOut { request: r.id, error: error.code(), at_ms: self.now() });
            events.extend(self.withdraw_move_request(r.id, E::Timeout));
        }
        let mut queued: std::collections::BTreeMap<LibraryId, usize> = Default::default();
        for (n, d) in self.state.drives.values().enumerate() {
            let due = d.dismount_deadline_ms.is_some_and(|t| t <= self.now());
            if !due || d.holder.is_some() || d.reserved_by.is_some() || !Self::drive_available(d) {
                continue;
            }
            let lib = &self.state.libraries[&d.library];
            let extra = queued.entry(lib.id).or_default();
            if lib.deleting
                || !Self::library_available(lib)
                || lib.active_requests.len() + *extra >= self.policy.queue_per_library_max
            {
                continue;
            }
            if let Ok(request) =
                self.dismount_request(self.secondary_id(n as u64 + 1), lib, d, "rsm", DismountOrigin::DeferredExpiry)
            {
                *extra += 1;
                events.push(Event::DismountRequested { request });
            }
        }
        events
    }
}
