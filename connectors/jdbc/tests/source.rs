//! The JDBC source task against real databases (SQLite, and the PostgreSQL
//! and MariaDB servers scripts/test.sh starts):
//! every mode, offsets in Confluent's maps carried across a restart, rows
//! sharing a timestamp across batch boundaries, rows added while running.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{db, Db};
use connect_api::record::{SourceOffset, SourcePartition};
use connect_api::{OffsetReader, SourceRecord, SourceTask, SourceTaskContext, Value};
use connector_jdbc::JdbcSourceTask;
use parking_lot::Mutex;

/// Offsets as the runtime would have committed them.
#[derive(Default)]
struct Offsets(Mutex<BTreeMap<String, SourceOffset>>);

impl OffsetReader for Offsets {
    fn offset(&self, p: &SourcePartition) -> Option<SourceOffset> {
        self.0
            .lock()
            .get(&serde_json::Value::Object(p.clone()).to_string())
            .cloned()
    }
}

impl Offsets {
    fn commit(&self, records: &[SourceRecord]) {
        for r in records {
            if let Some(o) = &r.source_offset {
                let k = serde_json::Value::Object((*r.source_partition).clone()).to_string();
                self.0.lock().insert(k, o.clone());
            }
        }
    }
}

fn qualified(db: &Db, t: &str) -> String {
    match db.dialect {
        "postgres" => format!("postgres.public.{t}"),
        "mysql" => format!("t.{t}"),
        _ => t.to_string(),
    }
}

async fn task(
    db: &Db,
    table: &str,
    offsets: &Arc<Offsets>,
    extra: &[(&str, &str)],
) -> JdbcSourceTask {
    let mut props = db.props();
    props.insert("topic.prefix".into(), "db-".into());
    props.insert("tables".into(), qualified(db, &db.table(table)));
    props.insert("poll.interval.ms".into(), "10".into());
    for (k, v) in extra {
        props.insert(k.to_string(), v.to_string());
    }
    let mut t = JdbcSourceTask::default();
    let ctx = SourceTaskContext {
        configs: props.clone(),
        offsets: offsets.clone(),
    };
    t.start(&props, ctx).await.expect("the source task starts");
    t
}

/// Polls until `n` records came (or 100 polls passed).
async fn take(t: &mut JdbcSourceTask, n: usize) -> Vec<SourceRecord> {
    let mut out = Vec::new();
    for _ in 0..100 {
        if out.len() >= n {
            break;
        }
        out.extend(t.poll().await.expect("poll"));
    }
    out
}

fn field(r: &SourceRecord, name: &str) -> Value {
    match &r.value.value {
        Value::Struct(s) => s.get(name).cloned().unwrap_or(Value::Null),
        other => panic!("not a struct: {other:?}"),
    }
}

fn ids(rs: &[SourceRecord]) -> Vec<i64> {
    rs.iter()
        .map(|r| match field(r, "id") {
            Value::Int32(n) => i64::from(n),
            Value::Int64(n) => n,
            other => panic!("id {other:?}"),
        })
        .collect()
}

fn ddl(db: &Db, table: &str) -> String {
    let (amount, at) = match db.dialect {
        "postgres" => ("NUMERIC(10,2)", "TIMESTAMP(6)"),
        "mysql" => ("DECIMAL(10,2)", "DATETIME(6)"),
        _ => ("NUMERIC(10,2)", "TIMESTAMP"),
    };
    format!(
        "CREATE TABLE {} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100), amount {amount}, at {at} NOT NULL)",
        db.q(&db.table(table))
    )
}

fn insert(db: &Db, table: &str, id: i64, at: &str) -> String {
    format!(
        "INSERT INTO {} (id, name, amount, at) VALUES ({id}, 'row ☃ {id}', {id}.25, '{at}')",
        db.q(&db.table(table))
    )
}

