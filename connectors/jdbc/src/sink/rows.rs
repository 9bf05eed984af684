//! A sink record as a table row: its table, key columns and value columns,
//! from a Connect struct (its schema gives the column types) or from a
//! schemaless map (the values give them), per `pk.mode`, `pk.fields` and
//! `fields.whitelist`.

use std::sync::Arc;

use connect_api::{ConnectError, ConnectResult, SchemaAndValue, SinkRecord, Value};

use crate::cell::Cell;
use crate::config::{PkMode, SinkConfig};
use crate::dialect::ColumnKind;

/// One column of a row: its name, kind (when a value or a schema tells)
/// and whether it may be null.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: Arc<str>,
    pub kind: Option<ColumnKind>,
    pub optional: bool,
    pub cell: Cell,
}

/// The column names of the last row, given again to the next rows of the
/// same shape rather than a new string per field and row.
#[derive(Default)]
pub struct Names {
    key: Vec<Arc<str>>,
    value: Vec<Arc<str>>,
}

/// The name of column `i` of a row: the last row's when it is the same.
fn name(seen: &mut Vec<Arc<str>>, i: usize, name: &str) -> Arc<str> {
    if let Some(n) = seen.get(i) {
        if **n == *name {
            return n.clone();
        }
    }
    let n: Arc<str> = Arc::from(name);
    if i < seen.len() {
        seen[i] = n.clone();
    } else {
        seen.push(n.clone());
    }
    n
}

/// What one record asks of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub table: Arc<str>,
    pub key: Vec<Column>,
    pub values: Vec<Column>,
    /// A tombstone with `delete.enabled`: delete the row with this key.
    pub delete: bool,
}

/// `topic t partition p offset o`, how errors name a record.
pub fn coordinates(r: &SinkRecord) -> String {
    format!(
        "topic {} partition {} offset {}",
        r.original_topic, r.original_partition, r.original_offset
    )
}

fn kind_of_value(v: &Value) -> Option<ColumnKind> {
    Some(match v {
        Value::Null => return None,
        Value::Boolean(_) => ColumnKind::Boolean,
        Value::Int8(_) | Value::Int16(_) | Value::Int32(_) | Value::Int64(_) => ColumnKind::Int64,
        Value::Float32(_) | Value::Float64(_) => ColumnKind::Float64,
        Value::String(_) => ColumnKind::Text,
        Value::Bytes(_) => ColumnKind::Bytes,
        Value::Decimal(d) => ColumnKind::Decimal(d.scale),
        Value::Date(_) => ColumnKind::Date,
        Value::Time(_) => ColumnKind::Time,
        Value::Timestamp(_) => ColumnKind::Timestamp,
        Value::Array(_) | Value::Map(_) | Value::Struct(_) => ColumnKind::Json,
    })
}

/// The fields of a struct or map, as columns; `None` for anything else.
fn fields(sv: &SchemaAndValue, seen: &mut Vec<Arc<str>>) -> Option<Vec<Column>> {
    match &sv.value {
        Value::Struct(s) => Some(
            s.schema
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| Column {
                    name: name(seen, i, &f.name),
                    kind: Some(ColumnKind::of(&f.schema)),
                    optional: f.schema.optional,
                    cell: Cell::of(s.get(&f.name).unwrap_or(&Value::Null)),
                })
                .collect(),
        ),
        Value::Map(m) => Some(
            m.iter()
                .enumerate()
                .map(|(i, (k, v))| Column {
                    name: match k {
                        Value::String(k) => name(seen, i, k),
                        k => name(seen, i, &connect_api::text::value_text(k)),
                    },
                    kind: kind_of_value(v),
                    optional: true,
                    cell: Cell::of(v),
                })
                .collect(),
        ),
        _ => None,
    }
}

