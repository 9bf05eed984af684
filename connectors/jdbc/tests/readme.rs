//! README.md's setting tables are generated from the connectors' config
//! definitions; this test fails when they are stale
//! (`WEIR_BLESS=1 cargo test -p connector-jdbc --test readme` rewrites them).

const START: &str = "<!-- generated: settings -->\n";
const END: &str = "<!-- end generated -->\n";

#[test]
fn readme_tables_match_the_definitions() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let text = std::fs::read_to_string(path).expect("README.md");
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        panic!("README.md lacks the generated section markers");
    };
    let generated = format!(
        "### Source: `{}`\n\n{}\n### Sink: `{}`\n\n{}\n",
        connector_jdbc::SOURCE.class,
        (connector_jdbc::SOURCE.config_def)().markdown_table(),
        connector_jdbc::SINK.class,
        (connector_jdbc::SINK.config_def)().markdown_table()
    );
    let fresh = format!("{}{START}{generated}{}", &text[..a], &text[b..]);
    if std::env::var_os("WEIR_BLESS").is_some() {
        std::fs::write(path, fresh).expect("write README.md");
        return;
    }
    assert!(
        fresh == text,
        "README.md's tables are stale: run WEIR_BLESS=1 cargo test -p connector-jdbc --test readme"
    );
}
