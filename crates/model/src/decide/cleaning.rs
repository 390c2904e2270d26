//! Cleaner management (spec §3.4): the cleaner slot, the cleaner coming in
//! and going out, and drive cleanings.
//!
//! The cleaner is a medium with no sides (`Medium::is_cleaner`) whose home
//! is the library's cleaner slot: the robot carries it as it carries any
//! cartridge, inventories see its bar code, and the data functions refuse
//! it. A cleaning is first *wanted* (`Drive::cleaning_wanted`, by
//! CleanNtmsDrive or by the drive's own report); the scheduler queues its
//! NTMS_LM_CLEANDRIVE request once the drive is empty and the cleaner is
//! home with uses left, and asks the operator for a cleaner
//! (NTMS_OPREQ_CLEANER) while there is none or it is spent. A request is
//! made only with a cleaner because a library request names its medium.

use super::Ctx;
use crate::command::{Observed, Seen};
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::objects::*;
use crate::operator::*;

/// dwAction NTMS_INJECT_START / NTMS_EJECT_START.
pub const CLEANER_START: u32 = 0;
/// dwAction NTMS_INJECT_STOP / NTMS_EJECT_STOP.
pub const CLEANER_STOP: u32 = 1;

/// Keeps the ids a cleaning round derives apart from a command's others.
const CLEANING_SALT: u64 = 1 << 44;
/// The id a cleaner brought in through a port gets.
const CLEANER_MEDIA_SALT: u64 = (1 << 44) + (1 << 40);

/// A bar code that marks a cleaning cartridge: it starts with `CLN`.
pub(super) fn is_cleaner_barcode(barcode: &str) -> bool {
    barcode.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("CLN"))
}

/// Inject or eject of a cleaner after the checks they share: START goes
/// on with the caller's session and library; STOP is done.
enum CleanerAction<'s> {
    Start(&'s Session, &'s Library),
    Stopped(Vec<Event>),
}

