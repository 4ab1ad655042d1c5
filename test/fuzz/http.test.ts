/**
 * Property-based fuzzing of the whole HTTP surface (issue 8 item 4): one router as documented
 * (Express 5 at /scim/v2, MemoryAdapter, bearerToken with two tenants, `bulk: true`) receives
 * random and mutated requests — methods, paths, query strings, headers and bodies.
 *
 * Properties, checked after every request:
 * - no 5xx except 501 (unsupported method/endpoint); no hang (per-request timeout), no crash
 *   (no unhandled rejection or uncaught exception, the server keeps answering);
 * - every error response is a SCIM error envelope whose `status` is the HTTP status, with no stack
 *   trace or internal message; Bulk sub-responses obey the same rules;
 * - `Object.prototype` (and `Array.prototype`, in both realms) is never polluted;
 * - a rejected request (status ≥ 400) leaves the stored data exactly as it was (full snapshot of
 *   /Users and /Groups before and after);
 * - tenant isolation: requests with tenant B's token never change tenant A's snapshot and never
 *   return tenant A's data (A's ids unless the request itself named them; A's secret values never);
 * - list filtering over HTTP returns exactly what the reference evaluator selects.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import express from 'express'
import fc from 'fast-check'
import { MemoryAdapter, bearerToken, parseFilter, scimRouter } from '../../src'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, groups, users } from '../filter/fixtures'
import { GROUPS, USERS, filterGen, refEval, smallString, type Node } from './filter-model'
import { TEST_TIMEOUT_MS, check } from './support'

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error'
const PATCHOP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest'
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest'
const MOUNT = '/scim/v2'
const TIMEOUT_MS = 4000
const TOKENS = { a: 'tok-a', b: 'tok-b' } as const

// =============================================================================== server

type Handler = (req: IncomingMessage, res: ServerResponse) => void
let current: Handler = (_req, res) => res.end()
let server: http.Server
let port = 0
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })

/** A fresh store and router for one property run (the configuration is always the same). */
function freshApp(): void {
  const app = express()
  app.use(
    MOUNT,
    scimRouter(new MemoryAdapter(), {
      authenticate: bearerToken({ [TOKENS.a]: { tenant: 'a' }, [TOKENS.b]: { tenant: 'b' } }),
      bulk: true,
      maxPageSize: 1000,
    }),
  )
  current = app as unknown as Handler
}

const crashes: unknown[] = []
const onCrash = (err: unknown): void => {
  crashes.push(err)
}

beforeAll(async () => {
  process.on('unhandledRejection', onCrash)
  process.on('uncaughtException', onCrash)
  server = http.createServer((req, res) => current(req, res))
  server.on('clientError', (err, socket) => {
    crashes.push(new Error(`clientError (the generator sent invalid HTTP): ${String(err)}`))
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  process.off('unhandledRejection', onCrash)
  process.off('uncaughtException', onCrash)
  agent.destroy()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

// =============================================================================== client

interface Req {
  method: string
  /** Path below the mount point, with placeholders. */
  path: string
  headers: Record<string, string>
  body?: string | Buffer
}

interface Res {
  status: number
  headers: http.IncomingHttpHeaders
  text: string
}

function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Res> {
  // Frame every body explicitly: Node's client does not chunk GET/DELETE/OPTIONS bodies by default.
  if (body !== undefined) headers = { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: MOUNT + path, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') })
      })
      res.on('error', reject)
    })
    const timer = setTimeout(() => {
      req.destroy()
      reject(new Error(`no response within ${TIMEOUT_MS} ms (hang): ${method} ${path.slice(0, 200)}`))
    }, TIMEOUT_MS)
    req.on('error', (err) => {
      clearTimeout(timer)
      reject(new Error(`request failed (server crashed or reset the connection): ${method} ${path.slice(0, 200)}: ${String(err)}`))
    })
    if (body !== undefined) req.end(body)
    else req.end()
  })
}

const auth = (tenant: 'a' | 'b'): Record<string, string> => ({ Authorization: `Bearer ${TOKENS[tenant]}` })

async function post(tenant: 'a' | 'b', path: string, body: unknown): Promise<Record<string, any>> {
  const res = await send('POST', path, { ...auth(tenant), 'Content-Type': 'application/scim+json' }, JSON.stringify(body))
  if (res.status !== 201) throw new Error(`seeding ${path} failed: ${res.status} ${res.text}`)
  return JSON.parse(res.text)
}

// =============================================================================== snapshots and seeds

interface Snapshot {
  text: string
  ids: string[]
  versions: Map<string, string>
  resources: Record<string, any>[]
}

/** Every User and Group of a tenant, fully rendered, in creation order. */
async function snapshot(tenant: 'a' | 'b'): Promise<Snapshot> {
  const out: Snapshot = { text: '', ids: [], versions: new Map(), resources: [] }
  for (const type of ['Users', 'Groups']) {
    const res = await send('GET', `/${type}?count=1000`, auth(tenant))
    if (res.status !== 200) throw new Error(`snapshot GET /${type} failed: ${res.status} ${res.text}`)
    const list = JSON.parse(res.text)
    if (list.totalResults > 1000) throw new Error('snapshot truncated')
    out.text += res.text
    for (const r of list.Resources) {
      out.ids.push(r.id)
      out.versions.set(r.id, String(r.meta.version).replace(/^W\/"|"$/g, ''))
      out.resources.push(r)
    }
  }
  return out
}

/** Placeholder → value, e.g. `{{U0}}` → an id, `{{V:U0}}` → that resource's version. */
type Slots = Map<string, string>

/** Seed a tenant: three users and two groups. `secret` marks values that must never leak. */
async function seed(tenant: 'a' | 'b', secret: string, slots: Slots, prefix: string): Promise<string[]> {
  const u0 = await post(tenant, '/Users', {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    userName: `${secret}-alice@${tenant}.example`,
    externalId: `${secret}-ext-alice`,
    name: { givenName: `${secret}Alice`, familyName: 'Liddell' },
    displayName: `${secret} Alice`,
    emails: [
      { value: `${secret}.alice@${tenant}.example`, type: 'work', primary: true },
      { value: 'alice@home.example', type: 'home' },
    ],
    active: true,
    [ENTERPRISE_USER_SCHEMA]: { employeeNumber: `${secret}-701`, department: 'Tour Operations' },
  })
  const u1 = await post(tenant, '/Users', {
    schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    userName: `${secret}-bob@${tenant}.example`,
    active: false,
    [ENTERPRISE_USER_SCHEMA]: { manager: { value: u0['id'] } },
  })
  const u2 = await post(tenant, '/Users', { schemas: [USER_SCHEMA], userName: `${secret}-carol@${tenant}.example`, title: 'Tour Guide' })
  const g0 = await post(tenant, '/Groups', { schemas: [GROUP_SCHEMA], displayName: `${secret} Guides`, members: [{ value: u0['id'] }, { value: u1['id'] }] })
  const g1 = await post(tenant, '/Groups', { schemas: [GROUP_SCHEMA], displayName: `${secret} Empty` })
  const ids = [u0, u1, u2, g0, g1].map((r) => r['id'] as string)
  ;['U0', 'U1', 'U2', 'G0', 'G1'].forEach((k, i) => slots.set(`${prefix}${k}`, ids[i] as string))
  return ids
}

