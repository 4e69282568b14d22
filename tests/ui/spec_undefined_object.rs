b24_macros::generate!(spec = "specs/undefined_object", base = file);

fn main() {}
