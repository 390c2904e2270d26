//! Crash torture of the real `rsm` binary.
//!
//! One data directory lives for the whole run, so the log grows across
//! kills and every restart replays everything before it. Each round starts
//! `rsm --data DIR stress` (concurrent sessions mounting and dismounting;
//! it prints `ack <request> <seq>` once a command is durable) and kills it:
//!
//! * even rounds: SIGKILL after a seeded 50–500 ms;
//! * odd rounds: `RSM_FAILPOINT=<name>:<k>`, cycling through every
//!   [`failpoint::NAMES`] with a seeded `k` in 1..=20; the child aborts itself
//!   there. A child still alive after 3 s is killed and the round counted as
//!   a failpoint not reached (no violation: the load may not get that far).
//!
//! After each kill (convention 12: crash claims are exact):
//!
//! 1. the log opens and every record reads back with its hash chain
//!    verified, gapless from 1;
//! 2. every command ever acknowledged (in this round or an earlier one) is in
//!    the log, its last record at exactly the acknowledged sequence number;
//!    a missing one is *lost*;
//! 3. every command's records are contiguous: a command's events are one
//!    atomic group, whole or absent;
//! 4. `rsm --json replay --verify` (whose start-up reconciles requests left
//!    in process from the simulator's truth) exits 0 with `"ok": true`;
//! 5. `rsm --json show queue` lists no request in process;
//! 6. the recovered views, opened in process, keep every invariant.
//!
//! Then the dead load's sessions are closed (as `rsm logout` would close
//! them), so that the next load finds drives to mount in rather than only
//! the holds of clients that no longer exist.
//!
//! A process kill keeps the page cache: this proves the ordering of writes,
//! flushes and replies, and reconciliation; torn writes and lost fsyncs are
//! the deterministic simulation's business.

use rsm_engine::{Engine, EngineConfig};
use rsm_log::{failpoint, EventLog, SledLog};
use rsm_model::{splitmix64, Command as RsmCommand, NtmsError, RequestId, SessionId};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Concurrent sessions of the load: enough to fill group commits and keep
/// the robot busy, few enough for two cores.
const SESSIONS: u32 = 6;
/// Shortest SIGKILL delay: long enough to be past start-up sometimes, short
/// enough that some kills land during start-up and reconciliation.
const KILL_AFTER_MS_MIN: u64 = 50;
/// Longest SIGKILL delay.
const KILL_AFTER_MS_MAX: u64 = 500;
/// A failpoint kills at a seeded hit in 1..=this: later hits find the
/// process in a steady state, the first ones in start-up.
const FAILPOINT_HIT_MAX: u64 = 20;
/// How long a failpoint round waits for the child to abort itself.
const FAILPOINT_WAIT: Duration = Duration::from_secs(3);
/// How long one check (`replay --verify`, `show queue`) may take before it
/// counts as hung; far beyond its normal second, so only a hang trips it.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);
/// Records per read of the log.
const READ_BATCH: usize = 4096;
/// Tail of a child's stderr kept for messages.
const STDERR_KEPT_BYTES: usize = 2_000;
/// Interval at which a child is polled for its exit.
const POLL: Duration = Duration::from_millis(2);

/// What a torture run found. Serialized (`--json`) as exactly
/// `{"kills":N,"acknowledged":A,"lost":L,"violations":[...]}`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TortureReport {
    /// Kills carried out (each followed by the checks).
    pub kills: u64,
    /// Commands acknowledged by the killed children, over all rounds.
    pub acknowledged: u64,
    /// Acknowledged commands missing from the log.
    pub lost: u64,
    /// Every broken claim, each naming its kill.
    pub violations: Vec<String>,
    /// Each kill and what its checks found (not serialized).
    #[serde(skip)]
    pub rounds: Vec<Round>,
}

impl TortureReport {
    /// Kills after which some check failed.
    pub fn failed_kills(&self) -> u64 {
        self.rounds.iter().filter(|r| r.violations > 0).count() as u64
    }

    /// Failpoint rounds whose child was still alive after the wait.
    pub fn failpoints_unreached(&self) -> u64 {
        self.rounds.iter().filter(|r| matches!(r.kill, Kill::Failpoint { reached: false, .. })).count() as u64
    }