/// Creates `table` with rows 1..=`n`, all at one time.
async fn filled(db: &Db, table: &str, n: i64) {
    db.exec(&[&ddl(db, table)]).await;
    let rows: Vec<String> = (1..=n)
        .map(|i| insert(db, table, i, "2024-01-01 00:00:00"))
        .collect();
    db.exec(&rows.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
}

async fn incrementing_reads_new_rows_and_resumes(db: &Db) {
    filled(db, "src_inc", 5).await;
    let offsets = Arc::new(Offsets::default());
    let mut t = task(
        db,
        "src_inc",
        &offsets,
        &[
            ("mode", "incrementing"),
            ("incrementing.column.name", "id"),
            ("batch.max.rows", "2"),
        ],
    )
    .await;
    let got = take(&mut t, 5).await;
    assert_eq!(ids(&got), vec![1, 2, 3, 4, 5]);
    let r = &got[0];
    assert_eq!(&*r.topic, format!("db-{}", db.table("src_inc")));
    assert_eq!(
        serde_json::Value::Object((*r.source_partition).clone()),
        serde_json::json!({"protocol": "1", "table": qualified(db, &db.table("src_inc"))})
    );
    // Each batch's last record carries the position (batches of 2 here).
    assert_eq!(
        got[1].source_offset.clone().map(serde_json::Value::Object),
        Some(serde_json::json!({"incrementing": 2}))
    );
    assert!(r.source_offset.is_none());
    assert_eq!(field(r, "name"), Value::String("row ☃ 1".into()));
    assert_eq!(
        field(r, "amount"),
        Value::Decimal(connect_api::Decimal::new(125, 2))
    );
    offsets.commit(&got);
    t.stop().await.expect("stop");
    db.exec(&[&insert(db, "src_inc", 6, "2024-01-01 00:00:00")])
        .await;
    let mut t = task(
        db,
        "src_inc",
        &offsets,
        &[("mode", "incrementing"), ("incrementing.column.name", "id")],
    )
    .await;
    let got = take(&mut t, 1).await;
    assert_eq!(ids(&got), vec![6], "resumes after the committed offset");
    t.stop().await.expect("stop");
}

/// Rows sharing one timestamp across batch boundaries and a restart all
/// arrive, once.
async fn timestamps_lose_no_row_sharing_a_time(db: &Db, mode: &str, table: &str) {
    db.exec(&[&ddl(db, table)]).await;
    let mut stmts = Vec::new();
    for i in 1..=7 {
        let at = if (2..=6).contains(&i) {
            "2024-01-01 00:00:02.500"
        } else if i == 1 {
            "2024-01-01 00:00:01.250"
        } else {
            "2024-01-01 00:00:03.125"
        };
        stmts.push(insert(db, table, i, at));
    }
    db.exec(&stmts.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    let offsets = Arc::new(Offsets::default());
    let settings = [
        ("mode", mode),
        ("incrementing.column.name", "id"),
        ("timestamp.column.name", "at"),
        ("batch.max.rows", "2"),
    ];
    let mut t = task(db, table, &offsets, &settings).await;
    let first = take(&mut t, 3).await;
    offsets.commit(&first);
    t.stop().await.expect("stop");
    let mut t = task(db, table, &offsets, &settings).await;
    let rest = take(&mut t, 7 - first.len()).await;
    let mut all = ids(&first);
    all.extend(ids(&rest));
    all.sort_unstable();
    assert_eq!(
        all,
        vec![1, 2, 3, 4, 5, 6, 7],
        "{mode}: first {:?} then {:?}",
        ids(&first),
        ids(&rest)
    );
    let last = rest
        .last()
        .and_then(|r| r.source_offset.clone())
        .expect("an offset");
    assert_eq!(
        last.get("timestamp"),
        Some(&serde_json::json!(1_704_067_203_125i64)),
        "{last:?}"
    );
    assert_eq!(
        last.get("timestamp_nanos"),
        Some(&serde_json::json!(125_000_000)),
        "{last:?}"
    );
    assert_eq!(
        field(&rest[rest.len() - 1], "at"),
        Value::Timestamp(1_704_067_203_125)
    );
    t.stop().await.expect("stop");
}

async fn bulk_and_query_modes(db: &Db) {
    filled(db, "src_bulk", 3).await;
    let offsets = Arc::new(Offsets::default());
    let mut t = task(db, "src_bulk", &offsets, &[("mode", "bulk")]).await;
    let got = take(&mut t, 3).await;
    assert_eq!(ids(&got), vec![1, 2, 3]);
    assert!(got[0].source_offset.is_none(), "bulk has no offset");
    t.stop().await.expect("stop");
    let query = format!(
        "SELECT id, name FROM {} WHERE id >= 2",
        db.q(&db.table("src_bulk"))
    );
    let mut props = db.props();
    for (k, v) in [
        ("topic.prefix", "queried"),
        ("mode", "incrementing"),
        ("incrementing.column.name", "id"),
        ("query", query.as_str()),
        ("poll.interval.ms", "10"),
    ] {
        props.insert(k.into(), v.into());
    }
    let mut q = JdbcSourceTask::default();
    q.start(
        &props,
        SourceTaskContext {
            configs: props.clone(),
            offsets: offsets.clone(),
        },
    )
    .await
    .expect("query source");
    let got = take(&mut q, 2).await;
    assert_eq!(ids(&got), vec![2, 3]);
    assert_eq!(&*got[0].topic, "queried");
    assert_eq!(
        serde_json::Value::Object((*got[0].source_partition).clone()),
        serde_json::json!({"query": "query"})
    );
    q.stop().await.expect("stop");
}

/// A bulk pass bigger than a batch: each poll returns `batch.max.rows`
/// rows at most, and every row comes once, however the reader hands them
/// over.
async fn bulk_pass_in_batches(db: &Db) {
    filled(db, "src_many", 700).await;
    let offsets = Arc::new(Offsets::default());
    let extra = [("mode", "bulk"), ("batch.max.rows", "300")];
    let mut t = task(db, "src_many", &offsets, &extra).await;
    let mut got = Vec::new();
    for _ in 0..100 {
        if got.len() >= 700 {
            break;
        }
        let batch = t.poll().await.expect("poll");
        assert!(batch.len() <= 300, "a poll returned {} rows", batch.len());
        got.extend(batch);
    }
    // In the table's order, which the inserts (over several connections)
    // do not set.
    let mut got = ids(&got);
    got.sort_unstable();
    assert_eq!(got, (1..=700).collect::<Vec<i64>>());
    t.stop().await.expect("stop");
}

/// numeric.mapping=best_fit and timestamp.granularity=micros_long: the
/// schemas and values Confluent's connector writes (its DECIMAL type, which
/// MariaDB reports for NUMERIC columns, stays a decimal).
async fn numeric_mapping_and_timestamp_granularity(db: &Db) {
    let table = db.table("src_map");
    let at = if db.dialect == "mysql" {
        "DATETIME(6)"
    } else {
        "TIMESTAMP(6)"
    };
    db.exec(&[
        &format!(
            "CREATE TABLE {} (id NUMERIC(9,0) NOT NULL PRIMARY KEY, price NUMERIC(12,2) NOT NULL, \
             big NUMERIC(30,2) NOT NULL, at {at} NOT NULL)",
            db.q(&table)
        ),
        &format!(
            "INSERT INTO {} VALUES (7, 12.34, 12345.67, '2024-01-15 12:34:56.789123')",
            db.q(&table)
        ),
    ])
    .await;
    let offsets = Arc::new(Offsets::default());
    let mut t = task(
        db,
        "src_map",
        &offsets,
        &[
            ("mode", "bulk"),
            ("numeric.mapping", "best_fit"),
            ("timestamp.granularity", "micros_long"),
        ],
    )
    .await;
    let got = take(&mut t, 1).await;
    t.stop().await.expect("stop");
    let r = got.first().expect("one row");
    let big = Value::Decimal(connect_api::Decimal::parse("12345.67").expect("decimal"));
    // SQLite keeps microseconds of a text timestamp as written.
    let micros = Value::Int64(1_705_322_096_789_123);
    if db.dialect == "mysql" {
        assert_eq!(
            field(r, "id"),
            Value::Decimal(connect_api::Decimal::new(7, 0))
        );
        assert_eq!(
            field(r, "price"),
            Value::Decimal(connect_api::Decimal::new(1234, 2))
        );
    } else {
        assert_eq!(field(r, "id"), Value::Int32(7));
        assert_eq!(field(r, "price"), Value::Float64(12.34));
    }
    assert_eq!(field(r, "big"), big);
    assert_eq!(field(r, "at"), micros);
    let schema = r.value.schema.as_ref().expect("a schema");
    let at_schema = schema.field_named("at").expect("at");
    assert_eq!(at_schema.schema.kind, connect_api::Type::Int64);
    assert_eq!(at_schema.schema.name, None);
}

/// db.timezone=Asia/Seoul: a column without a zone holds Seoul's wall-clock
/// times; values and offsets are the instants, and a row stamped with
/// Seoul's "now" is read at once (not nine hours later).
async fn db_timezone_reads_wall_clock_times(db: &Db) {
    let table = db.table("src_tz");
    let at = if db.dialect == "mysql" {
        "DATETIME(6)"
    } else {
        "TIMESTAMP(6)"
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(0))
        .expect("a clock after 1970");
    let recent = now - 10_000;
    let seoul = connector_jdbc::cell::timestamp_text(recent + 9 * 3_600_000);
    db.exec(&[
        &format!(
            "CREATE TABLE {} (id INTEGER NOT NULL PRIMARY KEY, at {at} NOT NULL)",
            db.q(&table)
        ),
        &format!(
            "INSERT INTO {} VALUES (1, '2024-01-15 21:34:56.789'), (2, '{seoul}')",
            db.q(&table)
        ),
    ])
    .await;
    let offsets = Arc::new(Offsets::default());
    let mut t = task(
        db,
        "src_tz",
        &offsets,
        &[
            ("mode", "timestamp"),
            ("timestamp.column.name", "at"),
            ("db.timezone", "Asia/Seoul"),
        ],
    )
    .await;
    let got = take(&mut t, 2).await;
    t.stop().await.expect("stop");
    assert_eq!(ids(&got), vec![1, 2], "Seoul's recent row is read at once");
    assert_eq!(field(&got[0], "at"), Value::Timestamp(1_705_322_096_789));
    assert_eq!(field(&got[1], "at"), Value::Timestamp(recent));
    let last = got[1].source_offset.clone().expect("an offset");
    assert_eq!(last.get("timestamp"), Some(&serde_json::json!(recent)));
}

/// incrementing mode without incrementing.column.name: the table's
/// auto-increment column (SERIAL, AUTO_INCREMENT, SQLite's rowid) is used;
/// a table without one is refused, naming the key.
async fn incrementing_column_found_by_itself(db: &Db) {
    let auto = db.table("src_auto");
    let id = match db.dialect {
        "postgres" => "id SERIAL PRIMARY KEY",
        "mysql" => "id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY",
        _ => "id INTEGER PRIMARY KEY",
    };
    db.exec(&[
        &format!("CREATE TABLE {} ({id}, name VARCHAR(20))", db.q(&auto)),
        &format!(
            "INSERT INTO {} (name) VALUES ('a'), ('b'), ('c')",
            db.q(&auto)
        ),
        &format!(
            "CREATE TABLE {} (id INTEGER NOT NULL, name VARCHAR(20))",
            db.q(&db.table("src_noauto"))
        ),
    ])
    .await;
    let offsets = Arc::new(Offsets::default());
    let mut t = task(db, "src_auto", &offsets, &[("mode", "incrementing")]).await;
    let got = take(&mut t, 3).await;
    t.stop().await.expect("stop");
    assert_eq!(ids(&got), vec![1, 2, 3]);
    assert_eq!(
        got[2].source_offset.clone().map(serde_json::Value::Object),
        Some(serde_json::json!({"incrementing": 3}))
    );
    let mut props = db.props();
    for (k, v) in [
        ("topic.prefix", "db-".to_string()),
        ("tables", qualified(db, &db.table("src_noauto"))),
        ("mode", "incrementing".to_string()),
    ] {
        props.insert(k.into(), v);
    }
    let ctx = SourceTaskContext {
        configs: props.clone(),
        offsets: offsets.clone(),
    };
    let err = JdbcSourceTask::default()
        .start(&props, ctx)
        .await
        .expect_err("no auto-increment column");
    assert!(
        err.to_string().contains("incrementing.column.name"),
        "{err}"
    );
}

async fn suite(db: Db) {
    db.reset().await;
    incrementing_column_found_by_itself(&db).await;
    db_timezone_reads_wall_clock_times(&db).await;
    numeric_mapping_and_timestamp_granularity(&db).await;
    incrementing_reads_new_rows_and_resumes(&db).await;
    timestamps_lose_no_row_sharing_a_time(&db, "timestamp+incrementing", "src_tsinc").await;
    timestamps_lose_no_row_sharing_a_time(&db, "timestamp", "src_ts").await;
    bulk_and_query_modes(&db).await;
    bulk_pass_in_batches(&db).await;
}

#[tokio::test]
async fn sqlite() {
    suite(db("sqlite").await).await;
}

#[tokio::test]
async fn postgres() {
    suite(db("postgres").await).await;
}

#[tokio::test]
async fn mariadb() {
    suite(db("mysql").await).await;
}
