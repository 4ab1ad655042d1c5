/**
 * PATCH /{Type}/{id} (RFC 7644 §3.5.2): read, apply the operations in memory (`applyPatch`, pure
 * and atomic), then write once with the version read as a compare-and-swap (`updateWithRetry`:
 * lost races re-read and re-apply with backoff, so no update is lost; with If-Match the client
 * gets 412).
 * @module
 */
import { requireObject } from '../http/body'
import { applyPatch } from '../patch/apply'
import { parsePatchRequest } from '../patch/operations'
import type { CompiledResourceType } from '../schema/registry'
import { compileProjection, omittedAttributes, renderResource, type Projection } from '../schema/render'
import { checkStored, validateAttributes, type Call, type Reply, type Service } from '../service'
import { memberChangeEvents } from '../events'
import type { ModifyMembersResult } from '../adapter'
import { memberPlan, type MemberPlan } from '../patch/members'
import { mustGet } from '../storage/read'
import { updateWithRetry } from '../storage/write'
import { projectionOf, resourceHeaders } from './reply'
import { checkEmailDomains } from './guards'

/**
 * A PATCH that only adds or removes members goes to the adapter's `modifyMembers`: row inserts and
 * deletes under a lock, no rewrite of the group and no compare-and-swap contention, however many
 * IdP requests change one group at once.
 */
async function patchMembers(svc: Service, call: Call, rt: CompiledResourceType, id: string, plan: MemberPlan, projection: Projection): Promise<Reply> {
  const modify = svc.adapter.modifyMembers as NonNullable<typeof svc.adapter.modifyMembers>
  const rec = svc.delivery.recorder()
  const events = rec.query((r: ModifyMembersResult) => memberChangeEvents(id, r.resource, r.added, r.removed, call.ctx, renderResource(rt, r.resource, call.render)))
  const result = await call.deadline.write((signal) =>
    modify.call(svc.adapter, { resourceType: rt.name, id, add: plan.add, remove: plan.remove, signal, ...events }, call.ctx),
  )
  const after = checkStored(result.resource)
  await rec.committed(result)
  const headers = resourceHeaders(call, rt, after)
  if (svc.options.groupPatchResponse === 204 && projection.mode === 'default') return { status: 204, headers }
  const shown = projection.mode === 'default' ? compileProjection(rt, undefined, ['members']) : projection
  // Committed: a re-read that fails (a store that stops reads at the deadline) must not turn the
  // change into an error, so the resource modifyMembers returned is shown instead.
  const full = await mustGet(svc, call, rt, id, omittedAttributes(rt, shown)).catch((err: unknown) => {
    if (!call.deadline.expired) throw err
    return after
  })
  return { status: 200, body: renderResource(rt, full, call.render, shown), headers: resourceHeaders(call, rt, full) }
}

/** PATCH /{Type}/{id}. */
export async function patchResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  const projection = projectionOf(rt, call.query)
  const operations = parsePatchRequest(rt, requireObject(call.body), svc.options.filterLimits, svc.options.strict, svc.options.maxPatchOperations)
  const members = svc.adapter.modifyMembers && !call.headers['if-match'] && !call.headers['if-none-match'] ? memberPlan(rt, operations, svc.options) : undefined
  if (members) return patchMembers(svc, call, rt, id, members, projection)
  let touched = new Set<string>()
  const rec = svc.delivery.recorder()
  const { after, changed } = await updateWithRetry(
    svc,
    call,
    rt,
    id,
    (current) => {
      const result = applyPatch(rt, id, current, operations, svc.options)
      touched = result.touched
      if (!result.changed) return undefined // PAT-016: no change, no write
      validateAttributes(svc, rt, result.attributes, result.touched) // only what the operations wrote
      checkEmailDomains(svc, rt, result.attributes, current)
      return result.attributes
    },
    rec,
  )
  if (changed) await rec.committed(after)
  const headers = resourceHeaders(call, rt, after)
  // PAT-090: Groups answer 204 (Entra) unless a projection is asked for; Users 200 with the resource.
  if (rt.name === 'Group' && svc.options.groupPatchResponse === 204 && projection.mode === 'default') {
    return { status: 204, headers }
  }
  // At 200 without a projection a Group body omits `members` (PAT-090: "Returning a body with a
  // list of all the members isn't advisable"); `attributes=members` brings them back.
  const shown = rt.name === 'Group' && projection.mode === 'default' ? compileProjection(rt, undefined, ['members']) : projection
  return { status: 200, body: renderResource(rt, after, call.render, shown, touched), headers }
}
