//! The byte layouts of records, batches and snapshots: the only module that
//! knows bytes. All integers are little-endian.
//!
//! **Record** ([`CODEC_V1`]):
//!
//! | field | bytes |
//! |---|---|
//! | version = [`CODEC_V1`] | u8 |
//! | seq | u64 |
//! | at_ms | u64 |
//! | request (uuid bytes) | 16 |
//! | node | u32 |
//! | schema = [`SCHEMA_VERSION`] | u16 |
//! | principal | u16 length + utf-8 |
//! | payload: the event, bincode 2 serde `standard()` | u32 length + bytes |
//! | prev_hash | 32 |
//! | hash = blake3 of every byte above | 32 |
//!
//! **Batch** (one stored value per commit group, [`BATCH_V1`]):
//! `u8 version | u32 count | (u32 length | record)*`.
//!
//! **Snapshot** ([`SNAPSHOT_VERSION`]): `u8 version | u16 schema | u64 seq |
//! hash [32] | u64 length + bincode state | checksum [32]`, the checksum being
//! blake3 of every byte before it.
//!
//! **Head** ([`HEAD_V1`], one slot of the log's head file, see
//! `head.rs`): `magic "RSMHEAD" | u8 version | store id [16] | u64
//! generation | u64 seq | hash [32] | checksum [32]`, the checksum being
//! blake3 of every byte before it: [`HEAD_SLOT_LEN`] bytes.
//!
//! Decoders check every length against the input that remains before
//! slicing or allocating, verify the hash before decoding the payload, and
//! answer an error, never a panic, on any byte string.

use crate::{Envelope, Hash, LogError, Record, Snapshot};
use rsm_model::{uuid::Uuid, Event, RequestId, State};
use serde::de::DeserializeOwned;

/// Version tag of the record layout (the first byte of every record).
pub const CODEC_V1: u8 = 1;
/// Version of the event payload's schema (the shape of `rsm_model::Event`).
///
/// 2: library requests name an optional drive and an optional port (ejects
/// and injects). Schema 1 was never released; its records are refused with
/// a message naming the version.
pub const SCHEMA_VERSION: u16 = 4;
/// Version tag of a batch value.
pub const BATCH_V1: u8 = 1;
/// Version tag of a snapshot value, bumped whenever the state's encoding
/// changes (a field added to a view): a snapshot of an older state is then
/// skipped by its tag, never decoded into the new layout by chance, and
/// the log replays from its first record. 2: drives' own deferral delays
/// and the names of media, sides and logical media; 3: waiting mounts'
/// drives and requests' deadlines; 4: each library's mount order; 5: the
/// computer's settings; 6: libraries' doors, inventory method and due
/// inventory; 7: mounts awaiting an offline medium; 8: cleaners (the
/// libraries' cleaner slot and cleaner, drives' last cleaning and wanted
/// cleaning); 9: change detections.
pub const SNAPSHOT_VERSION: u8 = 9;

/// Version tag of a head slot.
pub const HEAD_V1: u8 = 1;
/// The bytes every head slot starts with: the file is rsm's, not sled's.
const HEAD_MAGIC: &[u8; 7] = b"RSMHEAD";
/// Bytes of one encoded head slot.
pub const HEAD_SLOT_LEN: usize = 7 + 1 + 16 + 8 + 8 + 32 + 32;

/// Longest principal, in bytes: its length is stored as a u16. The model
/// limits principals to 63 characters, far below.
pub const PRINCIPAL_LEN_MAX: usize = u16::MAX as usize;
/// Longest event payload, in bytes. The largest event is a LibraryCreated
/// of 64,000 slots and as many cartridges, about 13 MB; the bound keeps a
/// batch value (and the memory a decoder may claim) well within reach.
pub const PAYLOAD_LEN_MAX: usize = 32 << 20;

/// Bytes of a record around its principal and payload.
const RECORD_FIXED_LEN: usize = 1 + 8 + 8 + 16 + 4 + 2 + 2 + 4 + 32 + 32;
/// Bytes of a batch header.
const BATCH_HEADER_LEN: usize = 1 + 4;

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

fn too_large(seq: u64, what: &str, len: usize, max: usize) -> LogError {
    LogError::Io(format!("record {seq} cannot be stored: its {what} is {len} bytes, more than {max}"))
}

