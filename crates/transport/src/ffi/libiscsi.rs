//! libiscsi (soname 7, written against 1.19), loaded at run time, and a
//! [`Session`]: one `iscsi_context` logged in to one LUN.
//!
//! # Why the asynchronous calls with an event loop of our own
//!
//! libiscsi's `*_sync` wrappers keep their completion state on their own
//! stack. When their loop gives up (`poll` interrupted by a signal, or
//! `iscsi_service` failing) they return while the command's PDU is still
//! queued with a pointer to that dead stack frame, which the next
//! `iscsi_service` or `iscsi_destroy_context` writes through. They also have
//! no deadline finer than libiscsi's one-second timeout scan. Here:
//!
//! - the completion state ([`Completion`]) is on the heap and outlives the
//!   context;
//! - `poll` is retried on `EINTR`;
//! - a command that misses its deadline, or whose connection fails, ends
//!   the context while the task and the data it points to are still alive
//!   (destroying a context calls back every queued PDU), and the next
//!   command logs in again;
//! - libiscsi's own reconnect is off (`iscsi_set_noautoreconnect`): it would
//!   send queued commands again on the new connection, and a MOVE MEDIUM
//!   must not be sent twice without the adapter deciding so.
//!
//! # What is read from `struct scsi_task`
//!
//! Tasks come from `scsi_create_task` and go back to `scsi_free_scsi_task`;
//! this module only reads `datain` (`status` comes with the callback). On
//! CHECK CONDITION libiscsi puts the iSCSI response's data segment in
//! `datain`: SenseLength (2 bytes, big-endian), then the sense bytes as the
//! device sent them (`iscsi-command.c`, `iscsi_process_scsi_reply`).

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_short, c_void, CStr, CString};
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libloading::Library;

use crate::limits::{CDB_LEN_MAX, CONNECT_TIMEOUT_MS, LOGOUT_TIMEOUT_MS};
use crate::{status, DataDirection, Response, TransportError};

/// `enum scsi_xfer_dir`.
const SCSI_XFER_NONE: c_int = 0;
const SCSI_XFER_READ: c_int = 1;
const SCSI_XFER_WRITE: c_int = 2;
/// `enum iscsi_session_type`: ISCSI_SESSION_NORMAL.
const ISCSI_SESSION_NORMAL: c_int = 2;
/// `enum iscsi_header_digest`: offer None, accept CRC32C.
const ISCSI_HEADER_DIGEST_NONE_CRC32C: c_int = 1;
/// libiscsi's statuses that are not SCSI statuses (`iscsi.h`).
const SCSI_STATUS_CANCELLED: c_int = 0x0f00_0000;
const SCSI_STATUS_ERROR: c_int = 0x0f00_0001;
const SCSI_STATUS_TIMEOUT: c_int = 0x0f00_0002;

/// The longest `poll` between two calls of `iscsi_service`, which also runs
/// libiscsi's timers (NOP-In answers, its timeout scan).
const POLL_SLICE: Duration = Duration::from_millis(250);

/// `struct iscsi_context`, opaque.
#[repr(C)]
pub(crate) struct IscsiContext {
    _opaque: [u8; 0],
}

/// `struct scsi_sense` (scsi-lowlevel.h): libiscsi's digest of the sense
/// data. Mirrored for the layout of [`ScsiTask`]; not read.
#[repr(C)]
#[allow(dead_code)]
struct ScsiSense {
    error_type: u8,
    /// `enum scsi_sense_key`.
    key: c_int,
    /// ASC << 8 | ASCQ.
    ascq: c_int,
    /// The bit fields `sense_specific:1, ill_param_in_cdb:1, bit_pointer_valid:1`.
    bit_fields: u8,
    bit_pointer: u8,
    field_pointer: u16,
}

/// `struct scsi_data`.
#[repr(C)]
struct ScsiData {
    size: c_int,
    data: *mut u8,
}

/// `struct scsi_iovector`. Mirrored for the layout; not read.
#[repr(C)]
#[allow(dead_code)]
struct ScsiIovector {
    iov: *mut c_void,
    niov: c_int,
    nalloc: c_int,
    offset: usize,
    consumed: c_int,
}

