//! The filesystem: the kernel's requests served from the backing directory
//! and from what is held back, and the power cut that drops what is held.
//!
//! Entries are changed in the backing directory at once, and each change
//! not yet made durable is journaled with what undoes it; a removed or
//! replaced entry is not deleted but moved into [`HELD_DIR`], so that undoing
//! its removal moves it back. File data never reaches a backing file before
//! that file's sync: it waits in the file's [`Overlay`]. A cut undoes the
//! journal, newest first, and forgets the overlays.

use crate::overlay::Overlay;
use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo, LockOwner, OpenFlags,
    RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyWrite,
    Request, TimeOrNow, WriteFlags,
};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where removed and replaced entries are kept, in the backing root, while
/// their removal is held. Invisible through the mount; gone after a cut.
pub(crate) const HELD_DIR: &str = ".powercut-held";

/// Nothing is cached by the kernel: every lookup and stat asks again, so
/// what it sees is always what is held.
const TTL: Duration = Duration::ZERO;

/// What a node is. Nothing else (symlinks, devices, fifos) is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
}

/// One backing inode the kernel knows.
#[derive(Debug)]
struct Node {
    kind: Kind,
    /// Its names now (absolute backing paths); a file may have several.
    names: Vec<PathBuf>,
    /// Where it is kept while the removal of its last name is held.
    kept: Option<PathBuf>,
    /// Data written and not yet synced.
    pending: Option<Overlay>,
    /// The backing file, open while the kernel has the file open.
    file: Option<File>,
    /// Opens not yet released.
    opens: u32,
}

impl Node {
    fn new(kind: Kind, path: PathBuf) -> Node {
        Node { kind, names: vec![path], kept: None, pending: None, file: None, opens: 0 }
    }

    /// A backing path that reaches the inode now.
    fn path(&self) -> Result<&Path, Errno> {
        self.names.first().or(self.kept.as_ref()).map(PathBuf::as_path).ok_or(Errno::ENOENT)
    }
}

/// A change to a directory's entries that is not durable yet.
#[derive(Debug)]
struct HeldEntry {
    /// The directory's node.
    dir: u64,
    undo: Undo,
}

/// What undoes a held change of a directory's entries.
#[derive(Debug)]
enum Undo {
    /// An entry was created (create, mknod, mkdir, link): remove it.
    Remove(OsString),
    /// An entry was removed (unlink, rmdir): move it back from where it is kept.
    Restore { name: OsString, kept: PathBuf },
    /// An entry was renamed in the directory: rename it back, and restore
    /// the entry it replaced.
    Rename { from: OsString, to: OsString, replaced: Option<PathBuf> },
}

/// What a cut drops, or would drop now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// Files with data written (or a size set) and not synced.
    pub files: u64,
    /// Bytes written to them and not synced.
    pub bytes: u64,
    /// Changes of directory entries (create, mkdir, link, rename, unlink,
    /// rmdir) whose directory was not synced since.
    pub entries: u64,
}

/// The filesystem's whole state, behind one lock: a request runs whole
/// before or after a cut, never across it.
#[derive(Debug)]
pub(crate) struct State {
    root: PathBuf,
    held_dir: PathBuf,
    nodes: HashMap<u64, Node>,
    /// Backing inode number → node.
    by_backing: HashMap<u64, u64>,
    next_ino: u64,
    next_kept: u64,
    journal: Vec<HeldEntry>,
    /// False once the power is cut: every request then fails with EIO.
    powered: bool,
}

fn time(secs: i64, nanos: i64) -> SystemTime {
    u64::try_from(secs).map_or(UNIX_EPOCH, |s| UNIX_EPOCH + Duration::new(s, nanos.clamp(0, 999_999_999) as u32))
}

fn kind_of(meta: &Metadata) -> Result<Kind, Errno> {
    if meta.is_dir() {
        Ok(Kind::Dir)
    } else if meta.is_file() {
        Ok(Kind::File)
    } else {
        // Only files and directories are served.
        Err(Errno::EPERM)
    }
}

