//! Sessions and request handles: the embedding API.

use crate::Engine;
use rsm_model::*;

/// An open session: every command it issues carries its principal.
#[derive(Clone)]
pub struct Session {
    engine: Engine,
    id: SessionId,
    principal: String,
}

/// A library request the caller can wait for.
#[derive(Clone)]
pub struct RequestHandle {
    engine: Engine,
    id: RequestId,
    /// True when the request was finished at acceptance (no robot needed).
    finished: bool,
}

impl RequestHandle {
    /// The request id.
    pub fn id(&self) -> RequestId {
        self.id
    }

    /// Waits until the request is finished; failure and cancellation come back
    /// as errors with the request's code.
    pub async fn wait(&self) -> Result<LibraryRequest, NtmsError> {
        self.engine.wait_for(self.id).await
    }

    /// True when the request needed no movement and was finished when accepted.
    pub fn finished_at_acceptance(&self) -> bool {
        self.finished
    }
}

pub(crate) fn outcome(r: LibraryRequest) -> Result<LibraryRequest, NtmsError> {
    match r.state {
        RequestState::Passed => Ok(r),
        _ => {
            let code = r.error.and_then(ErrorCode::from_code).unwrap_or(ErrorCode::Cancelled);
            let sense =
                r.sense.map(|s| format!(" (sense {:02X}/{:02X}/{:02X})", s.key, s.asc, s.ascq)).unwrap_or_default();
            Err(NtmsError::new(code, format!("request {} {:?}{sense}", r.id, r.state)))
        }
    }
}

impl Session {
    pub(crate) fn new(engine: Engine, id: SessionId, principal: &str) -> Self {
        Self { engine, id, principal: principal.to_string() }
    }

    /// The session id (handle).
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The principal.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The engine this session talks to.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs any session command (the session field is filled in).
    pub async fn submit(&self, command: Command) -> Result<crate::Accepted, NtmsError> {
        self.engine.submit(command).await
    }

    fn handle(&self, a: crate::Accepted) -> RequestHandle {
        let finished = a.events.iter().any(|e| {
            matches!(e, Event::MountSatisfiedInPlace { .. } | Event::DriveMadeDismountable { audit: Some(_), .. })
        });
        RequestHandle { engine: self.engine.clone(), id: a.request, finished }
    }

    /// Creates a library; the creator gets every right on it.
    pub async fn create_library(&self, spec: LibrarySpec) -> Result<LibraryId, NtmsError> {
        let a = self.submit(Command::CreateLibrary { session: self.id, spec }).await?;
        match a.events.first() {
            Some(Event::LibraryCreated { topology, .. }) => Ok(topology.id),
            _ => Err(NtmsError::new(ErrorCode::DatabaseFailure, "library creation recorded no library")),
        }
    }

    /// MountNtmsMedia for one cartridge (queued; wait on the handle).
    /// A cartridge already in a drive is mounted in place, once the drive
    /// has answered that it holds it and is ready.
    pub async fn mount_media(&self, media: MediaId, options: MountOptions) -> Result<RequestHandle, NtmsError> {
        let command = Command::MountMedia { session: self.id, media, options };
        self.engine.probe_in_place(&command).await?;
        let a = self.submit(command).await?;
        Ok(self.handle(a))
    }

    /// MountNtmsMedia for several cartridges, all accepted or none: a handle
    /// per cartridge, in the order given. `drives` names a drive for each,
    /// or is empty.
    pub async fn mount_media_set(
        &self,
        media: Vec<MediaId>,
        drives: Vec<DriveId>,
        options: MountOptions,
    ) -> Result<Vec<RequestHandle>, NtmsError> {
        let command = Command::MountMediaSet { session: self.id, media, drives, options };
        self.engine.probe_in_place(&command).await?;
        let a = self.submit(command).await?;
        Ok(self.handles(&a))
    }

    /// DismountNtmsMedia for several cartridges, all accepted or none.
    pub async fn dismount_media_set(
        &self,
        media: Vec<MediaId>,
        deferred: bool,
    ) -> Result<Vec<RequestHandle>, NtmsError> {
        let a = self.submit(Command::DismountMediaSet { session: self.id, media, deferred }).await?;
        Ok(self.handles(&a))
    }

