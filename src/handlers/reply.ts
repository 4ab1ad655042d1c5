/**
 * What every single-resource response shares: its headers (Location, ETag), the request's
 * projection, and the paths the client sent (for `returned: "request"` attributes).
 * @module
 */
import type { StoredResource } from '../adapter'
import { parseList } from '../http/query'
import type { CompiledResourceType } from '../schema/registry'
import { compileProjection, etagOf, locationOf, type Projection } from '../schema/render'
import type { Attributes } from '../schema/resource'
import type { Call } from '../service'
import type { Conditions } from '../storage/conditions'

/** Headers of a single-resource response. */
export function resourceHeaders(call: Call, rt: CompiledResourceType, stored: StoredResource): Record<string, string> {
  const location = locationOf(call.render, rt, stored.id)
  return { Location: location, 'Content-Location': location, ETag: etagOf(stored.version) }
}

/** The `attributes`/`excludedAttributes` projection of a request. */
export function projectionOf(rt: CompiledResourceType, query: URLSearchParams): Projection {
  return compileProjection(rt, parseList(query.getAll('attributes')), parseList(query.getAll('excludedAttributes')))
}

/** Paths the client sent, so `returned: "request"` attributes appear in the response (RFC 7643 §7). */
export function sentPaths(rt: CompiledResourceType, attrs: Attributes): Set<string> {
  const out = new Set<string>()
  for (const key of Object.keys(attrs)) {
    const ext = rt.extensions.get(key.toLowerCase())
    if (ext) for (const sub of Object.keys(attrs[key] as object)) out.add(`${ext.urn}:${sub}`)
    else out.add(key)
  }
  return out
}

/** The conditional headers of a write request (checked by the write path on the version it reads). */
export function conditionsOf(call: Call): Conditions {
  return { ifMatch: call.headers['if-match'], ifNoneMatch: call.headers['if-none-match'] }
}
