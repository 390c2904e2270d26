//! The library request life cycle (spec §5): the workers' commands that
//! start, advance, complete and fail requests, and reconciliation after a
//! restart. CancelNtmsLibraryRequest and Get/SetNtmsRequestOrder belong here.

use super::Ctx;
use crate::command::*;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::objects::*;

impl<'a> Ctx<'a> {
    /// The scheduler. Unloads need only their drive, so every dismount whose
    /// drive holds its cartridge starts at once; the robot then goes to the
    /// most urgent move (dismounts before mounts, then priority, then age).
    ///
    /// Never rejected: an unknown, deleting or unavailable library starts nothing.
    pub(super) fn start_next(&self, library: LibraryId) -> Vec<Event> {
        let Some(lib) = self.state.libraries.get(&library) else { return vec![] };
        let requests = || lib.active_requests.iter().map(|r| &self.state.requests[r]);
        let at_ms = self.now();
        if lib.robot_held() {
            return self.door_waits(lib);
        }
        if lib.deleting || !Self::library_available(lib) {
            // A deletion waiting for work begun can complete once it is done.
            return self.finish_begun_work(lib);
        }
        // Offline media back in a slot go to the mounts that waited for them.
        let arrived = self.awaited_media_arrived(lib);
        if !arrived.is_empty() {
            return arrived;
        }
        // Wanted cleanings get the cleaner once their drive is empty (or the
        // operator is asked for one); those start next round.
        let cleanings = self.cleanings(lib);
        if !cleanings.is_empty() {
            return cleanings;
        }
        // Drives that freed up go to waiting mounts first; those start next round.
        let assigned = self.assign_waiting_mounts(lib);
        if !assigned.is_empty() {
            return assigned;
        }
        let mut events: Vec<Event> = requests()
            .filter(|r| r.state == RequestState::Queued && r.kind == RequestKind::Dismount)
            .filter(|r| {
                r.drive.and_then(|d| self.state.drives.get(&d)).is_some_and(|d| {
                    // A drive disabled holding a cartridge still lets it go home.
                    let emptying =
                        r.origin == Some(DismountOrigin::Disabled) && d.operational == OperationalState::Ready;
                    (Self::drive_available(d) || emptying)
                        && d.medium == Some(r.media)
                        && self.state.media[&r.media].enabled
                })
            })
            .map(|r| Event::RequestStarted { request: r.id, at_ms })
            .collect();
        if lib.robot.is_some() {
            return events; // one robot: one move at a time
        }
        // Mounts are served in the mount order (spec §5.3), every other
        // class first come, first served: positions looked up once a round.
        let mount_positions: std::collections::BTreeMap<RequestId, usize> =
            lib.mount_order.iter().enumerate().map(|(i, (r, _))| (*r, i)).collect();
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
                (
                    RequestKind::Eject | RequestKind::Inject | RequestKind::InjectCleaner | RequestKind::EjectCleaner,
                    RequestState::Queued,
                    _,
                ) => true,
                (RequestKind::Clean, RequestState::Queued, _) => {
                    r.drive.and_then(|d| self.state.drives.get(&d)).is_some_and(|d| {
                        Self::drive_available(d)
                            && d.medium.is_none()
                            && d.reserved_by == Some(r.id)
                            && self.state.media.get(&r.media).is_some_and(|m| m.enabled)
                    })
                }
                (RequestKind::Classify | RequestKind::WriteScratch, RequestState::Queued, _) => {
                    self.label_drive(r).is_some()
                }
                (
                    RequestKind::Classify | RequestKind::WriteScratch | RequestKind::Clean,
                    RequestState::InProcess,
                    Some(RequestPhase::AwaitingRobot),
                ) => true,
                _ => false,
            })
            .min_by_key(|r| {
                (r.kind.dispatch_class(), mount_positions.get(&r.id).copied().unwrap_or(usize::MAX), r.order)
            });
        match next {
            Some(r) if r.state == RequestState::Queued => {
                if let (true, None, Some(drive)) = (r.kind.labels(), r.drive, self.label_drive(r)) {
                    events.push(Event::DriveAssigned { request: r.id, drive });
                }
                events.push(Event::RequestStarted { request: r.id, at_ms })
            }
            Some(r) => events.push(Event::RobotAssigned { request: r.id, at_ms }),
            None => events.extend(self.room_for_labels(lib)),
        }
        events
    }

    /// The door is open, waits to be unlocked, or an inventory is due: the
    /// robot starts nothing new. A door waiting for access lets the robot
    /// finish the moves begun, then unlocks once no request is in process.
    fn door_waits(&self, lib: &Library) -> Vec<Event> {
        let Some(inventory) = lib.door.as_ref().and_then(|d| d.access_pending) else { return vec![] };
        if lib.door_open() {
            return vec![];
        }
        if self.robot_idle(lib) {
            return vec![Event::DoorUnlocked { library: lib.id, inventory, at_ms: self.now() }];
        }
        self.finish_begun_work(lib)
    }

    /// Nothing new starts, but work already begun is finished: a cartridge
    /// half-way (unloaded, waiting for the robot) is given the robot to
    /// reach its slot.
    fn finish_begun_work(&self, lib: &Library) -> Vec<Event> {
        let waiting = lib
            .active_requests
            .iter()
            .map(|r| &self.state.requests[r])
            .filter(|r| r.state == RequestState::InProcess && r.phase == Some(RequestPhase::AwaitingRobot))
            .min_by_key(|r| (r.kind.dispatch_class(), -r.priority, r.order));
        match waiting {
            Some(r) if lib.robot.is_none() => vec![Event::RobotAssigned { request: r.id, at_ms: self.now() }],
            _ => vec![],
        }
    }

    /// The label request `r`'s cartridge needs once `r` has brought it to
    /// its slot: a classification if it is still unknown, else its free
    /// label if it waits for one.
    fn label_work_once_home(&self, r: &LibraryRequest) -> Option<Event> {
        let mut home = self.state.media.get(&r.media)?.clone();
        home.location = r.slot.map_or(home.location, Location::Slot);
        home.pending_request = None;
        self.classify_arrival(&home, 0).or_else(|| self.prepare(&home, 0))
    }

    /// A label request that failed with its cartridge in its drive (a
    /// step cut short, a restart): the cartridge goes home, where its
    /// classification or free label is queued again (see `completed`).
    fn send_label_cartridge_home(&self, r: &LibraryRequest, observed: Observed) -> Option<Event> {
        let drive = r.drive?;
        let in_drive = match observed {
            Observed::Drive(d) => d == drive,
            Observed::Unknown => self.state.media.get(&r.media).is_some_and(|m| m.location == Location::Drive(drive)),
            _ => false,
        };
        if !(r.kind.labels() || r.kind == RequestKind::Clean) || !in_drive {
            return None;
        }
        let id = self.secondary_id(3);
        let mut home = LibraryRequest::new(
            id,
            RequestKind::Dismount,
            r.library,
            r.media,
            super::classification::SERVER_PRINCIPAL,
            self.now(),
        );
        home.drive = Some(drive);
        home.slot = r.slot;
        home.origin = Some(DismountOrigin::Requeued);
        Some(Event::DismountRequested { request: home })
    }

    /// A label request that finds every drive holding a released cartridge
    /// would wait until someone dismounts one: one goes home first (as a
    /// mount makes room, spec §5.3 rule 5), unless a dismount is already
    /// under way in the library.
    fn room_for_labels(&self, lib: &Library) -> Option<Event> {
        let requests = || lib.active_requests.iter().map(|r| &self.state.requests[r]);
        let waiting = requests().any(|r| r.kind.labels() && r.state == RequestState::Queued && r.drive.is_none());
        if !waiting || requests().any(|r| r.kind == RequestKind::Dismount) {
            return None;
        }
        let released = lib.drives.iter().map(|d| &self.state.drives[d]).find(|d| {
            Self::drive_available(d)
                && d.reserved_by.is_none()
                && d.holder.is_none()
                && d.state == DriveState::Dismountable
                && d.medium.is_some_and(|m| self.state.media[&m].pending_request.is_none())
        })?;
        let id = self.secondary_id(1);
        let origin = DismountOrigin::MakeRoom;
        let request = self.dismount_request(id, lib, released, super::classification::SERVER_PRINCIPAL, origin).ok()?;
        Some(Event::DismountRequested { request })
    }

    /// The drive a queued label request would run in: the one it was given
    /// (re-queued after a restart), else the first empty, unpromised,
    /// available drive of its library that reads its cartridge.
    fn label_drive(&self, r: &LibraryRequest) -> Option<DriveId> {
        let m = self.state.media.get(&r.media).filter(|m| m.enabled)?;
        let kind = crate::media_services::media_type(m.media_type)?;
        let fits = |d: &Drive| {
            Self::drive_available(d)
                && d.medium.is_none()
                && crate::media_services::media_type(d.media_type).is_some_and(|reader| kind.readable_by(reader))
        };
        if let Some(given) = r.drive {
            // Promised to it already: a cleaning waits for it (found by the
            // simulation: each waited for the other).
            return self.state.drives.get(&given).filter(|d| fits(d) && d.reserved_by == Some(r.id)).map(|d| d.id);
        }
        let lib = self.state.libraries.get(&r.library)?;
        lib.drives
            .iter()
            .filter_map(|d| self.state.drives.get(d))
            .find(|d| fits(d) && !self.cleaning_due(d) && d.reserved_by.is_none() && d.next_reserved_by.is_none())
            .map(|d| d.id)
    }

    /// A physical step finished: a mount's move (the robot is free, the drive
    /// loads) or a dismount's unload (the cartridge waits for the robot).
    ///
    /// Checks, in order: the request exists (ERROR_INVALID_PARAMETER) and is in
    /// process (ERROR_INVALID_STATE); its phase has a step to advance
    /// (ERROR_INVALID_STATE).
    pub(super) fn advance(&self, request: RequestId) -> Result<Vec<Event>, NtmsError> {
        let r = self.in_process(request)?;
        let at_ms = self.now();
        match r.phase {
            Some(RequestPhase::Moving) if r.kind == RequestKind::Mount || r.kind.labels() => {
                Ok(vec![Event::MediumMoved { request, at_ms }])
            }
            Some(RequestPhase::Loading) if r.kind.labels() => Ok(vec![Event::MediumLoaded { request, at_ms }]),
            Some(RequestPhase::Labelling) if r.kind == RequestKind::WriteScratch => self.free_label_written(r),
            Some(RequestPhase::Unloading) => Ok(vec![Event::DriveUnloaded { request, at_ms }]),
            Some(RequestPhase::Moving) if r.kind == RequestKind::Clean => {
                Ok(vec![Event::CleanerLoaded { request, at_ms }])
            }
            Some(RequestPhase::Cleaning) => match r.drive {
                Some(drive) => Ok(vec![Event::DriveCleaned { request, drive, at_ms }]),
                None => reject(E::InvalidState, format!("cleaning {request} names no drive")),
            },
            phase => reject(E::InvalidState, format!("request {request} in phase {phase:?} has no step to advance")),
        }
    }

    pub(super) fn in_process(&self, request: RequestId) -> Result<&'a LibraryRequest, NtmsError> {
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
                        deadline_ms: self.deferral_deadline(lib, drive),
                        audit: None,
                    });
                }
            }
            RequestKind::Dismount => {
                events.push(Event::DismountCompleted { request: r.id, at_ms: self.now() });
                // Home again: a cartridge whose classification or free label
                // was cut short gets it now.
                events.extend(self.label_work_once_home(r));
            }
            RequestKind::Eject | RequestKind::EjectCleaner => {
                events.push(Event::EjectCompleted { request: r.id, at_ms: self.now() })
            }
            RequestKind::InjectCleaner => events.push(Event::InjectCompleted { request: r.id, at_ms: self.now() }),
            RequestKind::Clean => events.push(Event::CleanCompleted { request: r.id, at_ms: self.now() }),
            RequestKind::Inject => {
                events.push(Event::InjectCompleted { request: r.id, at_ms: self.now() });
                // Home now: a new cartridge is classified, one waiting for
                // its free label gets it.
                events.extend(self.label_work_once_home(r));
            }
            RequestKind::Classify | RequestKind::WriteScratch => {
                events.push(Event::LabelRequestCompleted { request: r.id, at_ms: self.now() });
                // A blank cartridge, classified, gets its free label next.
                if r.kind == RequestKind::Classify {
                    events.extend(self.label_work_once_home(r));
                }
            }
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
            self.retire_library(lib, events);
        }
    }

    /// The request's last physical step is done. Checks, in order: the request
    /// exists (ERROR_INVALID_PARAMETER) and is in process (ERROR_INVALID_STATE);
    /// it is at its last step (ERROR_INVALID_STATE).
    pub(super) fn complete(&self, request: RequestId) -> Result<Vec<Event>, NtmsError> {
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

    /// A physical step failed; the medium goes where the hardware saw it (if that
    /// fits the views). Checks, in order: the request exists
    /// (ERROR_INVALID_PARAMETER) and is in process (ERROR_INVALID_STATE).
    pub(super) fn fail(
        &self,
        request: RequestId,
        error: E,
        sense: Option<Sense>,
        observed: Observed,
    ) -> Result<Vec<Event>, NtmsError> {
        let r = self.in_process(request)?;
        let mut events = self.failed(r, error, sense, self.sanitize(r, observed));
        if r.kind == RequestKind::Classify && error == E::MediaIncompatible {
            // The drive refused the cartridge (spec §7.2 case 5).
            let class = crate::media_labels::Classification::Incompatible;
            events.push(Event::MediaClassified { media: r.media, class, request: None });
        }
        self.finish_deletion(r, &mut events);
        Ok(events)
    }

    /// A request failed with its cartridge where the hardware saw it
    /// (`observed`, sanitized): the cleaner slot follows a moved cleaner,
    /// the failure itself, a mount waiting for its drive fails too, a label
    /// request's or cleaning's cartridge left in its drive goes home, and a
    /// cleaner that never got in leaves the catalog.
    fn failed(&self, r: &LibraryRequest, error: E, sense: Option<Sense>, observed: Observed) -> Vec<Event> {
        let mut events: Vec<Event> = self.cleaner_slot_follows_to(r, observed).into_iter().collect();
        events.push(Event::RequestFailed { request: r.id, error: error.code(), sense, observed, at_ms: self.now() });
        self.fail_successor(r, error.code(), &mut events);
        events.extend(self.send_label_cartridge_home(r, observed));
        events.extend(self.stray_cleaner(r, observed));
        events
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

    /// The hardware's truth settles a request left in process: after a
    /// restart, or when the process carrying it stops. At its destination
    /// it completed; where it started (nothing moved), it goes back to the
    /// queue under its own id, its promises kept, so a caller watching that
    /// id never sees a failure that did not happen (rsm rule; the spec's
    /// §5.4 re-queued it as a new request); anywhere else it failed.
    ///
    /// Checks, in order: the request exists (ERROR_INVALID_PARAMETER) and is in
    /// process (ERROR_INVALID_STATE).
    pub(super) fn reconcile(&self, request: RequestId, observed: Observed) -> Result<Vec<Event>, NtmsError> {
        let r = self.in_process(request)?;
        let observed = self.sanitize(r, observed);
        let at_slot = r.slot.is_some_and(|s| observed == Observed::Slot(s));
        let at_drive = r.drive.is_some_and(|d| observed == Observed::Drive(d));
        let at_port = r.port.is_some_and(|p| observed == Observed::Port(p));
        let (done, untouched) = match r.kind {
            RequestKind::Mount => (at_drive, at_slot),
            RequestKind::Dismount => (at_slot, at_drive),
            RequestKind::Eject | RequestKind::EjectCleaner => (at_port, at_slot),
            RequestKind::Inject | RequestKind::InjectCleaner => (at_slot, at_port),
            // Home again after its label was read or written (the drive
            // cleaned), or never left.
            RequestKind::Classify | RequestKind::WriteScratch | RequestKind::Clean => {
                let labelled = matches!(
                    r.phase,
                    Some(RequestPhase::Unloading | RequestPhase::AwaitingRobot | RequestPhase::Stowing)
                );
                (at_slot && labelled, at_slot && !labelled)
            }
        };
        if done {
            return Ok(self.completed(r));
        }
        let lib = &self.state.libraries[&r.library];
        let session_open = r.session.and_then(|s| self.state.sessions.get(&s)).is_some_and(|s| s.open);
        if untouched && !lib.deleting && (r.kind != RequestKind::Mount || session_open) {
            return Ok(vec![Event::RequestRequeued { request, at_ms: self.now() }]);
        }
        let in_its_drive = at_drive
            && self.state.media.get(&r.media).is_some_and(|m| Some(m.location) == r.drive.map(Location::Drive));
        if (r.kind.labels() || r.kind == RequestKind::Clean) && in_its_drive && !lib.deleting {
            // Cut short, nothing wrong. Its label read or written, its work
            // is done: it ends passed (found by a hostile run: it was
            // recorded cancelled though the label was on the tape); before
            // that it ends cancelled and is done again once the cartridge
            // is home.
            let labelled =
                matches!(r.phase, Some(RequestPhase::Unloading | RequestPhase::AwaitingRobot | RequestPhase::Stowing));
            let ended = if labelled {
                Event::LabelRequestSettled { request, at_ms: self.now() }
            } else {
                Event::RequestCancelled { request, at_ms: self.now() }
            };
            let mut events = vec![ended];
            if let (RequestKind::Clean, false, Some(drive)) = (r.kind, labelled, r.drive) {
                // Cut short before the drive was clean (found by a hostile
                // run: the cleaning was dropped): it is wanted again.
                events.push(Event::CleaningWanted { drive, submitter: r.submitter.clone(), at_ms: self.now() });
            }
            events.extend(self.send_label_cartridge_home(r, observed));
            return Ok(events);
        }
        let error = if untouched { E::NotReady } else { E::MediumNotAccessible };
        let mut events = self.failed(r, error, None, observed);
        if lib.deleting {
            self.finish_deletion(r, &mut events);
        }
        Ok(events)
    }
}
