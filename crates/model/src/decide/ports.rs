//! EjectNtmsMedia and InjectNtmsMedia: cartridges leaving and entering a
//! changer through its import/export ports.
//!
//! rsm's reading of the spec for SCSI changers, whose import/export station
//! is a set of one-cartridge elements: each element is a port. An eject
//! takes one free port; an inject is accepted after the engine read the
//! ports (the operator loads the station first, as with any SCSI library),
//! and each cartridge found gets a request of its own, so that one failed
//! move fails one cartridge, not the batch.

use super::Ctx;
use crate::command::Seen;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::Event;
use crate::ids::*;
use crate::objects::*;

/// Media minted by an inject take ids from this offset on, so that they never
/// share a value with the inject's own request ids (`secondary_id(1..)`).
const MINTED_MEDIA_FIRST: u64 = 1 << 32;

impl<'a> Ctx<'a> {
    /// EjectNtmsMedia (spec §3.3). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a medium id (ERROR_INVALID_PARAMETER), the medium (ERROR_INVALID_MEDIA);
    /// 3. its library exists and is not being deleted (ERROR_INVALID_LIBRARY);
    /// 4. CONTROL access (ERROR_ACCESS_DENIED);
    /// 5. the medium is not offline (ERROR_LIBRARY_OFFLINE), its library is
    ///    enabled and ready (ERROR_DEVICE_NOT_AVAILABLE), the medium is enabled
    ///    (ERROR_MEDIA_NOT_AVAILABLE), the library has ports
    ///    (ERROR_RESOURCE_NOT_PRESENT);
    /// 6. no request moves it, and it is in a slot, not a drive or a port
    ///    (ERROR_BUSY);
    /// 7. a port is free and promised to nobody (ERROR_BUSY); the queue has room
    ///    (ERROR_NOT_ENOUGH_MEMORY).
    pub(super) fn eject_media(&self, session: SessionId, media: MediaId) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let medium = self.medium(media)?;
        let lib = self.library_of(medium)?;
        self.require(lib, s, AccessMask::CONTROL, "eject media")?;
        if medium.location == Location::Offline {
            return reject(E::LibraryOffline, format!("medium {} is in the offline library", medium.barcode));
        }
        if !Self::library_available(lib) {
            return reject(E::DeviceNotAvailable, format!("library {} is disabled or not ready", lib.name));
        }
        if !medium.enabled {
            return reject(E::MediaNotAvailable, format!("medium {} is disabled", medium.barcode));
        }
        if lib.ports.is_empty() {
            return reject(
                E::ResourceNotPresent,
                format!("library {} has no import/export port (open its door instead)", lib.name),
            );
        }
        if let Some(r) = medium.pending_request {
            return reject(E::Busy, format!("medium {} is being moved by request {r}", medium.barcode));
        }
        let slot = match medium.location {
            Location::Slot(slot) => slot,
            Location::Drive(_) => {
                return reject(E::Busy, format!("medium {} is in a drive: dismount it first", medium.barcode))
            }
            Location::Port(_) => {
                return reject(E::Busy, format!("medium {} is already in an import/export port", medium.barcode))
            }
            Location::Offline => unreachable!("offline media were refused above"),
        };
        let port = self.free_port(lib)?;
        self.queue_room(lib, 1)?;
        let mut r = self.port_request(self.cmd.request, RequestKind::Eject, lib.id, media, &s.principal);
        r.slot = Some(slot);
        r.port = Some(port.id);
        Ok(vec![Event::EjectRequested { request: r }])
    }

    /// InjectNtmsMedia (spec §3.3), after the engine read the ports. Checks, in
    /// order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. every element address listed once (ERROR_INVALID_PARAMETER);
    /// 3. the library exists and is not being deleted (ERROR_INVALID_LIBRARY);
    /// 4. CONTROL access (ERROR_ACCESS_DENIED);
    /// 5. the library is enabled and ready (ERROR_DEVICE_NOT_AVAILABLE) and has
    ///    ports (ERROR_RESOURCE_NOT_PRESENT);
    /// 6. no bar code seen twice (ERROR_INVALID_PARAMETER);
    /// 7. some cartridge to take in finds a slot (ERROR_LIBRARY_FULL), and the
    ///    queue has room for them all (ERROR_NOT_ENOUGH_MEMORY).
    pub(super) fn inject_media(
        &self,
        session: SessionId,
        library: LibraryId,
        found: &[(u16, Seen)],
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        super::distinct_addresses(found.iter().map(|(a, _)| *a))?;
        let lib = self.valid_library(library)?;
        self.require(lib, s, AccessMask::CONTROL, "inject media")?;
        if !Self::library_available(lib) {
            return reject(E::DeviceNotAvailable, format!("library {} is disabled or not ready", lib.name));
        }
        if lib.ports.is_empty() {
            return reject(E::ResourceNotPresent, format!("library {} has no import/export port", lib.name));
        }
        let st = self.state;
        let mut free_slots = lib.slots.iter().map(|id| &st.slots[id]).filter(|sl| {
            sl.state == SlotState::Empty && sl.content.is_none() && sl.home_of.is_none() && lib.data_slot(sl.id)
        });
        let mut events: Vec<Event> = Vec::new();
        let mut notes: Vec<Event> = Vec::new();
        let mut barcodes = std::collections::BTreeSet::new();
        let (mut wanted, mut made, mut minted) = (0u64, 0u64, 0u64);
        for (address, seen) in found {
            let Some(port) = lib.ports.iter().map(|p| &st.ports[p]).find(|p| p.element_address == *address) else {
                continue; // not one of this library's ports
            };
            if port.reserved_by.is_some() {
                continue; // an eject or inject is using it
            }
            events.extend(self.taken_from_port_read(port, seen));
            let barcode = match seen {
                Seen::Empty if port.stranger => {
                    events.push(Event::PortFoundEmpty { port: port.id });
                    continue;
                }
                Seen::Empty => continue,
                Seen::Cartridge(b) if super::check_barcode(b).is_ok() => b,
                Seen::Cartridge(_) | Seen::Unlabeled => {
                    notes.push(Event::UnlabeledCartridgeFound { library, address: *address });
                    continue;
                }
            };
            if !barcodes.insert(barcode.clone()) {
                return reject(E::InvalidParameter, format!("bar code {barcode} was seen twice"));
            }
            let (media, new, home) = match st.medium_by_barcode(barcode) {
                None => {
                    minted += 1;
                    (MediaId(derive_id(self.cmd.request, MINTED_MEDIA_FIRST + minted)), true, None)
                }
                // Back from the shelf (ejected, vanished, or from another library).
                Some(m) if m.location == Location::Offline && m.pending_request.is_none() => {
                    (m.id, false, m.home_slot.filter(|_| m.library == library))
                }
                // A cleaner ejected and never taken: only InjectNtmsCleaner takes it back.
                Some(m) if m.is_cleaner() => continue,
                // Ejected earlier and never taken: it goes back home.
                Some(m) if m.location == Location::Port(port.id) && m.pending_request.is_none() => {
                    (m.id, false, m.home_slot)
                }
                Some(m) if m.library != library => {
                    notes.push(Event::ForeignCartridgeFound { library, address: *address, barcode: barcode.clone() });
                    continue;
                }
                // The views have it elsewhere in this library: inventory settles that.
                Some(_) => continue,
            };
            wanted += 1;
            let usable_home =
                home.filter(|h| st.slots.get(h).is_some_and(|sl| sl.content.is_none() && sl.state == SlotState::Empty));
            let Some(slot) = usable_home.or_else(|| free_slots.next().map(|sl| sl.id)) else {
                continue; // stays in the port: no room
            };
            let id = if made == 0 { self.cmd.request } else { self.secondary_id(made) };
            made += 1;
            let mut r = self.port_request(id, RequestKind::Inject, library, media, &s.principal);
            r.slot = Some(slot);
            r.port = Some(port.id);
            events.push(Event::InjectRequested { request: r, barcode: barcode.clone(), new });
        }
        if wanted > 0 && made == 0 {
            return reject(
                E::LibraryFull,
                format!("no free slot in library {} for the cartridges in its ports", lib.name),
            );
        }
        self.queue_room(lib, made as usize)?;
        events.extend(notes);
        Ok(events)
    }
}

