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

/// Ids from a seed: tests and the deterministic simulation, and (seeded from
/// the OS) production. Ids ascend within one generator: the high half is a
/// counter from a seeded base, so the request map, keyed by id, grows at its
/// right edge instead of splitting nodes all over (replay inserts hundreds of
/// thousands of requests); the low half mixes the seed in.
#[derive(Clone, Copy, Debug)]
pub struct SeededIds {
    base: u64,
    seed: u64,
    count: u64,
}

impl SeededIds {
    /// A generator whose sequence depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        // The counter lives in the top 48 bits (the uuid version nibble sits
        // below them); a 40-bit base leaves 2^47 ids before it could wrap.
        Self { base: splitmix64(seed) >> 24, seed, count: 0 }
    }
}

impl IdSource for SeededIds {
    fn next_id(&mut self) -> RequestId {
        self.count += 1;
        let mix = splitmix64(self.seed ^ self.count.rotate_left(29));
        let hi = (self.base.wrapping_add(self.count) << 16) | (mix >> 48);
        let lo = mix | 1;
        RequestId(uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes()).into_uuid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_ascend_and_do_not_repeat() {
        let mut ids = SeededIds::new(42);
        let mut prev = ids.next_id();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100_000 {
            let id = ids.next_id();
            assert!(id > prev, "{id} after {prev}");
            assert!(seen.insert(id));
            assert!(!id.is_nil());
            prev = id;
        }
        let mut again = SeededIds::new(42);
        assert_eq!(again.next_id(), SeededIds::new(42).next_id(), "the sequence is a function of the seed");
    }
}
