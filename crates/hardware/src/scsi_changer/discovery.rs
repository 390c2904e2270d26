//! Discovery: which LUNs of the target are tape drives, which drive element
//! each of them is, and the library's [`Topology`].
//!
//! A changer names the drive in each data transfer element by a device
//! identifier (DVCID in READ ELEMENT STATUS). tgt 1.0.85 reports a T10
//! vendor ID designator, ASCII: `IET     VIRTUAL-TAPE    beaf11`, that is
//! the drive's vendor (8 bytes), product (16) and unit serial number (VPD
//! 0x80 of the drive's LUN: `beaf` + target id + LUN), NUL-padded to 34
//! bytes. Its drives' VPD 0x83 page holds other names (`IET     00010001`
//! and two NAA designators), so the match is on the T10 form built from
//! INQUIRY and VPD 0x80. Every identity is compared with spaces and NULs
//! removed.
//!
//! tgt sends each READ ELEMENT STATUS 8 bytes short, so the last drive's
//! identifier arrives without its last 8 bytes (`IET     VIRTUAL-TAPE    be`)
//! and the parser, rightly, does not report it. The bytes that did arrive
//! are read here ([`cut_identifiers`]) and matched as a prefix, among the
//! LUNs no whole identifier claimed, only if exactly one LUN fits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rsm_scsi::{CodeSet, DeviceId, DeviceType, ElementDescriptor, ElementRange, ElementType, SenseKey};
use rsm_transport::{IscsiTransport, IscsiUrl, ScsiTransport, TransportError};

use super::command::{check_error, Clock, Elements, Runner, SystemClock};
use super::{
    barcode, changer_limits, transport_address, ChangerOptions, DriveInfo, DriveLink, DriveMatch, Inner, ScsiChanger,
    SlotInfo, Topology,
};
use crate::adapter::{AdapterError, ElementAddress};

/// Opens a session to another LUN of the changer's target.
pub(crate) type OpenLun<'a> = dyn Fn(u16) -> Result<Arc<dyn ScsiTransport>, TransportError> + 'a;

/// [`ScsiChanger::attach_iscsi`], on a blocking thread.
pub(crate) fn attach_iscsi(
    url: &IscsiUrl,
    initiator: &str,
    options: ChangerOptions,
) -> Result<(ScsiChanger, Topology), AdapterError> {
    let changer = IscsiTransport::connect(url, initiator).map_err(|error| match error {
        TransportError::Connect(_)
        | TransportError::LibraryMissing { .. }
        | TransportError::LibraryIncompatible { .. } => AdapterError::NotConnected(format!("changer {url}: {error}")),
        _ => AdapterError::Io(format!("changer {url}: {error}")),
    })?;
    let changer = Arc::new(changer);
    let session = Arc::clone(&changer);
    let open_lun =
        move |lun: u16| -> Result<Arc<dyn ScsiTransport>, TransportError> { Ok(Arc::new(session.connect_lun(lun)?)) };
    let source = DriveSource::TargetLuns { changer_lun: url.lun };
    attach(changer, source, &open_lun, options, Arc::new(SystemClock::new()))
}

/// Where discovery looks for the changer's tape drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DriveSource {
    /// The other LUNs of the changer's target: those REPORT LUNS lists, or
    /// INQUIRY of LUNs 0..[`changer_limits::LUN_PROBE_COUNT`] if it is refused.
    TargetLuns {
        /// The changer's own LUN, left out.
        changer_lun: u16,
    },
    /// Devices of the host (SCSI generic), opened by their index 0..count:
    /// a directly attached library's drives are devices of their own.
    Devices {
        /// How many.
        count: u16,
    },
}

/// [`ScsiChanger::attach_sg`], on a blocking thread: the changer at `path`,
/// its drives among the other `sgN` devices of the same directory.
#[cfg(target_os = "linux")]
pub(crate) fn attach_sg(path: &Path, options: ChangerOptions) -> Result<(ScsiChanger, Topology), AdapterError> {
    use rsm_transport::SgTransport;
    let changer = SgTransport::open(path)
        .map_err(|error| AdapterError::NotConnected(format!("changer {}: {error}", path.display())))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let candidates = sg_devices(dir, path);
    let count = u16::try_from(candidates.len()).unwrap_or(u16::MAX);
    let open = move |index: u16| -> Result<Arc<dyn ScsiTransport>, TransportError> {
        let device = candidates
            .get(usize::from(index))
            .ok_or_else(|| TransportError::Connect(format!("no device number {index}")))?;
        Ok(Arc::new(SgTransport::open(device)?))
    };
    attach(Arc::new(changer), DriveSource::Devices { count }, &open, options, Arc::new(SystemClock::new()))
}