/** Fill `{{U0}}`-style placeholders, also when percent-encoded inside a query string. */
function fill(text: string, slots: Slots, snap: Snapshot | undefined): string {
  return text.replace(/(?:\{\{|%7B%7B)(V:|V%3A)?([A-Z]{1,2}\d)(?:\}\}|%7D%7D)/gi, (whole, v: string | undefined, key: string) => {
    const id = slots.get(key)
    if (id === undefined) return whole
    return v ? (snap?.versions.get(id) ?? 'unknown') : id
  })
}

// =============================================================================== response checks

const LEAKS: [RegExp, string][] = [
  [/\n\s+at\s/, 'stack trace'],
  [/\bat (?:Object|Module|async|new|process|Array|Function|Promise|Generator|Layer|next|dispatch)[\s.<]/, 'stack frame'],
  [/\b(?:TypeError|ReferenceError|RangeError|EvalError|URIError|AggregateError|SyntaxError)\b/, 'JavaScript error name'],
  [/Cannot (?:read|set) propert/, 'property access error'],
  [/is not (?:a function|iterable|a constructor)\b|\bis not defined(?! for resource type)/, 'JavaScript error message'],
  [/Maximum call stack/, 'stack overflow message'],
  [/Unexpected (?:token|end of JSON|non-whitespace)/, 'JSON.parse message'],
  [/node_modules|\/work\/|[\\/]src[\\/]|\.[cm]?[jt]s:\d+/, 'file path'],
]

function leakIn(text: string): string | undefined {
  for (const [re, what] of LEAKS) if (re.test(text)) return `${what} (${re}) in ${JSON.stringify(text.slice(0, 400))}`
  return undefined
}

const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort().join()
const ARRAY_KEYS = Object.getOwnPropertyNames(Array.prototype).sort().join()
/** Object.prototype of Node's own realm (core modules build objects there, e.g. req.headers). */
const MAIN_OBJECT_PROTO = Object.getPrototypeOf(EventEmitter.prototype) as object
const MAIN_PROTO_KEYS = Object.getOwnPropertyNames(MAIN_OBJECT_PROTO).sort().join()

function polluted(): string | undefined {
  if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== PROTO_KEYS) return 'Object.prototype gained properties'
  if (Object.getOwnPropertyNames(Array.prototype).sort().join() !== ARRAY_KEYS) return 'Array.prototype gained properties'
  if (Object.getOwnPropertyNames(MAIN_OBJECT_PROTO).sort().join() !== MAIN_PROTO_KEYS) return "Object.prototype (Node's realm) gained properties"
  const probe = {} as Record<string, unknown>
  for (const k of ['polluted', 'isAdmin', 'x', 'value', 'a']) if (probe[k] !== undefined) return `({}).${k} is defined`
  return undefined
}

function checkEnvelope(status: number, body: any, where: string): string | undefined {
  if (body === null || typeof body !== 'object') return `${where}: error body is not an object`
  if (!Array.isArray(body.schemas) || body.schemas.length !== 1 || body.schemas[0] !== ERROR) return `${where}: schemas is ${JSON.stringify(body.schemas)}`
  if (body.status !== String(status)) return `${where}: envelope status ${JSON.stringify(body.status)} for HTTP ${status}`
  if (typeof body.detail !== 'string' || body.detail.length === 0) return `${where}: no detail`
  return undefined
}

/** The general response properties; returns a failure description or undefined. */
function problems(method: string, res: Res): string | undefined {
  if (res.status >= 500 && res.status !== 501) return `HTTP ${res.status}: ${res.text.slice(0, 400)}`
  if (res.status < 100 || res.status > 599) return `HTTP ${res.status}`
  const leak = leakIn(res.text)
  if (leak) return `leak: ${leak}`
  const bodyless = method === 'HEAD' || res.status === 204 || res.status === 304
  if (bodyless) return res.text.length > 0 && method !== 'HEAD' ? `HTTP ${res.status} with a body` : undefined
  if (!/^application\/scim\+json/.test(String(res.headers['content-type']))) return `content-type ${res.headers['content-type']} (HTTP ${res.status}): ${res.text.slice(0, 200)}`
  let body: any
  try {
    body = JSON.parse(res.text)
  } catch {
    return `body is not JSON (HTTP ${res.status}): ${res.text.slice(0, 200)}`
  }
  if (res.status >= 400) return checkEnvelope(res.status, body, 'response')
  if (Array.isArray(body?.schemas) && body.schemas.includes('urn:ietf:params:scim:api:messages:2.0:BulkResponse')) {
    for (const [i, op] of (body.Operations ?? []).entries()) {
      const s = Number(op.status)
      if (!Number.isInteger(s)) return `Bulk Operations[${i}].status ${JSON.stringify(op.status)}`
      if (s >= 500 && s !== 501) return `Bulk Operations[${i}] answered ${s}: ${JSON.stringify(op).slice(0, 400)}`
      if (s >= 400) {
        const p = checkEnvelope(s, op.response, `Bulk Operations[${i}]`)
        if (p) return p
      }
    }
  }
  return undefined
}

// =============================================================================== generators

const METHODS = http.METHODS.filter((m) => m !== 'CONNECT')
const method = fc.oneof(
  { weight: 25, arbitrary: fc.constant('GET') },
  { weight: 20, arbitrary: fc.constant('POST') },
  { weight: 12, arbitrary: fc.constant('PUT') },
  { weight: 16, arbitrary: fc.constant('PATCH') },
  { weight: 8, arbitrary: fc.constant('DELETE') },
  { weight: 3, arbitrary: fc.constant('HEAD') },
  { weight: 6, arbitrary: fc.constantFrom(...METHODS) },
)

const ATTR_NAMES = [
  'userName', 'name.givenName', 'emails', 'emails.value', 'emails[type eq "work"].value', 'active', 'meta', 'meta.created', 'id',
  'groups', 'members', 'members.value', 'displayName', 'password', 'schemas', `${ENTERPRISE_USER_SCHEMA}:manager`,
  `${ENTERPRISE_USER_SCHEMA}:manager.value`, ENTERPRISE_USER_SCHEMA, 'urn:ietf:params:scim:schemas:core:2.0:User:userName',
  'USERNAME', 'nonexistent', 'name.', '.x', '__proto__', 'constructor', 'prototype', '__proto__.polluted', 'constructor.prototype',
]

/** Replace lone surrogates (so the text can be percent-encoded). */
function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
}

/** Short random text: ASCII, graphemes, or well-formed code points. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }).map(wellFormed) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 8 }) },
)

const SPECIAL_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']
const KEYS = [
  ...SPECIAL_KEYS, 'schemas', 'userName', 'USERNAME', 'value', 'op', 'path', 'Operations', 'members', 'emails', 'displayName', 'id',
  'meta', 'name', 'active', 'method', 'bulkId', 'data', 'filter', 'count', 'startIndex', 'polluted', ENTERPRISE_USER_SCHEMA,
  `${ENTERPRISE_USER_SCHEMA}:department`,
]
const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) })

/** An object with own keys defined (so `__proto__` stays an own member, as JSON.parse makes it). */
function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  return o
}

const PLACEHOLDERS = ['{{U0}}', '{{U1}}', '{{U2}}', '{{G0}}', '{{G1}}', '{{XU0}}', '{{XG0}}', 'bulkId:u1', 'bulkId:g1']
/**
 * A deeply nested value, carried through generation as a marker string and expanded in the JSON
 * text just before sending (JSON.stringify itself would overflow on such depths).
 */
