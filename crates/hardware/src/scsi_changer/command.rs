//! Sending one command: the retry policy (UNIT ATTENTION, becoming ready,
//! BUSY), the mapping of answers and transport failures to
//! [`AdapterError`], and the reads every operation shares (INQUIRY, MODE
//! SENSE 1Dh, two-step READ ELEMENT STATUS, REPORT LUNS).
//!
//! Everything here blocks: it runs on a blocking thread (see the parent
//! module), never on a runtime thread.

use std::fmt;
use std::time::{Duration, Instant};

use rsm_scsi::{
    cdb, element_status, inquiry, mode_sense, sense, Condition, DeviceId, ElementMap, ElementRange, ElementType,
    ModeHeader, Sense, SenseKey, StandardInquiry,
};
use rsm_transport::{status, DataDirection, ScsiTransport, TransportError};

use super::changer_limits;
use super::ChangerOptions;
use crate::adapter::{AdapterError, SenseData};

/// Time as the adapter sees it: how long it has been waiting, and waiting
/// more. One implementation reads the system's monotonic clock; the unit
/// tests' one advances only when slept on, so backoff schedules and ready
/// timeouts are checked exactly and without waiting.
pub(crate) trait Clock: Send + Sync + fmt::Debug {
    /// Time since an arbitrary origin fixed when the clock was made.
    fn elapsed(&self) -> Duration;
    /// Blocks the calling (blocking) thread for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The system's monotonic clock and `std::thread::sleep`.
#[derive(Debug)]
pub(crate) struct SystemClock {
    /// When the clock was made: the origin of [`Clock::elapsed`].
    origin: Instant,
}

impl SystemClock {
    pub(crate) fn new() -> Self {
        Self { origin: Instant::now() }
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A final answer from the device, after the retries [`Runner::send`] makes.
#[derive(Debug)]
pub(crate) enum Answer {
    /// GOOD (or CONDITION MET, or a RECOVERED ERROR: the command completed),
    /// with the data that came back.
    Good(Vec<u8>),
    /// CHECK CONDITION with readable sense data that is not retried, or that
    /// still came back when the retries ran out (`retried` of them).
    Check {
        /// The device's sense.
        sense: Sense,
        /// How many times the command was sent again before this answer.
        retried: u32,
    },
}

/// What [`Runner::read_elements`] got.
#[derive(Debug)]
pub(crate) enum Elements {
    /// The report, parsed, and its bytes as received.
    Read {
        /// The parsed report.
        status: element_status::ElementStatus,
        /// The bytes it was parsed from.
        data: Vec<u8>,
    },
    /// The device answered CHECK CONDITION (after `retried` retries).
    Refused {
        /// The device's sense.
        sense: Sense,
        /// Retries made.
        retried: u32,
    },
}

/// One answer to one sending, classified.
pub(crate) enum Reply {
    /// GOOD (or CONDITION MET, or RECOVERED ERROR), with the data.
    Good(Vec<u8>),
    /// CHECK CONDITION with this sense.
    Check(Sense),
    /// BUSY or TASK SET FULL: the device did not take the command.
    Busy(u8),
}

/// Sends commands under the options' retry policy.
pub(crate) struct Runner<'a> {
    pub(crate) options: &'a ChangerOptions,
    pub(crate) clock: &'a dyn Clock,
    /// Set when the device says its medium or elements may have changed
    /// (UNIT ATTENTION 28h): someone touched the library.
    pub(crate) attention: Option<&'a std::sync::atomic::AtomicBool>,
    /// Set when a drive says it needs cleaning (00/17, CLEANING REQUESTED).
    pub(crate) cleaning: Option<&'a std::sync::atomic::AtomicBool>,
}

/// ASC/ASCQ 00/17: CLEANING REQUESTED (SPC), in any sense key; the command
/// itself completed when the key is NO SENSE or RECOVERED ERROR.
pub(crate) fn cleaning_requested(sense: &Sense) -> bool {
    (sense.asc, sense.ascq) == (0x00, 0x17)
}

impl Runner<'_> {
    /// The wait before retry number `attempt` (0-based): the options'
    /// starting backoff doubled per attempt, capped.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1_u64.checked_shl(attempt.min(63)).unwrap_or(u64::MAX);
        let ms = self.options.retry_backoff_ms.saturating_mul(factor).min(self.options.retry_backoff_max_ms);
        Duration::from_millis(ms)
    }

