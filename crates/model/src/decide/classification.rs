//! Arrival and classification (spec §7.2) and free-media labels: the
//! NTMS_LM_CLASSIFY and NTMS_LM_WRITESCRATCH requests rsm queues itself.
//!
//! A cartridge with a bar code nobody knows arrives with its sides UNKNOWN
//! (NTMS_PARTSTATE_NEW) in the free pool of its type, allocatable by
//! nobody. Once it is in its slot, a classification request mounts it,
//! the drive reads its first block, and the media label libraries
//! (`media_labels.rs`) say what it is: blank (the free pool, UNPREPARED,
//! and a free-label request follows), rsm's free label (AVAILABLE), a label
//! another writer claims (the import pool, IMPORT), or anything else (the
//! unrecognized pool, FOREIGN). A library with no drive that reads its
//! type makes it INCOMPATIBLE at once.

use super::Ctx;
use crate::error::{reject, ErrorCode as E, NtmsError};
use crate::event::*;
use crate::ids::*;
use crate::media_labels::*;
use crate::media_services::*;
use crate::objects::*;

/// Who submits the requests rsm raises itself.
pub(crate) const SERVER_PRINCIPAL: &str = "rsm";

impl<'a> Ctx<'a> {
    /// Whether some drive of `m`'s library can read it.
    pub(super) fn readable_in_library(&self, m: &Medium) -> bool {
        let Some(kind) = media_type(m.media_type) else { return false };
        self.state.libraries.get(&m.library).is_some_and(|lib| {
            lib.drives
                .iter()
                .filter_map(|d| self.state.drives.get(d))
                .any(|d| media_type(d.media_type).is_some_and(|reader| kind.readable_by(reader)))
        })
    }

    /// A label request of `kind` for cartridge `media` of `library`, in
    /// its home slot `home`; `n` tells apart the requests one command raises.
    pub(super) fn label_request(
        &self,
        kind: RequestKind,
        library: LibraryId,
        media: MediaId,
        home: SlotId,
        n: u64,
    ) -> Event {
        /// Far above the ids a command derives for the objects it makes.
        const LABEL_REQUEST_SALT: u64 = 1 << 48;
        let id = RequestId(derive_id(self.cmd.request, LABEL_REQUEST_SALT + n));
        let mut r = LibraryRequest::new(id, kind, library, media, SERVER_PRINCIPAL, self.now());
        r.slot = Some(home);
        Event::LabelRequested { request: r }
    }

    /// A label request of `kind` for `m`, if it is in its home slot with no
    /// request pending and a drive of its library reads it.
    pub(super) fn label_request_for(&self, kind: RequestKind, m: &Medium, n: u64) -> Option<Event> {
        let home = m.home_slot?;
        let ready = m.location == Location::Slot(home) && m.pending_request.is_none();
        (ready && self.readable_in_library(m)).then(|| self.label_request(kind, m.library, m.id, home, n))
    }

    /// What a new cartridge's arrival in its home slot sets off: a
    /// classification request, or INCOMPATIBLE at once when no drive of its
    /// library reads its type. `n` as for [`Self::label_request`].
    pub(super) fn classify_arrival(&self, m: &Medium, n: u64) -> Option<Event> {
        if m.is_cleaner() || !m.sides.iter().all(|x| x.state == SideState::Unknown) {
            return None;
        }
        if !self.readable_in_library(m) {
            return Some(Event::MediaClassified { media: m.id, class: Classification::Incompatible, request: None });
        }
        self.label_request_for(RequestKind::Classify, m, n)
    }

    /// The classification requests of a new library's unlabelled
    /// cartridges, each in its home slot (its drives read its media type).
    pub(super) fn classify_created(&self, t: &LibraryTopology) -> Vec<Event> {
        t.media
            .iter()
            .filter(|(id, _, _)| t.unlabelled.contains(id))
            .filter_map(|(id, _, home)| home.map(|home| (*id, home)))
            .enumerate()
            .map(|(n, (id, home))| {
                if t.drives.is_empty() {
                    Event::MediaClassified { media: id, class: Classification::Incompatible, request: None }
                } else {
                    self.label_request(RequestKind::Classify, t.id, id, home, n as u64)
                }
            })
            .collect()
    }

    /// A free-label request for a cartridge whose sides wait for one
    /// (UNPREPARED), when it is home and a drive of its library reads it.
    pub(super) fn prepare(&self, m: &Medium, n: u64) -> Option<Event> {
        if !m.sides.iter().any(|x| x.state == SideState::Unprepared) {
            return None;
        }
        self.label_request_for(RequestKind::WriteScratch, m, n)
    }

