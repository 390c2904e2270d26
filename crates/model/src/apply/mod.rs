//! `apply`: how each event changes the projection. Deterministic, and it
//! neither validates nor skips: every event was decided against the state it
//! follows. An event naming an object the projection does not have comes from
//! a damaged or foreign log; `apply` then answers [`ApplyError`] naming the
//! event and the object, never a panic. The projection may be partly changed
//! by then and must be dropped: replay stops there, a live engine stops
//! accepting commands (ARCHITECTURE.md, *Invariant (apply never panics)*).
//!
//! One file per NTMS function family, as in `decide/`; the look-ups and the
//! moves every family shares (placing a cartridge, its home slot) are here.

use crate::error::{ApplyError, MissingObject};
use crate::event::*;
use crate::ids::*;
use crate::media_services::*;
use crate::objects::*;
use crate::state::State;

mod classification;
mod cleaning;
mod door;
mod inventory;
mod libraries;
mod media_services;
mod mount_order;
mod mounts;
mod object_management;
mod operator_requests;
mod ports;
mod requests;
mod sessions;

/// What a family's handler returns: done, or the object it did not find.
type Applied = Result<(), MissingObject>;

/// Applies one event to the projection; on error the projection must be
/// dropped (see the module documentation).
pub fn apply(state: &mut State, event: &Event) -> Result<(), ApplyError> {
    apply_event(state, event).map_err(|missing| ApplyError { event: event.name(), missing })?;
    // What was attached to objects that left goes with them.
    let removes_objects = matches!(
        event,
        Event::LibraryDeleted { .. }
            | Event::MediaDeleted { .. }
            | Event::PoolDeleted { .. }
            | Event::MediaTypeRemoved { .. }
            | Event::SideDeallocated { .. }
            | Event::DriveDeleted { .. }
    );
    if removes_objects
        && !(state.attributes.is_empty() && state.descriptions.is_empty() && state.object_names.is_empty())
    {
        object_management::forget_departed(state);
    }
    Ok(())
}

