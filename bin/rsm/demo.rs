//! `rsm demo`: the README's main job. A fresh simulated library in a
//! temporary directory, a workload with accepted and rejected commands, the
//! views, and a replay that proves they come back identical.

use crate::render::{
    drive_state, location_json, media_state, request_failure, request_json, request_state, side_state, table,
};
use crate::sim::{device_error, sim_spec};
use crate::{out, Failure, Outcome};
use rsm::hardware::Fault;
use rsm::*;
use serde_json::json;

struct Tour {
    json: bool,
    steps: Vec<serde_json::Value>,
}

impl Tour {
    fn say(&mut self, what: &str, result: Result<String, NtmsError>) -> Outcome {
        let line = match &result {
            Ok(detail) => format!("  ok      {what}: {detail}"),
            Err(e) => format!("  refused {what}: {} ({}) {}", e.name(), e.code(), e.message()),
        };
        self.steps.push(match result {
            Ok(detail) => json!({"step": what, "ok": true, "detail": detail}),
            Err(e) => json!({"step": what, "ok": false, "error": e.name(), "code": e.code()}),
        });
        if self.json {
            return Ok(());
        }
        out::line(&line)
    }

    fn heading(&self, text: &str) -> Outcome {
        if self.json {
            return Ok(());
        }
        out::line("")?;
        out::line(&format!("== {text}"))
    }
}

async fn id_of<T: Send + 'static>(
    engine: &Engine,
    f: impl FnOnce(&State) -> Option<T> + Send + 'static,
) -> Result<T, Failure> {
    engine.query(f).await?.ok_or_else(|| {
        Failure::Rejected(NtmsError::new(ErrorCode::ObjectNotFound, "the demo library lacks an object it created"))
    })
}

/// How a request ended, in the words of `rsm show queue`: `completed in
/// demo-drive-2` (`via demo-port-1`), or its error with the sense in words.
async fn ended(engine: &Engine, id: RequestId) -> Result<Result<String, NtmsError>, Failure> {
    let row = id_of(engine, move |s| s.requests.get(&id).map(|r| request_json(s, r))).await?;
    if row["state"] != "completed" {
        return Ok(Err(request_failure(&row)));
    }
    let place = match (row["drive"].as_str(), row["port"].as_str()) {
        (_, Some(port)) => format!(" via {port}"),
        (Some(drive), None) => format!(" in {drive}"),
        (None, None) => String::new(),
    };
    Ok(Ok(format!("completed{place}")))
}

