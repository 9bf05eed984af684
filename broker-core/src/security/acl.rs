//! Kafka's ACLs and the authorizer that applies them.
//!
//! A binding ties a resource pattern (a type, a name, literal or prefixed)
//! to an entry (a principal, a host, an operation, allow or deny). A request
//! is allowed when the principal is a super user, or when an ALLOW entry
//! covers it and no DENY entry does; when no binding at all names the
//! resource, `allow.everyone.if.no.acl.found` decides. Bindings are kept in
//! a file of the log directory, written whole and renamed into place.

use std::collections::BTreeSet;
use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use kafka_protocol::messages::ApiKey;
use parking_lot::{Mutex, RwLock};

/// Declares an enum of Kafka's with its wire code and its name.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($v:ident = $code:literal, $text:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($v),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$(Self::$v),*];

            pub fn wire(self) -> i8 {
                match self { $(Self::$v => $code),* }
            }

            pub fn from_wire(code: i8) -> Option<Self> {
                match code { $($code => Some(Self::$v),)* _ => None }
            }

            /// Kafka's upper-case name (`TRANSACTIONAL_ID`, `DESCRIBE_CONFIGS`).
            pub fn name(self) -> &'static str {
                match self { $(Self::$v => $text),* }
            }

            /// Reads a name as Kafka's tools do: any case, `-` for `_`,
            /// and the camel case of the Java enum (`DescribeConfigs`).
            pub fn from_name(s: &str) -> Option<Self> {
                let want: String = s.chars().filter(|c| *c != '_' && *c != '-')
                    .collect::<String>().to_ascii_uppercase();
                Self::ALL.iter().copied().find(|v| v.name().replace('_', "") == want)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

wire_enum!(
    /// The kinds of resource an ACL names.
    ResourceType {
        Any = 1, "ANY";
        Topic = 2, "TOPIC";
        Group = 3, "GROUP";
        Cluster = 4, "CLUSTER";
        TransactionalId = 5, "TRANSACTIONAL_ID";
        DelegationToken = 6, "DELEGATION_TOKEN";
        User = 7, "USER";
    }
);

wire_enum!(
    /// How a binding's name matches resource names.
    PatternType {
        Any = 1, "ANY";
        Match = 2, "MATCH";
        Literal = 3, "LITERAL";
        Prefixed = 4, "PREFIXED";
    }
);

wire_enum!(
    /// What a principal may do to a resource.
    Operation {
        Any = 1, "ANY";
        All = 2, "ALL";
        Read = 3, "READ";
        Write = 4, "WRITE";
        Create = 5, "CREATE";
        Delete = 6, "DELETE";
        Alter = 7, "ALTER";
        Describe = 8, "DESCRIBE";
        ClusterAction = 9, "CLUSTER_ACTION";
        DescribeConfigs = 10, "DESCRIBE_CONFIGS";
        AlterConfigs = 11, "ALTER_CONFIGS";
        IdempotentWrite = 12, "IDEMPOTENT_WRITE";
        CreateTokens = 13, "CREATE_TOKENS";
        DescribeTokens = 14, "DESCRIBE_TOKENS";
    }
);

wire_enum!(
    /// Whether an entry allows or denies.
    Permission {
        Any = 1, "ANY";
        Deny = 2, "DENY";
        Allow = 3, "ALLOW";
    }
);

/// The name of the one cluster resource.
pub const CLUSTER_NAME: &str = "kafka-cluster";
/// A literal name, principal or host that matches every one.
pub const WILDCARD: &str = "*";
/// The principal that matches every user.
pub const WILDCARD_PRINCIPAL: &str = "User:*";

impl Operation {
    /// Operations an ALLOW of this one also allows (READ, WRITE, DELETE and
    /// ALTER allow DESCRIBE; ALTER_CONFIGS allows DESCRIBE_CONFIGS).
    fn implies(self, wanted: Operation) -> bool {
        self == wanted
            || self == Operation::All
            || (wanted == Operation::Describe
                && matches!(
                    self,
                    Operation::Read | Operation::Write | Operation::Delete | Operation::Alter
                ))
            || (wanted == Operation::DescribeConfigs && self == Operation::AlterConfigs)
    }
}

impl ResourceType {
    /// The operations an ACL on this kind of resource may name (Kafka's
    /// table; ALL is valid everywhere).
    pub fn operations(self) -> &'static [Operation] {
        use Operation::*;
        match self {
            ResourceType::Topic => &[
                Read,
                Write,
                Create,
                Describe,
                Delete,
                Alter,
                DescribeConfigs,
                AlterConfigs,
                All,
            ],
            ResourceType::Group => &[Read, Describe, Delete, DescribeConfigs, AlterConfigs, All],
            ResourceType::Cluster => &[
                Create,
                ClusterAction,
                DescribeConfigs,
                AlterConfigs,
                IdempotentWrite,
                Alter,
                Describe,
                All,
            ],
            ResourceType::TransactionalId => &[Describe, Write, All],
            ResourceType::DelegationToken => &[Describe, All],
            ResourceType::User => &[CreateTokens, DescribeTokens, All],
            ResourceType::Any => &[],
        }
    }

    /// Kafka's camel-case name, as principals of the log read it (`Topic`).
    pub fn title(self) -> &'static str {
        match self {
            ResourceType::Any => "Any",
            ResourceType::Topic => "Topic",
            ResourceType::Group => "Group",
            ResourceType::Cluster => "Cluster",
            ResourceType::TransactionalId => "TransactionalId",
            ResourceType::DelegationToken => "DelegationToken",
            ResourceType::User => "User",
        }
    }
}

