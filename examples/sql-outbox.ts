/**
 * `SqlOutbox`: the example SqlAdapter's event outbox (`ScimAdapter.outbox`, issue 13), for SQLite
 * and PostgreSQL. Events are inserted by the write's own transaction (`record`, its last
 * statement), so a change and its events commit or roll back together.
 *
 * Table `scim_events` (with the adapter's prefix):
 *   seq (commit order; BIGSERIAL / INTEGER PRIMARY KEY AUTOINCREMENT), id (the event id, unique),
 *   tenant, resource_type, resource_id, type, payload (JSONB / TEXT), state
 *   (pending | delivered | dead), attempts, next_attempt_at, lease_owner, lease_until,
 *   created_at, delivered_at (epoch ms), last_error.
 * Indexes: `events_claim` (next_attempt_at, seq) and `events_resource` (tenant, resource_type,
 * resource_id, seq), both partial on pending rows, for the claim and per-resource order;
 * `events_feed` (tenant, seq) for the feed and retention, `events_delivered` (state, delivered_at).
 *
 * Commit order: PostgreSQL assigns `seq` under a per-tenant transaction advisory lock taken right
 * before the insert and held to COMMIT, so within a tenant a higher `seq` never commits before a
 * lower one (a feed reader never skips an event); SQLite has one writer at a time.
 *
 * Claims: PostgreSQL serialises claimers with a transaction advisory lock and selects rows
 * `FOR UPDATE SKIP LOCKED` inside one `UPDATE … RETURNING`; SQLite claims in a single
 * `UPDATE … RETURNING`. A claim takes pending, due rows whose lease is absent or expired, oldest
 * first, unless an earlier pending row of the same resource is held by another owner, not yet due,
 * or (with `ids`) not among the ids claimed.
 * @module
 */
import type { ClaimQuery, EventListQuery, EventOutbox, OutboxEvent, OutboxEventInput, OutboxEventState } from '../src'
import { joinSql, raw, renderSql, sql, type SqlFragment } from '../src/sql'
import type { Row, SqlDriver, SqlExecutor } from './sql-adapter'

const COLS =
  'seq, id, tenant, resource_type, resource_id, type, payload, state, attempts, next_attempt_at, lease_owner, lease_until, created_at, delivered_at, last_error'

/** The outbox of one SqlAdapter (its driver, table and tenant function). */
export class SqlOutbox<Ctx = unknown> implements EventOutbox<Ctx> {
  readonly #driver: SqlDriver
  readonly #table: string
  readonly #prefix: string
  readonly #tenantOf: (ctx: Ctx) => string
  readonly #ready: () => Promise<void>

  constructor(driver: SqlDriver, table: string, prefix: string, tenantOf: (ctx: Ctx) => string, ready: () => Promise<void>) {
    this.#driver = driver
    this.#table = table
    this.#prefix = prefix
    this.#tenantOf = tenantOf
    this.#ready = ready
  }

