/**
 * Drizzle guide (docs/guides/drizzle.md): scim-router's Kysely adapter on the same better-sqlite3
 * connection (or pg pool) as the app's drizzle-orm instance, mapping the app's Drizzle-declared
 * tables. Column names are read from the Drizzle declarations, so a rename in schema.ts cannot
 * leave the SCIM mapping behind.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { getTableName } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/better-sqlite3'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import type { Pool } from 'pg'
import { kyselyAdapter, type KyselyAdapter, type KyselyMapping, type TimestampStorage } from '../../../src/kysely'
import * as schema from './schema'
import { teamMembers, teams, users } from './schema'

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

/** The SCIM mapping of the Drizzle tables; `timestamps` is how the timestamp columns hold instants. */
export function drizzleMapping(timestamps: TimestampStorage): KyselyMapping {
  const row = (t: typeof users | typeof teams) => ({
    table: getTableName(t),
    id: t.id.name,
    tenant: t.orgId.name,
    version: t.version.name,
    created: t.createdAt.name,
    lastModified: t.updatedAt.name,
    rest: t.scim.name,
    timestamps,
  })
  return {
    resources: {
      User: {
        ...row(users),
        columns: {
          userName: users.email.name,
          'name.givenName': users.firstName.name,
          'name.familyName': users.lastName.name,
          displayName: users.displayName.name,
          active: { column: users.isActive.name, default: true },
          externalId: users.externalId.name,
          [`${ENTERPRISE}:employeeNumber`]: users.employeeNumber.name,
          [`${ENTERPRISE}:department`]: users.department.name,
        },
      },
      Group: {
        ...row(teams),
        columns: { displayName: teams.name.name, externalId: teams.externalId.name },
        members: { table: getTableName(teamMembers), group: teamMembers.teamId.name, member: teamMembers.userId.name },
      },
    },
  }
}

/** The app's Drizzle instance and scim-router's adapter, both on one better-sqlite3 connection. */
export function scimOverDrizzleSqlite(sqlite: BetterSqlite3.Database): {
  orm: ReturnType<typeof drizzle<typeof schema>>
  db: Kysely<any>
  adapter: KyselyAdapter
} {
  const orm = drizzle(sqlite, { schema })
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) })
  return { orm, db, adapter: kyselyAdapter({ db, mapping: drizzleMapping('iso') }) }
}

/**
 * The same on PostgreSQL: Drizzle and Kysely share one pg Pool. (A PostgreSQL app declares its
 * tables with drizzle-orm/pg-core; the column names, and so the mapping, are the same.)
 */
export function scimOverDrizzlePg(pool: Pool): { orm: ReturnType<typeof drizzlePg>; db: Kysely<any>; adapter: KyselyAdapter } {
  const orm = drizzlePg(pool)
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
  return { orm, db, adapter: kyselyAdapter({ db, mapping: drizzleMapping('date') }) }
}
