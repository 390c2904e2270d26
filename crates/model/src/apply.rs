//! `apply`: how each event changes the projection. Total and deterministic:
//! it trusts the log (every event was decided against the state it follows)
//! and neither validates nor skips.

use crate::command::Observed;
use crate::event::*;
use crate::ids::*;
use crate::limits;
use crate::objects::*;
use crate::state::State;

/// Applies one event to the projection.
pub fn apply(state: &mut State, event: &Event) {
    match event {
        Event::SessionOpened { session, principal, application } => {
            state.sessions.insert(
                *session,
                Session { id: *session, principal: principal.clone(), application: application.clone(), open: true },
            );
        }
        Event::SessionClosed { session } => {
            if let Some(s) = state.sessions.get_mut(session) {
                s.open = false;
            }
        }
        Event::LibraryCreated { topology, creator } => create_library(state, topology, creator),
        Event::LibraryAttached { topology, in_drives, device, creator } => {
            create_library(state, topology, creator);
            if let Some(lib) = state.libraries.get_mut(&topology.id) {
                lib.device = Some(device.clone());
            }
            for (media, drive) in in_drives {
                place_in_drive(state, *media, *drive);
            }
        }
        Event::AccessGranted { library, principal, rights } => {
            if let Some(lib) = state.libraries.get_mut(library) {
                let mask = lib.access.entry(principal.clone()).or_default();
                *mask = mask.with(*rights);
            }
        }
        Event::AccessRevoked { library, principal, rights } => {
            if let Some(lib) = state.libraries.get_mut(library) {
                if let Some(mask) = lib.access.get_mut(principal) {
                    *mask = mask.without(*rights);
                    if mask.0 == 0 {
                        lib.access.remove(principal);
                    }
                }
            }
        }
        Event::EnabledChanged { object, enabled } => match object {
            ObjectRef::Library(id) => state.libraries.get_mut(id).into_iter().for_each(|l| l.enabled = *enabled),
            ObjectRef::Drive(id) => state.drives.get_mut(id).into_iter().for_each(|d| d.enabled = *enabled),
            ObjectRef::Media(id) => state.media.get_mut(id).into_iter().for_each(|m| m.enabled = *enabled),
            ObjectRef::Slot(_) | ObjectRef::Port(_) => {}
        },
        Event::MountRequested { request }
        | Event::DismountRequested { request }
        | Event::EjectRequested { request } => queue_request(state, request),
        Event::InjectRequested { request, barcode, new } => {
            if *new {
                state.barcodes.insert(barcode.clone(), request.media);
                state.media.insert(
                    request.media,
                    Medium {
                        id: request.media,
                        barcode: barcode.clone(),
                        library: request.library,
                        home_slot: None,
                        location: Location::Offline,
                        state: MediaState::Idle,
                        enabled: true,
                        pending_request: None,
                    },
                );
            }
            // A cartridge back from the shelf may come from another library.
            media_mut(state, request.media).library = request.library;
            if let Some(port) = request.port {
                relocate(state, request.media, Location::Port(port));
            }
            queue_request(state, request);
        }
        Event::EjectCompleted { request, at_ms } => {
            let r = finish(state, *request, RequestState::Passed, *at_ms);
            let port = r.port.expect("an eject request always names its port");
            relocate(state, r.media, Location::Port(port));
            media_mut(state, r.media).state = MediaState::Idle;
        }
        Event::InjectCompleted { request, at_ms } => {
            let r = finish(state, *request, RequestState::Passed, *at_ms);
            let slot = r.slot.expect("an inject request always names its destination slot");
            relocate(state, r.media, Location::Slot(slot));
            media_mut(state, r.media).state = MediaState::Idle;
        }
        Event::CartridgeTakenFromPort { media } => {
            relocate(state, *media, Location::Offline);
            release_home(state, *media);
            media_mut(state, *media).state = MediaState::Idle;
        }
        Event::MediaMovedOffline { media } => {
            relocate(state, *media, Location::Offline);
            release_home(state, *media);
            let m = media_mut(state, *media);
            m.state = MediaState::Idle;
            m.library = LibraryId::OFFLINE;
            m.pending_request = None;
        }
        Event::MountSatisfiedInPlace { request } => {
            record_finished(state, request);
            let drive = request
                .drive
                .and_then(|d| state.drives.get_mut(&d))
                .expect("a mount in place names a drive of the projection");
            drive.holder = request.session;
            drive.state = DriveState::Loaded;
            drive.dismount_deadline_ms = None;
            drive.mount_count += 1;
            media_mut(state, request.media).state = MediaState::Loaded;
        }
        Event::DriveMadeDismountable { drive, deadline_ms, audit } => {
            if let Some(r) = audit {
                record_finished(state, r);
            }
            let d = state.drives.get_mut(drive).expect("a dismountable drive is in the projection");
            d.holder = None;
            d.state = DriveState::Dismountable;
            d.dismount_deadline_ms = *deadline_ms;
            if let (Some(m), Some(_)) = (d.medium, audit) {
                media_mut(state, m).state = MediaState::Unloaded;
            }
        }
        Event::HoldReleased { drive } => {
            if let Some(d) = state.drives.get_mut(drive) {
                d.holder = None;
            }
        }
        Event::RequestStarted { request, .. } => {
            let r = state.requests.get_mut(request).expect("a started request is in the projection");
            r.state = RequestState::InProcess;
            let (library, id) = (r.library, r.id);
            match r.kind {
                RequestKind::Mount => {
                    r.phase = Some(RequestPhase::Moving);
                    if let Some(lib) = state.libraries.get_mut(&library) {
                        lib.robot = Some(id);
                    }
                }
                RequestKind::Dismount => r.phase = Some(RequestPhase::Unloading),
                RequestKind::Eject | RequestKind::Inject => {
                    r.phase = Some(RequestPhase::Moving);
                    if let Some(lib) = state.libraries.get_mut(&library) {
                        lib.robot = Some(id);
                    }
                }
            }
        }
        Event::MediumMoved { request, .. } => {
            let r = state.requests.get_mut(request).expect("a moved request is in the projection");
            r.phase = Some(RequestPhase::Loading);
            let r = r.clone();
            release_robot(state, &r);
            let drive = r.drive.expect("a mount names its drive");
            relocate(state, r.media, Location::Drive(drive));
            media_mut(state, r.media).state = MediaState::Mounted;
        }
        Event::DriveUnloaded { request, .. } => {
            let r = state.requests.get_mut(request).expect("an unloaded request is in the projection");
            r.phase = Some(RequestPhase::AwaitingRobot);
            let (drive, media) = (r.drive, r.media);
            drive.and_then(|d| state.drives.get_mut(&d)).expect("a dismount's drive is in the projection").state =
                DriveState::Unloaded;
            media_mut(state, media).state = MediaState::Unloaded;
        }
        Event::RobotAssigned { request, .. } => {
            let r = state.requests.get_mut(request).expect("an assigned request is in the projection");
            r.phase = Some(RequestPhase::Stowing);
            let (library, id) = (r.library, r.id);
            if let Some(lib) = state.libraries.get_mut(&library) {
                lib.robot = Some(id);
            }
        }
        Event::MountCompleted { request, at_ms } => {
            let r = finish(state, *request, RequestState::Passed, *at_ms);
            let drive = r.drive.expect("a mount names its drive");
            relocate(state, r.media, Location::Drive(drive));
            let drive = state.drives.get_mut(&drive).expect("a request's drive is in the projection");
            drive.state = DriveState::Loaded;
            drive.holder = r.session;
            drive.mount_count += 1;
            media_mut(state, r.media).state = MediaState::Loaded;
        }
        Event::DismountCompleted { request, at_ms } => {
            let r = finish(state, *request, RequestState::Passed, *at_ms);
            let slot = r.slot.expect("a dismount request always names its destination slot");
            #[cfg(feature = "planted-bug")]
            {
                // Planted bug: the slot is filled but the drive is not emptied.
                let s = state.slots.get_mut(&slot).expect("slot");
                s.content = Some(r.media);
                s.state = SlotState::Full;
                media_mut(state, r.media).state = MediaState::Idle;
                return;
            }
            #[allow(unreachable_code)]
            {
                relocate(state, r.media, Location::Slot(slot));
                media_mut(state, r.media).state = MediaState::Idle;
            }
        }
        Event::RequestFailed { request, error, sense, observed, at_ms } => {
            let r = finish(state, *request, RequestState::Failed, *at_ms);
            if let Some(q) = state.requests.get_mut(request) {
                q.error = Some(*error);
                q.sense = *sense;
            }
            let current = state.media[&r.media].location;
            let place = match observed {
                Observed::Slot(s) => Location::Slot(*s),
                Observed::Drive(d) => Location::Drive(*d),
                Observed::Port(p) => Location::Port(*p),
                Observed::Missing => Location::Offline,
                Observed::Unknown => current,
            };
            relocate(state, r.media, place);
            if r.kind == RequestKind::Inject && matches!(place, Location::Port(_)) {
                // Never taken in: the slot promised as its home is free again.
                release_home(state, r.media);
            }
            settle_medium(state, r.media);
        }
        Event::RequestCancelled { request, at_ms } => {
            let r = finish(state, *request, RequestState::Cancelled, *at_ms);
            if let Some(q) = state.requests.get_mut(request) {
                q.error = Some(crate::error::ErrorCode::Cancelled.code());
            }
            settle_medium(state, r.media);
        }
        Event::MediaInserted { drive, media, barcode, new } => {
            if *new {
                let library = state.drives[drive].library;
                state.barcodes.insert(barcode.clone(), *media);
                state.media.insert(
                    *media,
                    Medium {
                        id: *media,
                        barcode: barcode.clone(),
                        library,
                        home_slot: None,
                        location: Location::Offline,
                        state: MediaState::Idle,
                        enabled: true,
                        pending_request: None,
                    },
                );
            }
            relocate(state, *media, Location::Drive(*drive));
            state.drives.get_mut(drive).expect("an insert names a drive of the projection").state = DriveState::Loaded;
            media_mut(state, *media).state = MediaState::Loaded;
        }
        Event::MediaRemoved { media, .. } => {
            relocate(state, *media, Location::Offline);
            media_mut(state, *media).state = MediaState::Idle;
        }
        Event::LibraryDeletionStarted { library } => {
            if let Some(lib) = state.libraries.get_mut(library) {
                lib.deleting = true;
            }
        }
        Event::LibraryDeleted { library } => delete_library(state, *library),
        Event::CartridgeAppeared { media, barcode, library, at, home } => {
            state.barcodes.insert(barcode.clone(), *media);
            state.media.insert(
                *media,
                Medium {
                    id: *media,
                    barcode: barcode.clone(),
                    library: *library,
                    home_slot: None,
                    location: Location::Offline,
                    state: MediaState::Idle,
                    enabled: true,
                    pending_request: None,
                },
            );
            if let Some(h) = home {
                take_home(state, *media, *h);
            }
            found_at(state, *media, *at);
        }
        Event::CartridgeVanished { media } => {
            relocate(state, *media, Location::Offline);
            media_mut(state, *media).state = MediaState::Idle;
        }
        Event::CartridgeMoved { media, to } => found_at(state, *media, *to),
        Event::UnlabeledCartridgeFound { library, address } | Event::ForeignCartridgeFound { library, address, .. } => {
            if let Some(port) = port_at(state, *library, *address) {
                port.stranger = true;
            }
        }
        Event::PortFoundEmpty { port } => {
            if let Some(p) = state.ports.get_mut(port) {
                p.stranger = false;
            }
        }
    }
}

