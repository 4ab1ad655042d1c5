/**
 * Runnable example: an Express 5 app serving SCIM 2.0 at /scim/v2, storing data in SQLite by default.
 *
 *   npm run example                    # 127.0.0.1:8080, `export SCIM_TOKEN=…` printed, data in ./scim-example.db
 *   PORT=9000 SCIM_TOKEN=secret npm run example
 *   SCIM_DB=/var/lib/scim.db npm run example                 # another SQLite file (':memory:' allowed)
 *   SCIM_STORE=memory npm run example                        # MemoryAdapter: nothing persists
 *   DATABASE_URL=postgres://user:pw@host/db npm run example  # PostgreSQL (or SCIM_STORE=postgres + SCIM_PG_URL)
 *   DATABASE_URL=postgres://… SCIM_PG_SCHEMA=scim npm run example  # tables in PostgreSQL schema `scim`
 *
 * Storage: SCIM_STORE=memory|sqlite|postgres. Unset: postgres when DATABASE_URL is set, else sqlite
 * in the file SCIM_DB (default `scim-example.db` in the working directory), which survives restarts.
 * Tables are created on first start (`migrate(db, scimTablesMapping(), { createTables: true })` of
 * `scim-router/kysely`). With PostgreSQL, SCIM_PG_SCHEMA
 * (an identifier: letters, digits, `_`) puts the tables in that schema, created if missing; unset,
 * they go to the connection's search_path. Instances that share a database must use the same
 * schema (test/scale/scale-out.test.ts runs two of them on one fresh schema).
 *
 * Events (issue 13): SCIM_EVENTS_LOG=/path appends every event the app's handler accepts to that
 * file as JSON lines (before acknowledging it). Delivery tuning: SCIM_EVENT_LEASE_MS,
 * SCIM_EVENT_HANDLER_TIMEOUT_MS, SCIM_EVENT_POLL_MS, SCIM_EVENT_BACKOFF_MS (initial retry delay).
 * Fault injection for tests, on `user.deprovisioned` deliveries: SCIM_EXAMPLE_FAIL_EVENTS=N (the
 * first N throw), SCIM_EXAMPLE_HANG_EVENTS=N (the next N never settle), SCIM_EXAMPLE_EVENT_DELAY_MS
 * (each takes that long before it is acknowledged).
 *
 * Connections (issue 14): the admin API at /app/connections (README, "A SCIM connection per
 * customer") creates, lists, rotates and revokes per-customer tokens at run time, kept in the same
 * database (SQLite file or PostgreSQL schema; in memory with SCIM_STORE=memory). It is protected by
 * ADMIN_TOKEN, generated and printed when unset. `DELETE /app/connections/{id}` decommissions a
 * connection in the background; a job interrupted by a stop or a crash resumes on the next start.
 * SCIM_DECOMMISSION_BATCH (users per batch, default 100) and SCIM_DECOMMISSION_DELAY_MS (pause
 * between batches, default 0) tune it.
 *
 * Request log and console (issue 15): every SCIM request is recorded, redacted, in the same
 * database; the console at /app/console/ (sign in with ADMIN_TOKEN) shows it, and
 * GET /app/connections/{id}/requests returns one connection's requests as JSON.
 *
 * Point an IdP (Entra ID, Okta, ...) at http://127.0.0.1:$PORT/scim/v2 with the bearer token.
 * The app itself (examples/app.ts) keeps toy login sessions and ends a user's sessions the moment
 * the IdP deprovisions the user.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import { Pool } from 'pg'
import { Connections, MemoryAdapter, MemoryConnectionStore, MemoryRequestLog, type ConnectionStore, type RequestLog, type ScimAdapter } from '../src'
import { kyselyAdapter, kyselyConnectionStore, kyselyRequestLog, migrate, scimTablesMapping, sqliteStatementCache } from '../src/kysely'
import { createExampleApp } from './app'
import { stopOnSignals } from './shutdown'

interface Store {
  adapter: ScimAdapter
  /** Connections (per-customer tokens), kept in the same database as the resources. */
  connections: ConnectionStore
  /** The request log (issue 15), in the same database (tables created by migrate()). */
  requestLog: RequestLog
  description: string
  /** Create the tables (idempotent) before accepting traffic. */
  init: () => Promise<void>
  close: () => Promise<void>
}

/** The SCIM-owned tables of `scim-router/kysely` on `db`, created by migrate() on start. */
function kyselyStore(db: Kysely<any>, description: string, before: () => Promise<void> = async () => undefined): Store {
  const mapping = scimTablesMapping()
  return {
    adapter: kyselyAdapter({ db, mapping }),
    connections: kyselyConnectionStore(db),
    requestLog: kyselyRequestLog(db),
    description,
    init: async () => {
      await before()
      await migrate(db, mapping, { createTables: true })
    },
    close: () => db.destroy(),
  }
}

