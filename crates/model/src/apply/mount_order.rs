//! The order of a library's queued and waiting mounts (spec §5.3 rules 2
//! and 3): higher priority first; within a priority, by rounds, so that a
//! session's second mount waits behind every other session's first (round
//! robin by arrival), and a newcomer joins the round being served, never a
//! round ahead of it, so no stream of later mounts starves an earlier one.
//! SetNtmsRequestOrder moves a mount to a position; later insertions keep
//! to the rule relative to the order as it then stands.

use super::{library_mut, request, Applied};
use crate::ids::*;
use crate::state::State;

/// Puts a mount just queued (or waiting) in its place: after every mount
/// of a higher priority and before every one of a lower; within its
/// priority in its round (one more than its session's last, never below
/// the round being served), and within the round in the order the
/// sessions had in the round before (those new to the queue last), so
/// every round serves the sessions in the same rotation.
pub(super) fn insert(state: &mut State, id: RequestId) -> Applied {
    let r = request(state, id)?;
    let (library, priority, session) = (r.library, r.priority, r.session);
    let lib = super::library(state, library)?;
    let entries: Vec<(i8, Option<SessionId>, u64)> = lib
        .mount_order
        .iter()
        .map(|(other, round)| {
            let o = state.requests.get(other);
            (o.map_or(0, |o| o.priority), o.and_then(|o| o.session), *round)
        })
        .collect();
    let same = || entries.iter().filter(|(p, _, _)| *p == priority);
    let floor = same().map(|(_, _, round)| *round).min().unwrap_or(1);
    let last_of_mine = same().filter(|(_, s, _)| s.is_some() && *s == session).map(|(_, _, round)| *round).max();
    let round = last_of_mine.map_or(floor, |r| (r + 1).max(floor));
    // Where each session's turn came in the round before: its rotation
    // rank (looked up once, not per entry: the order may be long).
    let mut turns: std::collections::BTreeMap<SessionId, usize> = Default::default();
    for (i, (p, s, r)) in entries.iter().enumerate() {
        if let (true, Some(s)) = (*p == priority && r + 1 == round, s) {
            turns.entry(*s).or_insert(i);
        }
    }
    let rank = |who: Option<SessionId>| who.and_then(|s| turns.get(&s).copied()).unwrap_or(usize::MAX);
    let mine = rank(session);
    let position = entries
        .iter()
        .position(|(p, s, r)| *p < priority || (*p == priority && (*r > round || (*r == round && rank(*s) > mine))))
        .unwrap_or(entries.len());
    library_mut(state, library)?.mount_order.insert(position, (id, round));
    Ok(())
}

/// A mount back in the queue after a restart found it not begun: first, as
/// it was when it was dispatched.
pub(super) fn put_first(state: &mut State, id: RequestId) -> Applied {
    let library = request(state, id)?.library;
    let lib = library_mut(state, library)?;
    let round = lib.mount_order.first().map_or(1, |(_, round)| *round);
    lib.mount_order.insert(0, (id, round));
    Ok(())
}

/// A mount that started or ended leaves the order.
pub(super) fn remove(state: &mut State, library: LibraryId, id: RequestId) -> Applied {
    library_mut(state, library)?.mount_order.retain(|(r, _)| *r != id);
    Ok(())
}

/// SetNtmsRequestOrder: to position `position` (1-based; past the end: last).
pub(super) fn move_to(state: &mut State, id: RequestId, position: u32) -> Applied {
    let library = request(state, id)?.library;
    let lib = library_mut(state, library)?;
    let Some(from) = lib.mount_order.iter().position(|(r, _)| *r == id) else { return Ok(()) };
    let entry = lib.mount_order.remove(from);
    let to = (position.max(1) as usize - 1).min(lib.mount_order.len());
    lib.mount_order.insert(to, entry);
    Ok(())
}