/// One ACL: a resource pattern and an access-control entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub name: String,
    /// LITERAL or PREFIXED.
    pub pattern: PatternType,
    pub principal: String,
    pub host: String,
    pub operation: Operation,
    pub permission: Permission,
}

impl AclBinding {
    /// Whether this binding's pattern covers the resource `name`.
    fn covers(&self, rt: ResourceType, name: &str) -> bool {
        self.resource_type == rt
            && match self.pattern {
                PatternType::Literal => self.name == name || self.name == WILDCARD,
                PatternType::Prefixed => name.starts_with(&self.name),
                _ => false,
            }
    }

    fn applies_to(&self, principal: &str, host: &str) -> bool {
        (self.principal == principal || self.principal == WILDCARD_PRINCIPAL)
            && (self.host == host || self.host == WILDCARD)
    }

    /// Checks a binding to be created, as Kafka's broker does (with the
    /// principal's form checked at once rather than when it is used).
    pub fn validate(&self) -> Result<(), String> {
        if self.resource_type == ResourceType::Any {
            return Err(format!("Invalid resourceType {}", self.resource_type));
        }
        if !matches!(self.pattern, PatternType::Literal | PatternType::Prefixed) {
            return Err(format!("Invalid patternType {}", self.pattern));
        }
        if self.operation == Operation::Any {
            return Err(format!("Invalid operation {}", self.operation));
        }
        if self.permission == Permission::Any {
            return Err(format!("Invalid permissionType {}", self.permission));
        }
        if self.name.is_empty() {
            return Err("Resource name should not be empty".into());
        }
        if self.resource_type == ResourceType::Cluster && self.name != CLUSTER_NAME {
            return Err(format!(
                "The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
            ));
        }
        match self.principal.split_once(':') {
            Some((kind, name)) if !kind.is_empty() && !name.is_empty() => Ok(()),
            _ => Err(format!(
                "Could not parse principal from `{}` (no colon is present separating the principal type from the principal name)",
                self.principal
            )),
        }
    }

    /// The check Kafka's `kafka-acls.sh` adds: the operation is one the
    /// resource type has.
    pub fn check_operation(&self) -> Result<(), String> {
        let ops = self.resource_type.operations();
        if ops.contains(&self.operation) {
            return Ok(());
        }
        Err(format!(
            "ResourceType {} only supports operations {}",
            self.resource_type,
            ops.iter().map(|o| o.name()).collect::<Vec<_>>().join(", ")
        ))
    }
}

/// Kafka's `ResourcePattern.toString`.
pub fn pattern_text(rt: ResourceType, name: &str, pattern: PatternType) -> String {
    format!("ResourcePattern(resourceType={rt}, name={name}, patternType={pattern})")
}

