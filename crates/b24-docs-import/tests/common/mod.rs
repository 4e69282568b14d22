//! Where the shared docs checkouts are, for every test of this crate: `../shared/b24-rest-docs`
//! beside the workspace, or `B24_REST_DOCS`.

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder holding `current/`, `2024-09-06/`, `en/` and `corpus/`.
pub fn docs_base() -> PathBuf {
    std::env::var_os("B24_REST_DOCS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/b24-rest-docs"))
}

/// One checkout of it (`current`, `corpus/2024-09-06`...), which must hold `api-reference/`.
pub fn checkout(revision: &str) -> PathBuf {
    let dir = docs_base().join(revision);
    assert!(
        dir.join("api-reference").is_dir(),
        "the docs checkout {} is missing: set B24_REST_DOCS to the folder holding `current`, `2024-09-06`, `en` and `corpus/`",
        dir.display()
    );
    dir
}
