use super::*;
use proptest::prelude::*;

fn settings(text: &str) -> Settings {
    Settings::from_properties(&Properties::parse(text).expect("properties"))
}

fn worker_problems(text: &str, mode: Mode) -> Vec<Problem> {
    let mut out = Vec::new();
    check_worker("w.properties", &settings(text), mode, &mut out);
    out
}

const VALID: &str = "bootstrap.servers=localhost:9092\n\
key.converter=org.apache.kafka.connect.json.JsonConverter\n\
value.converter=org.apache.kafka.connect.storage.StringConverter\n\
offset.storage.file.filename=/tmp/connect.offsets\n\
offset.flush.interval.ms=10000\n\
listeners=http://127.0.0.1:8083\n";

#[test]
fn a_valid_standalone_file_has_no_problem() {
    assert_eq!(worker_problems(VALID, Mode::Standalone), vec![]);
}

#[test]
fn every_mistake_is_named_with_its_line_and_the_likely_key() {
    let text = "bootstrap.server=localhost:9092\n\
key.converter=org.apache.kafka.connect.json.JsonConvertor\n\
offset.flush.interval.ms=soon\n\
offset.storage.file.filename=/proc/connect.offsets\n";
    let p = worker_problems(text, Mode::Standalone);
    let text: Vec<String> = p.iter().map(ToString::to_string).collect();
    assert!(text.contains(&"w.properties:1: bootstrap.server: not a worker config; did you mean bootstrap.servers?".to_string()), "{text:#?}");
    assert!(
        text.iter()
            .any(|t| t.starts_with("w.properties:2: key.converter:")
                && t.contains("did you mean org.apache.kafka.connect.json.JsonConverter?")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("w.properties: value.converter: Missing required")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.starts_with("w.properties:3: offset.flush.interval.ms:")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(
            |t| t.starts_with("w.properties:4: offset.storage.file.filename:")
                && t.contains("cannot be written")
        ),
        "{text:#?}"
    );
    assert_eq!(p.len(), 5, "{text:#?}");
}

#[test]
fn distributed_needs_its_topics_and_sane_replication_factors() {
    let text = "bootstrap.servers=localhost:9092\n\
key.converter=JsonConverter\nvalue.converter=JsonConverter\n\
group.id=g\nconfig.storage.topic=t\noffset.storage.topic=t\n\
config.storage.replication.factor=0\nstatus.storage.replicaton.factor=1\n\
offset.storage.file.filename=/tmp/x\n";
    let p = worker_problems(text, Mode::Distributed);
    let text: Vec<String> = p.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("status.storage.topic: Missing required")),
        "{text:#?}"
    );
    assert!(
        text.iter().any(|t| t.contains("both name topic t")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("config.storage.replication.factor: Invalid value 0")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("did you mean status.storage.replication.factor?")),
        "{text:#?}"
    );
    let standalone_key = p
        .iter()
        .find(|p| p.key.as_deref() == Some("offset.storage.file.filename"))
        .expect("noted");
    assert!(standalone_key.warning && standalone_key.message.contains("standalone worker setting"));
}

fn connector(text: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    check_connector("c.properties", &settings(text), &mut out);
    out
}

#[test]
fn placeholders_and_set_neighbours_are_not_mistakes() {
    let text = format!(
        "{VALID}offset.flush.timeout.ms=${{env:T}}\nbootstrap.servers=${{file:/s:b}}\nretry.backoff.max.ms=1\n"
    );
    let p = worker_problems(&text, Mode::Distributed);
    assert!(
        !p.iter().any(|p| !p.warning
            && p.key.as_deref() != Some("group.id")
            && !p.message.contains("Missing required")),
        "{p:#?}"
    );
    // A near-miss of a key that is set too is a warning: nothing is lost.
    let p = worker_problems(
        &format!("{VALID}offset.flush.interval.mss=5\n"),
        Mode::Standalone,
    );
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].warning && p[0].message.contains("offset.flush.interval.ms is set too"));
}

#[test]
fn an_offsets_file_in_new_directories_is_fine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("a/b/connect.offsets");
    let text = VALID.replace("/tmp/connect.offsets", &f.display().to_string());
    assert_eq!(worker_problems(&text, Mode::Standalone), vec![]);
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing left behind"
    );
}

