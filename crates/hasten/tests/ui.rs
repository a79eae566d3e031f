//! Compile-time checks of the route macros: each file under `tests/ui/` must fail to
//! compile with the messages in its `.stderr`; each under `tests/ui/pass/` must compile.
//!
//! The expected messages are the workspace build's (`cargo test --workspace`, where the
//! examples turn every feature on): rustc names the types it lists in a message
//! through the crates it loaded, so a build with fewer features words some differently.

#[test]
fn route_macro_diagnostics() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
