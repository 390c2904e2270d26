//! A damaged or foreign store, through the real binary: refused with
//! ERROR_DATABASE_FAILURE naming the first missing or damaged record, never
//! read as a shorter or empty log, and never written over.

mod support;

use std::path::{Path, PathBuf};
use support::{Rsm, Run};

const DATABASE_FAILURE: &str = "ERROR_DATABASE_FAILURE (4313): ";

/// A store with a library, mounts, dismounts and an eject: the cartridge
/// ejected is in the port, so a log that lost the eject would put it home.
fn store_with_history() -> Rsm {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "p", "--drives", "2", "--slots", "12", "--media", "6", "--ie-ports", "1"]).ok();
    for barcode in ["P0001L8", "P0003L8", "P0004L8"] {
        rsm.run(&["mount", barcode, "--wait"]).ok();
        rsm.run(&["dismount-media", barcode, "--wait"]).ok();
    }
    rsm.run(&["eject", "P0002L8", "--wait"]).ok();
    rsm
}

fn data(rsm: &Rsm) -> PathBuf {
    rsm.dir.path().join("data")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("list the store") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

fn remove_sled_snapshots(log: &Path) {
    for entry in std::fs::read_dir(log).expect("list the log") {
        let path = entry.expect("an entry").path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("snap.")) {
            std::fs::remove_file(path).expect("remove sled's snapshot");
        }
    }
}

/// sled's files in a log directory and their bytes (rsm's own head, lock
/// and seal left out): what an operator would hand to a recovery tool.
fn sled_files(log: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut dirs = vec![log.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("list the log") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            if dir == log && ["HEAD", "LOCK", "SEALED"].contains(&name.as_str()) {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).expect("read a file of sled's"));
            }
        }
    }
    files
}

/// The bytes of sled's database that hold anything (past them it is zeros).
fn used_len(db: &Path) -> usize {
    let bytes = std::fs::read(db).expect("read the database");
    bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1)
}

/// splitmix64: seeded bytes, so a failure reruns exactly.
fn seeded_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

enum Damage {
    ZeroedHeader,
    RandomBytes,
    TruncatedAt(usize),
    DeletedDb,
}

impl Damage {
    fn name(&self) -> String {
        match self {
            Damage::ZeroedHeader => "zeroed header".into(),
            Damage::RandomBytes => "random bytes".into(),
            Damage::TruncatedAt(len) => format!("truncated to {len} bytes"),
            Damage::DeletedDb => "deleted db".into(),
        }
    }

    fn apply(&self, db: &Path) {
        match self {
            Damage::ZeroedHeader => {
                let mut bytes = std::fs::read(db).expect("read");
                bytes[..64].fill(0);
                std::fs::write(db, bytes).expect("write");
            }
            Damage::RandomBytes => {
                let len = std::fs::metadata(db).expect("stat").len() as usize;
                std::fs::write(db, seeded_bytes(0x5EED, len)).expect("write");
            }
            Damage::TruncatedAt(len) => {
                std::fs::OpenOptions::new().write(true).open(db).expect("open").set_len(*len as u64).expect("truncate")
            }
            Damage::DeletedDb => std::fs::remove_file(db).expect("remove"),
        }
    }

    /// Whether this damage certainly loses records (a truncation past the
    /// bytes in use may lose nothing).
    fn loses_records(&self) -> bool {
        !matches!(self, Damage::TruncatedAt(_))
    }
}

