//! The simulation itself: it passes on the real engine, it is deterministic,
//! and (with the `planted-bug` feature) it finds a planted bug.

use rsm_proof::simulate::{run, run_seed, SimOptions};

#[cfg(not(feature = "planted-bug"))]
#[test]
fn seeds_pass_with_faults_and_crashes() {
    let summary = run(1_000, 40, SimOptions { steps: 250, faults: true });
    assert!(summary.failures.is_empty(), "{:#?}", summary.failures);
    assert!(summary.crashes > 40, "too few crashes to test recovery: {}", summary.crashes);
    assert!(summary.faults_injected > 100, "too few faults: {}", summary.faults_injected);
    assert!(summary.acknowledged > 1_000, "too little work: {}", summary.acknowledged);
    assert!(summary.port_moves > 20, "too few ejects and injects: {}", summary.port_moves);
    assert!(summary.allocations > 20, "too few allocations: {}", summary.allocations);
    assert!(summary.door_inventories > 10, "too few door openings: {}", summary.door_inventories);
    assert!(summary.cleanings > 5, "too few cleanings: {}", summary.cleanings);
}

#[test]
fn a_seed_replays_exactly() {
    let a = run_seed(77, SimOptions { steps: 200, faults: true });
    let b = run_seed(77, SimOptions { steps: 200, faults: true });
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
}

/// A checker that cannot fail is worthless: with `apply` broken on purpose
/// (a dismount fills the slot but leaves the cartridge in the drive), the
/// simulation must fail within a few seeds, and name the seed.
#[cfg(feature = "planted-bug")]
#[test]
fn the_planted_bug_is_found_within_ten_seeds() {
    let summary = run(1, 10, SimOptions { steps: 300, faults: true });
    let first = summary.failures.first().expect("the planted bug went unnoticed for 10 seeds");
    assert!(first.message.contains("holds"), "{}", first.message);
    // The failing seed reproduces the same failure.
    let again = run_seed(first.seed, SimOptions { steps: 300, faults: true });
    assert_eq!(again.failure.as_ref(), Some(first));
}
