//! Media services through the real binary: a backup platform's day with
//! pools (spec §7.5): a pool that draws from scratch, allocate, mount for
//! writing, dismount, complete, deallocate back to scratch, a side retired
//! at its allocation limit, and the refusals on the way.

mod support;

use serde_json::Value;
use support::Rsm;

fn find<'a>(rows: &'a [Value], key: &str, value: &str) -> &'a Value {
    rows.iter().find(|r| r[key] == value).unwrap_or_else(|| panic!("no row with {key} = {value} in {rows:?}"))
}

#[test]
fn the_typical_flow_of_a_backup_application() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--drives", "2", "--slots", "8", "--media", "3"]).ok();
    let pools = rsm.view("pools");
    assert_eq!(find(&pools, "path", "\\Free\\LTO-8")["media"], 3, "{pools:?}");
    rsm.run(&["pool", "create", "\\Backup"]).ok();
    rsm.run(&[
        "pool",
        "create",
        "Backup\\Daily",
        "--type",
        "LTO-8",
        "--from-scratch",
        "--to-scratch",
        "--max-allocates",
        "2",
    ])
    .ok();
    rsm.run(&["pool", "create", "Backup\\Daily"]).rejected("ERROR_ALREADY_EXISTS", 183);
    rsm.run(&["pool", "create", "Backup\\Daily", "--open-always"]).ok();
    rsm.run(&["pool", "create", "Nowhere\\Daily", "--type", "LTO-8"]).rejected("ERROR_OBJECT_NOT_FOUND", 4312);

    let first = rsm.run(&["--json", "allocate", "Backup\\Daily"]).ok().json();
    assert_eq!(
        (first["barcode"].as_str(), first["pool"].as_str()),
        (Some("LA0001L8"), Some("\\Backup\\Daily")),
        "{first}"
    );
    let lmid = first["lmid"].as_str().expect("an lmid").to_owned();
    // Mounted by its logical medium, for writing; full, then refused for writing.
    rsm.run(&["mount", &lmid, "--write", "--wait"]).ok();
    rsm.run(&["complete", &lmid]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["dismount-media", &lmid, "--wait"]).ok();
    rsm.run(&["complete", &lmid]).ok();
    rsm.run(&["mount", &lmid, "--write"]).rejected("ERROR_WRITE_PROTECT", 19);
    rsm.run_as("mallory", &["deallocate", &lmid]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["deallocate", &lmid]).ok();
    let side = find(&rsm.view("sides"), "barcode", "LA0001L8").clone();
    assert_eq!((side["state"].as_str(), side["pool"].as_str()), (Some("available"), Some("\\Free\\LTO-8")), "{side}");
    assert!(rsm.view("lmids").is_empty());

    // The fewest allocations first; then LA0001L8 alone, to its limit.
    let second = rsm.run(&["--json", "allocate", "Backup\\Daily"]).ok().json();
    assert_eq!(second["barcode"], "LA0002L8", "{second}");
    // Found by a hostile run: the output echoed the pool as typed, without its leading backslash.
    let moved = rsm.run(&["pool", "move", "LA0001L8", "Backup\\Daily"]).ok();
    assert_eq!(moved.stdout.trim(), "LA0001L8 moved to \\Backup\\Daily");
    let third = rsm.run(&["--json", "allocate", "Backup\\Daily", "--side", "LA0001L8"]).ok().json();
    assert_eq!(third["barcode"], "LA0001L8", "{third}");
    rsm.run(&["deallocate", "LA0001L8"]).ok();
    let retired = find(&rsm.view("sides"), "barcode", "LA0001L8").clone();
    assert_eq!(retired["state"], "decommissioned", "{retired}");
    rsm.run(&["mount", "LA0001L8"]).rejected("ERROR_INVALID_STATE", 5023);

    // Nothing left to draw once the free pool is spent.
    rsm.run(&["--json", "allocate", "Backup\\Daily"]).ok();
    rsm.run(&["allocate", "Backup\\Daily"]).rejected("ERROR_MEDIA_UNAVAILABLE", 4308);
    rsm.run(&["pool", "delete", "Backup\\Daily"]).rejected("ERROR_NOT_EMPTY", 4307);
    rsm.run(&["pool", "delete", "\\Free\\LTO-8"]).rejected("ERROR_INVALID_MEDIA_POOL", 4302);
    rsm.replay_ok();
}