/// Refused: exit 2 and ERROR_DATABASE_FAILURE naming a record or the store.
fn assert_refused(run: &Run, case: &str) {
    assert_eq!(run.code, 2, "{case}: expected a refusal; stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stderr.starts_with(DATABASE_FAILURE), "{case}: {}", run.stderr);
    assert!(run.stderr.contains("record ") || run.stderr.contains("store"), "{case}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{case}: {}", run.stderr);
}

#[test]
fn damaged_store_is_refused_never_read_as_shorter_or_empty() {
    let original = store_with_history();
    let views = |rsm: &Rsm| rsm.run(&["--json", "show", "media"]);
    let intact = views(&original).ok().stdout;
    assert!(intact.contains("\"port\""), "the ejected cartridge is in the port: {intact}");
    let used = used_len(&data(&original).join("log/db"));
    let mut damages = vec![Damage::ZeroedHeader, Damage::RandomBytes, Damage::DeletedDb];
    damages.extend((0..10).map(|k| Damage::TruncatedAt(used * k / 10)));
    let mut refused_truncations = 0;
    for damage in &damages {
        for keep_sled_snapshot in [true, false] {
            let case = format!(
                "{} ({} sled's snapshot file)",
                damage.name(),
                if keep_sled_snapshot { "with" } else { "without" }
            );
            let copy = Rsm::new();
            copy_dir(&data(&original), &data(&copy));
            if !keep_sled_snapshot {
                remove_sled_snapshots(&data(&copy).join("log"));
            }
            damage.apply(&data(&copy).join("log/db"));
            let evidence = sled_files(&data(&copy).join("log"));
            let shown = views(&copy);
            if shown.code == 0 {
                // Whatever sled kept must be all of it: the same views, a verified replay.
                assert!(!damage.loses_records(), "{case}: read as if whole: {}", shown.stdout);
                assert_eq!(shown.stdout, intact, "{case}: the views changed, silently");
                let replay = copy.run(&["--json", "replay", "--verify"]).ok().json();
                assert_eq!(replay["ok"], true, "{case}: {replay}");
                continue;
            }
            assert_refused(&shown, &case);
            if matches!(damage, Damage::TruncatedAt(_)) {
                refused_truncations += 1;
            }
            assert_refused(&copy.run(&["replay", "--verify"]), &case);
            assert_refused(&copy.run(&["metrics"]), &case);
            // Nothing is appended on top of it: a command is refused too, and stays so.
            assert_refused(&copy.run(&["mount", "P0005L8"]), &case);
            assert_refused(&copy.run(&["library", "create-sim", "q"]), &case);
            assert_refused(&views(&copy), &case);
            assert!(
                sled_files(&data(&copy).join("log")) == evidence,
                "{case}: refusing the store rewrote its database: the evidence of the damage is gone"
            );
        }
    }
    assert!(refused_truncations > 0, "no truncation was refused: the check cannot be working");
}

#[test]
fn a_log_shorter_than_its_head_names_the_first_missing_record() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "p", "--drives", "2", "--slots", "12", "--media", "6"]).ok();
    let log = data(&rsm).join("log");
    let saved = rsm.dir.path().join("saved-log");
    copy_dir(&log, &saved);
    let records =
        |rsm: &Rsm| rsm.run(&["--json", "replay", "--verify"]).ok().json()["records"].as_u64().expect("records");
    let early = records(&rsm);
    rsm.run(&["mount", "P0001L8", "--wait"]).ok();
    let head = std::fs::read(log.join("HEAD")).expect("the head");
    // sled's files as they were, the head as it is now: a rolled-back database.
    std::fs::remove_dir_all(&log).expect("remove the log");
    copy_dir(&saved, &log);
    std::fs::write(log.join("HEAD"), head).expect("the later head");
    let run = rsm.run(&["show", "media"]);
    assert_refused(&run, "a rolled-back database");
    let first_missing = format!("log record {} is damaged: missing", early + 1);
    assert!(run.stderr.contains(&first_missing), "expected «{first_missing}»: {}", run.stderr);
}

#[test]
fn a_database_of_another_store_is_refused() {
    let rsm = store_with_history();
    // Put back the database as it was after the first command: a well-formed
    // but shorter log, as a restored backup of sled's files would be.
    let early = Rsm::new();
    early
        .run(&["library", "create-sim", "p", "--drives", "2", "--slots", "12", "--media", "6", "--ie-ports", "1"])
        .ok();
    let log = data(&rsm).join("log");
    let head = std::fs::read(log.join("HEAD")).expect("the head");
    std::fs::remove_dir_all(&log).expect("remove the log");
    copy_dir(&data(&early).join("log"), &log);
    std::fs::write(log.join("HEAD"), head).expect("the later head");
    let run = rsm.run(&["show", "media"]);
    // The early store is another store (its own id): refused as such.
    assert_refused(&run, "an older database of another store");
    assert!(run.stderr.contains("another store"), "{}", run.stderr);
}

