//! Logging with levels that can change while running (`/admin/loggers`),
//! and Kafka Connect's connector context: lines logged on a task's thread
//! start with `[<connector>|task-<n>] `, as Connect's `connector.context` does.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

type Handle = reload::Handle<EnvFilter, Registry>;

/// The level of each logger and when the API last changed it.
struct Levels {
    handle: Handle,
    /// "root" is the default level; other names are module paths.
    levels: BTreeMap<String, (String, Option<u128>)>,
}

static LEVELS: OnceLock<Mutex<Levels>> = OnceLock::new();

const LEVEL_NAMES: &[&str] = &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF"];

thread_local! {
    static CONTEXT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Prefixes every line this thread logs from now on with `prefix`
/// (Connect's form: `[my-conn|task-0] `).
pub fn set_thread_context(prefix: String) {
    CONTEXT.with(|c| *c.borrow_mut() = prefix);
}

/// `<time> <LEVEL> <context><message>`.
struct ContextFormat {
    ansi: bool,
}

impl<S, N> FormatEvent<S, N> for ContextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        tracing_subscriber::fmt::time::SystemTime.format_time(&mut w)?;
        let level = *event.metadata().level();
        if self.ansi {
            let colour = match level {
                Level::ERROR => 31,
                Level::WARN => 33,
                Level::INFO => 32,
                Level::DEBUG => 34,
                Level::TRACE => 35,
            };
            write!(w, " \x1b[{colour}m{level:>5}\x1b[0m ")?;
        } else {
            write!(w, " {level:>5} ")?;
        }
        CONTEXT.with(|c| w.write_str(&c.borrow()))?;
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Installs the global subscriber with `filter` (an EnvFilter directive list).
pub fn init(filter: &str, ansi: bool) {
    let env = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let (layer, handle) = reload::Layer::new(env);
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .event_format(ContextFormat { ansi });
    if tracing_subscriber::registry()
        .with(layer)
        .with(fmt)
        .try_init()
        .is_ok()
    {
        let mut levels = BTreeMap::new();
        for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match directive.split_once('=') {
                Some((name, level)) => {
                    levels.insert(name.to_string(), (level.to_uppercase(), None))
                }
                None => levels.insert("root".to_string(), (directive.to_uppercase(), None)),
            };
        }
        levels.entry("root".into()).or_insert(("INFO".into(), None));
        let _ = LEVELS.set(Mutex::new(Levels { handle, levels }));
    }
}

/// Every logger with a level: name -> (level, last modified ms).
pub fn levels() -> BTreeMap<String, (String, Option<u128>)> {
    LEVELS
        .get()
        .map(|l| l.lock().levels.clone())
        .unwrap_or_default()
}

/// Sets `name`'s level ("root" for the default); returns the loggers affected.
pub fn set_level(name: &str, level: &str) -> Result<Vec<String>, String> {
    let level = match level.to_uppercase().as_str() {
        "FATAL" => "ERROR".to_string(),
        l if LEVEL_NAMES.contains(&l) => l.to_string(),
        _ => return Err(format!("invalid log level '{level}'")),
    };
    let Some(cell) = LEVELS.get() else {
        return Err("logging is not initialised".into());
    };
    let mut l = cell.lock();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    l.levels.insert(name.to_string(), (level, Some(now)));
    let directives: Vec<String> = l
        .levels
        .iter()
        .map(|(n, (lv, _))| {
            if n == "root" {
                lv.to_lowercase()
            } else {
                format!("{n}={}", lv.to_lowercase())
            }
        })
        .collect();
    let filter = EnvFilter::try_new(directives.join(",")).map_err(|e| e.to_string())?;
    l.handle.reload(filter).map_err(|e| e.to_string())?;
    let affected = l
        .levels
        .keys()
        .filter(|n| name == "root" || n.starts_with(name))
        .cloned()
        .collect();
    Ok(affected)
}