fn apply_event(state: &mut State, event: &Event) -> Applied {
    match event {
        Event::SessionOpened { session, principal, application } => {
            sessions::opened(state, *session, principal, application)
        }
        Event::SessionClosed { session } => sessions::closed(state, *session),
        Event::LibraryCreated { topology, creator } => libraries::created(state, topology, creator),
        Event::LibraryAttached { topology, in_drives, device, creator } => {
            libraries::attached(state, topology, in_drives, device, creator)
        }
        Event::AccessGranted { library, principal, rights } => {
            libraries::access_granted(state, *library, principal, *rights)
        }
        Event::AccessRevoked { library, principal, rights } => {
            libraries::access_revoked(state, *library, principal, *rights)
        }
        Event::EnabledChanged { object, enabled } => libraries::enabled_changed(state, *object, *enabled),
        Event::LibraryDeletionStarted { library } => libraries::deletion_started(state, *library),
        Event::LibraryDeleted { library } => libraries::deleted(state, *library),
        Event::MountRequested { request }
        | Event::DismountRequested { request }
        | Event::EjectRequested { request } => requests::queued(state, request),
        Event::MountSatisfiedInPlace { request } => mounts::satisfied_in_place(state, request),
        Event::DriveMadeDismountable { drive, deadline_ms, audit } => {
            mounts::made_dismountable(state, *drive, *deadline_ms, audit.as_ref())
        }
        Event::HoldReleased { drive } | Event::HoldOverridden { drive, .. } => mounts::hold_released(state, *drive),
        Event::MediumMoved { request, .. } => mounts::medium_moved(state, *request),
        Event::DriveUnloaded { request, .. } => mounts::drive_unloaded(state, *request),
        Event::MountCompleted { request, at_ms } => mounts::mount_completed(state, *request, *at_ms),
        Event::DismountCompleted { request, at_ms } => mounts::dismount_completed(state, *request, *at_ms),
        Event::MediaInserted { drive, media, barcode, new } => {
            mounts::media_inserted(state, *drive, *media, barcode, *new)
        }
        Event::MediaRemoved { media, .. } => mounts::media_removed(state, *media),
        Event::InjectRequested { request, barcode, new } => ports::inject_requested(state, request, barcode, *new),
        Event::EjectCompleted { request, at_ms } => ports::eject_completed(state, *request, *at_ms),
        Event::InjectCompleted { request, at_ms } => ports::inject_completed(state, *request, *at_ms),
        Event::CartridgeTakenFromPort { media } => ports::taken_from_port(state, *media),
        Event::MediaMovedOffline { media } => libraries::media_moved_offline(state, *media),
        Event::RequestStarted { request, .. } => requests::started(state, *request),
        Event::RobotAssigned { request, .. } => requests::robot_assigned(state, *request),
        Event::RequestFailed { request, error, sense, observed, at_ms } => {
            requests::failed(state, *request, *error, *sense, *observed, *at_ms)
        }
        Event::RequestCancelled { request, at_ms } => requests::cancelled(state, *request, *at_ms),
        Event::RequestRequeued { request, .. } => requests::requeued(state, *request),
        Event::CartridgeAppeared { media, barcode, library, at, home } => {
            inventory::appeared(state, *media, barcode, *library, *at, *home)
        }
        Event::CartridgeVanished { media } => inventory::vanished(state, *media),
        Event::CartridgeMoved { media, to } => inventory::found_at(state, *media, *to),
        // Notes for the operator; at a port, the port is full of it.
        Event::UnlabeledCartridgeFound { library, address } | Event::ForeignCartridgeFound { library, address, .. } => {
            inventory::stranger_found(state, *library, *address)
        }
        Event::PortFoundEmpty { port } => inventory::port_found_empty(state, *port),
        Event::MediaTypeAdded { library, media_type } => media_services::media_type_added(state, *library, *media_type),
        Event::MediaTypeRemoved { library, media_type, pools_deleted } => {
            media_services::media_type_removed(state, *library, *media_type, *pools_deleted)
        }
        Event::PoolCreated { pool } => media_services::pool_created(state, pool),
        Event::PoolDeleted { pool } => media_services::pool_deleted(state, *pool),
        Event::PoolPolicyChanged { pool, from_scratch, to_scratch, max_allocates } => {
            media_services::pool_policy_changed(state, *pool, *from_scratch, *to_scratch, *max_allocates)
        }
        Event::MediumMovedToPool { media, pool, sides } => media_services::moved_to_pool(state, *media, *pool, *sides),
        Event::SideAllocated { media, side, lmid, pool, reserve_others } => {
            media_services::side_allocated(state, *media, *side, *lmid, *pool, *reserve_others)
        }
        Event::SideDeallocated { lmid, to, to_pool } => media_services::side_deallocated(state, *lmid, *to, *to_pool),
        Event::SideCompleted { lmid } => media_services::side_completed(state, *lmid),
        Event::SideDecommissioned { media, side } => media_services::side_decommissioned(state, *media, *side),
        Event::LogicalMediaSwapped { first, second } => media_services::logical_media_swapped(state, *first, *second),
        Event::MediaCreated { medium } => media_services::media_created(state, medium),
        Event::MediaDeleted { media } => {
            if self::medium(state, *media)?.is_cleaner() {
                // A cleaner leaves from wherever it is (others leave offline).
                relocate(state, *media, Location::Offline)?;
                release_home(state, *media)?;
                cleaning::gone(state, *media);
            }
            forget_medium(state, *media);
            Ok(())
        }
        Event::MediaTypeChanged { media, pool, media_type, sides } => {
            media_services::media_type_changed(state, *media, *pool, *media_type, *sides)
        }
        Event::LabelRequested { request } => classification::requested(state, request),
        Event::DriveAssigned { request, drive } => classification::drive_assigned(state, *request, *drive),
        Event::MediumLoaded { request, .. } => classification::medium_loaded(state, *request),
        Event::MediaClassified { media, class, request } => {
            classification::media_classified(state, *media, class, *request)
        }
        Event::FreeLabelWritten { request, omid } => classification::free_label_written(state, *request, omid),
        Event::LabelRequestCompleted { request, at_ms } => classification::completed(state, *request, *at_ms),
        Event::OmidUpdated { media, side, omid } => media_services::omid_updated(state, *media, *side, omid),
        Event::AttributeSet { object, name, value } => object_management::attribute_set(state, *object, name, value),
        Event::DescriptionChanged { object, description } => {
            object_management::description_changed(state, *object, description)
        }
        Event::ObjectAccessChanged { object, principal, rights } => {
            object_management::access_changed(state, *object, principal, *rights)
        }
        Event::OperatorRequestSubmitted { request } => operator_requests::submitted(state, request),
        Event::OperatorRequestClosed { request, state: to, reason, at_ms } => {
            operator_requests::closed(state, *request, *to, *reason, *at_ms)
        }
        Event::MediaRecognized { arrival, known, request } => {
            classification::media_recognized(state, *arrival, *known, *request)
        }
        Event::ObjectInformationChanged { object, field } => {
            object_management::information_changed(state, *object, field)
        }
        Event::MountWaiting { request, drive } => requests::waiting(state, request, *drive),
        Event::WaitingMountAssigned { request, drive } => requests::waiting_assigned(state, *request, *drive),
        Event::RequestOrderSet { request, position } => mount_order::move_to(state, *request, *position),
        Event::RequestsDeleted { requests: library, operator_requests: operator } => {
            requests::deleted(state, library, operator)
        }
        Event::RequestTimedOut { request, error, at_ms } => requests::timed_out(state, *request, *error, *at_ms),
        Event::LabelRequestSettled { request, at_ms } => requests::label_settled(state, *request, *at_ms),
        Event::DoorAccessQueued { library, inventory } => door::access_queued(state, *library, *inventory),
        Event::DoorUnlocked { library, inventory, at_ms } => door::unlocked(state, *library, *inventory, *at_ms),
        Event::DoorInventoryChosen { library, method } => door::inventory_chosen(state, *library, *method),
        Event::DoorClosed { library, .. } => door::closed(state, *library),
        Event::DoorLeftOpen { library, request } => door::left_open(state, *library, *request),
        Event::InventoryCompleted { library } => door::inventory_completed(state, *library),
        Event::MediaIdentified { request, .. } => {
            request_mut(state, *request)?.phase = Some(RequestPhase::Unloading);
            Ok(())
        }
        Event::InventoryStopped { requests, at_ms, .. } => {
            for r in requests {
                requests::stopped(state, *r, *at_ms)?;
            }
            Ok(())
        }
        Event::DrivePresence { drive, present } => {
            drive_mut(state, *drive)?.operational =
                if *present { OperationalState::Ready } else { OperationalState::NotPresent };
            Ok(())
        }
        Event::DriveDeleted { drive } => {
            let d = self::drive(state, *drive)?.clone();
            library_mut(state, d.library)?.drives.retain(|x| x != drive);
            state.names.remove(&d.name);
            state.waiting_drives.retain(|_, x| x != drive);
            state.drives.remove(drive);
            Ok(())
        }
        Event::MountAwaitsMedium { request, operator_request } => {
            requests::awaits_medium(state, *request, *operator_request)
        }
        Event::AwaitedMediumArrived { request } => requests::awaited_medium_arrived(state, *request),
        Event::MountRefusedByOperator { request, at_ms } => requests::refused_by_operator(state, *request, *at_ms),
        Event::RequestDeadlineSet { request, deadline_ms } => {
            request_mut(state, *request)?;
            state.deadlines.insert(*request, *deadline_ms);
            Ok(())
        }
        Event::CleanerSlotReserved { library, slot } => cleaning::slot_reserved(state, *library, *slot),
        Event::CleanerSlotReleased { library } => cleaning::slot_released(state, *library),
        Event::CleanerExpected { library, cleans } => cleaning::expected(state, *library, *cleans),
        Event::CleanerFound { library, media, barcode } => cleaning::found(state, *library, *media, barcode),
        Event::CleaningWanted { drive, submitter, at_ms } => cleaning::wanted(state, *drive, submitter, *at_ms),
        Event::CleanerAwaited { drive, operator_request } => {
            cleaning::cleaner_awaited(state, *drive, *operator_request)
        }
        Event::CleanQueued { request } => cleaning::clean_queued(state, request),
        Event::CleanerLoaded { request, .. } => cleaning::cleaner_loaded(state, *request),
        Event::DriveCleaned { request, at_ms, .. } => cleaning::drive_cleaned(state, *request, *at_ms),
        Event::CleanCompleted { request, at_ms } => cleaning::completed(state, *request, *at_ms),
        Event::CleaningRefused { drive, .. } => cleaning::refused(state, *drive),
        Event::StandaloneDriveCleaned { drive, at_ms, .. } => cleaning::standalone_cleaned(state, *drive, *at_ms),
        Event::StandaloneDiskEjected { request } => mounts::standalone_disk_ejected(state, request),
        Event::ChangeDetectionBegun { detection, session } => {
            self::session(state, *session)?;
            state.change_detections.insert(*detection, (*session, Default::default()));
            Ok(())
        }
        Event::ChangeDetectionWatches { detection, libraries } => {
            let watched =
                &mut state.change_detections.get_mut(detection).ok_or(MissingObject::Detection(*detection))?.1;
            watched.extend(libraries.iter().copied());
            Ok(())
        }
        // A reading follows, recorded as an inventory of each library.
        Event::ChangeDetectionPolled { .. } => Ok(()),
        Event::ChangeDetectionEnded { detection } => {
            state.change_detections.remove(detection).ok_or(MissingObject::Detection(*detection))?;
            Ok(())
        }
    }
}

