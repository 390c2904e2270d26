//! Session Management (spec §3.1): OpenNtmsSession, CloseNtmsSession.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::limits;
use crate::objects::*;

impl<'a> Ctx<'a> {
    /// OpenNtmsSession. Checks, in order:
    /// 1. the principal is 1 to `NAME_LEN_MAX` characters (ERROR_INVALID_PARAMETER);
    /// 2. the application name is at most `NAME_LEN_MAX` characters
    ///    (ERROR_INVALID_PARAMETER); empty means "RSM".
    pub(super) fn open_session(&self, principal: &str, application: &str) -> Result<Vec<Event>, NtmsError> {
        if !limits::is_valid_name(principal) {
            return reject(
                E::InvalidParameter,
                format!("a principal name is 1 to {} printable characters without spaces", limits::NAME_LEN_MAX),
            );
        }
        if application.chars().count() > limits::NAME_LEN_MAX {
            return reject(
                E::InvalidParameter,
                format!("an application name is at most {} characters", limits::NAME_LEN_MAX),
            );
        }
        let application = if application.is_empty() { "RSM" } else { application };
        Ok(vec![Event::SessionOpened {
            session: SessionId(self.cmd.request.0),
            principal: principal.to_string(),
            application: application.to_string(),
        }])
    }

    /// CloseNtmsSession. Checks: the session is open (ERROR_INVALID_HANDLE).
    /// Its holds become deferred dismounts and its queued requests are cancelled.
    pub(super) fn close_session(&self, id: SessionId) -> Result<Vec<Event>, NtmsError> {
        self.session(id)?;
        let mut events = Vec::new();
        // Holds are released as a deferred dismount (spec §8.12): a crashed
        // client cannot pin a drive forever. A disabled drive of a changer is
        // emptied instead, as disabling it does a cartridge nobody holds.
        for (n, drive) in self.state.drives.values().filter(|d| d.holder == Some(id)).enumerate() {
            let lib = &self.state.libraries[&drive.library];
            let emptying = (!drive.enabled && lib.kind == LibraryKind::Changer && drive.reserved_by.is_none())
                .then(|| {
                    self.dismount_request(self.secondary_id(1 + n as u64), lib, drive, "rsm", DismountOrigin::Disabled)
                        .ok()
                })
                .flatten();
            match emptying {
                Some(request) => {
                    events.push(Event::HoldReleased { drive: drive.id });
                    events.push(Event::DismountRequested { request });
                }
                None => events.push(Event::DriveMadeDismountable {
                    drive: drive.id,
                    deadline_ms: self.deferral_deadline(lib, drive.id),
                    audit: None,
                }),
            }
        }
        for r in self.state.requests.values() {
            if r.session == Some(id) && matches!(r.state, RequestState::Queued | RequestState::Waiting) {
                events.push(Event::RequestCancelled { request: r.id, at_ms: self.now() });
            }
        }
        events.extend(self.withdraw_session_operator_requests(id));
        events.extend(self.session_detections_ended(id));
        events.push(Event::SessionClosed { session: id });
        Ok(events)
    }
}
