//! The projection: every view, rebuilt by applying the log's events in order.

use crate::ids::*;
use crate::media_services::*;
use crate::objects::*;
use crate::operator::OperatorRequest;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The whole projection of the log. Owned by the sequencer; changed only by
/// [`crate::apply`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Sessions, open and closed.
    pub sessions: BTreeMap<SessionId, Session>,
    /// Libraries.
    pub libraries: BTreeMap<LibraryId, Library>,
    /// Drives.
    pub drives: BTreeMap<DriveId, Drive>,
    /// Storage slots.
    pub slots: BTreeMap<SlotId, Slot>,
    /// Import/export ports.
    pub ports: BTreeMap<PortId, Port>,
    /// Physical media.
    pub media: BTreeMap<MediaId, Medium>,
    /// Library requests: every unfinished one, and the newest finished ones
    /// (the log keeps them all; see [`crate::limits::FINISHED_REQUESTS_KEPT`]).
    pub requests: BTreeMap<RequestId, LibraryRequest>,
    /// Finished requests still in the views, oldest first: the purge order.
    pub finished: std::collections::VecDeque<RequestId>,
    /// Object names (libraries, drives, slots, ports) to objects.
    pub names: BTreeMap<String, ObjectRef>,
    /// Bar codes to media.
    pub barcodes: BTreeMap<String, MediaId>,
    /// The next acceptance order number of a request.
    pub next_order: u64,
    /// Media pools: the system pools of every media type in use, and the
    /// applications' pools.
    pub pools: BTreeMap<PoolId, Pool>,
    /// Every side's medium.
    pub sides: BTreeMap<SideId, MediaId>,
    /// Every logical medium's side.
    pub lmids: BTreeMap<LogicalMediaId, SideId>,
    /// The AVAILABLE sides of each pool in the allocation rule's order (side
    /// number, allocations, sequence number, medium): an allocation reads the first eligible
    /// one instead of scanning every medium.
    pub available: BTreeMap<PoolId, BTreeSet<AvailableSide>>,
    /// The sequence number the last medium got.
    pub media_sequence: u64,
    /// Operator requests, open and closed.
    pub operator_requests: BTreeMap<OperatorRequestId, OperatorRequest>,
    /// Applications' named data on objects (extended attributes), by object
    /// and attribute name lower-cased.
    pub attributes: BTreeMap<ObjectRef, BTreeMap<String, Vec<u8>>>,
    /// Objects' descriptions (szDescription), where one was set.
    pub descriptions: BTreeMap<ObjectRef, String>,
    /// The computer's settings (purge times and flags, the media pool policy).
    pub computer: crate::object_management::ComputerSettings,
    /// The drive a waiting mount was told to use (NTMS_MOUNT_SPECIFIC_DRIVE).
    pub waiting_drives: BTreeMap<RequestId, DriveId>,
    /// When a queued or waiting request must have started (dwTimeout).
    pub deadlines: BTreeMap<RequestId, u64>,
    /// The names (szName) set on media, sides and logical media, which
    /// have none of their own otherwise.
    pub object_names: BTreeMap<ObjectRef, String>,
    /// The computer's access list (principals it names; the others hold
    /// [`crate::COMPUTER_DEFAULT_RIGHTS`]).
    pub computer_access: BTreeMap<String, AccessMask>,
    /// Mounts of offline media waiting for the operator to bring them
    /// (NTMS_OPREQ_MOVEMEDIA), with that operator request; the medium is
    /// not promised to them until it is back in a slot.
    pub awaiting_media: BTreeMap<RequestId, crate::ids::OperatorRequestId>,
    /// Device change detections open (BeginNtmsDeviceChangeDetection):
    /// the session that opened each, and the stand-alone libraries it watches.
    pub change_detections: BTreeMap<DetectionId, (SessionId, BTreeSet<LibraryId>)>,
}

/// An AVAILABLE side in [`State::available`]: ordered as the allocation
/// rule prefers (side A first, then the fewest allocations, then the
/// oldest medium).
pub type AvailableSide = (u8, u32, u64, MediaId);

impl State {
    /// An empty projection (the state before the first event).
    pub fn new() -> Self {
        Self::default()
    }

