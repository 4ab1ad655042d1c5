/**
 * Queries at the service provider root (RFC 7644 §3.4.2.1, §3.4.3): `GET {base}/?filter=…`
 * and `POST {base}/.search` search every resource type. The filter is resolved per type: a
 * comparison on an attribute a type does not define is false there, "as if there is no attribute
 * value" (§3.4.2.2), so `not (userName pr)` matches every Group; an attribute no type defines is
 * 400 invalidFilter. `meta.resourceType eq "User"` restricts the types.
 * @module
 */
import type { StoredResource } from '../adapter'
import { InvalidFilterError, InvalidValueError, TooManyError, isScimError } from '../errors'
import type { FilterNode } from '../filter/ast'
import { compareForSort } from '../filter/compare'
import { parseFilterSyntax } from '../filter/parse'
import { resolveForType, topLevelPaths } from '../filter/resolve'
import { parseInteger } from '../http/query'
import { LIST_RESPONSE } from '../schema/core-schemas'
import type { CompiledResourceType } from '../schema/registry'
import { compileProjection, renderResource, type RenderContext } from '../schema/render'
import { toView } from '../schema/view'
import { checkStored, type Call, type Reply, type Service } from '../service'
import { rewriteLocation } from './location-filter'
import { fetchPage } from '../storage/list'
import { checkSensitive, parseSort, type QueryParams } from './list'

interface Part {
  rt: CompiledResourceType
  filter: FilterNode | undefined
}

/**
 * Resolve the filter against each type; types where it is false for every resource drop out.
 * `viaGet` enforces `sensitiveFilterAttributes` (403 sensitive, RFC 7644 §7.5.2) on every type's
 * resolved comparisons.
 */
function partsFor(svc: Service, filterText: string | undefined, render: RenderContext, viaGet: boolean): Part[] {
  const types = svc.registry.resourceTypes
  if (filterText === undefined) return types.map((rt) => ({ rt, filter: undefined }))
  const tree = parseFilterSyntax(filterText, svc.options.filterLimits) // syntax errors are errors for every type
  for (const path of topLevelPaths(tree)) {
    const defined = types.some((rt) => {
      try {
        return rt.resolveText(path.text) !== undefined
      } catch {
        return true // ambiguous in this type: defined, and reported by resolution below
      }
    })
    if (!defined) throw new InvalidFilterError(`The attribute '${path.text}' is not defined for any resource type`)
  }
  const sensitive = viaGet ? svc.options.sensitiveFilterAttributes : []
  const parts: Part[] = []
  let firstError: unknown
  for (const rt of types) {
    let resolved: FilterNode | boolean
    try {
      resolved = resolveForType(tree, rt, sensitive.length > 0 ? (node) => checkSensitive(rt, node, sensitive) : undefined)
    } catch (err) {
      // 403 sensitive is about the request, not this type; other errors rule out only this type.
      if (!isScimError(err) || err.status === 403) throw err
      firstError ??= err
      continue
    }
    if (resolved === false) continue
    parts.push({ rt, filter: resolved === true ? undefined : rewriteLocation(resolved, rt, render) })
  }
  if (parts.length === 0 && firstError !== undefined) throw firstError
  return parts
}

/** Serve a root query; `viaGet` is true for `GET {base}/` (sensitive filters are refused, RFC 7644 §7.5.2). */
export async function rootQuery(svc: Service, call: Call, params: QueryParams, viaGet: boolean): Promise<Reply> {
  const parts = partsFor(svc, params.filter, call.render, viaGet)
  const startIndex = Math.max(1, parseInteger('startIndex', params.startIndex) ?? 1)
  const rawCount = parseInteger('count', params.count)
  const count = rawCount === undefined ? svc.options.defaultPageSize : Math.min(Math.max(0, rawCount), svc.options.maxPageSize)
  const rendered: Record<string, unknown>[] = []
  let total = 0
  if (params.sortBy !== undefined && params.sortBy.trim() !== '') {
    const sorted = await sortedAcrossTypes(svc, call, parts, params)
    total = sorted.length
    for (const { rt, stored } of sorted.slice(startIndex - 1, startIndex - 1 + count)) {
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

/**
 * Sorting across types merges every type's matches in memory, so all of them must be read: more
 * than `scanLimit` in total is 400 tooMany (RFC 7644 §3.4.2.1), never a page cut short. A type that
 * does not define `sortBy` takes part with no value for it (sorted as unassigned values are,
 * RFC 7644 §3.4.2.3); `sortBy` defined by no type is 400 invalidValue.
 */
async function sortedAcrossTypes(
  svc: Service,
  call: Call,
  parts: readonly Part[],
  params: QueryParams,
): Promise<{ rt: CompiledResourceType; stored: StoredResource }[]> {
  let cmp: ((a: Record<string, unknown>, b: Record<string, unknown>) => number) | undefined
  let firstError: unknown
  for (const rt of svc.registry.resourceTypes) {
    try {
      const sort = parseSort(svc, rt, params.sortBy, params.sortOrder)
      if (sort) cmp ??= compareForSort(sort.attribute, sort.order)
    } catch (err) {
      firstError ??= err
    }
  }
  if (!cmp) throw firstError ?? new InvalidValueError(`sortBy: unknown attribute '${params.sortBy}'`)
  const all: { rt: CompiledResourceType; stored: StoredResource; view: Record<string, unknown> }[] = []
  let budget = svc.options.scanLimit
  for (const { rt, filter } of parts) {
    const page = await fetchPage(svc, call, rt, filter, undefined, 1, budget)
    if (page.totalResults > budget) {
      throw new TooManyError(`A sorted query at the service provider root would sort more than ${svc.options.scanLimit} resources; filter it or query one resource type`)
    }
    budget -= page.totalResults
    for (const r of page.resources) all.push({ rt, stored: checkStored(r), view: toView(rt, r) })
  }
  const order = cmp
  all.sort((a, b) => order(a.view, b.view))
  return all
}
