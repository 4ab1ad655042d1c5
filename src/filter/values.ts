/**
 * Value helpers shared by resolution, evaluation and sorting: reading an attribute out of a
 * rendered resource, string preparation (per caseExact), code-point string order and xsd:dateTime instants.
 * Internal module.
 * @module
 */
import { foldCase } from '../schema/casefold'
import type { AttributeInfo } from '../schema/registry'

/** An instant with sub-millisecond precision: whole seconds since the epoch plus nanoseconds. */
export interface Instant {
  readonly seconds: number
  readonly nanos: number
}

const DATE_TIME =
  /^(-?\d{4,})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?$/

/**
 * Parse an xsd:dateTime (RFC 7643 §2.3.5) into an instant; up to 9 fractional digits (Microsoft's
 * SCIMReferenceCode tests send 7). A missing zone is read as UTC. Returns undefined when
 * unparseable or out of range.
 */
export function parseDateTime(value: unknown): Instant | undefined {
  if (value instanceof Date) {
    const ms = value.getTime()
    if (Number.isNaN(ms)) return undefined
    const seconds = Math.floor(ms / 1000)
    return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 }
  }
  if (typeof value !== 'string') return undefined
  const m = DATE_TIME.exec(value)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined
  date.setUTCHours(hour, minute, Math.min(second, 59), 0)
  let offset = 0
  if (zone && zone !== 'Z' && zone !== 'z') {
    const oh = Number(zone.slice(1, 3))
    const om = Number(zone.slice(4, 6))
    if (oh > 23 || om > 59) return undefined
    offset = (zone.startsWith('-') ? -1 : 1) * (oh * 3600 + om * 60)
  }
  const seconds = date.getTime() / 1000 - offset
  const nanos = frac ? Number(frac.padEnd(9, '0')) : 0
  return { seconds, nanos }
}

/** Chronological order of two instants. */
export function compareInstants(a: Instant, b: Instant): number {
  return a.seconds !== b.seconds ? (a.seconds < b.seconds ? -1 : 1) : a.nanos === b.nanos ? 0 : a.nanos < b.nanos ? -1 : 1
}

/**
 * Prepare a string attribute value or operand for comparison per the attribute's `caseExact`
 * (RFC 7644 §3.4.2.2, §5): NFC when case-exact, else {@link foldCase} (NFC and Unicode full
 * case folding), for `userName` and every other attribute alike.
 */
export function prepareString(value: string, attribute: AttributeInfo): string {
  return attribute.def.caseExact ? value.normalize('NFC') : foldCase(value)
}

/** Unicode code-point order (not UTF-16 code-unit order), no locale. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff
      const ys = y >= 0xd800 && y <= 0xdfff
      // A surrogate (astral code point) sorts after every BMP code unit.
      if (xs !== ys) return xs ? 1 : -1
      return x < y ? -1 : 1
    }
  }
  return a.length < b.length ? -1 : 1
}

const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key)

/** Own property of a plain object, or undefined. Never walks the prototype chain. */
export function own(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined
  return hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined
}

/** The container holding a top-level attribute: the resource, or its extension object. */
function container(resource: unknown, attribute: AttributeInfo): unknown {
  return attribute.extension ? own(resource, attribute.schema) : resource
}

/**
 * The raw value of an attribute in a rendered resource: for a top-level attribute its value, for a
 * sub-attribute the list of its values across the parent's values (a multi-valued parent yields
 * one entry per element). Unassigned values are included as undefined.
 */
export function rawValue(resource: unknown, attribute: AttributeInfo): unknown {
  const parent = attribute.parent
  if (!parent) return own(container(resource, attribute), attribute.def.name)
  const parentValue = own(container(resource, parent), parent.def.name)
  if (Array.isArray(parentValue)) return parentValue.map((el) => own(el, attribute.def.name))
  return own(parentValue, attribute.def.name)
}

/** All assigned scalar values of an attribute (arrays flattened one level, null/undefined dropped). */
export function valuesOf(raw: unknown): unknown[] {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw)) return [raw]
  const out: unknown[] = []
  for (const v of raw) {
    if (Array.isArray(v)) {
      for (const w of v) if (w !== undefined && w !== null) out.push(w)
    } else if (v !== undefined && v !== null) out.push(v)
  }
  return out
}

/** For `pr` (RFC 7644 §3.4.2.2): `null`, `""`, `[]` and complex values with no assigned sub-attribute are unassigned. */
export function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false
  if (Array.isArray(value)) return value.some(isPresent)
  if (value instanceof Date) return true
  if (typeof value === 'object') {
    for (const key of Object.keys(value)) if (isPresent((value as Record<string, unknown>)[key])) return true
    return false
  }
  return true
}

/** Read a stored boolean, accepting the strings "true"/"false" in any case. */
export function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (typeof value === 'string') {
    const lower = value.toLowerCase()
    if (lower === 'true') return true
    if (lower === 'false') return false
  }
  return undefined
}

/** Read a stored number, accepting numeric strings. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value)
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}

/** Read a stored string (numbers and booleans stringified; objects are not strings). */
export function toStringValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return undefined
}
