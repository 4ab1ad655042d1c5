/**
 * `scimRouter()`: compiles options, schemas and adapter checks once, and returns a plain
 * `(req, res, next)` middleware that mounts unchanged in Express 4, Express 5 and Connect, at the
 * root or under any prefix. It owns every path below its mount point and has a single error
 * boundary: a `ScimError` becomes its envelope, anything else a generic 500 (cause logged).
 * @module
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import createDebug from 'debug'
import { assertAdapter, type ScimAdapter, type UniqueConstraint } from './adapter'
import { AUTH_SCHEME, BEARER_SCHEME, CHALLENGE, type AuthenticationScheme } from './auth'
import { InternalServerError, NotFoundError, NotImplementedError, ServiceUnavailableError, UnauthorizedError, isScimError } from './errors'
import { runWithDeadline } from './deadline'
import { EventDelivery, resolveDelivery, type EventDeliveryOptions, type ScimEvents } from './delivery'
import type { EventHandler } from './events'
import { discovery } from './handlers/discovery'
import { createResource } from './handlers/create'
import { deleteResource } from './handlers/delete'
import { getResource } from './handlers/get'
import { listResources, parseSearchRequest, queryParams, searchResources } from './handlers/list'
import { replaceResource } from './handlers/replace'
import { rootQuery } from './handlers/root'
import { patchResource } from './handlers/patch'
import { readJsonBody, requireObject } from './http/body'
import { assertCleanJson, assertCleanString } from './http/strings'
import { CursorCodec } from './cursor'
import { compileResourceValidator } from './validation/resource-schema'
import { send } from './http/respond'
import { runBulk } from './handlers/bulk'
import { resolveOptions, type DefaultContext, type ScimRouterOptions, type SchemaInput } from './options'
import {
  enterpriseUserSchema,
  groupResourceType,
  groupSchema,
  userResourceType,
  userSchema,
} from './schema/core-schemas'
import { createRegistry, type CompiledResourceType } from './schema/registry'
import type { RenderContext } from './schema/render'
import { defineAttribute, type ResourceTypeDefinition, type SchemaDefinition } from './schema/types'
import type { Call, Reply, Service } from './service'
import { REQUEST_SETTINGS, checkRequestSettings, type RequestSettings } from './settings'
import { RequestRecorder, type RequestLogControl, type RequestLogOptions, type RequestTrace } from './request-log/recorder'
import type { RequestLog } from './request-log/types'

const log = createDebug('scim:router')
const logError = createDebug('scim:error')

/** A Connect/Express-compatible middleware. */
export type ScimMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void

/** What `scimRouter()` returns: the middleware, plus its event API ({@link ScimEvents}: feed, redelivery, dispatcher). */
export type ScimRouter<Ctx = unknown> = ScimMiddleware & {
  /** Durable events: the feed, dead-letter redelivery, retention, and the dispatcher's start/stop. */
  readonly events: ScimEvents<Ctx>
  /**
   * Run one operation on a resource endpoint in process, without HTTP or authentication, through
   * exactly the code an HTTP request runs: validation, the write path (compare-and-swap, retries)
   * and lifecycle events (recorded in the outbox with the change, delivered to `onEvent`). For
   * jobs of the app itself, e.g. `Decommissioner` deprovisioning a connection's users.
   * @returns the status, body and headers an HTTP client would get.
   * @throws ScimError where an HTTP client would get that error response; TypeError for a bad method.
   */
  execute(operation: ScimOperation<Ctx>): Promise<ScimOperationResult>
  /** With the `requestLog` option: flush and prune the request log (see {@link RequestLogControl}). */
  readonly requestLog?: RequestLogControl
}

/** An operation for {@link ScimRouter.execute}. */
export interface ScimOperation<Ctx = unknown> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Path below the router's mount point, with its query: `/Users/42`, `/Users?count=10`. */
  path: string
  /** The JSON body of POST/PUT/PATCH. */
  body?: unknown
  /** The adapter context (tenant), as `options.context` would build it for a request. */
  ctx: Ctx
  /** The principal handlers see; default undefined. */
  principal?: unknown
  /** Router options this operation overrides. */
  settings?: RequestSettings
  /** Base URL of `meta.location` in answers and events. Default: the `baseUrl` option, else `http://localhost`. */
  baseUrl?: string
}

