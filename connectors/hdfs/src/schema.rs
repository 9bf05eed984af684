//! `schema.compatibility`: what a record whose schema differs from its
//! file's does (storage-common's rules: NONE starts a new file on any
//! change; BACKWARD and FULL keep the newest version and project older
//! records to it; FORWARD keeps the oldest), and Kafka's SchemaProjector for
//! the projection.

use std::sync::Arc;

use connect_api::{Schema, Struct, Type, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compatibility {
    None,
    Backward,
    Forward,
    Full,
}

/// What to do with a record given its file's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Write it as it is.
    Same,
    /// Commit the open files and start new ones with the record's schema.
    Rotate,
    /// Write it projected to the file's schema.
    Project,
}

fn rank(t: Type) -> Option<u8> {
    Some(match t {
        Type::Int8 => 0,
        Type::Int16 => 1,
        Type::Int32 => 2,
        Type::Int64 => 3,
        Type::Float32 => 4,
        Type::Float64 => 5,
        _ => return None,
    })
}

impl Compatibility {
    pub fn parse(s: &str) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "BACKWARD" => Compatibility::Backward,
            "FORWARD" => Compatibility::Forward,
            "FULL" => Compatibility::Full,
            _ => Compatibility::None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compatibility::None => "NONE",
            Compatibility::Backward => "BACKWARD",
            Compatibility::Forward => "FORWARD",
            Compatibility::Full => "FULL",
        }
    }

    /// The decision for a record of schema `new` in a file of `current`.
    pub fn decide(
        self,
        current: Option<&Arc<Schema>>,
        new: Option<&Arc<Schema>>,
    ) -> Result<Decision, String> {
        let (current, new) = match (current, new) {
            (None, None) => return Ok(Decision::Same),
            (Some(c), Some(n)) => (c, n),
            _ => {
                return Err(
                    "Switch between schema-based and schema-less data is not supported".into(),
                )
            }
        };
        if Arc::ptr_eq(current, new) || current == new {
            return Ok(Decision::Same);
        }
        if self == Compatibility::None {
            return Ok(Decision::Rotate);
        }
        let (Some(cv), Some(nv)) = (current.version, new.version) else {
            return Err(format!(
                "Schema version required for {} compatibility",
                self.name()
            ));
        };
        let promotable = current.kind == new.kind
            || matches!((rank(new.kind), rank(current.kind)), (Some(a), Some(b)) if a <= b);
        if !promotable || current.name != new.name || current.parameters != new.parameters {
            return Ok(Decision::Rotate);
        }
        let newer = match self {
            Compatibility::Forward => nv < cv,
            _ => nv > cv,
        };
        Ok(if newer {
            Decision::Rotate
        } else {
            Decision::Project
        })
    }
}

