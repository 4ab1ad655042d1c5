/**
 * IdP replay corpus runner (issue 7).
 *
 * Loads every `test/fixtures/idp/<idp>/<cycle>.json` and replays it step by step against every
 * available store, through an Express 5 app with the router mounted at `/scim/v2`:
 *
 *   scimRouter(adapter, { authenticate: bearerToken('idp-token'), onEvent: collect })
 *
 * A step is `{ name, source, request: { method, path, headers?, body? }, expect: { status,
 * headers?, body?, absent?, events?, eventsAbsent? }, capture? }`. `path` is relative to the SCIM
 * base and is sent as the IdP writes it (the runner only percent-encodes characters that cannot be
 * sent on the wire, such as spaces and quotes). `{{var}}` placeholders are replaced everywhere in
 * the request and in the expectations; `{{token}}` is the valid bearer token. A placeholder that is
 * the whole JSON string keeps the captured value's type. `"repeat": n` sends the request n times with
 * `{{i}}` = 1…n (used for Okta's import paging over more than 100 users).
 *
 * Expectations (`expect.body` and event objects) are partial: every key given must match, keys not
 * given are not checked. Arrays match element by element and must have the same length, unless
 * written as one of these operators:
 *   { "$contains": [ … ] }   every listed element matches some element of the actual array
 *   { "$unordered": [ … ] }  same length, and the elements match in any order
 *   { "$regex": "…" }        a string matching the regular expression
 *   { "$type": "string" }    typeof (or "array" / "null")
 *   { "$length": n }         an array or string of that length
 * `absent` lists dotted paths (`members`, `Resources.*.members`) that must not exist in the body.
 * The final `state` section is a list of steps (GETs) run after the cycle, asserting stored state.
 *
 * Stores: `memory` (MemoryAdapter) always; `kysely-sqlite` (scim-router/kysely over
 * scimTablesMapping, SQLite in memory) always; `kysely-postgres` with SCIM_PG_URL and
 * `kysely-mariadb` with SCIM_MYSQL_URL (one fresh schema / database per cycle, dropped afterwards).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join, relative } from 'node:path'
import express from 'express'
import request from 'supertest'
import { kyselyAdapter, migrate, scimTablesMapping } from '../../src/kysely'
import { STORES } from '../kysely/stores'
import { MemoryAdapter, bearerToken, scimRouter, type ScimAdapter, type ScimEvent } from '../../src'

// ----------------------------------------------------------------------------- fixture format

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

interface StepRequest {
  method: string
  path: string
  headers?: Record<string, string>
  body?: Json
}

interface StepExpect {
  status: number
  headers?: Record<string, string>
  body?: Json
  absent?: string[]
  events?: Array<string | JsonObject>
  eventsAbsent?: string[]
}

interface Step {
  name: string
  source: string
  request: StepRequest
  expect: StepExpect
  capture?: Record<string, string>
  /** Send the request this many times, with `{{i}}` = 1…n (e.g. a group of users assigned at once). */
  repeat?: number
}

interface Fixture {
  idp: string
  cycle: string
  title?: string
  steps: Step[]
  state: Step[]
  file: string
}

const FIXTURE_ROOT = join(__dirname, '..', 'fixtures', 'idp')
const MOUNT = '/scim/v2'
const TOKEN = 'idp-token'
const ERROR_URN = 'urn:ietf:params:scim:api:messages:2.0:Error'
const LIST_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'

function loadFixtures(): Fixture[] {
  const out: Fixture[] = []
  for (const idp of readdirSync(FIXTURE_ROOT).sort()) {
    const dir = join(FIXTURE_ROOT, idp)
    if (!statSync(dir).isDirectory()) continue
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.json')) continue
      const full = join(dir, file)
      const raw = JSON.parse(readFileSync(full, 'utf8')) as Omit<Fixture, 'file'>
      out.push({ ...raw, state: raw.state ?? [], file: relative(join(__dirname, '..', '..'), full) })
    }
  }
  return out
}

// ----------------------------------------------------------------------------- stores

interface Store {
  adapter: ScimAdapter<any>
  close(): Promise<void>
}

interface StoreFactory {
  name: string
  create(): Promise<Store>
}

