/**
 * The declarative mapping of `scim-router/kysely`: which table and columns hold each resource type,
 * and the normalised form the adapter and the migration helper work from.
 * @module
 */
import type { AttributeInfo, CompiledResourceType } from '../schema/registry'
import { createRegistry } from '../schema/registry'
import {
  enterpriseUserSchema,
  GROUP_SCHEMA,
  groupResourceType,
  groupSchema,
  USER_SCHEMA,
  userResourceType,
  userSchema,
} from '../schema/core-schemas'

/** The SQL dialects the Kysely adapter supports (Kysely's PostgresDialect, MysqlDialect, SqliteDialect). */
export type KyselyDialectName = 'postgres' | 'mysql' | 'sqlite'

/**
 * How a `created` / `lastModified` column stores an instant: integer epoch milliseconds
 * (`epochMs`, exact on every dialect), a native `TIMESTAMP`/`DATETIME` read and written as a
 * `Date` (`date`; use millisecond precision such as MySQL `DATETIME(3)` to keep milliseconds), or
 * `YYYY-MM-DDTHH:MM:SS.sssZ` text (`iso`, the natural choice for SQLite `TIMESTAMP` columns).
 */
export type TimestampStorage = 'epochMs' | 'date' | 'iso'

/** One attribute → column entry with options; a bare string is `{ column }`. */
export interface ColumnSpec {
  /** The column name. */
  column: string
  /**
   * Written when the resource has no value for the attribute (for `NOT NULL` columns of an app's
   * existing table, e.g. `is_active`). With a JSON column, the adapter records that the value was
   * defaulted and reads the attribute back as absent; without one, reads return the default.
   */
  default?: string | number | boolean
}

/** Group membership stored in a join table, one row per (group, member). */
export interface MembersMapping {
  table: string
  /** Column holding the group's id. */
  group: string
  /** Column holding the member's id. */
  member: string
  /** Optional tenant column of the join table (ids are primary keys, so it is not required). */
  tenant?: string
  /**
   * Optional integer column keeping insertion order, so `members` read back in the order they were
   * added (RFC 7643 §2.4 leaves it open; the router's other stores keep it). Absent: ordered by member id.
   */
  order?: string
}

/**
 * Where one resource type lives. Every attribute path is canonical SCIM attribute notation:
 * `userName`, `name.givenName`, `externalId`, or an extension attribute with its schema URN,
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`.
 */
export interface ResourceMapping {
  /** The table, optionally schema-qualified (`app.users`). */
  table: string
  /** Primary key column (text). Default `id`. Ids the adapter creates are UUIDv7. */
  id?: string
  /** Tenant column, filled from the adapter's `tenant(ctx)`. Absent: the table has one tenant. */
  tenant?: string
  /** Integer version column, +1 on every write (compare-and-swap). Default `version`. */
  version?: string
  /** Creation instant column. Default `created`. */
  created?: string
  /** Last-modification instant column. Default `last_modified`. */
  lastModified?: string
  /** How {@link created} and {@link lastModified} store instants. Default `epochMs`. */
  timestamps?: TimestampStorage
  /** Singular, non-complex attributes (and sub-attributes) kept in their own columns. */
  columns?: Readonly<Record<string, string | ColumnSpec>>
  /**
   * JSON column for every attribute without a column (TEXT in SQLite, `jsonb`/`json` in
   * PostgreSQL, `JSON` in MySQL/MariaDB). Without it, a write carrying an attribute that has no
   * column is rejected with 400 invalidValue.
   */
  rest?: string
  /** Group membership (Group-like resource types only). */
  members?: MembersMapping
  /**
   * Paths looked up by equality and served from the `values` side table with exactly folded keys
   * (multi-valued sub-attributes such as `emails.value` included). Default: `userName`,
   * `externalId`, `displayName`, `emails.value` for User; `displayName`, `externalId` for Group.
   */
  lookups?: readonly string[]
}

