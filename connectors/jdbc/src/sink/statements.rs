//! The SQL the sink writes: `CREATE TABLE` and `ALTER TABLE ... ADD` from
//! rows, and for a run of rows the inserts (many rows per statement),
//! upserts, updates and deletes, in record order.

use std::borrow::Cow;

use crate::cell::Cell;
use crate::config::{InsertMode, SinkConfig};
use crate::db::{CopyData, CopyRows, Stmt};
use crate::dialect::{ColumnKind, Dialect};
use crate::zone::{wall_clock, Zone};

use super::binary::{self, Kind};
use super::rows::{Column, Row};

/// A table's columns as the database describes them (name, type).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    columns: Vec<(String, String)>,
}

impl Table {
    pub fn new(columns: Vec<(String, String)>) -> Self {
        Self { columns }
    }

    fn find(&self, name: &str) -> Option<&(String, String)> {
        self.columns.iter().find(|(c, _)| c == name).or_else(|| {
            self.columns
                .iter()
                .find(|(c, _)| c.eq_ignore_ascii_case(name))
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The database's type of a column (PostgreSQL casts each parameter to it).
    fn type_of(&self, name: &str) -> &str {
        self.find(name).map_or("text", |(_, t)| t.as_str())
    }
}

fn column_def(d: Dialect, quote: bool, c: &Column, key: bool) -> String {
    let ty = d.sql_type(c.kind.unwrap_or(ColumnKind::Text), key);
    let null = if key || !c.optional {
        " NOT NULL"
    } else {
        " NULL"
    };
    format!("{} {ty}{null}", d.ident(&c.name, quote))
}

/// `CREATE TABLE` for a row's table: key columns first, then the values.
pub fn create(d: Dialect, quote: bool, row: &Row) -> String {
    let mut cols: Vec<String> = row
        .key
        .iter()
        .map(|c| column_def(d, quote, c, true))
        .collect();
    cols.extend(row.values.iter().map(|c| column_def(d, quote, c, false)));
    if !row.key.is_empty() {
        let keys: Vec<String> = row.key.iter().map(|c| d.ident(&c.name, quote)).collect();
        cols.push(format!("PRIMARY KEY({})", keys.join(",")));
    }
    format!(
        "CREATE TABLE {} (\n{})",
        d.table(&row.table, quote),
        cols.join(",\n")
    )
}

/// `ALTER TABLE ... ADD` of a missing column, always nullable.
pub fn add_column(d: Dialect, quote: bool, table: &str, c: &Column) -> String {
    let ty = d.sql_type(c.kind.unwrap_or(ColumnKind::Text), false);
    format!(
        "ALTER TABLE {} ADD {} {ty} NULL",
        d.table(table, quote),
        d.ident(&c.name, quote)
    )
}

/// A cell as written into `column`: a timestamp bound for a column that
/// keeps wall-clock times becomes its wall-clock time in `db.timezone`.
fn localized<'c>(
    d: Dialect,
    zone: &Zone,
    table: &Table,
    column: &str,
    cell: &'c Cell,
) -> Cow<'c, Cell> {
    match cell {
        Cell::Timestamp(ms) if !zone.is_utc() && wall_clock(d, table.type_of(column)) => {
            Cow::Owned(Cell::Timestamp(zone.to_wall(*ms, 0).0))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// Placeholders and parameters of a statement being built.
struct Params<'a> {
    d: Dialect,
    table: &'a Table,
    zone: &'a Zone,
    params: Vec<Cell>,
}

impl Params<'_> {
    /// The next placeholder, holding `cell` for `column`. PostgreSQL gets
    /// the text of each value cast to the column's type.
    fn push(&mut self, column: &str, cell: &Cell) -> String {
        self.params
            .push(localized(self.d, self.zone, self.table, column, cell).into_owned());
        let p = self.d.param(self.params.len());
        match self.d {
            Dialect::Postgres => format!("CAST({p} AS {})", self.table.type_of(column)),
            _ => p,
        }
    }
}

fn same_shape(a: &Row, b: &Row) -> bool {
    a.table == b.table
        && a.delete == b.delete
        && a.key.len() == b.key.len()
        && a.values.len() == b.values.len()
        && a.key.iter().zip(&b.key).all(|(x, y)| x.name == y.name)
        && a.values
            .iter()
            .zip(&b.values)
            .all(|(x, y)| x.name == y.name)
}

/// The statements that write `rows` in their order: runs of rows of one
/// table and shape share multi-row inserts or upserts (at most
/// `batch.size` rows, and within the dialect's parameter limit).
pub fn plan<'a>(
    d: Dialect,
    cfg: &'a SinkConfig,
    rows: &'a [(usize, &'a Row, std::sync::Arc<Table>)],
) -> Vec<Stmt<'a>> {
    let quote = cfg.connection.quote;
    let zone = &cfg.connection.zone;
    // Staging tables already loaded in this transaction.
    let mut staged = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let (_, first, table) = &rows[i];
        let mut j = i + 1;
        while j < rows.len() && same_shape(first, rows[j].1) {
            j += 1;
        }
        let run: Vec<&Row> = rows[i..j].iter().map(|(_, r, _)| *r).collect();
        if first.delete {
            out.extend(run.iter().map(|r| delete(d, quote, zone, table, r)));
        } else {
            match cfg.insert_mode {
                InsertMode::Update => {
                    out.extend(run.iter().filter_map(|r| update(d, quote, zone, table, r)))
                }
                // PostgreSQL loads plain inserts fastest with COPY.
                InsertMode::Insert if d == Dialect::Postgres => {
                    let into = d.table(&first.table, quote);
                    out.push(copy(d, quote, zone, table, &run, &into))
                }
                // PostgreSQL upserts a run through a staging table loaded
                // with COPY: one INSERT ... SELECT ... ON CONFLICT.
                InsertMode::Upsert if d == Dialect::Postgres && !first.key.is_empty() => {
                    let rows = dedup_keys(run, true);
                    out.extend(staged_upsert(d, quote, zone, table, &rows, &mut staged));
                }
                mode => {
                    let width = (first.key.len() + first.values.len()).max(1);
                    let per = cfg.batch_size.min(d.max_params() / width).max(1);
                    let upsert = mode == InsertMode::Upsert;
                    for chunk in dedup_keys(run, upsert).chunks(per) {
                        out.push(insert(d, quote, zone, table, chunk, upsert));
                    }
                }
            }
        }
        i = j;
    }
    out
}

