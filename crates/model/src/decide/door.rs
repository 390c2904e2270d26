//! AccessNtmsLibraryDoor (spec §3.3, §1.8): the door of a changer library,
//! unlocked for the operator once the robot is idle, and the inventory
//! chosen for when it closes.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::objects::*;
use crate::operator::*;

pub(super) use crate::objects::INVENTORY_STOP;

impl<'a> Ctx<'a> {
    /// AccessNtmsLibraryDoor. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE);
    /// 2. dwAction one of NONE, FAST, OMID, DEFAULT (ERROR_INVALID_PARAMETER);
    /// 3. the library: the zero id (ERROR_INVALID_PARAMETER), none, the
    ///    offline library or one being deleted (ERROR_INVALID_LIBRARY);
    /// 4. CONTROL access (ERROR_ACCESS_DENIED);
    /// 5. enabled (ERROR_RESOURCE_DISABLED);
    /// 6. present and ready (ERROR_LIBRARY_OFFLINE);
    /// 7. it has a door (ERROR_RESOURCE_NOT_PRESENT: a stand-alone drive).
    ///
    /// A door already open takes the new inventory choice. Otherwise the
    /// door unlocks at once when the robot is idle and no request is in
    /// process; else the access is queued (`DoorAccessQueued`): the robot
    /// finishes what it began, starts nothing new, and the scheduler
    /// unlocks the door (`start_next`). Success either way, as the spec says.
    pub(super) fn access_door(
        &self,
        session: SessionId,
        library: LibraryId,
        action: u32,
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        let Some(method) = InventoryMethod::of_action(action) else {
            return reject(E::InvalidParameter, format!("{action} is not an inventory after the door closes (0..=3)"));
        };
        let lib = self.valid_library(library)?;
        self.require(lib, s, AccessMask::CONTROL, "open its door")?;
        if !lib.enabled {
            return reject(E::ResourceDisabled, format!("library {} is disabled", lib.name));
        }
        if lib.operational != OperationalState::Ready {
            return reject(E::LibraryOffline, format!("library {} is not ready", lib.name));
        }
        if lib.door.is_none() {
            return reject(E::ResourceNotPresent, format!("library {} has no door", lib.name));
        }
        Ok(vec![self.door_access(lib, method.resolved(lib.inventory_method))])
    }

    /// The door of `lib` (a changer's) opened for the operator, with
    /// `inventory` after it closes: the choice changed if it is open,
    /// unlocked now if the robot is idle, else queued.
    pub(super) fn door_access(&self, lib: &Library, inventory: InventoryMethod) -> Event {
        let library = lib.id;
        if lib.door_open() {
            Event::DoorInventoryChosen { library, method: inventory }
        } else if self.robot_idle(lib) {
            Event::DoorUnlocked { library, inventory, at_ms: self.now() }
        } else {
            Event::DoorAccessQueued { library, inventory }
        }
    }

    /// No robot move and no request in process: the operator's hands may go in.
    pub(super) fn robot_idle(&self, lib: &Library) -> bool {
        lib.robot.is_none()
            && lib
                .active_requests
                .iter()
                .all(|r| self.state.requests.get(r).is_none_or(|r| r.state != RequestState::InProcess))
    }

    /// The operator closed the door. Checks: session (none: the changer
    /// reported it); the library as for
    /// AccessNtmsLibraryDoor; CONTROL access; it has a door
    /// (ERROR_RESOURCE_NOT_PRESENT) that is open (ERROR_INVALID_STATE).
    /// The "close the door" operator request, if one was raised, is
    /// completed by rsm (its need was met).
    pub(super) fn close_door(&self, session: Option<SessionId>, library: LibraryId) -> Result<Vec<Event>, NtmsError> {
        let caller = session.map(|s| self.session(s)).transpose()?;
        let lib = self.valid_library(library)?;
        if let Some(s) = caller {
            self.require(lib, s, AccessMask::CONTROL, "close its door")?;
        }
        let Some(door) = &lib.door else {
            return reject(E::ResourceNotPresent, format!("library {} has no door", lib.name));
        };
        if door.state != DoorState::Open {
            return reject(E::InvalidState, format!("the door of library {} is not open", lib.name));
        }
        let mut events = vec![Event::DoorClosed { library, at_ms: self.now() }];
        if let Some(request) = door.close_request.filter(|r| self.open_operator_request(*r)) {
            events.push(self.operator_request_closed(request, OperatorRequestState::Complete, None));
        }
        Ok(events)
    }

    fn open_operator_request(&self, request: OperatorRequestId) -> bool {
        self.state.operator_requests.get(&request).is_some_and(|r| !r.state.is_terminal())
    }

    /// Timers: a door open longer than its MaxOpenSecs raises an operator
    /// request to close it (NTMS_OPREQ_DEVICESERVICE naming the library:
    /// rsm's door has no id of its own), once.
    pub(super) fn doors_left_open(&self) -> Vec<Event> {
        let mut events = Vec::new();
        for (n, lib) in self.state.libraries.values().enumerate() {
            let Some(door) = lib.door.as_ref().filter(|d| d.state == DoorState::Open && d.close_request.is_none())
            else {
                continue;
            };
            let due = door.opened_ms.unwrap_or(0).saturating_add(u64::from(door.max_open_secs) * 1000);
            if due > self.now() {
                continue;
            }
            let id = OperatorRequestId(self.secondary_id(DOOR_REQUEST_SALT + n as u64).0);
            let text = format!(
                "close the door of library {}: it has been open longer than {} s",
                lib.name, door.max_open_secs
            );
            let kind = OperatorRequestKind::DeviceService { device: ObjectRef::Library(lib.id) };
            let request =
                OperatorRequest::submitted(id, kind, SessionId::NIL, super::SERVER_PRINCIPAL, text, self.now());
            events.push(Event::OperatorRequestSubmitted { request });
            events.push(Event::DoorLeftOpen { library: lib.id, request: id });
        }
        events
    }
}

/// Keeps the ids of door requests apart from the other ids a tick derives.
const DOOR_REQUEST_SALT: u64 = 1 << 40;
