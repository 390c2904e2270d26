//! The engine's side of the hardware boundary: which adapter drives which
//! library, and how device failures become NTMS codes.

use rsm_hardware::{
    AdapterError, ChangerOptions, ElementStatus, HardwareAdapter, ScsiChanger, SenseData, SimLayout, SimTimings,
    SimulatedLibrary, Topology,
};
use rsm_model::{ElementLayout, ErrorCode, Library, LibraryId, MediaTypeId, Observed, Sense, State};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Gives the engine an adapter for each library.
pub trait HardwareProvider: Send + Sync {
    /// The adapter of `library` (as the projection describes it).
    fn adapter(&self, state: &State, library: &Library) -> Result<Arc<dyn HardwareAdapter>, AdapterError>;
}

/// Simulated libraries whose physical truth lives in `DIR/sim/<library id>.json`.
pub struct SimProvider {
    /// Where the simulators' state files live; none keeps them in memory.
    dir: Option<PathBuf>,
    timings: SimTimings,
    open: Mutex<BTreeMap<LibraryId, Arc<SimulatedLibrary>>>,
}

impl SimProvider {
    /// Simulators kept under `data_dir/sim`.
    pub fn new(data_dir: &Path, timings: SimTimings) -> Self {
        Self { dir: Some(data_dir.join("sim")), timings, open: Mutex::new(BTreeMap::new()) }
    }

    /// Simulators whose truth lives in memory only (benchmarks and tests that
    /// measure the engine, not the simulator's file writes).
    pub fn in_memory(timings: SimTimings) -> Self {
        Self { dir: None, timings, open: Mutex::new(BTreeMap::new()) }
    }

    /// The simulator of a library. Its state file is the hardware's truth
    /// (which cartridge is in which drive and port): a missing one is an
    /// error, never silently made anew from the views. In memory, it is
    /// made from the projection's topology on first use.
    pub fn simulator(&self, state: &State, library: &Library) -> Result<Arc<SimulatedLibrary>, AdapterError> {
        self.open_or_create(state, library, false)
    }

    /// Makes the state file of a library just created (its topology, each
    /// cartridge in its slot) and opens it; an existing file is opened.
    pub fn create_simulator(&self, state: &State, library: &Library) -> Result<Arc<SimulatedLibrary>, AdapterError> {
        self.open_or_create(state, library, true)
    }

    /// A deleted library's simulator: closed, and its state file removed
    /// (best effort: a file left behind belongs to no library and is never
    /// read again, since library ids are never reused).
    pub fn forget(&self, library: LibraryId) {
        self.open.lock().expect("the simulator map lock is never held across a panic").remove(&library);
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_file(dir.join(format!("{library}.json")));
        }
    }

    fn open_or_create(
        &self,
        state: &State,
        library: &Library,
        create: bool,
    ) -> Result<Arc<SimulatedLibrary>, AdapterError> {
        if let Some(device) = &library.device {
            return Err(AdapterError::NotConnected(format!(
                "library {} is the device {device}, not a simulator",
                library.name
            )));
        }
        let mut open = self.open.lock().expect("the simulator map lock is never held across a panic");
        if let Some(sim) = open.get(&library.id) {
            return Ok(sim.clone());
        }
        let Some(dir) = &self.dir else {
            let sim = Arc::new(SimulatedLibrary::in_memory(&layout_of(state, library), self.timings)?);
            open.insert(library.id, sim.clone());
            return Ok(sim);
        };
        let path = dir.join(format!("{}.json", library.id));
        let sim = if path.exists() {
            SimulatedLibrary::open(&path, self.timings)?
        } else if create || untouched(state, library) {
            rsm_log::create_dir_durably(dir).map_err(|e| AdapterError::Io(format!("{}: {e}", dir.display())))?;
            SimulatedLibrary::create(&path, &layout_of(state, library), self.timings)?
        } else {
            return Err(AdapterError::Io(format!(
                "the state file {} of simulated library {} is missing: it holds where the library's cartridges \
                 are (drives and ports too), so it is not made anew; restore it, or delete and recreate the library",
                path.display(),
                library.name
            )));
        };
        let sim = Arc::new(sim);
        open.insert(library.id, sim.clone());
        Ok(sim)
    }
}

