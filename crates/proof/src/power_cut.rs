//! Power-cut torture of the real `rsm` binary.
//!
//! The crash torture ([`crate::torture`]) kills the process and keeps the
//! kernel's page cache, so it cannot tell a write that was made durable from
//! one that merely reached the cache. Here the data directory lives on an
//! [`rsm_powercut`] filesystem, which holds back every write until its file
//! is fsynced and every new, renamed or removed entry until its directory
//! is fsynced; a power cut drops all that is held. sled's files, rsm's head
//! file and the simulators' state files (`DIR/sim/*.json`) all live there:
//! whatever rsm or sled relies on without syncing it, a cut takes away.
//!
//! One backing directory lives for the whole run. Each round runs `rsm
//! --data MNT/data stress` on the mount (it prints `ack <request> <seq>`
//! once a command is durable) and cuts the power, at the moments the crash
//! torture kills ([`crate::torture::plan`]: the same seed gives the same
//! moments):
//!
//! * even rounds: after a seeded 50–500 ms, the load still running: it is
//!   killed at that instant and the power cut before anything else runs, as
//!   a real cut stops every process at once (a load left alive after the
//!   cut would find the bare mountpoint under its path);
//! * odd rounds: at a failpoint, `RSM_FAILPOINT=<name>:<k>` cycling through
//!   every name: the load aborts itself there and the power is cut at once.
//!   A load still alive after 3 s has its power cut anyway (not reached).
//!
//! Then the filesystem is mounted again (the machine is back) and the store
//! checked:
//!
//! * its log opens: every check of the crash torture (every acknowledged
//!   command stored at its sequence number, whole; the chain; `replay
//!   --verify`; no request left in process; every invariant), then the dead
//!   load's sessions are closed. A log whose records do not verify, or an
//!   engine that does not open on it, is a refused store (below), its
//!   acknowledged commands checked in the log itself;
//! * it is refused (the log is shorter than its head, or damaged): the
//!   `rsm` binary must refuse it too (exit 2, stderr starting with
//!   `ERROR_DATABASE_FAILURE`) rather than run on a shortened log. The
//!   refusal is counted, and sled's tree is read bare (a copy, past the
//!   head's check) to tell the acknowledged commands still stored from the
//!   lost ones. Either way it is a violation: every acknowledged record was
//!   synced before its acknowledgement, so a cut must leave a store that
//!   opens with all of them. A refusal with every acknowledged command
//!   stored means rsm refuses a store it could have opened (records it
//!   synced but never acknowledged are missing). The store is then removed
//!   and the next round starts a new one;
//! * it is gone (no head file, nothing else): `rsm` would start a new,
//!   empty store without a word, so every acknowledged command is lost (a
//!   store gone before its first acknowledgement lost nothing).
//!
//! The claim is exact: an acknowledged command is never lost, and a store a
//! cut left is never refused. A failing seed reruns with the same `--seed`.

use crate::harness::{aborted, torture_main, Checker, Ledger, RoundsReport};
use crate::torture::{plan, Kill, FAILPOINT_WAIT};
use rsm_log::{codec, failpoint, LogError, SledLog};
use rsm_model::RequestId;
use rsm_powercut::{Held, MountHandle, PowerCutError, PowerCutFs, PoweredOff};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

/// The run's mountpoint and working directory while its filesystem is
/// mounted: what [`main`]'s signal handler removes.
static MOUNTED: Mutex<Option<(PathBuf, PathBuf)>> = Mutex::new(None);

fn set_mounted(mounted: Option<(PathBuf, PathBuf)>) {
    *MOUNTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = mounted;
}

/// What a power-cut run found. Serialized (`--json`) as exactly
/// `{"cuts":N,"acknowledged":A,"lost":L,"refused":R,"refused_intact":I,"violations":[...]}`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PowerCutReport {
    /// Power cuts carried out (each followed by the checks).
    pub cuts: u64,
    /// Commands acknowledged by the loads, over all rounds.
    pub acknowledged: u64,
    /// Acknowledged commands missing after a cut (from a store that opened,
    /// was refused, or was gone).
    pub lost: u64,
    /// Stores refused (ERROR_DATABASE_FAILURE) after a cut.
    pub refused: u64,
    /// Of those, the ones that still stored every acknowledged command.
    pub refused_intact: u64,
    /// Every broken claim, each naming its cut.
    pub violations: Vec<String>,
    /// Each cut and what its checks found (not serialized).
    #[serde(skip)]
    pub rounds: Vec<CutRound>,
}