/// For upserts, the last row of each key only: a database may refuse to
/// update one row twice in one statement, and the last record wins anyway.
fn dedup_keys(run: Vec<&Row>, upsert: bool) -> Vec<&Row> {
    if !upsert {
        return run;
    }
    let mut at: std::collections::HashMap<Vec<Option<String>>, usize> = Default::default();
    let mut out: Vec<&Row> = Vec::with_capacity(run.len());
    for r in run {
        let key: Vec<Option<String>> = r.key.iter().map(|c| c.cell.text()).collect();
        match at.get(&key) {
            Some(&i) => out[i] = r,
            None => {
                at.insert(key, out.len());
                out.push(r);
            }
        }
    }
    out
}

/// The quoted key and value column names of a row.
fn idents(d: Dialect, quote: bool, row: &Row) -> (Vec<String>, Vec<String>) {
    let q = |cols: &[Column]| cols.iter().map(|c| d.ident(&c.name, quote)).collect();
    (q(&row.key), q(&row.values))
}

fn insert(
    d: Dialect,
    quote: bool,
    zone: &Zone,
    table: &Table,
    rows: &[&Row],
    upsert: bool,
) -> Stmt<'static> {
    let first = rows[0];
    let (keys, others) = idents(d, quote, first);
    let mut p = Params {
        d,
        table,
        zone,
        params: Vec::new(),
    };
    let tuples: Vec<String> = rows
        .iter()
        .map(|r| {
            let cells: Vec<String> = r
                .key
                .iter()
                .chain(&r.values)
                .map(|c| p.push(&c.name, &c.cell))
                .collect();
            format!("({})", cells.join(","))
        })
        .collect();
    let names: Vec<String> = keys.iter().chain(&others).cloned().collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        d.table(&first.table, quote),
        names.join(","),
        tuples.join(",")
    );
    if upsert {
        sql.push_str(&d.upsert_clause(&keys, &others));
    }
    Stmt {
        sql,
        params: p.params,
        copy: None,
    }
}

