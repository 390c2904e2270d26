//! `rsm metrics`: Prometheus text format. Counters and histograms are those
//! the engine recorded during the last invocation that ran commands (saved
//! beside the log when it ended); gauges are read from the views now.

use crate::{out, Outcome};
use rsm::*;
use std::fmt::Write as _;
use std::path::Path;

const FILE: &str = "metrics.prom";

/// Saves a process's rendered metrics; a failure only loses metrics, so it is reported, not fatal.
pub fn save(data: &Path, text: &str) {
    let tmp = data.join(format!("{FILE}.tmp"));
    let result = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, data.join(FILE)));
    if let Err(e) = result {
        out::warn(&format!("could not save metrics: {e}"));
    }
}

pub async fn print(engine: &Engine, data: &Path) -> Outcome {
    let mut text = std::fs::read_to_string(data.join(FILE)).unwrap_or_default();
    let last_seq = engine.last_seq();
    let gauges = engine
        .query(move |s| {
            let mut g = String::new();
            let _ = writeln!(g, "# HELP rsm_queue_depth Library requests not yet finished, per library.");
            let _ = writeln!(g, "# TYPE rsm_queue_depth gauge");
            for lib in s.libraries.values() {
                let _ =
                    writeln!(g, "rsm_queue_depth{{library=\"{}\"}} {}", label(&lib.name), lib.active_requests.len());
            }
            let _ = writeln!(g, "# HELP rsm_drives_loaded Drives holding a cartridge, per library.");
            let _ = writeln!(g, "# TYPE rsm_drives_loaded gauge");
            for lib in s.libraries.values() {
                let loaded = lib.drives.iter().filter(|d| s.drives[*d].medium.is_some()).count();
                let _ = writeln!(g, "rsm_drives_loaded{{library=\"{}\"}} {loaded}", label(&lib.name));
            }
            let _ = writeln!(g, "# HELP rsm_log_records Records in the event log.");
            let _ = writeln!(g, "# TYPE rsm_log_records gauge");
            let _ = writeln!(g, "rsm_log_records {last_seq}");
            g
        })
        .await?;
    text.push_str(&gauges);
    out::text(&text)
}

/// A label value in the text format: backslash, double quote and line feed escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