const deep = fc.tuple(fc.constantFrom('array', 'object'), fc.integer({ min: 500, max: 20_000 })).map(([k, n]) => `\u0000DEEP:${k}:${n}\u0000`)
const DEEP_MARKER = /"\\u0000DEEP:(array|object):(\d+)\\u0000"/g
function materialize(text: string): string {
  return text.replace(DEEP_MARKER, (_, kind: string, n: string) => {
    const k = Number(n)
    return kind === 'array' ? '['.repeat(k) + '"x"' + ']'.repeat(k) : '{"a":'.repeat(k) + '1' + '}'.repeat(k)
  })
}

const scalar = fc.oneof(
  { weight: 6, arbitrary: text },
  { weight: 2, arbitrary: fc.constantFrom(...PLACEHOLDERS) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 2, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.constantFrom(true, false, null, 'True', 'false', '', 0, -1, 1e308, 2 ** 53) },
  { weight: 1, arbitrary: deep },
)

const { json } = fc.letrec<{ json: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }),
  object: fc.array(fc.tuple(key, tie('json')), { maxLength: 5 }).map(objectOf),
}))

// ------------------------------------------------------------------------------- valid documents

const userName = fc.oneof(smallString, smallString.map((s) => `fz-${s}`), fc.constantFrom('{{U0}}', 'new-user', 'NEW-USER', 'stra\u00dfe', 'STRASSE', 'Stra\u00dfe'))
const userDoc = fc
  .record(
    {
      schemas: fc.constantFrom([USER_SCHEMA], [USER_SCHEMA], [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], [ENTERPRISE_USER_SCHEMA], [], ['urn:x']),
      userName,
      externalId: smallString,
      name: fc.record({ givenName: smallString, familyName: smallString, formatted: smallString }, { requiredKeys: [] }),
      displayName: smallString,
      title: smallString,
      active: fc.constantFrom(true, false, 'True', 'false', null),
      password: fc.constantFrom('s3cret!', ''),
      emails: fc.array(fc.record({ value: smallString, type: fc.constantFrom('work', 'home'), primary: fc.boolean() }, { requiredKeys: [] }), { maxLength: 3 }),
      phoneNumbers: fc.array(fc.record({ value: smallString, type: fc.constantFrom('work', 'mobile') }), { maxLength: 2 }),
      groups: fc.constant([{ value: '{{G0}}' }]),
      id: fc.constantFrom('{{U0}}', 'client-chosen-id'),
      meta: fc.constant({ resourceType: 'Group', created: '1999-01-01T00:00:00Z' }),
      [ENTERPRISE_USER_SCHEMA]: fc.record(
        { employeeNumber: smallString, department: smallString, manager: fc.record({ value: fc.constantFrom('{{U0}}', '{{U1}}', '{{XU0}}', 'nobody', '') }) },
        { requiredKeys: [] },
      ),
      [`${ENTERPRISE_USER_SCHEMA}:department`]: smallString,
    },
    { requiredKeys: ['schemas', 'userName'] },
  )
  .map((d) => d as Record<string, unknown>)

const member = fc.record({ value: fc.constantFrom('{{U0}}', '{{U1}}', '{{U2}}', '{{G1}}', '{{XU0}}', 'missing', 'bulkId:u1'), type: fc.constantFrom('User', 'Group'), display: smallString }, { requiredKeys: ['value'] })
const groupDoc = fc
  .record(
    {
      schemas: fc.constantFrom([GROUP_SCHEMA], [GROUP_SCHEMA], [GROUP_SCHEMA], [USER_SCHEMA], []),
      displayName: fc.oneof(smallString.map((s) => `fz ${s}`), fc.constantFrom('new group', 'NEW GROUP')),
      members: fc.array(member, { maxLength: 4 }),
      externalId: smallString,
    },
    { requiredKeys: ['schemas', 'displayName'] },
  )
  .map((d) => d as Record<string, unknown>)

const PATHS = [
  'displayName', 'members', 'members[value eq "{{U0}}"]', 'members[value eq "{{XU0}}"]', 'emails[type eq "work"].value', 'emails[type eq "work"]',
  'name.givenName', 'name', 'active', 'title', 'userName', 'password', `${ENTERPRISE_USER_SCHEMA}:manager`, ENTERPRISE_USER_SCHEMA,
  `${ENTERPRISE_USER_SCHEMA}:manager.value`, 'members[value eq "x"].display', 'emails[value co "@"]', 'groups', 'id', 'meta.created',
  '__proto__', '__proto__.polluted', 'constructor.prototype', 'constructor.prototype.polluted', 'emails[type eq "work"].__proto__',
  'name.__proto__', 'urn:ietf:params:scim:schemas:core:2.0:User:name.givenName', 'emails[', 'emails[type eq]', 'x y', '',
]
const patchValue = fc.oneof(
  { weight: 3, arbitrary: json },
  { weight: 1, arbitrary: fc.constantFrom([{ value: '{{U0}}' }], [{ value: '{{U2}}' }, { value: '{{XU0}}' }], { value: '{{U1}}' }, 'x', true, 'False') },
  { weight: 1, arbitrary: fc.constant(objectOf([['__proto__', { polluted: 'yes' }], ['displayName', 'proto group']])) },
  { weight: 1, arbitrary: userDoc },
)
const patchOp = fc.record(
  { op: fc.constantFrom('add', 'replace', 'remove', 'Add', 'REPLACE', 'Remove', 'copy', ''), path: fc.constantFrom(...PATHS), value: patchValue },
  { requiredKeys: ['op'] },
)
const patchDoc = fc
  .record({ schemas: fc.constantFrom([PATCHOP], [PATCHOP], [], ['urn:x']), Operations: fc.array(patchOp, { minLength: 1, maxLength: 4 }) }, { requiredKeys: ['Operations'] })
  .map((d) => d as Record<string, unknown>)

/** Filter strings: grammar-built (valid), with placeholders, or garbage. */
const filterText = fc.oneof(
  { weight: 3, arbitrary: filterGen(USERS, 2).map((g) => g.text) },
  { weight: 1, arbitrary: filterGen(GROUPS, 1).map((g) => g.text) },
  { weight: 1, arbitrary: fc.constantFrom('id eq "{{U0}}"', 'id eq "{{XU0}}"', 'members eq "{{XU0}}"', 'members.value eq "{{U0}}"', 'userName sw "a-"', 'userName co "secret"', 'meta.resourceType eq User or meta.resourceType eq Group', `${ENTERPRISE_USER_SCHEMA}:manager.value eq "{{XU0}}"`, 'emails[type eq "work"].value co "@"') },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('(((', 'userName eq', '"', 'not', 'a'.repeat(5000), '('.repeat(40) + 'title pr' + ')'.repeat(40), 'password eq "s3cret!"', 'userName regex ".*"') },
)

const searchDoc = fc
  .record(
    {
      schemas: fc.constantFrom([SEARCH], []),
      filter: fc.oneof(filterText, json),
      attributes: fc.oneof(fc.array(fc.constantFrom(...ATTR_NAMES), { maxLength: 3 }), fc.constantFrom(...ATTR_NAMES), json),
      excludedAttributes: fc.oneof(fc.array(fc.constantFrom(...ATTR_NAMES), { maxLength: 3 }), json),
      sortBy: fc.oneof(fc.constantFrom(...ATTR_NAMES), json),
      sortOrder: fc.oneof(fc.constantFrom('ascending', 'descending', 'DESC', ''), json),
      startIndex: fc.oneof(fc.integer(), fc.constantFrom(1, 0, -1, 1.5, '2', 'x', null, 2 ** 53)),
      count: fc.oneof(fc.integer(), fc.constantFrom(1, 0, -1, 1000, 1.5, '2', null, 1e100)),
      cursor: fc.oneof(fc.constantFrom('', null, 'abc', 'a.b'), json),
    },
    { requiredKeys: [] },
  )
  .map((d) => d as Record<string, unknown>)

