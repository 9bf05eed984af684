//! The JDBC sink task against real databases: SQLite, and the PostgreSQL
//! and MariaDB servers whose URLs are in `WEIR_TEST_POSTGRES_URL` /
//! `WEIR_TEST_MYSQL_URL` (scripts/test.sh starts both and sets them; without
//! them those tests fail, saying so).

mod common;

use std::sync::Arc;

use common::{db, schemaless, sink_record, Ctx, Db};
use connect_api::{
    ConnectError, ConnectResult, Offsets, Schema, SchemaAndValue, SinkRecord, SinkTask, Struct,
    Value,
};
use connector_jdbc::JdbcSinkTask;

/// `put` and then `flush`, as the runtime does before committing: the rows
/// are in the database when it returns.
async fn write(task: &mut JdbcSinkTask, records: &[SinkRecord]) -> ConnectResult<()> {
    task.put(records).await?;
    task.flush(&Offsets::new()).await
}

async fn start(db: &Db, extra: &[(&str, &str)]) -> (JdbcSinkTask, Arc<Ctx>) {
    let mut props = db.props();
    for (k, v) in extra {
        props.insert(k.to_string(), v.to_string());
    }
    let ctx = Arc::new(Ctx::default());
    let mut task = JdbcSinkTask::default();
    task.start(&props, ctx.clone())
        .await
        .expect("the task starts");
    (task, ctx)
}

/// The tutorial's flow: `{"number": n}` without a schema into an
/// auto-created table.
async fn schemaless_json_fills_an_auto_created_table(db: &Db) {
    let t = db.table("numtest");
    let (mut task, _) = start(db, &[("auto.create", "true"), ("table.name.format", &t)]).await;
    let records: Vec<_> = (0..250)
        .map(|n| {
            sink_record(
                &t,
                n,
                SchemaAndValue::NULL,
                schemaless(&[("number", Value::Int64(n))]),
            )
        })
        .collect();
    write(&mut task, &records[..100]).await.expect("first put");
    write(&mut task, &records[100..]).await.expect("second put");
    let got = db
        .rows(&format!(
            "SELECT {} FROM {} ORDER BY {}",
            db.text("number"),
            db.q(&t),
            db.col(&t, "number")
        ))
        .await;
    let want: Vec<Vec<Option<String>>> = (0..250).map(|n| vec![Some(n.to_string())]).collect();
    assert_eq!(got, want);
    task.stop().await.expect("stops");
}

fn typed_schema() -> Arc<Schema> {
    Arc::new(
        Schema::structure()
            .named("row")
            .field("id", Schema::int64())
            .field("small", Schema::int16())
            .field("ratio", Schema::float64())
            .field("ok", Schema::boolean())
            .field("name", Schema::string())
            .field("raw", Schema::bytes())
            .field("amount", Schema::decimal(2))
            .field("day", Schema::date())
            .field("at", Schema::timestamp())
            .field("note", Schema::string().optional()),
    )
}

fn typed(s: &Arc<Schema>, id: i64, name: &str) -> SchemaAndValue {
    let v = Struct::new(s.clone())
        .with("id", Value::Int64(id))
        .and_then(|x| x.with("small", Value::Int16(-7)))
        .and_then(|x| x.with("ratio", Value::Float64(0.25)))
        .and_then(|x| x.with("ok", Value::Boolean(true)))
        .and_then(|x| x.with("name", Value::String(name.into())))
        .and_then(|x| x.with("raw", Value::Bytes(vec![0, 1, 254])))
        .and_then(|x| {
            x.with(
                "amount",
                Value::Decimal(connect_api::Decimal::new(-12345, 2)),
            )
        })
        .and_then(|x| x.with("day", Value::Date(19_737)))
        .and_then(|x| x.with("at", Value::Timestamp(1_705_322_096_789)))
        .expect("a valid struct");
    SchemaAndValue::new(Some(s.clone()), Value::Struct(v))
}

