#![doc = include_str!("../README.md")]
//!
//! ## Crate map
//! This facade re-exports what an embedder needs: [`Engine`], [`Session`],
//! [`RequestHandle`], the model's ids, objects, commands and [`NtmsError`].
//! The layers underneath are `rsm_model` (pure rules), `rsm_log` (the durable
//! log), `rsm_hardware` (adapters and the simulator) and `rsm_engine`.

pub use rsm_engine::{
    failure_code, Accepted, Clock, CommitStats, Engine, EngineConfig, EngineParts, HardwareProvider, IdSource,
    NotificationChannel, RandomIds, ReplayReport, RequestHandle, SeededIds, Session, SimProvider, Since, Subscription,
    SystemClock, INFINITE, ISCSI_INITIATOR,
};
pub use rsm_hardware as hardware;
pub use rsm_log as log;
pub use rsm_model::*;
