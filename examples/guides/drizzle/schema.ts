/**
 * The app's own tables, declared with Drizzle (SQLite flavour): exactly the existing-tables schema
 * (examples/existing-tables/schema.ts) plus one JSON column `scim` per table for the attributes that
 * have no column. These declarations are the app's; scim-router only reads their names.
 */
import { sql } from 'drizzle-orm'
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** The app's users. */
export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  orgId: text('org_id').notNull(),
  email: text('email').notNull(),
  firstName: text('first_name'),
  lastName: text('last_name'),
  displayName: text('display_name'),
  isActive: integer('is_active', { mode: 'boolean' }).notNull(),
  externalId: text('external_id'),
  employeeNumber: text('employee_number'),
  department: text('department'),
  createdAt: text('created_at'),
  updatedAt: text('updated_at'),
  version: integer('version'),
  scim: text('scim'),
})

/** The app's teams (SCIM Groups). */
export const teams = sqliteTable('teams', {
  id: text('id').primaryKey(),
  orgId: text('org_id').notNull(),
  name: text('name').notNull(),
  externalId: text('external_id'),
  createdAt: text('created_at'),
  updatedAt: text('updated_at'),
  version: integer('version'),
  scim: text('scim'),
})

/** Team membership (SCIM Group `members`). */
export const teamMembers = sqliteTable(
  'team_members',
  { teamId: text('team_id').notNull(), userId: text('user_id').notNull() },
  (t) => [primaryKey({ columns: [t.teamId, t.userId] })],
)

/**
 * What `drizzle-kit push` would create for these tables; the guide's test runs it because
 * drizzle-kit is not a dependency here. An app uses its own drizzle-kit migrations instead.
 */
export const createTables = [
  sql`CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, email TEXT NOT NULL, first_name TEXT,
    last_name TEXT, display_name TEXT, is_active INTEGER NOT NULL, external_id TEXT, employee_number TEXT, department TEXT,
    created_at TEXT, updated_at TEXT, version INTEGER, scim TEXT)`,
  sql`CREATE TABLE IF NOT EXISTS teams (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, name TEXT NOT NULL, external_id TEXT,
    created_at TEXT, updated_at TEXT, version INTEGER, scim TEXT)`,
  sql`CREATE TABLE IF NOT EXISTS team_members (team_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (team_id, user_id))`,
]
