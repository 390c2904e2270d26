//! End-to-end tests of the `rsm` command: every subcommand, run as a real
//! process in a fresh data directory, with `--json` output compared.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};

struct Rsm {
    dir: tempfile::TempDir,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "stdout: {}\nstderr: {}", self.stdout, self.stderr);
        self
    }
    /// A rejection: exit 2, `NAME (code): sentence` on stderr.
    fn rejected(self, name: &str, code: u32) -> Self {
        assert_eq!(self.code, 2, "expected {name}; stdout: {}\nstderr: {}", self.stdout, self.stderr);
        assert!(self.stderr.starts_with(&format!("{name} ({code}): ")), "stderr: {}", self.stderr);
        self
    }
}

impl Rsm {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn data(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, user: &str, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rsm"));
        command.arg("--data").arg(self.data().join("data")).args(["--user", user]).args(args);
        command
    }

    fn finish(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run_as(&self, user: &str, args: &[&str]) -> Run {
        Self::finish(self.command(user, args).output().expect("the rsm binary runs"))
    }

    /// Runs with stdout a pipe whose reader is gone before anything is written.
    fn run_into_closed_pipe(&self, args: &[&str]) -> Run {
        let mut child = self
            .command("admin", args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the rsm binary runs");
        drop(child.stdout.take());
        Self::finish(child.wait_with_output().expect("rsm ends"))
    }

    /// Runs with stdout on /dev/full: every write fails with ENOSPC.
    fn run_into_full_disk(&self, args: &[&str]) -> Run {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        Self::finish(self.command("admin", args).stdout(full).output().expect("the rsm binary runs"))
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_as("admin", args)
    }

    fn with_library(self) -> Self {
        self.run(&[
            "library",
            "create-sim",
            "lib1",
            "--drives",
            "2",
            "--slots",
            "6",
            "--ie-ports",
            "1",
            "--media",
            "4",
        ])
        .ok();
        self
    }

    fn drive(&self, name: &str) -> Value {
        let drives = self.run(&["--json", "show", "drives"]).ok().json();
        drives.as_array().expect("array").iter().find(|d| d["name"] == name).cloned().expect("drive listed")
    }
}

#[test]
fn create_sim_and_show_every_view_with_stable_fields() {
    let rsm = Rsm::new().with_library();
    let libs = rsm.run(&["--json", "show", "libraries"]).ok().json();
    let lib = &libs[0];
    assert_eq!(
        (lib["name"].as_str(), lib["kind"].as_str(), lib["drives"].as_u64()),
        (Some("lib1"), Some("changer"), Some(2))
    );
    assert_eq!((lib["slots"].as_u64(), lib["ports"].as_u64(), lib["media"].as_u64()), (Some(6), Some(1), Some(4)));
    assert_eq!(lib["access"]["admin"], serde_json::json!(["use", "modify", "control"]), "the creator gets control");
    assert!(lib["id"].as_str().is_some_and(|id| id.len() == 36));
    let drives = rsm.run(&["--json", "show", "drives", "--library", "lib1"]).ok().json();
    assert_eq!(drives.as_array().unwrap().len(), 2);
    assert_eq!(drives[0]["state"], "dismounted");
    assert_eq!(drives[0]["ntms_state"], 0);
    let slots = rsm.run(&["--json", "show", "slots"]).ok().json();
    assert_eq!(slots[0]["name"], "lib1-slot-1");
    assert_eq!(slots[0]["state"], "full");
    assert_eq!(slots[0]["barcode"], "LIB10001L8");
    assert_eq!(slots[5]["state"], "empty");
    let media = rsm.run(&["--json", "show", "media"]).ok().json();
    assert_eq!(media.as_array().unwrap().len(), 4);
    assert!(media.as_array().unwrap().iter().all(|m| m["location"] == "slot" && m["state"] == "idle"));
    assert_eq!(rsm.run(&["--json", "show", "queue"]).ok().json(), serde_json::json!([]));
    let table = rsm.run(&["show", "drives"]).ok().stdout;
    assert!(table.starts_with("NAME") && table.contains("lib1-drive-2"), "{table}");
}

#[test]
fn mount_wait_then_dismount_drive_is_refused_for_opened_media_then_succeeds() {
    let rsm = Rsm::new().with_library();
    let mounted = rsm.run(&["--json", "mount", "LIB10001L8", "--drive", "lib1-drive-1", "--wait"]).ok().json();
    assert_eq!(mounted["state"], "completed");
    assert!(mounted["request"].as_str().is_some());
    let d = rsm.drive("lib1-drive-1");
    assert_eq!(
        (d["state"].as_str(), d["barcode"].as_str(), d["holder"].as_str()),
        (Some("loaded"), Some("LIB10001L8"), Some("admin"))
    );
    rsm.run(&["dismount-drive", "lib1-drive-1"]).rejected("ERROR_INVALID_STATE", 5023);
    let refused = rsm.run(&["--json", "dismount-drive", "lib1-drive-1"]).rejected("ERROR_INVALID_STATE", 5023).json();
    assert_eq!((refused["error"].as_str(), refused["code"].as_u64()), (Some("ERROR_INVALID_STATE"), Some(5023)));
    assert!(refused["message"].as_str().unwrap().contains("opened"));
    rsm.run(&["dismount-media", "LIB10001L8", "--deferred"]).ok();
    assert_eq!(rsm.drive("lib1-drive-1")["state"], "dismountable");
    let queued = rsm.run(&["--json", "dismount-drive", "lib1-drive-1"]).ok().json();
    assert_eq!(queued["state"], "queued");
    let queue = rsm.run(&["--json", "show", "queue"]).ok().json();
    assert_eq!(queue.as_array().unwrap().last().unwrap()["kind"], "dismount");
    // The queued request survives this process; `run` carries it out.
    let settled = rsm.run(&["run", "--until-idle"]).ok();
    assert!(settled.stdout.starts_with("1 request settled;"), "{}", settled.stdout);
    let d = rsm.drive("lib1-drive-1");
    assert_eq!((d["state"].as_str(), d["barcode"].as_str()), (Some("dismounted"), None));
    let media = rsm.run(&["--json", "show", "media"]).ok().json();
    let m = media.as_array().unwrap().iter().find(|m| m["barcode"] == "LIB10001L8").unwrap().clone();
    assert_eq!((m["location"].as_str(), m["at"].as_str()), (Some("slot"), Some("lib1-slot-1")));
    let queue = rsm.run(&["--json", "show", "queue"]).ok().json();
    assert!(queue.as_array().unwrap().iter().all(|r| r["state"] == "completed"));
}

#[test]
fn dismount_drive_error_rows_from_the_command_line() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["dismount-drive", "lib1-drive-2"]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["dismount-drive", "no-such-drive"]).rejected("ERROR_INVALID_DRIVE", 15);
    rsm.run(&["dismount-drive", "00000000-0000-0000-0000-00000000002a"]).rejected("ERROR_INVALID_DRIVE", 15);
    rsm.run(&["mount", "LIB10002L8", "--drive", "lib1-drive-2", "--wait"]).ok();
    rsm.run(&["dismount-media", "LIB10002L8", "--deferred"]).ok();
    // Access: another user has no modify right.
    rsm.run_as("bob", &["dismount-drive", "lib1-drive-2"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["access", "grant", "bob", "use", "--library", "lib1"]).ok();
    rsm.run_as("bob", &["dismount-drive", "lib1-drive-2"]).rejected("ERROR_ACCESS_DENIED", 5);
    // The Windows XP switch asks for control instead.
    rsm.run(&["access", "grant", "bob", "modify", "--library", "lib1"]).ok();
    rsm.run_as("bob", &["--xp-access-rule", "dismount-drive", "lib1-drive-2"]).rejected("ERROR_ACCESS_DENIED", 5);
    // Disabled drive or library. A drive disabled with a cartridge nobody
    // holds is emptied (a dismount is queued for it).
    rsm.run(&["disable", "drive", "lib1-drive-2"]).ok();
    rsm.run_as("bob", &["dismount-drive", "lib1-drive-2"]).rejected("ERROR_DEVICE_NOT_AVAILABLE", 4319);
    rsm.run(&["run", "--until-idle"]).ok();
    assert!(rsm.drive("lib1-drive-2")["barcode"].is_null(), "emptied");
    rsm.run(&["enable", "drive", "lib1-drive-2"]).ok();
    rsm.run(&["mount", "LIB10002L8", "--drive", "lib1-drive-2", "--wait"]).ok();
    rsm.run(&["dismount-media", "LIB10002L8", "--deferred"]).ok();
    rsm.run(&["disable", "library", "lib1"]).ok();
    rsm.run(&["dismount-drive", "lib1-drive-2"]).rejected("ERROR_DEVICE_NOT_AVAILABLE", 4319);
    rsm.run(&["enable", "library", "lib1"]).ok();
    rsm.run(&["enable", "library", "lib1"]).rejected("ERROR_INVALID_STATE", 5023);
    // A full queue, then a full log.
    rsm.run(&["mount", "LIB10001L8"]).ok();
    rsm.run(&["--queue-max", "1", "dismount-drive", "lib1-drive-2"]).rejected("ERROR_NOT_ENOUGH_MEMORY", 8);
    rsm.run(&["--log-capacity", "5", "dismount-drive", "lib1-drive-2"]).rejected("ERROR_DATABASE_FULL", 4314);
    let done = rsm.run_as("bob", &["--json", "dismount-drive", "lib1-drive-2", "--wait"]).ok().json();
    assert_eq!(done["state"], "completed");
    rsm.run(&["access", "revoke", "bob", "modify", "--library", "lib1"]).ok();
    let libs = rsm.run(&["--json", "show", "libraries"]).ok().json();
    assert_eq!(libs[0]["access"]["bob"], serde_json::json!(["use"]));
}

#[test]
fn mount_error_codes_from_the_command_line() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["library", "create-sim", "lib2", "--drives", "1", "--slots", "2", "--media", "1"]).ok();
    rsm.run(&["mount", "NOPE"]).rejected("ERROR_INVALID_MEDIA", 4300);
    rsm.run(&["mount", "LIB10001L8", "--drive", "lib2-drive-1"]).rejected("ERROR_DRIVE_MEDIA_MISMATCH", 4303);
    assert_eq!(rsm.run(&["mount", "LIB10001L8", "--priority", "99"]).code, 1, "out of range: a usage error");
    rsm.run(&["mount", "LIB10001L8", "--drive", "lib1-drive-1"]).ok();
    rsm.run(&["mount", "LIB10002L8", "--drive", "lib1-drive-1", "--no-wait-if-busy"]).rejected("ERROR_BUSY", 170);
    rsm.run(&["disable", "media", "LIB10003L8"]).ok();
    rsm.run(&["mount", "LIB10003L8"]).rejected("ERROR_RESOURCE_DISABLED", 4309);
    rsm.run_as("eve", &["mount", "LIB10004L8"]).rejected("ERROR_ACCESS_DENIED", 5);
}

