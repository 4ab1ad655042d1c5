/**
 * The three databases the Kysely adapter is tested on, each as a fresh, isolated store: SQLite
 * `:memory:` (always), PostgreSQL (SCIM_PG_URL: one fresh schema per store) and MySQL/MariaDB
 * (SCIM_MYSQL_URL: one fresh database per store). Unset URLs skip their suites, visibly.
 */
import { randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, sql } from 'kysely'
import { Pool } from 'pg'
import type { KyselyDialectName } from '../../src/kysely'

export const PG_URL = process.env['SCIM_PG_URL']
export const MYSQL_URL = process.env['SCIM_MYSQL_URL']

/** A fresh database and how to drop it. */
export interface Store {
  db: Kysely<any>
  dialect: KyselyDialectName
  drop(): Promise<void>
}

const name = () => `scim_k_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`

export async function sqliteStore(): Promise<Store> {
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) })
  return { db, dialect: 'sqlite', drop: () => db.destroy() }
}

export async function postgresStore(): Promise<Store> {
  const schema = name()
  const admin = new Pool({ connectionString: PG_URL, max: 1 })
  await admin.query(`CREATE SCHEMA ${schema}`)
  await admin.end()
  const pool = new Pool({ connectionString: PG_URL, max: 6, options: `-c search_path=${schema}` })
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    dialect: 'postgres',
    drop: async () => {
      await sql.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).execute(db)
      await db.destroy()
    },
  }
}

export async function mysqlStore(): Promise<Store> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mysql = require('mysql2') as typeof import('mysql2')
  const database = name()
  const url = new URL(MYSQL_URL as string)
  const admin = mysql.createConnection({ uri: MYSQL_URL as string })
  await admin.promise().query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`)
  await admin.promise().end()
  url.pathname = `/${database}`
  const pool = mysql.createPool({ uri: url.toString(), connectionLimit: 6, charset: 'utf8mb4' })
  // mysql2's pool typings are narrower than what Kysely's MysqlDialect declares; the runtime shape is the documented one.
  const db = new Kysely<any>({ dialect: new MysqlDialect({ pool: pool as never }) })
  return {
    db,
    dialect: 'mysql',
    drop: async () => {
      await sql.raw(`DROP DATABASE IF EXISTS ${database}`).execute(db)
      await db.destroy()
    },
  }
}

/** The stores to test on: SQLite always, the others when their URL is set (else a visible skip). */
export const STORES: { name: string; make: () => Promise<Store>; skip?: string }[] = [
  { name: 'SQLite', make: sqliteStore },
  { name: 'PostgreSQL', make: postgresStore, ...(PG_URL ? {} : { skip: 'needs SCIM_PG_URL=postgres://… (scripts/postgres-setup.sh)' }) },
  { name: 'MariaDB', make: mysqlStore, ...(MYSQL_URL ? {} : { skip: 'needs SCIM_MYSQL_URL=mysql://… (scripts/mariadb-setup.sh)' }) },
]