const bulkPath = fc.constantFrom('/Users', '/Groups', '/Users/{{U0}}', '/Users/{{U1}}', '/Groups/{{G0}}', '/Users/{{XU0}}', '/Groups/{{XG0}}', '/Users/bulkId:u1', '/Groups/bulkId:g1', '/Bulk', '/', 'Users', '/Users?x=1', '/Users/%E0%A4', '/ServiceProviderConfig', '/Users/.search', '/Users/a/b')
/** A document with one extra member holding a deeply nested value. */
const withDeep = (doc: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> =>
  fc.tuple(doc, key, deep).map(([d, k, v]) => ({ ...d, ...objectOf([[k, v]]) }))

const bulkOp = fc.record(
  {
    method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'post') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'HEAD', '') }),
    path: bulkPath,
    // Replaced by a unique bulkId unless `keepBulkId` (duplicates and bad ids reject the whole request).
    bulkId: fc.constantFrom('u1', 'g1', 'x', ''),
    keepBulkId: fc.boolean(),
    data: fc.oneof(userDoc, groupDoc, patchDoc, json, fc.array(patchOp, { maxLength: 2 }), withDeep(userDoc), withDeep(patchDoc), deep),
    version: fc.constantFrom('W/"{{V:U0}}"', 'W/"nope"', '*'),
  },
  { requiredKeys: ['method', 'path', 'keepBulkId'] },
)
const bulkDoc = fc
  .record(
    { schemas: fc.constantFrom([BULK], [BULK], [BULK], [], ['urn:x']), failOnErrors: fc.constantFrom(1, 2, 0, -1, 'x', null), Operations: fc.array(bulkOp, { minLength: 1, maxLength: 4 }) },
    { requiredKeys: ['schemas', 'Operations'] },
  )
  .map((d) => {
    const ops = d.Operations.map(({ keepBulkId, ...op }, i) => {
      if (keepBulkId) return op
      return { ...op, bulkId: op.method.toUpperCase() === 'POST' ? (i === 0 ? 'u1' : i === 1 ? 'g1' : `b${i}`) : op.bulkId }
    })
    return { ...d, Operations: ops } as Record<string, unknown>
  })

// ------------------------------------------------------------------------------- tree mutations

type TreeMutation = { sel: number; action: 'delete' | 'replace' | 'insert' | 'wrap' | 'unwrap' | 'flip'; key: string; value: unknown }
const treeMutation: fc.Arbitrary<TreeMutation> = fc.record({
  sel: fc.nat(),
  action: fc.constantFrom('delete', 'replace', 'insert', 'wrap', 'unwrap', 'flip'),
  key: fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...SPECIAL_KEYS) }, { weight: 1, arbitrary: key }),
  value: json,
})

/** Apply mutations to a deep copy of a JSON document (own keys defined, never assigned). */
function mutateTree(doc: unknown, ms: readonly TreeMutation[]): unknown {
  const root = { v: structuredCloneOwn(doc) } as Record<string, unknown>
  for (const m of ms) {
    const slots: [Record<string, unknown> | unknown[], string | number][] = []
    const visit = (parent: Record<string, unknown> | unknown[], k: string | number, depth: number): void => {
      slots.push([parent, k])
      const v = (parent as Record<string | number, unknown>)[k]
      if (depth > 12 || v === null || typeof v !== 'object') return
      if (Array.isArray(v)) v.forEach((_, i) => visit(v, i, depth + 1))
      else for (const kk of Object.keys(v)) visit(v as Record<string, unknown>, kk, depth + 1)
    }
    visit(root, 'v', 0)
    const [parent, k] = slots[m.sel % slots.length] as [Record<string, unknown> | unknown[], string | number]
    const cur = (parent as Record<string | number, unknown>)[k]
    const set = (v: unknown): void => {
      Object.defineProperty(parent, k, { value: v, enumerable: true, writable: true, configurable: true })
    }
    switch (m.action) {
      case 'delete':
        if (Array.isArray(parent)) parent.splice(k as number, 1)
        else if (parent !== root) delete parent[k as string]
        break
      case 'replace':
        set(m.value)
        break
      case 'insert':
        if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) Object.defineProperty(cur, m.key, { value: m.value, enumerable: true, writable: true, configurable: true })
        else if (Array.isArray(cur)) cur.push(m.value)
        else set(objectOf([[m.key, m.value]]))
        break
      case 'wrap':
        set([cur])
        break
      case 'unwrap':
        if (Array.isArray(cur)) set(cur[0])
        else if (cur !== null && typeof cur === 'object') set(Object.values(cur)[0])
        break
      case 'flip':
        set(typeof cur === 'string' ? (Number(cur) || cur.length) : typeof cur === 'number' ? String(cur) : typeof cur === 'boolean' ? String(cur) : cur === null ? {} : JSON.stringify(cur))
        break
    }
  }
  return root['v']
}

function structuredCloneOwn(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(structuredCloneOwn)
  if (v !== null && typeof v === 'object') return objectOf(Object.keys(v).map((k) => [k, structuredCloneOwn((v as Record<string, unknown>)[k])] as const))
  return v
}

type TextMutation = { kind: 'del' | 'dup' | 'swap' | 'ins' | 'cut'; at: number; at2: number; token: string }
const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  kind: fc.constantFrom('del', 'dup', 'swap', 'ins', 'cut'),
  at: fc.nat(),
  at2: fc.nat(),
  token: fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\\', '\\u', 'null', '"__proto__":{"polluted":1},', '\u0000', '\ufeff', '1e999', '-', '"a":', ' '),
})

function mutateText(t: string, ms: readonly TextMutation[]): string {
  let s = t
  for (const m of ms) {
    if (s.length === 0) {
      s = m.token
      continue
    }
    const i = m.at % s.length
    const j = m.at2 % s.length
    if (m.kind === 'del') s = s.slice(0, i) + s.slice(i + 1)
    else if (m.kind === 'dup') s = s.slice(0, i + 1) + s.slice(i)
    else if (m.kind === 'ins') s = s.slice(0, i) + m.token + s.slice(i)
    else if (m.kind === 'cut') s = s.slice(0, i)
    else {
      const a = s.split('')
      ;[a[i], a[j]] = [a[j] as string, a[i] as string]
      s = a.join('')
    }
  }
  return s
}

// ------------------------------------------------------------------------------- bodies