/// Inventory placed a cartridge: in a slot (which becomes its home), in a
/// drive (loaded, held by nobody) or offline.
fn found_at(state: &mut State, media: MediaId, at: Location) {
    if let Location::Slot(s) = at {
        take_home(state, media, s);
    }
    relocate(state, media, at);
    match at {
        Location::Drive(d) => {
            media_mut(state, media).state = MediaState::Loaded;
            state.drives.get_mut(&d).expect("inventory names drives of the projection").state = DriveState::Loaded;
        }
        _ => media_mut(state, media).state = MediaState::Idle,
    }
}

/// Makes `slot` the medium's home; the slot's former owner, if another
/// medium, takes the medium's old home (or none).
fn take_home(state: &mut State, media: MediaId, slot: SlotId) {
    let old = state.media[&media].home_slot;
    if old == Some(slot) {
        return;
    }
    let owner = state.slots.get(&slot).and_then(|s| s.home_of);
    if let Some(o) = old.and_then(|s| state.slots.get_mut(&s)) {
        o.home_of = None;
    }
    if let Some(y) = owner.filter(|y| *y != media) {
        media_mut(state, y).home_slot = old;
        if let Some(o) = old.and_then(|s| state.slots.get_mut(&s)) {
            o.home_of = Some(y);
        }
    }
    state.slots.get_mut(&slot).expect("a home slot is in the projection").home_of = Some(media);
    media_mut(state, media).home_slot = Some(slot);
}

