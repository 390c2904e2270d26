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
    /// 1. session (ERROR_INVALID_HANDLE);
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
                    _ => events.push(Event::CartridgeVanished { media: *m }),
                }
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
        let mut classify = Vec::new();
        for (at, barcode) in new {
            n += 1;
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
}
