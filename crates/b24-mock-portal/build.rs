//! Embeds every spec file under `spec/` (a symlink to the workspace's `spec/` folder, copied
//! by `cargo package`) so the portal serves the methods it was built with, from anywhere.
//! The files are the ones b24-spec's own [`b24_spec::spec_files`] finds.
use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let spec_dir = manifest.join("spec");
    println!("cargo:rerun-if-changed=spec");
    let files = b24_spec::spec_files(&spec_dir)?;
    let mut code = String::from("/// Spec files embedded at build time: (path under `spec/`, contents).\nstatic EMBEDDED_SPECS: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f.strip_prefix(&spec_dir)?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        let abs = f.canonicalize().unwrap_or_else(|_| f.clone());
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )?;
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("embedded_specs.rs");
    std::fs::write(out, code)?;
    Ok(())
}
