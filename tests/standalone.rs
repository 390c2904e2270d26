//! Stand-alone drives as real processes: `rsm eject-disk`
//! (EjectDiskFromSADrive).

mod support;
use support::*;

#[test]
fn eject_disk_sends_the_cartridge_of_a_stand_alone_drive_to_the_shelf() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "desk", "--standalone", "--media", "1"]).ok();
    let drive = rsm.view("drives")[0]["name"].as_str().expect("a drive").to_owned();
    let barcode = rsm.view("media")[0]["barcode"].as_str().expect("a cartridge").to_owned();
    rsm.run(&["eject-disk", &drive]).rejected("ERROR_MEDIA_NOT_AVAILABLE", 4318);
    rsm.run(&["sim", "insert", &drive, &barcode]).ok();
    rsm.run(&["mount", &barcode]).ok();
    rsm.run(&["eject-disk", &drive]).rejected("ERROR_MEDIA_NOT_AVAILABLE", 4318);
    rsm.run(&["eject-disk", &drive, "--option", "stop"]).rejected("ERROR_INVALID_OPERATION", 4317);
    rsm.run(&["eject-disk", "no-such-drive"]).rejected("ERROR_INVALID_DRIVE", 15);
    rsm.run_as("mallory", &["eject-disk", &drive]).rejected("ERROR_ACCESS_DENIED", 5);
    let out = rsm.run(&["eject-disk", &drive, "--option", "force"]).ok();
    assert!(out.stdout.contains("on the shelf"), "{}", out.stdout);
    let media = rsm.view("media");
    assert_eq!(media[0]["location"], "offline", "{media:?}");
    assert!(rsm.view("drives")[0]["barcode"].is_null());
    let queue = rsm.view("queue");
    assert!(queue.iter().any(|r| r["kind"] == "eject" && r["state"] == "completed"), "{queue:?}");
    // The simulated drive let go of it too: the operator can put it back.
    rsm.run(&["sim", "insert", &drive, &barcode]).ok();
    rsm.replay_ok();
}

/// Stand-alone drives do not say when a cartridge goes in or out: `rsm
/// detect poll` reads them once; `rsm detect watch` has `rsm run` poll
/// them until `rsm detect end`.
#[test]
fn change_detection_finds_what_the_operator_did_at_a_stand_alone_drive() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "desk", "--standalone", "--media", "1"]).ok();
    rsm.run(&["library", "create-sim", "lib", "--drives", "1", "--slots", "2", "--media", "1"]).ok();
    let drive = rsm.view("drives").into_iter().find(|d| d["library"] == "desk").expect("desk's drive");
    let drive = drive["name"].as_str().expect("a name").to_owned();
    rsm.run(&["sim", "insert", &drive, "NEW0001L8", "--unseen"]).ok();
    assert!(rsm.view("media").iter().all(|m| m["barcode"] != "NEW0001L8"), "rsm was not told");
    rsm.run(&["detect", "poll", "lib"]).rejected("ERROR_INVALID_LIBRARY", 4301);
    rsm.run(&["detect", "poll", "LTO-8", "--of", "media-type"]).ok();
    let found = rsm.view("media").into_iter().find(|m| m["barcode"] == "NEW0001L8").expect("found");
    assert_eq!(found["location"], "drive", "{found}");

    // Watched: `rsm run` polls until the detection ends.
    let watch = rsm.run(&["detect", "watch", "desk"]).ok();
    let handle = watch.stdout.split_whitespace().nth(1).expect("the handle").to_owned();
    rsm.run(&["sim", "remove", &drive, "--unseen"]).ok();
    // The engine polls every five seconds: a run of seven finds it (a
    // loaded machine gets a few more).
    let mut gone = false;
    for _ in 0..4 {
        let mut run = rsm.command(&["run"]).spawn().expect("rsm run starts");
        std::thread::sleep(std::time::Duration::from_secs(7));
        let _ = std::process::Command::new("kill").arg("-TERM").arg(run.id().to_string()).status();
        let _ = run.wait();
        gone = rsm.view("media").iter().any(|m| m["barcode"] == "NEW0001L8" && m["location"] == "offline");
        if gone {
            break;
        }
    }
    assert!(gone, "the removal was found by the running engine's poll");
    rsm.run(&["detect", "end", &handle]).ok();
    // Found by a hostile run: a script could not read the handle, another
    // library's cartridge went into the drive unseen, and a stand-alone
    // drive "asked" for a cleaning nobody would queue.
    let watched = rsm.run(&["--json", "detect", "watch", "desk"]).ok().json();
    assert!(watched["detection"].is_string(), "{watched}");
    rsm.run_as("mallory", &["detect", "poll", "desk"]).rejected("ERROR_ACCESS_DENIED", 5);
    rsm.run(&["detect", "poll", "LTO-7", "--of", "media-type"]).rejected("ERROR_INVALID_PARAMETER", 87);
    rsm.run(&["sim", "insert", &drive, "LIB0001L8", "--unseen"]).rejected("ERROR_INVALID_MEDIA", 4300);
    rsm.run(&["sim", "needs-cleaning", &drive]).rejected("ERROR_NOT_SUPPORTED", 50);
    rsm.run(&["detect", "end", &handle]).rejected("ERROR_INVALID_HANDLE", 6);
    rsm.run_as("bob", &["detect", "end", &handle]).rejected("ERROR_INVALID_HANDLE", 6);
    rsm.replay_ok();
}