impl PowerCutReport {
    /// Cuts after which some check failed.
    pub fn failed_cuts(&self) -> u64 {
        self.rounds.iter().filter(|r| r.violations > 0).count() as u64
    }

    /// Failpoint rounds whose load was still alive after the wait.
    pub fn failpoints_unreached(&self) -> u64 {
        self.rounds.iter().filter(|r| matches!(r.cut, Cut::Failpoint { reached: false, .. })).count() as u64
    }

    /// True when nothing was lost, no store refused and no claim broken.
    pub fn passed(&self) -> bool {
        self.lost == 0 && self.refused == 0 && self.violations.is_empty()
    }
}

/// When a round's power was cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cut {
    /// A seeded delay after the load's spawn, the load running.
    Timed {
        /// Milliseconds after the spawn.
        after_ms: u64,
    },
    /// When the load aborted at `RSM_FAILPOINT=name:hit`.
    Failpoint {
        /// The failpoint.
        name: &'static str,
        /// The hit that aborts.
        hit: u64,
        /// False when the load was still alive after the wait (its power cut then).
        reached: bool,
    },
}

impl From<Kill> for Cut {
    fn from(kill: Kill) -> Cut {
        match kill {
            Kill::Sigkill { after_ms } => Cut::Timed { after_ms },
            Kill::Failpoint { name, hit, reached } => Cut::Failpoint { name, hit, reached },
        }
    }
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cut::Timed { after_ms } => write!(f, "cut after {after_ms} ms"),
            Cut::Failpoint { name, hit, reached: true } => write!(f, "cut at failpoint {name}:{hit}"),
            Cut::Failpoint { name, hit, reached: false } => {
                write!(f, "failpoint {name}:{hit} not reached in {} s, cut", FAILPOINT_WAIT.as_secs())
            }
        }
    }
}

/// What the store was after a cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Store {
    /// It opened (its checks may still have failed).
    #[default]
    Opened,
    /// It was refused with ERROR_DATABASE_FAILURE.
    Refused,
    /// It was gone: rsm would have started a new, empty one.
    Gone,
}

/// One cut and its checks.
#[derive(Clone, Debug)]
pub struct CutRound {
    /// 0-based.
    pub index: u64,
    /// When the power was cut.
    pub cut: Cut,
    /// Seed of the load.
    pub load_seed: u64,
    /// Commands the load acknowledged.
    pub acks: u64,
    /// What the cut dropped.
    pub dropped: Held,
    /// What the store was after it.
    pub store: Store,
    /// Records in the log after the cut (of a store that opened).
    pub records: u64,
    /// Violations found after this cut.
    pub violations: usize,
}

impl std::fmt::Display for CutRound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.dropped;
        let store = match self.store {
            Store::Opened => format!("log {:>6} records", self.records),
            Store::Refused => "store REFUSED".to_string(),
            Store::Gone => "store GONE".to_string(),
        };
        write!(
            f,
            "cut {:>4}: {:<52} {:>5} acks, dropped {:>8} B in {:>2} files and {:>2} entries, {store}: {}",
            self.index,
            self.cut.to_string(),
            self.acks,
            d.bytes,
            d.files,
            d.entries,
            if self.violations == 0 { "ok".to_string() } else { format!("{} VIOLATIONS", self.violations) }
        )
    }
}

/// Runs `cuts` power cuts of `rsm` (the binary) under load, seeded by `seed`.
pub fn run(rsm: &Path, cuts: u64, seed: u64) -> PowerCutReport {
    run_with(rsm, cuts, seed, |_, _| {})
}

