/**
 * The write path of every store: read the current resource, compute the next attributes, write
 * them with the version read as a compare-and-swap, retry a lost race with backoff, and describe
 * the change as lifecycle events. PUT, PATCH and DELETE (and so Bulk, which runs those handlers)
 * write through here.
 * @module
 */
import type { StoredResource } from '../adapter'
import type { Recorder } from '../delivery'
import { ScimError, isScimError } from '../errors'
import { deriveEvents, leftGroupEvents, type ScimEvent } from '../events'
import { checkWritePreconditions } from '../handlers/conditional'
import type { CompiledResourceType } from '../schema/registry'
import { renderResource } from '../schema/render'
import type { Attributes } from '../schema/resource'
import { checkStored, uniqueFor, type Call, type Service } from '../service'
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

/**
 * Read–modify–write with compare-and-swap: `modify` computes the new attributes from the
 * current ones (or undefined for "no change"). A lost race is retried with a fresh read unless the
 * client pinned a version with If-Match, which then answers 412.
 * @throws ScimError 503 (with Retry-After) when contention outlasts the retry budget.
 */
export async function updateWithRetry(
  svc: Service,
  call: Call,
  rt: CompiledResourceType,
  id: string,
  modify: (current: Attributes) => Attributes | undefined,
  rec?: Recorder,
): Promise<{ before: StoredResource; after: StoredResource; changed: boolean }> {
  const started = Date.now()
  for (let attempt = 1; ; attempt++) {
    const roundStart = Date.now()
    const before = await mustGet(svc, call, rt, id)
    const pinned = checkWritePreconditions(call, before.version)
    const next = modify(writableAttributes(rt, before.attributes))
    if (next === undefined) return { before, after: before, changed: false }
    try {
      const after = checkStored(
        await call.deadline.write((signal) =>
          svc.adapter.replace(
            {
              resourceType: rt.name,
              id,
              attributes: next,
              expectedVersion: before.version,
              unique: uniqueFor(svc, rt),
              signal,
              ...rec?.query((after: StoredResource) => changeEvents(call, rt, id, before, after)),
            },
            call.ctx,
          ),
        ),
      )
      return { before, after, changed: true }
    } catch (err) {
      // A concurrent writer won the swap. With If-Match the client asked for exactly this 412.
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

/**
 * Delete with compare-and-swap on the version read, so the events describe what was deleted
 * (ETG-030); a lost race is retried unless the client pinned a version with If-Match (then 412).
 * Deleting a User also ends its Group memberships (their events, EP-053).
 * @throws NotFoundError; ScimError 503 (with Retry-After) when contention outlasts the retries.
 */
export async function deleteWithRetry(svc: Service, call: Call, rt: CompiledResourceType, id: string, rec: Recorder): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const roundStart = Date.now()
    const before = await mustGet(svc, call, rt, id)
    const pinned = checkWritePreconditions(call, before.version)
    // EP-053: a deleted user left every group it was in; those memberships ended too.
    const events = rec.query(() => [...changeEvents(call, rt, id, before, null), ...(rt.name === 'User' ? leftGroupEvents(id, before, call.ctx) : [])])
    try {
      await call.deadline.write((signal) => svc.adapter.delete({ resourceType: rt.name, id, expectedVersion: before.version, signal, ...events }, call.ctx))
      return
    } catch (err) {
      if (pinned || !isScimError(err) || err.status !== 412) throw err
      if (attempt >= MAX_CAS_ATTEMPTS) {
        throw new ScimError(503, 'ERR_SCIM_CONTENTION', `${rt.name} ${id} is being modified concurrently; retry the request`, undefined, {
          cause: err,
          headers: { 'Retry-After': '1' },
        })
      }
      await backoff(attempt, Date.now() - roundStart)
    }
  }
}