#[test]
fn a_robot_fault_fails_the_request_with_its_sense_data() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["sim", "fail", "robot", "--library", "lib1"]).ok();
    let failed = rsm.run(&["--json", "mount", "LIB10001L8", "--wait"]).rejected("ERROR_MEDIUM_NOT_ACCESSIBLE", 4323);
    assert!(failed.stderr.contains("04/15/01"), "{}", failed.stderr);
    let queue = rsm.run(&["--json", "show", "queue"]).ok().json();
    assert_eq!((queue[0]["state"].as_str(), queue[0]["sense"].as_str()), (Some("failed"), Some("04/15/01")));
    rsm.run(&["mount", "LIB10001L8", "--wait"]).ok();
    rsm.run(&["sim", "fail", "unload", "--drive", "lib1-drive-1"]).ok();
    rsm.run(&["dismount-media", "LIB10001L8", "--wait"]).rejected("ERROR_UNABLE_TO_LOAD_MEDIUM", 4324);
    assert_eq!(rsm.drive("lib1-drive-1")["state"], "dismountable");
    rsm.run(&["dismount-drive", "lib1-drive-1", "--wait"]).ok();
    rsm.run(&["sim", "fail", "load"]).code.eq(&1).then_some(()).expect("a load fault needs --drive: usage error");
}