function storeFactories(): StoreFactory[] {
  const factories: StoreFactory[] = [
    { name: 'memory', create: async () => ({ adapter: new MemoryAdapter(), close: async () => undefined }) },
  ]
  // scim-router/kysely on each database it supports (SQLite always; the others with their URLs).
  for (const k of STORES) {
    if (k.skip) continue
    factories.push({
      name: `kysely-${k.name.toLowerCase()}`,
      create: async () => {
        const store = await k.make()
        const mapping = scimTablesMapping()
        await migrate(store.db, mapping, { createTables: true })
        return { adapter: kyselyAdapter({ db: store.db, mapping }), close: () => store.drop() }
      },
    })
  }
  return factories
}

// ----------------------------------------------------------------------------- variables

type Vars = Map<string, Json>

const WHOLE = /^\{\{([A-Za-z0-9_.-]+)\}\}$/
const ANY = /\{\{([A-Za-z0-9_.-]+)\}\}/g

function lookup(vars: Vars, name: string, where: string): Json {
  if (!vars.has(name)) {
    throw new Error(`${where}: variable {{${name}}} has not been captured (did the step that captures it fail?)`)
  }
  return vars.get(name) as Json
}

/** Replace placeholders; `escape` transforms values embedded in a larger string (e.g. regex-escape). */
function substitute(value: Json, vars: Vars, where: string, escape: (s: string) => string = (s) => s): Json {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value)
    if (whole) {
      const v = lookup(vars, whole[1] as string, where)
      return typeof v === 'string' ? escape(v) : v
    }
    return value.replace(ANY, (_m, name: string) => {
      const v = lookup(vars, name, where)
      return escape(typeof v === 'string' ? v : JSON.stringify(v))
    })
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars, where, escape))
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {}
    for (const [k, v] of Object.entries(value)) out[k] = substitute(v, vars, where, escape)
    return out
  }
  return value
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

/** Percent-encode what cannot go on the wire (space, quotes, non-ASCII); keep what the IdP encoded. */
function wirePath(path: string): string {
  return path.replace(/[^A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]/g, (c) => encodeURIComponent(c))
}

// ----------------------------------------------------------------------------- matching

const show = (v: unknown): string => {
  const s = JSON.stringify(v)
  return s === undefined ? 'undefined' : s.length > 300 ? `${s.slice(0, 300)}…` : s
}

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

function isOperator(e: Json): e is JsonObject {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return false
  const keys = Object.keys(e)
  return keys.length === 1 && (keys[0] as string).startsWith('$')
}

/** Deep partial match. Returns the list of mismatches, each naming its path. */
function partialMatch(actual: unknown, expected: Json, path: string): string[] {
  if (isOperator(expected)) {
    const [op, arg] = Object.entries(expected)[0] as [string, Json]
    switch (op) {
      case '$regex':
        return typeof actual === 'string' && new RegExp(String(arg)).test(actual)
          ? []
          : [`${path}: expected a string matching /${String(arg)}/, got ${show(actual)}`]
      case '$type':
        return typeOf(actual) === arg ? [] : [`${path}: expected type ${String(arg)}, got ${typeOf(actual)} ${show(actual)}`]
      case '$length': {
        const len = Array.isArray(actual) || typeof actual === 'string' ? actual.length : undefined
        return len === arg ? [] : [`${path}: expected length ${String(arg)}, got ${len === undefined ? typeOf(actual) : len} ${show(actual)}`]
      }
      case '$contains':
      case '$unordered': {
        if (!Array.isArray(actual)) return [`${path}: expected an array, got ${show(actual)}`]
        const wanted = arg as Json[]
        if (op === '$unordered' && actual.length !== wanted.length) {
          return [`${path}: expected ${wanted.length} element(s) in any order, got ${actual.length}: ${show(actual)}`]
        }
        const used = new Set<number>()
        const errors: string[] = []
        wanted.forEach((w, i) => {
          const hit = actual.findIndex((a, j) => !used.has(j) && partialMatch(a, w, '').length === 0)
          if (hit < 0) errors.push(`${path}: no element matches expected[${i}] ${show(w)}; actual ${show(actual)}`)
          else used.add(hit)
        })
        return errors
      }
      default:
        return [`${path}: unknown matcher operator ${op} in the fixture`]
    }
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: expected an array, got ${show(actual)}`]
    if (actual.length !== expected.length) return [`${path}: expected ${expected.length} element(s), got ${actual.length}: ${show(actual)}`]
    return expected.flatMap((e, i) => partialMatch(actual[i], e, `${path}[${i}]`))
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path}: expected an object, got ${show(actual)}`]
    const errors: string[] = []
    for (const [k, e] of Object.entries(expected as Record<string, Json>)) {
      const child = path ? `${path}.${k}` : k
      if (!Object.prototype.hasOwnProperty.call(actual, k)) errors.push(`${child}: expected ${show(e)}, but it is absent`)
      else errors.push(...partialMatch((actual as Record<string, unknown>)[k], e, child))
    }
    return errors
  }
  return Object.is(actual, expected) ? [] : [`${path || '(root)'}: expected ${show(expected)}, got ${show(actual)}`]
}

