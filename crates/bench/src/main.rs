//! `rsm-bench`: the engine measured side by side with its ceilings (raw
//! sled, SQLite, the robot's physical bound), in one run. See BENCHMARKS.md.
//!
//! A tool of its own rather than a subcommand of `rsm`: it drives the
//! engine's `Core` directly and reads the log's raw tree, which the shipped
//! command and the facade have no business exposing.

mod cases;

use clap::{Parser, Subcommand};
use rsm_model::{LibraryKind, LibrarySpec, NtmsError};
use std::process::ExitCode;

/// The allocator of the `rsm` binary: sled's write path is allocator-bound,
/// so the figures must come from the same one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Measure the engine side by side with its ceilings (raw sled, SQLite, the robot's physical bound).
#[derive(Parser, Debug)]
#[command(name = "rsm-bench", version, about)]
struct Cli {
    /// Smaller sizes and fewer rounds (for CI).
    #[arg(long)]
    quick: bool,
    /// The figures as one JSON document.
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    case: Option<Case>,
}

#[derive(Subcommand, Debug)]
enum Case {
    /// One measurement, in a fresh process: what the run starts for each figure.
    #[command(hide = true)]
    Case {
        /// The case.
        name: String,
        /// Its arguments.
        args: Vec<String>,
    },
}

/// A measurement failed: the engine refused (exit 2), or the bench itself
/// (arguments, files, a child process: exit 1).
pub enum Failure {
    Rejected(NtmsError),
    Usage(String),
    Io(String),
    /// Stdout is closed: whoever reads has all it wanted.
    Closed,
}

impl From<NtmsError> for Failure {
    fn from(e: NtmsError) -> Self {
        Failure::Rejected(e)
    }
}

pub type Outcome = Result<(), Failure>;

/// The bench's output: stdout for figures, stderr for progress; no panic on
/// a closed or full stdout.
pub mod out {
    use crate::Failure;
    use std::io::{self, Write};

    pub fn text(text: &str) -> Result<(), Failure> {
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| match e.kind() {
            io::ErrorKind::BrokenPipe => Failure::Closed,
            _ => Failure::Io(format!("cannot write to standard output: {e}")),
        })
    }

    pub fn json(document: &serde_json::Value) -> Result<(), Failure> {
        text(&format!("{document}\n"))
    }

    pub fn error(line: &str) {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{line}").and_then(|()| err.flush());
    }
}

/// A simulated changer whose cartridges are `PREFIX0001L8`, ... in its first slots.
pub fn sim_spec(name: &str, prefix: &str, drives: u16, slots: u32, ie_ports: u16, media: u32) -> LibrarySpec {
    let barcodes = (1..=media).map(|i| format!("{prefix}{i:04}L8")).collect();
    LibrarySpec {
        name: name.into(),
        kind: LibraryKind::Changer,
        drives,
        slots,
        ie_ports,
        barcodes,
        media_type: rsm_model::default_media_type(),
        unlabelled: Vec::new(),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            out::error(&format!("rsm-bench: cannot start the runtime: {e}"));
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match &cli.case {
            Some(Case::Case { name, args }) => cases::case(name, args).await,
            None => cases::run(cli.quick, cli.json).await,
        }
    });
    match result {
        Ok(()) | Err(Failure::Closed) => ExitCode::SUCCESS,
        Err(Failure::Rejected(e)) => {
            out::error(&format!("{} ({}): {}", e.name(), e.code(), e.message()));
            ExitCode::from(2)
        }
        Err(Failure::Usage(message) | Failure::Io(message)) => {
            out::error(&format!("rsm-bench: {message}"));
            ExitCode::from(1)
        }
    }
}