// ---- look-ups: the object, or the MissingObject naming it -------------------

macro_rules! lookups {
    ($($get:ident, $get_mut:ident, $map:ident, $id:ty, $object:ty, $missing:ident;)*) => {$(
        #[allow(dead_code)]
        fn $get(state: &State, id: $id) -> Result<&$object, MissingObject> {
            state.$map.get(&id).ok_or(MissingObject::$missing(id))
        }

        #[allow(dead_code)]
        fn $get_mut(state: &mut State, id: $id) -> Result<&mut $object, MissingObject> {
            state.$map.get_mut(&id).ok_or(MissingObject::$missing(id))
        }
    )*};
}

lookups! {
    session, session_mut, sessions, SessionId, Session, Session;
    library, library_mut, libraries, LibraryId, Library, Library;
    drive, drive_mut, drives, DriveId, Drive, Drive;
    slot, slot_mut, slots, SlotId, Slot, Slot;
    port, port_mut, ports, PortId, Port, Port;
    medium, medium_mut, media, MediaId, Medium, Medium;
    request, request_mut, requests, RequestId, LibraryRequest, Request;
    pool, pool_mut, pools, PoolId, Pool, Pool;
    operator_request, operator_request_mut, operator_requests, OperatorRequestId, crate::operator::OperatorRequest, OperatorRequest;
}

