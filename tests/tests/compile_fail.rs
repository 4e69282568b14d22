//! Spec mistakes are compile errors naming the file, line, column and key; invalid requests
//! do not compile. The expected messages are in `ui/*.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass_*.rs");
    t.compile_fail("ui/spec_*.rs");
    t.compile_fail("ui/request_*.rs");
    t.compile_fail("ui/client_*.rs");
    t.compile_fail("ui/unknown_*.rs");
}
