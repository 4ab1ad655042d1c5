/**
 * Webhooks (issue 13 item 4): the lifecycle events POSTed to per-tenant URLs, signed per the
 * Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, secrets `whsec_<base64>`).
 * `webhookSender()` is an `onEvent` handler: with an outbox adapter, a failed delivery (network
 * error, timeout, non-2xx) is retried with the router's backoff, ends `dead` after `maxAttempts`,
 * and `router.events.redeliver()` sends it again; `webhook-id` is the event id on every attempt.
 * @module
 */
import { createHmac } from 'node:crypto'
import type { EventHandler, ScimEvent } from './events'

/** Where one tenant's events go. */
export interface WebhookEndpoint {
  /** An absolute `https:` (or `http:`) URL. */
  url: string
  /** The signing secret, `whsec_` followed by base64 (24–64 random bytes recommended). */
  secret: string
}

/** Options of {@link webhookSender}. */
export interface WebhookOptions {
  /** The endpoint of a tenant (`event.tenant`), or undefined to send nothing for it. */
  endpoint: (tenant: string | undefined) => WebhookEndpoint | undefined | Promise<WebhookEndpoint | undefined>
  /** Milliseconds one POST may take. Default 10000. */
  timeout?: number
  /** Event types to send; default all. */
  types?: readonly string[]
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith('whsec_')) throw new TypeError('webhook secret must start with whsec_ (Standard Webhooks)')
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  if (key.length < 16) throw new TypeError('webhook secret must decode to at least 16 bytes')
  return key
}

/**
 * The Standard Webhooks signature header value of one message: `v1,` + base64 HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the base64-decoded part of the `whsec_` secret.
 * @throws TypeError for a secret that is not `whsec_<base64>` of at least 16 bytes.
 * @example
 * ```ts
 * signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')
 * // 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
 * ```
 */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

/** The JSON body of an event's webhook: `{ type, timestamp, data }` (data: the event without its context). */
export function webhookBody(event: ScimEvent<unknown>): string {
  const { ctx: _ctx, attempt: _attempt, ...data } = event
  return JSON.stringify({ type: event.type, timestamp: event.at.toISOString(), data })
}

/**
 * An `onEvent` handler that POSTs each event to its tenant's endpoint. It throws (so the attempt is
 * retried) on a network error, a timeout, or a status outside 200–299.
 * @throws TypeError at once when `options.endpoint` is not a function.
 * @example
 * ```ts
 * scimRouter(adapter, {
 *   authenticate,
 *   onEvent: webhookSender({ endpoint: (tenant) => hooks.get(tenant) }),
 *   eventDelivery: { maxAttempts: 12 },
 * })
 * ```
 */
export function webhookSender(options: WebhookOptions): EventHandler<unknown> {
  if (typeof options?.endpoint !== 'function') throw new TypeError('webhookSender: endpoint must be a function')
  const timeout = options.timeout ?? 10_000
  const types = options.types ? new Set(options.types) : undefined
  return async (event) => {
    if (types && !types.has(event.type)) return
    const target = await options.endpoint(event.tenant)
    if (!target) return
    const body = webhookBody(event)
    const timestamp = Math.floor(Date.now() / 1000)
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': event.eventId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(target.secret, event.eventId, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(timeout),
      redirect: 'manual',
    })
    await res.arrayBuffer().catch(() => undefined)
    if (res.status < 200 || res.status > 299) throw new Error(`webhook ${target.url} answered ${res.status}`)
  }
}