/// Appends the record of `envelope` chained to `prev_hash` to `buf` and
/// returns its hash. The hot path: [`encode_batch`] writes every record of a
/// commit group into one buffer. On error `buf` is left as it was.
///
/// Fails with [`LogError::Io`] when the principal is longer than
/// [`PRINCIPAL_LEN_MAX`] or the event encodes to more than [`PAYLOAD_LEN_MAX`].
pub fn encode_into(buf: &mut Vec<u8>, envelope: &Envelope, prev_hash: &Hash) -> Result<Hash, LogError> {
    let seq = envelope.seq;
    let principal = envelope.principal.as_bytes();
    let principal_len =
        u16::try_from(principal.len()).map_err(|_| too_large(seq, "principal", principal.len(), PRINCIPAL_LEN_MAX))?;
    let start = buf.len();
    buf.reserve(RECORD_FIXED_LEN + principal.len() + 64);
    buf.push(CODEC_V1);
    buf.extend_from_slice(&seq.to_le_bytes());
    buf.extend_from_slice(&envelope.at_ms.to_le_bytes());
    buf.extend_from_slice(envelope.request.0.as_bytes());
    buf.extend_from_slice(&envelope.node.to_le_bytes());
    buf.extend_from_slice(&SCHEMA_VERSION.to_le_bytes());
    buf.extend_from_slice(&principal_len.to_le_bytes());
    buf.extend_from_slice(principal);
    let len_at = buf.len();
    buf.extend_from_slice(&[0; 4]);
    bincode::serde::encode_into_std_write(&envelope.event, buf, bincode_config())
        .expect("the model's events always encode: plain derives, no maps with unsized keys");
    let payload_len = buf.len() - len_at - 4;
    if payload_len > PAYLOAD_LEN_MAX {
        buf.truncate(start);
        return Err(too_large(seq, "payload", payload_len, PAYLOAD_LEN_MAX));
    }
    let len32 = u32::try_from(payload_len).expect("PAYLOAD_LEN_MAX fits in u32");
    buf[len_at..len_at + 4].copy_from_slice(&len32.to_le_bytes());
    buf.extend_from_slice(prev_hash);
    let hash: Hash = blake3::hash(&buf[start..]).into();
    buf.extend_from_slice(&hash);
    Ok(hash)
}

/// The record of `envelope` chained to `prev_hash`, and its hash.
///
/// # Panics
///
/// When the envelope cannot be represented (see [`encode_into`]); the log's
/// own appends use [`encode_batch`], which reports that as an error.
pub fn encode_record(envelope: &Envelope, prev_hash: Hash) -> (Vec<u8>, Hash) {
    let mut buf = Vec::new();
    let hash = encode_into(&mut buf, envelope, &prev_hash)
        .expect("the envelope's principal and payload fit the record layout");
    (buf, hash)
}

/// A little reader that checks every length against what remains.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if n > self.remaining() {
            return Err(format!("{what} needs {n} bytes at offset {} but only {} remain", self.pos, self.remaining()));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn len_prefixed_u32(&mut self, what: &str) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.u32(what)?).map_err(|_| format!("{what} length overflows"))?;
        self.take(len, what)
    }

    fn finish(&self, what: &str) -> Result<(), String> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(format!("{n} stray bytes after the {what}")),
        }
    }
}

/// Decodes a bincode value, with a claim limit a small multiple of the input
/// so that a forged length can never make bincode allocate far beyond it.
/// (bincode claims at most 8 bytes per byte read: a one-byte varint stands
/// for a u64.) The last tier is reached only by inputs over 32 MiB, which in
/// practice are snapshots whose checksum has already been verified.
fn decode_bounded<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    fn with_limit<T: DeserializeOwned, const N: usize>(
        bytes: &[u8],
    ) -> Result<(T, usize), bincode::error::DecodeError> {
        bincode::serde::decode_from_slice(bytes, bincode_config().with_limit::<N>())
    }
    let decoded = match bytes.len() {
        0..=0x200 => with_limit::<T, 0x1000>(bytes),
        0x201..=0x2000 => with_limit::<T, 0x1_0000>(bytes),
        0x2001..=0x2_0000 => with_limit::<T, 0x10_0000>(bytes),
        0x2_0001..=0x20_0000 => with_limit::<T, 0x100_0000>(bytes),
        0x20_0001..=0x200_0000 => with_limit::<T, 0x1000_0000>(bytes),
        _ => with_limit::<T, { usize::MAX }>(bytes),
    };
    let (value, used) = decoded.map_err(|e| format!("payload does not decode: {e}"))?;
    if used != bytes.len() {
        return Err(format!("{} stray bytes after the payload", bytes.len() - used));
    }
    Ok(value)
}

/// The payload bytes of an event (bincode 2 serde, `standard()` config).
pub fn encode_event(event: &Event) -> Vec<u8> {
    bincode::serde::encode_to_vec(event, bincode_config())
        .expect("the model's events always encode: plain derives, no maps with unsized keys")
}