/// What a library's cleaner can do now.
enum CleanerStatus<'s> {
    /// None is known (or it is on its way out).
    Missing,
    /// In a slot (its own, or one the operator put it in), idle, enabled,
    /// with uses left.
    Usable(&'s Medium, SlotId),
    /// Disabled: the operator is asked for a usable one.
    Disabled(&'s Medium),
    /// No cleanings left.
    Spent(&'s Medium),
    /// Out of its slot or busy with a request: it will be back.
    Busy,
}

impl<'a> Ctx<'a> {
    fn cleaner_status(&self, lib: &Library) -> CleanerStatus<'a> {
        let Some(cleaner) = lib.cleaner.and_then(|m| self.state.media.get(&m)) else { return CleanerStatus::Missing };
        match cleaner.location {
            _ if lib.cleaner_uses_remaining == 0 => CleanerStatus::Spent(cleaner),
            _ if !cleaner.enabled => CleanerStatus::Disabled(cleaner),
            Location::Slot(at) if cleaner.pending_request.is_none() => CleanerStatus::Usable(cleaner, at),
            _ => CleanerStatus::Busy,
        }
    }

    /// True when `drive` waits for a cleaning that a usable cleaner can do
    /// now: no new data mount is promised it before (spec §5.3's class
    /// (e) before (f)); without a usable cleaner it goes on serving.
    pub(super) fn cleaning_due(&self, drive: &Drive) -> bool {
        drive.cleaning_wanted.is_some()
            && self
                .state
                .libraries
                .get(&drive.library)
                .is_some_and(|lib| matches!(self.cleaner_status(lib), CleanerStatus::Usable(..)))
    }

    /// The library of a cleaner function, checked in the order they share:
    /// session (ERROR_INVALID_HANDLE); the library: the zero id
    /// (ERROR_INVALID_PARAMETER), none, the offline library or one being
    /// deleted (ERROR_INVALID_LIBRARY); CONTROL access (ERROR_ACCESS_DENIED);
    /// connected (ERROR_DEVICE_NOT_AVAILABLE), enabled
    /// (ERROR_RESOURCE_DISABLED) and ready (ERROR_LIBRARY_OFFLINE).
    fn cleaner_library(
        &self,
        session: SessionId,
        library: LibraryId,
        what: &str,
    ) -> Result<(&'a Session, &'a Library), NtmsError> {
        let s = self.session(session)?;
        let lib = self.valid_library(library)?;
        self.require(lib, s, AccessMask::CONTROL, what)?;
        if lib.operational == OperationalState::NotPresent {
            return reject(E::DeviceNotAvailable, format!("library {} is not connected", lib.name));
        }
        if !lib.enabled {
            return reject(E::ResourceDisabled, format!("library {} is disabled", lib.name));
        }
        if lib.operational != OperationalState::Ready {
            return reject(E::LibraryOffline, format!("library {} needs service", lib.name));
        }
        Ok((s, lib))
    }

    /// The reserved cleaner slot of `lib`: ERROR_CLEANER_SLOT_NOT_SET when
    /// none is, ERROR_RESOURCE_NOT_PRESENT when its magazine is out.
    fn cleaner_slot(&self, lib: &Library) -> Result<&'a Slot, NtmsError> {
        let slot = lib
            .cleaner_slot
            .and_then(|s| self.state.slots.get(&s))
            .ok_or_else(|| NtmsError::new(E::CleanerSlotNotSet, format!("library {} has no cleaner slot", lib.name)))?;
        if slot.state == SlotState::NotPresent {
            return reject(E::ResourceNotPresent, format!("cleaner slot {} is not present", slot.name));
        }
        Ok(slot)
    }

    /// ReserveNtmsCleanerSlot. Checks, in order: as `cleaner_library`, with
    /// the slot: the zero id (ERROR_INVALID_PARAMETER), not a slot of the
    /// library (ERROR_OBJECT_NOT_FOUND) after the library's look-up; then
    /// no slot reserved yet (ERROR_CLEANER_SLOT_SET); the slot present
    /// (ERROR_RESOURCE_NOT_PRESENT), empty and no cartridge's home
    /// (ERROR_RESOURCE_NOT_AVAILABLE).
    pub(super) fn reserve_cleaner_slot(
        &self,
        session: SessionId,
        library: LibraryId,
        slot: SlotId,
    ) -> Result<Vec<Event>, NtmsError> {
        self.session(session)?;
        if slot.is_nil() {
            return reject(E::InvalidParameter, "a slot id is required");
        }
        let lib = self.valid_library(library)?;
        let Some(sl) = self.state.slots.get(&slot).filter(|s| s.library == lib.id) else {
            let named = self.state.slots.get(&slot).map_or_else(|| slot.to_string(), |s| s.name.clone());
            return reject(E::ObjectNotFound, format!("library {} has no slot {named}", lib.name));
        };
        let (_, lib) = self.cleaner_library(session, library, "reserve its cleaner slot")?;
        if let Some(reserved) = lib.cleaner_slot.and_then(|s| self.state.slots.get(&s)) {
            return reject(
                E::CleanerSlotSet,
                format!("library {} already has cleaner slot {}", lib.name, reserved.name),
            );
        }
        if sl.state == SlotState::NotPresent {
            return reject(E::ResourceNotPresent, format!("slot {} is not present", sl.name));
        }
        if sl.content.is_some() || sl.home_of.is_some() || sl.state != SlotState::Empty {
            return reject(E::ResourceNotAvailable, format!("slot {} holds a cartridge or is one's home", sl.name));
        }
        Ok(vec![Event::CleanerSlotReserved { library, slot }])
    }

    /// ReleaseNtmsCleanerSlot. Checks, in order: as `cleaner_library`; a
    /// slot reserved (ERROR_CLEANER_SLOT_NOT_SET) and present
    /// (ERROR_RESOURCE_NOT_PRESENT); no cleaner there or on its way
    /// (ERROR_RESOURCE_NOT_AVAILABLE: eject it first).
    pub(super) fn release_cleaner_slot(&self, session: SessionId, library: LibraryId) -> Result<Vec<Event>, NtmsError> {
        let (_, lib) = self.cleaner_library(session, library, "release its cleaner slot")?;
        let slot = self.cleaner_slot(lib)?;
        self.cleaner_slot_free(lib, slot, "eject it first")?;
        Ok(vec![Event::CleanerSlotReleased { library }])
    }

    /// ERROR_RESOURCE_NOT_AVAILABLE unless the cleaner slot is empty and
    /// the library has no cleaner, naming what is in the way.
    fn cleaner_slot_free(&self, lib: &Library, slot: &Slot, then: &str) -> Result<(), NtmsError> {
        let barcode = |m: Option<MediaId>| m.and_then(|m| self.state.media.get(&m)).map(|m| m.barcode.clone());
        if let Some(cleaner) = barcode(lib.cleaner).or_else(|| barcode(slot.home_of)) {
            return reject(E::ResourceNotAvailable, format!("library {} has cleaner {cleaner}: {then}", lib.name));
        }
        if let Some(other) = barcode(slot.content) {
            return reject(
                E::ResourceNotAvailable,
                format!(
                    "cleaner slot {} holds data cartridge {other}: take it out (through the door) first",
                    slot.name
                ),
            );
        }
        Ok(())
    }

    /// The running cleaner operation `operation` of `kind` in `lib`, for
    /// STOP: it is cancelled if it has not started (ERROR_INVALID_OPERATION
    /// when it names no such operation, or one already under way).
    fn stop_cleaner_operation(
        &self,
        lib: &Library,
        kind: RequestKind,
        operation: Option<RequestId>,
    ) -> Result<Vec<Event>, NtmsError> {
        let queued = operation
            .and_then(|id| self.state.requests.get(&id))
            .filter(|r| r.library == lib.id && r.kind == kind && r.state == RequestState::Queued);
        match queued {
            Some(r) => Ok(vec![Event::RequestCancelled { request: r.id, at_ms: self.now() }]),
            None => reject(
                E::InvalidOperation,
                format!("no {} operation waiting to start in library {}", kind.name(), lib.name),
            ),
        }
    }

    /// The checks InjectNtmsCleaner and EjectNtmsCleaner share: the session
    /// (ERROR_INVALID_HANDLE); dwAction START or STOP, and STOP naming its
    /// operation (ERROR_INVALID_PARAMETER); the library as
    /// `cleaner_library`. STOP is decided here: `portless` on a library
    /// without a port, else the operation stopped.
    fn cleaner_operation(
        &self,
        session: SessionId,
        library: LibraryId,
        action: u32,
        operation: Option<RequestId>,
        kind: RequestKind,
        portless: E,
    ) -> Result<CleanerAction<'a>, NtmsError> {
        self.session(session)?;
        if action > CLEANER_STOP || (action == CLEANER_STOP && operation.is_none()) {
            return reject(
                E::InvalidParameter,
                format!("{action} is not START (0) or STOP (1) with its operation ({})", kind.name()),
            );
        }
        let what = if kind == RequestKind::InjectCleaner { "inject a cleaner" } else { "eject its cleaner" };
        let (s, lib) = self.cleaner_library(session, library, what)?;
        if action != CLEANER_STOP {
            return Ok(CleanerAction::Start(s, lib));
        }
        if lib.ports.is_empty() {
            return reject(portless, format!("library {} has no port: nothing to stop", lib.name));
        }
        self.stop_cleaner_operation(lib, kind, operation).map(CleanerAction::Stopped)
    }

    /// InjectNtmsCleaner, after the engine read the ports. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE); dwAction START or STOP, and STOP
    ///    naming its operation (ERROR_INVALID_PARAMETER);
    /// 2. the library as `cleaner_library`;
    /// 3. STOP: a library with ports (ERROR_NOT_SUPPORTED), the operation
    ///    an inject of a cleaner not started (ERROR_INVALID_OPERATION);
    /// 4. START: a cleaner slot reserved (ERROR_CLEANER_SLOT_NOT_SET) and
    ///    present (ERROR_RESOURCE_NOT_PRESENT), with no cleaner in it or on
    ///    its way (ERROR_RESOURCE_NOT_AVAILABLE);
    /// 5. with ports: a cartridge in one (ERROR_EMPTY, rsm rule: put the
    ///    cleaner in a port first) that is not a known data cartridge
    ///    (ERROR_INVALID_CLEANER); room in the queue (ERROR_NOT_ENOUGH_MEMORY).
    ///
    /// Without ports the door is opened (as AccessNtmsLibraryDoor with a
    /// FAST inventory): the operator puts the cleaner in the cleaner slot,
    /// and the reading after the door closes finds it (`CleanerFound`).
    pub(super) fn inject_cleaner(
        &self,
        session: SessionId,
        library: LibraryId,
        found: &[(u16, Seen)],
        cleans: u32,
        action: u32,
        operation: Option<RequestId>,
    ) -> Result<Vec<Event>, NtmsError> {
        let action =
            self.cleaner_operation(session, library, action, operation, RequestKind::InjectCleaner, E::NotSupported)?;
        let (s, lib) = match action {
            CleanerAction::Start(s, lib) => (s, lib),
            CleanerAction::Stopped(events) => return Ok(events),
        };
        let slot = self.cleaner_slot(lib)?;
        self.cleaner_slot_free(lib, slot, "one cleaner at a time")?;
        let expected = Event::CleanerExpected { library, cleans };
        if lib.ports.is_empty() {
            return Ok(vec![expected, self.door_access(lib, InventoryMethod::Fast)]);
        }
        let st = self.state;
        // The ports are read now: what the operator took out first.
        let mut taken = Vec::new();
        for (address, seen) in found {
            let port = lib.ports.iter().map(|p| &st.ports[p]).find(|p| p.element_address == *address);
            if let Some(port) = port.filter(|p| p.reserved_by.is_none()) {
                taken.extend(self.taken_from_port_read(port, seen));
            }
        }
        let labelled: Vec<(&Port, &String)> = found
            .iter()
            .filter_map(|(address, seen)| {
                let port = lib.ports.iter().map(|p| &st.ports[p]).find(|p| p.element_address == *address)?;
                match seen {
                    Seen::Cartridge(b) if port.reserved_by.is_none() && super::check_barcode(b).is_ok() => {
                        Some((port, b))
                    }
                    _ => None,
                }
            })
            .collect();
        // A cartridge the catalog does not know, or a cleaner ejected and
        // never taken out (it comes back).
        let cleaner = labelled.iter().find_map(|(port, barcode)| match st.medium_by_barcode(barcode) {
            None => Some((*port, *barcode, MediaId(derive_id(self.cmd.request, CLEANER_MEDIA_SALT)), true)),
            Some(m) if m.is_cleaner() && m.location == Location::Port(port.id) && m.pending_request.is_none() => {
                Some((*port, *barcode, m.id, false))
            }
            Some(_) => None,
        });
        let other_librarys = labelled.iter().find_map(|(_, b)| {
            st.medium_by_barcode(b)
                .filter(|m| m.is_cleaner() && m.library != lib.id)
                .map(|m| (m.barcode.clone(), m.library))
        });
        let Some((port, barcode, media, new)) = cleaner else {
            if let Some((barcode, owner)) = other_librarys {
                let owner = st.libraries.get(&owner).map_or_else(|| owner.to_string(), |l| l.name.clone());
                return reject(E::InvalidCleaner, format!("{barcode} is the cleaner of library {owner}"));
            }
            return match labelled.first() {
                Some((_, barcode)) => {
                    reject(E::InvalidCleaner, format!("{barcode} is a data cartridge of the catalog, not a cleaner"))
                }
                None => reject(
                    E::Empty,
                    format!("no labelled cartridge in a port of library {}: put the cleaner in one", lib.name),
                ),
            };
        };
        self.queue_room(lib, 1)?;
        let mut r = self.port_request(self.cmd.request, RequestKind::InjectCleaner, library, media, &s.principal);
        r.slot = Some(slot.id);
        r.port = Some(port.id);
        taken.extend([expected, Event::InjectRequested { request: r, barcode: barcode.clone(), new }]);
        Ok(taken)
    }

    /// EjectNtmsCleaner. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE); dwAction START or STOP, and STOP
    ///    naming its operation (ERROR_INVALID_PARAMETER);
    /// 2. the library as `cleaner_library`;
    /// 3. STOP: a library with ports and the operation an eject of the
    ///    cleaner not started (ERROR_INVALID_OPERATION);
    /// 4. START: a cleaner slot reserved (ERROR_CLEANER_SLOT_NOT_SET) and
    ///    present (ERROR_RESOURCE_NOT_PRESENT) with the cleaner in it
    ///    (ERROR_EMPTY), not busy (ERROR_BUSY);
    /// 5. with ports: one free (ERROR_BUSY); room in the queue
    ///    (ERROR_NOT_ENOUGH_MEMORY).
    ///
    /// Without ports the door is opened: the reading after it closes finds
    /// the slot empty, and the cleaner leaves the catalog.
    pub(super) fn eject_cleaner(
        &self,
        session: SessionId,
        library: LibraryId,
        action: u32,
        operation: Option<RequestId>,
    ) -> Result<Vec<Event>, NtmsError> {
        let kind = RequestKind::EjectCleaner;
        let (s, lib) = match self.cleaner_operation(session, library, action, operation, kind, E::InvalidOperation)? {
            CleanerAction::Start(s, lib) => (s, lib),
            CleanerAction::Stopped(events) => return Ok(events),
        };
        let slot = self.cleaner_slot(lib)?;
        let cleaner = lib.cleaner.and_then(|m| self.state.media.get(&m));
        let Some(cleaner) = cleaner.filter(|m| m.home_slot == Some(slot.id)) else {
            return reject(E::Empty, format!("cleaner slot {} holds no cleaner", slot.name));
        };
        let at = match cleaner.location {
            Location::Slot(at) if cleaner.pending_request.is_none() => at,
            _ => return reject(E::Busy, format!("cleaner {} is at work: eject it once it is home", cleaner.barcode)),
        };
        if lib.ports.is_empty() {
            return Ok(vec![self.door_access(lib, InventoryMethod::Fast)]);
        }
        let port = self.free_port(lib)?;
        self.queue_room(lib, 1)?;
        let mut r = self.port_request(self.cmd.request, RequestKind::EjectCleaner, library, cleaner.id, &s.principal);
        r.slot = Some(at);
        r.port = Some(port.id);
        Ok(vec![Event::EjectRequested { request: r }])
    }

    /// A cleaner whose inject failed anywhere but in its port is no
    /// library's cleaner: it leaves the catalog, and the next reading finds
    /// what is really there (in the cleaner slot: the cleaner, `CleanerFound`).
    pub(super) fn stray_cleaner(&self, r: &LibraryRequest, observed: Observed) -> Option<Event> {
        let stray = matches!(observed, Observed::Slot(_) | Observed::Drive(_) | Observed::Missing);
        (r.kind == RequestKind::InjectCleaner && stray).then_some(Event::MediaDeleted { media: r.media })
    }

    /// CleanNtmsDrive (`session` none: the drive reported that it needs
    /// cleaning). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the drive: the zero id (ERROR_INVALID_PARAMETER), none
    ///    (ERROR_INVALID_DRIVE); its library valid (ERROR_INVALID_LIBRARY);
    /// 3. CONTROL access to the library (ERROR_ACCESS_DENIED);
    /// 4. drive and library enabled (ERROR_RESOURCE_DISABLED); the library
    ///    connected (ERROR_RESOURCE_NOT_PRESENT); the drive connected and
    ///    ready, the library ready (ERROR_DEVICE_NOT_AVAILABLE).
    ///
    /// A stand-alone drive has no robot: it is recorded as cleaned at once.
    /// A drive whose cleaning is already wanted or queued keeps that one
    /// (success: "cleaning queued").
    pub(super) fn clean_drive(&self, session: Option<SessionId>, drive: DriveId) -> Result<Vec<Event>, NtmsError> {
        let caller = session.map(|s| self.session(s)).transpose()?;
        let d = self.drive(drive)?;
        let lib = self.valid_library(d.library)?;
        if let Some(s) = caller {
            self.require(lib, s, AccessMask::CONTROL, "clean its drives")?;
        }
        if !d.enabled || !lib.enabled {
            return reject(E::ResourceDisabled, format!("drive {} or its library is disabled", d.name));
        }
        if lib.operational == OperationalState::NotPresent {
            return reject(E::ResourceNotPresent, format!("library {} is not connected", lib.name));
        }
        if d.operational != OperationalState::Ready || lib.operational != OperationalState::Ready {
            return reject(E::DeviceNotAvailable, format!("drive {} or its library is not ready", d.name));
        }
        let principal = caller.map_or(super::SERVER_PRINCIPAL, |s| s.principal.as_str());
        if lib.kind == LibraryKind::Standalone {
            return Ok(vec![Event::StandaloneDriveCleaned {
                drive,
                principal: principal.to_string(),
                at_ms: self.now(),
            }]);
        }
        let queued = lib
            .active_requests
            .iter()
            .filter_map(|r| self.state.requests.get(r))
            .any(|r| r.kind == RequestKind::Clean && r.drive == Some(drive));
        if d.cleaning_wanted.is_some() || queued {
            return Ok(vec![]);
        }
        Ok(vec![Event::CleaningWanted { drive, submitter: principal.to_string(), at_ms: self.now() }])
    }

    /// The scheduler's cleaning round for `lib`: the first drive whose
    /// cleaning is wanted, that is empty and promised to nobody, gets the
    /// usable cleaner (an NTMS_LM_CLEANDRIVE request, started next round);
    /// while there is no usable cleaner, the operator is asked for one
    /// (NTMS_OPREQ_CLEANER, once per wanted cleaning; a spent cleaner
    /// also fails a cleaning with ERROR_CLEANER_CARTRIDGE_SPENT, rsm rule);
    /// an operator request whose need was met is completed by rsm.
    pub(super) fn cleanings(&self, lib: &Library) -> Vec<Event> {
        let st = self.state;
        let wanted: Vec<&Drive> = lib
            .drives
            .iter()
            .filter_map(|d| st.drives.get(d))
            .filter(|d| d.cleaning_wanted.is_some() && Self::drive_available(d))
            .collect();
        if wanted.is_empty() {
            return vec![];
        }
        let open = |w: &CleaningWanted| {
            w.operator_request.and_then(|r| st.operator_requests.get(&r)).filter(|r| !r.state.is_terminal())
        };
        let mut events = Vec::new();
        match self.cleaner_status(lib) {
            CleanerStatus::Busy => {}
            CleanerStatus::Usable(cleaner, at) => {
                for d in &wanted {
                    if let Some(r) = d.cleaning_wanted.as_ref().and_then(open) {
                        events.push(self.operator_request_closed(r.id, OperatorRequestState::Complete, None));
                    }
                }
                let ready = wanted.iter().find(|d| {
                    d.medium.is_none()
                        && d.state == DriveState::Dismounted
                        && d.reserved_by.is_none()
                        && d.next_reserved_by.is_none()
                });
                if let Some(d) = ready {
                    // From where it is, and back there.
                    let request = self.clean_request(lib, d, cleaner, at, None, 0);
                    events.push(Event::CleanQueued { request });
                }
            }
            status @ (CleanerStatus::Missing | CleanerStatus::Spent(_) | CleanerStatus::Disabled(_)) => {
                for (n, d) in wanted.iter().enumerate() {
                    let Some(w) = &d.cleaning_wanted else { continue };
                    if open(w).is_some() {
                        continue;
                    }
                    if let CleanerStatus::Spent(cleaner) = status {
                        if let Some(slot) = cleaner.home_slot {
                            let spent = Some(E::CleanerCartridgeSpent);
                            let request = self.clean_request(lib, d, cleaner, slot, spent, 1 + n as u64);
                            events.push(Event::CleanQueued { request });
                        }
                    }
                    let id = OperatorRequestId(derive_id(self.cmd.request, CLEANING_SALT + 1 + n as u64));
                    let text = match status {
                        CleanerStatus::Spent(c) => format!(
                            "cleaner {} of library {} is spent: replace it to clean drive {}",
                            c.barcode, lib.name, d.name
                        ),
                        CleanerStatus::Disabled(c) => format!(
                            "cleaner {} of library {} is disabled: enable it or bring another to clean drive {}",
                            c.barcode, lib.name, d.name
                        ),
                        _ => format!("library {} needs a cleaner to clean drive {}", lib.name, d.name),
                    };
                    let request = OperatorRequest::submitted(
                        id,
                        OperatorRequestKind::Cleaner { library: lib.id },
                        SessionId::NIL,
                        super::SERVER_PRINCIPAL,
                        text,
                        self.now(),
                    );
                    events.push(Event::OperatorRequestSubmitted { request });
                    events.push(Event::CleanerAwaited { drive: d.id, operator_request: id });
                }
            }
        }
        events
    }

    /// The NTMS_LM_CLEANDRIVE request of `drive`'s wanted cleaning, with
    /// `cleaner` from `slot`; `failed` records one that cannot run; `n`
    /// tells apart the requests of one round.
    fn clean_request(
        &self,
        lib: &Library,
        drive: &Drive,
        cleaner: &Medium,
        slot: SlotId,
        failed: Option<E>,
        n: u64,
    ) -> LibraryRequest {
        // Found by the simulation: two drives' cleanings failed on a spent
        // cleaner in one round shared one request id.
        let id = RequestId(derive_id(self.cmd.request, CLEANING_SALT + 1000 + n));
        let submitter = drive.cleaning_wanted.as_ref().map_or(super::SERVER_PRINCIPAL, |w| w.submitter.as_str());
        let mut r = self.new_request(id, RequestKind::Clean, drive, cleaner.id, submitter);
        r.library = lib.id;
        r.slot = Some(slot);
        if let Some(error) = failed {
            r.state = RequestState::Failed;
            r.error = Some(error.code());
            r.time_completed_ms = Some(self.now());
        }
        r
    }

    /// The open operator requests asking a cleaner for these drives'
    /// cleanings, withdrawn (REFUSED, ERROR_CANCELLED): the drives go.
    pub(super) fn cleaner_requests_withdrawn<'d>(&self, drives: impl Iterator<Item = &'d Drive>) -> Vec<Event> {
        drives
            .filter_map(|d| d.cleaning_wanted.as_ref()?.operator_request)
            .filter(|r| self.state.operator_requests.get(r).is_some_and(|r| !r.state.is_terminal()))
            .map(|r| self.operator_request_closed(r, OperatorRequestState::Refused, Some(E::Cancelled)))
            .collect()
    }

    /// The operator refused a cleaner that cleanings waited for: they are
    /// dropped (spec §6.3: the cleaning fails with ERROR_REQUEST_REFUSED).
    pub(super) fn cleanings_refused(&self, operator_request: OperatorRequestId) -> Vec<Event> {
        self.state
            .drives
            .values()
            .filter(|d| d.cleaning_wanted.as_ref().is_some_and(|w| w.operator_request == Some(operator_request)))
            .map(|d| Event::CleaningRefused { drive: d.id, at_ms: self.now() })
            .collect()
    }
}
