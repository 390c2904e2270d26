//! A given/when/then harness over `decide` + `apply`.
#![allow(dead_code)]

use rsm_model::*;

/// Rounds a harness loop may take before it calls the state stuck: far more
/// than any request needs (each has at most four steps).
pub const ROUNDS_MAX: usize = 10_000;

pub struct World {
    pub state: State,
    pub policy: Policy,
    pub now_ms: u64,
    /// Every accepted event, in order: the log.
    pub log: Vec<Event>,
    /// What is written at the start of each cartridge (bar code → first
    /// block); blank when absent. Read by classification requests.
    pub first_blocks: std::collections::BTreeMap<String, Vec<u8>>,
    next: u128,
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    pub fn new() -> Self {
        Self {
            state: State::new(),
            policy: Policy::default(),
            now_ms: 1_000_000,
            log: Vec::new(),
            first_blocks: Default::default(),
            next: 1,
        }
    }

    fn stamp(&mut self, command: Command) -> Stamped<Command> {
        self.next += 1;
        self.now_ms += 10;
        Stamped { at_ms: self.now_ms, request: RequestId(uuid::Uuid::from_u128(self.next << 64 | 0xABCD)), command }
    }

    /// Decides and, when accepted, applies; checks every invariant after.
    pub fn run(&mut self, command: Command) -> Result<(RequestId, Vec<Event>), NtmsError> {
        let cmd = self.stamp(command);
        let before = self.state.clone();
        match decide(&self.state, &self.policy, &cmd) {
            Ok(events) => {
                for e in &events {
                    apply(&mut self.state, e)
                        .unwrap_or_else(|err| panic!("{:?} was accepted but does not apply: {err}", cmd.command));
                }
                self.log.extend(events.iter().cloned());
                self.state
                    .check_invariants()
                    .unwrap_or_else(|e| panic!("invariant broken after {:?}: {e}", cmd.command));
                Ok((cmd.request, events))
            }
            Err(e) => {
                assert_eq!(self.state, before, "a rejected command changed nothing");
                Err(e)
            }
        }
    }

    /// `when(command)` must be rejected with exactly `code`.
    pub fn rejects(&mut self, command: Command, code: ErrorCode) -> NtmsError {
        match self.run(command.clone()) {
            Err(e) => {
                assert_eq!(e.kind(), code, "{command:?} gave {} ({}) {}", e.name(), e.code(), e.message());
                e
            }
            Ok((_, events)) => panic!("{command:?} was accepted with {events:?}, expected {}", code.name()),
        }
    }

    pub fn ok(&mut self, command: Command) -> (RequestId, Vec<Event>) {
        match self.run(command.clone()) {
            Ok(x) => x,
            Err(e) => panic!("{command:?} rejected: {} {}", e.name(), e.message()),
        }
    }

    pub fn session(&mut self, principal: &str) -> SessionId {
        let (r, _) = self.ok(Command::OpenSession { principal: principal.into(), application: String::new() });
        SessionId(r.0)
    }

    pub fn changer(&mut self, session: SessionId, name: &str, drives: u16, slots: u32, media: usize) -> LibraryId {
        let barcodes = (1..=media).map(|i| format!("{}{i:04}L8", name.to_uppercase())).collect();
        self.ok(Command::CreateLibrary {
            session,
            spec: LibrarySpec {
                name: name.into(),
                kind: LibraryKind::Changer,
                drives,
                slots,
                ie_ports: 1,
                barcodes,
                media_type: rsm_model::default_media_type(),
                unlabelled: Vec::new(),
            },
        });
        self.state.library_named(name).expect("created").id
    }

    /// `session`'s application pool `Daily` of the default media type.
    #[allow(dead_code)] // not every test file uses it
    pub fn daily_pool(&mut self, session: SessionId) -> PoolId {
        self.ok(Command::CreateMediaPool {
            session,
            path: "Daily".into(),
            media_type: Some(rsm_model::default_media_type()),
            action: PoolAction::CreateNew,
        });
        self.state.pool_at("Daily").expect("created").id
    }