function openStore(): Store {
  const pgUrl = process.env.DATABASE_URL || process.env.SCIM_PG_URL
  const store = (process.env.SCIM_STORE || (process.env.DATABASE_URL ? 'postgres' : 'sqlite')).toLowerCase()
  switch (store) {
    case 'memory':
      return { adapter: new MemoryAdapter(), description: 'memory (MemoryAdapter; data is lost on exit)', connections: new MemoryConnectionStore(), requestLog: new MemoryRequestLog(), init: async () => undefined, close: async () => undefined }
    case 'sqlite': {
      const file = process.env.SCIM_DB || 'scim-example.db'
      const database = new Database(file)
      if (file !== ':memory:') database.pragma('journal_mode = WAL')
      database.pragma('busy_timeout = 5000')
      return kyselyStore(new Kysely<any>({ dialect: new SqliteDialect({ database: sqliteStatementCache(database) }) }), `SQLite ${file}`)
    }
    case 'postgres':
    case 'postgresql': {
      if (!pgUrl) throw new Error('SCIM_STORE=postgres needs DATABASE_URL (or SCIM_PG_URL)')
      const schema = process.env.SCIM_PG_SCHEMA || undefined
      if (schema && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`SCIM_PG_SCHEMA must be a plain identifier (got '${schema}')`)
      const pool = new Pool({ connectionString: pgUrl, ...(schema ? { options: `-c search_path=${schema}` } : {}) })
      const where = `${new URL(pgUrl).host}${new URL(pgUrl).pathname}${schema ? ` (schema ${schema})` : ''}`
      return kyselyStore(new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), `PostgreSQL ${where}`, async () => {
        if (!schema) return
        // Instances starting together: CREATE SCHEMA IF NOT EXISTS is not safe to run concurrently in
        // PostgreSQL (a unique violation on pg_namespace), so it runs under a transaction advisory lock.
        const client = await pool.connect()
        try {
          await client.query('BEGIN')
          await client.query(`SELECT pg_advisory_xact_lock(hashtext('scim-router:example:schema'))`)
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`)
          await client.query('COMMIT')
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined)
          throw err
        } finally {
          client.release()
        }
      })
    }
    default:
      throw new Error(`SCIM_STORE must be memory, sqlite or postgres (got '${store}')`)
  }
}

const port = Number(process.env.PORT ?? 8080)
const host = process.env.HOST ?? '127.0.0.1'
const generated = !process.env.SCIM_TOKEN
const token = process.env.SCIM_TOKEN || randomBytes(24).toString('base64url')

const store = openStore()
const adminGenerated = !process.env.ADMIN_TOKEN
const adminToken = process.env.ADMIN_TOKEN || randomBytes(24).toString('base64url')

/** A positive integer from the environment, or undefined. */
function envInt(name: string): number | undefined {
  const v = process.env[name]
  if (v === undefined || v === '') return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`)
  return n
}

const lease = envInt('SCIM_EVENT_LEASE_MS')
const handlerTimeout = envInt('SCIM_EVENT_HANDLER_TIMEOUT_MS')
const poll = envInt('SCIM_EVENT_POLL_MS')
const backoff = envInt('SCIM_EVENT_BACKOFF_MS')

const batch = envInt('SCIM_DECOMMISSION_BATCH')
const batchDelay = envInt('SCIM_DECOMMISSION_DELAY_MS')

const { app, scim, decommissions } = createExampleApp({
  ...(batch ? { decommissionBatchSize: batch } : {}),
  ...(batchDelay ? { decommissionDelayMs: batchDelay } : {}),
  ...(process.env.SCIM_EVENTS_LOG ? { eventsLog: process.env.SCIM_EVENTS_LOG } : {}),
  failEvents: envInt('SCIM_EXAMPLE_FAIL_EVENTS') ?? 0,
  hangEvents: envInt('SCIM_EXAMPLE_HANG_EVENTS') ?? 0,
  eventDelayMs: envInt('SCIM_EXAMPLE_EVENT_DELAY_MS') ?? 0,
  eventDelivery: {
    ...(lease ? { leaseMs: lease } : {}),
    ...(handlerTimeout ? { handlerTimeout } : {}),
    ...(poll ? { pollInterval: poll } : {}),
    ...(backoff ? { backoff: { initialMs: backoff, maxMs: Math.max(backoff * 8, 1000) } } : {}),
  },
  adapter: store.adapter,
  token,
  connections: new Connections(store.connections),
  adminToken,
  requestLog: store.requestLog,
  cursorSecret: createHmac('sha256', token).update('scim-router example cursors').digest('base64url'),
  ...(process.env.SCIM_BASE_URL ? { baseUrl: process.env.SCIM_BASE_URL } : {}),
})

async function start(): Promise<void> {
  // Create the schema before accepting traffic, so a bad database URL fails at startup.
  await store.init()
  // Finish the decommissionings a previous process left running (stopped or killed half way).
  const resumed = (await decommissions?.resume()) ?? []
  if (resumed.length > 0) console.log(`Resuming the decommissioning of ${resumed.length} connection(s)`)
  const server = createServer(app)
  server.once('error', (err: Error) => {
    console.error(`Cannot start: ${err.message}`)
    process.exit(1)
  })
  server.listen(port, host, () => {
    // PORT=0 asks the OS for a free port; print the one actually bound.
    const url = `http://${host}:${(server.address() as AddressInfo).port}/scim/v2`
    console.log(`Storage: ${store.description}`)
    console.log(`SCIM server ready at ${url}`)
    if (generated) {
      console.log('Bearer token generated (set SCIM_TOKEN to choose one); paste this to use it:')
      console.log(`export SCIM_TOKEN=${token}`)
    } else console.log('Bearer token: from $SCIM_TOKEN')
    console.log(`Try: curl -s -H "Authorization: Bearer $SCIM_TOKEN" ${url}/Users`)
    if (adminGenerated) {
      console.log('Admin token of /app/connections generated (set ADMIN_TOKEN to choose one):')
      console.log(`export ADMIN_TOKEN=${adminToken}`)
    } else console.log('Admin token of /app/connections: from $ADMIN_TOKEN')
    console.log(`Provisioning console: http://${host}:${(server.address() as AddressInfo).port}/app/console/ (sign in with the admin token)`)
  })
  stopOnSignals(server, () =>
    Promise.all([decommissions?.stop(), scim.events.stop()]).finally(() => store.close()),
  )
}

start().catch((err: unknown) => {
  console.error(`Cannot start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
