//! The `rsm` command.

mod cleaner;
mod cli;
mod demo;
mod door;
mod media;
mod metrics;
mod objects;
mod operator;
mod out;
mod queue;
mod render;
mod resolve;
mod sim;
mod stop;
mod stress;
mod watch;

use clap::Parser;
use cli::*;
use rsm::*;
use serde_json::{json, Value};
use std::process::ExitCode;

/// sled's write path is dominated by allocation; mimalloc is markedly faster there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A command failed: an NTMS rejection (exit 2), a usage error or an I/O
/// error of rsm's own (exit 1), or its output could not be written (a closed
/// stdout ends quietly, exit 0; any other write error exits 1). With
/// `--json`, each is one document on stdout.
pub enum Failure {
    Rejected(NtmsError),
    /// A request ended but not well: its error, and the document that
    /// reports the request (the only one printed with `--json`).
    Ended(NtmsError, serde_json::Value),
    Usage(String),
    /// A file, a directory or the runtime failed; the message names it.
    Io(String),
    /// The reader closed stdout: it has all it wanted.
    Closed,
    /// Stdout could not be written (a full disk, an I/O error).
    Output(std::io::Error),
    /// A stop signal ended a wait before the request did: the document
    /// reports the request as it stood, the text says what became of it.
    Stopped(stop::Signal, serde_json::Value, &'static str),
}

impl Failure {
    /// A write to stdout failed.
    pub fn output(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::Closed
        } else {
            Failure::Output(e)
        }
    }
}

impl From<NtmsError> for Failure {
    fn from(e: NtmsError) -> Self {
        Failure::Rejected(e)
    }
}

pub type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    stop::hold();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            let text = e.render().to_string();
            if json_asked() {
                let message = text.trim().trim_start_matches("error: ");
                out::failure_json(&json!({"error": "usage", "message": message}));
            }
            // clap's text quotes the arguments: each line escaped.
            text.trim_end().lines().for_each(out::error);
            return ExitCode::from(1);
        }
        // --help and --version: text on stdout.
        Err(e) => {
            return match e.print() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => exit(Failure::output(e), false),
            };
        }
    };
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return exit(Failure::Io(format!("cannot start the runtime: {e}")), json),
    };
    // The recorder lives for the process; `run` saves what it gathered.
    let recorder = metrics::install();
    match runtime.block_on(run(cli, recorder)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => exit(failure, json),
    }
}

/// Reports a failure and chooses the exit status.
fn exit(failure: Failure, json: bool) -> ExitCode {
    match failure {
        Failure::Usage(message) => local("usage", &message, json),
        Failure::Io(message) => local("io", &message, json),
        Failure::Rejected(e) => exit(Failure::Ended(e, json!({})), json),
        Failure::Ended(e, document) => {
            if json {
                // The request's fields, then the error's (which win).
                let mut report = match document {
                    Value::Object(fields) => fields,
                    _ => serde_json::Map::new(),
                };
                report.insert("error".into(), e.name().into());
                report.insert("code".into(), e.code().into());
                report.insert("message".into(), e.message().into());
                out::failure_json(&Value::Object(report));
            }
            out::error(&format!("{} ({}): {}", e.name(), e.code(), e.message()));
            ExitCode::from(2)
        }
        Failure::Stopped(signal, document, left) => {
            if json {
                let mut report = match document {
                    Value::Object(fields) => fields,
                    _ => serde_json::Map::new(),
                };
                report.insert("stopped_by".into(), signal.name().into());
                out::failure_json(&Value::Object(report));
            }
            out::error(&format!("rsm: {}: stopped waiting; {left}", signal.name()));
            ExitCode::from(signal.exit_status())
        }
        Failure::Closed => ExitCode::SUCCESS,
        Failure::Output(e) => {
            out::error(&format!("rsm: cannot write to standard output: {e}"));
            ExitCode::from(1)
        }
    }
}