    /// True when nothing was lost and no claim was broken.
    pub fn passed(&self) -> bool {
        self.lost == 0 && self.violations.is_empty()
    }
}

/// How a round's child died.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kill {
    /// SIGKILL from the harness.
    Sigkill {
        /// Milliseconds after the spawn.
        after_ms: u64,
    },
    /// `RSM_FAILPOINT=name:hit`.
    Failpoint {
        /// The failpoint.
        name: &'static str,
        /// The hit that aborts.
        hit: u64,
        /// False when the child was still alive after the wait (then SIGKILLed).
        reached: bool,
    },
}

impl std::fmt::Display for Kill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kill::Sigkill { after_ms } => write!(f, "SIGKILL after {after_ms} ms"),
            Kill::Failpoint { name, hit, reached: true } => write!(f, "failpoint {name}:{hit}"),
            Kill::Failpoint { name, hit, reached: false } => {
                write!(f, "failpoint {name}:{hit} not reached in {} s, SIGKILL", FAILPOINT_WAIT.as_secs())
            }
        }
    }
}

/// One kill and its checks.
#[derive(Clone, Debug)]
pub struct Round {
    /// 0-based.
    pub index: u64,
    /// How the child died.
    pub kill: Kill,
    /// Seed of the child's load.
    pub load_seed: u64,
    /// Commands the child acknowledged.
    pub acks: u64,
    /// Records in the log after the kill.
    pub records: u64,
    /// Violations found after this kill.
    pub violations: usize,
}

impl std::fmt::Display for Round {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "kill {:>3}: {:<52} {:>5} acks, log {:>6} records: {}",
            self.index,
            self.kill.to_string(),
            self.acks,
            self.records,
            if self.violations == 0 { "ok".to_string() } else { format!("{} VIOLATIONS", self.violations) }
        )
    }
}

/// How round `round` of a run seeded `seed` kills, and the seed of its load.
fn plan(seed: u64, round: u64) -> (Kill, u64) {
    let a = splitmix64(seed ^ splitmix64(round.wrapping_add(1)));
    let load_seed = splitmix64(a);
    let kill = if round.is_multiple_of(2) {
        Kill::Sigkill { after_ms: KILL_AFTER_MS_MIN + a % (KILL_AFTER_MS_MAX - KILL_AFTER_MS_MIN + 1) }
    } else {
        // The cycle starts at a seeded name, so short runs of other seeds reach other names.
        let names = failpoint::NAMES.len() as u64;
        let name = failpoint::NAMES[((round / 2 + seed % names) % names) as usize];
        Kill::Failpoint { name, hit: 1 + a % FAILPOINT_HIT_MAX, reached: false }
    };
    (kill, load_seed)
}

/// Runs `kills` kills of `rsm` (the binary) under load, seeded by `seed`.
pub fn run(rsm: &Path, kills: u64, seed: u64) -> TortureReport {
    run_with(rsm, kills, seed, |_, _| {})
}

/// [`run`], calling `progress` after each kill with the round and its violations.
pub fn run_with(rsm: &Path, kills: u64, seed: u64, mut progress: impl FnMut(&Round, &[String])) -> TortureReport {
    let mut report = TortureReport::default();
    if std::env::var_os(failpoint::ENV_VAR).is_some() {
        // The harness appends to the log itself (closing sessions): armed, it would kill itself.
        report.violations.push(format!("{} is set in the harness's own environment; unset it", failpoint::ENV_VAR));
        return report;
    }
    let work = match tempfile::tempdir() {
        Ok(w) => w,
        Err(e) => {
            report.violations.push(format!("cannot create the data directory: {e}"));
            return report;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            report.violations.push(format!("cannot start a runtime: {e}"));
            return report;
        }
    };
    let torture = Torture { rsm, work: work.path(), data: work.path().join("data"), rt };
    let mut ledger = Ledger::default();
    for index in 0..kills {
        let (kill, load_seed) = plan(seed, index);
        let first_violation = report.violations.len();
        let mut violations = Vec::new();
        let mut round = Round { index, kill, load_seed, acks: 0, records: 0, violations: 0 };
        let fatal = torture.round(&mut round, &mut ledger, &mut report, &mut violations);
        report.kills += 1;
        round.violations = violations.len();
        let prefix = format!("kill {index} ({}, load seed {load_seed})", round.kill);
        report.violations.extend(violations.into_iter().map(|v| format!("{prefix}: {v}")));
        progress(&round, &report.violations[first_violation..]);
        report.rounds.push(round);
        if fatal {
            report.violations.push(format!("torture stopped after kill {index}: nothing after it can be checked"));
            break;
        }
    }
    report
}

