//! JAAS login-module configuration as Kafka reads it: the value of a
//! `sasl.jaas.config` key (`Module required key="value" ...;`) and the
//! sections of a JAAS file (`KafkaServer { ... };`).

/// Kafka's login module for SASL/PLAIN.
pub const PLAIN_MODULE: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";
/// Kafka's login module for SASL/SCRAM.
pub const SCRAM_MODULE: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";

/// One `Module flag options;` entry.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginModule {
    pub class: String,
    pub flag: String,
    pub options: Vec<(String, String)>,
}

impl std::fmt::Debug for LoginModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: Vec<&str> = self.options.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("LoginModule")
            .field("class", &self.class)
            .field("flag", &self.flag)
            .field("options", &keys)
            .finish()
    }
}

impl LoginModule {
    /// The value of option `key`, if given.
    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Usernames and passwords of PlainLoginModule's `user_NAME="password"` options.
    pub fn plain_users(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("user_").map(|u| (u, v.as_str())))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Punct(char),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '/' {
            chars.next();
            match chars.next() {
                Some('/') => {
                    for c in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                Some('*') => {
                    let mut prev = ' ';
                    loop {
                        match chars.next() {
                            Some('/') if prev == '*' => break,
                            Some(c) => prev = c,
                            None => return Err("unterminated /* comment".into()),
                        }
                    }
                }
                _ => return Err("unexpected '/'".into()),
            }
        } else if matches!(c, '=' | ';' | '{' | '}') {
            chars.next();
            out.push(Token::Punct(c));
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    Some('\\') => match chars.next() {
                        Some(e) => s.push(e),
                        None => return Err("unterminated quoted value".into()),
                    },
                    Some(q) if q == c => break,
                    Some(x) => s.push(x),
                    None => return Err("unterminated quoted value".into()),
                }
            }
            out.push(Token::Quoted(s));
        } else {
            let mut s = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() || matches!(x, '=' | ';' | '{' | '}' | '"') {
                    break;
                }
                s.push(x);
                chars.next();
            }
            out.push(Token::Word(s));
        }
    }
    Ok(out)
}

const FLAGS: &[&str] = &["required", "requisite", "sufficient", "optional"];

/// Parses entries until `}` or the end; `pos` is left after the last `;`.
fn entries(tokens: &[Token], pos: &mut usize) -> Result<Vec<LoginModule>, String> {
    let mut out = Vec::new();
    while let Some(t) = tokens.get(*pos) {
        let class = match t {
            Token::Punct('}') => break,
            Token::Word(w) => w.clone(),
            other => return Err(format!("expected a login module class, found {other:?}")),
        };
        *pos += 1;
        let flag = match tokens.get(*pos) {
            Some(Token::Word(f)) if FLAGS.contains(&f.to_ascii_lowercase().as_str()) => {
                f.to_ascii_lowercase()
            }
            other => {
                return Err(format!(
                    "{class}: expected a control flag (required, requisite, sufficient or optional), found {}",
                    describe(other)
                ))
            }
        };
        *pos += 1;
        let mut options = Vec::new();
        loop {
            match tokens.get(*pos) {
                Some(Token::Punct(';')) => {
                    *pos += 1;
                    break;
                }
                Some(Token::Word(k)) => {
                    if tokens.get(*pos + 1) != Some(&Token::Punct('=')) {
                        return Err(format!("{class}: option {k} has no '=value'"));
                    }
                    let v = match tokens.get(*pos + 2) {
                        Some(Token::Word(v)) | Some(Token::Quoted(v)) => v.clone(),
                        other => {
                            return Err(format!(
                                "{class}: option {k} has no value (found {})",
                                describe(other)
                            ))
                        }
                    };
                    options.push((k.clone(), v));
                    *pos += 3;
                }
                other => {
                    return Err(format!(
                        "{class}: expected key=value or ';', found {}",
                        describe(other)
                    ))
                }
            }
        }
        out.push(LoginModule {
            class,
            flag,
            options,
        });
    }
    Ok(out)
}

