/**
 * The tables of schema.prisma as `prisma migrate dev` creates them on SQLite (its DDL, foreign keys
 * included). The guide's test runs these statements because Prisma's migration engine is a native
 * binary this repository does not install; an app uses `prisma migrate` instead.
 */
import type { PrismaRawClient } from './adapter'

/** CREATE TABLE statements of schema.prisma on SQLite. */
export const sqliteTables = [
  `CREATE TABLE IF NOT EXISTS "users" ("id" TEXT NOT NULL PRIMARY KEY, "org_id" TEXT NOT NULL, "email" TEXT NOT NULL,
    "first_name" TEXT, "last_name" TEXT, "display_name" TEXT, "is_active" BOOLEAN NOT NULL, "external_id" TEXT,
    "employee_number" TEXT, "department" TEXT, "created_at" DATETIME, "updated_at" DATETIME, "version" INTEGER, "scim" TEXT)`,
  `CREATE TABLE IF NOT EXISTS "teams" ("id" TEXT NOT NULL PRIMARY KEY, "org_id" TEXT NOT NULL, "name" TEXT NOT NULL,
    "external_id" TEXT, "created_at" DATETIME, "updated_at" DATETIME, "version" INTEGER, "scim" TEXT)`,
  `CREATE TABLE IF NOT EXISTS "team_members" ("team_id" TEXT NOT NULL, "user_id" TEXT NOT NULL,
    PRIMARY KEY ("team_id", "user_id"),
    CONSTRAINT "team_members_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "team_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE)`,
]

/** Create the tables when missing. */
export async function createSqliteTables(prisma: PrismaRawClient): Promise<void> {
  for (const s of sqliteTables) await prisma.$executeRawUnsafe(s)
}

/** CREATE TABLE statements of postgres/schema.prisma on PostgreSQL (as `prisma migrate dev` creates them). */
export const postgresTables = [
  `CREATE TABLE IF NOT EXISTS "users" ("id" TEXT NOT NULL, "org_id" TEXT NOT NULL, "email" TEXT NOT NULL,
    "first_name" TEXT, "last_name" TEXT, "display_name" TEXT, "is_active" BOOLEAN NOT NULL, "external_id" TEXT,
    "employee_number" TEXT, "department" TEXT, "created_at" TIMESTAMP(3), "updated_at" TIMESTAMP(3), "version" INTEGER,
    "scim" TEXT, CONSTRAINT "users_pkey" PRIMARY KEY ("id"))`,
  `CREATE TABLE IF NOT EXISTS "teams" ("id" TEXT NOT NULL, "org_id" TEXT NOT NULL, "name" TEXT NOT NULL,
    "external_id" TEXT, "created_at" TIMESTAMP(3), "updated_at" TIMESTAMP(3), "version" INTEGER, "scim" TEXT,
    CONSTRAINT "teams_pkey" PRIMARY KEY ("id"))`,
  `CREATE TABLE IF NOT EXISTS "team_members" ("team_id" TEXT NOT NULL, "user_id" TEXT NOT NULL,
    CONSTRAINT "team_members_pkey" PRIMARY KEY ("team_id", "user_id"),
    CONSTRAINT "team_members_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "teams" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "team_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE ON UPDATE CASCADE)`,
]

/** Create the PostgreSQL tables when missing. */
export async function createPostgresTables(prisma: PrismaRawClient): Promise<void> {
  for (const s of postgresTables) await prisma.$executeRawUnsafe(s)
}