/// The SCSI generic devices (`sgN`) in `dir` but `changer`, in number order
/// (`sg2` before `sg10`): where a directly attached library's drives are.
pub(crate) fn sg_devices(dir: &Path, changer: &Path) -> Vec<PathBuf> {
    let same = |a: &Path, b: &Path| a == b || a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let number = entry.file_name().to_str()?.strip_prefix("sg")?.parse::<u32>().ok()?;
            Some((number, entry.path()))
        })
        .filter(|(_, path)| !same(path, changer))
        .collect();
    found.sort();
    found.into_iter().map(|(_, path)| path).collect()
}

/// Discovery over any transports: the changer's, where its drives are, and
/// a way to open each drive candidate (a LUN, or a device by index).
pub(crate) fn attach(
    changer: Arc<dyn ScsiTransport>,
    source: DriveSource,
    open_lun: &OpenLun<'_>,
    options: ChangerOptions,
    clock: Arc<dyn Clock>,
) -> Result<(ScsiChanger, Topology), AdapterError> {
    let runner = Runner { options: &options, clock: &*clock, attention: None, cleaning: None };
    let identity = runner.inquiry(&*changer)?;
    if identity.qualifier != 0 || identity.device_type != DeviceType::MediumChanger {
        return Err(AdapterError::Io(format!(
            "{} is not a medium changer: peripheral qualifier {}, device type {:#04x}",
            changer.describe(),
            identity.qualifier,
            identity.device_type.code()
        )));
    }
    let mut warnings = Vec::new();
    let (luns, listed): (std::collections::BTreeSet<u16>, bool) = match source {
        DriveSource::TargetLuns { changer_lun } => {
            let (luns, listed) = match runner.report_luns(&*changer)? {
                Some(luns) => (luns, true),
                None => ((0..changer_limits::LUN_PROBE_COUNT).collect(), false),
            };
            (luns.into_iter().filter(|&lun| lun != changer_lun).collect(), listed)
        }
        DriveSource::Devices { count } => ((0..count).collect(), true),
    };
    let mut tapes = Vec::new();
    for lun in luns {
        let transport = match open_lun(lun) {
            Ok(transport) => transport,
            Err(error) if listed => {
                warnings.push(match source {
                    DriveSource::TargetLuns { .. } => {
                        format!("LUN {lun} (listed by REPORT LUNS) cannot be opened: {error}")
                    }
                    DriveSource::Devices { .. } => format!("a drive candidate cannot be opened: {error}"),
                });
                continue;
            }
            Err(error) => {
                tracing::debug!(lun, %error, "probed LUN cannot be opened");
                continue;
            }
        };
        match runner.inquiry(&*transport) {
            Ok(inquiry) if inquiry.qualifier == 0 && inquiry.device_type == DeviceType::SequentialAccess => {
                let identity = identify(&runner, &*transport, inquiry, &mut warnings);
                tapes.push(TapeLun { lun, transport, identity });
            }
            Ok(_) => {}
            Err(error) if listed => warnings.push(format!("LUN {lun} does not answer INQUIRY: {error}")),
            Err(error) => tracing::debug!(lun, %error, "probed LUN does not answer INQUIRY"),
        }
    }
    let map = runner.element_map(&*changer)?;
    let reported = if map.data_transfer.count > 0 {
        let (status, data) = read_drive_elements(&runner, &*changer, map.data_transfer)?;
        reported_drives(&status, &data)
    } else {
        Vec::new()
    };
    let are_luns = matches!(source, DriveSource::TargetLuns { .. });
    let links = pair(&reported, tapes, &options.drive_luns, are_luns, &mut warnings);
    let changer = ScsiChanger::from_parts(changer, links, options, clock, Some(map));
    let topology = changer.inner.topology(warnings)?;
    Ok((changer, topology))
}

