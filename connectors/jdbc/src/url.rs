//! `connection.url` as Confluent users write it (`jdbc:postgresql://h:5432/db?...`,
//! `jdbc:mysql://`, `jdbc:mariadb://`, `jdbc:sqlite:path`) or as native
//! URLs (`postgres://`, `mysql://`, `sqlite:`), turned into what sqlx
//! connects with, and the dialect it implies.

/// The databases the connectors speak to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

/// Where to connect, with the user and password folded in.
#[derive(Clone, PartialEq)]
pub struct Target {
    pub dialect: Dialect,
    /// The sqlx URL (it may hold the password: never print it).
    pub url: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} {}", self.dialect, redact(&self.url))
    }
}

/// The URL with any password replaced by `[hidden]`, for messages.
pub fn redact(url: &str) -> String {
    let re = regex::Regex::new(r"(://[^:/@]*:)[^@]*@").ok();
    let once = match &re {
        Some(r) => r.replace(url, "${1}[hidden]@").into_owned(),
        None => url.to_string(),
    };
    let q = regex::Regex::new(r"([?&;](?:password|PASSWORD|Password)=)[^&;]*").ok();
    match q {
        Some(r) => r.replace_all(&once, "${1}[hidden]").into_owned(),
        None => once,
    }
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads `connection.url`, with `connection.user` / `connection.password`
/// taking the place of any in the URL. The error says what is wrong.
pub fn parse(url: &str, user: Option<&str>, password: Option<&str>) -> Result<Target, String> {
    let u = url.trim();
    let rest = u.strip_prefix("jdbc:").unwrap_or(u);
    let (dialect, scheme, body) = if let Some(b) = rest
        .strip_prefix("postgresql://")
        .or_else(|| rest.strip_prefix("postgres://"))
    {
        (Dialect::Postgres, "postgres://", b)
    } else if let Some(b) = rest
        .strip_prefix("mysql://")
        .or_else(|| rest.strip_prefix("mariadb://"))
    {
        (Dialect::MySql, "mysql://", b)
    } else if let Some(b) = rest.strip_prefix("sqlite:") {
        let path = b.trim_start_matches("//");
        if path.is_empty() {
            return Err(
                "a SQLite URL needs a file (jdbc:sqlite:/path/db.sqlite) or :memory:".into(),
            );
        }
        let url = if path == ":memory:" {
            "sqlite::memory:".to_string()
        } else {
            format!("sqlite://{path}?mode=rwc")
        };
        return Ok(Target {
            dialect: Dialect::Sqlite,
            url,
        });
    } else {
        return Err(format!(
            "{} is not a database URL Weir knows: use jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb:// or jdbc:sqlite: (or postgres://, mysql://, sqlite:)",
            redact(u)
        ));
    };
    // JDBC puts the user and password among the query parameters; sqlx
    // wants them before the host.
    let (authority_path, query) = body.split_once('?').unwrap_or((body, ""));
    let (mut url_user, mut url_pass, host_path) = match authority_path.rsplit_once('@') {
        Some((cred, hp)) => match cred.split_once(':') {
            Some((u, p)) => (Some(u.to_string()), Some(p.to_string()), hp),
            None => (Some(cred.to_string()), None, hp),
        },
        None => (None, None, authority_path),
    };
    if host_path.is_empty() || host_path.starts_with('/') {
        return Err(format!("{} names no host", redact(u)));
    }
    let mut params = Vec::new();
    for kv in query.split(['&', ';']).filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "user" => url_user = Some(v.to_string()),
            "password" => url_pass = Some(v.to_string()),
            // JDBC's TLS switches, in sqlx's words.
            "ssl" if v == "true" && dialect == Dialect::Postgres => {
                params.push("sslmode=require".to_string())
            }
            "useSSL" | "useSsl" if v == "true" => params.push("ssl-mode=REQUIRED".to_string()),
            // Connector/J's and MariaDB Connector/J's modes.
            "sslMode" if dialect == Dialect::MySql => {
                params.push(format!("ssl-mode={}", mysql_ssl_mode(v)?))
            }
            "sslMode" => params.push(format!("sslmode={v}")),
            // MariaDB Connector/J: the server's certificate or its CA.
            "serverSslCert" if dialect == Dialect::MySql => params.push(format!("ssl-ca={v}")),
            "sslmode"
            | "ssl-mode"
            | "sslrootcert"
            | "sslcert"
            | "sslkey"
            | "ssl-ca"
            | "ssl-cert"
            | "ssl-key"
            | "application_name"
            | "charset"
            | "statement-cache-capacity" => params.push(format!("{k}={v}")),
            _ => {}
        }
    }
    if let Some(u) = user.filter(|u| !u.is_empty()) {
        url_user = Some(encode(u));
    }
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        url_pass = Some(encode(p));
    }
    let cred = match (url_user, url_pass) {
        (Some(u), Some(p)) => format!("{u}:{p}@"),
        (Some(u), None) => format!("{u}@"),
        (None, Some(p)) => format!(":{p}@"),
        (None, None) => String::new(),
    };
    let query = if params.is_empty() {
        String::new()
    } else {
        format!("?{}", params.join("&"))
    };
    Ok(Target {
        dialect,
        url: format!("{scheme}{cred}{host_path}{query}"),
    })
}

