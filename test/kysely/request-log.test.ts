/**
 * Issue 15 item 1: the request log stores — MemoryRequestLog and kyselyRequestLog on SQLite,
 * PostgreSQL and MariaDB — answer the same queries (tenant, connection, resource id, status,
 * time range; newest first; paged by cursor), count per hour/IdP/error type, and hold retention
 * by age and by count. Tables come from migrate(), which stays idempotent.
 */
import { MemoryRequestLog, type RequestLog, type RequestLogEntry } from '../../src'
import { kyselyRequestLog, migrate, migrationStatements, requestLogStatements, scimTablesMapping } from '../../src/kysely'
import { STORES, type Store } from './stores'

const T0 = Date.parse('2026-03-01T10:00:00Z')
const HOUR = 3_600_000

let n = 0
function entry(over: Omit<Partial<RequestLogEntry>, 'at'> & { at: number }): RequestLogEntry {
  n++
  const id = `01900000-0000-7000-8000-${String(n).padStart(12, '0')}`
  return {
    id,
    tenant: 'acme',
    connectionId: 'c1',
    idp: 'okta',
    method: 'GET',
    path: '/scim/v2/Users',
    status: 200,
    scimType: null,
    detail: null,
    errorType: null,
    durationMs: 3,
    resourceIds: [],
    correlationId: `corr-${n}`,
    userAgent: 'Okta SCIM Client 1.0.0',
    requestBody: null,
    responseBody: '{"ok":true}',
    ...over,
    at: new Date(over.at),
  }
}

/** 12 entries: one every 10 minutes from T0, mixed tenants, statuses, IdPs and resources. */
function sample(): RequestLogEntry[] {
  return [
    entry({ at: T0, resourceIds: ['u1'] }),
    entry({ at: T0 + 10 * 60_000, status: 409, scimType: 'uniqueness', errorType: 'uniqueness', detail: 'taken', method: 'POST' }),
    entry({ at: T0 + 20 * 60_000, tenant: 'globex', connectionId: 'c2', idp: 'entra', resourceIds: ['u2'] }),
    entry({ at: T0 + 30 * 60_000, status: 401, errorType: '401', tenant: null }),
    entry({ at: T0 + 40 * 60_000, resourceIds: ['u1', 'g1'], method: 'PATCH', path: '/scim/v2/Groups/g1' }),
    entry({ at: T0 + 50 * 60_000, idp: 'entra', status: 400, scimType: 'invalidFilter', errorType: 'invalidFilter' }),
    entry({ at: T0 + 60 * 60_000, resourceIds: ['u1'], method: 'DELETE', status: 204, responseBody: null }),
    entry({ at: T0 + 70 * 60_000, tenant: 'globex', connectionId: 'c2', idp: 'google' }),
    entry({ at: T0 + 80 * 60_000 }),
    entry({ at: T0 + 90 * 60_000, status: 404, errorType: '404' }),
    entry({ at: T0 + 100 * 60_000, resourceIds: ['u3'] }),
    entry({ at: T0 + 110 * 60_000, idp: 'unknown' }),
  ]
}

interface Subject {
  log: RequestLog
  done: () => Promise<void>
}

const SUBJECTS: { name: string; make: () => Promise<Subject>; skip?: string }[] = [
  { name: 'MemoryRequestLog', make: async () => ({ log: new MemoryRequestLog(), done: async () => undefined }) },
  ...STORES.map((s) => ({
    name: `kyselyRequestLog on ${s.name}`,
    ...(s.skip ? { skip: s.skip } : {}),
    make: async (): Promise<Subject> => {
      const store: Store = await s.make()
      await migrate(store.db, scimTablesMapping(), { createTables: true })
      await migrate(store.db, scimTablesMapping(), { createTables: true }) // idempotent
      return { log: kyselyRequestLog(store.db), done: () => store.drop() }
    },
  })),
]

