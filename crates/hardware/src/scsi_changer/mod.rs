//! The SCSI media changer adapter: a [`HardwareAdapter`] that drives a real
//! library (SMC-3 changer, SSC-3 tape drives) through [`ScsiTransport`]s.
//!
//! [`ScsiChanger`] sends CDBs built by `rsm-scsi` and reads the answers with
//! its parsers: MOVE MEDIUM on the changer, TEST UNIT READY and LOAD UNLOAD
//! on each drive's own LUN, READ ELEMENT STATUS of each element type for the
//! inventory. It speaks element addresses and sense data only: a failed
//! command is an [`AdapterError::Check`] with the device's own sense, which
//! the engine maps to an NTMS code.
//!
//! [`ScsiChanger::attach_iscsi`] connects to a changer's iSCSI LUN, finds
//! the target's tape LUNs and pairs each drive element with its LUN (see
//! [`DriveMatch`] for how), and returns the library's [`Topology`].
//!
//! *Retries:* every command is sent again, after a backoff of
//! [`ChangerOptions::retry_backoff_ms`] doubling up to
//! [`ChangerOptions::retry_backoff_max_ms`], at most
//! [`ChangerOptions::retries`] times, while the device answers UNIT
//! ATTENTION, NOT READY "becoming ready" (04/01), BUSY or TASK SET FULL:
//! answers that say the command was not carried out. Nothing else is
//! retried; in particular a transport error (timeout, lost connection) is
//! not, since the device may have carried the command out.
//!
//! *Blocking:* transports block. Every [`HardwareAdapter`] method runs its
//! commands inside `tokio::task::spawn_blocking`, so the runtime's threads
//! never wait on a device; it must be called within a tokio runtime. A
//! future dropped before it completes does not stop the command: the
//! physical effect may still happen, and [`HardwareAdapter::element_status`]
//! tells.
//!
//! *Invariant (one robot):* movements and inventories take turns (a mutex
//! held for the whole MOVE MEDIUM or the whole READ ELEMENT STATUS series),
//! so an inventory never sees the library half-way through a move of its
//! own adapter. Drives work in parallel with the robot and with each other:
//! each has its own transport.
//!
//! tgt, the virtual library of the tests, deviates from SMC in ways this
//! adapter copes with: READ ELEMENT STATUS is read one element type at a
//! time with volume tags, the last descriptor comes 8 bytes short (which
//! cuts the last drive's device identifier: see [`DriveMatch::IdentifierPrefix`]),
//! and no UNIT ATTENTION tells of changes made behind the adapter's back,
//! so the inventory is always read from the device, never cached.
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

mod command;
mod discovery;
mod tape;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rsm_scsi::{cdb, Condition, ElementMap, ElementRange, ElementType, Sense, SenseKey};
use rsm_transport::{IscsiUrl, ScsiTransport};
use serde::{Deserialize, Serialize};

use crate::adapter::{AdapterError, ElementAddress, ElementKind, ElementStatus, HardwareAdapter, SenseData};
use command::{check_error, sense_data, Answer, Clock, Elements, Reply, Runner, SystemClock};

/// Every bound the adapter puts on what it sends and waits for, with why.
pub mod changer_limits {
    /// Most retries a command gets, whatever [`super::ChangerOptions::retries`]
    /// says: with the backoff capped at a second or so, 20 retries already
    /// wait long enough for a unit attention storm or a busy device to pass.
    pub const RETRIES_MAX: u32 = 20;

    /// Allocation length of standard INQUIRY: 96 bytes cover every field up
    /// to the version descriptors (rsm reads the first 36).
    pub const INQUIRY_LEN: u16 = 96;

    /// Allocation length of a VPD page (0x80, 0x83): 255, which fits the
    /// one-byte allocation length of SPC-2 devices too. tgt's pages are 40
    /// and 76 bytes; a longer 0x83 page is refused as unreadable.
    pub const VPD_LEN: u16 = 255;

    /// Allocation length of MODE SENSE page 1Dh: the page is 20 bytes, plus
    /// a header of 4 or 8 and block descriptors a changer should not send.
    pub const MODE_SENSE_LEN: u8 = 255;

    /// Largest READ ELEMENT STATUS report read: 16-bit element addresses
    /// bound one type to 65,536 elements; at 52 bytes per descriptor with a
    /// volume tag (86 with a device identifier too) that is below 6 MiB, and
    /// the CDB's 24-bit field caps it at 16 MiB - 1 anyway. A device that
    /// announces more gets this much asked for, and the short report is
    /// checked against the element count.
    pub const ELEMENT_STATUS_LEN_MAX: u32 = 6 << 20;

    /// Allocation length of REPORT LUNS: the 8-byte header and 256 LUNs,
    /// more than any library's drives.
    pub const REPORT_LUNS_LEN: u32 = 8 + 8 * 256;

