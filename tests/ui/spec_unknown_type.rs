b24_macros::generate!(spec = "specs/unknown_type", base = file);

fn main() {}
