/**
 * docs/guides/prisma.md: scim-router's Kysely adapter on the app's Prisma Client (Prisma 7, the
 * better-sqlite3 driver adapter), over the tables of the app's Prisma models, passes the adapter
 * conformance kit; a provisioning flow over HTTP is what the app's Prisma Client reads, and the
 * app's `prisma.$kysely` (prisma-extension-kysely) reads the same rows.
 */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { describeAdapterConformance } from '../../src/testing'
import { migrate, type KyselyAdapter } from '../../src/kysely'
import { scimOverPrisma } from '../../examples/guides/prisma/adapter'
import { PrismaClient } from '../../examples/guides/prisma/generated/client'
import { createSqliteTables } from '../../examples/guides/prisma/tables'

async function setup<Ctx>(options: Parameters<typeof scimOverPrisma<Ctx>>[2] = {}) {
  const base = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: ':memory:' }) })
  await createSqliteTables(base)
  const made = scimOverPrisma<Ctx>(base, 'sqlite', options)
  // the side tables of lookups and uniqueness the mapping needs (RFC 7644 §3.4.2.2, RFC 7643 §2.2)
  await migrate(made.db, made.mapping)
  return { base, ...made }
}

const clients = new Map<KyselyAdapter<{ tenant: string }>, PrismaClient>()
describeAdapterConformance(
  'KyselyAdapter on a Prisma Client (sqlite, better-sqlite3 driver adapter)',
  async () => {
    const { base, adapter } = await setup<{ tenant: string }>()
    clients.set(adapter, base)
    return adapter
  },
  { describe, it, expect },
  {
    teardown: async (a) => {
      await clients.get(a as KyselyAdapter<{ tenant: string }>)?.$disconnect()
      clients.delete(a as KyselyAdapter<{ tenant: string }>)
    },
  },
)