    /// A handle per request a command of several made, in its order (a
    /// mount's room-making dismounts aside).
    fn handles(&self, a: &crate::Accepted) -> Vec<RequestHandle> {
        let handle = |id: RequestId, finished: bool| RequestHandle { engine: self.engine.clone(), id, finished };
        a.events
            .iter()
            .filter_map(|e| match e {
                Event::MountRequested { request } | Event::MountWaiting { request, .. } => {
                    Some(handle(request.id, false))
                }
                Event::MountSatisfiedInPlace { request } => Some(handle(request.id, true)),
                Event::DismountRequested { request } if request.origin != Some(DismountOrigin::MakeRoom) => {
                    Some(handle(request.id, false))
                }
                Event::DriveMadeDismountable { audit: Some(request), .. } => Some(handle(request.id, true)),
                _ => None,
            })
            .collect()
    }

    /// DismountNtmsMedia for one cartridge.
    pub async fn dismount_media(&self, media: MediaId, deferred: bool) -> Result<RequestHandle, NtmsError> {
        let a = self.submit(Command::DismountMedia { session: self.id, media, deferred }).await?;
        Ok(self.handle(a))
    }

    /// DismountNtmsDrive.
    pub async fn dismount_drive(&self, drive: DriveId) -> Result<RequestHandle, NtmsError> {
        let a = self.submit(Command::DismountDrive { session: self.id, drive }).await?;
        Ok(self.handle(a))
    }

    /// EjectNtmsMedia (NTMS_EJECT_START): the robot puts the cartridge in a
    /// free import/export port for the operator to take.
    pub async fn eject_media(&self, media: MediaId) -> Result<RequestHandle, NtmsError> {
        let a = self.submit(Command::EjectMedia { session: self.id, media }).await?;
        Ok(self.handle(a))
    }

    /// InventoryNtmsLibrary: reads the library's drives, slots and ports
    /// (READ ELEMENT STATUS) and records every difference from the views as
    /// an event. Requests under way go on: what they rely on is left out.
    pub async fn inventory(&self, library: LibraryId) -> Result<crate::Accepted, NtmsError> {
        self.engine.inventory(self, library, rsm_model::InventoryMethod::Fast.ntms_value()).await
    }

    /// InventoryNtmsLibrary with its dwAction: NTMS_INVENTORY_FAST (the
    /// reading), OMID (the reading, then every known cartridge identified:
    /// label requests queued), DEFAULT (the library's method) or STOP
    /// (the queued identifications are stopped). With the door open the
    /// method is kept for when it closes.
    pub async fn inventory_by(&self, library: LibraryId, action: u32) -> Result<crate::Accepted, NtmsError> {
        self.engine.inventory(self, library, action).await
    }

    /// AccessNtmsLibraryDoor: the door is unlocked for the operator once
    /// the robot is idle; `action` is the inventory after it closes
    /// (NTMS_INVENTORY_NONE, FAST, OMID or DEFAULT).
    pub async fn access_door(&self, library: LibraryId, action: u32) -> Result<crate::Accepted, NtmsError> {
        self.engine.access_door(self, library, action).await
    }

    /// The operator closed the door: it is locked, and the inventory chosen
    /// when it opened is taken (its acceptance, if one was due).
    pub async fn close_door(
        &self,
        library: LibraryId,
    ) -> Result<(crate::Accepted, Option<crate::Accepted>), NtmsError> {
        self.engine.close_door(Some(self.id), library).await
    }

    /// IdentifyNtmsSlot: the slot's cartridge is mounted, its label read
    /// and classified (or identified, if it is known), and it goes back.
    /// The handle finishes with the label request; none for an empty slot.
    pub async fn identify_slot(&self, slot: SlotId, option: u32) -> Result<Option<RequestHandle>, NtmsError> {
        let a = self.submit(Command::IdentifySlot { session: self.id, slot, option }).await?;
        let request = a.events.iter().find_map(|e| match e {
            Event::LabelRequested { request } => Some(request.id),
            _ => None,
        });
        Ok(request.map(|id| RequestHandle { engine: self.engine.clone(), id, finished: false }))
    }

    /// InjectNtmsMedia: reads the library's import/export ports and queues
    /// an inject request for each cartridge the operator put there (one
    /// `InjectRequested` event each in the answer).
    pub async fn inject_media(&self, library: LibraryId) -> Result<crate::Accepted, NtmsError> {
        self.engine.inject(self, library).await
    }

