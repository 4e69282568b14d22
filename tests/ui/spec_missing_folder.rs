b24_macros::generate!(spec = "specs/does_not_exist", base = file);

fn main() {}
