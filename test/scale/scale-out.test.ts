/**
 * Issue 5 item 5: scale-out without lost updates. Several stateless router instances share one
 * database; fired at all of them at once (requests alternate between instances):
 *
 * - 200 concurrent PATCH member-adds to one Group → exactly those 200 members;
 * - 50 concurrent creates of one userName → exactly one 201, 49 × 409 `uniqueness`;
 * - concurrent PATCHes of different attributes of one User → every one applied.
 *
 * PostgreSQL: two example-server processes (examples/server.ts, spawned with ts-node) on their own
 * ports, DATABASE_URL = SCIM_PG_URL and one fresh schema (SCIM_PG_SCHEMA), dropped afterwards.
 * SCIM_PG_URL unset → that part is skipped, visibly; set but unreachable → it FAILS.
 * SQLite: two routers (two example apps over two Kysely adapters on scimTablesMapping, each with
 * its own better-sqlite3 connection) on one SQLite file, in this process, each behind its own HTTP
 * listener on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'pg'
import { createExampleApp } from '../../examples/app'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { kyselyAdapter, migrate, migrationStatements, scimTablesMapping } from '../../src/kysely'

const PG_URL = process.env['SCIM_PG_URL']
const TOKEN = `scale-${randomBytes(8).toString('hex')}`
const ROOT = join(__dirname, '..', '..')
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User'
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group'
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'
const SCHEMA_PREFIX = 'scim_scale_'

const MEMBERS = 200
const CREATORS = 50

/** One router instance, reachable over HTTP on 127.0.0.1. */
interface Instance {
  name: string
  port: number
}

interface Reply {
  status: number
  body: Record<string, unknown> | undefined
  text: string
}

// Keep-alive, no socket cap: all requests of a burst are in flight at once.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })

/** One HTTP request to an instance (loopback), with a hard 30 s deadline. */
function call(inst: Instance, method: string, path: string, body?: unknown, auth = true): Promise<Reply> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  const headers: Record<string, string | number> = { Accept: 'application/scim+json' }
  if (auth) headers['Authorization'] = `Bearer ${TOKEN}`
  if (payload) {
    headers['Content-Type'] = 'application/scim+json'
    headers['Content-Length'] = payload.length
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: inst.port, method, path, headers, agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        let parsed: Record<string, unknown> | undefined
        try {
          parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined
        } catch {
          parsed = undefined
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} on ${inst.name}: no answer within 30 s`)))
    req.on('error', reject)
    req.end(payload)
  })
}

const scim = (path: string): string => `/scim/v2${path}`

/** Status histogram, for readable failures: `{ "201": 1, "409": 49 }`. */
function histogram(replies: Reply[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const r of replies) out[String(r.status)] = (out[String(r.status)] ?? 0) + 1
  return out
}

/** First non-expected replies, for readable failures. */
function unexpected(replies: Reply[], ok: number[]): string[] {
  return replies
    .filter((r) => !ok.includes(r.status))
    .slice(0, 3)
    .map((r) => `${r.status} ${r.text.slice(0, 300)}`)
}

/** Run `n` requests at once, request i going to instance i mod instances. */
function burst(instances: Instance[], n: number, make: (i: number, inst: Instance) => Promise<Reply>): Promise<Reply[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => make(i, instances[i % instances.length] as Instance)))
}

async function createUser(inst: Instance, userName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await call(inst, 'POST', scim('/Users'), { schemas: [USER], userName, active: true, ...extra })
  if (r.status !== 201) throw new Error(`create ${userName} on ${inst.name}: ${r.status} ${r.text}`)
  return r.body?.['id'] as string
}

/** The three scale-out scenarios, against any set of instances sharing one database. */
function scenarios(getInstances: () => Instance[]): void {
  it(`${MEMBERS} concurrent PATCH member-adds to one Group, alternating instances: exactly ${MEMBERS} members`, async () => {
    const instances = getInstances()
    const run = randomBytes(4).toString('hex')
    const first = instances[0] as Instance
    const g = await call(first, 'POST', scim('/Groups'), { schemas: [GROUP], displayName: `scale-${run}` })
    expect(g.status).toBe(201)
    const groupId = g.body?.['id'] as string
    // The users, created 20 at a time (the creates are not what is measured here).
    const ids: string[] = []
    for (let i = 0; i < MEMBERS; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, MEMBERS - i) }, (_, k) => createUser(instances[(i + k) % instances.length] as Instance, `m${i + k}-${run}@example.com`)),
      )
      ids.push(...batch)
    }
    const replies = await burst(instances, MEMBERS, (i, inst) =>
      call(inst, 'PATCH', scim(`/Groups/${groupId}`), {
        schemas: [PATCH_OP],
        Operations: [{ op: 'add', path: 'members', value: [{ value: ids[i] }] }],
      }),
    )
    const acknowledged = ids.filter((_, i) => replies[i]?.status === 204)
    const seen: string[][] = []
    for (const inst of instances) {
      const after = await call(inst, 'GET', scim(`/Groups/${groupId}`))
      expect(after.status).toBe(200)
      seen.push(((after.body?.['members'] as { value: string }[] | undefined) ?? []).map((m) => m.value).sort())
    }
    // Never lost, never phantom: whatever happened, the group holds exactly the acknowledged adds
    // (a 503 is an add that was not applied), and every instance sees the same membership.
    expect(seen).toEqual(instances.map(() => [...acknowledged].sort()))
    // And every add succeeded: 200 × 204, 200 members.
    expect({ statuses: histogram(replies), members: seen[0]?.length, unexpected: unexpected(replies, [204]) }).toEqual({
      statuses: { '204': MEMBERS },
      members: MEMBERS,
      unexpected: [],
    })
    // The derived side agrees: every user lists the group.
    const member = await call(instances[1 % instances.length] as Instance, 'GET', scim(`/Groups?filter=${encodeURIComponent(`id eq "${groupId}"`)}&attributes=members`))
    expect(((member.body?.['Resources'] as { members?: unknown[] }[] | undefined)?.[0]?.members ?? []).length).toBe(MEMBERS)
    const sample = await call(first, 'GET', scim(`/Users/${ids[MEMBERS - 1]}`))
    expect((sample.body?.['groups'] as { value: string }[]).map((x) => x.value)).toEqual([groupId])
  }, 60_000)

  it(`${CREATORS} concurrent creates of one userName, alternating instances: exactly one 201, the rest 409 uniqueness`, async () => {
    const instances = getInstances()
    const userName = `same-${randomBytes(4).toString('hex')}@example.com`
    const replies = await burst(instances, CREATORS, (i, inst) =>
      // Case varies: userName is caseExact=false, so these are all the same name.
      call(inst, 'POST', scim('/Users'), { schemas: [USER], userName: i % 3 === 0 ? userName.toUpperCase() : userName, displayName: `creator ${i}` }),
    )
    expect({ statuses: histogram(replies), unexpected: unexpected(replies, [201, 409]) }).toEqual({
      statuses: { '201': 1, '409': CREATORS - 1 },
      unexpected: [],
    })
    for (const r of replies.filter((x) => x.status === 409)) {
      expect(r.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' })
    }
    const winner = replies.find((r) => r.status === 201)?.body?.['id']
    for (const inst of instances) {
      const found = await call(inst, 'GET', scim(`/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`))
      expect(found.status).toBe(200)
      expect(found.body?.['totalResults']).toBe(1)
      expect((found.body?.['Resources'] as { id: string }[])[0]?.id).toBe(winner)
    }
  }, 60_000)

  it('concurrent PATCHes of different attributes of one User, alternating instances: all applied', async () => {
    const instances = getInstances()
    const run = randomBytes(4).toString('hex')
    const first = instances[0] as Instance
    const id = await createUser(first, `attrs-${run}@example.com`, { name: { familyName: 'Original' } })
    const replace = (path: string, value: unknown) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path, value }] })
    const add = (path: string, value: unknown) => ({ schemas: [PATCH_OP], Operations: [{ op: 'add', path, value }] })
    const emails = Array.from({ length: 6 }, (_, i) => `e${i}-${run}@example.com`)
    const phones = Array.from({ length: 4 }, (_, i) => `+1 555 010${i}`)
    const bodies = [
      replace('title', 'Staff Engineer'),
      replace('displayName', 'Ada L.'),
      replace('nickName', 'ada'),
      replace(`${ENTERPRISE}:department`, 'R&D'),
      replace(`${ENTERPRISE}:employeeNumber`, 'E-1815'),
      replace('name.givenName', 'Ada'),
      replace('locale', 'en-GB'),
      replace('timezone', 'Europe/London'),
      replace('preferredLanguage', 'en'),
      replace('profileUrl', 'https://example.com/ada'),
      replace('userType', 'Employee'),
      // Path-less (Okta style) on yet another attribute.
      { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { externalId: `ext-${run}` } }] },
      ...emails.map((value) => add('emails', [{ value, type: 'work' }])),
      ...phones.map((value) => add('phoneNumbers', [{ value, type: 'mobile' }])),
    ]
    const replies = await burst(instances, bodies.length, (i, inst) => call(inst, 'PATCH', scim(`/Users/${id}`), bodies[i]))
    expect({ statuses: histogram(replies), unexpected: unexpected(replies, [200]) }).toEqual({ statuses: { '200': bodies.length }, unexpected: [] })
    for (const inst of instances) {
      const r = await call(inst, 'GET', scim(`/Users/${id}`))
      expect(r.status).toBe(200)
      const u = r.body as Record<string, unknown>
      expect(u).toMatchObject({
        userName: `attrs-${run}@example.com`,
        active: true,
        title: 'Staff Engineer',
        displayName: 'Ada L.',
        nickName: 'ada',
        name: { familyName: 'Original', givenName: 'Ada' },
        locale: 'en-GB',
        timezone: 'Europe/London',
        preferredLanguage: 'en',
        profileUrl: 'https://example.com/ada',
        userType: 'Employee',
        externalId: `ext-${run}`,
        [ENTERPRISE]: { department: 'R&D', employeeNumber: 'E-1815' },
      })
      expect(((u['emails'] as { value: string }[]) ?? []).map((e) => e.value).sort()).toEqual([...emails].sort())
      expect(((u['phoneNumbers'] as { value: string }[]) ?? []).map((e) => e.value).sort()).toEqual([...phones].sort())
      // Every write was one version step: created (1) + one per PATCH.
      expect((u['meta'] as { version: string }).version).toBe(`W/"${1 + bodies.length}"`)
    }
  }, 60_000)
}

// ----------------------------------------------------------------------------- PostgreSQL

interface Child {
  proc: ChildProcess
  output: string
  exited: boolean
}

/** Spawn examples/server.ts on `port` against PostgreSQL `schema`. */
function startServer(port: number, schema: string): Child {
  const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'examples', 'server.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SCIM_TOKEN: TOKEN,
      DATABASE_URL: PG_URL,
      SCIM_PG_SCHEMA: schema,
      SCIM_STORE: 'postgres',
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const child: Child = { proc, output: '', exited: false }
  const keep = (c: Buffer) => {
    child.output = (child.output + c.toString('utf8')).slice(-4000)
  }
  proc.stdout?.on('data', keep)
  proc.stderr?.on('data', keep)
  proc.on('exit', () => {
    child.exited = true
  })
  return child
}

/** Poll /healthz (at most 60 × 250 ms); fail at once if the child exits. */
async function waitReady(child: Child, inst: Instance): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (child.exited) throw new Error(`${inst.name} exited before it was ready:\n${child.output}`)
    if (inst.port === 0) {
      const bound = /SCIM server ready at http:\/\/127\.0\.0\.1:(\d+)\//.exec(child.output)
      if (!bound) {
        await new Promise((r) => setTimeout(r, 250))
        continue
      }
      inst.port = Number(bound[1])
      inst.name = `${inst.name} (:${inst.port})`
    }
    try {
      const r = await call(inst, 'GET', '/healthz', undefined, false)
      if (r.status === 200) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${inst.name} not ready after 15 s:\n${child.output}`)
}