impl<'a> Ctx<'a> {
    /// A port of `lib` an eject can take: empty, promised to nobody, holding
    /// no stranger (ERROR_BUSY otherwise).
    pub(super) fn free_port(&self, lib: &Library) -> Result<&'a Port, NtmsError> {
        lib.ports
            .iter()
            .map(|p| &self.state.ports[p])
            .find(|p| p.content.is_none() && p.reserved_by.is_none() && !p.stranger)
            .ok_or_else(|| {
                NtmsError::new(E::Busy, format!("every import/export port of library {} is full or promised", lib.name))
            })
    }

    /// A port just read: an ejected cartridge the views still have there,
    /// and that is not seen, was taken by the operator.
    pub(super) fn taken_from_port_read(&self, port: &Port, seen: &Seen) -> Vec<Event> {
        let st = self.state;
        match port.content.filter(|m| st.media.get(m).is_some_and(|m| m.pending_request.is_none())) {
            Some(old) if !matches!(seen, Seen::Cartridge(b) if st.media[&old].barcode == *b) => self.taken_out(old),
            _ => Vec::new(),
        }
    }

    /// The operator took an ejected cartridge out of its port: it goes to
    /// the shelf, or out of the catalog as the computer's dwMediaPoolPolicy
    /// says (spec §1.3): a free-pool cartridge is deleted under
    /// PURGEOFFLINESCRATCH, an import-pool one unless KEEPOFFLINEIMPORT.
    pub(super) fn taken_out(&self, media: MediaId) -> Vec<Event> {
        let mut events = vec![Event::CartridgeTakenFromPort { media }];
        events.extend(self.leaves_the_catalog(media));
        events
    }

    /// A cartridge just out of the library: deleted if the computer's
    /// dwMediaPoolPolicy (or its being a cleaner) says so.
    pub(super) fn leaves_the_catalog(&self, media: MediaId) -> Option<Event> {
        use crate::object_management::{KEEP_OFFLINE_IMPORT, PURGE_OFFLINE_SCRATCH};
        let policy = self.state.computer.media_pool_policy;
        let kind = self.state.media.get(&media).and_then(|m| self.state.pools.get(&m.pool)).map(|p| p.kind);
        let cleaner = self.state.media.get(&media).is_some_and(|m| m.is_cleaner());
        let deleted = cleaner
            || match kind {
                Some(crate::media_services::PoolType::Free) => policy & PURGE_OFFLINE_SCRATCH != 0,
                Some(crate::media_services::PoolType::Import) => policy & KEEP_OFFLINE_IMPORT == 0,
                _ => false,
            };
        deleted.then_some(Event::MediaDeleted { media })
    }

    /// EjectDiskFromSADrive (spec §3.2). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. a device name, and dwOptions one of `NtmsEjectOperation`
    ///    (ERROR_INVALID_PARAMETER);
    /// 3. STOP: a stand-alone drive's eject is never queued, so there is
    ///    no operation to stop (ERROR_INVALID_OPERATION);
    /// 4. a stand-alone drive of that device name (rsm rule: the drive's
    ///    name; ERROR_INVALID_DRIVE), its library valid (ERROR_INVALID_LIBRARY);
    /// 5. CONTROL access (ERROR_ACCESS_DENIED);
    /// 6. library and drive enabled and ready (ERROR_DEVICE_NOT_AVAILABLE);
    /// 7. a cartridge in the drive, and one no session holds unless FORCE
    ///    (ERROR_MEDIA_NOT_AVAILABLE).
    ///
    /// The drive ejects it at once (QUEUE, IMMEDIATE and ASK_USER alike:
    /// no robot, nothing to queue; rsm has no user to ask): an
    /// NTMS_LM_EJECT request recorded passed, and the cartridge leaves
    /// for the shelf, or the catalog as dwMediaPoolPolicy says.
    pub(super) fn eject_from_standalone_drive(
        &self,
        session: SessionId,
        device: &str,
        option: u32,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if device.is_empty() || option > EJECT_ASK_USER {
            return reject(
                E::InvalidParameter,
                format!("a device name and an eject option (0 to {EJECT_ASK_USER}) are required"),
            );
        }
        if option == EJECT_STOP {
            return reject(E::InvalidOperation, "a stand-alone drive ejects at once: there is no operation to stop");
        }
        let d = self
            .state
            .drives
            .values()
            .filter(|d| self.state.libraries.get(&d.library).is_some_and(|l| l.kind == LibraryKind::Standalone))
            .find(|d| d.name == device)
            .ok_or_else(|| NtmsError::new(E::InvalidDrive, format!("no stand-alone drive is named {device}")))?;
        let lib = self.valid_library(d.library)?;
        self.require(lib, s, AccessMask::CONTROL, "eject its disk")?;
        if !Self::library_available(lib) || !Self::drive_available(d) {
            return reject(E::DeviceNotAvailable, format!("drive {} or its library is disabled or not ready", d.name));
        }
        let media =
            d.medium.ok_or_else(|| NtmsError::new(E::MediaNotAvailable, format!("drive {} is empty", d.name)))?;
        let mut events = Vec::new();
        if let Some(holder) = d.holder {
            if option != EJECT_FORCE {
                return reject(
                    E::MediaNotAvailable,
                    format!("the medium in drive {} is opened by a session (FORCE ejects it anyway)", d.name),
                );
            }
            events.push(Event::HoldOverridden { drive: d.id, holder, by: s.principal.clone() });
        }
        let mut r = self.new_request(self.cmd.request, RequestKind::Eject, d, media, &s.principal);
        r.state = RequestState::Passed;
        r.time_completed_ms = Some(self.now());
        events.push(Event::StandaloneDiskEjected { request: r });
        events.extend(self.leaves_the_catalog(media));
        Ok(events)
    }
}

/// `NtmsEjectOperation`: NTMS_EJECT_STOP.
pub const EJECT_STOP: u32 = 1;
/// `NtmsEjectOperation`: NTMS_EJECT_FORCE.
pub const EJECT_FORCE: u32 = 3;
/// `NtmsEjectOperation`: NTMS_EJECT_ASK_USER, the last.
pub const EJECT_ASK_USER: u32 = 5;