/// A tape LUN of the target and what it says it is.
struct TapeLun {
    lun: u16,
    transport: Arc<dyn ScsiTransport>,
    identity: DriveIdentity,
}

/// What a drive says about itself on its own LUN.
#[derive(Debug, Clone)]
pub(crate) struct DriveIdentity {
    vendor: String,
    product: String,
    serial: Option<String>,
    ids: Vec<DeviceId>,
}

impl DriveIdentity {
    /// Every byte string the drive is known by: its VPD 0x83 designators
    /// (as sent, and without spaces and NULs if text), its serial number and
    /// the T10 form vendor + product + serial (without spaces and NULs).
    fn forms(&self) -> Vec<Vec<u8>> {
        let mut forms = Vec::new();
        for id in &self.ids {
            forms.extend(id_forms(id.code_set, &id.identifier));
        }
        if let Some(serial) = &self.serial {
            forms.push(squeeze(serial.as_bytes()));
            forms.push(squeeze(format!("{}{}{serial}", self.vendor, self.product).as_bytes()));
        }
        forms.retain(|form| !form.is_empty());
        forms
    }
}

/// INQUIRY, VPD 0x80 and VPD 0x83 of a drive; a page it cannot give is a
/// warning and stays empty.
fn identify(
    runner: &Runner<'_>,
    transport: &dyn ScsiTransport,
    inquiry: rsm_scsi::StandardInquiry,
    warnings: &mut Vec<String>,
) -> DriveIdentity {
    let serial = runner.unit_serial(transport).unwrap_or_else(|error| {
        warnings.push(format!("{}: no serial number: {error}", transport.describe()));
        None
    });
    let ids = runner.device_ids(transport).unwrap_or_else(|error| {
        warnings.push(format!("{}: no device identifiers: {error}", transport.describe()));
        Vec::new()
    });
    DriveIdentity { vendor: inquiry.vendor, product: inquiry.product, serial, ids }
}

/// The identifier a changer reported for a drive element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReportedId {
    /// None (no DVCID support, or an empty identifier).
    None,
    /// The whole identifier.
    Whole(DeviceId),
    /// The start of an identifier the data ended inside.
    Cut {
        /// How to read the bytes.
        code_set: CodeSet,
        /// The bytes that arrived.
        bytes: Vec<u8>,
    },
}

impl ReportedId {
    /// Whether this identifier names the drive known by `forms`: equal to
    /// one of them, or, when cut, the start of one.
    fn matches(&self, forms: &[Vec<u8>]) -> bool {
        match self {
            ReportedId::None => false,
            ReportedId::Whole(id) => id_forms(id.code_set, &id.identifier).iter().any(|mine| forms.contains(mine)),
            ReportedId::Cut { code_set, bytes } => {
                id_forms(*code_set, bytes).iter().any(|mine| forms.iter().any(|form| form.starts_with(mine)))
            }
        }
    }

    /// As text for the topology: ASCII or UTF-8 as text, binary as hex; a
    /// cut identifier ends with `…`.
    fn display(&self) -> Option<String> {
        match self {
            ReportedId::None => None,
            ReportedId::Whole(id) => Some(id.text().unwrap_or_else(|| id.hex())),
            ReportedId::Cut { code_set, bytes } => {
                let text = match code_set {
                    CodeSet::Ascii | CodeSet::Utf8 => printable(bytes),
                    CodeSet::Binary | CodeSet::Other(_) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
                };
                Some(format!("{text}…"))
            }
        }
    }
}

/// An identifier's forms: its bytes, and without spaces and NULs if text.
fn id_forms(code_set: CodeSet, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![bytes.to_vec()];
    if matches!(code_set, CodeSet::Ascii | CodeSet::Utf8) {
        forms.push(squeeze(bytes));
    }
    forms.retain(|form| !form.is_empty());
    forms
}

/// The bytes without spaces and NULs: `IET     VIRTUAL-TAPE    beaf11\0\0`
/// and `IET` + `VIRTUAL-TAPE` + `beaf11` compare equal.
fn squeeze(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().copied().filter(|&b| b != b' ' && b != 0).collect()
}

