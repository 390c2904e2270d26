//! Time and identifiers enter the engine here, and only here.

use rsm_model::{splitmix64, RequestId};
use std::time::{SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// A source of wall-clock time in milliseconds since the epoch.
pub trait Clock: Send + Sync {
    /// Now.
    fn now_ms(&self) -> u64;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }
}

/// A source of request ids (which also seed the ids of objects a command creates).
pub trait IdSource: Send {
    /// A fresh id, never the nil id.
    fn next_id(&mut self) -> RequestId;
}

/// Production ids: a sequence seeded once from the operating system's
/// entropy. Drawing every id from the kernel would cost a system call per
/// command; the seeded sequence never repeats within a process and two
/// processes collide only if their 64-bit seeds do.
#[derive(Clone, Copy, Debug)]
pub struct RandomIds(SeededIds);

impl Default for RandomIds {
    fn default() -> Self {
        Self(SeededIds::new(Uuid::new_v4().as_u64_pair().0))
    }
}

impl IdSource for RandomIds {
    fn next_id(&mut self) -> RequestId {
        self.0.next_id()
    }
}

/// Ids from a seed: tests and the deterministic simulation.
#[derive(Clone, Copy, Debug)]
pub struct SeededIds {
    state: u64,
}

impl SeededIds {
    /// A generator whose sequence depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl IdSource for SeededIds {
    fn next_id(&mut self) -> RequestId {
        self.state = self.state.wrapping_add(1);
        let hi = splitmix64(self.state);
        let lo = splitmix64(hi ^ self.state.rotate_left(17)) | 1;
        RequestId(uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes()).into_uuid())
    }
}