/// `struct scsi_task` of libiscsi 1.19 (`/usr/include/iscsi/scsi-lowlevel.h`).
/// Allocated and freed by libiscsi; only `datain` is read here.
#[repr(C)]
#[allow(dead_code)]
struct ScsiTask {
    status: c_int,
    cdb_size: c_int,
    xfer_dir: c_int,
    expxferlen: c_int,
    cdb: [u8; CDB_LEN_MAX],
    /// `enum scsi_residual`.
    residual_status: c_int,
    residual: usize,
    sense: ScsiSense,
    datain: ScsiData,
    mem: *mut c_void,
    ptr: *mut c_void,
    itt: u32,
    cmdsn: u32,
    lun: u32,
    iovector_in: ScsiIovector,
    iovector_out: ScsiIovector,
}

// The layout as `offsetof` reports it on x86_64 (and every LP64 target) for
// libiscsi 1.19: a mismatch stops the build rather than misreading memory.
#[cfg(target_pointer_width = "64")]
const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<ScsiSense>() == 16);
    assert!(offset_of!(ScsiSense, key) == 4);
    assert!(offset_of!(ScsiSense, ascq) == 8);
    assert!(offset_of!(ScsiSense, bit_pointer) == 13);
    assert!(offset_of!(ScsiSense, field_pointer) == 14);
    assert!(size_of::<ScsiData>() == 16);
    assert!(size_of::<ScsiIovector>() == 32);
    assert!(size_of::<ScsiTask>() == 176);
    assert!(offset_of!(ScsiTask, cdb) == 16);
    assert!(offset_of!(ScsiTask, residual_status) == 32);
    assert!(offset_of!(ScsiTask, residual) == 40);
    assert!(offset_of!(ScsiTask, sense) == 48);
    assert!(offset_of!(ScsiTask, datain) == 64);
    assert!(offset_of!(ScsiTask, mem) == 80);
    assert!(offset_of!(ScsiTask, itt) == 96);
    assert!(offset_of!(ScsiTask, lun) == 104);
    assert!(offset_of!(ScsiTask, iovector_in) == 112);
    assert!(offset_of!(ScsiTask, iovector_out) == 144);
    assert!(size_of::<IscsiData>() == 16);
};

/// `struct iscsi_data`: data out for `iscsi_scsi_command_async`.
#[repr(C)]
struct IscsiData {
    size: usize,
    data: *mut u8,
}

/// `iscsi_command_cb`.
type CommandCallback = unsafe extern "C" fn(*mut IscsiContext, c_int, *mut c_void, *mut c_void);

/// The libiscsi functions this crate calls, resolved once per load.
pub(crate) struct Api {
    /// The file name it was loaded by, for messages.
    name: String,
    create_context: unsafe extern "C" fn(*const c_char) -> *mut IscsiContext,
    destroy_context: unsafe extern "C" fn(*mut IscsiContext) -> c_int,
    set_targetname: unsafe extern "C" fn(*mut IscsiContext, *const c_char) -> c_int,
    set_session_type: unsafe extern "C" fn(*mut IscsiContext, c_int) -> c_int,
    set_header_digest: unsafe extern "C" fn(*mut IscsiContext, c_int) -> c_int,
    set_noautoreconnect: unsafe extern "C" fn(*mut IscsiContext, c_int),
    full_connect_async:
        unsafe extern "C" fn(*mut IscsiContext, *const c_char, c_int, CommandCallback, *mut c_void) -> c_int,
    logout_async: unsafe extern "C" fn(*mut IscsiContext, CommandCallback, *mut c_void) -> c_int,
    get_error: unsafe extern "C" fn(*mut IscsiContext) -> *const c_char,
    get_fd: unsafe extern "C" fn(*mut IscsiContext) -> c_int,
    which_events: unsafe extern "C" fn(*mut IscsiContext) -> c_int,
    service: unsafe extern "C" fn(*mut IscsiContext, c_int) -> c_int,
    scsi_command_async: unsafe extern "C" fn(
        *mut IscsiContext,
        c_int,
        *mut ScsiTask,
        CommandCallback,
        *mut IscsiData,
        *mut c_void,
    ) -> c_int,
    create_task: unsafe extern "C" fn(c_int, *mut u8, c_int, c_int) -> *mut ScsiTask,
    free_task: unsafe extern "C" fn(*mut ScsiTask),
    /// Keeps the functions above mapped. Every [`Session`] holds an
    /// `Arc<Api>`, so the library is unloaded only after the last context
    /// that uses it is destroyed.
    _library: Library,
}

