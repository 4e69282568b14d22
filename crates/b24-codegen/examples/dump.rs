//! Prints the generated code of one spec file: `cargo run -p b24-codegen --example dump -- FILE`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: dump SPEC.toml");
        std::process::exit(2);
    };
    let path = std::path::Path::new(&path);
    let spec = match b24_spec::load_file(path, path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    match b24_codegen::generate(&[spec], &Default::default()).map(|t| b24_codegen::pretty(&t)) {
        Ok(Ok(code)) => println!("{code}"),
        Ok(Err(e)) => eprintln!("{e}"),
        Err(e) => eprintln!("{e}"),
    }
}
