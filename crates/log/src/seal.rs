//! The seal: what sled's files looked like when rsm last closed them, so
//! that an open can tell files nobody touched from files that changed
//! behind rsm's back, and sled's recovery never destroys the evidence of
//! damage.
//!
//! sled "recovers" a damaged database on open by rewriting it: a zeroed
//! header or a cut file becomes a shorter or empty database on disk, and
//! its snapshot file is replaced. rsm refuses such a store afterwards, but
//! the bytes an operator would hand to a recovery tool are gone. So an open
//! lets sled touch the files in place only when they are exactly as the
//! last clean close left them (the seal: every file's name, inode, size
//! and change times). Otherwise (a crash, a copy, damage) sled first opens
//! a copy of them (the trial), and the store is opened in place only when
//! the copy passes every check; a store the trial refuses is left byte for
//! byte as it was found.
//!
//! The seal is only a shortcut: a missing, stale or unreadable one costs a
//! copy of the database at open, never a check.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The seal's file in the log's directory.
pub(crate) const SEAL_FILE: &str = "SEALED";
/// Where a trial open copies sled's files (inside the log's directory, so
/// it is on the same filesystem and under the same lock).
pub(crate) const TRIAL_DIR: &str = "trial";
/// The files of the log's directory that are rsm's, not sled's.
const RSM_FILES: [&str; 5] = ["HEAD", "HEAD.new", "LOCK", SEAL_FILE, "SEALED.new"];
/// Waits of 10 ms for sled's threads to let go of the database after the
/// last handle is dropped (at most 2 s); after that the seal is not written.
const RELEASE_WAITS: u32 = 200;

fn is_sleds(name: &str) -> bool {
    name != TRIAL_DIR && !RSM_FILES.contains(&name)
}

/// sled's files in `dir`, recursively, each as `path size mtime-ns`, sorted.
fn fingerprint(dir: &Path) -> io::Result<String> {
    let mut lines = Vec::new();
    collect(dir, Path::new(""), &mut lines)?;
    lines.sort();
    Ok(lines.concat())
}

fn collect(dir: &Path, prefix: &Path, lines: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if prefix.as_os_str().is_empty() && !is_sleds(&name) {
            continue;
        }
        let relative = prefix.join(&*name);
        let meta = entry.metadata()?;
        if meta.is_dir() {
            collect(&entry.path(), &relative, lines)?;
        } else {
            let mut line = String::new();
            let _ = writeln!(
                line,
                "{} {} {} {}.{} {}.{}",
                relative.display(),
                meta.ino(),
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec()
            );
            lines.push(line);
        }
    }
    Ok(())
}

/// True when the log directory `dir` holds a seal that matches its files.
pub(crate) fn is_sealed(dir: &Path) -> bool {
    match (fs::read_to_string(dir.join(SEAL_FILE)), fingerprint(dir)) {
        (Ok(seal), Ok(now)) => seal == now,
        _ => false,
    }
}

/// Writes the seal of `dir`'s files, once sled has let go of its database
/// (its threads outlive the last handle for a moment). Best effort: a seal
/// not written costs the next open a trial copy.
pub(crate) fn write_seal(dir: &Path, db_file: &Path) {
    if !sled_let_go(db_file) {
        return;
    }
    let Ok(seal) = fingerprint(dir) else { return };
    let temp = dir.join("SEALED.new");
    if fs::write(&temp, seal).is_ok() {
        let _ = fs::rename(&temp, dir.join(SEAL_FILE));
    }
}

/// Waits, boundedly, until no sled handle holds the lock on `db_file`.
fn sled_let_go(db_file: &Path) -> bool {
    let Ok(db) = File::open(db_file) else { return false };
    for _ in 0..RELEASE_WAITS {
        if db.try_lock().is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Removes the seal: called before sled opens the files in place, so a
/// crash afterwards can never leave a seal that matches files sled has
/// since changed (modification times alone could, on a coarse clock).
pub(crate) fn break_seal(dir: &Path) -> io::Result<()> {
    match fs::remove_file(dir.join(SEAL_FILE)) {
        Ok(()) => File::open(dir)?.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A copy of sled's files for a trial open; removed when dropped.
pub(crate) struct Trial {
    path: PathBuf,
}

impl Trial {
    /// Copies sled's files of `dir` into `dir/trial` (replacing what an
    /// interrupted trial left there).
    pub(crate) fn copy(dir: &Path) -> io::Result<Trial> {
        let path = dir.join(TRIAL_DIR);
        if path.exists() {
            fs::remove_dir_all(&path)?;
        }
        let trial = Trial { path };
        copy_tree(dir, &trial.path, true)?;
        Ok(trial)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Trial {
    fn drop(&mut self) {
        sled_let_go(&self.path.join("db"));
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn copy_tree(from: &Path, to: &Path, top: bool) -> io::Result<()> {
    fs::create_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if top && !is_sleds(&name.to_string_lossy()) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target, false)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_matches_until_a_file_of_sleds_changes() {
        let dir = tempfile::tempdir().expect("a temp dir");
        fs::write(dir.path().join("db"), b"pages").expect("write db");
        fs::write(dir.path().join("HEAD"), b"head").expect("write head");
        assert!(!is_sealed(dir.path()), "no seal yet");
        write_seal(dir.path(), &dir.path().join("db"));
        assert!(is_sealed(dir.path()));
        fs::write(dir.path().join("HEAD"), b"rsm's own file changed").expect("rewrite head");
        assert!(is_sealed(dir.path()), "rsm's files are not part of the seal");
        // File times tick at the kernel's clock granularity (a few ms).
        std::thread::sleep(Duration::from_millis(30));
        fs::write(dir.path().join("db"), b"pagez").expect("damage db");
        assert!(!is_sealed(dir.path()), "same size, new bytes: the modification time moved");
    }

    #[test]
    fn a_trial_copies_sleds_files_and_removes_them_after() {
        let dir = tempfile::tempdir().expect("a temp dir");
        fs::write(dir.path().join("db"), b"pages").expect("write db");
        fs::create_dir(dir.path().join("blobs")).expect("blobs");
        fs::write(dir.path().join("blobs/7"), b"blob").expect("write blob");
        fs::write(dir.path().join("LOCK"), b"").expect("write lock");
        let trial = Trial::copy(dir.path()).expect("a trial copy");
        assert_eq!(fs::read(trial.path().join("db")).expect("copied db"), b"pages");
        assert_eq!(fs::read(trial.path().join("blobs/7")).expect("copied blob"), b"blob");
        assert!(!trial.path().join("LOCK").exists(), "rsm's files stay out");
        let path = trial.path().to_path_buf();
        drop(trial);
        assert!(!path.exists());
    }
}