#[test]
fn media_types_and_their_pools() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "lb", "--media-type", "LTO-7", "--media", "1"]).ok();
    rsm.run(&["library", "create-sim", "lc", "--media-type", "LTO-9"]).ok();
    let types = rsm.view("media-types");
    assert_eq!(find(&types, "name", "LTO-7")["libraries"], serde_json::json!(["lb"]));
    rsm.run(&["media-type", "add", "LTO-6", "--library", "lb"]).ok();
    assert!(rsm.view("pools").iter().any(|p| p["path"] == "\\Free\\LTO-6"));
    rsm.run(&["media-type", "delete", "LTO-7", "--library", "lb"]).rejected("ERROR_NOT_EMPTY", 4307);
    rsm.run(&["media-type", "delete", "LTO-6", "--library", "lb"]).ok();
    assert!(!rsm.view("pools").iter().any(|p| p["path"] == "\\Free\\LTO-6"), "its pools went with it");
    rsm.run_as("mallory", &["media-type", "add", "LTO-6", "--library", "lb"]).rejected("ERROR_ACCESS_DENIED", 5);
    let usage = rsm.run(&["media-type", "add", "LTO-99", "--library", "lb"]);
    assert_eq!(usage.code, 1, "{}", usage.stderr);
    // An LTO-7 cartridge cannot go to an LTO-9 pool.
    rsm.run(&["pool", "create", "Nine", "--type", "LTO-9"]).ok();
    rsm.run(&["pool", "move", "LB0001L8", "Nine"]).rejected("ERROR_MEDIA_INCOMPATIBLE", 4315);
    rsm.replay_ok();
}

/// Regression (found by a user's test): `pool create --open-always` on an
/// existing pool rewrote its policies, and a bar code carrying two logical
/// media silently named the first.
#[test]
fn opening_a_pool_leaves_it_alone_and_an_ambiguous_bar_code_is_refused() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "mo", "--media-type", "MO-2SIDED", "--media", "1"]).ok();
    rsm.run(&["pool", "create", "P", "--type", "MO-2SIDED", "--from-scratch", "--max-allocates", "2"]).ok();
    rsm.run(&["pool", "create", "P", "--open-always", "--type", "MO-2SIDED", "--to-scratch"]).ok();
    let pool = find(&rsm.view("pools"), "path", "\\P").clone();
    assert_eq!((pool["max_allocates"].as_u64(), pool["to_scratch"].as_bool()), (Some(2), Some(false)), "{pool}");
    let a = rsm.run(&["--json", "allocate", "P", "--new"]).ok().json();
    let lmid = a["lmid"].as_str().expect("an lmid");
    rsm.run(&["allocate", "P", "--next", lmid]).ok();
    rsm.run(&["complete", "MO0001L8"]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["complete", lmid]).ok();
    rsm.run(&["mount", "MO0001L8", "--write", "--wait"]).ok();
    let usage = rsm.run(&["pool", "create", "Folder", "--from-scratch"]);
    assert_eq!(usage.code, 1, "policies need a type: {}", usage.stderr);
    assert!(!rsm.view("pools").iter().any(|p| p["path"] == "\\Folder"), "nothing was created");
    rsm.replay_ok();
}