    pub fn standalone(&mut self, session: SessionId, name: &str, media: usize) -> LibraryId {
        let barcodes = (1..=media).map(|i| format!("{}{i:04}L8", name.to_uppercase())).collect();
        self.ok(Command::CreateLibrary {
            session,
            spec: LibrarySpec {
                name: name.into(),
                kind: LibraryKind::Standalone,
                drives: 1,
                slots: 0,
                ie_ports: 0,
                barcodes,
                media_type: rsm_model::default_media_type(),
                unlabelled: Vec::new(),
            },
        });
        self.state.library_named(name).expect("created").id
    }

    /// `session` grants `rights` on `library` to `principal`.
    pub fn grant(&mut self, session: SessionId, library: LibraryId, principal: &str, rights: AccessMask) {
        self.ok(Command::GrantAccess { session, library, principal: principal.into(), rights });
    }

    pub fn drive(&self, name: &str) -> DriveId {
        self.state.drive_named(name).expect("drive exists").id
    }

    pub fn media(&self, barcode: &str) -> MediaId {
        self.state.medium_by_barcode(barcode).expect("medium exists").id
    }

    pub fn mount(&mut self, session: SessionId, barcode: &str, drive: Option<&str>) -> RequestId {
        let media = self.media(barcode);
        let drive = drive.map(|d| self.drive(d));
        self.ok(Command::MountMedia { session, media, options: MountOptions { drive, ..Default::default() } }).0
    }

    /// Runs the library's worker loop against a perfect robot until idle;
    /// a loop that does not settle within [`ROUNDS_MAX`] rounds is a stuck
    /// state and fails with it, rather than hanging.
    pub fn work(&mut self, library: LibraryId) {
        for _ in 0..ROUNDS_MAX {
            let mut progressed = !self.ok(Command::StartNext { library }).1.is_empty();
            let in_process: Vec<(RequestId, Option<RequestPhase>)> = self
                .state
                .libraries
                .get(&library)
                .map(|l| l.active_requests.iter().map(|r| (*r, self.state.requests[r].phase)).collect())
                .unwrap_or_default();
            for (request, _) in in_process {
                progressed |= self.report_step(request);
            }
            if !progressed {
                return;
            }
        }
        panic!("library {library} does not settle: {:?}", self.state.libraries.get(&library));
    }

    /// Takes a started request through its remaining steps (a request of
    /// a library deleted meanwhile leaves the views when it ends).
    pub fn finish(&mut self, request: RequestId) {
        for _ in 0..ROUNDS_MAX {
            let Some(r) = self.state.requests.get(&request) else { return };
            match r.phase {
                Some(RequestPhase::AwaitingRobot) => {
                    let library = self.state.requests[&request].library;
                    if self.state.libraries[&library].robot.is_some() {
                        return; // another request holds the robot: `work` takes them in turn
                    }
                    self.ok(Command::StartNext { library });
                }
                Some(_) => {
                    self.report_step(request);
                }
                None => return,
            }
        }
        panic!("request {request} is stuck: {:?}", self.state.requests.get(&request));
    }

    /// Reports the current physical step of a request in process as done
    /// by a perfect robot; false when it has no step to report (waiting for
    /// the robot, or finished).
    fn report_step(&mut self, request: RequestId) -> bool {
        let r = &self.state.requests[&request];
        match r.phase {
            Some(phase) if phase != RequestPhase::AwaitingRobot => {
                let report = if phase == RequestPhase::Labelling && r.kind == RequestKind::Classify {
                    // The cartridge's first block: what the test put on it (blank unless told).
                    let block = self.first_blocks.get(&self.state.media[&r.media].barcode).cloned();
                    Command::ReportFirstBlock { request, block }
                } else if r.kind.last_step(phase) {
                    Command::CompleteRequest { request }
                } else {
                    Command::AdvanceRequest { request }
                };
                self.ok(report);
                true
            }
            _ => false,
        }
    }

    pub fn request(&self, id: RequestId) -> &LibraryRequest {
        &self.state.requests[&id]
    }
}