    /// LOAD commands [`crate::HardwareAdapter::load`] sends at most while
    /// the drive reports no tape threaded: the first, one more with RETEN
    /// for a drive that said GOOD and stayed unloaded (tgt), and one for a
    /// drive that had not yet seen the cartridge the first time.
    pub const LOADS_MAX: u32 = 3;

    /// LUNs probed with INQUIRY when the target refuses REPORT LUNS: 0..16.
    pub const LUN_PROBE_COUNT: u16 = 16;

    /// Bytes of an unreadable answer shown in an error message.
    pub const HEX_IN_MESSAGES_MAX: usize = 64;
}

/// How a [`ScsiChanger`] talks to its library: retries, timeouts, and which
/// drive is which LUN when the changer does not say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChangerOptions {
    /// How many times a command is sent again after UNIT ATTENTION, NOT
    /// READY becoming ready, BUSY or TASK SET FULL (capped at
    /// [`changer_limits::RETRIES_MAX`]). Default 5.
    pub retries: u32,
    /// Wait before the first retry, and the first poll interval of a drive
    /// that is becoming ready; it doubles each time. Default 50 ms.
    pub retry_backoff_ms: u64,
    /// The longest wait between two retries or polls. Default 1,000 ms.
    pub retry_backoff_max_ms: u64,
    /// Time allowed for a command that moves nothing (INQUIRY, MODE SENSE,
    /// READ ELEMENT STATUS, TEST UNIT READY). Default 30 s: READ ELEMENT
    /// STATUS may make a changer scan its bar codes.
    pub command_timeout_ms: u32,
    /// Time allowed for one MOVE MEDIUM. Default 300 s, as Linux's `ch`
    /// driver allows: a robot may have to retry a grip or cross a large
    /// library.
    pub move_timeout_ms: u32,
    /// Time allowed for LOAD UNLOAD (a drive rewinds a full tape, then
    /// ejects it). Default 600 s.
    pub unload_timeout_ms: u32,
    /// How long [`HardwareAdapter::load`] waits for a drive to become ready
    /// after a cartridge was put in it. Default 300 s.
    pub ready_timeout_ms: u64,
    /// Which LUN each drive element is, for changers that do not identify
    /// their drives (no DVCID) or identify them by something the drives do
    /// not report: consulted by [`ScsiChanger::attach_iscsi`] for the drives
    /// the identifiers left unmatched.
    pub drive_luns: Vec<(ElementAddress, u16)>,
}

impl Default for ChangerOptions {
    fn default() -> Self {
        Self {
            retries: 5,
            retry_backoff_ms: 50,
            retry_backoff_max_ms: 1_000,
            command_timeout_ms: 30_000,
            move_timeout_ms: 300_000,
            unload_timeout_ms: 600_000,
            ready_timeout_ms: 300_000,
            drive_luns: Vec::new(),
        }
    }
}

/// A library as discovered: its identity, its elements and what is in
/// them, and which LUN each drive is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// The changer's T10 vendor (standard INQUIRY), trimmed.
    pub vendor: String,
    /// The changer's product identification, trimmed.
    pub product: String,
    /// The changer's product revision level, trimmed.
    pub revision: String,
    /// The changer's unit serial number (VPD 0x80), if it has the page.
    pub serial: Option<String>,
    /// The medium transport element MOVE MEDIUM names (the first of MODE
    /// SENSE page 1Dh; 0, "the default transport" in SMC, if it lists none).
    pub transport: ElementAddress,
    /// The data transfer elements, by address.
    pub drives: Vec<DriveInfo>,
    /// The storage elements, by address.
    pub slots: Vec<SlotInfo>,
    /// The import/export elements (mail slots), by address.
    pub ports: Vec<PortInfo>,
    /// What discovery could not settle cleanly, in the order met: drives
    /// paired by configuration or LUN order, LUNs left over, identifiers
    /// that contradict the pairing, drives that did not answer. Also logged.
    pub warnings: Vec<String>,
}

/// A data transfer element (drive) and the LUN that reaches it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveInfo {
    /// The element address.
    pub address: ElementAddress,
    /// The drive's LUN on the changer's target; `None` for drives given to
    /// [`ScsiChanger::new`] (whose transports say nothing of LUNs) and for
    /// a drive no LUN was found for (which then cannot load or unload).
    pub lun: Option<u16>,
    /// The drive's unit serial number (VPD 0x80), if it answered.
    pub serial: Option<String>,
    /// The drive's T10 vendor (standard INQUIRY), if it answered.
    pub vendor: Option<String>,
    /// The drive's product identification, if it answered.
    pub product: Option<String>,
    /// The device identifier the changer reports for the element (DVCID),
    /// as text (hex if binary), with `…` at the end if the changer cut it.
    pub identifier: Option<String>,
    /// How the element was paired with its transport.
    pub matched_by: DriveMatch,
    /// A cartridge is in the drive.
    pub full: bool,
    /// Its bar code, if full and labelled.
    pub barcode: Option<String>,
}

