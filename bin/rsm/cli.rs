//! The command line: the contract acceptance tests and operators use.

use clap::builder::RangedU64ValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use rsm::limits;
use std::path::PathBuf;

// Ranges come from the model's limits, so the command line refuses what the
// rules would (with the range in the message) and nothing they allow.

fn u16_range(min: u16, max: u16) -> RangedU64ValueParser<u16> {
    RangedU64ValueParser::new().range(u64::from(min)..=u64::from(max))
}

fn u32_range(min: u32, max: u32) -> RangedU64ValueParser<u32> {
    RangedU64ValueParser::new().range(u64::from(min)..=u64::from(max))
}

fn media_type_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(rsm::MEDIA_TYPES.iter().map(|t| t.name))
}

fn priority() -> clap::builder::RangedI64ValueParser<i8> {
    clap::value_parser!(i8).range(i64::from(limits::PRIORITY_MIN)..=i64::from(limits::PRIORITY_MAX))
}

/// The slowest simulated step: ten minutes (a real robot's worst is about
/// two); more is a typo, and would hold a `run` for days.
const SIM_STEP_MS_MAX: u64 = 600_000;

/// rsm: an event-sourced Removable Storage Manager for tape libraries.
#[derive(Parser, Debug)]
#[command(name = "rsm", version, about)]
pub struct Cli {
    /// Data directory (event log, snapshots, simulated libraries).
    #[arg(long, global = true, default_value = "./rsm-data")]
    pub data: PathBuf,
    /// Principal the commands run as (default: the OS user).
    #[arg(long, global = true)]
    pub user: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Records the log may hold before commands get ERROR_DATABASE_FULL.
    #[arg(long, global = true)]
    pub log_capacity: Option<u64>,
    /// Most unfinished requests per library before ERROR_NOT_ENOUGH_MEMORY.
    #[arg(long, global = true)]
    pub queue_max: Option<usize>,
    /// DismountDrive needs CONTROL access, as on Windows XP (default: MODIFY, Server 2003).
    #[arg(long, global = true)]
    pub xp_access_rule: bool,
    /// The iSCSI initiator name (IQN) rsm logs in to attached libraries with.
    #[arg(long, global = true, value_name = "IQN", default_value = rsm::ISCSI_INITIATOR)]
    pub initiator: String,
    /// The administrator: a principal who always holds every right on
    /// every library (default: the owner of the data directory, or the OS
    /// user while there is none).
    #[arg(long, global = true, value_name = "PRINCIPAL")]
    pub admin: Option<String>,
    /// How long each move, load and unload of a simulated library takes
    /// (default 0: instant), so that its robot can be watched at work.
    #[arg(long, global = true, value_name = "MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=SIM_STEP_MS_MAX))]
    pub sim_step_ms: u64,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create, attach or delete libraries.
    #[command(subcommand)]
    Library(LibraryCmd),
    /// Show a view.
    Show(ShowArgs),
    /// Mount a cartridge (MountNtmsMedia).
    Mount {
        /// Bar codes (or sides or logical media): several are mounted together, all or none.
        #[arg(required = true, value_name = "BARCODE")]
        barcodes: Vec<String>,
        /// Drive name or id (default: the engine picks); with several cartridges, one per
        /// cartridge in the same order.
        #[arg(long = "drive", value_name = "DRIVE")]
        drives: Vec<String>,
        /// Mount for writing.
        #[arg(long)]
        write: bool,
        /// Priority (NtmsMountPriority), -15 (lowest) to 15 (highest).
        #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = priority())]
        priority: i8,
        /// NTMS_MOUNT_ERROR_NOT_AVAILABLE: refuse with ERROR_BUSY at once when every drive is busy,
        /// rather than wait for one (NTMS_LM_WAITING).
        #[arg(long)]
        no_wait_if_busy: bool,
        /// NTMS_MOUNT_ERROR_OFFLINE: refuse with ERROR_MEDIA_OFFLINE a cartridge that is offline,
        /// rather than wait for the operator to bring it (an NTMS_OPREQ_MOVEMEDIA request).
        #[arg(long)]
        error_if_offline: bool,
        /// Milliseconds the mount may wait to start; then it fails (ERROR_BUSY while it waited for a
        /// drive, ERROR_TIMEOUT once queued). Default: no limit.
        #[arg(long, value_name = "MS")]
        timeout: Option<u64>,
        /// Run the workers until the request ends.
        #[arg(long)]
        wait: bool,
    },
    /// Release a mounted cartridge (DismountNtmsMedia).
    DismountMedia {
        /// Bar codes (or sides or logical media): several are dismounted together, all or none.
        #[arg(required = true, value_name = "BARCODE")]
        barcodes: Vec<String>,
        /// Leave it in the drive, dismountable (NTMS_DISMOUNT_DEFERRED).
        #[arg(long)]
        deferred: bool,
        /// Run the workers until the request ends.
        #[arg(long)]
        wait: bool,
    },
    /// Take the cartridge out of a drive back to its slot (DismountNtmsDrive).
    DismountDrive {
        /// Drive name or id.
        drive: String,
        /// Run the workers until the request ends.
        #[arg(long)]
        wait: bool,
    },
    /// Put a cartridge in an import/export port for the operator (EjectNtmsMedia).
    ///
    /// Once the operator takes it out, `rsm inventory` moves it to the
    /// offline library; `rsm inject` takes it back in if it is still there.
    Eject {
        /// Bar code.
        barcode: String,
        /// Run the workers until the request ends.
        #[arg(long)]
        wait: bool,
    },
    /// Take in what the operator put in a library's import/export ports (InjectNtmsMedia).
    ///
    /// One request per cartridge, each to its reserved home (an ejected
    /// cartridge never taken) or to the lowest free slot.
    Inject {
        /// Library name or id.
        library: String,
        /// Run the workers until every request ends.
        #[arg(long)]
        wait: bool,
    },
    /// Compare READ ELEMENT STATUS with the views; record every difference.
    ///
    /// Differences: a cartridge appeared, vanished (now offline), moved, is
    /// unlabeled or belongs to another library. One line per difference.
    Inventory {
        /// Library name or id.
        library: String,
        /// fast: the bar codes; omid: the bar codes, then every known
        /// cartridge mounted and its label read; default: the library's
        /// method; stop: stop the identifications an omid inventory queued.
        #[arg(long, value_enum, default_value = "default")]
        method: InventoryChoice,
        /// Wait until the cartridges it found new are classified (their
        /// first block read) and, when blank, given rsm's free-media label,
        /// and the identifications of an omid inventory are done.
        #[arg(long)]
        wait: bool,
    },
    /// Drives (DeleteNtmsDrive).
    #[command(subcommand)]
    Drive(DriveCmd),
    /// A library's door (AccessNtmsLibraryDoor): unlock it for the operator, or say it is closed.
    #[command(subcommand)]
    Door(DoorCmd),
    /// Clean a drive (CleanNtmsDrive): once it is empty the robot puts the
    /// cleaner in it and takes it back; without a usable cleaner the
    /// operator is asked for one.
    Clean {
        /// Drive name or id.
        drive: String,
        /// Work the queue until the cleaning is done or failed (a spent
        /// cleaner fails it: ERROR_CLEANER_CARTRIDGE_SPENT), or can go no
        /// further now (the drive holds a cartridge, no cleaner is there:
        /// it stays wanted, and `rsm run` carries it on).
        #[arg(long)]
        wait: bool,
    },
    /// Eject the cartridge of a stand-alone drive named by its device name
    /// (EjectDiskFromSADrive); it goes to the shelf.
    EjectDisk {
        /// The drive's device name (its name, see `rsm show drives`).
        device: String,
        /// NtmsEjectOperation: force overrides a session that holds it.
        #[arg(long, value_enum, default_value = "start")]
        option: EjectDiskOption,
    },
    /// Change detection for stand-alone drives, which do not say when a
    /// cartridge goes in or out (Begin/Set/EndNtmsDeviceChangeDetection).
    #[command(subcommand)]
    Detect(DetectCmd),
    /// The cleaner: its slot, bringing it in, taking it out.
    #[command(subcommand)]
    Cleaner(CleanerCmd),
    /// Mount the cartridge in a slot, read its label and classify it, then
    /// put it back (IdentifyNtmsSlot); an empty slot needs nothing.
    Identify {
        /// Slot name or id (see `rsm show slots`).
        slot: String,
    },
    /// Disable an object (DisableNtmsObject).
    Disable {
        /// Kind of object.
        kind: ObjectKind,
        /// Name, bar code or id.
        name: String,
    },
    /// Enable an object (EnableNtmsObject).
    Enable {
        /// Kind of object.
        kind: ObjectKind,
        /// Name, bar code or id.
        name: String,
    },
    /// Grant or revoke access to a library.
    #[command(group(clap::ArgGroup::new("secured").required(true).args(["library", "pool", "computer"])))]
    Access {
        /// grant or revoke.
        action: AccessAction,
        /// The principal the right is granted to or revoked from.
        #[arg(value_name = "USER")]
        principal: String,
        /// Right.
        right: Right,
        /// Library name or id.
        #[arg(long)]
        library: Option<String>,
        /// An application pool (its path or id).
        #[arg(long)]
        pool: Option<String>,
        /// The computer (rsm itself): USE and MODIFY are everyone's unless revoked.
        #[arg(long)]
        computer: bool,
    },
    /// Object information (GetNtmsObjectInformation, SetNtmsObjectInformation).
    #[command(subcommand)]
    Info(InfoCmd),
    /// Named data on any object (GetNtmsObjectAttribute, SetNtmsObjectAttribute).
    #[command(subcommand)]
    Attr(AttrCmd),
    /// List objects of a type (EnumerateNtmsObject), those the user may use.
    Enum {
        /// Object type.
        kind: ObjectTypeArg,
        /// The container (a library, a pool, a cartridge, a side, a logical medium).
        #[arg(long = "in", value_name = "CONTAINER")]
        container: Option<String>,
        /// NTMS_ENUM_ROOTPOOL: with `pool` and no container, the root first.
        #[arg(long)]
        root_pool: bool,
    },
    /// The simulator: the operator's hands and injected faults.
    #[command(subcommand)]
    Sim(SimCmd),
    /// Relate media types to libraries (AddNtmsMediaType, DeleteNtmsMediaType).
    #[command(subcommand, name = "media-type")]
    MediaType(MediaTypeCmd),
    /// Application media pools (CreateNtmsMediaPool, DeleteNtmsMediaPool, MoveToNtmsMediaPool).
    #[command(subcommand)]
    Pool(PoolCmd),
    /// Records of cartridges (CreateNtmsMedia, DeleteNtmsMedia, ChangeNtmsMediaType).
    #[command(subcommand)]
    Media(MediaCmd),
    /// Allocate a side from an application pool (AllocateNtmsMedia); prints the new logical medium.
    Allocate {
        /// Pool path (`\App\Daily` or `App\Daily`) or id.
        pool: String,
        /// NTMS_ALLOCATE_NEW: reserve the cartridge's other sides for later NEXT allocations.
        #[arg(long, conflicts_with = "next")]
        new: bool,
        /// NTMS_ALLOCATE_NEXT: the next reserved side of the cartridge behind this logical medium.
        #[arg(long, value_name = "LMID")]
        next: Option<String>,
        /// A specific side (its id, or a bar code for side A): AVAILABLE, or IMPORT (the import path).
        #[arg(long)]
        side: Option<String>,
        /// dwTimeout: how long to wait for media when none is available, in milliseconds (0: do not
        /// wait; 4294967295: INFINITE). While waiting, a new-media operator request is open.
        #[arg(long, value_name = "MS", default_value_t = 0)]
        timeout: u32,
        /// NTMS_ALLOCATE_ERROR_IF_UNAVAILABLE: raise no operator request and do not wait.
        #[arg(long)]
        no_operator: bool,
    },
    /// Give an allocated side back (DeallocateNtmsMedia).
    Deallocate {
        /// Logical medium id, or the bar code of its cartridge.
        lmid: String,
    },
    /// Mark a logical medium full (SetNtmsMediaComplete).
    Complete {
        /// Logical medium id, or the bar code of its cartridge.
        lmid: String,
    },
    /// Retire an available side for ever (DecommissionNtmsMedia).
    Decommission {
        /// Side id, or a bar code (its side A).
        side: String,
    },
    /// Exchange the sides behind two logical media of one pool (SwapNtmsMedia).
    Swap {
        /// First logical medium (id or bar code).
        first: String,
        /// Second logical medium (id or bar code).
        second: String,
    },
    /// Operator requests: list, submit, satisfy, refuse, wait.
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// The library request queue (show queue), with each mount's order number.
    Queue {
        /// Only this library's requests.
        #[arg(long)]
        library: Option<String>,
        /// Only requests in this state (queued, waiting, in_progress, completed, failed, cancelled).
        #[arg(long)]
        state: Option<String>,
    },
    /// Cancel a queued or waiting request (CancelNtmsLibraryRequest).
    Cancel {
        /// Request id.
        request: String,
    },
    /// A mount's order number (GetNtmsRequestOrder), or move it (SetNtmsRequestOrder).
    Order {
        /// Request id.
        request: String,
        /// The new position: 1 is next; a number past the end is last.
        position: Option<u32>,
    },
    /// Work the queue until a request ends (or the timeout passes).
    Wait {
        /// Request id.
        request: String,
        /// Give up after this many milliseconds.
        #[arg(long, value_name = "MS")]
        timeout: Option<u64>,
    },
    /// Delete finished requests from the views (DeleteNtmsRequests; the log keeps them).
    #[command(subcommand)]
    Requests(RequestsCmd),
    /// Run the workers on queued requests.
    Run {
        /// Stop once no request can start.
        #[arg(long)]
        until_idle: bool,
    },
    /// Print database notifications (NTMS_OBJ_INSERT/UPDATE/DELETE,
    /// NTMS_EVENT_COMPLETE) as records commit, one line per notice with its
    /// record's sequence number, while the workers run (Ctrl-C or SIGTERM
    /// stops). `--from SEQ` resumes after an earlier watch saw SEQ-1.
    Watch {
        /// Object types, comma-separated (library, drive, slot, port, media,
        /// side, lmid, pool, media-type, request, operator-request,
        /// computer); every type by default.
        #[arg(long, value_delimiter = ',', value_name = "TYPES")]
        types: Vec<String>,
        /// Start at this record (default: after the last committed one).
        #[arg(long, value_name = "SEQ")]
        from: Option<u64>,
        /// Print what the log holds from --from up to its head, then exit.
        #[arg(long, conflicts_with = "count")]
        until_idle: bool,
        /// Exit once this many notices were printed, at the end of a record (a record's notices
        /// are never split, so --from the next sequence resumes exactly).
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Rebuild every view from the log alone.
    Replay {
        /// Compare with the live views and the latest snapshot; exit non-zero on any difference.
        #[arg(long)]
        verify: bool,
    },
    /// Close the user's session: its mounts become deferred dismounts.
    Logout,
    /// Save a snapshot of the views now.
    Snapshot,
    /// Print metrics in Prometheus text format: those of the last invocation
    /// that ran commands (e.g. `rsm run`), and gauges read from the views now.
    Metrics,
    /// A tour: a fresh simulated library, a workload, the views, and a replay that proves them.
    Demo,
    /// Load generator for crash tests: concurrent sessions mounting and
    /// dismounting; prints `ack <request> <seq>` once each command is durable.
    #[command(hide = true)]
    Stress {
        /// Concurrent sessions.
        #[arg(long, default_value_t = 8)]
        sessions: u32,
        /// Commands per session (0: until killed).
        #[arg(long, default_value_t = 0)]
        commands: u64,
        /// Seed of the workload.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also print `notice <line>` for each notice this process's own
        /// subscription sees (as `rsm watch` prints it).
        #[arg(long)]
        watch: bool,
        /// Where that subscription starts (default: after the last committed record).
        #[arg(long, value_name = "SEQ", requires = "watch")]
        watch_from: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum LibraryCmd {
    /// Create a simulated library.
    CreateSim {
        /// Library name.
        name: String,
        /// Drives.
        #[arg(long, default_value_t = 2, value_parser = u16_range(1, limits::DRIVES_PER_LIBRARY_MAX))]
        drives: u16,
        /// Storage slots.
        #[arg(long, default_value_t = 10, value_parser = u32_range(0, limits::SLOTS_PER_LIBRARY_MAX))]
        slots: u32,
        /// Import/export ports.
        #[arg(long, default_value_t = 1, value_parser = u16_range(0, limits::PORTS_PER_LIBRARY_MAX))]
        ie_ports: u16,
        /// Cartridges (they get bar codes and fill the first slots).
        #[arg(long, default_value_t = 5, value_parser = u32_range(0, limits::SLOTS_PER_LIBRARY_MAX))]
        media: u32,
        /// A stand-alone drive (one drive, no robot; cartridges start on the shelf).
        #[arg(long, conflicts_with_all = ["drives", "slots", "ie_ports"])]
        standalone: bool,
        /// Bar codes of the cartridges: PREFIX, a number and L8 (PREFIX0001L8, ...).
        /// Default: the name's letters and digits upper-cased (at most 16),
        /// plus letters that make every bar code new to the store.
        #[arg(long, value_name = "PREFIX", value_parser = clap::builder::NonEmptyStringValueParser::new())]
        barcodes: Option<String>,
        /// The media type of its cartridges and drives.
        #[arg(long, value_name = "TYPE", default_value = rsm::DEFAULT_MEDIA_TYPE, value_parser = media_type_names())]
        media_type: String,
        /// How many of the cartridges (the last ones) arrive blank: nothing written on them. rsm
        /// mounts each, reads its first block, then writes its free-media label (`rsm run` does the
        /// work); the others arrive labelled as rsm's free media.
        #[arg(long, value_name = "N", default_value_t = 0, conflicts_with = "standalone")]
        blank: u32,
    },
    /// Attach a real changer: a library from the device's own discovery
    /// (its element addresses and the bar codes found in them).
    #[command(group = clap::ArgGroup::new("device").required(true).args(["iscsi", "sg"]))]
    Attach {
        /// Library name.
        name: String,
        /// The changer's iSCSI LUN: iscsi://HOST[:PORT]/IQN/LUN.
        #[arg(long, value_name = "URL")]
        iscsi: Option<String>,
        /// The changer's SCSI generic device (/dev/sgN) on this host; its drives
        /// are found among the other sg devices.
        #[arg(long, value_name = "DEVICE")]
        sg: Option<String>,
        /// The media type of its cartridges and drives when the library's own reports do not
        /// say (its cartridges' LTO labels, its drives' product identification); else LTO-8.
        #[arg(long, value_name = "TYPE", value_parser = media_type_names())]
        media_type: Option<String>,
        /// Classify the cartridges found in its slots (mount each and read its first block):
        /// `rsm run` does the work. Without it they are taken as rsm's free media.
        #[arg(long)]
        classify: bool,
    },
    /// Delete a library (disable it first).
    Delete {
        /// Library name or id.
        name: String,
    },
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// What to show.
    pub view: View,
    /// Only this library.
    #[arg(long)]
    pub library: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum MediaTypeCmd {
    /// Relate a media type to a library (its free, import and unrecognized pools are made).
    Add {
        /// Media type (LTO-8, ...).
        #[arg(value_parser = media_type_names())]
        media_type: String,
        /// Library name or id.
        #[arg(long)]
        library: String,
    },
    /// End a library's relation to a media type.
    Delete {
        /// Media type.
        #[arg(value_parser = media_type_names())]
        media_type: String,
        /// Library name or id.
        #[arg(long)]
        library: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum MediaCmd {
    /// Record an offline cartridge (one arriving from another server).
    Create {
        /// Bar code.
        barcode: String,
        /// An import or application pool (the cartridge takes its media type).
        #[arg(long)]
        pool: String,
        /// The state of each side, in order (default: import in an import
        /// pool, available in an application pool).
        #[arg(long = "side-state", value_enum)]
        side_states: Vec<SideStateArg>,
        /// A file holding a side's on-media label (its first block), in side order: one per side,
        /// or none. A media label library must claim it (ANSI VOL1, LTFS, rsm's free label).
        #[arg(long = "label-file", value_name = "FILE")]
        label_files: Vec<std::path::PathBuf>,
        /// NTMS_ERROR_ON_DUPLICATE: refuse a label another cartridge already has.
        #[arg(long)]
        error_on_duplicate: bool,
    },
    /// Record the label an application wrote on an allocated side (UpdateNtmsOmidInfo).
    #[command(group(clap::ArgGroup::new("label").required(true).args(["file", "filesystem", "from_drive"])))]
    Label {
        /// The logical medium, or the bar code of the one cartridge it is allocated on.
        lmid: String,
        /// NTMS_OMID_TYPE_RAW_LABEL: a file holding the label bytes just written.
        #[arg(long, value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        /// NTMS_OMID_TYPE_RAW_LABEL: the first block of the tape, read in the drive it is loaded in.
        #[arg(long)]
        from_drive: bool,
        /// NTMS_OMID_TYPE_FILESYSTEM_INFO: the file system's type (with --volume and --serial).
        #[arg(long, value_name = "TYPE", requires = "volume")]
        filesystem: Option<String>,
        /// The file system's volume name.
        #[arg(long, requires = "filesystem")]
        volume: Option<String>,
        /// The file system's serial number (decimal, or hexadecimal with 0x).
        #[arg(long, requires = "filesystem", value_parser = parse_serial, default_value = "0")]
        serial: u32,
    },
    /// Forget an offline cartridge (lost or destroyed).
    Delete {
        /// Bar code or id.
        barcode: String,
    },
    /// Move a cartridge into a pool of another media type, which it takes.
    Retype {
        /// Bar code or id.
        barcode: String,
        /// Destination pool path or id.
        pool: String,
    },
}

/// A side's state, as `media create` takes it.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum SideStateArg {
    /// NTMS_PARTSTATE_AVAILABLE.
    Available,
    /// NTMS_PARTSTATE_ALLOCATED (a logical medium is made for it).
    Allocated,
    /// NTMS_PARTSTATE_COMPLETE (a logical medium is made for it).
    Complete,
    /// NTMS_PARTSTATE_IMPORT (import pools only).
    Import,
    /// NTMS_PARTSTATE_UNPREPARED.
    Unprepared,
    /// NTMS_PARTSTATE_DECOMMISSIONED.
    Decommissioned,
}

#[derive(Subcommand, Debug)]
pub enum PoolCmd {
    /// Create an application pool (its parent levels must exist).
    Create {
        /// Path: `\App\Daily` (or `App\Daily`).
        path: String,
        /// Media type of its media; without it the pool holds only pools.
        #[arg(long = "type", value_name = "TYPE", value_parser = media_type_names())]
        media_type: Option<String>,
        /// Open the pool when it exists instead of failing (NTMS_OPEN_ALWAYS).
        #[arg(long)]
        open_always: bool,
        /// NTMS_ALLOCATE_FROMSCRATCH: when empty, allocation draws from the free pool.
        #[arg(long)]
        from_scratch: bool,
        /// NTMS_DEALLOCATE_TOSCRATCH: deallocated media go back to the free pool.
        #[arg(long)]
        to_scratch: bool,
        /// Allocations per side before deallocation decommissions it (0: unlimited).
        #[arg(long, default_value_t = 0)]
        max_allocates: u32,
    },
    /// Delete an empty application pool.
    Delete {
        /// Pool path or id.
        path: String,
    },
    /// Move a cartridge (all its sides) to another pool.
    Move {
        /// Bar code or id.
        barcode: String,
        /// Destination pool path or id.
        pool: String,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Libraries.
    Libraries,
    /// Drives.
    Drives,
    /// Storage slots.
    Slots,
    /// Import/export ports.
    Ports,
    /// Cartridges.
    Media,
    /// Library requests.
    Queue,
    /// The media type catalog and the libraries that handle each type.
    MediaTypes,
    /// Media pools.
    Pools,
    /// Sides of the cartridges.
    Sides,
    /// Logical media (allocated sides).
    Lmids,
    /// Operator requests (new media wanted, ...), open and closed.
    #[value(alias = "opreqs")]
    OperatorRequests,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ObjectKind {
    /// A drive.
    Drive,
    /// A library.
    Library,
    /// A cartridge (by bar code).
    Media,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum AccessAction {
    /// Add the right.
    Grant,
    /// Remove the right.
    Revoke,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum Right {
    /// NTMS_USE_ACCESS.
    Use,
    /// NTMS_MODIFY_ACCESS.
    Modify,
    /// NTMS_CONTROL_ACCESS.
    Control,
}

/// InventoryNtmsLibrary's dwAction.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum InventoryChoice {
    /// NTMS_INVENTORY_FAST.
    Fast,
    /// NTMS_INVENTORY_OMID.
    Omid,
    /// NTMS_INVENTORY_DEFAULT.
    Default,
    /// NTMS_INVENTORY_STOP.
    Stop,
}

/// The inventory after a door closes (AccessNtmsLibraryDoor's dwAction).
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum DoorInventory {
    /// NTMS_INVENTORY_NONE: the views are trusted.
    None,
    /// NTMS_INVENTORY_FAST.
    Fast,
    /// NTMS_INVENTORY_OMID.
    Omid,
    /// NTMS_INVENTORY_DEFAULT: the library's method.
    Default,
}

#[derive(Subcommand, Debug)]
pub enum DriveCmd {
    /// Remove a drive an inventory found gone (NTMS_NOT_PRESENT) from the views; a stand-alone
    /// drive takes its library with it.
    Delete {
        /// Drive name or id.
        drive: String,
    },
}

/// `NtmsEjectOperation` for EjectDiskFromSADrive.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum EjectDiskOption {
    /// NTMS_EJECT_START.
    Start,
    /// NTMS_EJECT_STOP (nothing to stop: refused).
    Stop,
    /// NTMS_EJECT_QUEUE.
    Queue,
    /// NTMS_EJECT_FORCE: eject even a cartridge a session holds.
    Force,
    /// NTMS_EJECT_IMMEDIATE.
    Immediate,
    /// NTMS_EJECT_ASK_USER (rsm asks nobody: as immediate).
    AskUser,
}

/// What `rsm detect` targets name.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum DetectTarget {
    /// Stand-alone libraries by name.
    Library,
    /// Cartridges by bar code: every stand-alone library that could hold them.
    Media,
    /// Media types by name: every stand-alone library that handles them.
    MediaType,
}

#[derive(Subcommand, Debug)]
pub enum DetectCmd {
    /// Read the drives of these stand-alone libraries once and record what
    /// the operator put in or took out (SetNtmsDeviceChangeDetection with no handle).
    Poll {
        /// Names (of the --of kind).
        #[arg(required = true)]
        targets: Vec<String>,
        /// What the names are.
        #[arg(long = "of", value_enum, default_value = "library")]
        of: DetectTarget,
    },
    /// Open a detection watching these libraries: `rsm run` polls them
    /// until `rsm detect end`. Prints the handle.
    Watch {
        /// Names (of the --of kind).
        #[arg(required = true)]
        targets: Vec<String>,
        /// What the names are.
        #[arg(long = "of", value_enum, default_value = "library")]
        of: DetectTarget,
    },
    /// End a detection (EndNtmsDeviceChangeDetection).
    End {
        /// The handle `rsm detect watch` printed.
        detection: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum CleanerCmd {
    /// Keep an empty slot for the cleaner (ReserveNtmsCleanerSlot).
    Reserve {
        /// Library name or id.
        library: String,
        /// Slot name or id.
        slot: String,
    },
    /// Give the cleaner slot back to data cartridges (ReleaseNtmsCleanerSlot).
    Release {
        /// Library name or id.
        library: String,
    },
    /// Take the cleaner the operator put in a port to the cleaner slot
    /// (InjectNtmsCleaner); a library without a port opens its door for it.
    Inject {
        /// Library name or id.
        library: String,
        /// Cleanings it has left (default: until it is spent).
        #[arg(long)]
        cleans: Option<u32>,
        /// Stop this inject operation (the request id `inject` printed) before it starts.
        #[arg(long, value_name = "OPERATION")]
        stop: Option<String>,
        /// Wait until it is in its slot (a library without ports: nothing to
        /// wait for, the operator puts it in through the door).
        #[arg(long)]
        wait: bool,
    },
    /// Take the cleaner out through a port, or the door (EjectNtmsCleaner).
    Eject {
        /// Library name or id.
        library: String,
        /// Stop this eject operation (the request id `eject` printed) before it starts.
        #[arg(long, value_name = "OPERATION")]
        stop: Option<String>,
        /// Wait until it is in the port.
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum DoorCmd {
    /// Unlock the door once the robot is idle; the robot waits while it is open.
    Open {
        /// Library name or id.
        library: String,
        /// The inventory taken once the door closes.
        #[arg(long, value_enum, default_value = "default")]
        inventory: DoorInventory,
    },
    /// The operator closed the door: lock it and take the inventory chosen when it opened.
    Close {
        /// Library name or id.
        library: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimDoorCmd {
    /// The operator closes the door of a simulated library.
    Close {
        /// Library name or id.
        library: String,
    },
    /// Through the open door, the operator puts a cartridge in a slot.
    Put {
        /// Slot name (see `rsm show slots`).
        slot: String,
        /// Bar code.
        barcode: String,
    },
    /// Through the open door, the operator takes the cartridge out of a slot.
    Take {
        /// Slot name.
        slot: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// The operator puts a cartridge into a stand-alone drive.
    Insert {
        /// Drive name or id.
        drive: String,
        /// Bar code.
        barcode: String,
        /// Without a word to rsm: only change detection (`rsm detect`) finds it.
        #[arg(long)]
        unseen: bool,
    },
    /// The operator takes the cartridge out of a stand-alone drive.
    Remove {
        /// Without a word to rsm: only change detection (`rsm detect`) finds it.
        #[arg(long)]
        unseen: bool,
        /// Drive name or id.
        drive: String,
    },
    /// The operator puts a cartridge in an import/export port of a simulated library.
    FillPort {
        /// Port name (see `rsm show ports`).
        port: String,
        /// Bar code.
        barcode: String,
        /// A file holding what is written at the start of the cartridge (its label); without it
        /// the cartridge is blank.
        #[arg(long, value_name = "FILE")]
        label_file: Option<std::path::PathBuf>,
    },
    /// The operator takes the cartridge out of an import/export port of a simulated library.
    EmptyPort {
        /// Port name.
        port: String,
    },
    /// The operator pulls an empty drive out of a simulated library (the next inventory finds
    /// it gone).
    PullDrive {
        /// Drive name or id.
        drive: String,
    },
    /// The operator at the door of a simulated library.
    #[command(subcommand)]
    Door(SimDoorCmd),
    /// A drive of a simulated library says it needs cleaning (as a real
    /// drive's "cleaning requested" does) until a cleaner has been through it.
    NeedsCleaning {
        /// Drive name or id.
        drive: String,
    },
    /// Inject a fault into a simulated library.
    Fail {
        /// Which fault.
        fault: FaultKind,
        /// Library name (default: the library of --drive, or the only library).
        #[arg(long)]
        library: Option<String>,
        /// Drive name or id (for unload and load faults).
        #[arg(long)]
        drive: Option<String>,
        /// How many times it strikes (0 disarms it).
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FaultKind {
    /// The robot fails its next move.
    Robot,
    /// The drive will not unload.
    Unload,
    /// The drive will not load.
    Load,
}

/// A serial number: decimal, or hexadecimal after `0x`.
fn parse_serial(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|e| format!("{text:?} is not a 32-bit serial number: {e}"))
}

/// An object type, as `rsm enum` takes it.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum ObjectTypeArg {
    Computer,
    Library,
    Drive,
    Slot,
    Port,
    Request,
    Media,
    Side,
    Lmid,
    Pool,
    MediaType,
    OperatorRequest,
}

#[derive(Subcommand, Debug)]
pub enum InfoCmd {
    /// An object's information: its type, id, name, description, attributes
    /// and what its view shows. OBJECT: `computer`, a name, a bar code, a pool path or an id.
    Get {
        /// The object.
        object: String,
    },
    /// Writes writable fields (SetNtmsObjectInformation), each at most once:
    /// `description=TEXT` on any object; `name=NAME` on a library, a pool, a cartridge, a side
    /// or a logical medium; on a pool `media_type=TYPE`, `from_scratch=true|false`,
    /// `to_scratch=true|false`, `max_allocates=N`; on a drive `defer_dismount_delay=SECONDS|library`;
    /// on the computer `lib_request_purge_time=S`, `lib_request_flags=N`,
    /// `op_request_purge_time=S`, `op_request_flags=N`, `media_pool_policy=N`.
    Set {
        /// The object.
        object: String,
        /// FIELD=VALUE pairs.
        #[arg(value_name = "FIELD=VALUE", required = true)]
        fields: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum AttrCmd {
    /// Prints an attribute's value (as text; `--json` adds it in hexadecimal).
    Get {
        /// The object.
        object: String,
        /// The attribute's name.
        name: String,
    },
    /// Sets an attribute (an empty value removes it).
    #[command(group(clap::ArgGroup::new("attribute_value").required(true).args(["value", "file"])))]
    Set {
        /// The object.
        object: String,
        /// The attribute's name (fewer than 32 characters).
        name: String,
        /// The value, as text.
        #[arg(long)]
        value: Option<String>,
        /// The value, a file's bytes (fewer than 65,536).
        #[arg(long, value_name = "FILE")]
        file: Option<std::path::PathBuf>,
    },
    /// Lists an object's attributes with their sizes.
    List {
        /// The object.
        object: String,
    },
}

/// `rsm requests`.
#[derive(Subcommand, Debug)]
pub enum RequestsCmd {
    /// Delete finished library requests (and closed operator requests) from the views.
    #[command(group(clap::ArgGroup::new("which").required(true).args(["ids", "finished"])))]
    Delete {
        /// Request ids (library or operator requests).
        ids: Vec<String>,
        /// Every finished request.
        #[arg(long)]
        finished: bool,
    },
}

/// `rsm operator`.
#[derive(Subcommand, Debug)]
pub enum OperatorCmd {
    /// The operator requests (show operator-requests).
    List,
    /// Ask the operator (SubmitNtmsOperatorRequest).
    Submit {
        /// What is asked.
        #[arg(value_enum)]
        kind: OperatorKindArg,
        /// The message (at most 255 characters).
        #[arg(default_value = "")]
        message: String,
        /// new-media: the pool.
        #[arg(long)]
        pool: Option<String>,
        /// cleaner: the library; move-media: the library to bring the cartridge to.
        #[arg(long)]
        library: Option<String>,
        /// device-service: the library, drive or cartridge (bar code) to service.
        #[arg(long)]
        device: Option<String>,
        /// move-media: the cartridge (bar code).
        #[arg(long)]
        media: Option<String>,
    },
    /// Mark a request done (SatisfyNtmsOperatorRequest).
    Satisfy {
        /// Operator request id.
        id: String,
    },
    /// Refuse a request (CancelNtmsOperatorRequest).
    Cancel {
        /// Operator request id.
        id: String,
    },
    /// Wait until a request is answered (WaitForNtmsOperatorRequest).
    Wait {
        /// Operator request id.
        id: String,
        /// Give up after this many milliseconds (0: look once).
        #[arg(long, value_name = "MS")]
        timeout: Option<u64>,
    },
}

/// The kinds of operator request (`NtmsOpreqCommand`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperatorKindArg {
    /// NTMS_OPREQ_NEWMEDIA: media for a pool (--pool).
    NewMedia,
    /// NTMS_OPREQ_CLEANER: a cleaner for a library (--library).
    Cleaner,
    /// NTMS_OPREQ_DEVICESERVICE: service a device (--device).
    DeviceService,
    /// NTMS_OPREQ_MOVEMEDIA: move a cartridge (--media [--library]).
    MoveMedia,
    /// NTMS_OPREQ_MESSAGE: a message.
    Message,
}
