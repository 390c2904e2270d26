//! `rsm-proof`: the deterministic simulation, the crash torture and the power-cut torture.

use clap::{Parser, Subcommand};
use rsm_proof::simulate::{self, SimOptions};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "rsm-proof", about = "Evidence that rsm keeps every cartridge's whereabouts")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the whole engine on seeded deterministic schedules with faults.
    Simulate {
        /// How many seeds.
        #[arg(long, default_value_t = 300)]
        seeds: u64,
        /// The first seed (a failing seed reruns with --seed S --seeds 1).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Steps per seed before the fault-free drain.
        #[arg(long, default_value_t = 300)]
        steps: u64,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Kill the real rsm binary under load, at random moments and at every failpoint
    /// (or, with --power-cuts, cut the power of its filesystem at those moments).
    Torture {
        /// How many kills.
        #[arg(long, default_value_t = 50)]
        kills: u64,
        /// Cut the power this many times instead of killing: the data directory
        /// lives on a filesystem that loses what was not fsynced (needs root and FUSE).
        #[arg(long, conflicts_with = "kills")]
        power_cuts: Option<u64>,
        /// Seed of the kill moments and the load.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The rsm binary (default: beside this one).
        #[arg(long)]
        rsm: Option<std::path::PathBuf>,
        /// One JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Cmd::Simulate { seeds, seed, steps, json } => {
            let summary = simulate::run(seed, seeds, SimOptions { steps, faults: true });
            if json {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            } else {
                println!(
                    "{} seeds x {} steps: {} faults injected, {} crashes, {} commands acknowledged, {} ejects and injects, {} sides allocated, {} libraries deleted with a request in process, {} inventories after a door closed, {} drives cleaned",
                    summary.seeds,
                    summary.steps,
                    summary.faults_injected,
                    summary.crashes,
                    summary.acknowledged,
                    summary.port_moves,
                    summary.allocations,
                    summary.deletions_in_process,
                    summary.door_inventories,
                    summary.cleanings
                );
                for f in &summary.failures {
                    println!(
                        "FAILED seed {} at step {}: {}\n  rerun: rsm-proof simulate --seed {} --seeds 1 --steps {}",
                        f.seed, f.step, f.message, f.seed, steps
                    );
                }
                println!("{} passed, {} failed", summary.seeds - summary.failures.len() as u64, summary.failures.len());
            }
            if summary.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            }
        }
        Cmd::Torture { power_cuts: Some(cuts), seed, rsm, json, .. } => {
            rsm_proof::power_cut::main(cuts, seed, rsm, json)
        }
        Cmd::Torture { kills, seed, rsm, json, .. } => rsm_proof::torture::main(kills, seed, rsm, json),
    }
}