/// Every acknowledgement seen so far: acknowledged stays durable in every later round too.
#[derive(Default)]
struct Ledger {
    /// Request → (acknowledged seq, round of the ack).
    acks: BTreeMap<RequestId, (u64, u64)>,
    /// Acknowledged requests found missing (each is lost, and reported, once).
    lost: HashSet<RequestId>,
    /// Requests already reported as split or misplaced (each is reported once).
    reported: HashSet<RequestId>,
}

struct Torture<'a> {
    rsm: &'a Path,
    /// Working directory of every child (a core dump, if any, lands here).
    work: &'a Path,
    data: PathBuf,
    rt: tokio::runtime::Runtime,
}

/// A finished child: its exit status (None: killed after its deadline), stdout and stderr's tail.
struct Finished {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Torture<'_> {
    fn rsm(&self) -> Command {
        let mut c = Command::new(self.rsm);
        c.arg("--data").arg(&self.data).current_dir(self.work).env_remove(failpoint::ENV_VAR).stdin(Stdio::null());
        c
    }

    /// One kill and its checks. Returns true when the run cannot go on.
    fn round(&self, round: &mut Round, ledger: &mut Ledger, report: &mut TortureReport, v: &mut Vec<String>) -> bool {
        let mut load = self.rsm();
        load.args(["stress", "--sessions", &SESSIONS.to_string(), "--seed", &round.load_seed.to_string()]);
        let deadline = match &round.kill {
            Kill::Sigkill { after_ms } => Duration::from_millis(*after_ms),
            Kill::Failpoint { name, hit, .. } => {
                load.env(failpoint::ENV_VAR, format!("{name}:{hit}"));
                FAILPOINT_WAIT
            }
        };
        let (acks, status, stderr) = match self.kill_load(load, deadline) {
            Ok(x) => x,
            Err(e) => {
                v.push(format!("cannot run {}: {e}", self.rsm.display()));
                return true;
            }
        };
        match (&mut round.kill, status) {
            (Kill::Sigkill { .. }, Some(status)) => {
                v.push(format!("the load exited by itself ({status}) before the kill; stderr: {stderr}"))
            }
            (Kill::Sigkill { .. }, None) => {}
            (Kill::Failpoint { reached, .. }, Some(status)) if aborted(&status) => *reached = true,
            (Kill::Failpoint { .. }, Some(status)) => {
                v.push(format!("the load exited ({status}) without reaching the failpoint; stderr: {stderr}"))
            }
            (Kill::Failpoint { .. }, None) => {}
        }
        v.extend(acks.malformed.into_iter().map(|l| format!("unreadable acknowledgement line {l:?}")));
        round.acks = acks.acked.len() as u64;
        report.acknowledged += round.acks;
        for (request, seq) in acks.acked {
            ledger.acks.entry(request).or_insert((seq, round.index));
        }

        if !self.check_log(round, ledger, report, v) {
            return true;
        }
        self.check_replay(v);
        self.check_queue(v);
        match self.check_invariants_and_close_sessions() {
            Ok(None) => false,
            Ok(Some(broken)) => {
                v.push(format!("invariant broken after the crash: {broken}"));
                false
            }
            Err(e) => {
                v.push(format!("reopening the engine in process failed: {} ({}): {}", e.name(), e.code(), e.message()));
                true
            }
        }
    }

