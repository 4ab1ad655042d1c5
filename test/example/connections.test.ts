/**
 * Issue 14: the example app's admin API at /app/connections (ADMIN_TOKEN) and the SCIM_TOKEN of
 * the default tenant working beside per-connection tokens (RFC 7644 §2 authentication).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Pool } from 'pg'
import request from 'supertest'
import { Connections } from '../../src'
import { createExampleApp } from '../../examples/app'
import { USER, defaultStores } from '../e2e/harness'

const TOKEN = 'static-token'
const ADMIN = 'admin-secret'

function setup(options: { batch?: number } = {}) {
  let now = Date.parse('2026-01-01T00:00:00Z')
  const { adapter, connections: store } = defaultStores()
  const connections = new Connections(store, { now: () => now })
  const example = createExampleApp({ adapter, token: TOKEN, connections, adminToken: ADMIN, ...(options.batch ? { decommissionBatchSize: options.batch } : {}) })
  const { app } = example
  const admin = {
    post: (path: string, body?: unknown) => request(app).post(`/app/connections${path}`).set('Authorization', `Bearer ${ADMIN}`).send(body as object),
    get: (path = '') => request(app).get(`/app/connections${path}`).set('Authorization', `Bearer ${ADMIN}`),
    patch: (path: string, body?: unknown) => request(app).patch(`/app/connections${path}`).set('Authorization', `Bearer ${ADMIN}`).send(body as object),
    delete: (path: string, body?: unknown) => request(app).delete(`/app/connections${path}`).set('Authorization', `Bearer ${ADMIN}`).send(body as object),
  }
  const scim = (token: string, path = '/scim/v2/Users') => request(app).get(path).set('Authorization', `Bearer ${token}`)
  const provision = (token: string, userName: string, base = '/scim/v2') =>
    request(app).post(`${base}/Users`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/scim+json').send(JSON.stringify({ schemas: [USER], userName }))
  return { app, example, admin, scim, provision, adapter, advance: (ms: number) => (now += ms) }
}

describe('example app: /app/connections (issue 14)', () => {
  it('POST creates 201 {id, tenant, baseUrl, token}; GET lists without token; the token provisions its own tenant only', async () => {
    const t = setup()
    const created = await t.admin.post('', { tenant: 'acme' })
    expect(created.status).toBe(201)
    expect(Object.keys(created.body).sort()).toEqual(['baseUrl', 'id', 'tenant', 'token'])
    expect(created.body.baseUrl).toMatch(new RegExp(`/scim/v2/c/${created.body.id}$`))
    const { id, token } = created.body
    expect((await t.provision(token, 'a@acme.test', `/scim/v2/c/${id}`)).status).toBe(201)
    expect((await t.provision(TOKEN, 'default@x.test')).status).toBe(201)
    const mine = await t.scim(token, `/scim/v2/c/${id}/Users`)
    expect(mine.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['a@acme.test'])
    // SCIM_TOKEN: the default tenant, as before; not on a connection's URL.
    const def = await t.scim(TOKEN)
    expect(def.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['default@x.test'])
    expect((await t.scim(TOKEN, `/scim/v2/c/${id}/Users`)).status).toBe(401)
    const list = await t.admin.get()
    expect(list.status).toBe(200)
    const mineListed = list.body.filter((c: { id: string }) => c.id === id)
    expect(mineListed).toEqual([expect.objectContaining({ id, tenant: 'acme', baseUrl: expect.stringMatching(new RegExp(`/scim/v2/c/${id}$`)), lastUsedAt: '2026-01-01T00:00:00.000Z' })])
    expect(mineListed[0].tokens).toEqual([{ createdAt: '2026-01-01T00:00:00.000Z', expiresAt: null }])
    expect(JSON.stringify(list.body)).not.toContain(token)
  })

  it('rotate 200 {token}: the old one works graceSeconds more; revoke 204: both stop at once', async () => {
    const t = setup()
    const { id, token } = (await t.admin.post('', { tenant: 'acme' })).body
    const rotated = await t.admin.post(`/${id}/rotate`, { graceSeconds: 30 })
    expect(rotated.status).toBe(200)
    expect(Object.keys(rotated.body)).toEqual(['token'])
    t.advance(29_999)
    expect((await t.scim(token)).status).toBe(200)
    t.advance(1)
    expect((await t.scim(token)).status).toBe(401)
    expect((await t.scim(rotated.body.token)).status).toBe(200)
    expect((await t.admin.post(`/${id}/revoke`)).status).toBe(204)
    expect((await t.scim(rotated.body.token)).status).toBe(401)
    expect((await t.admin.post(`/${id}/rotate`, { graceSeconds: 1 })).status).toBe(404)
    expect((await t.admin.post('/missing/revoke')).status).toBe(404)
  })

  it('the admin API needs ADMIN_TOKEN and refuses bad input with 400', async () => {
    const t = setup()
    expect((await request(t.app).get('/app/connections')).status).toBe(401)
    expect((await request(t.app).get('/app/connections').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(401)
    expect((await request(t.app).post('/app/connections').set('Authorization', 'Bearer nope').send({ tenant: 'x' })).status).toBe(401)
    expect((await t.admin.post('', {})).status).toBe(400)
    expect((await t.admin.post('', { tenant: "a'; DROP TABLE x" })).status).toBe(400)
    const { id } = (await t.admin.post('', { tenant: 'acme' })).body
    expect((await t.admin.post(`/${id}/rotate`, { graceSeconds: -5 })).status).toBe(400)
    expect((await t.admin.post(`/${id}/rotate`, { graceSeconds: 'soon' })).status).toBe(400)
  })
})

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const tenantName = (label: string) => `${label}-${randomBytes(4).toString('hex')}`

describe('example app: connection settings and decommissioning (issue 14 items 2-4)', () => {
  it('POST with settings, GET /{id} and PATCH /{id} {settings} (null resets); the settings guard that connection\'s SCIM requests', async () => {
    const t = setup()
    const created = await t.admin.post('', { tenant: tenantName('acme'), settings: { allowedEmailDomains: ['acme.test'], seatCap: 1 } })
    expect(created.status).toBe(201)
    const { id, token } = created.body
    const shown = await t.admin.get(`/${id}`)
    expect(shown.status).toBe(200)
    expect(shown.body).toMatchObject({ id, settings: { allowedEmailDomains: ['acme.test'], seatCap: 1 }, decommission: null })
    expect(JSON.stringify(shown.body)).not.toContain(token)
    const refused = await t.provision(token, 'x@evil.test', `/scim/v2/c/${id}`)
    expect(refused.status).toBe(400)
    expect(refused.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining("'evil.test'") })
    expect((await t.provision(token, 'a@acme.test', `/scim/v2/c/${id}`)).status).toBe(201)
    const full = await t.provision(token, 'b@acme.test', `/scim/v2/c/${id}`)
    expect(full.status).toBe(403)
    expect(full.body.detail).toMatch(/Seat cap reached/)
    const patched = await t.admin.patch(`/${id}`, { settings: { seatCap: null, groupPatchResponse: 200 } })
    expect(patched.status).toBe(200)
    expect(patched.body.settings).toEqual({ allowedEmailDomains: ['acme.test'], groupPatchResponse: 200 })
    expect((await t.provision(token, 'b@acme.test', `/scim/v2/c/${id}`)).status).toBe(201)
    expect((await t.admin.patch(`/${id}`, { settings: { seatCap: -1 } })).status).toBe(400)
    expect((await t.admin.patch(`/${id}`, { seatCap: 3 })).status).toBe(400)
    expect((await t.admin.post('', { tenant: 'x', settings: { rateLimit: { perSecond: 0 } } })).status).toBe(400)
    expect((await t.admin.patch('/missing', { settings: {} })).status).toBe(404)
    expect((await t.admin.get('/missing')).status).toBe(404)
  })

  it('DELETE /{id} {users} → 202, tokens stop at once, GET /{id} shows the progress until done; users deactivated or deleted with one user.deprovisioned each', async () => {
    for (const users of ['deactivate', 'delete'] as const) {
      const t = setup({ batch: 2 })
      const tenant = tenantName('leaving')
      const { id, token } = (await t.admin.post('', { tenant })).body
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await t.provision(token, `u${i}@leaving.test`, `/scim/v2/c/${id}`)).body.id)
      // One already deactivated by the IdP: it gets no second event.
      expect((await request(t.app).patch(`/scim/v2/c/${id}/Users/${ids[0]}`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/scim+json').send(JSON.stringify({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] }))).status).toBe(200)
      expect((await t.admin.delete(`/${id}`, { users: 'wipe' })).status).toBe(400)
      expect((await t.admin.delete('/missing', { users })).status).toBe(404)
      const accepted = await t.admin.delete(`/${id}`, { users })
      expect(accepted.status).toBe(202)
      expect(accepted.body.decommission).toMatchObject({ users, state: 'running' })
      expect(accepted.body.revokedAt).not.toBeNull()
      expect((await t.scim(token, `/scim/v2/c/${id}/Users`)).status).toBe(401)
      await t.example.decommissions!.settled()
      const done = await t.admin.get(`/${id}`)
      expect(done.body.decommission).toMatchObject({ users, state: 'done', failed: 0, deprovisioned: users === 'delete' ? 5 : 4 })
      const ctx = { principal: undefined, tenant }
      for (const uid of ids) {
        const u = await t.adapter.get({ resourceType: 'User', id: uid }, ctx)
        if (users === 'delete') expect(u).toBeNull()
        else expect(u?.attributes['active']).toBe(false)
      }
      const feed = await t.example.scim.events.list({ limit: 1000 }, ctx)
      const per = new Map<string, number>()
      for (const e of feed.events) if (e.type === 'user.deprovisioned') per.set(e.resourceId, (per.get(e.resourceId) ?? 0) + 1)
      // Deleting the user deactivated before is its second deprovisioning (RFC 7644 §3.6: gone); deactivating it again is none.
      for (const uid of ids) expect([uid, per.get(uid)]).toEqual([uid, users === 'delete' && uid === ids[0] ? 2 : 1])
    }
  })
})

// A real process killed half way: the example server (ts-node) on a SQLite file (or, on the
// PostgreSQL pass, a fresh PostgreSQL schema), SIGKILLed in the middle of a decommissioning made
// slow by SCIM_DECOMMISSION_DELAY_MS, then started again. The example has no MariaDB store.
const STORE = process.env['SCIM_TEST_STORE'] ?? 'memory'
const ON_PG = STORE === 'kysely-postgres'
const killTest = STORE === 'memory' || STORE === 'kysely-sqlite' || ON_PG ? describe : describe.skip

/** The example's database, read directly: the `leaving` tenant's users and their `active` column (null: never set). */
interface ExampleDb {
  env: Record<string, string>
  users(): Promise<{ id: string; active: boolean | null }[]>
  drop(): Promise<void>
}

