/**
 * `KyselyOutbox`: the durable event outbox of the Kysely adapter (`ScimAdapter.outbox`), on
 * PostgreSQL, MySQL 8/MariaDB 10.6+ and SQLite. Events are inserted by the write's own transaction
 * (`record`, its last statement), so a change and its events commit or roll back together.
 *
 * Table `<sideTablePrefix>events` (created by `migrate()`, see {@link outboxStatements}): seq
 * (commit order), id (unique), tenant, resource_type, resource_id, type, payload (JSON), state
 * (pending | delivered | dead), attempts, next_attempt_at, lease_owner, lease_until, created_at,
 * delivered_at (epoch ms), last_error.
 *
 * Commit order: PostgreSQL assigns `seq` under a per-tenant transaction advisory lock held to
 * COMMIT; MySQL/MariaDB under the lock of the tenant's row in `<table>_order`, held to COMMIT;
 * SQLite has one writer at a time.
 *
 * Claims run in one transaction, serialised between claimers (PostgreSQL: transaction advisory
 * lock; MySQL/MariaDB: a named lock `GET_LOCK` taken before the transaction starts; SQLite: one
 * writer), selecting candidates `FOR UPDATE SKIP LOCKED` (PostgreSQL, MySQL/MariaDB), so many
 * instances may claim from one table. A claim takes pending, due rows whose lease is absent or
 * expired, oldest first, unless an earlier pending row of the same resource is held by another
 * owner, not yet due, or (with `ids`) not among the ids claimed.
 * @module
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely'
import type { ClaimQuery, EventListQuery, EventOutbox, OutboxEvent, OutboxEventInput, OutboxEventState } from '../adapter'
import type { KyselyDialectName } from './mapping'

type Row = Record<string, unknown>
type Db = Kysely<any> | Transaction<any>

const COLS = 'seq, id, tenant, resource_type, resource_id, type, payload, state, attempts, next_attempt_at, lease_owner, lease_until, created_at, delivered_at, last_error'

/** The outbox of one KyselyAdapter (its Kysely instance, events table and tenant function). */
export class KyselyOutbox<Ctx = unknown> implements EventOutbox<Ctx> {
  readonly #db: Kysely<any>
  readonly #dialect: KyselyDialectName
  readonly #table: string
  readonly #tenantOf: (ctx: Ctx) => string
  readonly #ready: () => Promise<void>

  constructor(db: Kysely<any>, dialect: KyselyDialectName, table: string, tenantOf: (ctx: Ctx) => string, ready: () => Promise<void>) {
    this.#db = db
    this.#dialect = dialect
    this.#table = table
    this.#tenantOf = tenantOf
    this.#ready = ready
  }

  get #T(): RawBuilder<unknown> {
    return sql.raw(this.#table)
  }

