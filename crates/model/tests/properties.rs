//! Property tests: random command sequences, with simulated completions and
//! faults, keep every invariant, and replaying the accepted events rebuilds
//! exactly the live projection.

mod common;
use common::World;
use proptest::prelude::*;
use rsm_model::*;

#[derive(Clone, Debug)]
enum Action {
    Mount {
        who: usize,
        media: usize,
        drive: Option<usize>,
        priority: i8,
    },
    DismountMedia {
        who: usize,
        media: usize,
        deferred: bool,
    },
    DismountDrive {
        who: usize,
        drive: usize,
    },
    Enable {
        who: usize,
        target: usize,
        enabled: bool,
    },
    Grant {
        principal: usize,
        rights: u8,
        revoke: bool,
    },
    Reopen {
        who: usize,
    },
    Close {
        who: usize,
    },
    Start,
    Complete,
    Fail {
        observed: u8,
    },
    Reconcile {
        observed: u8,
    },
    Tick {
        advance_s: u32,
    },
    Insert {
        media: usize,
    },
    Remove,
    Delete {
        library: usize,
    },
    Garbage {
        raw: u128,
    },
    Eject {
        who: usize,
        media: usize,
    },
    Door {
        who: usize,
        action: u32,
    },
    CloseDoor {
        who: Option<usize>,
    },
    InventoryCheck {
        who: usize,
        action: u32,
    },
    Inventory {
        who: usize,
        method: usize,
    },
    Identify {
        who: usize,
        slot: usize,
        option: u32,
    },
    Inject {
        who: usize,
        what: usize,
    },
    TakeFromPort,
    CreatePool {
        who: usize,
        path: usize,
    },
    PoolPolicy {
        who: usize,
        from_scratch: bool,
        to_scratch: bool,
        max_allocates: u32,
    },
    MoveToPool {
        who: usize,
        media: usize,
        to_free: bool,
    },
    Allocate {
        who: usize,
        new: bool,
        named: Option<usize>,
    },
    Deallocate {
        who: usize,
        k: usize,
    },
    SetComplete {
        who: usize,
        k: usize,
    },
    Decommission {
        who: usize,
        media: usize,
    },
    Swap {
        who: usize,
        a: usize,
        b: usize,
    },
    /// An attribute (or a description) on one of several objects; empty removes.
    Annotate {
        who: usize,
        target: usize,
        value: u8,
        description: bool,
    },
    /// An operator request submitted (of several kinds), or the k-th one
    /// answered (satisfied or refused).
    Operator {
        who: usize,
        kind: u8,
        k: usize,
        satisfy: bool,
    },
    /// The queue steered: the k-th unfinished request of the changer
    /// cancelled, or moved to a position.
    Steer {
        who: usize,
        k: usize,
        position: Option<u32>,
    },
    /// A field of an object's information: a name, a drive's deferral, a
    /// pool's media type (many of them refused: the wrong type or field).
    Inform {
        who: usize,
        target: usize,
        field: u8,
        value: u8,
    },
    PoolAccess {
        who: usize,
        pool: usize,
        principal: usize,
        grant: bool,
    },
}