fn media_mut(state: &mut State, id: MediaId) -> &mut Medium {
    state.media.get_mut(&id).expect("events name only media of the projection")
}

fn create_library(state: &mut State, t: &LibraryTopology, creator: &str) {
    let lib = Library {
        id: t.id,
        name: t.name.clone(),
        kind: t.kind,
        enabled: true,
        operational: OperationalState::Ready,
        drives: t.drives.iter().map(|d| d.0).collect(),
        slots: t.slots.iter().map(|s| s.0).collect(),
        ports: t.ports.iter().map(|p| p.0).collect(),
        access: [(creator.to_string(), AccessMask::ALL)].into_iter().collect(),
        active_requests: Vec::new(),
        robot: None,
        defer_dismount_delay_s: t.defer_dismount_delay_s,
        deleting: false,
        device: None,
    };
    state.names.insert(t.name.clone(), ObjectRef::Library(t.id));
    state.libraries.insert(t.id, lib);
    for (id, name, address) in &t.drives {
        state.names.insert(name.clone(), ObjectRef::Drive(*id));
        state.drives.insert(
            *id,
            Drive {
                id: *id,
                name: name.clone(),
                library: t.id,
                element_address: *address,
                enabled: true,
                operational: OperationalState::Ready,
                state: DriveState::Dismounted,
                medium: None,
                holder: None,
                reserved_by: None,
                next_reserved_by: None,
                dismount_deadline_ms: None,
                mount_count: 0,
            },
        );
    }
    for (id, name, address) in &t.slots {
        state.names.insert(name.clone(), ObjectRef::Slot(*id));
        state.slots.insert(
            *id,
            Slot {
                id: *id,
                name: name.clone(),
                library: t.id,
                element_address: *address,
                state: SlotState::Empty,
                content: None,
                home_of: None,
            },
        );
    }
    for (id, name, address) in &t.ports {
        state.names.insert(name.clone(), ObjectRef::Port(*id));
        state.ports.insert(
            *id,
            Port {
                id: *id,
                name: name.clone(),
                library: t.id,
                element_address: *address,
                content: None,
                reserved_by: None,
                stranger: false,
            },
        );
    }
    for (id, barcode, home) in &t.media {
        state.barcodes.insert(barcode.clone(), *id);
        let location = match home {
            Some(slot) => {
                let s = state.slots.get_mut(slot).expect("a cartridge's home slot is created with it");
                s.content = Some(*id);
                s.home_of = Some(*id);
                s.state = SlotState::Full;
                Location::Slot(*slot)
            }
            None => Location::Offline,
        };
        state.media.insert(
            *id,
            Medium {
                id: *id,
                barcode: barcode.clone(),
                library: t.id,
                home_slot: *home,
                location,
                state: MediaState::Idle,
                enabled: true,
                pending_request: None,
            },
        );
    }
}