/// A failure of rsm's own (`kind` usage or io): exit 1.
fn local(kind: &str, message: &str, json: bool) -> ExitCode {
    if json {
        // The failure is the outcome: a closed stdout does not change the exit status.
        out::failure_json(&json!({"error": kind, "message": message}));
    }
    out::error(&format!("rsm: {message}"));
    ExitCode::from(1)
}

/// Whether the command line asks for JSON (read before clap, whose error
/// it may have to report).
fn json_asked() -> bool {
    std::env::args_os().skip(1).take_while(|a| a != "--").any(|a| a == "--json")
}

fn default_user() -> String {
    ["RSM_USER", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "root".to_string())
}

/// A principal as the model names objects (`limits::is_valid_name`): 1 to 63
/// printable characters without spaces; anything else is
/// ERROR_INVALID_PARAMETER, before any command, reads included, runs.
fn check_principal(user: &str, from: &str) -> Result<String, Failure> {
    if limits::is_valid_name(user) {
        return Ok(user.to_string());
    }
    Err(Failure::Rejected(NtmsError::new(
        ErrorCode::InvalidParameter,
        format!("{from}: a principal name is 1 to 63 printable characters without spaces, not \"{user}\""),
    )))
}

/// A device path made absolute, as the library will remember it.
fn absolute(path: &str) -> Result<String, Failure> {
    std::path::absolute(path).map(|p| p.to_string_lossy().into_owned()).map_err(|e| Failure::Io(format!("{path}: {e}")))
}

/// Checks an iSCSI name's form (RFC 3720 §3.2.6): `iqn.`, `eui.` or `naa.`,
/// at most 223 bytes, no spaces or control characters.
fn check_initiator(name: &str) -> Result<(), Failure> {
    let prefixed = ["iqn.", "eui.", "naa."].iter().any(|p| name.starts_with(p));
    if !prefixed || name.len() > 223 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Failure::Usage(format!(
            "--initiator \"{name}\" is not an iSCSI name (iqn.YYYY-MM.reversed.domain[:id], eui.… or naa.…; at most 223 bytes)"
        )));
    }
    Ok(())
}