/** Values at a dotted path; `*` fans out over arrays; numeric segments index arrays. */
function valuesAt(root: unknown, path: string): unknown[] {
  let current: unknown[] = [root]
  for (const seg of path.split('.')) {
    const next: unknown[] = []
    for (const node of current) {
      if (seg === '*') {
        if (Array.isArray(node)) next.push(...node)
      } else if (Array.isArray(node) && /^\d+$/.test(seg)) {
        if (Number(seg) < node.length) next.push(node[Number(seg)])
      } else if (node !== null && typeof node === 'object' && Object.prototype.hasOwnProperty.call(node, seg)) {
        next.push((node as Record<string, unknown>)[seg])
      }
    }
    current = next
  }
  return current
}

/** The value at a capture path such as `id` or `Resources.0.id`. */
function capturePath(root: unknown, path: string): unknown {
  return valuesAt(root, path)[0]
}

// ----------------------------------------------------------------------------- the replay

type Handler = (req: IncomingMessage, res: ServerResponse) => void

class Replay {
  readonly vars: Vars = new Map<string, Json>([['token', TOKEN]])
  readonly events: ScimEvent<any>[] = []
  app: Handler | undefined
  store: Store | undefined
  startError: unknown

  constructor(
    readonly fixture: Fixture,
    readonly factory: StoreFactory,
  ) {}

  async start(): Promise<void> {
    try {
      this.store = await this.factory.create()
      const router = scimRouter(this.store.adapter, {
        authenticate: bearerToken(TOKEN),
        onEvent: (event: ScimEvent<any>) => {
          this.events.push(event)
        },
      })
      const app = express()
      app.use(MOUNT, router)
      this.app = app as unknown as Handler
    } catch (err) {
      this.startError = err
    }
  }

  async stop(): Promise<void> {
    await this.store?.close()
  }

  label(step: Step, index: number, section: string): string {
    return `${this.fixture.file} [${this.factory.name}] ${section} #${index + 1} "${step.name}" (${step.source})`
  }

  async run(step: Step, index: number, section: string): Promise<void> {
    const times = step.repeat ?? 1
    for (let i = 1; i <= times; i++) {
      if (step.repeat !== undefined) this.vars.set('i', i)
      await this.once(step, index, section, step.repeat !== undefined ? ` [i=${i}]` : '')
    }
  }