pub async fn run(json: bool) -> Outcome {
    // Removed when the tour ends, however it ends.
    let dir = tempfile::Builder::new().prefix("rsm-demo-").tempdir().map_err(|e| {
        Failure::Io(format!("cannot create a temporary directory in {}: {e}", std::env::temp_dir().display()))
    })?;
    let data = dir.path().join("rsm-data");
    let mut tour = Tour { json, steps: Vec::new() };
    let config = EngineConfig { run_workers: false, ..EngineConfig::default() };
    let engine = Engine::open(&data, config.clone()).await?;
    tour.heading(&format!("a simulated library in {}", data.display()))?;
    let admin = engine.open_session("admin").await?;
    let library = admin.create_library(sim_spec("demo", "DEMO", 2, 8, 1, 5, false)).await?;
    tour.say("create library demo (2 drives, 8 slots, 1 port, 5 cartridges)", Ok(library.to_string()))?;
    let m1 = id_of(&engine, |s| s.medium_by_barcode("DEMO0001L8").map(|m| m.id)).await?;
    let m2 = id_of(&engine, |s| s.medium_by_barcode("DEMO0002L8").map(|m| m.id)).await?;
    let m3 = id_of(&engine, |s| s.medium_by_barcode("DEMO0003L8").map(|m| m.id)).await?;
    let d1 = id_of(&engine, |s| s.drive_named("demo-drive-1").map(|d| d.id)).await?;
    let d2 = id_of(&engine, |s| s.drive_named("demo-drive-2").map(|d| d.id)).await?;

    tour.heading("mounts and dismounts")?;
    let r = admin.mount_media(m1, MountOptions { drive: Some(d1), ..Default::default() }).await?;
    tour.say("mount DEMO0001L8 in demo-drive-1", Ok(format!("request {} queued", r.id())))?;
    let no_wait = MountOptions { drive: Some(d1), no_wait_if_busy: true, ..Default::default() };
    let busy = admin.mount_media(m2, no_wait).await.map(|r| r.id().to_string());
    tour.say("mount DEMO0002L8 in demo-drive-1 as well, --no-wait-if-busy", busy)?;
    let r2 = admin.mount_media(m2, MountOptions::default()).await?;
    tour.say("mount DEMO0002L8 in any drive", Ok(format!("request {} queued", r2.id())))?;
    let n = engine.run_until_idle().await?;
    tour.say("the robot works the queue", Ok(format!("{n} requests completed")))?;
    let opened = admin.dismount_drive(d1).await.map(|r| r.id().to_string());
    tour.say("dismount-drive demo-drive-1 while its cartridge is opened", opened)?;
    let guest = engine.open_session("guest").await?;
    let denied = guest.dismount_drive(d2).await.map(|r| r.id().to_string());
    tour.say("guest dismounts demo-drive-2 without modify access", denied)?;
    let unknown = admin.dismount_drive(DriveId(uuid::Uuid::from_u128(7))).await.map(|r| r.id().to_string());
    tour.say("dismount-drive of a drive that does not exist", unknown)?;
    admin.dismount_media(m1, true).await?;
    tour.say("dismount-media DEMO0001L8 --deferred", Ok("released, left in demo-drive-1".into()))?;
    let r = admin.dismount_drive(d1).await?;
    tour.say("dismount-drive demo-drive-1", Ok(format!("request {} queued, home slot reserved", r.id())))?;
    let again = admin.dismount_drive(d1).await.map(|r| r.id().to_string());
    tour.say("dismount-drive demo-drive-1 again", again)?;
    admin.dismount_media(m2, false).await?;
    tour.say("dismount-media DEMO0002L8", Ok("queued".into()))?;
    let n = engine.run_until_idle().await?;
    tour.say("the robot works the queue", Ok(format!("{n} requests completed")))?;
    let empty = admin.dismount_drive(d1).await.map(|r| r.id().to_string());
    tour.say("dismount-drive demo-drive-1, now empty", empty)?;

    tour.heading("a robot failure, reported with its sense data")?;
    engine.simulator(library).await?.inject(Fault::RobotFailure, 1).map_err(device_error)?;
    let r = admin.mount_media(m3, MountOptions::default()).await?;
    engine.run_until_idle().await?;
    tour.say("mount DEMO0003L8 with the robot failing", ended(&engine, r.id()).await?)?;
    let r = admin.mount_media(m3, MountOptions::default()).await?;
    engine.run_until_idle().await?;
    tour.say("mount DEMO0003L8 again", ended(&engine, r.id()).await?)?;

    tour.heading("out and in through the import/export port")?;
    let m4 = id_of(&engine, |s| s.medium_by_barcode("DEMO0004L8").map(|m| m.id)).await?;
    let m5 = id_of(&engine, |s| s.medium_by_barcode("DEMO0005L8").map(|m| m.id)).await?;
    let r = admin.eject_media(m5).await?;
    engine.run_until_idle().await?;
    tour.say("eject DEMO0005L8", ended(&engine, r.id()).await?.map(|e| format!("{e}, for the operator")))?;
    let full = admin.eject_media(m4).await.map(|r| r.id().to_string());
    tour.say("eject DEMO0004L8 while the one port is full", full)?;
    let sim = engine.simulator(library).await?;
    let port =
        id_of(&engine, |s| s.library_named("demo").and_then(|l| l.ports.first().map(|p| s.ports[p].element_address)))
            .await?;
    let taken = sim.operator_empty_port(port).map_err(device_error)?;
    let seen =
        admin.inventory(library).await.map(|a| format!("{} taken: {} event(s), now offline", taken, a.events.len()));
    tour.say("the operator empties the port; inventory", seen)?;
    sim.operator_fill_port(port, "NEWDEMO1").map_err(device_error)?;
    let accepted = admin.inject_media(library).await?;
    engine.run_until_idle().await?;
    let home =
        id_of(&engine, |s| s.medium_by_barcode("NEWDEMO1").and_then(|m| m.home_slot).map(|h| s.slots[&h].name.clone()))
            .await?;
    tour.say(
        "the operator puts NEWDEMO1 in the port; inject",
        Ok(format!("{} request(s), NEWDEMO1 now in {home}", accepted.events.len())),
    )?;
    let arrived = id_of(&engine, |s| {
        let m = s.medium_by_barcode("NEWDEMO1")?;
        let x = m.sides.first()?;
        Some(format!("{} in {}, label {}", side_state(x.state), s.pool_path(m.pool), x.omid.as_ref()?.display()))
    })
    .await?;
    tour.say("NEWDEMO1 was blank: classified, then given rsm's free-media label", Ok(arrived))?;

    tour.heading("media pools: a backup application's day")?;
    admin.create_media_pool("\\Backup", None, PoolAction::OpenAlways).await?;
    let daily = admin.create_media_pool("Backup\\Daily", Some(default_media_type()), PoolAction::CreateNew).await?;
    admin.set_pool_policy(daily, true, true, 2).await?;
    tour.say(
        "pool create Backup\\Daily --type LTO-8 --from-scratch --to-scratch --max-allocates 2",
        Ok(daily.to_string()),
    )?;
    let lmid = admin.allocate_media(daily, None, AllocateOptions::default()).await?;
    let barcode_of = |lmid: LogicalMediaId| {
        id_of(&engine, move |s| s.logical_medium(lmid).map(|(m, _)| (m.id, m.barcode.clone(), m.side_id(0))))
    };
    let (media, barcode, side) = barcode_of(lmid).await?;
    tour.say("allocate Backup\\Daily (drawn from the free pool)", Ok(format!("logical medium {lmid} on {barcode}")))?;
    let write = MountOptions { write: true, ..Default::default() };
    let r = admin.mount_media(media, write).await?;
    engine.run_until_idle().await?;
    tour.say("mount the logical medium for writing", ended(&engine, r.id()).await?)?;
    let r = admin.dismount_media(media, false).await?;
    engine.run_until_idle().await?;
    tour.say("dismount it", ended(&engine, r.id()).await?)?;
    admin.set_media_complete(lmid).await?;
    tour.say("complete: the tape is full", Ok("no more writes".into()))?;
    let refused = admin.mount_media(media, write).await.map(|r| r.id().to_string());
    tour.say("mount it for writing again", refused)?;
    admin.deallocate_media(lmid).await?;
    tour.say("deallocate: its data expired", Ok(format!("{barcode} back in \\Free\\LTO-8")))?;
    let again = admin.allocate_media(daily, Some(side), AllocateOptions::default()).await?;
    admin.deallocate_media(again).await?;
    let state = id_of(&engine, move |s| s.side(side).map(|(_, x)| side_state(x.state))).await?;
    tour.say(&format!("allocate {barcode} a second time, deallocate"), Ok(format!("{state}: its allocation limit")))?;
    let weekly = admin.create_media_pool("Backup\\Weekly", Some(default_media_type()), PoolAction::CreateNew).await?;
    let nothing = admin.allocate_media(weekly, None, AllocateOptions::default()).await.map(|l| l.to_string());
    tour.say("allocate Backup\\Weekly (empty, not drawing from scratch)", nothing)?;
    let waited = admin
        .allocate_media_waiting(weekly, None, AllocateOptions::default(), AllocationTimeout::Millis(50))
        .await
        .map(|l| l.to_string());
    tour.say("allocate Backup\\Weekly --timeout 50: a new-media operator request is raised", waited)?;
    let raised = id_of(&engine, |s| {
        let r = s.operator_requests.values().last()?;
        Some(format!("{}: {} ({})", format!("{:?}", r.state).to_lowercase(), r.text, r.reason?.name()))
    })
    .await?;
    tour.say("the operator request, withdrawn at the timeout", Ok(raised))?;

    tour.heading("a queue: more mounts than drives")?;
    admin.create_library(sim_spec("busy", "BUSY", 1, 4, 0, 3, false)).await?;
    let cartridge = |barcode: &'static str| id_of(&engine, move |s| s.medium_by_barcode(barcode).map(|m| m.id));
    let (b1, b2, b3) = (cartridge("BUSY0001L8").await?, cartridge("BUSY0002L8").await?, cartridge("BUSY0003L8").await?);
    admin.mount_media(b1, MountOptions::default()).await?;
    engine.run_until_idle().await?;
    tour.say("create library busy (1 drive), mount BUSY0001L8", Ok("completed: the one drive is held".into()))?;
    let normal = admin.mount_media(b2, MountOptions::default()).await?.id();
    let urgent = admin.mount_media(b3, MountOptions { priority: 5, ..Default::default() }).await?.id();
    let orders = engine
        .query(move |s| {
            let state = |r: RequestId| s.requests.get(&r).map_or("gone", |r| request_state(r.state));
            format!(
                "BUSY0002L8 {} order {}, BUSY0003L8 (priority 5) {} order {}",
                state(normal),
                request_order(s, normal),
                state(urgent),
                request_order(s, urgent)
            )
        })
        .await?;
    tour.say("mount BUSY0002L8, then BUSY0003L8 --priority 5", Ok(orders))?;
    admin.cancel_request(normal).await?;
    tour.say("cancel the mount of BUSY0002L8", Ok("cancelled; BUSY0003L8 is order 1".into()))?;
    admin.dismount_media(b1, false).await?;
    engine.run_until_idle().await?;
    let ran = engine.query(move |s| s.requests.get(&urgent).map(|r| request_state(r.state))).await?;
    tour.say("dismount-media BUSY0001L8: the waiting mount takes the drive", Ok(ran.unwrap_or("gone").into()))?;

    tour.heading("the operator: the door, and a cartridge that is not there")?;
    let busy = id_of(&engine, |s| s.library_named("busy").map(|l| l.id)).await?;
    let since = engine.last_seq() + 1;
    let mut watch = engine.subscribe(&[ObjectType::Library, ObjectType::OperatorRequest], Since::Seq(since))?;
    admin.dismount_media(b3, false).await?;
    engine.run_until_idle().await?;
    let sim = admin.simulator(busy).await?;
    admin.access_door(busy, InventoryMethod::Fast.ntms_value()).await?;
    let home = id_of(&engine, move |s| s.media.get(&b2).and_then(|m| m.home_slot).map(|h| s.slots[&h].element_address))
        .await?;
    let taken = sim.operator_take_from_slot(home).map_err(device_error)?;
    let (_, found) = admin.close_door(busy).await?;
    let gone = found.is_some_and(|a| a.events.iter().any(|e| matches!(e, Event::CartridgeVanished { .. })));
    tour.say(
        &format!("door open busy, the operator takes {taken} out, door close"),
        Ok(if gone { format!("the inventory after it finds {taken} gone: offline") } else { "no difference".into() }),
    )?;
    let offline = admin.mount_media(b2, MountOptions::default()).await?.id();
    let asked = id_of(&engine, move |s| {
        s.awaiting_media.get(&offline).and_then(|o| s.operator_requests.get(o)).map(|o| o.text.clone())
    })
    .await?;
    tour.say(&format!("mount {taken}"), Ok(format!("waiting; operator request: {asked}")))?;
    admin.access_door(busy, InventoryMethod::Fast.ntms_value()).await?;
    sim.operator_put_in_slot(home, &taken).map_err(device_error)?;
    admin.close_door(busy).await?;
    engine.run_until_idle().await?;
    tour.say(&format!("the operator puts {taken} back through the door"), ended(&engine, offline).await?)?;
    let last = engine.last_seq();
    let mut excerpt = Vec::new();
    while let Some((seq, notices)) = watch.next_record_until(last).await? {
        excerpt.push(crate::watch::record_text("  watch", seq, &notices, false));
    }
    tour.say("rsm watch --types library,operator-request", Ok(format!("{} records with notices", excerpt.len())))?;
    if !json {
        for line in excerpt.iter().take(8) {
            out::text(line)?;
        }
    }

    tour.heading("a drive asking for cleaning")?;
    admin.dismount_media(b2, false).await?;
    let drive = id_of(&engine, move |s| s.libraries.get(&busy).and_then(|l| l.drives.first().copied())).await?;
    let address = id_of(&engine, move |s| s.drives.get(&drive).map(|d| d.element_address)).await?;
    sim.set_needs_cleaning(address).map_err(device_error)?;
    engine.run_until_idle().await?;
    let asked = id_of(&engine, move |s| {
        let wanted = s.drives.get(&drive)?.cleaning_wanted.as_ref()?;
        Some(
            wanted
                .operator_request
                .and_then(|o| s.operator_requests.get(&o))
                .map_or_else(String::new, |o| o.text.clone()),
        )
    })
    .await?;
    tour.say("sim needs-cleaning busy-drive-1", Ok(format!("cleaning wanted; operator request: {asked}")))?;
    let spare = id_of(&engine, move |s| {
        let lib = s.libraries.get(&busy)?;
        lib.slots
            .iter()
            .rev()
            .map(|x| &s.slots[x])
            .find(|x| x.content.is_none() && x.home_of.is_none())
            .map(|x| (x.id, x.element_address))
    })
    .await?;
    admin.reserve_cleaner_slot(busy, spare.0).await?;
    admin.inject_cleaner(busy, 10).await?;
    sim.operator_put_in_slot(spare.1, "CLN001L1").map_err(device_error)?;
    admin.close_door(busy).await?;
    engine.run_until_idle().await?;
    let cleaned = id_of(&engine, move |s| {
        let d = s.drives.get(&drive)?;
        let uses = s.libraries.get(&busy)?.cleaner_uses_remaining;
        Some(if d.last_cleaned_ms.is_some() {
            format!("cleaned; the cleaner has {uses} uses left")
        } else {
            "not cleaned".into()
        })
    })
    .await?;
    tour.say("cleaner reserve, cleaner inject busy --cleans 10 (through the door)", Ok(cleaned))?;

    tour.heading("the views")?;
    let (drives, media, queue) = engine
        .query(|s| {
            let mut drives: Vec<_> = s.drives.values().collect();
            drives.sort_by_key(|d| d.element_address);
            let drives: Vec<_> = drives.into_iter().map(|d| json!({"name": d.name, "state": drive_state(d.state), "barcode": d.medium.map(|m| s.media[&m].barcode.clone()), "holder": d.holder.map(|h| s.sessions[&h].principal.clone())})).collect();
            let mut media: Vec<_> = s.media.values().collect();
            media.sort_by(|a, b| a.barcode.cmp(&b.barcode));
            let media: Vec<_> = media.into_iter().map(|m| json!({"barcode": m.barcode, "state": media_state(m.state), "location": location_json(s, m.location).1.as_str().unwrap_or("offline")})).collect();
            let mut rs: Vec<_> = s.requests.values().collect();
            rs.sort_by_key(|r| r.order);
            let queue: Vec<_> = rs.iter().map(|r| {
                let row = request_json(s, r);
                json!({"kind": row["kind"], "state": row["state"], "barcode": row["barcode"], "at": if row["port"].is_null() { &row["drive"] } else { &row["port"] }, "error": row["error"], "sense": row["sense_text"]})
            }).collect();
            (drives, media, queue)
        })
        .await?;
    if !json {
        out::text(&table(&["name", "state", "barcode", "holder"], &drives))?;
        out::line("")?;
        out::text(&table(&["barcode", "state", "location"], &media))?;
        out::line("")?;
        out::text(&table(&["kind", "state", "barcode", "at", "error", "sense"], &queue))?;
    }

    tour.heading("replay")?;
    let live = engine.state().await?;
    let snap = engine.snapshot().await?;
    engine.shutdown().await;
    let reopened = Engine::open(&data, config).await?;
    let rebuilt = reopened.state().await?;
    let report = reopened.verify_replay().await?;
    reopened.shutdown().await;
    let identical = rebuilt == live && report.ok();
    tour.say(
        "reopen, rebuild from snapshot + tail, and replay every record from the first",
        if identical {
            Ok(format!("{} records, hash chain verified, snapshot at {snap}: views identical", report.records))
        } else {
            Err(NtmsError::new(ErrorCode::DatabaseFailure, "the replayed views differ"))
        },
    )?;
    if json {
        out::json(
            &json!({"steps": tour.steps, "replay_identical": identical, "records": report.records, "drives": drives, "media": media, "queue": queue}),
        )?;
    }
    if identical {
        Ok(())
    } else {
        Err(Failure::Rejected(NtmsError::new(ErrorCode::DatabaseFailure, "replay did not rebuild the same views")))
    }
}