/// Every type of a struct survives the trip, and unicode and NULLs too.
async fn typed_structs_keep_every_value(db: &Db) {
    let t = db.table("typed");
    let (mut task, _) = start(db, &[("auto.create", "true"), ("table.name.format", &t)]).await;
    let s = typed_schema();
    write(
        &mut task,
        &[sink_record(
            &t,
            0,
            SchemaAndValue::NULL,
            typed(&s, 1, "naïve ☃"),
        )],
    )
    .await
    .expect("put");
    let cols = ["id", "small", "ok", "name", "amount", "day", "note"];
    let select: Vec<String> = cols.iter().map(|c| db.text(c)).collect();
    let got = db
        .rows(&format!("SELECT {} FROM {}", select.join(","), db.q(&t)))
        .await;
    let ok = if db.dialect == "postgres" {
        "true"
    } else {
        "1"
    };
    assert_eq!(
        got,
        vec![vec![
            Some("1".into()),
            Some("-7".into()),
            Some(ok.into()),
            Some("naïve ☃".into()),
            Some("-123.45".into()),
            Some("2024-01-15".into()),
            None
        ]]
    );
    let at = db
        .rows(&format!("SELECT {} FROM {}", db.text("at"), db.q(&t)))
        .await;
    let at = at[0][0].clone().expect("a timestamp");
    assert!(
        at.starts_with("2024-01-15") && at.contains("12:34:56.789"),
        "{at}"
    );
    let raw = db
        .rows(&format!("SELECT {} FROM {}", db.hex("raw"), db.q(&t)))
        .await;
    assert_eq!(
        raw[0][0].as_deref().map(str::to_ascii_lowercase).as_deref(),
        Some("0001fe")
    );
}

fn key(id: i64) -> SchemaAndValue {
    let s = Arc::new(Schema::structure().field("id", Schema::int64()));
    let v = Struct::new(s.clone())
        .with("id", Value::Int64(id))
        .expect("key");
    SchemaAndValue::new(Some(s), Value::Struct(v))
}

fn value(id: i64, n: &str) -> SchemaAndValue {
    let s = Arc::new(
        Schema::structure()
            .field("id", Schema::int64())
            .field("n", Schema::string()),
    );
    let v = Struct::new(s.clone())
        .with("id", Value::Int64(id))
        .and_then(|x| x.with("n", Value::String(n.into())))
        .expect("value");
    SchemaAndValue::new(Some(s), Value::Struct(v))
}

/// Upserts on the record key leave one row per key with the last value,
/// also when one batch holds a key twice; tombstones delete.
async fn upserts_and_deletes_by_record_key(db: &Db) {
    let t = db.table("upserted");
    let (mut task, _) = start(
        db,
        &[
            ("auto.create", "true"),
            ("table.name.format", &t),
            ("insert.mode", "upsert"),
            ("pk.mode", "record_key"),
            ("delete.enabled", "true"),
        ],
    )
    .await;
    let batch = vec![
        sink_record(&t, 0, key(1), value(1, "a")),
        sink_record(&t, 1, key(2), value(2, "b")),
        sink_record(&t, 2, key(1), value(1, "c")),
    ];
    write(&mut task, &batch).await.expect("upserts");
    write(
        &mut task,
        &[
            sink_record(&t, 3, key(2), value(2, "d")),
            sink_record(&t, 4, key(3), value(3, "e")),
            sink_record(&t, 5, key(3), SchemaAndValue::NULL),
            sink_record(&t, 6, key(4), value(4, "f")),
        ],
    )
    .await
    .expect("upsert, delete, insert");
    let got = db
        .rows(&format!(
            "SELECT {}, {} FROM {} ORDER BY {}",
            db.text("id"),
            db.text("n"),
            db.q(&t),
            db.col(&t, "id")
        ))
        .await;
    let want: Vec<Vec<Option<String>>> = [("1", "c"), ("2", "d"), ("4", "f")]
        .iter()
        .map(|(a, b)| vec![Some(a.to_string()), Some(b.to_string())])
        .collect();
    assert_eq!(got, want);
}

