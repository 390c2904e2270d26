//! The run and its cases: the engine measured side by side with its
//! ceilings. Every figure comes from a fresh child process
//! (`rsm-bench case`), since heap state left by an earlier case skews sled;
//! each is the median of several rounds, interleaved, with min and max.

use crate::{out, sim_spec, Failure, Outcome};
use rsm_engine::*;
use rsm_log::{codec, Envelope, EventLog, SledLog};
use rsm_model::*;
// The engine's session handle, not the model's session object.
use rsm_engine::Session;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Sizes of one run.
struct Plan {
    rounds: usize,
    sessions: u32,
    pairs: u64,
    single: u64,
    sqlite: u64,
    replay_sizes: Vec<u64>,
    robot_drives: u16,
    robot_ms: u64,
    scale_slots: u32,
    scale_drives: u32,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Plan {
                rounds: 3,
                sessions: 64,
                pairs: 100,
                single: 1_000,
                sqlite: 4_000,
                replay_sizes: vec![100_000, 1_000_000],
                robot_drives: 6,
                robot_ms: 3_000,
                scale_slots: 100_000,
                scale_drives: 1_000,
            }
        } else {
            Plan {
                rounds: 5,
                sessions: 64,
                pairs: 400,
                single: 4_000,
                sqlite: 16_000,
                replay_sizes: vec![100_000, 1_000_000, 10_000_000],
                robot_drives: 8,
                robot_ms: 10_000,
                scale_slots: 1_000_000,
                scale_drives: 10_000,
            }
        }
    }
}

/// Live subscribers of the notifications case (next to none).
const NOTIFY_SUBSCRIBERS: usize = 100;
/// Lags counted one by one, in records; a lag this large or larger is
/// counted in the last bucket (reported as this figure).
const LAG_BUCKETS: usize = 10_000;

fn bench_failure(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure::Io(format!("bench: {what}: {e}"))
}