/// How a drive element was paired with the transport (LUN) that reaches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DriveMatch {
    /// The changer's device identifier for the element (DVCID) equals an
    /// identity of the LUN: a VPD 0x83 designator, the VPD 0x80 serial
    /// number, or the T10 form vendor + product + serial (what tgt and most
    /// libraries report), compared without spaces.
    Identifier,
    /// The changer's identifier came cut short (tgt sends every READ
    /// ELEMENT STATUS 8 bytes short, so its last drive's identifier loses
    /// its last 8 bytes) and is the start of the identity of exactly one
    /// LUN not already paired.
    IdentifierPrefix,
    /// [`ChangerOptions::drive_luns`] named the LUN.
    Configuration,
    /// Nothing identified the drive: it got the next unpaired tape LUN in
    /// LUN order (a warning says so).
    LunOrder,
    /// The transport was given to [`ScsiChanger::new`] for this address.
    Given,
    /// No LUN: the drive cannot load or unload.
    Unmatched,
}

/// A storage element (slot) and what is in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotInfo {
    /// The element address.
    pub address: ElementAddress,
    /// The bar code of the cartridge in it, if full and labelled.
    pub barcode: Option<String>,
    /// A cartridge is in the element.
    pub full: bool,
}

/// An import/export element (mail slot): the same fields as a slot.
pub type PortInfo = SlotInfo;

/// A drive's transport and how it was found.
struct DriveLink {
    /// Commands for the drive's own LUN: TEST UNIT READY, LOAD UNLOAD, INQUIRY.
    transport: Arc<dyn ScsiTransport>,
    /// Its LUN, when discovery found it as one.
    lun: Option<u16>,
    /// How it was paired with its element.
    matched_by: DriveMatch,
}

/// A [`HardwareAdapter`] over a SCSI medium changer and its tape drives.
///
/// Cloning is cheap and shares the transports.
///
/// ```no_run
/// use rsm_hardware::{ChangerOptions, HardwareAdapter, ScsiChanger};
/// use rsm_transport::IscsiUrl;
///
/// # async fn mount() -> Result<(), Box<dyn std::error::Error>> {
/// let url: IscsiUrl = "iscsi://127.0.0.1:3260/iqn.2026-11.org.rsm:vtl-3260/3".parse()?;
/// let (changer, topology) =
///     ScsiChanger::attach_iscsi(&url, "iqn.2026-11.org.rsm:host1", ChangerOptions::default()).await?;
/// let (slot, drive) = (topology.slots[0].address, topology.drives[0].address);
/// changer.move_medium(slot, drive).await?;
/// changer.load(drive).await?;
/// assert!(changer.element_status().await?.iter().any(|e| e.address == drive && e.full));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ScsiChanger {
    inner: Arc<Inner>,
}

/// What the blocking threads share.
struct Inner {
    /// The changer's LUN: MOVE MEDIUM, READ ELEMENT STATUS, MODE SENSE.
    changer: Arc<dyn ScsiTransport>,
    /// Each drive element's transport, by address.
    drives: BTreeMap<ElementAddress, DriveLink>,
    /// Retries and timeouts.
    options: ChangerOptions,
    /// Waiting between retries and polls, and measuring the ready timeout.
    clock: Arc<dyn Clock>,
    /// The element address assignment (MODE SENSE page 1Dh), read on first
    /// need and again by [`ScsiChanger::topology`]. A std mutex held only
    /// on a blocking thread.
    map: Mutex<Option<ElementMap>>,
    /// The one robot: held for a whole MOVE MEDIUM or inventory.
    robot: Mutex<()>,
    /// A UNIT ATTENTION said the elements may have changed since the last
    /// [`HardwareAdapter::elements_changed`].
    elements_changed: std::sync::atomic::AtomicBool,
    /// The drives that said they need cleaning since the last
    /// [`HardwareAdapter::drives_needing_cleaning`].
    cleaning_requested: Mutex<std::collections::BTreeSet<ElementAddress>>,
}

/// Watches one drive's commands for CLEANING REQUESTED; records the drive
/// when dropped if one said so.
struct CleaningWatch<'a> {
    inner: &'a Inner,
    drive: ElementAddress,
    flag: std::sync::atomic::AtomicBool,
}

impl Drop for CleaningWatch<'_> {
    fn drop(&mut self) {
        if self.flag.load(std::sync::atomic::Ordering::SeqCst) {
            self.inner.cleaning_requested.lock().unwrap_or_else(PoisonError::into_inner).insert(self.drive);
        }
    }
}

