//! Object management through the real binary (spec §3.6): `rsm info`,
//! `rsm attr`, `rsm enum` and `rsm access` on the computer and pools.

mod support;

use serde_json::Value;
use support::Rsm;

#[test]
fn information_attributes_enumeration_and_security_from_the_command_line() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--drives", "2", "--slots", "6", "--media", "2"]).ok();
    rsm.run(&["pool", "create", "Daily", "--type", "LTO-8"]).ok();

    // Attributes: set, read (any case), list, remove; limits and rights.
    rsm.run(&["attr", "set", "LA0001L8", "Owner", "--value", "finance"]).ok();
    assert_eq!(rsm.run(&["attr", "get", "LA0001L8", "owner"]).ok().stdout.trim(), "finance");
    let listed = rsm.run(&["--json", "attr", "list", "LA0001L8"]).ok().json();
    assert_eq!(listed, serde_json::json!([{"name": "owner", "size": 7}]));
    rsm.run(&["attr", "set", "LA0001L8", &"n".repeat(32), "--value", "x"]).rejected("ERROR_INVALID_NAME", 123);
    let big = rsm.dir.path().join("big.bin");
    std::fs::write(&big, vec![b'x'; 0x10000]).unwrap();
    rsm.run(&["attr", "set", "LA0001L8", "big", "--file", big.to_str().unwrap()]).rejected("ERROR_NO_DATA", 232);
    rsm.run_as("mallory", &["attr", "set", "la", "x", "--value", "y"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run_as("mallory", &["attr", "get", "LA0001L8", "owner"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["attr", "get", "LA0001L8", "nothing"]).rejected("ERROR_OBJECT_NOT_FOUND", 4312);
    rsm.run(&["attr", "get", "nosuch", "owner"]).rejected("ERROR_OBJECT_NOT_FOUND", 4312);
    // The computer's MODIFY is its administrator's until granted.
    rsm.run(&["attr", "set", "computer", "site", "--value", "Lyon"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["--admin", "admin", "attr", "set", "computer", "site", "--value", "Lyon"]).ok();
    rsm.run_as("mallory", &["info", "set", "\\Free", "description=mine"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["attr", "set", "LA0001L8", "owner", "--value", ""]).ok();
    assert_eq!(rsm.run(&["--json", "attr", "list", "LA0001L8"]).ok().json(), serde_json::json!([]));

    // Information: read, and the writable fields.
    rsm.run(&["info", "set", "\\Daily", "description=daily backups", "max_allocates=3", "from_scratch=true"]).ok();
    let info = rsm.run(&["--json", "info", "get", "\\Daily"]).ok().json();
    assert_eq!(
        (info["type"].as_str(), info["ntms_type"].as_u64(), info["description"].as_str()),
        (Some("pool"), Some(12), Some("daily backups")),
        "{info}"
    );
    assert_eq!(
        (info["details"]["max_allocates"].as_u64(), info["details"]["from_scratch"].as_bool()),
        (Some(3), Some(true))
    );
    let wrong = rsm.run(&["info", "set", "la-drive-1", "max_allocates=3"]);
    assert!(wrong.code != 0 && wrong.stderr.contains("are a pool's"), "{}", wrong.stderr);
    let drive = rsm.run(&["--json", "info", "get", "la-drive-1"]).ok().json();
    assert_eq!((drive["type"].as_str(), drive["details"]["library"].as_str()), (Some("drive"), Some("la")), "{drive}");
    rsm.run_as("mallory", &["info", "get", "la"]).rejected("ERROR_ACCESS_DENIED", 5);
    // Names, a drive's deferral delay, an empty pool's media type.
    rsm.run(&["info", "set", "la-drive-1", "defer_dismount_delay=60"]).ok();
    let d1 = rsm.view("drives").into_iter().find(|d| d["name"] == "la-drive-1").expect("listed");
    assert_eq!(d1["defer_dismount_delay_s"], 60);
    rsm.run(&["info", "set", "LA0002L8", "name=Monday full"]).ok();
    let named = rsm.run(&["--json", "info", "get", "LA0002L8"]).ok().json();
    assert_eq!((named["name"].as_str(), named["details"]["barcode"].as_str()), (Some("Monday full"), Some("LA0002L8")));
    rsm.run(&["pool", "create", "Spare", "--type", "LTO-8"]).ok();
    rsm.run(&["info", "set", "\\Spare", "media_type=LTO-7", "name=Spare7"]).ok();
    let spare = rsm.run(&["--json", "info", "get", "\\Spare7"]).ok().json();
    assert_eq!(spare["details"]["media_type"], "LTO-7", "{spare}");
    rsm.run(&["info", "set", "\\Spare7", "name=Daily"]).rejected("ERROR_ALREADY_EXISTS", 183);
    rsm.run(&["info", "set", "la", "name=tapes"]).ok();
    assert_eq!(rsm.run(&["--json", "info", "get", "tapes"]).ok().json()["type"], "library");
    rsm.run(&["info", "set", "tapes", "name=la"]).ok();
    rsm.run(&["info", "set", "la-drive-1", "name=d1"]).rejected("ERROR_INVALID_PARAMETER", 87);
    // The computer's settings are its administrators'; a field is given once.
    rsm.run(&["info", "set", "computer", "lib_request_purge_time=60"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["--admin", "admin", "info", "set", "computer", "lib_request_purge_time=60", "media_pool_policy=0x2"])
        .ok();
    let computer = rsm.run(&["--json", "info", "get", "computer"]).ok().json();
    assert_eq!(
        (computer["details"]["lib_request_purge_time"].as_u64(), computer["details"]["media_pool_policy"].as_u64()),
        (Some(60), Some(2)),
        "{computer}"
    );
    assert_eq!(rsm.run(&["info", "set", "la", "description=a", "description=b"]).code, 1, "a field twice");

    // Enumeration: by container, what the user may use, the root pool first on request.
    let drives = rsm.run(&["--json", "enum", "drive", "--in", "la"]).ok().json();
    assert_eq!(drives.as_array().map(Vec::len), Some(2), "{drives}");
    let pools = rsm.run(&["--json", "enum", "pool", "--root-pool"]).ok().json();
    assert_eq!(pools[0]["type"], "computer", "{pools}");
    assert!(pools.as_array().unwrap().iter().any(|p| p["name"] == "\\Daily"), "{pools}");
    rsm.run(&["enum", "side", "--in", "la"]).rejected("ERROR_INVALID_PARAMETER", 87);
    let none: Value = rsm.run_as("mallory", &["--json", "enum", "drive"]).ok().json();
    assert_eq!(none, serde_json::json!([]));

    // Security on a pool and on the computer; a side has none of its own.
    let granted = rsm.run(&["--json", "access", "grant", "mallory", "use", "--pool", "\\Daily"]).ok().json();
    assert!(granted.as_array().unwrap().iter().any(|r| r["principal"] == "mallory"), "{granted}");
    rsm.run_as("mallory", &["access", "grant", "mallory", "control", "--pool", "\\Daily"])
        .rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["access", "revoke", "mallory", "modify", "--computer"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["access", "grant", "mallory", "use", "--pool", "\\Free"]).rejected("ERROR_NO_SECURITY_ON_OBJECT", 1350);
    rsm.replay_ok();
}
