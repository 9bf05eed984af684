//! `topics.regex` for sink tasks. The whole topic name must match, in the
//! regular expression syntax Java users write (`\d`, `(?:...)`), which
//! librdkafka's own pattern subscriptions (POSIX regcomp) do not read. So
//! the task matches the broker's topic list itself, now and then, and
//! subscribes to the topics that match; a new matching topic is picked up
//! at the next look, as a Java consumer's pattern subscription picks it up
//! at its next metadata refresh.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};

/// How often the topic list is read again.
const LOOK_EVERY: Duration = Duration::from_secs(5);

/// Topics a Java consumer leaves out of pattern subscriptions.
const INTERNAL: [&str; 2] = ["__consumer_offsets", "__transaction_state"];

pub(super) struct TopicPattern {
    re: regex::Regex,
    subscribed: Vec<String>,
    next_look: Instant,
}

impl TopicPattern {
    pub(super) fn new(pattern: &str) -> anyhow::Result<Self> {
        let re = regex::Regex::new(&format!("^(?:{})$", pattern.trim())).map_err(|e| {
            anyhow::anyhow!("Invalid value {pattern} for configuration topics.regex: {e}")
        })?;
        Ok(Self {
            re,
            subscribed: Vec::new(),
            next_look: Instant::now(),
        })
    }

    /// The topics among `names` the pattern takes, sorted.
    fn matching<'a>(&self, names: impl Iterator<Item = &'a str>) -> Vec<String> {
        let mut out: Vec<String> = names
            .filter(|n| !INTERNAL.contains(n) && self.re.is_match(n))
            .map(str::to_string)
            .collect();
        out.sort();
        out
    }

    /// When it is time, reads the topic list and subscribes to the
    /// matching topics if they changed.
    pub(super) fn refresh<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
    ) -> anyhow::Result<()> {
        if Instant::now() < self.next_look {
            return Ok(());
        }
        self.next_look = Instant::now() + LOOK_EVERY;
        let metadata = match consumer.fetch_metadata(None, Duration::from_secs(5)) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("reading the topic list for topics.regex: {e}");
                return Ok(());
            }
        };
        let now = self.matching(metadata.topics().iter().map(|t| t.name()));
        if now == self.subscribed {
            return Ok(());
        }
        if now.is_empty() {
            consumer.unsubscribe();
        } else {
            let names: Vec<&str> = now.iter().map(String::as_str).collect();
            consumer.subscribe(&names)?;
        }
        tracing::info!(
            "topics.regex matches {} topic(s): {}",
            now.len(),
            now.join(", ")
        );
        self.subscribed = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_names_in_java_syntax() {
        let p = TopicPattern::new(r"dj-\d+|logs-(?:a|b)").expect("valid");
        let names = [
            "dj-1",
            "dj-12x",
            "xdj-1",
            "logs-a",
            "logs-c",
            "__consumer_offsets",
        ];
        assert_eq!(p.matching(names.into_iter()), vec!["dj-1", "logs-a"]);
        let all = TopicPattern::new(".*").expect("valid");
        assert_eq!(all.matching(names.into_iter()).len(), 5);
        let bad = TopicPattern::new("(")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(bad.contains("topics.regex"), "{bad}");
    }
}
