"""Bulk driver for fast_bitrix24: N x imopenlines.dialog.get through its own batching.

`BitrixAsync.call(method, [items])` packs the list into `batch` requests of 50 (with
`__order`) and throttles them with its own leaky bucket. The client is told the plan
(BURST, DRAIN) through its documented knobs (`request_pool_size`, `requests_per_second`).

Usage: python bulk_fast_bitrix24.py <webhook>   (env N, BURST, DRAIN)
Prints one JSON line: {"results": int, "error": str|null, "wall_s": float}.
"""
import asyncio
import json
import os
import sys
import time


def count_dialogs(res):
    """How many decoded dialogs of chat 1777 the client handed back."""
    items = res.values() if isinstance(res, dict) else res
    return sum(1 for d in items if isinstance(d, dict) and d.get("id") == 1777 and d.get("dialog_id") == "chat1777")


async def main(hook, n, burst, drain):
    from fast_bitrix24 import BitrixAsync

    b = BitrixAsync(hook, verbose=False, request_pool_size=burst, requests_per_second=drain)
    items = [{"CHAT_ID": 1777} for _ in range(n)]
    return await b.call("imopenlines.dialog.get", items)


if __name__ == "__main__":
    n = int(os.environ.get("N", "5000"))
    burst = int(float(os.environ.get("BURST", "50")))
    drain = float(os.environ.get("DRAIN", "2"))
    out = {"results": 0, "error": None}
    t = time.monotonic()
    try:
        res = asyncio.run(main(sys.argv[1], n, burst, drain))
        out["results"] = count_dialogs(res)
    except BaseException as e:  # noqa: BLE001 - any failure is a result to record
        out["error"] = f"{type(e).__name__}: {e}"[:300]
    out["wall_s"] = round(time.monotonic() - t, 3)
    print(json.dumps(out), flush=True)
