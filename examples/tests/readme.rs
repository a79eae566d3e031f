//! The README's Quick Start is `examples/quickstart.rs`, character for character, so the
//! program a reader copies is the one CI builds and runs (`tests/readme/quickstart.sh`
//! then sends it the README's requests and compares the answers).

#[test]
fn the_quick_start_snippet_is_the_quickstart_example() {
    let readme = include_str!("../../README.md");
    let marker = "<!-- quickstart:";
    let after = &readme[readme.find(marker).expect("the quickstart marker")..];
    let start = after.find("```rust,no_run\n").expect("the Rust block") + "```rust,no_run\n".len();
    let snippet = &after[start..];
    let snippet = &snippet[..snippet.find("\n```\n").expect("the block's end") + 1];
    assert_eq!(snippet, include_str!("../quickstart.rs"));
}