/// Kafka's `AccessControlEntry.toString`.
pub fn entry_text(principal: &str, host: &str, op: Operation, perm: Permission) -> String {
    format!("(principal={principal}, host={host}, operation={op}, permissionType={perm})")
}

/// Kafka's `toString` of the entry and the pattern.
impl std::fmt::Display for AclBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on {}",
            entry_text(&self.principal, &self.host, self.operation, self.permission),
            pattern_text(self.resource_type, &self.name, self.pattern)
        )
    }
}

/// Which bindings a DescribeAcls or DeleteAcls request means.
#[derive(Debug, Clone)]
pub struct AclFilter {
    pub resource_type: ResourceType,
    pub name: Option<String>,
    pub pattern: PatternType,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: Operation,
    pub permission: Permission,
}

impl AclFilter {
    pub fn matches(&self, b: &AclBinding) -> bool {
        self.matches_pattern(b)
            && self.principal.as_ref().is_none_or(|p| *p == b.principal)
            && self.host.as_ref().is_none_or(|h| *h == b.host)
            && (self.operation == Operation::Any || self.operation == b.operation)
            && (self.permission == Permission::Any || self.permission == b.permission)
    }

    /// ANY matches the name exactly in either pattern type; MATCH matches
    /// every binding that would apply to a resource of that name.
    fn matches_pattern(&self, b: &AclBinding) -> bool {
        if self.resource_type != ResourceType::Any && self.resource_type != b.resource_type {
            return false;
        }
        if !matches!(self.pattern, PatternType::Any | PatternType::Match)
            && self.pattern != b.pattern
        {
            return false;
        }
        let Some(name) = &self.name else {
            return true;
        };
        if self.pattern == PatternType::Any || self.pattern == b.pattern {
            return *name == b.name;
        }
        match b.pattern {
            PatternType::Literal => *name == b.name || b.name == WILDCARD,
            PatternType::Prefixed => name.starts_with(&b.name),
            _ => false,
        }
    }
}

/// `authorizer.class.name` values that turn ACLs on.
pub const AUTHORIZER_CLASSES: &[&str] = &[
    "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "kafka.security.authorizer.AclAuthorizer",
    "kafka.security.auth.SimpleAclAuthorizer",
];

/// The authorizer's settings from the broker's config.
#[derive(Debug, Clone, Default)]
pub struct AuthorizerConfig {
    /// `authorizer.class.name` names one of Kafka's authorizers.
    pub enabled: bool,
    /// `super.users`: principals allowed everything.
    pub super_users: Vec<String>,
    /// `allow.everyone.if.no.acl.found`.
    pub allow_if_no_acl: bool,
}

/// What a request asks to do, for the check and the log line.
#[derive(Debug, Clone, Copy)]
pub struct Action<'a> {
    pub operation: Operation,
    pub resource_type: ResourceType,
    pub name: &'a str,
}

impl<'a> Action<'a> {
    pub fn new(operation: Operation, resource_type: ResourceType, name: &'a str) -> Self {
        Self {
            operation,
            resource_type,
            name,
        }
    }
}

/// Who asks.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    pub principal: &'a str,
    /// The client's address, without Kafka's leading `/`.
    pub host: &'a str,
    /// The request's API, for the log line.
    pub api: ApiKey,
}

/// Why the authorizer decided as it did.
#[derive(Debug)]
enum Rule {
    NoAuthorizer,
    SuperUser,
    Matching(AclBinding),
    DefaultAllow,
    DefaultDeny,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::NoAuthorizer => f.write_str("NoAuthorizer"),
            Rule::SuperUser => f.write_str("SuperUser"),
            Rule::DefaultAllow => f.write_str("DefaultAllow"),
            Rule::DefaultDeny => f.write_str("DefaultDeny"),
            Rule::Matching(b) => write!(
                f,
                "MatchingAcl(acl=StandardAcl(resourceType={}, resourceName={}, patternType={}, principal={}, host={}, operation={}, permissionType={}))",
                b.resource_type, b.name, b.pattern, b.principal, b.host, b.operation, b.permission
            ),
        }
    }
}

