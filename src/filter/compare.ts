/**
 * Sort order of RFC 7644 §3.4.2.3 as comparators over rendered resources.
 * @module
 */
import type { AttributeInfo } from '../schema/registry'
import type { ScimResourceView } from './ast'
import {
  compareCodePoints,
  compareInstants,
  own,
  parseDateTime,
  prepareString,
  rawValue,
  toBoolean,
  toNumber,
  toStringValue,
  type Instant,
} from './values'

/** `sortOrder` of RFC 7644 §3.4.2.3. */
export type SortOrder = 'ascending' | 'descending'

/** A comparator over rendered resources, usable with `Array.prototype.sort`. */
export type ResourceComparator = (a: ScimResourceView, b: ScimResourceView) => number

type SortKey = string | number | boolean | Instant

/**
 * The default, total order: ascending `meta.created`, then ascending `id` (code points).
 * Unparseable or missing `created` sorts last.
 */
export const compareDefault: ResourceComparator = (a, b) => {
  const ca = parseDateTime(own(own(a, 'meta'), 'created'))
  const cb = parseDateTime(own(own(b, 'meta'), 'created'))
  if (ca && cb) {
    const c = compareInstants(ca, cb)
    if (c !== 0) return c
  } else if (ca || cb) {
    return ca ? -1 : 1
  }
  return compareCodePoints(String(own(a, 'id') ?? ''), String(own(b, 'id') ?? ''))
}

/**
 * The single value a resource sorts by: for a multi-valued attribute (or a sub-attribute of one),
 * the primary value if any, else the first (RFC 7644 §3.4.2.3). Undefined when there is no data.
 */
function sortValue(resource: ScimResourceView, attribute: AttributeInfo): unknown {
  const parent = attribute.parent
  if (parent?.def.multiValued) {
    const elements = rawValue(resource, parent)
    if (!Array.isArray(elements)) return own(elements, attribute.def.name) ?? undefined
    const primary = elements.find((el) => toBoolean(own(el, 'primary')) === true)
    const chosen = primary ?? elements[0]
    return own(chosen, attribute.def.name) ?? undefined
  }
  const value = rawValue(resource, attribute)
  if (Array.isArray(value)) {
    const primary = value.find((el) => toBoolean(own(el, 'primary')) === true)
    const chosen: unknown = primary ?? value[0]
    // A complex multi-valued attribute sorts by the chosen element's `value` (LST-034 leniency).
    return chosen !== null && typeof chosen === 'object' ? own(chosen, 'value') : chosen
  }
  return value
}

/** The typed key of a value, or undefined for "no data" (null, "", unparseable). */
function keyOf(value: unknown, attribute: AttributeInfo): SortKey | undefined {
  if (value === undefined || value === null || value === '') return undefined
  switch (attribute.def.type) {
    case 'boolean':
      return toBoolean(value)
    case 'integer':
    case 'decimal':
      return toNumber(value)
    case 'dateTime':
      return parseDateTime(value)
    default: {
      const s = toStringValue(value)
      return s === undefined ? undefined : prepareString(s, attribute)
    }
  }
}

function compareKeys(a: SortKey, b: SortKey): number {
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b)
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1 // false < true
  if (typeof a === 'object' && typeof b === 'object') return compareInstants(a, b)
  return 0
}

/**
 * A comparator for `sortBy`/`sortOrder` (RFC 7644 §3.4.2.3): sort by the attribute's
 * value (multi-valued: the primary value, else the first); strings case-insensitively in Unicode
 * code-point order unless `caseExact`; numbers numerically; dateTimes chronologically; booleans
 * `false` before `true`. Resources without data sort last when ascending and first when descending.
 * Ties are broken by {@link compareDefault} (ascending `meta.created`, then `id`) in both orders,
 * so the order is total and stable across pages.
 *
 * Throws nothing; validating `sortBy` (unknown or complex attribute) is the caller's job.
 *
 * @example views.sort(compareForSort(users.resolve(undefined, 'name', 'familyName')!, 'ascending'))
 */
export function compareForSort(attribute: AttributeInfo, order: SortOrder = 'ascending'): ResourceComparator {
  const sign = order === 'descending' ? -1 : 1
  const cache = new WeakMap<object, SortKey | null>()
  const key = (r: ScimResourceView): SortKey | undefined => {
    const hit = cache.get(r)
    if (hit !== undefined) return hit ?? undefined
    const k = keyOf(sortValue(r, attribute), attribute)
    cache.set(r, k ?? null)
    return k
  }
  return (a, b) => {
    const ka = key(a)
    const kb = key(b)
    if (ka === undefined || kb === undefined) {
      if (ka !== kb) return (ka === undefined ? 1 : -1) * sign
    } else {
      const c = compareKeys(ka, kb)
      if (c !== 0) return c * sign
    }
    return compareDefault(a, b)
  }
}
