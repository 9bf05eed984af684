//! README.md's tables of transforms, predicates and their settings are
//! generated from the registry; this test fails when they are stale
//! (`WEIR_BLESS=1 cargo test -p connect-transforms --test readme` rewrites
//! them).

const START: &str = "<!-- generated: plugins -->\n";
const END: &str = "<!-- end generated -->\n";

fn generated() -> String {
    let mut out = String::from("## Transformations\n\n");
    for t in connect_transforms::transforms() {
        out.push_str(&format!("### `{}`\n\n", t.class));
        let def = (t.config_def)();
        if def.keys().is_empty() {
            out.push_str("No settings.\n\n");
        } else {
            out.push_str(&def.markdown_table());
            out.push('\n');
        }
    }
    out.push_str("## Predicates\n\n");
    for p in connect_transforms::predicates() {
        out.push_str(&format!("### `{}`\n\n", p.class));
        let def = (p.config_def)();
        if def.keys().is_empty() {
            out.push_str("No settings.\n\n");
        } else {
            out.push_str(&def.markdown_table());
            out.push('\n');
        }
    }
    out
}

#[test]
fn readme_tables_match_the_registry() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let text = std::fs::read_to_string(path).expect("README.md");
    let (Some(a), Some(b)) = (text.find(START), text.find(END)) else {
        panic!("README.md lacks the generated section markers");
    };
    let fresh = format!("{}{START}{}{}", &text[..a], generated(), &text[b..]);
    if std::env::var_os("WEIR_BLESS").is_some() {
        std::fs::write(path, fresh).expect("write README.md");
        return;
    }
    assert!(
        fresh == text,
        "README.md's tables are stale: run WEIR_BLESS=1 cargo test -p connect-transforms --test readme"
    );
}