    /// A classification request's drive read the first block. Checks, in
    /// order: the request exists (ERROR_INVALID_PARAMETER) and is in
    /// process (ERROR_INVALID_STATE); it is a classification request at its
    /// reading (ERROR_INVALID_STATE); the block is at most a label's size
    /// (ERROR_INVALID_PARAMETER).
    pub(super) fn report_first_block(&self, request: RequestId, block: Option<&[u8]>) -> Result<Vec<Event>, NtmsError> {
        let r = self.in_process(request)?;
        if r.kind != RequestKind::Classify || r.phase != Some(RequestPhase::Labelling) {
            return reject(
                E::InvalidState,
                format!("request {request} ({:?} in phase {:?}) reads no first block", r.kind, r.phase),
            );
        }
        if block.is_some_and(|b| b.len() > LABEL_BYTES_MAX) {
            return reject(E::InvalidParameter, format!("a first block of more than {LABEL_BYTES_MAX} bytes"));
        }
        let class = Classification::of(&read_first_block(block));
        if let Some(m) =
            self.state.media.get(&r.media).filter(|m| m.sides.iter().any(|x| x.state != SideState::Unknown))
        {
            return Ok(vec![self.identified(m, class, request)]);
        }
        if let Some(known) = self.known_by_omid(r.media, &class) {
            return Ok(vec![Event::MediaRecognized { arrival: r.media, known, request }]);
        }
        Ok(vec![Event::MediaClassified { media: r.media, class, request: Some(request) }])
    }

    /// A known medium's label read again (IdentifyNtmsSlot, an OMID
    /// inventory). The label the views have: identified. Another one: the
    /// medium is classified by it, unless a side holds an application's
    /// data (allocated, complete, reserved) or is decommissioned: then the
    /// views keep theirs and the mismatch is recorded (rsm rule: an
    /// inventory never takes a backup away from its owner).
    fn identified(&self, m: &Medium, class: Classification, request: RequestId) -> Event {
        let first = m.sides.first();
        let omid = first.and_then(|x| x.omid.as_deref());
        let state = first.map(|x| x.state);
        // A label the views never recorded (cartridges rsm created with its
        // free label) agrees when the side's state says the same kind.
        let same = |o: &Omid| omid.is_none_or(|known| known == o);
        let matched = match &class {
            Classification::Blank => state == Some(SideState::Unprepared),
            Classification::Free(o) => {
                same(o)
                    && matches!(
                        state,
                        Some(
                            SideState::Available
                                | SideState::Allocated
                                | SideState::Complete
                                | SideState::Reserved
                                | SideState::Decommissioned
                        )
                    )
            }
            Classification::Import(o) => same(o) && state == Some(SideState::Import),
            Classification::Foreign => state == Some(SideState::Foreign),
            Classification::Incompatible => state == Some(SideState::Incompatible),
        };
        let owned = m.sides.iter().any(|x| {
            matches!(
                x.state,
                SideState::Allocated | SideState::Complete | SideState::Reserved | SideState::Decommissioned
            )
        });
        if matched || owned {
            Event::MediaIdentified { media: m.id, request, matched }
        } else {
            Event::MediaClassified { media: m.id, class, request: Some(request) }
        }
    }

    /// The medium on the shelf (offline, so not physically anywhere else)
    /// one of whose sides carries the label `class` read, other than the
    /// arrival itself: spec §7.2 case 1, known by its OMID. rsm's own free
    /// label names its medium's bar code, found by the index; any other
    /// label is looked for among every medium's sides (classifications
    /// are rare next to the commands the index serves).
    fn known_by_omid(&self, arrival: MediaId, class: &Classification) -> Option<MediaId> {
        let (Classification::Free(omid) | Classification::Import(omid)) = class else { return None };
        let on_shelf = |m: &&Medium| {
            m.id != arrival
                && m.location == Location::Offline
                && m.sides.iter().any(|x| x.omid.as_deref() == Some(omid))
        };
        let by_barcode = (omid.label_type == RSM_FREE_LABEL_TYPE)
            .then(|| std::str::from_utf8(&omid.label_id).ok())
            .flatten()
            .and_then(|barcode| self.state.medium_by_barcode(barcode))
            .filter(on_shelf);
        by_barcode.or_else(|| self.state.media.values().find(on_shelf)).map(|m| m.id)
    }

    /// A free-label request's drive wrote rsm's free-media label.
    pub(super) fn free_label_written(&self, r: &LibraryRequest) -> Result<Vec<Event>, NtmsError> {
        let m = self.medium(r.media)?;
        let omid = claim_label(&free_media_label(&m.barcode))
            .expect("rsm's own label library claims the free-media label rsm writes");
        Ok(vec![Event::FreeLabelWritten { request: r.id, omid }])
    }
}