/// [`run`], calling `progress` after each cut with the round and its violations.
/// The filesystem is unmounted at the end, also when the run stops early.
pub fn run_with(rsm: &Path, cuts: u64, seed: u64, mut progress: impl FnMut(&CutRound, &[String])) -> PowerCutReport {
    let mut report = PowerCutReport::default();
    if std::env::var_os(failpoint::ENV_VAR).is_some() {
        // The harness appends to the log itself (closing sessions): armed, it would kill itself.
        report.violations.push(format!("{} is set in the harness's own environment; unset it", failpoint::ENV_VAR));
        return report;
    }
    let prepared = (|| -> Result<_, String> {
        let work = tempfile::tempdir().map_err(|e| format!("cannot create a working directory: {e}"))?;
        let (backing, mnt) = (work.path().join("backing"), work.path().join("mnt"));
        for dir in [&backing, &mnt] {
            std::fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        let mount = PowerCutFs::mount(&backing, &mnt).map_err(|e| e.to_string())?;
        Ok((work, mnt, rt, mount))
    })();
    let (work, mnt, rt, mount) = match prepared {
        Ok(x) => x,
        Err(e) => {
            report.violations.push(e);
            return report;
        }
    };
    set_mounted(Some((mnt.clone(), work.path().to_path_buf())));
    let checker = Checker { rsm, work: work.path(), data: mnt.join("data"), rt, round_noun: "cut" };
    let mut mount = Some(mount);
    let mut ledger = Ledger::default();
    for index in 0..cuts {
        let (kill, load_seed) = plan(seed, index);
        let first_violation = report.violations.len();
        let mut violations = Vec::new();
        let mut round = CutRound {
            index,
            cut: kill.into(),
            load_seed,
            acks: 0,
            dropped: Held::default(),
            store: Store::Opened,
            records: 0,
            violations: 0,
        };
        let fatal = cut_round(&checker, &mut mount, &mut round, &mut ledger, &mut report, &mut violations);
        report.cuts += 1;
        round.violations = violations.len();
        let prefix = format!("cut {index} ({}, load seed {load_seed})", round.cut);
        report.violations.extend(violations.into_iter().map(|v| format!("{prefix}: {v}")));
        progress(&round, &report.violations[first_violation..]);
        report.rounds.push(round);
        if fatal {
            report.violations.push(format!("torture stopped after cut {index}: nothing after it can be checked"));
            break;
        }
    }
    if let Some(mount) = mount.take() {
        if let Err(e) = mount.unmount() {
            report.violations.push(format!("unmounting at the end: {e}"));
        }
    }
    set_mounted(None);
    report
}

/// On SIGINT or SIGTERM, detaches the mount and removes the working
/// directory before leaving: a process that just died would leave its mount
/// behind (the filesystem served by a thread of it). SIGKILL cannot be
/// caught: `umount -l` the mountpoint then.
fn unmount_on_signal() {
    std::thread::spawn(|| {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
                return;
            };
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        if let Some((mnt, work)) = MOUNTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            let _ = rsm_powercut::detach(&mnt);
            let _ = std::fs::remove_dir_all(work);
        }
        eprintln!("rsm-proof: interrupted; the power-cut filesystem is unmounted");
        std::process::exit(130);
    });
}

