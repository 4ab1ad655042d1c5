/**
 * GET /{Type} and POST /{Type}/.search (RFC 7644 §3.4.2, §3.4.3): query parameters, `sortBy`,
 * the sensitive-filter check, index and RFC 9865 cursor pages. Which part of a query the store
 * answers and which is evaluated in memory is decided in `storage/list.ts`.
 * @module
 */
import type { SortSpec } from '../adapter'
import { CursorCodec, cursorError, principalIdentity } from '../cursor'
import { InvalidCursorError, InvalidFilterError, InvalidValueError, SensitiveError } from '../errors'
import type { FilterNode } from '../filter/ast'
import { parseFilter } from '../filter/parse'
import { requireObject } from '../http/body'
import { parseInteger, parseList, parseSortOrder } from '../http/query'
import { LIST_RESPONSE } from '../schema/core-schemas'
import type { AttributeInfo, CompiledResourceType } from '../schema/registry'
import { compileProjection, omittedAttributes, renderResource } from '../schema/render'
import { checkStored, type Call, type Reply, type Service } from '../service'
import { adapterFilters, fetchCursorPage, fetchPage } from '../storage/list'
import { rewriteLocation } from './location-filter'

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
  const result = await fetchCursorPage(svc, call, rt, filter, sort, count, inner)
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