impl fmt::Debug for ScsiChanger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let drives: BTreeMap<_, _> =
            self.inner.drives.iter().map(|(address, link)| (*address, link.transport.describe())).collect();
        f.debug_struct("ScsiChanger")
            .field("changer", &self.inner.changer.describe())
            .field("drives", &drives)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl ScsiChanger {
    /// A changer reached through `changer`, whose drive elements are reached
    /// through the transports in `drives` (an address listed twice keeps its
    /// last transport). Sends nothing: the element layout is read on first
    /// use, and [`ScsiChanger::topology`] tells what the library holds.
    pub fn new(
        changer: Arc<dyn ScsiTransport>,
        drives: Vec<(ElementAddress, Arc<dyn ScsiTransport>)>,
        options: ChangerOptions,
    ) -> Self {
        let drives = drives
            .into_iter()
            .map(|(address, transport)| (address, DriveLink { transport, lun: None, matched_by: DriveMatch::Given }))
            .collect();
        Self::from_parts(changer, drives, options, Arc::new(SystemClock::new()), None)
    }

    fn from_parts(
        changer: Arc<dyn ScsiTransport>,
        drives: BTreeMap<ElementAddress, DriveLink>,
        options: ChangerOptions,
        clock: Arc<dyn Clock>,
        map: Option<ElementMap>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                changer,
                drives,
                options,
                clock,
                map: Mutex::new(map),
                robot: Mutex::new(()),
                elements_changed: Default::default(),
                cleaning_requested: Default::default(),
            }),
        }
    }

    /// Connects to the changer at `url` (its LUN) as `initiator`, finds the
    /// target's tape drives and pairs each drive element with its LUN, and
    /// reads the library's [`Topology`].
    ///
    /// The tape LUNs come from REPORT LUNS, or from INQUIRY of LUNs
    /// 0..[`changer_limits::LUN_PROBE_COUNT`] if the target refuses it; each is
    /// opened in a session of its own. A drive element is paired with a LUN
    /// by, in order: the device identifier the changer reports for it
    /// ([`DriveMatch::Identifier`], [`DriveMatch::IdentifierPrefix`]),
    /// [`ChangerOptions::drive_luns`], and LUN order (with a warning).
    ///
    /// # Errors
    /// [`AdapterError::NotConnected`] if libiscsi is missing or the login to
    /// the changer fails; [`AdapterError::Io`] if the LUN is not a medium
    /// changer or an answer is unreadable; [`AdapterError::Check`] if the
    /// changer refuses a command discovery needs (MODE SENSE, READ ELEMENT
    /// STATUS). A drive LUN that cannot be opened is a warning, not an error.
    pub async fn attach_iscsi(
        url: &IscsiUrl,
        initiator: &str,
        options: ChangerOptions,
    ) -> Result<(ScsiChanger, Topology), AdapterError> {
        let url = url.clone();
        let initiator = initiator.to_owned();
        tokio::task::spawn_blocking(move || discovery::attach_iscsi(&url, &initiator, options))
            .await
            .map_err(|e| AdapterError::Io(format!("attach: the blocking task failed: {e}")))?
    }

    /// Opens the changer at `path`, a SCSI generic device (`/dev/sgN`, Linux
    /// only), finds its tape drives among the other `sgN` devices of the
    /// same directory (each drive of a directly attached library is a device
    /// of its own) and reads the library's [`Topology`]. Drives are paired
    /// with devices as [`ScsiChanger::attach_iscsi`] pairs them with LUNs,
    /// by identifier first, then in device order (with a warning);
    /// [`DriveInfo::lun`] stays `None`.
    ///
    /// # Errors
    /// [`AdapterError::NotConnected`] if `path` cannot be opened as an sg
    /// device; otherwise as [`ScsiChanger::attach_iscsi`].
    #[cfg(target_os = "linux")]
    pub async fn attach_sg(
        path: &std::path::Path,
        options: ChangerOptions,
    ) -> Result<(ScsiChanger, Topology), AdapterError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || discovery::attach_sg(&path, options))
            .await
            .map_err(|e| AdapterError::Io(format!("attach: the blocking task failed: {e}")))?
    }

    /// Reads the library's [`Topology`] again: identity, element layout
    /// (MODE SENSE page 1Dh, which the adapter then uses), every element's
    /// status, and each drive's identity as its LUN reports it, checked
    /// against the changer's identifier for the element.
    ///
    /// # Errors
    /// As [`HardwareAdapter::element_status`]; a drive that does not answer
    /// is a warning in the topology.
    pub async fn topology(&self) -> Result<Topology, AdapterError> {
        self.blocking("topology", |inner| inner.topology(Vec::new())).await
    }

    /// The transport of the drive at `drive`, if it has one: for callers
    /// that send their own commands to a drive (reading or writing tape).
    pub fn drive_transport(&self, drive: ElementAddress) -> Option<Arc<dyn ScsiTransport>> {
        self.inner.drives.get(&drive).map(|link| Arc::clone(&link.transport))
    }

    async fn blocking<T, F>(&self, what: &'static str, work: F) -> Result<T, AdapterError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, AdapterError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| AdapterError::Io(format!("{what}: the blocking task failed: {e}")))?
    }
}

