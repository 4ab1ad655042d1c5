/**
 * Resource endpoints (RFC 7644 §3.3–§3.6): create, get, list/search, replace, delete. Handlers take
 * a {@link Call} (already authenticated, body parsed) and return a {@link Reply}, so `/Bulk` and
 * `/Me` run exactly the same code as single requests.
 * @module
 */
import type { CursorListQuery, CursorListResult, ListQuery, SortSpec, StoredResource } from '../adapter'
import { keysetPage } from '../keyset'
import { CursorCodec, cursorError, principalIdentity } from '../cursor'
import { InvalidCursorError, InvalidFilterError, InvalidValueError, NotFoundError, ScimError, SensitiveError, TooManyError, isScimError } from '../errors'
import { deriveEvents, leftGroupEvents, type ScimEvent } from '../events'
import type { FilterNode } from '../filter/ast'
import { compileFilter } from '../filter/evaluate'
import { compareForSort } from '../filter/compare'
import { parseFilter } from '../filter/parse'
import { requireObject } from '../http/body'
import { parseInteger, parseList, parseSortOrder } from '../http/query'
import { LIST_RESPONSE } from '../schema/core-schemas'
import type { AttributeInfo, CompiledResourceType } from '../schema/registry'
import { compileProjection, etagOf, locationOf, omittedAttributes, renderResource, type Projection } from '../schema/render'
import { applyPut, assertRequired, parseResourceBody, type Attributes } from '../schema/resource'
import { deepEqual } from '../schema/values'
import { toView } from '../schema/view'
import { checkStored, uniqueFor, validateAttributes, type Call, type Reply, type Service } from '../service'
import { checkWritePreconditions, etagMatches, parseEtags } from './conditional'
import { rewriteLocation } from './location-filter'
import type { Recorder } from '../delivery'
import { checkEmailDomains, withSeat } from './guards'

/** Headers of a single-resource response. */
export function resourceHeaders(call: Call, rt: CompiledResourceType, stored: StoredResource): Record<string, string> {
  const location = locationOf(call.render, rt, stored.id)
  return { Location: location, 'Content-Location': location, ETag: etagOf(stored.version) }
}

/** The `attributes`/`excludedAttributes` projection of a request. */
export function projectionOf(rt: CompiledResourceType, query: URLSearchParams): Projection {
  return compileProjection(rt, parseList(query.getAll('attributes')), parseList(query.getAll('excludedAttributes')))
}

/** The lifecycle events of a change from `before` to `after` (issue 7), resources rendered as clients see them. */
export function changeEvents(call: Call, rt: CompiledResourceType, id: string, before: StoredResource | null, after: StoredResource | null): ScimEvent<unknown>[] {
  return deriveEvents(rt.name, id, before, after, call.ctx, (s) => renderResource(rt, s, call.render))
}

/** Read a resource or throw 404 (RFC 7644 §3.12). */
export async function mustGet(svc: Service, call: Call, rt: CompiledResourceType, id: string, omit?: readonly string[]): Promise<StoredResource> {
  const signal = call.deadline.signal
  const stored = await svc.adapter.get(omit ? { resourceType: rt.name, id, omit, signal } : { resourceType: rt.name, id, signal }, call.ctx)
  if (!stored) throw new NotFoundError(`${rt.name} ${id} not found`)
  return checkStored(stored)
}

/** GET /{Type}/{id} (RFC 7644 §3.4.1); `If-None-Match` → 304 (RFC 7644 §3.14). */
export async function getResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  const projection = projectionOf(rt, call.query)
  const inm = parseEtags(call.headers['if-none-match'])
  const stored = await mustGet(svc, call, rt, id, omittedAttributes(rt, projection))
  const headers = resourceHeaders(call, rt, stored)
  if (inm && etagMatches(inm, stored.version)) return { status: 304, headers }
  return { status: 200, body: renderResource(rt, stored, call.render, projection), headers }
}

/** Parameters of a query, from the query string (GET) or a SearchRequest body (POST .search). */
export interface QueryParams {
  filter?: string | undefined
  sortBy?: string | undefined
  sortOrder?: unknown
  startIndex?: unknown
  count?: unknown
  attributes?: string[] | undefined
  excludedAttributes?: string[] | undefined
  /** RFC 9865 `cursor`: undefined when absent, `''` for the first page. */
  cursor?: string | undefined
}

/** GET /{Type} (RFC 7644 §3.4.2). */
export async function listResources(svc: Service, call: Call, rt: CompiledResourceType): Promise<Reply> {
  return runQuery(svc, call, rt, queryParams(call.query), true)
}