    /// ReserveNtmsCleanerSlot: `slot` of `library` is kept for the cleaner.
    pub async fn reserve_cleaner_slot(&self, library: LibraryId, slot: SlotId) -> Result<(), NtmsError> {
        self.submit(Command::ReserveCleanerSlot { session: self.id, library, slot }).await.map(drop)
    }

    /// ReleaseNtmsCleanerSlot: the cleaner slot holds data cartridges again.
    pub async fn release_cleaner_slot(&self, library: LibraryId) -> Result<(), NtmsError> {
        self.submit(Command::ReleaseCleanerSlot { session: self.id, library }).await.map(drop)
    }

    /// InjectNtmsCleaner (START): reads the library's ports and takes the
    /// cartridge found there to the cleaner slot as a cleaner with `cleans`
    /// cleanings left ([`CLEANER_USES_UNLIMITED`]: until spent). The handle
    /// finishes when it is in its slot; none for a library without ports,
    /// whose door opens for the operator to put it there.
    pub async fn inject_cleaner(&self, library: LibraryId, cleans: u32) -> Result<Option<RequestHandle>, NtmsError> {
        let a = self.engine.inject_cleaner(self, library, cleans).await?;
        Ok(self.port_handle(&a, RequestKind::InjectCleaner))
    }

    /// EjectNtmsCleaner (START): the cleaner goes to a port (the handle
    /// finishes when it is there), or, without ports, the door opens.
    pub async fn eject_cleaner(&self, library: LibraryId) -> Result<Option<RequestHandle>, NtmsError> {
        let command = Command::EjectCleaner { session: self.id, library, action: CLEANER_START, operation: None };
        let a = self.submit(command).await?;
        // Without ports, through the door: the changer unlocks it.
        self.engine.unlock_doors(library, &a.events).await;
        Ok(self.port_handle(&a, RequestKind::EjectCleaner))
    }

    /// InjectNtmsCleaner or EjectNtmsCleaner with STOP: the operation (the
    /// request START made) is cancelled before it starts.
    pub async fn stop_cleaner_operation(&self, library: LibraryId, operation: RequestId) -> Result<(), NtmsError> {
        let kind = self.engine.query(move |s| s.requests.get(&operation).map(|r| r.kind)).await?;
        let command = match kind {
            Some(RequestKind::EjectCleaner) => {
                Command::EjectCleaner { session: self.id, library, action: CLEANER_STOP, operation: Some(operation) }
            }
            _ => Command::InjectCleaner {
                session: self.id,
                library,
                found: Vec::new(),
                cleans: 0,
                action: CLEANER_STOP,
                operation: Some(operation),
            },
        };
        self.submit(command).await.map(drop)
    }

    /// EjectDiskFromSADrive: the stand-alone drive named `device` ejects its
    /// cartridge (`option`: `NtmsEjectOperation`; FORCE overrides a
    /// session's hold), which goes to the shelf. A simulated drive lets go
    /// of it in its own state too.
    pub async fn eject_disk_from_standalone_drive(
        &self,
        device: &str,
        option: u32,
    ) -> Result<LibraryRequest, NtmsError> {
        let command = Command::EjectFromStandaloneDrive { session: self.id, device: device.to_string(), option };
        let accepted = self.submit(command).await?;
        let request = accepted
            .events
            .iter()
            .find_map(|e| match e {
                Event::StandaloneDiskEjected { request } => Some(request.clone()),
                _ => None,
            })
            .ok_or_else(|| NtmsError::new(ErrorCode::InvalidState, "the eject recorded no request"))?;
        let place = self
            .engine
            .query({
                let drive = request.drive;
                move |s| drive.and_then(|d| s.drives.get(&d)).map(|d| (d.library, d.element_address))
            })
            .await?;
        if let Some((library, address)) = place {
            if let Ok(sim) = self.engine.simulator(library).await {
                if let Err(e) = sim.operator_remove(address) {
                    tracing::warn!(%library, error = %e, "the simulated drive did not let go of its cartridge");
                }
            }
        }
        Ok(request)
    }

    /// BeginNtmsDeviceChangeDetection: a detection handle, watching nothing yet.
    pub async fn begin_change_detection(&self) -> Result<DetectionId, NtmsError> {
        let accepted = self.submit(Command::BeginChangeDetection { session: self.id }).await?;
        accepted
            .events
            .iter()
            .find_map(|e| match e {
                Event::ChangeDetectionBegun { detection, .. } => Some(*detection),
                _ => None,
            })
            .ok_or_else(|| NtmsError::new(ErrorCode::InvalidState, "no detection was opened"))
    }

