/**
 * Rows ↔ resources for the Kysely adapter: splitting attributes into columns and the JSON column,
 * encoding values per dialect, and the folded keys of lookups and uniqueness.
 * @module
 */
import { createHash } from 'node:crypto'
import { InvalidValueError } from '../errors'
import { foldCase } from '../schema/casefold'
import { prepareString } from '../filter/values'
import type { StoredResource } from '../adapter'
import type { KyselyDialectName, ResolvedResource, TimestampStorage } from './mapping'
import { coreRegistry, pathKeys } from './mapping'

type Row = Record<string, unknown>

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** Remove and return the value at `keys`, pruning containers left empty. */
function take(obj: Record<string, unknown>, keys: readonly string[]): unknown {
  const [head, ...rest] = keys
  if (head === undefined || !Object.prototype.hasOwnProperty.call(obj, head)) return undefined
  if (rest.length === 0) {
    const v = obj[head]
    delete obj[head]
    return v
  }
  if (!isObject(obj[head])) return undefined
  // Copy on write: `obj` is a shallow copy of the caller's attributes, whose nested objects it shares.
  const inner = { ...(obj[head] as Record<string, unknown>) }
  obj[head] = inner
  const v = take(inner, rest)
  if (Object.keys(inner).length === 0) delete obj[head]
  return v
}

function put(obj: Record<string, unknown>, keys: readonly string[], value: unknown): void {
  let o = obj
  keys.forEach((k, i) => {
    if (i === keys.length - 1) o[k] = value
    else {
      if (!isObject(o[k])) o[k] = {}
      o = o[k] as Record<string, unknown>
    }
  })
}

/** The value at a canonical path (`userName`, `name.givenName`, `urn:…:User:department`). */
export function readPath(attrs: Record<string, unknown>, path: string): unknown {
  let v: unknown = attrs
  for (const k of pathKeys(path)) {
    if (!isObject(v)) return undefined
    v = v[k]
  }
  return v
}

/** Every string value at a path, flattening multi-valued attributes (`emails.value`). */
export function readStrings(attrs: Record<string, unknown>, path: string): string[] {
  let current: unknown[] = [attrs]
  for (const k of pathKeys(path)) {
    const next: unknown[] = []
    for (const c of current) {
      const v = isObject(c) ? c[k] : undefined
      if (Array.isArray(v)) next.push(...v)
      else if (v !== undefined) next.push(v)
    }
    current = next
  }
  return current.filter((x): x is string => typeof x === 'string')
}

/** An instant (epoch ms) as a `created`/`lastModified` column stores it. */
export function encodeInstant(ms: number, how: TimestampStorage): unknown {
  return how === 'epochMs' ? ms : how === 'iso' ? new Date(ms).toISOString() : new Date(ms)
}

/** An instant read from a `created`/`lastModified` column (epoch ms, Date or text). */
export function decodeInstant(v: unknown): Date {
  if (v instanceof Date) return new Date(v.getTime())
  if (typeof v === 'number' || typeof v === 'bigint') return new Date(Number(v))
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return new Date(Number(v))
  return new Date(String(v))
}

function encodeValue(v: unknown, type: string, dialect: KyselyDialectName): unknown {
  if (typeof v === 'boolean') return dialect === 'postgres' ? v : v ? 1 : 0
  if (type === 'boolean' && v !== null && v !== undefined) return encodeValue(v === true || v === 'true', type, dialect)
  return v
}

function decodeValue(v: unknown, type: string): unknown {
  switch (type) {
    case 'boolean':
      return v === true || v === 1 || v === '1' || v === 't' || v === 'true' || (typeof v === 'bigint' && v !== 0n)
    case 'integer':
    case 'decimal':
      return typeof v === 'number' ? v : Number(v)
    default:
      return v instanceof Date ? v.toISOString() : typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v)
  }
}

/** What a write stores: the table row's attribute columns and, for Groups, the member ids. */
export interface EncodedRecord {
  columns: Row
  members: string[] | undefined
  /** What the JSON column holds, as the object `columns` stores as JSON text (null: nothing). */
  rest: Record<string, unknown> | null
}

/**
 * Split validated attributes into the row's columns and the JSON column. `groups` is derived and
 * `password` is never stored (RFC 7643 §9.2: this adapter keeps no password). Group `members`
 * go to the join table.
 * @throws InvalidValueError when an attribute has no column and the mapping has no JSON column.
 */
