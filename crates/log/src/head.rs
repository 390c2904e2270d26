//! The head file: rsm's own record, independent of sled, of which store a
//! log directory holds and how far its log reached.
//!
//! sled recovers what it can from damaged files and reports the rest as
//! absent: a zeroed header reads as an empty database, a truncated file as a
//! shorter one, and nothing a reader of sled alone sees tells them from a
//! log that really is that short. The head is written when the store is
//! created (durably), and rewritten after every commit group's flush, so
//! it never claims a record sled has not made durable: the log always
//! reaches at least the head, and a log that ends before it, holds another
//! record at its seq, or carries another store's id is damaged, and is
//! refused.
//!
//! **The window.** A rewrite is a write without its own fdatasync, which
//! would double every commit group's cost (BENCHMARKS.md); a syncer thread
//! makes the head durable within [`SYNC_WINDOW`] of a write, and closing
//! the log makes it durable at once. The promise: damage that loses a
//! record acknowledged more than [`SYNC_WINDOW`] before a power cut, or
//! any record at all of a log closed cleanly, is found. (sled itself made
//! every acknowledged record durable before its acknowledgement; the head
//! is the independent check of that.)
//!
//! Two slots [`SLOT_STRIDE`] bytes apart, written in turn: a write torn by
//! a power cut spoils only the slot it was writing, and the other one still
//! says where the log reached a group earlier (the log is then one group
//! ahead of the head, which the checks allow).

use crate::codec::{self, HeadSlot, HEAD_SLOT_LEN};
use crate::{Hash, LogError, GENESIS_HASH};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// How long a head rewrite may stay in the page cache before the syncer
/// makes it durable: the detection window of a power cut (module docs).
pub(crate) const SYNC_WINDOW: Duration = Duration::from_millis(50);

/// The head file's name in the log's directory.
pub(crate) const HEAD_FILE: &str = "HEAD";
/// Where the head file is written before it is renamed into place.
pub(crate) const HEAD_TEMP_FILE: &str = "HEAD.new";
/// Distance between the two slots: a sector apart, so no single sector
/// write can tear both.
const SLOT_STRIDE: usize = 512;
/// The whole file: two slots.
const HEAD_FILE_LEN: usize = 2 * SLOT_STRIDE;

/// An open head file and what it says now.
pub(crate) struct HeadFile {
    /// Written in place (two fixed slots); the syncer makes it durable.
    file: Arc<File>,
    /// For messages.
    path: PathBuf,
    /// The newest valid slot.
    current: HeadSlot,
    /// Made at the first rewrite, stopped (with a last sync) on drop.
    syncer: Option<Syncer>,
}

/// The thread that makes the head's rewrites durable within [`SYNC_WINDOW`].
struct Syncer {
    shared: Arc<SyncState>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct SyncState {
    /// A rewrite is not yet durable.
    dirty: AtomicBool,
    /// Set on drop: sync once more and end.
    stop: Mutex<bool>,
    wake: Condvar,
    /// A failed fdatasync: the head's pages are in an unknown state, so
    /// the log takes no more appends (reported by the next rewrite).
    failed: Mutex<Option<String>>,
}

impl Syncer {
    fn start(file: Arc<File>, path: PathBuf) -> Result<Syncer, LogError> {
        let shared = Arc::new(SyncState::default());
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("rsm-head-sync".into())
            .spawn(move || loop {
                let stopping = {
                    let stop = state.stop.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let (stop, _) =
                        state.wake.wait_timeout(stop, SYNC_WINDOW).unwrap_or_else(std::sync::PoisonError::into_inner);
                    *stop
                };
                if state.dirty.swap(false, Ordering::AcqRel) {
                    if let Err(e) = file.sync_data() {
                        let why = format!("cannot sync {}: {e}", path.display());
                        *state.failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
                    }
                }
                if stopping {
                    return;
                }
            })
            .map_err(|e| LogError::Io(format!("cannot start the head's syncer: {e}")))?;
        Ok(Syncer { shared, thread: Some(thread) })
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        *self.shared.stop.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn io_at(path: &Path, what: &str, e: std::io::Error) -> LogError {
    LogError::Io(format!("cannot {what} {}: {e}", path.display()))
}

impl HeadFile {
    /// Reads the head file of the log directory `dir`: `None` when there is
    /// none; [`LogError::NotAStore`] when neither slot verifies.
    pub(crate) fn open(dir: &Path) -> Result<Option<HeadFile>, LogError> {
        let path = dir.join(HEAD_FILE);
        let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_at(&path, "open", e)),
        };
        let mut bytes = Vec::with_capacity(HEAD_FILE_LEN);
        (&mut file).take(HEAD_FILE_LEN as u64).read_to_end(&mut bytes).map_err(|e| io_at(&path, "read", e))?;
        let slot = |i: usize| {
            let start = i * SLOT_STRIDE;
            bytes.get(start..start + HEAD_SLOT_LEN).ok_or_else(|| "missing".to_string()).and_then(codec::decode_head)
        };
        let current = match (slot(0), slot(1)) {
            (Ok(a), Ok(b)) if a.store != b.store => {
                return Err(LogError::NotAStore {
                    path: path.display().to_string(),
                    reason: "its two slots name different stores".into(),
                })
            }
            (Ok(a), Ok(b)) => {
                if a.generation >= b.generation {
                    a
                } else {
                    b
                }
            }
            (Ok(a), Err(_)) => a,
            (Err(_), Ok(b)) => b,
            (Err(a), Err(b)) => {
                return Err(LogError::NotAStore {
                    path: path.display().to_string(),
                    reason: format!("the head file is damaged (slot 0: {a}; slot 1: {b})"),
                })
            }
        };
        Ok(Some(HeadFile { file: Arc::new(file), path, current, syncer: None }))
    }