const validDoc = fc.oneof(userDoc, groupDoc, patchDoc, searchDoc, bulkDoc)
const PROTO_BODIES = [
  `{"__proto__":{"polluted":"yes"},"schemas":["${USER_SCHEMA}"],"userName":"proto-user"}`,
  `{"schemas":["${USER_SCHEMA}"],"userName":"proto2","name":{"__proto__":{"polluted":"yes"},"givenName":"x"}}`,
  `{"schemas":["${USER_SCHEMA}"],"userName":"proto3","emails":[{"__proto__":{"polluted":"yes"},"value":"a@b.c"}]}`,
  `{"schemas":["${USER_SCHEMA}"],"userName":"proto4","constructor":{"prototype":{"polluted":"yes"}}}`,
  `{"schemas":["${PATCHOP}"],"Operations":[{"op":"add","path":"__proto__.polluted","value":"yes"}]}`,
  `{"schemas":["${PATCHOP}"],"Operations":[{"op":"add","value":{"__proto__":{"polluted":"yes"}}}]}`,
  `{"schemas":["${PATCHOP}"],"Operations":[{"op":"replace","path":"constructor.prototype.polluted","value":"yes"}]}`,
  `{"schemas":["${PATCHOP}"],"__proto__":{"Operations":[{"op":"add","path":"title","value":"x"}]}}`,
  `{"schemas":["${PATCHOP}"],"Operations":[{"__proto__":{"op":"add","path":"title","value":"x"}}]}`,
  `{"schemas":["${BULK}"],"Operations":[{"method":"POST","path":"/Users","bulkId":"u1","data":{"__proto__":{"polluted":"yes"},"userName":"bp"}}]}`,
  `{"schemas":["${BULK}"],"__proto__":{"Operations":[]},"Operations":[{"method":"POST","path":"/Users","bulkId":"__proto__","data":{"userName":"bp2"}}]}`,
  `{"schemas":["${SEARCH}"],"__proto__":{"filter":"userName pr"},"filter":"userName pr"}`,
  `{"schemas":["${USER_SCHEMA}"],"userName":"dup","userName":"dup2","USERNAME":"dup3"}`,
]

const body: fc.Arbitrary<string | Buffer | undefined> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 8, arbitrary: validDoc.map((d) => JSON.stringify(d)) },
  { weight: 8, arbitrary: fc.tuple(validDoc, fc.array(treeMutation, { minLength: 1, maxLength: 3 })).map(([d, ms]) => JSON.stringify(mutateTree(d, ms)) ?? 'null') },
  { weight: 2, arbitrary: fc.tuple(validDoc, fc.array(textMutation, { minLength: 1, maxLength: 3 })).map(([d, ms]) => mutateText(JSON.stringify(d), ms)) },
  { weight: 3, arbitrary: json.map((j) => JSON.stringify(j) ?? 'null') },
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_BODIES) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', 'true', '1', '"x"', '[]', '{}', '[{}]', '{', '{"a":}', '\ufeff{}', 'NaN', '{"schemas":', '{"a":1}{"b":2}') },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), Buffer.from('{"userName":"\xc3\x28"}', 'latin1'), Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), Buffer.from([0xc0, 0x80])) },
  {
    weight: 1,
    // Deep nesting, alone or inside a valid document, and objects with many members.
    arbitrary: fc.tuple(fc.integer({ min: 100, max: 60_000 }), fc.constantFrom('array', 'object', 'user', 'patch', 'bulk', 'search', 'wide')).map(([n, kind]) => {
      const arr = '['.repeat(n) + ']'.repeat(n)
      const obj = '{"a":'.repeat(n) + '1' + '}'.repeat(n)
      if (kind === 'array') return arr
      if (kind === 'object') return obj
      if (kind === 'user') return `{"schemas":["${USER_SCHEMA}"],"userName":"deep-${n}","name":${obj},"emails":${arr}}`
      if (kind === 'patch') return `{"schemas":["${PATCHOP}"],"Operations":[{"op":"add","value":${obj}},{"op":"replace","path":"title","value":${arr}}]}`
      if (kind === 'bulk') return `{"schemas":["${BULK}"],"Operations":[{"method":"POST","path":"/Users","bulkId":"d","data":{"userName":"deep","x":${obj},"y":${arr}}}]}`
      if (kind === 'search') return `{"filter":${arr},"attributes":${obj}}`
      return `{"schemas":["${USER_SCHEMA}"],"userName":"wide-${n}",${Array.from({ length: Math.min(n, 20_000) }, (_, i) => `"k${i}":${i}`).join(',')}}`
    }),
  },
  {
    weight: 1,
    // Huge strings: just under and just over the 1 MiB limit.
    arbitrary: fc.tuple(fc.constantFrom(1000, 200_000, 1_000_000, 1_100_000), fc.constantFrom('userName', 'displayName', 'filter', 'value')).map(
      ([n, k]) => `{"schemas":["${USER_SCHEMA}","${GROUP_SCHEMA}","${SEARCH}"],"${k}":"${'x'.repeat(n)}","userName":"huge-${n}","displayName":"huge ${n}"}`,
    ),
  },
)

// ------------------------------------------------------------------------------- paths and queries

const KNOWN_PATHS = [
  '', '/', '/Users', '/Users/', '/Groups', '/Users/{{U0}}', '/Users/{{U1}}', '/Users/{{U2}}', '/Groups/{{G0}}', '/Groups/{{G1}}', '/Users/{{G0}}',
  '/Groups/{{U0}}', '/Users/{{XU0}}', '/Groups/{{XG0}}', '/Users/.search', '/Groups/.search', '/.search', '/Bulk', '/Me',
  '/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/User', '/ResourceTypes/Group', '/Schemas', `/Schemas/${USER_SCHEMA}`,
  '/Users/{{U0}}/', '/users', '/USERS/{{U0}}',
]

/** Percent-encode well-formed text (a segment or query value). */
const enc = (s: string): string => encodeURIComponent(wellFormed(s))

const segment = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/) },
  { weight: 2, arbitrary: text.map(enc) },
  { weight: 2, arbitrary: fc.constantFrom('%', '%2', '%G0', '%C3', '%C3%28', '%E0%A4', '%FF', '%00', '%2F', '%2e%2e', '%252F', '%u0041', '%ED%A0%80', '%F4%90%80%80') },
  { weight: 2, arbitrary: fc.constantFrom('..', '.', '', '.search', 'Users', 'Groups', 'Bulk', '{{U0}}', '{{XU0}}', '__proto__', 'constructor', 'hasOwnProperty') },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 8000 }).map((n) => 'x'.repeat(n)) },
  // Latin-1 bytes as single %XX (invalid UTF-8); raw bytes ≥ 0x80 are refused by Node's HTTP parser itself.
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0x80, max: 0xff }), { minLength: 1, maxLength: 4 }).map((bs) => bs.map((b) => '%' + b.toString(16).toUpperCase()).join('')) },
)

type PathEdit = { kind: 'append' | 'replaceLast' | 'insert' | 'none'; seg: string; at: number }
const pathEdit: fc.Arbitrary<PathEdit> = fc.record({ kind: fc.constantFrom('append', 'replaceLast', 'insert', 'none', 'none'), seg: segment, at: fc.nat() })

const path = fc.tuple(fc.constantFrom(...KNOWN_PATHS), fc.array(pathEdit, { maxLength: 2 })).map(([base, edits]) => {
  const segs = base.split('/').slice(1)
  for (const e of edits) {
    if (e.kind === 'append') segs.push(e.seg)
    else if (e.kind === 'replaceLast') segs[Math.max(0, segs.length - 1)] = e.seg
    else if (e.kind === 'insert') segs.splice(e.at % (segs.length + 1), 0, e.seg)
  }
  const p = segs.length === 0 ? base : '/' + segs.join('/')
  return p
})