  async once(step: Step, index: number, section: string, iteration: string): Promise<void> {
    const where = this.label(step, index, section) + iteration
    if (!this.app) throw new Error(`${where}: store could not be created: ${String((this.startError as Error)?.stack ?? this.startError)}`)
    const req = substitute(step.request as unknown as Json, this.vars, where) as unknown as StepRequest
    const exp = substitute(step.expect as unknown as Json, this.vars, where) as unknown as StepExpect
    const headerRegexes = step.expect.headers
      ? (substitute(step.expect.headers as unknown as Json, this.vars, where, escapeRegex) as Record<string, string>)
      : undefined

    const agent = request(this.app)
    const method = req.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head'
    let r = agent[method](MOUNT + wirePath(req.path))
    for (const [k, v] of Object.entries(req.headers ?? {})) r = r.set(k, v)
    if (req.body !== undefined) r = r.send(typeof req.body === 'string' ? req.body : JSON.stringify(req.body))
    const firstEvent = this.events.length
    const res = await r
    const emitted = this.events.slice(firstEvent)

    let body: unknown
    if (res.text) {
      try {
        body = JSON.parse(res.text)
      } catch {
        body = res.text
      }
    }
    const errors: string[] = []
    if (res.status !== exp.status) errors.push(`status: expected ${exp.status}, got ${res.status}`)
    // Invariants every IdP relies on (MT-001, ERR-001, PAT-091): scim+json bodies, error envelopes, empty 204s.
    if (res.text && !/^application\/scim\+json/i.test(String(res.headers['content-type']))) {
      errors.push(`content-type: expected application/scim+json, got ${show(res.headers['content-type'])}`)
    }
    if (res.status === 204 && res.text) errors.push(`204 with a body: ${show(res.text)}`)
    const list = body as { schemas?: unknown; itemsPerPage?: unknown; Resources?: unknown } | undefined
    if (Array.isArray(list?.schemas) && list.schemas.includes(LIST_URN) && list.itemsPerPage !== (Array.isArray(list.Resources) ? list.Resources.length : 0)) {
      errors.push(`itemsPerPage ${show(list.itemsPerPage)} differs from the number of Resources (LST-005)`)
    }
    if (res.status >= 400) {
      const envelope = body as { schemas?: unknown; status?: unknown; detail?: unknown } | undefined
      if (!Array.isArray(envelope?.schemas) || !envelope.schemas.includes(ERROR_URN)) errors.push(`error body without the Error schema: ${show(body)}`)
      if (envelope?.status !== String(res.status)) errors.push(`error body status: expected "${res.status}", got ${show(envelope?.status)}`)
      if (typeof envelope?.detail !== 'string' || envelope.detail === '') errors.push(`error body without detail: ${show(body)}`)
    }
    for (const [name, pattern] of Object.entries(headerRegexes ?? {})) {
      const actual = res.headers[name.toLowerCase()]
      const text = Array.isArray(actual) ? actual.join(', ') : actual
      if (typeof text !== 'string' || !new RegExp(pattern, 'i').test(text)) {
        errors.push(`header ${name}: expected /${pattern}/i, got ${show(text)}`)
      }
    }
    if (exp.body !== undefined) errors.push(...partialMatch(body, exp.body, 'body').map((e) => e))
    for (const p of exp.absent ?? []) {
      const found = valuesAt(body, p)
      if (found.length > 0) errors.push(`body.${p}: expected absent, got ${show(found.length === 1 ? found[0] : found)}`)
    }
    for (const e of exp.events ?? []) {
      const want: JsonObject = typeof e === 'string' ? { type: e } : e
      if (!emitted.some((ev) => partialMatch(ev, want, '').length === 0)) {
        errors.push(`event ${show(want)} was not emitted; emitted: ${show(emitted.map((ev) => ({ type: ev.type, id: ev.id })))}`)
      }
    }
    for (const t of exp.eventsAbsent ?? []) {
      if (emitted.some((ev) => ev.type === t)) errors.push(`event ${t} must not be emitted, but was`)
    }
    for (const ev of emitted) {
      if (JSON.stringify(ev, (k, v) => (k === 'ctx' ? undefined : v)).toLowerCase().includes('"password"')) {
        errors.push(`event ${ev.type} carries a password`)
      }
    }
    if (errors.length > 0) {
      throw new Error(
        `${where}\n  ${req.method} ${MOUNT}${req.path}\n  - ${errors.join('\n  - ')}\n  response ${res.status}: ${show(body ?? res.text)}`,
      )
    }
    for (const [name, p] of Object.entries(step.capture ?? {})) {
      const v = capturePath(body, p)
      if (v === undefined) throw new Error(`${where}: capture ${name} <- ${p}: nothing at that path in ${show(body)}`)
      this.vars.set(name, v as Json)
    }
  }
}

// ----------------------------------------------------------------------------- the suites

const fixtures = loadFixtures()
const stores = storeFactories()