#[test]
fn a_misspelt_connector_class_gets_the_likely_one() {
    let p = connector("name=c\nconnector.class=FileStreamSorce\nfile=/tmp/x\ntopic=t\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].line, Some(2));
    assert!(
        p[0].message.contains("did you mean FileStreamSource?"),
        "{}",
        p[0].message
    );
}

#[test]
fn a_misspelt_connector_key_gets_the_likely_one() {
    let p = connector(
        "name=c\nconnector.class=FileStreamSink\nfile=/tmp/x\ntopicz=t\nextra.setting=1\n",
    );
    let named: Vec<String> = p.iter().map(ToString::to_string).collect();
    assert!(named.iter().any(|t| t.starts_with("c.properties:4: topicz:")
        && t.contains("did you mean topics?")), "{named:#?}");
    assert!(
        !named.iter().any(|t| t.contains("extra.setting")),
        "{named:#?}"
    );
    // Accepted in place of `topic`, as tutorials write it: no problem.
    assert_eq!(
        connector("name=c\nconnector.class=FileStreamSource\nfile=/tmp/x\ntopics=t\n"),
        vec![]
    );
}

#[test]
fn names_used_twice_and_loops_are_found_together() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let data = dir.path().join("data.txt");
    let source = write(
        "source.properties",
        &format!(
            "name=a\nconnector.class=FileStreamSource\nfile={}\ntopic=t\n",
            data.display()
        ),
    );
    let sink = write(
        "sink.properties",
        &format!(
            "name=a\nconnector.class=FileStreamSink\nfile={}\ntopics=t\n",
            data.display()
        ),
    );
    let (_, p) = check_connector_files(&[source, sink], true);
    let text: Vec<String> = p.iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("sink.properties:1: name: connector name a is also used by")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("sink.properties:3: file:") && t.contains("go round for ever")),
        "{text:#?}"
    );
}

/// What happens to one key of a valid file.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Kept,
    /// One character left out (never a key of its own).
    Misspelt(usize),
    Missing,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        3 => Just(Fate::Kept),
        1 => (0usize..40).prop_map(Fate::Misspelt),
        1 => Just(Fate::Missing),
    ]
}

const REQUIRED: &[&str] = &[
    "key.converter",
    "value.converter",
    "offset.storage.file.filename",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Random mixtures of kept, misspelt and missing keys: every misspelt
    /// key and every missing required one is named, with a suggestion for
    /// the misspelt ones; a file without either has no error.
    #[test]
    fn every_problem_is_named(fates in prop::collection::vec(fate(), 6)) {
        let entries: Vec<(&str, &str)> = VALID
            .lines()
            .filter_map(|l| l.split_once('='))
            .collect();
        let mut text = String::new();
        let mut expect: Vec<String> = Vec::new();
        for ((k, v), f) in entries.iter().zip(&fates) {
            match f {
                Fate::Kept => text.push_str(&format!("{k}={v}\n")),
                Fate::Missing => {
                    if REQUIRED.contains(k) {
                        expect.push((*k).to_string());
                    }
                }
                Fate::Misspelt(i) => {
                    let at = i % k.len();
                    let bad = format!("{}{}", &k[..at], &k[at + 1..]);
                    text.push_str(&format!("{bad}={v}\n"));
                    expect.push(bad);
                    if REQUIRED.contains(k) {
                        expect.push((*k).to_string());
                    }
                }
            }
        }
        let problems = worker_problems(&text, Mode::Standalone);
        let errors: Vec<&Problem> = problems.iter().filter(|p| !p.warning).collect();
        for key in &expect {
            let named = errors.iter().find(|p| p.key.as_deref() == Some(key.as_str()));
            prop_assert!(named.is_some(), "{} not named in {:?}", key, errors);
            if !REQUIRED.contains(&key.as_str()) {
                let m = &named.map(|p| p.message.clone()).unwrap_or_default();
                prop_assert!(m.contains("did you mean"), "{}", m);
            }
        }
        prop_assert_eq!(errors.is_empty(), expect.is_empty(), "{:?}", errors);
    }
}
