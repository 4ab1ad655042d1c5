/**
 * Policy guards of a tenant (router options, or per request from a connection's settings):
 * allowed email domains of Users, and a seat cap on User creates.
 * @module
 */
import { ForbiddenError, InvalidValueError } from '../errors'
import type { CompiledResourceType } from '../schema/registry'
import type { Attributes } from '../schema/resource'
import type { Call, Service } from '../service'

/** The part after the last `@`, lower-cased; undefined when there is none. */
function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@')
  return at < 0 || at === address.length - 1 ? undefined : address.slice(at + 1).toLowerCase()
}

function emailValues(attrs: Attributes | undefined): string[] {
  const emails = attrs?.['emails']
  if (!Array.isArray(emails)) return []
  return emails.flatMap((e) => (typeof (e as { value?: unknown })?.value === 'string' ? [(e as { value: string }).value] : []))
}

/**
 * With `allowedEmailDomains`, refuse a User whose new `userName` or a new `emails[].value` is
 * outside them (400 invalidValue, RFC 7644 §3.12). Values already stored (`before`) are not
 * judged again, so a PATCH that only deactivates a legacy user always goes through.
 * @throws InvalidValueError naming the domain.
 */
export function checkEmailDomains(svc: Service, rt: CompiledResourceType, next: Attributes, before?: Attributes): void {
  const allowed = svc.options.allowedEmailDomains
  if (!allowed || rt.name !== 'User') return
  const list = allowed.join(', ')
  const userName = next['userName']
  if (typeof userName === 'string' && userName !== before?.['userName']) {
    const domain = domainOf(userName)
    if (domain === undefined) throw new InvalidValueError(`userName must be an email address in an allowed domain (${list})`)
    if (!allowed.includes(domain)) throw new InvalidValueError(`The domain '${domain}' of userName is not allowed for this tenant (allowed: ${list})`)
  }
  const old = new Set(emailValues(before))
  for (const value of emailValues(next)) {
    if (old.has(value)) continue
    const domain = domainOf(value)
    if (domain === undefined || !allowed.includes(domain)) {
      throw new InvalidValueError(`The domain '${domain ?? value}' of emails.value is not allowed for this tenant (allowed: ${list})`)
    }
  }
}

/**
 * Run a User create under the seat cap: creates of one tenant are serialised in this router
 * (count, then create), so concurrent requests to one instance never go beyond the cap. Other
 * router instances over the same database are not serialised with these (README).
 * @throws ForbiddenError (403) when the tenant already has `seatCap` Users.
 */
export async function withSeat<T>(svc: Service, call: Call, rt: CompiledResourceType, create: () => Promise<T>): Promise<T> {
  const cap = svc.options.seatCap
  if (cap === undefined || rt.name !== 'User') return create()
  const tenant = (call.ctx as { tenant?: unknown } | null | undefined)?.tenant
  const key = typeof tenant === 'string' ? tenant : ''
  const previous = svc.seatLocks.get(key) ?? Promise.resolve()
  let release: () => void = () => undefined
  const mine = new Promise<void>((resolve) => (release = resolve))
  const tail = previous.then(() => mine)
  svc.seatLocks.set(key, tail)
  try {
    await previous
    call.deadline.signal.throwIfAborted() // waited past the request's deadline: it has been answered 503
    const { totalResults } = await svc.adapter.list({ resourceType: rt.name, startIndex: 1, count: 0, signal: call.deadline.signal }, call.ctx)
    if (totalResults >= cap) {
      throw new ForbiddenError(`Seat cap reached: this tenant may have at most ${cap} users and has ${totalResults}; delete a user to free a seat`)
    }
    return await create()
  } finally {
    release()
    if (svc.seatLocks.get(key) === tail) svc.seatLocks.delete(key)
  }
}