/// One cut and its checks. Returns true when the run cannot go on.
fn cut_round(
    checker: &Checker<'_>,
    mount: &mut Option<MountHandle>,
    round: &mut CutRound,
    ledger: &mut Ledger,
    report: &mut PowerCutReport,
    v: &mut Vec<String>,
) -> bool {
    let Some(powered) = mount.take() else {
        v.push("no filesystem is mounted".into());
        return true;
    };
    if !is_powercut_mount(powered.mountpoint()) {
        v.push(format!("HARNESS: the filesystem is no longer mounted on {}", powered.mountpoint().display()));
        return true;
    }
    let (deadline, armed) = match &round.cut {
        Cut::Timed { after_ms } => (Duration::from_millis(*after_ms), None),
        Cut::Failpoint { name, hit, .. } => (FAILPOINT_WAIT, Some(format!("{name}:{hit}"))),
    };
    let mut cut: Option<Result<PoweredOff, PowerCutError>> = None;
    let ran = checker.run_load(checker.load(round.load_seed, armed), deadline, || cut = Some(powered.cut_power()));
    let off = match cut {
        Some(Ok(off)) => off,
        Some(Err(e)) => {
            v.push(format!("the power cut failed: {e}"));
            return true;
        }
        None => {
            v.push("the power was not cut".into());
            return true;
        }
    };
    round.dropped = off.dropped();
    let end = match ran {
        Ok(end) => end,
        Err(e) => {
            v.push(format!("cannot run {}: {e}", checker.rsm.display()));
            return true;
        }
    };
    let stderr = &end.stderr;
    match (&mut round.cut, end.status) {
        (Cut::Timed { .. }, Some(status)) => {
            v.push(format!("the load exited by itself ({status}) before the cut; stderr: {stderr}"))
        }
        (Cut::Failpoint { reached, .. }, Some(status)) if aborted(&status) => *reached = true,
        (Cut::Failpoint { .. }, Some(status)) => {
            v.push(format!("the load exited ({status}) without reaching the failpoint; stderr: {stderr}"))
        }
        (_, None) => {}
    }
    v.extend(end.acks.malformed.iter().map(|l| format!("unreadable acknowledgement line {l:?}")));
    round.acks = end.acks.acked.len() as u64;
    report.acknowledged += round.acks;

    // The load is dead and waited for: nothing holds the old mount any more.
    let mut off = off;
    let backing = off.backing().to_path_buf();
    if let Err(e) = off.release() {
        v.push(format!("the old mount is not released: {e}"));
        return true;
    }
    // A load that found the mountpoint bare (the mount gone under it) ran
    // on a store of its own there: its acknowledgements are not the
    // store's, and counting them lost would blame rsm for the harness.
    match bare_mountpoint_entries(off.mountpoint()) {
        Ok(entries) if entries.is_empty() => ledger.record(&end.acks.acked, round.index),
        Ok(entries) => {
            v.push(format!(
                "HARNESS: the filesystem was not mounted during the load, which wrote {entries:?} into the bare \
                 mountpoint {}; its {} acknowledgements are not checked",
                off.mountpoint().display(),
                round.acks
            ));
            return true;
        }
        Err(e) => {
            v.push(format!("cannot read the bare mountpoint {}: {e}", off.mountpoint().display()));
            return true;
        }
    }
    match off.remount() {
        Ok(m) => *mount = Some(m),
        Err(e) => {
            v.push(format!("cannot mount again after the cut: {e}"));
            return true;
        }
    }
    check_store(checker, &backing, round, ledger, report, v)
}

/// Whether the power-cut filesystem is what is mounted on `mountpoint`
/// (the last mount there in this process's mount table).
fn is_powercut_mount(mountpoint: &Path) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/self/mounts") else { return false };
    let target = mountpoint.to_string_lossy();
    table
        .lines()
        .rev()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let (_, at, kind) = (fields.next()?, fields.next()?, fields.next()?);
            Some((at, kind))
        })
        .find(|(at, _)| *at == target)
        .is_some_and(|(_, kind)| kind == "fuse.powercut")
}

/// What the mountpoint itself holds with nothing mounted on it: nothing,
/// unless something wrote there while the filesystem was not mounted.
fn bare_mountpoint_entries(mountpoint: &Path) -> std::io::Result<Vec<std::ffi::OsString>> {
    std::fs::read_dir(mountpoint)?.map(|e| e.map(|e| e.file_name())).collect()
}

