//! What sled's `flush` leaves undone, done by rsm: the fsyncs a power cut
//! needs.
//!
//! sled 0.34's `flush` writes its pages out with `sync_file_range`, which
//! makes neither the file's size nor the disk's cache durable, and sled
//! never syncs a directory: not its own (`db`, `conf`, `snap.*`), nor
//! `blobs/`, where every message over 128 KiB goes as a file of its own
//! (large nodes, rsm's snapshots). A power cut then loses records sled
//! acknowledged as flushed, or the whole store (found by the power-cut
//! torture, `rsm-proof torture --power-cuts`). After every flush rsm syncs
//! the database file, every file that appeared in the log's directory or in
//! `blobs/` since the last sync, and those directories when their entries
//! changed.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// sled's database file in the log's directory.
pub(crate) const DB_FILE: &str = "db";
/// sled's directory of large messages.
const BLOBS_DIR: &str = "blobs";

/// The files of one sled database, and which of them are known durable.
pub(crate) struct SledFiles {
    dir: PathBuf,
    /// Open for `sync_data` after every flush.
    db: File,
    /// Entries of the log's directory last made durable.
    entries: BTreeSet<OsString>,
    /// Entries of `blobs/` last made durable.
    blobs: BTreeSet<OsString>,
}

impl SledFiles {
    /// Opens the database file of the sled database in `dir` and makes
    /// everything sled wrote so far durable (its start-up writes too).
    pub(crate) fn open(dir: &Path) -> io::Result<SledFiles> {
        let db = File::open(dir.join(DB_FILE))?;
        let mut files = SledFiles { dir: dir.to_path_buf(), db, entries: BTreeSet::new(), blobs: BTreeSet::new() };
        files.db.sync_all()?;
        files.after_flush()?;
        Ok(files)
    }

    /// Makes what the last flush wrote durable: the database file, new
    /// files and changed directories (log directory and `blobs/`).
    pub(crate) fn after_flush(&mut self) -> io::Result<()> {
        self.db.sync_data()?;
        let blobs = self.dir.join(BLOBS_DIR);
        if blobs.is_dir() {
            sync_new_entries(&blobs, &mut self.blobs)?;
        }
        sync_new_entries(&self.dir, &mut self.entries)
    }
}

/// Syncs every file of `dir` not in `known`, then `dir` itself if its
/// entries changed; `known` becomes the current entries.
fn sync_new_entries(dir: &Path, known: &mut BTreeSet<OsString>) -> io::Result<()> {
    let mut now = BTreeSet::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if !known.contains(&name) && entry.file_type()?.is_file() {
            File::open(entry.path())?.sync_all()?;
        }
        now.insert(name);
    }
    if now != *known {
        File::open(dir)?.sync_all()?;
        *known = now;
    }
    Ok(())
}
