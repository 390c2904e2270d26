//! What the crash torture and the power-cut torture share: running the
//! `rsm` load and reading its acknowledgements, the ledger of everything
//! acknowledged, and the checks of a store after a crash.

use rsm_engine::{Engine, EngineConfig};
use rsm_log::{EventLog, SledLog};
use rsm_model::{Command as RsmCommand, NtmsError, RequestId, SessionId};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Concurrent sessions of the load: enough to fill group commits and keep
/// the robot busy, few enough for two cores.
pub(crate) const SESSIONS: u32 = 6;
/// How long one check (`replay --verify`, `show queue`) may take before it
/// counts as hung; far beyond its normal second, so only a hang trips it.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);
/// Records per read of the log.
const READ_BATCH: usize = 4096;
/// Tail of a child's stderr kept for messages.
const STDERR_KEPT_BYTES: usize = 2_000;
/// Interval at which a child is polled for its exit.
const POLL: Duration = Duration::from_millis(2);

/// Every acknowledgement seen so far: acknowledged stays durable in every
/// later round too.
#[derive(Default)]
pub(crate) struct Ledger {
    /// Request → (acknowledged seq, round of the ack).
    pub(crate) acks: BTreeMap<RequestId, (u64, u64)>,
    /// Acknowledged requests found missing (each is lost, and reported, once).
    pub(crate) lost: HashSet<RequestId>,
    /// Requests already reported as split or misplaced (each is reported once).
    pub(crate) reported: HashSet<RequestId>,
}

impl Ledger {
    /// Records a round's acknowledgements (the first ack of a request counts).
    pub(crate) fn record(&mut self, acked: &[(RequestId, u64)], round: u64) {
        for (request, seq) in acked {
            self.acks.entry(*request).or_insert((*seq, round));
        }
    }

    /// Acknowledged commands not yet reported lost.
    pub(crate) fn outstanding(&self) -> impl Iterator<Item = (&RequestId, &(u64, u64))> {
        self.acks.iter().filter(|(r, _)| !self.lost.contains(r))
    }
}

/// What a load printed.
#[derive(Default)]
pub(crate) struct Acks {
    /// `ack <request> <seq>`: the command is durable, its last record at `seq`.
    pub(crate) acked: Vec<(RequestId, u64)>,
    /// Lines starting with `ack` that do not parse (an acknowledgement that cannot be checked).
    pub(crate) malformed: Vec<String>,
}

/// A finished load: its acknowledgements, its exit status (None: still
/// alive at the deadline, then killed) and the tail of its stderr.
pub(crate) struct LoadEnd {
    pub(crate) acks: Acks,
    pub(crate) status: Option<ExitStatus>,
    pub(crate) stderr: String,
}

/// A finished checking command: its exit status (None: killed after its
/// deadline), stdout and stderr's tail.
pub(crate) struct Finished {
    pub(crate) status: Option<ExitStatus>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `rsm` on one data directory and checks the store it leaves.
pub(crate) struct Checker<'a> {
    pub(crate) rsm: &'a Path,
    /// Working directory of every child (a core dump, if any, lands here).
    pub(crate) work: &'a Path,
    pub(crate) data: PathBuf,
    pub(crate) rt: tokio::runtime::Runtime,
    /// What a round is called in messages ("kill", "cut").
    pub(crate) round_noun: &'static str,
}

