/**
 * Attribute values against their definitions (RFC 7643 §2.3): type checks, the few deliberate
 * coercions (Entra's "True"/"False", a single object for a multi-valued attribute, Entra's
 * bare-string manager), and the multi-valued hygiene of §2.4 (one primary, no duplicates).
 * Pure functions; the input is client JSON, the output uses canonical names only, so no client
 * string ever becomes an object key here (CONVENTIONS §6.5).
 * @module
 */
import { InvalidSyntaxError, InvalidValueError } from '../errors'
import type { AttributeInfo } from './registry'
import { foldCase } from './casefold'

/** Options that change how lenient value parsing is. */
export interface ValueOptions {
  /** Reject IdP deviations from the RFC (`"True"` for booleans, object-for-array). */
  strict: boolean
}

/** Marker for "unassigned" (RFC 7643 §2.5: null, [] and absent are equivalent). */
export const UNASSIGNED: unique symbol = Symbol('unassigned')
export type Parsed = unknown | typeof UNASSIGNED

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/

/** `Object.prototype.hasOwnProperty`, for objects parsed from client JSON. */
export const own = Object.prototype.hasOwnProperty

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

function fail(path: string, expected: string, value: unknown): never {
  throw new InvalidValueError(`Attribute '${path}' must be ${expected}, got ${typeName(value)}`)
}

/** Parse a scalar (non-complex) value. */
function parseScalar(info: AttributeInfo, value: unknown, opts: ValueOptions): unknown {
  const { def, path } = info
  switch (def.type) {
    case 'string':
    case 'reference':
      if (typeof value !== 'string') fail(path, 'a string', value)
      return value
    case 'boolean':
      if (typeof value === 'boolean') return value
      // Appendix A / PAT-070: Entra sends "True"/"False".
      if (!opts.strict && typeof value === 'string') {
        const lower = value.toLowerCase()
        if (lower === 'true') return true
        if (lower === 'false') return false
      }
      return fail(path, 'a boolean', value)
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(path, 'an integer', value)
      return value
    case 'decimal':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'a number', value)
      return value
    case 'dateTime':
      if (typeof value !== 'string' || !DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
        throw new InvalidValueError(`Attribute '${path}' must be an xsd:dateTime with date and time`)
      }
      return value
    case 'binary':
      if (typeof value !== 'string' || !BASE64.test(value)) throw new InvalidValueError(`Attribute '${path}' must be base64-encoded binary`)
      return value
    default:
      return fail(path, 'a simple value', value)
  }
}

/**
 * Parse one element of a complex attribute (one value of a multi-valued one): sub-attributes matched
 * case-insensitively, readOnly ones dropped unless `keepReadOnly`. Returns {@link UNASSIGNED} when
 * nothing is left.
 */
export function parseElement(info: AttributeInfo, value: unknown, opts: ValueOptions, keepReadOnly = false): Parsed {
  return parseComplex(info, value, opts, keepReadOnly)
}

/**
 * Complex attributes whose `$ref` the server generates from `value` when rendering (render.ts
 * `withRefs`): a client-sent `$ref` is ignored on input, so that resending a
 * GET body changes nothing.
 */
const GENERATED_REF = new Set(['manager', 'members', 'groups'])