/// The engine configuration the global flags ask for.
/// The owner of `dir`, by name from the system's user list.
fn owner_of(dir: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(dir).ok()?.uid();
    let users = std::fs::read_to_string("/etc/passwd").ok()?;
    users.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        (fields.next()?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// The administrator principal: `--admin`, else the owner of the data
/// directory, else (no directory yet) the OS user, who will own it.
fn administrator(cli: &Cli) -> Result<String, Failure> {
    match &cli.admin {
        Some(admin) => check_principal(admin, "--admin"),
        None => Ok(owner_of(&cli.data).unwrap_or_else(default_user)),
    }
}

fn config(cli: &Cli) -> EngineConfig {
    let mut policy = Policy::default();
    if let Some(q) = cli.queue_max {
        policy.queue_per_library_max = q;
    }
    if cli.xp_access_rule {
        policy = policy.windows_xp_rules();
    }
    EngineConfig {
        policy,
        log_capacity_records: cli.log_capacity,
        // Each invocation is short: workers run only in `run` and `--wait`.
        run_workers: false,
        iscsi_initiator: cli.initiator.clone(),
        sim_timings: rsm::hardware::SimTimings {
            move_ms: cli.sim_step_ms,
            load_ms: cli.sim_step_ms,
            unload_ms: cli.sim_step_ms,
            clean_ms: cli.sim_step_ms,
        },
        ..EngineConfig::default()
    }
}

async fn run(cli: Cli, recorder: Option<metrics_exporter_prometheus::PrometheusHandle>) -> Outcome {
    if let Cmd::Demo = cli.command {
        return demo::run(cli.json).await;
    }
    // A command that runs the workers stops on SIGTERM or SIGINT at any
    // moment, opening included: the handlers are in place before the
    // signals held since `main` are let through.
    if runs_workers(&cli.command) {
        stop::listen().map_err(Failure::Io)?;
    }
    stop::release();
    let user = match &cli.user {
        Some(user) => check_principal(user, "--user")?,
        None => check_principal(&default_user(), "the OS user (name another with --user)")?,
    };
    check_initiator(&cli.initiator)?;
    // A malformed URL is the caller's mistake, found before a store is created for it.
    if let Cmd::Library(LibraryCmd::Attach { iscsi: Some(url), .. }) = &cli.command {
        rsm_transport::IscsiUrl::parse(url)
            .map_err(|e| Failure::Rejected(NtmsError::new(ErrorCode::InvalidParameter, format!("--iscsi: {e}"))))?;
    }
    let mut config = config(&cli);
    config.policy.administrator = Some(administrator(&cli)?);
    if matches!(cli.command, Cmd::Run { until_idle: false } | Cmd::Stress { .. } | Cmd::Watch { until_idle: false, .. })
    {
        config.run_workers = true;
    }
    // Only commands that create objects may create a store.
    config.create_store = matches!(
        cli.command,
        Cmd::Library(LibraryCmd::CreateSim { .. } | LibraryCmd::Attach { .. }) | Cmd::Stress { .. }
    );
    let new_store = if config.create_store { NewStore::claim(&cli.data)? } else { None };
    let engine = match Engine::open(&cli.data, config).await {
        Ok(engine) => engine,
        Err(e) => {
            if let Some(created) = &new_store {
                created.undo();
            }
            return Err(e.into());
        }
    };
    let result = dispatch(&engine, &cli, &user).await;
    // A store this invocation created for a command that failed before it
    // made anything is removed: a failed create leaves nothing behind.
    let pointless = result.is_err() && engine.query(|s| s.libraries.is_empty()).await.unwrap_or(false);
    engine.shutdown().await;
    if let Some(created) = new_store.filter(|_| pointless) {
        created.undo();
        return result;
    }
    if !matches!(cli.command, Cmd::Metrics | Cmd::Show(_) | Cmd::Replay { .. }) {
        if let Some(handle) = recorder {
            metrics::save(&cli.data, &handle.render());
        }
    }
    result
}

/// A data directory this invocation is making a store: it was absent or
/// empty, and this process holds an exclusive lock on it from before the
/// store's first file until the process ends, so two creating commands on
/// one new directory take turns (the second finds the first's store) and a
/// failed create takes back only what it made.
struct NewStore {
    dir: std::path::PathBuf,
    /// The highest directory this invocation created, if it created any.
    created: Option<std::path::PathBuf>,
    _lock: std::fs::File,
}

/// The entries of a data directory that are rsm's (a store, perhaps one a
/// crash left half made).
const STORE_ENTRIES: [&str; 5] = ["STORE", "STORE.new", "log", "sim", "metrics.prom"];

impl NewStore {
    /// `Some` when `dir` is (after waiting for any other creating command)
    /// absent or empty: it is made and locked. `None` when it holds a store,
    /// whole or half made, for the engine to open. A directory that holds
    /// other files, or a path that cannot be a directory, is refused before
    /// anything is written.
    fn claim(dir: &std::path::Path) -> Result<Option<NewStore>, Failure> {
        use std::os::unix::fs::MetadataExt;
        let shown = dir.display();
        loop {
            let created = dir
                .ancestors()
                .take_while(|a| !a.as_os_str().is_empty() && std::fs::symlink_metadata(a).is_err())
                .last()
                .map(std::path::Path::to_path_buf);
            rsm::log::create_dir_durably(dir).map_err(|e| Failure::Io(format!("cannot create {shown}: {e}")))?;
            let lock = std::fs::File::open(dir).map_err(|e| Failure::Io(format!("cannot open {shown}: {e}")))?;
            lock.lock().map_err(|e| Failure::Io(format!("cannot lock {shown}: {e}")))?;
            // A creating command that failed may have removed the directory
            // while this one waited: then it is made anew.
            let same = match (std::fs::metadata(dir), lock.metadata()) {
                (Ok(now), Ok(held)) => now.ino() == held.ino() && now.dev() == held.dev(),
                _ => false,
            };
            if !same {
                continue;
            }
            let names: Vec<String> = std::fs::read_dir(dir)
                .map_err(|e| Failure::Io(format!("cannot list {shown}: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect();
            if names.is_empty() {
                return Ok(Some(NewStore { dir: dir.to_path_buf(), created, _lock: lock }));
            }
            if names.iter().any(|n| STORE_ENTRIES.contains(&n.as_str())) {
                return Ok(None);
            }
            return Err(Failure::Rejected(NtmsError::new(
                ErrorCode::DatabaseFailure,
                format!(
                    "{shown} is not an rsm store and not empty (it holds {}): give a new or empty directory",
                    names.first().map(String::as_str).unwrap_or_default()
                ),
            )));
        }
    }

    /// Takes back what the store's creation made: the directories this
    /// invocation created, else what it put in the empty directory it was
    /// given. Best effort, said when it fails.
    fn undo(&self) {
        let removed = match &self.created {
            Some(top) => std::fs::remove_dir_all(&self.dir).map(|()| {
                // The levels above, up to the highest this invocation made, when nothing else is in them.
                for level in self.dir.ancestors().skip(1) {
                    if !level.starts_with(top) || std::fs::remove_dir(level).is_err() {
                        break;
                    }
                }
            }),
            None => std::fs::read_dir(&self.dir).and_then(|entries| {
                entries.into_iter().try_for_each(|entry| {
                    let path = entry?.path();
                    if path.is_dir() {
                        std::fs::remove_dir_all(path)
                    } else {
                        std::fs::remove_file(path)
                    }
                })
            }),
        };
        if let Err(e) = removed {
            out::warn(&format!("could not remove the store this command created in {}: {e}", self.dir.display()));
        }
    }
}

/// Whether `command` runs the workers (and so listens for stop signals).
fn runs_workers(command: &Cmd) -> bool {
    match command {
        Cmd::Run { .. } | Cmd::Wait { .. } | Cmd::Operator(OperatorCmd::Wait { .. }) => true,
        Cmd::Watch { until_idle, .. } => !*until_idle,
        Cmd::Mount { wait, .. }
        | Cmd::DismountMedia { wait, .. }
        | Cmd::DismountDrive { wait, .. }
        | Cmd::Eject { wait, .. }
        | Cmd::Inject { wait, .. }
        | Cmd::Inventory { wait, .. } => *wait,
        Cmd::Allocate { timeout, .. } => *timeout > 0,
        _ => false,
    }
}

async fn dispatch(engine: &Engine, cli: &Cli, user: &str) -> Outcome {
    let json = cli.json;
    match &cli.command {
        Cmd::Library(LibraryCmd::CreateSim {
            name,
            drives,
            slots,
            ie_ports,
            media,
            standalone,
            barcodes,
            media_type,
            blank,
        }) => {
            if *blank > *media {
                return Err(Failure::Usage(format!("--blank {blank} is more than the {media} cartridges")));
            }
            let prefix = match barcodes {
                Some(prefix) => prefix.clone(),
                None => {
                    let (n, m) = (name.clone(), *media);
                    engine.query(move |s| sim::free_prefix(s, &n, m)).await?
                }
            };
            let media_type = media_type_named(media_type)
                .ok_or_else(|| Failure::Usage(format!("{media_type} is not a media type rsm knows")))?
                .id;
            let mut spec = sim::sim_spec(name, &prefix, *drives, *slots, *ie_ports, *media, *standalone);
            spec.media_type = media_type;
            spec.unlabelled = spec.barcodes[spec.barcodes.len() - *blank as usize..].to_vec();
            let session = engine.session_for(user).await?;
            session.create_library(spec).await?;
            render::show(engine, View::Libraries, Some(name), json).await
        }
        Cmd::Library(LibraryCmd::Attach { name, iscsi, sg, media_type, classify }) => {
            let device = match (iscsi, sg) {
                (Some(url), _) => url.clone(),
                (None, Some(path)) => absolute(path)?,
                (None, None) => return Err(Failure::Usage("name the changer with --iscsi URL or --sg DEVICE".into())),
            };
            let session = engine.session_for(user).await?;
            let media_type = match media_type {
                Some(t) => Some(
                    media_type_named(t).ok_or_else(|| Failure::Usage(format!("{t} is not a media type rsm knows")))?.id,
                ),
                None => None,
            };
            let (_, warnings) = session.attach_library_classifying(name, &device, media_type, *classify).await?;
            for w in warnings {
                out::warn(&w);
            }
            render::show(engine, View::Libraries, Some(name), json).await
        }
        Cmd::Library(LibraryCmd::Delete { name }) => {
            let library = resolve::library(engine, name).await?;
            let session = engine.session_for(user).await?;
            session.submit(Command::DeleteLibrary { session: session.id(), library }).await?;
            render::done(json, &format!("library {name} deleted"))
        }
        Cmd::Show(args) => render::show(engine, args.view, args.library.as_deref(), json).await,
        Cmd::Mount { barcodes, drives, write, priority, no_wait_if_busy, error_if_offline, timeout, wait } => {
            let mut media = Vec::new();
            for barcode in barcodes {
                media.push(resolve::media(engine, barcode).await?);
            }
            let mut named = Vec::new();
            for d in drives {
                named.push(resolve::drive(engine, d).await?);
            }
            let session = engine.session_for(user).await?;
            let options = MountOptions {
                drive: None,
                write: *write,
                priority: *priority,
                no_wait_if_busy: *no_wait_if_busy,
                timeout_ms: *timeout,
                error_if_offline: *error_if_offline,
            };
            if let ([one], [] | [_]) = (media.as_slice(), named.as_slice()) {
                let drive = named.first().copied();
                let handle = session.mount_media(*one, MountOptions { drive, ..options }).await?;
                return render::request(engine, handle.id(), *wait, json).await;
            }
            let handles = session.mount_media_set(media, named, options).await?;
            render::requests(engine, handles.iter().map(|h| h.id()).collect(), *wait, json).await
        }
        Cmd::DismountMedia { barcodes, deferred, wait } => {
            let mut media = Vec::new();
            for barcode in barcodes {
                media.push(resolve::media(engine, barcode).await?);
            }
            let session = engine.session_for(user).await?;
            let named = barcodes.join(", ");
            if let [one] = media.as_slice() {
                let handle = session.dismount_media(*one, *deferred).await?;
                if *deferred {
                    return render::done(json, &format!("{named} released; it stays in its drive, dismountable"));
                }
                return render::request(engine, handle.id(), *wait, json).await;
            }
            let handles = session.dismount_media_set(media, *deferred).await?;
            if *deferred {
                return render::done(json, &format!("{named} released; they stay in their drives, dismountable"));
            }
            render::requests(engine, handles.iter().map(|h| h.id()).collect(), *wait, json).await
        }
        Cmd::DismountDrive { drive, wait } => {
            let drive = resolve::drive(engine, drive).await?;
            let session = engine.session_for(user).await?;
            let handle = session.dismount_drive(drive).await?;
            render::request(engine, handle.id(), *wait, json).await
        }
        Cmd::Eject { barcode, wait } => {
            let media = resolve::media(engine, barcode).await?;
            let session = engine.session_for(user).await?;
            let handle = session.eject_media(media).await?;
            render::request(engine, handle.id(), *wait, json).await
        }
        Cmd::Inject { library, wait } => {
            let id = resolve::library(engine, library).await?;
            let session = engine.session_for(user).await?;
            let accepted = session.inject_media(id).await?;
            render::inject(engine, library, accepted.events, *wait, json).await
        }
        Cmd::Inventory { library, method, wait } => door::inventory(engine, user, library, *method, *wait, json).await,
        Cmd::Door(cmd) => door::door(engine, user, cmd, json).await,
        Cmd::Drive(DriveCmd::Delete { drive }) => {
            let id = resolve::drive(engine, drive).await?;
            let session = engine.session_for(user).await?;
            session.submit(Command::DeleteDrive { session: session.id(), drive: id }).await?;
            render::done(json, &format!("drive {drive} deleted"))
        }
        Cmd::Identify { slot } => door::identify(engine, user, slot, json).await,
        Cmd::Clean { drive, wait } => cleaner::clean(engine, user, drive, *wait, json).await,
        Cmd::EjectDisk { device, option } => {
            let session = engine.session_for(user).await?;
            let r = session.eject_disk_from_standalone_drive(device, *option as u32).await?;
            let barcode = engine.query(move |s| s.media.get(&r.media).map(|m| m.barcode.clone())).await?;
            let what = barcode.unwrap_or_else(|| "its cartridge (left the catalog)".into());
            render::done(json, &format!("{what} ejected from {device}: on the shelf"))
        }
        Cmd::Cleaner(cmd) => cleaner::cleaner(engine, user, cmd, json).await,
        Cmd::Detect(cmd) => cleaner::detect(engine, user, cmd, json).await,
        Cmd::Disable { kind, name } | Cmd::Enable { kind, name } => {
            let enabled = matches!(cli.command, Cmd::Enable { .. });
            let object = match kind {
                ObjectKind::Drive => ObjectRef::Drive(resolve::drive(engine, name).await?),
                ObjectKind::Library => ObjectRef::Library(resolve::library(engine, name).await?),
                ObjectKind::Media => ObjectRef::Media(resolve::media(engine, name).await?),
            };
            let session = engine.session_for(user).await?;
            session.set_enabled(object, enabled).await?;
            render::done(json, &format!("{name} {}", if enabled { "enabled" } else { "disabled" }))
        }
        Cmd::Access { action, principal: grantee, right, library, pool, computer: _ } => {
            let rights = match right {
                Right::Use => AccessMask::USE,
                Right::Modify => AccessMask::MODIFY,
                Right::Control => AccessMask::CONTROL,
            };
            let session = engine.session_for(user).await?;
            let grant = matches!(action, AccessAction::Grant);
            match (library, pool) {
                (Some(library), _) => {
                    let lib = resolve::library(engine, library).await?;
                    session.set_object_access(ObjectRef::Library(lib), grantee, rights, grant).await?;
                    render::show(engine, View::Libraries, Some(library), json).await
                }
                (None, Some(pool)) => {
                    let id = resolve::pool(engine, pool).await?;
                    objects::access(&session, ObjectRef::Pool(id), grantee, rights, grant, json).await
                }
                (None, None) => objects::access(&session, ObjectRef::Computer, grantee, rights, grant, json).await,
            }
        }
        Cmd::Info(command) => objects::info(engine, user, command, json).await,
        Cmd::Attr(command) => objects::attr(engine, user, command, json).await,
        Cmd::Enum { kind, container, root_pool } => {
            objects::enumerate(engine, user, *kind, container.as_deref(), *root_pool, json).await
        }
        Cmd::Sim(sim) => sim::sim(engine, sim, user, json).await,
        Cmd::MediaType(command) => media::media_type(engine, user, command, json).await,
        Cmd::Pool(command) => media::pool(engine, user, command, json).await,
        Cmd::Media(command) => media::media(engine, user, command, json).await,
        Cmd::Allocate { pool, new, next, side, timeout, no_operator } => {
            let args = media::AllocateArgs {
                pool,
                new: *new,
                next: next.as_deref(),
                side: side.as_deref(),
                timeout: AllocationTimeout::from_millis(*timeout),
                no_operator: *no_operator,
            };
            media::allocate(engine, user, args, json).await
        }
        Cmd::Deallocate { lmid } => media::logical(engine, user, lmid, media::SideAction::Deallocate, json).await,
        Cmd::Complete { lmid } => media::logical(engine, user, lmid, media::SideAction::Complete, json).await,
        Cmd::Decommission { side } => media::decommission(engine, user, side, json).await,
        Cmd::Swap { first, second } => media::swap(engine, user, first, second, json).await,
        Cmd::Operator(command) => operator::operator(engine, user, command, json).await,
        Cmd::Queue { library, state } => queue::show(engine, library.as_deref(), state.as_deref(), json).await,
        Cmd::Cancel { request } => queue::cancel(engine, user, request, json).await,
        Cmd::Order { request, position } => queue::order(engine, user, request, *position, json).await,
        Cmd::Wait { request, timeout } => queue::wait(engine, request, *timeout, json).await,
        Cmd::Requests(command) => queue::requests(engine, user, command, json).await,
        Cmd::Run { until_idle: true } => {
            let settled = engine.run_until(|_| stop::received().is_some()).await?;
            if let Some(signal) = stop::received() {
                out::error(&format!("rsm: {}: stopped after the steps under way", signal.name()));
            }
            let requests = if settled == 1 { "request" } else { "requests" };
            render::done(json, &format!("{settled} {requests} settled; nothing left to start"))
        }
        Cmd::Run { until_idle: false } => {
            out::error("rsm: workers running; Ctrl-C or SIGTERM to stop");
            let signal = stop::first().await;
            // The caller shuts the engine down: no new step starts, the
            // steps under way finish and are reported.
            out::error(&format!("rsm: {}: stopping after the steps under way", signal.name()));
            render::done(json, "workers stopped")
        }
        Cmd::Replay { verify } => {
            let report = engine.verify_replay().await?;
            if json {
                out::json(&json!({"records": report.records, "snapshot_seq": report.snapshot_seq,
                       "matches_live": report.matches_live, "matches_snapshot": report.matches_snapshot, "ok": report.ok()}))?;
            } else {
                out::line(&format!("replayed {} records from the first; the hash chain verifies", report.records))?;
                out::line(&format!(
                    "live views (snapshot {} + tail): {}",
                    report.snapshot_seq,
                    same(report.matches_live)
                ))?;
                out::line(&format!("newest snapshot: {}", same(report.matches_snapshot)))?;
            }
            if *verify && !report.ok() {
                return Err(Failure::Rejected(NtmsError::new(
                    ErrorCode::DatabaseFailure,
                    "replaying the log does not rebuild the same views",
                )));
            }
            Ok(())
        }
        Cmd::Logout => {
            let p = user.to_string();
            if let Some(id) = engine.query(move |s| s.open_session_of(&p)).await? {
                engine.submit(Command::CloseSession { session: id }).await?;
            }
            render::done(json, &format!("session of {user} closed"))
        }
        Cmd::Metrics => metrics::print(engine, &cli.data, json).await,
        Cmd::Snapshot => {
            let seq = engine.snapshot().await?;
            render::done(json, &format!("snapshot at record {seq}"))
        }
        Cmd::Watch { types, from, until_idle, count } => {
            let until = match (until_idle, count) {
                (true, _) => watch::Until::Idle,
                (false, Some(n)) => watch::Until::Count(*n),
                (false, None) => watch::Until::Stopped,
            };
            watch::run(engine, types, *from, until, json).await
        }
        Cmd::Stress { sessions, commands, seed, watch, watch_from } => {
            let watch = watch.then_some(*watch_from);
            stress::run(engine, *sessions, *commands, *seed, watch).await
        }
        Cmd::Demo => {
            unreachable!("the demo runs before the engine opens")
        }
    }
}

fn same(b: bool) -> &'static str {
    if b {
        "identical"
    } else {
        "DIFFERENT"
    }
}
