/**
 * Router options, their defaults, and their validation (done once, in `scimRouter()`).
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { Authenticate, AuthenticationScheme } from './auth'
import type { EventHandler } from './events'
import type { EventDeliveryOptions } from './delivery'
import type { AttributeInput } from './schema/types'
import { checkRequestSettings, type RequestSettings } from './settings'
import type { RequestLogOptions } from './request-log/recorder'
import type { RequestLog } from './request-log/types'

/** A schema document as a host registers it; attribute characteristics default per RFC 7643 §2.2. */
export interface SchemaInput {
  /** Schema URN, e.g. `urn:ietf:params:scim:schemas:extension:acme:2.0:User`. */
  id: string
  name?: string
  description?: string
  attributes: AttributeInput[]
}

/** A schema extension attached to a resource type (RFC 7643 §3.3). */
export interface ExtensionRegistration {
  /** Name of the resource type to extend, e.g. `User`. */
  resourceType: string
  schema: SchemaInput
  /** Whether every resource of the type must carry the extension. Default false. */
  required?: boolean
}

/** A custom resource type (RFC 7643 §3.2), served with the same machinery as Users and Groups. */
export interface ResourceTypeRegistration {
  /** Name, e.g. `Role`; the value of `meta.resourceType`. */
  name: string
  /** Endpoint with a leading slash, e.g. `/Roles`. */
  endpoint: string
  description?: string
  schema: SchemaInput
}

/** Limits on filters. */
export interface FilterLimits {
  /** Maximum filter length in characters. Default 4096. */
  maxLength: number
  /** Maximum nesting depth of parentheses and brackets. Default 32. */
  maxDepth: number
  /** Maximum number of attribute expressions. Default 200. */
  maxTerms: number
}

/** The context every adapter call receives when no `context` option is given. */
export interface DefaultContext<P = unknown> {
  /** What `authenticate` returned (undefined with `authenticate: 'none'`). */
  principal: P
  /** `principal.tenant` when it is a string. */
  tenant?: string
}

/**
 * Options of `scimRouter()`.
 * @typeParam Ctx - the per-request context handed to every adapter call.
 * @typeParam P - the principal `authenticate` resolves to.
 */
