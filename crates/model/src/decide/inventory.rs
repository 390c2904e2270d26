//! InventoryNtmsLibrary (spec §3.3): a reading of the library's elements
//! compared with the views.

use super::Ctx;
use super::{check_barcode, distinct_addresses};
use crate::command::*;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::objects::*;

impl<'a> Ctx<'a> {
    /// InventoryNtmsLibrary (RecordInventory). Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE), unless the server takes it by itself;
    /// 2. every observed element address listed once (ERROR_INVALID_PARAMETER);
    /// 3. the library exists and is not being deleted (ERROR_INVALID_LIBRARY);
    /// 4. CONTROL access to it (ERROR_ACCESS_DENIED);
    /// 5. the library is enabled and ready (ERROR_DEVICE_NOT_AVAILABLE);
    /// 6. no known or new bar code seen twice (ERROR_INVALID_PARAMETER).
    ///
    /// Slots, drives and import/export ports of the projection are compared
    /// alike (a new cartridge in a port is catalogued there, with a free
    /// slot as its home for the inject to take it to; an unlabeled or
    /// foreign one marks the port full; one in a port promised to an eject
    /// not yet started fails that eject with ERROR_BUSY first); other
    /// addresses are ignored, and so are elements a queued request relies on (its drive, its medium's
    /// place and home slot) and media with a pending request: the request
    /// settles them. Events come in an order that keeps every
    /// invariant after each one: vanished cartridges first, then moves (each
    /// to a place already free; a cycle is broken by moving one cartridge
    /// offline first), then new cartridges; unlabeled and foreign cartridges
    /// last. Those two are reported at every inventory while they stay.
    pub(super) fn inventory(
        &self,
        session: Option<SessionId>,
        library: LibraryId,
        observed: &[(u16, Seen)],
        method: InventoryMethod,
    ) -> Result<Vec<Event>, NtmsError> {
        let caller = session.map(|s| self.session(s)).transpose()?;
        let addresses = distinct_addresses(observed.iter().map(|(a, _)| *a))?;
        let lib = self.valid_library(library)?;
        if let Some(s) = caller {
            self.require(lib, s, AccessMask::CONTROL, "take its inventory")?;
        }
        if !Self::library_available(lib) {
            return reject(E::DeviceNotAvailable, format!("library {} is disabled or not ready", lib.name));
        }
        if lib.door_open() {
            return reject(
                E::Busy,
                format!("the door of library {} is open: its inventory is taken when it closes", lib.name),
            );
        }
        let mut events = self.drives_present(lib, &addresses);
        let differences = self.compare(lib, observed, addresses.clone())?;
        events.extend(self.requests_overtaken(&differences));
        events.extend(differences);
        if method.resolved(lib.inventory_method) == InventoryMethod::Omid {
            events.extend(self.identifications(lib, &events));
        }
        if lib.inventory_due {
            events.push(Event::InventoryCompleted { library });
        }
        Ok(events)
    }

    /// The requests that had not started and whose cartridge the reading
    /// found gone (ERROR_MEDIA_OFFLINE) or elsewhere (ERROR_MEDIA_NOT_AVAILABLE:
    /// the operator moved it; a new request finds it where it is now) fail
    /// before the views follow the cartridge (found by a hostile run: the
    /// inventory after a door closed ignored a cartridge a queued mount
    /// named, and the mount then failed on an empty slot).
    fn requests_overtaken(&self, differences: &[Event]) -> Vec<Event> {
        use std::collections::BTreeMap;
        let mut overtaken: BTreeMap<MediaId, E> = BTreeMap::new();
        for e in differences {
            match e {
                Event::CartridgeVanished { media } => {
                    overtaken.insert(*media, E::MediaOffline);
                }
                Event::CartridgeMoved { media, .. } => {
                    overtaken.entry(*media).or_insert(E::MediaNotAvailable);
                }
                _ => {}
            }
        }
        // Found by the simulation: an eject whose port the operator filled
        // and whose cartridge he moved failed twice.
        let failed: std::collections::BTreeSet<RequestId> = differences
            .iter()
            .filter_map(|e| match e {
                Event::RequestFailed { request, .. } => Some(*request),
                _ => None,
            })
            .collect();
        overtaken
            .into_iter()
            .filter_map(|(media, error)| {
                let request = self.state.media.get(&media)?.pending_request.filter(|r| !failed.contains(r))?;
                Some(Event::RequestFailed {
                    request,
                    error: error.code(),
                    sense: None,
                    observed: Observed::Unknown,
                    at_ms: self.now(),
                })
            })
            .collect()
    }