/// Runs one case in a fresh child process and parses its JSON line.
fn child(case: &str, args: &[String]) -> Result<Value, Failure> {
    let exe = std::env::current_exe().map_err(|e| bench_failure("current exe", e))?;
    let out = Process::new(exe).arg("case").arg(case).args(args).output().map_err(|e| bench_failure(case, e))?;
    if !out.status.success() {
        return Err(bench_failure(case, String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| bench_failure(&format!("{case} printed {line:?}"), e))
}

/// Median, min and max of one figure over the rounds.
fn spread(values: &[f64]) -> Value {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return json!({"median": null, "min": null, "max": null});
    }
    json!({"median": v[v.len() / 2], "min": v[0], "max": v[v.len() - 1]})
}

fn median(v: &Value) -> f64 {
    v["median"].as_f64().unwrap_or(f64::NAN)
}

pub async fn run(quick: bool, json_out: bool) -> Outcome {
    let plan = Plan::new(quick);
    let work = tempfile::tempdir().map_err(|e| bench_failure("temp dir", e))?;
    let dir = |name: &str| work.path().join(name).to_string_lossy().into_owned();
    let mut samples: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut put = |key: &str, v: &Value| {
        if let Some(x) = v.as_f64() {
            samples.entry(key.to_string()).or_default().push(x);
        }
    };
    out::error("rsm-bench: building the replay logs ...");
    for n in &plan.replay_sizes {
        child("build-log", &[dir(&format!("log-{n}")), n.to_string()])?;
    }
    for round in 0..plan.rounds {
        out::error(&format!("rsm-bench: round {} of {}", round + 1, plan.rounds));
        // Each round's stores go when it ends: the disk holds one round's, not all.
        let round_dir = work.path().join(format!("round-{round}"));
        let dir = |name: &str| round_dir.join(name).to_string_lossy().into_owned();
        let log_dir = |n: &u64| work.path().join(format!("log-{n}")).to_string_lossy().into_owned();
        let e = child("engine", &[dir(&format!("engine-{round}")), plan.sessions.to_string(), plan.pairs.to_string()])?;
        put("engine_cmds_per_s", &e["cmds_per_s"]);
        put("engine_records_per_s", &e["records_per_s"]);
        put("engine_mean_batch", &e["mean_batch"]);
        let batch = e["mean_batch"].as_f64().unwrap_or(1.0).round().max(1.0) as u64;
        let records = e["records"].as_u64().unwrap_or(1);
        // Live subscribers next to none, in the same round (BENCHMARKS.md: notifications).
        for subscribers in [0, NOTIFY_SUBSCRIBERS] {
            let n = child(
                "notify",
                &[
                    dir(&format!("notify-{subscribers}-{round}")),
                    plan.sessions.to_string(),
                    plan.pairs.to_string(),
                    subscribers.to_string(),
                ],
            )?;
            put(&format!("notify_cmds_per_s@{subscribers}"), &n["cmds_per_s"]);
            if subscribers > 0 {
                put("notify_lag_p50_records", &n["lag_p50_records"]);
                put("notify_lag_p99_records", &n["lag_p99_records"]);
            }
        }
        let r = child("raw-append", &[dir(&format!("raw-{round}")), records.to_string(), batch.to_string()])?;
        put("raw_append_per_s", &r["records_per_s"]);
        put("raw_batch", &json!(batch));
        let s = child("single", &[dir(&format!("single-{round}")), plan.single.to_string()])?;
        put("single_cmds_per_s", &s["cmds_per_s"]);
        put("single_p50_us", &s["p50_us"]);
        put("single_p99_us", &s["p99_us"]);
        let r1 = child("raw-append", &[dir(&format!("raw1-{round}")), plan.single.to_string(), "1".into()])?;
        put("raw_single_per_s", &r1["records_per_s"]);
        put("raw_single_p50_us", &r1["p50_us"]);
        for (key, head) in [("log_single", "1"), ("log_single_nohead", "0")] {
            let l = child(
                "log-append",
                &[dir(&format!("{key}-{round}")), plan.single.to_string(), "1".into(), head.into()],
            )?;
            put(&format!("{key}_per_s"), &l["records_per_s"]);
            put(&format!("{key}_p50_us"), &l["p50_us"]);
        }
        let q = child("sqlite", &[dir(&format!("sqlite-{round}")), plan.sqlite.to_string(), "1".into()])?;
        put("sqlite_cmds_per_s", &q["cmds_per_s"]);
        let qb = child("sqlite", &[dir(&format!("sqliteb-{round}")), (plan.sqlite * 8).to_string(), "64".into()])?;
        put("sqlite_batched_cmds_per_s", &qb["cmds_per_s"]);
        for n in &plan.replay_sizes {
            let log = log_dir(n);
            let rp = child("replay", std::slice::from_ref(&log))?;
            put(&format!("replay_events_per_s@{n}"), &rp["events_per_s"]);
            put(&format!("replay_rss_mib@{n}"), &rp["rss_hwm_mib"]);
            put(&format!("cold_start_ms@{n}"), &rp["ms"]);
            let sc = child("scan", &[log])?;
            put(&format!("raw_scan_per_s@{n}"), &sc["events_per_s"]);
        }
        let rb = child(
            "robot",
            &[dir(&format!("robot-{round}")), plan.robot_drives.to_string(), plan.robot_ms.to_string()],
        )?;
        for k in ["robot_utilisation", "mounts_per_hour", "bound_per_hour", "in_place_share"] {
            put(k, &rb[k]);
        }
        // Side by side: mixed priorities, and drives cleaned now and then.
        let mixed = child(
            "robot",
            &[
                dir(&format!("robot-mixed-{round}")),
                plan.robot_drives.to_string(),
                plan.robot_ms.to_string(),
                "mixed".into(),
            ],
        )?;
        put("robot_utilisation_mixed", &mixed["robot_utilisation"]);
        put("cleanings_per_hour_mixed", &mixed["cleanings_per_hour"]);
        std::fs::remove_dir_all(&round_dir).map_err(|e| bench_failure("temp dir", e))?;
    }
    // Snapshots: the same logs, now with a snapshot at their end.
    for n in &plan.replay_sizes {
        child("snapshot", &[dir(&format!("log-{n}"))])?;
        for _ in 0..plan.rounds {
            let rp = child("replay", &[dir(&format!("log-{n}"))])?;
            put(&format!("cold_start_snapshot_ms@{n}"), &rp["ms"]);
        }
        std::fs::remove_dir_all(dir(&format!("log-{n}"))).map_err(|e| bench_failure("temp dir", e))?;
    }
    for (label, slots, drives) in [("scale", plan.scale_slots, plan.scale_drives), ("small", 1_000, 16)] {
        for round in 0..plan.rounds.min(3) {
            let scale_dir = dir(&format!("{label}-{round}"));
            let sc = child("scale", &[scale_dir.clone(), slots.to_string(), drives.to_string()])?;
            std::fs::remove_dir_all(&scale_dir).map_err(|e| bench_failure("temp dir", e))?;
            for k in
                ["create_s", "bytes_per_slot", "bytes_per_medium", "p50_us", "p99_us", "alloc_p50_us", "alloc_p99_us"]
            {
                put(&format!("{label}_{k}"), &sc[k]);
            }
        }
    }

    let mut out = Map::new();
    for (k, v) in &samples {
        out.insert(k.clone(), spread(v));
    }
    let ratio = |a: &str, b: &str| median(&out[a]) / median(&out[b]);
    let mut derived = Map::new();
    derived.insert("append_ratio".into(), json!(ratio("engine_records_per_s", "raw_append_per_s")));
    derived.insert("single_client_ratio".into(), json!(ratio("single_cmds_per_s", "raw_single_per_s")));
    // What the head file's update per commit group costs: 1.0 would be free.
    derived.insert("head_cost_ratio".into(), json!(ratio("log_single_per_s", "log_single_nohead_per_s")));
    derived.insert(
        "subscribers_ratio".into(),
        json!(ratio(&format!("notify_cmds_per_s@{NOTIFY_SUBSCRIBERS}"), "notify_cmds_per_s@0")),
    );
    derived.insert("notify_lag_p99_records".into(), json!(median(&out["notify_lag_p99_records"])));
    derived.insert("vs_sqlite".into(), json!(ratio("engine_cmds_per_s", "sqlite_cmds_per_s")));
    derived.insert("vs_sqlite_batched".into(), json!(ratio("engine_cmds_per_s", "sqlite_batched_cmds_per_s")));
    let largest = plan.replay_sizes.iter().copied().filter(|n| *n <= 1_000_000).max().unwrap_or(100_000);
    derived.insert("replay_events_per_s".into(), json!(median(&out[&format!("replay_events_per_s@{largest}")])));
    derived.insert("raw_scan_per_s".into(), json!(median(&out[&format!("raw_scan_per_s@{largest}")])));
    derived.insert(
        "replay_ratio".into(),
        json!(ratio(&format!("replay_events_per_s@{largest}"), &format!("raw_scan_per_s@{largest}"))),
    );
    derived.insert("scale_latency_ratio_p50".into(), json!(ratio("scale_p50_us", "small_p50_us")));
    derived.insert("alloc_latency_ratio_p50".into(), json!(ratio("scale_alloc_p50_us", "small_alloc_p50_us")));
    let mut top = Map::new();
    for k in [
        "engine_cmds_per_s",
        "raw_append_per_s",
        "sqlite_cmds_per_s",
        "sqlite_batched_cmds_per_s",
        "robot_utilisation",
        "robot_utilisation_mixed",
        "in_place_share",
    ] {
        top.insert(k.into(), json!(median(&out[k])));
    }
    top.insert("create_s".into(), json!(median(&out["scale_create_s"])));
    top.insert("bytes_per_slot".into(), json!(median(&out["scale_bytes_per_slot"])));
    top.insert("p50_us".into(), json!(median(&out["scale_p50_us"])));
    top.insert("p99_us".into(), json!(median(&out["scale_p99_us"])));
    top.insert("bytes_per_medium".into(), json!(median(&out["scale_bytes_per_medium"])));
    top.insert("alloc_p50_us".into(), json!(median(&out["scale_alloc_p50_us"])));
    top.insert("alloc_p99_us".into(), json!(median(&out["scale_alloc_p99_us"])));
    top.insert("single_p50_us".into(), json!(median(&out["single_p50_us"])));
    top.insert("raw_single_p50_us".into(), json!(median(&out["raw_single_p50_us"])));
    let mut cold = Map::new();
    for n in &plan.replay_sizes {
        cold.insert(
            n.to_string(),
            json!({"no_snapshot_ms": median(&out[&format!("cold_start_ms@{n}")]), "snapshot_ms": median(&out[&format!("cold_start_snapshot_ms@{n}")]), "replay_rss_mib": median(&out[&format!("replay_rss_mib@{n}")])}),
        );
    }
    top.insert("cold_start_ms".into(), Value::Object(cold));
    top.extend(derived);
    top.insert("quick".into(), json!(quick));
    top.insert("rounds".into(), json!(plan.rounds));
    top.insert("figures".into(), Value::Object(out.clone()));
    if json_out {
        out::json(&Value::Object(top))
    } else {
        out::text(&table(&top, &out))
    }
}

fn table(top: &Map<String, Value>, figures: &Map<String, Value>) -> String {
    let mut text = format!("{:<34} {:>14} {:>14} {:>14}\n", "figure", "median", "min", "max");
    for (k, v) in figures {
        text += &format!(
            "{k:<34} {:>14.1} {:>14.1} {:>14.1}\n",
            median(v),
            v["min"].as_f64().unwrap_or(f64::NAN),
            v["max"].as_f64().unwrap_or(f64::NAN)
        );
    }
    text.push('\n');
    for (k, target) in [
        ("append_ratio", 0.7),
        ("single_client_ratio", 0.7),
        ("vs_sqlite", 5.0),
        ("vs_sqlite_batched", 1.0),
        ("replay_ratio", 0.8),
        ("robot_utilisation", 0.95),
        ("robot_utilisation_mixed", 0.95),
        ("subscribers_ratio", 0.9),
    ] {
        let v = top[k].as_f64().unwrap_or(f64::NAN);
        text += &format!("{k:<34} {v:>14.3}   target >= {target}  {}\n", if v >= target { "met" } else { "SHORT" });
    }
    text
}

// ---- the cases, each in its own process -------------------------------

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> Result<T, Failure> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| Failure::Usage(format!("rsm-bench case: argument {i} ({what}) missing")))
}