#[async_trait]
impl HardwareAdapter for ScsiChanger {
    /// MOVE MEDIUM from `source` to `destination` with the transport element
    /// of MODE SENSE page 1Dh, never inverted. GOOD means the robot is done.
    /// The device's refusals come back as its sense: source empty 05/3B/0E,
    /// destination full 05/3B/0D, removal prevented 05/53/02, an address
    /// that does not exist 05/21/01 (tgt: 05/24/00).
    async fn move_medium(&self, source: ElementAddress, destination: ElementAddress) -> Result<(), AdapterError> {
        self.blocking("MOVE MEDIUM", move |inner| inner.move_medium(source, destination)).await
    }

    /// Waits until the drive is ready: TEST UNIT READY on its LUN, polled
    /// with the retry backoff for at most [`ChangerOptions::ready_timeout_ms`].
    /// A drive that reports no medium (3A) or that it needs a LOAD (04/02)
    /// gets a LOAD if the changer says the element is full (if it is empty,
    /// the drive's sense, 02/3A/00, is the answer at once); a drive that
    /// answers GOOD to it and still has no tape threaded gets one with RETEN
    /// set, what tgt acts on (see [`HardwareAdapter::unload`] here); at most
    /// [`changer_limits::LOADS_MAX`] LOADs. Any other CHECK CONDITION ends
    /// the wait with the device's sense; a drive still not ready at the
    /// deadline gives its last sense.
    ///
    /// An address that is not a drive of the changer →
    /// [`SenseData::INVALID_ELEMENT`]; a drive without a LUN →
    /// [`AdapterError::NotConnected`].
    async fn load(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        self.blocking("LOAD", move |inner| inner.load(drive)).await
    }

    /// SSC LOAD UNLOAD (unload) on the drive's LUN, then TEST UNIT READY to
    /// check the tape is out. A drive that still answers GOOD gets a second
    /// LOAD UNLOAD with RETEN set: tgt reads LOAD UNLOAD as START STOP UNIT,
    /// ignores a plain unload and ejects on that bit (its LOEJ). Still
    /// ready after that → [`SenseData::LOAD_EJECT_FAILED`] (the device said
    /// GOOD, so this sense is the adapter's). A drive that reports no medium
    /// (3A) has nothing threaded: success if the changer says the element is
    /// full (unloaded already, as the simulator allows), the drive's sense
    /// (02/3A/00) if it is empty.
    async fn unload(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        self.blocking("UNLOAD", move |inner| inner.unload(drive)).await
    }

    /// REWIND and READ(6) on the drive's LUN (see `tape.rs`).
    async fn read_first_block(&self, drive: ElementAddress) -> Result<Option<Vec<u8>>, AdapterError> {
        self.blocking("READ", move |inner| {
            let link = inner.drive(drive, &format!("READ first block of drive {drive}"))?;
            let watch = inner.cleaning_watch(drive);
            tape::read_first_block(
                &inner.drive_runner(&watch),
                &*link.transport,
                drive,
                inner.options.unload_timeout_ms,
            )
        })
        .await
    }

    /// REWIND, WRITE(6), WRITE FILEMARKS and REWIND on the drive's LUN.
    async fn write_first_block(&self, drive: ElementAddress, block: &[u8]) -> Result<(), AdapterError> {
        let block = block.to_vec();
        self.blocking("WRITE", move |inner| {
            let link = inner.drive(drive, &format!("WRITE first block of drive {drive}"))?;
            let watch = inner.cleaning_watch(drive);
            let runner = inner.drive_runner(&watch);
            tape::write_first_block(&runner, &*link.transport, drive, &block, inner.options.unload_timeout_ms)
        })
        .await
    }

    /// READ ELEMENT STATUS of each element type in turn (transport, slots,
    /// ports, drives; each in two steps, with volume tags), sorted by
    /// address. A bar code is reported only for a full element (tgt keeps a
    /// stale tag on a drive after a failed load).
    async fn element_status(&self) -> Result<Vec<ElementStatus>, AdapterError> {
        self.blocking("READ ELEMENT STATUS", Inner::element_status).await
    }

    /// PREVENT ALLOW MEDIUM REMOVAL on the changer's LUN.
    async fn allow_medium_removal(&self, allow: bool) -> Result<(), AdapterError> {
        self.blocking("PREVENT ALLOW MEDIUM REMOVAL", move |inner| {
            let cdb = cdb::prevent_allow_medium_removal(!allow);
            let operation = if allow { "ALLOW MEDIUM REMOVAL" } else { "PREVENT MEDIUM REMOVAL" };
            inner.runner().run(&*inner.changer, operation, &cdb, 0, inner.options.move_timeout_ms).map(drop)
        })
        .await
    }

