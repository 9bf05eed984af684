//! The authorizer's rules, filters and file.

use super::*;

fn allow(
    rt: ResourceType,
    name: &str,
    pattern: PatternType,
    who: &str,
    op: Operation,
) -> AclBinding {
    AclBinding {
        resource_type: rt,
        name: name.into(),
        pattern,
        principal: who.into(),
        host: WILDCARD.into(),
        operation: op,
        permission: Permission::Allow,
    }
}

fn on(enabled: bool, allow_if_no_acl: bool) -> Authorizer {
    Authorizer::in_memory(AuthorizerConfig {
        enabled,
        super_users: vec!["User:admin".into()],
        allow_if_no_acl,
    })
}

fn may(a: &Authorizer, who: &str, op: Operation, rt: ResourceType, name: &str) -> bool {
    a.permits(
        Requester {
            principal: who,
            host: "127.0.0.1",
            api: ApiKey::Metadata,
        },
        Action {
            operation: op,
            resource_type: rt,
            name,
        },
    )
}

use Operation::*;
use ResourceType::*;

#[test]
fn literal_prefixed_wildcard_and_implied_operations() {
    let a = on(true, false);
    a.create(&[
        allow(Topic, "orders", PatternType::Literal, "User:alice", Write),
        allow(Topic, "logs-", PatternType::Prefixed, "User:alice", Read),
        allow(Group, "*", PatternType::Literal, "User:*", Read),
    ])
    .expect("create");
    assert!(may(&a, "User:alice", Write, Topic, "orders"));
    assert!(
        may(&a, "User:alice", Describe, Topic, "orders"),
        "WRITE implies DESCRIBE"
    );
    assert!(!may(&a, "User:alice", Read, Topic, "orders"));
    assert!(may(&a, "User:alice", Read, Topic, "logs-app"));
    assert!(!may(&a, "User:alice", Read, Topic, "log"));
    assert!(may(&a, "User:bob", Read, Group, "any-group"));
    assert!(!may(&a, "User:bob", Write, Topic, "orders"));
    assert!(may(&a, "User:admin", Delete, Topic, "orders"), "super user");
    assert!(
        !may(&a, "User:bob", Read, Topic, "unnamed"),
        "no ACL, default deny"
    );
    assert!(
        may(&on(false, false), "User:bob", Read, Topic, "x"),
        "no authorizer"
    );
}

#[test]
fn deny_wins_and_allow_everyone_only_without_any_acl() {
    let a = on(true, true);
    let mut deny = allow(Topic, "orders", PatternType::Literal, "User:alice", All);
    deny.permission = Permission::Deny;
    a.create(&[
        allow(Topic, "*", PatternType::Literal, "User:alice", All),
        deny,
    ])
    .expect("create");
    assert!(!may(&a, "User:alice", Read, Topic, "orders"));
    assert!(may(&a, "User:alice", Read, Topic, "other"));
    // Every topic is named by the wildcard: bob is not let in by default.
    assert!(!may(&a, "User:bob", Read, Topic, "other"));
    assert!(may(&a, "User:bob", Read, Group, "g"), "no ACL names groups");
}

#[test]
fn any_topic_write_for_idempotence() {
    let a = on(true, false);
    let who = Requester {
        principal: "User:alice",
        host: "10.0.0.1",
        api: ApiKey::InitProducerId,
    };
    assert!(!a.permits_any(who, Write, Topic));
    a.create(&[allow(
        Topic,
        "t-",
        PatternType::Prefixed,
        "User:alice",
        Write,
    )])
    .expect("create");
    assert!(a.permits_any(who, Write, Topic));
    let mut deny = allow(Topic, "t", PatternType::Prefixed, "User:alice", Write);
    deny.permission = Permission::Deny;
    a.create(&[deny]).expect("create");
    assert!(!a.permits_any(who, Write, Topic));
}