const QUERY_KEYS = ['filter', 'attributes', 'excludedAttributes', 'startIndex', 'count', 'sortBy', 'sortOrder', 'cursor', 'Filter', 'COUNT', 'access_token']
const intLike = fc.oneof(fc.integer().map(String), fc.constantFrom('1', '0', '-1', '10', '1000', '99999999999999999999', '1.5', 'abc', '', '0x10', '1e3', ' 5', '+3', '-0', '\u0661', 'Infinity', 'NaN'))
const queryValue = (k: string): fc.Arbitrary<string> => {
  switch (k) {
    case 'filter':
    case 'Filter':
      return filterText
    case 'attributes':
    case 'excludedAttributes':
    case 'sortBy':
      return fc.array(fc.constantFrom(...ATTR_NAMES), { minLength: 1, maxLength: 3 }).map((a) => a.join(','))
    case 'startIndex':
    case 'count':
    case 'COUNT':
      return intLike
    case 'sortOrder':
      return fc.constantFrom('ascending', 'descending', 'DESCENDING', 'up', '')
    case 'cursor':
      // {{C0}}: the last nextCursor the server issued in this run (replayed with other parameters).
      return fc.oneof(fc.constantFrom('', '', '{{C0}}', '{{C0}}', 'abc', 'a.b', 'eyJ4IjoxfQ.AAAA', '%%%'), text)
    default:
      return text
  }
}
const queryPair = fc.oneof(fc.constantFrom(...QUERY_KEYS), text).chain((k) =>
  fc.tuple(fc.constant(k), queryValue(k), fc.constantFrom('encoded', 'encoded', 'encoded', 'plus', 'raw')).map(([kk, v, how]) => {
    if (how === 'plus') return `${enc(kk)}=${enc(v).replace(/%20/g, '+')}`
    // Raw: only what a request line may carry unencoded; invalid %-sequences pass through.
    if (how === 'raw') return `${enc(kk)}=${v.replace(/[^\x21-\x7e]/g, (c) => enc(c)).replace(/#/g, '%23')}`
    return `${enc(kk)}=${enc(v)}`
  }),
)
const query = fc.oneof({ weight: 2, arbitrary: fc.constant('') }, { weight: 3, arbitrary: fc.array(queryPair, { minLength: 1, maxLength: 4 }).map((ps) => '?' + ps.join('&')) }, { weight: 1, arbitrary: fc.constantFrom('?', '?&', '?=', '?filter', '?filter=', '?count=1000&count=-5', '?attributes=&excludedAttributes=') },
  // RFC 9865 cursor paging: a first page, then the issued cursor replayed with the same or other parameters.
  { weight: 1, arbitrary: fc.constantFrom('?cursor=&count=1', '?cursor&count=2&sortBy=userName', '?cursor={{C0}}&count=1', '?cursor={{C0}}&count=1', '?cursor={{C0}}&count=2', '?cursor={{C0}}&count=1&sortBy=userName', '?cursor={{C0}}&count=1&filter=userName%20pr', '?cursor={{C0}}&count=1&startIndex=2', '?cursor={{C0}}{{C0}}&count=1') })

// ------------------------------------------------------------------------------- headers

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 })
const CONTENT_TYPES = [
  'application/scim+json', 'application/json', 'application/json; charset=utf-8', 'APPLICATION/SCIM+JSON; CHARSET=UTF-8', 'application/scim+json;charset=latin1',
  'text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/vnd.foo+json', '', ';', 'application/',
  'application/json; charset=utf-16',
]
const ETAGS = ['*', 'W/"{{V:U0}}"', '"{{V:U0}}"', 'W/"{{V:G0}}"', 'W/"999"', 'garbage', '"', 'W/', ',', '"a", "b"', ' , ', 'W/"x", *', '"\\"', 'W/"{{V:U0}}", W/"zz"']
const headersArb = (tenant: 'a' | 'b') =>
  fc
    .record(
      {
        auth: fc.oneof(
          { weight: 12, arbitrary: fc.constant(`Bearer ${TOKENS[tenant]}`) },
          { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', 'Bearer wrong', `bearer ${TOKENS[tenant]}`, `Bearer  ${TOKENS[tenant]}  `, `Basic ${Buffer.from('a:b').toString('base64')}`, `Bearer ${TOKENS[tenant]} extra`, 'Bearer tok-a\ttok-b') },
          { weight: 1, arbitrary: fc.constant(undefined) },
        ),
        contentType: fc.oneof({ weight: 6, arbitrary: fc.constant('application/scim+json') }, { weight: 3, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: printable }, { weight: 1, arbitrary: fc.constant(undefined) }),
        ifMatch: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constantFrom(...ETAGS) }, { weight: 1, arbitrary: printable }),
        ifNoneMatch: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...ETAGS) }, { weight: 1, arbitrary: printable }),
        accept: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('application/scim+json', 'text/html', '*/*', 'application/xml;q=1, */*;q=0', '') }, { weight: 1, arbitrary: printable }),
        extra: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom<[string, string]>(['X-HTTP-Method-Override', 'DELETE'], ['X-Forwarded-Host', 'evil.example'], ['X-Tenant', 'a'], ['Host', 'evil.example'], ['Content-Encoding', 'gzip'], ['Expect', '100-continue']) },
        ),
      },
      { requiredKeys: [] },
    )
    .map((h) => {
      const out: Record<string, string> = {}
      if (h.auth !== undefined) out['Authorization'] = h.auth
      if (h.contentType !== undefined) out['Content-Type'] = h.contentType
      if (h.ifMatch !== undefined) out['If-Match'] = h.ifMatch
      if (h.ifNoneMatch !== undefined) out['If-None-Match'] = h.ifNoneMatch
      if (h.accept !== undefined) out['Accept'] = h.accept
      if (h.extra !== undefined) out[h.extra[0]] = h.extra[1]
      return out
    })

const request = (tenant: 'a' | 'b'): fc.Arbitrary<Req> =>
  fc.record({ method, path: fc.tuple(path, query).map(([p, q]) => p + q), headers: headersArb(tenant), body }).map((r) => {
    const out: Req = { method: r.method, path: r.path, headers: r.headers }
    if (r.body !== undefined && r.method !== 'HEAD') out.body = r.body
    return out
  })

/** A document, valid or mutated (tree mutations keep it JSON; text mutations usually break it). */
function docBody(doc: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: doc.map((d) => JSON.stringify(d)) },
    { weight: 4, arbitrary: fc.tuple(doc, fc.array(treeMutation, { minLength: 1, maxLength: 3 })).map(([d, ms]) => JSON.stringify(mutateTree(d, ms)) ?? 'null') },
    { weight: 1, arbitrary: fc.tuple(doc, fc.array(textMutation, { minLength: 1, maxLength: 2 })).map(([d, ms]) => mutateText(JSON.stringify(d), ms)) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_BODIES) },
    { weight: 1, arbitrary: withDeep(doc).map((d) => JSON.stringify(d)) },
  )
}

const USER_IDS = ['{{U0}}', '{{U1}}', '{{U2}}', '{{XU0}}', '{{G0}}', 'missing-id']
const GROUP_IDS = ['{{G0}}', '{{G1}}', '{{XG0}}', '{{U0}}', 'missing-id']

/**
 * Requests that are well aimed (a method the endpoint serves, the body it expects, mostly valid
 * credentials), so most of them reach the handlers, the PATCH engine and Bulk; then mutated.
 */