/** SIGTERM, then SIGKILL after 3 s; resolves when the child is gone. */
function stop(child: Child): Promise<void> {
  if (child.exited) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.proc.kill('SIGKILL'), 3000)
    child.proc.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.proc.kill('SIGTERM')
  })
}

if (!PG_URL) {
  describe.skip('scale-out on PostgreSQL (two example-server processes): needs SCIM_PG_URL=postgres://… (scripts/postgres-setup.sh)', () => {
    it('two processes, one database', () => undefined)
  })
} else {
  describe('scale-out on PostgreSQL: two example-server processes, one database', () => {
    const schema = `${SCHEMA_PREFIX}${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
    const pool = new Pool({ connectionString: PG_URL, max: 1, connectionTimeoutMillis: 5000 })
    const children: Child[] = []
    const instances: Instance[] = []

    beforeAll(async () => {
      // Unreachable PostgreSQL fails here (and so every test below), never skips.
      await pool.query('SELECT 1')
      // Schemas left behind by a run that crashed more than an hour ago.
      const stale = await pool.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE '${SCHEMA_PREFIX}%'`)
      for (const { nspname } of stale.rows) {
        const born = parseInt(nspname.slice(SCHEMA_PREFIX.length).split('_')[0] ?? '', 36)
        if (/^[a-z0-9_]+$/.test(nspname) && Number.isFinite(born) && Date.now() - born > 3_600_000) {
          await pool.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`)
        }
      }
      // PORT=0: each server binds a port the OS picks and prints it, so ports can never collide
      // with each other or with other tests' servers (a pre-picked free port raced once in CI).
      for (const name of ['server A', 'server B']) {
        instances.push({ name, port: 0 })
        children.push(startServer(0, schema))
      }
      await Promise.all(children.map((c, i) => waitReady(c, instances[i] as Instance)))
    }, 45_000)

    afterAll(async () => {
      agent.destroy()
      await Promise.all(children.map(stop))
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined)
      await pool.end()
    }, 20_000)

    it('both processes serve the same schema', async () => {
      // The example serves the Kysely store on the SCIM-owned tables: exactly the tables its migration
      // creates (resources, members, side tables, the outbox, connections), created once for both.
      const expected = [...new Set(migrationStatements(scimTablesMapping(), 'postgres', { createTables: true }).flatMap((s) => /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(s)?.[1] ?? []))].sort()
      const r = await pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema])
      expect(expected.length).toBeGreaterThanOrEqual(5)
      expect(r.rows.map((row) => row.table_name).sort()).toEqual(expected)
      expect(instances.map((i) => i.port)[0]).not.toBe(instances[1]?.port)
    })

    scenarios(() => instances)
  })
}

// ----------------------------------------------------------------------------- SQLite

describe('scale-out on SQLite: two routers over two Kysely adapters (two connections) to one file, in one process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'scim-scale-'))
  const file = join(dir, 'shared.db')
  const dbs: Kysely<any>[] = []
  const servers: http.Server[] = []
  const instances: Instance[] = []

  beforeAll(async () => {
    for (const name of ['router A', 'router B']) {
      const database = new Database(file)
      database.pragma('journal_mode = WAL')
      database.pragma('busy_timeout = 5000')
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database }) })
      dbs.push(db)
      const mapping = scimTablesMapping()
      await migrate(db, mapping, { createTables: true })
      const adapter = kyselyAdapter({ db, mapping })
      const { app } = createExampleApp({ adapter, token: TOKEN })
      const server = http.createServer(app)
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      servers.push(server)
      instances.push({ name, port: (server.address() as AddressInfo).port })
    }
  })

  afterAll(async () => {
    agent.destroy()
    for (const s of servers) {
      s.closeAllConnections()
      await new Promise<void>((resolve) => s.close(() => resolve()))
    }
    for (const db of dbs) await db.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  scenarios(() => instances)
})