    /// Waits while the drive cleans (it answers NOT READY: CLEANING
    /// CARTRIDGE INSTALLED 30/03, or becoming ready 04/01), polled with the
    /// retry backoff for at most [`ChangerOptions::unload_timeout_ms`], then
    /// unloads it as [`HardwareAdapter::unload`] does (a drive that ejected
    /// the cleaner by itself reports no medium: done).
    async fn clean(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        self.blocking("CLEAN", move |inner| inner.clean(drive)).await
    }

    /// The drives whose commands said CLEANING REQUESTED (00/17) since the
    /// last call.
    async fn drives_needing_cleaning(&self) -> Result<Vec<ElementAddress>, AdapterError> {
        let mut asked = self.inner.cleaning_requested.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(std::mem::take(&mut *asked).into_iter().collect())
    }

    /// TEST UNIT READY on the changer's LUN, so that a pending UNIT
    /// ATTENTION is reported; true if one since the last call said the
    /// medium or elements may have changed (28h), on this or any command.
    async fn elements_changed(&self) -> Result<bool, AdapterError> {
        self.blocking("TEST UNIT READY", |inner| {
            let cdb = cdb::test_unit_ready();
            // Whatever else it answers (not ready, say) is not this question's.
            inner.runner().send(&*inner.changer, "TEST UNIT READY", &cdb, 0, inner.options.move_timeout_ms)?;
            Ok(inner.elements_changed.swap(false, std::sync::atomic::Ordering::SeqCst))
        })
        .await
    }
}