    /// Creates the head file of a new store `store` in `dir`, durably: written
    /// under a temporary name, synced, renamed into place, the directory synced.
    pub(crate) fn create(dir: &Path, store: [u8; 16]) -> Result<HeadFile, LogError> {
        let temp = dir.join(HEAD_TEMP_FILE);
        let path = dir.join(HEAD_FILE);
        let current = HeadSlot { store, generation: 1, seq: 0, hash: GENESIS_HASH };
        let mut bytes = vec![0u8; HEAD_FILE_LEN];
        let at = slot_offset(current.generation);
        bytes[at..at + HEAD_SLOT_LEN].copy_from_slice(&codec::encode_head(&current));
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&temp)
            .map_err(|e| io_at(&temp, "create", e))?;
        file.write_all(&bytes).and_then(|_| file.sync_all()).map_err(|e| io_at(&temp, "write", e))?;
        std::fs::rename(&temp, &path).map_err(|e| io_at(&path, "rename into", e))?;
        sync_dir(dir)?;
        Ok(HeadFile { file: Arc::new(file), path, current, syncer: None })
    }

    /// What the head says now.
    pub(crate) fn slot(&self) -> HeadSlot {
        self.current
    }

    /// [`advance`](Self::advance) when `update`, else nothing (the benchmark's
    /// side-by-side baseline).
    pub(crate) fn advance_if(&mut self, update: bool, seq: u64, hash: Hash) -> Result<(), LogError> {
        if update {
            self.advance(seq, hash)
        } else {
            Ok(())
        }
    }

    /// Records that the log now reaches record `seq` whose hash is `hash`
    /// (call it only once sled made that record durable): written now,
    /// durable within [`SYNC_WINDOW`]. On error the head may say either the
    /// old or the new reach.
    pub(crate) fn advance(&mut self, seq: u64, hash: Hash) -> Result<(), LogError> {
        if self.syncer.is_none() {
            self.syncer = Some(Syncer::start(self.file.clone(), self.path.clone())?);
        }
        let syncer = self.syncer.as_ref().expect("the syncer was started just above");
        if let Some(why) = syncer.shared.failed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone() {
            return Err(LogError::Io(why));
        }
        let next = HeadSlot { generation: self.current.generation.wrapping_add(1), seq, hash, ..self.current };
        let bytes = codec::encode_head(&next);
        self.file
            .write_all_at(&bytes, slot_offset(next.generation) as u64)
            .map_err(|e| io_at(&self.path, "write", e))?;
        syncer.shared.dirty.store(true, Ordering::Release);
        self.current = next;
        Ok(())
    }
}

/// The slot a generation is written to: they alternate.
fn slot_offset(generation: u64) -> usize {
    (generation % 2) as usize * SLOT_STRIDE
}

/// Creates `dir` and every missing parent so that they survive a power
/// cut: each new directory's entry is made durable by syncing its parent
/// (a new directory is, to the filesystem, a new entry in its parent).
pub fn create_dir_durably(dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(p) = at.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        missing.push(p.to_path_buf());
        at = p.parent();
    }
    std::fs::create_dir_all(dir)?;
    for created in missing.iter().rev() {
        let parent = created.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// Makes `dir`'s entries (a created or renamed file) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_at(dir, "sync the directory", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_head_reads_back_and_advances_in_turn() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(HeadFile::open(dir.path()).expect("no head yet").is_none());
        let mut head = HeadFile::create(dir.path(), [7; 16]).expect("create");
        assert_eq!(head.slot().seq, 0);
        for seq in 1..=5u64 {
            head.advance(seq * 10, [seq as u8; 32]).expect("advance");
            let read = HeadFile::open(dir.path()).expect("read").expect("present").slot();
            assert_eq!((read.store, read.seq, read.hash), ([7; 16], seq * 10, [seq as u8; 32]));
        }
    }

    #[test]
    fn create_dir_durably_makes_every_missing_level() {
        let dir = tempfile::tempdir().expect("temp dir");
        let deep = dir.path().join("a/b/c");
        create_dir_durably(&deep).expect("created");
        assert!(deep.is_dir());
        create_dir_durably(&deep).expect("an existing directory is fine");
    }

    #[test]
    fn a_torn_newest_slot_falls_back_to_the_other() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut head = HeadFile::create(dir.path(), [1; 16]).expect("create");
        head.advance(3, [3; 32]).expect("advance");
        head.advance(4, [4; 32]).expect("advance");
        // Generation 3 (seq 4) sits in slot 1: tear it.
        let path = dir.path().join(HEAD_FILE);
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[SLOT_STRIDE + 40] ^= 0xFF;
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(HeadFile::open(dir.path()).expect("read").expect("present").slot().seq, 3);
        // Both torn: the file is not a head any more.
        bytes[40] ^= 0xFF;
        std::fs::write(&path, &bytes).expect("write");
        assert!(matches!(HeadFile::open(dir.path()), Err(LogError::NotAStore { .. })));
    }
}