/// Kafka's `SchemaProjector.project`: `value` of schema `source` as a value
/// of `target` (fields matched by name, missing ones from the target's
/// default or null, numbers widened).
pub fn project(source: &Schema, value: &Value, target: &Arc<Schema>) -> Result<Value, String> {
    if value.is_null() {
        return if target.optional || target.default.is_some() {
            Ok(target.default.clone().unwrap_or(Value::Null))
        } else {
            Err("a null value cannot be projected to a required schema".into())
        };
    }
    match (value, target.kind) {
        (Value::Struct(s), Type::Struct) => {
            let mut out = Struct::new(target.clone());
            for f in &target.fields {
                let v = match source.fields.iter().find(|sf| sf.name == f.name) {
                    Some(sf) => project(
                        &sf.schema,
                        s.get(&f.name).unwrap_or(&Value::Null),
                        &f.schema,
                    )?,
                    None if f.schema.default.is_some() => {
                        f.schema.default.clone().unwrap_or(Value::Null)
                    }
                    None if f.schema.optional => Value::Null,
                    None => {
                        return Err(format!(
                        "field {} is required by the file's schema and missing from the record's",
                        f.name
                    ))
                    }
                };
                out.put(&f.name, v).map_err(|e| e.message().to_string())?;
            }
            Ok(Value::Struct(out))
        }
        (Value::Array(items), Type::Array) => {
            let (Some(from), Some(to)) = (&source.value, &target.value) else {
                return Ok(value.clone());
            };
            items
                .iter()
                .map(|v| project(from, v, to))
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        (Value::Map(entries), Type::Map) => {
            let (Some(fk), Some(fv), Some(tk), Some(tv)) =
                (&source.key, &source.value, &target.key, &target.value)
            else {
                return Ok(value.clone());
            };
            entries
                .iter()
                .map(|(k, v)| Ok((project(fk, k, tk)?, project(fv, v, tv)?)))
                .collect::<Result<_, String>>()
                .map(Value::Map)
        }
        (v, t) => widen(v, t).ok_or_else(|| {
            format!(
                "a {:?} value cannot be projected to {t:?}",
                v.inferred_type()
            )
        }),
    }
}

/// A number widened to `t`, or any other value unchanged when it is of `t`.
fn widen(v: &Value, t: Type) -> Option<Value> {
    let int = match v {
        Value::Int8(n) => Some(i64::from(*n)),
        Value::Int16(n) => Some(i64::from(*n)),
        Value::Int32(n) => Some(i64::from(*n)),
        Value::Int64(n) => Some(*n),
        _ => None,
    };
    let float = match v {
        Value::Float32(f) => Some(f64::from(*f)),
        Value::Float64(f) => Some(*f),
        _ => int.map(|n| n as f64),
    };
    Some(match t {
        Type::Int16 => Value::Int16(i16::try_from(int?).ok()?),
        Type::Int32 if matches!(v, Value::Date(_) | Value::Time(_)) => v.clone(),
        Type::Int32 => Value::Int32(i32::try_from(int?).ok()?),
        Type::Int64 if matches!(v, Value::Timestamp(_)) => v.clone(),
        Type::Int64 => Value::Int64(int?),
        Type::Float32 => Value::Float32(float? as f32),
        Type::Float64 => Value::Float64(float?),
        _ if v.inferred_type() == Some(t) => v.clone(),
        _ => return None,
    })
}

/// A schema for a schemaless value (beyond Confluent, which refuses such
/// records in schema-based formats): maps with string keys become structs
/// of optional fields, in their order; a null is an optional string.
pub fn infer(v: &Value) -> Arc<Schema> {
    Arc::new(infer_schema(v, false))
}

fn infer_schema(v: &Value, optional: bool) -> Schema {
    let mut s = match v {
        Value::Null => Schema::new(Type::String),
        Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) => {
            let mut s = Schema::new(Type::Struct);
            s.fields = entries
                .iter()
                .enumerate()
                .map(|(i, (k, v))| connect_api::Field {
                    name: match k {
                        Value::String(name) => name.clone(),
                        _ => String::new(),
                    },
                    index: i,
                    schema: Arc::new(infer_schema(v, true)),
                })
                .collect();
            s
        }
        Value::Map(entries) => {
            let mut s = Schema::new(Type::Map);
            let (k, val) = entries
                .first()
                .map_or((&Value::Null, &Value::Null), |(k, v)| (k, v));
            s.key = Some(Arc::new(infer_schema(k, true)));
            s.value = Some(Arc::new(infer_schema(val, true)));
            s
        }
        Value::Array(items) => {
            let mut s = Schema::new(Type::Array);
            let first = items.iter().find(|i| !i.is_null()).unwrap_or(&Value::Null);
            s.value = Some(Arc::new(infer_schema(first, true)));
            s
        }
        Value::Struct(st) => (*st.schema).clone(),
        Value::Decimal(d) => {
            let mut s = Schema::new(Type::Bytes);
            s.name = Some(connect_api::schema::logical::DECIMAL.into());
            s.version = Some(1);
            s.parameters = vec![(
                connect_api::schema::logical::SCALE.into(),
                d.scale.to_string(),
            )];
            s
        }
        Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => {
            let (kind, name) = match v {
                Value::Date(_) => (Type::Int32, connect_api::schema::logical::DATE),
                Value::Time(_) => (Type::Int32, connect_api::schema::logical::TIME),
                _ => (Type::Int64, connect_api::schema::logical::TIMESTAMP),
            };
            let mut s = Schema::new(kind);
            s.name = Some(name.into());
            s.version = Some(1);
            s
        }
        other => Schema::new(other.inferred_type().unwrap_or(Type::String)),
    };
    s.optional = optional || s.optional;
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_api::Field;

    fn schema(version: i32, fields: &[(&str, Type, bool)]) -> Arc<Schema> {
        let mut s = Schema::new(Type::Struct);
        s.name = Some("row".into());
        s.version = Some(version);
        s.fields = fields
            .iter()
            .enumerate()
            .map(|(i, (n, t, opt))| {
                let mut fs = Schema::new(*t);
                fs.optional = *opt;
                Field {
                    name: n.to_string(),
                    index: i,
                    schema: Arc::new(fs),
                }
            })
            .collect();
        Arc::new(s)
    }

    #[test]
    fn compatibility_decides_by_version() {
        let v1 = schema(1, &[("id", Type::Int32, false)]);
        let v2 = schema(
            2,
            &[("id", Type::Int32, false), ("name", Type::String, true)],
        );
        assert_eq!(
            Compatibility::None.decide(Some(&v1), Some(&v2)),
            Ok(Decision::Rotate)
        );
        assert_eq!(
            Compatibility::Backward.decide(Some(&v1), Some(&v2)),
            Ok(Decision::Rotate)
        );
        assert_eq!(
            Compatibility::Backward.decide(Some(&v2), Some(&v1)),
            Ok(Decision::Project)
        );
        assert_eq!(
            Compatibility::Forward.decide(Some(&v2), Some(&v1)),
            Ok(Decision::Rotate)
        );
        assert_eq!(
            Compatibility::Full.decide(Some(&v1), Some(&v1.clone())),
            Ok(Decision::Same)
        );
        assert!(Compatibility::None.decide(None, Some(&v1)).is_err());
        let old = Struct::new(v1.clone())
            .with("id", Value::Int32(7))
            .expect("struct");
        let projected = project(&v1, &Value::Struct(old), &v2).expect("projects");
        let Value::Struct(p) = projected else {
            panic!("a struct")
        };
        assert_eq!(p.get("id"), Some(&Value::Int32(7)));
        assert_eq!(p.get("name"), Some(&Value::Null));
    }
}
