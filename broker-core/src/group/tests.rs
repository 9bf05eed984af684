//! The coordinator state machine, driven with plain values and a fake clock.

use bytes::Bytes;

use super::membership::Outcome;
use super::*;
use crate::error_code as ec;

fn params(member: &str, instance: Option<&str>, v4: bool) -> JoinParams {
    JoinParams {
        group_id: "g".into(),
        member_id: member.into(),
        instance_id: instance.map(str::to_string),
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 20_000,
        protocol_type: "consumer".into(),
        protocols: vec![("range".into(), Bytes::from_static(b"meta"))],
        require_known_member_id: v4 && instance.is_none(),
    }
}

fn joins(fx: &[Effect]) -> Vec<(String, JoinResult)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Join { member, result, .. } => Some((member.clone(), result.clone())),
            _ => None,
        })
        .collect()
}

fn sync(
    coord: &mut Coordinator,
    member: &str,
    generation: i32,
    assign: &[(&str, &str)],
    now: u64,
) -> (Outcome<(i16, Bytes)>, Vec<Effect>) {
    coord.sync(
        SyncParams {
            group_id: "g".into(),
            generation,
            member_id: member.into(),
            instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: assign
                .iter()
                .map(|(m, a)| (m.to_string(), Bytes::copy_from_slice(a.as_bytes())))
                .collect(),
        },
        now,
    )
}

/// Joins one member through the KIP-394 handshake and returns its id.
fn join_new(coord: &mut Coordinator, now: u64) -> (String, Vec<Effect>) {
    let (out, _) = coord.join(params("", None, true), now);
    let Outcome::Now(r) = out else {
        panic!("expected MEMBER_ID_REQUIRED")
    };
    assert_eq!(r.error, ec::MEMBER_ID_REQUIRED);
    let id = r.member_id;
    let (out, fx) = coord.join(params(&id, None, true), now);
    assert_eq!(out, Outcome::Parked(id.clone()));
    (id, fx)
}

#[test]
fn single_member_handshake_then_generation_one() {
    let mut c = Coordinator::new(GroupConfig::default());
    let (a, fx) = join_new(&mut c, 0);
    let j = joins(&fx);
    assert_eq!(j.len(), 1);
    assert_eq!(j[0].1.generation, 1);
    assert_eq!(j[0].1.leader, a);
    assert_eq!(j[0].1.protocol_name.as_deref(), Some("range"));
    assert_eq!(j[0].1.members.len(), 1, "the leader sees the members");
    let (out, fx) = sync(&mut c, &a, 1, &[(&a, "p0")], 1);
    assert_eq!(out, Outcome::Parked(a.clone()));
    assert!(fx.contains(&Effect::Sync {
        group: "g".into(),
        member: a.clone(),
        error: ec::NONE,
        assignment: Bytes::from_static(b"p0")
    }));
    assert!(fx.contains(&Effect::PersistGroup("g".into())));
    assert_eq!(c.heartbeat("g", 1, &a, None, 2), ec::NONE);
    assert_eq!(c.describe("g").state, "Stable");
}

#[test]
fn second_member_triggers_rebalance_and_both_get_assignments() {
    let mut c = Coordinator::new(GroupConfig::default());
    let (a, _) = join_new(&mut c, 0);
    sync(&mut c, &a, 1, &[(&a, "all")], 0);
    let (b, fx) = join_new(&mut c, 10);
    assert!(
        joins(&fx).is_empty(),
        "waits for the known member to rejoin"
    );
    assert_eq!(c.heartbeat("g", 1, &a, None, 11), ec::REBALANCE_IN_PROGRESS);
    let (out, fx) = c.join(params(&a, None, true), 12);
    assert_eq!(out, Outcome::Parked(a.clone()));
    let j = joins(&fx);
    assert_eq!(j.len(), 2);
    assert!(j.iter().all(|(_, r)| r.generation == 2 && r.leader == a));
    let follower = j.iter().find(|(m, _)| *m == b).expect("follower");
    assert!(
        follower.1.members.is_empty(),
        "followers do not see members"
    );
    // The follower's sync waits for the leader's.
    let (out, fx) = sync(&mut c, &b, 2, &[], 13);
    assert_eq!(out, Outcome::Parked(b.clone()));
    assert!(fx.is_empty());
    let (_, fx) = sync(&mut c, &a, 2, &[(&a, "p0"), (&b, "p1")], 14);
    assert!(fx.contains(&Effect::Sync {
        group: "g".into(),
        member: b.clone(),
        error: ec::NONE,
        assignment: Bytes::from_static(b"p1")
    }));
    assert_eq!(
        sync(&mut c, &b, 1, &[], 15).0,
        Outcome::Now((ec::ILLEGAL_GENERATION, Bytes::new()))
    );
}

