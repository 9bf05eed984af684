//! TLS to the databases: scripts/test.sh starts PostgreSQL and MariaDB with
//! a certificate from a throwaway CA (`WEIR_TEST_DB_CA`). The sink writes
//! through JDBC URLs that ask for TLS: encrypted without verification
//! (`sslmode=require`, `sslMode=REQUIRED`), and verified against the CA
//! (`verify-full` with `sslrootcert` / `serverSslCert`); verification
//! without the CA fails, naming the certificate.

mod common;

use std::sync::Arc;

use common::{db, schemaless, sink_record, Ctx, Db};
use connect_api::{ConnectResult, Offsets, SchemaAndValue, SinkTask, Value};
use connector_jdbc::JdbcSinkTask;

fn ca() -> String {
    std::env::var("WEIR_TEST_DB_CA").unwrap_or_else(|_| {
        panic!("WEIR_TEST_DB_CA is not set: run the tests through scripts/test.sh")
    })
}

/// Writes one row to `table` through `url`, as user/password.
async fn write_one(url: &str, user: &str, password: &str, table: &str) -> ConnectResult<()> {
    let mut props = connect_api::Props::new();
    for (k, v) in [
        ("connection.url", url),
        ("connection.user", user),
        ("connection.password", password),
        ("connection.attempts", "1"),
        ("max.retries", "0"),
        ("auto.create", "true"),
        ("table.name.format", table),
    ] {
        props.insert(k.to_string(), v.to_string());
    }
    let mut task = JdbcSinkTask::default();
    task.start(&props, Arc::new(Ctx::default())).await?;
    let r = sink_record(
        table,
        0,
        SchemaAndValue::NULL,
        schemaless(&[("n", Value::Int64(1))]),
    );
    let result = async {
        task.put(&[r]).await?;
        task.flush(&Offsets::new()).await
    }
    .await;
    let _ = task.stop().await;
    result
}

/// A verification against roots that do not hold the test CA fails,
/// naming the certificate.
fn refused_as_untrusted(err: &connect_api::ConnectError) {
    let text = err.to_string();
    assert!(
        text.to_lowercase().contains("certificate") || text.contains("UnknownIssuer"),
        "{text}"
    );
}

async fn count(db: &Db, table: &str) -> usize {
    db.rows(&format!("SELECT {} FROM {}", db.text("n"), db.q(table)))
        .await
        .len()
}

/// host:port/db of a native test URL.
fn address(db: &Db) -> String {
    db.url
        .split_once('@')
        .map(|(_, rest)| rest.to_string())
        .expect("a test URL with a user")
}

#[tokio::test]
async fn postgres() {
    let db = db("postgres").await;
    db.reset().await;
    let at = address(&db);
    let table = db.table("tls");
    let url = format!("jdbc:postgresql://{at}?sslmode=require&application_name=weir-tls");
    write_one(&url, "postgres", "", &table)
        .await
        .expect("sslmode=require");
    let verified = format!(
        "jdbc:postgresql://{at}?sslmode=verify-full&sslrootcert={}&application_name=weir-tls",
        ca()
    );
    write_one(&verified, "postgres", "", &table)
        .await
        .expect("verify-full against the CA");
    let err = write_one(
        &format!("jdbc:postgresql://{at}?sslmode=verify-full"),
        "postgres",
        "",
        &table,
    )
    .await
    .expect_err("a certificate no trusted root signed");
    refused_as_untrusted(&err);
    assert_eq!(count(&db, &table).await, 2, "both TLS writes landed");
}

#[tokio::test]
async fn mariadb() {
    let db = db("mysql").await;
    db.reset().await;
    let at = address(&db);
    let table = db.table("tls");
    // A user the server admits over TLS only.
    db.exec(&[
        "DROP USER IF EXISTS 'tls'@'127.0.0.1'",
        "CREATE USER 'tls'@'127.0.0.1' IDENTIFIED BY 'tls' REQUIRE SSL",
        "GRANT ALL ON *.* TO 'tls'@'127.0.0.1'",
    ])
    .await;
    write_one(
        &format!("jdbc:mysql://{at}?sslMode=REQUIRED"),
        "tls",
        "tls",
        &table,
    )
    .await
    .expect("sslMode=REQUIRED");
    write_one(
        &format!(
            "jdbc:mariadb://{at}?sslMode=verify-full&serverSslCert={}",
            ca()
        ),
        "tls",
        "tls",
        &table,
    )
    .await
    .expect("verify-full against the CA");
    let plain = write_one(
        &format!("jdbc:mysql://{at}?sslMode=DISABLED"),
        "tls",
        "tls",
        &table,
    )
    .await
    .expect_err("the user is refused without TLS");
    assert!(plain.to_string().contains("Access denied"), "{plain}");
    let err = write_one(
        &format!("jdbc:mariadb://{at}?sslMode=verify-full"),
        "tls",
        "tls",
        &table,
    )
    .await
    .expect_err("a certificate no trusted root signed");
    refused_as_untrusted(&err);
    assert_eq!(count(&db, &table).await, 2, "both TLS writes landed");
}