fn describe(t: Option<&Token>) -> String {
    match t {
        None => "the end (is the ';' missing?)".into(),
        Some(Token::Word(w)) => format!("{w:?}"),
        Some(Token::Quoted(q)) => format!("quoted {q:?}"),
        Some(Token::Punct(p)) => format!("'{p}'"),
    }
}

/// Parses a `sasl.jaas.config` value.
pub fn parse_config(value: &str) -> Result<Vec<LoginModule>, String> {
    let tokens = tokenize(value)?;
    let mut pos = 0;
    let out = entries(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return Err(format!("unexpected {}", describe(tokens.get(pos))));
    }
    if out.is_empty() {
        return Err("no login module given".into());
    }
    Ok(out)
}

/// The entries of section `name` in a JAAS file, if it has one.
pub fn parse_file_section(text: &str, name: &str) -> Result<Option<Vec<LoginModule>>, String> {
    let tokens = tokenize(text)?;
    let mut pos = 0;
    while let Some(t) = tokens.get(pos) {
        let section = match t {
            Token::Word(w) => w.clone(),
            other => return Err(format!("expected a section name, found {other:?}")),
        };
        if tokens.get(pos + 1) != Some(&Token::Punct('{')) {
            return Err(format!("section {section}: expected '{{'"));
        }
        pos += 2;
        let list = entries(&tokens, &mut pos)?;
        if tokens.get(pos) != Some(&Token::Punct('}')) {
            return Err(format!("section {section}: expected '}}'"));
        }
        pos += 1;
        if tokens.get(pos) == Some(&Token::Punct(';')) {
            pos += 1;
        }
        if section == name {
            return Ok(Some(list));
        }
    }
    Ok(None)
}

/// The JAAS file named by `-Djava.security.auth.login.config=PATH` in
/// `KAFKA_OPTS`, as Kafka's start scripts pass it to the JVM.
pub fn file_from_kafka_opts(opts: &str) -> Option<String> {
    opts.split_whitespace()
        .find_map(|w| w.strip_prefix("-Djava.security.auth.login.config="))
        .map(|p| p.trim_matches('"').trim_start_matches('=').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_config_with_users() {
        let m = parse_config(
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required
               username="admin" password="admin-secret" user_admin="admin-secret" user_alice="a;b\"c";"#,
        )
        .expect("parses");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].class, PLAIN_MODULE);
        assert_eq!(m[0].option("username"), Some("admin"));
        let users: Vec<_> = m[0].plain_users().collect();
        assert_eq!(users, vec![("admin", "admin-secret"), ("alice", "a;b\"c")]);
    }

    #[test]
    fn a_file_section_and_comments() {
        let text = "// broker\nKafkaServer {\n  org.apache.kafka.common.security.scram.ScramLoginModule required;\n  /* and */ org.apache.kafka.common.security.plain.PlainLoginModule required user_bob=bob1;\n};\nClient { x required; };\n";
        let s = parse_file_section(text, "KafkaServer")
            .expect("parses")
            .expect("present");
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1].plain_users().collect::<Vec<_>>(),
            vec![("bob", "bob1")]
        );
        assert!(parse_file_section(text, "KafkaClient")
            .expect("parses")
            .is_none());
    }

    #[test]
    fn mistakes_are_named() {
        let e = parse_config("org.x.Module username=\"a\";").expect_err("no flag");
        assert!(e.contains("control flag"), "{e}");
        let e = parse_config("org.x.Module required username=\"a\"").expect_err("no ;");
        assert!(e.contains("';' missing"), "{e}");
        let e = parse_config("org.x.Module required username \"a\";").expect_err("no =");
        assert!(e.contains("username has no '=value'"), "{e}");
        assert_eq!(
            file_from_kafka_opts("-Xmx1g -Djava.security.auth.login.config=/etc/kafka/jaas.conf"),
            Some("/etc/kafka/jaas.conf".to_string())
        );
    }
}
