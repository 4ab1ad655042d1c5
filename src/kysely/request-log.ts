/**
 * `kyselyRequestLog(db)`: the request log (`RequestLog`) in the database of the Kysely adapter, on
 * PostgreSQL, MySQL/MariaDB and SQLite. Tables (created by `migrate()`, or
 * {@link requestLogStatements} alone): `<prefix>requests`, one row per request, and
 * `<prefix>request_resources`, one row per (request, resource touched), indexed for the queries
 * and for retention by time.
 * @module
 */
import { sql, type Kysely, type RawBuilder } from 'kysely'
import { detectDialect } from './dialect'
import type { KyselyDialectName } from './mapping'
import {
  decodeCursor,
  encodeCursor,
  pageSize,
  type IdpName,
  type RequestLog,
  type RequestLogBucket,
  type RequestLogEntry,
  type RequestLogPage,
  type RequestLogPruneQuery,
  type RequestLogQuery,
  type RequestLogStatsQuery,
} from '../request-log/types'

/** Options of {@link kyselyRequestLog}. */
export interface KyselyRequestLogOptions {
  /** Table name prefix, as given to `migrate()` (the mapping's side-table prefix). Default `scim_`. */
  prefix?: string
  /** The dialect, for a Kysely instance whose adapter is not one of Kysely's own (default: detected). */
  dialect?: KyselyDialectName
}

type Row = Record<string, unknown>

const HOUR = 3_600_000
const COLS = 'id, at_ms, tenant, connection_id, idp, method, path, status, scim_type, error_type, detail, duration_ms, correlation_id, user_agent, request_body, response_body, resource_ids'

function checkPrefix(prefix: string, where: string): void {
  if (prefix !== '' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) throw new TypeError(`${where}: invalid prefix '${prefix}'`)
}

/**
 * The DDL of the request log's two tables and their indexes: newest-first pages overall, per
 * tenant, per connection and per status `(…, at_ms, id)`; resources `(resource_id, at_ms,
 * request_id)`; retention by `at_ms`. Part of `migrationStatements()` (option `requestLog`,
 * default true). Idempotent (`IF NOT EXISTS`; on MySQL/MariaDB `migrate()` skips indexes that exist).
 */
export function requestLogStatements(dialect: KyselyDialectName, prefix = 'scim_'): string[] {
  checkPrefix(prefix, 'requestLogStatements')
  const my = dialect === 'mysql'
  const key = (n: number) => (my ? `VARCHAR(${n}) COLLATE utf8mb4_bin` : 'TEXT')
  const big = dialect === 'sqlite' ? 'INTEGER' : 'BIGINT'
  const body = my ? 'MEDIUMTEXT' : 'TEXT'
  const suffix = my ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin' : ''
  const R = `${prefix}requests`
  const X = `${prefix}request_resources`
  const index = (table: string, what: string, cols: string) => `CREATE INDEX ${my ? '' : 'IF NOT EXISTS '}${`${table}_${what}`.slice(0, 60)} ON ${table} (${cols})`
  return [
    `CREATE TABLE IF NOT EXISTS ${R} (id ${key(64)} NOT NULL, at_ms ${big} NOT NULL, hour_ms ${big} NOT NULL, tenant ${key(160)}, connection_id ${key(64)},
      idp ${key(16)} NOT NULL, method ${key(16)} NOT NULL, path ${body} NOT NULL, status INTEGER NOT NULL, scim_type ${key(64)}, error_type ${key(64)},
      detail ${body}, duration_ms ${big} NOT NULL, correlation_id ${key(128)} NOT NULL, user_agent ${body}, request_body ${body}, response_body ${body},
      resource_ids ${body} NOT NULL, PRIMARY KEY (id))${suffix}`,
    index(R, 'at', 'at_ms, id'),
    index(R, 'tenant', 'tenant, at_ms, id'),
    index(R, 'connection', 'connection_id, at_ms, id'),
    index(R, 'status', 'tenant, status, at_ms, id'),
    `CREATE TABLE IF NOT EXISTS ${X} (request_id ${key(64)} NOT NULL, resource_id ${key(128)} NOT NULL, at_ms ${big} NOT NULL, PRIMARY KEY (request_id, resource_id))${suffix}`,
    index(X, 'resource', 'resource_id, at_ms, request_id'),
    index(X, 'at', 'at_ms'),
  ]
}

