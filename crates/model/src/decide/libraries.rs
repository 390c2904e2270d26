//! Libraries: CreateLibrary and AttachLibrary (rsm's), DeleteNtmsLibrary
//! (spec §3.3), and the Object Management calls on them (spec §3.6):
//! EnableNtmsObject / DisableNtmsObject and the library's access rights.

use super::Ctx;
use super::{check_name, distinct_addresses};
use crate::command::*;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::limits;
use crate::objects::*;

impl<'a> Ctx<'a> {
    /// AttachLibrary. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. name: 1 to `NAME_LEN_MAX` printable characters without spaces
    ///    (ERROR_INVALID_PARAMETER);
    /// 3. a device is named (ERROR_INVALID_PARAMETER);
    /// 4. at least one drive, and no more drives, ports and slots than the
    ///    per-library limits (ERROR_INVALID_PARAMETER);
    /// 5. every element address listed once (ERROR_INVALID_PARAMETER);
    /// 6. the media type, when given, is in the catalog (ERROR_INVALID_MEDIA);
    /// 7. each bar code in element order: well formed (ERROR_INVALID_PARAMETER),
    ///    neither seen twice nor already known (ERROR_INVALID_MEDIA);
    /// 8. the library's and its elements' names unused (ERROR_ALREADY_EXISTS).
    ///
    /// Cartridges in slots get that slot as home. A cartridge in a drive
    /// starts there, loaded and held by nobody (DismountDrive takes it out);
    /// its home is the lowest empty slot no other cartridge calls home, or
    /// none when every slot is taken (its dismount then answers
    /// ERROR_LIBRARY_FULL, rule 9). Cartridges in ports are not adopted: a
    /// port is for the operator, and no request takes media from one.
    pub(super) fn attach_library(
        &self,
        session: SessionId,
        name: &str,
        layout: &ElementLayout,
        device: &str,
        classify: bool,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        check_name(name)?;
        if device.is_empty() {
            return reject(E::InvalidParameter, "a device is required");
        }
        if layout.drives.is_empty() {
            return reject(E::InvalidParameter, "a changer library needs at least one drive");
        }
        if layout.drives.len() > usize::from(limits::DRIVES_PER_LIBRARY_MAX)
            || layout.ports.len() > usize::from(limits::PORTS_PER_LIBRARY_MAX)
            || layout.slots.len() > limits::SLOTS_PER_LIBRARY_MAX as usize
        {
            return Err(too_large());
        }
        distinct_addresses(layout.drives.iter().chain(&layout.slots).chain(&layout.ports).map(|(a, _)| *a))?;
        // rsm rule: what the device or the operator said, else the default type.
        let media_type = layout.media_type.unwrap_or_else(crate::media_services::default_media_type);
        if crate::media_services::media_type(media_type).is_none() {
            return reject(E::InvalidMedia, format!("{media_type} is not a media type of the catalog"));
        }
        self.check_new_barcodes(layout.drives.iter().chain(&layout.slots).filter_map(|(_, b)| b.as_ref()))?;
        let mut n = 0u64;
        let mut next = || {
            n += 1;
            derive_id(self.cmd.request, n)
        };
        let id = LibraryId(next());
        let address = |list: &[(u16, Option<String>)]| list.iter().map(|(a, _)| *a).collect::<Vec<_>>();
        let Elements { drives, ports, slots } =
            self.elements(name, [address(&layout.drives), address(&layout.ports), address(&layout.slots)], &mut next)?;
        let mut media: Vec<(MediaId, String, Option<SlotId>)> = Vec::new();
        for (i, (_, b)) in layout.slots.iter().enumerate() {
            if let Some(b) = b {
                media.push((self.adopted_or(b, MediaId(next())), b.clone(), Some(slots[i].0)));
            }
        }
        let mut free = layout.slots.iter().zip(&slots).filter(|((_, b), _)| b.is_none()).map(|(_, s)| s.0);
        let mut in_drives = Vec::new();
        for (i, (_, b)) in layout.drives.iter().enumerate() {
            if let Some(b) = b {
                let m = self.adopted_or(b, MediaId(next()));
                media.push((m, b.clone(), free.next()));
                in_drives.push((m, drives[i].0));
            }
        }
        // Only cartridges found in their slots are classified (one found in a
        // drive is taken as it is), and never one adopted from the shelf.
        let unlabelled = media
            .iter()
            .filter(|(m, _, _)| classify && !self.state.media.contains_key(m) && !in_drives.iter().any(|(d, _)| d == m))
            .map(|(m, _, _)| *m)
            .collect();
        let topology = LibraryTopology {
            id,
            name: name.to_string(),
            kind: LibraryKind::Changer,
            drives,
            slots,
            ports,
            media,
            unlabelled,
            defer_dismount_delay_s: limits::DEFER_DISMOUNT_DELAY_S_DEFAULT,
            media_type,
        };
        let classification = self.classify_created(&topology);
        let mut events = vec![Event::LibraryAttached {
            topology,
            in_drives,
            device: device.to_string(),
            creator: s.principal.clone(),
        }];
        events.extend(classification);
        Ok(events)
    }