describe('replay matcher', () => {
  it('reports mismatches with their path', () => {
    expect(partialMatch({ a: { b: 1 } }, { a: { b: 2 } }, 'body')).toEqual(['body.a.b: expected 2, got 1'])
    expect(partialMatch({ a: 1 }, { c: 1 }, 'body')[0]).toMatch(/body\.c: .*absent/)
    expect(partialMatch([1, 2], [1], 'body')[0]).toMatch(/expected 1 element/)
    expect(partialMatch({ a: 1, extra: true }, { a: 1 }, 'body')).toEqual([])
    expect(partialMatch(false, 'False', 'x')).toHaveLength(1)
  })

  it('supports the operators', () => {
    expect(partialMatch([{ v: 'a' }, { v: 'b' }], { $unordered: [{ v: 'b' }, { v: 'a' }] }, 'm')).toEqual([])
    expect(partialMatch([{ v: 'a' }, { v: 'b' }], { $unordered: [{ v: 'b' }] }, 'm')).toHaveLength(1)
    expect(partialMatch([{ v: 'a' }, { v: 'a' }], { $unordered: [{ v: 'a' }, { v: 'b' }] }, 'm')).toHaveLength(1)
    expect(partialMatch([{ v: 'a' }, { v: 'b' }], { $contains: [{ v: 'b' }] }, 'm')).toEqual([])
    expect(partialMatch('abc', { $regex: '^a' }, 's')).toEqual([])
    expect(partialMatch('xbc', { $regex: '^a' }, 's')).toHaveLength(1)
    expect(partialMatch(3, { $type: 'number' }, 'n')).toEqual([])
    expect(partialMatch([1], { $length: 2 }, 'n')).toHaveLength(1)
  })

  it('finds absent paths through arrays', () => {
    const body = { Resources: [{ id: 'a' }, { id: 'b', members: [] }] }
    expect(valuesAt(body, 'Resources.*.members')).toEqual([[]])
    expect(valuesAt(body, 'Resources.0.members')).toEqual([])
    expect(capturePath(body, 'Resources.1.id')).toBe('b')
  })

  it('substitutes variables, keeping types for whole placeholders', () => {
    const vars: Vars = new Map<string, Json>([['id', 'u-1'], ['n', 3]])
    expect(substitute({ p: '/Users/{{id}}', n: '{{n}}', a: ['{{id}}'] }, vars, 'x')).toEqual({ p: '/Users/u-1', n: 3, a: ['u-1'] })
    expect(() => substitute('{{missing}}', vars, 'step')).toThrow(/\{\{missing\}\} has not been captured/)
    expect(wirePath('/Users?filter=userName eq "a@b.c"')).toBe('/Users?filter=userName%20eq%20%22a@b.c%22')
  })
})

describe('IdP replay corpus', () => {
  it('has a cycle for every IdP and both Entra dialects', () => {
    const idps = new Set(fixtures.map((f) => f.idp))
    for (const idp of ['entra', 'okta', 'google-workspace', 'onelogin', 'jumpcloud']) expect(idps).toContain(idp)
    expect(fixtures.filter((f) => f.idp === 'entra').length).toBeGreaterThanOrEqual(2)
  })

  it.each(fixtures.map((f) => [f.file, f] as const))('%s is well formed', (_file, f) => {
    expect(f.steps.length).toBeGreaterThan(0)
    expect(f.state.length).toBeGreaterThan(0)
    for (const s of [...f.steps, ...f.state]) {
      const where = `${f.file}: step "${s.name}"`
      if (typeof s.name !== 'string' || !s.name) throw new Error(`${where}: no name`)
      if (typeof s.source !== 'string' || !/(SEQ|PAT|RES|EP|LST|AUTH|IDP|MT|EXT|FLT|DSC|MS-|OKTA-|GWS-|OL-|JC-|D-)/.test(s.source)) {
        throw new Error(`${where}: source must cite requirement or source ids`)
      }
      if (!/^(GET|POST|PUT|PATCH|DELETE)$/.test(s.request?.method)) throw new Error(`${where}: bad method`)
      if (typeof s.request.path !== 'string' || !s.request.path.startsWith('/')) throw new Error(`${where}: path must start with /`)
      if (typeof s.expect?.status !== 'number') throw new Error(`${where}: expect.status missing`)
    }
  })
})

for (const factory of stores) {
  describe(`store: ${factory.name}`, () => {
    for (const fixture of fixtures) {
      describe(`${fixture.idp}/${fixture.cycle}`, () => {
        const replay = new Replay(fixture, factory)
        beforeAll(() => replay.start())
        afterAll(() => replay.stop())
        fixture.steps.forEach((step, i) => {
          it(`#${String(i + 1).padStart(2, '0')} ${step.name}`, () => replay.run(step, i, 'step'))
        })
        fixture.state.forEach((step, i) => {
          it(`state #${i + 1} ${step.name}`, () => replay.run(step, i, 'state'))
        })
      })
    }
  })
}
