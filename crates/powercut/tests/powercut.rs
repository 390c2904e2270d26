//! The filesystem itself: what is synced survives a cut, what is not is
//! lost, and reads before the cut see everything. So a torture run on it
//! cannot pass by accident.

use rsm_powercut::{MountHandle, PowerCutError, PowerCutFs};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A mount over a fresh backing directory. Fields drop in order: the mount
/// before its directories.
struct Mounted {
    fs: Option<MountHandle>,
    mnt: tempfile::TempDir,
    backing: tempfile::TempDir,
}

impl Mounted {
    fn at(&self, name: &str) -> PathBuf {
        self.mnt.path().join(name)
    }

    fn backing(&self, name: &str) -> PathBuf {
        self.backing.path().join(name)
    }

    fn root(&self) -> &Path {
        self.mnt.path()
    }

    /// Cuts the power and mounts again.
    fn cut_and_remount(&mut self) {
        let mut off = self.fs.take().expect("mounted").cut_power().expect("cut");
        off.release().expect("nothing of the test holds the old mount");
        self.fs = Some(off.remount().expect("remount"));
    }
}

/// Mounts, or says why it cannot here (not root, no /dev/fuse) and returns
/// None; under CI (`CI=true`), which runs as root with FUSE, it fails instead.
fn mount() -> Option<Mounted> {
    let (backing, mnt) = (tempfile::tempdir().expect("temp dir"), tempfile::tempdir().expect("temp dir"));
    match PowerCutFs::mount(backing.path(), mnt.path()) {
        Ok(fs) => Some(Mounted { fs: Some(fs), mnt, backing }),
        Err(e @ PowerCutError::Mount { .. }) => {
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("CI runs as root with /dev/fuse, yet: {e}");
            }
            println!("skipped: {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

fn sync_dir(dir: &Path) {
    File::open(dir).and_then(|d| d.sync_all()).expect("fsync the directory");
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A file with `content`, whose data and entry are both durable.
fn durable_file(m: &Mounted, name: &str, content: &[u8]) {
    let mut f = File::create(m.at(name)).expect("create");
    f.write_all(content).expect("write");
    f.sync_all().expect("fsync");
    sync_dir(m.root());
}

#[test]
fn an_unsynced_write_is_lost_and_a_synced_one_survives() {
    let Some(mut m) = mount() else { return };
    durable_file(&m, "a", b"one");
    let mut f = OpenOptions::new().append(true).open(m.at("a")).expect("open");
    f.write_all(b" two").expect("write");
    assert_eq!(read(&m.at("a")), b"one two", "reads before the cut see the held write");
    assert_eq!(read(&m.backing("a")), b"one", "the backing file holds only what was synced");
    let held = m.fs.as_ref().expect("mounted").held();
    assert_eq!((held.files, held.bytes, held.entries), (1, 4, 0));
    drop(f);
    m.cut_and_remount();
    assert_eq!(read(&m.at("a")), b"one");

    // Synced, it survives.
    let mut f = OpenOptions::new().append(true).open(m.at("a")).expect("open");
    f.write_all(b" three").expect("write");
    f.sync_data().expect("fdatasync");
    drop(f);
    m.cut_and_remount();
    assert_eq!(read(&m.at("a")), b"one three");
}

#[test]
fn writes_at_offsets_and_truncations_are_held_until_the_sync() {
    let Some(mut m) = mount() else { return };
    durable_file(&m, "f", &[b'x'; 10_000]);
    let f = OpenOptions::new().read(true).write(true).open(m.at("f")).expect("open");
    f.set_len(100).expect("truncate");
    std::os::unix::fs::FileExt::write_all_at(&f, b"far", 20_000).expect("pwrite");
    let seen = read(&m.at("f"));
    assert_eq!(seen.len(), 20_003);
    assert!(seen[..100].iter().all(|b| *b == b'x') && seen[100..20_000].iter().all(|b| *b == 0));
    assert_eq!(&seen[20_000..], b"far");
    drop(f);
    m.cut_and_remount();
    assert_eq!(read(&m.at("f")), vec![b'x'; 10_000], "the truncation was not synced");

    let f = OpenOptions::new().write(true).open(m.at("f")).expect("open");
    f.set_len(3).expect("truncate");
    f.sync_all().expect("fsync");
    drop(f);
    m.cut_and_remount();
    assert_eq!(read(&m.at("f")), b"xxx");
}

#[test]
fn an_unsynced_create_is_lost_and_a_synced_one_survives() {
    let Some(mut m) = mount() else { return };
    // Both data and entry synced: there.
    let mut f = File::create(m.at("both")).expect("create");
    f.write_all(b"b").expect("write");
    f.sync_all().expect("fsync");
    drop(f);
    // Entry synced (the directory's sync), data not: there, empty.
    let mut f = File::create(m.at("entry-only")).expect("create");
    f.write_all(b"e").expect("write");
    drop(f);
    sync_dir(m.root());
    // Data synced, entry not: lost with its entry.
    let mut f = File::create(m.at("data-only")).expect("create");
    f.write_all(b"d").expect("write");
    f.sync_all().expect("fsync");
    drop(f);
    // Neither: lost.
    fs::write(m.at("neither"), b"n").expect("write");
    assert_eq!(read(&m.at("neither")), b"n", "reads before the cut see the held entry and data");

    m.cut_and_remount();
    assert!(!m.at("data-only").exists());
    assert_eq!(read(&m.at("entry-only")), b"");
    assert!(!m.at("neither").exists());
    assert_eq!(read(&m.at("both")), b"b");
    let mut names: Vec<String> = fs::read_dir(m.root())
        .expect("list")
        .map(|e| e.expect("entry").file_name().into_string().expect("utf-8"))
        .collect();
    names.sort();
    assert_eq!(names, ["both", "entry-only"]);
}

#[test]
fn an_unsynced_rename_is_lost_and_a_synced_one_survives() {
    let Some(mut m) = mount() else { return };
    durable_file(&m, "old", b"old content");
    // The atomic replace: new content under a temporary name, synced, renamed over.
    let replace = |m: &Mounted, content: &[u8]| {
        let mut f = File::create(m.at("old.tmp")).expect("create");
        f.write_all(content).expect("write");
        f.sync_all().expect("fsync");
        fs::rename(m.at("old.tmp"), m.at("old")).expect("rename");
    };
    replace(&m, b"new content");
    assert_eq!(read(&m.at("old")), b"new content");
    m.cut_and_remount();
    assert_eq!(read(&m.at("old")), b"old content", "the rename was not synced");
    assert!(!m.at("old.tmp").exists(), "nor the temporary file's creation");

    replace(&m, b"new content");
    sync_dir(m.root());
    m.cut_and_remount();
    assert_eq!(read(&m.at("old")), b"new content");
    assert!(!m.at("old.tmp").exists());

    // A plain rename, held, then lost.
    fs::rename(m.at("old"), m.at("moved")).expect("rename");
    assert!(m.at("moved").exists() && !m.at("old").exists());
    m.cut_and_remount();
    assert!(m.at("old").exists() && !m.at("moved").exists());
}

#[test]
fn an_unsynced_unlink_is_undone_and_a_link_then_unlink_is_held_as_a_whole() {
    let Some(mut m) = mount() else { return };
    durable_file(&m, "kept", b"k");
    fs::remove_file(m.at("kept")).expect("unlink");
    assert!(!m.at("kept").exists());
    m.cut_and_remount();
    assert_eq!(read(&m.at("kept")), b"k", "the unlink was not synced");

    // The write-new pattern: temporary file, synced, linked to its name, unlinked.
    let publish = |m: &Mounted| {
        let mut f = File::create(m.at("n.tmp")).expect("create");
        f.write_all(b"linked").expect("write");
        f.sync_all().expect("fsync");
        fs::hard_link(m.at("n.tmp"), m.at("n")).expect("link");
        fs::remove_file(m.at("n.tmp")).expect("unlink");
    };
    publish(&m);
    assert_eq!(read(&m.at("n")), b"linked");
    m.cut_and_remount();
    assert!(!m.at("n").exists() && !m.at("n.tmp").exists());
    publish(&m);
    sync_dir(m.root());
    m.cut_and_remount();
    assert_eq!(read(&m.at("n")), b"linked");
    assert!(!m.at("n.tmp").exists());
}

#[test]
fn a_new_directory_is_durable_only_once_its_parent_is_synced() {
    let Some(mut m) = mount() else { return };
    fs::create_dir(m.at("d")).expect("mkdir");
    durable_file(&m, "d/inner", b"i"); // syncs the root, not d
    sync_dir(&m.at("d"));
    m.cut_and_remount();
    assert!(m.at("d").exists(), "the root was synced after the mkdir");
    assert_eq!(read(&m.at("d/inner")), b"i");

    fs::create_dir(m.at("e")).expect("mkdir");
    let mut f = File::create(m.at("e/inner")).expect("create");
    f.write_all(b"i").expect("write");
    f.sync_all().expect("fsync");
    drop(f);
    sync_dir(&m.at("e"));
    m.cut_and_remount();
    assert!(!m.at("e").exists(), "e's own sync does not make its entry in the root durable");

    fs::remove_file(m.at("d/inner")).expect("unlink");
    sync_dir(&m.at("d"));
    fs::remove_dir(m.at("d")).expect("rmdir");
    m.cut_and_remount();
    assert!(m.at("d").is_dir() && !m.at("d/inner").exists(), "the rmdir was not synced, the unlink was");
}

#[test]
fn after_the_cut_the_backing_holds_what_was_durable_and_users_get_errors() {
    let Some(mut m) = mount() else { return };
    durable_file(&m, "a", b"durable");
    let mut f = OpenOptions::new().read(true).write(true).open(m.at("a")).expect("open");
    f.write_all(b"HELD").expect("write");
    fs::write(m.at("b"), b"held").expect("write");
    fs::remove_file(m.at("a")).expect("unlink"); // still open
    let mut off = m.fs.take().expect("mounted").cut_power().expect("cut");
    let dropped = off.dropped();
    assert_eq!((dropped.files, dropped.bytes, dropped.entries), (2, 8, 2));
    assert!(f.write_all(b"more").and_then(|_| f.sync_all()).is_err(), "the file's user gets an error");
    let mut names: Vec<_> =
        fs::read_dir(m.backing.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
    names.sort();
    assert_eq!(names, ["a"], "nothing but what was durable, and no held-entries directory");
    assert_eq!(read(&m.backing("a")), b"durable");
    drop(f);
    off.release().expect("the last file closed");
}

#[test]
fn a_clean_unmount_keeps_everything() {
    let Some(mut m) = mount() else { return };
    fs::create_dir(m.at("d")).expect("mkdir");
    fs::write(m.at("d/f"), b"kept").expect("write");
    m.fs.take().expect("mounted").unmount().expect("unmount");
    assert_eq!(read(&m.backing("d/f")), b"kept");
    assert!(!m.backing(".powercut-held").exists());
    m.fs = Some(PowerCutFs::mount(m.backing.path(), m.mnt.path()).expect("remount"));
    assert_eq!(read(&m.at("d/f")), b"kept");
}

#[test]
fn locks_are_exclusive_and_die_with_the_cut() {
    let Some(mut m) = mount() else { return };
    let a = File::create(m.at("LOCK")).expect("create");
    a.try_lock().expect("the first lock");
    let b = File::open(m.at("LOCK")).expect("open");
    assert!(matches!(b.try_lock(), Err(TryLockError::WouldBlock)));
    drop((a, b));
    let c = File::open(m.at("LOCK")).expect("open");
    c.try_lock().expect("free again once released");
    drop(c);
    m.cut_and_remount();
    assert!(!m.at("LOCK").exists());
}

#[test]
fn moving_between_directories_is_refused_so_no_change_spans_two_journals() {
    let Some(m) = mount() else { return };
    fs::create_dir(m.at("d")).expect("mkdir");
    fs::write(m.at("f"), b"f").expect("write");
    let e = fs::rename(m.at("f"), m.at("d/f")).expect_err("across directories");
    assert_eq!(e.raw_os_error(), Some(libc_exdev()));
    let e = fs::rename(m.at("d"), m.at("d2")).expect_err("a directory");
    assert_eq!(e.raw_os_error(), Some(libc_exdev()));
    let mut s = String::new();
    File::open(m.at("f")).expect("still there").read_to_string(&mut s).expect("read");
    assert_eq!(s, "f");
}

/// EXDEV on Linux.
fn libc_exdev() -> i32 {
    18
}