impl HardwareProvider for SimProvider {
    fn adapter(&self, state: &State, library: &Library) -> Result<Arc<dyn HardwareAdapter>, AdapterError> {
        Ok(self.simulator(state, library)?)
    }
}

/// The iSCSI initiator name rsm logs in with unless configured otherwise
/// ([`crate::EngineConfig::iscsi_initiator`]).
pub const ISCSI_INITIATOR: &str = "iqn.2026-11.org.rsm:engine";

/// Real changers, by library: the libraries whose `device` is an
/// `iscsi://` URL. A changer is attached (login, discovery) on first use
/// from an async context and kept for the engine's life, since discovery
/// costs a round of INQUIRY, MODE SENSE and READ ELEMENT STATUS.
pub struct DeviceProvider {
    /// Attached changers. A std mutex: never held across an `.await`.
    open: Mutex<BTreeMap<LibraryId, Arc<ScsiChanger>>>,
    /// The iSCSI initiator name logins use.
    initiator: String,
}

impl Default for DeviceProvider {
    fn default() -> Self {
        Self::new(ISCSI_INITIATOR)
    }
}

impl DeviceProvider {
    /// No changer attached yet; iSCSI logins as `initiator`.
    pub fn new(initiator: &str) -> Self {
        Self { open: Mutex::default(), initiator: initiator.to_owned() }
    }

    /// The iSCSI initiator name logins use.
    pub fn initiator(&self) -> &str {
        &self.initiator
    }

    /// The changer of `library`, attached to `device` on first use.
    pub async fn changer(&self, library: LibraryId, device: &str) -> Result<Arc<ScsiChanger>, AdapterError> {
        if let Some(c) = self.open.lock().expect("the device map lock is never held across a panic").get(&library) {
            return Ok(c.clone());
        }
        let (changer, _) = discover(device, &self.initiator).await?;
        Ok(self.keep(library, changer))
    }

    /// Keeps an attached changer for `library`; a changer attached
    /// meanwhile by another task wins, so there is one per library.
    pub fn keep(&self, library: LibraryId, changer: Arc<ScsiChanger>) -> Arc<ScsiChanger> {
        let mut open = self.open.lock().expect("the device map lock is never held across a panic");
        open.entry(library).or_insert(changer).clone()
    }
}

/// Attaches to the changer at `device` and reads its topology: an
/// `iscsi://HOST:PORT/IQN/LUN` URL (logging in as `initiator`), or the path
/// of a SCSI generic device (`/dev/sgN`, Linux), whose drives are found
/// among the other sg devices.
///
/// # Errors
/// [`AdapterError::NotConnected`] for a device that is neither, or as
/// [`ScsiChanger::attach_iscsi`] and [`ScsiChanger::attach_sg`].
pub async fn discover(device: &str, initiator: &str) -> Result<(Arc<ScsiChanger>, Topology), AdapterError> {
    let (changer, topology) = if device.starts_with("iscsi://") {
        ScsiChanger::attach_iscsi(&parse_url(device)?, initiator, ChangerOptions::default()).await?
    } else if device.starts_with('/') {
        attach_sg(device).await?
    } else {
        return Err(AdapterError::NotConnected(format!(
            "{device}: a device is an iscsi://HOST:PORT/IQN/LUN URL or the path of a SCSI generic device (/dev/sgN)"
        )));
    };
    Ok((Arc::new(changer), topology))
}

#[cfg(target_os = "linux")]
async fn attach_sg(device: &str) -> Result<(ScsiChanger, Topology), AdapterError> {
    ScsiChanger::attach_sg(std::path::Path::new(device), ChangerOptions::default()).await
}

#[cfg(not(target_os = "linux"))]
async fn attach_sg(device: &str) -> Result<(ScsiChanger, Topology), AdapterError> {
    Err(AdapterError::NotConnected(format!("{device}: SCSI generic devices exist only on Linux")))
}

