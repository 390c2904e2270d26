//! Database notifications (spec §3.7): subscriptions to the notices of
//! committed records, and the Windows-shaped channels on top of them.
//!
//! The sequencer publishes every committed group, after its flush, on a
//! bounded broadcast channel, and never waits for anyone: a subscriber that
//! falls more than the channel's bound behind loses its place in it
//! (`Lagged`) and reads what it missed from the log instead, through the
//! log's own [`LogReader`] (never through the sequencer), then rejoins the
//! channel. A subscription therefore delivers every record's notices exactly
//! once, in log order, and only durable ones; since notices are a function
//! of the record alone ([`rsm_model::notices`]), a subscription started from
//! any sequence number continues exactly where an earlier one stopped.

use rsm_log::{Envelope, LogError, LogReader};
use rsm_model::{notices, ErrorCode, Notice, NtmsError, ObjectType};
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::{broadcast, watch};

/// A committed group as the sequencer publishes it.
pub(crate) type Published = Arc<Group>;

/// Consecutive committed records (never none), and their notices, worked
/// out once by whichever subscriber needs them first (not by the
/// sequencer: it only hands the group over).
pub(crate) struct Group {
    /// First and last sequence numbers.
    first: u64,
    last: u64,
    envelopes: Vec<Envelope>,
    notices: OnceLock<Vec<(u64, Notice)>>,
}

impl Group {
    /// The group of `envelopes`; none when there are none.
    pub(crate) fn new(envelopes: Vec<Envelope>) -> Option<Group> {
        let (first, last) = (envelopes.first()?.seq, envelopes.last()?.seq);
        Some(Group { first, last, envelopes, notices: OnceLock::new() })
    }

    fn notices(&self) -> &[(u64, Notice)] {
        self.notices.get_or_init(|| {
            self.envelopes.iter().flat_map(|e| notices(&e.event).into_iter().map(move |n| (e.seq, n))).collect()
        })
    }
}

/// Records read from the log per catch-up step: bounds the memory a lagging
/// subscriber holds (its notices of one step) and how long one read blocks
/// a blocking thread.
const LOG_READ_CHUNK: usize = 1_024;

/// Where a subscription starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    /// At this record (1: the first). A subscriber that saw up to `n`
    /// resumes with `Seq(n + 1)`.
    Seq(u64),
    /// After the last record committed when subscribing.
    Now,
}

/// A stream of `(seq, Notice)`: the notices of committed records, in log
/// order, each with its record's sequence number (a record may notify
/// several objects, so a sequence number may repeat; one that notifies
/// nothing the filter lets through is skipped).
///
/// Every method is cancellation safe: a `next` dropped before it returns
/// (a timeout) loses nothing.
pub struct Subscription {
    /// The object types delivered; empty: every type.
    types: BTreeSet<ObjectType>,
    /// Delivers nothing at all (see [`Subscription::silent`]).
    silent: bool,
    /// The next record to look at.
    next_seq: u64,
    /// Notices of records already looked at, not yet handed out; always
    /// whole records.
    pending: VecDeque<(u64, Notice)>,
    /// Records up to this one are durable and not all on the live channel:
    /// they are read from the log.
    floor: u64,
    /// A group from the live channel that came after a gap, kept while the
    /// gap is read from the log.
    held: Option<Published>,
    /// The live channel.
    live: broadcast::Receiver<Published>,
    /// The log, for what the live channel no longer has.
    reader: Arc<dyn LogReader>,
    /// The last committed record; its sender goes with the sequencer, which
    /// tells a stopped engine from a failing log.
    committed: watch::Receiver<u64>,
}

fn stopped() -> NtmsError {
    NtmsError::new(ErrorCode::NotConnected, "the engine has stopped")
}

impl Subscription {
    /// Starts a subscription: `live` must have been subscribed before
    /// `committed` is read, so every group after it reaches `live`.
    pub(crate) fn start(
        types: &[ObjectType],
        since: Since,
        live: broadcast::Receiver<Published>,
        reader: Arc<dyn LogReader>,
        committed: watch::Receiver<u64>,
    ) -> Result<Subscription, NtmsError> {
        let head = *committed.borrow();
        let first = reader.first_seq();
        let next_seq = match since {
            Since::Now => head.saturating_add(1),
            Since::Seq(0) => {
                return Err(NtmsError::new(ErrorCode::InvalidParameter, "records are numbered from 1"));
            }
            Since::Seq(n) if n < first => {
                return Err(NtmsError::new(
                    ErrorCode::NoData,
                    format!("record {n} is no longer in the log, which begins at record {first}: read the state anew"),
                ));
            }
            Since::Seq(n) if n > head.saturating_add(1) => {
                return Err(NtmsError::new(
                    ErrorCode::InvalidParameter,
                    format!("record {n} is beyond the log's head: the last record is {head}, the next {}", head + 1),
                ));
            }
            Since::Seq(n) => n,
        };
        Ok(Subscription {
            types: types.iter().copied().collect(),
            silent: false,
            next_seq,
            pending: VecDeque::new(),
            floor: head,
            held: None,
            live,
            reader,
            committed,
        })
    }