impl Inner {
    fn runner(&self) -> Runner<'_> {
        Runner { options: &self.options, clock: &*self.clock, attention: Some(&self.elements_changed), cleaning: None }
    }

    /// A runner for `drive`'s commands: one that says it needs cleaning is
    /// remembered when the returned watch drops.
    fn drive_runner<'a>(&'a self, watch: &'a CleaningWatch<'a>) -> Runner<'a> {
        Runner { cleaning: Some(&watch.flag), ..self.runner() }
    }

    fn cleaning_watch(&self, drive: ElementAddress) -> CleaningWatch<'_> {
        CleaningWatch { inner: self, drive, flag: std::sync::atomic::AtomicBool::new(false) }
    }

    fn robot(&self) -> MutexGuard<'_, ()> {
        self.robot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The element layout, read (MODE SENSE 1Dh) on first need.
    fn element_map(&self) -> Result<ElementMap, AdapterError> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(map) = *map {
            return Ok(map);
        }
        let read = self.runner().element_map(&*self.changer)?;
        *map = Some(read);
        Ok(read)
    }

    /// Reads the element layout again and keeps it.
    fn refresh_element_map(&self) -> Result<ElementMap, AdapterError> {
        let read = self.runner().element_map(&*self.changer)?;
        *self.map.lock().unwrap_or_else(PoisonError::into_inner) = Some(read);
        Ok(read)
    }

    fn move_medium(&self, source: ElementAddress, destination: ElementAddress) -> Result<(), AdapterError> {
        let transport = transport_address(&self.element_map()?);
        let operation = format!("MOVE MEDIUM {source} -> {destination}");
        let cdb = cdb::move_medium(transport, source, destination, false);
        let _robot = self.robot();
        self.runner().run(&*self.changer, &operation, &cdb, 0, self.options.move_timeout_ms).map(drop)
    }

    /// The link of `drive`, or why there is none.
    fn drive(&self, drive: ElementAddress, operation: &str) -> Result<&DriveLink, AdapterError> {
        if let Some(link) = self.drives.get(&drive) {
            return Ok(link);
        }
        if self.element_map()?.data_transfer.contains(drive) {
            Err(AdapterError::NotConnected(format!("{operation}: drive {drive} has no LUN (see the topology)")))
        } else {
            Err(AdapterError::Check { operation: operation.to_owned(), sense: SenseData::INVALID_ELEMENT })
        }
    }

    /// Whether the changer says a cartridge is in `drive`.
    fn drive_full(&self, drive: ElementAddress) -> Result<bool, AdapterError> {
        let range = ElementRange { first: drive, count: 1 };
        match self.runner().read_elements(&*self.changer, ElementType::DataTransfer, range, false)? {
            Elements::Read { status, .. } => status.get(drive).map(|element| element.full).ok_or_else(|| {
                AdapterError::Io(format!("READ ELEMENT STATUS of drive {drive}: the element was not reported"))
            }),
            Elements::Refused { sense, retried } => {
                Err(check_error(&format!("READ ELEMENT STATUS of drive {drive}"), &sense, retried))
            }
        }
    }

    fn load(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        let operation = format!("LOAD drive {drive}");
        let link = self.drive(drive, &operation)?;
        let transport = &*link.transport;
        let watch = self.cleaning_watch(drive);
        let runner = self.drive_runner(&watch);
        let timeout_ms = self.options.command_timeout_ms;
        let started = self.clock.elapsed();
        let ready_timeout = Duration::from_millis(self.options.ready_timeout_ms);
        let tur = format!("TEST UNIT READY of drive {drive}");
        let (mut loads_sent, mut loads_good) = (0_u32, 0_u32);
        let mut polls = 0_u32;
        loop {
            let sense = match runner.once(transport, &tur, &cdb::test_unit_ready(), 0, timeout_ms)? {
                Reply::Good(_) => return Ok(()),
                Reply::Check(sense) => Some(sense),
                Reply::Busy(_) => None,
            };
            match sense.as_ref().map_or(ReadyStep::Wait, ready_step) {
                ReadyStep::Fail(sense) => return Err(check_error(&operation, sense, 0)),
                ReadyStep::NeedsLoad(sense) if loads_sent < changer_limits::LOADS_MAX => {
                    if loads_sent == 0 && sense.classify() == Condition::MediumNotPresent && !self.drive_full(drive)? {
                        return Err(check_error(&operation, sense, 0));
                    }
                    // A drive that said GOOD to a LOAD and still has no tape
                    // threaded ignores LOAD UNLOAD: tgt reads it as START
                    // STOP UNIT, where only LOEJ (SSC's RETEN bit) acts.
                    let reten = loads_good > 0;
                    let what = format!("LOAD UNLOAD (load{}) of drive {drive}", if reten { ", RETEN" } else { "" });
                    let load = load_unload(true, reten);
                    match runner.send(transport, &what, &load, 0, self.options.unload_timeout_ms)? {
                        Answer::Good(_) => loads_good = loads_good.saturating_add(1),
                        Answer::Check { sense, retried } => {
                            if let ReadyStep::Fail(_) = ready_step(&sense) {
                                return Err(check_error(&what, &sense, retried));
                            }
                        }
                    }
                    loads_sent = loads_sent.saturating_add(1);
                }
                ReadyStep::NeedsLoad(_) | ReadyStep::Wait => {}
            }
            let waited = self.clock.elapsed().saturating_sub(started);
            if waited >= ready_timeout {
                let after = format!("{operation}: not ready after {} ms", self.options.ready_timeout_ms);
                return Err(match sense {
                    Some(sense) => {
                        AdapterError::Check { operation: format!("{after} (last: {sense})"), sense: sense_data(&sense) }
                    }
                    None => AdapterError::Io(format!("{after} (the drive answers BUSY)")),
                });
            }
            self.clock.sleep(runner.backoff(polls).min(ready_timeout.saturating_sub(waited)));
            polls = polls.saturating_add(1);
        }
    }

    fn unload(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        let operation = format!("UNLOAD drive {drive}");
        let link = self.drive(drive, &operation)?;
        let transport = &*link.transport;
        let watch = self.cleaning_watch(drive);
        let runner = self.drive_runner(&watch);
        let tur = format!("TEST UNIT READY of drive {drive} after the unload");
        for reten in [false, true] {
            // The second round only for a drive that said GOOD and stayed
            // ready: tgt, which reads LOAD UNLOAD as START STOP UNIT and
            // ejects only on LOEJ, SSC's RETEN bit.
            let what = if reten { format!("{operation} (again, with RETEN)") } else { operation.clone() };
            let unload = load_unload(false, reten);
            match runner.send(transport, &what, &unload, 0, self.options.unload_timeout_ms)? {
                Answer::Good(_) => {}
                Answer::Check { sense, .. } if sense.classify() == Condition::MediumNotPresent => {
                    return self.unloaded_unless_empty(drive, &operation, &sense);
                }
                Answer::Check { sense, retried } => return Err(check_error(&what, &sense, retried)),
            }
            match runner.send(transport, &tur, &cdb::test_unit_ready(), 0, self.options.command_timeout_ms)? {
                Answer::Good(_) => {}
                Answer::Check { sense, .. } if sense.classify() == Condition::MediumNotPresent => {
                    return self.unloaded_unless_empty(drive, &operation, &sense);
                }
                Answer::Check { sense, .. } if sense.key == SenseKey::NotReady => return Ok(()),
                Answer::Check { sense, retried } => return Err(check_error(&tur, &sense, retried)),
            }
        }
        Err(AdapterError::Check {
            operation: format!("{operation}: LOAD UNLOAD answered GOOD twice, yet the drive still reports ready"),
            sense: SenseData::LOAD_EJECT_FAILED,
        })
    }

    fn clean(&self, drive: ElementAddress) -> Result<(), AdapterError> {
        let operation = format!("CLEAN drive {drive}");
        let link = self.drive(drive, &operation)?;
        let transport = &*link.transport;
        let watch = self.cleaning_watch(drive);
        let runner = self.drive_runner(&watch);
        let limit = Duration::from_millis(u64::from(self.options.unload_timeout_ms));
        let started = self.clock.elapsed();
        let tur = format!("TEST UNIT READY of drive {drive} while it cleans");
        let mut polls = 0_u32;
        loop {
            let cleaning =
                match runner.once(transport, &tur, &cdb::test_unit_ready(), 0, self.options.command_timeout_ms)? {
                    Reply::Check(sense) => {
                        let installed = (sense.asc, sense.ascq) == (0x30, 0x03);
                        let becoming = sense.classify() == Condition::NotReady { becoming_ready: true };
                        (installed || becoming).then_some(sense)
                    }
                    Reply::Good(_) | Reply::Busy(_) => None,
                };
            let Some(sense) = cleaning else { break };
            let waited = self.clock.elapsed().saturating_sub(started);
            if waited >= limit {
                return Err(check_error(
                    &format!("{operation}: still cleaning after {} ms", limit.as_millis()),
                    &sense,
                    0,
                ));
            }
            self.clock.sleep(runner.backoff(polls).min(limit.saturating_sub(waited)));
            polls = polls.saturating_add(1);
        }
        // Recorded now if the drive still asked for cleaning while it cleaned.
        drop(watch);
        self.unload(drive)
    }

    /// After a drive reported no medium (3A): the unload is done if the
    /// changer says the cartridge is in the drive's element, else the drive
    /// is empty and its sense is the answer.
    fn unloaded_unless_empty(&self, drive: ElementAddress, operation: &str, sense: &Sense) -> Result<(), AdapterError> {
        if self.drive_full(drive)? {
            Ok(())
        } else {
            Err(check_error(operation, sense, 0))
        }
    }

    fn element_status(&self) -> Result<Vec<ElementStatus>, AdapterError> {
        let map = self.element_map()?;
        let _robot = self.robot();
        let mut elements = Vec::new();
        for kind in ElementType::ALL {
            let range = map.range(kind);
            if range.count == 0 {
                continue;
            }
            let status = self.read_elements(kind, range, false)?.0;
            elements.extend(status.of_type(kind).map(|element| ElementStatus {
                address: element.address,
                kind: element_kind(kind),
                full: element.full,
                barcode: barcode(element),
            }));
        }
        elements.sort_by_key(|element| element.address);
        Ok(elements)
    }

    /// READ ELEMENT STATUS of one type, CHECK CONDITION as an error.
    fn read_elements(
        &self,
        kind: ElementType,
        range: ElementRange,
        dvcid: bool,
    ) -> Result<(rsm_scsi::ElementStatus, Vec<u8>), AdapterError> {
        match self.runner().read_elements(&*self.changer, kind, range, dvcid)? {
            Elements::Read { status, data } => Ok((status, data)),
            Elements::Refused { sense, retried } => {
                let what = format!("READ ELEMENT STATUS of {} elements", command::kind_name(kind));
                Err(check_error(&what, &sense, retried))
            }
        }
    }
}

