//! `decide`: the rules. A pure function of the projection, the policy and a
//! stamped command; it returns the events to append or the NTMS error, and
//! never changes anything itself.
//!
//! Every command checks in the order of spec §2.3: handle, arguments, look-ups
//! (in argument order), access, enabled/present, state, capacity. Durable
//! recording (ERROR_DATABASE_FULL / ERROR_DATABASE_FAILURE) is the
//! sequencer's, after `decide`.

use crate::command::*;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::limits;
use crate::objects::*;
use crate::policy::Policy;
use crate::state::State;

mod ports;

/// Decides what a stamped command does to the state.
pub fn decide(state: &State, policy: &Policy, cmd: &Stamped<Command>) -> Result<Vec<Event>, NtmsError> {
    let ctx = Ctx { state, policy, cmd };
    match &cmd.command {
        Command::OpenSession { principal, application } => ctx.open_session(principal, application),
        Command::CloseSession { session } => ctx.close_session(*session),
        Command::CreateLibrary { session, spec } => ctx.create_library(*session, spec),
        Command::MountMedia { session, media, options } => ctx.mount_media(*session, *media, options),
        Command::DismountMedia { session, media, deferred } => ctx.dismount_media(*session, *media, *deferred),
        Command::DismountDrive { session, drive } => ctx.dismount_drive(*session, *drive),
        Command::SetEnabled { session, object, enabled } => ctx.set_enabled(*session, *object, *enabled),
        Command::GrantAccess { session, library, principal, rights } => {
            ctx.change_access(*session, *library, principal, *rights, true)
        }
        Command::RevokeAccess { session, library, principal, rights } => {
            ctx.change_access(*session, *library, principal, *rights, false)
        }
        Command::DeleteLibrary { session, library } => ctx.delete_library(*session, *library),
        Command::OperatorInsert { session, drive, barcode } => ctx.operator_insert(*session, *drive, barcode),
        Command::OperatorRemove { session, drive } => ctx.operator_remove(*session, *drive),
        Command::StartNext { library } => Ok(ctx.start_next(*library)),
        Command::AdvanceRequest { request } => ctx.advance(*request),
        Command::CompleteRequest { request } => ctx.complete(*request),
        Command::FailRequest { request, error, sense, observed } => ctx.fail(*request, *error, *sense, *observed),
        Command::Reconcile { request, observed } => ctx.reconcile(*request, *observed),
        Command::Tick => Ok(ctx.tick()),
        Command::AttachLibrary { session, name, layout, device } => ctx.attach_library(*session, name, layout, device),
        Command::RecordInventory { session, library, observed } => ctx.inventory(*session, *library, observed),
        Command::EjectMedia { session, media } => ctx.eject_media(*session, *media),
        Command::InjectMedia { session, library, found } => ctx.inject_media(*session, *library, found),
    }
}

struct Ctx<'a> {
    state: &'a State,
    policy: &'a Policy,
    cmd: &'a Stamped<Command>,
}

impl<'a> Ctx<'a> {
    fn now(&self) -> u64 {
        self.cmd.at_ms
    }

    // ---- look-ups shared by the commands -------------------------------

