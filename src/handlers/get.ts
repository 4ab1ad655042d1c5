/**
 * GET /{Type}/{id} (RFC 7644 §3.4.1).
 * @module
 */
import type { CompiledResourceType } from '../schema/registry'
import { omittedAttributes, renderResource } from '../schema/render'
import type { Call, Reply, Service } from '../service'
import { mustGet } from '../storage/read'
import { etagMatches, parseEtags } from '../storage/conditions'
import { projectionOf, resourceHeaders } from './reply'

/** GET /{Type}/{id} (RFC 7644 §3.4.1); `If-None-Match` → 304 (RFC 7644 §3.14). */
export async function getResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  const projection = projectionOf(rt, call.query)
  const inm = parseEtags(call.headers['if-none-match'])
  const stored = await mustGet(svc, call, rt, id, omittedAttributes(rt, projection))
  const headers = resourceHeaders(call, rt, stored)
  if (inm && etagMatches(inm, stored.version)) return { status: 304, headers }
  return { status: 200, body: renderResource(rt, stored, call.render, projection), headers }
}
