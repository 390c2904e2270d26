//! A mount of an offline cartridge through the real binary: it waits, the
//! operator is asked to bring the cartridge (`rsm operator list`), and once
//! it comes back through the port the mount runs and the operator request
//! is completed by rsm; refusing the operator request fails the mount.

mod support;
use serde_json::Value;
use support::*;

fn offline_cartridge() -> Rsm {
    let rsm = Rsm::new();
    rsm.run(&["library", "create-sim", "lib", "--drives", "1", "--slots", "4", "--media", "2"]).ok();
    rsm.run(&["eject", "LIB0001L8", "--wait"]).ok();
    rsm.run(&["sim", "empty-port", "lib-port-1"]).ok();
    rsm.run(&["inventory", "lib"]).ok();
    let media = rsm.view("media");
    let m = media.iter().find(|m| m["barcode"] == "LIB0001L8").expect("listed");
    assert_eq!(m["location"], "offline", "{m}");
    rsm
}

fn move_requests(rsm: &Rsm) -> Vec<Value> {
    let list = rsm.run(&["--json", "operator", "list"]).ok().json();
    list.as_array().cloned().unwrap_or_default().into_iter().filter(|o| o["kind"] == "move-media").collect()
}

#[test]
fn a_mount_of_an_offline_cartridge_waits_for_the_operator_to_bring_it() {
    let rsm = offline_cartridge();
    rsm.run(&["mount", "LIB0001L8", "--error-if-offline"]).rejected("ERROR_MEDIA_OFFLINE", 4304);
    let mount = rsm.run(&["--json", "mount", "LIB0001L8"]).ok().json();
    assert_eq!(mount["state"], "waiting", "{mount}");
    assert!(mount["detail"]["awaits_operator_request"].is_string(), "{mount}");
    let asked = move_requests(&rsm);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["state"], "submitted", "{asked:?}");
    rsm.run(&["mount", "LIB0001L8"]).rejected("ERROR_BUSY", 170);

    // The operator brings it through the port; the inject takes it home and the mount runs.
    rsm.run(&["sim", "fill-port", "lib-port-1", "LIB0001L8"]).ok();
    rsm.run(&["inject", "lib", "--wait"]).ok();
    rsm.run(&["run", "--until-idle"]).ok();
    let id = mount["request"].as_str().expect("an id");
    let done = rsm.view("queue").into_iter().find(|r| r["id"] == id).expect("the mount is listed");
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(move_requests(&rsm)[0]["state"], "complete");
    rsm.replay_ok();
}

#[test]
fn refusing_the_operator_request_fails_the_mount() {
    let rsm = offline_cartridge();
    let mount = rsm.run(&["--json", "mount", "LIB0001L8"]).ok().json();
    let asked = move_requests(&rsm)[0]["id"].as_str().expect("an id").to_owned();
    rsm.run(&["--admin", "admin", "operator", "cancel", &asked]).ok();
    let id = mount["request"].as_str().expect("an id");
    let failed = rsm.view("queue").into_iter().find(|r| r["id"] == id).expect("the mount is listed");
    assert_eq!((failed["state"].as_str(), failed["error"].as_str()), (Some("failed"), Some("ERROR_REQUEST_REFUSED")));
    rsm.replay_ok();
}