fn rss_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn open_engine(dir: &Path, timings: rsm_hardware::SimTimings, workers: bool) -> Result<Engine, Failure> {
    open_engine_with(dir, Arc::new(SimProvider::in_memory(timings)), workers).await
}

async fn open_engine_with(dir: &Path, hardware: Arc<SimProvider>, workers: bool) -> Result<Engine, Failure> {
    let config = EngineConfig { run_workers: workers, snapshot_every: 0, ..EngineConfig::default() };
    open_engine_configured(dir, hardware, config).await
}

async fn open_engine_configured(
    dir: &Path,
    hardware: Arc<SimProvider>,
    config: EngineConfig,
) -> Result<Engine, Failure> {
    let log_dir = dir.join("log");
    std::fs::create_dir_all(&log_dir).map_err(|e| bench_failure("dir", e))?;
    let log = SledLog::open(&log_dir).map_err(|e| bench_failure("log", e))?;
    let parts =
        EngineParts { log: Box::new(log), clock: Arc::new(SystemClock), ids: Box::new(RandomIds::default()), hardware };
    Ok(Engine::open_with(parts, config).await?)
}

/// A library of `drives` drives with one cartridge mounted (and held) per session.
async fn library_with_held_media(
    engine: &Engine,
    name: &str,
    drives: u16,
    sessions: u32,
) -> Result<Vec<(Session, MediaId)>, Failure> {
    let admin = engine.open_session("bench-admin").await?;
    let spec = sim_spec(name, &name.to_uppercase(), drives, u32::from(drives) * 2, 1, u32::from(drives));
    let library = admin.create_library(spec).await?;
    let mut out = Vec::new();
    for i in 0..sessions {
        let principal = format!("client-{i}");
        admin.grant(library, &principal, AccessMask::USE).await?;
        let session = engine.open_session(&principal).await?;
        let (media, drive) = engine
            .query(move |s| {
                let lib = &s.libraries[&library];
                let d = lib.drives[i as usize];
                let m = s.slots[&lib.slots[i as usize]].content;
                (m, d)
            })
            .await?;
        let media = media.ok_or_else(|| Failure::Usage("bench library lacks a cartridge".into()))?;
        session.mount_media(media, MountOptions { drive: Some(drive), ..Default::default() }).await?.wait().await?;
        out.push((session, media));
    }
    Ok(out)
}

