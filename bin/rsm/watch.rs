//! `rsm watch`: database notifications (spec §3.7) printed as they commit,
//! one line per notice with its record's sequence number, while the workers
//! run (this process owns the store, as `rsm run` does). `--from SEQ`
//! resumes where an earlier watch stopped; `--until-idle` prints what the
//! log holds up to its head and exits.
//!
//! A record's notices are written with one write, so a reader that is
//! killed or closes the pipe sees whole records, except perhaps the last.

use crate::{out, stop, Failure, Outcome};
use rsm::*;
use serde_json::json;

/// The object types `names` name (empty: every type).
pub fn parse_types(names: &[String]) -> Result<Vec<ObjectType>, Failure> {
    names
        .iter()
        .map(|name| {
            ObjectType::ALL.iter().copied().find(|t| t.name() == name.trim()).ok_or_else(|| {
                let known: Vec<&str> = ObjectType::ALL.iter().map(|t| t.name()).collect();
                Failure::Usage(format!("--types: no object type {name:?} (known: {})", known.join(", ")))
            })
        })
        .collect()
}

/// A notice as `rsm watch` prints it: one line (no newline), or one JSON document.
pub fn format(seq: u64, notice: &Notice, json: bool) -> String {
    if json {
        json!({
            "seq": seq,
            "operation": notice.operation.name(),
            "ntms_operation": notice.operation.ntms_name(),
            "type": notice.object_type().name(),
            "ntms_type": notice.object_type().ntms_name(),
            "id": notice.object_id().to_string(),
        })
        .to_string()
    } else {
        format!("{seq:>8}  {:<8}  {:<16}  {}", notice.operation.name(), notice.object_type().name(), notice.object_id())
    }
}

/// The lines of one record, `prefix` before each, as one string.
pub fn record_text(prefix: &str, seq: u64, notices: &[Notice], json: bool) -> String {
    notices.iter().map(|n| format!("{prefix}{}\n", format(seq, n, json))).collect()
}

/// How long a watch goes on.
pub enum Until {
    /// Until a stop signal.
    Stopped,
    /// Up to the log's head when it starts.
    Idle,
    /// This many notices (or a stop signal).
    Count(u64),
}

pub async fn run(engine: &Engine, types: &[String], from: Option<u64>, until: Until, json: bool) -> Outcome {
    let types = parse_types(types)?;
    let since = from.map_or(Since::Now, Since::Seq);
    let mut subscription = engine.subscribe(&types, since)?;
    match until {
        Until::Idle => {
            let head = engine.last_seq();
            while let Some((seq, notices)) = subscription.next_record_until(head).await? {
                out::text(&record_text("", seq, &notices, json))?;
            }
            Ok(())
        }
        Until::Stopped | Until::Count(_) => {
            let mut left = match until {
                Until::Count(n) => Some(n),
                _ => None,
            };
            if !json {
                out::error("rsm: watching; Ctrl-C or SIGTERM to stop");
            }
            while left != Some(0) {
                let (seq, notices) = tokio::select! {
                    next = subscription.next_record() => next?,
                    signal = stop::first() => {
                        out::error(&format!("rsm: {}: stopping after the steps under way", signal.name()));
                        return Ok(());
                    }
                    // Found by a hostile run: `rsm watch | head -1` waited for
                    // the next record to learn its reader was gone, holding the
                    // store all the while.
                    () = out::reader_gone() => return Ok(()),
                };
                if let Some(n) = left.as_mut() {
                    *n = n.saturating_sub(notices.len() as u64);
                }
                out::text(&record_text("", seq, &notices, json))?;
            }
            Ok(())
        }
    }
}
