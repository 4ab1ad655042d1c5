/**
 * Resource endpoints (RFC 7644 §3.3–§3.6): create, get, list/search, replace, delete.
 * @module
 */
import type { ListQuery, SortSpec, StoredResource } from '../adapter'
import { InvalidFilterError, InvalidValueError, NotFoundError, PreconditionFailedError, SensitiveError, TooManyError, isScimError } from '../errors'
import type { FilterNode } from '../filter/ast'
import { compileFilter } from '../filter/evaluate'
import { compareForSort } from '../filter/compare'
import { parseFilter } from '../filter/parse'
import { readJsonBody, requireObject } from '../http/body'
import { parseInteger, parseList, parseSortOrder } from '../http/query'
import { send } from '../http/respond'
import { LIST_RESPONSE } from '../schema/core-schemas'
import type { AttributeInfo, CompiledResourceType } from '../schema/registry'
import { compileProjection, etagOf, locationOf, renderResource, type Projection } from '../schema/render'
import { applyPut, assertRequired, parseResourceBody, type Attributes } from '../schema/resource'
import { deepEqual } from '../schema/values'
import { toView } from '../schema/view'
import { checkStored, uniqueFor, type Call, type Service } from '../service'

/** Headers of a single-resource response (RES-008). */
function resourceHeaders(call: Call, rt: CompiledResourceType, stored: StoredResource): Record<string, string> {
  const location = locationOf(call.render, rt, stored.id)
  return { Location: location, 'Content-Location': location, ETag: etagOf(stored.version) }
}

function projectionFromQuery(rt: CompiledResourceType, query: URLSearchParams): Projection {
  return compileProjection(rt, parseList(query.getAll('attributes')), parseList(query.getAll('excludedAttributes')))
}

/** The version a client pins with If-Match (RFC 7232 §3.1); `*` pins nothing but existence. */
export function ifMatchVersion(call: Call): string | undefined {
  const header = call.req.headers['if-match']
  if (header === undefined) return undefined
  const raw = header.trim()
  if (raw === '*') return undefined
  const m = /^(?:W\/)?"([^"]*)"$/.exec(raw)
  // An unparseable or multi-valued If-Match never matches a single version.
  return m ? (m[1] as string) : '\u0000'
}

/** GET /{Type}/{id} (RFC 7644 §3.4.1). */
export async function getResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<void> {
  const projection = projectionFromQuery(rt, call.query)
  const stored = await svc.adapter.get({ resourceType: rt.name, id }, call.ctx)
  if (!stored) throw new NotFoundError(`${rt.name} ${id} not found`)
  checkStored(stored)
  const headers = resourceHeaders(call, rt, stored)
  const inm = call.req.headers['if-none-match']
  if (inm !== undefined && matchesEtag(inm, stored.version)) {
    send(call.res, 304, undefined, headers)
    return
  }
  send(call.res, 200, renderResource(rt, stored, call.render, projection), headers)
}