#[test]
fn a_standalone_drive_and_the_operator() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "desk", "--standalone", "--media", "2"]).ok();
    rsm.run(&["mount", "DESK0001L8"]).rejected("ERROR_MEDIA_OFFLINE", 4304);
    rsm.run(&["dismount-drive", "desk-drive-1"]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["sim", "insert", "desk-drive-1", "DESK0001L8"]).ok();
    rsm.run(&["sim", "insert", "desk-drive-1", "DESK0002L8"]).rejected("ERROR_RESOURCE_NOT_AVAILABLE", 5006);
    let m = rsm.run(&["--json", "mount", "DESK0001L8"]).ok().json();
    assert_eq!(m["state"], "completed", "a cartridge already in the drive mounts in place");
    rsm.run(&["sim", "remove", "desk-drive-1"]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["dismount-drive", "desk-drive-1"]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["dismount-media", "DESK0001L8", "--deferred"]).ok();
    let d = rsm.run(&["--json", "dismount-drive", "desk-drive-1"]).ok().json();
    assert_eq!(d["state"], "completed", "recorded for the audit and passed at once");
    assert_eq!(rsm.drive("desk-drive-1")["state"], "dismountable");
    rsm.run(&["sim", "remove", "desk-drive-1"]).ok();
    assert_eq!(rsm.drive("desk-drive-1")["state"], "dismounted");
    let media = rsm.run(&["--json", "show", "media"]).ok().json();
    assert!(media.as_array().unwrap().iter().all(|m| m["location"] == "offline"));
}

#[test]
fn logout_turns_holds_into_deferred_dismounts() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["mount", "LIB10001L8", "--wait"]).ok();
    rsm.run(&["logout"]).ok();
    assert_eq!(rsm.drive("lib1-drive-1")["state"], "dismountable");
    rsm.run(&["dismount-drive", "lib1-drive-1", "--wait"]).ok();
}

#[test]
fn library_delete_needs_a_disabled_library() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["library", "delete", "lib1"]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["disable", "library", "lib1"]).ok();
    rsm.run(&["library", "delete", "lib1"]).ok();
    assert_eq!(rsm.run(&["--json", "show", "libraries"]).ok().json(), serde_json::json!([]));
    rsm.run(&["dismount-drive", "lib1-drive-1"]).rejected("ERROR_INVALID_DRIVE", 15);
}

#[test]
fn replay_verify_rebuilds_the_same_views() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["mount", "LIB10001L8", "--wait"]).ok();
    rsm.run(&["mount", "LIB10002L8"]).ok();
    rsm.run(&["snapshot"]).ok();
    rsm.run(&["dismount-media", "LIB10001L8"]).ok();
    let report = rsm.run(&["--json", "replay", "--verify"]).ok().json();
    assert_eq!(report["ok"], true);
    assert!(report["records"].as_u64().unwrap() >= 5);
    assert!(report["snapshot_seq"].as_u64().unwrap() > 0);
    let human = rsm.run(&["replay"]).ok().stdout;
    assert!(human.contains("identical"), "{human}");
}

