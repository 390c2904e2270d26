//! # rsm-hardware: the boundary to the robot
//!
//! Owns the [`HardwareAdapter`] trait through which workers move media, the
//! simulator that stands in for a library, and [`ScsiChanger`], the adapter
//! that drives a real SCSI media changer and its tape drives through
//! `rsm-transport` (iSCSI or SG_IO) with `rsm-scsi`'s CDBs and parsers.
//! Adapters speak SCSI element addresses and sense data; **they never see
//! NTMS objects or error codes** (the engine maps them), and they never
//! touch the event log.
#![deny(missing_docs)]

mod adapter;
mod scsi_changer;
mod simulator;

pub use adapter::*;
pub use scsi_changer::*;
pub use simulator::*;