export interface ScimRouterOptions<Ctx = DefaultContext, P = unknown> {
  /**
   * Authenticates every request (RFC 7644 §2). Required: pass `bearerToken(...)`, your own
   * function, or the string `'none'` to deliberately serve without authentication (e.g. behind a
   * gateway). A falsy result is 401; a thrown `ScimError` is answered as it is; anything else
   * thrown (the credential could not be checked) is 503 with `Retry-After`.
   */
  authenticate: Authenticate<P> | 'none'
  /** Builds the adapter context from the request and principal. Default: `{ principal, tenant: principal.tenant }`. */
  context?: (req: IncomingMessage, principal: P) => Ctx | Promise<Ctx>
  /**
   * Absolute base URL the router is reachable at, e.g. `https://app.example.com/scim/v2`. Used for
   * `meta.location`, `Location` and `$ref`. Default: derived from the request's Host header and mount path.
   */
  baseUrl?: string
  /** Derive the base URL from `X-Forwarded-Proto`/`X-Forwarded-Host` (only without `baseUrl`). Default false. */
  trustProxy?: boolean
  /**
   * Domains a User's `userName` and `emails[].value` may have (case-insensitive, exact). A write
   * of a value outside them is 400 `invalidValue`; values a User already had are left alone.
   * Default: any. Usually set per connection (`Connections` settings).
   */
  allowedEmailDomains?: string[]
  /**
   * The most Users one tenant may have; a create beyond it is 403 (RFC 7644 §3.12). Every stored
   * User counts, active or not. Creates of one tenant are serialised in this router so concurrent
   * ones never overshoot; several instances over one database may (README "Per-connection
   * settings"). Default: no cap. Usually set per connection.
   */
  seatCap?: number
  /**
   * Per-request overrides of `strict`, `groupPatchResponse`, `allowedEmailDomains` and `seatCap`,
   * read from the authenticated principal. Default: what the authenticate function provides
   * (`connectionAuth` gives each connection's stored settings), else none.
   */
  settings?: (principal: P) => RequestSettings | undefined
  /** Page size when the client sends no `count` (RFC 7644 §3.4.2.4). Default 100. */
  defaultPageSize?: number
  /** Largest page ever returned; larger `count`s are clamped (RFC 7644 §3.4.2.4). Default 100. */
  maxPageSize?: number
  /** Maximum request body size in bytes. Default 1 MiB. */
  maxBodyBytes?: number
  /**
   * Answer strictly per RFC where IdPs deviate from it (README "IdP compatibility"): no
   * `"True"`/`"False"` booleans, no object where an array is expected. Default false.
   */
  strict?: boolean
  /** Reject unknown attributes and bodies without `schemas` (RFC 7643 §3). Default false. */
  strictSchema?: boolean
  /** Enforce case-insensitive uniqueness of Group `displayName` (Entra requires it, per Microsoft's SCIM tutorial). Default true. */
  groupDisplayNameUnique?: boolean
  /** Serve discovery endpoints without authentication (RFC 7643 §5). Default true. */
  publicDiscovery?: boolean
  /** `documentationUri` of `/ServiceProviderConfig`. */
  documentationUri?: string
  /** `authenticationSchemes` of `/ServiceProviderConfig`. Default: taken from `bearerToken()`, else bearer. */
  authenticationSchemes?: AuthenticationScheme[]
  /** Extra schema extensions (RFC 7643 §3.3). */
  extensions?: ExtensionRegistration[]
  /** Extra resource types (RFC 7643 §3.2). */
  resourceTypes?: ResourceTypeRegistration[]
  /**
   * Status of a successful Group PATCH without `attributes`/`excludedAttributes` (RFC 7644 §3.5.2):
   * 204, as Entra asks, or 200 with the Group. Default 204.
   */
  groupPatchResponse?: 200 | 204
  /** Attribute paths a PUT keeps when omitted (RFC 7644 §3.5.1). `active` and `password` always are. */
  putPreserve?: string[]
  /** Keep Group `members` when a PUT omits them (RFC 7644 §3.5.1). Default false: omitted means none. */
  preserveMembersOnPut?: boolean
  /** Attribute paths that may not appear in a GET filter, `GET {base}/` included (403 sensitive, RFC 7644 §7.5.2). Default none. */
  sensitiveFilterAttributes?: string[]
  /** Filter limits. */
  filterLimits?: Partial<FilterLimits>
  /**
   * Lifecycle events (user created/updated/deactivated/reactivated/deleted/deprovisioned, group
   * created/updated/deleted, members added/removed), fired after each committed change.
   */
  onEvent?: EventHandler<Ctx>
  /**
   * Wait for `onEvent` before answering (default true), so an app can revoke a deprovisioned
   * user's sessions before the IdP hears "done". False: deliver in the background.
   */
  awaitEvents?: boolean
  /**
   * With `awaitEvents`, the most milliseconds one request waits for `onEvent` before answering
   * anyway (the handler keeps running; its failure is logged on `scim:events`). The change is
   * committed by then, so a slow or hanging handler never turns it into an error. Default 5000.
   */
  eventTimeout?: number
  /**
   * Durable delivery, for an adapter with an outbox (`ScimAdapter.outbox`): retries, backoff,
   * leases, dead events, retention, and the context of redelivered events. Ignored otherwise.
   */
  eventDelivery?: EventDeliveryOptions<Ctx>
  /**
   * Serve `/Me` (RFC 7644 §3.11): map the authenticated principal to the id of its User, or null
   * when it has none (404). Without this option `/Me` answers 501.
   */
  me?: (principal: P, ctx: Ctx) => string | null | undefined | Promise<string | null | undefined>
  /**
   * Key that signs RFC 9865 cursors. Give every instance behind one load balancer the same value;
   * default: random per router (cursors then only work on the instance that issued them).
   */
  cursorSecret?: string | Buffer
  /** Seconds a cursor stays valid between page requests (`cursorTimeout`). Default 600. */
  cursorTimeout?: number
  /** Most operations in one PATCH request; more is 400 tooMany. Default 1000. */
  maxPatchOperations?: number
  /**
   * Milliseconds of storage work one request may take (Okta gives up after 60 s, per Okta's SCIM
   * FAQ). Every adapter call gets an `AbortSignal` that aborts at this deadline. When nothing has
   * committed by then (after a grace of at most 2 s for an aborted write to settle), the answer is
   * 503 with `Retry-After` and nothing was changed; once a write committed, the answer is its
   * success response. A Bulk request stops at the deadline and answers 200 with what was done,
   * each operation not attempted reported as status 503 (RFC 7644 §3.7.3). Default 30000.
   */
  adapterTimeout?: number
  /** Enable `POST /Bulk` (RFC 7644 §3.7). Default off (501). */
  bulk?: boolean | { maxOperations?: number; maxPayloadSize?: number }
  /**
   * Most resources the router scans when it evaluates a filter the adapter cannot
   * (`canFilter` false), or merges in memory for a sorted root query (RFC 7644 §3.4.2.1); beyond
   * it the query is answered 400 tooMany. Default 10000.
   */
  scanLimit?: number
  /**
   * Record every SCIM request in a request log (README "The request log"): time, tenant,
   * connection, IdP, method, path, status, `scimType`, duration, resources touched, correlation id
   * (`X-Request-Id`, accepted and echoed), and the bodies redacted (passwords, tokens,
   * `Authorization` and `sensitiveAttributes` are never stored). Written after the answer, in
   * batches; a failing store never fails a request. A bare {@link RequestLog} is `{ store }`.
   */
  requestLog?: RequestLog | RequestLogOptions<Ctx>
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  baseUrl: string | undefined
  trustProxy: boolean
  defaultPageSize: number
  maxPageSize: number
  maxBodyBytes: number
  strict: boolean
  strictSchema: boolean
  groupDisplayNameUnique: boolean
  publicDiscovery: boolean
  documentationUri: string | undefined
  /** Paths a PUT keeps when omitted: `active`, `password`, `putPreserve`, and `members` with `preserveMembersOnPut`. */
  putPreserve: ReadonlySet<string>
  groupPatchResponse: 200 | 204
  /** Lower-cased; undefined: any domain. */
  allowedEmailDomains: readonly string[] | undefined
  seatCap: number | undefined
  sensitiveFilterAttributes: string[]
  filterLimits: FilterLimits
  scanLimit: number
  awaitEvents: boolean
  eventTimeout: number
  cursorSecret: string | Buffer | undefined
  cursorTimeout: number
  maxPatchOperations: number
  adapterTimeout: number
  bulk: { maxOperations: number; maxPayloadSize: number } | undefined
}

