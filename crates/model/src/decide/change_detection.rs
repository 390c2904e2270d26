//! Change detection (spec §3.8): Begin, Set and EndNtmsDeviceChangeDetection.
//! Stand-alone drives do not say when a cartridge goes in or out; a
//! detection names the stand-alone libraries the server polls (the engine
//! reads their drives and records what it finds as an inventory).

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::objects::*;
use std::collections::BTreeSet;

impl<'a> Ctx<'a> {
    /// BeginNtmsDeviceChangeDetection. Checks: session (ERROR_INVALID_HANDLE).
    pub(super) fn begin_change_detection(&self, session: SessionId) -> Result<Vec<Event>, NtmsError> {
        self.session(session)?;
        Ok(vec![Event::ChangeDetectionBegun { detection: DetectionId(self.cmd.request.0), session }])
    }

    /// The detection `detection` of `session` (ERROR_INVALID_HANDLE when it
    /// is unknown, ended, or another session's).
    fn detection(&self, session: SessionId, detection: DetectionId) -> Result<(), NtmsError> {
        match self.state.change_detections.get(&detection) {
            Some((owner, _)) if *owner == session => Ok(()),
            _ => reject(E::InvalidHandle, format!("no change detection {detection} of this session")),
        }
    }

    /// SetNtmsDeviceChangeDetection. Checks, in order:
    /// 1. session (ERROR_INVALID_HANDLE), and the detection, if one is
    ///    named (ERROR_INVALID_HANDLE);
    /// 2. at least one object, all libraries, all physical media or all
    ///    media types (ERROR_INVALID_PARAMETER: another type, or mixed);
    /// 3. each library exists and is stand-alone (ERROR_INVALID_LIBRARY: a
    ///    changer reports its own changes), each medium exists
    ///    (ERROR_INVALID_MEDIA), each media type is of the catalog
    ///    (ERROR_INVALID_PARAMETER);
    /// 4. USE access to each library named (ERROR_ACCESS_DENIED; rsm rule:
    ///    the spec names no right);
    /// 5. some stand-alone library is watched (ERROR_INVALID_PARAMETER, rsm
    ///    rule: a detection of nothing is a mistake).
    ///
    /// A medium or media type stands for every stand-alone library that
    /// could hold it (its own, or those that handle its type) that the
    /// caller may use.
    pub(super) fn set_change_detection(
        &self,
        session: SessionId,
        detection: Option<DetectionId>,
        objects: &[ObjectRef],
    ) -> Result<Vec<Event>, NtmsError> {
        let s = self.session(session)?;
        if let Some(d) = detection {
            self.detection(session, d)?;
        }
        let kind = |o: &ObjectRef| std::mem::discriminant(o);
        let first = objects.first().ok_or_else(|| NtmsError::new(E::InvalidParameter, "no object to watch"))?;
        if objects.iter().any(|o| kind(o) != kind(first))
            || !matches!(first, ObjectRef::Library(_) | ObjectRef::Media(_) | ObjectRef::MediaType(_))
        {
            return reject(E::InvalidParameter, "watch libraries, physical media or media types: all of one kind");
        }
        let usable = |l: &Library| self.policy.rights(self.state, l, &s.principal).allows(AccessMask::USE);
        let standalone = |l: &&Library| l.kind == LibraryKind::Standalone && !l.deleting && usable(l);
        let of_type = |t: MediaTypeId| {
            self.state.libraries.values().filter(standalone).filter(move |l| l.media_types.contains(&t)).map(|l| l.id)
        };
        let mut libraries = BTreeSet::new();
        for object in objects {
            match *object {
                ObjectRef::Library(id) => {
                    let lib = self.valid_library(id)?;
                    if lib.kind != LibraryKind::Standalone {
                        return reject(
                            E::InvalidLibrary,
                            format!("library {} is a changer: it reports its own changes", lib.name),
                        );
                    }
                    self.require(lib, s, AccessMask::USE, "watch its drive")?;
                    libraries.insert(id);
                }
                ObjectRef::Media(id) => {
                    let m = self.medium(id)?;
                    match self.state.libraries.get(&m.library).filter(standalone) {
                        Some(lib) => {
                            libraries.insert(lib.id);
                        }
                        None => libraries.extend(of_type(m.media_type)),
                    }
                }
                ObjectRef::MediaType(t) => {
                    if crate::media_services::media_type(t).is_none() {
                        return reject(E::InvalidParameter, format!("{t} is not a media type of the catalog"));
                    }
                    libraries.extend(of_type(t));
                }
                _ => unreachable!("the kinds were checked above"),
            }
        }
        let libraries: Vec<LibraryId> = libraries.into_iter().collect();
        if libraries.is_empty() {
            return reject(E::InvalidParameter, "no stand-alone library you may use could hold them");
        }
        Ok(vec![match detection {
            Some(detection) => Event::ChangeDetectionWatches { detection, libraries },
            None => Event::ChangeDetectionPolled { libraries },
        }])
    }

    /// EndNtmsDeviceChangeDetection. Checks: session and detection
    /// (ERROR_INVALID_HANDLE).
    pub(super) fn end_change_detection(
        &self,
        session: SessionId,
        detection: DetectionId,
    ) -> Result<Vec<Event>, NtmsError> {
        self.session(session)?;
        self.detection(session, detection)?;
        Ok(vec![Event::ChangeDetectionEnded { detection }])
    }

    /// A closing session's detections end with it.
    pub(super) fn session_detections_ended(&self, session: SessionId) -> impl Iterator<Item = Event> + '_ {
        self.state
            .change_detections
            .iter()
            .filter(move |(_, (owner, _))| *owner == session)
            .map(|(detection, _)| Event::ChangeDetectionEnded { detection: *detection })
    }
}
