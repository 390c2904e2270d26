//! The test seam of the `planted-bug` feature: with it, the crate's `apply`
//! is this wrapper, which breaks one event on purpose so that `.ci/run` can
//! prove the property tests and the simulation catch a wrong `apply`. It is
//! compiled only with the feature; production `apply` knows nothing of it.

use crate::error::ApplyError;
use crate::event::Event;
use crate::objects::Location;
use crate::state::State;

/// `apply`, except that a completed dismount fills its slot but does not
/// empty its drive (the cartridge is then in two places).
pub fn apply(state: &mut State, event: &Event) -> Result<(), ApplyError> {
    let Event::DismountCompleted { request, .. } = event else {
        return crate::apply::apply(state, event);
    };
    let before = state.requests.get(request).and_then(|r| {
        let drive = state.drives.get(&r.drive?)?.clone();
        Some((drive, state.media.get(&r.media)?.location, r.media))
    });
    crate::apply::apply(state, event)?;
    if let Some((drive, location @ Location::Drive(_), media)) = before {
        if let Some(d) = state.drives.get_mut(&drive.id) {
            d.medium = drive.medium;
            d.state = drive.state;
            d.holder = drive.holder;
            d.dismount_deadline_ms = drive.dismount_deadline_ms;
        }
        if let Some(m) = state.media.get_mut(&media) {
            m.location = location;
        }
    }
    Ok(())
}
