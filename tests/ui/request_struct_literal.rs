// Requests are #[non_exhaustive]: they cannot be built field by field, only through `new`.
use b24_openlines::imopenlines::dialog_get::{Request, Target};

fn main() {
    let _ = Request { target: Target::ChatId(1) };
}