    /// Check 6, then the clean-up: opens the engine in process, checks every
    /// invariant of the recovered views (a command cut in half would break
    /// one), and closes every open session — they all belonged to the killed
    /// load; `rsm logout` would close them one by one. Without it the dead
    /// sessions' holds pile up until every drive is held and later loads get
    /// only ERROR_BUSY: the robot, and so the worker failpoints, would stand
    /// still.
    fn check_invariants_and_close_sessions(&self) -> Result<Option<String>, NtmsError> {
        self.rt.block_on(async {
            let engine =
                Engine::open(&self.data, EngineConfig { run_workers: false, ..EngineConfig::default() }).await?;
            let result = async {
                let state = engine.state().await?;
                if let Err(broken) = state.check_invariants() {
                    // Nothing more is submitted on top of broken views.
                    return Ok(Some(broken));
                }
                let open: Vec<SessionId> = state.sessions.values().filter(|s| s.open).map(|s| s.id).collect();
                for session in open {
                    engine.submit(RsmCommand::CloseSession { session }).await?;
                }
                Ok(None)
            }
            .await;
            engine.shutdown().await;
            result
        })
    }

    /// Spawns the load, waits until it dies or `deadline` passes (then
    /// SIGKILLs it), and returns its acknowledgements, its exit status (None:
    /// killed at the deadline) and the tail of its stderr.
    fn kill_load(&self, mut load: Command, deadline: Duration) -> std::io::Result<(Acks, Option<ExitStatus>, String)> {
        let mut child = load.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        let acks = read_acks(&mut child);
        let stderr = read_tail(child.stderr.take());
        let status = wait_until(&mut child, Instant::now() + deadline)?;
        if status.is_none() {
            child.kill()?;
            child.wait()?;
        }
        let acks = acks
            .join()
            .unwrap_or_else(|_| Acks { acked: Vec::new(), malformed: vec!["<the ack reader panicked>".into()] });
        Ok((acks, status, stderr.join().unwrap_or_default()))
    }

    /// Checks 1–3 on the log, read directly. False when the log is unreadable.
    fn check_log(
        &self,
        round: &mut Round,
        ledger: &mut Ledger,
        report: &mut TortureReport,
        v: &mut Vec<String>,
    ) -> bool {
        let log = match SledLog::open(&self.data.join("log")) {
            Ok(log) => log,
            Err(e) => {
                v.push(format!("the log does not open: {e}"));
                return false;
            }
        };
        // Request → (first seq, last seq) of its records.
        let mut groups: HashMap<RequestId, (u64, u64)> = HashMap::new();
        let mut current: Option<RequestId> = None;
        let mut next = 1;
        loop {
            let records = match self.rt.block_on(log.read(next, READ_BATCH)) {
                Ok(r) => r,
                Err(e) => {
                    v.push(format!("reading from record {next}: the log does not verify: {e}"));
                    return false;
                }
            };
            let Some(last) = records.last() else { break };
            let end = last.envelope.seq;
            for r in &records {
                let (seq, request) = (r.envelope.seq, r.envelope.request);
                if seq != next {
                    v.push(format!("record {seq} read where record {next} belongs"));
                    return false;
                }
                next += 1;
                if current == Some(request) {
                    if let Some(g) = groups.get_mut(&request) {
                        g.1 = seq;
                    }
                    continue;
                }
                current = Some(request);
                if let Some((first, last)) = groups.get(&request) {
                    if ledger.reported.insert(request) {
                        v.push(format!(
                            "command {request} is not one atomic group: records {first}..={last}, then {seq}"
                        ));
                    }
                } else {
                    groups.insert(request, (seq, seq));
                }
            }
            next = end + 1;
        }
        drop(log);
        round.records = next - 1;
        for (request, &(seq, acked_in)) in &ledger.acks {
            match groups.get(request) {
                None if ledger.lost.insert(*request) => {
                    report.lost += 1;
                    v.push(format!(
                        "LOST: command {request}, acknowledged at record {seq} in kill {acked_in}, \
                         is not in the log ({} records)",
                        round.records
                    ));
                }
                Some(&(first, last)) if last != seq && ledger.reported.insert(*request) => {
                    v.push(format!(
                        "command {request}, acknowledged at record {seq} in kill {acked_in}, \
                         is at records {first}..={last}"
                    ));
                }
                _ => {}
            }
        }
        true
    }