    /// A library by name.
    pub fn library_named(&self, name: &str) -> Option<&Library> {
        match self.names.get(name) {
            Some(ObjectRef::Library(id)) => self.libraries.get(id),
            _ => None,
        }
    }

    /// A drive by name.
    pub fn drive_named(&self, name: &str) -> Option<&Drive> {
        match self.names.get(name) {
            Some(ObjectRef::Drive(id)) => self.drives.get(id),
            _ => None,
        }
    }

    /// A medium by bar code.
    pub fn medium_by_barcode(&self, barcode: &str) -> Option<&Medium> {
        self.barcodes.get(barcode).and_then(|id| self.media.get(id))
    }

    /// A side and its medium.
    pub fn side(&self, id: SideId) -> Option<(&Medium, &Side)> {
        let medium = self.media.get(self.sides.get(&id)?)?;
        let side = medium.sides.iter().find(|s| medium.side_id(s.number) == id)?;
        Some((medium, side))
    }

    /// The side a logical medium is bound to, and its medium.
    pub fn logical_medium(&self, id: LogicalMediaId) -> Option<(&Medium, &Side)> {
        self.side(*self.lmids.get(&id)?)
    }

    /// A pool's full name: `\` and its levels from the top, `\`-separated.
    pub fn pool_path(&self, id: PoolId) -> String {
        let mut levels = Vec::new();
        let mut at = self.pools.get(&id);
        while let Some(pool) = at {
            levels.push(pool.name.as_str());
            at = pool.parent.and_then(|p| self.pools.get(&p));
            if levels.len() > crate::limits::POOL_DEPTH_MAX {
                break;
            }
        }
        levels.reverse();
        format!("\\{}", levels.join("\\"))
    }

    /// The pool named `name` under `parent` (case-insensitive in all of
    /// Unicode's simple case mappings, as Windows names are).
    pub fn pool_child(&self, parent: Option<PoolId>, name: &str) -> Option<&Pool> {
        let wanted = name.to_lowercase();
        self.pools.values().find(|p| p.parent == parent && p.name.to_lowercase() == wanted)
    }

    /// The pool at a full path (`\A\B`, the leading `\` optional).
    pub fn pool_at(&self, path: &str) -> Option<&Pool> {
        let mut parent: Option<&Pool> = None;
        for level in path.trim_start_matches('\\').split('\\') {
            parent = Some(self.pool_child(parent.map(|p| p.id), level)?);
        }
        parent
    }

    /// The open session of a principal, if any (the most recently opened).
    pub fn open_session_of(&self, principal: &str) -> Option<SessionId> {
        self.sessions.values().filter(|s| s.open && s.principal == principal).map(|s| s.id).next_back()
    }

    /// The rights `principal` holds on `library`.
    pub fn rights(&self, library: &Library, principal: &str) -> AccessMask {
        library.access.get(principal).copied().unwrap_or_default()
    }