    /// How many retries a command gets: the options' count, capped.
    fn retries(&self) -> u32 {
        self.options.retries.min(changer_limits::RETRIES_MAX)
    }

    /// Sends `cdb` once and classifies the answer.
    pub(crate) fn once(
        &self,
        transport: &dyn ScsiTransport,
        operation: &str,
        cdb: &[u8],
        from_device: usize,
        timeout_ms: u32,
    ) -> Result<Reply, AdapterError> {
        let dir = if from_device == 0 { DataDirection::None } else { DataDirection::FromDevice(from_device) };
        let response = transport.execute(cdb, dir, timeout_ms).map_err(|e| transport_error(operation, transport, e))?;
        match response.status {
            status::GOOD | status::CONDITION_MET => Ok(Reply::Good(response.data)),
            status::CHECK_CONDITION => {
                if response.sense.is_empty() {
                    return Err(AdapterError::Io(format!(
                        "{operation} on {}: CHECK CONDITION without sense data",
                        transport.describe()
                    )));
                }
                let sense = sense::parse(&response.sense).map_err(|e| {
                    AdapterError::Io(format!(
                        "{operation} on {}: CHECK CONDITION with unreadable sense data ({e}): {}",
                        transport.describe(),
                        hex(&response.sense)
                    ))
                })?;
                if cleaning_requested(&sense) {
                    if let Some(flag) = self.cleaning {
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    if sense.key == SenseKey::NoSense {
                        // Informational: the command completed.
                        return Ok(Reply::Good(response.data));
                    }
                }
                if sense.key == SenseKey::RecoveredError {
                    // SPC: the command completed, after the device recovered.
                    return Ok(Reply::Good(response.data));
                }
                Ok(Reply::Check(sense))
            }
            status::BUSY | status::TASK_SET_FULL => Ok(Reply::Busy(response.status)),
            other => Err(AdapterError::Io(format!(
                "{operation} on {}: unexpected SCSI status {other:#04x}",
                transport.describe()
            ))),
        }
    }

    /// Sends `cdb`, and sends it again after a backoff while the device
    /// answers UNIT ATTENTION, NOT READY becoming ready (04/01), BUSY or
    /// TASK SET FULL, at most [`ChangerOptions::retries`] times. None of
    /// these means the command was carried out, so sending it again is
    /// safe. A transport error is never retried: the command may have been
    /// carried out.
    ///
    /// `from_device` is the allocation length of `cdb` (0: no data).
    pub(crate) fn send(
        &self,
        transport: &dyn ScsiTransport,
        operation: &str,
        cdb: &[u8],
        from_device: usize,
        timeout_ms: u32,
    ) -> Result<Answer, AdapterError> {
        let retries = self.retries();
        let mut attempt = 0_u32;
        loop {
            let reply = self.once(transport, operation, cdb, from_device, timeout_ms)?;
            if let (Reply::Check(sense), Some(flag)) = (&reply, self.attention) {
                if sense.key == SenseKey::UnitAttention && sense.asc == ELEMENTS_MAY_HAVE_CHANGED {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            }
            let retry_why = match &reply {
                Reply::Good(data) => return Ok(Answer::Good(data.clone())),
                Reply::Check(sense) if retryable(sense) => sense.to_string(),
                Reply::Check(sense) => return Ok(Answer::Check { sense: *sense, retried: attempt }),
                Reply::Busy(code) => format!("status {code:#04x}"),
            };
            if attempt >= retries {
                return match reply {
                    Reply::Check(sense) => Ok(Answer::Check { sense, retried: attempt }),
                    _ => Err(AdapterError::Io(format!(
                        "{operation} on {}: device busy ({retry_why}) after {attempt} retries",
                        transport.describe()
                    ))),
                };
            }
            let wait = self.backoff(attempt);
            tracing::debug!(operation, device = %transport.describe(), why = %retry_why, ?wait, "retrying");
            self.clock.sleep(wait);
            attempt = attempt.saturating_add(1);
        }
    }

    /// [`Runner::send`], with CHECK CONDITION as [`AdapterError::Check`].
    pub(crate) fn run(
        &self,
        transport: &dyn ScsiTransport,
        operation: &str,
        cdb: &[u8],
        from_device: usize,
        timeout_ms: u32,
    ) -> Result<Vec<u8>, AdapterError> {
        match self.send(transport, operation, cdb, from_device, timeout_ms)? {
            Answer::Good(data) => Ok(data),
            Answer::Check { sense, retried } => Err(check_error(operation, &sense, retried)),
        }
    }

    /// Standard INQUIRY data.
    pub(crate) fn inquiry(&self, transport: &dyn ScsiTransport) -> Result<StandardInquiry, AdapterError> {
        let alloc = changer_limits::INQUIRY_LEN;
        let data = self.run(
            transport,
            "INQUIRY",
            &cdb::inquiry(None, alloc),
            usize::from(alloc),
            self.options.command_timeout_ms,
        )?;
        inquiry::parse_standard(&data).map_err(|e| unreadable("INQUIRY", transport, &e))
    }

    /// The unit serial number (VPD 0x80); `None` if the device does not
    /// have the page (ILLEGAL REQUEST).
    pub(crate) fn unit_serial(&self, transport: &dyn ScsiTransport) -> Result<Option<String>, AdapterError> {
        let Some(data) = self.vpd(transport, inquiry::VPD_UNIT_SERIAL_NUMBER, "INQUIRY VPD 0x80 (serial number)")?
        else {
            return Ok(None);
        };
        let serial = inquiry::parse_unit_serial_number(&data)
            .map_err(|e| unreadable("INQUIRY VPD 0x80 (serial number)", transport, &e))?;
        Ok((!serial.is_empty()).then_some(serial))
    }

    /// The device identifiers (VPD 0x83); empty if the device does not have
    /// the page (ILLEGAL REQUEST).
    pub(crate) fn device_ids(&self, transport: &dyn ScsiTransport) -> Result<Vec<DeviceId>, AdapterError> {
        let what = "INQUIRY VPD 0x83 (device identification)";
        let Some(data) = self.vpd(transport, inquiry::VPD_DEVICE_IDENTIFICATION, what)? else {
            return Ok(Vec::new());
        };
        inquiry::parse_device_identification(&data).map_err(|e| unreadable(what, transport, &e))
    }

    fn vpd(&self, transport: &dyn ScsiTransport, page: u8, what: &str) -> Result<Option<Vec<u8>>, AdapterError> {
        let alloc = changer_limits::VPD_LEN;
        let cdb = cdb::inquiry(Some(page), alloc);
        match self.send(transport, what, &cdb, usize::from(alloc), self.options.command_timeout_ms)? {
            Answer::Good(data) => Ok(Some(data)),
            Answer::Check { sense, .. } if sense.key == SenseKey::IllegalRequest => Ok(None),
            Answer::Check { sense, retried } => Err(check_error(what, &sense, retried)),
        }
    }

    /// The element address assignment page: MODE SENSE(6) 1Dh, or MODE
    /// SENSE(10) if the device refuses the 6-byte command.
    pub(crate) fn element_map(&self, changer: &dyn ScsiTransport) -> Result<ElementMap, AdapterError> {
        let alloc = changer_limits::MODE_SENSE_LEN;
        let timeout_ms = self.options.command_timeout_ms;
        let six = "MODE SENSE(6) page 1Dh";
        let cdb6 = cdb::mode_sense6_element_address(alloc);
        let (what, data, header) = match self.send(changer, six, &cdb6, usize::from(alloc), timeout_ms)? {
            Answer::Good(data) => (six, data, ModeHeader::Six),
            Answer::Check { sense, .. } if sense.classify() == Condition::InvalidField => {
                let ten = "MODE SENSE(10) page 1Dh";
                let cdb10 = cdb::mode_sense10_element_address(u16::from(alloc));
                (ten, self.run(changer, ten, &cdb10, usize::from(alloc), timeout_ms)?, ModeHeader::Ten)
            }
            Answer::Check { sense, retried } => return Err(check_error(six, &sense, retried)),
        };
        mode_sense::parse_element_address_assignment(&data, header).map_err(|e| unreadable(what, changer, &e))
    }

    /// READ ELEMENT STATUS of the elements of `kind` in `range`, with volume
    /// tags (and device identifiers if `dvcid`), in two steps: the 8-byte
    /// header first, then the whole report its byte count announces. Each
    /// CDB's allocation length equals the length the transport expects (tgt
    /// refuses a mismatch). Returns the parsed report and its bytes, or the
    /// device's sense.
    ///
    /// tgt sends 8 bytes fewer than its byte count, so the last descriptor
    /// comes cut; with volume tags only its zero tail is lost, which the
    /// parser tolerates. Fewer descriptors than `range.count` is an error:
    /// an inventory with a hole is not the truth.
    pub(crate) fn read_elements(
        &self,
        changer: &dyn ScsiTransport,
        kind: ElementType,
        range: ElementRange,
        dvcid: bool,
    ) -> Result<Elements, AdapterError> {
        let what = format!(
            "READ ELEMENT STATUS of {} elements from {}{}",
            kind_name(kind),
            range.first,
            if dvcid { " with device identifiers" } else { "" }
        );
        let timeout_ms = self.options.command_timeout_ms;
        let header_len = u32::try_from(element_status::HEADER_LEN).unwrap_or(8);
        let first = cdb::read_element_status(kind.into(), range.first, range.count, true, dvcid, header_len);
        let mut data = match self.send(changer, &what, &first, element_status::HEADER_LEN, timeout_ms)? {
            Answer::Good(data) => data,
            Answer::Check { sense, retried } => return Ok(Elements::Refused { sense, retried }),
        };
        let header = element_status::parse_header(&data).map_err(|e| unreadable(&what, changer, &e))?;
        if header.byte_count > 0 {
            let alloc = header.report_len().min(changer_limits::ELEMENT_STATUS_LEN_MAX);
            let len = usize::try_from(alloc)
                .map_err(|_| AdapterError::Io(format!("{what}: a report of {alloc} bytes does not fit in memory")))?;
            let second = cdb::read_element_status(kind.into(), range.first, range.count, true, dvcid, alloc);
            data = match self.send(changer, &what, &second, len, timeout_ms)? {
                Answer::Good(data) => data,
                Answer::Check { sense, retried } => return Ok(Elements::Refused { sense, retried }),
            };
        }
        let status = element_status::parse(&data).map_err(|e| unreadable(&what, changer, &e))?;
        let reported = status.of_type(kind).count();
        if reported < usize::from(range.count) {
            return Err(AdapterError::Io(format!(
                "{what} on {}: {reported} elements reported, {} expected (MODE SENSE page 1Dh)",
                changer.describe(),
                range.count
            )));
        }
        Ok(Elements::Read { status, data })
    }

    /// The LUNs of the target (REPORT LUNS, sent to the changer's LUN);
    /// `None` if the device refuses the command (CHECK CONDITION).
    pub(crate) fn report_luns(&self, changer: &dyn ScsiTransport) -> Result<Option<Vec<u16>>, AdapterError> {
        let what = "REPORT LUNS";
        let alloc = changer_limits::REPORT_LUNS_LEN;
        let cdb = report_luns_cdb(alloc);
        let len = usize::try_from(alloc).unwrap_or(usize::MAX);
        match self.send(changer, what, &cdb, len, self.options.command_timeout_ms)? {
            Answer::Good(data) => parse_report_luns(&data)
                .map(Some)
                .map_err(|e| AdapterError::Io(format!("{what} on {}: unreadable answer: {e}", changer.describe()))),
            Answer::Check { sense, .. } => {
                tracing::debug!(device = %changer.describe(), %sense, "REPORT LUNS refused");
                Ok(None)
            }
        }
    }
}

/// UNIT ATTENTION's ASC 28h: NOT READY TO READY CHANGE, MEDIUM MAY HAVE
/// CHANGED (28/00) or IMPORT OR EXPORT ELEMENT ACCESSED (28/01).
const ELEMENTS_MAY_HAVE_CHANGED: u8 = 0x28;

/// Whether a CHECK CONDITION means "not carried out, try again shortly".
fn retryable(sense: &Sense) -> bool {
    matches!(sense.classify(), Condition::UnitAttention | Condition::NotReady { becoming_ready: true })
}

/// The device's sense as an [`AdapterError::Check`].
pub(crate) fn check_error(operation: &str, sense: &Sense, retried: u32) -> AdapterError {
    let operation = if retried > 0 && retryable(sense) {
        format!("{operation} (still {sense} after {retried} retries)")
    } else {
        operation.to_owned()
    };
    AdapterError::Check { operation, sense: sense_data(sense) }
}

/// The adapter's sense data for the parser's.
pub(crate) fn sense_data(sense: &Sense) -> SenseData {
    SenseData { key: sense.key.code(), asc: sense.asc, ascq: sense.ascq }
}

/// A transport failure: no status came back.
///
/// No session or library → [`AdapterError::NotConnected`]; a timeout, a
/// connection lost during the command or a request the transport refused →
/// [`AdapterError::Io`] (the device may have carried the command out: read
/// element status to know).
pub(crate) fn transport_error(operation: &str, transport: &dyn ScsiTransport, error: TransportError) -> AdapterError {
    let device = transport.describe();
    match error {
        TransportError::Connect(_)
        | TransportError::LibraryMissing { .. }
        | TransportError::LibraryIncompatible { .. } => {
            AdapterError::NotConnected(format!("{operation} on {device}: {error}"))
        }
        TransportError::Timeout(_) => {
            AdapterError::Io(format!("{operation} on {device}: {error} (the device may still carry it out)"))
        }
        _ => AdapterError::Io(format!("{operation} on {device}: {error}")),
    }
}

fn unreadable(what: &str, transport: &dyn ScsiTransport, error: &rsm_scsi::ParseError) -> AdapterError {
    AdapterError::Io(format!("{what} on {}: unreadable answer: {error}", transport.describe()))
}

/// The name of an element type in messages.
pub(crate) fn kind_name(kind: ElementType) -> &'static str {
    match kind {
        ElementType::MediumTransport => "transport",
        ElementType::Storage => "storage",
        ElementType::ImportExport => "import/export",
        ElementType::DataTransfer => "data transfer",
    }
}

/// Bytes as space-separated hex, for messages about unreadable answers
/// (at most the first [`changer_limits::HEX_IN_MESSAGES_MAX`]).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let shown = bytes.get(..changer_limits::HEX_IN_MESSAGES_MAX).unwrap_or(bytes);
    let mut text: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
    if shown.len() < bytes.len() {
        text.push("…".to_owned());
    }
    text.join(" ")
}

