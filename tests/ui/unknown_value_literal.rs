// The payload of a generated enum's `Unknown` is opaque: a match cannot compare it with an
// undocumented value's text (an arm that would silently stop running once a later spec gives
// the value its own variant), and code cannot build an `Unknown` that `parse` would not give
// (`Unknown("owner")` next to `Owner`).
use b24_openlines::imopenlines::dialog_get::ChatRole;

fn is_superhero(role: &ChatRole) -> bool {
    matches!(role, ChatRole::Unknown(v) if v == "superhero")
}

fn main() {
    let role = ChatRole::Unknown("owner".into());
    assert!(!is_superhero(&role));
}
