/**
 * Query parameters of list requests (RFC 7644 §3.4.2): paging integers (§3.4.2.4),
 * `attributes`/`excludedAttributes` lists (§3.4.2.5), sort order (§3.4.2.3).
 * @module
 */
import { InvalidValueError } from '../errors'

const INT = /^[+-]?\d+$/
const MAX = 2 ** 31 - 1

/**
 * Parse an integer paging parameter. Accepts JSON numbers (from `.search` bodies) and decimal
 * strings with optional sign and leading zeros; clamps to ±2^31−1.
 * @throws InvalidValueError for anything that is not an integer.
 */
export function parseInteger(name: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return undefined
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) throw new InvalidValueError(`'${name}' must be an integer`)
    return Math.max(-MAX, Math.min(MAX, raw))
  }
  if (typeof raw !== 'string' || !INT.test(raw.trim())) throw new InvalidValueError(`'${name}' must be an integer`)
  const n = Number(raw.trim())
  return Math.max(-MAX, Math.min(MAX, n))
}

/** Split comma-separated attribute lists, concatenating repeated parameters (RFC 7644 §3.4.2.5). */
export function parseList(values: readonly string[]): string[] | undefined {
  const out: string[] = []
  for (const v of values) for (const part of v.split(',')) if (part.trim()) out.push(part.trim())
  return out.length > 0 ? out : undefined
}

/** `sortOrder`, case-insensitive (RFC 7644 §3.4.2.3). */
export function parseSortOrder(raw: unknown): 'ascending' | 'descending' | undefined {
  if (raw === undefined || raw === null) return undefined
  if (typeof raw === 'string') {
    const lower = raw.trim().toLowerCase()
    if (lower === 'ascending' || lower === 'descending') return lower
  }
  throw new InvalidValueError(`'sortOrder' must be 'ascending' or 'descending'`)
}