  async #rows(db: Db, q: RawBuilder<unknown>): Promise<Row[]> {
    return (await q.execute(db)).rows as Row[]
  }

  async #count(db: Db, q: RawBuilder<unknown>): Promise<number> {
    return Number((await q.execute(db)).numAffectedRows ?? 0)
  }

  #ids(ids: readonly string[]): RawBuilder<unknown> {
    return sql.join(ids.map((id) => sql`${id}`))
  }

  /**
   * Insert a write's events inside its transaction `tx` (call it as the write's last statement).
   * PostgreSQL: under the tenant's advisory lock, so `seq` order is commit order per tenant.
   */
  async record(tx: Db, tenant: string, events: readonly OutboxEventInput[]): Promise<void> {
    if (events.length === 0) return
    if (this.#dialect === 'postgres') await sql`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${`scim-router:events:${this.#table}:${tenant}`}))`.execute(tx)
    if (this.#dialect === 'mysql') await sql`INSERT INTO ${sql.raw(`${this.#table}_order`)} (tenant) VALUES (${tenant}) ON DUPLICATE KEY UPDATE tenant = tenant`.execute(tx)
    const now = Date.now()
    // The router's first attempt, claimed here when nothing earlier of the resource is pending
    // outside its lease (OutboxEventInput.lease): one check per resource of this write.
    const free = new Map<string, boolean>()
    for (const e of events) {
      if (e.state !== 'pending' || !e.lease) continue
      const key = `${e.resourceType}\u0000${e.resourceId}`
      if (free.has(key)) continue
      const blocking = await this.#rows(
        tx,
        sql`SELECT 1 AS b FROM ${this.#T} WHERE tenant = ${tenant} AND resource_type = ${e.resourceType} AND resource_id = ${e.resourceId} AND state = 'pending'
            AND NOT (lease_owner IS NOT NULL AND lease_owner = ${e.lease.owner} AND lease_until > ${now}) LIMIT 1`,
      )
      free.set(key, blocking.length === 0)
    }
    const leased = (e: OutboxEventInput) => (e.lease && free.get(`${e.resourceType}\u0000${e.resourceId}`) ? e.lease : undefined)
    const rows = events.map((e) => {
      const lease = leased(e)
      return sql`(${e.id}, ${tenant}, ${e.resourceType}, ${e.resourceId}, ${e.type}, ${JSON.stringify(e.payload)}, ${e.state}, ${lease ? 1 : 0}, ${now}, ${lease?.owner ?? null}, ${lease ? lease.until.getTime() : null}, ${now}, ${e.state === 'delivered' ? now : null})`
    })
    await sql`INSERT INTO ${this.#T} (id, tenant, resource_type, resource_id, type, payload, state, attempts, next_attempt_at, lease_owner, lease_until, created_at, delivered_at)
        VALUES ${sql.join(rows)}`.execute(tx)
    // Granted only once the insert is done (the transaction may still roll back: then the write
    // fails and the router never looks at it).
    for (const e of events) if (leased(e)) e.lease!.granted = true
  }

  async claim(q: ClaimQuery): Promise<OutboxEvent[]> {
    await this.#ready()
    if (q.ids && q.ids.length === 0) return []
    const T = this.#T
    const now = Date.now()
    const inIds = (a: string) => (q.ids ? sql` AND ${sql.raw(a)}.id IN (${this.#ids(q.ids)})` : sql``)
    const claimable = (a: string) =>
      sql`${sql.raw(a)}.state = 'pending' AND ${sql.raw(a)}.next_attempt_at <= ${now} AND (${sql.raw(a)}.lease_until IS NULL OR ${sql.raw(a)}.lease_until <= ${now})${inIds(a)}`
    // Per-resource order: an earlier pending event of the resource blocks, unless this owner holds
    // it or it is claimable in this same statement.
    const lock = this.#dialect === 'sqlite' ? sql`` : sql` FOR UPDATE SKIP LOCKED`
    const candidates = sql`SELECT e.seq FROM ${T} e WHERE ${claimable('e')}
        AND NOT EXISTS (SELECT 1 FROM ${T} p WHERE p.tenant = e.tenant AND p.resource_type = e.resource_type AND p.resource_id = e.resource_id
          AND p.seq < e.seq AND p.state = 'pending'
          AND NOT (p.lease_owner IS NOT NULL AND p.lease_owner = ${q.owner} AND p.lease_until > ${now})
          AND NOT (${claimable('p')}))
        ORDER BY e.seq LIMIT ${q.limit}${lock}`
    const run = (db: Kysely<any>) =>
      db.transaction().execute(async (tx) => {
        // One claimer at a time (per-resource order across instances); SKIP LOCKED passes rows
        // another transaction is completing or failing right now.
        if (this.#dialect === 'postgres') await sql`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${`scim-router:claim:${this.#table}`}))`.execute(tx)
        const seqs = (await this.#rows(tx, candidates)).map((r) => r['seq'] as string | number)
        if (seqs.length === 0) return []
        const list = sql.join(seqs.map((s) => sql`${s}`))
        await sql`UPDATE ${T} SET lease_owner = ${q.owner}, lease_until = ${now + q.leaseMs}, attempts = attempts + 1 WHERE seq IN (${list})`.execute(tx)
        return this.#rows(tx, sql`SELECT ${sql.raw(COLS)} FROM ${T} WHERE seq IN (${list}) ORDER BY seq`)
      })
    if (this.#dialect !== 'mysql') return (await run(this.#db)).map(toEvent)
    // MySQL/MariaDB: a named lock on the connection, taken before the transaction so its snapshot
    // sees the previous claimer's commit.
    const name = `scim-router:claim:${this.#table}`.slice(0, 64)
    return this.#db.connection().execute(async (conn) => {
      const got = await this.#rows(conn, sql`SELECT GET_LOCK(${name}, 30) AS l`)
      if (Number(got[0]?.['l']) !== 1) throw new Error('KyselyOutbox.claim: timed out waiting for the claim lock')
      try {
        return (await run(conn)).map(toEvent)
      } finally {
        await sql`SELECT RELEASE_LOCK(${name})`.execute(conn)
      }
    })
  }

  async complete(q: { ids: readonly string[]; owner: string }): Promise<void> {
    if (q.ids.length === 0) return
    await sql`UPDATE ${this.#T} SET state = 'delivered', delivered_at = ${Date.now()}, lease_owner = NULL, lease_until = NULL
        WHERE id IN (${this.#ids(q.ids)}) AND state = 'pending'`.execute(this.#db)
  }

  async fail(q: { id: string; owner: string; error: string; nextAttemptAt: Date | null }): Promise<void> {
    const next = q.nextAttemptAt ? sql`, next_attempt_at = ${q.nextAttemptAt.getTime()}` : sql`, state = 'dead'`
    await sql`UPDATE ${this.#T} SET lease_owner = NULL, lease_until = NULL, last_error = ${q.error}${next}
        WHERE id = ${q.id} AND state = 'pending' AND lease_owner = ${q.owner}`.execute(this.#db)
  }

  async release(q: { ids: readonly string[]; owner: string }): Promise<void> {
    if (q.ids.length === 0) return
    await sql`UPDATE ${this.#T} SET lease_owner = NULL, lease_until = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
        WHERE id IN (${this.#ids(q.ids)}) AND state = 'pending' AND lease_owner = ${q.owner}`.execute(this.#db)
  }

  async list(q: EventListQuery, ctx: Ctx): Promise<OutboxEvent[]> {
    await this.#ready()
    const tenant = this.#tenantOf(ctx)
    const after = q.after === undefined ? sql`` : this.#dialect === 'postgres' ? sql` AND seq > ${q.after}::bigint` : sql` AND seq > ${Number(q.after)}`
    const state = q.state ? sql` AND state = ${q.state}` : sql``
    return (await this.#rows(this.#db, sql`SELECT ${sql.raw(COLS)} FROM ${this.#T} WHERE tenant = ${tenant}${after}${state} ORDER BY seq LIMIT ${q.limit}`)).map(toEvent)
  }

  async listForResource(q: { resourceType: string; resourceId: string; limit: number }, ctx: Ctx): Promise<OutboxEvent[]> {
    await this.#ready()
    const tenant = this.#tenantOf(ctx)
    return (
      await this.#rows(
        this.#db,
        sql`SELECT ${sql.raw(COLS)} FROM ${this.#T} WHERE tenant = ${tenant} AND resource_type = ${q.resourceType} AND resource_id = ${q.resourceId} ORDER BY seq DESC LIMIT ${q.limit}`,
      )
    ).map(toEvent)
  }

  async redeliver(q: { ids: readonly string[] }, ctx: Ctx): Promise<number> {
    await this.#ready()
    if (q.ids.length === 0) return 0
    return this.#count(
      this.#db,
      sql`UPDATE ${this.#T} SET state = 'pending', attempts = 0, next_attempt_at = ${Date.now()}, lease_owner = NULL, lease_until = NULL, delivered_at = NULL
          WHERE tenant = ${this.#tenantOf(ctx)} AND id IN (${this.#ids(q.ids)}) AND state <> 'pending'`,
    )
  }

  async prune(q: { deliveredBefore?: Date; keep?: number }): Promise<number> {
    await this.#ready()
    const T = this.#T
    let n = 0
    if (q.deliveredBefore) n += await this.#count(this.#db, sql`DELETE FROM ${T} WHERE state = 'delivered' AND delivered_at < ${q.deliveredBefore.getTime()}`)
    if (q.keep !== undefined) {
      const tenants = (await this.#rows(this.#db, sql`SELECT DISTINCT tenant FROM ${T}`)).map((r) => r['tenant'] as string)
      for (const tenant of tenants) {
        const cut = (await this.#rows(this.#db, sql`SELECT seq FROM ${T} WHERE tenant = ${tenant} ORDER BY seq DESC LIMIT 1 OFFSET ${q.keep}`))[0]?.['seq']
        if (cut === undefined) continue
        n += await this.#count(this.#db, sql`DELETE FROM ${T} WHERE tenant = ${tenant} AND state = 'delivered' AND seq <= ${cut}`)
      }
    }
    return n
  }
}

const ms = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)))

function toEvent(r: Row): OutboxEvent {
  const p = r['payload']
  const payload = (typeof p === 'string' ? JSON.parse(p) : Buffer.isBuffer(p) ? JSON.parse(p.toString('utf8')) : p) as Record<string, unknown>
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
