//! Fixtures shared by the benches: projections built only through
//! `decide`/`apply`, commands stamped the way the sequencer stamps them, and
//! (optionally) the envelopes the sequencer would append for them.
#![allow(dead_code)]

use rsm::log::Envelope;
use rsm::uuid::Uuid;
use rsm::*;

/// The principal of every session the benches open.
pub const PRINCIPAL: &str = "backup-server";
/// The principal the sequencer writes on workers' commands.
pub const WORKER: &str = "rsm";
/// A plausible wall-clock start (2026-11-25T00:00:00Z), so timestamps encode
/// with the same varint length as in production.
pub const T0_MS: u64 = 1_795_564_800_000;
/// The node id written in every envelope.
pub const NODE: u32 = 1;

/// The request id of the `n`-th stamped command: derived from a counter, but
/// spread over the id space as random v4 ids are (so that `BTreeMap` inserts
/// do not all land at the right edge).
pub fn request_id(n: u64) -> RequestId {
    let hi = splitmix64(n);
    let lo = splitmix64(n ^ 0x5EED_5EED_5EED_5EED);
    RequestId(Uuid::from_u128((u128::from(hi) << 64) | u128::from(lo)))
}

/// One changer library of a fixture, in element order.
pub struct Lib {
    /// Id.
    pub id: LibraryId,
    /// Drives.
    pub drives: Vec<DriveId>,
    /// Cartridges, in slot order.
    pub media: Vec<MediaId>,
}

/// A projection plus the sequencer's part: the clock, the request-id counter
/// and, when recording, the envelopes of every accepted command.
pub struct Fixture {
    /// The projection.
    pub state: State,
    /// Acceptance rules (the default policy).
    pub policy: Policy,
    /// The session that created the libraries (principal [`PRINCIPAL`]).
    pub session: SessionId,
    /// The libraries.
    pub libs: Vec<Lib>,
    /// Milliseconds of the last stamp.
    pub now_ms: u64,
    /// Commands stamped so far.
    pub stamped: u64,
    /// Envelopes of accepted commands, when recording.
    pub envelopes: Option<Vec<Envelope>>,
    /// The seq the next recorded envelope carries.
    pub next_seq: u64,
}

impl Fixture {
    /// A projection with `libraries` changer libraries of `slots` slots,
    /// `drives` drives and `cartridges` cartridges each (slots 1.. filled),
    /// and one open session of [`PRINCIPAL`] holding every right on them.
    pub fn new(libraries: usize, slots: u32, drives: u16, cartridges: usize, record: bool) -> Fixture {
        let mut f = Fixture {
            state: State::new(),
            policy: Policy::default(),
            session: SessionId::NIL,
            libs: Vec::new(),
            now_ms: T0_MS,
            stamped: 0,
            envelopes: record.then(Vec::new),
            next_seq: 1,
        };
        f.session = f.open_session();
        for l in 0..libraries {
            let barcodes = (0..cartridges).map(|i| format!("{:06}L8", l * cartridges + i)).collect();
            let spec = LibrarySpec {
                name: format!("lib{l:02}"),
                kind: LibraryKind::Changer,
                drives,
                slots,
                ie_ports: 0,
                barcodes,
            };
            let events = f.step(Command::CreateLibrary { session: f.session, spec });
            let Some(Event::LibraryCreated { topology, .. }) = events.first() else {
                panic!("CreateLibrary answered {events:?}")
            };
            f.libs.push(Lib {
                id: topology.id,
                drives: topology.drives.iter().map(|d| d.0).collect(),
                media: topology.media.iter().map(|m| m.0).collect(),
            });
        }
        f.state.check_invariants().expect("the fixture is valid");
        f
    }

    /// Stamps a command as the sequencer does: the clock moves forward, the
    /// request id comes from a counter.
    pub fn stamp(&mut self, command: Command) -> Stamped<Command> {
        self.stamped += 1;
        self.now_ms += 1;
        Stamped { at_ms: self.now_ms, request: request_id(self.stamped), command }
    }

    /// Stamps, decides and applies; `Err` (nothing applied) when rejected.
    pub fn try_step(&mut self, command: Command) -> Result<Vec<Event>, NtmsError> {
        let cmd = self.stamp(command);
        let events = decide(&self.state, &self.policy, &cmd)?;
        if let Some(out) = &mut self.envelopes {
            let principal = match &cmd.command {
                Command::OpenSession { principal, .. } => principal.clone(),
                c => match c.session() {
                    Some(s) => self.state.sessions.get(&s).map(|s| s.principal.clone()).unwrap_or_default(),
                    None => WORKER.to_string(),
                },
            };
            for event in &events {
                out.push(Envelope {
                    seq: self.next_seq,
                    at_ms: cmd.at_ms,
                    request: cmd.request,
                    principal: principal.clone(),
                    node: NODE,
                    event: event.clone(),
                });
                self.next_seq += 1;
            }
        }
        for event in &events {
            apply(&mut self.state, event);
        }
        Ok(events)
    }

    /// Like [`try_step`](Self::try_step), but the command must be accepted.
    pub fn step(&mut self, command: Command) -> Vec<Event> {
        let name = command.name();
        self.try_step(command).unwrap_or_else(|e| panic!("{name} rejected: {} {}", e.name(), e.message()))
    }

    /// Opens a session of [`PRINCIPAL`].
    pub fn open_session(&mut self) -> SessionId {
        self.step(Command::OpenSession { principal: PRINCIPAL.into(), application: "bench".into() });
        SessionId(request_id(self.stamped).0)
    }

    /// The worker of `library`: starts and completes requests until none can start.
    pub fn run_robot(&mut self, library: LibraryId) {
        loop {
            let events = self.step(Command::StartNext { library });
            let Some(Event::RequestStarted { request, .. }) = events.first() else { return };
            let request = *request;
            self.step(Command::CompleteRequest { request });
        }
    }

    /// Brings every cartridge of `media` (mounted or queued for mounting by
    /// [`Fixture::session`]) back to its home slot through the rules: the
    /// robot completes the mounts, each is dismounted, the robot completes
    /// the dismounts.
    pub fn put_back(&mut self, library: LibraryId, media: &[MediaId]) {
        self.run_robot(library);
        for &media in media {
            self.step(Command::DismountMedia { session: self.session, media, deferred: false });
        }
        self.run_robot(library);
    }

    /// Drops finished requests from the projection. They are history only
    /// (no drive, slot, medium or queue refers to a finished request), so the
    /// invariants still hold; the benches call it between timed blocks so
    /// the request map does not grow with criterion's iteration count.
    pub fn trim_history(&mut self) {
        self.state.requests.retain(|_, r| !r.state.is_terminal());
    }
}
