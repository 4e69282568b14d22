b24_macros::generate!(spec = "specs/bad_toml", base = file);

fn main() {}