/// The command pair the throughput cases repeat: a deferred dismount and a
/// mount of the same cartridge, served in place (no robot): pure command path.
/// Every client mounts and dismounts its cartridge `pairs` times, all at
/// once; the seconds they took together.
async fn run_pairs(clients: Vec<(Session, MediaId)>, pairs: u64) -> Result<f64, Failure> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (session, media) in clients {
        tasks.push(tokio::spawn(async move {
            for _ in 0..pairs {
                pair(&session, media).await?;
            }
            Ok::<_, NtmsError>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| bench_failure("client", e))??;
    }
    Ok(started.elapsed().as_secs_f64())
}

async fn pair(session: &Session, media: MediaId) -> Result<(), NtmsError> {
    session.dismount_media(media, true).await?;
    session.mount_media(media, MountOptions::default()).await?;
    Ok(())
}

pub async fn case(name: &str, args: &[String]) -> Outcome {
    let dir = PathBuf::from(args.first().cloned().unwrap_or_default());
    let result = match name {
        "engine" => {
            let sessions: u32 = arg(args, 1, "sessions")?;
            let pairs: u64 = arg(args, 2, "pairs")?;
            let engine = open_engine(&dir, Default::default(), true).await?;
            let clients =
                library_with_held_media(&engine, "bench", u16::try_from(sessions).unwrap_or(64), sessions).await?;
            let (c0, r0) = engine.commit_stats().read();
            let secs = run_pairs(clients, pairs).await?;
            let (c1, r1) = engine.commit_stats().read();
            let cmds = 2 * pairs * u64::from(sessions);
            json!({"cmds_per_s": cmds as f64 / secs, "records_per_s": (r1 - r0) as f64 / secs, "records": r1 - r0, "mean_batch": (r1 - r0) as f64 / (c1 - c0).max(1) as f64})
        }
        "notify" => {
            let sessions: u32 = arg(args, 1, "sessions")?;
            let pairs: u64 = arg(args, 2, "pairs")?;
            let subscribers: usize = arg(args, 3, "subscribers")?;
            notify(&dir, sessions, pairs, subscribers).await?
        }
        "single" => {
            let n: u64 = arg(args, 1, "commands")?;
            let engine = open_engine(&dir, Default::default(), true).await?;
            let clients = library_with_held_media(&engine, "bench", 1, 1).await?;
            let (session, media) = &clients[0];
            let mut lat = Vec::with_capacity(n as usize);
            let started = Instant::now();
            for i in 0..n {
                let t = Instant::now();
                if i % 2 == 0 {
                    session.dismount_media(*media, true).await?;
                } else {
                    session.mount_media(*media, MountOptions::default()).await?;
                }
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
            let secs = started.elapsed().as_secs_f64();
            lat.sort_by(|a, b| a.total_cmp(b));
            json!({"cmds_per_s": n as f64 / secs, "p50_us": percentile(&lat, 0.5), "p99_us": percentile(&lat, 0.99)})
        }
        "log-append" => {
            let records: u64 = arg(args, 1, "records")?;
            let batch: u64 = arg::<u64>(args, 2, "batch")?.max(1);
            let head: bool = arg::<u8>(args, 3, "head")? != 0;
            log_append(&dir, records, batch, head).await?
        }
        "raw-append" => {
            let records: u64 = arg(args, 1, "records")?;
            let batch: u64 = arg::<u64>(args, 2, "batch")?.max(1);
            raw_append(&dir, records, batch)?
        }
        "sqlite" => {
            let n: u64 = arg(args, 1, "commands")?;
            let per_txn: u64 = arg::<u64>(args, 2, "per transaction")?.max(1);
            sqlite(&dir, n, per_txn).map_err(|e| bench_failure("sqlite", e))?
        }
        "build-log" => {
            let n: u64 = arg(args, 1, "events")?;
            build_log(&dir, n).await?;
            json!({"events": n})
        }
        "replay" => {
            // No snapshot at stop: the next measurement must find the log as
            // it was; the clean close seals it, so that open is in place too.
            let config = EngineConfig {
                run_workers: false,
                snapshot_every: 0,
                snapshot_at_stop: false,
                ..EngineConfig::default()
            };
            let started = Instant::now();
            let engine =
                open_engine_configured(&dir, Arc::new(SimProvider::in_memory(Default::default())), config).await?;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let events = engine.last_seq();
            let rss = rss_hwm_mib();
            engine.shutdown().await;
            json!({"ms": ms, "events_per_s": events as f64 / (ms / 1e3), "rss_hwm_mib": rss})
        }
        "scan" => {
            let started = Instant::now();
            let db = rsm_log::raw::open_log_tree(&dir.join("log")).map_err(|e| bench_failure("sled", e))?;
            let mut events = 0u64;
            for item in db.iter() {
                let (key, value) = item.map_err(|e| bench_failure("scan", e))?;
                let first = u64::from_be_bytes(key.as_ref().try_into().map_err(|_| bench_failure("scan", "bad key"))?);
                events +=
                    codec::decode_batch_unverified(&value, first).map_err(|e| bench_failure("decode", e))?.len() as u64;
            }
            let secs = started.elapsed().as_secs_f64();
            json!({"events_per_s": events as f64 / secs, "events": events})
        }
        "snapshot" => {
            let engine = open_engine(&dir, Default::default(), false).await?;
            let seq = engine.snapshot().await?;
            engine.shutdown().await;
            json!({"snapshot": seq})
        }
        "robot" => {
            let drives: u16 = arg(args, 1, "drives")?;
            let ms: u64 = arg(args, 2, "duration ms")?;
            let mixed = args.get(3).is_some_and(|a| a == "mixed");
            robot(&dir, drives, ms, mixed).await?
        }
        "scale" => {
            let slots: u32 = arg(args, 1, "slots")?;
            let drives: u32 = arg(args, 2, "drives")?;
            scale(&dir, slots, drives).await?
        }
        other => return Err(Failure::Usage(format!("no bench case {other}"))),
    };
    out::json(&result)
}

/// The engine case's load with `subscribers` live subscriptions (every
/// type) reading along: commands/s, and how far behind the head each
/// subscriber was, in records, each time it got a record's notices.
async fn notify(dir: &Path, sessions: u32, pairs: u64, subscribers: usize) -> Result<Value, Failure> {
    let engine = open_engine(dir, Default::default(), true).await?;
    let clients = library_with_held_media(&engine, "bench", u16::try_from(sessions).unwrap_or(64), sessions).await?;
    let (stop_tx, stop) = tokio::sync::watch::channel(None::<u64>);
    let mut readers = Vec::new();
    for _ in 0..subscribers {
        let mut subscription = engine.subscribe(&[], Since::Now)?;
        let (engine, mut stop) = (engine.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            // Counts by lag (the last bucket: that far or further), so that
            // measuring allocates nothing while the load runs.
            let mut lag = vec![0u64; LAG_BUCKETS];
            let mut count = |records: u64| {
                lag[usize::try_from(records).unwrap_or(usize::MAX).min(LAG_BUCKETS - 1)] += 1;
            };
            {
                let stopped = stop.changed();
                tokio::pin!(stopped);
                loop {
                    let (seq, _) = tokio::select! {
                        biased;
                        next = subscription.next_record() => next?,
                        _ = &mut stopped => break,
                    };
                    count(engine.last_seq().saturating_sub(seq));
                }
            }
            // The rest, up to the head the load left.
            let head = (*stop.borrow()).unwrap_or(0);
            while let Some((seq, _)) = subscription.next_record_until(head).await? {
                count(head.saturating_sub(seq));
            }
            Ok::<_, NtmsError>(lag)
        }));
    }
    let secs = run_pairs(clients, pairs).await?;
    let _ = stop_tx.send(Some(engine.last_seq()));
    let mut lag = vec![0u64; LAG_BUCKETS];
    for r in readers {
        for (total, n) in lag.iter_mut().zip(r.await.map_err(|e| bench_failure("subscriber", e))??) {
            *total += n;
        }
    }
    // The smallest lag at or under which a share `p` of the samples fell.
    let quantile = |p: f64| {
        let samples: u64 = lag.iter().sum();
        let wanted = (samples as f64 * p).ceil() as u64;
        let mut seen = 0;
        lag.iter().position(|n| {
            seen += n;
            samples > 0 && seen >= wanted
        })
    };
    let cmds = 2 * pairs * u64::from(sessions);
    Ok(
        json!({"cmds_per_s": cmds as f64 / secs, "lag_p50_records": quantile(0.5), "lag_p99_records": quantile(0.99), "subscribers": subscribers}),
    )
}

