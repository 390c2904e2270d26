//! Linux `SG_IO` on `/dev/sgN`, for a library attached directly.
//!
//! The request the kernel gets is built by [`SgTransport::build_request`]
//! and read back by [`interpret`], both plain functions tested without a
//! device; the kernel's ABI (the request's layout, its constants) and the ioctl
//! itself are in `ffi::sg`. The machines rsm is developed
//! and tested on have no SCSI devices (their kernels have no SCSI
//! subsystem), so the ioctl runs only on real hardware.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Mutex;

use crate::ffi::sg::{
    SgIoHdr, DID_OK, DID_TIME_OUT, DRIVER_MASK, DRIVER_OK, DRIVER_SENSE, DRIVER_TIMEOUT, SG_DXFER_FROM_DEV,
    SG_DXFER_NONE, SG_DXFER_TO_DEV, SG_INTERFACE_ID, SG_VERSION_MIN,
};
use crate::limits::SENSE_LEN_MAX;
use crate::{status, DataDirection, Response, ScsiTransport, TransportError};

/// The memory an [`SgIoHdr`] points into. Its buffers must stay untouched
/// (not pushed to, not dropped) from [`SgTransport::build_request`] until
/// the ioctl returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SgBuffers {
    /// A copy of the CDB (`cmdp`).
    pub cdb: Vec<u8>,
    /// The data out, or room for the data in (`dxferp`); empty without data.
    pub data: Vec<u8>,
    /// Room for the sense bytes (`sbp`): [`SENSE_LEN_MAX`] bytes.
    pub sense: Vec<u8>,
}

/// A device file of the Linux SCSI generic driver (`/dev/sgN`).
///
/// Commands from several threads take turns: the sg driver keeps one
/// command in flight per open file unless told otherwise.
pub struct SgTransport {
    /// The device file, for `describe` and messages.
    path: PathBuf,
    /// The open device; the lock makes commands take turns.
    file: Mutex<File>,
}

impl SgTransport {
    /// Opens `path` for reading and writing (non-blocking open, as sg3_utils
    /// does, so that another program's exclusive open fails at once) and
    /// checks that the sg driver answers on it.
    ///
    /// # Errors
    /// [`TransportError::Connect`] if the file cannot be opened (no such
    /// device, no permission) or is not an sg device.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, TransportError> {
        let path = path.as_ref();
        let file =
            OpenOptions::new().read(true).write(true).custom_flags(libc::O_NONBLOCK).open(path).map_err(|error| {
                let hint = match error.kind() {
                    ErrorKind::NotFound => {
                        " (no such device: is the sg driver loaded? `modprobe sg`; `lsscsi -g` lists the devices)"
                    }
                    ErrorKind::PermissionDenied => " (read and write access is needed)",
                    _ => "",
                };
                TransportError::Connect(format!("{}: {error}{hint}", path.display()))
            })?;
        match crate::ffi::sg::driver_version(&file) {
            Ok(version) if version >= SG_VERSION_MIN => {}
            Ok(version) => {
                return Err(TransportError::Connect(format!(
                    "{}: sg driver version {version} has no SG_IO (3.0 or later needed)",
                    path.display()
                )))
            }
            Err(error) => {
                return Err(TransportError::Connect(format!(
                    "{}: not an sg device (/dev/sgN): {error}",
                    path.display()
                )))
            }
        }
        Ok(Self { path: path.to_owned(), file: Mutex::new(file) })
    }

    /// The device file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Fills `buffers` for `cdb` and `dir` and returns the `SG_IO` request
    /// pointing into them, with `timeout_ms` for the kernel's timer.
    ///
    /// No data ([`DataDirection::None`], `FromDevice(0)`, an empty
    /// `ToDevice`) is `SG_DXFER_NONE` with a null data pointer. The sense
    /// buffer has [`SENSE_LEN_MAX`] bytes.
    ///
    /// # Errors
    /// [`TransportError::InvalidRequest`] as for every transport (CDB
    /// length, data length, a timeout of 0).
    pub fn build_request(
        cdb: &[u8],
        dir: DataDirection,
        timeout_ms: u32,
        buffers: &mut SgBuffers,
    ) -> Result<SgIoHdr, TransportError> {
        crate::check_request(cdb, &dir, timeout_ms)?;
        let (direction, data) = match dir {
            DataDirection::FromDevice(len) if len > 0 => (SG_DXFER_FROM_DEV, vec![0; len]),
            DataDirection::ToDevice(data) if !data.is_empty() => (SG_DXFER_TO_DEV, data),
            _ => (SG_DXFER_NONE, Vec::new()),
        };
        buffers.cdb = cdb.to_vec();
        buffers.data = data;
        buffers.sense = vec![0; SENSE_LEN_MAX];
        let too_long = |_| TransportError::InvalidRequest("a length beyond SG_IO's fields".to_owned());
        let dxferp = if buffers.data.is_empty() { ptr::null_mut() } else { buffers.data.as_mut_ptr().cast() };
        Ok(SgIoHdr {
            interface_id: SG_INTERFACE_ID,
            dxfer_direction: direction,
            cmd_len: u8::try_from(buffers.cdb.len()).map_err(too_long)?,
            mx_sb_len: u8::try_from(buffers.sense.len()).map_err(too_long)?,
            iovec_count: 0,
            dxfer_len: u32::try_from(buffers.data.len()).map_err(too_long)?,
            dxferp,
            cmdp: buffers.cdb.as_mut_ptr(),
            sbp: buffers.sense.as_mut_ptr(),
            timeout: timeout_ms,
            flags: 0,
            pack_id: 0,
            usr_ptr: ptr::null_mut(),
            status: 0,
            masked_status: 0,
            msg_status: 0,
            sb_len_wr: 0,
            host_status: 0,
            driver_status: 0,
            resid: 0,
            duration: 0,
            info: 0,
        })
    }
}

