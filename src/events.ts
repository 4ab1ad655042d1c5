/**
 * Lifecycle events: what changed, derived after a write has been committed, so the host app can
 * react — above all, end a deprovisioned user's sessions at once, whichever verb the IdP used.
 * @module
 */
import createDebug from 'debug'
import type { OutboxEvent, OutboxEventInput, StoredResource } from './adapter'
import { uuidv7 } from './ids'

const log = createDebug('scim:events')

/** Fields every event carries. */
export interface ScimEventBase<Ctx = unknown> {
  /**
   * The event's stable id (a UUIDv7), the same on every delivery of this event: deduplicate on
   * it. Delivery with an outbox adapter is at least once, so one id may arrive more than once.
   */
  eventId: string
  /**
   * Delivery attempt, from 1. Only on events delivered from an outbox (durable delivery).
   */
  attempt?: number
  /** Resource type name, e.g. `User`. */
  resourceType: string
  /** The resource id. */
  id: string
  /**
   * The adapter context of the request (tenant, principal). With durable delivery, the first
   * attempt in the process that made the change gets the request's context; a retry, or a delivery
   * after a restart, gets `eventDelivery.context(tenant)` (default `{ tenant }`), since a context
   * is not stored.
   */
  ctx: Ctx
  /** `ctx.tenant` when it is a string, for convenience. */
  tenant?: string
  /** When the change was committed (the resource's `lastModified`, or the delete time). */
  at: Date
}

/**
 * A lifecycle event, fired after the change is committed. Resources are as rendered to clients
 * (`password` and other `returned: never` attributes are never included).
 *
 * - `user.deprovisioned` fires once for a deactivation (`active` became false, by PATCH in any
 *   dialect or by PUT) and for a delete: the one place to revoke access.
 * - `group.members.added` / `group.members.removed` list the member ids that changed.
 */
export type ScimEvent<Ctx = unknown> = ScimEventBase<Ctx> &
  (
    | { type: 'user.created'; resource: Record<string, unknown> }
    | { type: 'user.updated'; resource: Record<string, unknown> }
    | { type: 'user.deactivated'; resource: Record<string, unknown> }
    | { type: 'user.reactivated'; resource: Record<string, unknown> }
    | { type: 'user.deleted' }
    | { type: 'user.deprovisioned'; reason: 'deactivated' | 'deleted' }
    | { type: 'group.created'; resource: Record<string, unknown> }
    | { type: 'group.updated'; resource: Record<string, unknown> }
    | { type: 'group.deleted' }
    | { type: 'group.members.added'; memberIds: string[] }
    | { type: 'group.members.removed'; memberIds: string[] }
    | { type: 'resource.created'; resource: Record<string, unknown> }
    | { type: 'resource.updated'; resource: Record<string, unknown> }
    | { type: 'resource.deleted' }
  )

/** The names of {@link ScimEvent} types. */
export type ScimEventType = ScimEvent['type']

/** Receives lifecycle events. A thrown error or rejection is logged on `scim:events`, never undoes the change. */
export type EventHandler<Ctx = unknown> = (event: ScimEvent<Ctx>) => void | Promise<void>

function memberIds(stored: StoredResource | null | undefined): string[] {
  const members = stored?.attributes['members']
  if (!Array.isArray(members)) return []
  return members.flatMap((m) => (typeof (m as { value?: unknown })?.value === 'string' ? [(m as { value: string }).value] : []))
}

function isActive(stored: StoredResource | null | undefined): boolean | undefined {
  const v = stored?.attributes['active']
  return typeof v === 'boolean' ? v : undefined
}

/** `base` with `tenant` set from `ctx.tenant` when it is a string. */
export function withTenant<Ctx, T extends object>(base: T, ctx: Ctx): T {
  const tenant = (ctx as { tenant?: unknown } | null | undefined)?.tenant
  if (typeof tenant === 'string') (base as { tenant?: string }).tenant = tenant
  return base
}

/** The events of a User delete for the groups it left (EP-053): one `group.members.removed` each. */
export function leftGroupEvents<Ctx>(userId: string, before: StoredResource, ctx: Ctx): ScimEvent<Ctx>[] {
  const groups = before.attributes['groups']
  if (!Array.isArray(groups)) return []
  const at = new Date()
  return (groups as { value?: unknown }[]).flatMap((g) =>
    typeof g?.value === 'string'
      ? [withTenant<Ctx, ScimEvent<Ctx>>({ eventId: uuidv7(), type: 'group.members.removed', resourceType: 'Group', id: g.value, memberIds: [userId], ctx, at }, ctx)]
      : [],
  )
}

/** An event as the outbox stores it: JSON without the request context. */
export function toOutboxInput(event: ScimEvent<unknown>, state: OutboxEventInput['state']): OutboxEventInput {
  const { ctx: _ctx, attempt: _attempt, at, ...rest } = event
  return { id: event.eventId, type: event.type, resourceType: event.resourceType, resourceId: event.id, payload: { ...rest, at: at.toISOString() }, state }
}