    /// Check 1: the handle names an open session.
    fn session(&self, id: SessionId) -> Result<&'a Session, NtmsError> {
        match self.state.sessions.get(&id) {
            Some(s) if s.open => Ok(s),
            Some(_) => reject(E::InvalidHandle, format!("session {id} is closed")),
            None => reject(E::InvalidHandle, format!("no session {id}")),
        }
    }

    /// A library that exists and is not being deleted (ERROR_INVALID_LIBRARY otherwise).
    fn valid_library(&self, id: LibraryId) -> Result<&'a Library, NtmsError> {
        match self.state.libraries.get(&id) {
            Some(lib) if lib.deleting => reject(E::InvalidLibrary, format!("library {} is being deleted", lib.name)),
            Some(lib) => Ok(lib),
            None => reject(E::InvalidLibrary, format!("no library {id}")),
        }
    }

    /// A medium named by a caller: ERROR_INVALID_PARAMETER for the zero id,
    /// ERROR_INVALID_MEDIA when it names no medium.
    fn medium(&self, media: MediaId) -> Result<&'a Medium, NtmsError> {
        if media.is_nil() {
            return reject(E::InvalidParameter, "a medium id is required");
        }
        self.state.media.get(&media).ok_or_else(|| NtmsError::new(E::InvalidMedia, format!("no medium {media}")))
    }

    fn require(&self, lib: &Library, session: &Session, right: AccessMask, what: &str) -> Result<(), NtmsError> {
        if self.state.rights(lib, &session.principal).allows(right) {
            Ok(())
        } else {
            reject(
                E::AccessDenied,
                format!(
                    "{} lacks {} access to library {} needed to {what}",
                    session.principal,
                    right.names().join("+"),
                    lib.name
                ),
            )
        }
    }

    fn library_available(lib: &Library) -> bool {
        lib.enabled && lib.operational == OperationalState::Ready
    }

    fn drive_available(drive: &Drive) -> bool {
        drive.enabled && drive.operational == OperationalState::Ready
    }

    fn queue_room(&self, lib: &Library, needed: usize) -> Result<(), NtmsError> {
        if lib.active_requests.len() + needed > self.policy.queue_per_library_max {
            reject(
                E::NotEnoughMemory,
                format!("the request queue of library {} is full ({} requests)", lib.name, lib.active_requests.len()),
            )
        } else {
            Ok(())
        }
    }

    fn new_request(
        &self,
        id: RequestId,
        kind: RequestKind,
        drive: &Drive,
        media: MediaId,
        submitter: &str,
    ) -> LibraryRequest {
        let mut r = self.port_request(id, kind, drive.library, media, submitter);
        r.drive = Some(drive.id);
        r
    }

    /// A request that involves no drive (an eject or an inject), with no
    /// slot or port chosen yet.
    fn port_request(
        &self,
        id: RequestId,
        kind: RequestKind,
        library: LibraryId,
        media: MediaId,
        submitter: &str,
    ) -> LibraryRequest {
        LibraryRequest {
            id,
            library,
            kind,
            state: RequestState::Queued,
            phase: None,
            priority: 0,
            order: 0,
            drive: None,
            media,
            slot: None,
            session: None,
            submitter: submitter.to_string(),
            write: false,
            origin: None,
            time_queued_ms: self.now(),
            time_completed_ms: None,
            error: None,
            sense: None,
            port: None,
        }
    }

    /// A dismount of whatever sits in `drive` back to its home slot (rule 9
    /// of DismountDrive: a NOTPRESENT home is replaced by the lowest free slot).
    fn dismount_request(
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
                .find(|s| s.state == SlotState::Empty && s.home_of.is_none())
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

    fn deferral_deadline(&self, lib: &Library) -> Option<u64> {
        match lib.kind {
            LibraryKind::Changer => Some(self.now().saturating_add(u64::from(lib.defer_dismount_delay_s) * 1000)),
            LibraryKind::Standalone => None,
        }
    }

    /// The bar codes of a new library's cartridges: each well formed, and
    /// used neither twice among them nor by any known medium.
    fn check_new_barcodes<'b>(&self, barcodes: impl Iterator<Item = &'b String>) -> Result<(), NtmsError> {
        let mut seen = std::collections::BTreeSet::new();
        for b in barcodes {
            check_barcode(b)?;
            if !seen.insert(b.as_str()) || self.state.barcodes.contains_key(b) {
                return reject(E::InvalidMedia, format!("bar code {b} is already used"));
            }
        }
        Ok(())
    }

    fn secondary_id(&self, n: u64) -> RequestId {
        RequestId(derive_id(self.cmd.request, n))
    }

    // ---- sessions -------------------------------------------------------

    fn open_session(&self, principal: &str, application: &str) -> Result<Vec<Event>, NtmsError> {
        if !limits::is_valid_name(principal) {
            return reject(E::InvalidParameter, "a principal name is 1 to 63 printable characters without spaces");
        }
        if application.chars().count() > limits::NAME_LEN_MAX {
            return reject(E::InvalidParameter, "an application name is at most 63 characters");
        }
        let application = if application.is_empty() { "RSM" } else { application };
        Ok(vec![Event::SessionOpened {
            session: SessionId(self.cmd.request.0),
            principal: principal.to_string(),
            application: application.to_string(),
        }])
    }

    fn close_session(&self, id: SessionId) -> Result<Vec<Event>, NtmsError> {
        self.session(id)?;
        let mut events = Vec::new();
        // Holds are released as a deferred dismount (spec §8.12): a crashed
        // client cannot pin a drive forever.
        for drive in self.state.drives.values().filter(|d| d.holder == Some(id)) {
            let lib = &self.state.libraries[&drive.library];
            events.push(Event::DriveMadeDismountable {
                drive: drive.id,
                deadline_ms: self.deferral_deadline(lib),
                audit: None,
            });
        }
        for r in self.state.requests.values() {
            if r.session == Some(id) && r.state == RequestState::Queued {
                events.push(Event::RequestCancelled { request: r.id, at_ms: self.now() });
            }
        }
        events.push(Event::SessionClosed { session: id });
        Ok(events)
    }

    // ---- libraries --------------------------------------------------------

    /// AttachLibrary. Checks, in order: session; name; device (non-empty);
    /// counts (at least one drive, the per-library limits); element
    /// addresses (unique across drives, slots and ports, none the transport's);
    /// bar codes (valid, unique in the layout and unused); names unused.
    ///
    /// Cartridges in slots get that slot as home. A cartridge in a drive
    /// starts there, loaded and held by nobody (DismountDrive takes it out);
    /// its home is the lowest empty slot no other cartridge calls home, or
    /// none when every slot is taken (its dismount then answers
    /// ERROR_LIBRARY_FULL, rule 9). Cartridges in ports are not adopted: a
    /// port is for the operator, and no request takes media from one.
    fn attach_library(
        &self,
        session: SessionId,
        name: &str,
        layout: &ElementLayout,
        device: &str,
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
            return reject(
                E::InvalidParameter,
                format!(
                    "at most {} drives, {} ports and {} slots per library",
                    limits::DRIVES_PER_LIBRARY_MAX,
                    limits::PORTS_PER_LIBRARY_MAX,
                    limits::SLOTS_PER_LIBRARY_MAX
                ),
            );
        }
        distinct_addresses(layout.drives.iter().chain(&layout.slots).chain(&layout.ports).map(|(a, _)| *a))?;
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
                media.push((MediaId(next()), b.clone(), Some(slots[i].0)));
            }
        }
        let mut free = layout.slots.iter().zip(&slots).filter(|((_, b), _)| b.is_none()).map(|(_, s)| s.0);
        let mut in_drives = Vec::new();
        for (i, (_, b)) in layout.drives.iter().enumerate() {
            if let Some(b) = b {
                let m = MediaId(next());
                media.push((m, b.clone(), free.next()));
                in_drives.push((m, drives[i].0));
            }
        }
        Ok(vec![Event::LibraryAttached {
            topology: LibraryTopology {
                id,
                name: name.to_string(),
                kind: LibraryKind::Changer,
                drives,
                slots,
                ports,
                media,
                defer_dismount_delay_s: limits::DEFER_DISMOUNT_DELAY_S_DEFAULT,
            },
            in_drives,
            device: device.to_string(),
            creator: s.principal.clone(),
        }])
    }

    /// RecordInventory. Checks, in order: session; observed (each address
    /// once); library; CONTROL access; library enabled and ready
    /// (ERROR_DEVICE_NOT_AVAILABLE); no request of the library in process
    /// (ERROR_BUSY: during movement a move cannot be told from a difference).
    ///
    /// Only slots and drives of the projection are compared; other addresses
    /// are ignored, and so are elements a queued request relies on (its drive,
    /// its medium's place and home slot) and media with a pending request:
    /// the request settles them. Events come in an order that keeps every
    /// invariant after each one: vanished cartridges first, then moves (each
    /// to a place already free; a cycle is broken by moving one cartridge
    /// offline first), then new cartridges; unlabeled and foreign cartridges
    /// last. Those two are reported at every inventory while they stay.
    fn inventory(
        &self,
        session: SessionId,
        library: LibraryId,
        observed: &[(u16, Seen)],
    ) -> Result<Vec<Event>, NtmsError> {
        use std::collections::{BTreeMap, BTreeSet};
        let s = self.session(session)?;
        let addresses = distinct_addresses(observed.iter().map(|(a, _)| *a))?;
        let lib = self.valid_library(library)?;
        self.require(lib, s, AccessMask::CONTROL, "take its inventory")?;
        if !Self::library_available(lib) {
            return reject(E::DeviceNotAvailable, format!("library {} is disabled or not ready", lib.name));
        }
        // Elements and cartridges a queued or running request relies on are
        // left out below: a move under way is not a difference.
        let st = self.state;
        let pending =
            |m: Option<MediaId>| m.and_then(|m| st.media.get(&m)).is_some_and(|m| m.pending_request.is_some());
        // The elements compared: address → (place, what the projection has there).
        let mut places: BTreeMap<u16, (Location, Option<MediaId>)> = BTreeMap::new();
        for d in lib.drives.iter().map(|d| &st.drives[d]) {
            if d.reserved_by.is_none() && d.next_reserved_by.is_none() && !pending(d.medium) {
                places.insert(d.element_address, (Location::Drive(d.id), d.medium));
            }
        }
        for sl in lib.slots.iter().map(|s| &st.slots[s]) {
            if !pending(sl.content) && !pending(sl.home_of) {
                places.insert(sl.element_address, (Location::Slot(sl.id), sl.content));
            }
        }
        for p in lib.ports.iter().map(|p| &st.ports[p]) {
            if p.reserved_by.is_none() && !pending(p.content) {
                places.insert(p.element_address, (Location::Port(p.id), p.content));
            }
        }
        let mut found: BTreeMap<MediaId, Location> = BTreeMap::new();
        let mut new: Vec<(Location, String)> = Vec::new();
        let mut notes: Vec<Event> = Vec::new();
        let mut new_barcodes = BTreeSet::new();
        for (address, seen) in observed {
            let Some((place, content)) = places.get(address) else { continue };
            if let Location::Port(_) = place {
                // Cartridges the operator put in a port wait for an inject:
                // only the views' own cartridge (an ejected one) is looked for.
                if let (Seen::Cartridge(b), Some(m)) = (seen, content) {
                    if st.media[m].barcode == *b {
                        found.insert(*m, *place);
                    }
                }
                continue;
            }
            match seen {
                Seen::Empty => {}
                Seen::Cartridge(b) if check_barcode(b).is_ok() => match st.medium_by_barcode(b) {
                    Some(m) if m.library != library => {
                        notes.push(Event::ForeignCartridgeFound { library, address: *address, barcode: b.clone() })
                    }
                    Some(m) if m.pending_request.is_some() => {}
                    Some(m) => {
                        if found.insert(m.id, *place).is_some() {
                            return reject(E::InvalidParameter, format!("bar code {b} was seen twice"));
                        }
                    }
                    None => {
                        if !new_barcodes.insert(b.clone()) {
                            return reject(E::InvalidParameter, format!("bar code {b} was seen twice"));
                        }
                        new.push((*place, b.clone()));
                    }
                },
                Seen::Cartridge(_) | Seen::Unlabeled => {
                    notes.push(Event::UnlabeledCartridgeFound { library, address: *address })
                }
            }
        }
        let mut events = Vec::new();
        // Who occupies each compared place as the events go.
        let mut occupant: BTreeMap<Location, MediaId> = BTreeMap::new();
        for (place, content) in places.values() {
            if let Some(m) = content {
                occupant.insert(*place, *m);
            }
        }
        let observed_at: BTreeSet<u16> = addresses;
        for (address, (place, content)) in &places {
            let Some(m) = content else { continue };
            if observed_at.contains(address) && !found.contains_key(m) {
                events.push(match place {
                    Location::Port(_) => Event::CartridgeTakenFromPort { media: *m },
                    _ => Event::CartridgeVanished { media: *m },
                });
                occupant.remove(place);
            }
        }
        let mut moves: Vec<(MediaId, Location)> =
            found.iter().filter(|(m, to)| st.media[*m].location != **to).map(|(m, to)| (*m, *to)).collect();
        while !moves.is_empty() {
            let free = moves.iter().position(|(_, to)| !occupant.contains_key(to));
            let (m, to) = match free {
                Some(i) => moves.remove(i),
                None => {
                    // A cycle: take one cartridge out first.
                    let (m, _) = moves[0];
                    occupant.retain(|_, x| *x != m);
                    events.push(Event::CartridgeMoved { media: m, to: Location::Offline });
                    continue;
                }
            };
            occupant.retain(|_, x| *x != m);
            occupant.insert(to, m);
            events.push(Event::CartridgeMoved { media: m, to });
        }
        let mut n = 0u64;
        let claimed: BTreeSet<Location> = new.iter().map(|(p, _)| *p).chain(found.values().copied()).collect();
        let mut free_homes = lib
            .slots
            .iter()
            .map(|s| &st.slots[s])
            .filter(|sl| sl.home_of.is_none() && sl.content.is_none() && !claimed.contains(&Location::Slot(sl.id)));
        for (at, barcode) in new {
            n += 1;
            let home = match at {
                Location::Slot(s) => Some(s),
                _ => free_homes.next().map(|s| s.id),
            };
            events.push(Event::CartridgeAppeared {
                media: MediaId(derive_id(self.cmd.request, n)),
                barcode,
                library,
                at,
                home,
            });
        }
        events.extend(notes);
        Ok(events)
    }

    fn create_library(&self, session: SessionId, spec: &LibrarySpec) -> Result<Vec<Event>, NtmsError> {
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
            return reject(
                E::InvalidParameter,
                format!(
                    "at most {} drives, {} ports and {} slots per library",
                    limits::DRIVES_PER_LIBRARY_MAX,
                    limits::PORTS_PER_LIBRARY_MAX,
                    limits::SLOTS_PER_LIBRARY_MAX
                ),
            );
        }
        if spec.kind == LibraryKind::Changer && spec.barcodes.len() > spec.slots as usize {
            return reject(
                E::InvalidParameter,
                format!("{} cartridges do not fit in {} slots", spec.barcodes.len(), spec.slots),
            );
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
        let media = spec
            .barcodes
            .iter()
            .enumerate()
            .map(|(i, b)| (MediaId(next()), b.clone(), slots.get(i).map(|s| s.0)))
            .collect();
        Ok(vec![Event::LibraryCreated {
            topology: LibraryTopology {
                id,
                name: spec.name.clone(),
                kind: spec.kind,
                drives,
                slots,
                ports,
                media,
                defer_dismount_delay_s: limits::DEFER_DISMOUNT_DELAY_S_DEFAULT,
            },
            creator: s.principal.clone(),
        }])
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
        match names.into_iter().find(|n| self.state.names.contains_key(*n)) {
            Some(taken) => reject(E::AlreadyExists, format!("an object named {taken} already exists")),
            None => Ok(elements),
        }
    }

    fn change_access(
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
                "name a library, a principal of 1 to 63 printable characters without spaces and rights among use, modify, control",
            );
        }
        let lib = self.valid_library(library)?;
        // rsm rule: changing a library's security needs CONTROL on it.
        self.require(lib, s, AccessMask::CONTROL, "change its access rights")?;
        let principal = principal.to_string();
        Ok(vec![if grant {
            Event::AccessGranted { library, principal, rights }
        } else {
            Event::AccessRevoked { library, principal, rights }
        }])
    }

    fn set_enabled(&self, session: SessionId, object: ObjectRef, enabled: bool) -> Result<Vec<Event>, NtmsError> {
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
        Ok(vec![Event::EnabledChanged { object, enabled }])
    }

    fn delete_library(&self, session: SessionId, library: LibraryId) -> Result<Vec<Event>, NtmsError> {
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
        let mut in_process = false;
        for r in &lib.active_requests {
            match self.state.requests[r].state {
                RequestState::InProcess => in_process = true,
                _ => events.push(Event::RequestCancelled { request: *r, at_ms: self.now() }),
            }
        }
        if !in_process {
            events.push(Event::LibraryDeleted { library });
        }
        Ok(events)
    }

    // ---- media services -------------------------------------------------

    fn mount_media(&self, session: SessionId, media: MediaId, options: &MountOptions) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if media.is_nil() || options.drive.is_some_and(|d| d.is_nil()) {
            return reject(E::InvalidParameter, "a medium id is required, and a named drive may not be the zero id");
        }
        if !(limits::PRIORITY_MIN..=limits::PRIORITY_MAX).contains(&options.priority) {
            return reject(E::InvalidParameter, format!("priority {} is outside -15..15", options.priority));
        }
        let medium = self.medium(media)?;
        let named_drive = match options.drive {
            Some(d) => Some(
                self.state.drives.get(&d).ok_or_else(|| NtmsError::new(E::InvalidDrive, format!("no drive {d}")))?,
            ),
            None => None,
        };
        let lib = self.valid_library(medium.library)?;
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
        if medium.location == Location::Offline {
            // rsm: no operator request is raised yet; the caller is told at once.
            return reject(E::MediaOffline, format!("medium {} is offline", medium.barcode));
        }
        if let Some(r) = medium.pending_request {
            return reject(E::Busy, format!("medium {} is being moved by request {r}", medium.barcode));
        }
        match medium.location {
            Location::Drive(at) => self.mount_in_place(s, lib, medium, &self.state.drives[&at], named_drive, options),
            Location::Slot(_) => self.mount_from_slot(s, lib, medium, named_drive, options),
            Location::Port(_) => {
                reject(E::InvalidState, format!("medium {} is in an import/export port", medium.barcode))
            }
            Location::Offline => unreachable!("offline media were refused above"),
        }
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

    fn mount_from_slot(
        &self,
        s: &Session,
        lib: &Library,
        medium: &Medium,
        named: Option<&Drive>,
        options: &MountOptions,
    ) -> Result<Vec<Event>, NtmsError> {
        // Which drive, in the scheduler's order of preference (spec §5.3.5):
        // an empty one, then one holding another released medium.
        let usable_empty = |d: &Drive| {
            Self::drive_available(d)
                && d.medium.is_none()
                && d.reserved_by.is_none()
                && d.state == DriveState::Dismounted
        };
        let usable_released = |d: &Drive| {
            Self::drive_available(d)
                && d.reserved_by.is_none()
                && d.holder.is_none()
                && d.state == DriveState::Dismountable
                && d.medium.is_some_and(|m| self.state.media[&m].pending_request.is_none())
        };
        let drive = match named {
            Some(d) if usable_empty(d) || usable_released(d) => d,
            Some(d) => return reject(E::Busy, format!("drive {} is in use", d.name)),
            None => {
                let drives = || lib.drives.iter().map(|d| &self.state.drives[d]);
                match drives().find(|d| usable_empty(d)).or_else(|| drives().find(|d| usable_released(d))) {
                    Some(d) => d,
                    None => return reject(E::Busy, format!("every drive of library {} is in use", lib.name)),
                }
            }
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
        Ok(events)
    }

    fn dismount_media(&self, session: SessionId, media: MediaId, deferred: bool) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let medium = self.medium(media)?;
        let lib = self.valid_library(medium.library)?;
        self.require(lib, s, AccessMask::USE, "dismount media")?;
        let drive = match medium.location {
            Location::Offline => return reject(E::MediaOffline, format!("medium {} is offline", medium.barcode)),
            Location::Drive(d) => &self.state.drives[&d],
            _ => return reject(E::InvalidState, format!("medium {} is not in a drive", medium.barcode)),
        };
        if !medium.enabled {
            return reject(E::MediaNotAvailable, format!("medium {} is disabled", medium.barcode));
        }
        if !Self::library_available(lib) || !Self::drive_available(drive) {
            return reject(
                E::DeviceNotAvailable,
                format!("drive {} or library {} is not available", drive.name, lib.name),
            );
        }
        if let Some(r) = medium.pending_request.or(drive.reserved_by) {
            return reject(E::InvalidState, format!("medium {} is already the subject of request {r}", medium.barcode));
        }
        let held = drive.holder.is_some();
        if deferred || lib.kind == LibraryKind::Standalone {
            if !held && deferred {
                return reject(E::InvalidState, format!("medium {} is not mounted by any session", medium.barcode));
            }
            let audit = (lib.kind == LibraryKind::Standalone && !deferred)
                .then(|| self.standalone_audit(drive, &s.principal, DismountOrigin::Media));
            let deadline = if deferred { self.deferral_deadline(lib) } else { None };
            return Ok(vec![Event::DriveMadeDismountable { drive: drive.id, deadline_ms: deadline, audit }]);
        }
        let request = self.dismount_request(self.cmd.request, lib, drive, &s.principal, DismountOrigin::Media)?;
        self.queue_room(lib, 1)?;
        let mut events = Vec::new();
        if held {
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

    /// DismountNtmsDrive, rules of spec §4.3 in order.
    fn dismount_drive(&self, session: SessionId, drive: DriveId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?; // 1
        if drive.is_nil() {
            return reject(E::InvalidParameter, "a drive id is required"); // 2
        }
        let d = self
            .state
            .drives
            .get(&drive)
            .ok_or_else(|| NtmsError::new(E::InvalidDrive, format!("no drive {drive}")))?; // 3
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

    fn standalone_drive(
        &self,
        session: SessionId,
        drive: DriveId,
        what: &str,
    ) -> Result<(&'a Session, &'a Drive), NtmsError> {
        let s = self.session(session)?;
        if drive.is_nil() {
            return reject(E::InvalidParameter, "a drive id is required");
        }
        let d = self
            .state
            .drives
            .get(&drive)
            .ok_or_else(|| NtmsError::new(E::InvalidDrive, format!("no drive {drive}")))?;
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

    fn operator_insert(&self, session: SessionId, drive: DriveId, barcode: &str) -> Result<Vec<Event>, NtmsError> {
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

    fn operator_remove(&self, session: SessionId, drive: DriveId) -> Result<Vec<Event>, NtmsError> {
        let (_, d) = self.standalone_drive(session, drive, "unload its drive")?;
        let media = d.medium.ok_or_else(|| NtmsError::new(E::InvalidState, format!("drive {} is empty", d.name)))?;
        if d.holder.is_some() {
            // The drive keeps medium removal prevented while a session holds it.
            return reject(E::InvalidState, format!("the medium in drive {} is opened; dismount it first", d.name));
        }
        Ok(vec![Event::MediaRemoved { drive: d.id, media }])
    }

    // ---- workers ----------------------------------------------------------

    /// The scheduler. Unloads need only their drive, so every dismount whose
    /// drive holds its cartridge starts at once; the robot then goes to the
    /// most urgent move (dismounts before mounts, then priority, then age).
    fn start_next(&self, library: LibraryId) -> Vec<Event> {
        let Some(lib) = self.state.libraries.get(&library) else { return vec![] };
        if lib.deleting || !Self::library_available(lib) {
            return vec![];
        }
        let requests = || lib.active_requests.iter().map(|r| &self.state.requests[r]);
        let at_ms = self.now();
        let mut events: Vec<Event> = requests()
            .filter(|r| r.state == RequestState::Queued && r.kind == RequestKind::Dismount)
            .filter(|r| {
                r.drive.and_then(|d| self.state.drives.get(&d)).is_some_and(|d| {
                    Self::drive_available(d) && d.medium == Some(r.media) && self.state.media[&r.media].enabled
                })
            })
            .map(|r| Event::RequestStarted { request: r.id, at_ms })
            .collect();
        if lib.robot.is_some() {
            return events; // one robot: one move at a time
        }
        let next = requests()
            .filter(|r| match (r.kind, r.state, r.phase) {
                (RequestKind::Dismount, RequestState::InProcess, Some(RequestPhase::AwaitingRobot)) => true,
                (RequestKind::Mount, RequestState::Queued, _) => {
                    r.drive.and_then(|d| self.state.drives.get(&d)).is_some_and(|d| {
                        Self::drive_available(d)
                            && self.state.media[&r.media].enabled
                            && d.medium.is_none()
                            && d.reserved_by == Some(r.id)
                    })
                }
                (RequestKind::Eject | RequestKind::Inject, RequestState::Queued, _) => true,
                _ => false,
            })
            .min_by_key(|r| (r.kind.dispatch_class(), -r.priority, r.order));
        match next {
            Some(r) if r.state == RequestState::Queued => events.push(Event::RequestStarted { request: r.id, at_ms }),
            Some(r) => events.push(Event::RobotAssigned { request: r.id, at_ms }),
            None => {}
        }
        events
    }

    /// A physical step finished: a mount's move (the robot is free, the drive
    /// loads) or a dismount's unload (the cartridge waits for the robot).
    fn advance(&self, request: RequestId) -> Result<Vec<Event>, NtmsError> {
        let r = self.in_process(request)?;
        let at_ms = self.now();
        match r.phase {
            Some(RequestPhase::Moving) if r.kind == RequestKind::Mount => {
                Ok(vec![Event::MediumMoved { request, at_ms }])
            }
            Some(RequestPhase::Unloading) => Ok(vec![Event::DriveUnloaded { request, at_ms }]),
            phase => reject(E::InvalidState, format!("request {request} in phase {phase:?} has no step to advance")),
        }
    }

    fn in_process(&self, request: RequestId) -> Result<&'a LibraryRequest, NtmsError> {
        match self.state.requests.get(&request) {
            Some(r) if r.state == RequestState::InProcess => Ok(r),
            Some(r) => reject(E::InvalidState, format!("request {request} is {:?}, not in process", r.state)),
            None => reject(E::InvalidParameter, format!("no request {request}")),
        }
    }

    fn completed(&self, r: &LibraryRequest) -> Vec<Event> {
        let mut events = Vec::new();
        match r.kind {
            RequestKind::Mount => {
                events.push(Event::MountCompleted { request: r.id, at_ms: self.now() });
                let session_open = r.session.and_then(|s| self.state.sessions.get(&s)).is_some_and(|s| s.open);
                if let (false, Some(drive)) = (session_open, r.drive) {
                    // The caller went away while the robot worked: nobody holds it.
                    let lib = &self.state.libraries[&r.library];
                    events.push(Event::DriveMadeDismountable {
                        drive,
                        deadline_ms: self.deferral_deadline(lib),
                        audit: None,
                    });
                }
            }
            RequestKind::Dismount => events.push(Event::DismountCompleted { request: r.id, at_ms: self.now() }),
            RequestKind::Eject => events.push(Event::EjectCompleted { request: r.id, at_ms: self.now() }),
            RequestKind::Inject => events.push(Event::InjectCompleted { request: r.id, at_ms: self.now() }),
        }
        self.finish_deletion(r, &mut events);
        events
    }

    /// A library being deleted goes once its last request in process ends.
    fn finish_deletion(&self, r: &LibraryRequest, events: &mut Vec<Event>) {
        let lib = &self.state.libraries[&r.library];
        let others =
            lib.active_requests.iter().any(|q| *q != r.id && self.state.requests[q].state == RequestState::InProcess);
        if lib.deleting && !others {
            events.push(Event::LibraryDeleted { library: lib.id });
        }
    }

    fn complete(&self, request: RequestId) -> Result<Vec<Event>, NtmsError> {
        let r = self.in_process(request)?;
        match r.phase {
            Some(phase) if r.kind.last_step(phase) => Ok(self.completed(r)),
            phase => reject(E::InvalidState, format!("request {request} in phase {phase:?} is not at its last step")),
        }
    }

    /// Keeps only an observation that fits the projection; anything else is
    /// treated as unknown rather than breaking the one-place invariant.
    fn sanitize(&self, r: &LibraryRequest, observed: Observed) -> Observed {
        // An element fits when it is free or already the request's.
        fn free_or<T: PartialEq>(held: Option<T>, mine: T) -> bool {
            held.is_none_or(|x| x == mine)
        }
        let (media, st) = (r.media, self.state);
        let fits = match observed {
            Observed::Slot(s) => st.slots.get(&s).is_some_and(|slot| {
                slot.library == r.library && free_or(slot.content, media) && free_or(slot.home_of, media)
            }),
            Observed::Drive(d) => st.drives.get(&d).is_some_and(|drive| {
                drive.library == r.library
                    && free_or(drive.medium, media)
                    && free_or(drive.reserved_by, r.id)
                    && drive.holder.is_none()
            }),
            Observed::Port(p) => st.ports.get(&p).is_some_and(|port| {
                port.library == r.library && free_or(port.content, media) && free_or(port.reserved_by, r.id)
            }),
            Observed::Missing | Observed::Unknown => true,
        };
        if fits {
            observed
        } else {
            Observed::Unknown
        }
    }

    fn fail(
        &self,
        request: RequestId,
        error: E,
        sense: Option<Sense>,
        observed: Observed,
    ) -> Result<Vec<Event>, NtmsError> {
        let r = self.in_process(request)?;
        let mut events = vec![Event::RequestFailed {
            request,
            error: error.code(),
            sense,
            observed: self.sanitize(r, observed),
            at_ms: self.now(),
        }];
        self.fail_successor(r, error.code(), &mut events);
        self.finish_deletion(r, &mut events);
        Ok(events)
    }

    /// A mount waiting for a dismount to make room cannot run once that dismount failed.
    fn fail_successor(&self, r: &LibraryRequest, error: u32, events: &mut Vec<Event>) {
        if let Some(next) = r.drive.and_then(|d| self.state.drives.get(&d)).and_then(|d| d.next_reserved_by) {
            events.push(Event::RequestFailed {
                request: next,
                error,
                sense: None,
                observed: Observed::Unknown,
                at_ms: self.now(),
            });
        }
    }

    /// After a restart: the hardware's truth settles a request left in process.
    fn reconcile(&self, request: RequestId, observed: Observed) -> Result<Vec<Event>, NtmsError> {
        let r = self.in_process(request)?;
        let observed = self.sanitize(r, observed);
        let at_slot = r.slot.is_some_and(|s| observed == Observed::Slot(s));
        let at_drive = r.drive.is_some_and(|d| observed == Observed::Drive(d));
        let at_port = r.port.is_some_and(|p| observed == Observed::Port(p));
        let (done, untouched) = match r.kind {
            RequestKind::Mount => (at_drive, at_slot),
            RequestKind::Dismount => (at_slot, at_drive),
            RequestKind::Eject => (at_port, at_slot),
            RequestKind::Inject => (at_slot, at_port),
        };
        if done {
            return Ok(self.completed(r));
        }
        let lib = &self.state.libraries[&r.library];
        let error = if untouched { E::NotReady } else { E::MediumNotAccessible };
        let mut events =
            vec![Event::RequestFailed { request, error: error.code(), sense: None, observed, at_ms: self.now() }];
        self.fail_successor(r, error.code(), &mut events);
        if lib.deleting {
            self.finish_deletion(r, &mut events);
            return Ok(events);
        }
        // Nothing moved: the work is queued again as a new request (spec §5.4).
        if untouched {
            let mut again = r.clone();
            again.id = self.secondary_id(1);
            again.state = RequestState::Queued;
            again.phase = None;
            again.time_queued_ms = self.now();
            again.time_completed_ms = None;
            match r.kind {
                RequestKind::Mount if r.session.and_then(|s| self.state.sessions.get(&s)).is_some_and(|s| s.open) => {
                    events.push(Event::MountRequested { request: again })
                }
                RequestKind::Dismount => {
                    again.origin = Some(DismountOrigin::Requeued);
                    events.push(Event::DismountRequested { request: again })
                }
                RequestKind::Eject => events.push(Event::EjectRequested { request: again }),
                RequestKind::Inject => {
                    let barcode = self.state.media[&r.media].barcode.clone();
                    events.push(Event::InjectRequested { request: again, barcode, new: false })
                }
                RequestKind::Mount => {}
            }
        }
        Ok(events)
    }

    /// Deferred dismounts whose delay ran out become dismount requests.
    fn tick(&self) -> Vec<Event> {
        let mut events = Vec::new();
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

/// A library's elements with their ids and names, drawn in one order
/// (drives, ports, slots) so a command always mints the same ids.
struct Elements {
    drives: Vec<(DriveId, String, u16)>,
    ports: Vec<(PortId, String, u16)>,
    slots: Vec<(SlotId, String, u16)>,
}

/// The element addresses of a reading or a layout, each listed once
/// (ERROR_INVALID_PARAMETER naming the first listed twice).
fn distinct_addresses(addresses: impl Iterator<Item = u16>) -> Result<std::collections::BTreeSet<u16>, NtmsError> {
    let mut seen = std::collections::BTreeSet::new();
    for a in addresses {
        if !seen.insert(a) {
            return reject(E::InvalidParameter, format!("element address {a} is listed twice"));
        }
    }
    Ok(seen)
}

fn check_name(name: &str) -> Result<(), NtmsError> {
    if !limits::is_valid_name(name) {
        return reject(
            E::InvalidParameter,
            format!("name {name:?} must be 1 to 63 printable characters without spaces"),
        );
    }
    Ok(())
}

fn check_barcode(barcode: &str) -> Result<(), NtmsError> {
    if barcode.is_empty()
        || barcode.chars().count() > limits::BARCODE_LEN_MAX
        || barcode.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return reject(
            E::InvalidParameter,
            format!("bar code {barcode:?} must be 1 to 63 printable characters without spaces"),
        );
    }
    Ok(())
}