fn describe(sv: &SchemaAndValue) -> String {
    match (&sv.schema, &sv.value) {
        (_, Value::Null) => "null value".into(),
        (Some(s), v) => format!(
            "{} value with a {} schema",
            kind_name(v),
            s.kind.upper_name()
        ),
        (None, v) => format!("schemaless {} value", kind_name(v)),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v.inferred_type() {
        Some(t) => t.json_name(),
        None => "null",
    }
}

/// The columns of `names` among `cols` (all of them when `names` is empty),
/// in the order of `names`; a missing one is an error naming it.
fn pick(
    cols: Vec<Column>,
    names: &[String],
    r: &SinkRecord,
    what: &str,
) -> ConnectResult<Vec<Column>> {
    if names.is_empty() {
        return Ok(cols);
    }
    names
        .iter()
        .map(|n| {
            cols.iter()
                .find(|c| *c.name == **n)
                .cloned()
                .ok_or_else(|| {
                    ConnectError::data(format!(
                        "pk.fields names {n}, which the record's {what} lacks ({})",
                        coordinates(r)
                    ))
                })
        })
        .collect()
}

/// The table of a topic, per `table.name.format`.
pub fn table_of(topic: &str, cfg: &SinkConfig) -> Arc<str> {
    Arc::from(cfg.table_format.replace("${topic}", topic))
}

/// The row a record asks for in `table`, or `None` for a tombstone without
/// `delete.enabled` (skipped, as Confluent's sink does). `names` carries
/// the column names from one row to the next.
pub fn row(
    r: &SinkRecord,
    cfg: &SinkConfig,
    table: Arc<str>,
    names: &mut Names,
) -> ConnectResult<Option<Row>> {
    let tombstone = r.value.value.is_null();
    if tombstone && !cfg.delete_enabled {
        return Ok(None);
    }
    let key = match cfg.pk_mode {
        PkMode::None => Vec::new(),
        PkMode::Kafka => {
            let fields = match cfg.pk_fields.as_slice() {
                [t, p, o] => [t.as_str(), p.as_str(), o.as_str()],
                _ => ["__connect_topic", "__connect_partition", "__connect_offset"],
            };
            let seen = &mut names.key;
            vec![
                Column {
                    name: name(seen, 0, fields[0]),
                    kind: Some(ColumnKind::Text),
                    optional: false,
                    cell: Cell::Text(r.topic.clone()),
                },
                Column {
                    name: name(seen, 1, fields[1]),
                    kind: Some(ColumnKind::Int32),
                    optional: false,
                    cell: Cell::Int(i64::from(r.partition)),
                },
                Column {
                    name: name(seen, 2, fields[2]),
                    kind: Some(ColumnKind::Int64),
                    optional: false,
                    cell: Cell::Int(r.offset),
                },
            ]
        }
        PkMode::RecordKey => match fields(&r.key, &mut names.key) {
            Some(cols) => pick(cols, &cfg.pk_fields, r, "key")?,
            None if r.key.value.is_null() => {
                return Err(ConnectError::data(format!(
                    "pk.mode record_key needs a record key, but the record at {} has none",
                    coordinates(r)
                )))
            }
            None => {
                let [name] = cfg.pk_fields.as_slice() else {
                    return Err(ConnectError::fatal(format!(
                        "Need exactly one PK column defined since the key schema for records is a primitive type, defined columns are: [{}] (set pk.fields to the column name)",
                        cfg.pk_fields.join(", ")
                    )));
                };
                vec![Column {
                    name: self::name(&mut names.key, 0, name),
                    kind: r
                        .key
                        .schema
                        .as_deref()
                        .map(ColumnKind::of)
                        .or_else(|| kind_of_value(&r.key.value)),
                    optional: false,
                    cell: Cell::of(&r.key.value),
                }]
            }
        },
        PkMode::RecordValue => match fields(&r.value, &mut names.value) {
            Some(cols) => pick(cols, &cfg.pk_fields, r, "value")?,
            None => {
                return Err(ConnectError::data(format!(
                "pk.mode record_value needs a struct or map value, but the record at {} has a {}",
                coordinates(r),
                describe(&r.value)
            )))
            }
        },
    };
    if tombstone {
        return Ok(Some(Row {
            table,
            key,
            values: Vec::new(),
            delete: true,
        }));
    }
    let Some(mut values) = fields(&r.value, &mut names.value) else {
        return Err(ConnectError::data(format!(
            "the sink writes records whose value is a struct (with a schema) or a map (JSON without one), but the record at {} has a {}",
            coordinates(r),
            describe(&r.value)
        )));
    };
    if !cfg.fields_whitelist.is_empty() {
        values.retain(|c| cfg.fields_whitelist.iter().any(|f| **f == *c.name));
    }
    values.retain(|c| !key.iter().any(|k| k.name == c.name));
    Ok(Some(Row {
        table,
        key,
        values,
        delete: false,
    }))
}
