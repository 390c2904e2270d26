//! Media services: media types related to libraries, pools, and the life
//! of every side (allocation, completion, deallocation, retirement).

use super::{
    catalog_type, ensure_system_pools, library_mut, medium, medium_mut, pool, pool_mut, reindex, unindex, Applied,
};
use crate::error::MissingObject;
use crate::ids::*;
use crate::media_services::*;
use crate::objects::Medium;
use crate::state::State;

pub(super) fn media_type_added(state: &mut State, library: LibraryId, media_type: MediaTypeId) -> Applied {
    catalog_type(media_type)?;
    ensure_system_pools(state, media_type)?;
    library_mut(state, library)?.media_types.insert(media_type);
    Ok(())
}

pub(super) fn media_type_removed(
    state: &mut State,
    library: LibraryId,
    media_type: MediaTypeId,
    pools_deleted: bool,
) -> Applied {
    library_mut(state, library)?.media_types.remove(&media_type);
    if pools_deleted {
        let ids = SystemPools::of(media_type);
        for id in [ids.free, ids.import, ids.unrecognized] {
            state.pools.remove(&id);
        }
    }
    Ok(())
}

pub(super) fn pool_created(state: &mut State, created: &Pool) -> Applied {
    if let Some(parent) = created.parent {
        pool(state, parent)?;
    }
    state.pools.insert(created.id, created.clone());
    Ok(())
}

pub(super) fn pool_deleted(state: &mut State, id: PoolId) -> Applied {
    state.pools.remove(&id).map(|_| ()).ok_or(MissingObject::Pool(id))
}

pub(super) fn pool_policy_changed(
    state: &mut State,
    id: PoolId,
    from_scratch: bool,
    to_scratch: bool,
    max_allocates: u32,
) -> Applied {
    let p = pool_mut(state, id)?;
    p.from_scratch = from_scratch;
    p.to_scratch = to_scratch;
    p.max_allocates = max_allocates;
    Ok(())
}

pub(super) fn moved_to_pool(state: &mut State, media: MediaId, to: PoolId, sides: Option<SideState>) -> Applied {
    pool(state, to)?;
    unindex(state, media);
    let m = medium_mut(state, media)?;
    m.pool = to;
    if let Some(state_now) = sides {
        for side in &mut m.sides {
            side.state = state_now;
        }
    }
    reindex(state, media);
    Ok(())
}

/// The medium and side a logical medium is bound to.
fn bound(state: &State, lmid: LogicalMediaId) -> Result<(MediaId, u8), MissingObject> {
    let side = *state.lmids.get(&lmid).ok_or(MissingObject::LogicalMedia(lmid))?;
    let media = *state.sides.get(&side).ok_or(MissingObject::Side(side))?;
    let number = medium(state, media)?
        .sides
        .iter()
        .find(|s| s.lmid == Some(lmid))
        .map(|s| s.number)
        .ok_or(MissingObject::LogicalMedia(lmid))?;
    Ok((media, number))
}

fn side_mut(state: &mut State, media: MediaId, number: u8) -> Result<&mut Side, MissingObject> {
    let id = SideId::of(media, number);
    medium_mut(state, media)?.sides.get_mut(usize::from(number)).ok_or(MissingObject::Side(id))
}

pub(super) fn side_allocated(
    state: &mut State,
    media: MediaId,
    number: u8,
    lmid: LogicalMediaId,
    to: PoolId,
    reserve_others: bool,
) -> Applied {
    pool(state, to)?;
    unindex(state, media);
    let m = medium_mut(state, media)?;
    m.pool = to;
    if reserve_others {
        for side in m.sides.iter_mut().filter(|s| s.number != number && s.state == SideState::Available) {
            side.state = SideState::Reserved;
        }
    }
    let side = side_mut(state, media, number)?;
    side.state = SideState::Allocated;
    side.lmid = Some(lmid);
    side.allocate_count = side.allocate_count.saturating_add(1);
    state.lmids.insert(lmid, SideId::of(media, number));
    reindex(state, media);
    Ok(())
}

pub(super) fn side_deallocated(
    state: &mut State,
    lmid: LogicalMediaId,
    to: SideState,
    to_pool: Option<PoolId>,
) -> Applied {
    let (media, number) = bound(state, lmid)?;
    state.lmids.remove(&lmid);
    unindex(state, media);
    let m = medium_mut(state, media)?;
    for side in m.sides.iter_mut().filter(|s| s.state == SideState::Reserved) {
        side.state = SideState::Available;
    }
    let side = side_mut(state, media, number)?;
    side.state = to;
    side.lmid = None;
    if let Some(free) = to_pool {
        pool(state, free)?;
        medium_mut(state, media)?.pool = free;
    }
    reindex(state, media);
    Ok(())
}

pub(super) fn side_completed(state: &mut State, lmid: LogicalMediaId) -> Applied {
    let (media, number) = bound(state, lmid)?;
    side_mut(state, media, number)?.state = SideState::Complete;
    Ok(())
}

pub(super) fn side_decommissioned(state: &mut State, media: MediaId, number: u8) -> Applied {
    unindex(state, media);
    side_mut(state, media, number)?.state = SideState::Decommissioned;
    reindex(state, media);
    Ok(())
}

pub(super) fn logical_media_swapped(state: &mut State, first: LogicalMediaId, second: LogicalMediaId) -> Applied {
    let (m1, n1) = bound(state, first)?;
    let (m2, n2) = bound(state, second)?;
    side_mut(state, m1, n1)?.lmid = Some(second);
    side_mut(state, m2, n2)?.lmid = Some(first);
    state.lmids.insert(first, SideId::of(m2, n2));
    state.lmids.insert(second, SideId::of(m1, n1));
    Ok(())
}

pub(super) fn media_created(state: &mut State, created: &Medium) -> Applied {
    catalog_type(created.media_type)?;
    pool(state, created.pool)?;
    let mut m = created.clone();
    state.media_sequence += 1;
    m.sequence = state.media_sequence;
    for side in &m.sides {
        state.sides.insert(m.side_id(side.number), m.id);
        if let Some(lmid) = side.lmid {
            state.lmids.insert(lmid, m.side_id(side.number));
        }
    }
    state.barcodes.insert(m.barcode.clone(), m.id);
    let id = m.id;
    state.media.insert(id, m);
    reindex(state, id);
    Ok(())
}

pub(super) fn media_type_changed(
    state: &mut State,
    media: MediaId,
    to: PoolId,
    media_type: MediaTypeId,
    sides: Option<SideState>,
) -> Applied {
    catalog_type(media_type)?;
    medium_mut(state, media)?.media_type = media_type;
    moved_to_pool(state, media, to, sides)
}

pub(super) fn omid_updated(state: &mut State, media: MediaId, side: u8, omid: &crate::media_labels::Omid) -> Applied {
    let m = medium_mut(state, media)?;
    let missing = MissingObject::Side(m.side_id(side));
    let x = m.sides.get_mut(usize::from(side)).ok_or(missing)?;
    x.omid = Some(Box::new(omid.clone()));
    Ok(())
}