/// Text up to the first NUL, trailing spaces removed, bytes outside
/// printable ASCII as U+FFFD.
fn printable(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text: String = bytes
        .get(..end)
        .unwrap_or_default()
        .iter()
        .map(|&b| if (0x20..=0x7e).contains(&b) { char::from(b) } else { '\u{fffd}' })
        .collect();
    text.trim_end_matches(' ').to_owned()
}

/// A drive element as the changer reported it.
#[derive(Debug, Clone)]
pub(crate) struct ReportedDrive {
    address: ElementAddress,
    id: ReportedId,
    full: bool,
    barcode: Option<String>,
}

/// READ ELEMENT STATUS of the drives with device identifiers, or without if
/// the changer refuses DVCID (ILLEGAL REQUEST).
fn read_drive_elements(
    runner: &Runner<'_>,
    changer: &dyn ScsiTransport,
    range: ElementRange,
) -> Result<(rsm_scsi::ElementStatus, Vec<u8>), AdapterError> {
    let refused = |sense, retried| check_error("READ ELEMENT STATUS of data transfer elements", &sense, retried);
    match runner.read_elements(changer, ElementType::DataTransfer, range, true)? {
        Elements::Read { status, data } => Ok((status, data)),
        Elements::Refused { sense, .. } if sense.key == SenseKey::IllegalRequest => {
            tracing::debug!(device = %changer.describe(), %sense, "DVCID refused; reading drives without identifiers");
            match runner.read_elements(changer, ElementType::DataTransfer, range, false)? {
                Elements::Read { status, data } => Ok((status, data)),
                Elements::Refused { sense, retried } => Err(refused(sense, retried)),
            }
        }
        Elements::Refused { sense, retried } => Err(refused(sense, retried)),
    }
}

/// The drive elements of a report, by address, with their identifiers
/// (whole from the parser, cut ones from the bytes).
pub(crate) fn reported_drives(status: &rsm_scsi::ElementStatus, data: &[u8]) -> Vec<ReportedDrive> {
    let mut cut = cut_identifiers(data);
    let mut drives: Vec<ReportedDrive> = status
        .of_type(ElementType::DataTransfer)
        .map(|element: &ElementDescriptor| {
            let id = match (&element.dvcid, cut.remove(&element.address)) {
                (Some(id), _) => ReportedId::Whole(id.clone()),
                (None, Some((code_set, bytes))) => ReportedId::Cut { code_set, bytes },
                (None, None) => ReportedId::None,
            };
            ReportedDrive { address: element.address, id, full: element.full, barcode: barcode(element) }
        })
        .collect();
    drives.sort_by_key(|drive| drive.address);
    drives
}

/// Length of an element status page header and of the data header.
const HEADER_LEN: usize = rsm_scsi::element_status::HEADER_LEN;
/// Offset of the volume tags in an element descriptor (SMC-3).
const VOLUME_TAGS_OFFSET: usize = 12;
/// Length of one volume tag.
const VOLUME_TAG_LEN: usize = rsm_scsi::element_status::VOLUME_TAG_LEN;
/// Length of a designation descriptor's header (code set, type, reserved, length).
const DESIGNATOR_HEADER_LEN: usize = 4;

