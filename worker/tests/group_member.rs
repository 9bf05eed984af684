//! Workers' group membership against the bundled broker: two members join
//! with protocol type `connect`, the leader assigns with the incremental
//! cooperative assignor, both receive their share through SyncGroup, and
//! when one leaves the other is told to hold its work for the delay.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::Mutex;

use broker_core::properties::Properties;
use broker_core::{BrokerConfig, RunningBroker};
use worker::distributed::assign::{configured, AssignorState};
use worker::distributed::member::{Beat, GroupMember, Joined, MemberConfig};
use worker::distributed::protocol::{Assignment, Protocol, Work, WorkerState, NO_ERROR};

async fn broker(dir: &std::path::Path) -> RunningBroker {
    let mut props = Properties::default();
    props.set("log.dirs", dir.display().to_string());
    props.set("listeners", "PLAINTEXT://127.0.0.1:0".to_string());
    let (cfg, _) = BrokerConfig::from_properties(&props).expect("config");
    RunningBroker::start(cfg).await.expect("broker starts")
}

fn member(bootstrap: &str) -> GroupMember {
    GroupMember::new(
        MemberConfig {
            group: "connect-cluster".into(),
            session_timeout: Duration::from_secs(10),
            rebalance_timeout: Duration::from_secs(10),
            protocol: Protocol::Sessioned,
        },
        vec![bootstrap.to_string()],
    )
}

fn state(url: &str, running: &Work) -> WorkerState {
    WorkerState {
        url: url.into(),
        config_offset: 0,
        assignment: (!running.is_empty()).then(|| Assignment {
            version: 2,
            error: NO_ERROR,
            leader: String::new(),
            leader_url: String::new(),
            config_offset: 0,
            assigned: running.clone(),
            revoked: Work::default(),
            delay: 0,
        }),
    }
}

/// The leader's half of a round, as `weir distributed` does it.
fn lead(
    joined: &Joined,
    st: &mut AssignorState,
    cfg: &Work,
    now: i64,
) -> Vec<(String, Assignment)> {
    worker::distributed::herder::lead(joined, st, cfg, 0, now, 5_000)
}

/// A worker's membership loop, as `weir distributed` runs it: join, lead
/// if chosen, sync, apply the assignment, then heartbeat; rejoin whenever
/// the group rebalances. Returns once a generation held for `quiet`.
async fn settle(
    m: &mut GroupMember,
    url: &str,
    running: &mut Work,
    st: &Mutex<AssignorState>,
    cfg: &Work,
    quiet: Duration,
) -> (Joined, Assignment) {
    'rounds: for _ in 0..20 {
        let joined = m.join(&state(url, running)).await.expect("joins");
        let plan = if joined.is_leader() {
            let mut st = st.lock().await;
            lead(&joined, &mut st, cfg, 0)
        } else {
            Vec::new()
        };
        let Some(a) = m.sync(&joined, &plan).await.expect("syncs") else {
            continue;
        };
        running.apply(&a.assigned, &a.revoked);
        if !a.revoked.is_empty() {
            // Cooperative: give the revoked work back at once.
            continue;
        }
        let until = tokio::time::Instant::now() + quiet;
        while tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if m.heartbeat().await.expect("beats") == Beat::Rejoin {
                continue 'rounds;
            }
        }
        return (joined, a);
    }
    panic!("{url}: no stable generation after 20 rounds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_work_and_the_survivor_holds_the_leavers_share() {
    let dir = tempfile::tempdir().expect("tempdir");
    let b = broker(dir.path()).await;
    let boot = b.bootstrap();
    let cfg = configured(&BTreeMap::from([
        ("a".to_string(), 4u32),
        ("b".to_string(), 2),
    ]));
    let st = Mutex::new(AssignorState::default());

    let (mut m1, mut m2) = (member(&boot), member(&boot));
    let (mut r1, mut r2) = (Work::default(), Work::default());
    let quiet = Duration::from_millis(1500);
    let ((j1, _), (j2, _)) = tokio::join!(
        settle(&mut m1, "http://w1:8083/", &mut r1, &st, &cfg, quiet),
        settle(&mut m2, "http://w2:8083/", &mut r2, &st, &cfg, quiet)
    );
    assert_eq!(
        j1.generation, j2.generation,
        "both settle in one generation"
    );
    assert_eq!(j1.protocol, Protocol::Sessioned);
    assert_eq!(j1.leader_id, j2.leader_id);
    let leader = if j1.is_leader() { &j1 } else { &j2 };
    assert_eq!(
        leader.members.len(),
        2,
        "the leader sees every member's metadata"
    );
    let mut all = r1.clone();
    all.connectors.extend(r2.connectors.iter().cloned());
    all.tasks.extend(r2.tasks.iter().cloned());
    assert_eq!(all.len(), r1.len() + r2.len(), "nothing runs twice");
    assert_eq!(all, cfg, "everything runs");
    assert_eq!((r1.tasks.len(), r2.tasks.len()), (3, 3));
    assert_eq!(r1.connectors.len(), 1);

    // One leaves; the survivor is asked to rejoin and holds the leaver's work.
    let (stay, stay_running, url) = if j1.is_leader() {
        m2.leave().await.expect("leaves");
        (&mut m1, r1, "http://w1:8083/")
    } else {
        m1.leave().await.expect("leaves");
        (&mut m2, r2, "http://w2:8083/")
    };
    let mut rejoin = false;
    for _ in 0..50 {
        if stay.heartbeat().await.expect("beat") == Beat::Rejoin {
            rejoin = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rejoin, "the survivor is told to rejoin");
    let joined = stay
        .join(&state(url, &stay_running))
        .await
        .expect("rejoins");
    assert!(joined.is_leader());
    assert_eq!(joined.members.len(), 1);
    let plan = lead(&joined, &mut *st.lock().await, &cfg, 1_000);
    let mine = stay
        .sync(&joined, &plan)
        .await
        .expect("sync")
        .expect("assignment");
    assert!(
        mine.assigned.is_empty(),
        "the leaver's work is held: {mine:?}"
    );
    assert_eq!(mine.delay, 5_000);
    stay.leave().await.expect("leaves");
    b.shutdown().await.expect("broker stops");
}