    /// The same subscription delivering nothing (a channel of a type rsm
    /// keeps no objects of): it still follows the log, so it ends as any other.
    pub(crate) fn silent(mut self) -> Self {
        self.silent = true;
        self
    }

    /// The next record this subscription looks at: once every notice handed
    /// out so far is consumed, `Since::Seq(position())` resumes here.
    pub fn position(&self) -> u64 {
        self.pending.front().map_or(self.next_seq, |(seq, _)| *seq)
    }

    /// The next notice. ERROR_NO_DATA when the log no longer holds a record
    /// it needs, ERROR_DATABASE_FAILURE when reading the log fails,
    /// ERROR_NOT_CONNECTED once the engine stopped and everything it
    /// committed was delivered.
    pub async fn next(&mut self) -> Result<(u64, Notice), NtmsError> {
        self.fill(None).await?;
        self.pending.pop_front().ok_or_else(stopped)
    }

    /// Every notice of the next record that has any.
    pub async fn next_record(&mut self) -> Result<(u64, Vec<Notice>), NtmsError> {
        self.fill(None).await?;
        self.take_record().ok_or_else(stopped)
    }

    /// As [`next_record`](Self::next_record), but `None` once every record
    /// up to `last` was looked at (it waits for records up to `last` only).
    pub async fn next_record_until(&mut self, last: u64) -> Result<Option<(u64, Vec<Notice>)>, NtmsError> {
        match self.fill(Some(last)).await? {
            true => Ok(self.take_record()),
            false => Ok(None),
        }
    }

    fn take_record(&mut self) -> Option<(u64, Vec<Notice>)> {
        let seq = self.pending.front()?.0;
        let mut record = Vec::new();
        while self.pending.front().is_some_and(|(s, _)| *s == seq) {
            record.extend(self.pending.pop_front().map(|(_, notice)| notice));
        }
        Some((seq, record))
    }

    /// Looks at records until some notice is pending (true) or, with
    /// `until`, every record up to it was looked at (false).
    async fn fill(&mut self, until: Option<u64>) -> Result<bool, NtmsError> {
        loop {
            if !self.pending.is_empty() {
                return Ok(true);
            }
            if until.is_some_and(|last| self.next_seq > last) {
                return Ok(false);
            }
            if self.next_seq <= self.floor {
                let last = until.map_or(self.floor, |u| u.min(self.floor));
                self.catch_up(last).await?;
                continue;
            }
            let group = match self.held.take() {
                Some(group) => group,
                None => match self.live.recv().await {
                    Ok(group) => group,
                    // What it missed is in the log; the next group's gap says how much.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Err(stopped()),
                },
            };
            if group.last < self.next_seq {
                continue;
            }
            if group.first > self.next_seq {
                self.floor = group.first - 1;
                self.held = Some(group);
                continue;
            }
            let last = until.map_or(group.last, |u| u.min(group.last));
            let from = self.next_seq;
            for (seq, notice) in group.notices().iter().filter(|(seq, _)| (from..=last).contains(seq)) {
                self.offer(*seq, *notice);
            }
            self.next_seq = last + 1;
            if last < group.last {
                // The rest is looked at later, by a call that wants it.
                self.held = Some(group);
            }
        }
    }

    /// Reads records `next_seq..=last` (one chunk of them) from the log.
    async fn catch_up(&mut self, last: u64) -> Result<(), NtmsError> {
        let (from, reader) = (self.next_seq, self.reader.clone());
        let max =
            usize::try_from(last.saturating_sub(from).saturating_add(1)).unwrap_or(usize::MAX).min(LOG_READ_CHUNK);
        let read = tokio::task::spawn_blocking(move || reader.read(from, max)).await;
        let records = match read {
            Ok(Ok(records)) => records,
            Ok(Err(LogError::Forgotten { first, .. })) => {
                return Err(NtmsError::new(
                    ErrorCode::NoData,
                    format!("record {from} is no longer in the log, which begins at record {first}: reopen and read the state anew"),
                ));
            }
            // A log closed under a catch-up is an engine that stopped.
            Ok(Err(_)) | Err(_) if self.committed.has_changed().is_err() => return Err(stopped()),
            Ok(Err(e)) => return Err(NtmsError::new(ErrorCode::DatabaseFailure, format!("reading the log: {e}"))),
            Err(e) => return Err(NtmsError::new(ErrorCode::DatabaseFailure, format!("the log reader failed: {e}"))),
        };
        if records.first().map(|r| r.envelope.seq) != Some(from) {
            return Err(NtmsError::new(
                ErrorCode::DatabaseFailure,
                format!("the log does not hold record {from}, which was committed"),
            ));
        }
        for record in records.iter().take_while(|r| r.envelope.seq <= last) {
            self.look_at(&record.envelope);
        }
        Ok(())
    }

    fn look_at(&mut self, envelope: &Envelope) {
        debug_assert_eq!(envelope.seq, self.next_seq, "records are looked at in order, each once");
        for notice in notices(&envelope.event) {
            self.offer(envelope.seq, notice);
        }
        self.next_seq = envelope.seq + 1;
    }