/// A CSV field: NULL is empty, numbers as they are, anything else quoted.
fn csv_field(out: &mut Vec<u8>, cell: &Cell) {
    use std::io::Write as _;
    match cell {
        Cell::Null => return,
        Cell::Int(n) => {
            out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes());
            return;
        }
        Cell::Float(f) if f.is_finite() => {
            let _ = write!(out, "{f:?}");
            return;
        }
        Cell::Text(t)
            if !t.bytes().any(|b| matches!(b, b'"' | b',' | b'\n' | b'\r')) && !t.is_empty() =>
        {
            out.extend_from_slice(t.as_bytes());
            return;
        }
        _ => {}
    }
    if let Some(t) = cell.text() {
        out.push(b'"');
        for b in t.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    }
}

/// An upsert of a run of rows of one shape through a temporary staging
/// table of the same columns (made once per connection, emptied at each
/// commit, and before a second load in one transaction): COPY into it,
/// then one `INSERT ... SELECT ... ON CONFLICT`.
fn staged_upsert<'a>(
    d: Dialect,
    quote: bool,
    zone: &'a Zone,
    table: &'a Table,
    rows: &[&'a Row],
    staged: &mut std::collections::HashSet<String>,
) -> Vec<Stmt<'a>> {
    use std::hash::{Hash, Hasher};
    let first = rows[0];
    let (keys, others) = idents(d, quote, first);
    let names = keys
        .iter()
        .chain(&others)
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    let target = d.table(&first.table, quote);
    // One staging table per target, column list and column types.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&first.table, &names).hash(&mut h);
    for c in first.key.iter().chain(&first.values) {
        table.type_of(&c.name).hash(&mut h);
    }
    let stage = format!("weir_stage_{:016x}", h.finish());
    let plain = |sql: String| Stmt {
        sql,
        params: Vec::new(),
        copy: None,
    };
    let load = copy(d, quote, zone, table, rows, &stage);
    let prepare = if staged.insert(stage.clone()) {
        format!(
            "CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS SELECT {names} FROM {target} WITH NO DATA"
        )
    } else {
        format!("DELETE FROM {stage}")
    };
    vec![
        plain(prepare),
        load,
        plain(format!(
            "INSERT INTO {target} ({names}) SELECT {names} FROM {stage}{}",
            d.upsert_clause(&keys, &others)
        )),
    ]
}

/// The rows of a `COPY ... FROM STDIN WITH (FORMAT csv)`.
struct CsvRows<'a> {
    d: Dialect,
    zone: &'a Zone,
    table: &'a Table,
    rows: Vec<&'a Row>,
}

impl CopyRows for CsvRows<'_> {
    fn count(&self) -> usize {
        self.rows.len()
    }

    fn write(&self, i: usize, out: &mut Vec<u8>) {
        let r = self.rows[i];
        for (i, c) in r.key.iter().chain(&r.values).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            csv_field(
                out,
                &localized(self.d, self.zone, self.table, &c.name, &c.cell),
            );
        }
        out.push(b'\n');
    }
}

/// `COPY ... FROM STDIN` of a run of rows into `into` (the rows' table or
/// a staging table of the same columns): in PostgreSQL's binary format when
/// every cell can be written in it, otherwise in CSV.
fn copy<'a>(
    d: Dialect,
    quote: bool,
    zone: &'a Zone,
    table: &'a Table,
    rows: &[&'a Row],
    into: &str,
) -> Stmt<'a> {
    let first = rows[0];
    let (mut names, others) = idents(d, quote, first);
    names.extend(others);
    let (format, data) = match binary_rows(d, zone, table, rows) {
        Some(b) => ("binary", CopyData::Bytes(b)),
        None => {
            let rows = rows.to_vec();
            let csv = CsvRows {
                d,
                zone,
                table,
                rows,
            };
            ("csv", CopyData::Rows(Box::new(csv)))
        }
    };
    Stmt {
        sql: format!(
            "COPY {into} ({}) FROM STDIN WITH (FORMAT {format})",
            names.join(",")
        ),
        params: Vec::new(),
        copy: Some(data),
    }
}

/// A run of rows in PostgreSQL's binary COPY format, or `None` when a
/// column or a cell is not written in it.
fn binary_rows(d: Dialect, zone: &Zone, table: &Table, rows: &[&Row]) -> Option<Vec<u8>> {
    let first = rows[0];
    let kinds: Vec<Kind> = first
        .key
        .iter()
        .chain(&first.values)
        .map(|c| Kind::of(table.type_of(&c.name)))
        .collect::<Option<_>>()?;
    let mut out = Vec::with_capacity(binary::HEADER.len() + rows.len() * 8 * (kinds.len() + 1));
    out.extend_from_slice(binary::HEADER);
    let mut scratch = String::new();
    for r in rows {
        if !binary::row_start(&mut out, kinds.len()) {
            return None;
        }
        for (c, &kind) in r.key.iter().chain(&r.values).zip(&kinds) {
            let cell = localized(d, zone, table, &c.name, &c.cell);
            if !binary::field(&mut out, kind, &cell, &mut scratch) {
                return None;
            }
        }
    }
    out.extend_from_slice(binary::TRAILER);
    Some(out)
}