/// A media type of the catalog.
fn catalog_type(id: MediaTypeId) -> Result<&'static MediaType, MissingObject> {
    crate::media_services::media_type(id).ok_or(MissingObject::MediaType(id))
}

/// Makes the system pools of a media type (and their folders) where missing.
fn ensure_system_pools(state: &mut State, media_type: MediaTypeId) -> Applied {
    for pool in SystemPools::all(catalog_type(media_type)?) {
        state.pools.entry(pool.id).or_insert(pool);
    }
    Ok(())
}

/// A cartridge arrives in `library`: a medium rsm knew keeps its pool and
/// sides (spec §7.2 rule 1) and joins the library; a new one is of the
/// library's media type, in its free pool.
fn arrive(state: &mut State, media: MediaId, barcode: &str, library: LibraryId, sides: SideState) -> Applied {
    if let Some(known) = state.media.get_mut(&media) {
        known.library = library;
        return Ok(());
    }
    let media_type = catalog_type(self::library(state, library)?.media_type)?;
    ensure_system_pools(state, media_type.id)?;
    let mut medium = Medium::new(media, barcode, library, media_type);
    for x in &mut medium.sides {
        x.state = sides;
    }
    state.media_sequence += 1;
    medium.sequence = state.media_sequence;
    for side in &medium.sides {
        state.sides.insert(medium.side_id(side.number), media);
    }
    state.barcodes.insert(barcode.to_string(), media);
    state.media.insert(media, medium);
    reindex(state, media);
    Ok(())
}

/// Takes a medium's available sides out of [`State::available`] (before
/// its sides or pool change).
fn unindex(state: &mut State, media: MediaId) {
    let Some(m) = state.media.get(&media) else { return };
    if let Some(set) = state.available.get_mut(&m.pool) {
        for x in m.sides.iter().filter(|x| x.state == SideState::Available) {
            set.remove(&(x.number, x.allocate_count, m.sequence, media));
        }
        if set.is_empty() {
            state.available.remove(&m.pool);
        }
    }
}