/// The answer in a completed request: a [`Response`] when the device gave
/// a status, else why not.
pub(crate) fn interpret(hdr: &SgIoHdr, buffers: SgBuffers) -> Result<Response, TransportError> {
    let driver = hdr.driver_status & DRIVER_MASK;
    if hdr.host_status == DID_TIME_OUT || driver == DRIVER_TIMEOUT {
        return Err(TransportError::Timeout(format!("no status within {} ms (the kernel aborted it)", hdr.timeout)));
    }
    if hdr.host_status != DID_OK {
        return Err(TransportError::Io(format!("the host adapter reports {}", host_status_name(hdr.host_status))));
    }
    let sense_len = usize::from(hdr.sb_len_wr).min(buffers.sense.len());
    if driver != DRIVER_OK && driver != DRIVER_SENSE && hdr.status == status::GOOD && sense_len == 0 {
        return Err(TransportError::Io(format!("the sg driver reports driver status {:#04x}", hdr.driver_status)));
    }
    let data = if hdr.dxfer_direction == SG_DXFER_FROM_DEV {
        let mut data = buffers.data;
        // A negative residue (more than asked for) cannot shorten the data.
        let resid = usize::try_from(hdr.resid).unwrap_or(0);
        data.truncate(data.len().saturating_sub(resid));
        data
    } else {
        Vec::new()
    };
    let mut sense = buffers.sense;
    sense.truncate(sense_len);
    Ok(Response { status: hdr.status, data, sense })
}

/// `DID_*` by name (the kernel's `include/scsi/scsi_status.h`).
fn host_status_name(host_status: u16) -> String {
    let name = match host_status {
        0x01 => "DID_NO_CONNECT (no device at this address)",
        0x02 => "DID_BUS_BUSY",
        0x03 => "DID_TIME_OUT",
        0x04 => "DID_BAD_TARGET",
        0x05 => "DID_ABORT",
        0x06 => "DID_PARITY",
        0x07 => "DID_ERROR",
        0x08 => "DID_RESET",
        0x09 => "DID_BAD_INTR",
        0x0a => "DID_PASSTHROUGH",
        0x0b => "DID_SOFT_ERROR",
        0x0c => "DID_IMM_RETRY",
        0x0d => "DID_REQUEUE",
        0x0e => "DID_TRANSPORT_DISRUPTED",
        0x0f => "DID_TRANSPORT_FAILFAST",
        _ => return format!("host status {host_status:#04x}"),
    };
    format!("{name} ({host_status:#04x})")
}