/// The checks after a cut, on the mounted filesystem. Returns true when the
/// run cannot go on.
fn check_store(
    checker: &Checker<'_>,
    backing: &Path,
    round: &mut CutRound,
    ledger: &mut Ledger,
    report: &mut PowerCutReport,
    v: &mut Vec<String>,
) -> bool {
    let log_dir = checker.data.join("log");
    match SledLog::open_existing(&log_dir) {
        Ok(log) => {
            let lost_before = report.lost;
            let records = checker.check_log(log, round.index, ledger, &mut report.lost, v);
            round.records = records.unwrap_or(0);
            // A record that does not verify, or an engine that does not open
            // (`check_engine` says why): the log opened, yet rsm refuses the store.
            if records.is_some() && !checker.check_engine(v) {
                return false;
            }
            round.store = Store::Refused;
            report.refused += 1;
            if records.is_some() && report.lost == lost_before {
                report.refused_intact += 1;
                v.push(format!(
                    "REFUSED: rsm does not start on the store after the cut though every acknowledged command \
                     ({}) is in its log",
                    ledger.outstanding().count()
                ));
            }
            reset_store(checker, ledger, v)
        }
        Err(e) if gone(&log_dir) => {
            round.store = Store::Gone;
            // Without an acknowledged command, nothing was promised: a store
            // whose creation the cut undid is no loss.
            let outstanding = ledger.outstanding().count() as u64;
            if outstanding > 0 {
                report.lost += outstanding;
                v.push(format!(
                    "LOST: the store is gone after the cut ({e}); rsm would start a new, empty one: \
                     {outstanding} acknowledged commands lost"
                ));
            }
            reset_store(checker, ledger, v)
        }
        Err(e) => {
            round.store = Store::Refused;
            report.refused += 1;
            check_refused_by_rsm(checker, &e, v);
            let stored = stored_records(&backing.join("data").join("log"));
            let missing: Vec<(RequestId, u64, u64)> = ledger
                .outstanding()
                .filter(|(request, (seq, _))| stored.get(seq) != Some(request))
                .map(|(request, (seq, acked_in))| (*request, *seq, *acked_in))
                .collect();
            let outstanding = ledger.outstanding().count();
            match missing.first() {
                Some((request, seq, acked_in)) => {
                    report.lost += missing.len() as u64;
                    v.push(format!(
                        "LOST: the store is refused after the cut ({e}), and {} of {outstanding} acknowledged \
                         commands are not stored (sled's tree read bare holds {} records), the first command \
                         {request} acknowledged at record {seq} in cut {acked_in}",
                        missing.len(),
                        stored.len()
                    ));
                }
                None => {
                    report.refused_intact += 1;
                    v.push(format!(
                        "REFUSED: the store is refused after the cut ({e}) though every acknowledged command \
                         ({outstanding}) is stored (sled's tree read bare holds {} records)",
                        stored.len()
                    ));
                }
            }
            reset_store(checker, ledger, v)
        }
    }
}

/// A log directory with no head file and nothing else of a store's: `rsm`
/// (`SledLog::open`) would create a new store there without a word.
fn gone(log_dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(log_dir) else { return true };
    entries.filter_map(Result::ok).all(|e| e.file_name() == "LOCK" || e.file_name() == "HEAD.new")
}

/// The `rsm` binary must refuse the store as the log did: `replay
/// --verify` exits 2 and says ERROR_DATABASE_FAILURE first.
fn check_refused_by_rsm(checker: &Checker<'_>, refused: &LogError, v: &mut Vec<String>) {
    match checker.replay_verify() {
        Ok(f) if f.status.and_then(|s| s.code()) == Some(2) && f.stderr.starts_with("ERROR_DATABASE_FAILURE") => {}
        Ok(f) => v.push(format!(
            "the log refuses the store ({refused}) but `rsm replay --verify` does not say \
             ERROR_DATABASE_FAILURE with exit 2 ({}): {} {}",
            f.status.map(|s| s.to_string()).unwrap_or_else(|| "hung".into()),
            f.stdout.trim(),
            f.stderr.trim()
        )),
        Err(e) => v.push(format!("replay --verify: {e}")),
    }
}

/// The records sled's log tree holds, read bare from a copy of `log_dir`
/// (past the head's check): seq → request. Empty when the copy does not
/// open; a batch that does not decode is left out.
fn stored_records(log_dir: &Path) -> HashMap<u64, RequestId> {
    let mut stored = HashMap::new();
    let Ok(copy) = tempfile::tempdir() else { return stored };
    if copy_dir(log_dir, copy.path()).is_err() {
        return stored;
    }
    // sled reads damaged files: a panic in it is a store it cannot read.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut stored = HashMap::new();
        let Ok(tree) = rsm_log::raw::open_log_tree(copy.path()) else { return stored };
        for (key, value) in tree.iter().filter_map(Result::ok) {
            let Ok(first) = <[u8; 8]>::try_from(key.as_ref()).map(u64::from_be_bytes) else { continue };
            for record in codec::decode_batch(&value, first).unwrap_or_default() {
                stored.insert(record.envelope.seq, record.envelope.request);
            }
        }
        stored
    }));
    if let Ok(read) = read {
        stored = read;
    }
    stored
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Removes the store (durably) so the next load starts a new one, and
/// forgets the acknowledgements of the old one (each was checked). Returns
/// true when it cannot be removed.
fn reset_store(checker: &Checker<'_>, ledger: &mut Ledger, v: &mut Vec<String>) -> bool {
    *ledger = Ledger::default();
    let root: PathBuf = checker.data.parent().map(Path::to_path_buf).unwrap_or_default();
    let removed = match std::fs::remove_dir_all(&checker.data) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => std::fs::File::open(&root).and_then(|d| d.sync_all()),
    };
    if let Err(e) = removed {
        v.push(format!("cannot remove the store {}: {e}", checker.data.display()));
        return true;
    }
    false
}

