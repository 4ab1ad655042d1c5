/**
 * The list engine: one page of one resource type, pushed down to the adapter where it can answer
 * (`canFilter`, `canSort`), else filtered, sorted and paged here over the candidates it can select,
 * read in pages up to `scanLimit` (more is 400 tooMany, never a short page). Cursor pages over an
 * order the store cannot produce are keyset pages over the same in-memory order (RFC 9865).
 * @module
 */
import type { CursorListQuery, CursorListResult, ListQuery, SortSpec, StoredResource } from '../adapter'
import { TooManyError } from '../errors'
import type { FilterNode } from '../filter/ast'
import { compareForSort } from '../filter/compare'
import { compileFilter } from '../filter/evaluate'
import { keysetPage } from '../keyset'
import type { CompiledResourceType } from '../schema/registry'
import { toView } from '../schema/view'
import { checkStored, type Call, type Service } from '../service'

/**
 * One page of one resource type: pushed down to the adapter, or filtered and sorted here over the
 * candidates it can select when it cannot (`canFilter` / `canSort` false).
 */
export async function fetchPage(
  svc: Service,
  call: Call,
  rt: CompiledResourceType,
  filter: FilterNode | undefined,
  sort: SortSpec | undefined,
  startIndex: number,
  count: number,
  omit?: readonly string[],
): Promise<{ resources: StoredResource[]; totalResults: number }> {
  const query: ListQuery = { resourceType: rt.name, startIndex, count, signal: call.deadline.signal }
  if (sort) query.sort = sort
  if (omit) query.omit = omit
  const filterHere = filter !== undefined && !adapterFilters(svc, rt, filter)
  const sortHere = sort !== undefined && !adapterSorts(svc, rt, sort)
  if (filterHere || sortHere) {
    const matches = await scanMatches(svc, call, rt, filter, filterHere)
    if (sort) {
      const cmp = compareForSort(sort.attribute, sort.order)
      matches.sort((a, b) => cmp(a.view, b.view))
    }
    const from = startIndex - 1
    return { resources: matches.slice(from, from + count).map((m) => m.stored), totalResults: matches.length }
  }
  if (filter) query.filter = filter
  return svc.adapter.list(query, call.ctx)
}

/** Whether the adapter evaluates `filter` itself (`canFilter` absent or true). */
export function adapterFilters(svc: Service, rt: CompiledResourceType, filter: FilterNode): boolean {
  return !svc.adapter.canFilter || svc.adapter.canFilter(filter, rt.name)
}

/** Whether the adapter orders by `sort` itself (`canSort` absent or true). */
export function adapterSorts(svc: Service, rt: CompiledResourceType, sort: SortSpec): boolean {
  return !svc.adapter.canSort || svc.adapter.canSort(sort, rt.name)
}

/** A resource read for evaluation here, with its evaluation view. */
interface Match {
  stored: StoredResource
  view: Record<string, unknown>
}

/**
 * Every resource matching `filter`, in the adapter's default order, read in pages over at most
 * `scanLimit` resources (CONVENTIONS §4). With `residual` the conjuncts the adapter can evaluate are
 * pushed down and the rest is evaluated here (issue 3, item 5); otherwise the adapter evaluates the
 * whole filter and only the order is decided here.
 * @throws TooManyError when more than `scanLimit` resources would be read.
 */
async function scanMatches(svc: Service, call: Call, rt: CompiledResourceType, filter: FilterNode | undefined, residual: boolean): Promise<Match[]> {
  let pushdown = filter
  let test: ((view: Record<string, unknown>) => boolean) | undefined
  if (filter && residual) {
    const conjuncts = filter.type === 'and' ? filter.filters : [filter]
    const canFilter = svc.adapter.canFilter?.bind(svc.adapter)
    const pushed = canFilter ? conjuncts.filter((f) => canFilter(f, rt.name)) : []
    const residue = conjuncts.filter((f) => !pushed.includes(f))
    pushdown = pushed.length === 0 ? undefined : pushed.length === 1 ? pushed[0] : { type: 'and', filters: pushed }
    test = compileFilter(residue.length === 1 ? (residue[0] as FilterNode) : { type: 'and', filters: residue })
  }
  const limit = svc.options.scanLimit
  const tooMany = (): TooManyError =>
    residual
      ? new TooManyError(`The filter cannot be evaluated by storage and would scan more than ${limit} resources; narrow it`)
      : new TooManyError(`The sort cannot be done by storage and would sort more than ${limit} resources in memory; narrow the filter`)
  const matches: Match[] = []
  let scanned = 0
  // With a residual filter the store lists more than matches: a first page tells how many there are
  // (over scanLimit: 400 before reading on), the rest is read at once. For an order only, every
  // candidate is needed anyway: one read of up to scanLimit + 1 (a store deciding candidates in
  // memory, like KyselyAdapter for inexact filters, then loads them once, not twice).
  let chunk = residual ? 500 : limit + 1
  for (;;) {
    const scan: ListQuery = { resourceType: rt.name, startIndex: scanned + 1, count: chunk, signal: call.deadline.signal }
    if (pushdown) scan.filter = pushdown
    const page = await svc.adapter.list(scan, call.ctx)
    if (page.totalResults > limit) throw tooMany()
    for (const stored of page.resources) {
      const view = toView(rt, checkStored(stored))
      if (!test || test(view)) matches.push({ stored, view })
    }
    scanned += page.resources.length
    if (scanned > limit) throw tooMany()
    // A store may answer fewer than asked (a page-size cap): read on from where it stopped until
    // `totalResults` is reached; only an empty page (nothing more to read) ends the scan early.
    if (page.resources.length === 0 || scanned >= page.totalResults) break
    chunk = Math.max(1, Math.min(limit + 1, page.totalResults) - scanned)
  }
  return matches
}

/**
 * One RFC 9865 cursor page after the adapter's own cursor `inner` (undefined: the first page),
 * from the adapter's `listByCursor`, or, for a sort the store cannot do, a keyset page over the
 * candidates sorted here (`keysetPage`: the cursor holds the boundary's sort key, not a position).
 * The caller checks that the adapter evaluates `filter` and has `listByCursor`.
 * @throws InvalidCursorError for a cursor neither issued; TooManyError past `scanLimit`.
 */
export async function fetchCursorPage(
  svc: Service,
  call: Call,
  rt: CompiledResourceType,
  filter: FilterNode | undefined,
  sort: SortSpec | undefined,
  count: number,
  inner: string | undefined,
): Promise<CursorListResult> {
  if (sort && !adapterSorts(svc, rt, sort)) {
    const { page, ...cursors } = keysetPage(await scanMatches(svc, call, rt, filter, false), sort, count, inner)
    return { resources: page.map((m) => m.stored), ...cursors }
  }
  const listByCursor = svc.adapter.listByCursor as NonNullable<typeof svc.adapter.listByCursor>
  const q: CursorListQuery = { resourceType: rt.name, count, signal: call.deadline.signal }
  if (filter) q.filter = filter
  if (sort) q.sort = sort
  if (inner !== undefined) q.cursor = inner
  return listByCursor.call(svc.adapter, q, call.ctx)
}