fn where_key(p: &mut Params<'_>, quote: bool, r: &Row) -> String {
    let d = p.d;
    r.key
        .iter()
        .map(|c| format!("{}={}", d.ident(&c.name, quote), p.push(&c.name, &c.cell)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn update(d: Dialect, quote: bool, zone: &Zone, table: &Table, r: &Row) -> Option<Stmt<'static>> {
    if r.values.is_empty() {
        return None;
    }
    let mut p = Params {
        d,
        table,
        zone,
        params: Vec::new(),
    };
    let set: Vec<String> = r
        .values
        .iter()
        .map(|c| format!("{}={}", d.ident(&c.name, quote), p.push(&c.name, &c.cell)))
        .collect();
    let cond = where_key(&mut p, quote, r);
    Some(Stmt {
        sql: format!(
            "UPDATE {} SET {} WHERE {cond}",
            d.table(&r.table, quote),
            set.join(",")
        ),
        params: p.params,
        copy: None,
    })
}

fn delete(d: Dialect, quote: bool, zone: &Zone, table: &Table, r: &Row) -> Stmt<'static> {
    let mut p = Params {
        d,
        table,
        zone,
        params: Vec::new(),
    };
    let cond = where_key(&mut p, quote, r);
    Stmt {
        sql: format!("DELETE FROM {} WHERE {cond}", d.table(&r.table, quote)),
        params: p.params,
        copy: None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn row(cells: Vec<(&str, Cell)>) -> Row {
        Row {
            table: Arc::from("t"),
            key: Vec::new(),
            values: cells
                .into_iter()
                .map(|(name, cell)| Column {
                    name: Arc::from(name),
                    kind: None,
                    optional: true,
                    cell,
                })
                .collect(),
            delete: false,
        }
    }

    /// A run goes in the binary format when every cell can, as CSV when
    /// one cannot (a value for PostgreSQL's parser, a type not encoded).
    #[test]
    fn copies_are_binary_when_every_cell_can_be() {
        let table = Table::new(
            [
                ("id", "bigint"),
                ("ts", "timestamp(3) with time zone"),
                ("r", "real"),
            ]
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .to_vec(),
        );
        let zone = Zone::default();
        let format = |rows: &[&Row]| {
            let s = copy(Dialect::Postgres, false, &zone, &table, rows, "t");
            match s.copy {
                Some(CopyData::Bytes(b)) => {
                    assert!(b.starts_with(binary::HEADER) && b.ends_with(binary::TRAILER));
                    assert!(s.sql.ends_with("(FORMAT binary)"), "{}", s.sql);
                    "binary"
                }
                Some(CopyData::Rows(r)) => {
                    assert_eq!(r.count(), rows.len());
                    assert!(s.sql.ends_with("(FORMAT csv)"), "{}", s.sql);
                    "csv"
                }
                None => "none",
            }
        };
        let a = row(vec![
            ("id", Cell::Int(1)),
            ("ts", Cell::Text("2026-01-01 00:00:00.123+00".into())),
        ]);
        let b = row(vec![("id", Cell::Int(2)), ("ts", Cell::Text("now".into()))]);
        let c = row(vec![("id", Cell::Null), ("ts", Cell::Timestamp(0))]);
        assert_eq!(format(&[&a, &c]), "binary");
        assert_eq!(format(&[&a, &b]), "csv");
        assert_eq!(format(&[&row(vec![("r", Cell::Float(1.5))])]), "csv");
        let mut csv = Vec::new();
        if let Some(CopyData::Rows(r)) =
            copy(Dialect::Postgres, false, &zone, &table, &[&a, &b], "t").copy
        {
            (0..r.count()).for_each(|i| r.write(i, &mut csv));
        }
        assert_eq!(
            String::from_utf8_lossy(&csv),
            "1,2026-01-01 00:00:00.123+00\n2,now\n"
        );
    }
}
