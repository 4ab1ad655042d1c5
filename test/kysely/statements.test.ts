/**
 * sqliteStatementCache: the SQLite prepared-statement cache for Kysely's SqliteDialect (the
 * bench:sql fix for SQLite statement preparation). Behaviour, not timing: statements are reused by
 * SQL text, a statement still iterating is not handed out twice, the cache is bounded, and the
 * adapter works through it (its statements compiled once per shape hit the cache).
 */
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { kyselyAdapter, migrate, scimTablesMapping, sqliteStatementCache } from '../../src/kysely'

function counting() {
  const database = new Database(':memory:')
  const prepared: string[] = []
  const wrapped = {
    prepare: (sql: string) => {
      prepared.push(sql)
      return database.prepare(sql)
    },
    close: () => database.close(),
  }
  return { database, prepared, wrapped }
}

describe('sqliteStatementCache', () => {
  test('reuses the statement of a SQL text it has seen', () => {
    const { prepared, wrapped } = counting()
    const db = sqliteStatementCache(wrapped)
    const a = db.prepare('SELECT 1 AS x')
    const b = db.prepare('SELECT 1 AS x')
    expect(b).toBe(a)
    expect(a.all([])).toEqual([{ x: 1 }])
    db.prepare('SELECT 2 AS x')
    expect(prepared).toEqual(['SELECT 1 AS x', 'SELECT 2 AS x'])
    db.close()
  })

  test('a statement still iterating is not handed out again: a fresh one is prepared', () => {
    const { prepared, wrapped } = counting()
    const db = sqliteStatementCache(wrapped)
    const sql = 'SELECT value FROM json_each(?)'
    const first = db.prepare(sql)
    const it = first.iterate(['[1,2,3]'])
    expect(it.next().value).toEqual({ value: 1 })
    const second = db.prepare(sql)
    expect(second).not.toBe(first)
    expect(second.all(['[4]'])).toEqual([{ value: 4 }])
    expect([...it]).toEqual([{ value: 2 }, { value: 3 }])
    expect(db.prepare(sql)).toBe(first) // done iterating: the cached one again
    expect(prepared).toEqual([sql, sql])
    db.close()
  })

  test('keeps at most `size` statements, dropping the least recently used', () => {
    const { prepared, wrapped } = counting()
    const db = sqliteStatementCache(wrapped, { size: 2 })
    db.prepare('SELECT 1')
    db.prepare('SELECT 2')
    db.prepare('SELECT 1') // 1 is now the most recently used
    db.prepare('SELECT 3') // drops 2
    db.prepare('SELECT 1')
    db.prepare('SELECT 2')
    expect(prepared).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3', 'SELECT 2'])
    expect(() => sqliteStatementCache(wrapped, { size: 0 })).toThrow(TypeError)
    db.close()
  })

  test('close() closes the database', () => {
    const { database, wrapped } = counting()
    sqliteStatementCache(wrapped).close()
    expect(database.open).toBe(false)
  })

  test('the adapter through the cache: repeated lookups and PATCH-like replaces prepare each statement once', async () => {
    const { prepared, wrapped } = counting()
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqliteStatementCache(wrapped) }) })
    const mapping = scimTablesMapping()
    await migrate(db, mapping, { createTables: true })
    const adapter = kyselyAdapter({ db, mapping, outbox: false })
    const unique = [{ path: 'userName', caseExact: false }]
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push((await adapter.create({ resourceType: 'User', attributes: { userName: `u${i}@example.com`, active: true }, unique }, {})).id)
    const before = prepared.length
    for (let round = 0; round < 3; round++) {
      for (const id of ids) {
        const s = (await adapter.get({ resourceType: 'User', id }, {}))!
        const after = await adapter.replace({ resourceType: 'User', id, attributes: { ...s.attributes, active: round % 2 === 1 }, unique, expectedVersion: s.version }, {})
        expect(after.attributes['active']).toBe(round % 2 === 1)
        expect(after.version).toBe(String(Number(s.version) + 1))
      }
    }
    const fresh = prepared.slice(before)
    expect(new Set(fresh).size).toBe(fresh.length) // nothing prepared twice
    await db.destroy()
  })
})