/// The device identifiers that the end of `data` cut, by element address:
/// the code set and the identifier bytes that arrived (at least one).
///
/// The walk follows SMC-3's layout (pages of descriptors; in each, the
/// volume tags the page header announces, then the identifier's 4-byte
/// header and its bytes); everything is bounds-checked, and a descriptor
/// length below 12 ends it.
pub(crate) fn cut_identifiers(data: &[u8]) -> BTreeMap<ElementAddress, (CodeSet, Vec<u8>)> {
    let mut cut = BTreeMap::new();
    let mut page = HEADER_LEN;
    // Each turn moves past a page header (8 bytes) at least.
    while let Some(header) = data.get(page..page.saturating_add(HEADER_LEN)) {
        let Ok([_, flags, len_hi, len_lo, _, count_2, count_1, count_0]) = <[u8; HEADER_LEN]>::try_from(header) else {
            break;
        };
        let descriptor_len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
        let page_bytes = usize::try_from(u32::from_be_bytes([0, count_2, count_1, count_0])).unwrap_or(usize::MAX);
        if descriptor_len < VOLUME_TAGS_OFFSET {
            break;
        }
        let tags = usize::from(flags & 0x80 != 0).saturating_add(usize::from(flags & 0x40 != 0));
        let id_at = VOLUME_TAGS_OFFSET.saturating_add(tags.saturating_mul(VOLUME_TAG_LEN));
        let start = page.saturating_add(HEADER_LEN);
        let end = start.saturating_add(page_bytes).min(data.len());
        let mut at = start;
        // Each turn moves by descriptor_len >= 12.
        while at < end {
            let descriptor = data.get(at..at.saturating_add(descriptor_len).min(end)).unwrap_or_default();
            let address = descriptor.first_chunk::<2>().map(|&pair| u16::from_be_bytes(pair));
            let id_header = descriptor.get(id_at..).and_then(|rest| rest.first_chunk::<DESIGNATOR_HEADER_LEN>());
            if let (Some(address), Some(&[code_set, _, _, id_len])) = (address, id_header) {
                let bytes = descriptor.get(id_at.saturating_add(DESIGNATOR_HEADER_LEN)..).unwrap_or_default();
                if !bytes.is_empty() && bytes.len() < usize::from(id_len) {
                    cut.insert(address, (CodeSet::from_code(code_set), bytes.to_vec()));
                }
            }
            at = at.saturating_add(descriptor_len);
        }
        page = start.saturating_add(page_bytes);
    }
    cut
}

/// Pairs drive elements with tape LUNs: whole identifiers, then cut ones,
/// then the configuration, then LUN order. Each LUN serves one element.
fn pair(
    drives: &[ReportedDrive],
    tapes: Vec<TapeLun>,
    configured: &[(ElementAddress, u16)],
    are_luns: bool,
    warnings: &mut Vec<String>,
) -> BTreeMap<ElementAddress, DriveLink> {
    // The LUNs not paired yet, with the forms of their identity.
    let mut free: BTreeMap<u16, (TapeLun, Vec<Vec<u8>>)> = tapes
        .into_iter()
        .map(|tape| {
            let forms = tape.identity.forms();
            (tape.lun, (tape, forms))
        })
        .collect();
    let mut paired: BTreeMap<ElementAddress, (TapeLun, DriveMatch)> = BTreeMap::new();

    for (whole, how) in [(true, DriveMatch::Identifier), (false, DriveMatch::IdentifierPrefix)] {
        for drive in drives {
            if matches!(drive.id, ReportedId::None) || matches!(drive.id, ReportedId::Whole(_)) != whole {
                continue;
            }
            let fits: Vec<u16> =
                free.iter().filter(|(_, (_, forms))| drive.id.matches(forms)).map(|(lun, _)| *lun).collect();
            let shown = drive.id.display().unwrap_or_default();
            match fits.as_slice() {
                [lun] => {
                    if let Some((tape, _)) = free.remove(lun) {
                        paired.insert(drive.address, (tape, how));
                    }
                }
                [] => warnings.push(format!(
                    "drive {}: the changer's identifier {shown:?} matches no unpaired tape LUN",
                    drive.address
                )),
                many => warnings
                    .push(format!("drive {}: the changer's identifier {shown:?} matches LUNs {many:?}", drive.address)),
            }
        }
    }

    for &(address, lun) in configured {
        if !drives.iter().any(|drive| drive.address == address) {
            warnings.push(format!("configured drive {address} (LUN {lun}) is not a drive element of the changer"));
            continue;
        }
        if let Some((tape, _)) = paired.get(&address) {
            if tape.lun != lun {
                warnings.push(format!(
                    "drive {address}: configured as LUN {lun}, but its identifier names LUN {}; the identifier wins",
                    tape.lun
                ));
            }
            continue;
        }
        match free.remove(&lun) {
            Some((tape, _)) => {
                paired.insert(address, (tape, DriveMatch::Configuration));
            }
            None if paired.values().any(|(tape, _)| tape.lun == lun) => {
                warnings.push(format!("drive {address}: configured LUN {lun} already serves another drive"));
            }
            None => warnings.push(format!("drive {address}: configured LUN {lun} is not a tape LUN of the target")),
        }
    }

    for drive in drives {
        if paired.contains_key(&drive.address) {
            continue;
        }
        match free.pop_first() {
            Some((lun, (tape, _))) => {
                warnings
                    .push(format!("drive {}: nothing identifies its LUN; took LUN {lun} in LUN order", drive.address));
                paired.insert(drive.address, (tape, DriveMatch::LunOrder));
            }
            None => {
                warnings.push(format!("drive {}: no tape LUN left for it; it cannot load or unload", drive.address))
            }
        }
    }
    for (lun, (tape, _)) in &free {
        match are_luns {
            true => warnings.push(format!("tape LUN {lun} serves no drive element of the changer")),
            false => {
                warnings.push(format!("tape {} serves no drive element of the changer", tape.transport.describe()))
            }
        }
    }

    paired
        .into_iter()
        .map(|(address, (tape, matched_by))| {
            let lun = are_luns.then_some(tape.lun);
            (address, DriveLink { transport: tape.transport, lun, matched_by })
        })
        .collect()
}

