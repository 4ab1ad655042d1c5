/**
 * Prisma guide (docs/guides/prisma.md): scim-router's Kysely adapter on the app's Prisma Client
 * (Prisma 7, driver adapters): every SCIM query goes through the client's own connection, as raw
 * SQL compiled by Kysely. The app gets Kysely on the same client from prisma-extension-kysely
 * (`prisma.$kysely`); scim-router's Kysely instance uses the small driver below instead, because
 * the extension's driver refuses Kysely transactions and every SCIM write is one (compare-and-swap,
 * uniqueness keys, membership and outbox events commit together). The driver runs each Kysely
 * transaction as a Prisma interactive transaction (`$transaction(async (tx) => …)`).
 */
import {
  DeleteQueryNode,
  InsertQueryNode,
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  UpdateQueryNode,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from 'kysely'
import kyselyExtension from 'prisma-extension-kysely'
import { kyselyAdapter, type KyselyAdapter, type KyselyDialectName, type KyselyMapping, type TimestampStorage } from '../../../src/kysely'
import type { PrismaClient } from './generated/client'

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'

/**
 * The SCIM mapping of the Prisma models `User`, `Team` and `TeamMember` (schema.prisma): the
 * column names are the models' `@map`/`@@map` names. `timestamps` is how the `DateTime` columns hold
 * instants: on SQLite `'epochMs'` (the driver adapter's `timestampFormat: 'unixepoch-ms'`) or `'iso'`
 * (its default ISO-8601 text), `'date'` on PostgreSQL and MySQL.
 */
export function prismaMapping(timestamps: TimestampStorage): KyselyMapping {
  const row = { id: 'id', tenant: 'org_id', version: 'version', created: 'created_at', lastModified: 'updated_at', timestamps, rest: 'scim' }
  return {
    resources: {
      User: {
        ...row,
        table: 'users',
        columns: {
          userName: 'email',
          'name.givenName': 'first_name',
          'name.familyName': 'last_name',
          displayName: 'display_name',
          active: { column: 'is_active', default: true }, // Boolean, not optional, in the model
          externalId: 'external_id',
          [`${ENTERPRISE}:employeeNumber`]: 'employee_number',
          [`${ENTERPRISE}:department`]: 'department',
        },
      },
      Group: {
        ...row,
        table: 'teams',
        columns: { displayName: 'name', externalId: 'external_id' },
        members: { table: 'team_members', group: 'team_id', member: 'user_id' },
      },
    },
  }
}

/** What the driver needs of a Prisma Client, or of the client of one of its interactive transactions. */
export interface PrismaRawClient {
  /** A query returning rows. */
  $queryRawUnsafe<T = unknown>(query: string, ...values: any[]): Promise<T>
  /** A statement returning the number of affected rows. */
  $executeRawUnsafe(query: string, ...values: any[]): Promise<number>
}

/** The isolation levels of Prisma's `$transaction` options. */
type PrismaIsolationLevel = 'ReadUncommitted' | 'ReadCommitted' | 'RepeatableRead' | 'Serializable' | 'Snapshot'

/** A Prisma Client with interactive transactions. */
export interface PrismaTransactionalClient extends PrismaRawClient {
  /** Prisma's interactive transaction: `fn` runs on the transaction's client; its result commits it. */
  $transaction<R>(fn: (tx: any) => Promise<R>, options?: { maxWait?: number; timeout?: number; isolationLevel?: any }): Promise<R>
}

/** Options of {@link PrismaTransactionDriver}. */
export interface PrismaTransactionDriverOptions {
  /**
   * One Kysely connection at a time (the SqliteDriver's rule). Needed on SQLite, where Prisma's
   * driver adapter has one database connection: a query outside a transaction would otherwise run
   * inside another request's open transaction. Default false.
   */
  serialize?: boolean
  /** Prisma's `maxWait` (ms to wait for a transaction to start). Default 10,000. */
  maxWait?: number
  /** Prisma's `timeout` (ms a transaction may stay open before Prisma rolls it back). Default 30,000. */
  timeout?: number
}

const ISOLATION: Record<string, PrismaIsolationLevel> = {
  'read uncommitted': 'ReadUncommitted',
  'read committed': 'ReadCommitted',
  'repeatable read': 'RepeatableRead',
  serializable: 'Serializable',
  snapshot: 'Snapshot',
}

/**
 * A database error as the driver underneath reported it: Prisma wraps raw query errors
 * (P2010, with the driver adapter's `originalCode`); the Kysely adapter recognises duplicate keys
 * and deadlocks by the driver's own codes (`SQLITE_CONSTRAINT_PRIMARYKEY`, `23505`, errno 1062, …).
 */
export class PrismaDriverError extends Error {
  /** The driver's error code (SQLite name, PostgreSQL SQLSTATE, MySQL error number as text). */
  readonly code: string
  /** The MySQL/MariaDB error number, when the code is one. */
  readonly errno: number | undefined

  constructor(message: string, code: string, cause: unknown) {
    super(message, { cause })
    this.name = 'PrismaDriverError'
    this.code = code
    this.errno = /^\d+$/.test(code) ? Number(code) : undefined
  }
}

/** The driver's error under a Prisma error, or the error itself when there is none. */
function driverError(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; originalMessage?: unknown } } } }
  const cause = e?.meta?.driverAdapterError?.cause
  if (cause?.originalCode !== undefined && cause.originalCode !== null) {
    return new PrismaDriverError(String(cause.originalMessage ?? e.message), String(cause.originalCode), err)
  }
  // An interactive transaction Prisma aborted on a write conflict or deadlock: retryable.
  if (e?.code === 'P2034') return new PrismaDriverError(String(e.message), '40001', err)
  return err
}