/// A cartridge found in a drive at attach: it leaves the home slot
/// `create_library` put it in (which stays reserved for it) and sits in the
/// drive, loaded and held by nobody.
fn place_in_drive(state: &mut State, media: MediaId, drive: DriveId) {
    let Some(m) = state.media.get_mut(&media) else { return };
    if let Location::Slot(slot) = m.location {
        if let Some(s) = state.slots.get_mut(&slot) {
            s.content = None;
            s.state = SlotState::Empty;
        }
    }
    m.location = Location::Drive(drive);
    m.state = MediaState::Loaded;
    if let Some(d) = state.drives.get_mut(&drive) {
        d.medium = Some(media);
        d.state = DriveState::Loaded;
    }
}

fn delete_library(state: &mut State, library: LibraryId) {
    let Some(lib) = state.libraries.remove(&library) else { return };
    state.names.remove(&lib.name);
    for d in &lib.drives {
        if let Some(d) = state.drives.remove(d) {
            state.names.remove(&d.name);
        }
    }
    for s in &lib.slots {
        if let Some(s) = state.slots.remove(s) {
            state.names.remove(&s.name);
        }
    }
    for p in &lib.ports {
        if let Some(p) = state.ports.remove(p) {
            state.names.remove(&p.name);
        }
    }
    // Its finished requests name elements that no longer exist: they leave
    // the views (the log keeps their history), as a purge would take them.
    state.finished.retain(|r| state.requests.get(r).is_none_or(|q| q.library != library));
    state.requests.retain(|_, q| q.library != library);
    let gone: Vec<MediaId> = state.media.values().filter(|m| m.library == library).map(|m| m.id).collect();
    for m in gone {
        if let Some(m) = state.media.remove(&m) {
            state.barcodes.remove(&m.barcode);
        }
    }
}

