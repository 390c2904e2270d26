//! The command line hands ids to the engine's rules, which answer with
//! their codes; holds and the simulator's operator commands are guarded by
//! access rights. Each test runs the real binary.

mod support;

use support::Rsm;

const NIL: &str = "00000000-0000-0000-0000-000000000000";

fn library(rsm: &Rsm) {
    rsm.run(&["library", "create-sim", "la", "--drives", "2", "--slots", "6", "--media", "3", "--ie-ports", "1"]).ok();
}

/// Regression: a nil or empty id answered ERROR_INVALID_DRIVE (15), decided
/// by the command line; a missing id is ERROR_INVALID_PARAMETER (87).
#[test]
fn a_nil_or_empty_id_is_an_invalid_parameter() {
    let rsm = Rsm::new();
    library(&rsm);
    rsm.run(&["dismount-drive", NIL]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["dismount-drive", ""]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["mount", "LA0001L8", "--drive", NIL]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["mount", ""]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["eject", NIL]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["inventory", ""]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["disable", "library", NIL]).rejected("ERROR_INVALID_PARAMETER", 87);
    // An id or a name that names nothing keeps the object's own code.
    rsm.run(&["dismount-drive", "0192f0c1-0000-7000-8000-000000000001"]).rejected("ERROR_INVALID_DRIVE", 15);
    rsm.run(&["dismount-drive", "no-such-drive"]).rejected("ERROR_INVALID_DRIVE", 15);
    rsm.run(&["mount", "NOPE01L8"]).rejected("ERROR_INVALID_MEDIA", 4300);
    // Outside commands too: view filters and the simulator's operator.
    rsm.run(&["show", "media", "--library", ""]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["show", "media", "--library", NIL]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["show", "media", "--library", "nolib"]).rejected("ERROR_INVALID_LIBRARY", 4301);
    rsm.run(&["sim", "fail", "load", "--drive", ""]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["sim", "fail", "robot", "--library", ""]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["sim", "fill-port", "", "X1"]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["sim", "fill-port", "la-port-1", ""]).rejected("ERROR_INVALID_PARAMETER", 87);
}

/// Regression: a USE-only principal released another principal's hold.
#[test]
fn a_use_only_principal_cannot_release_another_principals_hold() {
    let rsm = Rsm::new();
    library(&rsm);
    rsm.run(&["access", "grant", "alice", "use", "--library", "la"]).ok();
    rsm.run(&["access", "grant", "bob", "use", "--library", "la"]).ok();
    rsm.run_as("alice", &["mount", "LA0001L8", "--wait"]).ok();
    rsm.run_as("bob", &["dismount-media", "LA0001L8", "--deferred"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run_as("bob", &["dismount-media", "LA0001L8"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run_as("alice", &["dismount-media", "LA0001L8", "--wait"]).ok();
    rsm.replay_ok();
}

/// Regression: anyone could play the operator or arm faults in another
/// user's simulated library; `--count 0` did not disarm.
#[test]
fn simulator_commands_need_control_and_count_zero_disarms() {
    let rsm = Rsm::new();
    library(&rsm);
    rsm.run(&["access", "grant", "bob", "use", "--library", "la"]).ok();
    rsm.run_as("bob", &["sim", "fail", "robot", "--library", "la"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run_as("bob", &["sim", "fill-port", "la-port-1", "BOB001L8"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["sim", "fail", "robot", "--library", "la"]).ok();
    rsm.run(&["sim", "fail", "robot", "--library", "la", "--count", "0"]).ok();
    // Disarmed: the mount goes through.
    let mounted = rsm.run(&["--json", "mount", "LA0001L8", "--wait"]).ok().json();
    assert_eq!(mounted["state"], "completed", "{mounted}");
}

/// Regression: `--user alice access revoke alice control` succeeded and from
/// then nobody could grant CONTROL again. The last CONTROL holder stays, and
/// the administrator (here named with --admin) always holds every right.
#[test]
fn access_can_never_be_lost_for_good() {
    let rsm = Rsm::new();
    rsm.run_as("alice", &["library", "create-sim", "la", "--media", "1"]).ok();
    rsm.run_as("alice", &["access", "revoke", "alice", "control", "--library", "la"])
        .rejected("ERROR_INVALID_STATE", 5023);
    rsm.run_as("mallory", &["access", "grant", "mallory", "control", "--library", "la"])
        .rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run_as("ops", &["--admin", "ops", "access", "grant", "carol", "control", "--library", "la"]).ok();
    rsm.run_as("mallory", &["--admin", "ops", "access", "grant", "mallory", "control", "--library", "la"])
        .rejected("ERROR_ACCESS_DENIED", 5);
}
