//! Secrets in connector configs: PASSWORD keys of a connector's plugin and
//! Kafka's client secrets under any prefix (`*.password`,
//! `*sasl.jaas.config`, `*ssl.keystore.key`...) are shown as `[hidden]` in
//! every REST answer; a config written back with `[hidden]` keeps the stored
//! value. Provider placeholders (`${file:...}`) are references, not secrets,
//! and are shown as they are.

use connect_api::config::ConfigType;
use connect_api::Props;

/// What a hidden value is shown as (Kafka's `Password.HIDDEN`).
pub const HIDDEN: &str = "[hidden]";

/// Kafka client keys (with any prefix) whose values are secrets.
const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "sasl.jaas.config",
    "ssl.keystore.key",
    "basic.auth.user.info",
];

/// Whether `key` holds a secret in a config of `class`.
pub fn is_secret(class: Option<&str>, key: &str) -> bool {
    if SECRET_SUFFIXES
        .iter()
        .any(|s| key == *s || key.ends_with(&format!(".{s}")))
    {
        return true;
    }
    class
        .and_then(|c| super::config::find_plugin(c).ok())
        .is_some_and(|p| {
            (p.config_def)()
                .keys()
                .iter()
                .any(|k| k.name == key && k.kind == ConfigType::Password)
        })
}

fn placeholder(v: &str) -> bool {
    let v = v.trim();
    v.starts_with("${") && v.ends_with('}')
}

/// `props` with its secrets shown as `[hidden]`.
pub fn redact(props: &Props) -> Props {
    let class = props.get("connector.class").map(String::as_str);
    props
        .iter()
        .map(|(k, v)| {
            let shown = if !placeholder(v) && is_secret(class, k) {
                HIDDEN.to_string()
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect()
}

/// A config written back: `[hidden]` values take the stored ones.
pub fn restore(mut new: Props, stored: &Props) -> Props {
    for (k, v) in new.iter_mut() {
        if v == HIDDEN {
            if let Some(old) = stored.get(k) {
                *v = old.clone();
            }
        }
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_and_kept_on_write_back() {
        let stored: Props = [
            (
                "connector.class",
                "io.confluent.connect.jdbc.JdbcSinkConnector",
            ),
            ("connection.password", "pg-secret"),
            ("connection.user", "app"),
            (
                "consumer.override.sasl.jaas.config",
                "x required password=\"k\";",
            ),
            (
                "producer.override.ssl.key.password",
                "${file:/s.properties:key}",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let shown = redact(&stored);
        assert_eq!(shown["connection.password"], HIDDEN);
        assert_eq!(shown["consumer.override.sasl.jaas.config"], HIDDEN);
        assert_eq!(shown["connection.user"], "app");
        assert_eq!(
            shown["producer.override.ssl.key.password"],
            "${file:/s.properties:key}"
        );
        let mut back = shown.clone();
        back.insert("connection.user".into(), "other".into());
        let written = restore(back, &stored);
        assert_eq!(written["connection.password"], "pg-secret");
        assert_eq!(written["connection.user"], "other");
    }
}
