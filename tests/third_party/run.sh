#!/usr/bin/env bash
# Third-party Bitrix24 clients against the local portal (crates/b24-mock-portal).
#
# In a throwaway folder under /tmp it installs fast_bitrix24 and b24pysdk (PyPI, in a venv)
# and @bitrix24/b24jssdk (npm), starts the portal binary (plain HTTP for fast_bitrix24, HTTPS
# with the generated CA for the SDKs that demand https), and with each client calls
# imopenlines.dialog.get directly, with an unknown chat (expects ACCESS_ERROR) and in a
# batch, asserting on the client's own decoded answer. Exits non-zero if any check fails.
#
# Env: KEEP=1 keeps the work folder; PORTAL_BIN=<path> skips the cargo build.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d /tmp/b24-third-party.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "work folder kept: $WORK"; fi
}
trap cleanup EXIT
log() { printf '\n== %s\n' "$*"; }
T0=$(date +%s)

# --- the portal -----------------------------------------------------------------------------
if [ -z "${PORTAL_BIN:-}" ]; then
    log "building b24-mock-portal"
    (cd "$ROOT" && cargo build -q -p b24-mock-portal) || { echo "FAIL: cargo build"; exit 1; }
    PORTAL_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/b24-mock-portal"
fi

# start_portal <name> [args...]: starts the binary on a free port, waits for its URL lines.
start_portal() {
    local name="$1"; shift
    "$PORTAL_BIN" --port 0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=("$!")
    for _ in $(seq 1 100); do
        grep -q '^methods:' "$WORK/$name.out" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "FAIL: portal $name did not start"; cat "$WORK/$name.err"; exit 1
}
start_portal plain
start_portal tls --tls --ca-file "$WORK/ca.pem"
HTTP_HOOK="$(sed -n 's/^webhook: //p' "$WORK/plain.out")"
HTTPS_HOOK="$(sed -n 's/^webhook: //p' "$WORK/tls.out")"
CA="$(sed -n 's/^ca: //p' "$WORK/tls.out")"
echo "plain portal: $HTTP_HOOK"
echo "tls portal:   $HTTPS_HOOK (CA $CA)"

# --- installs -------------------------------------------------------------------------------
log "installing fast_bitrix24 and b24pysdk (venv) and @bitrix24/b24jssdk (npm)"
T1=$(date +%s)
. "$ROOT/tests/third_party/install.sh"
install_clients "$WORK" || exit 1
T2=$(date +%s)

# --- the clients ----------------------------------------------------------------------------
cat >"$WORK/fast_bitrix24_check.py" <<'PY'
import asyncio, sys
import aiohttp
from fast_bitrix24 import BitrixAsync
from fast_bitrix24.server_response import ErrorInServerResponseException

failures = 0
def check(name, cond, detail=""):
    global failures
    print(("PASS" if cond else "FAIL") + f" fast_bitrix24: {name}" + ("" if cond else f" -- {detail}"))
    failures += 0 if cond else 1

