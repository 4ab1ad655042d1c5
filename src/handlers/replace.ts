/**
 * PUT /{Type}/{id} (RFC 7644 §3.5.1).
 * @module
 */
import { requireObject } from '../http/body'
import type { CompiledResourceType } from '../schema/registry'
import { renderResource } from '../schema/render'
import { applyPut, assertRequired, parseResourceBody } from '../schema/resource'
import { deepEqual } from '../schema/values'
import { validateAttributes, type Call, type Reply, type Service } from '../service'
import { updateWithRetry } from '../storage/write'
import { checkEmailDomains } from './guards'
import { projectionOf, resourceHeaders, sentPaths } from './reply'

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