#[test]
fn silent_member_expires_after_its_session() {
    let mut c = Coordinator::new(GroupConfig::default());
    let (a, _) = join_new(&mut c, 0);
    sync(&mut c, &a, 1, &[(&a, "x")], 0);
    assert!(c.tick(9_000).is_empty());
    let fx = c.tick(10_001);
    assert!(fx.contains(&Effect::PersistGroup("g".into())));
    assert_eq!(c.describe("g").state, "Empty");
    assert_eq!(c.heartbeat("g", 1, &a, None, 10_002), ec::UNKNOWN_MEMBER_ID);
    // An empty group without offsets is forgotten once the retention has
    // passed, and unknown groups describe as Dead.
    let keep = GroupConfig::default().empty_group_retention_ms;
    c.tick(10_001 + keep - 1);
    assert_eq!(c.describe("g").state, "Empty");
    c.tick(10_001 + keep);
    assert_eq!(c.describe("g").state, "Dead");
}

#[test]
fn a_group_that_empties_and_fills_again_goes_on_counting_generations() {
    let mut c = Coordinator::new(GroupConfig::default());
    let (a, _) = join_new(&mut c, 0);
    sync(&mut c, &a, 1, &[(&a, "x")], 0);
    c.tick(10_001);
    assert_eq!(c.describe("g").state, "Empty");
    let (_, fx) = join_new(&mut c, 20_000);
    let j = joins(&fx);
    assert_eq!(j.len(), 1);
    assert_eq!(j[0].1.generation, 3, "generation 2 was the empty one");
}

#[test]
fn unused_pending_member_ids_expire_promptly() {
    let mut c = Coordinator::new(GroupConfig::default());
    let (a, _) = join_new(&mut c, 0);
    sync(&mut c, &a, 1, &[(&a, "x")], 0);
    // A second client gets a member id but never comes back with it.
    let (out, _) = c.join(params("", None, true), 100);
    assert!(matches!(out, Outcome::Now(ref r) if r.error == ec::MEMBER_ID_REQUIRED));
    // The known member rejoins; the rebalance must not wait a whole session for the ghost.
    let (_, fx) = c.join(params(&a, None, true), 200);
    assert!(fx.is_empty() || joins(&fx).is_empty());
    assert!(
        joins(&c.tick(4_000)).is_empty(),
        "still waiting for the pending id"
    );
    let fx = c.tick(5_200);
    let j = joins(&fx);
    assert_eq!(j.len(), 1, "completed once the pending id expired: {fx:?}");
    assert_eq!(j[0].1.generation, 2);
}

#[test]
fn members_that_miss_the_rebalance_deadline_are_dropped() {
    let mut c = Coordinator::new(GroupConfig::default());
    let (a, _) = join_new(&mut c, 0);
    sync(&mut c, &a, 1, &[(&a, "x")], 0);
    let (b, _) = join_new(&mut c, 1_000);
    // `a` keeps heartbeating but never rejoins.
    for t in (2_000..20_000).step_by(2_000) {
        assert_eq!(c.heartbeat("g", 1, &a, None, t), ec::REBALANCE_IN_PROGRESS);
        assert!(joins(&c.tick(t)).is_empty());
    }
    let fx = c.tick(21_001);
    let j = joins(&fx);
    assert_eq!(j.len(), 1);
    assert_eq!(j[0].0, b);
    assert_eq!(j[0].1.leader, b);
    assert_eq!(c.describe("g").members.len(), 1);
}