fn attr(ino: u64, meta: &Metadata, size: Option<u64>) -> FileAttr {
    let size = size.unwrap_or(meta.len());
    FileAttr {
        ino: INodeNo(ino),
        size,
        blocks: size.div_ceil(512),
        atime: time(meta.atime(), meta.atime_nsec()),
        mtime: time(meta.mtime(), meta.mtime_nsec()),
        ctime: time(meta.ctime(), meta.ctime_nsec()),
        crtime: UNIX_EPOCH,
        kind: if meta.is_dir() { FileType::Directory } else { FileType::RegularFile },
        perm: (meta.mode() & 0o7777) as u16,
        nlink: u32::try_from(meta.nlink()).unwrap_or(u32::MAX),
        uid: meta.uid(),
        gid: meta.gid(),
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

fn open_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open(path)
}

impl State {
    /// A state over `root` (canonical): nothing held, a fresh [`HELD_DIR`].
    pub(crate) fn new(root: &Path) -> io::Result<State> {
        let held_dir = root.join(HELD_DIR);
        match std::fs::remove_dir_all(&held_dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::create_dir(&held_dir)?;
        let root_ino = std::fs::metadata(root)?.ino();
        let mut state = State {
            root: root.to_path_buf(),
            held_dir,
            nodes: HashMap::new(),
            by_backing: HashMap::new(),
            next_ino: INodeNo::ROOT.0 + 1,
            next_kept: 0,
            journal: Vec::new(),
            powered: true,
        };
        state.nodes.insert(INodeNo::ROOT.0, Node::new(Kind::Dir, root.to_path_buf()));
        state.by_backing.insert(root_ino, INodeNo::ROOT.0);
        Ok(state)
    }

    /// What a cut would drop now.
    pub(crate) fn held(&self) -> Held {
        let pending = self.nodes.values().filter_map(|n| n.pending.as_ref());
        let (files, bytes) = pending.fold((0, 0), |(f, b), o| (f + 1, b + o.held_bytes()));
        Held { files, bytes, entries: self.journal.len() as u64 }
    }

    fn node(&self, ino: INodeNo) -> Result<&Node, Errno> {
        self.nodes.get(&ino.0).ok_or(Errno::ENOENT)
    }

    fn node_mut(&mut self, ino: INodeNo) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino.0).ok_or(Errno::ENOENT)
    }

    /// The backing path of `name` in the directory `parent`. The held
    /// entries' directory is not there for the kernel.
    fn child(&self, parent: INodeNo, name: &OsStr) -> Result<PathBuf, Errno> {
        let dir = self.node(parent)?;
        if dir.kind != Kind::Dir {
            return Err(Errno::ENOTDIR);
        }
        if parent == INodeNo::ROOT && name == HELD_DIR {
            return Err(Errno::EPERM);
        }
        Ok(dir.path()?.join(name))
    }

    /// The node of the backing entry at `path` (made on first sight), and its attributes.
    fn entry(&mut self, path: &Path) -> Result<(u64, FileAttr), Errno> {
        let meta = std::fs::symlink_metadata(path)?;
        let kind = kind_of(&meta)?;
        let ino = match self.by_backing.get(&meta.ino()) {
            Some(&ino) => {
                let node = self.nodes.get_mut(&ino).ok_or(Errno::EIO)?;
                if !node.names.iter().any(|n| n == path) {
                    // A name of a file not seen before (a link made before the mount).
                    node.names.push(path.to_path_buf());
                }
                ino
            }
            None => {
                let ino = self.next_ino;
                self.next_ino += 1;
                self.nodes.insert(ino, Node::new(kind, path.to_path_buf()));
                self.by_backing.insert(meta.ino(), ino);
                ino
            }
        };
        let size = self.nodes.get(&ino).and_then(|n| n.pending.as_ref()).map(Overlay::size);
        Ok((ino, attr(ino, &meta, size)))
    }

    fn getattr(&self, ino: INodeNo) -> Result<FileAttr, Errno> {
        let node = self.node(ino)?;
        let meta = std::fs::symlink_metadata(node.path()?)?;
        Ok(attr(ino.0, &meta, node.pending.as_ref().map(Overlay::size)))
    }

    /// The node's overlay, made over the backing file's durable content on the first write.
    fn pending(&mut self, ino: INodeNo) -> Result<&mut Overlay, Errno> {
        let node = self.node_mut(ino)?;
        if node.kind != Kind::File {
            return Err(Errno::EISDIR);
        }
        if node.pending.is_none() {
            let len = std::fs::symlink_metadata(node.path()?)?.len();
            node.pending = Some(Overlay::new(len));
        }
        node.pending.as_mut().ok_or(Errno::EIO)
    }

    /// Moves the entry at `path` to where held removals are kept.
    fn keep(&mut self, path: &Path) -> Result<PathBuf, Errno> {
        let kept = self.held_dir.join(self.next_kept.to_string());
        self.next_kept += 1;
        std::fs::rename(path, &kept)?;
        Ok(kept)
    }

    /// The entry `path` of the backing inode `backing` was removed and kept at `kept`.
    fn name_removed(&mut self, backing: u64, path: &Path, kept: &Path) {
        if let Some(node) = self.by_backing.get(&backing).and_then(|ino| self.nodes.get_mut(ino)) {
            node.names.retain(|n| n != path);
            if node.names.is_empty() {
                node.kept = Some(kept.to_path_buf());
            }
        }
    }

    fn hold(&mut self, dir: INodeNo, undo: Undo) {
        self.journal.push(HeldEntry { dir: dir.0, undo });
    }

    fn lookup(&mut self, parent: INodeNo, name: &OsStr) -> Result<FileAttr, Errno> {
        let path = self.child(parent, name).map_err(|e| if e == Errno::EPERM { Errno::ENOENT } else { e })?;
        Ok(self.entry(&path)?.1)
    }

    fn setattr(
        &mut self,
        ino: INodeNo,
        mode: Option<u32>,
        owner: (Option<u32>, Option<u32>),
        size: Option<u64>,
    ) -> Result<FileAttr, Errno> {
        if let Some(size) = size {
            self.pending(ino)?.set_len(size);
        }
        let path = self.node(ino)?.path()?.to_path_buf();
        if let Some(mode) = mode {
            std::fs::set_permissions(&path, Permissions::from_mode(mode & 0o7777))?;
        }
        if owner != (None, None) {
            std::os::unix::fs::lchown(&path, owner.0, owner.1)?;
        }
        self.getattr(ino)
    }

    fn mkdir(&mut self, parent: INodeNo, name: &OsStr, mode: u32) -> Result<FileAttr, Errno> {
        let path = self.child(parent, name)?;
        std::fs::create_dir(&path)?;
        self.hold(parent, Undo::Remove(name.to_os_string()));
        std::fs::set_permissions(&path, Permissions::from_mode(mode & 0o7777))?;
        Ok(self.entry(&path)?.1)
    }

    /// Creates a regular file; its handle when `flags` says how to open it.
    fn create(&mut self, parent: INodeNo, name: &OsStr, mode: u32, flags: Option<i32>) -> Result<FileAttr, Errno> {
        let path = self.child(parent, name)?;
        let created = OpenOptions::new().read(true).write(true).create_new(true).mode(mode & 0o7777).open(&path);
        let file = match (created, flags) {
            (Ok(file), _) => {
                self.hold(parent, Undo::Remove(name.to_os_string()));
                file
            }
            // Created by someone else since the kernel looked: opened as it is.
            (Err(e), Some(flags)) if e.kind() == io::ErrorKind::AlreadyExists && flags & libc::O_EXCL == 0 => {
                open_rw(&path)?
            }
            (Err(e), _) => return Err(e.into()),
        };
        let (ino, attr) = self.entry(&path)?;
        if flags.is_some() {
            let node = self.nodes.get_mut(&ino).ok_or(Errno::EIO)?;
            node.file.get_or_insert(file);
            node.opens += 1;
        }
        Ok(attr)
    }

    fn open(&mut self, ino: INodeNo) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        if node.kind != Kind::File {
            return Err(Errno::EISDIR);
        }
        if node.file.is_none() {
            node.file = Some(open_rw(node.path()?)?);
        }
        node.opens += 1;
        Ok(())
    }

    fn release(&mut self, ino: INodeNo) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        node.opens = node.opens.saturating_sub(1);
        if node.opens == 0 {
            node.file = None;
        }
        Ok(())
    }

    fn read(&self, ino: INodeNo, offset: u64, size: u32) -> Result<Vec<u8>, Errno> {
        let node = self.node(ino)?;
        let opened;
        let file = match &node.file {
            Some(file) => file,
            None => {
                opened = open_rw(node.path()?)?;
                &opened
            }
        };
        let overlay;
        let view = match &node.pending {
            Some(pending) => pending,
            None => {
                overlay = Overlay::new(file.metadata()?.len());
                &overlay
            }
        };
        Ok(view.read(file, offset, u64::from(size))?)
    }

    fn write(&mut self, ino: INodeNo, offset: u64, data: &[u8]) -> Result<u32, Errno> {
        self.pending(ino)?.write(offset, data);
        u32::try_from(data.len()).map_err(|_| Errno::EINVAL)
    }

    /// fsync and fdatasync alike: the file's data and size become durable.
    fn fsync(&mut self, ino: INodeNo) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        let Some(pending) = &node.pending else { return Ok(()) };
        match &node.file {
            Some(file) => pending.apply(file)?,
            None => pending.apply(&open_rw(node.path()?)?)?,
        }
        node.pending = None;
        Ok(())
    }

    fn unlink(&mut self, parent: INodeNo, name: &OsStr) -> Result<(), Errno> {
        let path = self.child(parent, name)?;
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            return Err(Errno::EISDIR);
        }
        let kept = self.keep(&path)?;
        self.hold(parent, Undo::Restore { name: name.to_os_string(), kept: kept.clone() });
        self.name_removed(meta.ino(), &path, &kept);
        Ok(())
    }

    fn rmdir(&mut self, parent: INodeNo, name: &OsStr) -> Result<(), Errno> {
        let path = self.child(parent, name)?;
        let meta = std::fs::symlink_metadata(&path)?;
        if !meta.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if std::fs::read_dir(&path)?.next().is_some() {
            return Err(Errno::ENOTEMPTY);
        }
        let kept = self.keep(&path)?;
        self.hold(parent, Undo::Restore { name: name.to_os_string(), kept: kept.clone() });
        self.name_removed(meta.ino(), &path, &kept);
        Ok(())
    }

    /// Renames a file within one directory, replacing what `newname` named.
    fn rename(
        &mut self,
        (parent, name): (INodeNo, &OsStr),
        (newparent, newname): (INodeNo, &OsStr),
        flags: RenameFlags,
    ) -> Result<(), Errno> {
        if flags.intersects(RenameFlags::RENAME_EXCHANGE | RenameFlags::RENAME_WHITEOUT) {
            return Err(Errno::EINVAL);
        }
        // Held in one directory's journal only: see the crate's documentation.
        if parent != newparent {
            return Err(Errno::EXDEV);
        }
        let (from, to) = (self.child(parent, name)?, self.child(newparent, newname)?);
        let source = std::fs::symlink_metadata(&from)?;
        if source.is_dir() {
            return Err(Errno::EXDEV);
        }
        let replaced = match std::fs::symlink_metadata(&to) {
            Ok(target) if target.ino() == source.ino() => return Ok(()),
            Ok(target) if target.is_dir() => return Err(Errno::EISDIR),
            Ok(_) if flags.contains(RenameFlags::RENAME_NOREPLACE) => return Err(Errno::EEXIST),
            Ok(target) => {
                let kept = self.keep(&to)?;
                self.name_removed(target.ino(), &to, &kept);
                Some(kept)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        if let Err(e) = std::fs::rename(&from, &to) {
            if let Some(kept) = &replaced {
                // Put back what was moved aside; the rename did not happen.
                let _ = std::fs::rename(kept, &to);
            }
            return Err(e.into());
        }
        self.hold(parent, Undo::Rename { from: name.to_os_string(), to: newname.to_os_string(), replaced });
        if let Some(node) = self.by_backing.get(&source.ino()).and_then(|ino| self.nodes.get_mut(ino)) {
            node.names.retain(|n| *n != from);
            node.names.insert(0, to);
        }
        Ok(())
    }

    fn link(&mut self, ino: INodeNo, newparent: INodeNo, newname: &OsStr) -> Result<FileAttr, Errno> {
        let node = self.node(ino)?;
        if node.kind != Kind::File {
            return Err(Errno::EPERM);
        }
        let existing = node.path()?.to_path_buf();
        let path = self.child(newparent, newname)?;
        std::fs::hard_link(&existing, &path)?;
        self.hold(newparent, Undo::Remove(newname.to_os_string()));
        Ok(self.entry(&path)?.1)
    }

    fn readdir(&self, ino: INodeNo) -> Result<Vec<(u64, FileType, OsString)>, Errno> {
        let node = self.node(ino)?;
        if node.kind != Kind::Dir {
            return Err(Errno::ENOTDIR);
        }
        let mut entries = vec![(ino.0, FileType::Directory, ".".into()), (ino.0, FileType::Directory, "..".into())];
        let mut listed = Vec::new();
        for entry in std::fs::read_dir(node.path()?)? {
            let entry = entry?;
            let name = entry.file_name();
            if ino == INodeNo::ROOT && name == HELD_DIR {
                continue;
            }
            let backing = std::os::unix::fs::DirEntryExt::ino(&entry);
            let kind = if entry.file_type()?.is_dir() { FileType::Directory } else { FileType::RegularFile };
            listed.push((self.by_backing.get(&backing).copied().unwrap_or(backing), kind, name));
        }
        listed.sort_by(|a, b| a.2.cmp(&b.2));
        entries.extend(listed);
        Ok(entries)
    }

    /// The directory's entries become durable: its held changes are kept.
    fn fsyncdir(&mut self, ino: INodeNo) -> Result<(), Errno> {
        let path = self.node(ino)?.path()?.to_path_buf();
        self.journal.retain(|held| held.dir != ino.0);
        File::open(path)?.sync_all()?;
        Ok(())
    }

    /// The power cut: every request fails from now on, the held data is
    /// forgotten, and the held entry changes are undone, newest first, so
    /// that the backing directory holds what was durable. Errors (which
    /// would mean the backing directory was changed behind the
    /// filesystem's back) are collected, the rest still undone.
    pub(crate) fn cut(&mut self) -> (Held, Vec<String>) {
        let held = self.held();
        self.powered = false;
        for node in self.nodes.values_mut() {
            node.pending = None;
            node.file = None;
        }
        let mut errors = Vec::new();
        let journal = std::mem::take(&mut self.journal);
        for HeldEntry { dir, undo } in journal.into_iter().rev() {
            let Some(dir) = self.nodes.get(&dir).and_then(|d| d.path().ok()).map(Path::to_path_buf) else {
                errors.push(format!("a directory of a held change is unknown: {undo:?}"));
                continue;
            };
            if let Err(e) = self.undo(&dir, &undo) {
                errors.push(format!("undoing {undo:?} in {}: {e}", dir.display()));
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.held_dir) {
            errors.push(format!("removing {}: {e}", self.held_dir.display()));
        }
        (held, errors)
    }

    fn undo(&mut self, dir: &Path, undo: &Undo) -> io::Result<()> {
        match undo {
            Undo::Remove(name) => {
                let path = dir.join(name);
                if std::fs::symlink_metadata(&path)?.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                }
            }
            Undo::Restore { name, kept } => {
                let path = dir.join(name);
                std::fs::rename(kept, &path)?;
                // A directory's node must find it again: later undos may be inside it.
                if let Some(node) = self.nodes.values_mut().find(|n| n.kept.as_ref() == Some(kept)) {
                    node.kept = None;
                    node.names = vec![path];
                }
                Ok(())
            }
            Undo::Rename { from, to, replaced } => {
                std::fs::rename(dir.join(to), dir.join(from))?;
                match replaced {
                    Some(kept) => std::fs::rename(kept, dir.join(to)),
                    None => Ok(()),
                }
            }
        }
    }

    /// A clean shutdown: everything held is written and synced, every
    /// held entry change kept. The backing directory then holds all of it.
    pub(crate) fn sync_all(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        let inos: Vec<u64> = self.nodes.iter().filter(|(_, n)| n.pending.is_some()).map(|(i, _)| *i).collect();
        for ino in inos {
            if let Err(e) = self.fsync(INodeNo(ino)) {
                errors.push(format!("syncing inode {ino}: {e:?}"));
            }
        }
        self.journal.clear();
        self.powered = false;
        for node in self.nodes.values_mut() {
            node.file = None;
        }
        if let Err(e) = std::fs::remove_dir_all(&self.held_dir) {
            errors.push(format!("removing {}: {e}", self.held_dir.display()));
        }
        if let Err(e) = File::open(&self.root).and_then(|d| d.sync_all()) {
            errors.push(format!("syncing {}: {e}", self.root.display()));
        }
        errors
    }
}

/// The [`Filesystem`] the kernel talks to: every request locks the state.
pub(crate) struct Fs {
    pub(crate) state: Arc<Mutex<State>>,
}

/// Locks the state; a panic in a request cannot leave it half-changed in a
/// way a later request would trip over more than the panic itself did.
pub(crate) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Fs {
    fn run<T>(&self, f: impl FnOnce(&mut State) -> Result<T, Errno>) -> Result<T, Errno> {
        let mut state = lock(&self.state);
        if !state.powered {
            return Err(Errno::EIO);
        }
        f(&mut state)
    }
}

const GENERATION: Generation = Generation(0);

impl Filesystem for Fs {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.run(|s| s.lookup(parent, name)) {
            Ok(attr) => reply.entry(&TTL, &attr, GENERATION),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.run(|s| s.getattr(ino)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        match self.run(|s| s.setattr(ino, mode, (uid, gid), size)) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn mknod(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        if mode & libc::S_IFMT != libc::S_IFREG {
            return reply.error(Errno::EPERM);
        }
        match self.run(|s| s.create(parent, name, mode & !umask, None)) {
            Ok(attr) => reply.entry(&TTL, &attr, GENERATION),
            Err(e) => reply.error(e),
        }
    }

    fn mkdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, mode: u32, umask: u32, reply: ReplyEntry) {
        match self.run(|s| s.mkdir(parent, name, mode & !umask)) {
            Ok(attr) => reply.entry(&TTL, &attr, GENERATION),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.run(|s| s.unlink(parent, name)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        match self.run(|s| s.rmdir(parent, name)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        match self.run(|s| s.rename((parent, name), (newparent, newname), flags)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn link(&self, _req: &Request, ino: INodeNo, newparent: INodeNo, newname: &OsStr, reply: ReplyEntry) {
        match self.run(|s| s.link(ino, newparent, newname)) {
            Ok(attr) => reply.entry(&TTL, &attr, GENERATION),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.run(|s| s.open(ino)) {
            Ok(()) => reply.opened(FileHandle(ino.0), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        match self.run(|s| s.read(ino, offset, size)) {
            Ok(data) => reply.data(&data),
            Err(e) => reply.error(e),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        match self.run(|s| s.write(ino, offset, data)) {
            Ok(written) => reply.written(written),
            Err(e) => reply.error(e),
        }
    }

    fn flush(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _lock_owner: LockOwner, reply: ReplyEmpty) {
        // close() makes nothing durable.
        match self.run(|_| Ok(())) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        match self.run(|s| s.release(ino)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn fsync(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        match self.run(|s| s.fsync(ino)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        match self.run(|s| s.node(ino).map(|n| n.kind)) {
            Ok(Kind::Dir) => reply.opened(FileHandle(ino.0), FopenFlags::empty()),
            Ok(Kind::File) => reply.error(Errno::ENOTDIR),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        match self.run(|s| s.readdir(ino)) {
            Ok(entries) => {
                for (i, (entry_ino, kind, name)) in entries.into_iter().enumerate().skip(offset as usize) {
                    if reply.add(INodeNo(entry_ino), i as u64 + 1, kind, name) {
                        break;
                    }
                }
                reply.ok()
            }
            Err(e) => reply.error(e),
        }
    }

    fn fsyncdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        match self.run(|s| s.fsyncdir(ino)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        match self.run(|s| s.create(parent, name, mode & !umask, Some(flags))) {
            Ok(attr) => reply.created(&TTL, &attr, GENERATION, FileHandle(attr.ino.0), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }
}
