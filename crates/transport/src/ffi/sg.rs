//! The sg driver's kernel ABI (`<scsi/sg.h>`, `<scsi/scsi.h>`): the
//! `struct sg_io_hdr` layout, its constants, and the ioctls.

use std::ffi::c_int;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::ptr;

use crate::TransportError;

/// `SG_IO` (`<scsi/sg.h>`): send a command and wait for its status.
pub(crate) const SG_IO: u32 = 0x2285;
/// `SG_GET_VERSION_NUM`: the sg driver's version, as an `int`.
pub(crate) const SG_GET_VERSION_NUM: u32 = 0x2282;
/// The first sg driver version with `SG_IO` (3.0.0).
pub(crate) const SG_VERSION_MIN: i32 = 30_000;
/// `interface_id` of `struct sg_io_hdr`: `'S'`.
pub(crate) const SG_INTERFACE_ID: i32 = b'S' as i32;
/// `dxfer_direction`: no data (`SG_DXFER_NONE`).
pub(crate) const SG_DXFER_NONE: i32 = -1;
/// `dxfer_direction`: data to the device (`SG_DXFER_TO_DEV`).
pub(crate) const SG_DXFER_TO_DEV: i32 = -2;
/// `dxfer_direction`: data from the device (`SG_DXFER_FROM_DEV`).
pub(crate) const SG_DXFER_FROM_DEV: i32 = -3;

/// `host_status` values (`DID_*`, `<scsi/scsi.h>` of the kernel).
pub(crate) const DID_OK: u16 = 0x00;
pub(crate) const DID_TIME_OUT: u16 = 0x03;
/// `driver_status` values (`DRIVER_*`); the low nibble is the status.
pub(crate) const DRIVER_MASK: u16 = 0x0f;
pub(crate) const DRIVER_OK: u16 = 0x00;
pub(crate) const DRIVER_TIMEOUT: u16 = 0x06;
pub(crate) const DRIVER_SENSE: u16 = 0x08;

/// `struct sg_io_hdr` of `<scsi/sg.h>` (sg driver version 3), field for
/// field: the request [`SgTransport::build_request`] builds and the kernel
/// fills in. "In" fields are read by the kernel, "Out" fields written by it.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SgIoHdr {
    /// In: `'S'`.
    pub interface_id: i32,
    /// In: `SG_DXFER_NONE` (-1), `SG_DXFER_TO_DEV` (-2) or `SG_DXFER_FROM_DEV` (-3).
    pub dxfer_direction: i32,
    /// In: length of the CDB at `cmdp`.
    pub cmd_len: u8,
    /// In: size of the sense buffer at `sbp`.
    pub mx_sb_len: u8,
    /// In: 0: `dxferp` is one buffer, not a scatter-gather list.
    pub iovec_count: u16,
    /// In: bytes to transfer.
    pub dxfer_len: u32,
    /// In: the data buffer (null without data).
    pub dxferp: *mut libc::c_void,
    /// In: the CDB.
    pub cmdp: *mut u8,
    /// In: the sense buffer.
    pub sbp: *mut u8,
    /// In: milliseconds before the kernel aborts the command.
    pub timeout: u32,
    /// In: 0: indirect I/O, the driver's defaults.
    pub flags: u32,
    /// In and out: unused by `SG_IO`.
    pub pack_id: i32,
    /// In and out: unused by `SG_IO`.
    pub usr_ptr: *mut libc::c_void,
    /// Out: the SCSI status byte.
    pub status: u8,
    /// Out: `status` shifted right by one and masked (obsolete).
    pub masked_status: u8,
    /// Out: messaging-level status (SPI only).
    pub msg_status: u8,
    /// Out: sense bytes written to `sbp`.
    pub sb_len_wr: u8,
    /// Out: the host adapter's status (`DID_*`).
    pub host_status: u16,
    /// Out: the driver's status (`DRIVER_*`, suggestions in the high nibble).
    pub driver_status: u16,
    /// Out: `dxfer_len` minus the bytes actually transferred.
    pub resid: i32,
    /// Out: milliseconds the command took.
    pub duration: u32,
    /// Out: `SG_INFO_*` bits.
    pub info: u32,
}

// The layout `offsetof` reports for <scsi/sg.h> on x86_64 (and every LP64
// target): a mismatch stops the build rather than the kernel misreading it.
#[cfg(target_pointer_width = "64")]
const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<SgIoHdr>() == 88);
    assert!(offset_of!(SgIoHdr, dxfer_direction) == 4);
    assert!(offset_of!(SgIoHdr, cmd_len) == 8);
    assert!(offset_of!(SgIoHdr, mx_sb_len) == 9);
    assert!(offset_of!(SgIoHdr, iovec_count) == 10);
    assert!(offset_of!(SgIoHdr, dxfer_len) == 12);
    assert!(offset_of!(SgIoHdr, dxferp) == 16);
    assert!(offset_of!(SgIoHdr, cmdp) == 24);
    assert!(offset_of!(SgIoHdr, sbp) == 32);
    assert!(offset_of!(SgIoHdr, timeout) == 40);
    assert!(offset_of!(SgIoHdr, flags) == 44);
    assert!(offset_of!(SgIoHdr, pack_id) == 48);
    assert!(offset_of!(SgIoHdr, usr_ptr) == 56);
    assert!(offset_of!(SgIoHdr, status) == 64);
    assert!(offset_of!(SgIoHdr, sb_len_wr) == 67);
    assert!(offset_of!(SgIoHdr, host_status) == 68);
    assert!(offset_of!(SgIoHdr, driver_status) == 70);
    assert!(offset_of!(SgIoHdr, resid) == 72);
    assert!(offset_of!(SgIoHdr, duration) == 76);
    assert!(offset_of!(SgIoHdr, info) == 80);
};

/// Hands `hdr` to the kernel with `SG_IO`, which returns when the command
/// completed, failed or timed out, its output fields filled in.
///
/// `hdr` must come from `SgTransport::build_request`, and the buffers it
/// was built from must stay untouched until this returns.
///
/// # Errors
/// [`TransportError::Io`] if the kernel refuses the request.
pub(crate) fn sg_io(file: &File, hdr: &mut SgIoHdr) -> Result<(), TransportError> {
    // SAFETY: `hdr` was built by build_request from buffers the caller
    // keeps untouched until this returns: cmdp/cmd_len, dxferp/dxfer_len
    // and sbp/mx_sb_len are each the pointer and length of one of its Vecs
    // (dxferp null with length 0). SG_IO reads the CDB and the data
    // out, writes at most dxfer_len data bytes and mx_sb_len sense bytes
    // and the header's output fields, and keeps no pointer after it
    // returns (also when interrupted: the driver then drops the data).
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), SG_IO as libc::Ioctl, ptr::from_mut(hdr)) };
    if rc < 0 {
        let error = io::Error::last_os_error();
        let hint = if error.kind() == io::ErrorKind::Interrupted {
            "; interrupted by a signal, the command may have been carried out"
        } else {
            ""
        };
        return Err(TransportError::Io(format!("SG_IO: {error}{hint}")));
    }
    Ok(())
}

/// The sg driver's version number (e.g. 30536 for 3.5.36), or the error of
/// a file that is not an sg device.
pub(crate) fn driver_version(file: &File) -> io::Result<c_int> {
    let mut version: c_int = 0;
    // SAFETY: SG_GET_VERSION_NUM writes one int through the pointer, which
    // points to `version`; a driver that does not know the request fails
    // with ENOTTY without writing.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), SG_GET_VERSION_NUM as libc::Ioctl, ptr::from_mut(&mut version)) };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(version)
    }
}
