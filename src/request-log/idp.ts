/**
 * Which identity provider sent a request: from its User-Agent, else from its dialect.
 * @module
 */
import type { IdpName } from './types'

/** Vendor names in a User-Agent (Okta's documented one is `Okta SCIM Client 1.0.0`). */
const AGENTS: Array<[RegExp, IdpName]> = [
  [/\bokta\b/i, 'okta'],
  [/azure|microsoft|\bentra\b|\baad\b/i, 'entra'],
  [/google/i, 'google'],
  [/onelogin/i, 'onelogin'],
  [/jumpcloud/i, 'jumpcloud'],
]

/**
 * The IdP a request came from. First the User-Agent (vendor names, case-insensitive); then the
 * dialect: Entra ID's `aadOptscim062020` flag in the query, or a PATCH whose `op` is capitalised
 * (`"Replace"`, `"Add"`, `"Remove"`: only Entra ID's default dialect sends them). Otherwise
 * `unknown`.
 *
 * @example
 * ```ts
 * detectIdp('Okta SCIM Client 1.0.0', '/Users', undefined) // 'okta'
 * ```
 */
export function detectIdp(userAgent: string | undefined, url: string, body: unknown): IdpName {
  if (userAgent) for (const [re, name] of AGENTS) if (re.test(userAgent)) return name
  if (/[?&]aadOptscim062020(?:[=&]|$)/i.test(url)) return 'entra'
  const ops = (body as { Operations?: unknown } | null | undefined)?.Operations
  if (Array.isArray(ops) && ops.some((o) => typeof (o as { op?: unknown })?.op === 'string' && /^(Add|Replace|Remove)$/.test((o as { op: string }).op))) return 'entra'
  return 'unknown'
}