/// Puts a new unfinished request in its library's queue and takes what it promises.
fn queue_request(state: &mut State, request: &LibraryRequest) {
    let mut r = request.clone();
    r.order = state.next_order;
    state.next_order += 1;
    if let Some(lib) = state.libraries.get_mut(&r.library) {
        lib.active_requests.push(r.id);
    }
    if let Some(d) = r.drive {
        let drive = state.drives.get_mut(&d).expect("a request's drive is in the projection");
        if drive.reserved_by.is_some() {
            drive.next_reserved_by = Some(r.id);
        } else {
            drive.reserved_by = Some(r.id);
        }
        drive.dismount_deadline_ms = None;
    }
    if let Some(p) = r.port {
        state.ports.get_mut(&p).expect("a request's port is in the projection").reserved_by = Some(r.id);
    }
    let medium = media_mut(state, r.media);
    medium.pending_request = Some(r.id);
    medium.state = MediaState::InUse;
    if let Some(slot) = r.slot {
        rehome(state, r.media, slot);
    }
    state.requests.insert(r.id, r);
}

/// Records a request that was finished when accepted (audit only).
fn record_finished(state: &mut State, request: &LibraryRequest) {
    let mut r = request.clone();
    r.order = state.next_order;
    state.next_order += 1;
    let id = r.id;
    state.requests.insert(id, r);
    retire(state, id);
}

/// A finished request stays in the views until [`limits::FINISHED_REQUESTS_KEPT`]
/// newer ones have finished (spec §5.4's purge, by count: the log keeps the
/// whole history; the projection, its snapshots and start-up stay bounded).
fn retire(state: &mut State, id: RequestId) {
    state.finished.push_back(id);
    while state.finished.len() > limits::FINISHED_REQUESTS_KEPT {
        if let Some(old) = state.finished.pop_front() {
            state.requests.remove(&old);
        }
    }
}

/// The robot is free again once the request holding it moves on.
fn release_robot(state: &mut State, r: &LibraryRequest) {
    if let Some(lib) = state.libraries.get_mut(&r.library) {
        if lib.robot == Some(r.id) {
            lib.robot = None;
        }
    }
}