/// Entry point of `rsm-proof torture --power-cuts`.
pub fn main(cuts: u64, seed: u64, rsm: Option<PathBuf>, json: bool) -> ExitCode {
    unmount_on_signal();
    let rerun = format!("rsm-proof torture --power-cuts {cuts} --seed {seed}");
    torture_main(rsm, json, "cut ", &rerun, |rsm, progress| run_with(rsm, cuts, seed, progress))
}

impl RoundsReport for PowerCutReport {
    fn passed(&self) -> bool {
        PowerCutReport::passed(self)
    }

    fn rounds(&self) -> u64 {
        self.cuts
    }

    fn failed_rounds(&self) -> u64 {
        self.failed_cuts()
    }

    fn tally(&self, elapsed: Duration) -> String {
        let failpoints = self.rounds.iter().filter(|r| matches!(r.cut, Cut::Failpoint { .. })).count();
        format!(
            "{} power cuts ({} timed, {} at failpoints of which {} not reached) in {:.1} s: \
             {} commands acknowledged, {} lost, {} stores refused ({} with every acknowledged command stored)",
            self.cuts,
            self.rounds.len() - failpoints,
            failpoints,
            self.failpoints_unreached(),
            elapsed.as_secs_f64(),
            self.acknowledged,
            self.lost,
            self.refused,
            self.refused_intact
        )
    }

    fn violations(&self) -> &[String] {
        &self.violations
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cut 358 of a 1000-cut run acknowledged commands at records 2..37 of
    /// a store of 27,955 records: the load ran on a new store of its own,
    /// which only a bare mountpoint explains. The harness now tells that
    /// from a lost command.
    #[test]
    fn a_load_on_a_bare_mountpoint_is_told_from_a_lost_command() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(!is_powercut_mount(dir.path()), "a plain directory is not the power-cut filesystem");
        assert_eq!(bare_mountpoint_entries(dir.path()).expect("readable"), Vec::<std::ffi::OsString>::new());
        std::fs::create_dir(dir.path().join("data")).expect("mkdir");
        assert_eq!(bare_mountpoint_entries(dir.path()).expect("readable"), vec![std::ffi::OsString::from("data")]);
    }

    #[test]
    fn the_report_serializes_to_exactly_six_fields() {
        let report = PowerCutReport {
            cuts: 2,
            acknowledged: 5,
            lost: 1,
            refused: 1,
            refused_intact: 0,
            violations: vec!["x".into()],
            rounds: Vec::new(),
        };
        assert_eq!(
            serde_json::to_string(&report).expect("serializes"),
            r#"{"cuts":2,"acknowledged":5,"lost":1,"refused":1,"refused_intact":0,"violations":["x"]}"#
        );
        assert!(!report.passed());
    }

    #[test]
    fn cuts_land_where_the_kills_do() {
        for round in 0..8 {
            let (kill, _) = plan(3, round);
            match (kill.clone(), Cut::from(kill)) {
                (Kill::Sigkill { after_ms }, Cut::Timed { after_ms: cut }) => assert_eq!(after_ms, cut),
                (Kill::Failpoint { name, hit, .. }, Cut::Failpoint { name: n, hit: h, reached: false }) => {
                    assert_eq!((name, hit), (n, h))
                }
                other => panic!("round {round}: {other:?}"),
            }
        }
    }
}
