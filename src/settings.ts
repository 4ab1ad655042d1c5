/**
 * Per-request settings: router options that one request may override, e.g. with the settings of
 * the connection whose token authenticated it (`connectionAuth`). Small on purpose: only options
 * that are a matter of policy per customer, not of how the service is built.
 * @module
 */

/**
 * Router options a request may override (`ScimRouterOptions.settings`); a field left out keeps
 * the router's value.
 */
export interface RequestSettings {
  /** `ScimRouterOptions.strict`: answer strictly per RFC where IdPs deviate from it. */
  strict?: boolean
  /** `ScimRouterOptions.groupPatchResponse`: 204 or 200 for a Group PATCH (RFC 7644 §3.5.2). */
  groupPatchResponse?: 200 | 204
  /**
   * `ScimRouterOptions.allowedEmailDomains`: the domains a User's `userName` and `emails[].value`
   * may have (case-insensitive, exact: a subdomain must be listed itself). A create, replace or
   * patch that writes a value outside them is 400 `invalidValue` (RFC 7644 §3.12); values the
   * User already had are left alone, so a deactivation of a legacy user always works.
   */
  allowedEmailDomains?: string[]
  /**
   * `ScimRouterOptions.seatCap`: the most Users the tenant may have. A create beyond it is 403
   * (RFC 7644 §3.12: not permitted for this client) with a detail naming the cap. Every stored
   * User takes a seat, active or not; deleting one frees it.
   */
  seatCap?: number
}

/**
 * Marks an authenticate function with the function that reads {@link RequestSettings} from its
 * principal (used when `ScimRouterOptions.settings` is not given).
 */
export const REQUEST_SETTINGS: unique symbol = Symbol.for('scim-router.requestSettings')

/** A domain name (labels of letters, digits and hyphens), lower-cased. */
const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/**
 * Validate request settings; returns a clean copy (unknown fields dropped, domains lower-cased).
 * @throws TypeError naming the bad setting, prefixed with `where`.
 */
export function checkRequestSettings(settings: RequestSettings, where: string): RequestSettings {
  const out: RequestSettings = {}
  if (settings.strict !== undefined) {
    if (typeof settings.strict !== 'boolean') throw new TypeError(`${where}: strict must be a boolean`)
    out.strict = settings.strict
  }
  if (settings.groupPatchResponse !== undefined) {
    if (settings.groupPatchResponse !== 200 && settings.groupPatchResponse !== 204) throw new TypeError(`${where}: groupPatchResponse must be 200 or 204`)
    out.groupPatchResponse = settings.groupPatchResponse
  }
  if (settings.allowedEmailDomains !== undefined) {
    const list = settings.allowedEmailDomains
    if (!Array.isArray(list) || list.length === 0 || list.length > 100) throw new TypeError(`${where}: allowedEmailDomains must be a list of 1 to 100 domain names`)
    const domains = list.map((d) => (typeof d === 'string' ? d.trim().toLowerCase() : ''))
    const bad = domains.findIndex((d) => !DOMAIN.test(d))
    if (bad >= 0) throw new TypeError(`${where}: allowedEmailDomains[${bad}] is not a domain name`)
    out.allowedEmailDomains = [...new Set(domains)]
  }
  if (settings.seatCap !== undefined) {
    if (typeof settings.seatCap !== 'number' || !Number.isInteger(settings.seatCap) || settings.seatCap < 0) throw new TypeError(`${where}: seatCap must be a non-negative integer`)
    out.seatCap = settings.seatCap
  }
  return out
}