/** Query parameters of a GET list request. */
export function queryParams(q: URLSearchParams): QueryParams {
  return {
    filter: q.get('filter') ?? undefined,
    sortBy: q.get('sortBy') ?? undefined,
    sortOrder: q.get('sortOrder') ?? undefined,
    startIndex: q.get('startIndex') ?? undefined,
    count: q.get('count') ?? undefined,
    attributes: parseList(q.getAll('attributes')),
    excludedAttributes: parseList(q.getAll('excludedAttributes')),
    cursor: q.has('cursor') ? (q.get('cursor') ?? '') : undefined,
  }
}

/** Run a list query. `viaGet` enables the sensitive-filter check (RFC 7644 §7.5.2). */
export async function runQuery(svc: Service, call: Call, rt: CompiledResourceType, params: QueryParams, viaGet: boolean): Promise<Reply> {
  const opts = svc.options
  let filter: FilterNode | undefined
  if (params.filter !== undefined) {
    filter = rewriteLocation(parseFilter(params.filter, rt, opts.filterLimits), rt, call.render)
    if (viaGet && opts.sensitiveFilterAttributes.length > 0) checkSensitive(rt, filter, opts.sensitiveFilterAttributes)
  }
  const sort = parseSort(svc, rt, params.sortBy, params.sortOrder)
  if (params.cursor !== undefined && svc.cursor) return cursorQuery(svc, call, rt, params, filter, sort)
  const rawStart = parseInteger('startIndex', params.startIndex) ?? 1
  const startIndex = Math.max(1, rawStart)
  const rawCount = parseInteger('count', params.count)
  const count = rawCount === undefined ? opts.defaultPageSize : Math.min(Math.max(0, rawCount), opts.maxPageSize)
  const projection = compileProjection(rt, params.attributes, params.excludedAttributes)

  const result = await fetchPage(svc, call, rt, filter, sort, startIndex, count, omittedAttributes(rt, projection))
  const resources = result.resources.slice(0, count).map((r) => renderResource(rt, checkStored(r), call.render, projection))
  return {
    status: 200,
    body: { schemas: [LIST_RESPONSE], totalResults: result.totalResults, startIndex, itemsPerPage: resources.length, Resources: resources },
  }
}

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
function adapterFilters(svc: Service, rt: CompiledResourceType, filter: FilterNode): boolean {
  return !svc.adapter.canFilter || svc.adapter.canFilter(filter, rt.name)
}

