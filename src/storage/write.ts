/**
 * The one write path of every store: read the current resource, apply the change (PUT's
 * replacement or PATCH's operations, pure), validate the result, write it with the version read as
 * a compare-and-swap, retry a lost race with backoff, and record the change's lifecycle events in
 * the same write. PUT, PATCH, member changes and DELETE (and so every Bulk operation, which runs
 * those handlers) write through {@link writeChange}, {@link writeDelete} and {@link writeCreate};
 * handlers only parse the request and render the outcome.
 * @module
 */
import type { ModifyMembersResult, StoredResource } from '../adapter'
import { ScimError, isScimError } from '../errors'
import { deriveEvents, leftGroupEvents, memberChangeEvents, type ScimEvent } from '../events'
import { applyPatch } from '../patch/apply'
import { memberPlan, type MemberPlan } from '../patch/members'
import type { PatchOperation } from '../patch/operations'
import type { CompiledResourceType } from '../schema/registry'
import { renderResource } from '../schema/render'
import { applyPut, type Attributes } from '../schema/resource'
import { deepEqual } from '../schema/values'
import { checkStored, uniqueFor, validateAttributes, type Call, type Service } from '../service'
import { checkConditions, hasConditions, type Conditions } from './conditions'
import { checkEmailDomains, withSeat } from './guards'
import { mustGet } from './read'

/** The lifecycle events of a change from `before` to `after` (issue 7), resources rendered as clients see them. */
export function changeEvents(call: Call, rt: CompiledResourceType, id: string, before: StoredResource | null, after: StoredResource | null): ScimEvent<unknown>[] {
  return deriveEvents(rt.name, id, before, after, call.ctx, (s) => renderResource(rt, s, call.render))
}

/** Attributes as the client can write them: readOnly (derived) ones removed. */
export function writableAttributes(rt: CompiledResourceType, attrs: Attributes): Attributes {
  const out: Attributes = {}
  for (const key of Object.keys(attrs)) {
    const info = rt.extensions.has(key.toLowerCase()) ? undefined : rt.core.get(key.toLowerCase())
    if (info && !info.common && info.def.mutability === 'readOnly') continue
    out[key] = attrs[key]
  }
  return out
}

/**
 * Compare-and-swap retry policy. Every round of N concurrent writers on one resource lets exactly
 * one through, so a fixed handful of immediate retries loses updates as soon as an IdP fans
 * membership changes for one Group out in parallel (measured: 50 parallel adds through an adapter
 * with 1–5 ms I/O lost 7–9 of them to 412 with 8 quick retries). The loop retries up to
 * {@link MAX_CAS_ATTEMPTS} times within {@link CAS_RETRY_BUDGET_MS}, sleeping a full-jitter
 * exponential backoff scaled by how long one read-modify-write round took. Only when the budget
 * is exhausted does the client get 503 + Retry-After — never a 412 it did not ask for.
 */
export const MAX_CAS_ATTEMPTS = 50
/** Time budget of the retry loop, in milliseconds. */
export const CAS_RETRY_BUDGET_MS = 10_000
const BACKOFF_CAP_MS = 500

function backoff(attempt: number, roundMs: number): Promise<void> {
  const ceiling = Math.min(BACKOFF_CAP_MS, Math.max(1, roundMs) * 2 ** Math.min(attempt, 10))
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling))
}

/** What one round decides after reading: nothing to write (`done`), or the compare-and-swap to run. */
type Round<T> = { done: T } | { write: () => Promise<T> }

/**
 * Read, check the client's conditions on the version read, `prepare` the write, run it; a 412 from
 * the adapter (a concurrent writer won the swap) is retried with a fresh read under the policy
 * above, unless the client pinned the version with If-Match, which then gets exactly that 412.
 * @throws NotFoundError, PreconditionFailedError (the client's conditions), whatever `prepare`
 *   throws (validation), and ScimError 503 (with Retry-After) when contention outlasts the budget.
 */
async function compareAndSwap<T>(
  svc: Service,
  call: Call,
  rt: CompiledResourceType,
  id: string,
  conditions: Conditions,
  prepare: (before: StoredResource) => Round<T>,
): Promise<T> {
  const started = Date.now()
  for (let attempt = 1; ; attempt++) {
    const roundStart = Date.now()
    const before = await mustGet(svc, call, rt, id)
    const pinned = checkConditions(conditions, before.version)
    const round = prepare(before)
    if ('done' in round) return round.done
    try {
      return await round.write()
    } catch (err) {
      if (pinned || !isScimError(err) || err.status !== 412) throw err
      if (attempt >= MAX_CAS_ATTEMPTS || Date.now() - started > CAS_RETRY_BUDGET_MS) {
        throw new ScimError(503, 'ERR_SCIM_CONTENTION', `${rt.name} ${id} is being modified concurrently; retry the request`, undefined, {
          cause: err,
          headers: { 'Retry-After': '1' },
        })
      }
      await backoff(attempt, Date.now() - roundStart)
    }
  }
}

/** A change a client asks for: PUT's parsed body, or PATCH's parsed operations. */
export type Change = { kind: 'replace'; attributes: Attributes } | { kind: 'patch'; operations: readonly PatchOperation[] }

/** What {@link writeChange} did. */
export interface WriteOutcome {
  /** The resource after the change (the one read when nothing changed). */
  after: StoredResource
  /** Whether anything was written (RES-009, PAT-016: no change, no write). */
  changed: boolean
  /** Attribute paths the PATCH operations wrote (for `returned: "request"`); empty for PUT. */
  touched: ReadonlySet<string>
  /** The change went to the adapter's `modifyMembers` (member-only PATCH); `after` is what it returned. */
  viaMembers: boolean
}

