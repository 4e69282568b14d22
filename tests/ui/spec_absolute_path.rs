b24_macros::generate!(spec = "/etc/spec");

fn main() {}