impl Api {
    /// Loads libiscsi by file name (searched like `dlopen` does) and resolves
    /// every function this crate calls.
    ///
    /// # Errors
    /// [`TransportError::LibraryMissing`] if it cannot be loaded;
    /// [`TransportError::LibraryIncompatible`] if a function is missing.
    pub(crate) fn load(name: &str, package: &'static str) -> Result<Self, TransportError> {
        // SAFETY: loading runs the library's initializers. The names come
        // from this crate (`LIBISCSI_NAMES`) or its caller, never from a
        // device or a user's data, and libiscsi's initializers (and those of
        // its dependencies) only set up their own state.
        let library = unsafe { Library::new(name) }
            .map_err(|_| TransportError::LibraryMissing { library: name.to_owned(), package })?;
        macro_rules! function {
            ($symbol:literal) => {
                // SAFETY: the type this is assigned to is the symbol's C
                // prototype in libiscsi 1.19's iscsi.h / scsi-lowlevel.h
                // (int and enums as c_int, size_t as usize), an ABI libiscsi
                // keeps for soname 7. The pointer is copied out of the
                // `Symbol` and used only while `_library` keeps it mapped.
                match unsafe { library.get(concat!($symbol, "\0").as_bytes()) } {
                    Ok(symbol) => *symbol,
                    Err(_) => {
                        return Err(TransportError::LibraryIncompatible {
                            library: name.to_owned(),
                            symbol: $symbol,
                            package,
                        })
                    }
                }
            };
        }
        let create_context = function!("iscsi_create_context");
        let destroy_context = function!("iscsi_destroy_context");
        let set_targetname = function!("iscsi_set_targetname");
        let set_session_type = function!("iscsi_set_session_type");
        let set_header_digest = function!("iscsi_set_header_digest");
        let set_noautoreconnect = function!("iscsi_set_noautoreconnect");
        let full_connect_async = function!("iscsi_full_connect_async");
        let logout_async = function!("iscsi_logout_async");
        let get_error = function!("iscsi_get_error");
        let get_fd = function!("iscsi_get_fd");
        let which_events = function!("iscsi_which_events");
        let service = function!("iscsi_service");
        let scsi_command_async = function!("iscsi_scsi_command_async");
        let create_task = function!("scsi_create_task");
        let free_task = function!("scsi_free_scsi_task");
        Ok(Self {
            name: name.to_owned(),
            create_context,
            destroy_context,
            set_targetname,
            set_session_type,
            set_header_digest,
            set_noautoreconnect,
            full_connect_async,
            logout_async,
            get_error,
            get_fd,
            which_events,
            service,
            scsi_command_async,
            create_task,
            free_task,
            _library: library,
        })
    }

    /// The file name the library was loaded by.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }
}

/// Where libiscsi reports the end of the one operation in flight (login,
/// command, logout). On the heap at a fixed address from
/// [`Session::connect`] until after its context is destroyed in `Drop`.
struct Completion {
    finished: Cell<bool>,
    status: Cell<c_int>,
}

impl Completion {
    fn reset(&self) {
        self.finished.set(false);
        self.status.set(SCSI_STATUS_ERROR);
    }
}

/// The `iscsi_command_cb` of every operation: records its status.
unsafe extern "C" fn on_complete(
    _context: *mut IscsiContext,
    status: c_int,
    _command_data: *mut c_void,
    private_data: *mut c_void,
) {
    // SAFETY: `private_data` is always the `completion` of the Session whose
    // context calls back. It stays allocated until that context is
    // destroyed, and libiscsi calls back only from inside the calls this
    // module makes on the context (iscsi_service, iscsi_destroy_context, the
    // *_async calls), on the thread that holds the Session: no other
    // reference to the Completion is in use meanwhile.
    let completion = unsafe { &*private_data.cast::<Completion>() };
    completion.status.set(status);
    completion.finished.set(true);
}

/// Why [`Session::wait`] returned before the operation finished.
enum WaitError {
    /// The deadline passed.
    Timeout,
    /// `poll` or `iscsi_service` failed: libiscsi's or the kernel's reason.
    Failed(String),
}

/// What a session logs in with, kept to log in again.
struct LoginParams {
    initiator: CString,
    target: CString,
    portal: CString,
    lun: c_int,
}

