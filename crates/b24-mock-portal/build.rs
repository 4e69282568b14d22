//! Embeds every spec file under `spec/` (a symlink to the workspace's `spec/` folder, copied
//! by `cargo package`) so the portal serves the methods it was built with, from anywhere.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let spec_dir = manifest.join("spec");
    println!("cargo:rerun-if-changed=spec");
    let mut files = Vec::new();
    collect(&spec_dir, &mut files);
    files.sort();
    let mut code = String::from("/// Spec files embedded at build time: (path under `spec/`, contents).\nstatic EMBEDDED_SPECS: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&spec_dir).expect("under spec/");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("embedded_specs.rs");
    std::fs::write(out, code).expect("write embedded_specs.rs");
}
