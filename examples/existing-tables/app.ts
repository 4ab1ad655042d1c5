/**
 * The existing-tables example app: Express 5 serving SCIM at /scim/v2 over the app's own tables
 * for two organisations, one bearer token each (server.ts starts it; tests drive it directly).
 */
import express, { type Express } from 'express'
import type { Kysely } from 'kysely'
import { bearerToken, scimRouter } from '../../src'
import { kyselyAdapter, migrate, type KyselyDialectName } from '../../src/kysely'
import { existingTablesMapping } from './mapping'
import { createAppTables } from './schema'

/** Options of {@link createExistingTablesApp}. */
export interface ExistingTablesOptions {
  db: Kysely<any>
  dialect: KyselyDialectName
  /** Bearer tokens of organisation A (`org-a`) and B (`org-b`). */
  tokens: { a: string; b: string }
  cursorSecret?: string
}

/** The app, and a promise that resolves once the app's tables and the mapping's indexes exist. */
export function createExistingTablesApp(options: ExistingTablesOptions): { app: Express; ready: Promise<void> } {
  const { db, dialect } = options
  // PostgreSQL and MySQL TIMESTAMP/DATETIME columns read and write Dates; SQLite keeps ISO text.
  const mapping = existingTablesMapping(dialect === 'sqlite' ? 'iso' : 'date')
  const adapter = kyselyAdapter<{ org: string }>({ db, mapping, tenant: (ctx) => ctx.org })
  const ready = createAppTables(db, dialect).then(() => migrate(db, mapping))
  const app = express()
  app.disable('x-powered-by')
  app.use(
    '/scim/v2',
    scimRouter(adapter, {
      authenticate: bearerToken({ [options.tokens.a]: { org: 'org-a' }, [options.tokens.b]: { org: 'org-b' } }),
      context: (_req, principal) => ({ org: principal.org }),
      bulk: true,
      ...(options.cursorSecret ? { cursorSecret: options.cursorSecret } : {}),
    }),
  )
  return { app, ready }
}