fn envelope(seq: u64) -> Envelope {
    let id = |n: u128| uuid::Uuid::from_u128(n);
    let request = LibraryRequest {
        id: RequestId(id(u128::from(seq) << 64 | 1)),
        library: LibraryId(id(2)),
        kind: RequestKind::Mount,
        state: RequestState::Passed,
        phase: None,
        priority: 0,
        order: seq,
        drive: Some(DriveId(id(3))),
        media: MediaId(id(4)),
        slot: None,
        session: Some(SessionId(id(5))),
        submitter: "client-1".into(),
        write: false,
        origin: None,
        time_queued_ms: 1_700_000_000_000 + seq,
        time_completed_ms: Some(1_700_000_000_000 + seq),
        error: None,
        sense: None,
        port: None,
    };
    Envelope {
        seq,
        at_ms: 1_700_000_000_000 + seq,
        request: request.id,
        principal: "client-1".into(),
        node: 1,
        event: Event::MountSatisfiedInPlace { request },
    }
}

/// The ceiling: the same records, the same layout (one sled value per batch,
/// key = first sequence number), one flush per batch, no engine.
fn raw_append(dir: &Path, records: u64, batch: u64) -> Result<Value, Failure> {
    let db = rsm_log::raw::open_log_tree(dir).map_err(|e| bench_failure("sled", e))?;
    let batches: Vec<(u64, Vec<u8>)> = {
        let mut prev = rsm_log::GENESIS_HASH;
        let mut out = Vec::new();
        let mut seq = 1;
        while seq <= records {
            let n = batch.min(records - seq + 1);
            let envs: Vec<Envelope> = (seq..seq + n).map(envelope).collect();
            let (bytes, recs) = codec::encode_batch(&envs, prev).map_err(|e| bench_failure("encode", e))?;
            prev = recs.last().map(|r| r.hash).unwrap_or(prev);
            out.push((seq, bytes));
            seq += n;
        }
        out
    };
    let mut lat = Vec::with_capacity(batches.len());
    let started = Instant::now();
    for (seq, bytes) in batches {
        let t = Instant::now();
        db.insert(seq.to_be_bytes(), bytes).map_err(|e| bench_failure("insert", e))?;
        db.flush().map_err(|e| bench_failure("flush", e))?;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    Ok(json!({"records_per_s": records as f64 / secs, "p50_us": percentile(&lat, 0.5)}))
}

/// rsm's own log (`SledLog`) appending the same records, with or without
/// the head file's update (a write and an fdatasync per commit group): the
/// head's cost, side by side.
async fn log_append(dir: &Path, records: u64, batch: u64, head: bool) -> Result<Value, Failure> {
    use rsm_log::EventLog;
    let log = SledLog::open(dir).map_err(|e| bench_failure("log", e))?;
    let mut log = if head { log } else { log.without_head_updates() };
    let mut lat = Vec::with_capacity((records / batch) as usize + 1);
    let started = Instant::now();
    let mut seq = 1;
    while seq <= records {
        let n = batch.min(records - seq + 1);
        let envs: Vec<Envelope> = (seq..seq + n).map(envelope).collect();
        let t = Instant::now();
        log.append(&envs).await.map_err(|e| bench_failure("append", e))?;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        seq += n;
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    Ok(json!({"records_per_s": records as f64 / secs, "p50_us": percentile(&lat, 0.5)}))
}

/// What a vendor writes by hand: WAL, synchronous=FULL, a drive and a slot
/// row updated and an audit row inserted per command.
fn sqlite(dir: &Path, n: u64, per_txn: u64) -> rusqlite::Result<Value> {
    let _ = std::fs::create_dir_all(dir);
    let mut db = rusqlite::Connection::open(dir.join("vendor.db"))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "FULL")?;
    db.execute_batch(
        "CREATE TABLE drive (id INTEGER PRIMARY KEY, state INTEGER, barcode TEXT);
         CREATE TABLE slot (id INTEGER PRIMARY KEY, state INTEGER, barcode TEXT);
         CREATE TABLE audit (id INTEGER PRIMARY KEY, ts INTEGER, principal TEXT, op TEXT, drive INTEGER, slot INTEGER, barcode TEXT);",
    )?;
    {
        let tx = db.transaction()?;
        for i in 0..64 {
            tx.execute("INSERT INTO drive VALUES (?1, 0, NULL)", [i])?;
        }
        for i in 0..4_000 {
            tx.execute("INSERT INTO slot VALUES (?1, 1, ?2)", rusqlite::params![i, format!("A{i:05}L8")])?;
        }
        tx.commit()?;
    }
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let tx = db.transaction()?;
        for _ in 0..per_txn.min(n - done) {
            let drive = (done % 64) as i64;
            let slot = (done % 4_000) as i64;
            let barcode = format!("A{slot:05}L8");
            tx.prepare_cached("UPDATE drive SET state = ?1, barcode = ?2 WHERE id = ?3")?
                .execute(rusqlite::params![(done % 2) as i64 + 1, barcode, drive])?;
            tx.prepare_cached("UPDATE slot SET state = ?1, barcode = ?2 WHERE id = ?3")?.execute(rusqlite::params![
                (done % 2) as i64,
                barcode,
                slot
            ])?;
            tx.prepare_cached("INSERT INTO audit (ts, principal, op, drive, slot, barcode) VALUES (?1, 'client-1', 'mount', ?2, ?3, ?4)")?
                .execute(rusqlite::params![1_700_000_000_000i64 + done as i64, drive, slot, barcode])?;
            done += 1;
        }
        tx.commit()?;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(json!({"cmds_per_s": n as f64 / secs}))
}

/// A log of `n` events from a realistic workload, written through the same
/// core as the engine in batches of 4,096, without snapshots.
async fn build_log(dir: &Path, n: u64) -> Result<(), Failure> {
    let mut log = SledLog::open(&dir.join("log")).map_err(|e| bench_failure("log", e))?;
    let config = CoreConfig { policy: Policy::default(), node: 1, capacity_records: None, check_invariants: false };
    let mut core = Core::recover(&log, Arc::new(SystemClock), Box::new(SeededIds::new(7)), config).await?;
    let admin = core.accept(Command::OpenSession { principal: "admin".into(), application: String::new() })?;
    let admin = SessionId(admin.request.0);
    core.accept(Command::CreateLibrary { session: admin, spec: sim_spec("lib", "LIB", 64, 128, 1, 64) })?;
    rsm_engine::core::commit(&mut core, &mut log).await?;
    let (library, drives, media): (LibraryId, Vec<DriveId>, Vec<MediaId>) = {
        let s = core.state();
        let lib = s.library_named("lib").ok_or_else(|| Failure::Usage("no library".into()))?;
        (lib.id, lib.drives.clone(), lib.slots.iter().filter_map(|x| s.slots[x].content).take(64).collect())
    };
    for (d, m) in drives.iter().zip(&media) {
        core.accept(Command::MountMedia {
            session: admin,
            media: *m,
            options: MountOptions { drive: Some(*d), ..Default::default() },
        })?;
    }
    rsm_engine::core::commit(&mut core, &mut log).await?;
    // The robot: start, move, load each mount.
    loop {
        let started = core.accept(Command::StartNext { library })?;
        let Some(r) = rsm_engine_started(&started.events) else { break };
        core.accept(Command::AdvanceRequest { request: r })?;
        core.accept(Command::CompleteRequest { request: r })?;
    }
    rsm_engine::core::commit(&mut core, &mut log).await?;
    let mut i = 0usize;
    while log.next_seq() <= n {
        for _ in 0..4_096 {
            let m = media[i % media.len()];
            let command = if (i / media.len()).is_multiple_of(2) {
                Command::DismountMedia { session: admin, media: m, deferred: true }
            } else {
                Command::MountMedia { session: admin, media: m, options: MountOptions::default() }
            };
            core.accept(command)?;
            i += 1;
        }
        rsm_engine::core::commit(&mut core, &mut log).await?;
    }
    Ok(())
}

fn rsm_engine_started(events: &[Event]) -> Option<RequestId> {
    events.iter().find_map(|e| match e {
        Event::RequestStarted { request, .. } => Some(*request),
        _ => None,
    })
}

/// A saturating workload with realistic, time-scaled robot and drive times
/// (1 ms of the run stands for 100 ms of the library): robot trip 12 s,
/// load 15 s, unload 15 s, a cleaning 15 s. Utilisation is the time the
/// simulated robot spent moving, over the run. `mixed`: mounts of every
/// priority, and a drive asks to be cleaned every few exchanges (the
/// cleaner's trips are robot work too).
async fn robot(dir: &Path, drives: u16, ms: u64, mixed: bool) -> Result<Value, Failure> {
    const SCALE: f64 = 100.0;
    const TRIP_MS: u64 = 120;
    let timings = rsm_hardware::SimTimings { move_ms: TRIP_MS, load_ms: 150, unload_ms: 150, clean_ms: 150 };
    let provider = Arc::new(SimProvider::in_memory(timings));
    let engine = open_engine_with(dir, provider.clone(), true).await?;
    let admin = engine.open_session("admin").await?;
    let cartridges = u32::from(drives) * 3;
    let library = admin.create_library(sim_spec("robot", "ROBOT", drives, cartridges + 4, 1, cartridges)).await?;
    let media: Vec<MediaId> =
        engine.query(move |s| s.media.values().filter(|m| m.library == library).map(|m| m.id).collect()).await?;
    let sim = {
        let p = provider.clone();
        engine
            .query(move |s| p.simulator(s, &s.libraries[&library]))
            .await?
            .map_err(|e| bench_failure("simulator", e))?
    };
    let clients = u32::from(drives) * 2;
    let mut sessions = Vec::new();
    for c in 0..clients {
        let principal = format!("client-{c}");
        admin.grant(library, &principal, AccessMask::USE).await?;
        sessions.push(engine.open_session(&principal).await?);
    }
    if mixed {
        let (last, port) = engine
            .query(move |s| {
                let lib = &s.libraries[&library];
                (lib.slots[lib.slots.len() - 1], s.ports[&lib.ports[0]].element_address)
            })
            .await?;
        admin.reserve_cleaner_slot(library, last).await?;
        sim.operator_fill_port(port, "CLNROBOT").map_err(|e| bench_failure("cleaner", e))?;
        let handle = admin.inject_cleaner(library, CLEANER_USES_UNLIMITED).await?;
        if let Some(h) = handle {
            h.wait().await?;
        }
    }
    let drive_ids: Vec<DriveId> = engine.query(move |s| s.libraries[&library].drives.clone()).await?;
    let busy_before = sim.robot_busy();
    let started = Instant::now();
    let stop = started + Duration::from_millis(ms);
    let mut tasks = Vec::new();
    let cleanings_before = engine
        .query(|s| {
            s.requests.values().filter(|r| r.kind == RequestKind::Clean && r.state == RequestState::Passed).count()
        })
        .await?;
    if mixed {
        // A drive asks for cleaning about every twelve trips of the robot.
        let admin = admin.clone();
        let drive_ids = drive_ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < stop {
                tokio::time::sleep(Duration::from_millis(TRIP_MS * 12)).await;
                let _ = admin.clean_drive(drive_ids[n % drive_ids.len()]).await;
                n += 1;
            }
            (0, 0)
        }));
    }
    for (c, session) in sessions.into_iter().enumerate() {
        let media = media.clone();
        tasks.push(tokio::spawn(async move {
            let (mut robot_mounts, mut in_place) = (0u64, 0u64);
            let mut rng = c as u64 + 1;
            while Instant::now() < stop {
                rng = splitmix64(rng);
                // A few popular cartridges: some mounts find theirs still in a drive.
                let m = media[(rng % if rng.is_multiple_of(4) { 4 } else { media.len() as u64 }) as usize];
                let priority = if mixed { (rng % 31) as i8 - 15 } else { 0 };
                let Ok(h) = session.mount_media(m, MountOptions { priority, ..MountOptions::default() }).await else {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                };
                if h.finished_at_acceptance() {
                    in_place += 1;
                } else if h.wait().await.is_ok() {
                    // Only mounts finished within the measured period count.
                    robot_mounts += u64::from(Instant::now() <= stop);
                } else {
                    continue;
                }
                let deferred = rng.is_multiple_of(3);
                if let Ok(d) = session.dismount_media(m, deferred).await {
                    if !deferred {
                        let _ = d.wait().await;
                    }
                }
            }
            (robot_mounts, in_place)
        }));
    }
    tokio::time::sleep_until(tokio::time::Instant::from_std(stop)).await;
    let busy = sim.robot_busy().saturating_sub(busy_before);
    let saturated = started.elapsed();
    let (mut robot_mounts, mut in_place) = (0, 0);
    for t in tasks {
        let (a, b) = t.await.map_err(|e| bench_failure("client", e))?;
        robot_mounts += a;
        in_place += b;
    }
    let hours = saturated.as_secs_f64() * SCALE / 3600.0;
    let cleanings = engine
        .query(|s| {
            s.requests.values().filter(|r| r.kind == RequestKind::Clean && r.state == RequestState::Passed).count()
        })
        .await?
        .saturating_sub(cleanings_before);
    Ok(json!({
        "cleanings_per_hour": cleanings as f64 / hours,
        "robot_utilisation": busy.as_secs_f64() / saturated.as_secs_f64(),
        "mounts_per_hour": (robot_mounts + in_place) as f64 / hours,
        // One exchange per trip time: a mount and, later, its dismount each take one trip.
        "bound_per_hour": 3600.0 / (2.0 * TRIP_MS as f64 * SCALE / 1000.0),
        "in_place_share": in_place as f64 / (robot_mounts + in_place).max(1) as f64,
    }))
}

