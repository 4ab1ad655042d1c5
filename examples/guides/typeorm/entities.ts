/**
 * The app's own TypeORM entities (TypeORM guide, docs/guides/typeorm.md): users, teams and their
 * many-to-many membership, over exactly the existing-tables schema (examples/existing-tables/) plus
 * one JSON column `scim` per table for the attributes that have no column. They are declared with
 * `EntitySchema`, which needs no decorator compiler flags; an app declaring the same entities with
 * `@Entity()` classes gets the same metadata, and the SCIM mapping reads only that metadata.
 */
import { EntitySchema, type ValueTransformer } from 'typeorm'

/** A row of `users`, as the app's code sees it. */
export interface AppUser {
  id: string
  orgId: string
  email: string
  firstName: string | null
  lastName: string | null
  displayName: string | null
  isActive: boolean
  externalId: string | null
  employeeNumber: string | null
  department: string | null
  createdAt: Date
  updatedAt: Date
  version: number
  scim: Record<string, unknown> | null
  teams?: AppTeam[]
}

/** A row of `teams` (SCIM Groups). */
export interface AppTeam {
  id: string
  orgId: string
  name: string
  externalId: string | null
  createdAt: Date
  updatedAt: Date
  version: number
  scim: Record<string, unknown> | null
  members?: AppUser[]
}

/** The databases the guide covers. */
export type GuideDatabase = 'sqlite' | 'postgres'

/** ISO-8601 text in the column, a `Date` in the entity (SQLite has no timestamp type). */
const isoText: ValueTransformer = {
  to: (v: Date | string | null | undefined) => (v instanceof Date ? v.toISOString() : v),
  from: (v: string | null) => (v === null ? v : new Date(v)),
}

/**
 * `created_at` / `updated_at`. On PostgreSQL: `@CreateDateColumn` / `@UpdateDateColumn` on
 * `timestamptz`. On SQLite those decorators write `CURRENT_TIMESTAMP` text
 * (`YYYY-MM-DD HH:MM:SS`, no zone, whole seconds), which neither sorts nor parses like the ISO
 * text scim-router keeps there, so the columns are plain ISO text, filled by a SQL default on
 * insert; the app sets `updatedAt` on its own updates.
 */
function timestamps(database: GuideDatabase) {
  if (database === 'postgres') {
    return {
      createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
      updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
    } as const
  }
  const now = () => "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
  return {
    createdAt: { name: 'created_at', type: 'varchar', default: now, transformer: isoText },
    updatedAt: { name: 'updated_at', type: 'varchar', default: now, transformer: isoText },
  } as const
}

/** The app's entities for one database (column types differ; names do not). */
export function appEntities(database: GuideDatabase): { User: EntitySchema<AppUser>; Team: EntitySchema<AppTeam> } {
  const json = database === 'postgres' ? 'jsonb' : 'simple-json'
  const User = new EntitySchema<AppUser>({
    name: 'AppUser',
    tableName: 'users',
    columns: {
      id: { type: 'varchar', primary: true },
      orgId: { name: 'org_id', type: 'varchar' },
      email: { type: 'varchar' },
      firstName: { name: 'first_name', type: 'varchar', nullable: true },
      lastName: { name: 'last_name', type: 'varchar', nullable: true },
      displayName: { name: 'display_name', type: 'varchar', nullable: true },
      isActive: { name: 'is_active', type: 'boolean' },
      externalId: { name: 'external_id', type: 'varchar', nullable: true },
      employeeNumber: { name: 'employee_number', type: 'varchar', nullable: true },
      department: { type: 'varchar', nullable: true },
      ...timestamps(database),
      // @VersionColumn: TypeORM's save() and update() increment it, so an app write is a new
      // SCIM version too (a stale If-Match then gets 412, RFC 7644 §3.14).
      version: { type: 'integer', version: true },
      scim: { type: json, nullable: true },
    },
    indices: [
      { name: 'users_org_email', columns: ['orgId', 'email'] },
      { name: 'users_org_external_id', columns: ['orgId', 'externalId'] },
    ],
    relations: { teams: { type: 'many-to-many', target: 'AppTeam', inverseSide: 'members' } },
  })
  const Team = new EntitySchema<AppTeam>({
    name: 'AppTeam',
    tableName: 'teams',
    columns: {
      id: { type: 'varchar', primary: true },
      orgId: { name: 'org_id', type: 'varchar' },
      name: { type: 'varchar' },
      externalId: { name: 'external_id', type: 'varchar', nullable: true },
      ...timestamps(database),
      version: { type: 'integer', version: true },
      scim: { type: json, nullable: true },
    },
    relations: {
      members: {
        type: 'many-to-many',
        target: 'AppUser',
        inverseSide: 'teams',
        joinTable: {
          name: 'team_members',
          joinColumn: { name: 'team_id', referencedColumnName: 'id' },
          inverseJoinColumn: { name: 'user_id', referencedColumnName: 'id' },
        },
      },
    },
  })
  return { User, Team }
}