/// The application pools the actions name: one that holds pools, two that
/// hold LTO-8 media (one inside the first).
const POOLS: [&str; 3] = ["App", "App\\Daily", "Weekly"];

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0..3usize, 0..9usize, proptest::option::of(0..5usize), -16..16i8)
            .prop_map(|(who, media, drive, priority)| Action::Mount { who, media, drive, priority }),
        3 => (0..3usize, 0..9usize, any::<bool>()).prop_map(|(who, media, deferred)| Action::DismountMedia { who, media, deferred }),
        3 => (0..3usize, 0..5usize).prop_map(|(who, drive)| Action::DismountDrive { who, drive }),
        1 => (0..3usize, 0..16usize, any::<bool>()).prop_map(|(who, target, enabled)| Action::Enable { who, target, enabled }),
        1 => (0..3usize, 0..8u8, any::<bool>()).prop_map(|(principal, rights, revoke)| Action::Grant { principal, rights, revoke }),
        1 => (0..3usize).prop_map(|who| Action::Reopen { who }),
        1 => (0..3usize).prop_map(|who| Action::Close { who }),
        6 => Just(Action::Start),
        5 => Just(Action::Complete),
        1 => (0..5u8).prop_map(|observed| Action::Fail { observed }),
        1 => (0..5u8).prop_map(|observed| Action::Reconcile { observed }),
        2 => (0..400u32).prop_map(|advance_s| Action::Tick { advance_s }),
        1 => (0..9usize).prop_map(|media| Action::Insert { media }),
        1 => Just(Action::Remove),
        1 => (0..2usize).prop_map(|library| Action::Delete { library }),
        1 => any::<u128>().prop_map(|raw| Action::Garbage { raw }),
        2 => (0..3usize, 0..9usize).prop_map(|(who, media)| Action::Eject { who, media }),
        2 => (0..3usize, 0..11usize).prop_map(|(who, what)| Action::Inject { who, what }),
        1 => Just(Action::TakeFromPort),
        1 => (0..3usize, 0..6u32).prop_map(|(who, action)| Action::Door { who, action }),
        1 => proptest::option::of(0..3usize).prop_map(|who| Action::CloseDoor { who }),
        1 => (0..3usize, 0..7u32).prop_map(|(who, action)| Action::InventoryCheck { who, action }),
        1 => (0..3usize, 0..4usize).prop_map(|(who, method)| Action::Inventory { who, method }),
        1 => (0..3usize, 0..12usize, 0..4u32).prop_map(|(who, slot, option)| Action::Identify { who, slot, option }),
        1 => (0..3usize, 0..3usize).prop_map(|(who, path)| Action::CreatePool { who, path }),
        1 => (0..3usize, any::<bool>(), any::<bool>(), 0..4u32).prop_map(|(who, from_scratch, to_scratch, max_allocates)| Action::PoolPolicy { who, from_scratch, to_scratch, max_allocates }),
        1 => (0..3usize, 0..9usize, any::<bool>()).prop_map(|(who, media, to_free)| Action::MoveToPool { who, media, to_free }),
        2 => (0..3usize, any::<bool>(), proptest::option::of(0..9usize)).prop_map(|(who, new, named)| Action::Allocate { who, new, named }),
        1 => (0..3usize, 0..4usize).prop_map(|(who, k)| Action::Deallocate { who, k }),
        1 => (0..3usize, 0..4usize).prop_map(|(who, k)| Action::SetComplete { who, k }),
        1 => (0..3usize, 0..9usize).prop_map(|(who, media)| Action::Decommission { who, media }),
        1 => (0..3usize, 0..4usize, 0..4usize).prop_map(|(who, a, b)| Action::Swap { who, a, b }),
        2 => (0..3usize, 0..8usize, 0..3u8, any::<bool>()).prop_map(|(who, target, value, description)| Action::Annotate { who, target, value, description }),
        1 => (0..3usize, 0..3usize, 0..3usize, any::<bool>()).prop_map(|(who, pool, principal, grant)| Action::PoolAccess { who, pool, principal, grant }),
        1 => (0..3usize, 0..8usize, 0..3u8, 0..3u8).prop_map(|(who, target, field, value)| Action::Inform { who, target, field, value }),
        2 => (0..3usize, 0..6usize, proptest::option::of(1..5u32)).prop_map(|(who, k, position)| Action::Steer { who, k, position }),
        1 => (0..3usize, 0..6u8, 0..4usize, any::<bool>()).prop_map(|(who, kind, k, satisfy)| Action::Operator { who, kind, k, satisfy }),
    ]
}

