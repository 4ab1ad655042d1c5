/**
 * `kyselyConnectionStore`: SCIM connections kept in the same database as the resources, in the
 * `<prefix>connections` and `<prefix>connection_tokens` tables that `migrate()` creates.
 * @module
 */
import type { Kysely } from 'kysely'
import type { ConnectionSettings, ConnectionStore, DecommissionState, StoredConnection, StoredConnectionToken } from '../connections'

/** Options of {@link kyselyConnectionStore}. */
export interface KyselyConnectionStoreOptions {
  /** The mapping's `sideTablePrefix` (default `scim_`): the tables are `<prefix>connections` and `<prefix>connection_tokens`. */
  prefix?: string
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
/** A JSON column (TEXT on every dialect; PostgreSQL drivers may hand back parsed JSON too). */
const json = <T>(v: unknown, fallback: T): T => {
  if (v === null || v === undefined || v === '') return fallback
  if (typeof v === 'object') return v as T
  return JSON.parse(String(v)) as T
}

/**
 * A {@link ConnectionStore} over a Kysely instance (PostgreSQL, MySQL/MariaDB, SQLite); pass the
 * same `db` as to `kyselyAdapter`, and run `migrate()` first. Only token hashes are stored.
 *
 * @example
 * ```ts
 * await migrate(db, mapping, { createTables: true })
 * const connections = new Connections(kyselyConnectionStore(db), { baseUrl })
 * ```
 */
export function kyselyConnectionStore(db: Kysely<any>, options: KyselyConnectionStoreOptions = {}): ConnectionStore {
  const prefix = options.prefix ?? 'scim_'
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix) && prefix !== '') throw new TypeError(`kyselyConnectionStore: invalid prefix '${prefix}'`)
  const C = `${prefix}connections`
  const T = `${prefix}connection_tokens`

  const load = async (rows: any[]): Promise<StoredConnection[]> => {
    if (rows.length === 0) return []
    const ids = rows.map((r) => String(r.id))
    const tokens = await db.selectFrom(T).selectAll().where('connection_id', 'in', ids).execute()
    return rows.map((r) => ({
      id: String(r.id),
      tenant: String(r.tenant),
      createdAt: num(r.created_at) as number,
      revokedAt: num(r.revoked_at),
      lastUsedAt: num(r.last_used_at),
      settings: json<ConnectionSettings>(r.settings, {}),
      decommission: json<DecommissionState | null>(r.decommission, null),
      tokens: tokens
        .filter((t: any) => String(t.connection_id) === String(r.id))
        .map((t: any): StoredConnectionToken => ({ hash: String(t.hash), createdAt: num(t.created_at) as number, expiresAt: num(t.expires_at) })),
    }))
  }
  const tokenRows = (id: string, tokens: StoredConnectionToken[]) => tokens.map((t) => ({ hash: t.hash, connection_id: id, created_at: t.createdAt, expires_at: t.expiresAt }))

  return {
    async insert(c) {
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto(C)
          .values({ id: c.id, tenant: c.tenant, created_at: c.createdAt, revoked_at: c.revokedAt, last_used_at: c.lastUsedAt, settings: JSON.stringify(c.settings), decommission: c.decommission ? JSON.stringify(c.decommission) : null })
          .execute()
        if (c.tokens.length > 0) await tx.insertInto(T).values(tokenRows(c.id, c.tokens)).execute()
      })
    },
    async get(id) {
      const rows = await db.selectFrom(C).selectAll().where('id', '=', id).execute()
      return (await load(rows))[0] ?? null
    },
    async list() {
      return load(await db.selectFrom(C).selectAll().orderBy('created_at').orderBy('id').execute())
    },
    async findByTokenHash(hash) {
      const row = await db.selectFrom(T).select('connection_id').where('hash', '=', hash).executeTakeFirst()
      return row ? this.get(String(row.connection_id)) : null
    },
    async setTokens(id, tokens) {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom(T).where('connection_id', '=', id).execute()
        if (tokens.length > 0) await tx.insertInto(T).values(tokenRows(id, tokens)).execute()
      })
    },
    async update(id, fields) {
      const set: Record<string, number | string | null> = {}
      if (fields.revokedAt !== undefined) set['revoked_at'] = fields.revokedAt
      if (fields.lastUsedAt !== undefined) set['last_used_at'] = fields.lastUsedAt
      if (fields.settings !== undefined) set['settings'] = JSON.stringify(fields.settings)
      if (fields.decommission !== undefined) set['decommission'] = fields.decommission ? JSON.stringify(fields.decommission) : null
      if (Object.keys(set).length > 0) await db.updateTable(C).set(set).where('id', '=', id).execute()
    },
  }
}
