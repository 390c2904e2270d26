//! # rsm-proof: evidence that rsm never loses a cartridge's whereabouts
//!
//! Owns three harnesses:
//! * [`simulate`]: the whole engine (the same [`rsm_engine::Core`], the same
//!   worker plan and outcome functions, the simulator adapter, a memory log
//!   with injected faults) on one seeded, deterministic schedule, checking
//!   every invariant after every step;
//! * [`torture`]: the real `rsm` binary under load, killed with SIGKILL at
//!   random moments and at each instrumented failpoint, then checked;
//! * [`power_cut`]: the same load on a filesystem that holds back what is
//!   not fsynced ([`rsm_powercut`]), its power cut at the same moments.
//!
//! **Must not touch:** the rules or the engine's internals beyond their
//! public API; it only drives and checks them.
#![deny(missing_docs)]

mod harness;
pub mod power_cut;
pub mod simulate;
pub mod torture;