    /// CreateLibrary (a simulated library). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. name: 1 to `NAME_LEN_MAX` printable characters without spaces
    ///    (ERROR_INVALID_PARAMETER);
    /// 3. shape: a stand-alone library has one drive, no slots and no ports, a
    ///    changer at least one drive (ERROR_INVALID_PARAMETER);
    /// 4. counts within the per-library limits (ERROR_INVALID_PARAMETER);
    /// 5. a changer's cartridges fit in its slots (ERROR_INVALID_PARAMETER);
    /// 6. the media type is in the catalog (ERROR_INVALID_MEDIA);
    /// 7. each bar code in order: well formed (ERROR_INVALID_PARAMETER), neither
    ///    listed twice nor already known (ERROR_INVALID_MEDIA);
    /// 8. the library's and its elements' names unused (ERROR_ALREADY_EXISTS);
    /// 9. every unlabelled bar code one of its cartridges (ERROR_INVALID_PARAMETER).
    ///
    /// Its unlabelled cartridges (new ones; an adopted cartridge keeps its
    /// sides) are classified by requests queued with it.
    pub(super) fn create_library(&self, session: SessionId, spec: &LibrarySpec) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        check_name(&spec.name)?;
        match spec.kind {
            LibraryKind::Standalone if spec.drives != 1 || spec.slots != 0 || spec.ie_ports != 0 => {
                return reject(
                    E::InvalidParameter,
                    "a stand-alone library has exactly one drive, no slots and no ports",
                );
            }
            LibraryKind::Changer if spec.drives == 0 => {
                return reject(E::InvalidParameter, "a changer library needs at least one drive")
            }
            _ => {}
        }
        if spec.drives > limits::DRIVES_PER_LIBRARY_MAX
            || spec.ie_ports > limits::PORTS_PER_LIBRARY_MAX
            || spec.slots > limits::SLOTS_PER_LIBRARY_MAX
        {
            return Err(too_large());
        }
        if spec.kind == LibraryKind::Changer && spec.barcodes.len() > spec.slots as usize {
            return reject(
                E::InvalidParameter,
                format!("{} cartridges do not fit in {} slots", spec.barcodes.len(), spec.slots),
            );
        }
        if crate::media_services::media_type(spec.media_type).is_none() {
            return reject(E::InvalidMedia, format!("{} is not a media type of the catalog", spec.media_type));
        }
        self.check_new_barcodes(spec.barcodes.iter())?;
        let mut n = 0u64;
        let mut next = || {
            n += 1;
            derive_id(self.cmd.request, n)
        };
        let id = LibraryId(next());
        let slot_addresses = (0..spec.slots)
            .map(|i| {
                u16::try_from(u32::from(limits::SLOT_ADDRESS_FIRST) + i)
                    .expect("slot count is bounded by SLOTS_PER_LIBRARY_MAX so addresses fit in 16 bits")
            })
            .collect();
        let Elements { drives, ports, slots } = self.elements(
            &spec.name,
            [
                (0..spec.drives).map(|i| limits::DRIVE_ADDRESS_FIRST + i).collect(),
                (0..spec.ie_ports).map(|i| limits::PORT_ADDRESS_FIRST + i).collect(),
                slot_addresses,
            ],
            &mut next,
        )?;
        if let Some(stranger) = spec.unlabelled.iter().find(|b| !spec.barcodes.contains(b)) {
            return reject(E::InvalidParameter, format!("unlabelled bar code {stranger} is not one of the cartridges"));
        }
        let media: Vec<(MediaId, String, Option<SlotId>)> = spec
            .barcodes
            .iter()
            .enumerate()
            .map(|(i, b)| (self.adopted_or(b, MediaId(next())), b.clone(), slots.get(i).map(|s| s.0)))
            .collect();
        let unlabelled = media
            .iter()
            .filter(|(id, b, _)| spec.unlabelled.contains(b) && !self.state.media.contains_key(id))
            .map(|(id, _, _)| *id)
            .collect();
        let topology = LibraryTopology {
            id,
            name: spec.name.clone(),
            kind: spec.kind,
            drives,
            slots,
            ports,
            media,
            unlabelled,
            defer_dismount_delay_s: limits::DEFER_DISMOUNT_DELAY_S_DEFAULT,
            media_type: spec.media_type,
        };
        let classify = self.classify_created(&topology);
        let mut events = vec![Event::LibraryCreated { topology, creator: s.principal.clone() }];
        events.extend(classify);
        Ok(events)
    }

    /// Ids and names (`NAME-drive-N`, `NAME-port-N`, `NAME-slot-N`) for the
    /// element addresses of a new library; ERROR_ALREADY_EXISTS when a name is taken.
    fn elements(
        &self,
        name: &str,
        [drives, ports, slots]: [Vec<u16>; 3],
        next: &mut impl FnMut() -> uuid::Uuid,
    ) -> Result<Elements, NtmsError> {
        let mut named = |kind: &str, addresses: Vec<u16>| -> Vec<(uuid::Uuid, String, u16)> {
            addresses.into_iter().enumerate().map(|(i, a)| (next(), format!("{name}-{kind}-{}", i + 1), a)).collect()
        };
        let elements = Elements {
            drives: named("drive", drives).into_iter().map(|(id, n, a)| (DriveId(id), n, a)).collect(),
            ports: named("port", ports).into_iter().map(|(id, n, a)| (PortId(id), n, a)).collect(),
            slots: named("slot", slots).into_iter().map(|(id, n, a)| (SlotId(id), n, a)).collect(),
        };
        let names = std::iter::once(name)
            .chain(elements.drives.iter().map(|d| d.1.as_str()))
            .chain(elements.ports.iter().map(|p| p.1.as_str()))
            .chain(elements.slots.iter().map(|p| p.1.as_str()));
        match names.into_iter().find(|n| self.name_taken(n)) {
            Some(taken) => reject(E::AlreadyExists, format!("an object named {taken} already exists")),
            None => Ok(elements),
        }
    }

    /// GrantAccess / RevokeAccess (SetNtmsObjectSecurity on a library, spec
    /// §3.6). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a library id, a principal named as objects are (`limits::is_valid_name`), and
    ///    rights that are a non-empty set of use, modify, control
    ///    (ERROR_INVALID_PARAMETER);
    /// 3. the library exists and is not being deleted (ERROR_INVALID_LIBRARY);
    /// 4. CONTROL access to it (ERROR_ACCESS_DENIED; rsm rule);
    /// 5. a revoke leaves some principal with CONTROL on the library
    ///    (ERROR_INVALID_STATE; rsm rule: access is never lost for good).
    pub(super) fn change_access(
        &self,
        session: SessionId,
        library: LibraryId,
        principal: &str,
        rights: AccessMask,
        grant: bool,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if library.is_nil() || !limits::is_valid_name(principal) || rights.0 == 0 || rights.0 & !AccessMask::ALL.0 != 0
        {
            return reject(
                E::InvalidParameter,
                format!(
                    "name a library, a principal of 1 to {} printable characters without spaces and rights among use, modify, control",
                    limits::NAME_LEN_MAX
                ),
            );
        }
        let lib = self.valid_library(library)?;
        // rsm rule: changing a library's security needs CONTROL on it.
        self.require(lib, s, AccessMask::CONTROL, "change its access rights")?;
        if !grant && rights.allows(AccessMask::CONTROL) {
            let others = lib.access.iter().any(|(p, mask)| p != principal && mask.allows(AccessMask::CONTROL));
            let held = lib.access.get(principal).is_some_and(|m| m.allows(AccessMask::CONTROL));
            if held && !others {
                return reject(
                    E::InvalidState,
                    format!(
                        "{principal} is the last principal with CONTROL on library {}: grant CONTROL to another first",
                        lib.name
                    ),
                );
            }
        }
        let principal = principal.to_string();
        Ok(vec![if grant {
            Event::AccessGranted { library, principal, rights }
        } else {
            Event::AccessRevoked { library, principal, rights }
        }])
    }

    /// EnableNtmsObject / DisableNtmsObject (spec §3.6). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the object is a library, a drive or a medium, not the zero id
    ///    (ERROR_INVALID_PARAMETER);
    /// 3. it exists (ERROR_OBJECT_NOT_FOUND);
    /// 4. it is not on the offline shelf (ERROR_LIBRARY_OFFLINE);
    /// 5. its library is not being deleted (ERROR_INVALID_LIBRARY);
    /// 6. MODIFY access to its library (ERROR_ACCESS_DENIED);
    /// 7. it is not already enabled (or disabled) (ERROR_INVALID_STATE).
    ///
    /// The flag changes at once (the spec queues an NTMS_LM_ENABLE or
    /// DISABLE request and answers "queued"; rsm's answer is the change
    /// itself). A changer's drive disabled with a cartridge in it that no
    /// session holds and no request moves is emptied: a dismount takes the
    /// cartridge home (when a slot can take it).
    pub(super) fn set_enabled(
        &self,
        session: SessionId,
        object: ObjectRef,
        enabled: bool,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let not_found =
            |what: &str, id: &dyn std::fmt::Display| NtmsError::new(E::ObjectNotFound, format!("no {what} {id}"));
        let (library, current) = match object {
            ObjectRef::Library(id) if !id.is_nil() => {
                let lib = self.state.libraries.get(&id).ok_or_else(|| not_found("library", &id))?;
                (lib.id, lib.enabled)
            }
            ObjectRef::Drive(id) if !id.is_nil() => {
                let d = self.state.drives.get(&id).ok_or_else(|| not_found("drive", &id))?;
                (d.library, d.enabled)
            }
            ObjectRef::Media(id) if !id.is_nil() => {
                let m = self.state.media.get(&id).ok_or_else(|| not_found("medium", &id))?;
                (m.library, m.enabled)
            }
            _ => return reject(E::InvalidParameter, "only a library, a drive or a medium can be enabled or disabled"),
        };
        // An ejected cartridge keeps its library's id on the shelf: where it
        // is decides (found by a hostile run).
        let on_shelf = matches!(object, ObjectRef::Media(m) if self.state.media.get(&m).is_some_and(|m| m.location == Location::Offline));
        if on_shelf || !self.state.libraries.contains_key(&library) {
            return reject(E::LibraryOffline, "a medium on the offline shelf cannot be enabled or disabled");
        }
        let lib = self.valid_library(library)?;
        self.require(
            lib,
            s,
            AccessMask::MODIFY,
            if enabled { "enable objects in it" } else { "disable objects in it" },
        )?;
        if current == enabled {
            return reject(
                E::InvalidState,
                if enabled { "the object is already enabled" } else { "the object is already disabled" },
            );
        }
        let mut events = vec![Event::EnabledChanged { object, enabled }];
        if let (ObjectRef::Drive(id), false, LibraryKind::Changer) = (object, enabled, lib.kind) {
            let drive = &self.state.drives[&id];
            let released = drive.medium.is_some_and(|m| self.state.media[&m].pending_request.is_none())
                && drive.holder.is_none()
                && drive.reserved_by.is_none()
                && lib.active_requests.len() < self.policy.queue_per_library_max;
            if released {
                let origin = DismountOrigin::Disabled;
                if let Ok(request) = self.dismount_request(self.cmd.request, lib, drive, &s.principal, origin) {
                    events.push(Event::DismountRequested { request });
                }
            }
        }
        Ok(events)
    }

    /// DeleteNtmsDrive (spec §3.3). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a drive id (ERROR_INVALID_PARAMETER), naming a drive (ERROR_INVALID_DRIVE);
    /// 3. its library is valid (ERROR_INVALID_LIBRARY);
    /// 4. MODIFY access to it (ERROR_ACCESS_DENIED);
    /// 5. a stand-alone drive: its whole library is deleted, with
    ///    DeleteNtmsLibrary's checks; else the drive is NTMS_NOT_PRESENT and
    ///    no request is in process on it (ERROR_INVALID_STATE).
    ///
    /// The requests that named it and had not started are cancelled, and a
    /// cartridge the views had in it moves to the offline library.
    pub(super) fn delete_drive(&self, session: SessionId, drive: DriveId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let d = self.drive(drive)?;
        let lib = self.valid_library(d.library)?;
        self.require(lib, s, AccessMask::MODIFY, "delete its drives")?;
        if lib.kind == LibraryKind::Standalone {
            return self.delete_library(session, lib.id);
        }
        if d.operational != OperationalState::NotPresent {
            return reject(
                E::InvalidState,
                format!("drive {} is still present: only a drive an inventory found gone is deleted", d.name),
            );
        }
        let naming: Vec<&LibraryRequest> = lib
            .active_requests
            .iter()
            .filter_map(|r| self.state.requests.get(r))
            .filter(|r| r.drive == Some(drive) || self.state.waiting_drives.get(&r.id) == Some(&drive))
            .collect();
        if let Some(r) = naming.iter().find(|r| r.state == RequestState::InProcess) {
            return reject(E::InvalidState, format!("request {} is in process on drive {}", r.id, d.name));
        }
        let mut events: Vec<Event> =
            naming.iter().map(|r| Event::RequestCancelled { request: r.id, at_ms: self.now() }).collect();
        events.extend(d.medium.and_then(|m| self.state.media.get(&m)).map(|m| match m.is_cleaner() {
            true => Event::MediaDeleted { media: m.id },
            false => Event::MediaMovedOffline { media: m.id },
        }));
        events.extend(self.cleaner_requests_withdrawn(std::iter::once(d)));
        events.push(Event::DriveDeleted { drive });
        Ok(events)
    }

    /// DeleteNtmsLibrary (spec §3.3). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a library id (ERROR_INVALID_PARAMETER);
    /// 3. the library exists and is not already being deleted
    ///    (ERROR_INVALID_LIBRARY);
    /// 4. MODIFY access to it (ERROR_ACCESS_DENIED);
    /// 5. a changer is disabled or not ready (ERROR_INVALID_STATE; rsm rule);
    /// 6. no medium in it is held by a session (ERROR_INVALID_STATE).
    ///
    /// Queued requests are cancelled; while one is in process the library stays
    /// in the views, *deleting*, until it ends.
    pub(super) fn delete_library(&self, session: SessionId, library: LibraryId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if library.is_nil() {
            return reject(E::InvalidParameter, "a library id is required");
        }
        let lib = self.valid_library(library)?;
        self.require(lib, s, AccessMask::MODIFY, "delete it")?;
        // rsm rule: a changer is taken out of service by disabling it first
        // (the simulator's stand-in for NTMS_NOT_PRESENT).
        if lib.kind == LibraryKind::Changer && lib.enabled && lib.operational == OperationalState::Ready {
            return reject(E::InvalidState, format!("library {} is enabled; disable it before deleting it", lib.name));
        }
        if lib.drives.iter().any(|d| self.state.drives[d].holder.is_some()) {
            return reject(E::InvalidState, format!("a medium in library {} is opened by a session", lib.name));
        }
        let mut events = vec![Event::LibraryDeletionStarted { library }];
        events.extend(self.cleaner_requests_withdrawn(lib.drives.iter().filter_map(|d| self.state.drives.get(d))));
        // Found by the property tests: the close-the-door request of a
        // library deleted with its door open stayed open for ever.
        let close_request = lib.door.as_ref().and_then(|d| d.close_request);
        if let Some(o) =
            close_request.filter(|o| self.state.operator_requests.get(o).is_some_and(|o| !o.state.is_terminal()))
        {
            events.push(self.operator_request_closed(
                o,
                crate::operator::OperatorRequestState::Refused,
                Some(E::Cancelled),
            ));
        }
        let mut in_process = false;
        for r in &lib.active_requests {
            match self.state.requests[r].state {
                RequestState::InProcess => in_process = true,
                _ => events.push(Event::RequestCancelled { request: *r, at_ms: self.now() }),
            }
        }
        if !in_process {
            self.retire_library(lib, &mut events);
        }
        Ok(events)
    }

    /// The last events of a deletion: each of the library's media moves to
    /// the offline library (from its slot, drive or port), then the library
    /// and its elements go.
    pub(super) fn retire_library(&self, lib: &Library, events: &mut Vec<Event>) {
        // Cleaners are not kept on the shelf (spec §3.4): they leave the catalog.
        let media = self.state.media.values().filter(|m| m.library == lib.id);
        events.extend(media.map(|m| match m.is_cleaner() {
            true => Event::MediaDeleted { media: m.id },
            false => Event::MediaMovedOffline { media: m.id },
        }));
        events.push(Event::LibraryDeleted { library: lib.id });
    }
}

/// ERROR_INVALID_PARAMETER for a library larger than the limits allow.
fn too_large() -> NtmsError {
    NtmsError::new(
        E::InvalidParameter,
        format!(
            "at most {} drives, {} ports and {} slots per library",
            limits::DRIVES_PER_LIBRARY_MAX,
            limits::PORTS_PER_LIBRARY_MAX,
            limits::SLOTS_PER_LIBRARY_MAX
        ),
    )
}

/// A library's elements with their ids and names, drawn in one order
/// (drives, ports, slots) so a command always mints the same ids.
struct Elements {
    drives: Vec<(DriveId, String, u16)>,
    ports: Vec<(PortId, String, u16)>,
    slots: Vec<(SlotId, String, u16)>,
}
