/**
 * TypeORM guide (docs/guides/typeorm.md): scim-router's Kysely adapter on the connection pool of
 * the app's TypeORM DataSource (the better-sqlite3 handle, or the pg Pool, that TypeORM's driver
 * opened), mapping SCIM Users and Groups onto the tables of the app's entities. Table and column
 * names are read from TypeORM's entity metadata, so renaming a column in the entity moves the SCIM
 * mapping with it.
 */
import type BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import type { Pool } from 'pg'
import type { DataSource, EntityMetadata, EntitySchema } from 'typeorm'
import type { BetterSqlite3Driver } from 'typeorm/driver/better-sqlite3/BetterSqlite3Driver'
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver'
import { kyselyAdapter, type KyselyAdapter, type KyselyMapping } from '../../../src/kysely'
import type { AppTeam, AppUser } from './entities'

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

/** The database column of an entity property (throws when the entity has no such property). */
function column(meta: EntityMetadata, property: string): string {
  const c = meta.findColumnWithPropertyName(property)
  if (!c) throw new Error(`${meta.name} has no column for property ${property}`)
  return c.databaseName
}

/** The SCIM mapping of the app's entities, from the DataSource's metadata. */
export function typeormMapping(
  dataSource: DataSource,
  entities: { User: EntitySchema<AppUser>; Team: EntitySchema<AppTeam> },
): KyselyMapping {
  const users = dataSource.getMetadata(entities.User)
  const teams = dataSource.getMetadata(entities.Team)
  const timestamps = dataSource.options.type === 'postgres' ? 'date' : 'iso' // timestamptz, or ISO text
  const row = (m: EntityMetadata) => ({
    table: m.tableName,
    id: column(m, 'id'),
    tenant: column(m, 'orgId'),
    version: column(m, 'version'),
    created: column(m, 'createdAt'),
    lastModified: column(m, 'updatedAt'),
    rest: column(m, 'scim'),
    timestamps,
  } as const)
  const u = (p: keyof AppUser) => column(users, p)
  // The many-to-many relation's join table: Team.members → team_members(team_id, user_id).
  const join = teams.findRelationWithPropertyPath('members')?.junctionEntityMetadata
  const [group, member] = [join?.ownerColumns[0]?.databaseName, join?.inverseColumns[0]?.databaseName]
  if (!join || !group || !member) throw new Error('AppTeam.members must be a many-to-many relation with a join table')
  return {
    resources: {
      User: {
        ...row(users),
        columns: {
          userName: u('email'),
          'name.givenName': u('firstName'),
          'name.familyName': u('lastName'),
          displayName: u('displayName'),
          active: { column: u('isActive'), default: true }, // NOT NULL in the entity
          externalId: u('externalId'),
          [`${ENTERPRISE}:employeeNumber`]: u('employeeNumber'),
          [`${ENTERPRISE}:department`]: u('department'),
        },
      },
      Group: {
        ...row(teams),
        columns: { displayName: column(teams, 'name'), externalId: column(teams, 'externalId') },
        members: { table: join.tableName, group, member },
      },
    },
  }
}

/**
 * A Kysely instance on the DataSource's own connections: the better-sqlite3 `Database` TypeORM's
 * `better-sqlite3` driver opened, or the pg `Pool` of its `postgres` driver. Initialize the
 * DataSource first. Do not `destroy()` this Kysely: the pool is TypeORM's (`dataSource.destroy()`).
 */
export function kyselyOverTypeorm(dataSource: DataSource): Kysely<any> {
  if (!dataSource.isInitialized) throw new Error('initialize the DataSource before sharing its connections')
  switch (dataSource.options.type) {
    case 'better-sqlite3': {
      const database = (dataSource.driver as BetterSqlite3Driver).databaseConnection as BetterSqlite3.Database
      return new Kysely<any>({ dialect: new SqliteDialect({ database }) })
    }
    case 'postgres': {
      const pool = (dataSource.driver as PostgresDriver).master as Pool
      return new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
    }
    default:
      throw new Error(`the guide covers better-sqlite3 and postgres DataSources, not ${dataSource.options.type}`)
  }
}

/** scim-router's adapter over the app's entities, on the DataSource's connections. */
export function scimOverTypeorm<Ctx = unknown>(
  dataSource: DataSource,
  entities: { User: EntitySchema<AppUser>; Team: EntitySchema<AppTeam> },
  options: { tenant?: (ctx: Ctx) => string } = {},
): { db: Kysely<any>; mapping: KyselyMapping; adapter: KyselyAdapter<Ctx> } {
  const db = kyselyOverTypeorm(dataSource)
  const mapping = typeormMapping(dataSource, entities)
  return { db, mapping, adapter: kyselyAdapter<Ctx>({ db, mapping, ...options }) }
}