/// `insert.mode=update` changes existing rows only; `auto.evolve` adds a
/// column a later record brings.
async fn updates_and_evolution(db: &Db) {
    let t = db.table("evolving");
    let (mut task, _) = start(
        db,
        &[
            ("auto.create", "true"),
            ("auto.evolve", "true"),
            ("table.name.format", &t),
            ("pk.mode", "record_value"),
            ("pk.fields", "id"),
        ],
    )
    .await;
    write(
        &mut task,
        &[sink_record(&t, 0, SchemaAndValue::NULL, value(1, "a"))],
    )
    .await
    .expect("insert");
    let wider = schemaless(&[
        ("id", Value::Int64(2)),
        ("n", Value::String("b".into())),
        ("extra", Value::Float64(1.5)),
    ]);
    write(
        &mut task,
        &[sink_record(&t, 1, SchemaAndValue::NULL, wider)],
    )
    .await
    .expect("evolves");
    let got = db
        .rows(&format!(
            "SELECT {} FROM {} ORDER BY {}",
            db.text("extra"),
            db.q(&t),
            db.col(&t, "id")
        ))
        .await;
    assert_eq!(got, vec![vec![None], vec![Some("1.5".into())]]);
    let (mut upd, _) = start(
        db,
        &[
            ("table.name.format", &t),
            ("insert.mode", "update"),
            ("pk.mode", "record_value"),
            ("pk.fields", "id"),
        ],
    )
    .await;
    write(
        &mut upd,
        &[
            sink_record(&t, 2, SchemaAndValue::NULL, value(1, "changed")),
            sink_record(&t, 3, SchemaAndValue::NULL, value(9, "absent")),
        ],
    )
    .await
    .expect("updates");
    let got = db
        .rows(&format!(
            "SELECT {}, {} FROM {} ORDER BY {}",
            db.text("id"),
            db.text("n"),
            db.q(&t),
            db.col(&t, "id")
        ))
        .await;
    assert_eq!(
        got,
        vec![
            vec![Some("1".into()), Some("changed".into())],
            vec![Some("2".into()), Some("b".into())]
        ]
    );
}