impl Checker<'_> {
    /// `rsm --data DIR` with no failpoint armed and no stdin.
    pub(crate) fn rsm(&self) -> Command {
        let mut c = Command::new(self.rsm);
        c.arg("--data")
            .arg(&self.data)
            .current_dir(self.work)
            .env_remove(rsm_log::failpoint::ENV_VAR)
            .stdin(Stdio::null());
        c
    }

    /// `rsm stress` seeded `seed`, with `failpoint` (`NAME:N`) armed if given.
    pub(crate) fn load(&self, seed: u64, failpoint: Option<String>) -> Command {
        let mut load = self.rsm();
        load.args(["stress", "--sessions", &SESSIONS.to_string(), "--seed", &seed.to_string()]);
        if let Some(spec) = failpoint {
            load.env(rsm_log::failpoint::ENV_VAR, spec);
        }
        load
    }

    /// Spawns the load and waits until it dies or `deadline` passes; kills
    /// it if it is alive, then calls `at_end`, and returns what it printed.
    ///
    /// The load is dead before `at_end` runs: a power cut detaches its
    /// mount, and a load still alive after that would find the bare
    /// mountpoint under the path and start a store of its own there
    /// (found by a 1000-cut run: commands acknowledged in that store were
    /// counted as lost). Killed first, nothing it does lands after the cut;
    /// its files closing makes nothing durable, so the cut drops exactly
    /// what it would have dropped with the load running.
    pub(crate) fn run_load(
        &self,
        mut load: Command,
        deadline: Duration,
        at_end: impl FnOnce(),
    ) -> std::io::Result<LoadEnd> {
        let mut child = load.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
        let acks = read_acks(&mut child);
        let stderr = read_tail(child.stderr.take());
        let waited = wait_until(&mut child, Instant::now() + deadline);
        let killed = match waited {
            Ok(None) => child.kill().and_then(|()| child.wait()).map(|_| ()),
            Ok(Some(_)) => Ok(()),
            Err(_) => {
                let _ = child.kill();
                child.wait().map(|_| ())
            }
        };
        at_end();
        let status = waited?;
        killed?;
        let acks = acks
            .join()
            .unwrap_or_else(|_| Acks { acked: Vec::new(), malformed: vec!["<the ack reader panicked>".into()] });
        Ok(LoadEnd { acks, status, stderr: stderr.join().unwrap_or_default() })
    }

    /// Reads the whole log and checks it against the ledger:
    ///
    /// 1. every record reads back with its hash chain verified, gapless from 1;
    /// 2. every command ever acknowledged is in the log, its last record at
    ///    exactly the acknowledged sequence number; a missing one is *lost*
    ///    (added to `lost`);
    /// 3. every command's records are contiguous: one atomic group, whole or absent.
    ///
    /// Returns the number of records, or None when the log does not verify.
    pub(crate) fn check_log(
        &self,
        log: SledLog,
        round: u64,
        ledger: &mut Ledger,
        lost: &mut u64,
        v: &mut Vec<String>,
    ) -> Option<u64> {
        // Request → (first seq, last seq) of its records.
        let mut groups: HashMap<RequestId, (u64, u64)> = HashMap::new();
        let mut current: Option<RequestId> = None;
        let mut next = 1;
        loop {
            let records = match self.rt.block_on(log.read(next, READ_BATCH)) {
                Ok(r) => r,
                Err(e) => {
                    v.push(format!("reading from record {next}: the log does not verify: {e}"));
                    return None;
                }
            };
            let Some(last) = records.last() else { break };
            let end = last.envelope.seq;
            for r in &records {
                let (seq, request) = (r.envelope.seq, r.envelope.request);
                if seq != next {
                    v.push(format!("record {seq} read where record {next} belongs"));
                    return None;
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
        let records = next - 1;
        let noun = self.round_noun;
        for (request, &(seq, acked_in)) in &ledger.acks {
            match groups.get(request) {
                None if ledger.lost.insert(*request) => {
                    *lost += 1;
                    v.push(format!(
                        "LOST: command {request}, acknowledged at record {seq} in {noun} {acked_in}, \
                         is not in the log ({records} records after {noun} {round})"
                    ));
                }
                Some(&(first, last)) if last != seq && ledger.reported.insert(*request) => {
                    v.push(format!(
                        "command {request}, acknowledged at record {seq} in {noun} {acked_in}, \
                         is at records {first}..={last}"
                    ));
                }
                _ => {}
            }
        }
        Some(records)
    }

    /// `rsm --json replay --verify` after start-up reconciliation: exits 0
    /// with `"ok": true`.
    pub(crate) fn check_replay(&self, v: &mut Vec<String>) {
        let f = match self.replay_verify() {
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

    /// Runs `rsm --json replay --verify` to its end.
    pub(crate) fn replay_verify(&self) -> Result<Finished, String> {
        let mut c = self.rsm();
        c.args(["--json", "replay", "--verify"]);
        self.check_command(c)
    }

    /// No request left in process after reconciliation (`rsm --json show queue`).
    pub(crate) fn check_queue(&self, v: &mut Vec<String>) {
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

    /// Opens the engine in process, checks every invariant of the recovered
    /// views (a command cut in half would break one), and closes every open
    /// session — they all belonged to the dead load; `rsm logout` would close
    /// them one by one. Without it the dead sessions' holds pile up until
    /// every drive is held and later loads get only ERROR_BUSY: the robot,
    /// and so the worker failpoints, would stand still.
    pub(crate) fn check_invariants_and_close_sessions(&self) -> Result<Option<String>, NtmsError> {
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

    /// Checks 4–6 after the log's: replay, queue, invariants (closing the
    /// dead load's sessions). Returns true when the engine does not reopen.
    pub(crate) fn check_engine(&self, v: &mut Vec<String>) -> bool {
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
pub(crate) fn aborted(status: &ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    /// SIGABRT on every unix.
    const SIGABRT: i32 = 6;
    status.signal() == Some(SIGABRT)
}

#[cfg(not(unix))]
pub(crate) fn aborted(status: &ExitStatus) -> bool {
    !status.success()
}

/// The last line of `stdout` that parses as JSON.
pub(crate) fn last_json(stdout: &str) -> Option<serde_json::Value> {
    stdout.lines().rev().find_map(|l| serde_json::from_str(l.trim()).ok())
}

/// The `rsm` binary to run: `rsm` if given, else the one beside this
/// binary; made absolute (the children run in other directories). Err is
/// the message for the operator.
pub(crate) fn resolve_rsm(rsm: Option<PathBuf>) -> Result<PathBuf, String> {
    let beside = || {
        let exe = std::env::current_exe().ok()?;
        Some(exe.parent()?.join(format!("rsm{}", std::env::consts::EXE_SUFFIX)))
    };
    let Some(rsm) = rsm.or_else(beside) else {
        return Err("cannot tell where the rsm binary is; pass --rsm PATH".into());
    };
    rsm.canonicalize()
        .and_then(|p| if p.is_file() { Ok(p) } else { Err(std::io::ErrorKind::NotFound.into()) })
        .map_err(|_| format!("no rsm binary at {}; build it (cargo build --bin rsm) or pass --rsm PATH", rsm.display()))
}

/// What the two tortures (kills and power cuts) report, for the command
/// line they share.
pub(crate) trait RoundsReport: serde::Serialize {
    /// True when nothing was lost and no claim was broken.
    fn passed(&self) -> bool;
    /// Rounds carried out.
    fn rounds(&self) -> u64;
    /// Rounds after which some check failed.
    fn failed_rounds(&self) -> u64;
    /// The one-line tally, given the time taken.
    fn tally(&self, elapsed: Duration) -> String;
    /// Every broken claim; those starting with `round_prefix` were
    /// printed with their round already.
    fn violations(&self) -> &[String];
}

/// Runs a torture from the command line: each round and its broken claims
/// as they come (or one JSON document at the end), the tally, how to rerun
/// a failure; exit 0 when it passed, 2 when not, 1 when rsm was not found.
pub(crate) fn torture_main<R: RoundsReport, Round: std::fmt::Display>(
    rsm: Option<PathBuf>,
    json: bool,
    round_prefix: &str,
    rerun: &str,
    run: impl FnOnce(&Path, &mut dyn FnMut(&Round, &[String])) -> R,
) -> std::process::ExitCode {
    let rsm = match resolve_rsm(rsm) {
        Ok(rsm) => rsm,
        Err(why) => {
            eprintln!("rsm-proof: {why}");
            return std::process::ExitCode::from(1);
        }
    };
    let started = Instant::now();
    let report = run(&rsm, &mut |round, violations| {
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
        println!("{}", report.tally(started.elapsed()));
        for v in report.violations().iter().filter(|v| !v.starts_with(round_prefix)) {
            println!("{v}");
        }
        if !report.passed() {
            println!("rerun: {rerun}");
        }
        let failed = report.failed_rounds();
        println!("{} passed, {} failed", report.rounds() - failed, failed);
    }
    if report.passed() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A load alive after a power cut found the bare mountpoint under its
    /// path and wrote a store of its own there: the load must be dead
    /// before `at_end` (the cut) runs. Here the load appends to a file
    /// every millisecond; nothing is appended once `at_end` has run.
    #[test]
    fn a_load_is_dead_before_the_power_is_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ticks = dir.path().join("ticks");
        let checker = Checker {
            rsm: Path::new("/bin/sh"),
            work: dir.path(),
            data: dir.path().join("data"),
            rt: tokio::runtime::Builder::new_current_thread().build().expect("runtime"),
            round_noun: "cut",
        };
        let mut load = Command::new("/bin/sh");
        load.args(["-c", &format!("while true; do echo tick >> '{}'; sleep 0.001; done", ticks.display())]);
        let mut at_cut = None;
        let end = checker
            .run_load(load, Duration::from_millis(100), || {
                at_cut = Some(std::fs::metadata(&ticks).map(|m| m.len()).unwrap_or(0));
                // A cut takes a while (it drops what is held): time enough
                // for a live load to write.
                std::thread::sleep(Duration::from_millis(20));
            })
            .expect("the load runs");
        assert_eq!(end.status, None, "the load was still running at the deadline");
        std::thread::sleep(Duration::from_millis(50));
        let after = std::fs::metadata(&ticks).map(|m| m.len()).unwrap_or(0);
        assert!(at_cut.is_some_and(|n| n > 0), "the load wrote before the cut");
        assert_eq!(Some(after), at_cut, "the load wrote after the power was cut");
    }
}