#[test]
fn a_second_process_on_a_busy_data_directory_gets_a_clear_error() {
    let rsm = Rsm::new().with_library();
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_rsm"))
        .arg("--data")
        .arg(rsm.data().join("data"))
        .arg("run")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rsm run starts");
    // Wait until the daemon holds the directory (it says so on stderr).
    let mut stderr = std::io::BufReader::new(daemon.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    assert!(line.contains("workers running"), "{line}");
    let busy = rsm.run(&["show", "drives"]).rejected("ERROR_DATABASE_FAILURE", 4313);
    assert!(busy.stderr.contains("in use by another rsm process"), "{}", busy.stderr);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    rsm.run(&["show", "drives"]).ok();
    rsm.run(&["replay", "--verify"]).ok();
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let rsm = Rsm::new();
    assert_eq!(rsm.run(&["frobnicate"]).code, 1);
    assert_eq!(rsm.run(&["mount"]).code, 1);
    assert_eq!(rsm.run(&["show", "everything"]).code, 1);
    assert_eq!(rsm.run(&["--help"]).code, 0);
}

#[test]
fn the_demo_runs_and_proves_its_replay() {
    let rsm = Rsm::new();
    let demo = rsm.run(&["demo"]).ok();
    assert!(demo.stdout.contains("ERROR_INVALID_STATE (5023)"), "{}", demo.stdout);
    assert!(demo.stdout.contains("views identical"), "{}", demo.stdout);
    assert!(demo.stdout.contains("NEWDEMO1 now in demo-slot-"), "the inject: {}", demo.stdout);
    let json = rsm.run(&["--json", "demo"]).ok().json();
    assert_eq!(json["replay_identical"], true);
}

#[test]
fn metrics_in_prometheus_text_after_a_run() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["mount", "LIB10001L8"]).ok();
    rsm.run(&["mount", "LIB10001L8"]).rejected("ERROR_BUSY", 170);
    rsm.run(&["run", "--until-idle"]).ok();
    let text = rsm.run(&["metrics"]).ok().stdout;
    for needle in [
        "rsm_commands_accepted_total{command=\"complete_request\"} 1",
        "# TYPE rsm_flush_seconds summary",
        "rsm_append_batch_records_count",
        "rsm_request_seconds_count{kind=\"mount\"} 1",
        "rsm_replay_seconds_count",
        "rsm_queue_depth{library=\"lib1\"} 0",
        "rsm_drives_loaded{library=\"lib1\"} 1",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

#[test]
fn a_closed_stdout_ends_the_output_quietly() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "big", "--slots", "64000", "--media", "64000"]).ok();
    for args in [&["show", "media"][..], &["--json", "show", "media"], &["replay"], &["metrics"], &["demo"]] {
        let run = rsm.run_into_closed_pipe(args);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{args:?}");
    }
}

