//! `rsm watch` end to end: what it prints (text and `--json`), filters,
//! resuming with `--from`, a closed pipe, SIGTERM; and the notices of
//! `rsm stress --watch` killed with SIGKILL at seeded moments and resumed
//! each time, which together are exactly what the log holds.

mod support;

use rsm::splitmix64;
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::Duration;
use support::Rsm;

/// A store with some history: a library, mounts and dismounts, an eject and inject.
fn with_history() -> Rsm {
    let rsm = Rsm::new();
    rsm.run(&["stress", "--sessions", "2", "--commands", "3", "--seed", "5"]).ok();
    rsm
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

/// (seq, operation, type, id) of a text line.
fn fields(line: &str) -> (u64, String, String, String) {
    let parts: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(parts.len(), 4, "a notice line: {line:?}");
    (parts[0].parse().expect("a sequence number"), parts[1].into(), parts[2].into(), parts[3].into())
}

#[test]
fn watch_until_idle_prints_the_log_filtered_resumed_and_as_json() {
    let rsm = with_history();
    let all = lines(&rsm.run(&["watch", "--from", "1", "--until-idle"]).ok().stdout);
    assert!(all.len() > 50, "a library's creation alone notifies its objects: {all:?}");
    let seqs: Vec<u64> = all.iter().map(|l| fields(l).0).collect();
    assert!(seqs.windows(2).all(|w| w[0] <= w[1]), "in log order");
    assert!(all.iter().any(|l| {
        let (_, op, ty, _) = fields(l);
        op == "complete" && ty == "request"
    }));

    // Filters: exactly the lines of their types.
    let drives = lines(&rsm.run(&["watch", "--from", "1", "--until-idle", "--types", "drive,media"]).ok().stdout);
    let want: Vec<String> =
        all.iter().filter(|l| ["drive", "media"].contains(&fields(l).2.as_str())).cloned().collect();
    assert!(!want.is_empty());
    assert_eq!(drives, want);
    let unknown = rsm.run(&["watch", "--until-idle", "--types", "tape"]);
    assert_eq!(unknown.code, 1, "a usage error; stderr: {}", unknown.stderr);
    assert!(unknown.stderr.contains("--types"), "{}", unknown.stderr);

    // --from: the suffix from that record on.
    let middle = seqs[seqs.len() / 2];
    let suffix = lines(&rsm.run(&["watch", "--from", &middle.to_string(), "--until-idle"]).ok().stdout);
    let want: Vec<String> = all.iter().filter(|l| fields(l).0 >= middle).cloned().collect();
    assert_eq!(suffix, want);

    // --json: one document per line, the same notices.
    let json = rsm.run(&["--json", "watch", "--from", "1", "--until-idle"]).ok().stdout;
    let docs: Vec<serde_json::Value> =
        json.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(docs.len(), all.len());
    for (doc, line) in docs.iter().zip(&all) {
        let (seq, op, ty, id) = fields(line);
        assert_eq!(doc["seq"], seq);
        assert_eq!(
            (doc["operation"].as_str(), doc["type"].as_str(), doc["id"].as_str()),
            (Some(&*op), Some(&*ty), Some(&*id))
        );
        assert!(doc["ntms_operation"].as_str().is_some_and(|o| o.starts_with("NTMS_")), "{doc}");
    }

    // --count: at least the first notices, to the end of their record, then it exits.
    let first = lines(&rsm.run(&["watch", "--from", "1", "--count", "3"]).ok().stdout);
    assert!(first.len() >= 3 && all.starts_with(&first), "{first:?}");

    // Beyond the head + 1: refused, naming the head.
    let head = seqs.last().copied().unwrap_or(0) + 1_000;
    rsm.run(&["watch", "--from", &head.to_string(), "--until-idle"]).rejected("ERROR_INVALID_PARAMETER", 87);
}

/// `rsm watch --from 1 --until-idle | head -1`: the reader closes the pipe
/// after one line; rsm ends quietly, without a panic.
#[test]
fn a_closed_pipe_ends_the_watch_quietly() {
    let rsm = with_history();
    let mut child = rsm
        .command(&["watch", "--from", "1", "--until-idle"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rsm watch starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("one line");
    assert!(first.contains("insert"), "{first}");
    drop(stdout);
    let status = child.wait().expect("rsm watch ends");
    let mut stderr = String::new();
    child.stderr.take().expect("piped stderr").read_to_string(&mut stderr).expect("stderr");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Regression (found by a hostile run): `rsm watch --from 1 | head -1`
/// with nothing more to print never learnt its reader was gone, and held
/// the store until killed. It ends by itself, and the store is free again.
#[test]
fn a_live_watch_whose_reader_is_gone_ends_and_frees_the_store() {
    let rsm = with_history();
    let mut child = rsm
        .command(&["watch", "--from", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("rsm watch starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("one line");
    drop(stdout);
    let status = child.wait().expect("rsm watch ends by itself");
    assert_eq!(status.code(), Some(0));
    rsm.run(&["show", "libraries"]).ok();
}

/// Regression (found by a hostile run): `--count` cut a record's notices,
/// so `--from` could not resume without a gap or a repeat. It ends at a
/// record's end: resuming at the next sequence continues exactly.
#[test]
fn count_ends_at_a_record_boundary() {
    let rsm = with_history();
    // Each watch owns the store and works its queue, so the log may grow
    // between runs: the whole log is read last, and what the two runs
    // printed must be exactly its beginning.
    let first = lines(&rsm.run(&["watch", "--from", "1", "--count", "1"]).ok().stdout);
    let last = fields(first.last().expect("a notice")).0;
    assert!(first.iter().all(|l| fields(l).0 == last), "one whole record: {first:?}");
    let rest = lines(&rsm.run(&["watch", "--from", &(last + 1).to_string(), "--until-idle"]).ok().stdout);
    let all = lines(&rsm.run(&["watch", "--from", "1", "--until-idle"]).ok().stdout);
    let seen = [first, rest].concat();
    assert!(all.starts_with(&seen), "no gap, no repeat: {seen:?} against {all:?}");
}

/// A live watch prints what commits while it runs and stops cleanly on SIGTERM.
#[test]
fn a_live_watch_prints_new_notices_and_stops_on_sigterm() {
    let rsm = with_history();
    let mut child = rsm
        .command(&["watch", "--types", "library"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rsm watch starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut said = String::new();
    stderr.read_line(&mut said).expect("rsm watch says it is watching");
    assert!(said.contains("watching"), "{said}");
    // The store is the watch's: another process cannot open it meanwhile.
    let busy = rsm.run(&["show", "libraries"]);
    assert_ne!(busy.code, 0, "the store is in use by the watch");
    let sent = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    assert!(sent.expect("kill runs").success());
    let status = child.wait().expect("rsm watch ends");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).expect("stderr");
    assert_eq!(status.code(), Some(0), "{said}{rest}");
    assert!(rest.contains("SIGTERM"), "{rest}");
    // Printed live: a description set through the engine it owns would show; here: nothing new, and no panic.
    let mut out = String::new();
    child.stdout.take().expect("piped stdout").read_to_string(&mut out).expect("stdout");
    assert!(out.lines().all(|l| fields(l).2 == "library"), "{out}");
}

/// Complete lines of `bytes`, as (seq, line without the `notice ` prefix),
/// and the `ack` count.
fn notices_of(bytes: &[u8]) -> Vec<(u64, String)> {
    let text = String::from_utf8_lossy(bytes);
    let complete = match text.rfind('\n') {
        Some(end) => &text[..=end],
        None => "",
    };
    complete.lines().filter_map(|l| l.strip_prefix("notice ")).map(|l| (fields(l).0, l.to_owned())).collect()
}

/// `rsm stress --watch` killed with SIGKILL at seeded moments, restarted
/// each time from the first record it may not have printed whole: the
/// notices seen, concatenated, are exactly what `rsm watch --from 1
/// --until-idle` prints of those records: no gap, no duplicate, in order.
#[test]
fn stress_watch_killed_and_resumed_sees_every_notice_exactly_once() {
    const KILLS: u64 = 16;
    let rsm = Rsm::new();
    let mut seen: Vec<(u64, String)> = Vec::new();
    let mut rng = 0x0B5E_55ED_u64;
    for round in 0..=KILLS {
        rng = splitmix64(rng);
        // The kill may have cut the last record's notices short (the last
        // record printed may be partial): it is printed again, whole.
        let resume = match seen.last() {
            Some(&(last, _)) => {
                seen.retain(|(seq, _)| *seq < last);
                last
            }
            None => 1,
        };
        let mut args = vec!["stress", "--sessions", "3", "--seed"];
        let seed = rng.to_string();
        let from = resume.to_string();
        args.extend([seed.as_str(), "--watch", "--watch-from", from.as_str()]);
        if round == KILLS {
            args.extend(["--commands", "2"]);
        }
        let mut child =
            rsm.command(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("rsm stress starts");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stdout.read_to_end(&mut bytes);
            bytes
        });
        if round < KILLS {
            let wait_ms = if round == 0 { 40 } else { 50 + rng % 400 };
            std::thread::sleep(Duration::from_millis(wait_ms));
            child.kill().expect("SIGKILL the child");
        }
        let status = child.wait().expect("reap the child");
        let printed = notices_of(&reader.join().expect("the reader ends with the pipe"));
        if round == KILLS {
            assert_eq!(status.code(), Some(0), "the last round ends by itself");
        }
        eprintln!("round {round}: from record {resume}, {} notices, {status:?}", printed.len());
        if let Some(&(first, _)) = printed.first() {
            assert!(first >= resume, "round {round} printed record {first} from {resume} on (seed {rng})");
        }
        seen.extend(printed);
    }
    let last = seen.last().expect("notices were seen").0;
    let all = lines(&rsm.run(&["watch", "--from", "1", "--until-idle"]).ok().stdout);
    let expected: Vec<&str> = all.iter().filter(|l| fields(l).0 <= last).map(String::as_str).collect();
    let got: Vec<&str> = seen.iter().map(|(_, l)| l.as_str()).collect();
    if got != expected {
        let at = got.iter().zip(&expected).position(|(a, b)| a != b).unwrap_or(got.len().min(expected.len()));
        panic!(
            "the notices seen differ from the log's at line {at} (seen {}, log {}): seen {:?}, log {:?}",
            got.len(),
            expected.len(),
            got.get(at),
            expected.get(at)
        );
    }
    assert!(last > 50, "the load ran: {last} records");
}