/** Whether the adapter orders by `sort` itself (`canSort` absent or true). */
function adapterSorts(svc: Service, rt: CompiledResourceType, sort: SortSpec): boolean {
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
  let chunk = 500 // a first page tells how many there are; the rest is read at once
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

/** RFC 9865 cursor paging. */
async function cursorQuery(
  svc: Service,
  call: Call,
  rt: CompiledResourceType,
  params: QueryParams,
  filter: FilterNode | undefined,
  sort: SortSpec | undefined,
): Promise<Reply> {
  const codec = svc.cursor as CursorCodec
  const adapter = svc.adapter as Required<Pick<typeof svc.adapter, 'listByCursor'>> & typeof svc.adapter
  if (params.startIndex !== undefined) throw new InvalidValueError(`'startIndex' and 'cursor' cannot be combined (RFC 9865 §2.4)`)
  if (filter && !adapterFilters(svc, rt, filter)) {
    throw new InvalidFilterError('This filter cannot be used with cursor pagination on this service provider; use index pagination')
  }
  const rawCount = parseInteger('count', params.count)
  const count = rawCount === undefined ? svc.options.defaultPageSize : Math.max(0, rawCount)
  if (count > svc.options.maxPageSize) throw cursorError('invalidCount', `Count value must be between 0 and ${svc.options.maxPageSize}`)
  const projection = compileProjection(rt, params.attributes, params.excludedAttributes)
  const query = CursorCodec.digest([rt.name, params.filter ?? null, sort?.attribute.path ?? null, sort?.order ?? null, params.attributes ?? null, params.excludedAttributes ?? null])
  const tenant = (call.ctx as { tenant?: unknown } | null | undefined)?.tenant
  // LST-082: bound to who is asking (tenant, stable principal identity), not to the credential.
  const caller = CursorCodec.digest([typeof tenant === 'string' ? tenant : null, principalIdentity(call.principal)])
  if (params.cursor !== '' && !/^[A-Za-z0-9._~-]+$/.test(params.cursor as string)) throw new InvalidCursorError()
  const inner = params.cursor === '' ? undefined : codec.decode(params.cursor as string, { query, count, caller })
  let result: CursorListResult
  if (sort && !adapterSorts(svc, rt, sort)) {
    // The store cannot order by it: keyset pages over the candidates sorted here (RFC 9865).
    const { page, ...cursors } = keysetPage(await scanMatches(svc, call, rt, filter, false), sort, count, inner)
    result = { resources: page.map((m) => m.stored), ...cursors }
  } else {
    const q: CursorListQuery = { resourceType: rt.name, count, signal: call.deadline.signal }
    if (filter) q.filter = filter
    if (sort) q.sort = sort
    if (inner !== undefined) q.cursor = inner
    result = await adapter.listByCursor(q, call.ctx)
  }
  const resources = result.resources.slice(0, count).map((r) => renderResource(rt, checkStored(r), call.render, projection))
  const body: Record<string, unknown> = { schemas: [LIST_RESPONSE] }
  if (result.totalResults !== undefined) body['totalResults'] = result.totalResults
  body['itemsPerPage'] = resources.length
  if (result.nextCursor !== undefined) body['nextCursor'] = codec.encode({ inner: result.nextCursor, query, count, caller })
  // RFC 9865 §3: previousCursor MUST NOT be returned with the first page.
  if (inner !== undefined && result.previousCursor !== undefined) {
    body['previousCursor'] = codec.encode({ inner: result.previousCursor, query, count, caller })
  }
  body['Resources'] = resources
  return { status: 200, body }
}

/**
 * Resolve `sortBy`/`sortOrder` (RFC 7644 §3.4.2.3). Ignored when the adapter cannot sort.
 * @throws InvalidValueError for an unknown or complex attribute or a bad order.
 */
export function parseSort(svc: Service, rt: CompiledResourceType, sortBy: string | undefined, sortOrder: unknown): SortSpec | undefined {
  if (sortBy === undefined || sortBy.trim() === '') return undefined
  const order = parseSortOrder(sortOrder) ?? 'ascending'
  if (svc.adapter.capabilities?.sort === false) return undefined // LST-033
  let resolved
  try {
    resolved = rt.resolveText(sortBy.trim())
  } catch {
    resolved = undefined
  }
  if (!resolved || resolved.kind !== 'attribute') throw new InvalidValueError(`sortBy: unknown attribute '${sortBy}'`)
  const info = resolved.info
  if (info.def.type === 'complex') throw new InvalidValueError(`sortBy: '${sortBy}' is complex; name a sub-attribute (RFC 7644 §3.4.2.3)`)
  if (info.def.returned === 'never') throw new InvalidValueError(`sortBy: '${sortBy}' cannot be sorted on`)
  return { attribute: info, order }
}

/**
 * Refuse (403 sensitive, RFC 7644 §7.5.2) a filter that names one of `sensitive` (paths resolved
 * against `rt`), or a sub-attribute of one.
 */
export function checkSensitive(rt: CompiledResourceType, filter: FilterNode, sensitive: readonly string[]): void {
  const paths = new Set(sensitive.map((s) => rt.resolveText(s)).flatMap((r) => (r?.kind === 'attribute' ? [r.info.path] : [])))
  const stack: FilterNode[] = [filter]
  while (stack.length > 0) {
    const node = stack.pop() as FilterNode
    switch (node.type) {
      case 'and':
      case 'or':
        stack.push(...node.filters)
        break
      case 'not':
        stack.push(node.filter)
        break
      case 'valuePath':
        if (touches(node.attribute, paths)) throw sensitiveError()
        stack.push(node.filter)
        break
      default:
        if (touches(node.attribute, paths)) throw sensitiveError()
    }
  }
}

function touches(info: AttributeInfo, paths: ReadonlySet<string>): boolean {
  for (let a: AttributeInfo | undefined = info; a; a = a.parent) if (paths.has(a.path)) return true
  return false
}

function sensitiveError(): SensitiveError {
  return new SensitiveError('The filter references sensitive attributes; send the query with POST to the /.search endpoint (RFC 7644 §7.5.2)')
}

/** POST /{Type}/.search (RFC 7644 §3.4.3). Query-string parameters are ignored. */
export async function searchResources(svc: Service, call: Call, rt: CompiledResourceType): Promise<Reply> {
  return runQuery(svc, call, rt, parseSearchRequest(requireObject(call.body)), false)
}

/** Read a SearchRequest body: case-insensitive member names, arrays or comma strings (RFC 7644 §3.4.3). */
export function parseSearchRequest(body: Record<string, unknown>): QueryParams {
  const get = (name: string): unknown => {
    for (const k of Object.keys(body)) if (k.toLowerCase() === name) return body[k]
    return undefined
  }
  const list = (name: string): string[] | undefined => {
    const v = get(name.toLowerCase())
    if (v === undefined || v === null) return undefined
    if (typeof v === 'string') return parseList([v])
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return parseList(v as string[])
    throw new InvalidValueError(`'${name}' must be an array of strings`)
  }
  const str = (name: string): string | undefined => {
    const v = get(name.toLowerCase())
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string') {
      if (name === 'filter') throw new InvalidFilterError(`'filter' must be a string`)
      throw new InvalidValueError(`'${name}' must be a string`)
    }
    return v
  }
  return {
    filter: str('filter'),
    sortBy: str('sortBy'),
    sortOrder: get('sortorder'),
    startIndex: get('startindex'),
    count: get('count'),
    attributes: list('attributes'),
    excludedAttributes: list('excludedAttributes'),
    cursor: cursorParam(get('cursor')),
  }
}

