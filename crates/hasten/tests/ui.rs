//! Compile-time checks of the route macros: each file under `tests/ui/` must fail to
//! compile with the messages in its `.stderr`; each under `tests/ui/pass/` must compile.

#[test]
fn route_macro_diagnostics() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