/** Rejects the interactive transaction's callback, so Prisma rolls it back. */
const ROLLBACK = Symbol('rollback')

/** A Kysely connection over a Prisma client: outside a transaction the app's client, inside one the transaction's. */
class PrismaConnection implements DatabaseConnection {
  #client: PrismaRawClient
  #end: ((commit: boolean) => void) | undefined
  #done: Promise<unknown> | undefined

  constructor(
    readonly prisma: PrismaTransactionalClient,
    readonly options: PrismaTransactionDriverOptions,
  ) {
    this.#client = prisma
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters, query } = compiled
    const counts = (DeleteQueryNode.is(query) || UpdateQueryNode.is(query) || InsertQueryNode.is(query)) && !query.returning
    try {
      if (counts) return { rows: [], numAffectedRows: BigInt(await this.#client.$executeRawUnsafe(sql, ...parameters)) }
      return { rows: await this.#client.$queryRawUnsafe<R[]>(sql, ...parameters) }
    } catch (err) {
      throw driverError(err)
    }
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported over Prisma')
  }

  /** Open a Prisma interactive transaction and route this connection's queries to it. */
  async begin(settings: TransactionSettings): Promise<void> {
    let started!: (tx: PrismaRawClient) => void
    const ready = new Promise<PrismaRawClient>((resolve) => (started = resolve))
    const isolationLevel = settings.isolationLevel ? ISOLATION[settings.isolationLevel] : undefined
    this.#done = this.prisma.$transaction(
      (tx: PrismaRawClient) =>
        new Promise<void>((resolve, reject) => {
          this.#end = (commit) => (commit ? resolve() : reject(ROLLBACK))
          started(tx)
        }),
      { maxWait: this.options.maxWait ?? 10_000, timeout: this.options.timeout ?? 30_000, ...(isolationLevel ? { isolationLevel } : {}) },
    )
    // A transaction that cannot start (maxWait passed, connection lost) rejects before `started`.
    this.#client = await Promise.race([
      ready,
      this.#done.then(() => {
        throw new Error('the Prisma transaction ended before it started')
      }),
    ]).catch((err: unknown) => {
      throw driverError(err)
    })
  }

  /** Commit (or roll back) the open transaction; the connection goes back to the app's client. */
  async end(commit: boolean): Promise<void> {
    const done = this.#done
    this.#end?.(commit)
    this.#end = undefined
    this.#done = undefined
    this.#client = this.prisma
    try {
      await done
    } catch (err) {
      if (err === ROLLBACK) return
      if (commit) throw driverError(err)
      // rolling back after a failed statement: that statement's error is the one the caller sees
    }
  }
}

/** A minimal mutex: one holder at a time, in arrival order. */
class Mutex {
  #tail: Promise<void> = Promise.resolve()

  async lock(): Promise<() => void> {
    let unlock!: () => void
    const next = new Promise<void>((resolve) => (unlock = resolve))
    const previous = this.#tail
    this.#tail = previous.then(() => next)
    await previous
    return unlock
  }
}

