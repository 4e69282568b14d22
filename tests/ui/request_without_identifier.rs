// The docs' DIALOG_ID_EMPTY is impossible: a request without an identifier does not compile.
use b24_openlines::imopenlines::dialog_get::Request;

fn main() {
    let _ = Request::new();
}
