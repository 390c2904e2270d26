//! Session Management: sessions opened and closed.

use super::{session_mut, Applied};
use crate::ids::SessionId;
use crate::objects::Session;
use crate::state::State;

pub(super) fn opened(state: &mut State, session: SessionId, principal: &str, application: &str) -> Applied {
    state.sessions.insert(session, Session::new(session, principal, application));
    Ok(())
}

pub(super) fn closed(state: &mut State, session: SessionId) -> Applied {
    session_mut(state, session)?.open = false;
    Ok(())
}
