//! # rsm-powercut: a filesystem that can lose its power
//!
//! A FUSE pass-through filesystem over a backing directory that holds back
//! every change not yet made durable, the way LazyFS does for Jepsen, so
//! that a test can cut the power: everything held is dropped, and the
//! backing directory is left with exactly what was made durable. A process
//! kill (SIGKILL) keeps the kernel's page cache and tests none of this.
//!
//! Owns: the held state, the power cut and the mount. Must not touch: rsm
//! (it depends on no rsm crate). Dev-only: it mounts with mount(2), so it
//! needs root (CAP_SYS_ADMIN) and `/dev/fuse`.
//!
//! # The durability rule
//!
//! * **File data** (write, and a size change: truncate, `set_len`,
//!   `O_TRUNC`) is held per file, in memory, over the backing file's durable
//!   content; reads see it. `fsync` or `fdatasync` of the file writes it into
//!   the backing file and syncs that: the file's data and size are durable.
//!   Nothing else makes data durable: not close, not another file's sync,
//!   not `sync_file_range` (the kernel does not pass it to FUSE).
//! * **Directory entries** created, removed or renamed (create, mknod,
//!   mkdir, link, unlink, rmdir, rename) are held per directory until that
//!   directory is fsynced: then all its held changes are durable, and none
//!   of them before. The sync of a file never makes its name durable, nor
//!   the sync of a directory the directory's own entry in its parent.
//! * A file whose entry is durable but whose data never was synced is
//!   durable with the content of its last sync (empty if it never had one).
//!   A file synced whose entry is not durable is lost with its entry.
//! * Metadata (mode, owner) passes through at once: it is not held.
//!
//! The rule is POSIX's, read strictly: what `fsync(2)` promises and no more.
//! Real filesystems often persist more (ext4 commits a new entry with the
//! journal a later fsync writes), so a program that passes here is durable
//! on them too, and one that fails relies on luck.
//!
//! Limits, none of which sled or rsm meets: a rename between two
//! directories, or of a directory, fails with `EXDEV` (callers fall back to
//! copying), since each held change belongs to one directory's journal;
//! RENAME_EXCHANGE is `EINVAL`; `fallocate` is `EOPNOTSUPP`; only regular
//! files and directories are served. Locks (`flock`, `fcntl`) are the
//! kernel's local ones, released when their holder dies.
//!
//! # A cut
//!
//! [`MountHandle::cut_power`]: every request fails with `EIO` from that
//! instant (a request under way finishes first: none straddles the cut), the
//! held data is forgotten, the held entry changes are undone newest first,
//! and the mount is detached. The processes that used it see errors and are
//! the caller's to kill. [`PoweredOff::remount`] mounts the backing
//! directory again, as the machine coming back would.
//!
//! While mounted, the backing directory also holds the entries whose
//! removal is held, in `.powercut-held` at its root (invisible through the
//! mount); a cut and a clean [`MountHandle::unmount`] remove it.
//!
//! ```no_run
//! use rsm_powercut::PowerCutFs;
//! use std::io::Write;
//!
//! let (backing, mnt) = (tempfile::tempdir()?, tempfile::tempdir()?);
//! let fs = PowerCutFs::mount(backing.path(), mnt.path())?;
//! let mut file = std::fs::File::create(mnt.path().join("a"))?;
//! file.write_all(b"held")?;
//! let off = fs.cut_power()?;
//! drop(file);
//! assert!(!backing.path().join("a").exists());
//! let fs = off.remount()?;
//! fs.unmount()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod fs;
mod overlay;
mod sys;

pub use fs::Held;