    /// SetNtmsDeviceChangeDetection: `detection` watches the stand-alone
    /// libraries `objects` name (libraries, physical media or media types;
    /// polled by a running engine); with no detection they are polled once
    /// now. Returns the libraries.
    pub async fn set_change_detection(
        &self,
        detection: Option<DetectionId>,
        objects: Vec<ObjectRef>,
    ) -> Result<Vec<LibraryId>, NtmsError> {
        let accepted = self.submit(Command::SetChangeDetection { session: self.id, detection, objects }).await?;
        let mut libraries = Vec::new();
        for e in &accepted.events {
            match e {
                Event::ChangeDetectionPolled { libraries: polled } => {
                    self.engine.detect_changes(polled).await;
                    libraries.extend(polled.iter().copied());
                }
                Event::ChangeDetectionWatches { libraries: watched, .. } => libraries.extend(watched.iter().copied()),
                _ => {}
            }
        }
        Ok(libraries)
    }

    /// EndNtmsDeviceChangeDetection.
    pub async fn end_change_detection(&self, detection: DetectionId) -> Result<(), NtmsError> {
        self.submit(Command::EndChangeDetection { session: self.id, detection }).await.map(drop)
    }

    /// CleanNtmsDrive: the drive is cleaned once it is empty and a usable
    /// cleaner is home (the operator is asked for one meanwhile).
    pub async fn clean_drive(&self, drive: DriveId) -> Result<(), NtmsError> {
        self.submit(Command::CleanDrive { session: Some(self.id), drive }).await.map(drop)
    }

    fn port_handle(&self, accepted: &crate::Accepted, kind: RequestKind) -> Option<RequestHandle> {
        accepted.events.iter().find_map(|e| match e {
            Event::InjectRequested { request, .. } | Event::EjectRequested { request } if request.kind == kind => {
                Some(RequestHandle { engine: self.engine.clone(), id: request.id, finished: false })
            }
            _ => None,
        })
    }

    /// Creates a changer library from the real device at `device` (an
    /// `iscsi://HOST:PORT/IQN/LUN` URL or `/dev/sgN`): attaches, reads its
    /// elements and what is in them, and records the library. Returns the
    /// acceptance and discovery's warnings (elements left out, drives
    /// paired by guesswork). The changer serves the library for the rest of
    /// the engine's life.
    pub async fn attach_library(&self, name: &str, device: &str) -> Result<(crate::Accepted, Vec<String>), NtmsError> {
        self.engine.attach_library(self, name, device, None, false).await
    }

    /// As [`attach_library`](Self::attach_library), its cartridges and
    /// drives of `media_type` unless the library's own reports (its
    /// cartridges' LTO labels, its drives' product identification) name a
    /// type: those win, with a warning when they disagree.
    pub async fn attach_library_of_type(
        &self,
        name: &str,
        device: &str,
        media_type: MediaTypeId,
    ) -> Result<(crate::Accepted, Vec<String>), NtmsError> {
        self.engine.attach_library(self, name, device, Some(media_type), false).await
    }

    /// As [`attach_library_of_type`](Self::attach_library_of_type) (with no
    /// configured type: the reports', else the default), with `classify`:
    /// the cartridges found in slots are classified (§7.2) by requests
    /// queued with the library, rather than taken as rsm's free media.
    pub async fn attach_library_classifying(
        &self,
        name: &str,
        device: &str,
        media_type: Option<MediaTypeId>,
        classify: bool,
    ) -> Result<(crate::Accepted, Vec<String>), NtmsError> {
        self.engine.attach_library(self, name, device, media_type, classify).await
    }