function cursorParam(v: unknown): string | undefined {
  if (v === undefined) return undefined
  if (v === null) return ''
  if (typeof v !== 'string') throw cursorError('invalidCursor', `'cursor' must be a string`)
  return v
}

/** Paths the client sent, so `returned: "request"` attributes appear in the response (RFC 7643 §7). */
function sentPaths(rt: CompiledResourceType, attrs: Attributes): Set<string> {
  const out = new Set<string>()
  for (const key of Object.keys(attrs)) {
    const ext = rt.extensions.get(key.toLowerCase())
    if (ext) for (const sub of Object.keys(attrs[key] as object)) out.add(`${ext.urn}:${sub}`)
    else out.add(key)
  }
  return out
}

/** POST /{Type} (RFC 7644 §3.3). */
export async function createResource(svc: Service, call: Call, rt: CompiledResourceType): Promise<Reply> {
  const projection = projectionOf(rt, call.query)
  const attrs = parseResourceBody(rt, requireObject(call.body), svc.options)
  assertRequired(rt, attrs)
  validateAttributes(svc, rt, attrs)
  checkEmailDomains(svc, rt, attrs)
  const rec = svc.delivery.recorder()
  const events = rec.query((s: StoredResource) => changeEvents(call, rt, s.id, null, s))
  const created = await withSeat(svc, call, rt, () =>
    call.deadline.write((signal) => svc.adapter.create({ resourceType: rt.name, attributes: attrs, unique: uniqueFor(svc, rt), signal, ...events }, call.ctx)),
  )
  const stored = checkStored(created)
  await rec.committed(stored)
  return { status: 201, body: renderResource(rt, stored, call.render, projection, sentPaths(rt, attrs)), headers: resourceHeaders(call, rt, stored) }
}

/** Attributes as the client can write them: readOnly (derived) ones removed. */
export function writableAttributes(rt: CompiledResourceType, attrs: Attributes): Attributes {
  const out: Attributes = {}
  for (const key of Object.keys(attrs)) {
    const info = rt.extensions.has(key.toLowerCase()) ? undefined : rt.core.get(key.toLowerCase())
    if (info && !info.common && info.def.mutability === 'readOnly') continue
    out[key] = attrs[key]
  }
  return out
}

/**
 * Compare-and-swap retry policy. Every round of N concurrent writers on one resource lets exactly
 * one through, so a fixed handful of immediate retries loses updates as soon as an IdP fans
 * membership changes for one Group out in parallel (measured: 50 parallel adds through an adapter
 * with 1–5 ms I/O lost 7–9 of them to 412 with 8 quick retries). The loop retries up to
 * {@link MAX_CAS_ATTEMPTS} times within {@link CAS_RETRY_BUDGET_MS}, sleeping a full-jitter
 * exponential backoff scaled by how long one read-modify-write round took. Only when the budget
 * is exhausted does the client get 503 + Retry-After — never a 412 it did not ask for.
 */
export const MAX_CAS_ATTEMPTS = 50
/** Time budget of the retry loop, in milliseconds. */
export const CAS_RETRY_BUDGET_MS = 10_000
const BACKOFF_CAP_MS = 500

function backoff(attempt: number, roundMs: number): Promise<void> {
  const ceiling = Math.min(BACKOFF_CAP_MS, Math.max(1, roundMs) * 2 ** Math.min(attempt, 10))
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling))
}

