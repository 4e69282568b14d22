// Bulk driver for @bitrix24/b24jssdk: N x imopenlines.dialog.get through
// `actions.v2.batchByChunk` (splits any number of calls into `batch` chunks of 50, one after
// the other). The client is told the plan (BURST, DRAIN) through its documented
// `restrictionParams.rateLimit` (defaults otherwise).
//
// Usage: node bulk_b24jssdk.mjs <https webhook>   (env N, BURST, DRAIN, NODE_EXTRA_CA_CERTS)
// Run from a folder where @bitrix24/b24jssdk is installed (NODE_PATH is not used by ESM).
// Prints one JSON line: {"results": int, "error": str|null, "wall_s": float}.
const n = Number(process.env.N ?? 5000)
const burst = Number(process.env.BURST ?? 50)
const drain = Number(process.env.DRAIN ?? 2)
const out = { results: 0, error: null }
const t = performance.now()
const isDialog = (d) => d && typeof d === 'object' && d.id === 1777 && d.dialog_id === 'chat1777'
try {
  const { B24Hook, ParamsFactory } = await import('@bitrix24/b24jssdk')
  const params = ParamsFactory.getDefault()
  params.rateLimit = { ...params.rateLimit, burstLimit: burst, drainRate: drain }
  const b24 = B24Hook.fromWebhookUrl(process.argv[2], { restrictionParams: params })
  const calls = Array.from({ length: n }, () => ['imopenlines.dialog.get', { CHAT_ID: 1777 }])
  const r = await b24.actions.v2.batchByChunk.make({ calls, options: { isHaltOnError: false } })
  const data = r.getData() ?? []
  out.results = data.filter(isDialog).length
  if (!r.isSuccess) out.error = `not isSuccess: ${r.getErrorMessages().slice(0, 3).join('; ')}`.slice(0, 300)
} catch (e) {
  out.error = `${e?.constructor?.name ?? 'Error'}: ${e?.code ?? ''} ${e?.message ?? e}`.slice(0, 300)
}
out.wall_s = Math.round(performance.now() - t) / 1000
console.log(JSON.stringify(out))
process.exit(0)
