//! What differs between databases: identifier quoting, column types for
//! Connect types, and the statements the sink writes with (insert, upsert,
//! update, delete), one place per dialect.

use connect_api::schema::logical;
use connect_api::{Schema, Type};

pub use crate::url::Dialect;

/// A column's kind as the sink writes it, from a Connect schema or from a
/// schemaless value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    Text,
    Bytes,
    /// Decimal with a scale.
    Decimal(i32),
    Date,
    Time,
    Timestamp,
    /// Maps, arrays and structs without a flattening transform.
    Json,
}

impl ColumnKind {
    /// The kind of a field schema.
    pub fn of(schema: &Schema) -> ColumnKind {
        match schema.name.as_deref() {
            Some(logical::DECIMAL) => {
                return ColumnKind::Decimal(schema.decimal_scale().unwrap_or(0))
            }
            Some(logical::DATE) => return ColumnKind::Date,
            Some(logical::TIME) => return ColumnKind::Time,
            Some(logical::TIMESTAMP) => return ColumnKind::Timestamp,
            _ => {}
        }
        match schema.kind {
            Type::Int8 => ColumnKind::Int8,
            Type::Int16 => ColumnKind::Int16,
            Type::Int32 => ColumnKind::Int32,
            Type::Int64 => ColumnKind::Int64,
            Type::Float32 => ColumnKind::Float32,
            Type::Float64 => ColumnKind::Float64,
            Type::Boolean => ColumnKind::Boolean,
            Type::String => ColumnKind::Text,
            Type::Bytes => ColumnKind::Bytes,
            Type::Array | Type::Map | Type::Struct => ColumnKind::Json,
        }
    }
}

impl Dialect {
    /// An identifier, quoted (`quote.sql.identifiers=always`) or as given.
    pub fn ident(self, name: &str, quote: bool) -> String {
        if !quote {
            return name.to_string();
        }
        match self {
            Dialect::MySql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A table name, `schema.table` when it has a dot (Confluent reads a
    /// dotted topic as schema and table).
    /// What every session runs first: UTC (the connectors hold instants),
    /// and for PostgreSQL no NOTICE lines (such as `CREATE ... IF NOT
    /// EXISTS` skipping a staging table) in the worker's log.
    pub fn session_sql(self) -> &'static str {
        match self {
            Dialect::Postgres => "SET TIME ZONE 'UTC'; SET client_min_messages = warning",
            Dialect::MySql => "SET time_zone = '+00:00'",
            Dialect::Sqlite => "",
        }
    }

    pub fn table(self, name: &str, quote: bool) -> String {
        name.split('.')
            .map(|p| self.ident(p, quote))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The column type `auto.create` and `auto.evolve` give a kind; `key`
    /// columns need a bounded type where the database cannot index text.
    pub fn sql_type(self, kind: ColumnKind, key: bool) -> String {
        use ColumnKind::*;
        match self {
            Dialect::Postgres => match kind {
                Int8 | Int16 => "SMALLINT".into(),
                Int32 => "INT".into(),
                Int64 => "BIGINT".into(),
                Float32 => "REAL".into(),
                Float64 => "DOUBLE PRECISION".into(),
                Boolean => "BOOLEAN".into(),
                Text => "TEXT".into(),
                Bytes => "BYTEA".into(),
                Decimal(_) => "DECIMAL".into(),
                Date => "DATE".into(),
                Time => "TIME".into(),
                Timestamp => "TIMESTAMP".into(),
                Json => "JSONB".into(),
            },
            Dialect::MySql => match kind {
                Int8 => "TINYINT".into(),
                Int16 => "SMALLINT".into(),
                Int32 => "INT".into(),
                Int64 => "BIGINT".into(),
                Float32 => "FLOAT".into(),
                Float64 => "DOUBLE".into(),
                Boolean => "TINYINT".into(),
                Text if key => "VARCHAR(256)".into(),
                Text => "TEXT".into(),
                Bytes if key => "VARBINARY(1024)".into(),
                Bytes => "BLOB".into(),
                Decimal(s) => format!("DECIMAL(65,{})", s.clamp(0, 30)),
                Date => "DATE".into(),
                Time => "TIME(3)".into(),
                Timestamp => "DATETIME(3)".into(),
                Json => "JSON".into(),
            },
            Dialect::Sqlite => match kind {
                Int8 | Int16 | Int32 | Int64 | Boolean => "INTEGER".into(),
                Float32 | Float64 => "REAL".into(),
                Text | Json => "TEXT".into(),
                Bytes => "BLOB".into(),
                Decimal(_) => "NUMERIC".into(),
                Date => "DATE".into(),
                Time => "TIME".into(),
                Timestamp => "TIMESTAMP".into(),
            },
        }
    }

    /// The placeholder of parameter `n` (from 1).
    pub fn param(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            _ => "?".into(),
        }
    }

    /// At most this many parameters in one statement.
    pub fn max_params(self) -> usize {
        match self {
            Dialect::Postgres | Dialect::MySql => 65_535,
            Dialect::Sqlite => 32_766,
        }
    }

    /// `ON CONFLICT` / `ON DUPLICATE KEY` clause of an upsert: key columns,
    /// then the columns it updates (quoted already).
    pub fn upsert_clause(self, keys: &[String], others: &[String]) -> String {
        match self {
            Dialect::MySql => {
                // A no-op update keeps the row when there is nothing else to set.
                let set: Vec<String> = if others.is_empty() {
                    keys.iter().map(|k| format!("{k}={k}")).collect()
                } else {
                    others.iter().map(|c| format!("{c}=VALUES({c})")).collect()
                };
                format!(" ON DUPLICATE KEY UPDATE {}", set.join(","))
            }
            Dialect::Postgres | Dialect::Sqlite => {
                let excluded = if self == Dialect::Postgres {
                    "EXCLUDED"
                } else {
                    "excluded"
                };
                if others.is_empty() {
                    format!(" ON CONFLICT ({}) DO NOTHING", keys.join(","))
                } else {
                    let set: Vec<String> = others
                        .iter()
                        .map(|c| format!("{c}={excluded}.{c}"))
                        .collect();
                    format!(
                        " ON CONFLICT ({}) DO UPDATE SET {}",
                        keys.join(","),
                        set.join(",")
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_writes_its_own_sql() {
        assert_eq!(Dialect::MySql.ident("a`b", true), "`a``b`");
        assert_eq!(
            Dialect::Postgres.table("app.users", true),
            "\"app\".\"users\""
        );
        assert_eq!(Dialect::Postgres.sql_type(ColumnKind::Json, false), "JSONB");
        assert_eq!(
            Dialect::MySql.sql_type(ColumnKind::Text, true),
            "VARCHAR(256)"
        );
        assert_eq!(
            Dialect::Postgres.upsert_clause(&["\"id\"".into()], &["\"n\"".into()]),
            " ON CONFLICT (\"id\") DO UPDATE SET \"n\"=EXCLUDED.\"n\""
        );
        assert_eq!(
            Dialect::MySql.upsert_clause(&["`id`".into()], &["`n`".into()]),
            " ON DUPLICATE KEY UPDATE `n`=VALUES(`n`)"
        );
        assert_eq!(
            Dialect::Sqlite.upsert_clause(&["\"id\"".into()], &[]),
            " ON CONFLICT (\"id\") DO NOTHING"
        );
        assert_eq!(ColumnKind::of(&Schema::decimal(2)), ColumnKind::Decimal(2));
    }
}