const coherentRequest = (tenant: 'a' | 'b'): fc.Arbitrary<Req> => {
  const target = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constant('GET'), fc.constantFrom('/Users', '/Groups', ''), query, fc.constant(undefined)) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('GET', 'HEAD'), fc.constantFrom(...USER_IDS.map((i) => `/Users/${i}`), ...GROUP_IDS.map((i) => `/Groups/${i}`)), query, fc.constant(undefined)) },
    { weight: 3, arbitrary: fc.tuple(fc.constant('POST'), fc.constant('/Users'), query, docBody(userDoc)) },
    { weight: 3, arbitrary: fc.tuple(fc.constant('POST'), fc.constant('/Groups'), query, docBody(groupDoc)) },
    { weight: 2, arbitrary: fc.tuple(fc.constant('POST'), fc.constantFrom('/Users/.search', '/Groups/.search', '/.search'), fc.constant(''), docBody(searchDoc)) },
    { weight: 3, arbitrary: fc.tuple(fc.constant('POST'), fc.constant('/Bulk'), fc.constant(''), docBody(bulkDoc)) },
    { weight: 2, arbitrary: fc.tuple(fc.constant('PUT'), fc.constantFrom(...USER_IDS.map((i) => `/Users/${i}`)), query, docBody(userDoc)) },
    { weight: 2, arbitrary: fc.tuple(fc.constant('PUT'), fc.constantFrom(...GROUP_IDS.map((i) => `/Groups/${i}`)), query, docBody(groupDoc)) },
    { weight: 4, arbitrary: fc.tuple(fc.constant('PATCH'), fc.constantFrom(...USER_IDS.map((i) => `/Users/${i}`), ...GROUP_IDS.map((i) => `/Groups/${i}`)), query, docBody(patchDoc)) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('DELETE'), fc.constantFrom(...USER_IDS.map((i) => `/Users/${i}`), ...GROUP_IDS.map((i) => `/Groups/${i}`)), fc.constant(''), fc.constant(undefined)) },
  )
  const goodHeaders = fc.record({
    ct: fc.constantFrom('application/scim+json', 'application/scim+json', 'application/json; charset=utf-8'),
    ifMatch: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...ETAGS) }),
  })
  const headers = fc.oneof(
    { weight: 4, arbitrary: goodHeaders.map(({ ct, ifMatch }) => ({ Authorization: `Bearer ${TOKENS[tenant]}`, 'Content-Type': ct, ...(ifMatch === undefined ? {} : { 'If-Match': ifMatch }) })) },
    { weight: 1, arbitrary: headersArb(tenant) },
  )
  return fc.tuple(target, headers).map(([[m, p, q, b], h]) => {
    const out: Req = { method: m, path: p + q, headers: h }
    if (b !== undefined) out.body = b
    return out
  })
}

/** The mix every property draws from: well-aimed requests and fully random ones. */
const anyRequest = (tenant: 'a' | 'b'): fc.Arbitrary<Req> =>
  fc.oneof({ weight: 3, arbitrary: coherentRequest(tenant) }, { weight: 2, arbitrary: request(tenant) })

// =============================================================================== running a request

function describeReq(r: Req): string {
  const b = r.body === undefined ? '' : Buffer.isBuffer(r.body) ? ` <${r.body.length} bytes>` : ` ${r.body.length > 300 ? r.body.slice(0, 300) + `… (${r.body.length} chars)` : r.body}`
  return `${r.method} ${MOUNT}${r.path.length > 300 ? r.path.slice(0, 300) + '…' : r.path} ${JSON.stringify(r.headers)}${b}`
}

let requestsSent = 0
let cursorsIssued = 0
let cursorsReplayed = 0
let statusCounts = new Map<number, number>()

/** Send one generated request with placeholders filled; check the general properties. */
async function exercise(r: Req, slots: Slots, snap: Snapshot | undefined): Promise<{ res: Res; sentText: string }> {
  const p = fill(r.path, slots, snap)
  if (/%7B%7BC0%7D%7D|\{\{C0\}\}/i.test(r.path) && slots.has('C0')) cursorsReplayed++
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(r.headers)) headers[k] = fill(v, slots, snap)
  const b = typeof r.body === 'string' ? materialize(fill(r.body, slots, snap)) : r.body
  const crashCount = crashes.length
  const res = await send(r.method, p, headers, b)
  requestsSent++
  statusCounts.set(res.status, (statusCounts.get(res.status) ?? 0) + 1)
  const where = `\n  request: ${describeReq({ ...r, path: p, headers, ...(b === undefined ? {} : { body: b }) })}\n  response: ${res.status} ${res.text.slice(0, 500)}`
  const problem = problems(r.method, res)
  if (problem) throw new Error(`${problem}${where}`)
  const pollution = polluted()
  if (pollution) throw new Error(`prototype pollution: ${pollution}${where}`)
  if (crashes.length > crashCount) throw new Error(`crash: ${String(crashes[crashes.length - 1])}${where}`)
  if (res.status === 200 && /"nextCursor"/.test(res.text)) {
    const next = (JSON.parse(res.text) as { nextCursor?: unknown }).nextCursor
    if (typeof next === 'string') {
      slots.set('C0', next)
      cursorsIssued++
    }
  }
  const sentText = `${p}\n${JSON.stringify(headers)}\n${Buffer.isBuffer(b) ? b.toString('latin1') : (b ?? '')}`
  return { res, sentText }
}

const isRead = (m: string): boolean => m === 'GET' || m === 'HEAD'

// =============================================================================== properties