async def main(hook):
    b = BitrixAsync(hook, verbose=False)
    # Direct call (raw=True posts JSON to <hook>imopenlines.dialog.get and returns the envelope).
    r = await b.call("imopenlines.dialog.get", {"CHAT_ID": 1777}, raw=True)
    check("direct call by CHAT_ID", r["result"]["id"] == 1777 and r["result"]["dialog_id"] == "chat1777", r)
    check("direct call has the time block", isinstance(r.get("time", {}).get("operating"), float), r.get("time"))
    # Its default call() wraps the call into a batch with __order in every command.
    r = await b.call("imopenlines.dialog.get", {"USER_CODE": "livechat|1|1373|211"})
    got = r.get("order0000000000", r)
    check("call() through its own batch", got.get("id") == 1777, r)
    # Unknown chat, directly: aiohttp raises for the 400.
    try:
        await b.call("imopenlines.dialog.get", {"CHAT_ID": 999999}, raw=True)
        check("unknown chat -> HTTP 400", False, "no error")
    except aiohttp.ClientResponseError as e:
        check("unknown chat -> HTTP 400", e.status == 400, e)
    # Unknown chat through call(): the batch's result_error.
    try:
        await b.call("imopenlines.dialog.get", {"CHAT_ID": 999999})
        check("unknown chat -> ACCESS_ERROR", False, "no error")
    except ErrorInServerResponseException as e:
        errs = e.args[0]
        first = next(iter(errs.values()))
        check("unknown chat -> ACCESS_ERROR", first.get("error") == "ACCESS_ERROR", errs)
    # Explicit batch with a $result reference.
    res = await b.call_batch({"halt": 0, "cmd": {
        "a": "imopenlines.dialog.get?CHAT_ID=1777",
        "b": "imopenlines.dialog.get?DIALOG_ID=chat$result[a][id]",
        "c": "imopenlines.dialog.get?SESSION_ID=1800",
    }})
    check("call_batch", res["a"]["id"] == 1777 and res["b"]["dialog_id"] == "chat1777" and res["c"]["id"] == 2043, res.keys())
    # A batch with a failing command: fast_bitrix24 raises with the command's error.
    try:
        await b.call_batch({"halt": 0, "cmd": {"ok": "imopenlines.dialog.get?CHAT_ID=1777", "bad": "imopenlines.dialog.get?CHAT_ID=5"}})
        check("call_batch with an unknown chat", False, "no error")
    except ErrorInServerResponseException as e:
        check("call_batch with an unknown chat", e.args[0].get("bad", {}).get("error") == "ACCESS_ERROR", e.args)

asyncio.run(main(sys.argv[1]))
sys.exit(1 if failures else 0)
PY

cat >"$WORK/b24pysdk_check.py" <<'PY'
import sys
from urllib.parse import urlsplit
from b24pysdk import BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIError

failures = 0
def check(name, cond, detail=""):
    global failures
    print(("PASS" if cond else "FAIL") + f" b24pysdk: {name}" + ("" if cond else f" -- {detail}"))
    failures += 0 if cond else 1

hook = urlsplit(sys.argv[1])
user, secret = hook.path.strip("/").split("/")[1:3]
client = Client(BitrixWebhook(domain=hook.netloc, webhook_token=f"{user}/{secret}"))
dialog = client.imopenlines.dialog
for kw in ({"chat_id": 1777}, {"dialog_id": "chat1777"}, {"session_id": 1743}, {"user_code": "livechat|1|1373|211"}):
    req = dialog.get(**kw)
    check(f"dialog.get({kw})", req.result["id"] == 1777 and req.result["dialog_id"] == "chat1777", req.result)
t = dialog.get(chat_id=1364).time
check("time block parsed strictly", t.date_start.utcoffset() is not None and t.operating is not None and t.operating_reset_at is not None, t)
try:
    dialog.get(chat_id=999999).result
    check("unknown chat -> ACCESS_ERROR", False, "no error")
except BitrixAPIError as e:
    check("unknown chat -> ACCESS_ERROR", e.json_response.get("error") == "ACCESS_ERROR" and e.status_code == 400, (type(e), e.json_response))
batch = client.call_batch({
    "a": dialog.get(chat_id=1777),
    "b": dialog.get(dialog_id="chat1364"),
    "x": dialog.get(chat_id=5),
}).result
check("call_batch results", batch.result["a"]["id"] == 1777 and batch.result["b"]["id"] == 1364, batch.result.keys())
check("call_batch error", batch.result_error["x"]["error"] == "ACCESS_ERROR", batch.result_error)
seq = client.call_batch([dialog.get(chat_id=1777), dialog.get(session_id=1800)]).result
vals = list(seq.result.values()) if isinstance(seq.result, dict) else list(seq.result)
check("call_batch with a list", [v["id"] for v in vals] == [1777, 2043], seq.result)
sys.exit(1 if failures else 0)
PY

cat >"$WORK/node/b24jssdk_check.mjs" <<'JS'
import { B24Hook } from '@bitrix24/b24jssdk'

