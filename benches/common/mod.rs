//! Fixtures shared by the benches: projections built only through
//! `decide`/`apply`, commands stamped the way the sequencer stamps them, and
//! (optionally) the envelopes the sequencer would append for them.
#![allow(dead_code)]

use rsm::log::Envelope;
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

/// The seed of the request ids (the engine seeds its generator from the OS).
pub const ID_SEED: u64 = 0x5EED_0000_2026_1125;

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
    /// Request ids, as the engine makes them: a counter from a seeded base
    /// (they ascend), the low half mixed with the seed.
    pub ids: SeededIds,
    /// The request id of the last stamped command.
    pub last_request: RequestId,
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
            ids: SeededIds::new(ID_SEED),
            last_request: RequestId::NIL,
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
                media_type: rsm::default_media_type(),
                unlabelled: Vec::new(),
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
    /// request id is the id source's next.
    pub fn stamp(&mut self, command: Command) -> Stamped<Command> {
        self.stamped += 1;
        self.now_ms += 1;
        self.last_request = self.ids.next_id();
        Stamped { at_ms: self.now_ms, request: self.last_request, command }
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
            apply(&mut self.state, event).expect("a decided event applies");
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
        SessionId(self.last_request.0)
    }

    /// The worker of `library`: starts, advances and completes requests
    /// until nothing is left to do.
    pub fn run_robot(&mut self, library: LibraryId) {
        loop {
            let mut commands = worker_commands(&self.state, library);
            let command = commands.swap_remove(0);
            let idle = matches!(command, Command::StartNext { .. });
            if self.step(command).is_empty() && idle {
                return;
            }
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
}

/// What the worker of `library` can report next, as the hardware finishes
/// steps: each request in process moves on by its phase (a finished move or
/// unload advances it, a finished load or stow completes it); `StartNext`
/// (last) gives the robot or a drive new work.
pub fn worker_commands(state: &State, library: LibraryId) -> Vec<Command> {
    let mut commands: Vec<Command> = state.libraries[&library]
        .active_requests
        .iter()
        .map(|r| &state.requests[r])
        .filter_map(|r| match r.phase? {
            RequestPhase::Moving | RequestPhase::Unloading | RequestPhase::Cleaning => {
                Some(Command::AdvanceRequest { request: r.id })
            }
            RequestPhase::Loading if r.kind.labels() => Some(Command::AdvanceRequest { request: r.id }),
            RequestPhase::Loading | RequestPhase::Stowing => Some(Command::CompleteRequest { request: r.id }),
            RequestPhase::Labelling if r.kind == RequestKind::Classify => {
                Some(Command::ReportFirstBlock { request: r.id, block: None })
            }
            RequestPhase::Labelling => Some(Command::AdvanceRequest { request: r.id }),
            RequestPhase::AwaitingRobot => None,
        })
        .collect();
    commands.push(Command::StartNext { library });
    commands
}