#[test]
fn records_of_cartridges_from_elsewhere() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--media", "2"]).ok();
    // Offline records need MODIFY on the computer, which its administrator grants.
    rsm.run(&["--admin", "admin", "access", "grant", "admin", "modify", "--computer"]).ok();
    rsm.run(&["media", "create", "FAR001L8", "--pool", "\\Import\\LTO-8"]).ok();
    let far = find(&rsm.view("sides"), "barcode", "FAR001L8").clone();
    assert_eq!((far["state"].as_str(), far["library"].as_str()), (Some("import"), None), "{far}");
    rsm.run(&["media", "create", "FAR001L8", "--pool", "\\Import\\LTO-8"]).rejected("ERROR_INVALID_MEDIA", 4300);
    rsm.run(&["media", "create", "FAR002L8", "--pool", "\\Free\\LTO-8"]).rejected("ERROR_INVALID_MEDIA_POOL", 4302);
    rsm.run(&["media", "delete", "LA0001L8"]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["media", "delete", "FAR001L8"]).ok();
    assert!(!rsm.view("media").iter().any(|m| m["barcode"] == "FAR001L8"));
    rsm.run(&["pool", "create", "Seven", "--type", "LTO-7"]).ok();
    rsm.run(&["pool", "move", "LA0001L8", "Seven"]).rejected("ERROR_MEDIA_INCOMPATIBLE", 4315);
    rsm.run(&["media", "retype", "LA0001L8", "Seven"]).ok();
    let types = rsm.view("sides");
    assert_eq!(find(&types, "barcode", "LA0001L8")["media_type"], "LTO-7");
    rsm.run(&["mount", "LA0001L8", "--wait"]).ok();
    rsm.replay_ok();
}

/// Spec §7.2 case 1 through the binary: a cartridge recorded on the shelf
/// (offline, with its label) that comes in through a port under a new bar
/// code is known by its label: the same medium, now with the new bar code.
#[test]
fn a_shelf_cartridge_under_a_new_bar_code_is_known_by_its_label() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--drives", "1", "--slots", "6", "--media", "2"]).ok();
    rsm.run(&["--admin", "admin", "access", "grant", "admin", "modify", "--computer"]).ok();
    let label = rsm.dir.path().join("bac001.bin");
    std::fs::write(&label, format!("VOL1BAC001 {:13}{:13}{:14}{:28}4", "", "Bacula", "", "")).unwrap();
    let path = label.to_str().unwrap();
    rsm.run(&["media", "create", "OLD001L8", "--pool", "\\Import\\LTO-8", "--label-file", path]).ok();
    let shelf = find(&rsm.view("media"), "barcode", "OLD001L8")["id"].clone();
    rsm.run(&["sim", "fill-port", "la-port-1", "NEW001L8", "--label-file", path]).ok();
    rsm.run(&["inject", "la", "--wait"]).ok();
    let media = rsm.view("media");
    assert!(!media.iter().any(|m| m["barcode"] == "OLD001L8"), "{media:?}");
    let known = find(&media, "barcode", "NEW001L8");
    assert_eq!((&known["id"], known["location"].as_str()), (&shelf, Some("slot")), "{known}");
    let side = find(&rsm.view("sides"), "barcode", "NEW001L8").clone();
    assert_eq!((side["state"].as_str(), side["omid"].as_str()), (Some("import"), Some("ANSI:BAC001")), "{side}");
    rsm.replay_ok();
}

/// `rsm allocate --timeout`: nothing to allocate raises a new-media
/// operator request, which the timeout withdraws (ERROR_TIMEOUT, the
/// request REFUSED and kept in the view); `--no-operator` raises none.
#[test]
fn an_allocation_that_waits_in_vain_times_out_and_withdraws_its_operator_request() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--drives", "1", "--slots", "4", "--media", "1"]).ok();
    rsm.run(&["pool", "create", "Empty", "--type", "LTO-8"]).ok();
    rsm.run(&["allocate", "Empty"]).rejected("ERROR_MEDIA_UNAVAILABLE", 4308);
    rsm.run(&["allocate", "Empty", "--timeout", "50", "--no-operator"]).rejected("ERROR_MEDIA_UNAVAILABLE", 4308);
    assert!(rsm.view("operator-requests").is_empty());
    rsm.run(&["allocate", "Empty", "--timeout", "50"]).rejected("ERROR_TIMEOUT", 1460);
    let requests = rsm.view("opreqs");
    assert_eq!(requests.len(), 1, "{requests:?}");
    let r = &requests[0];
    assert_eq!(
        (r["kind"].as_str(), r["state"].as_str(), r["ntms_state"].as_u64(), r["reason"].as_str(), r["pool"].as_str()),
        (Some("new-media"), Some("refused"), Some(4), Some("ERROR_TIMEOUT"), Some("\\Empty")),
        "{r}"
    );
    rsm.run(&["replay", "--verify"]).ok();
}