    /// Check 4: `rsm --json replay --verify` after start-up reconciliation.
    fn check_replay(&self, v: &mut Vec<String>) {
        let mut c = self.rsm();
        c.args(["--json", "replay", "--verify"]);
        let f = match self.check_command(c) {
            Ok(f) => f,
            Err(e) => return v.push(format!("replay --verify: {e}")),
        };
        let json = last_json(&f.stdout);
        let ok = json.as_ref().and_then(|j| j.get("ok")).and_then(|ok| ok.as_bool()) == Some(true);
        if !(ok && f.status.is_some_and(|s| s.success())) {
            v.push(format!(
                "replay --verify failed ({}): {} {}",
                f.status.map(|s| s.to_string()).unwrap_or_else(|| "hung".into()),
                f.stdout.trim(),
                f.stderr.trim()
            ));
        }
    }

    /// Check 5: no request left in process after reconciliation.
    fn check_queue(&self, v: &mut Vec<String>) {
        let mut c = self.rsm();
        c.args(["--json", "show", "queue"]);
        let f = match self.check_command(c) {
            Ok(f) => f,
            Err(e) => return v.push(format!("show queue: {e}")),
        };
        let rows = last_json(&f.stdout).and_then(|j| j.as_array().cloned());
        let (Some(rows), true) = (rows, f.status.is_some_and(|s| s.success())) else {
            return v.push(format!(
                "show queue failed ({}): {} {}",
                f.status.map(|s| s.to_string()).unwrap_or_else(|| "hung".into()),
                f.stdout.trim(),
                f.stderr.trim()
            ));
        };
        for row in rows.iter().filter(|r| r["state"] == "in_progress") {
            v.push(format!("request {} is still in process after reconciliation: {row}", row["id"]));
        }
    }

    /// Runs a checking command to its end (or [`CHECK_TIMEOUT`]).
    fn check_command(&self, mut c: Command) -> Result<Finished, String> {
        let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().map(|mut out| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = out.read_to_string(&mut s);
                s
            })
        });
        let stderr = read_tail(child.stderr.take());
        let status = wait_until(&mut child, Instant::now() + CHECK_TIMEOUT).map_err(|e| e.to_string())?;
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        Ok(Finished {
            status,
            stdout: stdout.and_then(|t| t.join().ok()).unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        })
    }
}

/// What a load printed.
#[derive(Default)]
struct Acks {
    /// `ack <request> <seq>`: the command is durable, its last record at `seq`.
    acked: Vec<(RequestId, u64)>,
    /// Lines starting with `ack` that do not parse (an acknowledgement that cannot be checked).
    malformed: Vec<String>,
}

/// Reads `ack <request> <seq>` lines from the child's stdout until it closes.
fn read_acks(child: &mut Child) -> JoinHandle<Acks> {
    let stdout = child.stdout.take();
    std::thread::spawn(move || {
        let mut acks = Acks::default();
        let Some(stdout) = stdout else { return acks };
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let mut parts = line.split_whitespace();
            if parts.next() != Some("ack") {
                continue;
            }
            match (parts.next().map(str::parse), parts.next().map(str::parse), parts.next()) {
                (Some(Ok(request)), Some(Ok(seq)), None) => acks.acked.push((request, seq)),
                _ => acks.malformed.push(line),
            }
        }
        acks
    })
}

/// Reads a stream to its end, keeping its last [`STDERR_KEPT_BYTES`].
fn read_tail(stream: Option<impl Read + Send + 'static>) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let Some(mut stream) = stream else { return String::new() };
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 2 * STDERR_KEPT_BYTES {
                kept.drain(..kept.len() - STDERR_KEPT_BYTES);
            }
        }
        let from = kept.len().saturating_sub(STDERR_KEPT_BYTES);
        String::from_utf8_lossy(&kept[from..]).trim().to_string()
    })
}