/// Many large libraries: creation time, memory per slot, and command latency at that size.
async fn scale(dir: &Path, slots: u32, drives: u32) -> Result<Value, Failure> {
    let libraries = if slots >= 64_000 { 64 } else { 1 };
    let per_lib_slots = slots / libraries;
    let per_lib_drives = u16::try_from((drives / libraries).max(1)).unwrap_or(u16::MAX);
    let before = rss_mib();
    let engine = open_engine(dir, Default::default(), true).await?;
    let admin = engine.open_session("admin").await?;
    let started = Instant::now();
    for l in 0..libraries {
        let spec =
            // A fixed-width library number before a letter: `BIG1` and `BIG11`
            // with five-digit numbers would share bar codes.
            sim_spec(&format!("big{l}"), &format!("B{l:02}X"), per_lib_drives, per_lib_slots, 1, per_lib_slots / 2);
        admin.create_library(spec).await?;
    }
    let create_s = started.elapsed().as_secs_f64();
    let after = rss_mib();
    let (media, drive) = engine
        .query(|s| {
            let lib = s.library_named("big0").expect("created above");
            (s.slots[&lib.slots[0]].content, lib.drives[0])
        })
        .await?;
    let media = media.ok_or_else(|| Failure::Usage("no cartridge".into()))?;
    admin.mount_media(media, MountOptions { drive: Some(drive), ..Default::default() }).await?.wait().await?;
    let mut lat = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        admin.dismount_media(media, true).await?;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        admin.mount_media(media, MountOptions::default()).await?;
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let total_slots = f64::from(per_lib_slots * libraries);
    let total_media = f64::from(per_lib_slots / 2 * libraries);
    // AllocateNtmsMedia drawing from the free pool of every cartridge, each
    // allocation given back at once so the pool never runs dry.
    let pool = admin.create_media_pool("Bench", Some(default_media_type()), PoolAction::CreateNew).await?;
    admin.set_pool_policy(pool, true, true, 0).await?;
    let mut alloc = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let lmid = admin.allocate_media(pool, None, AllocateOptions::default()).await?;
        alloc.push(t.elapsed().as_secs_f64() * 1e6);
        admin.deallocate_media(lmid).await?;
    }
    alloc.sort_by(|a, b| a.total_cmp(b));
    let resident = (after - before) * 1024.0 * 1024.0;
    Ok(json!({
        "create_s": create_s, "bytes_per_slot": resident / total_slots, "bytes_per_medium": resident / total_media,
        "p50_us": percentile(&lat, 0.5), "p99_us": percentile(&lat, 0.99),
        "alloc_p50_us": percentile(&alloc, 0.5), "alloc_p99_us": percentile(&alloc, 0.99),
        "slots": total_slots, "media": total_media,
    }))
}
