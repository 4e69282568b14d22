#!/usr/bin/env bash
# Bulk benchmark of the third-party clients against the local portal (GitHub issue 5).
#
# N x imopenlines.dialog.get (CHAT_ID=1777) through each SDK's own batching, against the
# portal binary (release build, HTTPS with the generated CA, the same config for every
# client) in three scenarios:
#   standard  burst 50, drain 2/s
#   fast      burst 50, drain 20/s
#   faulty    burst 50, drain 20/s, exactly every 10th request faulted, the kinds in turn
#             (500 JSON, 502 HTML, truncated body, dropped connection)
# One portal per scenario; before each client `POST /__mock/reset` zeroes the counters,
# empties the bucket and restarts the fault rotation, so every client sees the same portal.
#
# Per (client, scenario) it prints one JSON line (stdout, or --json FILE):
#   client, scenario, wall_s, bound_s, ratio, http_requests, http_503, results, error
#   (+ faults_injected, executed: dialog.get calls the portal ran)
# and a table at the end. bound_s = max(0, ceil(N/50) - burst) / drain.
#
# Env: N (default 5000), TIMEOUT per driver (default 180 s), CLIENTS (subset of
# "fast_bitrix24 b24pysdk b24jssdk"), SCENARIOS (subset of "standard fast faulty"),
# CLIENTS_DIR (reuse an install_clients folder), PORTAL_BIN (skip
# the cargo build), RUST_DRIVER (a prebuilt bulk_driver example), KEEP=1 (keep the work folder).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
JSON_OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --json) JSON_OUT="$2"; shift 2 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
N="${N:-5000}"
TIMEOUT="${TIMEOUT:-180}"
CLIENTS="${CLIENTS:-b24-openlines fast_bitrix24 b24pysdk b24jssdk}"
SCENARIOS="${SCENARIOS:-standard fast faulty}"
BURST=50

WORK="$(mktemp -d /tmp/b24-bulk.XXXXXX)"
PORTAL_PID=""
cleanup() {
    [ -n "$PORTAL_PID" ] && kill "$PORTAL_PID" 2>/dev/null
    if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "work folder kept: $WORK" >&2; fi
}
trap cleanup EXIT
# Progress goes to stderr; stdout carries only the JSON lines and the table.
log() { printf '== %s\n' "$*" >&2; }
ROWS="$WORK/rows.jsonl"
: >"$ROWS"

# --- the portal (release build: the benchmark must not measure a debug portal) -------------
if [ -z "${PORTAL_BIN:-}" ]; then
    log "building b24-mock-portal (release)"
    (cd "$ROOT" && cargo build -q --release -p b24-mock-portal) >&2 || { echo "FAIL: cargo build" >&2; exit 1; }
    PORTAL_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/b24-mock-portal"
fi
if [[ " $CLIENTS " == *" b24-openlines "* ]] && [ -z "${RUST_DRIVER:-}" ]; then
    (cd "$ROOT" && cargo build -q --release -p b24-tests --example bulk_driver) >&2 || { echo "FAIL: cargo build bulk_driver" >&2; exit 1; }
    RUST_DRIVER="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/bulk_driver"
fi

# --- the clients ---------------------------------------------------------------------------
. "$HERE/install.sh"
if [ -n "${CLIENTS_DIR:-}" ]; then
    DIR="$CLIENTS_DIR"
    log "reusing clients in $DIR"
    client_versions "$DIR" >&2
else
    DIR="$WORK/clients"
    log "installing fast_bitrix24, b24pysdk (venv) and @bitrix24/b24jssdk (npm)"
    install_clients "$DIR" >&2 || exit 1
fi
PY="$DIR/venv/bin/python"
# ESM resolves packages from the script's folder, so the JS driver runs from the install.
cp "$HERE/bulk_b24jssdk.mjs" "$DIR/node/"

# --- scenarios -----------------------------------------------------------------------------
scenario_args() {
    case "$1" in
        standard) echo "--drain 2" ;;
        fast) echo "--drain 20" ;;
        faulty) echo "--drain 20 --fault-every 10" ;;
        *) echo "unknown scenario $1" >&2; return 1 ;;
    esac
}
scenario_drain() { case "$1" in standard) echo 2 ;; *) echo 20 ;; esac; }

start_portal() {
    local out="$WORK/portal-$1.out"
    # shellcheck disable=SC2046
    "$PORTAL_BIN" --port 0 --tls --ca-file "$WORK/ca.pem" --burst "$BURST" $(scenario_args "$1") \
        >"$out" 2>"$WORK/portal-$1.err" &
    PORTAL_PID=$!
    for _ in $(seq 1 100); do
        grep -q '^methods:' "$out" 2>/dev/null && break
        sleep 0.1
    done
    grep -q '^methods:' "$out" || { echo "FAIL: portal did not start" >&2; cat "$WORK/portal-$1.err" >&2; exit 1; }
    HOOK="$(sed -n 's/^webhook: //p' "$out")"
    ADMIN="$(sed -n 's/^admin: //p' "$out")"
}
stop_portal() { kill "$PORTAL_PID" 2>/dev/null; wait "$PORTAL_PID" 2>/dev/null; PORTAL_PID=""; }
admin() { curl -sS --max-time 10 --cacert "$WORK/ca.pem" "$@"; }

