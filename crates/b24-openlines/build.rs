//! Rebuilds the crate when a spec file is added or removed (editing one is tracked by the
//! macro's `include_bytes!`).
fn main() {
    println!("cargo:rerun-if-changed=spec");
}