    /// Checks every invariant of the projection; the error names the first
    /// one broken. Run after every `apply` in tests and the simulation.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_locations()?;
        self.check_reservations()?;
        self.check_holders()?;
        self.check_queues()?;
        self.check_media_services()?;
        self.check_operator_requests()?;
        self.check_doors()?;
        self.check_awaited_media()?;
        self.check_cleaners()?;
        self.check_detections()?;
        self.check_object_data()
    }

    /// A change detection belongs to an open session and watches
    /// stand-alone libraries that exist.
    fn check_detections(&self) -> Result<(), String> {
        for (id, (session, libraries)) in &self.change_detections {
            if !self.sessions.get(session).is_some_and(|s| s.open) {
                return Err(format!("change detection {id} outlived its session"));
            }
            if libraries.iter().any(|l| self.libraries.get(l).is_none_or(|l| l.kind != LibraryKind::Standalone)) {
                return Err(format!("change detection {id} watches a library that is no stand-alone one"));
            }
        }
        Ok(())
    }

    /// A library's cleaner is a cleaner of that library whose home is its
    /// cleaner slot; no data cartridge calls the cleaner slot home; a
    /// cleaning is wanted only of a drive that is not being cleaned.
    fn check_cleaners(&self) -> Result<(), String> {
        for lib in self.libraries.values() {
            if let Some(slot) = lib.cleaner_slot {
                let s = self.slots.get(&slot).ok_or(format!("library {} has an unknown cleaner slot", lib.name))?;
                if s.library != lib.id {
                    return Err(format!("cleaner slot {} of library {} is another library's", s.name, lib.name));
                }
                if s.home_of.and_then(|m| self.media.get(&m)).is_some_and(|m| !m.is_cleaner()) {
                    return Err(format!("cleaner slot {} is a data cartridge's home", s.name));
                }
            }
            if let Some(cleaner) = lib.cleaner {
                let m = self.media.get(&cleaner).ok_or(format!("library {} has an unknown cleaner", lib.name))?;
                if !m.is_cleaner() || m.library != lib.id || m.home_slot.is_none() || m.home_slot != lib.cleaner_slot {
                    return Err(format!(
                        "cleaner {} of library {} is not at home in its cleaner slot",
                        m.barcode, lib.name
                    ));
                }
            } else if lib.cleaner_uses_remaining != 0 {
                return Err(format!("library {} counts uses of a cleaner it does not have", lib.name));
            }
        }
        for d in self.drives.values() {
            let cleaning = d.medium.and_then(|m| self.media.get(&m)).is_some_and(|m| m.is_cleaner());
            if d.state == DriveState::BeingCleaned && !cleaning {
                return Err(format!("drive {} is being cleaned without a cleaner", d.name));
            }
        }
        Ok(())
    }

    /// An open door: the robot carries nothing and no request is in
    /// process. Slots wait for an inventory only while one is due.
    fn check_awaited_media(&self) -> Result<(), String> {
        for (request, operator_request) in &self.awaiting_media {
            let r = self.requests.get(request).ok_or(format!("an unknown mount {request} awaits a medium"))?;
            if r.state != RequestState::Waiting || r.kind != RequestKind::Mount {
                return Err(format!("request {request} awaits its medium but is a {:?} {:?}", r.state, r.kind));
            }
            if !self.operator_requests.contains_key(operator_request) {
                return Err(format!("mount {request} awaits its medium by an unknown operator request"));
            }
            let mut others =
                self.awaiting_media.keys().filter(|x| self.requests.get(x).is_some_and(|x| x.media == r.media));
            if others.nth(1).is_some() {
                return Err(format!("two mounts await medium {}", r.media));
            }
        }
        Ok(())
    }

    fn check_doors(&self) -> Result<(), String> {
        for lib in self.libraries.values() {
            if lib.door_open()
                && (lib.robot.is_some()
                    || lib
                        .active_requests
                        .iter()
                        .any(|r| self.requests.get(r).is_some_and(|r| r.state == RequestState::InProcess)))
            {
                return Err(format!("the door of library {} is open while the robot works", lib.name));
            }
            if lib.door.is_none() && lib.inventory_due {
                return Err(format!("library {} has no door but waits for the inventory after one", lib.name));
            }
            let waiting =
                lib.slots.iter().filter_map(|s| self.slots.get(s)).any(|s| s.state == SlotState::NeedsInventory);
            if waiting && !lib.inventory_due {
                return Err(format!("library {} has slots that need an inventory none is due for", lib.name));
            }
        }
        Ok(())
    }

    /// Attributes and descriptions belong to objects that exist, within
    /// their limits (an empty attribute is removed, not kept).
    fn check_object_data(&self) -> Result<(), String> {
        use crate::object_management::{governor, ATTRIBUTE_LEN_MAX};
        for (object, attributes) in &self.attributes {
            governor(self, *object).map_err(|e| format!("attributes of an object that is gone: {e}"))?;
            if attributes.is_empty() || attributes.values().any(|v| v.is_empty() || v.len() > ATTRIBUTE_LEN_MAX) {
                return Err(format!("object {object:?} keeps an empty or oversized attribute list"));
            }
        }
        for object in self.descriptions.keys() {
            governor(self, *object).map_err(|e| format!("a description of an object that is gone: {e}"))?;
        }
        for (object, name) in &self.object_names {
            governor(self, *object).map_err(|e| format!("a name of an object that is gone: {e}"))?;
            if name.is_empty()
                || !matches!(object, ObjectRef::Media(_) | ObjectRef::Side(_) | ObjectRef::LogicalMedia(_))
            {
                return Err(format!("object {object:?} keeps the name {name:?}"));
            }
        }
        Ok(())
    }

    /// An open operator request was raised by an open session, about
    /// objects that exist; a closed one says when it closed.
    fn check_operator_requests(&self) -> Result<(), String> {
        use crate::operator::OperatorRequestKind;
        for r in self.operator_requests.values() {
            if r.state.is_terminal() != r.closed_ms.is_some() {
                return Err(format!("operator request {} is {:?} with closing time {:?}", r.id, r.state, r.closed_ms));
            }
            if r.state.is_terminal() {
                continue;
            }
            if r.session.is_nil() {
                let door_of = self.libraries.values().any(|l| {
                    l.door.as_ref().is_some_and(|d| d.state == DoorState::Open && d.close_request == Some(r.id))
                });
                let cleaning_of = self
                    .drives
                    .values()
                    .any(|d| d.cleaning_wanted.as_ref().is_some_and(|w| w.operator_request == Some(r.id)));
                if !door_of && !cleaning_of {
                    return Err(format!(
                        "open operator request {} raised by rsm asks for no open door and no drive's cleaning",
                        r.id
                    ));
                }
            } else if !self.sessions.get(&r.session).is_some_and(|s| s.open) {
                return Err(format!("open operator request {} was raised by a session no longer open", r.id));
            }
            match r.kind {
                OperatorRequestKind::NewMedia { pool } if !self.pools.contains_key(&pool) => {
                    return Err(format!("open operator request {} asks media for unknown pool {pool}", r.id))
                }
                // The other kinds' objects may go while the request is open:
                // the operator is told what was asked, as it was asked.
                _ => {}
            }
        }
        Ok(())
    }

    /// Media services (spec §7): every medium is in one pool that holds
    /// media of its type, with as many sides as its type has, each indexed;
    /// a logical medium exists exactly while its side is allocated or
    /// complete, bound to that one side; pools nest without cycles, and a
    /// medium a session holds mounted is of a type its drive reads.
    fn check_media_services(&self) -> Result<(), String> {
        for m in self.media.values() {
            let kind = crate::media_services::media_type(m.media_type)
                .ok_or(format!("medium {} has unknown media type {}", m.barcode, m.media_type))?;
            let pool = self.pools.get(&m.pool).ok_or(format!("medium {} is in unknown pool {}", m.barcode, m.pool))?;
            if pool.media_type != Some(m.media_type) {
                return Err(format!(
                    "medium {} is in pool {} of another media type",
                    m.barcode,
                    self.pool_path(pool.id)
                ));
            }
            if m.is_cleaner() {
                // A cleaner is its library's until it leaves through a port.
                let owner = self.libraries.get(&m.library).is_some_and(|l| l.cleaner == Some(m.id));
                if !owner && !matches!(m.location, Location::Port(_)) {
                    return Err(format!("cleaner {} is no library's cleaner", m.barcode));
                }
                continue;
            }
            if m.sides.len() != usize::from(kind.sides) {
                return Err(format!("medium {} has {} sides, its type {}", m.barcode, m.sides.len(), kind.sides));
            }
            for (n, side) in m.sides.iter().enumerate() {
                if usize::from(side.number) != n || self.sides.get(&m.side_id(side.number)) != Some(&m.id) {
                    return Err(format!("side {n} of medium {} is not indexed", m.barcode));
                }
                match (side.state.is_allocated(), side.lmid) {
                    (true, Some(lmid)) if self.lmids.get(&lmid) == Some(&m.side_id(side.number)) => {}
                    (false, None) => {}
                    _ => return Err(format!("side {n} of medium {} and its logical medium disagree", m.barcode)),
                }
            }
            // Mounted by a session (a reading may find anything in a drive).
            let mounted = match m.location {
                Location::Drive(d) => self.drives.get(&d).filter(|d| d.holder.is_some()),
                _ => None,
            };
            if let Some(drive) = mounted {
                let reader = crate::media_services::media_type(drive.media_type);
                if !reader.is_some_and(|r| kind.readable_by(r)) {
                    return Err(format!(
                        "medium {} ({}) is in drive {}, which cannot read it",
                        m.barcode, kind.name, drive.name
                    ));
                }
            }
        }
        if self.barcodes.len() != self.media.len()
            || self.media.values().any(|m| self.barcodes.get(&m.barcode) != Some(&m.id))
        {
            return Err("a bar code names no medium, or two media share one".into());
        }
        if self.sides.len() != self.media.values().map(|m| m.sides.len()).sum::<usize>() {
            return Err("the side index holds sides of no medium".into());
        }
        let mut derived: BTreeMap<PoolId, BTreeSet<AvailableSide>> = BTreeMap::new();
        for m in self.media.values() {
            for x in m.sides.iter().filter(|x| x.state == SideState::Available) {
                derived.entry(m.pool).or_default().insert((x.number, x.allocate_count, m.sequence, m.id));
            }
        }
        let indexed: BTreeMap<&PoolId, &BTreeSet<AvailableSide>> =
            self.available.iter().filter(|(_, set)| !set.is_empty()).collect();
        if indexed != derived.iter().collect::<BTreeMap<_, _>>() {
            return Err("the index of available sides disagrees with the media".into());
        }
        for (lmid, side) in &self.lmids {
            if self.side(*side).and_then(|(_, s)| s.lmid) != Some(*lmid) {
                return Err(format!("logical medium {lmid} is bound to a side that does not name it"));
            }
        }
        for pool in self.pools.values() {
            let mut at = pool.parent;
            let mut depth = 0;
            while let Some(p) = at {
                depth += 1;
                if depth > crate::limits::POOL_DEPTH_MAX + 1 {
                    return Err(format!("pool {} is nested in a cycle", pool.name));
                }
                at = self.pools.get(&p).ok_or(format!("pool {} is in unknown pool {p}", pool.name))?.parent;
            }
        }
        Ok(())
    }

    /// A cartridge is in exactly one place, and every place agrees.
    fn check_locations(&self) -> Result<(), String> {
        let mut seen: BTreeMap<MediaId, u32> = BTreeMap::new();
        for slot in self.slots.values() {
            if let Some(m) = slot.content {
                *seen.entry(m).or_default() += 1;
                let medium = self.media.get(&m).ok_or(format!("slot {} holds unknown medium {m}", slot.name))?;
                if medium.location != Location::Slot(slot.id) {
                    return Err(format!(
                        "slot {} holds {} whose location is {:?}",
                        slot.name, medium.barcode, medium.location
                    ));
                }
                if !matches!(slot.state, SlotState::Full | SlotState::NeedsInventory) {
                    return Err(format!("slot {} holds a medium but is {:?}", slot.name, slot.state));
                }
            } else if slot.state == SlotState::Full {
                return Err(format!("slot {} is FULL with nothing in it", slot.name));
            }
        }
        for drive in self.drives.values() {
            if let Some(m) = drive.medium {
                *seen.entry(m).or_default() += 1;
                let medium = self.media.get(&m).ok_or(format!("drive {} holds unknown medium {m}", drive.name))?;
                if medium.location != Location::Drive(drive.id) {
                    return Err(format!(
                        "drive {} holds {} whose location is {:?}",
                        drive.name, medium.barcode, medium.location
                    ));
                }
                let cleaning = drive.state == DriveState::BeingCleaned && medium.is_cleaner();
                if !drive.state.holds_data_medium() && !cleaning {
                    return Err(format!("drive {} holds a medium but is {:?}", drive.name, drive.state));
                }
            } else if drive.state != DriveState::Dismounted {
                return Err(format!("drive {} is {:?} with nothing in it", drive.name, drive.state));
            }
        }
        for port in self.ports.values() {
            if let Some(m) = port.content {
                *seen.entry(m).or_default() += 1;
                let medium = self.media.get(&m).ok_or(format!("port {} holds unknown medium", port.name))?;
                if medium.location != Location::Port(port.id) {
                    return Err(format!(
                        "port {} holds {} located at {:?}",
                        port.name, medium.barcode, medium.location
                    ));
                }
            }
        }
        for medium in self.media.values() {
            let places = seen.get(&medium.id).copied().unwrap_or(0);
            let expected = u32::from(medium.location != Location::Offline);
            if places != expected {
                return Err(format!(
                    "medium {} is in {places} places (location {:?})",
                    medium.barcode, medium.location
                ));
            }
            if self.barcodes.get(&medium.barcode) != Some(&medium.id) {
                return Err(format!("bar code index lost {}", medium.barcode));
            }
        }
        Ok(())
    }

    /// No drive or slot is promised to two requests, and every promise is held by a live request.
    fn check_reservations(&self) -> Result<(), String> {
        let mut drives_promised = BTreeSet::new();
        let mut slots_promised = BTreeSet::new();
        let mut media_promised = BTreeSet::new();
        let mut ports_promised = BTreeSet::new();
        for r in self.requests.values().filter(|r| !r.state.is_terminal()) {
            if r.kind.uses_port() != (r.drive.is_none() && r.port.is_some()) {
                return Err(format!("request {} ({:?}) names drive {:?} and port {:?}", r.id, r.kind, r.drive, r.port));
            }
            if let Some(p) = r.port {
                let port = self.ports.get(&p).ok_or("request names unknown port")?;
                if port.reserved_by != Some(r.id) || !ports_promised.insert(p) {
                    return Err(format!("request {} lost its port {}", r.id, port.name));
                }
            }
            let drive = match r.drive {
                Some(d) => Some(self.drives.get(&d).ok_or("request names unknown drive")?),
                None => None,
            };
            let successor = drive.is_some_and(|d| d.next_reserved_by == Some(r.id));
            if let (true, Some(drive)) = (successor, drive) {
                if r.kind != RequestKind::Mount || drive.reserved_by.is_none() {
                    return Err(format!(
                        "drive {} has a successor that is not a mount waiting for a dismount",
                        drive.name
                    ));
                }
            }
            if let (false, Some(drive)) = (successor, drive) {
                if !drives_promised.insert(drive.id) {
                    return Err(format!("drive {} promised to two requests", drive.name));
                }
            }
            // A mount awaiting its offline medium holds no promise of it (an
            // inject brings it back meanwhile).
            if !self.awaiting_media.contains_key(&r.id) && !media_promised.insert(r.media) {
                return Err(format!("medium {} promised to two requests", r.media));
            }
            if let Some(s) = r.slot {
                if !slots_promised.insert(s) {
                    return Err(format!("slot {s} promised to two requests"));
                }
                let slot = self.slots.get(&s).ok_or("request names unknown slot")?;
                if slot.home_of != Some(r.media) {
                    return Err(format!("request {} uses slot {} which is not its medium's home", r.id, slot.name));
                }
            }
            if let Some(drive) = drive.filter(|d| d.reserved_by != Some(r.id) && !successor) {
                return Err(format!("request {} lost its drive {}", r.id, drive.name));
            }
            let medium = self.media.get(&r.media).ok_or("request names unknown medium")?;
            if self.awaiting_media.contains_key(&r.id) {
                // Its medium is not promised to it until it is back in a slot.
                if r.state != RequestState::Waiting || r.slot.is_some() || medium.pending_request == Some(r.id) {
                    return Err(format!("mount {} awaits {} but holds it or more", r.id, medium.barcode));
                }
                continue;
            }
            if medium.pending_request != Some(r.id) {
                return Err(format!("request {} lost its medium {}", r.id, medium.barcode));
            }
        }
        for drive in self.drives.values() {
            if drive.next_reserved_by.is_some() && drive.reserved_by.is_none() {
                return Err(format!("drive {} has a successor but no current promise", drive.name));
            }
            if let Some(r) = drive.reserved_by {
                if !drives_promised.contains(&drive.id) || self.requests.get(&r).and_then(|q| q.drive) != Some(drive.id)
                {
                    return Err(format!("drive {} reserved by a request that does not hold it", drive.name));
                }
            }
        }
        for port in self.ports.values() {
            if let Some(r) = port.reserved_by {
                if !ports_promised.contains(&port.id) {
                    return Err(format!("port {} reserved by request {r} that does not hold it", port.name));
                }
            }
        }
        for medium in self.media.values() {
            if let Some(r) = medium.pending_request {
                if self.requests.get(&r).map(|q| (q.media, q.state.is_terminal())) != Some((medium.id, false)) {
                    return Err(format!("medium {} pending on a finished or foreign request", medium.barcode));
                }
            }
            if let Some(h) = medium.home_slot {
                if self.slots.get(&h).and_then(|s| s.home_of) != Some(medium.id) {
                    return Err(format!("medium {} home slot does not know it", medium.barcode));
                }
            }
        }
        for slot in self.slots.values() {
            if let Some(m) = slot.home_of {
                if self.media.get(&m).and_then(|x| x.home_slot) != Some(slot.id) {
                    return Err(format!("slot {} is home of a medium that has another home", slot.name));
                }
            }
            if let Some(c) = slot.content {
                if slot.home_of != Some(c) {
                    return Err(format!("slot {} holds a medium it is not home of", slot.name));
                }
            }
        }
        Ok(())
    }

    /// A drive in use holds exactly its mounted cartridge, for an open session.
    fn check_holders(&self) -> Result<(), String> {
        for drive in self.drives.values() {
            if let Some(h) = drive.holder {
                let medium = drive.medium.ok_or(format!("drive {} held but empty", drive.name))?;
                if drive.state != DriveState::Loaded {
                    return Err(format!("drive {} held while {:?}", drive.name, drive.state));
                }
                let m = &self.media[&medium];
                if m.state != MediaState::Loaded || m.pending_request.is_some() {
                    return Err(format!("held medium {} is {:?}", m.barcode, m.state));
                }
                if !self.sessions.get(&h).is_some_and(|s| s.open) {
                    return Err(format!("drive {} held by a closed session", drive.name));
                }
            }
        }
        Ok(())
    }

    /// Each library's queue is exactly its unfinished requests, in acceptance order.
    fn check_queues(&self) -> Result<(), String> {
        let terminal = self.requests.values().filter(|r| r.state.is_terminal()).count();
        if terminal != self.finished.len()
            || self.finished.iter().any(|r| !self.requests.get(r).is_some_and(|q| q.state.is_terminal()))
        {
            return Err(format!("{terminal} finished requests but {} in the purge order", self.finished.len()));
        }
        for lib in self.libraries.values() {
            let expected: Vec<RequestId> = {
                let mut v: Vec<&LibraryRequest> =
                    self.requests.values().filter(|r| r.library == lib.id && !r.state.is_terminal()).collect();
                v.sort_by_key(|r| r.order);
                v.into_iter().map(|r| r.id).collect()
            };
            if expected != lib.active_requests {
                return Err(format!("queue of {} does not match its unfinished requests", lib.name));
            }
            let moving: Vec<RequestId> = lib
                .active_requests
                .iter()
                .filter(|r| self.requests[*r].phase.is_some_and(|p| p.uses_robot()))
                .copied()
                .collect();
            if moving.len() > 1 || lib.robot != moving.first().copied() {
                return Err(format!("library {} robot is {:?} but {:?} use it", lib.name, lib.robot, moving));
            }
            // The mount order numbers exactly the queued and waiting mounts, once each.
            let mut ordered: Vec<RequestId> = lib.mount_order.iter().map(|(r, _)| *r).collect();
            ordered.sort();
            let mut orderable: Vec<RequestId> = lib
                .active_requests
                .iter()
                .filter(|r| {
                    let r = &self.requests[*r];
                    r.kind == RequestKind::Mount && matches!(r.state, RequestState::Queued | RequestState::Waiting)
                })
                .copied()
                .collect();
            orderable.sort();
            if ordered != orderable {
                return Err(format!("the mount order of {} is not its queued and waiting mounts", lib.name));
            }
            for r in lib.active_requests.iter().map(|r| &self.requests[r]) {
                if (r.state == RequestState::InProcess) != r.phase.is_some() {
                    return Err(format!("request {} is {:?} in phase {:?}", r.id, r.state, r.phase));
                }
                // A waiting mount holds no drive: it is promised one only as one frees up.
                if r.state == RequestState::Waiting && (r.kind != RequestKind::Mount || r.drive.is_some()) {
                    return Err(format!("waiting request {} ({:?}) holds drive {:?}", r.id, r.kind, r.drive));
                }
            }
        }
        for request in self.deadlines.keys() {
            let live = self
                .requests
                .get(request)
                .is_some_and(|r| matches!(r.state, RequestState::Queued | RequestState::Waiting));
            if !live {
                return Err(format!("request {request} keeps a deadline but is not queued or waiting"));
            }
        }
        for (request, drive) in &self.waiting_drives {
            let waiting = self.requests.get(request).is_some_and(|r| r.state == RequestState::Waiting);
            if !waiting || !self.drives.contains_key(drive) {
                return Err(format!("request {request} waits for drive {drive} but is not waiting"));
            }
        }
        Ok(())
    }
}