/** The mapping of every resource type the adapter serves, plus its side tables. */
export interface KyselyMapping {
  /** Resource type name (`User`, `Group`, …) → its table. */
  resources: Readonly<Record<string, ResourceMapping>>
  /**
   * Prefix of the adapter's own side tables: `<prefix>values` (lookup keys) and `<prefix>unique`
   * (uniqueness keys). Default `scim_`.
   */
  sideTablePrefix?: string
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/

/** A column of a resolved mapping. */
export interface ResolvedColumn {
  /** Canonical attribute path. */
  path: string
  /** Keys below `StoredResource.attributes` (`['name', 'givenName']`, `[urn, 'department']`). */
  keys: readonly string[]
  column: string
  /** Attribute type (from the schema; `string` when unknown). */
  type: string
  default?: string | number | boolean
}

/** A lookup path with its attribute. */
export interface ResolvedLookup {
  path: string
  info: AttributeInfo | undefined
  caseExact: boolean
}

/** A {@link ResourceMapping} with defaults applied and attribute paths resolved. */
export interface ResolvedResource {
  name: string
  coreSchema: string
  table: string
  id: string
  tenant: string | undefined
  version: string
  created: string
  lastModified: string
  timestamps: TimestampStorage
  columns: readonly ResolvedColumn[]
  rest: string | undefined
  members: MembersMapping | undefined
  lookups: readonly ResolvedLookup[]
  rt: CompiledResourceType | undefined
}

/** The registry of the core schemas, used to type mapped attributes. */
export const coreRegistry = createRegistry([userSchema, groupSchema, enterpriseUserSchema], [userResourceType, groupResourceType])

const DEFAULT_LOOKUPS: Record<string, readonly string[]> = {
  User: ['userName', 'externalId', 'displayName', 'emails.value'],
  Group: ['displayName', 'externalId'],
}

/** `name.givenName` → `['name', 'givenName']`; `urn:…:User:manager.value` → `[urn, 'manager', 'value']`. */
export function pathKeys(path: string): string[] {
  if (path.startsWith('urn:')) {
    const cut = path.lastIndexOf(':')
    return [path.slice(0, cut), ...path.slice(cut + 1).split('.')]
  }
  return path.split('.')
}

function ident(what: string, name: string): string {
  if (!IDENT.test(name)) throw new TypeError(`kyselyAdapter: ${what} '${name}' is not a plain SQL identifier`)
  return name
}

/**
 * Apply defaults and check a mapping; throws a `TypeError` naming the problem, so a wrong mapping
 * fails when the adapter is made, not on the first request.
 */
export function resolveMapping(mapping: KyselyMapping): { resources: Map<string, ResolvedResource>; prefix: string } {
  const prefix = mapping.sideTablePrefix ?? 'scim_'
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix) && prefix !== '') throw new TypeError(`kyselyAdapter: invalid sideTablePrefix '${prefix}'`)
  const resources = new Map<string, ResolvedResource>()
  for (const [name, m] of Object.entries(mapping.resources)) {
    const rt = coreRegistry.byName(name)
    const columns: ResolvedColumn[] = []
    const seen = new Set<string>()
    for (const [path, spec] of Object.entries(m.columns ?? {})) {
      const s: ColumnSpec = typeof spec === 'string' ? { column: spec } : spec
      const resolved = rt?.resolveText(path)
      const info = resolved?.kind === 'attribute' ? resolved.info : undefined
      if (rt && !info) throw new TypeError(`kyselyAdapter: ${name}.columns: unknown attribute '${path}'`)
      if (info && (info.def.multiValued || info.def.type === 'complex' || info.parent?.def.multiValued)) {
        throw new TypeError(`kyselyAdapter: ${name}.columns: '${path}' is multi-valued or complex; only singular simple attributes map to columns (the rest go to the JSON column)`)
      }
      if (info && info.common && info.def.name !== 'externalId') throw new TypeError(`kyselyAdapter: ${name}.columns: '${path}' is stored by the adapter itself`)
      const canonical = info?.path ?? path
      if (seen.has(canonical.toLowerCase())) throw new TypeError(`kyselyAdapter: ${name}.columns: '${path}' is mapped twice`)
      seen.add(canonical.toLowerCase())
      columns.push({ path: canonical, keys: pathKeys(canonical), column: ident('column', s.column), type: info?.def.type ?? 'string', ...(s.default !== undefined ? { default: s.default } : {}) })
    }
    const lookups: ResolvedLookup[] = (m.lookups ?? DEFAULT_LOOKUPS[name] ?? []).map((path) => {
      const r = rt?.resolveText(path)
      const info = r?.kind === 'attribute' ? r.info : undefined
      if (rt && !info) throw new TypeError(`kyselyAdapter: ${name}.lookups: unknown attribute '${path}'`)
      if (info && info.def.type === 'complex') throw new TypeError(`kyselyAdapter: ${name}.lookups: '${path}' is complex; name a sub-attribute such as '${path}.value'`)
      return { path: info?.path ?? path, info, caseExact: info?.def.caseExact ?? false }
    })
    if (m.members) {
      ident('members.table', m.members.table)
      ident('members.group', m.members.group)
      ident('members.member', m.members.member)
      if (m.members.tenant !== undefined) ident('members.tenant', m.members.tenant)
      if (m.members.order !== undefined) ident('members.order', m.members.order)
    }
    resources.set(name, {
      name,
      coreSchema: name === 'User' ? USER_SCHEMA : name === 'Group' ? GROUP_SCHEMA : (rt?.coreSchema.id ?? name),
      table: ident('table', m.table),
      id: ident('id', m.id ?? 'id'),
      tenant: m.tenant === undefined ? undefined : ident('tenant', m.tenant),
      version: ident('version', m.version ?? 'version'),
      created: ident('created', m.created ?? 'created'),
      lastModified: ident('lastModified', m.lastModified ?? 'last_modified'),
      timestamps: m.timestamps ?? 'epochMs',
      columns,
      rest: m.rest === undefined ? undefined : ident('rest', m.rest),
      members: m.members,
      lookups,
      rt,
    })
  }
  if (resources.size === 0) throw new TypeError('kyselyAdapter: mapping.resources is empty')
  return { resources, prefix }
}

/**
 * The SCIM-owned mapping: one table per resource type (`<prefix>users`, `<prefix>groups`), a
 * membership table, and the side tables; {@link migrationStatements} with `createTables: true`
 * creates them. For apps without tables of their own.
 */
export function scimTablesMapping(prefix = 'scim_'): KyselyMapping {
  const common = { id: 'id', tenant: 'tenant', version: 'version', created: 'created', lastModified: 'last_modified', timestamps: 'epochMs' as const, rest: 'attributes' }
  return {
    sideTablePrefix: prefix,
    resources: {
      User: { ...common, table: `${prefix}users`, columns: { userName: 'user_name', displayName: 'display_name', externalId: 'external_id', active: 'active' } },
      Group: {
        ...common,
        table: `${prefix}groups`,
        columns: { displayName: 'display_name', externalId: 'external_id' },
        members: { table: `${prefix}members`, group: 'group_id', member: 'member_id', tenant: 'tenant', order: 'ord' },
      },
    },
  }
}
