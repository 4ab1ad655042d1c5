/**
 * PATCH /{Type}/{id} (RFC 7644 §3.5.2): parse the PatchOp, hand the operations to the write path
 * (`storage/write.ts`: read, apply in memory with `applyPatch`, validate, compare-and-swap with
 * retries, events; member-only changes through `modifyMembers`), and render the outcome.
 * @module
 */
import { requireObject } from '../http/body'
import { parsePatchRequest } from '../patch/operations'
import type { CompiledResourceType } from '../schema/registry'
import { compileProjection, omittedAttributes, renderResource } from '../schema/render'
import type { Call, Reply, Service } from '../service'
import { mustGet } from '../storage/read'
import { writeChange } from '../storage/write'
import { conditionsOf, projectionOf, resourceHeaders } from './reply'

/** PATCH /{Type}/{id}. */
export async function patchResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  const projection = projectionOf(rt, call.query)
  const operations = parsePatchRequest(rt, requireObject(call.body), svc.options.filterLimits, svc.options.strict, svc.options.maxPatchOperations)
  const { after, touched, viaMembers } = await writeChange(svc, call, rt, id, { kind: 'patch', operations }, conditionsOf(call))
  const headers = resourceHeaders(call, rt, after)
  // PAT-090: Groups answer 204 (Entra) unless a projection is asked for; Users 200 with the resource.
  if ((viaMembers || rt.name === 'Group') && svc.options.groupPatchResponse === 204 && projection.mode === 'default') {
    return { status: 204, headers }
  }
  // At 200 without a projection a Group body omits `members` (PAT-090: "Returning a body with a
  // list of all the members isn't advisable"); `attributes=members` brings them back.
  const shown = (viaMembers || rt.name === 'Group') && projection.mode === 'default' ? compileProjection(rt, undefined, ['members']) : projection
  if (!viaMembers) return { status: 200, body: renderResource(rt, after, call.render, shown, touched), headers }
  // `modifyMembers` returns the group without what the response shows: read it. Committed: a
  // re-read that fails (a store that stops reads at the deadline) must not turn the change into
  // an error, so the resource modifyMembers returned is shown instead.
  const full = await mustGet(svc, call, rt, id, omittedAttributes(rt, shown)).catch((err: unknown) => {
    if (!call.deadline.expired) throw err
    return after
  })
  return { status: 200, body: renderResource(rt, full, call.render, shown), headers: resourceHeaders(call, rt, full) }
}