    /// A reading of every slot and of some drive of the library is a whole
    /// reading (READ ELEMENT STATUS of every element): a drive whose element
    /// is not in it is gone (NTMS_NOT_PRESENT), one that is back is ready
    /// again. A partial reading (the ports alone, the slots alone) says
    /// nothing of drives; nor does one without any drive (rsm rule: a
    /// library that lost every drive at once is more likely misread).
    fn drives_present(&self, lib: &Library, read: &std::collections::BTreeSet<u16>) -> Vec<Event> {
        let address = |d: &DriveId| self.state.drives[d].element_address;
        let full = !lib.slots.is_empty()
            && lib.slots.iter().all(|s| read.contains(&self.state.slots[s].element_address))
            && lib.drives.iter().any(|d| read.contains(&address(d)));
        if !full {
            return vec![];
        }
        lib.drives
            .iter()
            .map(|d| &self.state.drives[d])
            .filter_map(|d| {
                let present = read.contains(&d.element_address);
                let gone = d.operational == OperationalState::NotPresent;
                (present == gone).then_some(Event::DrivePresence { drive: d.id, present })
            })
            .collect()
    }

    /// NTMS_INVENTORY_OMID: every cartridge at home that is already known
    /// is mounted and its label read (those just found are classified anyway).
    fn identifications(&self, lib: &Library, so_far: &[Event]) -> Vec<Event> {
        use std::collections::BTreeSet;
        /// Apart from the numbers `compare` gives the label requests it raises.
        const IDENTIFY_BASE: u64 = 1 << 32;
        let touched: BTreeSet<MediaId> = so_far
            .iter()
            .filter_map(|e| match e {
                Event::CartridgeVanished { media } | Event::CartridgeMoved { media, .. } => Some(*media),
                Event::LabelRequested { request } => Some(request.media),
                _ => None,
            })
            .collect();
        lib.slots
            .iter()
            .filter_map(|s| self.state.slots[s].content)
            .filter(|m| !touched.contains(m))
            .filter_map(|m| self.state.media.get(&m))
            .filter(|m| !m.sides.iter().all(|x| x.state == crate::media_services::SideState::Unknown))
            .enumerate()
            .filter_map(|(n, m)| self.label_request_for(RequestKind::Classify, m, IDENTIFY_BASE + n as u64))
            .collect()
    }

