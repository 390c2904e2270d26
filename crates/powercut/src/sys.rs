//! mount(2) and umount2(2) of a FUSE filesystem: the only unsafe code.
//!
//! fuser's own mount would unmount by path when its handle is dropped, which
//! after a detach could hit the next mount on the same mountpoint; mounting
//! here keeps the unmount ours.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| io::ErrorKind::InvalidInput.into())
}

/// Opens `/dev/fuse` and mounts it on `mountpoint`; the open device is
/// what the filesystem's session reads requests from.
pub(crate) fn mount_fuse(mountpoint: &Path) -> io::Result<OwnedFd> {
    let device = OpenOptions::new().read(true).write(true).open("/dev/fuse")?;
    let target = c_path(mountpoint)?;
    // SAFETY: getuid and getgid cannot fail and touch no memory of ours.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let options = CString::new(format!(
        "fd={},rootmode=40000,user_id={uid},group_id={gid},default_permissions",
        device.as_raw_fd()
    ))
    .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: every pointer is a NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::mount(
            c"powercut".as_ptr(),
            target.as_ptr(),
            c"fuse.powercut".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            options.as_ptr().cast(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(device.into())
}

/// Detaches the mount on `mountpoint` (a lazy unmount): the path is free at
/// once, and the filesystem ends when its last open file is closed. A
/// mountpoint with nothing mounted any more is not an error.
pub(crate) fn detach(mountpoint: &Path) -> io::Result<()> {
    let target = c_path(mountpoint)?;
    // SAFETY: `target` is a NUL-terminated string that outlives the call.
    let rc = unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(e);
        }
    }
    Ok(())
}
