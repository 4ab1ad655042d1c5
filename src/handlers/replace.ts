/**
 * PUT /{Type}/{id} (RFC 7644 §3.5.1): parse the body, check the required attributes, write through
 * the write path (`storage/write.ts`: read, apply, validate, compare-and-swap, events), render 200.
 * @module
 */
import { requireObject } from '../http/body'
import type { CompiledResourceType } from '../schema/registry'
import { renderResource } from '../schema/render'
import { assertRequired, parseResourceBody } from '../schema/resource'
import type { Call, Reply, Service } from '../service'
import { writeChange } from '../storage/write'
import { conditionsOf, projectionOf, resourceHeaders, sentPaths } from './reply'

/** PUT /{Type}/{id} (RFC 7644 §3.5.1). */
export async function replaceResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  const projection = projectionOf(rt, call.query)
  const incoming = parseResourceBody(rt, requireObject(call.body), svc.options)
  assertRequired(rt, incoming) // RES-044: required attributes must be in the PUT body
  const { after } = await writeChange(svc, call, rt, id, { kind: 'replace', attributes: incoming }, conditionsOf(call))
  return { status: 200, body: renderResource(rt, after, call.render, projection, sentPaths(rt, incoming)), headers: resourceHeaders(call, rt, after) }
}