/// Parses the URL type `ScsiChanger::attach_iscsi` takes (named by inference:
/// the engine does not depend on the transport crate).
fn parse_url<U: std::str::FromStr>(device: &str) -> Result<U, AdapterError>
where
    U::Err: std::fmt::Display,
{
    device.parse().map_err(|e| AdapterError::NotConnected(format!("{device}: {e}")))
}

/// The element layout an attached library is created with, and a warning
/// for each element left out: a cartridge without a readable bar code can be
/// neither named nor tracked, so its element is not managed by rsm.
pub fn element_layout(topology: &Topology) -> (ElementLayout, Vec<String>) {
    let mut warnings = Vec::new();
    let mut take = |kind: &str, elements: &mut dyn Iterator<Item = (u16, bool, Option<String>)>| {
        let mut out = Vec::new();
        for (address, full, barcode) in elements {
            match (full, barcode) {
                (true, None) => warnings.push(format!(
                    "{kind} {address} holds a cartridge without a readable bar code; the element is left out"
                )),
                (true, Some(b)) => out.push((address, Some(b))),
                (false, _) => out.push((address, None)),
            }
        }
        out.sort_by_key(|e| e.0);
        out
    };
    let drives = take("drive", &mut topology.drives.iter().map(|d| (d.address, d.full, d.barcode.clone())));
    let slots = take("slot", &mut topology.slots.iter().map(|s| (s.address, s.full, s.barcode.clone())));
    let ports = take("port", &mut topology.ports.iter().map(|p| (p.address, p.full, p.barcode.clone())));
    // SMC-3's element status names no media type as such: the bar codes
    // and the drives' identification may (`reported_media_type`).
    (ElementLayout { drives, slots, ports, media_type: None }, warnings)
}

/// The media type a changer's reports name, with a note for each doubt:
/// its cartridges' LTO labels (the type most of them carry; cleaners and
/// unknown labels aside), else its drives' product identification (the
/// type most of them write). None when neither names one.
pub fn reported_media_type(topology: &Topology) -> (Option<MediaTypeId>, Vec<String>) {
    let barcodes = topology
        .slots
        .iter()
        .map(|s| &s.barcode)
        .chain(topology.drives.iter().map(|d| &d.barcode))
        .chain(topology.ports.iter().map(|p| &p.barcode))
        .flatten();
    let by_label = most_common(barcodes.filter_map(|b| rsm_model::media_type_from_barcode(b)));
    let by_drive = most_common(
        topology.drives.iter().filter_map(|d| d.product.as_deref()).filter_map(rsm_model::drive_type_from_product),
    );
    let name = |t: MediaTypeId| rsm_model::media_type(t).map_or("?", |t| t.name);
    let mut notes = Vec::new();
    for (what, counted) in [("cartridges' labels", &by_label), ("drives", &by_drive)] {
        if counted.len() > 1 {
            let all: Vec<String> = counted.iter().map(|(t, n)| format!("{n} {}", name(*t))).collect();
            notes
                .push(format!("the {what} name several media types ({}): the library takes the first", all.join(", ")));
        }
    }
    let chosen = by_label.first().or(by_drive.first()).map(|(t, _)| *t);
    if let (Some(media), Some((drive, _))) = (chosen, by_drive.first()) {
        let readable =
            rsm_model::media_type(media).zip(rsm_model::media_type(*drive)).is_some_and(|(m, d)| m.readable_by(d));
        if !readable {
            notes.push(format!("its drives write {}, which cannot read {} media", name(*drive), name(media)));
        }
    }
    (chosen, notes)
}

/// Each distinct item with its count, most frequent first (ties: the
/// first seen first).
fn most_common(items: impl Iterator<Item = MediaTypeId>) -> Vec<(MediaTypeId, usize)> {
    let mut counted: Vec<(MediaTypeId, usize)> = Vec::new();
    for item in items {
        match counted.iter_mut().find(|(t, _)| *t == item) {
            Some((_, n)) => *n += 1,
            None => counted.push((item, 1)),
        }
    }
    counted.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    counted
}

