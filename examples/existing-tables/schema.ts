/**
 * The app's own tables, exactly as in issue 12 (plus one JSON column `scim` per table for the
 * attributes that have no column). They belong to the app, not to scim-router: the example creates
 * them when missing, as the app's own migration would. MySQL/MariaDB spellings differ only where
 * MySQL requires it (VARCHAR keys, DATETIME(3)).
 */
import { sql, type Kysely } from 'kysely'
import type { KyselyDialectName } from '../../src/kysely'

/** CREATE TABLE statements of the app's schema for a dialect. */
export function appTables(dialect: KyselyDialectName): string[] {
  const my = dialect === 'mysql'
  const key = my ? 'VARCHAR(64)' : 'TEXT'
  const ts = my ? 'DATETIME(3)' : 'TIMESTAMP'
  const json = dialect === 'postgres' ? 'JSONB' : my ? 'JSON' : 'TEXT'
  return [
    `CREATE TABLE IF NOT EXISTS users (id ${key} PRIMARY KEY, org_id ${key} NOT NULL, email TEXT NOT NULL, first_name TEXT, last_name TEXT,
      display_name TEXT, is_active BOOLEAN NOT NULL, external_id TEXT, employee_number TEXT,
      department TEXT, created_at ${ts}, updated_at ${ts}, version INTEGER, scim ${json})`,
    `CREATE TABLE IF NOT EXISTS teams (id ${key} PRIMARY KEY, org_id ${key} NOT NULL, name TEXT NOT NULL, external_id TEXT,
      created_at ${ts}, updated_at ${ts}, version INTEGER, scim ${json})`,
    `CREATE TABLE IF NOT EXISTS team_members (team_id ${key}, user_id ${key}, PRIMARY KEY (team_id, user_id))`,
  ]
}

/** Create the app's tables when missing. */
export async function createAppTables(db: Kysely<any>, dialect: KyselyDialectName): Promise<void> {
  for (const s of appTables(dialect)) await sql.raw(s).execute(db)
}
