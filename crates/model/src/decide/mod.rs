//! `decide`: the rules. A pure function of the projection, the policy and a
//! stamped command; it returns the events to append or the NTMS error, and
//! never changes anything itself.
//!
//! One file per NTMS function family: `sessions` (Session Management),
//! `libraries` (create, attach, delete; enable/disable and access rights),
//! `mounts` (mounts, dismounts, the operator at a stand-alone drive, expired
//! deferrals), `ports` (eject, inject), `inventory`, `requests` (the
//! library request life cycle the workers drive), `media_services` (media
//! types, pools, moves between pools) and `allocation` (the life of a side),
//! `operator_requests` (those the server raises for a caller). The look-ups and checks
//! the families share are here.
//!
//! Every command checks in the order of spec §2.3: handle, arguments, look-ups
//! (in argument order), access, enabled/present, state, capacity. Durable
//! recording (ERROR_DATABASE_FULL / ERROR_DATABASE_FAILURE) is the
//! sequencer's, after `decide`. Each command's function documents its own
//! checks, in order, with the code each yields.

use crate::command::*;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::limits;
use crate::objects::*;
use crate::operator::OperatorRequestState;
use crate::policy::Policy;
use crate::state::State;

mod allocation;
mod change_detection;
mod classification;
mod cleaning;
pub use cleaning::{CLEANER_START, CLEANER_STOP};
pub use ports::{EJECT_ASK_USER, EJECT_FORCE, EJECT_STOP};
mod door;
mod queue;
pub(crate) use classification::SERVER_PRINCIPAL;
pub(crate) use object_management::set_computer_field;
pub use queue::request_order;
mod inventory;
mod libraries;
mod media_services;
mod mounts;
mod object_management;
mod operator_requests;
mod ports;
mod requests;
mod sessions;

/// Decides what a stamped command does to the state.
pub fn decide(state: &State, policy: &Policy, cmd: &Stamped<Command>) -> Result<Vec<Event>, NtmsError> {
    let ctx = Ctx { state, policy, cmd, taken: Default::default() };
    match &cmd.command {
        Command::OpenSession { principal, application } => ctx.open_session(principal, application),
        Command::CloseSession { session } => ctx.close_session(*session),
        Command::CreateLibrary { session, spec } => ctx.create_library(*session, spec),
        Command::MountMedia { session, media, options } => ctx.mount_media(*session, *media, options),
        Command::MountMediaSet { session, media, drives, options } => {
            ctx.mount_media_set(*session, media, drives, options)
        }
        Command::DismountMediaSet { session, media, deferred } => ctx.dismount_media_set(*session, media, *deferred),
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
        Command::ReportFirstBlock { request, block } => ctx.report_first_block(*request, block.as_deref()),
        Command::FailRequest { request, error, sense, observed } => ctx.fail(*request, *error, *sense, *observed),
        Command::Reconcile { request, observed } => ctx.reconcile(*request, *observed),
        Command::Tick => Ok(ctx.tick()),
        Command::AttachLibrary { session, name, layout, device, classify } => {
            ctx.attach_library(*session, name, layout, device, *classify)
        }
        Command::RecordInventory { session, library, observed, method } => {
            ctx.inventory(*session, *library, observed, *method)
        }
        Command::InventoryLibrary { session, library, action } => ctx.inventory_library(*session, *library, *action),
        Command::AccessDoor { session, library, action } => ctx.access_door(*session, *library, *action),
        Command::CloseDoor { session, library } => ctx.close_door(*session, *library),
        Command::IdentifySlot { session, slot, option } => ctx.identify_slot(*session, *slot, *option),
        Command::DeleteDrive { session, drive } => ctx.delete_drive(*session, *drive),
        Command::EjectMedia { session, media } => ctx.eject_media(*session, *media),
        Command::InjectMedia { session, library, found } => ctx.inject_media(*session, *library, found),
        Command::AddMediaType { session, library, media_type } => ctx.add_media_type(*session, *library, *media_type),
        Command::DeleteMediaType { session, library, media_type } => {
            ctx.delete_media_type(*session, *library, *media_type)
        }
        Command::CreateMediaPool { session, path, media_type, action } => {
            ctx.create_media_pool(*session, path, *media_type, *action)
        }
        Command::DeleteMediaPool { session, pool } => ctx.delete_media_pool(*session, *pool),
        Command::SetPoolPolicy { session, pool, from_scratch, to_scratch, max_allocates } => {
            ctx.set_pool_policy(*session, *pool, *from_scratch, *to_scratch, *max_allocates)
        }
        Command::MoveToMediaPool { session, media, pool } => ctx.move_to_media_pool(*session, *media, *pool),
        Command::AllocateMedia { session, pool, side, options, wait } => {
            ctx.allocate_media(*session, *pool, *side, options, *wait)
        }
        Command::DeallocateMedia { session, lmid } => ctx.deallocate_media(*session, *lmid),
        Command::SetMediaComplete { session, lmid } => ctx.set_media_complete(*session, *lmid),
        Command::DecommissionMedia { session, side } => ctx.decommission_media(*session, *side),
        Command::SwapMedia { session, first, second } => ctx.swap_media(*session, *first, *second),
        Command::CreateMedia { session, barcode, pool, sides, labels, error_on_duplicate } => {
            ctx.create_media(*session, barcode, *pool, sides, labels, *error_on_duplicate)
        }
        Command::UpdateOmid { session, lmid, label } => ctx.update_omid(*session, *lmid, label),
        Command::SetAttribute { session, object, name, value } => ctx.set_attribute(*session, *object, name, value),
        Command::SetDescription { session, object, description } => ctx.set_description(*session, *object, description),
        Command::SetObjectInformation { session, object, field } => {
            ctx.set_object_information(*session, *object, field)
        }
        Command::CancelRequest { session, request } => ctx.cancel_request(*session, *request),
        Command::SubmitOperatorRequest { session, kind, message } => {
            ctx.submit_operator_request(*session, kind, message)
        }
        Command::SatisfyOperatorRequest { session, request } => {
            ctx.answer_operator_request(*session, *request, OperatorRequestState::Complete)
        }
        Command::CancelOperatorRequest { session, request } => {
            ctx.answer_operator_request(*session, *request, OperatorRequestState::Refused)
        }
        Command::SetRequestOrder { session, request, position } => ctx.set_request_order(*session, *request, *position),
        Command::DeleteRequests { session, requests, operator_requests } => {
            ctx.delete_requests(*session, requests, operator_requests)
        }
        Command::SetObjectAccess { session, object, principal, rights, grant } => {
            ctx.set_object_access(*session, *object, principal, *rights, *grant)
        }
        Command::DeleteMedia { session, media } => ctx.delete_media(*session, *media),
        Command::ChangeMediaType { session, media, pool } => ctx.change_media_type(*session, *media, *pool),
        Command::WithdrawOperatorRequest { session, request, reason } => {
            ctx.withdraw_operator_request(*session, *request, *reason)
        }
        Command::ReserveCleanerSlot { session, library, slot } => ctx.reserve_cleaner_slot(*session, *library, *slot),
        Command::ReleaseCleanerSlot { session, library } => ctx.release_cleaner_slot(*session, *library),
        Command::InjectCleaner { session, library, found, cleans, action, operation } => {
            ctx.inject_cleaner(*session, *library, found, *cleans, *action, *operation)
        }
        Command::EjectCleaner { session, library, action, operation } => {
            ctx.eject_cleaner(*session, *library, *action, *operation)
        }
        // The server asks when a drive reports it: a drive that cannot be
        // cleaned now is asked for again at its next report.
        Command::CleanDrive { session: None, drive } => Ok(ctx.clean_drive(None, *drive).unwrap_or_default()),
        Command::CleanDrive { session, drive } => ctx.clean_drive(*session, *drive),
        Command::BeginChangeDetection { session } => ctx.begin_change_detection(*session),
        Command::SetChangeDetection { session, detection, objects } => {
            ctx.set_change_detection(*session, *detection, objects)
        }
        Command::EndChangeDetection { session, detection } => ctx.end_change_detection(*session, *detection),
        Command::EjectFromStandaloneDrive { session, device, option } => {
            ctx.eject_from_standalone_drive(*session, device, *option)
        }
    }
}