/// A library exactly as its creation left it: no request ever started
/// (queued ones moved nothing), every drive and port empty, every cartridge
/// in its home slot.
/// Its simulator's state file, if missing, can only have been lost between
/// the creation's commit and the file's creation (a crash): making it from
/// the views then loses nothing.
fn untouched(state: &State, library: &Library) -> bool {
    state.requests.values().all(|r| r.library != library.id || r.state == rsm_model::RequestState::Queued)
        && library.drives.iter().all(|d| state.drives.get(d).is_some_and(|d| d.medium.is_none()))
        && library.ports.iter().all(|p| state.ports.get(p).is_some_and(|p| p.content.is_none() && !p.stranger))
        && state
            .media
            .values()
            .filter(|m| m.library == library.id)
            .all(|m| m.home_slot.is_some_and(|h| m.location == rsm_model::Location::Slot(h)))
}

/// The physical layout a new simulator starts from: what the projection knows.
fn layout_of(state: &State, library: &Library) -> SimLayout {
    let barcode = |m: Option<rsm_model::MediaId>| m.and_then(|m| state.media.get(&m)).map(|m| m.barcode.clone());
    SimLayout {
        transport: rsm_model::limits::TRANSPORT_ADDRESS,
        drives: library.drives.iter().map(|d| state.drives[d].element_address).collect(),
        slots: library
            .slots
            .iter()
            .map(|s| {
                let slot = &state.slots[s];
                (slot.element_address, barcode(slot.content))
            })
            .collect(),
        ports: library.ports.iter().map(|p| state.ports[p].element_address).collect(),
        first_blocks: first_blocks_of(state, library),
    }
}

/// What a new simulator's cartridges hold at their start: rsm's free-media
/// label on each one the projection knows as prepared, nothing on those
/// still to be classified (they arrived unlabelled: blank).
pub fn first_blocks_of(state: &State, library: &Library) -> std::collections::BTreeMap<String, Vec<u8>> {
    state
        .media
        .values()
        .filter(|m| m.library == library.id)
        .filter(|m| !m.sides.iter().all(|x| x.state == rsm_model::SideState::Unknown))
        .map(|m| (m.barcode.clone(), rsm_model::free_media_label(&m.barcode)))
        .collect()
}

/// Maps a device failure to the NTMS code of a failed request (spec §2.1, rows marked F).
pub fn failure_code(error: &AdapterError) -> ErrorCode {
    match error {
        AdapterError::Check { sense, .. } => match *sense {
            SenseData::SOURCE_EMPTY => ErrorCode::MediumNotAccessible,
            SenseData::DESTINATION_FULL => ErrorCode::ResourceNotAvailable,
            SenseData::INVALID_ELEMENT => ErrorCode::InvalidDriveObject,
            // INVALID FIELD IN CDB: what tgt answers for an address it does not have.
            s if s.key == 0x5 && s.asc == 0x24 => ErrorCode::InvalidDriveObject,
            // UNIT ATTENTION that outlasted the adapter's retries.
            s if s.key == 0x6 => ErrorCode::DeviceNotAvailable,
            SenseData::LOAD_EJECT_FAILED | SenseData::REMOVAL_PREVENTED => ErrorCode::UnableToLoadMedium,
            // INCOMPATIBLE MEDIUM INSTALLED (30/xx): the drive cannot read this cartridge.
            s if s.asc == 0x30 => ErrorCode::MediaIncompatible,
            s if s.key == 0x2 => ErrorCode::DeviceNotAvailable,
            _ => ErrorCode::MediumNotAccessible,
        },
        _ => ErrorCode::DeviceNotConnected,
    }
}

/// Sense data in the model's terms, for the audit trail.
pub fn model_sense(error: &AdapterError) -> Option<Sense> {
    error.sense().map(|s| Sense { key: s.key, asc: s.asc, ascq: s.ascq })
}

