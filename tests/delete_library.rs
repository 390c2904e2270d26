//! DeleteNtmsLibrary through the real binary: the library's media move to
//! the offline library, and nothing left in the views names what is gone.

mod support;

use support::Rsm;

/// Regression: a deleted library's cartridges in drives vanished from the
/// catalog (`show media` listed nothing) while the hardware still held
/// them, and `show queue` showed bare ids of deleted elements.
#[test]
fn delete_library_keeps_its_media_in_the_offline_library() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "a", "--drives", "2", "--slots", "6", "--media", "3"]).ok();
    rsm.run(&["mount", "A0001L8", "--wait"]).ok();
    rsm.run(&["dismount-media", "A0001L8", "--deferred"]).ok();
    rsm.run(&["disable", "library", "a"]).ok();
    rsm.run(&["library", "delete", "a"]).ok();
    let media = rsm.view("media");
    let barcodes: Vec<&str> = media.iter().filter_map(|m| m["barcode"].as_str()).collect();
    assert_eq!(barcodes, ["A0001L8", "A0002L8", "A0003L8"], "{media:?}");
    assert!(media.iter().all(|m| m["location"] == "offline" && m["state"] == "idle" && m["home_slot"].is_null()));
    assert!(rsm.view("queue").is_empty(), "no request names a deleted element");
    rsm.replay_ok();
}

/// Regression: `library delete` left the simulated library's state file
/// (`sim/<id>.json`) behind, hardware that no library owns.
#[test]
fn delete_library_removes_its_simulators_state_file() {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "a", "--media", "2"]).ok();
    rsm.run(&["library", "create-sim", "b", "--media", "2"]).ok();
    let sim = rsm.dir.path().join("data/sim");
    let files = || std::fs::read_dir(&sim).expect("the simulators' directory").count();
    assert_eq!(files(), 2);
    rsm.run(&["disable", "library", "a"]).ok();
    rsm.run(&["library", "delete", "a"]).ok();
    assert_eq!(files(), 1, "library b's file stays, a's goes");
    rsm.run(&["mount", "B0001L8", "--wait"]).ok();
    rsm.replay_ok();
}