function exampleDb(dir: string): ExampleDb {
  const select = `SELECT id, active FROM scim_users WHERE tenant = 'leaving'`
  if (!ON_PG) {
    const file = join(dir, 'scim.db')
    return {
      env: { SCIM_STORE: 'sqlite', SCIM_DB: file },
      async users() {
        const db = new Database(file, { readonly: true })
        try {
          return (db.prepare(select).all() as { id: string; active: number | null }[]).map((r) => ({ id: r.id, active: r.active === null ? null : r.active === 1 }))
        } finally {
          db.close()
        }
      },
      drop: async () => undefined,
    }
  }
  const schema = `scim_kill_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
  const url = process.env['SCIM_PG_URL'] as string
  return {
    env: { SCIM_STORE: 'postgres', DATABASE_URL: url, SCIM_PG_SCHEMA: schema },
    async users() {
      const pool = new Pool({ connectionString: url, max: 1, options: `-c search_path=${schema}` })
      try {
        return (await pool.query<{ id: string; active: boolean | null }>(select)).rows
      } finally {
        await pool.end()
      }
    },
    async drop() {
      const pool = new Pool({ connectionString: url, max: 1 })
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => pool.end())
    },
  }
}
const ROOT = join(__dirname, '..', '..')

interface Server {
  proc: ChildProcess
  url: string
  exited: Promise<void>
  output: () => string
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'examples', 'server.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  proc.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-8000)))
  proc.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-8000)))
  for (let i = 0; i < 240; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited before it was ready:\n${out}`)
    const url = /SCIM server ready at (http:\/\/127\.0\.0\.1:\d+)\/scim\/v2/.exec(out)?.[1]
    if (url) return { proc, url, exited, output: () => out }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`server not ready after 60 s:\n${out}`)
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

