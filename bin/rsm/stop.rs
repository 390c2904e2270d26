//! SIGTERM and SIGINT: a command that runs the workers (`run`, `--wait`)
//! stops at the next step's boundary, never in the middle of a move, and
//! the engine's shutdown then settles what it carried.
//!
//! A signal may come at any moment, even before the runtime exists: `main`
//! holds both back from the first instruction ([`hold`]), and they are let
//! through once the command knows what to do with them ([`release`]): with
//! handlers for a command that listens ([`listen`]), with their default
//! action (the process ends) for any other, whose work is one append the
//! log makes atomic anyway.

use std::sync::atomic::{AtomicI32, Ordering};
use tokio::sync::Notify;

/// The first stop signal received (0: none yet).
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// Wakes [`first`].
static ARRIVED: Notify = Notify::const_new();

fn stop_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset and sigaddset only write the set they are given,
    // which lives on this stack frame; the signal numbers are valid.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        set
    }
}

fn mask(how: libc::c_int) {
    let set = stop_signals();
    // SAFETY: pthread_sigmask reads a valid set and changes only the
    // calling thread's mask; a null old-set pointer is allowed.
    unsafe {
        libc::pthread_sigmask(how, &set, std::ptr::null_mut());
    }
}

/// Holds SIGTERM and SIGINT pending in the calling thread and in every
/// thread it starts from now on (they inherit its mask). Called first in
/// `main`, before any other thread exists.
pub fn hold() {
    mask(libc::SIG_BLOCK);
}

/// Lets them through to the main thread (the one that called [`hold`]; the
/// runtime's threads keep them held, so they arrive here). A signal that
/// came while they were held is delivered now.
pub fn release() {
    mask(libc::SIG_UNBLOCK);
}

/// Installs the handlers (within the runtime): from now on a stop signal
/// is recorded, not fatal.
pub fn listen() -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listen = |kind: SignalKind| signal(kind).map_err(|e| format!("cannot listen for signals: {e}"));
    let (mut term, mut int) = (listen(SignalKind::terminate())?, listen(SignalKind::interrupt())?);
    tokio::spawn(async move {
        let number = tokio::select! {
            _ = term.recv() => libc::SIGTERM,
            _ = int.recv() => libc::SIGINT,
        };
        let _ = RECEIVED.compare_exchange(0, number, Ordering::AcqRel, Ordering::Acquire);
        ARRIVED.notify_one();
    });
    Ok(())
}

/// The stop signal received so far, if any.
pub fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::Acquire) {
        0 => None,
        number => Some(Signal(number)),
    }
}

/// Waits for the first stop signal.
pub async fn first() -> Signal {
    loop {
        if let Some(signal) = received() {
            return signal;
        }
        ARRIVED.notified().await;
    }
}

/// A stop signal.
#[derive(Clone, Copy, Debug)]
pub struct Signal(i32);

impl Signal {
    pub fn name(self) -> &'static str {
        if self.0 == libc::SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        }
    }

    /// The shell's status for a command a signal ended: 128 + its number.
    pub fn exit_status(self) -> u8 {
        128u8.saturating_add(self.0 as u8)
    }
}