use fs::{lock, Fs, State};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long [`MountHandle::unmount`] and [`PoweredOff::release`] wait for
/// the processes using the old mount to let go of it.
pub const RELEASE_WAIT: Duration = Duration::from_secs(30);

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum PowerCutError {
    /// The backing directory or the mountpoint cannot be used.
    #[error("cannot use {path}: {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The mountpoint is inside the backing directory or the other way round.
    #[error("the mountpoint {mountpoint} and the backing directory {backing} overlap")]
    Overlap {
        /// The backing directory.
        backing: PathBuf,
        /// The mountpoint.
        mountpoint: PathBuf,
    },
    /// mount(2) or the FUSE handshake failed.
    #[error("cannot mount on {path}: {source} (mounting needs root and /dev/fuse)")]
    Mount {
        /// The mountpoint.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The lazy unmount failed.
    #[error("cannot unmount {path}: {source}")]
    Unmount {
        /// The mountpoint.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Some process still held a file of the old mount after the wait.
    #[error("{path} is still in use after {} s: a process still holds files of it", .waited.as_secs())]
    StillInUse {
        /// The mountpoint.
        path: PathBuf,
        /// How long it was waited for.
        waited: Duration,
    },
    /// Restoring the durable state, or writing what was held on a clean
    /// unmount, failed: the backing directory is not what was durable.
    #[error("the backing directory {path} may not hold what was durable: {}", .errors.join("; "))]
    Backing {
        /// The backing directory.
        path: PathBuf,
        /// Each failure.
        errors: Vec<String>,
    },
}

/// The filesystem: [`PowerCutFs::mount`] starts one.
#[derive(Debug)]
pub struct PowerCutFs;

impl PowerCutFs {
    /// Mounts a filesystem over `backing` on `mountpoint` (both existing
    /// directories, apart from each other), served by a thread of this
    /// process. Nothing is held yet: what `backing` holds is durable.
    pub fn mount(backing: &Path, mountpoint: &Path) -> Result<MountHandle, PowerCutError> {
        let canonical = |path: &Path| {
            let dir = path.canonicalize().map_err(|source| PowerCutError::Directory { path: path.into(), source })?;
            if dir.is_dir() {
                Ok(dir)
            } else {
                Err(PowerCutError::Directory { path: path.into(), source: std::io::ErrorKind::NotADirectory.into() })
            }
        };
        let (backing, mountpoint) = (canonical(backing)?, canonical(mountpoint)?);
        if backing.starts_with(&mountpoint) || mountpoint.starts_with(&backing) {
            return Err(PowerCutError::Overlap { backing, mountpoint });
        }
        let state =
            State::new(&backing).map_err(|source| PowerCutError::Directory { path: backing.clone(), source })?;
        let state = Arc::new(Mutex::new(state));
        let mount_error = |source| PowerCutError::Mount { path: mountpoint.clone(), source };
        let device = sys::mount_fuse(&mountpoint).map_err(mount_error)?;
        let session = fuser::Session::from_fd(
            Fs { state: state.clone() },
            device,
            fuser::SessionACL::Owner,
            fuser::Config::default(),
        )
        .and_then(fuser::Session::spawn);
        match session {
            Ok(session) => Ok(MountHandle { state, session: Some(session), backing, mountpoint }),
            Err(source) => {
                let _ = sys::detach(&mountpoint);
                Err(mount_error(source))
            }
        }
    }
}

/// A mounted filesystem. Dropping it cuts the power.
#[derive(Debug)]
pub struct MountHandle {
    state: Arc<Mutex<State>>,
    /// None once consumed.
    session: Option<fuser::BackgroundSession>,
    backing: PathBuf,
    mountpoint: PathBuf,
}

impl MountHandle {
    /// The backing directory (canonical).
    pub fn backing(&self) -> &Path {
        &self.backing
    }

    /// The mountpoint (canonical).
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// What a cut would drop now.
    pub fn held(&self) -> Held {
        lock(&self.state).held()
    }

    /// Cuts the power: from now on every request fails with `EIO`, what is
    /// held is dropped, the backing directory is restored to what was
    /// durable, and the mount is detached. Returns at once: processes that
    /// still use the old mount get errors and are the caller's to kill.
    ///
    /// The mount is detached even when restoring failed ([`PowerCutError::Backing`]).
    pub fn cut_power(mut self) -> Result<PoweredOff, PowerCutError> {
        let (dropped, errors) = lock(&self.state).cut();
        let detached = sys::detach(&self.mountpoint);
        let off = PoweredOff {
            session: self.session.take(),
            backing: self.backing.clone(),
            mountpoint: self.mountpoint.clone(),
            dropped,
        };
        if !errors.is_empty() {
            return Err(PowerCutError::Backing { path: self.backing.clone(), errors });
        }
        detached.map_err(|source| PowerCutError::Unmount { path: self.mountpoint.clone(), source })?;
        Ok(off)
    }

    /// A clean shutdown: everything held is written and synced, then the
    /// mount is detached, and this waits (up to [`RELEASE_WAIT`]) for the
    /// processes using it to let go.
    pub fn unmount(mut self) -> Result<(), PowerCutError> {
        let errors = lock(&self.state).sync_all();
        let detached = sys::detach(&self.mountpoint);
        let session = self.session.take();
        if !errors.is_empty() {
            return Err(PowerCutError::Backing { path: self.backing.clone(), errors });
        }
        detached.map_err(|source| PowerCutError::Unmount { path: self.mountpoint.clone(), source })?;
        join(session, &self.mountpoint, RELEASE_WAIT)
    }
}

impl Drop for MountHandle {
    /// A handle dropped without [`cut_power`](Self::cut_power) or
    /// [`unmount`](Self::unmount) (a failing test, a panic) cuts the power:
    /// the mount is always detached.
    fn drop(&mut self) {
        if self.session.is_some() {
            let _ = lock(&self.state).cut();
            let _ = sys::detach(&self.mountpoint);
        }
    }
}

/// A filesystem after its power was cut: its backing directory holds what
/// was durable.
#[derive(Debug)]
pub struct PoweredOff {
    session: Option<fuser::BackgroundSession>,
    backing: PathBuf,
    mountpoint: PathBuf,
    dropped: Held,
}

impl PoweredOff {
    /// What the cut dropped.
    pub fn dropped(&self) -> Held {
        self.dropped
    }

    /// The backing directory.
    pub fn backing(&self) -> &Path {
        &self.backing
    }

    /// The mountpoint, with nothing mounted on it any more.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// Waits (up to [`RELEASE_WAIT`]) until no process holds a file of the
    /// old mount any more and its thread has ended.
    pub fn release(&mut self) -> Result<(), PowerCutError> {
        join(self.session.take(), &self.mountpoint, RELEASE_WAIT)
    }

    /// Mounts the backing directory again on the same mountpoint: the
    /// machine is back. Does not wait for the old mount's users (see
    /// [`release`](Self::release)).
    pub fn remount(self) -> Result<MountHandle, PowerCutError> {
        PowerCutFs::mount(&self.backing, &self.mountpoint)
    }
}

/// Detaches whatever is mounted on `mountpoint` at once (a lazy unmount),
/// for a process that must leave without dropping its [`MountHandle`] (a
/// signal): the mount would otherwise stay behind, its filesystem gone.
/// Nothing mounted there is not an error.
pub fn detach(mountpoint: &Path) -> Result<(), PowerCutError> {
    sys::detach(mountpoint).map_err(|source| PowerCutError::Unmount { path: mountpoint.to_path_buf(), source })
}

/// Waits for a detached session's thread to end (every file of the mount
/// closed), up to `wait`. After that the thread is left to end by itself.
fn join(session: Option<fuser::BackgroundSession>, mountpoint: &Path, wait: Duration) -> Result<(), PowerCutError> {
    let Some(session) = session else { return Ok(()) };
    let deadline = Instant::now() + wait;
    while !session.guard.is_finished() {
        if Instant::now() >= deadline {
            return Err(PowerCutError::StillInUse { path: mountpoint.to_path_buf(), waited: wait });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // The session's own error (the kernel closing the channel) says nothing more.
    let _ = session.join();
    Ok(())
}