export function encodeRecord(r: ResolvedResource, attributes: Record<string, unknown>, dialect: KyselyDialectName): EncodedRecord {
  // A shallow copy: `take` copies the nested objects it removes columns from, the rest is shared.
  const rest: Record<string, unknown> = { ...attributes }
  delete rest['groups']
  delete rest['password']
  let members: string[] | undefined
  if (r.members) {
    const list = rest['members']
    delete rest['members']
    members = []
    for (const m of Array.isArray(list) ? list : []) {
      const v = isObject(m) ? m['value'] : undefined
      if (typeof v !== 'string') throw new InvalidValueError(`members: no User with id '${String(v)}'`)
      members.push(v)
    }
    members = [...new Set(members)]
  }
  const columns: Row = {}
  const defaulted: string[] = []
  for (const c of r.columns) {
    let v = take(rest, c.keys)
    if ((v === undefined || v === null) && c.default !== undefined) {
      v = c.default
      defaulted.push(c.path)
    }
    columns[c.column] = v === undefined || v === null ? null : encodeValue(v, c.type, dialect)
  }
  // The JSON column remembers which columns hold a default rather than a value, so a resource
  // reads back exactly as written (a NOT NULL column cannot say "absent" itself).
  if (r.rest && defaulted.length > 0) rest[ABSENT] = defaulted
  const empty = Object.keys(rest).length === 0
  if (r.rest) columns[r.rest] = empty ? null : JSON.stringify(rest)
  else if (!empty) {
    throw new InvalidValueError(`${Object.keys(rest).sort().join(', ')}: not stored by this service provider`)
  }
  return { columns, members, rest: empty ? null : rest }
}

/** Key of the JSON column listing defaulted columns; `#` never starts an attribute name. */
const ABSENT = '#absent'

/** The attributes of a row (JSON column first, then the columns). */
export function decodeAttributes(r: ResolvedResource, row: Row): Record<string, unknown> {
  let attrs: Record<string, unknown> = {}
  if (r.rest) {
    const raw = row[r.rest]
    const parsed = typeof raw === 'string' ? (JSON.parse(raw) as unknown) : Buffer.isBuffer(raw) ? (JSON.parse(raw.toString('utf8')) as unknown) : raw
    // A driver-parsed JSON value (jsonb, MySQL JSON) is a fresh object per query row: a shallow
    // copy keeps the row's own top level intact. (A deep clone cost 3-5 µs per resource; an object
    // spread, later given properties, measured slower still; Object.assign about 1 µs.)
    if (isObject(parsed)) attrs = typeof raw === 'string' || Buffer.isBuffer(raw) ? parsed : Object.assign({}, parsed)
  }
  const absent = attrs[ABSENT]
  delete attrs[ABSENT]
  for (const c of r.columns) {
    const v = row[c.column]
    if (v === null || v === undefined) continue
    if (Array.isArray(absent) && absent.includes(c.path)) continue
    put(attrs, c.keys, decodeValue(v, c.type))
  }
  return attrs
}

/** A stored resource from a row. */
export function decodeRow(r: ResolvedResource, row: Row): StoredResource {
  return {
    id: String(row[r.id]),
    version: String(Number(row[r.version])),
    created: decodeInstant(row[r.created]),
    lastModified: decodeInstant(row[r.lastModified]),
    attributes: decodeAttributes(r, row),
  }
}

/** Keys longer than this many UTF-8 bytes are stored as a SHA-256 digest (index key limits). */
const MAX_KEY_BYTES = 200

function bounded(key: string): string {
  return Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES ? `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}` : key
}

/**
 * The lookup key of a value: exactly the comparison form of the filter evaluator
 * (`prepareString`: NFC, and case folding unless caseExact; `userName` folds upper-then-lower),
 * so `eq` on a lookup path is exact and needs no re-check.
 */
export function lookupKey(resourceType: string, path: string, value: string, caseExact: boolean): string {
  const info = coreRegistry.byName(resourceType)?.resolveText(path)
  if (info?.kind === 'attribute' && info.info.def.caseExact === caseExact) return bounded(prepareString(value, info.info))
  // The one fold of the library (RFC 7644 §5: NFC, then Unicode full case folding), so SQL finds and
  // rejects exactly what the in-memory evaluator would.
  return bounded(caseExact ? value.normalize('NFC') : foldCase(value))
}

/**
 * The uniqueness key of a value: the same fold as lookups, so a value an IdP lookup would find
 * twice can never be stored twice (`STRASSE` and `Straße` collide as userNames).
 */
export function uniqueKey(resourceType: string, path: string, value: string, caseExact: boolean): string {
  return lookupKey(resourceType, path, value, caseExact)
}