/// Decodes payload bytes made by [`encode_event`]. The error is
/// [`LogError::Corrupt`] with seq 0: no record is known at this level.
pub fn decode_event(bytes: &[u8]) -> Result<Event, LogError> {
    decode_bounded(bytes).map_err(|reason| LogError::Corrupt { seq: 0, reason })
}

/// Decodes and verifies one record that should be record `expected_seq`:
/// layout, lengths, version, schema, hash, seq and payload. Any problem is
/// [`LogError::Corrupt`] naming `expected_seq`. Does not check the chain to
/// the previous record (the caller knows it).
pub fn decode_record(bytes: &[u8], expected_seq: u64) -> Result<Record, LogError> {
    decode_record_inner(bytes, expected_seq, true).map_err(|reason| LogError::Corrupt { seq: expected_seq, reason })
}

/// Decodes a batch without checking any hash: the raw read a benchmark
/// compares verified replay with. Never use it to trust stored bytes (only
/// with the `raw` feature, which the benchmark alone turns on).
#[cfg(feature = "raw")]
pub fn decode_batch_unverified(bytes: &[u8], first_seq: u64) -> Result<Vec<Record>, LogError> {
    let mut c = Cursor::new(bytes);
    let corrupt = |seq: u64, reason: String| LogError::Corrupt { seq, reason };
    let _version = c.u8("batch version").map_err(|r| corrupt(first_seq, r))?;
    let count = c.u32("batch count").map_err(|r| corrupt(first_seq, r))?;
    let fits = c.remaining() / (4 + RECORD_FIXED_LEN);
    let mut records = Vec::with_capacity((count as usize).min(fits));
    for i in 0..u64::from(count) {
        let seq = first_seq.saturating_add(i);
        let bytes = c.len_prefixed_u32("record").map_err(|r| corrupt(seq, r))?;
        records.push(decode_record_inner(bytes, seq, false).map_err(|r| corrupt(seq, r))?);
    }
    Ok(records)
}

fn decode_record_inner(bytes: &[u8], expected_seq: u64, verify: bool) -> Result<Record, String> {
    let mut c = Cursor::new(bytes);
    let version = c.u8("version")?;
    if version != CODEC_V1 {
        return Err(format!("unknown record version {version}"));
    }
    let seq = c.u64("seq")?;
    let at_ms = c.u64("at_ms")?;
    let request = RequestId(Uuid::from_bytes(c.array("request")?));
    let node = c.u32("node")?;
    let schema = c.u16("schema")?;
    let principal_len = usize::from(c.u16("principal length")?);
    let principal = c.take(principal_len, "principal")?;
    let payload = c.len_prefixed_u32("payload")?;
    let prev_hash: Hash = c.array("prev_hash")?;
    let hashed = c.pos;
    let hash: Hash = c.array("hash")?;
    c.finish("record")?;
    if verify && <Hash>::from(blake3::hash(&bytes[..hashed])) != hash {
        return Err("checksum mismatch".into());
    }
    if seq != expected_seq {
        return Err(format!("it holds seq {seq}"));
    }
    if schema != SCHEMA_VERSION {
        return Err(format!("unknown schema version {schema}"));
    }
    let principal = std::str::from_utf8(principal).map_err(|e| format!("principal is not utf-8: {e}"))?.to_owned();
    let event = decode_bounded(payload)?;
    Ok(Record { envelope: Envelope { seq, at_ms, request, principal, node, event }, prev_hash, hash })
}

