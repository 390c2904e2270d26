//! Operator requests through the binary (spec §3.5, §6): submit every
//! kind, list them, satisfy and refuse them, wait on them.

mod support;

use support::Rsm;

#[test]
fn operator_requests_are_submitted_answered_and_waited_on() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "lo", "--drives", "1", "--slots", "4", "--media", "2"]).ok();
    rsm.run(&["pool", "create", "Daily", "--type", "LTO-8"]).ok();
    let submit = |args: &[&str]| {
        let mut all = vec!["--json", "operator", "submit"];
        all.extend_from_slice(args);
        rsm.run(&all).ok().json()["id"].as_str().expect("an id").to_string()
    };
    let message = submit(&["message", "put the Friday set in the safe"]);
    let new_media = submit(&["new-media", "--pool", "Daily"]);
    let cleaner = submit(&["cleaner", "--library", "lo"]);
    let service = submit(&["device-service", "--device", "lo-drive-1", "the drive reports errors"]);
    let moved = submit(&["move-media", "--media", "LO0001L8", "--library", "lo"]);
    let listed = rsm.run(&["--json", "operator", "list"]).ok().json();
    let kinds: Vec<&str> = listed.as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["message", "new-media", "cleaner", "device-service", "move-media"], "{listed}");
    assert_eq!(listed[3]["object"], "lo-drive-1", "{listed}");
    // Mistakes: a missing argument, an unknown object, a message too long.
    assert_eq!(rsm.run(&["operator", "submit", "cleaner"]).code, 1, "a usage error");
    rsm.run(&["operator", "submit", "device-service", "--device", "nosuch"]).rejected("ERROR_OBJECT_NOT_FOUND", 4312);
    let long = "x".repeat(256);
    rsm.run(&["operator", "submit", "message", &long]).rejected("ERROR_INVALID_PARAMETER", 87);
    // Answers are the computer's administrators'.
    rsm.run(&["operator", "satisfy", &message]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["--admin", "admin", "operator", "satisfy", &message]).ok();
    rsm.run(&["--admin", "admin", "operator", "cancel", &cleaner]).ok();
    rsm.run(&["--admin", "admin", "operator", "cancel", &cleaner]).rejected("ERROR_INVALID_STATE", 5023);
    // Waiting: complete, refused, still open.
    rsm.run(&["operator", "wait", &message]).ok();
    rsm.run(&["operator", "wait", &cleaner]).rejected("ERROR_CANCELLED", 1223);
    rsm.run(&["operator", "wait", &service, "--timeout", "0"]).rejected("ERROR_TIMEOUT", 1460);
    rsm.run(&["operator", "wait", "not-an-id"]).rejected("ERROR_INVALID_PARAMETER", 87);
    let states: Vec<String> = rsm
        .view("operator-requests")
        .iter()
        .map(|r| format!("{}:{}", r["kind"].as_str().unwrap(), r["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            "message:complete",
            "new-media:submitted",
            "cleaner:refused",
            "device-service:submitted",
            "move-media:submitted"
        ]
    );
    let _ = (new_media, moved);
    rsm.replay_ok();
}