/**
 * A {@link RequestLog} in a Kysely database (the tables of {@link requestLogStatements}, created
 * by `migrate()`). Pass it as the router's `requestLog` (or `requestLog.store`).
 *
 * @example
 * ```ts
 * await migrate(db, scimTablesMapping(), { createTables: true })  // creates scim_requests too
 * const router = scimRouter(adapter, { authenticate, requestLog: { store: kyselyRequestLog(db) } })
 * ```
 */
export function kyselyRequestLog(db: Kysely<any>, options: KyselyRequestLogOptions = {}): RequestLog {
  const prefix = options.prefix ?? 'scim_'
  checkPrefix(prefix, 'kyselyRequestLog')
  // Validates the dialect now (the SQL itself is portable).
  if (!options.dialect) detectDialect(db)
  const R = sql.raw(`${prefix}requests`)
  const X = sql.raw(`${prefix}request_resources`)
  const rows = async (q: RawBuilder<unknown>): Promise<Row[]> => (await q.execute(db)).rows as Row[]
  const count = async (q: RawBuilder<unknown>): Promise<number> => Number((await q.execute(db)).numAffectedRows ?? 0)

  const where = (q: RequestLogQuery, alias: string): RawBuilder<unknown>[] => {
    const c = (col: string) => sql.raw(`${alias}.${col}`)
    const out: RawBuilder<unknown>[] = []
    if (q.tenant !== undefined) out.push(sql`${c('tenant')} = ${q.tenant}`)
    if (q.connectionId !== undefined) out.push(sql`${c('connection_id')} = ${q.connectionId}`)
    if (q.status === 'error') out.push(sql`${c('status')} >= 400`)
    else if (q.status !== undefined) out.push(sql`${c('status')} = ${q.status}`)
    if (q.since) out.push(sql`${c('at_ms')} >= ${q.since.getTime()}`)
    if (q.until) out.push(sql`${c('at_ms')} < ${q.until.getTime()}`)
    const after = decodeCursor(q.cursor)
    // Written as a range on at_ms (index-friendly on every dialect), then the tie on id.
    if (after) out.push(sql`${c('at_ms')} <= ${after.at} AND (${c('at_ms')} < ${after.at} OR ${c('id')} < ${after.id})`)
    return out
  }
  const and = (conds: RawBuilder<unknown>[]): RawBuilder<unknown> => (conds.length === 0 ? sql`1 = 1` : sql.join(conds, sql` AND `))

  return {
    async append(entries) {
      if (entries.length === 0) return
      await db.transaction().execute(async (tx) => {
        const values = entries.map(
          (e) =>
            sql`(${e.id}, ${e.at.getTime()}, ${Math.floor(e.at.getTime() / HOUR) * HOUR}, ${e.tenant}, ${e.connectionId}, ${e.idp}, ${e.method}, ${e.path}, ${e.status}, ${e.scimType}, ${e.errorType},
              ${e.detail}, ${e.durationMs}, ${e.correlationId}, ${e.userAgent}, ${e.requestBody}, ${e.responseBody}, ${JSON.stringify(e.resourceIds)})`,
        )
        await sql`INSERT INTO ${R} (id, at_ms, hour_ms, tenant, connection_id, idp, method, path, status, scim_type, error_type, detail, duration_ms, correlation_id,
            user_agent, request_body, response_body, resource_ids) VALUES ${sql.join(values)}`.execute(tx)
        const links = entries.flatMap((e) => [...new Set(e.resourceIds)].map((rid) => sql`(${e.id}, ${rid}, ${e.at.getTime()})`))
        for (let i = 0; i < links.length; i += 500) await sql`INSERT INTO ${X} (request_id, resource_id, at_ms) VALUES ${sql.join(links.slice(i, i + 500))}`.execute(tx)
      })
    },

    async query(q) {
      const limit = pageSize(q.limit)
      let found: Row[]
      if (q.resourceId !== undefined) {
        const conds = [sql`x.resource_id = ${q.resourceId}`, ...where(q, 'r')]
        found = await rows(sql`SELECT ${sql.raw(COLS.split(', ').map((c) => `r.${c}`).join(', '))} FROM ${X} x JOIN ${R} r ON r.id = x.request_id
            WHERE ${and(conds)} ORDER BY x.at_ms DESC, x.request_id DESC LIMIT ${limit + 1}`)
      } else {
        found = await rows(sql`SELECT ${sql.raw(COLS)} FROM ${R} r WHERE ${and(where(q, 'r'))} ORDER BY r.at_ms DESC, r.id DESC LIMIT ${limit + 1}`)
      }
      const entries = found.slice(0, limit).map(toEntry)
      const last = entries[entries.length - 1]
      const page: RequestLogPage = found.length > limit && last ? { entries, next: encodeCursor(last) } : { entries }
      return page
    },

    async stats(q: RequestLogStatsQuery) {
      const conds = where({ ...(q.tenant !== undefined ? { tenant: q.tenant } : {}), ...(q.connectionId !== undefined ? { connectionId: q.connectionId } : {}), since: q.since, ...(q.until ? { until: q.until } : {}) }, 'r')
      const found = await rows(sql`SELECT r.hour_ms, r.idp, r.error_type, COUNT(*) AS n FROM ${R} r WHERE ${and(conds)} GROUP BY r.hour_ms, r.idp, r.error_type ORDER BY r.hour_ms`)
      return found.map((r): RequestLogBucket => ({ hour: Number(r['hour_ms']), idp: r['idp'] as IdpName, errorType: (r['error_type'] as string | null) ?? null, count: Number(r['n']) }))
    },

    async prune(q: RequestLogPruneQuery) {
      let n = 0
      if (q.before) {
        const cutoff = q.before.getTime()
        await sql`DELETE FROM ${X} WHERE at_ms < ${cutoff}`.execute(db)
        n += await count(sql`DELETE FROM ${R} WHERE at_ms < ${cutoff}`)
      }
      if (q.keep !== undefined) {
        // The newest entry beyond `keep`, found by walking the (at_ms, id) index from the top.
        const edge = (await rows(sql`SELECT at_ms, id FROM ${R} ORDER BY at_ms DESC, id DESC LIMIT 1 OFFSET ${Math.max(0, q.keep)}`))[0]
        if (edge) {
          const at = Number(edge['at_ms'])
          const id = String(edge['id'])
          await sql`DELETE FROM ${X} WHERE at_ms <= ${at} AND (at_ms < ${at} OR request_id <= ${id})`.execute(db)
          n += await count(sql`DELETE FROM ${R} WHERE at_ms <= ${at} AND (at_ms < ${at} OR id <= ${id})`)
        }
      }
      return n
    },
  }
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString('utf8') : String(v))

function toEntry(r: Row): RequestLogEntry {
  let ids: unknown
  try {
    ids = JSON.parse(text(r['resource_ids']) ?? '[]')
  } catch {
    ids = []
  }
  return {
    id: String(r['id']),
    at: new Date(Number(r['at_ms'])),
    tenant: text(r['tenant']),
    connectionId: text(r['connection_id']),
    idp: String(r['idp']) as IdpName,
    method: String(r['method']),
    path: text(r['path']) ?? '',
    status: Number(r['status']),
    scimType: text(r['scim_type']),
    errorType: text(r['error_type']),
    detail: text(r['detail']),
    durationMs: Number(r['duration_ms']),
    correlationId: String(r['correlation_id']),
    userAgent: text(r['user_agent']),
    requestBody: text(r['request_body']),
    responseBody: text(r['response_body']),
    resourceIds: Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [],
  }
}