/// What a drive's answer to TEST UNIT READY means for a load in progress.
enum ReadyStep<'a> {
    /// Keep polling: it is on its way (UNIT ATTENTION, 04/00, 04/01, 04/07,
    /// BUSY).
    Wait,
    /// It has no tape threaded and waits for a LOAD (3A/xx, 04/02).
    NeedsLoad(&'a Sense),
    /// Anything else: the load failed, with this sense.
    Fail(&'a Sense),
}

fn ready_step(sense: &Sense) -> ReadyStep<'_> {
    match (sense.classify(), sense.asc, sense.ascq) {
        (Condition::UnitAttention, _, _) => ReadyStep::Wait,
        (Condition::MediumNotPresent, _, _) | (Condition::NotReady { .. }, 0x04, 0x02) => ReadyStep::NeedsLoad(sense),
        (Condition::NotReady { .. }, 0x04, 0x00 | 0x01 | 0x07) => ReadyStep::Wait,
        _ => ReadyStep::Fail(sense),
    }
}

/// LOAD UNLOAD, with RETEN (byte 4, bit 1) set too if `reten`: what tgt
/// needs to act (it reads the CDB as START STOP UNIT, that bit as LOEJ).
fn load_unload(load: bool, reten: bool) -> [u8; 6] {
    let mut cdb = cdb::load_unload(load, false);
    if let (true, Some(byte)) = (reten, cdb.get_mut(4)) {
        *byte |= 0x02;
    }
    cdb
}

/// The transport element MOVE MEDIUM names: the first of the map, else 0
/// (SMC: the default transport).
fn transport_address(map: &ElementMap) -> ElementAddress {
    if map.transport.count > 0 {
        map.transport.first
    } else {
        0
    }
}

fn element_kind(kind: ElementType) -> ElementKind {
    match kind {
        ElementType::MediumTransport => ElementKind::Transport,
        ElementType::Storage => ElementKind::Storage,
        ElementType::ImportExport => ElementKind::ImportExport,
        ElementType::DataTransfer => ElementKind::DataTransfer,
    }
}

/// The bar code of a full element; a tag on an empty element is stale.
fn barcode(element: &rsm_scsi::ElementDescriptor) -> Option<String> {
    element.full.then(|| element.primary_volume_tag.clone()).flatten()
}
