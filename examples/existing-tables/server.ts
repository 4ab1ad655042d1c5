/**
 * Runnable example: SCIM 2.0 over an app's *existing* tables (schema.ts) for two organisations,
 * through `scim-router/kysely` and the 40-line mapping in mapping.ts.
 *
 *   npm run example:existing-tables                  # SQLite ./existing-tables.db, 127.0.0.1:8080
 *   PORT=9000 SCIM_TOKEN=a SCIM_TOKEN_B=b npm run example:existing-tables
 *   SCIM_DB=':memory:' npm run example:existing-tables
 *   DATABASE_URL=postgres://user:pw@host/db npm run example:existing-tables
 *
 * `SCIM_TOKEN` is organisation A's bearer token, `SCIM_TOKEN_B` organisation B's (each generated
 * and printed when unset). Each token sees only its organisation's rows (`org_id`). Bulk and RFC
 * 9865 cursors are on. The app's tables are created when missing; the side tables and indexes the
 * mapping needs come from `migrate()`.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import Database from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import { Pool } from 'pg'
import { createExistingTablesApp } from './app'
import { stopOnSignals } from '../shutdown'

const port = Number(process.env.PORT ?? 8080)
const host = process.env.HOST ?? '127.0.0.1'
const tokenA = process.env.SCIM_TOKEN || randomBytes(24).toString('base64url')
const tokenB = process.env.SCIM_TOKEN_B || randomBytes(24).toString('base64url')
const pgUrl = process.env.DATABASE_URL

const db = pgUrl
  ? new Kysely<any>({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: pgUrl, max: 10 }) }) })
  : new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(process.env.SCIM_DB || 'existing-tables.db') }) })
const { app, ready } = createExistingTablesApp({
  db,
  dialect: pgUrl ? 'postgres' : 'sqlite',
  tokens: { a: tokenA, b: tokenB },
  cursorSecret: createHmac('sha256', `${tokenA}\n${tokenB}`).update('existing-tables cursors').digest('base64url'),
})

async function start(): Promise<void> {
  await ready
  const server = createServer(app)
  server.once('error', (err: Error) => {
    console.error(`Cannot start: ${err.message}`)
    process.exit(1)
  })
  server.listen(port, host, () => {
    const url = `http://${host}:${(server.address() as AddressInfo).port}/scim/v2`
    console.log(`Storage: ${pgUrl ? `PostgreSQL ${new URL(pgUrl).host}${new URL(pgUrl).pathname}` : `SQLite ${process.env.SCIM_DB || 'existing-tables.db'}`} (tables users, teams, team_members)`)
    console.log(`SCIM server ready at ${url}`)
    if (!process.env.SCIM_TOKEN) console.log(`export SCIM_TOKEN=${tokenA}   # organisation A`)
    if (!process.env.SCIM_TOKEN_B) console.log(`export SCIM_TOKEN_B=${tokenB}   # organisation B`)
    console.log(`Try: curl -s -H "Authorization: Bearer $SCIM_TOKEN" ${url}/Users`)
  })
  stopOnSignals(server, () => db.destroy())
}

start().catch((err: unknown) => {
  console.error(`Cannot start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