struct Harness {
    w: World,
    sessions: Vec<SessionId>,
    principals: [&'static str; 3],
    changer: LibraryId,
    standalone: LibraryId,
    barcodes: Vec<String>,
    drives: Vec<String>,
}

impl Harness {
    fn new() -> Self {
        let mut w = World::new();
        let principals = ["admin", "user", "guest"];
        let sessions: Vec<SessionId> = principals.iter().map(|p| w.session(p)).collect();
        let changer = w.changer(sessions[0], "lib", 3, 8, 6);
        let standalone = w.standalone(sessions[0], "sa", 2);
        w.grant(sessions[0], changer, "user", AccessMask::USE);
        let mut barcodes: Vec<String> = (1..=6).map(|i| format!("LIB{i:04}L8")).collect();
        barcodes.extend(["SA0001L8".to_string(), "SA0002L8".to_string(), "NEW0001L8".to_string()]);
        let drives = ["lib-drive-1", "lib-drive-2", "lib-drive-3", "sa-drive-1", "nowhere"].map(String::from).to_vec();
        Self { w, sessions, principals, changer, standalone, barcodes, drives }
    }

    fn media(&self, i: usize) -> MediaId {
        self.w
            .state
            .medium_by_barcode(&self.barcodes[i])
            .map(|m| m.id)
            .unwrap_or(MediaId(uuid::Uuid::from_u128(i as u128 + 1)))
    }

    /// Pool `i` of [`POOLS`] (an id that names nothing when it is absent).
    fn pool(&self, i: usize) -> PoolId {
        self.w.state.pool_at(POOLS[i]).map(|p| p.id).unwrap_or(PoolId(uuid::Uuid::from_u128(i as u128 + 500)))
    }

    /// The `k`-th logical medium (one that names nothing past the last).
    fn lmid(&self, k: usize) -> LogicalMediaId {
        self.w.state.lmids.keys().nth(k).copied().unwrap_or(LogicalMediaId(uuid::Uuid::from_u128(k as u128 + 900)))
    }

    fn drive(&self, i: usize) -> DriveId {
        self.w
            .state
            .drive_named(&self.drives[i])
            .map(|d| d.id)
            .unwrap_or(DriveId(uuid::Uuid::from_u128(i as u128 + 100)))
    }

    /// The changer's one port seen holding `seen` (nothing when the changer is gone).
    fn port_seen(&self, seen: Seen) -> Vec<(u16, Seen)> {
        let port = self.w.state.libraries.get(&self.changer).and_then(|l| l.ports.first());
        port.map(|p| vec![(self.w.state.ports[p].element_address, seen)]).unwrap_or_default()
    }

    fn in_process(&self) -> Option<&LibraryRequest> {
        self.w.state.requests.values().find(|r| r.state == RequestState::InProcess)
    }

    fn observed(&self, r: &LibraryRequest, choice: u8) -> Observed {
        match choice {
            0 => Observed::Unknown,
            1 => r.slot.map(Observed::Slot).unwrap_or(Observed::Missing),
            2 => r.drive.map_or(Observed::Unknown, Observed::Drive),
            3 => r.port.map_or(Observed::Unknown, Observed::Port),
            _ => Observed::Missing,
        }
    }

    /// One of several objects that come and go: media (deleted with their
    /// library), a logical medium (deallocated), pools, a drive, the
    /// changer; `last` for any other `target`.
    fn object(&self, target: usize, last: ObjectRef) -> ObjectRef {
        match target {
            0 | 1 => ObjectRef::Media(self.media(target)),
            2 => ObjectRef::LogicalMedia(self.lmid(0)),
            3 | 4 => ObjectRef::Pool(self.pool(target - 3)),
            5 => ObjectRef::Drive(self.drive(0)),
            6 => ObjectRef::Library(self.changer),
            _ => last,
        }
    }