/// One iSCSI session to one LUN: an `iscsi_context`, logged in, or null
/// after a failure until the next command logs in again.
pub(crate) struct Session {
    api: Arc<Api>,
    params: LoginParams,
    /// The context, or null while disconnected.
    context: *mut IscsiContext,
    /// From `Box::into_raw`; freed in `Drop`, after the context.
    completion: *mut Completion,
}

// SAFETY: a Session owns its context and its Completion exclusively, and
// libiscsi keeps no per-thread state for a context (its only global, the
// seed of the random ISID, is set once under a mutex). A Session is only
// used through `&mut`, from one thread at a time (IscsiTransport keeps it
// in a Mutex); callbacks run on the calling thread.
unsafe impl Send for Session {}

impl Session {
    /// Creates a context and logs in to `lun` of `target` at `portal`
    /// (`host:port`), with libiscsi's TEST UNIT READY absorbing the unit
    /// attentions a new session has on that LUN.
    pub(crate) fn connect(
        api: Arc<Api>,
        initiator: &str,
        target: &str,
        portal: &str,
        lun: u16,
    ) -> Result<Self, TransportError> {
        let c_string = |what: &str, value: &str| {
            CString::new(value).map_err(|_| TransportError::InvalidRequest(format!("{what} {value:?} has a NUL byte")))
        };
        let params = LoginParams {
            initiator: c_string("the initiator name", initiator)?,
            target: c_string("the target name", target)?,
            portal: c_string("the portal", portal)?,
            lun: c_int::from(lun),
        };
        let completion = Box::into_raw(Box::new(Completion { finished: Cell::new(false), status: Cell::new(0) }));
        let mut session = Self { api, params, context: ptr::null_mut(), completion };
        session.login()?;
        Ok(session)
    }

    /// Sends one command and waits for its status; logs in first if an
    /// earlier failure closed the session.
    pub(crate) fn execute(
        &mut self,
        cdb: &[u8],
        dir: DataDirection,
        timeout_ms: u32,
    ) -> Result<Response, TransportError> {
        // Also what makes scsi_create_task's copy into cdb[16] sound.
        crate::check_request(cdb, &dir, timeout_ms)?;
        if self.context.is_null() {
            self.login()?;
        }
        let (xfer_dir, alloc, mut data_out) = match dir {
            DataDirection::FromDevice(len) if len > 0 => (SCSI_XFER_READ, len, None),
            DataDirection::ToDevice(data) if !data.is_empty() => (SCSI_XFER_WRITE, 0, Some(data)),
            _ => (SCSI_XFER_NONE, 0, None),
        };
        let too_long = |_| TransportError::InvalidRequest("a length beyond C's int".to_owned());
        let expected_len = c_int::try_from(alloc.max(data_out.as_ref().map_or(0, Vec::len))).map_err(too_long)?;
        let cdb_len = c_int::try_from(cdb.len()).map_err(too_long)?;
        let mut cdb_copy = [0_u8; CDB_LEN_MAX];
        cdb_copy.get_mut(..cdb.len()).expect("check_request bounds the CDB length").copy_from_slice(cdb);
        // SAFETY: scsi_create_task only allocates a task and copies cdb_len
        // bytes (at most CDB_LEN_MAX, checked above) from `cdb_copy` into
        // its `cdb[16]`.
        let task = unsafe { (self.api.create_task)(cdb_len, cdb_copy.as_mut_ptr(), xfer_dir, expected_len) };
        if task.is_null() {
            return Err(TransportError::Io("scsi_create_task failed: out of memory".to_owned()));
        }
        let result = self.run(task, data_out.as_deref_mut(), alloc, timeout_ms);
        // SAFETY: libiscsi no longer refers to the task: either it completed
        // (its PDU was freed after the callback) or `run` destroyed the
        // context, which cancelled its PDU. The task came from
        // scsi_create_task and is freed once, here.
        unsafe { (self.api.free_task)(task) };
        // `data_out`, which the PDU pointed to, is dropped only now.
        drop(data_out);
        result
    }