killTest('example server killed (SIGKILL) in the middle of a decommissioning, then restarted', () => {
  jest.setTimeout(180_000)
  let dir: string
  let store: ExampleDb
  let server: Server | undefined
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'scim-decommission-'))
    store = exampleDb(dir)
  })
  afterEach(async () => {
    if (server && server.proc.exitCode === null && server.proc.signalCode === null) server.proc.kill('SIGKILL')
    await server?.exited
    await store.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it.each(['deactivate', 'delete'] as const)("users: '%s': after the restart every user is deprovisioned, with exactly one user.deprovisioned each in the durable log", async (users) => {
    const USERS = 30
    const log = join(dir, 'events.jsonl')
    const env = {
      ...store.env,
      SCIM_EVENTS_LOG: log,
      SCIM_TOKEN: 'static-token',
      ADMIN_TOKEN: ADMIN,
      SCIM_DECOMMISSION_BATCH: '4',
      SCIM_DECOMMISSION_DELAY_MS: '250',
      SCIM_EVENT_POLL_MS: '100',
      SCIM_EVENT_LEASE_MS: '2000',
      SCIM_EVENT_HANDLER_TIMEOUT_MS: '1000',
    }
    server = await startServer(env)
    const api = (s: Server, method: string, path: string, body?: unknown, auth = ADMIN) =>
      fetch(`${s.url}${path}`, { method, headers: { Authorization: `Bearer ${auth}`, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const { id, token } = (await (await api(server, 'POST', '/app/connections', { tenant: 'leaving' })).json()) as { id: string; token: string }
    const ids: string[] = []
    for (let i = 0; i < USERS; i++) {
      const r = await api(server, 'POST', `/scim/v2/c/${id}/Users`, { schemas: [USER], userName: `u${i}@leaving.test` }, token)
      expect(r.status).toBe(201)
      ids.push(((await r.json()) as { id: string }).id)
    }
    expect((await api(server, 'DELETE', `/app/connections/${id}`, { users })).status).toBe(202)
    // Kill once a third of the users are done (8 batches of 4 with 250 ms pauses: mid-job).
    const first = server
    const progress = await until('progress', async () => {
      const job = ((await (await api(first, 'GET', `/app/connections/${id}`)).json()) as { decommission: { deprovisioned: number; state: string } }).decommission
      return job.deprovisioned >= 10 ? job : undefined
    })
    first.proc.kill('SIGKILL')
    await first.exited
    expect(progress.state).toBe('running')
    const mid = await store.users()
    const changedBeforeKill = users === 'deactivate' ? mid.filter((u) => u.active === false).length : USERS - mid.length
    expect(changedBeforeKill).toBeLessThan(USERS)

    server = await startServer(env)
    expect(server.output()).toMatch(/Resuming the decommissioning of 1 connection/)
    const second = server
    const done = await until('the job to finish', async () => {
      const job = ((await (await api(second, 'GET', `/app/connections/${id}`)).json()) as { decommission: { state: string; failed: number } }).decommission
      return job.state === 'done' ? job : undefined
    })
    expect(done.failed).toBe(0)
    const rows = await store.users()
    if (users === 'delete') expect(rows).toEqual([])
    else expect(rows.map((r) => [r.id, r.active]).sort()).toEqual(ids.map((u) => [u, false]).sort())
    // The durable log: every user exactly one distinct user.deprovisioned event (an id may repeat: at least once).
    const events = await until('every event delivered', async () => {
      const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n') : []
      const per = new Map<string, Set<string>>()
      for (const line of lines) {
        let e: { id: string; type: string; resourceId: string; tenant: string }
        try {
          e = JSON.parse(line)
        } catch {
          continue // a torn last line of the killed process
        }
        if (e.type === 'user.deprovisioned' && e.tenant === 'leaving') per.set(e.resourceId, (per.get(e.resourceId) ?? new Set()).add(e.id))
      }
      return per.size === USERS ? per : undefined
    })
    for (const uid of ids) expect([uid, events.get(uid)?.size]).toEqual([uid, 1])
  })
})