/// On-media identifiers through the binary: `media create --label-file`
/// (claimed, NTMS_ERROR_ON_DUPLICATE), `media label` (UpdateNtmsOmidInfo)
/// from a label file or file-system information, and labels nobody claims.
#[test]
fn labels_written_by_applications_are_recorded_on_their_sides() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--media", "2"]).ok();
    // Offline records need MODIFY on the computer, which its administrator grants.
    rsm.run(&["--admin", "admin", "access", "grant", "admin", "modify", "--computer"]).ok();
    rsm.run(&["pool", "create", "Daily", "--type", "LTO-8", "--from-scratch"]).ok();
    let vol1 = |volume: &str, owner: &str| format!("VOL1{volume:<6} {:13}{:13}{owner:<14}{:28}4", "", "Bacula", "");
    let label = rsm.dir.path().join("vol1.bin");
    std::fs::write(&label, vol1("BAC001", "backup")).unwrap();
    let junk = rsm.dir.path().join("junk.bin");
    std::fs::write(&junk, b"tar data, no label").unwrap();
    let label_arg = label.to_str().unwrap();

    let lmid = rsm.run(&["--json", "allocate", "Daily"]).ok().json()["lmid"].as_str().unwrap().to_owned();
    rsm.run(&["media", "label", &lmid, "--file", junk.to_str().unwrap()]).rejected("ERROR_BAD_FORMAT", 11);
    rsm.run_as("mallory", &["media", "label", &lmid, "--file", label_arg]).rejected("ERROR_ACCESS_DENIED", 5);
    let done = rsm.run(&["media", "label", "LA0001L8", "--file", label_arg]).ok();
    assert!(done.stdout.contains("ANSI:BAC001"), "{}", done.stdout);
    let side = find(&rsm.view("sides"), "barcode", "LA0001L8").clone();
    assert_eq!((side["omid"].as_str(), side["omid_type"].as_str()), (Some("ANSI:BAC001"), Some("ANSI")), "{side}");
    rsm.run(&["media", "label", &lmid, "--filesystem", "LTFS", "--volume", "ARCHIVE", "--serial", "0xBEEF"]).ok();
    assert_eq!(find(&rsm.view("sides"), "barcode", "LA0001L8")["omid"], "LTFS:ARCHIVE:0000BEEF");
    rsm.run(&["media", "label", "LA0002L8", "--file", label_arg]).rejected("ERROR_INVALID_MEDIA", 4300);
    // From the drive: only once the cartridge is loaded there; what it reads is recorded.
    rsm.run(&["media", "label", &lmid, "--from-drive"]).rejected("ERROR_INVALID_STATE", 5023);
    rsm.run(&["mount", &lmid, "--wait"]).ok();
    rsm.run(&["media", "label", &lmid, "--from-drive"]).ok();
    assert_eq!(find(&rsm.view("sides"), "barcode", "LA0001L8")["omid"], "RSM:LA0001L8");
    rsm.run(&["dismount-media", &lmid, "--wait"]).ok();

    // A record from elsewhere, with its label; a second with the same label only without the check.
    let import = "\\Import\\LTO-8";
    rsm.run(&["media", "create", "FAR001L8", "--pool", import, "--label-file", label_arg, "--error-on-duplicate"]).ok();
    rsm.run(&["media", "create", "FAR002L8", "--pool", import, "--label-file", label_arg, "--error-on-duplicate"])
        .rejected("ERROR_INVALID_MEDIA", 4300);
    rsm.run(&["media", "create", "FAR002L8", "--pool", import, "--label-file", label_arg]).ok();
    rsm.run(&["media", "create", "FAR003L8", "--pool", import, "--label-file", junk.to_str().unwrap()])
        .rejected("ERROR_INVALID_PARAMETER", 87);
    assert_eq!(find(&rsm.view("sides"), "barcode", "FAR002L8")["omid"], "ANSI:BAC001");
    rsm.replay_ok();
}