    /// Queues `task`, runs the event loop until it completes or `timeout_ms`
    /// passes, and reads the answer. On anything but an answer the context
    /// is destroyed before returning, while `task` and `data_out` are alive.
    fn run(
        &mut self,
        task: *mut ScsiTask,
        data_out: Option<&mut [u8]>,
        alloc: usize,
        timeout_ms: u32,
    ) -> Result<Response, TransportError> {
        let mut iscsi_data = data_out.map(|data| IscsiData { size: data.len(), data: data.as_mut_ptr() });
        let data_ptr = iscsi_data.as_mut().map_or(ptr::null_mut(), ptr::from_mut);
        self.completion().reset();
        let deadline = Instant::now() + Duration::from_millis(u64::from(timeout_ms));
        // SAFETY: the context is live (execute logged in). `task` is a fresh
        // task from scsi_create_task. `data_ptr` is null or points to
        // `iscsi_data`, which libiscsi reads during this call only (it copies
        // the pointer and size into an iovec of the task); the bytes it
        // points to stay alive in `execute` until the task is freed.
        // `on_complete` has the iscsi_command_cb signature and `completion`
        // outlives the context.
        let queued = unsafe {
            (self.api.scsi_command_async)(
                self.context,
                self.params.lun,
                task,
                on_complete,
                data_ptr,
                self.completion.cast(),
            )
        };
        if queued != 0 {
            let why = self.error_text();
            self.disconnect();
            return Err(TransportError::Io(format!("{}: the command was not sent: {why}", self.portal())));
        }
        match self.wait(deadline) {
            Ok(()) => {}
            Err(WaitError::Timeout) => {
                self.disconnect();
                return Err(TransportError::Timeout(format!(
                    "{}: no status within {timeout_ms} ms; the session was closed",
                    self.portal()
                )));
            }
            Err(WaitError::Failed(why)) => {
                self.disconnect();
                return Err(TransportError::Io(format!("{}: {why}; the session was closed", self.portal())));
            }
        }
        let raw_status = self.completion().status.get();
        let Ok(scsi_status) = u8::try_from(raw_status) else {
            // Cancelled (the connection broke and libiscsi gave up the
            // session's commands), or an error libiscsi found in the answer:
            // no status from the device. libiscsi sets no error message when
            // it cancels, and the last one is stale then.
            let why = match raw_status {
                SCSI_STATUS_CANCELLED => "the connection was lost".to_owned(),
                _ => self.error_text(),
            };
            self.disconnect();
            return Err(TransportError::Io(format!(
                "{}: {} ({why}); the session was closed",
                self.portal(),
                libiscsi_status_name(raw_status)
            )));
        };
        // SAFETY: the task completed: libiscsi no longer writes to it, and it
        // is ours to read until scsi_free_scsi_task. `datain.data` is null or
        // points to `datain.size` bytes allocated for the task; they are
        // copied out before `execute` frees it.
        let datain = unsafe {
            let datain = &(*task).datain;
            match usize::try_from(datain.size) {
                Ok(len) if len > 0 && !datain.data.is_null() => std::slice::from_raw_parts(datain.data, len),
                _ => &[],
            }
        };
        Ok(response_from(scsi_status, datain, alloc))
    }

    /// Creates the context and logs in, within [`CONNECT_TIMEOUT_MS`]. On
    /// failure the context is destroyed again.
    fn login(&mut self) -> Result<(), TransportError> {
        debug_assert!(self.context.is_null(), "login on a live context");
        // SAFETY: a NUL-terminated string, copied by libiscsi.
        let context = unsafe { (self.api.create_context)(self.params.initiator.as_ptr()) };
        if context.is_null() {
            return Err(TransportError::Connect(format!(
                "iscsi_create_context failed for the initiator {:?}",
                self.params.initiator
            )));
        }
        self.context = context;
        let result = self.login_on_context();
        if result.is_err() {
            self.disconnect();
        }
        result
    }

