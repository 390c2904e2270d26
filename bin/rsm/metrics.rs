//! `rsm metrics`: Prometheus text format. Counters and histograms are those
//! the engine recorded during the last invocation that ran commands (saved
//! beside the log when it ended); gauges are read from the views now. With
//! `--json`, the same families as one document.

use crate::{out, Outcome};
use rsm::*;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::Path;

const FILE: &str = "metrics.prom";

/// Summary quantiles, all estimated by the same sketch (0.01% relative
/// error). The exporter's default list adds 0 and 1, which it reports as the
/// exact minimum and maximum: next to an estimate, with few samples, the
/// median could exceed the maximum (or fall below the minimum), so the
/// quantiles of one summary were not monotonic.
const QUANTILES: [f64; 5] = [0.5, 0.9, 0.95, 0.99, 0.999];

/// Installs the process's recorder, with every metric the engine records
/// described (the HELP lines); `None` if one is installed already.
pub fn install() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    let builder = metrics_exporter_prometheus::PrometheusBuilder::new().set_quantiles(&QUANTILES).ok()?;
    let handle = builder.install_recorder().ok()?;
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_counter!("rsm_commands_accepted_total", "Commands accepted and committed to the log, per command.");
    describe_counter!("rsm_commands_rejected_total", "Commands rejected with an NTMS error, per command and error.");
    describe_histogram!(
        "rsm_append_batch_records",
        Unit::Count,
        "Records per commit group (one log append and flush)."
    );
    describe_histogram!("rsm_flush_seconds", Unit::Seconds, "Seconds to append and flush one commit group.");
    describe_histogram!(
        "rsm_request_seconds",
        Unit::Seconds,
        "Seconds a worker took to carry out a library request, per kind."
    );
    describe_histogram!(
        "rsm_replay_seconds",
        Unit::Seconds,
        "Seconds to rebuild the views at open (snapshot and tail)."
    );
    Some(handle)
}

/// Saves a process's rendered metrics; a failure only loses metrics, so it is reported, not fatal.
pub fn save(data: &Path, text: &str) {
    let tmp = data.join(format!("{FILE}.tmp"));
    if let Err(e) = std::fs::write(&tmp, text) {
        return out::warn(&format!("could not save metrics to {}: {e}", tmp.display()));
    }
    if let Err(e) = std::fs::rename(&tmp, data.join(FILE)) {
        out::warn(&format!("could not rename {} to {FILE}: {e}", tmp.display()));
    }
}

pub async fn print(engine: &Engine, data: &Path, json: bool) -> Outcome {
    let path = data.join(FILE);
    let mut text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // No invocation has run commands yet.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            out::warn(&format!("cannot read {}: {e}; only the gauges follow", path.display()));
            String::new()
        }
    };
    // The file is rsm's own, but it is read from disk: what is not the
    // exposition format's text (printable, one metric per line) is damage
    // or someone else's, and never reaches the terminal.
    if text.chars().any(|c| c.is_control() && c != '\n') {
        out::warn(&format!("{} is damaged (it holds control characters); only the gauges follow", path.display()));
        text.clear();
    }
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
    if json {
        return out::json(&families(&text));
    }
    out::text(&text)
}

/// The text format as `{"metrics": [{"name", "type", "help", "samples":
/// [{"name", "labels", "value"}]}]}`, families in the order they come.
fn families(text: &str) -> Value {
    let mut families: Vec<Map<String, Value>> = Vec::new();
    let family = |families: &mut Vec<Map<String, Value>>, name: &str| -> usize {
        if let Some(i) = families.iter().position(|f| f["name"] == name) {
            return i;
        }
        let mut f = Map::new();
        f.insert("name".into(), name.into());
        f.insert("type".into(), "untyped".into());
        f.insert("help".into(), Value::Null);
        f.insert("samples".into(), Value::Array(Vec::new()));
        families.push(f);
        families.len() - 1
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            let i = family(&mut families, name);
            families[i].insert("help".into(), help.replace("\\n", "\n").replace("\\\\", "\\").into());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let i = family(&mut families, name);
            families[i].insert("type".into(), kind.into());
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let Some((name, labels, value)) = sample(line) else { continue };
            // A summary's `_sum` and `_count` belong to its family.
            let owner = ["", "_sum", "_count", "_bucket"]
                .iter()
                .find_map(|suffix| {
                    let base = name.strip_suffix(suffix)?;
                    families.iter().position(|f| f["name"] == base)
                })
                .unwrap_or_else(|| family(&mut families, &name));
            if let Some(Value::Array(samples)) = families[owner].get_mut("samples") {
                samples.push(json!({"name": name, "labels": labels, "value": value}));
            }
        }
    }
    json!({"metrics": families})
}

/// One sample line: `name{label="value",...} value`.
fn sample(line: &str) -> Option<(String, Map<String, Value>, Value)> {
    let end = line.find(['{', ' '])?;
    let name = line[..end].to_string();
    let mut labels = Map::new();
    let mut rest = &line[end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let mut key = String::new();
        let close = loop {
            let (i, c) = chars.next()?;
            match c {
                '}' => break i,
                ',' | ' ' => {}
                '=' => {
                    let (_, '"') = chars.next()? else { return None };
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value.into());
                }
                c => key.push(c),
            }
        };
        rest = &inner[close + 1..];
    }
    let value = rest.split_whitespace().next()?;
    let value = value.parse::<f64>().ok().map_or_else(|| Value::from(value), Value::from);
    Some((name, labels, value))
}

/// A label value in the text format: backslash, double quote and line feed escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