/** What {@link ScimRouter.execute} answers. */
export interface ScimOperationResult {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

const DISCOVERY = new Set(['ServiceProviderConfig', 'ResourceTypes', 'Schemas'])
/**
 * Fixed endpoint names by lower-cased spelling (matched case-insensitively, as the Microsoft
 * reference collection sends `GET /users`), with two aliases: the SCIM 1.1 plural
 * (Okta's on-premises agent) and the reference collection's `serviceConfiguration`.
 */
const FIXED_ENDPOINTS = new Map(
  [
    ...[...DISCOVERY, 'Bulk', 'Me', '.search'].map((name) => [name, name] as const),
    ['ServiceProviderConfigs', 'ServiceProviderConfig'] as const,
    ['serviceConfiguration', 'ServiceProviderConfig'] as const,
  ].map(([spelling, name]) => [spelling.toLowerCase(), name]),
)

/**
 * The canonical spelling of the endpoint segment `head` (RFC 7644 §3.2), or `head` unchanged when it
 * names no endpoint. Only endpoint names are folded; ids stay case-exact (RFC 7643 §3.1).
 */
function canonicalEndpoint(svc: Service, head: string): string {
  return FIXED_ENDPOINTS.get(head.toLowerCase()) ?? svc.registry.bySegment(head)?.segment ?? head
}

function toSchema(input: SchemaInput): SchemaDefinition {
  if (typeof input?.id !== 'string' || !/^urn:[^\s]+$/i.test(input.id)) {
    throw new TypeError(`scimRouter options: schema id '${String(input?.id)}' must be a URN`)
  }
  return {
    id: input.id,
    name: input.name ?? input.id.split(':').pop() ?? input.id,
    description: input.description ?? '',
    attributes: (input.attributes ?? []).map(defineAttribute),
  }
}

function buildService(adapter: ScimAdapter<unknown>, options: ScimRouterOptions<unknown, unknown>): Service {
  const resolved = resolveOptions(options)
  const schemas: SchemaDefinition[] = [userSchema, groupSchema, enterpriseUserSchema]
  const types: ResourceTypeDefinition[] = [
    { ...userResourceType, schemaExtensions: [...userResourceType.schemaExtensions] },
    { ...groupResourceType, schemaExtensions: [] },
  ]
  for (const rt of options.resourceTypes ?? []) {
    const schema = toSchema(rt.schema)
    schemas.push(schema)
    types.push({ name: rt.name, endpoint: rt.endpoint, description: rt.description ?? rt.name, schema: schema.id, schemaExtensions: [] })
  }
  for (const ext of options.extensions ?? []) {
    const schema = toSchema(ext.schema)
    const target = types.find((t) => t.name.toLowerCase() === String(ext.resourceType).toLowerCase())
    if (!target) throw new TypeError(`scimRouter options: extension ${schema.id} names unknown resource type '${ext.resourceType}'`)
    const core = schemas.find((s) => s.id === target.schema)
    const clash = schema.attributes.find((a) => core?.attributes.some((c) => c.name.toLowerCase() === a.name.toLowerCase()))
    if (clash) throw new TypeError(`scimRouter options: extension ${schema.id} redefines core attribute '${clash.name}' (EXT-020)`)
    schemas.push(schema)
    target.schemaExtensions.push({ schema: schema.id, required: ext.required === true })
  }
  let registry
  try {
    registry = createRegistry(schemas, types)
  } catch (err) {
    throw new TypeError(`scimRouter options: ${(err as Error).message}`)
  }
  const unique = new Map<string, UniqueConstraint[]>()
  for (const rt of registry.resourceTypes) {
    const list: UniqueConstraint[] = []
    for (const info of rt.ordered) {
      if (info.common) continue
      const isUnique =
        info.def.uniqueness !== 'none' || (rt.name === 'Group' && info.def.name === 'displayName' && resolved.groupDisplayNameUnique)
      if (isUnique && info.def.type === 'string' && !info.def.multiValued) list.push({ path: info.path, caseExact: info.def.caseExact })
    }
    unique.set(rt.name, list)
  }
  const marked = options.authenticate !== 'none' ? (options.authenticate as unknown as Record<symbol, unknown>)[AUTH_SCHEME] : undefined
  const authenticationSchemes: AuthenticationScheme[] = options.authenticationSchemes ?? [(marked as AuthenticationScheme | undefined) ?? BEARER_SCHEME]
  return {
    adapter,
    options: resolved,
    registry,
    unique,
    segments: new Map(registry.resourceTypes.map((rt) => [rt.name, rt.segment])),
    authenticationSchemes,
    patchSupported: true,
    delivery: new EventDelivery(
      adapter.outbox,
      options.onEvent as EventHandler<unknown> | undefined,
      resolveDelivery(options.eventDelivery as EventDeliveryOptions<unknown> | undefined),
      resolved.awaitEvents ? resolved.eventTimeout : false,
    ),
    validators: new Map(registry.resourceTypes.map((rt) => [rt.name, compileResourceValidator(rt)])),
    cursor: adapter.listByCursor ? new CursorCodec(resolved.cursorSecret, resolved.cursorTimeout) : undefined,
    seatLocks: new Map(),
  }
}

/** How the router reads per-request settings from a principal: the option, else the authenticate function's mark. */
function settingsReader(options: ScimRouterOptions<unknown, unknown>): ((principal: unknown) => RequestSettings | undefined) | undefined {
  if (options.settings) return options.settings
  const marked = options.authenticate !== 'none' ? (options.authenticate as unknown as Record<symbol, unknown>)[REQUEST_SETTINGS] : undefined
  return typeof marked === 'function' ? (marked as (principal: unknown) => RequestSettings | undefined) : undefined
}

/** The service with `settings` overriding its options, for one request. */
function withSettings(svc: Service, settings: RequestSettings | undefined): Service {
  if (!settings) return svc
  const s = checkRequestSettings(settings, 'request settings')
  if (Object.keys(s).length === 0) return svc
  const options = { ...svc.options }
  if (s.strict !== undefined) options.strict = s.strict
  if (s.groupPatchResponse !== undefined) options.groupPatchResponse = s.groupPatchResponse
  if (s.allowedEmailDomains !== undefined) options.allowedEmailDomains = s.allowedEmailDomains
  if (s.seatCap !== undefined) options.seatCap = s.seatCap
  return { ...svc, options }
}

/** Split `/a/b%2Fc/` into decoded segments; a trailing slash is accepted. */
function splitPath(url: string): { segments: string[]; query: URLSearchParams } | undefined {
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
  const parts = path.split('/').filter((p) => p !== '')
  try {
    return { segments: parts.map((p) => decodeURIComponent(p)), query }
  } catch {
    return undefined
  }
}

function baseUrlOf(svc: Service, req: IncomingMessage): string {
  if (svc.options.baseUrl) return svc.options.baseUrl
  const headers = req.headers
  const forwarded = (name: string): string | undefined => {
    const v = headers[name]
    return svc.options.trustProxy && typeof v === 'string' ? (v.split(',')[0] ?? '').trim() || undefined : undefined
  }
  const proto = forwarded('x-forwarded-proto') ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http')
  const host = forwarded('x-forwarded-host') ?? headers.host ?? 'localhost'
  // Mount path: Express keeps it in req.baseUrl; Connect only in originalUrl minus url.
  const r = req as IncomingMessage & { originalUrl?: string; baseUrl?: string }
  let mount = typeof r.baseUrl === 'string' ? r.baseUrl : ''
  if (!mount && typeof r.originalUrl === 'string' && r.url !== undefined) {
    const strip = (u: string): string => u.split('?')[0] ?? ''
    const full = strip(r.originalUrl)
    const rest = strip(r.url)
    mount = rest !== '/' && full.endsWith(rest) ? full.slice(0, full.length - rest.length) : full.replace(/\/$/, '')
  }
  return `${proto}://${host}${mount}`.replace(/\/+$/, '')
}

function notImplemented(allow: string, detail?: string): NotImplementedError {
  return new NotImplementedError(detail ?? 'This endpoint does not support the request method', { headers: { Allow: allow } })
}

async function authenticate(
  options: ScimRouterOptions<unknown, unknown>,
  req: IncomingMessage,
): Promise<unknown> {
  if (options.authenticate === 'none') return undefined
  let principal: unknown
  try {
    principal = await options.authenticate(req)
  } catch (err) {
    if (isScimError(err)) throw err
    // The credential was not judged: its backend failed (AUTH-001 "throws", IDP-004). A 401 would
    // make the IdP treat a good credential as revoked; 503 makes it retry.
    throw new ServiceUnavailableError(5, 'Authentication is temporarily unavailable; retry later', { cause: err })
  }
  if (principal === null || principal === undefined || principal === false) {
    const challenge = (options.authenticate as unknown as Record<symbol, unknown>)[CHALLENGE]
    throw new UnauthorizedError(undefined, typeof challenge === 'string' ? { headers: { 'WWW-Authenticate': challenge } } : undefined)
  }
  return principal
}

/** Methods whose requests carry a JSON body we read. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])

/**
 * Run one operation on a resource endpoint: `/{Type}`, `/{Type}/{id}`, `/{Type}/.search`. Shared by
 * HTTP requests and `/Bulk` operations, so both behave identically (RFC 7644 §3.7).
 */
export async function execute(svc: Service, method: string, segments: readonly string[], call: Call): Promise<Reply> {
  const head = segments[0] as string
  const rt: CompiledResourceType | undefined = svc.registry.bySegment(head) // case-insensitive (EP-002)
  if (!rt) throw new NotFoundError(`Unknown endpoint '/${head}'`)
  const id = segments[1]
  if (segments.length > 2) throw new NotFoundError('Unknown endpoint')
  if (id !== undefined) assertCleanString(id, 'The resource id in the path')
  if (id === undefined) {
    if (method === 'GET' || method === 'HEAD') return listResources(svc, call, rt)
    if (method === 'POST') return createResource(svc, call, rt)
    throw notImplemented('GET, POST')
  }
  if (id.toLowerCase() === '.search') {
    if (method === 'POST') return searchResources(svc, call, rt)
    throw notImplemented('POST')
  }
  switch (method) {
    case 'GET':
    case 'HEAD':
      return getResource(svc, call, rt, id)
    case 'PUT':
      return replaceResource(svc, call, rt, id)
    case 'PATCH':
      return patchResource(svc, call, rt, id)
    case 'DELETE':
      return deleteResource(svc, call, rt, id)
    default:
      throw notImplemented('GET, PUT, PATCH, DELETE')
  }
}

/** Write an answer (http/respond.ts) and tell the request log, when there is one. */
function reply(res: ServerResponse, trace: RequestTrace | undefined, status: number, body: unknown, headers?: Readonly<Record<string, string>>): void {
  send(res, status, body, headers)
  trace?.end(status, body)
}

async function dispatch(
  base: Service,
  options: ScimRouterOptions<unknown, unknown>,
  readSettings: ((principal: unknown) => RequestSettings | undefined) | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  trace?: RequestTrace,
): Promise<void> {
  let svc = base
  const split = splitPath(req.url ?? '/')
  if (!split) throw new NotFoundError('Malformed request path')
  const { query } = split
  const segments = split.segments
  if (segments[0] !== undefined) segments[0] = canonicalEndpoint(svc, segments[0])
  if (trace) trace.segments = segments
  const method = (req.method ?? 'GET').toUpperCase()
  const head = segments[0]
  const isDiscovery = head !== undefined && DISCOVERY.has(head)
  const principal = isDiscovery && svc.options.publicDiscovery ? undefined : await authenticate(options, req)
  if (readSettings && principal !== undefined) svc = withSettings(svc, readSettings(principal))
  if (trace) {
    trace.principal = principal
    trace.authenticated = !(isDiscovery && svc.options.publicDiscovery)
  }
  const render: RenderContext = { baseUrl: baseUrlOf(svc, req), segments: svc.segments }

  if (isDiscovery) {
    if (method !== 'GET' && method !== 'HEAD') throw notImplemented('GET')
    if (segments.length > 2) throw new NotFoundError('Unknown endpoint')
    reply(res, trace, 200, discovery(svc, segments, query, render))
    return
  }
  const isRoot = head === undefined || (head === '.search' && segments.length === 1)
  if (isRoot) {
    if (head === undefined && method !== 'GET' && method !== 'HEAD') throw notImplemented('GET')
    if (head === '.search' && method !== 'POST') throw notImplemented('POST')
  }
  if (head === 'Bulk' && !svc.options.bulk) throw notImplemented('POST', 'Bulk operations are not enabled on this service provider (RFC 7644 §3.7)')
  if (head === 'Me' && !options.me) throw new NotImplementedError('/Me is not configured on this service provider (RFC 7644 §3.11)')
  if (!isRoot && head !== 'Bulk' && head !== 'Me' && !svc.registry.bySegment(head as string)) throw new NotFoundError(`Unknown endpoint '/${head}'`)

  const ctx = options.context ? await options.context(req, principal) : defaultContext(principal)
  if (trace) trace.ctx = ctx
  let body: unknown
  if (BODY_METHODS.has(method)) {
    const limit = head === 'Bulk' && svc.options.bulk ? svc.options.bulk.maxPayloadSize : svc.options.maxBodyBytes
    body = await readJsonBody(req, limit, head === 'Bulk' ? 'maxPayloadSize' : undefined)
    // One rule for every store: no U+0000 or unpaired surrogate in any string (400 invalidValue).
    if (trace) trace.body = body
    if (body !== undefined) assertCleanJson(body, 'request body')
  }
  // AUTH-008: storage work is bounded by adapterTimeout; a 503 only while nothing has committed.
  const answer = await runWithDeadline(svc.options.adapterTimeout, (deadline) => {
    const call: Call = { query, headers: req.headers, body, ctx, principal, render, deadline }
    return route(svc, options, method, isRoot, segments, call)
  })
  reply(res, trace, answer.status, answer.body, answer.headers)
}

/** Run the request on the endpoint it names (after authentication and body reading). */
function route(
  svc: Service,
  options: ScimRouterOptions<unknown, unknown>,
  method: string,
  isRoot: boolean,
  segments: readonly string[],
  call: Call,
): Promise<Reply> {
  const head = segments[0]
  if (isRoot) {
    if (head === undefined) return rootQuery(svc, call, queryParams(call.query), true)
    return rootQuery(svc, call, parseSearchRequest(requireObject(call.body)), false)
  }
  if (head === 'Bulk') {
    if (method !== 'POST' || segments.length > 1) throw notImplemented('POST')
    return runBulk(svc, call, (m, segs, c) => execute(svc, m, segs, c))
  }
  if (head === 'Me') return me(svc, options, method, segments, call)
  return execute(svc, method, segments, call)
}

/** /Me (RFC 7644 §3.11): the authenticated principal's own User, served in place. */
async function me(svc: Service, options: ScimRouterOptions<unknown, unknown>, method: string, segments: readonly string[], call: Call): Promise<Reply> {
  if (segments.length > 1) throw new NotFoundError('Unknown endpoint')
  if (method === 'POST') throw notImplemented('GET, PUT, PATCH, DELETE', 'Creating a resource through /Me is not supported')
  const id = await (options.me as NonNullable<typeof options.me>)(call.principal, call.ctx)
  if (typeof id !== 'string' || id === '') throw new NotFoundError('The authenticated subject has no User resource')
  const users = svc.registry.byName('User')
  if (!users) throw new NotFoundError('Unknown endpoint')
  return execute(svc, method, [users.segment, id], call)
}

/** {@link ScimRouter.execute}: one operation on a resource endpoint (no discovery, Bulk or /Me). */
async function executeOperation(svc: Service, op: ScimOperation<unknown>): Promise<ScimOperationResult> {
  const method = String(op?.method ?? '').toUpperCase()
  if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw new TypeError(`execute(): unsupported method '${String(op?.method)}'`)
  const split = splitPath(typeof op.path === 'string' ? op.path : '')
  if (!split || split.segments.length === 0) throw new NotFoundError('Malformed request path')
  const segments = split.segments
  segments[0] = canonicalEndpoint(svc, segments[0] as string)
  if (!svc.registry.bySegment(segments[0] as string)) throw new NotFoundError(`Unknown endpoint '/${segments[0]}'`)
  if (op.body !== undefined) assertCleanJson(op.body, 'request body')
  const baseUrl = typeof op.baseUrl === 'string' ? op.baseUrl.replace(/\/+$/, '') : (svc.options.baseUrl ?? 'http://localhost')
  const render: RenderContext = { baseUrl, segments: svc.segments }
  return runWithDeadline(svc.options.adapterTimeout, (deadline) =>
    execute(svc, method, segments, { query: split.query, headers: {}, body: op.body, ctx: op.ctx, principal: op.principal, render, deadline }),
  )
}

function defaultContext(principal: unknown): DefaultContext {
  const tenant = (principal as { tenant?: unknown } | null | undefined)?.tenant
  return typeof tenant === 'string' ? { principal, tenant } : { principal }
}

function respondError(res: ServerResponse, err: unknown, trace?: RequestTrace): void {
  if (isScimError(err)) {
    if (err.status >= 500) logError('%s: %O', err.code, err.cause ?? err)
    else log('%d %s: %s', err.status, err.code, err.message)
    reply(res, trace, err.status, err.toErrorEnvelope(), err.headers)
    return
  }
  // With a request log, the 500's correlation id is the request's (X-Request-Id, the log entry).
  const correlationId = trace?.correlationId ?? randomUUID()
  logError('unexpected error %s: %O', correlationId, err)
  const wrapped = new InternalServerError(`Internal server error (correlation id ${correlationId})`)
  reply(res, trace, 500, wrapped.toErrorEnvelope())
}

/** The request recorder of the `requestLog` option (a bare store is `{ store }`). */
function requestRecorder(option: RequestLog | RequestLogOptions<unknown> | undefined): RequestRecorder | undefined {
  if (option === undefined) return undefined
  if (typeof option !== 'object' || option === null) throw new TypeError('scimRouter options: requestLog must be a RequestLog or { store, ... }')
  return new RequestRecorder(typeof (option as RequestLog).append === 'function' ? { store: option as RequestLog } : (option as RequestLogOptions<unknown>))
}

/**
 * Create the SCIM 2.0 service provider middleware.
 *
 * @param adapter - storage adapter (see {@link ScimAdapter}; {@link MemoryAdapter} is the reference).
 * @param options - see {@link ScimRouterOptions}; `authenticate` is required.
 * @returns a `(req, res, next)` middleware for Express 4, Express 5 or Connect, with `.events`
 *   ({@link ScimEvents}). With an outbox adapter and `onEvent`, the event dispatcher starts now;
 *   `router.events.stop()` stops it.
 * @throws TypeError at once when the adapter or options are invalid.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { scimRouter, MemoryAdapter, bearerToken } from 'scim-router'
 *
 * const app = express()
 * app.use('/scim/v2', scimRouter(new MemoryAdapter(), {
 *   baseUrl: 'https://app.example.com/scim/v2',
 *   authenticate: bearerToken(process.env.SCIM_TOKEN!),
 * }))
 * app.listen(8080)
 * ```
 */
export function scimRouter<Ctx = DefaultContext, P = unknown>(
  adapter: ScimAdapter<Ctx>,
  options: ScimRouterOptions<Ctx, P>,
): ScimRouter<Ctx> {
  assertAdapter(adapter)
  const opts = options as unknown as ScimRouterOptions<unknown, unknown>
  const svc = buildService(adapter as ScimAdapter<unknown>, opts)
  log('router ready: %s', svc.registry.resourceTypes.map((rt) => rt.segment).join(', '))
  const readSettings = settingsReader(opts)
  const recorder = requestRecorder(opts.requestLog as RequestLog | RequestLogOptions<unknown> | undefined)
  const scim: ScimMiddleware = function scim(req, res, _next) {
    const trace = recorder?.begin(req, res)
    dispatch(svc, opts, readSettings, req, res, trace).catch((err: unknown) => respondError(res, err, trace))
  }
  const delivery = svc.delivery
  if (delivery.durable && delivery.options.dispatcher) delivery.start()
  const run = async (op: ScimOperation<Ctx>): Promise<ScimOperationResult> => executeOperation(withSettings(svc, op?.settings), op as ScimOperation<unknown>)
  return Object.assign(scim, { events: delivery as unknown as ScimEvents<Ctx>, execute: run, ...(recorder ? { requestLog: recorder as RequestLogControl } : {}) })
}