# run_driver CLIENT: runs the driver under the timeout; its JSON line goes to $WORK/driver.json.
run_driver() {
    local env=(env N="$N" BURST="$BURST" DRAIN="$DRAIN" SSL_CERT_FILE="$WORK/ca.pem"
        REQUESTS_CA_BUNDLE="$WORK/ca.pem" NODE_EXTRA_CA_CERTS="$WORK/ca.pem")
    case "$1" in
        b24-openlines) timeout -k 5 "$TIMEOUT" "${env[@]}" "$RUST_DRIVER" "$HOOK" ;;
        fast_bitrix24) timeout -k 5 "$TIMEOUT" "${env[@]}" "$PY" "$HERE/bulk_fast_bitrix24.py" "$HOOK" ;;
        b24pysdk) timeout -k 5 "$TIMEOUT" "${env[@]}" "$PY" "$HERE/bulk_b24pysdk.py" "$HOOK" ;;
        b24jssdk) (cd "$DIR/node" && timeout -k 5 "$TIMEOUT" "${env[@]}" node bulk_b24jssdk.mjs "$HOOK") ;;
        *) echo "unknown client $1" >&2; return 2 ;;
    esac >"$WORK/driver.json" 2>"$WORK/driver-$1-$2.err"
}

for scenario in $SCENARIOS; do
    DRAIN="$(scenario_drain "$scenario")"
    start_portal "$scenario"
    log "scenario $scenario: burst $BURST, $(scenario_args "$scenario") ($HOOK)"
    for client in $CLIENTS; do
        admin -X POST -H 'X-B24-Mock-Admin: 1' "${ADMIN}reset" >/dev/null || { echo "FAIL: reset" >&2; exit 1; }
        log "  $client: $N calls (timeout ${TIMEOUT}s)"
        t0=$(date +%s.%N)
        run_driver "$client" "$scenario"
        rc=$?
        t1=$(date +%s.%N)
        admin "${ADMIN}counters" >"$WORK/counters.json" || echo '{}' >"$WORK/counters.json"
        "$PY" - "$client" "$scenario" "$N" "$BURST" "$DRAIN" "$rc" "$t0" "$t1" \
            "$WORK/driver.json" "$WORK/counters.json" "$WORK/driver-$client-$scenario.err" \
            "$TIMEOUT" >>"$ROWS" <<'PY'
import json, math, sys
client, scenario, n, burst, drain, rc, t0, t1, driver, counters, err, timeout = sys.argv[1:]
n, burst, drain, rc = int(n), float(burst), float(drain), int(rc)
bound = max(0.0, math.ceil(n / 50) - burst) / drain
try:
    lines = [l for l in open(driver).read().splitlines() if l.startswith("{")]
    d = json.loads(lines[-1])
except Exception:
    d = {}
try:
    c = json.load(open(counters))
except Exception:
    c = {}
error = d.get("error")
if rc == 124 or rc == 137:
    error = f"timeout after {timeout}s" + (f" ({error})" if error else "")
elif not d:
    tail = open(err, errors="replace").read().strip().splitlines()[-1:] or [""]
    error = f"driver exited {rc} without a result: {tail[0][:200]}"
wall = d.get("wall_s", round(float(t1) - float(t0), 3))
row = {
    "client": client,
    "scenario": scenario,
    "wall_s": wall,
    "bound_s": round(bound, 3),
    "ratio": round(wall / bound, 2) if bound > 0 else None,
    "http_requests": c.get("requests"),
    "http_503": c.get("rejected_by_limiter"),
    "results": d.get("results", 0),
    "error": error,
    "faults_injected": c.get("faults_injected"),
    "executed": c.get("methods", {}).get("imopenlines.dialog.get", {}).get("executed", 0),
}
print(json.dumps(row, ensure_ascii=False))
PY
        tail -n 1 "$ROWS" >&2
    done
    stop_portal
done

# --- output --------------------------------------------------------------------------------
if [ -n "$JSON_OUT" ]; then cp "$ROWS" "$JSON_OUT"; else cat "$ROWS"; fi
echo
echo "N=$N; bound = max(0, ceil(N/50) - $BURST) / drain; clients:"
client_versions "$DIR" | sed 's/^/  /'
"$PY" - "$ROWS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
head = ["client", "scenario", "wall_s", "bound_s", "ratio", "http_requests", "http_503", "results", "error"]
cells = [[("-" if r.get(k) is None else str(r[k])) for k in head] for r in rows]
w = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(head)]
print("  ".join(h.ljust(w[i]) for i, h in enumerate(head)))
print("  ".join("-" * x for x in w))
for c in cells:
    print("  ".join(v.ljust(w[i]) if i in (0, 1, 8) else v.rjust(w[i]) for i, v in enumerate(c)))
PY
