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
 * `withRefs`): a client-sent `$ref` is ignored on input (EXT-007, RES-061), so that resending a
 * GET body changes nothing (RES-009).
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
  for (const item of list) {
    if (item === null) continue
    const parsed = info.def.type === 'complex' ? parseComplex(info, item, opts, keepReadOnly) : parseScalar(info, item, opts)
    if (parsed === UNASSIGNED) continue
    if (out.some((existing) => deepEqual(existing, parsed))) continue // RES-081
    out.push(parsed)
  }
  if (out.length === 0) return UNASSIGNED
  if (info.def.type === 'complex' && info.children?.has('primary')) normalisePrimary(out as Record<string, unknown>[])
  return out
}

/** RES-080: at most one `primary: true`; the last one wins. */
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

/** Structural equality of JSON values; object key order is ignored. */
export function deepEqual(a: unknown, b: unknown): boolean {
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