/// Ends a request: terminal state, out of the queue, promises released.
fn finish(state: &mut State, request: RequestId, to: RequestState, at_ms: u64) -> LibraryRequest {
    let r = state.requests.get_mut(&request).expect("a finished request is in the projection");
    r.state = to;
    r.phase = None;
    r.time_completed_ms = Some(at_ms);
    let r = r.clone();
    retire(state, request);
    release_robot(state, &r);
    if let Some(lib) = state.libraries.get_mut(&r.library) {
        lib.active_requests.retain(|q| *q != request);
    }
    if let Some(p) = r.port.and_then(|p| state.ports.get_mut(&p)) {
        if p.reserved_by == Some(request) {
            p.reserved_by = None;
        }
    }
    if let Some(d) = r.drive.and_then(|d| state.drives.get_mut(&d)) {
        if d.reserved_by == Some(request) {
            d.reserved_by = d.next_reserved_by.take();
        } else if d.next_reserved_by == Some(request) {
            d.next_reserved_by = None;
        }
    }
    if let Some(m) = state.media.get_mut(&r.media) {
        if m.pending_request == Some(request) {
            m.pending_request = None;
        }
    }
    r
}

/// After a failure or a cancellation: the medium's state follows where it is.
fn settle_medium(state: &mut State, media: MediaId) {
    let Some(m) = state.media.get_mut(&media) else { return };
    match m.location {
        Location::Drive(d) => {
            m.state = MediaState::Loaded;
            let drive = state.drives.get_mut(&d).expect("a medium's drive is in the projection");
            if drive.holder.is_none() {
                // Released and left in the drive: an operator or DismountDrive takes it out.
                drive.state = DriveState::Dismountable;
            }
        }
        _ => m.state = MediaState::Idle,
    }
}

/// The medium gives up its home slot (it left the library, or never got in).
fn release_home(state: &mut State, media: MediaId) {
    if let Some(slot) = state.media.get_mut(&media).and_then(|m| m.home_slot.take()) {
        if let Some(s) = state.slots.get_mut(&slot) {
            if s.home_of == Some(media) {
                s.home_of = None;
            }
        }
    }
}

/// Makes `slot` the medium's home slot.
fn rehome(state: &mut State, media: MediaId, slot: SlotId) {
    let old = state.media[&media].home_slot;
    if old == Some(slot) {
        return;
    }
    if let Some(old) = old.and_then(|s| state.slots.get_mut(&s)) {
        old.home_of = None;
    }
    if let Some(s) = state.slots.get_mut(&slot) {
        s.home_of = Some(media);
    }
    media_mut(state, media).home_slot = Some(slot);
}

/// Moves a medium: out of where it was, into `to`.
fn relocate(state: &mut State, media: MediaId, to: Location) {
    let from = state.media[&media].location;
    if from == to {
        return;
    }
    match from {
        Location::Slot(s) => {
            if let Some(slot) = state.slots.get_mut(&s) {
                slot.content = None;
                if slot.state == SlotState::Full {
                    slot.state = SlotState::Empty;
                }
            }
        }
        Location::Drive(d) => {
            if let Some(drive) = state.drives.get_mut(&d) {
                drive.medium = None;
                drive.state = DriveState::Dismounted;
                drive.holder = None;
                drive.dismount_deadline_ms = None;
            }
        }
        Location::Port(p) => {
            if let Some(port) = state.ports.get_mut(&p) {
                port.content = None;
            }
        }
        Location::Offline => {}
    }
    match to {
        Location::Slot(s) => {
            if state.slots.get(&s).is_some_and(|x| x.home_of.is_none()) {
                rehome(state, media, s);
            }
            let slot = state.slots.get_mut(&s).expect("a medium moves only to a slot of the projection");
            slot.content = Some(media);
            slot.state = SlotState::Full;
        }
        Location::Drive(d) => {
            let drive = state.drives.get_mut(&d).expect("a medium moves only to a drive of the projection");
            drive.medium = Some(media);
            if drive.state == DriveState::Dismounted {
                drive.state = DriveState::Mounted;
            }
        }
        Location::Port(p) => {
            let port = state.ports.get_mut(&p).expect("a medium moves only to a port of the projection");
            port.content = Some(media);
            port.stranger = false;
        }
        Location::Offline => {}
    }
    media_mut(state, media).location = to;
}

/// The port of `library` at element `address`, if that is one.
fn port_at(state: &mut State, library: LibraryId, address: u16) -> Option<&mut Port> {
    state.ports.values_mut().find(|p| p.library == library && p.element_address == address)
}