function matchesEtag(header: string, version: string): boolean {
  const wanted = header.split(',').map((s) => s.trim())
  return wanted.some((tag) => tag === '*' || tag.replace(/^W\//, '') === `"${version}"`)
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
}

/** GET /{Type} (RFC 7644 §3.4.2). */
export async function listResources(svc: Service, call: Call, rt: CompiledResourceType): Promise<void> {
  const q = call.query
  const params: QueryParams = {
    filter: q.get('filter') ?? undefined,
    sortBy: q.get('sortBy') ?? undefined,
    sortOrder: q.get('sortOrder') ?? undefined,
    startIndex: q.get('startIndex') ?? undefined,
    count: q.get('count') ?? undefined,
    attributes: parseList(q.getAll('attributes')),
    excludedAttributes: parseList(q.getAll('excludedAttributes')),
  }
  await runQuery(svc, call, rt, params, true)
}

/** Run a list query and send the ListResponse. `viaGet` enables the sensitive-filter check (LST-012). */
export async function runQuery(svc: Service, call: Call, rt: CompiledResourceType, params: QueryParams, viaGet: boolean): Promise<void> {
  const opts = svc.options
  let filter: FilterNode | undefined
  if (params.filter !== undefined) {
    filter = parseFilter(params.filter, rt, opts.filterLimits)
    if (viaGet && opts.sensitiveFilterAttributes.length > 0) checkSensitive(rt, filter, opts.sensitiveFilterAttributes)
  }
  const sort = parseSort(svc, rt, params.sortBy, params.sortOrder)
  const rawStart = parseInteger('startIndex', params.startIndex) ?? 1
  const startIndex = Math.max(1, rawStart)
  const rawCount = parseInteger('count', params.count)
  const count = rawCount === undefined ? opts.defaultPageSize : Math.min(Math.max(0, rawCount), opts.maxPageSize)
  const projection = compileProjection(rt, params.attributes, params.excludedAttributes)

  const query: ListQuery = { resourceType: rt.name, startIndex, count }
  if (sort) query.sort = sort
  let result: { resources: StoredResource[]; totalResults: number }
  if (filter && svc.adapter.canFilter && !svc.adapter.canFilter(filter, rt.name)) {
    result = await residualQuery(svc, call, rt, filter, query)
  } else {
    if (filter) query.filter = filter
    result = await svc.adapter.list(query, call.ctx)
  }
  const resources = result.resources.slice(0, count).map((r) => renderResource(rt, checkStored(r), call.render, projection))
  send(call.res, 200, {
    schemas: [LIST_RESPONSE],
    totalResults: result.totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  })
}

/** Evaluate a filter the adapter cannot, over at most `scanLimit` resources (CONVENTIONS §4). */
async function residualQuery(
  svc: Service,
  call: Call,
  rt: CompiledResourceType,
  filter: FilterNode,
  query: ListQuery,
): Promise<{ resources: StoredResource[]; totalResults: number }> {
  const test = compileFilter(filter)
  const matches: { stored: StoredResource; view: Record<string, unknown> }[] = []
  const chunk = 500
  let scanned = 0
  for (let start = 1; ; start += chunk) {
    const page = await svc.adapter.list({ resourceType: rt.name, startIndex: start, count: chunk }, call.ctx)
    for (const stored of page.resources) {
      const view = toView(rt, checkStored(stored))
      if (test(view)) matches.push({ stored, view })
    }
    scanned += page.resources.length
    if (scanned > svc.options.scanLimit) {
      throw new TooManyError(`The filter cannot be evaluated by storage and would scan more than ${svc.options.scanLimit} resources; narrow it`)
    }
    if (page.resources.length < chunk || scanned >= page.totalResults) break
  }
  if (query.sort) {
    const cmp = compareForSort(query.sort.attribute, query.sort.order)
    matches.sort((a, b) => cmp(a.view, b.view))
  }
  const from = query.startIndex - 1
  return { resources: matches.slice(from, from + query.count).map((m) => m.stored), totalResults: matches.length }
}

function parseSort(svc: Service, rt: CompiledResourceType, sortBy: string | undefined, sortOrder: unknown): SortSpec | undefined {
  if (sortBy === undefined || sortBy.trim() === '') return undefined
  const order = parseSortOrder(sortOrder) ?? 'ascending'
  if (svc.adapter.capabilities?.sort === false) return undefined // LST-033
  const resolved = rt.resolveText(sortBy.trim())
  if (!resolved || resolved.kind !== 'attribute') throw new InvalidValueError(`sortBy: unknown attribute '${sortBy}'`)
  const info = resolved.info
  if (info.def.type === 'complex') throw new InvalidValueError(`sortBy: '${sortBy}' is complex; name a sub-attribute (RFC 7644 §3.4.2.3)`)
  if (info.def.returned === 'never') throw new InvalidValueError(`sortBy: '${sortBy}' cannot be sorted on`)
  return { attribute: info, order }
}

function checkSensitive(rt: CompiledResourceType, filter: FilterNode, sensitive: readonly string[]): void {
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

/** POST /{Type}/.search (RFC 7644 §3.4.3). */
export async function searchResources(svc: Service, call: Call, rt: CompiledResourceType): Promise<void> {
  const body = requireObject(await readJsonBody(call.req, svc.options.maxBodyBytes))
  await runQuery(svc, call, rt, parseSearchRequest(body), false)
}

/** Read a SearchRequest body: case-insensitive member names, arrays or comma strings (LST-061/062). */
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
  }
}

/** Paths the client sent, so `returned: "request"` attributes appear in the response (LST-046). */
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
export async function createResource(svc: Service, call: Call, rt: CompiledResourceType): Promise<void> {
  const projection = projectionFromQuery(rt, call.query)
  const body = requireObject(await readJsonBody(call.req, svc.options.maxBodyBytes))
  const attrs = parseResourceBody(rt, body, svc.options)
  assertRequired(rt, attrs)
  const stored = checkStored(await svc.adapter.create({ resourceType: rt.name, attributes: attrs, unique: uniqueFor(svc, rt) }, call.ctx))
  send(call.res, 201, renderResource(rt, stored, call.render, projection, sentPaths(rt, attrs)), resourceHeaders(call, rt, stored))
}

/** Attributes as the client can write them: readOnly (derived) ones removed, for no-op detection (RES-009). */
export function writableAttributes(rt: CompiledResourceType, attrs: Attributes): Attributes {
  const out: Attributes = {}
  for (const key of Object.keys(attrs)) {
    const info = rt.extensions.has(key.toLowerCase()) ? undefined : rt.core.get(key.toLowerCase())
    if (info && !info.common && info.def.mutability === 'readOnly') continue
    out[key] = attrs[key]
  }
  return out
}

const MAX_RETRIES = 3

/** PUT /{Type}/{id} (RFC 7644 §3.5.1, RES-040..048). */
export async function replaceResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<void> {
  const projection = projectionFromQuery(rt, call.query)
  const body = requireObject(await readJsonBody(call.req, svc.options.maxBodyBytes))
  const incoming = parseResourceBody(rt, body, svc.options)
  assertRequired(rt, incoming) // RES-044: required attributes must be in the PUT body
  const pinned = ifMatchVersion(call)
  const preserve = new Set(svc.options.putPreserve)
  if (svc.options.preserveMembersOnPut) preserve.add('members')
  for (let attempt = 0; ; attempt++) {
    const current = await svc.adapter.get({ resourceType: rt.name, id }, call.ctx)
    if (!current) throw new NotFoundError(`${rt.name} ${id} not found`)
    checkStored(current)
    if (pinned !== undefined && pinned !== current.version) throw new PreconditionFailedError()
    const before = writableAttributes(rt, current.attributes)
    const next = applyPut(rt, before, incoming, { preserve })
    let stored: StoredResource
    if (deepEqual(next, before)) {
      stored = current // RES-009: nothing changed, nothing written
    } else {
      try {
        stored = checkStored(
          await svc.adapter.replace(
            { resourceType: rt.name, id, attributes: next, expectedVersion: current.version, unique: uniqueFor(svc, rt) },
            call.ctx,
          ),
        )
      } catch (err) {
        // A concurrent writer won the compare-and-swap: re-read and re-apply, unless the client pinned a version.
        if (pinned === undefined && attempt < MAX_RETRIES && isScimError(err) && err.status === 412) continue
        throw err
      }
    }
    send(call.res, 200, renderResource(rt, stored, call.render, projection, sentPaths(rt, incoming)), resourceHeaders(call, rt, stored))
    return
  }
}

/** DELETE /{Type}/{id} (RFC 7644 §3.6). */
export async function deleteResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<void> {
  const pinned = ifMatchVersion(call)
  const query: { resourceType: string; id: string; expectedVersion?: string } = { resourceType: rt.name, id }
  // If-Match: * only requires existence (RFC 7232 §3.1), which the adapter's NotFound covers.
  if (pinned !== undefined) query.expectedVersion = pinned
  await svc.adapter.delete(query, call.ctx)
  send(call.res, 204, undefined)
}