describe('HTTP fuzzing (Express 5 at /scim/v2, MemoryAdapter, bearerToken, bulk)', () => {
  afterAll(() => {
    const counts = [...statusCounts.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ')
    // eslint-disable-next-line no-console
    console.log(`[fuzz] http: ${requestsSent} requests; statuses ${counts}; cursors issued ${cursorsIssued}, replayed ${cursorsReplayed}`)
  })

  test('random and mutated requests: no 5xx but 501, SCIM error envelopes, no leaks, no pollution, rejected requests change nothing', async () => {
    await check(
      'http surface',
      fc.asyncProperty(fc.array(anyRequest('a'), { minLength: 1, maxLength: 6 }), async (reqs) => {
        freshApp()
        const slots: Slots = new Map()
        await seed('a', 'asecret', slots, '')
        await seed('b', 'bsecret', slots, 'X')
        for (const r of reqs) {
          const before = await snapshot('a')
          const { res } = await exercise(r, slots, before)
          if (res.status >= 400) {
            const after = await snapshot('a')
            if (after.text !== before.text) {
              throw new Error(`a rejected request (HTTP ${res.status}) changed stored data\n  request: ${describeReq(r)}\n  response: ${res.text.slice(0, 300)}\n  before: ${before.text.slice(0, 1500)}\n  after:  ${after.text.slice(0, 1500)}`)
            }
          }
        }
      }),
      600,
    )
  }, TEST_TIMEOUT_MS)

  test('tenant isolation: tenant B can neither change nor read tenant A', async () => {
    await check(
      'tenant isolation',
      fc.asyncProperty(fc.array(anyRequest('b'), { minLength: 1, maxLength: 6 }), async (reqs) => {
        freshApp()
        const slots: Slots = new Map()
        // Tenant B's own resources are {{U0}}…; tenant A's are {{XU0}}… (B tries to reach them).
        const aIds = await seed('a', 'asecret', slots, 'X')
        await seed('b', 'bsecret', slots, '')
        const aBefore = await snapshot('a')
        for (const r of reqs) {
          const bSnap = isRead(r.method) ? undefined : await snapshot('b')
          // Versions of A's resources are offered to B too ({{V:XU0}}), as a guess would be.
          const versions = new Map([...(bSnap?.versions ?? []), ...aBefore.versions])
          const { res, sentText } = await exercise(r, slots, { text: '', ids: [], versions, resources: [] })
          if (/asecret/i.test(res.text)) throw new Error(`tenant A's data in a response to tenant B\n  request: ${describeReq(r)}\n  response: ${res.status} ${res.text.slice(0, 800)}`)
          for (const id of aIds) {
            if (res.text.includes(id) && !sentText.includes(id)) {
              throw new Error(`tenant A's id ${id} in a response to tenant B that did not name it\n  request: ${describeReq(r)}\n  response: ${res.status} ${res.text.slice(0, 800)}`)
            }
          }
          const location = String(res.headers['location'] ?? '') + String(res.headers['content-location'] ?? '')
          for (const id of aIds) if (location.includes(id) && res.status < 400) throw new Error(`tenant A's resource ${id} served to tenant B (Location ${location})\n  request: ${describeReq(r)}`)
          const aNow = await snapshot('a')
          if (aNow.text !== aBefore.text) {
            throw new Error(`tenant B changed tenant A's data (HTTP ${res.status})\n  request: ${describeReq(r)}\n  before: ${aBefore.text.slice(0, 1500)}\n  after:  ${aNow.text.slice(0, 1500)}`)
          }
        }
      }),
      300,
    )
  }, TEST_TIMEOUT_MS)

  /** Values whose case mapping is not 1:1 or whose normal forms differ (FLT-020/021). */
  const TRICKY = ['stra\u00dfe', 'STRASSE', 'Stra\u00dfe', '\u01c5emal', '\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3', '\u0130stanbul', 'e\u0301cole', '\u00e9cole', '\u00c5ngstr\u00f6m', 'A\u030angstro\u0308m', '\ufb03ce', 'K\u212a', 'Kelvin\u212a']
  type Query = { type: string; post: boolean; text: string }
  /** IdP-style lookups (`userName eq "…"` and friends) on a stored value in another case or normal form. */
  type Lookup = { type: 'Users' | 'Groups'; post: boolean; attr: string; pick: number; form: 'same' | 'upper' | 'lower' | 'nfd' | 'title'; extra: string | undefined; tricky: boolean }
  const trickyLookup: fc.Arbitrary<Lookup> = fc.record({
    type: fc.constant('Users' as const),
    post: fc.boolean(),
    attr: fc.constantFrom('userName', 'displayName', 'externalId'),
    pick: fc.nat(),
    form: fc.constantFrom('same' as const, 'upper' as const, 'lower' as const, 'nfd' as const, 'title' as const),
    extra: fc.constantFrom(undefined, 'active pr', 'not (title pr)'),
    tricky: fc.constant(true),
  })
  const lookup: fc.Arbitrary<Lookup> = fc.record({
    tricky: fc.constant(false),
    type: fc.constantFrom('Users' as const, 'Groups' as const),
    post: fc.boolean(),
    attr: fc.constantFrom('userName', 'externalId', 'displayName', 'id', 'members', 'emails[type eq "work"].value'),
    pick: fc.nat(),
    form: fc.constantFrom('same' as const, 'upper' as const, 'lower' as const, 'nfd' as const, 'title' as const),
    extra: fc.constantFrom(undefined, 'active eq true', 'title pr', 'meta.resourceType eq "User"'),
  })
  function lookupText(l: Lookup, snap: Snapshot): Query {
    const ofType = snap.resources.filter((r) => r.meta.resourceType === (l.type === 'Users' ? 'User' : 'Group'))
    const tricky = ofType.filter((r) => TRICKY.includes(r.userName))
    const pool = l.tricky && tricky.length > 0 ? tricky : ofType
    const r = pool[l.pick % Math.max(1, pool.length)] ?? {}
    const raw = l.attr === 'members' ? r.members?.[0]?.value : l.attr.startsWith('emails') ? r.emails?.[0]?.value : r[l.attr]
    const v = String(raw ?? 'absent')
    const value = l.form === 'upper' ? v.toUpperCase() : l.form === 'lower' ? v.toLowerCase() : l.form === 'nfd' ? v.normalize('NFD') : l.form === 'title' ? v.charAt(0).toUpperCase() + v.slice(1) : v
    const attr = l.type === 'Groups' && l.attr.startsWith('emails') ? 'displayName' : l.attr
    const text = `${attr} eq ${JSON.stringify(value)}` + (l.extra && l.type === 'Users' ? ` and ${l.extra}` : '')
    return { type: l.type, post: l.post, text }
  }

  test('list filtering over HTTP returns exactly what the reference evaluator selects', async () => {
    // Known gap, reported rather than hidden: `meta.location` and `$ref` sub-attributes are rendered
    // by the router from baseUrl and are absent from the views adapters filter, so filters on them
    // never match. They are left out of this differential (see the fuzzing report).
    const routerRendered = (t: string): boolean => /\$ref|location/i.test(t)
    const userFilters = filterGen(USERS, 2).filter((g) => !routerRendered(g.text))
    const groupFilters = filterGen(GROUPS, 2).filter((g) => !routerRendered(g.text))
    let hits = 0
    let total = 0
    await check(
      'http filter differential',
      fc.asyncProperty(
        fc.tuple(fc.array(userDoc, { minLength: 1, maxLength: 5 }), fc.subarray(TRICKY, { minLength: 1, maxLength: 3 })).map(([ds, names]) => [
          ...ds,
          ...names.map((n) => ({ schemas: [USER_SCHEMA], userName: n, displayName: n, externalId: n })),
        ]),
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: fc.tuple(fc.constantFrom('Users', 'Groups'), fc.boolean()).chain(([t, post]) => (t === 'Users' ? userFilters : groupFilters).map((g): Query => ({ type: t, post, text: g.text }))) },
            { weight: 2, arbitrary: lookup },
            { weight: 2, arbitrary: trickyLookup },
          ),
          { minLength: 1, maxLength: 4 },
        ),
        async (docs, queries) => {
          freshApp()
          const slots: Slots = new Map()
          await seed('a', 'asecret', slots, '')
          for (const d of docs) {
            await send('POST', '/Users', { ...auth('a'), 'Content-Type': 'application/scim+json' }, fill(JSON.stringify({ ...d, schemas: [USER_SCHEMA, ENTERPRISE_USER_SCHEMA] }), slots, undefined))
          }
          const snap = await snapshot('a')
          for (const q of queries) {
            const f = 'text' in q ? q : lookupText(q, snap)
            const rt = f.type === 'Users' ? users : groups
            let tree: Node
            try {
              tree = parseFilter(f.text, rt)
            } catch {
              continue // e.g. `members eq …` on Users: not this property's subject
            }
            const want = snap.resources.filter((r) => r.meta.resourceType === rt.name && refEval(tree, r)).map((r) => r.id as string)
            const res = f.post
              ? await send('POST', `/${f.type}/.search`, { ...auth('a'), 'Content-Type': 'application/scim+json' }, JSON.stringify({ schemas: [SEARCH], filter: f.text, count: 1000 }))
              : await send('GET', `/${f.type}?count=1000&filter=${enc(f.text)}`, auth('a'))
            requestsSent++
            if (res.status !== 200) throw new Error(`filter ${JSON.stringify(f.text)} on /${f.type}: HTTP ${res.status} ${res.text.slice(0, 300)}`)
            const got = (JSON.parse(res.text).Resources as { id: string }[]).map((r) => r.id)
            total++
            if (want.length > 0) hits++
            if (got.join() !== want.join()) {
              throw new Error(`filter ${JSON.stringify(f.text)} on /${f.type} returned ${JSON.stringify(got)}, the reference selects ${JSON.stringify(want)}\n  resources: ${JSON.stringify(snap.resources).slice(0, 3000)}`)
            }
          }
        },
      ),
      150,
    )
    // eslint-disable-next-line no-console
    console.log(`[fuzz] http filter differential: ${total} queries, ${hits} with matches`)
    expect(hits).toBeGreaterThan(0)
  }, TEST_TIMEOUT_MS)
})
