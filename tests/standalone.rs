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