#[test]
fn a_full_stdout_is_an_error_not_a_panic() {
    let rsm = Rsm::new().with_library();
    let run = rsm.run_into_full_disk(&["mount", "LIB10001L8", "--wait"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stderr.contains("cannot write to standard output: No space left on device"), "{}", run.stderr);
    // The mount itself was carried out: only its report was lost.
    assert_eq!(rsm.drive("lib1-drive-1")["barcode"], "LIB10001L8");
    for args in [&["show", "media"][..], &["--json", "replay"], &["--help"], &["demo"]] {
        let run = rsm.run_into_full_disk(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("No space left on device") && !run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[test]
fn principal_names_with_control_characters_are_refused() {
    let rsm = Rsm::new().with_library();
    for evil in ["ev\nil", "ev\u{1b}[31mil", "ev il", "ev\u{202e}li", "ev\u{200b}il", "", &"x".repeat(64)] {
        rsm.run_as(evil, &["mount", "LIB10001L8"]).rejected("ERROR_INVALID_PARAMETER", 87);
        rsm.run_as(evil, &["show", "drives"]).rejected("ERROR_INVALID_PARAMETER", 87);
        rsm.run(&["access", "grant", evil, "use", "--library", "lib1"]).rejected("ERROR_INVALID_PARAMETER", 87);
    }
    rsm.run_as(&"x".repeat(63), &["show", "drives"]).ok();
    // The same rule as object names.
    rsm.run(&["library", "create-sim", "ev\u{202e}il"]).rejected("ERROR_INVALID_PARAMETER", 87);
    let libs = rsm.run(&["--json", "show", "libraries"]).ok().json();
    assert_eq!(libs[0]["access"].as_object().map(|a| a.len()), Some(1), "{libs}");
    assert_eq!(rsm.run(&["--json", "show", "queue"]).ok().json(), serde_json::json!([]));
}

/// No byte that steers a terminal: only printable text and line ends.
fn printable(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && c != '\n' || ('\u{202a}'..='\u{202e}').contains(&c))
}

#[test]
fn text_from_outside_is_escaped_in_human_output() {
    let rsm = Rsm::new().with_library();
    let evil = "A\u{1b}[2J\u{202e}\r\nB";
    let refused = rsm.run(&["mount", evil]).rejected("ERROR_INVALID_MEDIA", 4300);
    assert!(printable(&refused.stderr) && refused.stderr.contains("A\\u{1b}[2J\\u{202e}\\r\\nB"), "{}", refused.stderr);
    let refused = rsm.run(&["show", "drives", "--library", evil]).rejected("ERROR_INVALID_LIBRARY", 4301);
    assert!(printable(&refused.stderr), "{}", refused.stderr);
    let refused = rsm.run(&["sim", "fill-port", "lib1-port-1", evil]);
    assert!(refused.code != 0 && printable(&refused.stderr), "{}", refused.stderr);
    let refused = rsm.run(&["disable", "drive", evil]).rejected("ERROR_INVALID_DRIVE", 15);
    assert!(printable(&refused.stderr), "{}", refused.stderr);
    // JSON keeps the text as it is, escaped by JSON's own rules.
    let json = rsm.run(&["--json", "mount", evil]).rejected("ERROR_INVALID_MEDIA", 4300).json();
    assert!(json["message"].as_str().unwrap().ends_with(evil), "{json}");
}

#[test]
fn a_library_name_with_quotes_keeps_the_metrics_parseable() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", r#"lib"1"#, "--media", "1"]).ok();
    let text = rsm.run(&["metrics"]).ok().stdout;
    assert!(text.contains(r#"rsm_queue_depth{library="lib\"1"} 0"#), "{text}");
    // Backslashes belong to pool paths, never to an object's name.
    rsm.run(&["library", "create-sim", r#"lib\2"#, "--media", "1"]).rejected("ERROR_INVALID_PARAMETER", 87);
}

#[test]
fn json_output_is_one_document_per_invocation() {
    let rsm = Rsm::new().with_library();
    let one = |args: &[&str], code: i32| {
        let run = rsm.run(&[&["--json"], args].concat());
        assert_eq!(run.code, code, "{args:?}: {}{}", run.stdout, run.stderr);
        run.json()
    };
    // Usage errors, from clap and from rsm itself.
    for args in [&["show", "no-such-view"][..], &["frobnicate"], &["mount"], &["sim", "fail", "load"]] {
        let usage = one(args, 1);
        assert_eq!(usage["error"], "usage", "{args:?}: {usage}");
        assert!(usage["message"].as_str().is_some_and(|m| !m.is_empty()), "{usage}");
    }
    // An unknown port is not a usage error: the object is not found.
    let missing = one(&["sim", "fill-port", "no-such-port", "X00001L8"], 2);
    assert_eq!(missing["error"], "ERROR_OBJECT_NOT_FOUND", "{missing}");
    // The simulator's commands.
    assert_eq!(one(&["sim", "fail", "robot", "--library", "lib1"], 0)["ok"], true);
    assert_eq!(one(&["sim", "fill-port", "lib1-port-1", "NEW0001L8"], 0)["ok"], true);
    // A request that fails while waited for: one document, the error with its request.
    let failed = one(&["mount", "LIB10001L8", "--wait"], 2);
    assert_eq!((failed["error"].as_str(), failed["code"].as_u64()), (Some("ERROR_MEDIUM_NOT_ACCESSIBLE"), Some(4323)));
    assert_eq!((failed["state"].as_str(), failed["detail"]["sense"].as_str()), (Some("failed"), Some("04/15/01")));
    assert!(failed["request"].as_str().is_some(), "{failed}");
    rsm.run(&["sim", "fail", "robot", "--library", "lib1"]).ok();
    let failed = one(&["inject", "lib1", "--wait"], 2);
    assert_eq!(failed["error"], "ERROR_MEDIUM_NOT_ACCESSIBLE", "{failed}");
    assert_eq!(failed["requests"][0]["state"], "failed", "{failed}");
    // Rejections, metrics and the rest.
    assert_eq!(one(&["mount", "NOPE"], 2)["code"], 4300);
    let metrics = one(&["metrics"], 0);
    assert!(metrics["metrics"].as_array().is_some_and(|m| m.iter().any(|f| f["name"] == "rsm_queue_depth")));
    assert_eq!(one(&["replay"], 0)["ok"], true);
    assert_eq!(one(&["demo"], 0)["replay_identical"], true);
}

#[test]
fn command_line_ranges_come_from_the_model_limits() {
    let rsm = Rsm::new();
    for (args, range) in [
        (&["library", "create-sim", "x", "--drives", "500"][..], "1..=499"),
        (&["library", "create-sim", "x", "--drives", "0"], "1..=499"),
        (&["library", "create-sim", "x", "--ie-ports", "490"], "0..=489"),
        (&["library", "create-sim", "x", "--slots", "64001"], "0..=64000"),
        (&["library", "create-sim", "x", "--media", "64001"], "0..=64000"),
        (&["mount", "X", "--priority", "16"], "-15..=15"),
        (&["mount", "X", "--priority", "-16"], "-15..=15"),
        (&["mount", "X", "--priority", "127"], "-15..=15"),
        (&["--sim-step-ms", "18446744073709551615", "run", "--until-idle"], "0..=600000"),
    ] {
        let run = rsm.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(range), "{args:?}: {}", run.stderr);
    }
    rsm.run(&[
        "library",
        "create-sim",
        "big",
        "--drives",
        "499",
        "--ie-ports",
        "489",
        "--slots",
        "600",
        "--media",
        "2",
    ])
    .ok();
    rsm.run(&["mount", "BIG0001L8", "--priority", "15"]).ok();
    rsm.run(&["mount", "BIG0002L8", "--priority", "-15"]).ok();
}

#[test]
fn create_sim_bar_codes_never_collide_with_the_store() {
    let rsm = Rsm::new();
    let long = "a".repeat(63);
    for name in ["zp", "Zp", "lib_1", "lib-1", long.as_str(), "__"] {
        rsm.run(&["library", "create-sim", name]).ok();
    }
    let media = rsm.run(&["--json", "show", "media"]).ok().json();
    let of = |library: &str| -> Vec<String> {
        let mut codes: Vec<String> = media
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["library"] == library)
            .map(|m| m["barcode"].as_str().unwrap().to_owned())
            .collect();
        codes.sort();
        codes
    };
    assert_eq!(of("zp")[0], "ZP0001L8");
    assert_eq!(of("Zp")[0], "ZPB0001L8");
    assert_eq!((of("lib_1")[0].as_str(), of("lib-1")[0].as_str()), ("LIB10001L8", "LIB1B0001L8"));
    assert_eq!(of(&long)[0], format!("{}0001L8", "A".repeat(16)));
    assert_eq!(of("__")[0], "TAPE0001L8");
    // A prefix of one's own; a taken one is the model's refusal.
    rsm.run(&["library", "create-sim", "lib2", "--barcodes", "Q", "--media", "2"]).ok();
    assert_eq!(of_library(&rsm, "lib2"), ["Q0001L8", "Q0002L8"]);
    rsm.run(&["library", "create-sim", "lib3", "--barcodes", "Q"]).rejected("ERROR_INVALID_MEDIA", 4300);
    rsm.run(&["library", "create-sim", "lib3", "--barcodes", "Q\u{1b}"]).rejected("ERROR_INVALID_PARAMETER", 87);
}

fn of_library(rsm: &Rsm, library: &str) -> Vec<String> {
    let media = rsm.run(&["--json", "show", "media", "--library", library]).ok().json();
    media.as_array().unwrap().iter().map(|m| m["barcode"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn show_libraries_says_who_holds_which_right() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["access", "grant", "bob", "use", "--library", "lib1"]).ok();
    rsm.run(&["access", "grant", "carol", "modify", "--library", "lib1"]).ok();
    let table = rsm.run(&["show", "libraries"]).ok().stdout;
    let header = table.lines().next().unwrap();
    assert!(header.ends_with("ACCESS"), "{table}");
    assert!(table.contains("admin:use,modify,control bob:use carol:modify"), "{table}");
}

#[test]
fn library_attach_usage_names_both_devices() {
    let rsm = Rsm::new();
    let run = rsm.run(&["library", "attach", "vtl1"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--iscsi <URL>|--sg <DEVICE>"), "{}", run.stderr);
    let both = rsm.run(&["library", "attach", "vtl1", "--iscsi", "iscsi://h/t/1", "--sg", "/dev/sg0"]);
    assert_eq!(both.code, 1, "{}", both.stderr);
}

#[test]
fn a_malformed_iscsi_url_is_an_invalid_parameter() {
    let rsm = Rsm::new();
    for url in ["foo", "iscsi://host/", "iscsi://host/iqn.x/lun", "iscsi://host:0/iqn.x/1", "iscsi://host/iqn.x/1?a"] {
        let run = rsm.run(&["library", "attach", "vtl1", "--iscsi", url]).rejected("ERROR_INVALID_PARAMETER", 87);
        assert!(run.stderr.contains("iscsi://HOST[:PORT]/TARGET/LUN"), "{}", run.stderr);
    }
    assert!(!rsm.data().join("data").exists(), "no store is created for a command refused on its face");
}

/// Checks Prometheus text: every family has HELP, and each summary's
/// quantiles (per series) never decrease as the quantile grows.
fn check_metrics(text: &str) {
    let typed: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next()).collect();
    assert!(!typed.is_empty(), "{text}");
    for name in typed {
        assert!(text.contains(&format!("# HELP {name} ")), "no HELP for {name}:\n{text}");
    }
    let mut series: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    for line in text.lines().filter(|l| l.contains("quantile=\"")) {
        let (head, value) = line.rsplit_once(' ').unwrap();
        let q_start = head.find("quantile=\"").unwrap();
        let q_end = head[q_start + 10..].find('"').unwrap() + q_start + 10;
        let quantile: f64 = head[q_start + 10..q_end].parse().unwrap();
        let key = format!("{}{}", &head[..q_start], &head[q_end..]);
        series.entry(key).or_default().push((quantile, value.parse().unwrap()));
    }
    assert!(!series.is_empty(), "{text}");
    for (key, mut points) in series {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(points.windows(2).all(|w| w[0].1 <= w[1].1), "{key}: quantiles not monotonic: {points:?}");
    }
}

#[test]
fn every_metric_has_help_and_monotonic_quantiles() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["mount", "LIB10001L8", "--drive", "lib1-drive-1"]).ok();
    rsm.run(&["mount", "LIB10002L8", "--drive", "lib1-drive-1", "--no-wait-if-busy"]).rejected("ERROR_BUSY", 170);
    let text = rsm.run(&["metrics"]).ok().stdout;
    assert!(text.contains("rsm_commands_rejected_total{"), "{text}");
    check_metrics(&text);
    rsm.run(&["run", "--until-idle"]).ok();
    let text = rsm.run(&["metrics"]).ok().stdout;
    assert!(text.contains("rsm_request_seconds_count{kind=\"mount\"} 1"), "{text}");
    check_metrics(&text);
}

/// Rust's Debug formatting: `Slot(SlotId(..))`, `RobotFailure`, `{ drive: 500 }`, `InUse`.
fn has_rust_internals(text: &str) -> bool {
    ["Id(", "Slot(", "Drive(", "Port(", "{ ", "RobotFailure", "DriveWill", "InUse", "Passed", "Failed", "NTMS_"]
        .iter()
        .any(|needle| text.contains(needle))
}

#[test]
fn no_rust_internals_in_messages() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["library", "create-sim", "desk", "--standalone", "--media", "1"]).ok();
    let refused = rsm.run(&["sim", "insert", "desk-drive-1", "LIB10001L8"]).rejected("ERROR_INVALID_MEDIA", 4300);
    assert!(refused.stderr.contains("lib1-slot-1") && !has_rust_internals(&refused.stderr), "{}", refused.stderr);
    for args in
        [&["sim", "fail", "unload", "--drive", "lib1-drive-1"][..], &["sim", "fail", "robot", "--library", "lib1"]]
    {
        let armed = rsm.run(args).ok();
        assert!(armed.stdout.starts_with("armed: ") && !has_rust_internals(&armed.stdout), "{}", armed.stdout);
    }
    let failed = rsm.run(&["mount", "LIB10001L8", "--wait"]).rejected("ERROR_MEDIUM_NOT_ACCESSIBLE", 4323);
    assert!(!has_rust_internals(&failed.stdout) && !has_rust_internals(&failed.stderr), "{}", failed.stderr);
    let demo = rsm.run(&["demo"]).ok().stdout;
    assert!(!has_rust_internals(&demo), "{demo}");
}

#[test]
fn sense_is_explained_in_words_with_the_raw_codes_after() {
    let rsm = Rsm::new().with_library();
    rsm.run(&["sim", "fail", "robot", "--library", "lib1"]).ok();
    let failed = rsm.run(&["mount", "LIB10001L8", "--wait"]).rejected("ERROR_MEDIUM_NOT_ACCESSIBLE", 4323);
    assert!(
        failed.stderr.contains("hardware error: mechanical positioning error (sense 04/15/01)"),
        "{}",
        failed.stderr
    );
    let queue = rsm.run(&["--json", "show", "queue"]).ok().json();
    assert_eq!(queue[0]["sense"], "04/15/01");
    assert_eq!(queue[0]["sense_text"], "hardware error: mechanical positioning error (sense 04/15/01)");
    let demo = rsm.run(&["demo"]).ok().stdout;
    assert!(demo.contains("mechanical positioning error (sense 04/15/01)"), "{demo}");
}

#[test]
fn the_demo_and_show_use_the_same_words_for_states() {
    let rsm = Rsm::new();
    let demo = rsm.run(&["--json", "demo"]).ok().json();
    let words = |rows: &Value, key: &str| -> Vec<String> {
        rows.as_array().unwrap().iter().map(|r| r[key].as_str().unwrap().to_owned()).collect()
    };
    let drive_states = ["dismounted", "mounted", "loaded", "unloaded", "being_cleaned", "dismountable"];
    let media_states = ["idle", "inuse", "mounted", "loaded", "unloaded", "operror"];
    let request_states = ["queued", "in_progress", "completed", "failed", "cancelled"];
    assert!(words(&demo["drives"], "state").iter().all(|s| drive_states.contains(&s.as_str())), "{demo}");
    assert!(words(&demo["media"], "state").iter().all(|s| media_states.contains(&s.as_str())), "{demo}");
    assert!(words(&demo["queue"], "state").iter().all(|s| request_states.contains(&s.as_str())), "{demo}");
    assert!(words(&demo["queue"], "kind").iter().all(|s| [
        "mount",
        "dismount",
        "eject",
        "inject",
        "classify",
        "write-scratch",
        "clean",
        "inject-cleaner",
        "eject-cleaner"
    ]
    .contains(&s.as_str())));
    // The same words as `show`.
    let rsm = Rsm::new().with_library();
    rsm.run(&["mount", "LIB10001L8", "--wait"]).ok();
    rsm.run(&["mount", "LIB10002L8"]).ok();
    assert_eq!(rsm.drive("lib1-drive-1")["state"], "loaded");
    let media = rsm.run(&["--json", "show", "media"]).ok().json();
    assert_eq!(words(&media, "state")[..2], ["loaded", "inuse"]);
    let queue = rsm.run(&["--json", "show", "queue"]).ok().json();
    assert_eq!(words(&queue, "state"), ["completed", "queued"]);
}

#[test]
fn io_errors_name_their_file() {
    let rsm = Rsm::new().with_library();
    std::fs::create_dir(rsm.data().join("data/metrics.prom.tmp")).unwrap();
    let run = rsm.run(&["mount", "LIB10001L8"]).ok();
    assert!(run.stderr.contains("metrics.prom.tmp: Is a directory"), "{}", run.stderr);
    std::fs::remove_file(rsm.data().join("data/metrics.prom")).ok();
    std::fs::create_dir(rsm.data().join("data/metrics.prom")).unwrap();
    let run = rsm.run(&["metrics"]).ok();
    assert!(run.stderr.contains("metrics.prom: Is a directory"), "{}", run.stderr);
    assert!(run.stdout.contains("rsm_queue_depth"), "the gauges still come: {}", run.stdout);
}

/// Regression: creation flags that meant nothing were taken silently:
/// `--standalone --drives 3` made one drive, `--barcodes ''` bar codes
/// without a prefix (`0001L8`).
#[test]
fn creation_flags_that_cannot_apply_are_usage_errors() {
    let rsm = Rsm::new();
    for (args, says) in [
        (&["library", "create-sim", "s", "--standalone", "--drives", "3"][..], "cannot be used with"),
        (&["library", "create-sim", "s", "--standalone", "--slots", "3"], "cannot be used with"),
        (&["library", "create-sim", "s", "--barcodes", ""], "a value is required"),
    ] {
        let run = rsm.run(args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    assert!(!rsm.data().join("data").exists(), "a usage error creates no store");
}

/// Regression: a creating command that failed left a store behind (an empty
/// one at `--log-capacity 0`, a log directory and metrics after an attach to
/// an unreachable device).
#[test]
fn a_failed_create_leaves_nothing_behind() {
    let rsm = Rsm::new();
    let data = rsm.data().join("data");
    rsm.run(&["--log-capacity", "0", "library", "create-sim", "p"]).rejected("ERROR_DATABASE_FULL", 4314);
    assert!(!data.exists(), "the store made for a failed create is gone");
    std::fs::create_dir(&data).expect("an empty directory the operator made");
    let attach = rsm.run(&["library", "attach", "q", "--iscsi", "iscsi://127.0.0.1:1/iqn.2026-01.org.rsm:none/0"]);
    assert_eq!(attach.code, 2, "{}", attach.stderr);
    let left: Vec<_> = std::fs::read_dir(&data).expect("the directory stays").collect();
    assert!(left.is_empty(), "the operator's directory is empty again: {left:?}");
    rsm.run(&["library", "create-sim", "p"]).ok();
    rsm.run(&["library", "create-sim", "p"]).rejected("ERROR_ALREADY_EXISTS", 183);
    assert_eq!(rsm.run(&["--json", "show", "libraries"]).ok().json().as_array().map(Vec::len), Some(1));
}

/// Regression: a failure's JSON report written to a full disk was lost
/// without a word.
#[test]
fn a_failure_report_that_cannot_be_written_is_said_on_stderr() {
    let rsm = Rsm::new().with_library();
    let run = rsm.run_into_full_disk(&["--json", "mount", "NOSUCH1L8"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot write the JSON report to standard output"), "{}", run.stderr);
}

/// Regression: `rsm metrics` printed the saved metrics file as it found it,
/// escape sequences included.
#[test]
fn a_damaged_metrics_file_never_reaches_the_terminal() {
    let rsm = Rsm::new().with_library();
    std::fs::write(rsm.data().join("data/metrics.prom"), "rsm_x 1\n\u{1b}]0;owned\u{7}\n").expect("plant");
    let run = rsm.run(&["metrics"]).ok();
    assert!(!run.stdout.contains('\u{1b}') && !run.stdout.contains("owned"), "{}", run.stdout);
    assert!(run.stderr.contains("damaged"), "{}", run.stderr);
    assert!(run.stdout.contains("rsm_queue_depth"), "the gauges still follow: {}", run.stdout);
}

/// Regression: two `create-sim` on one new directory at once left a broken
/// store (the loser's clean-up removed the winner's head and lock) while the
/// winner reported success. Creating commands on a new directory take
/// turns; both libraries end up in one usable store.
#[test]
fn two_creates_on_one_new_directory_take_turns() {
    for round in 0..8 {
        let rsm = Rsm::new();
        let spawn = |name: &str| rsm.command("admin", &["library", "create-sim", name]).output().expect("rsm runs");
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| spawn("lib1"));
            let b = s.spawn(|| spawn("lib2"));
            (a.join().expect("first"), b.join().expect("second"))
        });
        assert!(a.status.success() && b.status.success(), "round {round}: {a:?} {b:?}");
        let libraries = rsm.run(&["--json", "show", "libraries"]).ok().json();
        assert_eq!(libraries.as_array().map(Vec::len), Some(2), "round {round}: {libraries}");
    }
}

/// Regression: a failed create removed a dangling symlink it had not made,
/// left `a/b` of a nested `a/b/c` behind, and filled a directory of other
/// files with a store.
#[test]
fn a_failed_create_touches_nothing_it_did_not_make() {
    let rsm = Rsm::new();
    let root = rsm.data();
    let link = root.join("dangling");
    std::os::unix::fs::symlink(root.join("nowhere"), &link).expect("symlink");
    let run = |data: &Path, name: &str| {
        Rsm::finish(
            Command::new(env!("CARGO_BIN_EXE_rsm"))
                .arg("--data")
                .arg(data)
                .args(["library", "create-sim", name])
                .output()
                .expect("rsm runs"),
        )
    };
    assert_eq!(run(&link, "lib1").code, 1);
    assert!(std::fs::symlink_metadata(&link).is_ok(), "the symlink stays");
    assert_eq!(run(&root.join("deep/a/b/c"), "bad name").code, 2);
    assert!(!root.join("deep").exists(), "every level it made is gone");
    let notes = root.join("notes");
    std::fs::create_dir(&notes).expect("mkdir");
    std::fs::write(notes.join("notes.txt"), "mine").expect("write");
    let refused = run(&notes, "lib1");
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("not an rsm store and not empty"), "{}", refused.stderr);
    let left: Vec<_> = std::fs::read_dir(&notes).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(left, ["notes.txt"]);
}