describe.each(SUBJECTS)('$name', ({ make, skip }) => {
  if (skip) {
    it.skip(`(${skip})`, () => undefined)
    return
  }
  let s: Subject
  let all: RequestLogEntry[]
  beforeEach(async () => {
    s = await make()
    all = sample()
    // Two batches, the second out of order: the store orders by time, not by arrival.
    await s.log.append(all.slice(6))
    await s.log.append(all.slice(0, 6))
  })
  afterEach(() => s.done())

  const ids = (page: { entries: RequestLogEntry[] }) => page.entries.map((e) => e.id)
  const newest = (list: RequestLogEntry[]) => [...list].reverse().map((e) => e.id)

  it('query: newest first, every field round-trips', async () => {
    const page = await s.log.query({})
    expect(ids(page)).toEqual(newest(all))
    expect(page.next).toBeUndefined()
    const conflict = page.entries.find((e) => e.status === 409)
    expect(conflict).toEqual(all[1])
    expect(page.entries.find((e) => e.status === 204)?.responseBody).toBeNull()
  })

  it('query by tenant, connection, status (exact and error), resource id and time range', async () => {
    expect(ids(await s.log.query({ tenant: 'globex' }))).toEqual(newest(all.filter((e) => e.tenant === 'globex')))
    expect(ids(await s.log.query({ connectionId: 'c2' }))).toEqual(newest(all.filter((e) => e.connectionId === 'c2')))
    expect(ids(await s.log.query({ tenant: 'acme', status: 409 }))).toEqual([all[1]?.id])
    expect(ids(await s.log.query({ status: 'error' }))).toEqual(newest(all.filter((e) => e.status >= 400)))
    expect(ids(await s.log.query({ tenant: 'acme', status: 'error' }))).toEqual(newest(all.filter((e) => e.status >= 400 && e.tenant === 'acme')))
    expect(ids(await s.log.query({ resourceId: 'u1' }))).toEqual(newest(all.filter((e) => e.resourceIds.includes('u1'))))
    expect(ids(await s.log.query({ resourceId: 'u1', tenant: 'acme', status: 204 }))).toEqual([all[6]?.id])
    expect(ids(await s.log.query({ resourceId: 'missing' }))).toEqual([])
    const since = new Date(T0 + 30 * 60_000)
    const until = new Date(T0 + 60 * 60_000)
    expect(ids(await s.log.query({ since, until }))).toEqual(newest(all.filter((e) => e.at >= since && e.at < until)))
  })

  it('pages by cursor without gaps or repeats, also by resource id', async () => {
    const seen: string[] = []
    let cursor: string | undefined
    for (let i = 0; i < 10; i++) {
      const page = await s.log.query({ limit: 5, ...(cursor ? { cursor } : {}) })
      seen.push(...ids(page))
      if (!page.next) break
      cursor = page.next
    }
    expect(seen).toEqual(newest(all))
    const first = await s.log.query({ resourceId: 'u1', limit: 2 })
    expect(first.next).toEqual(expect.any(String))
    const second = await s.log.query({ resourceId: 'u1', limit: 2, cursor: first.next as string })
    expect([...ids(first), ...ids(second)]).toEqual(newest(all.filter((e) => e.resourceIds.includes('u1'))))
    expect(second.next).toBeUndefined()
  })

  it('stats: requests per hour, IdP and error type', async () => {
    const buckets = await s.log.stats({ since: new Date(T0) })
    const hour0 = Math.floor(T0 / HOUR) * HOUR
    const count = (hour: number, idp: string, errorType: string | null) => buckets.find((b) => b.hour === hour && b.idp === idp && b.errorType === errorType)?.count
    expect(count(hour0, 'okta', null)).toBe(2)
    expect(count(hour0, 'okta', 'uniqueness')).toBe(1)
    expect(count(hour0, 'okta', '401')).toBe(1)
    expect(count(hour0, 'entra', 'invalidFilter')).toBe(1)
    expect(count(hour0 + HOUR, 'okta', null)).toBe(3)
    expect(buckets.reduce((a, b) => a + b.count, 0)).toBe(12)
    const globex = await s.log.stats({ since: new Date(T0), tenant: 'globex' })
    expect(globex.reduce((a, b) => a + b.count, 0)).toBe(2)
    const late = await s.log.stats({ since: new Date(T0 + HOUR), connectionId: 'c1' })
    expect(late.reduce((a, b) => a + b.count, 0)).toBe(5)
  })

  it('retention by age (LOG retention): entries older than `before` go, with their resource links', async () => {
    const deleted = await s.log.prune({ before: new Date(T0 + 45 * 60_000) })
    expect(deleted).toBe(5)
    expect(ids(await s.log.query({}))).toEqual(newest(all.slice(5)))
    expect(ids(await s.log.query({ resourceId: 'u1' }))).toEqual([all[6]?.id])
    expect(await s.log.prune({ before: new Date(T0 + 45 * 60_000) })).toBe(0)
  })

  it('retention by count: only the newest `keep` stay', async () => {
    expect(await s.log.prune({ keep: 4 })).toBe(8)
    expect(ids(await s.log.query({}))).toEqual(newest(all.slice(8)))
    expect(ids(await s.log.query({ resourceId: 'u1' }))).toEqual([])
    expect(ids(await s.log.query({ resourceId: 'u3' }))).toEqual([all[10]?.id])
    expect(await s.log.prune({ keep: 4 })).toBe(0)
    expect(await s.log.prune({ keep: 0 })).toBe(4)
    expect((await s.log.query({})).entries).toEqual([])
  })
})

describe('requestLogStatements / migrationStatements', () => {
  it.each(['sqlite', 'postgres', 'mysql'] as const)('%s: the two tables and their indexes are part of migrate(), and can be turned off', (dialect) => {
    const statements = requestLogStatements(dialect)
    expect(statements.filter((x) => x.startsWith('CREATE TABLE')).map((x) => /EXISTS (\w+)/.exec(x)?.[1])).toEqual(['scim_requests', 'scim_request_resources'])
    const all = migrationStatements(scimTablesMapping(), dialect)
    for (const x of statements) expect(all).toContain(x)
    const without = migrationStatements(scimTablesMapping(), dialect, { requestLog: false })
    expect(without.some((x) => x.includes('scim_requests'))).toBe(false)
    expect(() => requestLogStatements(dialect, 'bad prefix;')).toThrow(TypeError)
  })
})
