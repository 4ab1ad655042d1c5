/**
 * Keyset pages over views sorted in memory (RFC 9865 cursors for adapters that sort in process):
 * a cursor holds the boundary resource's sort key, not a position, so pages stay right while
 * resources are inserted and deleted between requests. Used by `MemoryAdapter` and by the
 * Kysely adapter (`scim-router/kysely`) when a sort cannot be pushed down.
 * @module
 */
import { InvalidCursorError } from './errors'
import { compareDefault, compareForSort } from './filter/compare'
import type { SortSpec } from './adapter'

/** One page of `items`, with the cursors around it. */
export interface KeysetPage<T> {
  page: T[]
  totalResults: number
  nextCursor?: string
  previousCursor?: string
}

/**
 * Sort `items` by the list order (`sort`, else created then id) and cut the page after (or, for a
 * previous-page cursor, before) the cursor's boundary.
 * @throws InvalidCursorError for a cursor this function did not issue (RFC 9865 §2.1).
 */
export function keysetPage<T extends { view: Record<string, unknown> }>(
  items: T[],
  sort: SortSpec | undefined,
  count: number,
  cursor: string | undefined,
): KeysetPage<T> {
  const cmp = sort ? compareForSort(sort.attribute, sort.order) : compareDefault
  items.sort((a, b) => cmp(a.view, b.view))
  const size = Math.max(0, count)
  let start = 0
  let end = Math.min(size, items.length)
  if (cursor !== undefined) {
    const { d, boundary } = parseBoundary(cursor)
    if (d === 'n') {
      start = items.findIndex((m) => cmp(m.view, boundary) > 0)
      if (start < 0) start = items.length
      end = Math.min(start + size, items.length)
    } else {
      end = items.findIndex((m) => cmp(m.view, boundary) >= 0)
      if (end < 0) end = items.length
      start = Math.max(0, end - size)
    }
  }
  const page = items.slice(start, end)
  const keyOf = (view: Record<string, unknown>): Record<string, unknown> => {
    const k: Record<string, unknown> = { id: view['id'], meta: { created: (view['meta'] as { created: string }).created } }
    const top = sort ? (sort.attribute.parent ?? sort.attribute) : undefined
    if (top) {
      const name = top.extension ? top.schema : top.def.name
      if (view[name] !== undefined) k[name] = view[name]
    }
    return k
  }
  const result: KeysetPage<T> = { page, totalResults: items.length }
  const first = page[0]
  const last = page[page.length - 1]
  if (last && end < items.length) result.nextCursor = JSON.stringify({ d: 'n', k: keyOf(last.view) })
  if (first && start > 0) result.previousCursor = JSON.stringify({ d: 'p', k: keyOf(first.view) })
  return result
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/**
 * The direction and boundary view of a cursor made by {@link keysetPage}: `{ d, k }` where `k`
 * holds the boundary's `id`, `meta.created` and (when sorted) its top-level sort attribute.
 * @throws InvalidCursorError for anything else.
 */
function parseBoundary(cursor: string): { d: 'n' | 'p'; boundary: Record<string, unknown> } {
  let parsed: unknown
  try {
    parsed = JSON.parse(cursor)
  } catch {
    throw new InvalidCursorError()
  }
  if (!isObject(parsed) || (parsed['d'] !== 'n' && parsed['d'] !== 'p')) throw new InvalidCursorError()
  const k = parsed['k']
  if (!isObject(k) || typeof k['id'] !== 'string' || !isObject(k['meta']) || typeof k['meta']['created'] !== 'string') throw new InvalidCursorError()
  return { d: parsed['d'], boundary: k }
}
