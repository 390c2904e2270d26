//! The sg driver's ioctls.

use std::ffi::c_int;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::ptr;

use crate::sg::{SgBuffers, SgIoHdr, SgTransport, SG_GET_VERSION_NUM, SG_IO};
use crate::{DataDirection, TransportError};

/// Builds the request for `cdb` and `dir` and hands it to the kernel with
/// `SG_IO`, which returns when the command completed, failed or timed out.
/// Returns the completed request and the buffers it points into.
///
/// # Errors
/// [`TransportError::InvalidRequest`] before anything is sent;
/// [`TransportError::Io`] if the kernel refuses the request.
pub(crate) fn sg_io(
    file: &File,
    cdb: &[u8],
    dir: DataDirection,
    timeout_ms: u32,
) -> Result<(SgIoHdr, SgBuffers), TransportError> {
    let mut buffers = SgBuffers::default();
    let mut hdr = SgTransport::build_request(cdb, dir, timeout_ms, &mut buffers)?;
    // SAFETY: `hdr` was built just above by build_request from `buffers`:
    // cmdp/cmd_len, dxferp/dxfer_len and sbp/mx_sb_len are each the pointer
    // and length of one of its Vecs (dxferp null with length 0), which are
    // not touched until the ioctl returns. SG_IO reads the CDB and the data
    // out, writes at most dxfer_len data bytes and mx_sb_len sense bytes
    // and the header's output fields, and keeps no pointer after it
    // returns (also when interrupted: the driver then drops the data).
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), SG_IO as libc::Ioctl, ptr::from_mut(&mut hdr)) };
    if rc < 0 {
        let error = io::Error::last_os_error();
        let hint = if error.kind() == io::ErrorKind::Interrupted {
            "; interrupted by a signal, the command may have been carried out"
        } else {
            ""
        };
        return Err(TransportError::Io(format!("SG_IO: {error}{hint}")));
    }
    Ok((hdr, buffers))
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
