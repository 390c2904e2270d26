//! `decide` + `apply` per command, on a projection of one changer library
//! (1,000 slots, 16 drives, 800 cartridges) and on one of 64 such libraries
//! of 15,625 slots each (1,000,000 slots, 800,000 cartridges).
//!
//! * `mount_accepted`: MountMedia of a cartridge in its slot, accepted
//!   (MountRequested). Timed in blocks of 16 (one per drive); between blocks
//!   the cartridges are put back through the rules, untimed.
//! * `mount_accepted_hot`: the same, but every block mounts the same 16
//!   cartridges of the first library, so the objects touched stay in the CPU
//!   caches. The code path is the same as `mount_accepted`'s: the difference
//!   is memory locality, not work.
//! * `mount_cycle`: a mount and a dismount with every worker report between
//!   (see `mount_cycle`): nine commands, eleven events, that leave the
//!   library as they found it. Throughput counts commands.
//! * `dismount_rejected`: DismountDrive of an empty drive, rejected with
//!   ERROR_INVALID_STATE (5023): `decide` only, nothing to apply.
//!
//! Request ids ascend, as the engine's do (`SeededIds`). The projection
//! keeps the newest finished requests and purges older ones
//! (`limits::FINISHED_REQUESTS_KEPT`); criterion's warm-up fills that
//! history, so the timed commands include the purge, as in production.
//!
//! Run: `cargo bench --bench decide_apply`.

mod common;

use common::Fixture;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rsm::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Mount cycles per timed block.
const CYCLES_PER_BLOCK: u64 = 64;

/// The two projections: (label, libraries, slots per library, cartridges per library).
const SCALES: [(&str, usize, u32, usize); 2] = [("1k_slots", 1, 1_000, 800), ("1M_slots", 64, 15_625, 12_500)];
const DRIVES: u16 = 16;

/// Decides and applies one command inside a timed region; the command must be accepted.
fn timed(f: &mut Fixture, command: Command) -> Vec<Event> {
    let cmd = f.stamp(command);
    let events = match decide(&f.state, &f.policy, &cmd) {
        Ok(events) => events,
        Err(e) => panic!("{} rejected: {} {}", cmd.command.name(), e.name(), e.message()),
    };
    for event in &events {
        apply(&mut f.state, event).expect("a decided event applies");
    }
    black_box(events)
}

/// The `i`-th of the `n` cartridges block `block` uses: libraries in turn,
/// and a different run of cartridges each time round.
fn pick(f: &Fixture, block: u64, n: usize, i: usize) -> (LibraryId, MediaId) {
    let lib = &f.libs[(block as usize) % f.libs.len()];
    let round = (block as usize) / f.libs.len();
    (lib.id, lib.media[(round * n + i) % lib.media.len()])
}

/// Commands in one [`mount_cycle`].
const CYCLE_COMMANDS: u64 = 9;

/// One mount and dismount of `media`, every step as the worker reports it:
/// MountMedia; StartNext (the robot moves it), AdvanceRequest (moved, the
/// drive loads), CompleteRequest (loaded, held); DismountMedia; StartNext
/// (the drive unloads), AdvanceRequest (unloaded), StartNext (the robot
/// takes it), CompleteRequest (home). The library is left as it was found.
fn mount_cycle(f: &mut Fixture, session: SessionId, library: LibraryId, media: MediaId) {
    let started = |events: &[Event], what: &str| match events {
        [Event::RequestStarted { request, .. } | Event::RobotAssigned { request, .. }] => *request,
        other => panic!("{what}: {other:?}"),
    };
    timed(f, Command::MountMedia { session, media, options: Default::default() });
    let request = started(&timed(f, Command::StartNext { library }), "the mount starts");
    timed(f, Command::AdvanceRequest { request });
    timed(f, Command::CompleteRequest { request });
    timed(f, Command::DismountMedia { session, media, deferred: false });
    let request = started(&timed(f, Command::StartNext { library }), "the unload starts");
    timed(f, Command::AdvanceRequest { request });
    started(&timed(f, Command::StartNext { library }), "the robot is assigned");
    timed(f, Command::CompleteRequest { request });
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("decide_apply");
    for (label, libraries, slots, cartridges) in SCALES {
        let built = Instant::now();
        let mut f = Fixture::new(libraries, slots, DRIVES, cartridges, false);
        eprintln!(
            "{label}: {} libraries, {} slots, {} drives, {} cartridges, built in {:.1?}",
            f.state.libraries.len(),
            f.state.slots.len(),
            f.state.drives.len(),
            f.state.media.len(),
            built.elapsed()
        );

        group.throughput(Throughput::Elements(1));
        let mut block = 0u64;
        for (name, spread) in [("mount_accepted", true), ("mount_accepted_hot", false)] {
            group.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut done = 0;
                    while done < iters {
                        let n = (iters - done).min(u64::from(DRIVES));
                        // Spread: another library and other cartridges each block.
                        // Hot: the same 16 cartridges of the first library every block.
                        let at = if spread { block } else { 0 };
                        block += 1;
                        let library = pick(&f, at, 1, 0).0;
                        let media: Vec<MediaId> = (0..n as usize).map(|i| pick(&f, at, n as usize, i).1).collect();
                        let session = f.session;
                        let start = Instant::now();
                        for &m in &media {
                            let command = Command::MountMedia { session, media: m, options: Default::default() };
                            let events = timed(&mut f, command);
                            debug_assert!(matches!(events.as_slice(), [Event::MountRequested { .. }]));
                        }
                        total += start.elapsed();
                        f.put_back(library, &media);
                        done += n;
                    }
                    total
                })
            });
        }
        f.state.check_invariants().expect("mount_accepted leaves a valid projection");

        group.throughput(Throughput::Elements(CYCLE_COMMANDS));
        group.bench_function(BenchmarkId::new("mount_cycle", label), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let n = (iters - done).min(CYCLES_PER_BLOCK);
                    let session = f.session;
                    let start = Instant::now();
                    for _ in 0..n {
                        let (library, media) = pick(&f, block, 1, 0);
                        block += 1;
                        mount_cycle(&mut f, session, library, media);
                    }
                    total += start.elapsed();
                    done += n;
                }
                total
            })
        });
        f.state.check_invariants().expect("mount_cycle leaves a valid projection");

        group.throughput(Throughput::Elements(1));
        let lib = f.libs.last().expect("a library");
        let drive = *lib.drives.last().expect("a drive");
        let cmd = f.stamp(Command::DismountDrive { session: f.session, drive });
        let err = decide(&f.state, &f.policy, &cmd).expect_err("an empty drive cannot be dismounted");
        assert_eq!((err.name(), err.code()), ("ERROR_INVALID_STATE", 5023));
        group.bench_function(BenchmarkId::new("dismount_rejected", label), |b| {
            b.iter(|| decide(black_box(&f.state), &f.policy, black_box(&cmd)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