    /// The reading compared with the views: the differences as events.
    fn compare(
        &self,
        lib: &Library,
        observed: &[(u16, Seen)],
        addresses: std::collections::BTreeSet<u16>,
    ) -> Result<Vec<Event>, NtmsError> {
        use std::collections::{BTreeMap, BTreeSet};
        let library = lib.id;
        // Elements and cartridges a running request relies on are left out
        // below: a move under way is not a difference. A request that has
        // not started moved nothing: its cartridge is compared like any
        // other, and one the operator moved or took fails it (`inventory`).
        let st = self.state;
        let started = |m: &Medium| {
            m.pending_request.and_then(|r| st.requests.get(&r)).is_some_and(|r| r.state == RequestState::InProcess)
        };
        let pending = |m: Option<MediaId>| m.and_then(|m| st.media.get(&m)).is_some_and(started);
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
        // A port promised to an eject that has not started is read too: a
        // cartridge the operator put there makes the eject impossible, so it
        // fails (ERROR_BUSY, as an eject to a full port is refused) before
        // the robot would carry a cartridge into an occupied port.
        let mut failed_ejects = Vec::new();
        let seen_at: BTreeMap<u16, &Seen> = observed.iter().map(|(a, seen)| (*a, seen)).collect();
        for p in lib.ports.iter().map(|p| &st.ports[p]) {
            let waiting_eject = p.reserved_by.filter(|r| {
                st.requests.get(r).is_some_and(|r| r.kind == RequestKind::Eject && r.state == RequestState::Queued)
            });
            if let Some(eject) = waiting_eject {
                if seen_at.get(&p.element_address).is_some_and(|seen| !matches!(seen, Seen::Empty)) {
                    failed_ejects.push(Event::RequestFailed {
                        request: eject,
                        error: E::Busy.code(),
                        sense: None,
                        observed: Observed::Unknown,
                        at_ms: self.now(),
                    });
                    places.insert(p.element_address, (Location::Port(p.id), p.content));
                }
            } else if p.reserved_by.is_none() && !pending(p.content) {
                places.insert(p.element_address, (Location::Port(p.id), p.content));
            }
        }
        let mut found: BTreeMap<MediaId, Location> = BTreeMap::new();
        let mut new: Vec<(Location, String)> = Vec::new();
        let mut notes: Vec<Event> = Vec::new();
        let mut new_barcodes = BTreeSet::new();
        for (address, seen) in observed {
            let Some((place, _)) = places.get(address) else { continue };
            match seen {
                Seen::Empty => {
                    if let Location::Port(p) = place {
                        if st.ports[p].stranger {
                            notes.push(Event::PortFoundEmpty { port: *p });
                        }
                    }
                }
                Seen::Cartridge(b) if check_barcode(b).is_ok() => match st.medium_by_barcode(b) {
                    Some(m) if m.library != library => {
                        notes.push(Event::ForeignCartridgeFound { library, address: *address, barcode: b.clone() })
                    }
                    Some(m) if started(m) => {}
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
        let mut events = failed_ejects;
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
                match place {
                    Location::Port(_) => events.extend(self.taken_out(*m)),
                    _ => {
                        events.push(Event::CartridgeVanished { media: *m });
                        if st.media[m].is_cleaner() {
                            // Cleaners are not kept on the shelf (spec §3.4).
                            events.push(Event::MediaDeleted { media: *m });
                        }
                    }
                }
                occupant.remove(place);
            }
        }
        let mut moves: Vec<(MediaId, Location)> =
            found.iter().filter(|(m, to)| st.media[*m].location != **to).map(|(m, to)| (*m, *to)).collect();
        events.extend(self.cleaner_slot_follows(lib, &moves));
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
        let mut free_homes = lib.slots.iter().map(|s| &st.slots[s]).filter(|sl| {
            sl.home_of.is_none()
                && sl.content.is_none()
                && !claimed.contains(&Location::Slot(sl.id))
                && lib.data_slot(sl.id)
        });
        let mut classify = Vec::new();
        for (at, barcode) in new {
            n += 1;
            if lib.cleaner.is_none() && lib.cleaner_slot.is_some_and(|s| at == Location::Slot(s)) {
                // The operator put a cleaner in its slot: one announced
                // (InjectNtmsCleaner through the door), or one whose bar code
                // says so (NTMS_LIBRARYFLAG_RECOGNIZECLEANERBARCODE's rule).
                // Anything else is a data cartridge (found by a hostile run:
                // it was taken for the cleaner), and the slot a data slot.
                if lib.cleaner_expected.is_some() || super::cleaning::is_cleaner_barcode(&barcode) {
                    let media = MediaId(derive_id(self.cmd.request, n));
                    events.push(Event::CleanerFound { library, media, barcode });
                    continue;
                }
                events.push(Event::CleanerSlotReleased { library });
            }
            let home = match at {
                Location::Slot(s) => Some(s),
                _ => free_homes.next().map(|s| s.id),
            };
            let media = MediaId(derive_id(self.cmd.request, n));
            if let (Location::Slot(_), Some(kind)) = (at, crate::media_services::media_type(lib.media_type)) {
                // Found in its slot: classified now (in a port, the inject
                // that takes it home classifies it; in a drive, not yet).
                let mut found = Medium::new(media, &barcode, library, kind);
                found.home_slot = home;
                found.location = at;
                for x in &mut found.sides {
                    x.state = crate::media_services::SideState::Unknown;
                }
                classify.extend(self.classify_arrival(&found, classify.len() as u64));
            }
            events.push(Event::CartridgeAppeared { media, barcode, library, at, home });
        }
        events.extend(notes);
        events.extend(classify);
        // Cartridges at home whose classification or free label was cut
        // short (a failure, a restart) get it again: an inventory retries.
        let touched: BTreeSet<MediaId> = events
            .iter()
            .filter_map(|e| match e {
                Event::CartridgeVanished { media } | Event::CartridgeMoved { media, .. } => Some(*media),
                _ => None,
            })
            .collect();
        let mut n = 1000;
        for m in st.media.values().filter(|m| m.library == library && !touched.contains(&m.id)) {
            n += 1;
            events.extend(self.classify_arrival(m, n).or_else(|| self.prepare(m, n)));
        }
        Ok(events)
    }

    /// The operator moved the cleaner to another slot: that slot is the
    /// cleaner slot now; he put a data cartridge in the cleaner slot (the
    /// cleaner gone or elsewhere): the slot is a data slot again (found by
    /// a hostile run: the cleaner functions contradicted each other).
    /// Before the moves, so that each cartridge takes its new slot as home.
    pub(super) fn cleaner_slot_follows(&self, lib: &Library, moves: &[(MediaId, Location)]) -> Option<Event> {
        let reserved = lib.cleaner_slot?;
        let cleaner_to = lib.cleaner.and_then(|c| moves.iter().find(|(m, _)| *m == c)).map(|(_, to)| *to);
        let data_into = moves.iter().any(|(m, to)| *to == Location::Slot(reserved) && Some(*m) != lib.cleaner);
        match cleaner_to {
            Some(Location::Slot(slot)) if slot != reserved => {
                Some(Event::CleanerSlotReserved { library: lib.id, slot })
            }
            _ if data_into => Some(Event::CleanerSlotReleased { library: lib.id }),
            _ => None,
        }
    }

    /// As [`Self::cleaner_slot_follows`], for the one cartridge a failed
    /// request leaves where the hardware saw it (found by the simulation:
    /// a cleaner the operator had moved was put back in the views in a data
    /// slot it could not call home).
    pub(super) fn cleaner_slot_follows_to(&self, r: &LibraryRequest, observed: Observed) -> Option<Event> {
        let Observed::Slot(slot) = observed else { return None };
        let lib = self.state.libraries.get(&r.library)?;
        self.cleaner_slot_follows(lib, &[(r.media, Location::Slot(slot))])
    }

    /// InventoryNtmsLibrary's checks and what needs no reading. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. dwAction FAST, OMID, DEFAULT or STOP (ERROR_INVALID_PARAMETER;
    ///    rsm rule: NONE and SLOT too);
    /// 3. the library: the zero id (ERROR_INVALID_PARAMETER), none, the
    ///    offline library or one being deleted (ERROR_INVALID_LIBRARY);
    /// 4. CONTROL access (ERROR_ACCESS_DENIED);
    /// 5. enabled (ERROR_RESOURCE_DISABLED);
    /// 6. connected (ERROR_DEVICE_NOT_AVAILABLE for NTMS_NOT_PRESENT), else
    ///    ready (ERROR_LIBRARY_OFFLINE).
    ///
    /// STOP stops the identifications an OMID inventory queued that have
    /// not started (NTMS_LM_STOPPED); with the door open the method waits
    /// for it to close. Otherwise nothing is recorded here: the caller
    /// reads the elements and records them with `RecordInventory`.
    pub(super) fn inventory_library(
        &self,
        session: SessionId,
        library: LibraryId,
        action: u32,
    ) -> Result<Vec<Event>, NtmsError> {
        use super::door::INVENTORY_STOP;
        let s = self.session(session)?;
        let method = match InventoryMethod::of_action(action) {
            Some(InventoryMethod::None) | None if action != INVENTORY_STOP => {
                return reject(
                    E::InvalidParameter,
                    format!("{action} is not an inventory action (FAST 1, OMID 2, DEFAULT 3, STOP 5)"),
                )
            }
            m => m,
        };
        let lib = self.valid_library(library)?;
        self.require(lib, s, AccessMask::CONTROL, "take its inventory")?;
        if !lib.enabled {
            return reject(E::ResourceDisabled, format!("library {} is disabled", lib.name));
        }
        match lib.operational {
            OperationalState::Ready => {}
            OperationalState::NotPresent => {
                return reject(E::DeviceNotAvailable, format!("library {} is not connected", lib.name))
            }
            OperationalState::NeedsService => {
                return reject(E::LibraryOffline, format!("library {} needs service", lib.name))
            }
        }
        let Some(method) = method else {
            let requests: Vec<RequestId> =
                lib.active_requests
                    .iter()
                    .map(|r| &self.state.requests[r])
                    .filter(|r| r.kind == RequestKind::Classify && r.state == RequestState::Queued)
                    .filter(|r| {
                        self.state.media.get(&r.media).is_some_and(|m| {
                            !m.sides.iter().all(|x| x.state == crate::media_services::SideState::Unknown)
                        })
                    })
                    .map(|r| r.id)
                    .collect();
            return Ok(if requests.is_empty() {
                vec![]
            } else {
                vec![Event::InventoryStopped { library, requests, at_ms: self.now() }]
            });
        };
        if lib.door_open() {
            return Ok(vec![Event::DoorInventoryChosen { library, method: method.resolved(lib.inventory_method) }]);
        }
        Ok(vec![])
    }

    /// IdentifyNtmsSlot. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. the zero slot id, or dwOption other than 0, NTMS_DISMOUNT_DEFERRED
    ///    or NTMS_DISMOUNT_IMMEDIATE (ERROR_INVALID_PARAMETER);
    /// 3. the id names a slot (ERROR_OBJECT_NOT_FOUND);
    /// 4. its library is valid (ERROR_INVALID_LIBRARY);
    /// 5. CONTROL access (ERROR_ACCESS_DENIED);
    /// 6. the library is enabled and ready, its door closed and no
    ///    inventory due (ERROR_LIBRARY_OFFLINE);
    /// 7. the cartridge has no request pending (ERROR_BUSY) and a drive of
    ///    the library reads it (ERROR_MEDIA_INCOMPATIBLE);
    /// 8. room in the queue (ERROR_NOT_ENOUGH_MEMORY).
    ///
    /// An empty slot succeeds with nothing recorded. The cartridge is
    /// classified if it was never classified, else identified
    /// (`MediaIdentified`); it always goes back to the slot (rsm rule: a
    /// deferred dismount of it would hold a drive nobody opened).
    pub(super) fn identify_slot(&self, session: SessionId, slot: SlotId, option: u32) -> Result<Vec<Event>, NtmsError> {
        /// NTMS_DISMOUNT_DEFERRED and NTMS_DISMOUNT_IMMEDIATE.
        const OPTIONS: [u32; 3] = [0, 1, 2];
        let s = self.session(session)?;
        if slot.is_nil() {
            return reject(E::InvalidParameter, "a slot id is required");
        }
        if !OPTIONS.contains(&option) {
            return reject(E::InvalidParameter, format!("{option} is not a dismount option (0, 1 or 2)"));
        }
        let Some(sl) = self.state.slots.get(&slot) else {
            return reject(E::ObjectNotFound, format!("no slot {slot}"));
        };
        let lib = self.valid_library(sl.library)?;
        self.require(lib, s, AccessMask::CONTROL, "identify its cartridges")?;
        if !Self::library_available(lib) || lib.robot_held() {
            return reject(
                E::LibraryOffline,
                format!("library {} is disabled, not ready, or its door is open or waits for an inventory", lib.name),
            );
        }
        let Some(media) = sl.content.and_then(|m| self.state.media.get(&m)) else { return Ok(vec![]) };
        if media.is_cleaner() {
            // Found by a hostile run: the cleaner was loaded and "classified".
            return reject(E::InvalidMedia, format!("{} is a cleaner: it has no label to read", media.barcode));
        }
        if media.pending_request.is_some() {
            return reject(E::Busy, format!("{} has a request pending", media.barcode));
        }
        if !self.readable_in_library(media) {
            return reject(E::MediaIncompatible, format!("no drive of library {} reads {}", lib.name, media.barcode));
        }
        self.queue_room(lib, 1)?;
        Ok(vec![self.label_request(RequestKind::Classify, lib.id, media.id, slot, 0)])
    }
}
