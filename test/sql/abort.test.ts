/**
 * SqlAdapter and the request deadline (AUTH-008, issue 11 item 3): a write whose signal aborts
 * while its transaction runs is rolled back, never committed; on PostgreSQL a statement waiting
 * for a lock is cancelled, so the write gives up while the lock is still held.
 */
import { randomBytes } from 'node:crypto'
import { Pool } from 'pg'
import { SqlAdapter, postgresDriver, sqliteDriver, type SqlDriver, type SqlExecutor } from '../../examples/sql-adapter'
import { ServiceUnavailableError } from '../../src'
import { PG_URL } from './helpers'

const USER_UNIQUE = [{ path: 'userName', caseExact: false }] as const
const ctx = { tenant: 't1' }

/** A driver whose transactions call `onStatement` after every statement they run. */
function spy(inner: SqlDriver, onStatement: (text: string) => void): SqlDriver {
  return {
    dialect: inner.dialect,
    query: (text, values) => inner.query(text, values),
    read: (fn) => inner.read(fn),
    close: () => inner.close(),
    transaction: (fn, signal) =>
      inner.transaction((tx: SqlExecutor) =>
        fn({
          query: async (text, values) => {
            const r = await tx.query(text, values)
            onStatement(text)
            return r
          },
        }),
      signal),
  }
}

interface Store {
  name: string
  make(onStatement: (text: string) => void): Promise<{ adapter: SqlAdapter<{ tenant: string }>; pool?: Pool; schema?: string; close(): Promise<void> }>
}

const stores: Store[] = [
  {
    name: 'SQLite',
    make: async (onStatement) => {
      const adapter = new SqlAdapter<{ tenant: string }>(spy(sqliteDriver(':memory:'), onStatement))
      return { adapter, close: () => adapter.close() }
    },
  },
]
if (PG_URL) {
  stores.push({
    name: 'PostgreSQL',
    make: async (onStatement) => {
      const pool = new Pool({ connectionString: PG_URL, max: 4, connectionTimeoutMillis: 5000 })
      const schema = `scim_t_${randomBytes(5).toString('hex')}`
      const adapter = new SqlAdapter<{ tenant: string }>(spy(postgresDriver(pool), onStatement), { schema })
      return {
        adapter,
        pool,
        schema,
        close: async () => {
          await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined)
          await pool.end()
        },
      }
    },
  })
}

describe.each(stores)('SqlAdapter ($name): AdapterQuery.signal', (store) => {
  it('AUTH-008: a create whose signal aborts mid-transaction is rolled back and rejects with the reason', async () => {
    const controller = new AbortController()
    const reason = new ServiceUnavailableError(5, 'deadline')
    let armed = false
    const db = await store.make((text) => {
      // Abort right after the row is inserted: the transaction is half done.
      if (armed && /^\s*INSERT INTO \S*resources/i.test(text)) controller.abort(reason)
    })
    try {
      await db.adapter.create({ resourceType: 'User', attributes: { userName: 'before' }, unique: USER_UNIQUE }, ctx)
      armed = true
      await expect(
        db.adapter.create({ resourceType: 'User', attributes: { userName: 'aborted' }, unique: USER_UNIQUE, signal: controller.signal }, ctx),
      ).rejects.toBe(reason)
      const all = await db.adapter.list({ resourceType: 'User', startIndex: 1, count: 10 }, ctx)
      expect(all.resources.map((r) => r.attributes['userName'])).toEqual(['before'])
      // The name is free again: the uniqueness row was rolled back too.
      const again = await db.adapter.create({ resourceType: 'User', attributes: { userName: 'aborted' }, unique: USER_UNIQUE }, ctx)
      expect(again.attributes['userName']).toBe('aborted')
    } finally {
      await db.close()
    }
  })

  it('AUTH-008: replace, delete and modifyMembers with an aborted signal change nothing', async () => {
    const db = await store.make(() => undefined)
    try {
      const u = await db.adapter.create({ resourceType: 'User', attributes: { userName: 'u', title: 'old' }, unique: USER_UNIQUE }, ctx)
      const g = await db.adapter.create({ resourceType: 'Group', attributes: { displayName: 'g' }, unique: [] }, ctx)
      const controller = new AbortController()
      const reason = new ServiceUnavailableError(5, 'deadline')
      controller.abort(reason)
      const signal = controller.signal
      await expect(db.adapter.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'u', title: 'new' }, unique: USER_UNIQUE, signal }, ctx)).rejects.toBe(reason)
      await expect(db.adapter.modifyMembers({ resourceType: 'Group', id: g.id, add: [u.id], remove: [], signal }, ctx)).rejects.toBe(reason)
      await expect(db.adapter.delete({ resourceType: 'User', id: u.id, signal }, ctx)).rejects.toBe(reason)
      const after = await db.adapter.get({ resourceType: 'User', id: u.id }, ctx)
      expect(after?.version).toBe(u.version)
      expect(after?.attributes['title']).toBe('old')
      expect(after?.attributes['groups'] ?? []).toEqual([])
    } finally {
      await db.close()
    }
  })
})

if (PG_URL) {
  describe('SqlAdapter (PostgreSQL): cancelling in flight', () => {
    it('AUTH-008: a replace waiting for a row lock is cancelled when its signal aborts, while the lock is still held', async () => {
      const db = await stores[1]!.make(() => undefined)
      const pool = db.pool as Pool
      const holder = await pool.connect()
      try {
        const u = await db.adapter.create({ resourceType: 'User', attributes: { userName: 'locked', title: 'old' }, unique: USER_UNIQUE }, ctx)
        await holder.query('BEGIN')
        await holder.query(`SELECT id FROM ${db.schema}.scim_resources WHERE id = $1 FOR UPDATE`, [u.id])
        const controller = new AbortController()
        const reason = new ServiceUnavailableError(5, 'deadline')
        const write = db.adapter.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'locked', title: 'new' }, unique: USER_UNIQUE, signal: controller.signal }, ctx)
        // Abort once the write is waiting for the row lock (pg_stat_activity shows it blocked; the
        // statement is the locking read or the UPDATE, whichever the store issues first).
        for (;;) {
          const waiting = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%${db.schema}.scim_resources%'`)
          if (waiting.rows[0].n > 0) break
          await new Promise((r) => setTimeout(r, 10))
        }
        controller.abort(reason)
        // Settles although the lock is still held: the statement was cancelled, not waited out.
        await expect(write).rejects.toBe(reason)
        await holder.query('ROLLBACK')
        const after = await db.adapter.get({ resourceType: 'User', id: u.id }, ctx)
        expect(after?.attributes['title']).toBe('old')
        expect(after?.version).toBe(u.version)
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined)
        holder.release()
        await db.close()
      }
    })
  })
}