#[test]
fn read_command_on_a_missing_directory_creates_nothing() {
    let rsm = Rsm::new();
    for args in [&["show", "media"][..], &["replay", "--verify"], &["metrics"], &["--json", "show", "queue"]] {
        let run = rsm.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with(DATABASE_FAILURE), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("there is no rsm store"), "{args:?}: {}", run.stderr);
        assert!(!data(&rsm).exists(), "{args:?} created the data directory");
    }
}

#[test]
fn garbage_in_the_database_is_refused_not_overwritten() {
    let rsm = Rsm::new();
    let log = data(&rsm).join("log");
    std::fs::create_dir_all(&log).expect("mkdir");
    let garbage = seeded_bytes(7, 4096);
    std::fs::write(log.join("db"), &garbage).expect("garbage");
    for args in [&["show", "media"][..], &["library", "create-sim", "p"]] {
        let run = rsm.run(args);
        assert_refused(&run, &format!("{args:?}"));
        assert!(run.stderr.contains("not a usable rsm store"), "{args:?}: {}", run.stderr);
        assert_eq!(std::fs::read(log.join("db")).expect("still there"), garbage, "{args:?} rewrote it");
    }
}

#[test]
fn a_deleted_head_is_refused_not_recreated() {
    let rsm = store_with_history();
    std::fs::remove_file(data(&rsm).join("log/HEAD")).expect("remove the head");
    assert_refused(&rsm.run(&["show", "media"]), "no head");
    assert_refused(&rsm.run(&["library", "create-sim", "q"]), "no head, creating");
    assert!(!data(&rsm).join("log/HEAD").exists(), "a head was written over the old log");
}

/// Regression: a whole `log/` directory copied in from another store (its
/// head and database agree with each other) was served, and appended to.
#[test]
fn a_log_directory_of_another_store_is_refused() {
    let rsm = store_with_history();
    let other = Rsm::new();
    other.run(&["library", "create-sim", "beta", "--media", "2"]).ok();
    let log = data(&rsm).join("log");
    std::fs::remove_dir_all(&log).expect("remove the log");
    copy_dir(&data(&other).join("log"), &log);
    for args in [&["show", "libraries"][..], &["replay", "--verify"], &["mount", "BETA0001L8"]] {
        let run = rsm.run(args);
        assert_refused(&run, &format!("{args:?}"));
        assert!(run.stderr.contains("another store"), "{args:?}: {}", run.stderr);
    }
}

/// Regression: a log directory copied in from another store was refused,
/// but only after sled had opened it and rewritten its snapshot file; and
/// a store whose log directory was deleted got a new, empty log from the
/// next creating command before it was refused.
#[test]
fn another_stores_log_and_a_missing_log_are_refused_before_anything_is_written() {
    let a = store_with_history();
    let b = store_with_history();
    let b_log = data(&b).join("log");
    std::fs::remove_dir_all(&b_log).expect("remove b's log");
    copy_dir(&data(&a).join("log"), &b_log);
    let evidence = sled_files(&b_log);
    for args in [&["show", "media"][..], &["library", "create-sim", "z"]] {
        let run = b.run(args);
        assert_refused(&run, &format!("{args:?}"));
        assert!(run.stderr.contains("another store"), "{args:?}: {}", run.stderr);
    }
    assert!(sled_files(&b_log) == evidence, "the copied log was left as found");
    std::fs::remove_dir_all(&b_log).expect("remove the log");
    let run = b.run(&["library", "create-sim", "z"]);
    assert_refused(&run, "missing log");
    assert!(!b_log.exists(), "no new log was made: {}", run.stderr);
}