  get #pg(): boolean {
    return this.#driver.dialect === 'postgres'
  }

  /** DDL of the events table and its indexes (run by SqlAdapter's schema creation). */
  ddl(): string[] {
    const E = this.#table
    const p = this.#prefix
    const pg = this.#pg
    return [
      `CREATE TABLE IF NOT EXISTS ${E} (
        seq ${pg ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'},
        id TEXT NOT NULL, tenant TEXT NOT NULL, resource_type TEXT NOT NULL, resource_id TEXT NOT NULL,
        type TEXT NOT NULL, payload ${pg ? 'JSONB' : 'TEXT'} NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL,
        lease_owner TEXT, lease_until BIGINT, created_at BIGINT NOT NULL, delivered_at BIGINT, last_error TEXT,
        CONSTRAINT ${p}events_id UNIQUE (id))`,
      // Partial: claims and the per-resource check only ever look at pending rows.
      `CREATE INDEX IF NOT EXISTS ${p}events_claim ON ${E} (next_attempt_at, seq) WHERE state = 'pending'`,
      `CREATE INDEX IF NOT EXISTS ${p}events_resource ON ${E} (tenant, resource_type, resource_id, seq) WHERE state = 'pending'`,
      `CREATE INDEX IF NOT EXISTS ${p}events_feed ON ${E} (tenant, seq)`,
      `CREATE INDEX IF NOT EXISTS ${p}events_delivered ON ${E} (state, delivered_at)`,
    ]
  }

  async #q(ex: SqlExecutor, f: SqlFragment): Promise<{ rows: Row[]; rowCount: number }> {
    const r = renderSql(f, this.#driver.dialect)
    return ex.query(r.text, r.values)
  }

  /**
   * Insert a write's events inside its transaction `tx` (call it as the write's last statement).
   * PostgreSQL: under the tenant's advisory lock, so `seq` order is commit order per tenant.
   */
  async record(tx: SqlExecutor, tenant: string, events: readonly OutboxEventInput[]): Promise<void> {
    if (events.length === 0) return
    if (this.#pg) await this.#q(tx, sql`SELECT pg_advisory_xact_lock(hashtext(${`scim-router:events:${this.#table}:${tenant}`}))`)
    const now = Date.now()
    const json = (v: unknown): SqlFragment => (this.#pg ? sql`${JSON.stringify(v)}::jsonb` : sql`${JSON.stringify(v)}`)
    // The router's first attempt, claimed here when nothing earlier of the resource is pending
    // outside its lease (OutboxEventInput.lease): one check per resource of this write.
    const free = new Map<string, boolean>()
    for (const e of events) {
      if (e.state !== 'pending' || !e.lease) continue
      const key = `${e.resourceType}\u0000${e.resourceId}`
      if (!free.has(key)) {
        const blocking = await this.#q(
          tx,
          sql`SELECT 1 AS b FROM ${raw(this.#table)} WHERE tenant = ${tenant} AND resource_type = ${e.resourceType} AND resource_id = ${e.resourceId} AND state = 'pending'
              AND NOT (lease_owner IS NOT NULL AND lease_owner = ${e.lease.owner} AND lease_until > ${now}) LIMIT 1`,
        )
        free.set(key, blocking.rows.length === 0)
      }
    }
    const rows = events.map((e) => {
      const lease = e.lease && free.get(`${e.resourceType}\u0000${e.resourceId}`) ? e.lease : undefined
      return sql`(${e.id}, ${tenant}, ${e.resourceType}, ${e.resourceId}, ${e.type}, ${json(e.payload)}, ${e.state}, ${lease ? 1 : 0}, ${now}, ${lease?.owner ?? null}, ${lease ? lease.until.getTime() : null}, ${now}, ${e.state === 'delivered' ? now : null})`
    })
    await this.#q(
      tx,
      sql`INSERT INTO ${raw(this.#table)} (id, tenant, resource_type, resource_id, type, payload, state, attempts, next_attempt_at, lease_owner, lease_until, created_at, delivered_at)
          VALUES ${joinSql(rows, ', ')}`,
    )
    // Granted only once the insert is done (the transaction may still roll back: then the write
    // fails and the router never looks at it).
    for (const e of events) if (e.lease && free.get(`${e.resourceType}\u0000${e.resourceId}`)) e.lease.granted = true
  }

  async claim(q: ClaimQuery): Promise<OutboxEvent[]> {
    await this.#ready()
    if (q.ids && q.ids.length === 0) return []
    const E = raw(this.#table)
    const now = Date.now()
    const ids = q.ids ? joinSql(q.ids.map((id) => sql`${id}`), ', ') : undefined
    const inIds = (alias: string): SqlFragment => (ids ? sql` AND ${raw(alias)}.id IN (${ids})` : raw(''))
    const claimable = (alias: string): SqlFragment =>
      sql`${raw(alias)}.state = 'pending' AND ${raw(alias)}.next_attempt_at <= ${now} AND (${raw(alias)}.lease_until IS NULL OR ${raw(alias)}.lease_until <= ${now})${inIds(alias)}`
    // Per-resource order: an earlier pending event of the resource blocks, unless this owner
    // holds it or it is claimable in this same statement.
    const candidates = sql`SELECT e.seq FROM ${E} e WHERE ${claimable('e')}
        AND NOT EXISTS (SELECT 1 FROM ${E} p WHERE p.tenant = e.tenant AND p.resource_type = e.resource_type AND p.resource_id = e.resource_id
          AND p.seq < e.seq AND p.state = 'pending'
          AND NOT (p.lease_owner IS NOT NULL AND p.lease_owner = ${q.owner} AND p.lease_until > ${now})
          AND NOT (${claimable('p')}))
        ORDER BY e.seq LIMIT ${q.limit}`
    const set = sql`SET lease_owner = ${q.owner}, lease_until = ${now + q.leaseMs}, attempts = attempts + 1`
    let rows: Row[]
    if (this.#pg) {
      rows = await this.#driver.transaction(async (tx) => {
        // One claimer at a time (per-resource order across instances); SKIP LOCKED passes rows
        // another transaction is completing or failing right now.
        await this.#q(tx, sql`SELECT pg_advisory_xact_lock(hashtext(${`scim-router:claim:${this.#table}`}))`)
        return (await this.#q(tx, sql`WITH c AS (${candidates} FOR UPDATE OF e SKIP LOCKED) UPDATE ${E} ${set} FROM c WHERE ${E}.seq = c.seq RETURNING ${raw(COLS.split(', ').map((c) => `${this.#table}.${c}`).join(', '))}`)).rows
      })
    } else {
      rows = (await this.#q(this.#driver, sql`UPDATE ${E} ${set} WHERE seq IN (${candidates}) RETURNING ${raw(COLS)}`)).rows
    }
    return rows.map(toEvent).sort((a, b) => Number(BigInt(a.seq) - BigInt(b.seq)))
  }

  async complete(q: { ids: readonly string[]; owner: string }): Promise<void> {
    if (q.ids.length === 0) return
    await this.#q(
      this.#driver,
      sql`UPDATE ${raw(this.#table)} SET state = 'delivered', delivered_at = ${Date.now()}, lease_owner = NULL, lease_until = NULL
          WHERE id IN (${joinSql(q.ids.map((id) => sql`${id}`), ', ')}) AND state = 'pending'`,
    )
  }

  async fail(q: { id: string; owner: string; error: string; nextAttemptAt: Date | null }): Promise<void> {
    const next = q.nextAttemptAt ? sql`, next_attempt_at = ${q.nextAttemptAt.getTime()}` : sql`, state = 'dead'`
    await this.#q(
      this.#driver,
      sql`UPDATE ${raw(this.#table)} SET lease_owner = NULL, lease_until = NULL, last_error = ${q.error}${next}
          WHERE id = ${q.id} AND state = 'pending' AND lease_owner = ${q.owner}`,
    )
  }

  async release(q: { ids: readonly string[]; owner: string }): Promise<void> {
    if (q.ids.length === 0) return
    await this.#q(
      this.#driver,
      sql`UPDATE ${raw(this.#table)} SET lease_owner = NULL, lease_until = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
          WHERE id IN (${joinSql(q.ids.map((id) => sql`${id}`), ', ')}) AND state = 'pending' AND lease_owner = ${q.owner}`,
    )
  }

  async list(q: EventListQuery, ctx: Ctx): Promise<OutboxEvent[]> {
    await this.#ready()
    const tenant = this.#tenantOf(ctx)
    const after = q.after === undefined ? raw('') : this.#pg ? sql` AND seq > ${q.after}::bigint` : sql` AND seq > ${Number(q.after)}`
    const state = q.state ? sql` AND state = ${q.state}` : raw('')
    const r = await this.#q(this.#driver, sql`SELECT ${raw(COLS)} FROM ${raw(this.#table)} WHERE tenant = ${tenant}${after}${state} ORDER BY seq LIMIT ${q.limit}`)
    return r.rows.map(toEvent)
  }

  async redeliver(q: { ids: readonly string[] }, ctx: Ctx): Promise<number> {
    await this.#ready()
    if (q.ids.length === 0) return 0
    const r = await this.#q(
      this.#driver,
      sql`UPDATE ${raw(this.#table)} SET state = 'pending', attempts = 0, next_attempt_at = ${Date.now()}, lease_owner = NULL, lease_until = NULL, delivered_at = NULL
          WHERE tenant = ${this.#tenantOf(ctx)} AND id IN (${joinSql(q.ids.map((id) => sql`${id}`), ', ')}) AND state <> 'pending'`,
    )
    return r.rowCount
  }

  async prune(q: { deliveredBefore?: Date; keep?: number }): Promise<number> {
    await this.#ready()
    const E = raw(this.#table)
    let n = 0
    if (q.deliveredBefore) {
      n += (await this.#q(this.#driver, sql`DELETE FROM ${E} WHERE state = 'delivered' AND delivered_at < ${q.deliveredBefore.getTime()}`)).rowCount
    }
    if (q.keep !== undefined) {
      const tenants = (await this.#q(this.#driver, sql`SELECT DISTINCT tenant FROM ${E}`)).rows.map((r) => r['tenant'] as string)
      for (const tenant of tenants) {
        const cut = (await this.#q(this.#driver, sql`SELECT seq FROM ${E} WHERE tenant = ${tenant} ORDER BY seq DESC LIMIT 1 OFFSET ${q.keep}`)).rows[0]?.['seq']
        if (cut === undefined) continue
        n += (await this.#q(this.#driver, sql`DELETE FROM ${E} WHERE tenant = ${tenant} AND state = 'delivered' AND seq <= ${cut}`)).rowCount
      }
    }
    return n
  }
}

const ms = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)))

function toEvent(r: Row): OutboxEvent {
  const payload = typeof r['payload'] === 'string' ? (JSON.parse(r['payload']) as Record<string, unknown>) : (r['payload'] as Record<string, unknown>)
  return {
    id: r['id'] as string,
    tenant: r['tenant'] as string,
    seq: String(r['seq']),
    type: r['type'] as string,
    resourceType: r['resource_type'] as string,
    resourceId: r['resource_id'] as string,
    payload,
    state: r['state'] as OutboxEventState,
    attempts: Number(r['attempts']),
    nextAttemptAt: ms(r['next_attempt_at']) as Date,
    leaseOwner: (r['lease_owner'] as string | null) ?? null,
    leaseUntil: ms(r['lease_until']),
    createdAt: ms(r['created_at']) as Date,
    deliveredAt: ms(r['delivered_at']),
    lastError: (r['last_error'] as string | null) ?? null,
  }
}
