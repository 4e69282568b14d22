b24_macros::generate!(spec = "specs/missing_key", base = file);

fn main() {}