/// Kafka's name of an API in its logs (`INIT_PRODUCER_ID`).
fn api_name(api: ApiKey) -> String {
    let camel = format!("{api:?}");
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// The broker's ACLs and the rules that apply them.
#[derive(Debug)]
pub struct Authorizer {
    config: AuthorizerConfig,
    path: Option<PathBuf>,
    acls: RwLock<BTreeSet<AclBinding>>,
    /// One change at a time; checks go on while a change is written.
    writer: Mutex<()>,
}

impl Authorizer {
    /// Loads the bindings of `path`, or starts empty when it does not exist.
    pub fn load(config: AuthorizerConfig, path: PathBuf) -> std::io::Result<Self> {
        let acls = match std::fs::read_to_string(&path) {
            Ok(text) => parse_file(&text).map_err(|(line, reason)| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: line {line}: {reason}", path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
            Err(e) => return Err(e),
        };
        Ok(Self {
            config,
            path: Some(path),
            acls: RwLock::new(acls),
            writer: Mutex::new(()),
        })
    }

    /// An authorizer without a file (tests).
    pub fn in_memory(config: AuthorizerConfig) -> Self {
        Self {
            config,
            path: None,
            acls: RwLock::new(BTreeSet::new()),
            writer: Mutex::new(()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// Whether `who` may do `what`; a refusal is logged as Kafka's
    /// authorizer logs it.
    pub fn authorize(&self, who: Requester<'_>, what: Action<'_>) -> bool {
        let (allowed, rule) = self.decide(who, what);
        if !allowed {
            tracing::info!(
                "Principal = {} is Denied operation = {} from host = {} on resource = {}:LITERAL:{} for request = {} with resourceRefCount = 1 based on rule {rule}",
                who.principal,
                what.operation,
                who.host,
                what.resource_type.title(),
                what.name,
                api_name(who.api)
            );
        }
        allowed
    }

    /// The same check, without a log line when it refuses (a listing that
    /// leaves out what the principal may not see).
    pub fn permits(&self, who: Requester<'_>, what: Action<'_>) -> bool {
        self.decide(who, what).0
    }

    /// The verdict and the rule it rests on, named as Kafka's log names it.
    fn decide(&self, who: Requester<'_>, what: Action<'_>) -> (bool, Rule) {
        if !self.config.enabled {
            return (true, Rule::NoAuthorizer);
        }
        if self.config.super_users.iter().any(|u| u == who.principal) {
            return (true, Rule::SuperUser);
        }
        let acls = self.acls.read();
        let mut any_for_resource = false;
        let mut allowed = None;
        for b in acls
            .iter()
            .filter(|b| b.covers(what.resource_type, what.name))
        {
            any_for_resource = true;
            if !b.applies_to(who.principal, who.host) {
                continue;
            }
            match b.permission {
                Permission::Deny
                    if b.operation == Operation::All || b.operation == what.operation =>
                {
                    return (false, Rule::Matching(b.clone()));
                }
                Permission::Allow if allowed.is_none() && b.operation.implies(what.operation) => {
                    allowed = Some(b.clone())
                }
                _ => {}
            }
        }
        match allowed {
            Some(b) => (true, Rule::Matching(b)),
            None if !any_for_resource && self.config.allow_if_no_acl => (true, Rule::DefaultAllow),
            None => (false, Rule::DefaultDeny),
        }
    }

    /// Whether `who` may do `operation` to some resource of the type (an
    /// idempotent producer needs WRITE on any topic), as Kafka's
    /// `authorizeByResourceType`: a made-up name first (super users, and
    /// allow-everyone when no ACL covers it), then an ALLOW binding for the
    /// operation itself that no DENY binding dominates (a wildcard DENY, a
    /// DENY on the same literal name, a DENY prefix of its name).
    pub fn permits_any(&self, who: Requester<'_>, operation: Operation, rt: ResourceType) -> bool {
        if self.decide(who, Action::new(operation, rt, "hardcode")).0 {
            return true;
        }
        let acls = self.acls.read();
        let mut deny_literal = BTreeSet::new();
        let mut deny_prefixed = BTreeSet::new();
        let mut allow_literal = BTreeSet::new();
        let mut allow_prefixed = BTreeSet::new();
        let mut wildcard_allow = false;
        for b in acls.iter().filter(|b| {
            b.resource_type == rt
                && b.applies_to(who.principal, who.host)
                && (b.operation == operation || b.operation == Operation::All)
        }) {
            let name = b.name.as_str();
            match (b.permission, b.pattern) {
                (Permission::Deny, PatternType::Literal) if name == WILDCARD => return false,
                (Permission::Deny, PatternType::Literal) => {
                    deny_literal.insert(name);
                }
                (Permission::Deny, PatternType::Prefixed) => {
                    deny_prefixed.insert(name);
                }
                (Permission::Allow, PatternType::Literal) if name == WILDCARD => {
                    wildcard_allow = true
                }
                (Permission::Allow, PatternType::Literal) => {
                    allow_literal.insert(name);
                }
                (Permission::Allow, PatternType::Prefixed) => {
                    allow_prefixed.insert(name);
                }
                _ => {}
            }
        }
        if wildcard_allow {
            return true;
        }
        let dominated = |name: &str| {
            name.char_indices()
                .map(|(i, c)| &name[..i + c.len_utf8()])
                .any(|prefix| deny_prefixed.contains(prefix))
        };
        allow_literal
            .iter()
            .any(|n| !deny_literal.contains(n) && !dominated(n))
            || allow_prefixed.iter().any(|n| !dominated(n))
    }

    /// Adds bindings (ones already there stay as they are) and makes them
    /// durable before they apply; on failure nothing changes.
    pub fn create(&self, bindings: &[AclBinding]) -> std::io::Result<()> {
        let _one_at_a_time = self.writer.lock();
        let mut next = self.acls.read().clone();
        next.extend(bindings.iter().cloned());
        self.persist(&next)?;
        *self.acls.write() = next;
        Ok(())
    }

    /// Removes what each filter matches, durably; returns the removed
    /// bindings per filter.
    pub fn delete(&self, filters: &[AclFilter]) -> std::io::Result<Vec<Vec<AclBinding>>> {
        let _one_at_a_time = self.writer.lock();
        let current = self.acls.read().clone();
        let removed: Vec<Vec<AclBinding>> = filters
            .iter()
            .map(|f| current.iter().filter(|b| f.matches(b)).cloned().collect())
            .collect();
        let mut next = current.clone();
        next.retain(|b| !filters.iter().any(|f| f.matches(b)));
        if next.len() != current.len() {
            self.persist(&next)?;
            *self.acls.write() = next;
        }
        Ok(removed)
    }

    pub fn describe(&self, filter: &AclFilter) -> Vec<AclBinding> {
        self.acls
            .read()
            .iter()
            .filter(|b| filter.matches(b))
            .cloned()
            .collect()
    }

    fn persist(&self, acls: &BTreeSet<AclBinding>) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text: String = acls
            .iter()
            .map(|b| {
                format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    b.resource_type,
                    b.pattern,
                    B64.encode(&b.name),
                    B64.encode(&b.principal),
                    B64.encode(&b.host),
                    b.operation,
                    b.permission
                )
            })
            .collect();
        super::write_private(path, text.as_bytes())
    }
}

fn parse_file(text: &str) -> Result<BTreeSet<AclBinding>, (usize, String)> {
    let mut acls = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| (n + 1, format!("not an ACL ({what})"));
        let f: Vec<&str> = line.split('\t').collect();
        let [rt, pattern, name, principal, host, op, perm] = f[..] else {
            return Err(bad("7 fields expected"));
        };
        let text = |s: &str| {
            B64.decode(s)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| bad("bad base64"))
        };
        acls.insert(AclBinding {
            resource_type: ResourceType::from_name(rt).ok_or_else(|| bad(rt))?,
            pattern: PatternType::from_name(pattern).ok_or_else(|| bad(pattern))?,
            name: text(name)?,
            principal: text(principal)?,
            host: text(host)?,
            operation: Operation::from_name(op).ok_or_else(|| bad(op))?,
            permission: Permission::from_name(perm).ok_or_else(|| bad(perm))?,
        });
    }
    Ok(acls)
}

#[cfg(test)]
#[path = "acl_tests.rs"]
mod tests;
