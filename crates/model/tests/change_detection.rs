//! Begin/Set/EndNtmsDeviceChangeDetection (spec §3.8): every code, and
//! what a detection watches.

mod common;

use common::World;
use rsm_model::*;

#[test]
fn change_detection_codes_and_targets() {
    let mut w = World::new();
    let alice = w.session("alice");
    let desk = w.standalone(alice, "desk", 1);
    let lib = w.changer(alice, "la", 1, 2, 1);
    let nobody = SessionId(uuid::Uuid::from_u128(9));
    w.rejects(Command::BeginChangeDetection { session: nobody }, ErrorCode::InvalidHandle);
    let events = w.ok(Command::BeginChangeDetection { session: alice }).1;
    let Some(Event::ChangeDetectionBegun { detection, .. }) = events.first().cloned() else { panic!("{events:?}") };
    let set = |detection, objects| Command::SetChangeDetection { session: alice, detection, objects };
    w.rejects(set(Some(detection), vec![]), ErrorCode::InvalidParameter);
    w.rejects(
        set(Some(detection), vec![ObjectRef::Library(desk), ObjectRef::Media(w.media("LA0001L8"))]),
        ErrorCode::InvalidParameter,
    );
    w.rejects(set(Some(detection), vec![ObjectRef::Drive(w.drive("la-drive-1"))]), ErrorCode::InvalidParameter);
    w.rejects(set(Some(detection), vec![ObjectRef::Library(lib)]), ErrorCode::InvalidLibrary);
    w.rejects(set(Some(detection), vec![ObjectRef::Media(MediaId(uuid::Uuid::from_u128(4)))]), ErrorCode::InvalidMedia);
    w.rejects(
        set(Some(DetectionId(uuid::Uuid::from_u128(5))), vec![ObjectRef::Library(desk)]),
        ErrorCode::InvalidHandle,
    );
    let bob = w.session("bob");
    let theirs = Command::SetChangeDetection {
        session: bob,
        detection: Some(detection),
        objects: vec![ObjectRef::Library(desk)],
    };
    w.rejects(theirs, ErrorCode::InvalidHandle);

    // A medium of the changer stands for the stand-alone libraries of its type.
    let events = w.ok(set(Some(detection), vec![ObjectRef::Media(w.media("LA0001L8"))])).1;
    assert!(matches!(&events[..], [Event::ChangeDetectionWatches { libraries, .. }] if libraries == &vec![desk]));
    assert_eq!(w.state.change_detections[&detection].1.len(), 1);
    let events = w.ok(set(None, vec![ObjectRef::MediaType(default_media_type())])).1;
    assert!(matches!(&events[..], [Event::ChangeDetectionPolled { libraries }] if libraries == &vec![desk]));

    let mallory = w.session("mallory");
    let begun = w.ok(Command::BeginChangeDetection { session: mallory }).1;
    let Some(Event::ChangeDetectionBegun { detection: theirs, .. }) = begun.first().cloned() else { panic!() };
    let watch = |objects| Command::SetChangeDetection { session: mallory, detection: Some(theirs), objects };
    w.rejects(watch(vec![ObjectRef::Library(desk)]), ErrorCode::AccessDenied);
    w.rejects(watch(vec![ObjectRef::MediaType(default_media_type())]), ErrorCode::InvalidParameter);
    w.rejects(Command::EndChangeDetection { session: bob, detection }, ErrorCode::InvalidHandle);
    w.ok(Command::EndChangeDetection { session: alice, detection });
    w.rejects(Command::EndChangeDetection { session: alice, detection }, ErrorCode::InvalidHandle);

    // Closing the session ends its detections.
    let events = w.ok(Command::BeginChangeDetection { session: alice }).1;
    let Some(Event::ChangeDetectionBegun { detection, .. }) = events.first().cloned() else { panic!("{events:?}") };
    let events = w.ok(Command::CloseSession { session: alice }).1;
    assert!(events.contains(&Event::ChangeDetectionEnded { detection }), "{events:?}");
    assert!(w.state.change_detections.values().all(|(owner, _)| *owner != alice));
}
