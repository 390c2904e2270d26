//! # rsm-hardware: the boundary to the robot
//!
//! Owns the [`HardwareAdapter`] trait through which workers move media, and
//! the simulator that stands in for a library. Adapters speak SCSI element
//! addresses and sense data; **they never see NTMS objects or error codes**
//! (the engine maps them), and they never touch the event log.
#![deny(missing_docs)]

mod adapter;
mod simulator;

pub use adapter::*;
pub use simulator::*;
