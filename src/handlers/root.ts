/**
 * Queries at the service provider root (RFC 7644 §3.4.2.1, §3.4.3; LST-065): `GET {base}/?filter=…`
 * and `POST {base}/.search` search every resource type. An attribute a type does not define makes
 * that type contribute nothing (its resources have no value for it), unless no type defines it,
 * which is 400 invalidFilter. `meta.resourceType eq "User"` restricts the types.
 * @module
 */
import { InvalidValueError, isScimError } from '../errors'
import type { FilterNode } from '../filter/ast'
import { compareForSort } from '../filter/compare'
import { parseFilter, parseFilterSyntax } from '../filter/parse'
import { parseInteger } from '../http/query'
import { LIST_RESPONSE } from '../schema/core-schemas'
import type { CompiledResourceType } from '../schema/registry'
import { compileProjection, renderResource, type RenderContext } from '../schema/render'
import { toView } from '../schema/view'
import { checkStored, type Call, type Reply, type Service } from '../service'
import { rewriteLocation } from './location-filter'
import { fetchPage, parseSort, type QueryParams } from './resources'

interface Part {
  rt: CompiledResourceType
  filter: FilterNode | undefined
}

/** Resolve the filter against each type; types that cannot have a match drop out. */
function partsFor(svc: Service, filterText: string | undefined, render: RenderContext): Part[] {
  const types = svc.registry.resourceTypes
  if (filterText === undefined) return types.map((rt) => ({ rt, filter: undefined }))
  parseFilterSyntax(filterText, svc.options.filterLimits) // syntax errors are errors for every type
  const parts: Part[] = []
  let firstError: unknown
  for (const rt of types) {
    try {
      parts.push({ rt, filter: rewriteLocation(parseFilter(filterText, rt, svc.options.filterLimits), rt, render) })
    } catch (err) {
      if (!isScimError(err)) throw err
      firstError ??= err
    }
  }
  if (parts.length === 0) throw firstError
  return parts
}

/** Serve a root query. */
export async function rootQuery(svc: Service, call: Call, params: QueryParams): Promise<Reply> {
  const parts = partsFor(svc, params.filter, call.render)
  const startIndex = Math.max(1, parseInteger('startIndex', params.startIndex) ?? 1)
  const rawCount = parseInteger('count', params.count)
  const count = rawCount === undefined ? svc.options.defaultPageSize : Math.min(Math.max(0, rawCount), svc.options.maxPageSize)
  const rendered: Record<string, unknown>[] = []
  let total = 0
  if (params.sortBy !== undefined && params.sortBy.trim() !== '') {
    // Sorting across types merges every type's matches (bounded by scanLimit).
    const all: { rt: CompiledResourceType; stored: import('../adapter').StoredResource; view: Record<string, unknown> }[] = []
    let cmp: ((a: Record<string, unknown>, b: Record<string, unknown>) => number) | undefined
    for (const { rt, filter } of parts) {
      let sort
      try {
        sort = parseSort(svc, rt, params.sortBy, params.sortOrder)
      } catch (err) {
        if (parts.length === 1) throw err
        continue
      }
      if (sort) cmp ??= compareForSort(sort.attribute, sort.order)
      const page = await fetchPage(svc, call, rt, filter, undefined, 1, svc.options.scanLimit)
      total += page.totalResults
      for (const r of page.resources) all.push({ rt, stored: checkStored(r), view: toView(rt, r) })
    }
    if (!cmp) throw new InvalidValueError(`sortBy: unknown attribute '${params.sortBy}'`)
    const order = cmp
    all.sort((a, b) => order(a.view, b.view))
    for (const { rt, stored } of all.slice(startIndex - 1, startIndex - 1 + count)) {
      rendered.push(renderResource(rt, stored, call.render, compileProjection(rt, params.attributes, params.excludedAttributes)))
    }
  } else {
    let skip = startIndex - 1
    let remaining = count
    for (const { rt, filter } of parts) {
      const page = await fetchPage(svc, call, rt, filter, undefined, skip + 1, remaining)
      total += page.totalResults
      const projection = compileProjection(rt, params.attributes, params.excludedAttributes)
      for (const r of page.resources.slice(0, remaining)) rendered.push(renderResource(rt, checkStored(r), call.render, projection))
      remaining = count - rendered.length
      skip = Math.max(0, skip - page.totalResults)
    }
  }
  return {
    status: 200,
    body: { schemas: [LIST_RESPONSE], totalResults: total, startIndex, itemsPerPage: rendered.length, Resources: rendered },
  }
}