/// A row the database refuses fails the task naming the record, or with a
/// reporter goes to it while the others are written.
async fn refused_rows_are_named_or_reported(db: &Db) {
    let t = db.table("strict");
    let (mut task, _) = start(
        db,
        &[
            ("auto.create", "true"),
            ("table.name.format", &t),
            ("pk.mode", "record_value"),
            ("pk.fields", "id"),
        ],
    )
    .await;
    write(
        &mut task,
        &[sink_record(&t, 0, SchemaAndValue::NULL, value(1, "a"))],
    )
    .await
    .expect("first");
    let err = write(
        &mut task,
        &[
            sink_record(&t, 1, SchemaAndValue::NULL, value(2, "b")),
            sink_record(&t, 2, SchemaAndValue::NULL, value(1, "dup")),
        ],
    )
    .await
    .expect_err("a duplicate key is refused");
    assert!(matches!(err, ConnectError::Fatal(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("topic {t} partition 0 offset 2")),
        "{err}"
    );
    let (mut task, ctx) = start(
        db,
        &[
            ("table.name.format", &t),
            ("pk.mode", "record_value"),
            ("pk.fields", "id"),
        ],
    )
    .await;
    ctx.enable_reporter();
    write(
        &mut task,
        &[
            sink_record(&t, 3, SchemaAndValue::NULL, value(3, "c")),
            sink_record(&t, 4, SchemaAndValue::NULL, value(1, "dup")),
            sink_record(&t, 5, SchemaAndValue::NULL, value(4, "d")),
        ],
    )
    .await
    .expect("reported, not failed");
    assert_eq!(ctx.reported(), vec![4]);
    let got = db
        .rows(&format!(
            "SELECT {} FROM {} ORDER BY {}",
            db.text("id"),
            db.q(&t),
            db.col(&t, "id")
        ))
        .await;
    let ids: Vec<String> = got.into_iter().filter_map(|r| r[0].clone()).collect();
    // The batch that failed the first task wrote nothing (not even id 2);
    // with a reporter the refused record is reported and the others written.
    assert_eq!(ids, vec!["1", "3", "4"]);
    let (mut none, _) = start(db, &[("table.name.format", &db.table("nowhere"))]).await;
    let err = write(
        &mut none,
        &[sink_record(&t, 0, SchemaAndValue::NULL, value(1, "a"))],
    )
    .await
    .expect_err("no table");
    assert!(err.to_string().contains("auto.create=true"), "{err}");
}

/// db.timezone=Asia/Seoul: a timestamp goes into a column without a zone
/// as Seoul's wall-clock time (through COPY and through statements), and
/// into a column with one as the same instant.
async fn db_timezone_writes_wall_clock_times(db: &Db) {
    let t = db.table("tz");
    let (wall, zoned) = match db.dialect {
        "postgres" => ("TIMESTAMP(3)", "TIMESTAMPTZ(3)"),
        "mysql" => ("DATETIME(3)", "TIMESTAMP(3) NULL"),
        _ => ("TEXT", "TEXT"),
    };
    db.exec(&[&format!(
        "CREATE TABLE {} (id BIGINT NOT NULL PRIMARY KEY, at {wall}, atz {zoned})",
        db.q(&t)
    )])
    .await;
    let schema = Arc::new(
        Schema::structure()
            .named("tz")
            .field("id", Schema::int64())
            .field("at", Schema::timestamp())
            .field("atz", Schema::timestamp()),
    );
    let row = |id: i64| {
        let v = Struct::new(schema.clone())
            .with("id", Value::Int64(id))
            .and_then(|x| x.with("at", Value::Timestamp(1_705_322_096_789)))
            .and_then(|x| x.with("atz", Value::Timestamp(1_705_322_096_789)))
            .expect("valid struct");
        sink_record(
            &t,
            id,
            SchemaAndValue::NULL,
            SchemaAndValue::new(Some(schema.clone()), Value::Struct(v)),
        )
    };
    for (mode, id) in [("insert", 1), ("upsert", 2)] {
        let (mut task, _) = start(
            db,
            &[
                ("table.name.format", &t),
                ("insert.mode", mode),
                ("pk.mode", "record_value"),
                ("pk.fields", "id"),
                ("db.timezone", "Asia/Seoul"),
            ],
        )
        .await;
        write(&mut task, &[row(id)]).await.expect(mode);
        task.stop().await.expect("stops");
    }
    let (at, atz) = match db.dialect {
        "postgres" => (
            "to_char(at, 'YYYY-MM-DD HH24:MI:SS.MS')".to_string(),
            "(extract(epoch from atz) * 1000)::bigint::text".to_string(),
        ),
        "mysql" => (
            "CAST(at AS CHAR)".to_string(),
            "CAST(ROUND(UNIX_TIMESTAMP(atz) * 1000) AS CHAR)".to_string(),
        ),
        _ => (db.text("at"), db.text("atz")),
    };
    let got = db
        .rows(&format!(
            "SELECT {at}, {atz} FROM {} ORDER BY {}",
            db.q(&t),
            db.col(&t, "id")
        ))
        .await;
    let zoned_want = if db.dialect == "sqlite" {
        "2024-01-15 21:34:56.789"
    } else {
        "1705322096789"
    };
    let want = vec![
        Some("2024-01-15 21:34:56.789".to_string()),
        Some(zoned_want.to_string()),
    ];
    assert_eq!(got, vec![want.clone(), want]);
}

/// A database that cannot be reached: the writer retries, the task says
/// why, and when the worker stops the task the retrying ends at once with
/// nothing committed.
async fn retrying_says_why_and_ends_when_stopping(db: &Db) {
    if db.dialect == "sqlite" {
        return; // a file is always there
    }
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        l.local_addr().expect("its address").port()
    };
    let url = if db.dialect == "postgres" {
        format!("jdbc:postgresql://127.0.0.1:{closed}/nowhere")
    } else {
        format!("jdbc:mysql://127.0.0.1:{closed}/nowhere")
    };
    let (mut task, ctx) = start(
        db,
        &[
            ("connection.url", url.as_str()),
            ("connection.attempts", "1"),
            ("max.retries", "1000"),
            ("retry.backoff.ms", "100"),
            ("table.name.format", "nowhere"),
        ],
    )
    .await;
    let r = sink_record("t", 0, SchemaAndValue::NULL, value(1, "a"));
    task.put(&[r]).await.expect("handed to the writer");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while ctx.trouble_now().is_none() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let why = ctx.trouble_now().expect("the task says why it retries");
    assert!(why.contains("max.retries=1000"), "{why}");
    ctx.stop();
    let started = std::time::Instant::now();
    let err = task
        .flush(&Offsets::new())
        .await
        .expect_err("nothing was written");
    assert!(err.to_string().contains("the task is stopping"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "stopping took {:?}",
        started.elapsed()
    );
    task.stop().await.expect("stops");
}

/// PostgreSQL: inserts go through COPY in the binary format when every
/// cell allows it. Each typed column then holds what PostgreSQL itself
/// makes of the text beside it, for values at the edges of what is
/// encoded (offsets, fractions, exponents, rounding to the column's scale);
/// a batch with a value left to PostgreSQL's parser (`epoch`) goes as
/// CSV and is read the same way.
async fn copied_values_are_what_postgresql_reads_from_text(db: &Db) {
    if db.dialect != "postgres" {
        return;
    }
    let t = db.table("parsed");
    db.exec(&[&format!(
        "CREATE TABLE {} (k BIGINT, ts TIMESTAMPTZ, ts_s TEXT, tw TIMESTAMP(3), tw_s TEXT, \
         n NUMERIC(12,2), n_s TEXT, u NUMERIC, u_s TEXT, d DATE, d_s TEXT, id UUID, id_s TEXT, \
         j JSONB, j_s TEXT, f FLOAT8, f_s TEXT, i INTEGER, v VARCHAR(8))",
        db.q(&t)
    )])
    .await;
    let (mut task, _) = start(db, &[("table.name.format", &t)]).await;
    let ts = [
        "2026-01-05 10:11:12.345+00",
        "2026-01-05T10:11:12Z",
        "1999-12-31 23:59:59.999999-05:30",
        "2024-02-29 00:00+0900",
        "0001-01-01 00:00:00",
        "2026-06-30 12:00:00.5",
    ];
    let floats = [12.345, -0.0, 1e-7, 123_456.789, 0.005, 99.995];
    let wide = [1e21, 5e-324, 0.1, 2.5e-5, 1e15];
    let row = |k: usize, late: Option<&str>| {
        let s = |x: &str| Value::String(x.to_string());
        let f = floats[k % floats.len()];
        let w = wide[k % wide.len()];
        let ts = late.unwrap_or(ts[k % ts.len()]);
        let day = format!("20{:02}-{:02}-{:02}", k % 100, 1 + k % 12, 1 + k % 28);
        let id = format!("{:08x}-abcd-4EF0-8123-{:012x}", k * 7919, k);
        let json = format!("{{\"k\": {k}, \"a\": [1, 2.50, \"x\"]}}");
        let f_s = format!("{f:?}");
        schemaless(&[
            ("k", Value::Int64(k as i64)),
            ("ts", s(ts)),
            ("ts_s", s(ts)),
            ("tw", s(ts)),
            ("tw_s", s(ts)),
            ("n", Value::Float64(f)),
            ("n_s", s(&f_s)),
            ("u", Value::Float64(-w)),
            ("u_s", s(&format!("{:?}", -w))),
            ("d", s(&day)),
            ("d_s", s(&day)),
            ("id", s(&id)),
            ("id_s", s(&id)),
            ("j", s(&json)),
            ("j_s", s(&json)),
            ("f", Value::Float64(w)),
            ("f_s", s(&format!("{w:?}"))),
            ("i", Value::Int64(k as i64 - 20)),
            ("v", Value::Int64(k as i64 * 1001)),
        ])
    };
    let binary: Vec<_> = (0..40)
        .map(|k| sink_record(&t, k as i64, SchemaAndValue::NULL, row(k, None)))
        .collect();
    write(&mut task, &binary).await.expect("binary rows");
    // `epoch` is left to PostgreSQL: this batch goes as CSV.
    let csv: Vec<_> = (40..45)
        .map(|k| {
            sink_record(
                &t,
                k as i64,
                SchemaAndValue::NULL,
                row(k, (k == 44).then_some("epoch")),
            )
        })
        .collect();
    write(&mut task, &csv).await.expect("csv rows");
    task.stop().await.expect("stops");
    let differ = db
        .rows(&format!(
            "SELECT k::text FROM {} WHERE ts IS DISTINCT FROM ts_s::timestamptz \
             OR tw IS DISTINCT FROM tw_s::timestamp(3) OR n IS DISTINCT FROM n_s::numeric(12,2) \
             OR u::text IS DISTINCT FROM u_s::numeric::text OR d IS DISTINCT FROM d_s::date \
             OR id IS DISTINCT FROM id_s::uuid OR j IS DISTINCT FROM j_s::jsonb \
             OR f IS DISTINCT FROM f_s::float8 OR i <> k - 20 OR v <> (k * 1001)::text ORDER BY k",
            db.q(&t)
        ))
        .await;
    assert_eq!(differ, Vec::<Vec<Option<String>>>::new());
    let count = db
        .rows(&format!("SELECT count(*)::text FROM {}", db.q(&t)))
        .await;
    assert_eq!(count, vec![vec![Some("45".to_string())]]);
}

async fn suite(db: Db) {
    db.reset().await;
    retrying_says_why_and_ends_when_stopping(&db).await;
    db_timezone_writes_wall_clock_times(&db).await;
    schemaless_json_fills_an_auto_created_table(&db).await;
    typed_structs_keep_every_value(&db).await;
    copied_values_are_what_postgresql_reads_from_text(&db).await;
    upserts_and_deletes_by_record_key(&db).await;
    updates_and_evolution(&db).await;
    refused_rows_are_named_or_reported(&db).await;
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