/// Puts a medium's available sides in [`State::available`] (after its
/// sides or pool changed).
fn reindex(state: &mut State, media: MediaId) {
    let Some(m) = state.media.get(&media) else { return };
    for x in m.sides.iter().filter(|x| x.state == SideState::Available) {
        state.available.entry(m.pool).or_default().insert((x.number, x.allocate_count, m.sequence, media));
    }
}

/// A medium leaves the catalog with its sides and logical media.
fn forget_medium(state: &mut State, media: MediaId) {
    unindex(state, media);
    if let Some(m) = state.media.remove(&media) {
        state.barcodes.remove(&m.barcode);
        for side in &m.sides {
            state.sides.remove(&m.side_id(side.number));
            if let Some(lmid) = side.lmid {
                state.lmids.remove(&lmid);
            }
        }
    }
}

/// The element a request's kind always names (`"drive"`, `"slot"`, `"port"`).
fn element<T>(value: Option<T>, request: RequestId, element: &'static str) -> Result<T, MissingObject> {
    value.ok_or(MissingObject::RequestElement { request, element })
}

// ---- moves shared by the families -------------------------------------------

/// Moves a medium: out of where it was, into `to`. A slot that is nobody's
/// home becomes the medium's.
fn relocate(state: &mut State, media: MediaId, to: Location) -> Applied {
    let from = medium(state, media)?.location;
    if from == to {
        return Ok(());
    }
    match from {
        Location::Slot(s) => {
            let slot = slot_mut(state, s)?;
            slot.content = None;
            if slot.state == SlotState::Full {
                slot.state = SlotState::Empty;
            }
        }
        Location::Drive(d) => {
            let drive = drive_mut(state, d)?;
            drive.medium = None;
            drive.state = DriveState::Dismounted;
            drive.holder = None;
            drive.dismount_deadline_ms = None;
        }
        Location::Port(p) => port_mut(state, p)?.content = None,
        Location::Offline => {}
    }
    match to {
        Location::Slot(s) => {
            if slot(state, s)?.home_of.is_none() {
                rehome(state, media, s)?;
            }
            let slot = slot_mut(state, s)?;
            slot.content = Some(media);
            slot.state = SlotState::Full;
        }
        Location::Drive(d) => {
            let drive = drive_mut(state, d)?;
            drive.medium = Some(media);
            if drive.state == DriveState::Dismounted {
                drive.state = DriveState::Mounted;
            }
        }
        Location::Port(p) => {
            let port = port_mut(state, p)?;
            port.content = Some(media);
            port.stranger = false;
        }
        Location::Offline => {}
    }
    medium_mut(state, media)?.location = to;
    Ok(())
}

/// Makes `slot` the medium's home slot (its old home is nobody's).
fn rehome(state: &mut State, media: MediaId, slot: SlotId) -> Applied {
    let old = medium(state, media)?.home_slot;
    if old == Some(slot) {
        return Ok(());
    }
    if let Some(old) = old {
        slot_mut(state, old)?.home_of = None;
    }
    slot_mut(state, slot)?.home_of = Some(media);
    medium_mut(state, media)?.home_slot = Some(slot);
    Ok(())
}

/// The medium gives up its home slot (it left the library, or never got in).
fn release_home(state: &mut State, media: MediaId) -> Applied {
    if let Some(home) = medium_mut(state, media)?.home_slot.take() {
        let s = slot_mut(state, home)?;
        if s.home_of == Some(media) {
            s.home_of = None;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_naming_an_unknown_object_is_an_error_naming_both() {
        let mut state = State::new();
        let request = RequestId(uuid::Uuid::from_u128(7));
        let e = apply(&mut state, &Event::RequestStarted { request, at_ms: 1 }).unwrap_err();
        assert_eq!(e, ApplyError { event: "RequestStarted", missing: MissingObject::Request(request) });
        assert_eq!(e.to_string(), format!("RequestStarted names unknown request {request}"));
        let media = MediaId(uuid::Uuid::from_u128(8));
        let e = apply(&mut state, &Event::CartridgeVanished { media }).unwrap_err();
        assert_eq!(e.missing, MissingObject::Medium(media));
    }
}