#[test]
fn filters_match_as_kafka_documents() {
    let lit = allow(Topic, "orders", PatternType::Literal, "User:alice", Write);
    let star = allow(Topic, "*", PatternType::Literal, "User:alice", Write);
    let pre = allow(Topic, "ord", PatternType::Prefixed, "User:alice", Write);
    let f = |pattern, name: Option<&str>| AclFilter {
        resource_type: ResourceType::Any,
        name: name.map(str::to_string),
        pattern,
        principal: None,
        host: None,
        operation: Operation::Any,
        permission: Permission::Any,
    };
    let m = f(PatternType::Match, Some("orders"));
    assert!(m.matches(&lit) && m.matches(&star) && m.matches(&pre));
    let a = f(PatternType::Any, Some("orders"));
    assert!(a.matches(&lit) && !a.matches(&star) && !a.matches(&pre));
    let p = f(PatternType::Prefixed, None);
    assert!(!p.matches(&lit) && p.matches(&pre));
}

#[test]
fn bindings_survive_a_reload_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("acls");
    let config = AuthorizerConfig {
        enabled: true,
        ..AuthorizerConfig::default()
    };
    let a = Authorizer::load(config.clone(), path.clone()).expect("load");
    let b = allow(Group, "tab\tname", PatternType::Literal, "User:x y", Read);
    a.create(std::slice::from_ref(&b)).expect("create");
    let again = Authorizer::load(config, path).expect("reload");
    assert_eq!(
        again.describe(&AclFilter {
            resource_type: ResourceType::Any,
            name: None,
            pattern: PatternType::Any,
            principal: None,
            host: None,
            operation: Operation::Any,
            permission: Permission::Any,
        }),
        vec![b]
    );
    let bad = allow(Cluster, "other", PatternType::Literal, "User:x", Alter);
    assert!(bad.validate().is_err());
    let bad = allow(Group, "g", PatternType::Literal, "alice", Read);
    assert!(bad.validate().expect_err("no colon").contains("colon"));
    let odd = allow(Group, "g", PatternType::Literal, "User:alice", Write);
    assert!(
        odd.validate().is_ok(),
        "the broker stores what Kafka's stores"
    );
    assert!(odd
        .check_operation()
        .expect_err("not a group operation")
        .contains("only supports"));
    assert_eq!(api_name(ApiKey::InitProducerId), "INIT_PRODUCER_ID");
}

#[test]
fn names_read_as_kafka_tools_write_them() {
    assert_eq!(
        Operation::from_name("DescribeConfigs"),
        Some(DescribeConfigs)
    );
    assert_eq!(
        Operation::from_name("idempotent-write"),
        Some(IdempotentWrite)
    );
    assert_eq!(
        ResourceType::from_name("TransactionalId"),
        Some(TransactionalId)
    );
    assert_eq!(Operation::from_name("Fly"), None);
}

#[test]
fn any_topic_write_as_kafka_decides_it() {
    let who = Requester {
        principal: "User:alice",
        host: "10.0.0.1",
        api: ApiKey::InitProducerId,
    };
    // Allow-everyone: ACLs on other topics do not take it away.
    let open = on(true, true);
    open.create(&[allow(Topic, "bobs", PatternType::Literal, "User:bob", Read)])
        .expect("create");
    assert!(open.permits_any(who, Write, Topic));
    // A literal DENY does not cancel a prefixed ALLOW of the same name.
    let a = on(true, false);
    let mut deny = allow(Topic, "t-", PatternType::Literal, "User:alice", Write);
    deny.permission = Permission::Deny;
    a.create(&[
        allow(Topic, "t-", PatternType::Prefixed, "User:alice", Write),
        deny,
    ])
    .expect("create");
    assert!(a.permits_any(who, Write, Topic));
    // READ does not stand in for WRITE here; ALL does.
    let b = on(true, false);
    b.create(&[allow(Topic, "x", PatternType::Literal, "User:alice", Read)])
        .expect("create");
    assert!(!b.permits_any(who, Write, Topic));
    b.create(&[allow(Topic, "y", PatternType::Literal, "User:alice", All)])
        .expect("create");
    assert!(b.permits_any(who, Write, Topic));
    // A wildcard DENY ends it.
    let mut star = allow(Topic, "*", PatternType::Literal, "User:*", Write);
    star.permission = Permission::Deny;
    b.create(&[star]).expect("create");
    assert!(!b.permits_any(who, Write, Topic));
}