    /// The simulator of a simulated library: the operator's hands (insert,
    /// remove, fill and empty a port) and the hardware's faults. They change
    /// what is physically in the library, so they need CONTROL on it.
    pub async fn simulator(
        &self,
        library: LibraryId,
    ) -> Result<std::sync::Arc<rsm_hardware::SimulatedLibrary>, NtmsError> {
        let (principal, policy) = (self.principal.clone(), self.engine.policy().clone());
        let allowed = self
            .engine
            .query(move |s| s.libraries.get(&library).map(|l| (l.name.clone(), policy.rights(s, l, &principal))))
            .await?;
        match allowed {
            None => Err(NtmsError::new(ErrorCode::InvalidLibrary, format!("no library {library}"))),
            Some((name, rights)) if !rights.allows(AccessMask::CONTROL) => Err(NtmsError::new(
                ErrorCode::AccessDenied,
                format!(
                    "{} lacks CONTROL on library {name}, which its simulator's operator and fault commands need",
                    self.principal
                ),
            )),
            Some(_) => self.engine.simulator(library).await,
        }
    }

    /// EnableNtmsObject / DisableNtmsObject.
    pub async fn set_enabled(&self, object: ObjectRef, enabled: bool) -> Result<(), NtmsError> {
        self.submit(Command::SetEnabled { session: self.id, object, enabled }).await.map(|_| ())
    }

    /// Grants rights on a library.
    pub async fn grant(&self, library: LibraryId, principal: &str, rights: AccessMask) -> Result<(), NtmsError> {
        let principal = principal.to_string();
        self.submit(Command::GrantAccess { session: self.id, library, principal, rights }).await.map(|_| ())
    }

    /// Revokes rights on a library.
    pub async fn revoke(&self, library: LibraryId, principal: &str, rights: AccessMask) -> Result<(), NtmsError> {
        let principal = principal.to_string();
        self.submit(Command::RevokeAccess { session: self.id, library, principal, rights }).await.map(|_| ())
    }

    // ---- media services -------------------------------------------------------

    /// AddNtmsMediaType: `library` handles `media_type` from now on.
    pub async fn add_media_type(&self, library: LibraryId, media_type: MediaTypeId) -> Result<(), NtmsError> {
        self.submit(Command::AddMediaType { session: self.id, library, media_type }).await.map(|_| ())
    }

    /// DeleteNtmsMediaType.
    pub async fn delete_media_type(&self, library: LibraryId, media_type: MediaTypeId) -> Result<(), NtmsError> {
        self.submit(Command::DeleteMediaType { session: self.id, library, media_type }).await.map(|_| ())
    }

    /// CreateNtmsMediaPool: the pool at `path`, created or opened as
    /// `action` says.
    pub async fn create_media_pool(
        &self,
        path: &str,
        media_type: Option<MediaTypeId>,
        action: PoolAction,
    ) -> Result<PoolId, NtmsError> {
        let command = Command::CreateMediaPool { session: self.id, path: path.to_string(), media_type, action };
        let a = self.submit(command).await?;
        if let Some(Event::PoolCreated { pool }) = a.events.first() {
            return Ok(pool.id);
        }
        let path = path.to_string();
        self.engine
            .query(move |s| s.pool_at(&path).map(|p| p.id))
            .await?
            .ok_or_else(|| NtmsError::new(ErrorCode::ObjectNotFound, "the pool opened is gone"))
    }

    /// DeleteNtmsMediaPool.
    pub async fn delete_media_pool(&self, pool: PoolId) -> Result<(), NtmsError> {
        self.submit(Command::DeleteMediaPool { session: self.id, pool }).await.map(|_| ())
    }

    /// A pool's policies (SetNtmsObjectInformation on NTMS_MEDIA_POOL).
    pub async fn set_pool_policy(
        &self,
        pool: PoolId,
        from_scratch: bool,
        to_scratch: bool,
        max_allocates: u32,
    ) -> Result<(), NtmsError> {
        let command = Command::SetPoolPolicy { session: self.id, pool, from_scratch, to_scratch, max_allocates };
        self.submit(command).await.map(|_| ())
    }

    /// MoveToNtmsMediaPool.
    pub async fn move_to_media_pool(&self, media: MediaId, pool: PoolId) -> Result<(), NtmsError> {
        self.submit(Command::MoveToMediaPool { session: self.id, media, pool }).await.map(|_| ())
    }

    /// AllocateNtmsMedia with a zero timeout: the new logical medium, or
    /// ERROR_MEDIA_UNAVAILABLE at once.
    pub async fn allocate_media(
        &self,
        pool: PoolId,
        side: Option<SideId>,
        options: AllocateOptions,
    ) -> Result<LogicalMediaId, NtmsError> {
        self.allocate_media_waiting(pool, side, options, AllocationTimeout::Zero).await
    }