let failures = 0
const check = (name, cond, detail = '') => {
  console.log(`${cond ? 'PASS' : 'FAIL'} b24jssdk: ${name}${cond ? '' : ' -- ' + JSON.stringify(detail)}`)
  if (!cond) failures++
}
const b24 = B24Hook.fromWebhookUrl(process.argv[2])

for (const params of [{ CHAT_ID: 1777 }, { DIALOG_ID: 'chat1777' }, { SESSION_ID: 1743 }, { USER_CODE: 'livechat|1|1373|211' }]) {
  const r = await b24.actions.v2.call.make({ method: 'imopenlines.dialog.get', params })
  const d = r.getData()
  check(`call ${JSON.stringify(params)}`, r.isSuccess && d.result.id === 1777 && d.result.dialog_id === 'chat1777', d)
}
try {
  const r = await b24.actions.v2.call.make({ method: 'imopenlines.dialog.get', params: { CHAT_ID: 999999 } })
  check('unknown chat -> ACCESS_ERROR', !r.isSuccess && r.getErrorMessages().join().includes('access'), r.getErrorMessages())
} catch (e) {
  check('unknown chat -> ACCESS_ERROR', e.code === 'ACCESS_ERROR' && e.status === 400, { name: e?.constructor?.name, code: e.code, status: e.status })
}
const named = await b24.actions.v2.batch.make({
  calls: {
    a: { method: 'imopenlines.dialog.get', params: { CHAT_ID: 1777 } },
    b: { method: 'imopenlines.dialog.get', params: { DIALOG_ID: 'chat1364' } }
  },
  options: { isHaltOnError: false, returnAjaxResult: true }
})
const nd = named.getData()
check('batch with named calls', named.isSuccess && nd.a.getData().result.id === 1777 && nd.b.getData().result.id === 1364, Object.keys(nd))
const arr = await b24.actions.v2.batch.make({
  calls: [
    ['imopenlines.dialog.get', { SESSION_ID: 1800 }],
    ['imopenlines.dialog.get', { CHAT_ID: 5 }]
  ],
  options: { isHaltOnError: false, returnAjaxResult: false }
})
check('batch (array) reports the unknown chat', !arr.isSuccess && arr.getErrorMessages().some((m) => m.includes('do not have access')), arr.getErrorMessages())
const okArr = await b24.actions.v2.batch.make({
  calls: [['imopenlines.dialog.get', { SESSION_ID: 1800 }], ['imopenlines.dialog.get', { CHAT_ID: 1364 }]],
  options: { isHaltOnError: true, returnAjaxResult: false }
})
const od = okArr.getData()
check('batch (array) results', okArr.isSuccess && JSON.stringify(od).includes('"id":2043') && JSON.stringify(od).includes('"id":1364'), od)
process.exit(failures ? 1 : 0)
JS

RESULTS=()
run_client() {
    local name="$1"; shift
    log "$name"
    local t=$(date +%s)
    if timeout 180 "$@"; then RESULTS+=("PASS  $name ($(( $(date +%s) - t ))s)"); else RESULTS+=("FAIL  $name"); fi
}
run_client fast_bitrix24 "$WORK/venv/bin/python" "$WORK/fast_bitrix24_check.py" "$HTTP_HOOK"
run_client "b24pysdk (https)" env SSL_CERT_FILE="$CA" REQUESTS_CA_BUNDLE="$CA" \
    "$WORK/venv/bin/python" "$WORK/b24pysdk_check.py" "$HTTPS_HOOK"
run_client "@bitrix24/b24jssdk (https)" env NODE_EXTRA_CA_CERTS="$CA" \
    sh -c "cd '$WORK/node' && node b24jssdk_check.mjs '$HTTPS_HOOK'"

log "summary (installs $(( T2 - T1 ))s, total $(( $(date +%s) - T0 ))s)"
status=0
for r in "${RESULTS[@]}"; do
    echo "$r"
    case "$r" in FAIL*) status=1 ;; esac
done
exit $status