/**
 * The write path of PUT and PATCH: read → apply (`applyPut` / `applyPatch`, pure) → validate
 * (schema, email-domain policy) → compare-and-swap `replace` with its events → deliver the events
 * after the commit. A PATCH that only adds or removes Group members goes to the adapter's
 * `modifyMembers` instead when it has one and the request has no conditions: row inserts and
 * deletes under a lock, no rewrite of the group and no contention however many IdP requests
 * change one group at once.
 * @throws NotFoundError, PreconditionFailedError, InvalidValueError and the other PATCH errors,
 *   UniquenessError, ScimError 503 under lasting contention.
 */
export async function writeChange(svc: Service, call: Call, rt: CompiledResourceType, id: string, change: Change, conditions: Conditions): Promise<WriteOutcome> {
  if (change.kind === 'patch' && svc.adapter.modifyMembers && !hasConditions(conditions)) {
    const plan = memberPlan(rt, change.operations, svc.options)
    if (plan) return writeMembers(svc, call, rt, id, plan)
  }
  const rec = svc.delivery.recorder()
  let touched: ReadonlySet<string> = new Set<string>()
  const outcome = await compareAndSwap(svc, call, rt, id, conditions, (before): Round<{ after: StoredResource; changed: boolean }> => {
    const current = writableAttributes(rt, before.attributes)
    let next: Attributes
    if (change.kind === 'replace') {
      next = applyPut(rt, current, change.attributes, { preserve: svc.options.putPreserve })
      if (deepEqual(next, current)) return { done: { after: before, changed: false } } // RES-009: nothing changed, nothing written
      validateAttributes(svc, rt, next)
    } else {
      const result = applyPatch(rt, id, current, change.operations, svc.options)
      touched = result.touched
      if (!result.changed) return { done: { after: before, changed: false } } // PAT-016: no change, no write
      next = result.attributes
      validateAttributes(svc, rt, next, result.touched) // only what the operations wrote
    }
    checkEmailDomains(svc, rt, next, current)
    return {
      write: async () => {
        const after = await call.deadline.write((signal) =>
          svc.adapter.replace(
            {
              resourceType: rt.name,
              id,
              attributes: next,
              expectedVersion: before.version,
              previous: before,
              unique: uniqueFor(svc, rt),
              signal,
              ...rec.query((after: StoredResource) => changeEvents(call, rt, id, before, after)),
            },
            call.ctx,
          ),
        )
        return { after: checkStored(after), changed: true }
      },
    }
  })
  if (outcome.changed) await rec.committed(outcome.after)
  return { ...outcome, touched, viaMembers: false }
}

/** Member additions and removals through the adapter's `modifyMembers`, with their events. */
async function writeMembers(svc: Service, call: Call, rt: CompiledResourceType, id: string, plan: MemberPlan): Promise<WriteOutcome> {
  const modify = svc.adapter.modifyMembers as NonNullable<typeof svc.adapter.modifyMembers>
  const rec = svc.delivery.recorder()
  const events = rec.query((r: ModifyMembersResult) =>
    memberChangeEvents(id, r.resource, r.added, r.removed, call.ctx, renderResource(rt, r.resource, call.render)),
  )
  const result = await call.deadline.write((signal) => modify.call(svc.adapter, { resourceType: rt.name, id, add: plan.add, remove: plan.remove, signal, ...events }, call.ctx))
  const after = checkStored(result.resource)
  await rec.committed(result)
  return { after, changed: true, touched: new Set<string>(), viaMembers: true }
}

/**
 * The write path of POST: validate (schema, email-domain policy), then create under the seat cap
 * with the creation's events, delivered after the commit. Required attributes are the caller's
 * check (they depend on the request: RES-044).
 * @throws InvalidValueError, UniquenessError, ForbiddenError (seat cap).
 */
export async function writeCreate(svc: Service, call: Call, rt: CompiledResourceType, attributes: Attributes): Promise<StoredResource> {
  validateAttributes(svc, rt, attributes)
  checkEmailDomains(svc, rt, attributes)
  const rec = svc.delivery.recorder()
  const events = rec.query((s: StoredResource) => changeEvents(call, rt, s.id, null, s))
  const created = await withSeat(svc, call, rt, () =>
    call.deadline.write((signal) => svc.adapter.create({ resourceType: rt.name, attributes, unique: uniqueFor(svc, rt), signal, ...events }, call.ctx)),
  )
  const stored = checkStored(created)
  await rec.committed(stored)
  return stored
}

/**
 * The write path of DELETE: compare-and-swap on the version read, so the events describe what was
 * deleted (ETG-030), retried like {@link writeChange}; deleting a User also ends its Group
 * memberships (their events, EP-053).
 * @throws NotFoundError, PreconditionFailedError, ScimError 503 under lasting contention.
 */
export async function writeDelete(svc: Service, call: Call, rt: CompiledResourceType, id: string, conditions: Conditions): Promise<void> {
  const rec = svc.delivery.recorder()
  await compareAndSwap(svc, call, rt, id, conditions, (before): Round<void> => {
    const events = rec.query(() => [...changeEvents(call, rt, id, before, null), ...(rt.name === 'User' ? leftGroupEvents(id, before, call.ctx) : [])])
    return { write: () => call.deadline.write((signal) => svc.adapter.delete({ resourceType: rt.name, id, expectedVersion: before.version, signal, ...events }, call.ctx)) }
  })
  await rec.committed(undefined)
}