/// `create-sim --blank N`: the last N cartridges arrive blank, unknown
/// until `rsm run` has classified them and written rsm's free-media label;
/// a cartridge the operator puts in a port with another program's label
/// lands in the import pool once injected.
#[test]
fn blank_cartridges_are_prepared_and_labelled_ones_imported() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--drives", "2", "--slots", "8", "--media", "4", "--blank", "2"]).ok();
    let too_many = rsm.run(&["library", "create-sim", "lb", "--media", "2", "--blank", "3"]);
    assert!(
        too_many.code != 0 && too_many.stderr.contains("--blank 3 is more than the 2 cartridges"),
        "{}",
        too_many.stderr
    );
    let sides = rsm.view("sides");
    assert_eq!(find(&sides, "barcode", "LA0001L8")["state"], "available", "{sides:?}");
    assert_eq!(find(&sides, "barcode", "LA0004L8")["state"], "unknown", "{sides:?}");
    let queue = rsm.view("queue");
    assert_eq!(queue.iter().filter(|r| r["kind"] == "classify").count(), 2, "{queue:?}");
    // Not allocatable before it is prepared: only the two labelled ones are.
    rsm.run(&["pool", "create", "Daily", "--type", "LTO-8", "--from-scratch"]).ok();
    // Found by a hostile run: "1 requests settled".
    let settled = rsm.run(&["run", "--until-idle"]).ok();
    assert!(settled.stdout.starts_with("4 requests settled"), "{}", settled.stdout);
    let sides = rsm.view("sides");
    for barcode in ["LA0003L8", "LA0004L8"] {
        let side = find(&sides, "barcode", barcode);
        assert_eq!(
            (side["state"].as_str(), side["pool"].as_str(), side["omid_type"].as_str()),
            (Some("available"), Some("\\Free\\LTO-8"), Some("RSM")),
            "{side}"
        );
    }
    let kinds: Vec<Value> = rsm.view("queue").iter().map(|r| r["kind"].clone()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "write-scratch").count(), 2, "{kinds:?}");

    let label = rsm.dir.path().join("ltfs.bin");
    std::fs::write(&label, format!("VOL1LT0042 {:13}{:13}{:14}{:28}4", "", "LTFS", "", "")).unwrap();
    // Found by a hostile run: an empty label file and a bar code already in
    // the library were reported as a device failure.
    let empty = rsm.dir.path().join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let refused = rsm.run(&["sim", "fill-port", "la-port-1", "EMPT01L8", "--label-file", empty.to_str().unwrap()]);
    assert!(refused.code == 1 && refused.stderr.contains("the label file is empty"), "{}", refused.stderr);
    rsm.run(&["sim", "fill-port", "la-port-1", "LA0001L8"]).rejected("ERROR_INVALID_MEDIA", 4300);
    rsm.run(&["sim", "fill-port", "la-port-1", "LTFS01L8", "--label-file", label.to_str().unwrap()]).ok();
    rsm.run(&["inject", "la", "--wait"]).ok();
    let ltfs = find(&rsm.view("sides"), "barcode", "LTFS01L8").clone();
    assert_eq!(
        (ltfs["state"].as_str(), ltfs["pool"].as_str(), ltfs["omid"].as_str()),
        (Some("import"), Some("\\Import\\LTO-8"), Some("LTFS:LT0042")),
        "{ltfs}"
    );
    rsm.replay_ok();
}

