//! Adding, editing and removing a spec file regenerates the code on the next `cargo build`.
//!
//! Builds a small crate that invokes the macro over a spec folder (with the same `build.rs`
//! as `b24-openlines`), then changes the folder and checks what the rebuilt binary prints.

use std::path::{Path, PathBuf};
use std::process::Command;

fn spec(method: &str, example: &str) -> String {
    format!(
        r#"method = "{method}"
scope = "imopenlines"
summary = "Probe."
docs = "https://example.invalid"
kind = "read"

[result]
type = "boolean"
description = "true"

[[examples]]
name = "ok"
description = "probe"
status = 200
body = '{{"result": {example}}}'
"#
    )
}

fn run(dir: &Path, target: &Path) -> String {
    let out = Command::new(env!("CARGO"))
        .args(["run", "--quiet"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "probe build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    // Make sure the new mtime is visibly newer than the last build on coarse filesystems.
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

#[test]
fn adding_editing_and_removing_a_spec_regenerates() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = workspace.canonicalize().unwrap();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join("regen-probe");
    // Shares compiled dependencies with the compile-fail tests.
    let target = tmp.join("../tests/trybuild");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            r#"[package]
name = "regen-probe"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
b24-core = {{ path = "{0}/crates/b24-core" }}
b24-macros = {{ path = "{0}/crates/b24-macros" }}

[workspace]
"#,
            workspace.display()
        ),
    )
    .unwrap();
    std::fs::copy(workspace.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::copy(
        workspace.join("crates/b24-openlines/build.rs"),
        dir.join("build.rs"),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"b24_macros::generate!(spec = "spec");
fn main() {
    println!("{}", METHODS.join(","));
    println!("{}", imopenlines::a_get::EXAMPLES[0].body);
}
"#,
    )
    .unwrap();
    let a = dir.join("spec/imopenlines/a.get.toml");
    let b = dir.join("spec/imopenlines/b.get.toml");
    write(&a, &spec("imopenlines.a.get", "true"));
    assert_eq!(run(&dir, &target), "imopenlines.a.get\n{\"result\": true}");

    write(&b, &spec("imopenlines.b.get", "true"));
    assert_eq!(
        run(&dir, &target),
        "imopenlines.a.get,imopenlines.b.get\n{\"result\": true}",
        "an added file is picked up"
    );

    write(&a, &spec("imopenlines.a.get", "false"));
    assert_eq!(
        run(&dir, &target),
        "imopenlines.a.get,imopenlines.b.get\n{\"result\": false}",
        "an edited file is picked up"
    );

    std::fs::remove_file(&b).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(
        run(&dir, &target),
        "imopenlines.a.get\n{\"result\": false}",
        "a removed file is dropped"
    );
}
