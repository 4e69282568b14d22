// A spec folder next to this file generates code that compiles and works.
b24_macros::generate!(spec = "specs/minimal", base = file);

use b24_core::Method;

fn main() {
    let request = imopenlines::thing_get::Request::new(5);
    assert_eq!(request.params()["ID"], 5);
    assert_eq!(METHODS, ["imopenlines.thing.get"]);
    let thing: imopenlines::thing_get::Thing = b24_core::decode_json(br#"{"id":"7","x":1}"#).unwrap();
    assert_eq!(thing.id, 7);
    assert_eq!(thing.extra["x"], 1);
}