impl Inner {
    /// The library's topology (see [`ScsiChanger::topology`]); `warnings`
    /// come first, and every warning is logged.
    pub(crate) fn topology(&self, mut warnings: Vec<String>) -> Result<Topology, AdapterError> {
        let runner = self.runner();
        let identity = runner.inquiry(&*self.changer)?;
        let serial = runner.unit_serial(&*self.changer)?;
        let map = self.refresh_element_map()?;
        let (slots, ports, drives) = {
            let _robot = self.robot();
            let mut places = [Vec::new(), Vec::new()];
            for (kind, out) in [ElementType::Storage, ElementType::ImportExport].into_iter().zip(places.iter_mut()) {
                let range = map.range(kind);
                if range.count == 0 {
                    continue;
                }
                let status = self.read_elements(kind, range, false)?.0;
                out.extend(status.of_type(kind).map(|element| SlotInfo {
                    address: element.address,
                    barcode: barcode(element),
                    full: element.full,
                }));
                out.sort_by_key(|slot: &SlotInfo| slot.address);
            }
            let drives = if map.data_transfer.count > 0 {
                let (status, data) = read_drive_elements(&runner, &*self.changer, map.data_transfer)?;
                reported_drives(&status, &data)
            } else {
                Vec::new()
            };
            let [slots, ports] = places;
            (slots, ports, drives)
        };

        let mut infos = Vec::new();
        for drive in &drives {
            let mut info = DriveInfo {
                address: drive.address,
                lun: None,
                serial: None,
                vendor: None,
                product: None,
                identifier: drive.id.display(),
                matched_by: DriveMatch::Unmatched,
                full: drive.full,
                barcode: drive.barcode.clone(),
            };
            if let Some(link) = self.drives.get(&drive.address) {
                info.lun = link.lun;
                info.matched_by = link.matched_by;
                match runner.inquiry(&*link.transport) {
                    Ok(inquiry) => {
                        let identity = identify(&runner, &*link.transport, inquiry, &mut warnings);
                        if !matches!(drive.id, ReportedId::None) && !drive.id.matches(&identity.forms()) {
                            warnings.push(format!(
                                "drive {}: the changer's identifier {:?} does not name {} (serial {:?})",
                                drive.address,
                                info.identifier.as_deref().unwrap_or_default(),
                                link.transport.describe(),
                                identity.serial.as_deref().unwrap_or_default()
                            ));
                        }
                        info.vendor = Some(identity.vendor);
                        info.product = Some(identity.product);
                        info.serial = identity.serial;
                    }
                    Err(error) => warnings.push(format!("drive {}: INQUIRY failed: {error}", drive.address)),
                }
            }
            infos.push(info);
        }
        for address in self.drives.keys().filter(|address| !drives.iter().any(|drive| drive.address == **address)) {
            warnings.push(format!("a transport was given for drive {address}, which the changer does not report"));
        }
        for warning in &warnings {
            tracing::warn!(changer = %self.changer.describe(), "{warning}");
        }
        Ok(Topology {
            vendor: identity.vendor,
            product: identity.product,
            revision: identity.revision,
            serial,
            transport: transport_address(&map),
            drives: infos,
            slots,
            ports,
            warnings,
        })
    }
}