    /// AllocateNtmsMedia with dwTimeout. When nothing can be allocated (and
    /// ERROR_IF_UNAVAILABLE is not given) an NTMS_OPREQ_NEWMEDIA operator
    /// request is raised and the search repeated after every change to the
    /// log, until a side is found (the request is then COMPLETE), the
    /// request is refused (ERROR_CANCELLED), or the timeout expires (the
    /// request is withdrawn, REFUSED, and the answer is ERROR_TIMEOUT).
    pub async fn allocate_media_waiting(
        &self,
        pool: PoolId,
        side: Option<SideId>,
        options: AllocateOptions,
        timeout: AllocationTimeout,
    ) -> Result<LogicalMediaId, NtmsError> {
        // A logical medium, or the operator request raised to wait on.
        let outcome = |a: crate::Accepted| match a.events.first() {
            Some(Event::SideAllocated { lmid, .. }) => Ok(Ok(*lmid)),
            Some(Event::OperatorRequestSubmitted { request }) => Ok(Err(request.id)),
            _ => Err(NtmsError::new(ErrorCode::DatabaseFailure, "the allocation recorded no logical medium")),
        };
        let wait = if timeout == AllocationTimeout::Zero { AllocationWait::NoWait } else { AllocationWait::Raise };
        // Watched before the first attempt, so that no change between it and
        // the wait is missed.
        let mut committed = self.engine.committed();
        committed.borrow_and_update();
        let command = Command::AllocateMedia { session: self.id, pool, side, options, wait };
        let waiting_on = match outcome(self.submit(command).await?)? {
            Ok(lmid) => return Ok(lmid),
            Err(request) => request,
        };
        let deadline = match timeout {
            AllocationTimeout::Millis(ms) => {
                Some(tokio::time::Instant::now() + std::time::Duration::from_millis(u64::from(ms)))
            }
            AllocationTimeout::Zero | AllocationTimeout::Infinite => None,
        };
        loop {
            let expired = match deadline {
                Some(at) => tokio::time::timeout_at(at, committed.changed()).await.is_err(),
                None => {
                    committed.changed().await.map_err(|_| crate::stopped())?;
                    false
                }
            };
            if expired {
                let withdraw = Command::WithdrawOperatorRequest {
                    session: self.id,
                    request: waiting_on,
                    reason: ErrorCode::Timeout,
                };
                // Refused withdrawals mean it was met or refused meanwhile:
                // the last search below says which.
                if self.submit(withdraw).await.is_ok() {
                    return Err(NtmsError::new(
                        ErrorCode::Timeout,
                        format!("no media became available within {timeout}; the new-media request was withdrawn"),
                    ));
                }
            }
            let retry = Command::AllocateMedia {
                session: self.id,
                pool,
                side,
                options,
                wait: AllocationWait::Retry(waiting_on),
            };
            match self.submit(retry).await {
                Ok(a) => {
                    if let Ok(lmid) = outcome(a)? {
                        return Ok(lmid);
                    }
                }
                Err(e) if e.kind() == ErrorCode::MediaUnavailable && !expired => {}
                Err(e) if e.kind() == ErrorCode::MediaUnavailable => {
                    return Err(NtmsError::new(
                        ErrorCode::Timeout,
                        format!("no media became available within {timeout}"),
                    ))
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Withdraws every operator request this session's operations raised
    /// and still wait on (REFUSED with `reason`): a caller that stops
    /// waiting says so. Returns how many.
    pub async fn withdraw_operator_requests(&self, reason: ErrorCode) -> Result<usize, NtmsError> {
        let id = self.id;
        let open = self
            .engine
            .query(move |s| {
                s.operator_requests
                    .values()
                    .filter(|r| r.session == id && !r.state.is_terminal())
                    .map(|r| r.id)
                    .collect::<Vec<_>>()
            })
            .await?;
        for request in &open {
            self.submit(Command::WithdrawOperatorRequest { session: self.id, request: *request, reason }).await?;
        }
        Ok(open.len())
    }

    /// DeallocateNtmsMedia.
    pub async fn deallocate_media(&self, lmid: LogicalMediaId) -> Result<(), NtmsError> {
        self.submit(Command::DeallocateMedia { session: self.id, lmid }).await.map(|_| ())
    }

    /// SetNtmsMediaComplete.
    pub async fn set_media_complete(&self, lmid: LogicalMediaId) -> Result<(), NtmsError> {
        self.submit(Command::SetMediaComplete { session: self.id, lmid }).await.map(|_| ())
    }

    /// DecommissionNtmsMedia.
    pub async fn decommission_media(&self, side: SideId) -> Result<(), NtmsError> {
        self.submit(Command::DecommissionMedia { session: self.id, side }).await.map(|_| ())
    }

    /// SwapNtmsMedia.
    pub async fn swap_media(&self, first: LogicalMediaId, second: LogicalMediaId) -> Result<(), NtmsError> {
        self.submit(Command::SwapMedia { session: self.id, first, second }).await.map(|_| ())
    }

    /// CreateNtmsMedia: an offline medium in `pool`, one state per side,
    /// and (none, or one per side) each side's raw on-media label.
    pub async fn create_media(
        &self,
        barcode: &str,
        pool: PoolId,
        sides: Vec<SideState>,
        labels: Vec<Option<Vec<u8>>>,
        error_on_duplicate: bool,
    ) -> Result<MediaId, NtmsError> {
        let barcode = barcode.to_string();
        let a = self
            .submit(Command::CreateMedia { session: self.id, barcode, pool, sides, labels, error_on_duplicate })
            .await?;
        match a.events.first() {
            Some(Event::MediaCreated { medium }) => Ok(medium.id),
            _ => Err(NtmsError::new(ErrorCode::DatabaseFailure, "the creation recorded no medium")),
        }
    }

    /// SetNtmsObjectAttribute (empty `value`: removed).
    pub async fn set_attribute(&self, object: ObjectRef, name: &str, value: Vec<u8>) -> Result<(), NtmsError> {
        self.submit(Command::SetAttribute { session: self.id, object, name: name.to_string(), value }).await.map(|_| ())
    }

    /// GetNtmsObjectAttribute.
    pub async fn attribute(&self, object: ObjectRef, name: &str) -> Result<Vec<u8>, NtmsError> {
        let (policy, principal, name) = (self.engine.policy().clone(), self.principal.clone(), name.to_string());
        self.engine.query(move |s| get_attribute(s, &policy, &principal, object, &name)).await?
    }

    /// The names and sizes of an object's attributes.
    pub async fn attributes(&self, object: ObjectRef) -> Result<Vec<(String, usize)>, NtmsError> {
        let (policy, principal) = (self.engine.policy().clone(), self.principal.clone());
        self.engine.query(move |s| list_attributes(s, &policy, &principal, object)).await?
    }

    /// SubmitNtmsOperatorRequest; returns the request's id.
    pub async fn submit_operator_request(
        &self,
        kind: OperatorRequestKind,
        message: &str,
    ) -> Result<OperatorRequestId, NtmsError> {
        let command = Command::SubmitOperatorRequest { session: self.id, kind, message: message.to_string() };
        let accepted = self.submit(command).await?;
        accepted
            .events
            .iter()
            .find_map(|e| match e {
                Event::OperatorRequestSubmitted { request } => Some(request.id),
                _ => None,
            })
            .ok_or_else(|| NtmsError::new(ErrorCode::DatabaseFailure, "the submission recorded no operator request"))
    }

    /// SatisfyNtmsOperatorRequest (`satisfied`) or CancelNtmsOperatorRequest.
    pub async fn answer_operator_request(&self, request: OperatorRequestId, satisfied: bool) -> Result<(), NtmsError> {
        let command = if satisfied {
            Command::SatisfyOperatorRequest { session: self.id, request }
        } else {
            Command::CancelOperatorRequest { session: self.id, request }
        };
        self.submit(command).await.map(|_| ())
    }

    /// CancelNtmsLibraryRequest: a queued or waiting request.
    pub async fn cancel_request(&self, request: RequestId) -> Result<(), NtmsError> {
        self.submit(Command::CancelRequest { session: self.id, request }).await.map(|_| ())
    }

    /// SetNtmsRequestOrder: a queued or waiting mount to `position` (1 = next).
    pub async fn set_request_order(&self, request: RequestId, position: u32) -> Result<(), NtmsError> {
        self.submit(Command::SetRequestOrder { session: self.id, request, position }).await.map(|_| ())
    }

    /// DeleteNtmsRequests: finished requests leave the views.
    pub async fn delete_requests(
        &self,
        requests: Vec<RequestId>,
        operator_requests: Vec<OperatorRequestId>,
    ) -> Result<(), NtmsError> {
        self.submit(Command::DeleteRequests { session: self.id, requests, operator_requests }).await.map(|_| ())
    }

    /// SetNtmsObjectInformation's other writable fields, one at a time.
    pub async fn set_object_information(&self, object: ObjectRef, field: InfoField) -> Result<(), NtmsError> {
        self.submit(Command::SetObjectInformation { session: self.id, object, field }).await.map(|_| ())
    }

    /// SetNtmsObjectInformation's description.
    pub async fn set_description(&self, object: ObjectRef, description: &str) -> Result<(), NtmsError> {
        let description = description.to_string();
        self.submit(Command::SetDescription { session: self.id, object, description }).await.map(|_| ())
    }

    /// SetNtmsObjectSecurity: grant (`grant`) or revoke `rights` of
    /// `principal` on the computer, a library or a pool.
    pub async fn set_object_access(
        &self,
        object: ObjectRef,
        principal: &str,
        rights: AccessMask,
        grant: bool,
    ) -> Result<(), NtmsError> {
        let principal = principal.to_string();
        self.submit(Command::SetObjectAccess { session: self.id, object, principal, rights, grant }).await.map(|_| ())
    }

    /// GetNtmsObjectSecurity: the access list of the computer, a library or a pool.
    pub async fn object_security(
        &self,
        object: ObjectRef,
    ) -> Result<std::collections::BTreeMap<String, AccessMask>, NtmsError> {
        let (policy, principal) = (self.engine.policy().clone(), self.principal.clone());
        self.engine.query(move |s| object_security(s, &policy, &principal, object)).await?
    }

    /// OpenNtmsNotification: see [`Engine::open_notification`].
    pub async fn open_notification(&self, dw_type: u32) -> Result<crate::NotificationChannel, NtmsError> {
        self.engine.open_notification(self.id, dw_type).await
    }

    /// EnumerateNtmsObject.
    pub async fn enumerate(
        &self,
        kind: ObjectType,
        container: Option<ObjectRef>,
        root_pool: bool,
    ) -> Result<Vec<ObjectRef>, NtmsError> {
        let (policy, principal) = (self.engine.policy().clone(), self.principal.clone());
        self.engine.query(move |s| enumerate(s, &policy, &principal, kind, container, root_pool)).await?
    }

    /// UpdateNtmsOmidInfo with the label read from the drive the logical
    /// medium is loaded in (ERROR_INVALID_STATE when it is not; a blank
    /// tape is ERROR_BAD_FORMAT: no label to record).
    pub async fn update_omid_from_drive(&self, lmid: LogicalMediaId) -> Result<(), NtmsError> {
        let drive = self
            .engine
            .query(move |s| {
                let (m, _) = s.logical_medium(lmid)?;
                match m.location {
                    Location::Drive(d) => Some(d),
                    _ => None,
                }
            })
            .await?
            .ok_or_else(|| {
                NtmsError::new(ErrorCode::InvalidState, "the logical medium is not in a drive: mount it first")
            })?;
        let block = self
            .engine
            .read_first_block(drive)
            .await?
            .ok_or_else(|| NtmsError::new(ErrorCode::BadFormat, "nothing is written at the start of the tape"))?;
        self.update_omid(lmid, OmidLabel::Raw(block)).await
    }

    /// UpdateNtmsOmidInfo.
    pub async fn update_omid(&self, lmid: LogicalMediaId, label: OmidLabel) -> Result<(), NtmsError> {
        self.submit(Command::UpdateOmid { session: self.id, lmid, label }).await.map(|_| ())
    }

    /// DeleteNtmsMedia.
    pub async fn delete_media(&self, media: MediaId) -> Result<(), NtmsError> {
        self.submit(Command::DeleteMedia { session: self.id, media }).await.map(|_| ())
    }

    /// ChangeNtmsMediaType.
    pub async fn change_media_type(&self, media: MediaId, pool: PoolId) -> Result<(), NtmsError> {
        self.submit(Command::ChangeMediaType { session: self.id, media, pool }).await.map(|_| ())
    }

    /// CloseNtmsSession: queued mounts are cancelled, holds become deferred dismounts.
    pub async fn close(self) -> Result<(), NtmsError> {
        self.submit(Command::CloseSession { session: self.id }).await.map(|_| ())
    }
}