    fn step(&mut self, action: &Action) {
        let libs = [self.changer, self.standalone];
        let command = match *action {
            Action::Mount { who, media, drive, priority } => Command::MountMedia {
                session: self.sessions[who],
                media: self.media(media),
                options: MountOptions {
                    drive: drive.map(|d| self.drive(d)),
                    write: priority % 2 == 0,
                    priority,
                    // Some wait for a drive, some with a timeout (the tick
                    // advances time by steps of its own), some refuse to.
                    no_wait_if_busy: priority % 3 == 0,
                    timeout_ms: (priority % 4 == 1).then_some(30_000),
                    error_if_offline: priority % 5 == 0,
                },
            },
            Action::DismountMedia { who, media, deferred } => {
                Command::DismountMedia { session: self.sessions[who], media: self.media(media), deferred }
            }
            Action::DismountDrive { who, drive } => {
                Command::DismountDrive { session: self.sessions[who], drive: self.drive(drive) }
            }
            Action::Enable { who, target, enabled } => {
                let object = match target % 3 {
                    0 => ObjectRef::Library(libs[target % 2]),
                    1 => ObjectRef::Drive(self.drive(target % 5)),
                    _ => ObjectRef::Media(self.media(target % 9)),
                };
                Command::SetEnabled { session: self.sessions[who], object, enabled }
            }
            // The administrator never revokes its own rights: the liveness
            // phase needs someone able to enable everything again.
            Action::Grant { principal: 0, revoke: true, .. } => return,
            Action::Grant { principal, rights, revoke } => {
                let (session, library, principal, rights) =
                    (self.sessions[0], self.changer, self.principals[principal].to_string(), AccessMask(rights));
                if revoke {
                    Command::RevokeAccess { session, library, principal, rights }
                } else {
                    Command::GrantAccess { session, library, principal, rights }
                }
            }
            Action::Reopen { who } => {
                if let Ok((r, _)) = self
                    .w
                    .run(Command::OpenSession { principal: self.principals[who].into(), application: String::new() })
                {
                    self.sessions[who] = SessionId(r.0);
                }
                return;
            }
            Action::Close { who } => Command::CloseSession { session: self.sessions[who] },
            Action::Start => Command::StartNext { library: self.changer },
            Action::Complete => match self.in_process() {
                Some(r) if r.phase.is_some_and(|p| r.kind.last_step(p)) => Command::CompleteRequest { request: r.id },
                // A classification reads a blank cartridge.
                Some(r) if r.phase == Some(RequestPhase::Labelling) && r.kind == RequestKind::Classify => {
                    Command::ReportFirstBlock { request: r.id, block: None }
                }
                Some(r) => Command::AdvanceRequest { request: r.id },
                None => return,
            },
            Action::Fail { observed } => match self.in_process() {
                Some(r) => Command::FailRequest {
                    request: r.id,
                    error: ErrorCode::MediumNotAccessible,
                    sense: Some(Sense { key: 4, asc: 0x15, ascq: 1 }),
                    observed: self.observed(r, observed),
                },
                None => return,
            },
            Action::Reconcile { observed } => match self.in_process() {
                Some(r) => Command::Reconcile { request: r.id, observed: self.observed(r, observed) },
                None => return,
            },
            Action::Tick { advance_s } => {
                self.w.now_ms += u64::from(advance_s) * 1000;
                Command::Tick
            }
            Action::Insert { media } => Command::OperatorInsert {
                session: self.sessions[0],
                drive: self.drive(3),
                barcode: self.barcodes[media].clone(),
            },
            Action::Remove => Command::OperatorRemove { session: self.sessions[0], drive: self.drive(3) },
            Action::Delete { library } => Command::DeleteLibrary { session: self.sessions[0], library: libs[library] },
            Action::Garbage { raw } => Command::DismountDrive {
                session: SessionId(uuid::Uuid::from_u128(raw)),
                drive: DriveId(uuid::Uuid::from_u128(!raw)),
            },
            Action::Eject { who, media } => {
                Command::EjectMedia { session: self.sessions[who], media: self.media(media) }
            }
            Action::Inject { who, what } => {
                let seen = match what {
                    0 => Seen::Empty,
                    1 => Seen::Unlabeled,
                    i => Seen::Cartridge(self.barcodes[i - 2].clone()),
                };
                Command::InjectMedia { session: self.sessions[who], library: self.changer, found: self.port_seen(seen) }
            }
            Action::TakeFromPort => Command::RecordInventory {
                session: Some(self.sessions[0]),
                library: self.changer,
                observed: self.port_seen(Seen::Empty),
                method: InventoryMethod::Fast,
            },
            Action::Door { who, action } => {
                Command::AccessDoor { session: self.sessions[who], library: self.changer, action }
            }
            Action::CloseDoor { who } => {
                Command::CloseDoor { session: who.map(|w| self.sessions[w]), library: self.changer }
            }
            Action::InventoryCheck { who, action } => {
                Command::InventoryLibrary { session: self.sessions[who], library: self.changer, action }
            }
            Action::Inventory { who, method } => Command::RecordInventory {
                session: Some(self.sessions[who]),
                library: self.changer,
                observed: vec![],
                method: InventoryMethod::ALL[method],
            },
            Action::Identify { who, slot, option } => {
                let slot = self
                    .w
                    .state
                    .libraries
                    .get(&self.changer)
                    .and_then(|l| l.slots.get(slot).copied())
                    .unwrap_or_default();
                Command::IdentifySlot { session: self.sessions[who], slot, option }
            }
            Action::CreatePool { who, path } => Command::CreateMediaPool {
                session: self.sessions[who],
                path: POOLS[path].into(),
                media_type: (path > 0).then(default_media_type),
                action: PoolAction::OpenAlways,
            },
            Action::PoolPolicy { who, from_scratch, to_scratch, max_allocates } => Command::SetPoolPolicy {
                session: self.sessions[who],
                pool: self.pool(1),
                from_scratch,
                to_scratch,
                max_allocates,
            },
            Action::MoveToPool { who, media, to_free } => Command::MoveToMediaPool {
                session: self.sessions[who],
                media: self.media(media),
                pool: if to_free { SystemPools::of(default_media_type()).free } else { self.pool(1 + media % 2) },
            },
            Action::Allocate { who, new, named } => Command::AllocateMedia {
                session: self.sessions[who],
                pool: self.pool(1),
                side: named.map(|m| SideId::of(self.media(m), 0)),
                options: AllocateOptions { new, ..Default::default() },
                // An empty pool then raises a new-media operator request,
                // which closing the session withdraws.
                wait: if named.is_none() { AllocationWait::Raise } else { AllocationWait::NoWait },
            },
            Action::Deallocate { who, k } => {
                Command::DeallocateMedia { session: self.sessions[who], lmid: self.lmid(k) }
            }
            Action::SetComplete { who, k } => {
                Command::SetMediaComplete { session: self.sessions[who], lmid: self.lmid(k) }
            }
            Action::Decommission { who, media } => {
                Command::DecommissionMedia { session: self.sessions[who], side: SideId::of(self.media(media), 0) }
            }
            Action::Swap { who, a, b } => {
                Command::SwapMedia { session: self.sessions[who], first: self.lmid(a), second: self.lmid(b) }
            }
            Action::Annotate { who, target, value, description } => {
                let object = self.object(target, ObjectRef::Computer);
                let session = self.sessions[who];
                if description {
                    Command::SetDescription { session, object, description: "x".repeat(usize::from(value)) }
                } else {
                    Command::SetAttribute { session, object, name: "tag".into(), value: vec![7; usize::from(value)] }
                }
            }
            Action::Operator { who, kind, k, satisfy } => {
                let session = self.sessions[who];
                let kind = match kind {
                    0 => OperatorRequestKind::Message,
                    1 => OperatorRequestKind::NewMedia { pool: self.pool(0) },
                    2 => OperatorRequestKind::Cleaner { library: self.changer },
                    3 => OperatorRequestKind::DeviceService { device: ObjectRef::Drive(self.drive(0)) },
                    4 => OperatorRequestKind::MoveMedia { media: self.media(0), library: Some(self.changer) },
                    // Answer one: satisfied or refused.
                    _ => {
                        let open: Vec<OperatorRequestId> = self.w.state.operator_requests.keys().copied().collect();
                        let request = open.get(k).copied().unwrap_or(OperatorRequestId::NIL);
                        let command = if satisfy {
                            Command::SatisfyOperatorRequest { session, request }
                        } else {
                            Command::CancelOperatorRequest { session, request }
                        };
                        let _ = self.w.run(command);
                        return;
                    }
                };
                Command::SubmitOperatorRequest { session, kind, message: String::new() }
            }
            Action::Steer { who, k, position } => {
                let active =
                    self.w.state.libraries.get(&self.changer).map(|l| l.active_requests.clone()).unwrap_or_default();
                let request = active.get(k).copied().unwrap_or(RequestId::NIL);
                let session = self.sessions[who];
                match position {
                    Some(position) => Command::SetRequestOrder { session, request, position },
                    None => Command::CancelRequest { session, request },
                }
            }
            Action::Inform { who, target, field, value } => {
                let object = self.object(target, ObjectRef::Side(SideId::of(self.media(0), 0)));
                let field = match field {
                    0 => InfoField::Name(["", "Weekly", "Monthly"][usize::from(value)].into()),
                    1 => InfoField::DeferDismountDelay((value > 0).then_some(u32::from(value) * 30)),
                    _ => InfoField::PoolMediaType(
                        media_type_named(["LTO-7", "LTO-8", "LTO-9"][usize::from(value)]).expect("in the catalog").id,
                    ),
                };
                Command::SetObjectInformation { session: self.sessions[who], object, field }
            }
            Action::PoolAccess { who, pool, principal, grant } => Command::SetObjectAccess {
                session: self.sessions[who],
                object: ObjectRef::Pool(self.pool(pool)),
                principal: self.principals[principal].into(),
                rights: AccessMask::USE,
                grant,
            },
        };
        // World::run checks invariants after every accepted command and that
        // a rejected command changed nothing.
        let _ = self.w.run(command);
    }
}

fn replay(log: &[Event]) -> State {
    let mut state = State::new();
    for e in log {
        apply(&mut state, e).expect("a decided event applies");
    }
    state
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_and_replay_equals_live(actions in proptest::collection::vec(action(), 1..120)) {
        let mut h = Harness::new();
        for a in &actions {
            h.step(a);
        }
        prop_assert_eq!(replay(&h.w.log), h.w.state.clone());
        // A replay cut anywhere and resumed gives the same state (snapshot + tail).
        let cut = h.w.log.len() / 2;
        let mut snapshot = replay(&h.w.log[..cut]);
        for e in &h.w.log[cut..] {
            apply(&mut snapshot, e).expect("a decided event applies");
        }
        prop_assert_eq!(snapshot, h.w.state);
    }

    #[test]
    fn a_fault_free_tail_drains_every_queue(actions in proptest::collection::vec(action(), 1..80)) {
        let mut h = Harness::new();
        for a in &actions {
            h.step(a);
        }
        // Liveness: with every object enabled and a perfect robot, nothing stays stuck.
        let admin = h.w.session("admin");
        for lib in [h.changer, h.standalone] {
            if h.w.state.libraries.contains_key(&lib) {
                let _ = h.w.run(Command::GrantAccess { session: h.sessions[0], library: lib, principal: "admin".into(), rights: AccessMask::ALL });
                let objects: Vec<ObjectRef> = {
                    let l = &h.w.state.libraries[&lib];
                    std::iter::once(ObjectRef::Library(lib))
                        .chain(l.drives.iter().map(|d| ObjectRef::Drive(*d)))
                        .chain(h.w.state.media.values().filter(|m| m.library == lib).map(|m| ObjectRef::Media(m.id)))
                        .collect()
                };
                for object in objects {
                    let _ = h.w.run(Command::SetEnabled { session: admin, object, enabled: true });
                }
            }
        }
        let started: Vec<RequestId> = h.w.state.requests.values().filter(|r| r.state == RequestState::InProcess).map(|r| r.id).collect();
        for r in started {
            if h.w.state.libraries.contains_key(&h.w.state.requests[&r].library) {
                h.w.finish(r);
            }
        }
        if h.w.state.libraries.contains_key(&h.changer) {
            // A door opened by the actions is closed by the operator, and the
            // inventory it asked for is taken: then the robot goes on.
            h.w.work(h.changer);
            if h.w.state.libraries[&h.changer].door_open() {
                h.w.run(Command::CloseDoor { session: None, library: h.changer }).expect("the open door closes");
            }
            if h.w.state.libraries[&h.changer].inventory_due {
                let command = Command::RecordInventory {
                    session: None,
                    library: h.changer,
                    observed: vec![],
                    method: InventoryMethod::Fast,
                };
                h.w.run(command).expect("the due inventory is taken");
            }
            h.w.work(h.changer);
            // Waiting mounts wait for drives sessions hold: as each holder lets
            // go, every one of them runs (one round per drive's turn).
            for _ in 0..40 {
                let waiting = h.w.state.libraries[&h.changer]
                    .active_requests
                    .iter()
                    .any(|r| h.w.state.requests[r].state == RequestState::Waiting);
                if !waiting {
                    break;
                }
                // The administrator releases them (CONTROL overrides a hold):
                // a holder may have lost its rights meanwhile.
                let held: Vec<MediaId> = h.w.state.libraries[&h.changer]
                    .drives
                    .iter()
                    .filter(|d| h.w.state.drives[*d].holder.is_some())
                    .filter_map(|d| h.w.state.drives[d].medium)
                    .collect();
                for media in held {
                    let _ = h.w.run(Command::DismountMedia { session: admin, media, deferred: false });
                }
                h.w.work(h.changer);
            }
            // A label request waits for a drive while sessions hold every drive: not stuck.
            let st = &h.w.state;
            let lib = &st.libraries[&h.changer];
            let all_held = lib.drives.iter().all(|d| st.drives[d].holder.is_some());
            let stuck: Vec<&RequestId> = lib
                .active_requests
                .iter()
                .filter(|r| !(st.requests[*r].kind.labels() && st.requests[*r].state == RequestState::Queued && all_held))
                // A mount of an offline cartridge waits for the operator to bring it, who was asked.
                .filter(|r| {
                    !st.awaiting_media.get(*r).is_some_and(|o| {
                        st.operator_requests.get(o).is_some_and(|o| o.state == OperatorRequestState::Submitted)
                            || st.media[&st.requests[*r].media].location == Location::Offline
                    })
                })
                .collect();
            prop_assert!(stuck.is_empty(), "stuck: {:?}", stuck);
        }
    }
}

#[test]
fn decide_never_panics_on_ids_that_name_nothing() {
    let mut h = Harness::new();
    for raw in 0..200u128 {
        h.step(&Action::Garbage { raw });
        let nothing = MediaId(uuid::Uuid::from_u128(raw));
        let _ =
            h.w.run(Command::MountMedia { session: h.sessions[0], media: nothing, options: MountOptions::default() });
        let _ = h.w.run(Command::CompleteRequest { request: RequestId(uuid::Uuid::from_u128(raw)) });
        let _ = h.w.run(Command::StartNext { library: LibraryId(uuid::Uuid::from_u128(raw)) });
    }
}