    /// Keeps `notice` when the subscription wants its type.
    fn offer(&mut self, seq: u64, notice: Notice) {
        if !self.silent && (self.types.is_empty() || self.types.contains(&notice.object_type())) {
            self.pending.push_back((seq, notice));
        }
    }
}

/// WaitForNtmsNotification's `INFINITE`.
pub const INFINITE: u32 = u32::MAX;

/// A notification channel (OpenNtmsNotification): the notices of one
/// object type, from when it was opened. Cloning copies the handle, as a
/// Windows HANDLE is copied; `NotificationChannel::default()` is the null
/// handle.
#[derive(Clone, Default)]
pub struct NotificationChannel {
    inner: Option<Arc<Channel>>,
}

struct Channel {
    /// The subscription; gone once closed.
    subscription: tokio::sync::Mutex<Option<Subscription>>,
    /// Open or closed, and how many waits are outstanding: one lock, so a
    /// close and a wait never both think they came first.
    state: Mutex<ChannelState>,
    /// Tells a stopped engine (its sender gone).
    committed: watch::Receiver<u64>,
}

#[derive(Default)]
struct ChannelState {
    closed: bool,
    waiting: usize,
}

/// Counts a wait as outstanding until it returns or is dropped.
struct Outstanding<'a>(&'a Mutex<ChannelState>);

impl Drop for Outstanding<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).waiting -= 1;
    }
}

impl NotificationChannel {
    pub(crate) fn open(subscription: Subscription, committed: watch::Receiver<u64>) -> Self {
        NotificationChannel {
            inner: Some(Arc::new(Channel {
                subscription: tokio::sync::Mutex::new(Some(subscription)),
                state: Mutex::new(ChannelState::default()),
                committed,
            })),
        }
    }

    /// WaitForNtmsNotification: the next notice, waiting at most
    /// `timeout_ms` milliseconds ([`INFINITE`]: no limit). Codes:
    /// ERROR_INVALID_HANDLE (the null handle, or a closed channel),
    /// ERROR_TIMEOUT (nothing came in time), ERROR_NO_DATA (the log no
    /// longer holds what the channel needs: reopen it and read the state
    /// anew), ERROR_DATABASE_FAILURE (reading the log failed),
    /// ERROR_NOT_CONNECTED (the engine stopped).
    pub async fn wait(&self, timeout_ms: u32) -> Result<Notice, NtmsError> {
        let channel = self
            .inner
            .as_ref()
            .ok_or_else(|| NtmsError::new(ErrorCode::InvalidHandle, "the null handle is no notification channel"))?;
        let _outstanding = {
            let mut state = channel.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.closed {
                return Err(NtmsError::new(ErrorCode::InvalidHandle, "the notification channel is closed"));
            }
            state.waiting += 1;
            Outstanding(&channel.state)
        };
        // A second wait on one channel waits its turn (and its own timeout).
        let next = async {
            let mut subscription = channel.subscription.lock().await;
            match subscription.as_mut() {
                Some(s) => s.next().await.map(|(_, notice)| notice),
                None => Err(NtmsError::new(ErrorCode::InvalidHandle, "the notification channel is closed")),
            }
        };
        match timeout_ms {
            INFINITE => next.await,
            ms => tokio::time::timeout(std::time::Duration::from_millis(u64::from(ms)), next)
                .await
                .unwrap_or_else(|_| Err(NtmsError::new(ErrorCode::Timeout, format!("no notice came within {ms} ms")))),
        }
    }

    /// CloseNtmsNotification. Codes: ERROR_INVALID_PARAMETER (the null
    /// handle), ERROR_INVALID_HANDLE (already closed), ERROR_INVALID_STATE
    /// (a wait is outstanding on it: rsm rule), ERROR_NOT_CONNECTED (the
    /// engine stopped; the channel is closed all the same). Closing touches
    /// no storage, so it never answers ERROR_DATABASE_FAILURE.
    pub fn close(&self) -> Result<(), NtmsError> {
        let channel = self
            .inner
            .as_ref()
            .ok_or_else(|| NtmsError::new(ErrorCode::InvalidParameter, "the null handle is no notification channel"))?;
        {
            let mut state = channel.state.lock().unwrap_or_else(PoisonError::into_inner);
            if state.closed {
                return Err(NtmsError::new(ErrorCode::InvalidHandle, "the notification channel is already closed"));
            }
            if state.waiting > 0 {
                return Err(NtmsError::new(
                    ErrorCode::InvalidState,
                    "a WaitForNtmsNotification is outstanding on the channel",
                ));
            }
            state.closed = true;
        }
        // No wait holds it (none is outstanding): the subscription goes now.
        if let Ok(mut subscription) = channel.subscription.try_lock() {
            subscription.take();
        }
        if channel.committed.has_changed().is_err() {
            return Err(NtmsError::new(ErrorCode::NotConnected, "the engine has stopped; the channel is closed"));
        }
        Ok(())
    }
}