/// Where the device says a bar code is, in object terms.
pub fn observe(state: &State, library: &Library, status: &[ElementStatus], barcode: &str) -> Observed {
    let Some(element) = status.iter().find(|e| e.full && e.barcode.as_deref() == Some(barcode)) else {
        return Observed::Missing;
    };
    let address = element.address;
    if let Some(d) = library.drives.iter().find(|d| state.drives[*d].element_address == address) {
        return Observed::Drive(*d);
    }
    if let Some(s) = library.slots.iter().find(|s| state.slots[*s].element_address == address) {
        return Observed::Slot(*s);
    }
    if let Some(p) = library.ports.iter().find(|p| state.ports[*p].element_address == address) {
        return Observed::Port(*p);
    }
    // In the gripper: not a place a request leaves a medium.
    Observed::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsm_hardware::{DriveInfo, DriveMatch, SlotInfo};

    fn topology(barcodes: &[&str], products: &[&str]) -> Topology {
        let slot =
            |(i, b): (usize, &&str)| SlotInfo { address: 1000 + i as u16, barcode: Some(b.to_string()), full: true };
        let drive = |(i, p): (usize, &&str)| DriveInfo {
            address: 500 + i as u16,
            lun: None,
            serial: None,
            vendor: None,
            product: Some(p.to_string()),
            identifier: None,
            matched_by: DriveMatch::Given,
            full: false,
            barcode: None,
        };
        Topology {
            vendor: "V".into(),
            product: "P".into(),
            revision: "1".into(),
            serial: None,
            transport: 0,
            drives: products.iter().enumerate().map(drive).collect(),
            slots: barcodes.iter().enumerate().map(slot).collect(),
            ports: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn named(t: Option<MediaTypeId>) -> Option<&'static str> {
        t.and_then(rsm_model::media_type).map(|t| t.name)
    }

    #[test]
    fn an_attached_librarys_media_type_comes_from_its_labels_then_its_drives() {
        let (t, notes) = reported_media_type(&topology(&["A00001L7", "A00002L7", "CLN001L1"], &["ULT3580-TD8"]));
        assert_eq!((named(t), notes.len()), (Some("LTO-7"), 0), "{notes:?}");
        let (t, notes) = reported_media_type(&topology(&["BACKUP-1"], &["ULTRIUM-HH9", "ULTRIUM-HH9"]));
        assert_eq!((named(t), notes.len()), (Some("LTO-9"), 0), "{notes:?}");
        let (t, notes) = reported_media_type(&topology(&["A00001L6", "A00002L8", "A00003L8"], &["ULT3580-TD8"]));
        assert_eq!(named(t), Some("LTO-8"));
        assert!(notes[0].contains("2 LTO-8, 1 LTO-6"), "{notes:?}");
        let (_, notes) = reported_media_type(&topology(&["A00001L5"], &["ULT3580-TD8"]));
        assert!(notes[0].contains("its drives write LTO-8, which cannot read LTO-5"), "{notes:?}");
        assert_eq!(reported_media_type(&topology(&["E01001"], &["VIRTUAL-TAPE"])), (None, Vec::new()));
    }

    #[test]
    fn sense_maps_to_ntms_codes() {
        let check = |sense| AdapterError::Check { operation: "MOVE MEDIUM".into(), sense };
        assert_eq!(failure_code(&check(SenseData::SOURCE_EMPTY)), ErrorCode::MediumNotAccessible);
        assert_eq!(failure_code(&check(SenseData::DESTINATION_FULL)), ErrorCode::ResourceNotAvailable);
        assert_eq!(failure_code(&check(SenseData::LOAD_EJECT_FAILED)), ErrorCode::UnableToLoadMedium);
        assert_eq!(failure_code(&check(SenseData::ROBOT_FAILURE)), ErrorCode::MediumNotAccessible);
        assert_eq!(failure_code(&check(SenseData::MEDIUM_NOT_PRESENT)), ErrorCode::DeviceNotAvailable);
        assert_eq!(failure_code(&AdapterError::NotConnected("gone".into())), ErrorCode::DeviceNotConnected);
        assert_eq!(model_sense(&check(SenseData::ROBOT_FAILURE)), Some(Sense { key: 4, asc: 0x15, ascq: 1 }));
    }
}
