//! The principal of a client that authenticated with a certificate (an SSL
//! listener): `User:` and the certificate's subject as RFC 2253 writes it
//! (`CN=app,OU=eng,O=Acme`), rewritten by `ssl.principal.mapping.rules` as
//! Kafka applies them (`RULE:^CN=(.*?),OU=.*$/$1/L,DEFAULT`).

use regex::Regex;

/// One rule of `ssl.principal.mapping.rules`.
#[derive(Debug, Clone)]
enum Rule {
    Default,
    Rewrite {
        /// Matches the whole name.
        pattern: Regex,
        replacement: String,
        lower: bool,
        upper: bool,
    },
}

/// Kafka's `SslPrincipalMapper`.
#[derive(Debug, Clone)]
pub struct PrincipalMapper {
    rules: Vec<Rule>,
}

impl Default for PrincipalMapper {
    fn default() -> Self {
        Self {
            rules: vec![Rule::Default],
        }
    }
}

/// Reads up to the next unescaped `/`; returns the text and the rest after it.
fn until_slash(s: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                out.push(chars.next()?.1);
            }
            '/' => return Some((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

impl PrincipalMapper {
    /// Parses the rules (comma-separated; a rule's pattern may hold commas).
    pub fn parse(text: &str) -> Result<Self, String> {
        // Kafka's files also put one rule per line.
        let text = text.replace(['\n', '\r'], ",");
        let mut rules = Vec::new();
        let mut rest = text.trim().trim_matches(',').trim();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("DEFAULT") {
                rules.push(Rule::Default);
                rest = after.trim_start();
            } else if let Some(after) = rest.strip_prefix("RULE:") {
                let bad =
                    || format!("Invalid rule: `{rest}`: expected RULE:pattern/replacement/[LU]");
                let (pattern, after) = until_slash(after).ok_or_else(bad)?;
                let (replacement, after) = until_slash(after).ok_or_else(bad)?;
                let (case, after) = match after.chars().next() {
                    Some(c @ ('L' | 'U')) => (Some(c), &after[1..]),
                    _ => (None, after),
                };
                let anchored = format!("^(?:{pattern})$");
                let pattern = Regex::new(&anchored)
                    .map_err(|e| format!("Invalid rule: `{pattern}` is not a pattern: {e}"))?;
                rules.push(Rule::Rewrite {
                    pattern,
                    replacement: java_replacement(&replacement),
                    lower: case == Some('L'),
                    upper: case == Some('U'),
                });
                // Anything up to the next comma belongs to this rule.
                rest = after.split_once(',').map_or("", |(_, r)| r).trim_start();
                continue;
            } else {
                let rule = rest.split(',').next().unwrap_or(rest).trim();
                return Err(format!(
                    "Invalid rule: `{rule}`, unmatched substring: `{rule}`"
                ));
            }
            match rest.strip_prefix(',') {
                Some(r) => rest = r.trim_start(),
                None if rest.is_empty() => {}
                None => {
                    return Err(format!("Invalid rule: unmatched substring: `{rest}`"));
                }
            }
        }
        if rules.is_empty() {
            rules.push(Rule::Default);
        }
        Ok(Self { rules })
    }

    /// The name the first applicable rule makes of `dn`.
    pub fn map(&self, dn: &str) -> Result<String, String> {
        for rule in &self.rules {
            match rule {
                Rule::Default => return Ok(dn.to_string()),
                Rule::Rewrite {
                    pattern,
                    replacement,
                    lower,
                    upper,
                } if pattern.is_match(dn) => {
                    let name = pattern.replace(dn, replacement.as_str()).into_owned();
                    return Ok(if *lower {
                        name.to_lowercase()
                    } else if *upper {
                        name.to_uppercase()
                    } else {
                        name
                    });
                }
                Rule::Rewrite { .. } => {}
            }
        }
        Err(format!(
            "No rules apply to {dn}: failed to map name based on ssl.principal.mapping.rules"
        ))
    }
}

/// Java's `$1` group references, in the regex crate's `${1}` form.
fn java_replacement(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                let mut n = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    n.push(d);
                    chars.next();
                }
                out.push_str(&format!("${{{n}}}"));
            }
            '$' => out.push_str("$$"),
            '\\' => {
                if let Some(next) = chars.next() {
                    if next == '$' {
                        out.push_str("$$");
                    } else {
                        out.push(next);
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The subject of a DER certificate as RFC 2253 writes it (the last RDN
/// first), which is Java's `X500Principal.getName()`.
pub fn subject_rfc2253(der: &[u8]) -> Result<String, String> {
    use x509_parser::prelude::*;
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("bad certificate: {e}"))?;
    let rdns: Vec<String> = cert
        .subject()
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    let short = match oid.as_str() {
                        "2.5.4.3" => Some("CN"),
                        "2.5.4.6" => Some("C"),
                        "2.5.4.7" => Some("L"),
                        "2.5.4.8" => Some("ST"),
                        "2.5.4.9" => Some("STREET"),
                        "2.5.4.10" => Some("O"),
                        "2.5.4.11" => Some("OU"),
                        "0.9.2342.19200300.100.1.25" => Some("DC"),
                        "0.9.2342.19200300.100.1.1" => Some("UID"),
                        _ => None,
                    };
                    match (short, atv.as_str()) {
                        (Some(name), Ok(v)) => format!("{name}={}", escape(v)),
                        // Other types, and values that are not strings, as
                        // `oid=#` and the value's DER in hex (RFC 2253).
                        _ => format!("{oid}=#{}", hex(atv.attr_value().as_bytes(), atv)),
                    }
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    Ok(rdns.into_iter().rev().collect::<Vec<_>>().join(","))
}

fn hex(content: &[u8], atv: &x509_parser::x509::AttributeTypeAndValue<'_>) -> String {
    // The whole DER value: tag, length, content.
    let tag = atv.attr_value().header.tag().0 as u8;
    let mut der = vec![tag];
    let len = content.len();
    if len < 128 {
        der.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        der.push(0x80 | bytes.len() as u8);
        der.extend(bytes);
    }
    der.extend_from_slice(content);
    der.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 2253's escapes: `,+"\<>;` always, `#` and a space first, a space last.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_documented_rules() {
        let m = PrincipalMapper::parse(
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, DEFAULT",
        )
        .expect("rules");
        assert_eq!(
            m.map("CN=serviceuser,OU=ServiceUsers,O=Unknown,L=Unknown,ST=Unknown,C=Unknown")
                .expect("maps"),
            "serviceuser"
        );
        assert_eq!(
            m.map("CN=adminUser,OU=Admin,O=Unknown,L=Unknown,ST=Unknown,C=Unknown")
                .expect("maps"),
            "adminuser@admin"
        );
        assert_eq!(m.map("CN=other").expect("default"), "CN=other");
        let upper = PrincipalMapper::parse("RULE:^CN=(.*)$/$1/U").expect("rule");
        assert_eq!(upper.map("CN=app").expect("maps"), "APP");
        assert!(upper.map("OU=x").is_err(), "no rule applies");
        assert!(PrincipalMapper::parse("RULE:broken").is_err());
        assert!(PrincipalMapper::parse("DEFAULT,nonsense").is_err());
        assert_eq!(
            PrincipalMapper::parse("")
                .expect("empty")
                .map("CN=a")
                .expect("default"),
            "CN=a"
        );
    }

    #[test]
    fn rfc2253_escapes() {
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape(" #x "), "\\ #x\\ ");
        assert_eq!(java_replacement("$1@$2-\\$"), "${1}@${2}-$$");
    }
}
