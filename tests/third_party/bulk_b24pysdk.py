"""Bulk driver for b24pysdk: N x imopenlines.dialog.get through `Client.call_batches`.

`call_batches` splits any number of requests into `batch` chunks of 50, runs them one after
the other and merges the answers. b24pysdk has no rate-limit knobs (it retries a 503 with its
default max_retries/delays), so it runs with its defaults whatever the plan.

Usage: python bulk_b24pysdk.py <https webhook>   (env N; trust the CA with REQUESTS_CA_BUNDLE)
Prints one JSON line: {"results": int, "error": str|null, "wall_s": float}.
"""
import json
import os
import sys
import time
from urllib.parse import urlsplit


def count_dialogs(res):
    items = res.values() if isinstance(res, dict) else res
    return sum(1 for d in items if isinstance(d, dict) and d.get("id") == 1777 and d.get("dialog_id") == "chat1777")


def main(hook, n):
    from b24pysdk import BitrixWebhook, Client

    u = urlsplit(hook)
    user, secret = u.path.strip("/").split("/")[1:3]
    client = Client(BitrixWebhook(domain=u.netloc, webhook_token=f"{user}/{secret}"))
    requests = [client.imopenlines.dialog.get(chat_id=1777) for _ in range(n)]
    return client.call_batches(requests).result.result


if __name__ == "__main__":
    n = int(os.environ.get("N", "5000"))
    out = {"results": 0, "error": None}
    t = time.monotonic()
    try:
        out["results"] = count_dialogs(main(sys.argv[1], n))
    except BaseException as e:  # noqa: BLE001 - any failure is a result to record
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    out["wall_s"] = round(time.monotonic() - t, 3)
    print(json.dumps(out), flush=True)
