//! The `hdfs://` store up to the wire: no HDFS can be installed here, so
//! these tests check the configuration (an HA nameservice from
//! hdfs-site.xml, `hadoop.conf.dir`) and that a namenode that cannot be
//! reached is named in the error. Against a real cluster, only when
//! `WEIR_TEST_HDFS_URL` names one, the store runs the same checks as the
//! other stores.

use connector_hdfs::store::{self, HdfsStore, Store};

mod common;

/// A port of 127.0.0.1 where nothing listens.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn a_namenode_that_cannot_be_reached_is_named() {
    let port = closed_port();
    let url = format!("hdfs://127.0.0.1:{port}");
    let s = HdfsStore::new(&url, "").expect("configured");
    let started = std::time::Instant::now();
    let e = s.exists("topics").expect_err("nothing listens").0;
    // Hadoop's own failover settings would retry for about 3 minutes.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "gave up after {:?}",
        started.elapsed()
    );
    assert!(e.contains(&url) && e.contains("/topics"), "{e}");
    assert!(e.to_lowercase().contains("refused"), "{e}");
    println!("{e}");
}

#[test]
fn an_ha_nameservice_from_hadoop_conf_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (closed_port(), closed_port());
    std::fs::write(
        dir.path().join("core-site.xml"),
        "<configuration><property><name>fs.defaultFS</name><value>hdfs://weirns</value></property></configuration>",
    )
    .expect("core-site");
    std::fs::write(
        dir.path().join("hdfs-site.xml"),
        format!(
            "<configuration>
<property><name>dfs.nameservices</name><value>weirns</value></property>
<property><name>dfs.ha.namenodes.weirns</name><value>nn1,nn2</value></property>
<property><name>dfs.namenode.rpc-address.weirns.nn1</name><value>127.0.0.1:{a}</value></property>
<property><name>dfs.namenode.rpc-address.weirns.nn2</name><value>127.0.0.1:{b}</value></property>
</configuration>"
        ),
    )
    .expect("hdfs-site");
    let conf = dir.path().display().to_string();
    let s = store::open("hdfs://weirns/data", &conf).expect("the nameservice is known");
    let e = s.exists("x").expect_err("no namenode answers").0;
    assert!(
        e.contains("hdfs://weirns/data") && e.contains("/data/x"),
        "{e}"
    );
    println!("{e}");
    let e = store::open("hdfs://weirns", "/nonexistent/hadoop/conf")
        .err()
        .expect("no such directory");
    assert!(
        e.contains("hadoop.conf.dir /nonexistent/hadoop/conf"),
        "{e}"
    );
}

#[test]
fn a_real_cluster_when_one_is_named() {
    let Ok(url) = std::env::var("WEIR_TEST_HDFS_URL") else {
        println!("WEIR_TEST_HDFS_URL is not set: hdfs:// was not run against a cluster");
        return;
    };
    let conf = std::env::var("WEIR_TEST_HADOOP_CONF_DIR").unwrap_or_default();
    let s = store::open(&url, &conf).expect("store");
    let base = format!("weir-test-{}", std::process::id());
    let _ = s.delete(&base);
    common::conformance(
        &*store::open(&format!("{}/{base}", url.trim_end_matches('/')), &conf).expect("store"),
    );
    let _ = s.delete(&base);
}
