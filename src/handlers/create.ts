/**
 * POST /{Type} (RFC 7644 §3.3).
 * @module
 */
import type { StoredResource } from '../adapter'
import { requireObject } from '../http/body'
import type { CompiledResourceType } from '../schema/registry'
import { renderResource } from '../schema/render'
import { assertRequired, parseResourceBody } from '../schema/resource'
import { checkStored, uniqueFor, validateAttributes, type Call, type Reply, type Service } from '../service'
import { changeEvents } from '../storage/write'
import { checkEmailDomains, withSeat } from './guards'
import { projectionOf, resourceHeaders, sentPaths } from './reply'

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