/**
 * A Kysely driver over a Prisma Client with Kysely transactions: `db.transaction()` runs as a Prisma
 * interactive transaction, so scim-router's writes are atomic on Prisma's own connection.
 */
export class PrismaTransactionDriver implements Driver {
  readonly #prisma: PrismaTransactionalClient
  readonly #options: PrismaTransactionDriverOptions
  readonly #mutex = new Mutex()
  readonly #unlocks = new WeakMap<PrismaConnection, () => void>()

  constructor(prisma: PrismaTransactionalClient, options: PrismaTransactionDriverOptions = {}) {
    this.#prisma = prisma
    this.#options = options
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = new PrismaConnection(this.#prisma, this.#options)
    if (this.#options.serialize) this.#unlocks.set(connection, await this.#mutex.lock())
    return connection
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as PrismaConnection).begin(settings)
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PrismaConnection).end(true)
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PrismaConnection).end(false)
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#unlocks.get(connection as PrismaConnection)?.()
    this.#unlocks.delete(connection as PrismaConnection)
  }

  /** Nothing to close: the connection is the Prisma Client's (`prisma.$disconnect()`). */
  async destroy(): Promise<void> {}
}

/** A Kysely dialect for `dialect` whose queries go through `driver`. */
export function prismaKyselyDialect(dialect: KyselyDialectName, driver: () => Driver): Dialect {
  const parts = {
    sqlite: [SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler],
    postgres: [PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler],
    mysql: [MysqlAdapter, MysqlIntrospector, MysqlQueryCompiler],
  } as const
  const [Adapter, Introspector, Compiler] = parts[dialect]
  return {
    createAdapter: () => new Adapter(),
    createDriver: driver,
    createIntrospector: (db) => new Introspector(db),
    createQueryCompiler: () => new Compiler(),
  }
}

/** The app's extended Prisma Client: `prisma.$kysely` is Kysely on the client's connection (prisma-extension-kysely). */
export type AppPrisma = ReturnType<typeof withKysely>

/**
 * The app's Prisma Client (here the SQLite one of schema.prisma) with prisma-extension-kysely:
 * `prisma.$kysely`, and `tx.$kysely` inside `prisma.$transaction`.
 */
export function withKysely(base: PrismaClient, dialect: KyselyDialectName) {
  return base.$extends(kyselyExtension({ kysely: (driver) => new Kysely<any>({ dialect: prismaKyselyDialect(dialect, () => driver) }) }))
}

/** What {@link scimOverPrisma} returns. */
export interface ScimOverPrisma<Ctx> {
  /** scim-router's Kysely instance on the app's client (for `migrate(db, mapping)`). */
  db: Kysely<any>
  /** The SCIM mapping of the app's models. */
  mapping: KyselyMapping
  /** The adapter for `scimRouter(adapter, …)`. */
  adapter: KyselyAdapter<Ctx>
}

/**
 * scim-router on the app's Prisma Client (of any provider): the Kysely adapter over the app's
 * models, its SQL sent through `base`. `dialect` is the datasource provider's (`sqlite`,
 * `postgres` for postgresql, `mysql` for mysql).
 */
export function scimOverPrisma<Ctx = unknown>(
  base: PrismaTransactionalClient,
  dialect: KyselyDialectName,
  options: {
    tenant?: (ctx: Ctx) => string
    /**
     * How the `DateTime` columns hold instants. Default: on SQLite `'epochMs'`, to match
     * `new PrismaBetterSqlite3({ url }, { timestampFormat: 'unixepoch-ms' })` (exact comparisons in
     * SQL; `'iso'` for the adapter's default ISO text); elsewhere `'date'`.
     */
    timestamps?: TimestampStorage
    transactions?: PrismaTransactionDriverOptions
  } = {},
): ScimOverPrisma<Ctx> {
  const driver = new PrismaTransactionDriver(base, { serialize: dialect === 'sqlite', ...options.transactions })
  const db = new Kysely<any>({ dialect: prismaKyselyDialect(dialect, () => driver) })
  const mapping = prismaMapping(options.timestamps ?? (dialect === 'sqlite' ? 'epochMs' : 'date'))
  const adapter = kyselyAdapter<Ctx>({ db, mapping, ...(options.tenant ? { tenant: options.tenant } : {}) })
  return { db, mapping, adapter }
}
