//! The crate root stays small, and the README lists exactly what it holds.

use std::collections::BTreeSet;
use std::path::Path;

/// The names `src/lib.rs` re-exports at the root from hasten's own modules (not the
/// macros, not other crates' items).
fn root_names() -> BTreeSet<String> {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut names = BTreeSet::new();
    for stmt in lib.split(';') {
        // A root item starts its line: the modules' items are indented.
        let Some(at) = stmt.find("\npub use ") else {
            continue;
        };
        let path = stmt[at + "\npub use ".len()..].trim();
        let (module, rest) = path.split_once("::").unwrap_or((path, ""));
        let own = ![
            "hasten_macros",
            "bytes",
            "http",
            "schemars",
            "serde_json",
            "crate",
        ]
        .contains(&module);
        if !own {
            continue;
        }
        let list = rest.trim_start_matches('{').trim_end_matches('}');
        names.extend(
            list.split(',')
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        );
    }
    names
}

fn readme_names() -> BTreeSet<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let start = readme
        .find("<!-- root-names")
        .expect("the README lists the root names");
    let start = start + readme[start..].find("-->").unwrap() + 3;
    let end = readme.find("<!-- /root-names -->").unwrap();
    readme[start..end]
        .split(',')
        .map(|n| n.trim().trim_matches('`').to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

#[test]
fn the_readme_lists_the_crate_roots_names() {
    let root = root_names();
    assert_eq!(root, readme_names());
    assert!(
        root.len() <= 20,
        "the root holds what handlers touch: {} names, {root:?}",
        root.len()
    );
}
