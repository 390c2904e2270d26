//! Library access rights (SetNtmsObjectSecurity, spec §1.18 and §3.6):
//! access can never be lost for good.

mod common;

use common::World;
use rsm_model::*;

/// Regression: `alice` could revoke her own CONTROL on the only library she
/// controlled, and from then nobody could grant CONTROL again.
#[test]
fn the_last_control_holder_cannot_be_removed() {
    let mut w = World::new();
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 1);
    let revoke = |session, principal: &str| Command::RevokeAccess {
        session,
        library: lib,
        principal: principal.into(),
        rights: AccessMask::CONTROL,
    };
    let e = w.rejects(revoke(alice, "alice"), ErrorCode::InvalidState);
    assert!(e.message().contains("last principal with CONTROL"), "{e}");
    // With another holder, it can go.
    w.grant(alice, lib, "bob", AccessMask::CONTROL);
    w.ok(revoke(alice, "alice"));
    let bob = w.session("bob");
    w.rejects(revoke(bob, "bob"), ErrorCode::InvalidState);
    // Revoking other rights is not concerned.
    w.ok(Command::RevokeAccess { session: bob, library: lib, principal: "alice".into(), rights: AccessMask::USE });
}

#[test]
fn the_administrator_always_holds_every_right() {
    let mut w = World::new();
    w.policy.administrator = Some("root".into());
    let alice = w.session("alice");
    let lib = w.changer(alice, "la", 1, 4, 1);
    let root = w.session("root");
    let mallory = w.session("mallory");
    let grant = |session, principal: &str| Command::GrantAccess {
        session,
        library: lib,
        principal: principal.into(),
        rights: AccessMask::CONTROL,
    };
    w.rejects(grant(mallory, "mallory"), ErrorCode::AccessDenied);
    w.ok(grant(root, "carol"));
    let media = w.media("LA0001L8");
    w.ok(Command::MountMedia { session: root, media, options: MountOptions::default() });
}

/// Regression: invisible characters (a soft hyphen, tag characters, the
/// Braille blank) made a principal print as another ("bob").
#[test]
fn names_with_invisible_characters_are_refused() {
    let mut w = World::new();
    for spoof in ["bo\u{ad}b", "bob\u{e0062}", "b\u{2800}ob", "bo\u{34f}b", "bob\u{fe0f}"] {
        w.rejects(
            Command::OpenSession { principal: spoof.into(), application: String::new() },
            ErrorCode::InvalidParameter,
        );
    }
}
