#!/usr/bin/env bash
# A downstream crate that depends on the *packaged* b24-openlines only, as a user's would.
#
# Unpacks the .crate files that `cargo package` left in target/package/ into a throwaway
# folder, makes a crate outside the workspace whose only b24 dependency is `b24-openlines`
# (patched to the unpacked .crate, with the other b24-* crates it needs patched the same way),
# takes its `src/main.rs` verbatim from the first ```rust block of README.md, builds it, starts
# the local portal binary and runs it with B24_WEBHOOK_URL pointing there.
#
# Run after `cargo package ... -p b24-openlines` (as .ci/run does). Env: KEEP=1 keeps the folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d /tmp/b24-downstream.XXXXXX)"
PORTAL_PID=""
cleanup() {
    if [ -n "$PORTAL_PID" ]; then kill "$PORTAL_PID" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "work folder kept: $WORK"; fi
}
trap cleanup EXIT

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n1)"
mkdir -p "$WORK/crates" "$WORK/app/src"
patches=""
for krate in "$TARGET"/package/b24-*-"$version".crate; do
    name="$(basename "$krate" "-$version.crate")"
    # The local portal is a dev tool, not something the client may pull in.
    [ "$name" = b24-mock-portal ] && continue
    tar -xzf "$krate" -C "$WORK/crates"
    patches+="$name = { path = \"$WORK/crates/$name-$version\" }"$'\n'
done
test -d "$WORK/crates/b24-openlines-$version" || { echo "FAIL: no packaged b24-openlines in $TARGET/package"; exit 1; }

cat >"$WORK/app/Cargo.toml" <<TOML
[package]
name = "readme-user"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
b24-openlines = "$version"
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }

[patch.crates-io]
$patches
[workspace]
TOML
# The workspace's lock file pins the same versions the workspace was tested with.
cp "$ROOT/Cargo.lock" "$WORK/app/Cargo.lock"
# The README's first Rust block, fences removed, is the program.
awk '/^```rust/{inside=1; next} inside && /^```/{exit} inside{print}' "$ROOT/README.md" >"$WORK/app/src/main.rs"
test -s "$WORK/app/src/main.rs" || { echo "FAIL: no Rust block in README.md"; exit 1; }

echo "== building the README's example as a downstream crate (packaged b24-openlines $version)"
(cd "$WORK/app" && CARGO_TARGET_DIR="$TARGET/downstream" cargo build --quiet)
grep -q "b24-openlines" "$WORK/app/Cargo.lock"
if grep -q 'name = "b24-mock-portal"' "$WORK/app/Cargo.lock"; then
    echo "FAIL: the packaged client pulls in the local portal"; exit 1
fi

echo "== running it against the local portal"
PORTAL_BIN="$TARGET/debug/b24-mock-portal"
test -x "$PORTAL_BIN" || (cd "$ROOT" && cargo build -q -p b24-mock-portal)
"$PORTAL_BIN" --port 0 >"$WORK/portal.out" 2>"$WORK/portal.err" &
PORTAL_PID=$!
for _ in $(seq 1 100); do
    grep -q '^methods:' "$WORK/portal.out" 2>/dev/null && break
    sleep 0.1
done
HOOK="$(sed -n 's/^webhook: //p' "$WORK/portal.out")"
test -n "$HOOK" || { echo "FAIL: portal did not start"; cat "$WORK/portal.err"; exit 1; }
B24_WEBHOOK_URL="$HOOK" "$TARGET/downstream/debug/readme-user" | tee "$WORK/run.out"
# The local portal knows the README's dialog: the program must have decoded it.
grep -q '^dialog [0-9][0-9]*: ' "$WORK/run.out" || { echo "FAIL: the README example did not decode the dialog"; exit 1; }
echo "downstream crate OK"