/** The event a stored outbox record describes, with the context to deliver it with. */
export function fromOutbox<Ctx>(record: OutboxEvent, ctx: Ctx): ScimEvent<Ctx> {
  const payload = record.payload as Record<string, unknown>
  const at = typeof payload['at'] === 'string' ? new Date(payload['at']) : record.createdAt
  return { ...(payload as object), eventId: record.id, attempt: record.attempts, ctx, at } as ScimEvent<Ctx>
}

/**
 * Events implied by a committed change from `before` to `after` (null for create/delete).
 * `render` renders the resource as clients see it.
 */
export function deriveEvents<Ctx>(
  resourceType: string,
  id: string,
  before: StoredResource | null,
  after: StoredResource | null,
  ctx: Ctx,
  render: (stored: StoredResource) => Record<string, unknown>,
): ScimEvent<Ctx>[] {
  const base = (): ScimEventBase<Ctx> => withTenant<Ctx, ScimEventBase<Ctx>>({ eventId: uuidv7(), resourceType, id, ctx, at: after?.lastModified ?? new Date() }, ctx)
  const out: ScimEvent<Ctx>[] = []
  const kind = resourceType === 'User' ? 'user' : resourceType === 'Group' ? 'group' : 'resource'
  if (!after) {
    if (kind === 'user') {
      out.push({ ...base(), type: 'user.deleted' }, { ...base(), type: 'user.deprovisioned', reason: 'deleted' })
    } else if (kind === 'group') {
      const removed = memberIds(before)
      out.push({ ...base(), type: 'group.deleted' })
      if (removed.length > 0) out.push({ ...base(), type: 'group.members.removed', memberIds: removed })
    } else out.push({ ...base(), type: 'resource.deleted' })
    return out
  }
  const resource = render(after)
  if (!before) {
    if (kind === 'user') out.push({ ...base(), type: 'user.created', resource })
    else if (kind === 'group') {
      out.push({ ...base(), type: 'group.created', resource })
      const added = memberIds(after)
      if (added.length > 0) out.push({ ...base(), type: 'group.members.added', memberIds: added })
    } else out.push({ ...base(), type: 'resource.created', resource })
    return out
  }
  if (kind === 'user') {
    out.push({ ...base(), type: 'user.updated', resource })
    const was = isActive(before)
    const now = isActive(after)
    if (was !== false && now === false) {
      out.push({ ...base(), type: 'user.deactivated', resource }, { ...base(), type: 'user.deprovisioned', reason: 'deactivated' })
    } else if (was === false && now === true) {
      out.push({ ...base(), type: 'user.reactivated', resource })
    }
  } else if (kind === 'group') {
    out.push({ ...base(), type: 'group.updated', resource })
    const old = new Set(memberIds(before))
    const cur = new Set(memberIds(after))
    const added = [...cur].filter((m) => !old.has(m))
    const removed = [...old].filter((m) => !cur.has(m))
    if (added.length > 0) out.push({ ...base(), type: 'group.members.added', memberIds: added })
    if (removed.length > 0) out.push({ ...base(), type: 'group.members.removed', memberIds: removed })
  } else out.push({ ...base(), type: 'resource.updated', resource })
  return out
}

/** Events of a membership-only change applied by the adapter's `modifyMembers`. */
export function memberChangeEvents<Ctx>(
  id: string,
  after: StoredResource,
  added: readonly string[],
  removed: readonly string[],
  ctx: Ctx,
  resource: Record<string, unknown>,
): ScimEvent<Ctx>[] {
  if (added.length === 0 && removed.length === 0) return []
  const base = (): ScimEventBase<Ctx> => withTenant<Ctx, ScimEventBase<Ctx>>({ eventId: uuidv7(), resourceType: 'Group', id, ctx, at: after.lastModified }, ctx)
  const out: ScimEvent<Ctx>[] = [{ ...base(), type: 'group.updated', resource }]
  if (added.length > 0) out.push({ ...base(), type: 'group.members.added', memberIds: [...added] })
  if (removed.length > 0) out.push({ ...base(), type: 'group.members.removed', memberIds: [...removed] })
  return out
}

/**
 * Deliver events to the handler, in order. With `wait` (a number of milliseconds), the response
 * waits for the handler (so an app can revoke sessions before the IdP hears "done"), but at most
 * that long: delivery then goes on in the background. Without it delivery runs in the background.
 * Errors are logged and swallowed: the change is committed whatever the hook does.
 */
export async function deliverEvents<Ctx>(handler: EventHandler<Ctx> | undefined, events: ScimEvent<Ctx>[], wait: number | false): Promise<void> {
  if (!handler || events.length === 0) return
  const run = async (): Promise<void> => {
    for (const event of events) {
      try {
        await handler(event)
      } catch (err) {
        log('onEvent handler failed for %s %s/%s: %O', event.type, event.resourceType, event.id, err)
      }
    }
  }
  const delivery = run().catch(
    /* c8 ignore next */ (err: unknown) => log('event delivery failed: %O', err),
  )
  if (wait === false) return
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), wait)
    timer.unref()
  })
  const late = await Promise.race([delivery.then(() => false), timedOut])
  clearTimeout(timer)
  if (late) {
    const first = events[0] as ScimEvent<Ctx>
    log('onEvent handler still running after %d ms (%s %s/%s); answering, delivery continues in the background', wait, first.type, first.resourceType, first.id)
  }
}