function parseComplex(info: AttributeInfo, value: unknown, opts: ValueOptions, keepReadOnly: boolean): Parsed {
  let v = value
  // EXT-007: a bare string for a complex attribute with a `value` sub-attribute (manager: "123").
  if (typeof v === 'string' && info.children?.has('value') && !info.def.multiValued) {
    if (v === '') return UNASSIGNED
    v = { value: v }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(info.path, 'an object', v)
  const out: Record<string, unknown> = {}
  const seen = new Set<string>()
  let onlyEmptyStrings = true
  let assigned = 0
  const names = new Set<string>()
  for (const key of Object.keys(v)) {
    const lower = key.toLowerCase()
    // RES-004: the same name twice in different case is a malformed body.
    if (names.has(lower)) throw new InvalidSyntaxError(`Attribute '${info.path}.${key}' appears more than once with different letter case`)
    names.add(lower)
    let sub = info.children?.get(lower)
    // EXT-007 (OneLogin): SCIM 1.1 `managerId` means `value`.
    if (!sub && lower === 'managerid' && info.children?.has('value')) sub = info.children.get('value')
    if (!sub) continue
    if (seen.has(sub.def.name)) throw new InvalidValueError(`Attribute '${sub.path}' appears more than once`)
    seen.add(sub.def.name)
    if (sub.def.mutability === 'readOnly' && !keepReadOnly) continue
    if (sub.def.name === '$ref' && !keepReadOnly && GENERATED_REF.has(info.def.name)) continue
    const raw = (v as Record<string, unknown>)[key]
    if (raw === null || raw === undefined) continue
    const parsed = sub.def.multiValued ? parseMulti(sub, raw, opts, keepReadOnly) : parseScalar(sub, raw, opts)
    if (parsed === UNASSIGNED) continue
    out[sub.def.name] = parsed
    assigned++
    if (parsed !== '') onlyEmptyStrings = false
  }
  // RES-011: a complex value whose only content is "" is unassigned.
  if (assigned === 0 || onlyEmptyStrings) return UNASSIGNED
  return out
}

function parseMulti(info: AttributeInfo, value: unknown, opts: ValueOptions, keepReadOnly: boolean): Parsed {
  let list: unknown[]
  if (Array.isArray(value)) list = value
  else if (!opts.strict && info.def.type === 'complex' && typeof value === 'object' && value !== null) list = [value] // RES-012 COMPAT
  else return fail(info.path, 'an array', value)
  const out: unknown[] = []
  const keys = new Set<string>()
  for (const item of list) {
    if (item === null) continue
    const parsed = info.def.type === 'complex' ? parseComplex(info, item, opts, keepReadOnly) : parseScalar(info, item, opts)
    if (parsed === UNASSIGNED) continue
    // RES-081: drop exact duplicates. One canonical key per value in a Set, so de-duplicating n
    // values is O(n) (comparing each with every earlier one was O(n²): 24,000 emails blocked the
    // event loop for 15 s).
    const key = canonicalKey(parsed)
    if (keys.has(key)) continue
    keys.add(key)
    out.push(parsed)
  }
  if (out.length === 0) return UNASSIGNED
  if (info.def.type === 'complex' && info.children?.has('primary')) normalisePrimary(out as Record<string, unknown>[])
  return out
}

/** At most one `primary: true` (RFC 7643 §2.4); the last one wins. */
export function normalisePrimary(values: Record<string, unknown>[], winner?: Record<string, unknown>): void {
  let last = winner
  if (!last) for (const v of values) if (v['primary'] === true) last = v
  if (!last) return
  for (const v of values) if (v !== last && v['primary'] === true) v['primary'] = false
}

/**
 * Parse a client value for one attribute. Returns {@link UNASSIGNED} for null, empty arrays and
 * complex values without content. Throws InvalidValueError naming the path on a type mismatch.
 * `keepReadOnly` keeps readOnly sub-attributes (used for stored data, never for client input).
 */
export function parseValue(info: AttributeInfo, value: unknown, opts: ValueOptions, keepReadOnly = false): Parsed {
  if (value === null || value === undefined) return UNASSIGNED
  if (info.def.multiValued) return parseMulti(info, value, opts, keepReadOnly)
  if (info.def.type === 'complex') {
    // EXT-007: a one-element array for a single-valued complex attribute.
    if (Array.isArray(value) && !opts.strict) {
      if (value.length === 0) return UNASSIGNED
      if (value.length === 1) return parseComplex(info, value[0], opts, keepReadOnly)
    }
    return parseComplex(info, value, opts, keepReadOnly)
  }
  return parseScalar(info, value, opts)
}

/**
 * Work counter for multi-valued operations: every canonical key, same-value key and structural
 * comparison adds one. Internal; the tests read it to pin that work grows linearly with the number
 * of values sent (a count, not a clock).
 */
export const multiValuedWork = { count: 0 }

/**
 * A string that is equal for two JSON values exactly when {@link deepEqual} holds (object key
 * order ignored), so sets of values de-duplicate through a `Set` in linear time. Keys are written
 * out, never used as object keys.
 */
export function canonicalKey(v: unknown): string {
  multiValuedWork.count++
  const out: string[] = []
  writeCanonical(v, out)
  return out.join('')
}

function writeCanonical(v: unknown, out: string[]): void {
  if (v === null || typeof v !== 'object') {
    out.push(v === undefined ? 'u' : JSON.stringify(v))
    return
  }
  if (Array.isArray(v)) {
    out.push('[')
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',')
      writeCanonical(v[i], out)
    }
    out.push(']')
    return
  }
  out.push('{')
  const keys = Object.keys(v).sort()
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string
    if (i > 0) out.push(',')
    out.push(JSON.stringify(k), ':')
    writeCanonical((v as Record<string, unknown>)[k], out)
  }
  out.push('}')
}

/** Whether strings of this attribute compare case-insensitively (RFC 7643 §2.3.1 `caseExact`). */
const folds = (info: AttributeInfo): boolean => !info.def.caseExact && info.def.type === 'string'

function scalarKey(fold: boolean, a: unknown): string {
  if (typeof a === 'string') return fold ? `f${foldCase(a)}` : `s${a}`
  if (typeof a === 'object' && a !== null) return `o${canonicalKey(a)}`
  return `${typeof a}:${String(a)}`
}

/**
 * When two values of a multi-valued attribute are "the same value" (RFC 7644 §3.5.2.1),
 * as a key: two elements are the same exactly when their keys are equal. Members and groups match
 * on `value`; complex attributes with a `value` sub-attribute match on `value` and `type` (each
 * compared per its `caseExact`); other complex values match structurally, scalars by value.
 * PATCH add and remove-by-value use it to stay linear in the number of values.
 */
export function sameValueKey(info: AttributeInfo, v: unknown): string {
  multiValuedWork.count++
  if (info.def.type !== 'complex') return scalarKey(folds(info), v)
  const x = v as Record<string, unknown>
  // Member and group `value`s are ids, compared exactly whatever the schema says.
  if (info.def.name === 'members' || info.def.name === 'groups') return scalarKey(false, x['value'])
  const valueInfo = info.children?.get('value')
  if (!valueInfo) return `c${canonicalKey(v)}`
  const typeInfo = info.children?.get('type')
  const valueKey = scalarKey(folds(valueInfo), x['value'])
  return typeInfo ? JSON.stringify([valueKey, scalarKey(folds(typeInfo), x['type'])]) : valueKey
}

/** Structural equality of JSON values; object key order is ignored. */
export function deepEqual(a: unknown, b: unknown): boolean {
  multiValuedWork.count++
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a as object)
  const kb = Object.keys(b as object)
  if (ka.length !== kb.length) return false
  for (const k of ka) {
    if (!own.call(b, k)) return false
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  }
  return true
}