/// Found by a hostile run: `allocate --timeout` could never succeed (it
/// held the store and ran no workers, so the classifications that would
/// bring media never ran), and a signal while it waited killed it and left
/// its operator request open for ever. Now it works the queue while it
/// waits, and a stop withdraws the request (exit 130, `stopped_by`).
#[test]
fn a_waiting_allocation_works_the_queue_and_stops_cleanly() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--drives", "1", "--slots", "6", "--media", "2", "--blank", "2"]).ok();
    rsm.run(&["pool", "create", "Daily", "--type", "LTO-8", "--from-scratch"]).ok();
    // Nothing is available until the blank cartridges are classified and prepared.
    rsm.run(&["allocate", "Daily"]).rejected("ERROR_MEDIA_UNAVAILABLE", 4308);
    let allocated = rsm.run(&["--json", "allocate", "Daily", "--timeout", "30000"]).ok().json();
    assert_eq!(allocated["pool"], "\\Daily", "{allocated}");
    let requests = rsm.view("operator-requests");
    assert!(requests.iter().all(|r| r["state"] == "complete"), "{requests:?}");

    // The other blank one went the same way; an empty pool waits, and SIGINT stops the wait.
    rsm.run(&["pool", "create", "Empty", "--type", "LTO-8"]).ok();
    let child = rsm
        .command(&["--json", "allocate", "Empty", "--timeout", "60000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rsm starts");
    // Whenever it comes (signals are held from the first instruction), the stop is clean.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let sent = std::process::Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
    assert!(sent.expect("kill runs").success());
    let out = child.wait_with_output().expect("rsm ends");
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(report["stopped_by"], "SIGINT", "{report}");
    // Found by a hostile run: the message left the withdrawn request "to the next run".
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("nothing was allocated and the new-media operator request was withdrawn"), "{said}");
    let requests = rsm.view("operator-requests");
    let open = requests.iter().filter(|r| r["state"] != "complete" && r["state"] != "refused").count();
    assert_eq!(open, 0, "{requests:?}");
    let refused: Vec<&Value> = requests.iter().filter(|r| r["state"] == "refused").collect();
    assert!(refused.iter().all(|r| r["reason"] == "ERROR_CANCELLED"), "{requests:?}");
    rsm.replay_ok();
}

/// Found by a hostile run: a cartridge that came back through a port had
/// `inject --wait` list the classification of its first arrival as this
/// one's. A known bar code keeps its pool and sides (spec §7.2 case 1):
/// only the inject is this arrival's.
#[test]
fn a_returning_cartridge_is_listed_with_its_own_requests_only() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--drives", "1", "--slots", "6", "--media", "1", "--blank", "1"]).ok();
    rsm.run(&["inventory", "la", "--wait"]).ok();
    rsm.run(&["eject", "LA0001L8", "--wait"]).ok();
    rsm.run(&["sim", "empty-port", "la-port-1"]).ok();
    rsm.run(&["inventory", "la", "--wait"]).ok();
    rsm.run(&["sim", "fill-port", "la-port-1", "LA0001L8"]).ok();
    let back = rsm.run(&["--json", "inject", "la", "--wait"]).ok().json();
    let kinds: Vec<&str> = back["requests"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["inject"], "{back}");
    rsm.replay_ok();
}

/// Found by a hostile run: a cartridge left in a port that rsm did not
/// take in (its bar code is another library's) showed the port "empty",
/// and emptying the port claimed an inventory would record it offline.
#[test]
fn a_port_holding_a_cartridge_not_taken_in_reads_full() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "la", "--media", "1"]).ok();
    rsm.run(&["library", "create-sim", "lb", "--media", "1"]).ok();
    rsm.run(&["sim", "fill-port", "lb-port-1", "LA0001L8"]).ok();
    rsm.run(&["inject", "lb", "--wait"]).ok();
    let port = rsm.run(&["--json", "show", "ports", "--library", "lb"]).ok().json()[0].clone();
    assert_eq!(port["state"], "full (not taken in)", "{port}");
    let emptied = rsm.run(&["sim", "empty-port", "lb-port-1"]).ok();
    assert!(!emptied.stdout.contains("offline"), "{}", emptied.stdout);
    rsm.run(&["inventory", "lb", "--wait"]).ok();
    assert_eq!(rsm.run(&["--json", "show", "ports", "--library", "lb"]).ok().json()[0]["state"], "empty");
    rsm.replay_ok();
}