/// Encodes a commit group as one batch value, chaining its first record to
/// `prev_hash`; returns the value and the records as stored.
///
/// Fails with [`LogError::OutOfSequence`] when the envelopes' seqs are not
/// consecutive, [`LogError::Io`] when one cannot be represented.
pub fn encode_batch(batch: &[Envelope], prev_hash: Hash) -> Result<(Vec<u8>, Vec<Record>), LogError> {
    let count = u32::try_from(batch.len())
        .map_err(|_| LogError::Io(format!("a batch of {} records is too large", batch.len())))?;
    for pair in batch.windows(2) {
        if pair[1].seq != pair[0].seq.wrapping_add(1) {
            return Err(LogError::OutOfSequence { expected: pair[0].seq.wrapping_add(1), got: pair[1].seq });
        }
    }
    let mut buf = Vec::with_capacity(BATCH_HEADER_LEN + batch.len() * 200);
    buf.push(BATCH_V1);
    buf.extend_from_slice(&count.to_le_bytes());
    let mut records = Vec::with_capacity(batch.len());
    let mut prev = prev_hash;
    for envelope in batch {
        let len_at = buf.len();
        buf.extend_from_slice(&[0; 4]);
        let hash = encode_into(&mut buf, envelope, &prev)?;
        let len = u32::try_from(buf.len() - len_at - 4)
            .expect("a record is at most PAYLOAD_LEN_MAX plus a few hundred bytes");
        buf[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
        records.push(Record { envelope: envelope.clone(), prev_hash: prev, hash });
        prev = hash;
    }
    Ok((buf, records))
}

/// Decodes and verifies a batch value whose first record is `first_seq`:
/// every record as in [`decode_record`], consecutive seqs, and each record
/// chained to the one before it. The chain of the first record to the
/// previous batch is the caller's to check.
pub fn decode_batch(bytes: &[u8], first_seq: u64) -> Result<Vec<Record>, LogError> {
    let mut records: Vec<Record> = Vec::new();
    for (seq, bytes) in batch_records(bytes, first_seq)? {
        let record = decode_record(bytes, seq)?;
        if let Some(prev) = records.last() {
            if record.prev_hash != prev.hash {
                return Err(LogError::Corrupt { seq, reason: format!("it does not chain to record {}", seq - 1) });
            }
        }
        records.push(record);
    }
    Ok(records)
}

/// True when a batch value ends before what its own length prefixes declare:
/// the mark of an append that never finished (a torn write), as opposed to a
/// complete batch whose bytes were damaged afterwards.
pub fn is_truncated(bytes: &[u8]) -> bool {
    let mut c = Cursor::new(bytes);
    let (Ok(_), Ok(count)) = (c.u8("batch version"), c.u32("batch count")) else { return true };
    for _ in 0..count {
        if c.len_prefixed_u32("record").is_err() {
            return true;
        }
    }
    false
}

/// What a batch value says about where it ends, without decoding it: the
/// seq after its last record and the stored hash of that record (the last 32
/// bytes). Used to check the chain into the following batch; the records
/// themselves are verified when they are read.
pub(crate) fn batch_tail(bytes: &[u8], first_seq: u64) -> Result<(u64, Hash), LogError> {
    let corrupt = |reason: &str| LogError::Corrupt { seq: first_seq, reason: reason.into() };
    let mut c = Cursor::new(bytes);
    let version = c.u8("batch version").map_err(|r| corrupt(&r))?;
    let count = c.u32("batch count").map_err(|r| corrupt(&r))?;
    if version != BATCH_V1 || count == 0 || bytes.len() < BATCH_HEADER_LEN + 4 + RECORD_FIXED_LEN {
        return Err(corrupt("batch header is damaged"));
    }
    let end = first_seq.checked_add(u64::from(count)).ok_or_else(|| corrupt("seq overflows"))?;
    let mut hash = [0; 32];
    hash.copy_from_slice(&bytes[bytes.len() - 32..]);
    Ok((end, hash))
}

/// The number of records a batch value's header declares (None when the
/// header is unreadable). Not verified: for sizing work before decoding.
pub(crate) fn batch_count(bytes: &[u8]) -> Option<u32> {
    let mut c = Cursor::new(bytes);
    let _version = c.u8("batch version").ok()?;
    c.u32("batch count").ok()
}

/// The records of a batch value as byte slices, in order, each with its
/// seq, without decoding or verifying them ([`decode_record`] does): the
/// header, the length prefixes and the end of the value are checked, so a
/// reader can decode the records in any order and report damage by seq.
pub(crate) fn batch_records(bytes: &[u8], first_seq: u64) -> Result<Vec<(u64, &[u8])>, LogError> {
    let mut c = Cursor::new(bytes);
    let corrupt = |seq: u64, reason: String| LogError::Corrupt { seq, reason };
    let version = c.u8("batch version").map_err(|r| corrupt(first_seq, r))?;
    let count = c.u32("batch count").map_err(|r| corrupt(first_seq, r))?;
    if version != BATCH_V1 {
        return Err(corrupt(first_seq, format!("unknown batch version {version}")));
    }
    if count == 0 {
        return Err(corrupt(first_seq, "empty batch".into()));
    }
    // Never trust `count` for an allocation: bound it by what the input can hold.
    let fits = c.remaining() / (4 + RECORD_FIXED_LEN);
    let mut records = Vec::with_capacity((count as usize).min(fits));
    for i in 0..u64::from(count) {
        let seq = first_seq.checked_add(i).ok_or_else(|| corrupt(first_seq, "seq overflows".into()))?;
        records.push((seq, c.len_prefixed_u32("record").map_err(|r| corrupt(seq, r))?));
    }
    c.finish("batch").map_err(|r| corrupt(first_seq.saturating_add(u64::from(count)), r))?;
    Ok(records)
}

/// The byte range, within a batch value whose first record is `first_seq`,
/// of record `seq` (None when the batch does not hold it or is damaged).
pub(crate) fn record_span(bytes: &[u8], first_seq: u64, seq: u64) -> Option<std::ops::Range<usize>> {
    let mut c = Cursor::new(bytes);
    let _version = c.u8("").ok()?;
    let count = u64::from(c.u32("").ok()?);
    let index = seq.checked_sub(first_seq).filter(|i| *i < count)?;
    for _ in 0..index {
        c.len_prefixed_u32("").ok()?;
    }
    let len = usize::try_from(c.u32("").ok()?).ok()?;
    let start = c.pos;
    c.take(len, "").ok()?;
    Some(start..start + len)
}

/// The hash stored in record `seq` of a batch value whose first record is
/// `first_seq` (its last 32 bytes), not verified: None when the batch does
/// not hold it or is damaged.
pub(crate) fn stored_record_hash(bytes: &[u8], first_seq: u64, seq: u64) -> Option<Hash> {
    let span = record_span(bytes, first_seq, seq)?;
    let record = &bytes[span];
    let at = record.len().checked_sub(32)?;
    record[at..].try_into().ok()
}

/// The stored form of a snapshot, checksummed.
pub fn encode_snapshot(snapshot: &Snapshot) -> Vec<u8> {
    let state = bincode::serde::encode_to_vec(&snapshot.state, bincode_config())
        .expect("the model's state always encodes: plain derives and ordered maps");
    let mut buf = Vec::with_capacity(1 + 2 + 8 + 32 + 8 + state.len() + 32);
    buf.push(SNAPSHOT_VERSION);
    buf.extend_from_slice(&SCHEMA_VERSION.to_le_bytes());
    buf.extend_from_slice(&snapshot.seq.to_le_bytes());
    buf.extend_from_slice(&snapshot.hash);
    buf.extend_from_slice(&(state.len() as u64).to_le_bytes());
    buf.extend_from_slice(&state);
    let checksum: Hash = blake3::hash(&buf).into();
    buf.extend_from_slice(&checksum);
    buf
}

/// Decodes and verifies a snapshot made by [`encode_snapshot`]; any problem
/// is [`LogError::BadSnapshot`].
pub fn decode_snapshot(bytes: &[u8]) -> Result<Snapshot, LogError> {
    let mut c = Cursor::new(bytes);
    let mut seq = 0;
    let mut inner = || -> Result<Snapshot, String> {
        let version = c.u8("version")?;
        if version != SNAPSHOT_VERSION {
            return Err(format!("unknown snapshot version {version}"));
        }
        let schema = c.u16("schema")?;
        seq = c.u64("seq")?;
        let hash: Hash = c.array("hash")?;
        let len = usize::try_from(c.u64("state length")?).map_err(|_| "state length overflows".to_string())?;
        let state_bytes = c.take(len, "state")?;
        let checksummed = c.pos;
        let checksum: Hash = c.array("checksum")?;
        c.finish("snapshot")?;
        if <Hash>::from(blake3::hash(&bytes[..checksummed])) != checksum {
            return Err("checksum mismatch".into());
        }
        if schema != SCHEMA_VERSION {
            return Err(format!("unknown schema version {schema}"));
        }
        let state: State = decode_bounded(state_bytes)?;
        Ok(Snapshot { seq, hash, state })
    };
    let result = inner();
    result.map_err(|reason| LogError::BadSnapshot { seq, reason })
}

/// What one slot of the head file says: the store it belongs to and how
/// far that store's log reached when the slot was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadSlot {
    /// The store's identity, chosen when it was created.
    pub store: [u8; 16],
    /// Counts the slot's writes: the valid slot with the higher generation is the newer.
    pub generation: u64,
    /// The last record the log held (0: none yet).
    pub seq: u64,
    /// That record's hash ([`crate::GENESIS_HASH`] when `seq` is 0).
    pub hash: Hash,
}