/**
 * Read–modify–write with compare-and-swap: `modify` computes the new attributes from the
 * current ones (or undefined for "no change"). A lost race is retried with a fresh read unless the
 * client pinned a version with If-Match, which then answers 412.
 * @throws ScimError 503 (with Retry-After) when contention outlasts the retry budget.
 */
export async function updateWithRetry(
  svc: Service,
  call: Call,
  rt: CompiledResourceType,
  id: string,
  modify: (current: Attributes) => Attributes | undefined,
  rec?: Recorder,
): Promise<{ before: StoredResource; after: StoredResource; changed: boolean }> {
  const started = Date.now()
  for (let attempt = 1; ; attempt++) {
    const roundStart = Date.now()
    const before = await mustGet(svc, call, rt, id)
    const pinned = checkWritePreconditions(call, before.version)
    const next = modify(writableAttributes(rt, before.attributes))
    if (next === undefined) return { before, after: before, changed: false }
    try {
      const after = checkStored(
        await call.deadline.write((signal) =>
          svc.adapter.replace(
            {
              resourceType: rt.name,
              id,
              attributes: next,
              expectedVersion: before.version,
              unique: uniqueFor(svc, rt),
              signal,
              ...rec?.query((after: StoredResource) => changeEvents(call, rt, id, before, after)),
            },
            call.ctx,
          ),
        ),
      )
      return { before, after, changed: true }
    } catch (err) {
      // A concurrent writer won the swap. With If-Match the client asked for exactly this 412.
      if (pinned || !isScimError(err) || err.status !== 412) throw err
      if (attempt >= MAX_CAS_ATTEMPTS || Date.now() - started > CAS_RETRY_BUDGET_MS) {
        throw new ScimError(503, 'ERR_SCIM_CONTENTION', `${rt.name} ${id} is being modified concurrently; retry the request`, undefined, {
          cause: err,
          headers: { 'Retry-After': '1' },
        })
      }
      await backoff(attempt, Date.now() - roundStart)
    }
  }
}

/** PUT /{Type}/{id} (RFC 7644 §3.5.1). */
export async function replaceResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  const projection = projectionOf(rt, call.query)
  const incoming = parseResourceBody(rt, requireObject(call.body), svc.options)
  assertRequired(rt, incoming) // RES-044: required attributes must be in the PUT body
  const preserve = svc.options.putPreserve
  const rec = svc.delivery.recorder()
  const { after, changed } = await updateWithRetry(
    svc,
    call,
    rt,
    id,
    (current) => {
      const next = applyPut(rt, current, incoming, { preserve })
      if (deepEqual(next, current)) return undefined
      validateAttributes(svc, rt, next)
      checkEmailDomains(svc, rt, next, current)
      return next // RES-009: nothing changed, nothing written
    },
    rec,
  )
  if (changed) await rec.committed(after)
  return { status: 200, body: renderResource(rt, after, call.render, projection, sentPaths(rt, incoming)), headers: resourceHeaders(call, rt, after) }
}

/** DELETE /{Type}/{id} (RFC 7644 §3.6). */
export async function deleteResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  // Compare-and-swap on the version read, so the events below describe what was deleted (ETG-030);
  // a lost race is retried unless the client pinned a version with If-Match.
  const rec = svc.delivery.recorder()
  for (let attempt = 1; ; attempt++) {
    const roundStart = Date.now()
    const before = await mustGet(svc, call, rt, id)
    const pinned = checkWritePreconditions(call, before.version)
    // EP-053: a deleted user left every group it was in; those memberships ended too.
    const events = rec.query(() => [...changeEvents(call, rt, id, before, null), ...(rt.name === 'User' ? leftGroupEvents(id, before, call.ctx) : [])])
    try {
      await call.deadline.write((signal) => svc.adapter.delete({ resourceType: rt.name, id, expectedVersion: before.version, signal, ...events }, call.ctx))
      break
    } catch (err) {
      if (pinned || !isScimError(err) || err.status !== 412) throw err
      if (attempt >= MAX_CAS_ATTEMPTS) {
        throw new ScimError(503, 'ERR_SCIM_CONTENTION', `${rt.name} ${id} is being modified concurrently; retry the request`, undefined, {
          cause: err,
          headers: { 'Retry-After': '1' },
        })
      }
      await backoff(attempt, Date.now() - roundStart)
    }
  }
  await rec.committed(undefined)
  return { status: 204 }
}