/// A JDBC `sslMode` for MySQL or MariaDB in sqlx's words.
fn mysql_ssl_mode(v: &str) -> Result<&'static str, String> {
    Ok(match v.to_ascii_lowercase().as_str() {
        "disabled" | "disable" => "DISABLED",
        "preferred" | "prefer" => "PREFERRED",
        "required" | "require" | "trust" => "REQUIRED",
        "verify_ca" | "verify-ca" => "VERIFY_CA",
        "verify_identity" | "verify-full" => "VERIFY_IDENTITY",
        _ => {
            return Err(format!(
                "sslMode={v} is not one of DISABLED, PREFERRED, REQUIRED (trust), VERIFY_CA, VERIFY_IDENTITY (verify-full)"
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jdbc_urls_become_sqlx_urls() {
        let t = parse(
            "jdbc:postgresql://db:5432/app?user=u&password=p&ssl=true",
            None,
            None,
        )
        .expect("postgres");
        assert_eq!(t.dialect, Dialect::Postgres);
        assert_eq!(t.url, "postgres://u:p@db:5432/app?sslmode=require");
        let t = parse("jdbc:mysql://db:3306/app", Some("root"), Some("s3cr:t@")).expect("mysql");
        assert_eq!(t.url, "mysql://root:s3cr%3At%40@db:3306/app");
        assert!(!format!("{t:?}").contains("s3cr"), "{t:?}");
        assert_eq!(
            parse("jdbc:mariadb://db/app", None, None)
                .expect("mariadb")
                .dialect,
            Dialect::MySql
        );
        assert_eq!(
            parse("jdbc:sqlite:/tmp/x.db", None, None)
                .expect("sqlite")
                .url,
            "sqlite:///tmp/x.db?mode=rwc"
        );
        assert_eq!(
            parse("postgres://a@b/c", None, None).expect("native").url,
            "postgres://a@b/c"
        );
        assert!(parse("jdbc:oracle:thin:@h:1521:x", None, None).is_err());
        assert_eq!(
            parse(
                "jdbc:mariadb://h/db?sslMode=verify-full&serverSslCert=/ca.pem",
                None,
                None
            )
            .expect("mariadb tls")
            .url,
            "mysql://h/db?ssl-mode=VERIFY_IDENTITY&ssl-ca=/ca.pem"
        );
        assert_eq!(
            parse("jdbc:mysql://h/db?sslMode=REQUIRED", None, None)
                .expect("mysql tls")
                .url,
            "mysql://h/db?ssl-mode=REQUIRED"
        );
        assert!(parse("jdbc:mysql://h/db?sslMode=sometimes", None, None)
            .expect_err("bad mode")
            .contains("sslMode=sometimes"));
        assert_eq!(
            redact("postgres://u:secret@h/db?password=x"),
            "postgres://u:[hidden]@h/db?password=[hidden]"
        );
    }
}