impl ScsiTransport for SgTransport {
    fn execute(&self, cdb: &[u8], dir: DataDirection, timeout_ms: u32) -> Result<Response, TransportError> {
        // A poisoned lock only means another command panicked: the file is fine.
        let file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut buffers = SgBuffers::default();
        let mut hdr = SgTransport::build_request(cdb, dir, timeout_ms, &mut buffers)?;
        crate::ffi::sg::sg_io(&file, &mut hdr).map_err(|error| prefix_path(error, &self.path))?;
        interpret(&hdr, buffers).map_err(|error| prefix_path(error, &self.path))
    }

    fn describe(&self) -> String {
        format!("SG_IO {}", self.path.display())
    }
}

/// Puts the device's path in front of a message.
fn prefix_path(error: TransportError, path: &Path) -> TransportError {
    match error {
        TransportError::Io(why) => TransportError::Io(format!("{}: {why}", path.display())),
        TransportError::Timeout(why) => TransportError::Timeout(format!("{}: {why}", path.display())),
        other => other,
    }
}

impl fmt::Debug for SgTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SgTransport").field("path", &self.path).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::sg::{SG_GET_VERSION_NUM, SG_IO};
    use crate::limits::{CDB_LEN_MAX, DATA_LEN_MAX};

    const TEST_UNIT_READY: [u8; 6] = [0; 6];
    const INQUIRY_96: [u8; 6] = [0x12, 0, 0, 0, 96, 0];
    const MOVE_MEDIUM: [u8; 12] = [0xa5, 0, 0, 1, 0x03, 0xe8, 0x01, 0xf4, 0, 0, 0, 0];

    /// Builds a request, checks what every request has, and returns it with its buffers.
    fn build(cdb: &[u8], dir: DataDirection, timeout_ms: u32) -> (SgIoHdr, SgBuffers) {
        let mut buffers = SgBuffers::default();
        let hdr = SgTransport::build_request(cdb, dir, timeout_ms, &mut buffers).expect("a valid request");
        assert_eq!(hdr.interface_id, i32::from(b'S'));
        assert_eq!(buffers.cdb, cdb);
        assert_eq!(usize::from(hdr.cmd_len), cdb.len());
        assert_eq!(hdr.cmdp.cast_const(), buffers.cdb.as_ptr());
        assert_eq!(buffers.sense, vec![0; SENSE_LEN_MAX]);
        assert_eq!(usize::from(hdr.mx_sb_len), SENSE_LEN_MAX);
        assert_eq!(hdr.sbp.cast_const(), buffers.sense.as_ptr());
        assert_eq!(hdr.timeout, timeout_ms);
        assert_eq!((hdr.iovec_count, hdr.flags, hdr.pack_id), (0, 0, 0));
        assert!(hdr.usr_ptr.is_null());
        let outputs = (hdr.status, hdr.masked_status, hdr.msg_status, hdr.sb_len_wr);
        assert_eq!(outputs, (0, 0, 0, 0));
        assert_eq!((hdr.host_status, hdr.driver_status, hdr.resid, hdr.duration, hdr.info), (0, 0, 0, 0, 0));
        (hdr, buffers)
    }

    /// A completed request as the kernel would leave it.
    fn completed(
        dir: DataDirection,
        status: u8,
        resid: i32,
        sense: &[u8],
        host_status: u16,
        driver_status: u16,
    ) -> Result<Response, TransportError> {
        let (mut hdr, mut buffers) = build(&INQUIRY_96, dir, 5_000);
        hdr.status = status;
        hdr.masked_status = status >> 1;
        hdr.resid = resid;
        hdr.host_status = host_status;
        hdr.driver_status = driver_status;
        hdr.sb_len_wr = u8::try_from(sense.len()).expect("a short sense");
        buffers.sense[..sense.len()].copy_from_slice(sense);
        for (i, byte) in buffers.data.iter_mut().enumerate() {
            *byte = u8::try_from(i % 251).expect("below 251");
        }
        interpret(&hdr, buffers)
    }

    #[test]
    fn constants_match_scsi_sg_h() {
        assert_eq!(SG_IO, 0x2285);
        assert_eq!(SG_GET_VERSION_NUM, 0x2282);
        assert_eq!((SG_DXFER_NONE, SG_DXFER_TO_DEV, SG_DXFER_FROM_DEV), (-1, -2, -3));
        assert_eq!(SG_INTERFACE_ID, 0x53);
        assert_eq!(std::mem::size_of::<SgIoHdr>(), 88);
    }

    #[test]
    fn no_data() {
        let (hdr, buffers) = build(&TEST_UNIT_READY, DataDirection::None, 30_000);
        assert_eq!(hdr.dxfer_direction, SG_DXFER_NONE);
        assert_eq!(hdr.dxfer_len, 0);
        assert!(hdr.dxferp.is_null());
        assert!(buffers.data.is_empty());
        let (hdr, _) = build(&MOVE_MEDIUM, DataDirection::None, 600_000);
        assert_eq!((hdr.cmd_len, hdr.timeout, hdr.dxfer_direction), (12, 600_000, SG_DXFER_NONE));
    }

    #[test]
    fn data_from_the_device() {
        let (hdr, buffers) = build(&INQUIRY_96, DataDirection::FromDevice(96), 5_000);
        assert_eq!(hdr.dxfer_direction, SG_DXFER_FROM_DEV);
        assert_eq!(hdr.dxfer_len, 96);
        assert_eq!(buffers.data, vec![0; 96]);
        assert_eq!(hdr.dxferp.cast_const().cast::<u8>(), buffers.data.as_ptr());
    }

    #[test]
    fn data_to_the_device() {
        let page = vec![0x00, 0x00, 0x10, 0x00, 0x1d, 0x12];
        let mode_select = [0x15, 0x10, 0, 0, 6, 0];
        let (hdr, buffers) = build(&mode_select, DataDirection::ToDevice(page.clone()), 5_000);
        assert_eq!(hdr.dxfer_direction, SG_DXFER_TO_DEV);
        assert_eq!(hdr.dxfer_len, 6);
        assert_eq!(buffers.data, page);
        assert_eq!(hdr.dxferp.cast_const().cast::<u8>(), buffers.data.as_ptr());
    }

    #[test]
    fn empty_data_is_no_data() {
        for dir in [DataDirection::FromDevice(0), DataDirection::ToDevice(Vec::new())] {
            let (hdr, _) = build(&INQUIRY_96, dir, 1);
            assert_eq!((hdr.dxfer_direction, hdr.dxfer_len), (SG_DXFER_NONE, 0));
            assert!(hdr.dxferp.is_null());
        }
    }

    #[test]
    fn longest_cdb_and_largest_transfer() {
        let (hdr, _) = build(&[0x88; CDB_LEN_MAX], DataDirection::FromDevice(DATA_LEN_MAX), 1);
        assert_eq!(usize::from(hdr.cmd_len), CDB_LEN_MAX);
        assert_eq!(usize::try_from(hdr.dxfer_len), Ok(DATA_LEN_MAX));
    }

    #[test]
    fn invalid_requests_leave_the_buffers_alone() {
        for (cdb, dir, timeout_ms) in [
            (&[][..], DataDirection::None, 1),
            (&[0; CDB_LEN_MAX + 1][..], DataDirection::None, 1),
            (&INQUIRY_96[..], DataDirection::FromDevice(DATA_LEN_MAX + 1), 1),
            (&INQUIRY_96[..], DataDirection::FromDevice(96), 0),
        ] {
            let mut buffers = SgBuffers::default();
            let result = SgTransport::build_request(cdb, dir, timeout_ms, &mut buffers);
            assert!(matches!(result, Err(TransportError::InvalidRequest(_))), "{result:?}");
            assert_eq!(buffers, SgBuffers::default());
        }
    }

    #[test]
    fn good_data_is_cut_by_the_residue() {
        let response = completed(DataDirection::FromDevice(96), status::GOOD, 60, &[], DID_OK, DRIVER_OK);
        let expected: Vec<u8> = (0..36).collect();
        assert_eq!(response, Ok(Response { status: status::GOOD, data: expected, sense: Vec::new() }));
        let all = completed(DataDirection::FromDevice(96), status::GOOD, 0, &[], DID_OK, DRIVER_OK);
        assert_eq!(all.map(|r| r.data.len()), Ok(96));
        let none = completed(DataDirection::FromDevice(96), status::GOOD, 96, &[], DID_OK, DRIVER_OK);
        assert_eq!(none.map(|r| r.data.len()), Ok(0));
        // Nonsense residues cannot make data out of nothing, or panic.
        for resid in [-5, 1_000] {
            let odd = completed(DataDirection::FromDevice(96), status::GOOD, resid, &[], DID_OK, DRIVER_OK);
            assert!(odd.is_ok_and(|r| r.data.len() <= 96));
        }
    }

    #[test]
    fn check_condition_brings_the_sense_written() {
        let sense = [0x70, 0, 0x05, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x3b, 0x0d, 0, 0, 0, 0];
        let response =
            completed(DataDirection::None, status::CHECK_CONDITION, 0, &sense, DID_OK, DRIVER_SENSE).expect("answered");
        assert_eq!(response, Response { status: status::CHECK_CONDITION, data: Vec::new(), sense: sense.to_vec() });
        // Suggestion bits in the high nibble of driver_status do not matter.
        let response = completed(DataDirection::None, status::CHECK_CONDITION, 0, &sense, DID_OK, 0x10 | DRIVER_SENSE);
        assert!(response.is_ok_and(|r| r.sense == sense));
    }

    #[test]
    fn busy_is_an_answer() {
        let response = completed(DataDirection::None, status::BUSY, 0, &[], DID_OK, DRIVER_OK);
        assert_eq!(response, Ok(Response { status: status::BUSY, data: Vec::new(), sense: Vec::new() }));
    }

    #[test]
    fn timeouts() {
        for (host, driver) in [(DID_TIME_OUT, DRIVER_OK), (DID_OK, DRIVER_TIMEOUT)] {
            let result = completed(DataDirection::None, status::GOOD, 0, &[], host, driver);
            assert!(matches!(result, Err(TransportError::Timeout(_))), "{host} {driver}: {result:?}");
        }
    }

    #[test]
    fn host_and_driver_errors() {
        let result = completed(DataDirection::None, status::GOOD, 0, &[], 0x01, DRIVER_OK);
        assert_eq!(
            result,
            Err(TransportError::Io(
                "the host adapter reports DID_NO_CONNECT (no device at this address) (0x01)".into()
            ))
        );
        let result = completed(DataDirection::None, status::GOOD, 0, &[], 0x7f, DRIVER_OK);
        assert_eq!(result, Err(TransportError::Io("the host adapter reports host status 0x7f".into())));
        // DRIVER_ERROR with nothing from the device.
        let result = completed(DataDirection::None, status::GOOD, 0, &[], DID_OK, 0x04);
        assert!(matches!(result, Err(TransportError::Io(_))), "{result:?}");
    }

    #[test]
    fn open_a_missing_device() {
        let error = SgTransport::open("/dev/sg-absent-rsm").expect_err("no such device");
        let TransportError::Connect(message) = error else { panic!("{error:?}") };
        assert!(message.starts_with("/dev/sg-absent-rsm: "), "{message}");
        assert!(message.contains("modprobe sg"), "{message}");
    }

    #[test]
    fn open_a_file_that_is_not_an_sg_device() {
        let error = SgTransport::open("/dev/null").expect_err("/dev/null is not an sg device");
        let TransportError::Connect(message) = error else { panic!("{error:?}") };
        assert!(message.contains("not an sg device"), "{message}");
    }
}
