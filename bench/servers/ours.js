'use strict'
/**
 * (a) scim-router: scimRouter(new MemoryAdapter(), { authenticate: bearerToken(token) }) mounted at
 * /scim/v2 in Express 5. Preloaded through the adapter's own API (adapter.create).
 * The TypeScript sources are loaded through ts-node (transpile only; tsconfig target ES2022, so the
 * emitted code is the same native async/class-field code the published build ships).
 */
const path = require('node:path')
// BENCH_OURS_SRC: measure another checkout's src/ (e.g. a candidate fix) against the same baselines.
const srcDir = path.resolve(process.env.BENCH_OURS_SRC || path.join(__dirname, '..', '..', 'src'))
require('../../scripts/codegen')
require('ts-node').register({ transpileOnly: true, project: path.join(srcDir, '..', 'tsconfig.json') })
const express = require('express')
const { scimRouter, MemoryAdapter, bearerToken } = require(srcDir)
const { serve, data, token } = require('../lib/child')

async function main() {
  const adapter = new MemoryAdapter()
  const ctx = {} // the router's default context for bearerToken(token): no tenant → the 'default' tenant
  const t0 = Date.now()
  const users = []
  const userUnique = [{ path: 'userName', caseExact: false }]
  for (let i = 0; i < data.USERS; i++) {
    const stored = await adapter.create({ resourceType: 'User', attributes: data.userAttributes(i), unique: userUnique }, ctx)
    users.push({ id: stored.id, userName: stored.attributes.userName })
  }
  let bigGroupId
  const groupUnique = [{ path: 'displayName', caseExact: false }]
  for (let g = 0; g < data.GROUPS; g++) {
    const spec = data.groupSpec(g)
    const members = spec.members.map((i) => ({ value: users[i].id }))
    const stored = await adapter.create({ resourceType: 'Group', attributes: { displayName: spec.displayName, members }, unique: groupUnique }, ctx)
    if (g === 0) bigGroupId = stored.id
  }
  const app = express()
  app.disable('x-powered-by')
  app.use('/scim/v2', scimRouter(adapter, { authenticate: bearerToken(token()) }))
  serve(require('node:http').createServer(app), { users, bigGroupId, seedMs: Date.now() - t0 })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