#[test]
fn static_member_rejoins_without_rebalance_and_fences_its_old_id() {
    let mut c = Coordinator::new(GroupConfig::default());
    let (out, fx) = c.join(params("", Some("worker-1"), true), 0);
    let Outcome::Parked(old) = out else {
        panic!("static members skip the handshake")
    };
    assert_eq!(joins(&fx).len(), 1);
    let (out, fx) = c.join(params("", Some("worker-2"), true), 1);
    let Outcome::Parked(other) = out else {
        panic!()
    };
    assert!(joins(&fx).is_empty());
    let (_, fx) = c.join(params(&old, Some("worker-1"), true), 2);
    assert_eq!(joins(&fx).len(), 2);
    let leader = c.describe("g").members[0].member_id.clone();
    assert_eq!(leader, old);
    sync(&mut c, &old, 2, &[(&old, "a"), (&other, "b")], 3);
    // worker-2 restarts with an empty member id: answered at once, same generation.
    let (out, _) = c.join(params("", Some("worker-2"), true), 4);
    let Outcome::Now(r) = out else {
        panic!("no rebalance for a known static member")
    };
    assert_eq!((r.error, r.generation), (ec::NONE, 2));
    assert_ne!(r.member_id, other);
    assert_eq!(
        c.heartbeat("g", 2, &other, Some("worker-2"), 5),
        ec::FENCED_INSTANCE_ID
    );
    assert_eq!(
        sync(&mut c, &r.member_id, 2, &[], 6).0,
        Outcome::Now((ec::NONE, Bytes::from_static(b"b")))
    );
}

#[test]
fn inconsistent_protocols_and_bad_session_timeouts_are_rejected() {
    let mut c = Coordinator::new(GroupConfig::default());
    join_new(&mut c, 0);
    let mut p = params("", None, false);
    p.protocols = vec![("roundrobin".into(), Bytes::new())];
    let (out, _) = c.join(p, 1);
    assert!(matches!(out, Outcome::Now(ref r) if r.error == ec::INCONSISTENT_GROUP_PROTOCOL));
    let mut p = params("", None, false);
    p.session_timeout_ms = 10;
    let (out, _) = c.join(p, 1);
    assert!(matches!(out, Outcome::Now(ref r) if r.error == ec::INVALID_SESSION_TIMEOUT));
}

#[test]
fn commit_rules() {
    let mut c = Coordinator::new(GroupConfig::default());
    assert_eq!(
        c.validate_commit("fresh", -1, "", None),
        Ok(()),
        "simple commit"
    );
    let (a, _) = join_new(&mut c, 0);
    assert_eq!(
        c.validate_commit("g", 1, &a, None),
        Err(ec::REBALANCE_IN_PROGRESS),
        "awaiting sync"
    );
    sync(&mut c, &a, 1, &[(&a, "x")], 0);
    assert_eq!(c.validate_commit("g", 1, &a, None), Ok(()));
    assert_eq!(
        c.validate_commit("g", 0, &a, None),
        Err(ec::ILLEGAL_GENERATION)
    );
    assert_eq!(
        c.validate_commit("g", 1, "stranger", None),
        Err(ec::UNKNOWN_MEMBER_ID)
    );
    assert_eq!(
        c.validate_commit("g", -1, "", None),
        Err(ec::UNKNOWN_MEMBER_ID),
        "group is active"
    );
    assert_eq!(c.check_delete("g"), Err(ec::NON_EMPTY_GROUP));
    assert_eq!(c.check_delete("nope"), Err(ec::GROUP_ID_NOT_FOUND));
}