    fn login_on_context(&mut self) -> Result<(), TransportError> {
        let portal = self.portal();
        let failed = |session: &Self, step: &str| {
            TransportError::Connect(format!("{portal}: {step} failed: {}", session.error_text()))
        };
        // SAFETY: the context is live; the target name is NUL-terminated and
        // copied by libiscsi; the other arguments are plain integers.
        unsafe {
            if (self.api.set_targetname)(self.context, self.params.target.as_ptr()) != 0 {
                return Err(failed(self, "iscsi_set_targetname"));
            }
            if (self.api.set_session_type)(self.context, ISCSI_SESSION_NORMAL) != 0 {
                return Err(failed(self, "iscsi_set_session_type"));
            }
            if (self.api.set_header_digest)(self.context, ISCSI_HEADER_DIGEST_NONE_CRC32C) != 0 {
                return Err(failed(self, "iscsi_set_header_digest"));
            }
            (self.api.set_noautoreconnect)(self.context, 1);
        }
        self.completion().reset();
        let deadline = Instant::now() + Duration::from_millis(u64::from(CONNECT_TIMEOUT_MS));
        // SAFETY: as for iscsi_scsi_command_async in `run`: live context,
        // NUL-terminated portal copied by libiscsi, callback and completion
        // that outlive the context.
        let started = unsafe {
            (self.api.full_connect_async)(
                self.context,
                self.params.portal.as_ptr(),
                self.params.lun,
                on_complete,
                self.completion.cast(),
            )
        };
        if started != 0 {
            return Err(failed(self, "iscsi_full_connect_async"));
        }
        match self.wait(deadline) {
            Ok(()) if self.completion().status.get() == c_int::from(status::GOOD) => Ok(()),
            Ok(()) => Err(TransportError::Connect(format!(
                "{portal}: login to {:?} LUN {} failed: {}",
                self.params.target,
                self.params.lun,
                self.error_text()
            ))),
            Err(WaitError::Timeout) => {
                Err(TransportError::Connect(format!("{portal}: no login within {CONNECT_TIMEOUT_MS} ms")))
            }
            Err(WaitError::Failed(why)) => Err(TransportError::Connect(format!(
                "{portal}: the connection failed during login ({why}); is an iSCSI target listening there?"
            ))),
        }
    }

    /// Runs libiscsi's event loop until the operation in flight completes or
    /// `deadline` passes.
    fn wait(&self, deadline: Instant) -> Result<(), WaitError> {
        loop {
            if self.completion().finished.get() {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WaitError::Timeout);
            }
            // Rounded up, so a deadline 0.4 ms away is not a busy loop.
            let slice_ms = c_int::try_from(left.min(POLL_SLICE).as_micros().div_ceil(1000)).unwrap_or(1);
            // SAFETY: the context is live.
            let (fd, events) = unsafe { ((self.api.get_fd)(self.context), (self.api.which_events)(self.context)) };
            let mut pollfd = libc::pollfd { fd, events: c_short::try_from(events).unwrap_or(libc::POLLIN), revents: 0 };
            // SAFETY: one valid pollfd, and a count of 1.
            let ready = unsafe { libc::poll(&mut pollfd, 1, slice_ms) };
            if ready < 0 {
                let error = std::io::Error::last_os_error();
                if error.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(WaitError::Failed(format!("poll: {error}")));
            }
            let revents = if ready == 0 { 0 } else { c_int::from(pollfd.revents) };
            // SAFETY: the context is live. The callbacks it runs write only
            // into `completion` and into tasks this session still owns.
            if unsafe { (self.api.service)(self.context, revents) } < 0 {
                return Err(WaitError::Failed(self.error_text()));
            }
        }
    }

    /// Destroys the context, if any; the next command logs in again.
    pub(crate) fn disconnect(&mut self) {
        if self.context.is_null() {
            return;
        }
        // SAFETY: the context is live and is not used after this call.
        // Destroying it closes the socket and calls back every queued PDU:
        // those callbacks write into `completion` (freed only in Drop, after
        // this) and into tasks that `execute` frees only after `run`
        // returns.
        unsafe { (self.api.destroy_context)(self.context) };
        self.context = ptr::null_mut();
    }

    /// Logs out, waiting at most [`LOGOUT_TIMEOUT_MS`]; errors are ignored
    /// (the socket is closed right after).
    fn logout(&mut self) {
        if self.context.is_null() {
            return;
        }
        self.completion().reset();
        let deadline = Instant::now() + Duration::from_millis(u64::from(LOGOUT_TIMEOUT_MS));
        // SAFETY: live context; callback and completion that outlive it.
        let started = unsafe { (self.api.logout_async)(self.context, on_complete, self.completion.cast()) };
        if started == 0 {
            // Whatever the outcome, the context is destroyed next.
            let _ = self.wait(deadline);
        }
    }

    /// libiscsi's last error message for this context.
    fn error_text(&self) -> String {
        const NO_REASON: &str = "libiscsi gave no reason";
        if self.context.is_null() {
            return NO_REASON.to_owned();
        }
        // SAFETY: the context is live; libiscsi returns null or a pointer to
        // its NUL-terminated error buffer, which stays valid until the next
        // call on the context and is copied here at once.
        let text = unsafe {
            let text = (self.api.get_error)(self.context);
            if text.is_null() {
                return NO_REASON.to_owned();
            }
            CStr::from_ptr(text).to_string_lossy().trim().to_owned()
        };
        if text.is_empty() {
            NO_REASON.to_owned()
        } else {
            text
        }
    }

    fn portal(&self) -> String {
        self.params.portal.to_string_lossy().into_owned()
    }

    fn completion(&self) -> &Completion {
        // SAFETY: allocated in `connect` and freed only in `Drop`.
        unsafe { &*self.completion }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.logout();
        self.disconnect();
        // SAFETY: `completion` came from Box::into_raw in `connect` and is
        // freed once, here; the only other user, the context, is destroyed.
        drop(unsafe { Box::from_raw(self.completion) });
    }
}