/// Waits for the child's exit until `deadline`; None if it is still running then.
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// Did the child die by `std::process::abort` (SIGABRT)?
#[cfg(unix)]
fn aborted(status: &ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    /// SIGABRT on every unix.
    const SIGABRT: i32 = 6;
    status.signal() == Some(SIGABRT)
}

#[cfg(not(unix))]
fn aborted(status: &ExitStatus) -> bool {
    !status.success()
}

/// The last line of `stdout` that parses as JSON.
fn last_json(stdout: &str) -> Option<serde_json::Value> {
    stdout.lines().rev().find_map(|l| serde_json::from_str(l.trim()).ok())
}

/// The `rsm` binary beside this one.
fn default_rsm() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(format!("rsm{}", std::env::consts::EXE_SUFFIX)))
}

/// Entry point of `rsm-proof torture`.
pub fn main(kills: u64, seed: u64, rsm: Option<PathBuf>, json: bool) -> ExitCode {
    let Some(rsm) = rsm.or_else(default_rsm) else {
        eprintln!("rsm-proof: cannot tell where the rsm binary is; pass --rsm PATH");
        return ExitCode::from(1);
    };
    // The children run in other directories: a relative path must not change meaning.
    let Ok(rsm) =
        rsm.canonicalize().and_then(|p| if p.is_file() { Ok(p) } else { Err(std::io::ErrorKind::NotFound.into()) })
    else {
        eprintln!("rsm-proof: no rsm binary at {}; build it (cargo build --bin rsm) or pass --rsm PATH", rsm.display());
        return ExitCode::from(1);
    };
    let started = Instant::now();
    let report = run_with(&rsm, kills, seed, |round, violations| {
        if !json {
            println!("{round}");
            for v in violations {
                println!("  {v}");
            }
        }
    });
    if json {
        println!("{}", serde_json::to_string(&report).expect("the report is plain data"));
    } else {
        let failpoints = report.rounds.iter().filter(|r| matches!(r.kill, Kill::Failpoint { .. })).count();
        println!(
            "{} kills ({} SIGKILL, {} at failpoints of which {} not reached) in {:.1} s: \
             {} commands acknowledged, {} lost",
            report.kills,
            report.rounds.len() - failpoints,
            failpoints,
            report.failpoints_unreached(),
            started.elapsed().as_secs_f64(),
            report.acknowledged,
            report.lost
        );
        for v in report.violations.iter().filter(|v| !v.starts_with("kill ")) {
            println!("{v}");
        }
        if !report.passed() {
            println!("rerun: rsm-proof torture --kills {kills} --seed {seed}");
        }
        let failed = report.failed_kills();
        println!("{} passed, {} failed", report.kills - failed, failed);
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_alternates_and_cycles_through_every_failpoint() {
        let plans: Vec<Kill> = (0..2 * failpoint::NAMES.len() as u64).map(|r| plan(9, r).0).collect();
        let mut names = HashSet::new();
        for (round, kill) in plans.iter().enumerate() {
            match kill {
                Kill::Sigkill { after_ms } => {
                    assert!(round % 2 == 0 && (KILL_AFTER_MS_MIN..=KILL_AFTER_MS_MAX).contains(after_ms))
                }
                Kill::Failpoint { name, hit, reached } => {
                    assert!(round % 2 == 1 && (1..=FAILPOINT_HIT_MAX).contains(hit) && !reached);
                    names.insert(*name);
                }
            }
        }
        assert_eq!(names.len(), failpoint::NAMES.len());
        assert_eq!(plan(9, 5), plan(9, 5), "seeded");
    }

    #[test]
    fn the_report_serializes_to_exactly_four_fields() {
        let report = TortureReport {
            kills: 2,
            acknowledged: 5,
            lost: 0,
            violations: vec!["x".into()],
            rounds: vec![Round {
                index: 0,
                kill: Kill::Sigkill { after_ms: 60 },
                load_seed: 1,
                acks: 5,
                records: 9,
                violations: 1,
            }],
        };
        assert_eq!(
            serde_json::to_string(&report).expect("serializes"),
            r#"{"kills":2,"acknowledged":5,"lost":0,"violations":["x"]}"#
        );
        assert_eq!(report.failed_kills(), 1);
    }
}
