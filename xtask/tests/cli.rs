//! The command line: exit codes, and that a failed import writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/b24-docs-import/tests/fixtures")
        .join(rel)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtask-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_command_has_help() {
    for cmd in [
        &["--help"][..],
        &["import", "--help"],
        &["check", "--help"],
        &["drift", "--help"],
    ] {
        let out = xtask().args(cmd).output().unwrap();
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{cmd:?}"
        );
    }
}

#[test]
fn import_writes_valid_pages_and_nothing_for_broken_ones() {
    let out_dir = temp_dir("import");
    let broken = out_dir.join("broken.md");
    std::fs::write(&broken, "# Сломано imopenlines.broken.get\n\n> Scope: [`imopenlines`](x)\n\n## Параметры метода\n\n#|\n|| **Название** | **Описание** ||\n||  | b ||\n|#\n").unwrap();
    let good =
        fixture("current/api-reference/imopenlines/openlines/sessions/imopenlines-session-open.md");
    let spec_dir = out_dir.join("spec");
    let out = xtask()
        .arg("import")
        .arg(&good)
        .arg(&broken)
        .arg("--out")
        .arg(&spec_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.md:9: cannot import"), "{stderr}");
    assert!(spec_dir.join("imopenlines/session.open.toml").is_file());
    assert!(!spec_dir.join("imopenlines/broken.get.toml").exists());
    // The written file passes `check`; a second import does not overwrite it.
    let out = xtask()
        .arg("check")
        .arg("--spec")
        .arg(&spec_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = xtask()
        .arg("import")
        .arg(&good)
        .arg("--out")
        .arg(&spec_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&out_dir);
}

#[test]
fn check_fails_on_an_example_that_does_not_decode() {
    let dir = temp_dir("check");
    let spec_dir = dir.join("spec/imopenlines");
    std::fs::create_dir_all(&spec_dir).unwrap();
    std::fs::write(
        spec_dir.join("test.get.toml"),
        "method = \"imopenlines.test.get\"\nscope = \"imopenlines\"\nsummary = \"s\"\ndocs = \"https://example.invalid\"\nkind = \"read\"\n\n[result]\ntype = \"integer\"\ndescription = \"d\"\n\n[[examples]]\nname = \"bad\"\ndescription = \"d\"\nstatus = 200\nbody = '{\"result\": \"abc\"}'\n",
    )
    .unwrap();
    let out = xtask()
        .arg("check")
        .arg("--spec")
        .arg(dir.join("spec"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("result: does not decode as `integer`"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_passes_on_the_workspace_specs() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let out = xtask()
        .arg("check")
        .arg("--spec")
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `drift --spec DIR` on a folder that is not `spec/`, against a checkout whose pages lie in
/// other folders than the specs' `docs` links say: each page is found by its method, an
/// imported spec does not drift, an edited one does (exit code 1, the finding printed), and
/// docs-only methods are listed from the covered section and namespace only.
#[test]
fn drift_compares_any_spec_folder() {
    let dir = temp_dir("drift");
    let fixtures = fixture("current/api-reference/imopenlines");
    let docs = dir.join("docs");
    for (from, to) in [
        (
            "openlines/sessions/imopenlines-session-open.md",
            "sessions/open.md",
        ),
        (
            "openlines/sessions/imopenlines-dialog-get.md",
            "sessions/dialog.md",
        ),
        (
            "imconnector/imconnector-register.md",
            "connectors/register.md",
        ),
    ] {
        let target = docs.join("api-reference").join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join(from), &target).unwrap();
    }
    let spec_dir = dir.join("specs");
    let out = xtask()
        .arg("import")
        .arg(fixtures.join("openlines/sessions/imopenlines-session-open.md"))
        .arg("--out")
        .arg(&spec_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drift = |only_specced: bool| {
        let mut cmd = xtask();
        cmd.arg("drift").arg(&docs).arg("--spec").arg(&spec_dir);
        if only_specced {
            cmd.arg("--only-specced");
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, stdout) = drift(true);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("1 method pages read, 0 differences"),
        "{stdout}"
    );
    let (code, stdout) = drift(false);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("+ method `imopenlines.dialog.get`: in the docs, not in the spec"),
        "{stdout}"
    );
    assert!(!stdout.contains("imconnector.register"), "{stdout}");
    let file = spec_dir.join("imopenlines/session.open.toml");
    let toml = std::fs::read_to_string(&file).unwrap();
    let edited = toml.replacen(
        "name = \"USER_CODE\"\ntype = \"string\"",
        "name = \"USER_CODE\"\ntype = \"integer\"",
        1,
    );
    assert_ne!(edited, toml);
    std::fs::write(&file, edited).unwrap();
    let (code, stdout) = drift(true);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "~ parameter `USER_CODE`: changed: type `string` in the docs, `integer` in the spec"
        ),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
