/**
 * POST /{Type} (RFC 7644 §3.3): parse the body, check the required attributes, create through the
 * write path (`storage/write.ts`), render 201.
 * @module
 */
import { requireObject } from '../http/body'
import type { CompiledResourceType } from '../schema/registry'
import { renderResource } from '../schema/render'
import { assertRequired, parseResourceBody } from '../schema/resource'
import type { Call, Reply, Service } from '../service'
import { writeCreate } from '../storage/write'
import { projectionOf, resourceHeaders, sentPaths } from './reply'

/** POST /{Type} (RFC 7644 §3.3). */
export async function createResource(svc: Service, call: Call, rt: CompiledResourceType): Promise<Reply> {
  const projection = projectionOf(rt, call.query)
  const attrs = parseResourceBody(rt, requireObject(call.body), svc.options)
  assertRequired(rt, attrs)
  const stored = await writeCreate(svc, call, rt, attrs)
  return { status: 201, body: renderResource(rt, stored, call.render, projection, sentPaths(rt, attrs)), headers: resourceHeaders(call, rt, stored) }
}