/// The stored form of a head slot, checksummed: [`HEAD_SLOT_LEN`] bytes.
pub fn encode_head(slot: &HeadSlot) -> [u8; HEAD_SLOT_LEN] {
    let mut buf = [0u8; HEAD_SLOT_LEN];
    let mut at = 0;
    for part in
        [&HEAD_MAGIC[..], &[HEAD_V1], &slot.store, &slot.generation.to_le_bytes(), &slot.seq.to_le_bytes(), &slot.hash]
    {
        buf[at..at + part.len()].copy_from_slice(part);
        at += part.len();
    }
    let checksum: Hash = blake3::hash(&buf[..at]).into();
    buf[at..].copy_from_slice(&checksum);
    buf
}

/// Decodes and verifies a head slot made by [`encode_head`]; the error says
/// what is wrong (a slot never written, torn or damaged).
pub fn decode_head(bytes: &[u8]) -> Result<HeadSlot, String> {
    let mut c = Cursor::new(bytes);
    let magic: [u8; 7] = c.array("magic")?;
    if &magic != HEAD_MAGIC {
        return Err("not an rsm head slot".into());
    }
    let version = c.u8("version")?;
    if version != HEAD_V1 {
        return Err(format!("unknown head version {version}"));
    }
    let store = c.array("store id")?;
    let generation = c.u64("generation")?;
    let seq = c.u64("seq")?;
    let hash = c.array("hash")?;
    let checksummed = c.pos;
    let checksum: Hash = c.array("checksum")?;
    c.finish("head slot")?;
    if <Hash>::from(blake3::hash(&bytes[..checksummed])) != checksum {
        return Err("checksum mismatch".into());
    }
    Ok(HeadSlot { store, generation, seq, hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GENESIS_HASH;
    use proptest::prelude::*;
    use rsm_model::{Sense, SessionId};

    #[test]
    fn a_record_of_another_schema_is_refused_naming_its_version() {
        let (value, _) = encode_batch(&[envelope(1, "alice")], GENESIS_HASH).expect("encode");
        let records = batch_records(&value, 1).expect("one record");
        let mut bytes = records[0].1.to_vec();
        // version u8 | seq u64 | at_ms u64 | request [16] | node u32 | schema u16
        let schema_at = 1 + 8 + 8 + 16 + 4;
        bytes[schema_at..schema_at + 2].copy_from_slice(&1u16.to_le_bytes());
        let hashed = bytes.len() - 32;
        let hash = *blake3::hash(&bytes[..hashed]).as_bytes();
        bytes[hashed..].copy_from_slice(&hash);
        let err = decode_record(&bytes, 1).expect_err("schema 1 is not read");
        assert!(err.to_string().contains("unknown schema version 1"), "{err}");
    }

    fn envelope(seq: u64, principal: &str) -> Envelope {
        Envelope {
            seq,
            at_ms: 1_700_000_000_000 + seq,
            request: RequestId(Uuid::from_u128(0xABCD)),
            principal: principal.into(),
            node: 3,
            event: if seq.is_multiple_of(2) {
                Event::SessionClosed { session: SessionId(Uuid::from_u128(u128::from(seq))) }
            } else {
                Event::RequestFailed {
                    request: RequestId(Uuid::from_u128(9)),
                    error: 1_117,
                    sense: Some(Sense { key: 4, asc: 0x15, ascq: 1 }),
                    observed: rsm_model::Observed::Missing,
                    at_ms: seq,
                }
            },
        }
    }

    fn batch(first: u64, n: u64, prev: Hash) -> (Vec<u8>, Vec<Record>) {
        let envelopes: Vec<_> = (first..first + n).map(|s| envelope(s, "alice")).collect();
        encode_batch(&envelopes, prev).expect("small envelopes encode")
    }

    #[test]
    fn record_round_trips_and_hash_covers_prev_hash() {
        let env = envelope(7, "ünïcode");
        let prev = [5; 32];
        let (bytes, hash) = encode_record(&env, prev);
        let record = decode_record(&bytes, 7).expect("a fresh record decodes");
        assert_eq!(record, Record { envelope: env.clone(), prev_hash: prev, hash });
        assert_eq!(<Hash>::from(blake3::hash(&bytes[..bytes.len() - 32])), hash);
        assert_ne!(encode_record(&env, GENESIS_HASH).1, hash, "the hash depends on prev_hash");
        assert_eq!(bytes[0], CODEC_V1);
    }

    #[test]
    fn record_at_the_wrong_place_is_corrupt() {
        let (bytes, _) = encode_record(&envelope(7, "a"), GENESIS_HASH);
        let err = decode_record(&bytes, 8).expect_err("seq 7 read as 8");
        assert!(matches!(err, LogError::Corrupt { seq: 8, .. }), "{err}");
    }

    #[test]
    fn over_long_principal_is_refused_not_truncated() {
        let env = envelope(1, &"x".repeat(PRINCIPAL_LEN_MAX + 1));
        let mut buf = vec![9];
        let err = encode_into(&mut buf, &env, &GENESIS_HASH).expect_err("too long");
        assert!(matches!(err, LogError::Io(_)));
        assert_eq!(buf, vec![9], "nothing written on error");
        let ok = envelope(1, &"x".repeat(PRINCIPAL_LEN_MAX));
        let (bytes, _) = encode_record(&ok, GENESIS_HASH);
        assert_eq!(decode_record(&bytes, 1).expect("longest principal").envelope, ok);
    }

    #[test]
    fn batch_round_trips_and_chains() {
        let (bytes, records) = batch(4, 3, [1; 32]);
        assert_eq!(decode_batch(&bytes, 4).expect("fresh batch"), records);
        assert_eq!(records[0].prev_hash, [1; 32]);
        assert_eq!(records[1].prev_hash, records[0].hash);
        assert_eq!(batch_tail(&bytes, 4).expect("tail"), (7, records[2].hash));
        let span = record_span(&bytes, 4, 5).expect("record 5 is in the batch");
        assert_eq!(decode_record(&bytes[span], 5).expect("span is a record"), records[1]);
        assert_eq!(record_span(&bytes, 4, 7), None);
        assert_eq!(record_span(&bytes, 4, 3), None);
    }

    #[test]
    fn batch_refuses_gaps_and_broken_links() {
        let envelopes = vec![envelope(1, "a"), envelope(3, "a")];
        let err = encode_batch(&envelopes, GENESIS_HASH).expect_err("gap");
        assert!(matches!(err, LogError::OutOfSequence { expected: 2, got: 3 }));
        // Two valid records that do not chain, framed as one batch.
        let (r1, _) = encode_record(&envelope(1, "a"), GENESIS_HASH);
        let (r2, _) = encode_record(&envelope(2, "a"), [7; 32]);
        let mut bytes = vec![BATCH_V1];
        bytes.extend_from_slice(&2u32.to_le_bytes());
        for r in [&r1, &r2] {
            bytes.extend_from_slice(&(r.len() as u32).to_le_bytes());
            bytes.extend_from_slice(r);
        }
        let err = decode_batch(&bytes, 1).expect_err("broken link");
        assert!(matches!(err, LogError::Corrupt { seq: 2, .. }), "{err}");
    }

    #[test]
    fn snapshot_round_trips_and_detects_damage() {
        let mut state = State::new();
        state.next_order = 42;
        let snapshot = Snapshot { seq: 9, hash: [3; 32], state };
        let mut bytes = encode_snapshot(&snapshot);
        assert_eq!(decode_snapshot(&bytes).expect("fresh snapshot"), snapshot);
        let last = bytes.len() - 40;
        bytes[last] ^= 1;
        let err = decode_snapshot(&bytes).expect_err("flipped");
        assert!(matches!(err, LogError::BadSnapshot { seq: 9, .. }), "{err}");
        assert!(decode_snapshot(&[]).is_err());
    }

    #[test]
    fn a_snapshot_of_an_older_state_layout_is_refused_by_its_tag() {
        let mut bytes = encode_snapshot(&Snapshot { seq: 9, hash: [3; 32], state: State::new() });
        bytes[0] = SNAPSHOT_VERSION - 1;
        let err = decode_snapshot(&bytes).expect_err("an older layout");
        assert!(err.to_string().contains(&format!("unknown snapshot version {}", SNAPSHOT_VERSION - 1)), "{err}");
    }

    #[test]
    fn event_payload_round_trips() {
        let event = envelope(1, "a").event;
        assert_eq!(decode_event(&encode_event(&event)).expect("round trip"), event);
        let mut bytes = encode_event(&event);
        bytes.push(0);
        assert!(decode_event(&bytes).is_err(), "stray bytes are refused");
    }

    /// Builds a record around arbitrary payload bytes with a correct hash, so
    /// that fuzzing reaches the payload decoder.
    fn record_with_payload(payload: &[u8]) -> Vec<u8> {
        let (bytes, _) = encode_record(&envelope(1, "p"), GENESIS_HASH);
        let header = 1 + 8 + 8 + 16 + 4 + 2 + 2 + 1;
        let mut out = bytes[..header].to_vec();
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&GENESIS_HASH);
        let hash: Hash = blake3::hash(&out).into();
        out.extend_from_slice(&hash);
        out
    }

    #[test]
    fn forged_lengths_are_refused_without_allocating_them() {
        let event = Event::SessionOpened {
            session: SessionId(Uuid::from_u128(1)),
            principal: String::new(),
            application: String::new(),
        };
        let honest = encode_event(&event);
        assert_eq!(honest[honest.len() - 2..], [0, 0], "two empty strings end the payload");
        // The principal now claims 1 TiB (a bincode varint: 253 then a u64).
        let mut forged = honest[..honest.len() - 2].to_vec();
        forged.push(253);
        forged.extend_from_slice(&(1u64 << 40).to_le_bytes());
        forged.push(0);
        assert!(decode_event(&forged).is_err());
        let err = decode_record(&record_with_payload(&forged), 1).expect_err("forged");
        assert!(matches!(err, LogError::Corrupt { seq: 1, .. }), "{err}");
    }

    #[test]
    fn largest_event_the_model_allows_fits_and_round_trips() {
        use rsm_model::{limits, DriveId, LibraryId, LibraryKind, LibraryTopology, MediaId, PortId, SlotId};
        let name = "n".repeat(limits::NAME_LEN_MAX);
        let id = |n: usize| Uuid::from_u128(n as u128);
        let slots = limits::SLOTS_PER_LIBRARY_MAX as usize;
        let topology = LibraryTopology {
            id: LibraryId(id(0)),
            name: name.clone(),
            kind: LibraryKind::Changer,
            drives: (0..usize::from(limits::DRIVES_PER_LIBRARY_MAX))
                .map(|i| (DriveId(id(i)), format!("{name}-drive-{i}"), 500))
                .collect(),
            slots: (0..slots).map(|i| (SlotId(id(i)), format!("{name}-slot-{i}"), 1000)).collect(),
            ports: (0..usize::from(limits::PORTS_PER_LIBRARY_MAX))
                .map(|i| (PortId(id(i)), format!("{name}-port-{i}"), 10))
                .collect(),
            media: (0..slots).map(|i| (MediaId(id(i)), format!("{i:0>63}"), Some(SlotId(id(i))))).collect(),
            unlabelled: (0..slots).map(|i| MediaId(id(i))).collect(),
            defer_dismount_delay_s: 300,
            media_type: rsm_model::default_media_type(),
        };
        let mut env = envelope(1, &"p".repeat(limits::NAME_LEN_MAX));
        env.event = Event::LibraryCreated { topology, creator: "c".repeat(limits::NAME_LEN_MAX) };
        let payload = encode_event(&env.event).len();
        assert!(payload < PAYLOAD_LEN_MAX / 2, "the largest event is {payload} bytes");
        let (bytes, _) = encode_record(&env, GENESIS_HASH);
        assert_eq!(decode_record(&bytes, 1).expect("the largest event decodes").envelope, env);
    }

    proptest! {
        #[test]
        fn decoders_survive_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600), seq in 0u64..4) {
            prop_assert!(decode_record(&bytes, seq).is_err());
            prop_assert!(decode_batch(&bytes, seq).is_err());
            prop_assert!(decode_snapshot(&bytes).is_err());
            let _ = decode_event(&bytes);
            let _ = batch_tail(&bytes, seq);
            let _ = record_span(&bytes, seq, seq + 1);
        }

        #[test]
        fn hashed_garbage_payloads_do_not_panic(payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Err(e) = decode_record(&record_with_payload(&payload), 1) {
                let named_record_1 = matches!(e, LogError::Corrupt { seq: 1, .. });
                prop_assert!(named_record_1, "{}", e);
            }
        }

        #[test]
        fn every_flip_or_cut_of_a_record_is_refused(
            principal in "\\PC{0,20}", seq in 1u64..1000, at in any::<prop::sample::Index>(), bit in 0u8..8, cut in any::<prop::sample::Index>(),
        ) {
            let (bytes, _) = encode_record(&envelope(seq, &principal), [2; 32]);
            prop_assert!(decode_record(&bytes, seq).is_ok());
            let mut flipped = bytes.clone();
            flipped[at.index(bytes.len())] ^= 1 << bit;
            let named = matches!(decode_record(&flipped, seq), Err(LogError::Corrupt { seq: s, .. }) if s == seq);
            prop_assert!(named, "a flipped record is Corrupt naming its seq");
            prop_assert!(decode_record(&bytes[..cut.index(bytes.len())], seq).is_err());
            let mut longer = bytes.clone();
            longer.push(0);
            prop_assert!(decode_record(&longer, seq).is_err());
        }

        #[test]
        fn every_flip_or_cut_of_a_batch_is_refused(
            n in 1u64..5, first in 1u64..100, at in any::<prop::sample::Index>(), bit in 0u8..8, cut in any::<prop::sample::Index>(),
        ) {
            let (bytes, _) = batch(first, n, [4; 32]);
            prop_assert!(decode_batch(&bytes, first).is_ok());
            let mut flipped = bytes.clone();
            flipped[at.index(bytes.len())] ^= 1 << bit;
            prop_assert!(decode_batch(&flipped, first).is_err());
            prop_assert!(decode_batch(&bytes[..cut.index(bytes.len())], first).is_err());
        }

        #[test]
        fn every_flip_of_a_snapshot_is_refused(at in any::<prop::sample::Index>(), bit in 0u8..8) {
            let bytes = encode_snapshot(&Snapshot { seq: 5, hash: [1; 32], state: State::new() });
            let mut flipped = bytes.clone();
            flipped[at.index(bytes.len())] ^= 1 << bit;
            prop_assert!(decode_snapshot(&flipped).is_err());
        }
    }
}