struct Ctx<'a> {
    state: &'a State,
    policy: &'a Policy,
    cmd: &'a Stamped<Command>,
    /// Drives an earlier part of the same command already uses (a mount of
    /// several cartridges): not free for the later parts.
    taken: std::collections::BTreeSet<DriveId>,
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

    /// A library that exists and is not being deleted (ERROR_INVALID_LIBRARY
    /// otherwise; ERROR_INVALID_PARAMETER for the zero id, a missing argument).
    fn valid_library(&self, id: LibraryId) -> Result<&'a Library, NtmsError> {
        if id.is_nil() {
            return reject(E::InvalidParameter, "a library id is required");
        }
        if id == LibraryId::OFFLINE {
            return reject(
                E::InvalidLibrary,
                "the offline library (the shelf of deleted libraries' media) holds no devices",
            );
        }
        match self.state.libraries.get(&id) {
            Some(lib) if lib.deleting => reject(E::InvalidLibrary, format!("library {} is being deleted", lib.name)),
            Some(lib) => Ok(lib),
            None => reject(E::InvalidLibrary, format!("no library {id}")),
        }
    }

    /// The library a medium belongs to: ERROR_MEDIA_OFFLINE for one on the
    /// offline library's shelf (its library was deleted), else as
    /// [`valid_library`](Self::valid_library).
    fn library_of(&self, medium: &Medium) -> Result<&'a Library, NtmsError> {
        if medium.library == LibraryId::OFFLINE {
            return reject(
                E::MediaOffline,
                format!("medium {} is in the offline library (its library was deleted)", medium.barcode),
            );
        }
        self.valid_library(medium.library)
    }

    /// A medium named by a caller: ERROR_INVALID_PARAMETER for the zero id,
    /// ERROR_INVALID_MEDIA when it names no medium, or a cleaner (rsm rule:
    /// the cleaner functions alone move a cleaner).
    fn medium(&self, media: MediaId) -> Result<&'a Medium, NtmsError> {
        if media.is_nil() {
            return reject(E::InvalidParameter, "a medium id is required");
        }
        match self.state.media.get(&media) {
            Some(m) if m.is_cleaner() => reject(
                E::InvalidMedia,
                format!("{} is a cleaner: the cleaner functions (inject, eject, clean) move it", m.barcode),
            ),
            Some(m) => Ok(m),
            None => reject(E::InvalidMedia, format!("no medium {media}")),
        }
    }

    /// A drive named by a caller: ERROR_INVALID_PARAMETER for the zero id,
    /// ERROR_INVALID_DRIVE when it names no drive.
    fn drive(&self, drive: DriveId) -> Result<&'a Drive, NtmsError> {
        if drive.is_nil() {
            return reject(E::InvalidParameter, "a drive id is required");
        }
        self.state.drives.get(&drive).ok_or_else(|| NtmsError::new(E::InvalidDrive, format!("no drive {drive}")))
    }

    fn require(&self, lib: &Library, session: &Session, right: AccessMask, what: &str) -> Result<(), NtmsError> {
        if self.policy.rights(self.state, lib, &session.principal).allows(right) {
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
        LibraryRequest::new(id, kind, library, media, submitter, self.now())
    }

    /// When a cartridge deferred in `drive` of `lib` goes home: the drive's
    /// own dwDeferDismountDelay, else its library's.
    fn deferral_deadline(&self, lib: &Library, drive: DriveId) -> Option<u64> {
        let delay_s = self.state.drives.get(&drive).and_then(|d| d.defer_dismount_delay_s);
        match lib.kind {
            LibraryKind::Changer => {
                Some(self.now().saturating_add(u64::from(delay_s.unwrap_or(lib.defer_dismount_delay_s)) * 1000))
            }
            LibraryKind::Standalone => None,
        }
    }

    /// The bar codes of a new library's cartridges: each well formed, and
    /// used neither twice among them nor by any known medium.
    fn check_new_barcodes<'b>(&self, barcodes: impl Iterator<Item = &'b String>) -> Result<(), NtmsError> {
        let mut seen = std::collections::BTreeSet::new();
        for b in barcodes {
            check_barcode(b)?;
            if !seen.insert(b.as_str()) || (self.state.barcodes.contains_key(b) && self.offline_medium(b).is_none()) {
                return reject(E::InvalidMedia, format!("bar code {b} is already used"));
            }
        }
        Ok(())
    }

    /// The medium of the offline library with bar code `b`, if any: a new
    /// library that holds it adopts it under its id (its history goes on).
    fn offline_medium(&self, b: &str) -> Option<MediaId> {
        let id = *self.state.barcodes.get(b)?;
        (self.state.media.get(&id)?.library == LibraryId::OFFLINE).then_some(id)
    }

    /// The id a new library gives the cartridge `b`: the offline medium's,
    /// or `fresh`.
    fn adopted_or(&self, b: &str, fresh: MediaId) -> MediaId {
        self.offline_medium(b).unwrap_or(fresh)
    }

    /// A name another object answers to: a library's, drive's, slot's or
    /// port's, or a cartridge's bar code (found by a hostile run: a library
    /// named like a cartridge hid it from every reference by text).
    fn name_taken(&self, name: &str) -> bool {
        self.state.names.contains_key(name)
            || self.state.medium_by_barcode(name).is_some()
            || self.state.object_names.values().any(|n| n == name)
    }

    fn secondary_id(&self, n: u64) -> RequestId {
        RequestId(derive_id(self.cmd.request, n))
    }
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
            format!("name {name:?} must be 1 to {} printable characters without spaces", limits::NAME_LEN_MAX),
        );
    }
    // Any object is named by text (spec §3.6's functions): an object name
    // may not read as a pool path, a media type or the computer, or a
    // reference could reach another object than the one meant.
    if name.contains('\\') {
        return reject(E::InvalidParameter, format!("name {name:?} may not hold a backslash: pool paths do"));
    }
    if name.eq_ignore_ascii_case("computer") || crate::media_services::media_type_named(name).is_some() {
        return reject(E::InvalidParameter, format!("name {name:?} is a media type's or the computer's"));
    }
    not_an_id("name", name)
}

/// rsm rule: a name or bar code may not read as an object id, or a
/// reference to it could name another object (callers resolve ids first).
fn not_an_id(what: &str, text: &str) -> Result<(), NtmsError> {
    if uuid::Uuid::parse_str(text).is_ok() {
        return reject(E::InvalidParameter, format!("{what} {text:?} reads as an object id; choose another"));
    }
    Ok(())
}

fn check_barcode(barcode: &str) -> Result<(), NtmsError> {
    if barcode.is_empty() || barcode.chars().count() > limits::BARCODE_LEN_MAX || !barcode.chars().all(limits::is_plain)
    {
        return reject(
            E::InvalidParameter,
            format!(
                "bar code {barcode:?} must be 1 to {} printable characters without spaces",
                limits::BARCODE_LEN_MAX
            ),
        );
    }
    not_an_id("bar code", barcode)
}