/// The name of a status of libiscsi's own (not from the device).
fn libiscsi_status_name(status: c_int) -> String {
    match status {
        SCSI_STATUS_CANCELLED => "command cancelled".to_owned(),
        SCSI_STATUS_ERROR => "command failed".to_owned(),
        SCSI_STATUS_TIMEOUT => "command timed out".to_owned(),
        other => format!("unknown libiscsi status {other:#x}"),
    }
}

/// The [`Response`] for a SCSI status and what libiscsi left in `datain`:
/// the data (at most `alloc` bytes), or on CHECK CONDITION the sense bytes.
fn response_from(status: u8, datain: &[u8], alloc: usize) -> Response {
    if status == status::CHECK_CONDITION {
        Response { status, data: Vec::new(), sense: sense_from_datain(datain).to_vec() }
    } else {
        Response { status, data: datain.get(..alloc).unwrap_or(datain).to_vec(), sense: Vec::new() }
    }
}

/// The sense bytes of an iSCSI SCSI Response's data segment: SenseLength
/// (2 bytes, big-endian), then that many bytes, cut at the end of the data.
fn sense_from_datain(datain: &[u8]) -> &[u8] {
    match datain {
        [hi, lo, sense @ ..] => sense.get(..usize::from(u16::from_be_bytes([*hi, *lo]))).unwrap_or(sense),
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tgt's sense for MOVE MEDIUM into a full element, as libiscsi leaves it.
    const DESTINATION_FULL: [u8; 20] =
        [0x00, 0x12, 0x70, 0, 0x05, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x3b, 0x0d, 0, 0, 0, 0];

    #[test]
    fn sense_after_its_length() {
        assert_eq!(sense_from_datain(&DESTINATION_FULL), &DESTINATION_FULL[2..]);
        // A length beyond the data: what is there.
        assert_eq!(sense_from_datain(&[0x00, 0x40, 0x70, 0x00, 0x06]), &[0x70, 0x00, 0x06]);
        // A length short of the data: padding is not sense.
        assert_eq!(sense_from_datain(&[0x00, 0x02, 0x70, 0x00, 0xee, 0xee]), &[0x70, 0x00]);
        assert_eq!(sense_from_datain(&[0x00, 0x00]), &[] as &[u8]);
        assert_eq!(sense_from_datain(&[0x00]), &[] as &[u8]);
        assert_eq!(sense_from_datain(&[]), &[] as &[u8]);
    }

    #[test]
    fn check_condition_carries_sense_not_data() {
        let response = response_from(status::CHECK_CONDITION, &DESTINATION_FULL, 0);
        assert_eq!(response, Response { status: 2, data: Vec::new(), sense: DESTINATION_FULL[2..].to_vec() });
    }

    #[test]
    fn data_is_cut_at_the_allocation_length() {
        assert_eq!(response_from(status::GOOD, &[1, 2, 3], 8).data, [1, 2, 3]);
        assert_eq!(response_from(status::GOOD, &[1, 2, 3], 2).data, [1, 2]);
        assert_eq!(response_from(status::GOOD, &[], 0), Response::default());
        let busy = response_from(status::BUSY, &[], 0);
        assert_eq!((busy.status, busy.sense.len()), (status::BUSY, 0));
    }

    #[test]
    fn libiscsi_statuses_are_not_scsi_statuses() {
        for status in [SCSI_STATUS_CANCELLED, SCSI_STATUS_ERROR, SCSI_STATUS_TIMEOUT] {
            assert!(u8::try_from(status).is_err());
        }
        assert_eq!(libiscsi_status_name(SCSI_STATUS_CANCELLED), "command cancelled");
    }
}
