//! `rsm stress`: a concurrent workload for crash tests. Each line `ack
//! <request> <seq>` is printed only after the command is durable, so a parent
//! that kills this process knows exactly which commands were acknowledged.
//! Beside the sessions that mount and dismount, an operator ejects a
//! cartridge now and then and injects what is in the port, so kills land in
//! the middle of moves through the import/export port too.

use crate::sim::sim_spec;
use crate::{out, Failure, Outcome};
use rsm::*;

const LIBRARY: &str = "stress";

fn ack(request: RequestId, seq: u64) {
    // A closed pipe means the parent is gone; nothing useful is left to do.
    let _ = out::line(&format!("ack {request} {seq}"));
}

/// `watch`: print the notices this process's own subscription sees, from
/// the record given (none: from now), as `notice <line of rsm watch>`.
pub async fn run(engine: &Engine, sessions: u32, commands: u64, seed: u64, watch: Option<Option<u64>>) -> Outcome {
    let watcher = match watch {
        Some(from) => Some(watcher(engine.subscribe(&[], from.map_or(Since::Now, Since::Seq))?)),
        None => None,
    };
    let result = load(engine, sessions, commands, seed).await;
    if let Some((head, task)) = watcher {
        // Whatever the load committed is printed before the process ends.
        let _ = head.send(engine.last_seq());
        match task.await {
            Ok(printed) => printed?,
            Err(e) => return Err(Failure::Usage(format!("the watcher failed: {e}"))),
        }
    }
    result
}

type Watcher = (tokio::sync::oneshot::Sender<u64>, tokio::task::JoinHandle<Result<(), Failure>>);

/// Prints every record's notices as one write (a kill leaves whole lines of
/// whole records, but perhaps the last record's), until told the last
/// record to print.
fn watcher(mut subscription: Subscription) -> Watcher {
    let (head, mut last) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let print = |seq, notices: &[Notice]| out::text(&crate::watch::record_text("notice ", seq, notices, false));
        loop {
            tokio::select! {
                next = subscription.next_record() => {
                    let (seq, notices) = next?;
                    print(seq, &notices)?;
                }
                head = &mut last => {
                    let Ok(head) = head else { return Ok(()) };
                    while let Some((seq, notices)) = subscription.next_record_until(head).await? {
                        print(seq, &notices)?;
                    }
                    return Ok(());
                }
            }
        }
    });
    (head, task)
}

async fn load(engine: &Engine, sessions: u32, commands: u64, seed: u64) -> Outcome {
    let exists = engine.query(|s| s.library_named(LIBRARY).is_some()).await?;
    let admin = engine.session_for("stress-admin").await?;
    if !exists {
        let drives = u16::try_from(sessions.clamp(1, 32)).unwrap_or(32);
        let media = sessions.clamp(1, 32) * 3;
        let a = admin
            .submit(Command::CreateLibrary {
                session: admin.id(),
                spec: sim_spec(LIBRARY, "STRESS", drives, media + 8, 1, media, false),
            })
            .await?;
        ack(a.request, a.last_seq);
    }
    let library = engine
        .query(|s| s.library_named(LIBRARY).map(|l| l.id))
        .await?
        .ok_or_else(|| Failure::Usage("no stress library".into()))?;
    // Sessions of an earlier, killed load still hold drives: close them (their
    // holds become deferred dismounts), or every new mount finds every drive busy.
    let stale: Vec<SessionId> = engine
        .query(|s| s.sessions.values().filter(|x| x.open && x.principal.starts_with("load-")).map(|x| x.id).collect())
        .await?;
    for session in stale {
        let a = engine.submit(Command::CloseSession { session }).await?;
        ack(a.request, a.last_seq);
    }
    let barcodes: Vec<MediaId> =
        engine.query(move |s| s.media.values().filter(|m| m.library == library).map(|m| m.id).collect()).await?;
    for i in 0..sessions {
        let a = admin
            .submit(Command::GrantAccess {
                session: admin.id(),
                library,
                principal: format!("load-{i}"),
                rights: AccessMask::USE,
            })
            .await?;
        ack(a.request, a.last_seq);
    }
    let mut tasks = Vec::new();
    for i in 0..sessions {
        let engine = engine.clone();
        let barcodes = barcodes.clone();
        tasks.push(tokio::spawn(async move {
            let session = engine.open_session(&format!("load-{i}")).await?;
            let mut rng = seed ^ (u64::from(i) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut done = 0u64;
            while commands == 0 || done < commands {
                rng = splitmix64(rng);
                let media = barcodes[(rng % barcodes.len() as u64) as usize];
                done += 1;
                match session
                    .submit(Command::MountMedia { session: session.id(), media, options: MountOptions::default() })
                    .await
                {
                    Ok(a) => {
                        ack(a.request, a.last_seq);
                        let _ = engine.wait_for(a.request).await;
                        if let Ok(a) = session
                            .submit(Command::DismountMedia {
                                session: session.id(),
                                media,
                                deferred: rng.is_multiple_of(3),
                            })
                            .await
                        {
                            ack(a.request, a.last_seq);
                        }
                    }
                    Err(e) if e.kind() == ErrorCode::DatabaseFailure => return Err(e),
                    Err(_) => tokio::task::yield_now().await,
                }
            }
            Ok::<_, NtmsError>(())
        }));
    }
    tasks.push(tokio::spawn(operator(engine.clone(), admin, library, barcodes, commands, seed)));
    for t in tasks {
        match t.await {
            Ok(r) => r?,
            Err(e) => return Err(Failure::Usage(format!("a load task failed: {e}"))),
        }
    }
    engine.run_until_idle().await?;
    Ok(())
}

/// Ejects a random cartridge, then injects what the port holds (it goes
/// back home), `commands` times (0: until killed).
async fn operator(
    engine: Engine,
    admin: Session,
    library: LibraryId,
    barcodes: Vec<MediaId>,
    commands: u64,
    seed: u64,
) -> Result<(), NtmsError> {
    let mut rng = splitmix64(seed ^ 0x0E1E_C7ED);
    let mut done = 0u64;
    while commands == 0 || done < commands {
        done += 1;
        rng = splitmix64(rng);
        let media = barcodes[(rng % barcodes.len() as u64) as usize];
        match admin.submit(Command::EjectMedia { session: admin.id(), media }).await {
            Ok(a) => {
                ack(a.request, a.last_seq);
                let _ = engine.wait_for(a.request).await;
            }
            Err(e) if e.kind() == ErrorCode::DatabaseFailure => return Err(e),
            Err(_) => {}
        }
        match admin.inject_media(library).await {
            // An empty port records nothing: there is nothing to acknowledge.
            Ok(a) if a.events.is_empty() => {}
            Ok(a) => {
                ack(a.request, a.last_seq);
                for e in &a.events {
                    if let Event::InjectRequested { request, .. } = e {
                        let _ = engine.wait_for(request.id).await;
                    }
                }
            }
            Err(e) if e.kind() == ErrorCode::DatabaseFailure => return Err(e),
            Err(_) => {}
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    Ok(())
}