function positiveInt(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`scimRouter options: ${name} must be a positive integer`)
  }
  return value
}

function resolveBulk(bulk: ScimRouterOptions<unknown, unknown>['bulk']): ResolvedOptions['bulk'] {
  if (bulk === undefined || bulk === false) return undefined
  const o = bulk === true ? {} : bulk
  return {
    maxOperations: positiveInt('bulk.maxOperations', o.maxOperations, 1000),
    maxPayloadSize: positiveInt('bulk.maxPayloadSize', o.maxPayloadSize, 1048576),
  }
}

/** Apply defaults and validate; throws a TypeError naming the bad option. */
export function resolveOptions(options: ScimRouterOptions<unknown, unknown>): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('scimRouter(adapter, options): options are required')
  if (options.authenticate === undefined) {
    throw new TypeError(
      "scimRouter options: 'authenticate' is required. Use bearerToken(token), your own function, or authenticate: 'none' to serve without authentication on purpose.",
    )
  }
  if (options.authenticate !== 'none' && typeof options.authenticate !== 'function') {
    throw new TypeError("scimRouter options: 'authenticate' must be a function or 'none'")
  }
  for (const name of ['onEvent', 'me', 'settings'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`scimRouter options: '${name}' must be a function`)
  }
  if (options.context !== undefined && typeof options.context !== 'function') {
    throw new TypeError("scimRouter options: 'context' must be a function")
  }
  let baseUrl: string | undefined
  if (options.baseUrl !== undefined) {
    let parsed: URL
    try {
      parsed = new URL(options.baseUrl)
    } catch {
      throw new TypeError(`scimRouter options: baseUrl '${options.baseUrl}' is not an absolute URL`)
    }
    if (parsed.search || parsed.hash) throw new TypeError('scimRouter options: baseUrl must not have a query or fragment')
    baseUrl = options.baseUrl.replace(/\/+$/, '')
  }
  const policy = checkRequestSettings({ ...(options.allowedEmailDomains !== undefined ? { allowedEmailDomains: options.allowedEmailDomains } : {}), ...(options.seatCap !== undefined ? { seatCap: options.seatCap } : {}) }, 'scimRouter options')
  const maxPageSize = positiveInt('maxPageSize', options.maxPageSize, 100)
  const defaultPageSize = Math.min(positiveInt('defaultPageSize', options.defaultPageSize, 100), maxPageSize)
  return {
    baseUrl,
    trustProxy: options.trustProxy === true,
    defaultPageSize,
    maxPageSize,
    maxBodyBytes: positiveInt('maxBodyBytes', options.maxBodyBytes, 1024 * 1024),
    strict: options.strict === true,
    strictSchema: options.strictSchema === true,
    groupDisplayNameUnique: options.groupDisplayNameUnique !== false,
    publicDiscovery: options.publicDiscovery !== false,
    documentationUri: options.documentationUri,
    groupPatchResponse: options.groupPatchResponse === 200 ? 200 : 204,
    allowedEmailDomains: policy.allowedEmailDomains,
    seatCap: policy.seatCap,
    putPreserve: new Set(['active', 'password', ...(options.putPreserve ?? []), ...(options.preserveMembersOnPut === true ? ['members'] : [])]),
    sensitiveFilterAttributes: options.sensitiveFilterAttributes ?? [],
    filterLimits: {
      maxLength: positiveInt('filterLimits.maxLength', options.filterLimits?.maxLength, 4096),
      maxDepth: positiveInt('filterLimits.maxDepth', options.filterLimits?.maxDepth, 32),
      maxTerms: positiveInt('filterLimits.maxTerms', options.filterLimits?.maxTerms, 200),
    },
    scanLimit: positiveInt('scanLimit', options.scanLimit, 10000),
    awaitEvents: options.awaitEvents !== false,
    eventTimeout: positiveInt('eventTimeout', options.eventTimeout, 5000),
    cursorSecret: options.cursorSecret,
    cursorTimeout: positiveInt('cursorTimeout', options.cursorTimeout, 600),
    maxPatchOperations: positiveInt('maxPatchOperations', options.maxPatchOperations, 1000),
    adapterTimeout: positiveInt('adapterTimeout', options.adapterTimeout, 30000),
    bulk: resolveBulk(options.bulk),
  }
}