/// Operation code of REPORT LUNS (SPC). rsm-scsi has no builder for it;
/// only discovery needs it.
const REPORT_LUNS: u8 = 0xa0;

/// REPORT LUNS, SELECT REPORT 0 (every logical unit), `alloc` bytes at
/// most (SPC: at least 16).
pub(crate) fn report_luns_cdb(alloc: u32) -> [u8; 12] {
    let [a3, a2, a1, a0] = alloc.to_be_bytes();
    [REPORT_LUNS, 0, 0, 0, 0, 0, a3, a2, a1, a0, 0, 0]
}

/// The LUNs of a REPORT LUNS answer (SAM-5 single-level LUNs: peripheral
/// device addressing with bus 0, or flat space addressing), in the order
/// given. Entries past the received data are ignored, as are entries in an
/// addressing method rsm cannot connect to (hierarchical, extended).
pub(crate) fn parse_report_luns(data: &[u8]) -> Result<Vec<u16>, String> {
    let Some(&[l3, l2, l1, l0]) = data.first_chunk::<4>() else {
        return Err(format!("{} bytes, the LUN list length needs 4", data.len()));
    };
    let list_len = usize::try_from(u32::from_be_bytes([l3, l2, l1, l0])).unwrap_or(usize::MAX);
    let list = data.get(8..).unwrap_or_default();
    let list = list.get(..list_len).unwrap_or(list);
    let mut luns = Vec::new();
    for entry in list.chunks_exact(8) {
        let (Some(&byte0), Some(&byte1)) = (entry.first(), entry.get(1)) else { continue };
        let rest_zero = entry.get(2..).is_some_and(|rest| rest.iter().all(|&b| b == 0));
        let lun = match byte0 >> 6 {
            // Peripheral device addressing: bus identifier 0, LUN in byte 1.
            0b00 if byte0 & 0x3f == 0 && rest_zero => Some(u16::from(byte1)),
            // Flat space addressing: 14 bits.
            0b01 if rest_zero => Some(u16::from_be_bytes([byte0 & 0x3f, byte1])),
            _ => None,
        };
        match lun {
            Some(lun) => luns.push(lun),
            None => tracing::debug!(entry = %hex(entry), "REPORT LUNS entry in an addressing method not supported"),
        }
    }
    Ok(luns)
}
