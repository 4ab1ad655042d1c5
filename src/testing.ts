/**
 * `scim-router/testing`: the adapter conformance kit. One call registers a complete test suite for
 * a {@link ScimAdapter} in your test runner (jest, vitest, `node:test`): the runner's functions are
 * passed in, assertions use `node:assert`, so nothing here depends on a test framework.
 *
 * What it checks (the contract in `ScimAdapter`'s TSDoc): CRUD and `null` for missing resources;
 * versioned compare-and-swap (stale `expectedVersion` → `ERR_SCIM_PRECONDITION_FAILED` on replace
 * and delete; versions change on every write and never repeat); uniqueness constraints
 * (case-insensitive, NFC, freed by delete, only the constraints passed); paging windows with the
 * true `totalResults`; the default order (created, then id) and `SortSpec` sorting exactly like
 * `compareForSort`; tenant isolation between two contexts; Group membership (derived `User.groups`,
 * members removed with the user, unknown members rejected); and filter pushdown correctness as a
 * property test: seeded random resources and ~150 random filters over every operator, `and`/`or`/
 * `not`, valuePaths, `pr`, multi-valued sub-attributes, extension attributes and dateTimes, where
 * the adapter's `list` must return exactly what `compileFilter` selects over the same resources
 * (filters for which `canFilter` answers false are skipped, as the router would not pass them; so
 * are sorts for which `canSort` answers false).
 * Strings must round-trip exactly as sent (no NFC on write) while comparisons still match
 * after NFC. When the adapter implements `listByCursor` (RFC 9865): cursor pages cover every match
 * exactly once in the `list` order (default and sorted, with filters), inserts and deletes
 * between pages neither skip nor repeat resources, and `previousCursor` (when offered) walks back.
 * Writes given an already aborted `signal` (the request deadline) must reject and change nothing.
 * @module
 */
import assert from 'node:assert/strict'
import type { CursorListQuery, CursorListResult, ScimAdapter, SortSpec, StoredResource, UniqueConstraint } from './adapter'
import { ServiceUnavailableError } from './errors'
import type { FilterNode } from './filter/ast'
import { compareDefault, compareForSort } from './filter/compare'
import { compileFilter } from './filter/evaluate'
import { parseFilter } from './filter/parse'
import {
  ENTERPRISE_USER_SCHEMA,
  enterpriseUserSchema,
  groupResourceType,
  groupSchema,
  userResourceType,
  userSchema,
} from './schema/core-schemas'
import { createRegistry, type CompiledResourceType } from './schema/registry'
import { toView } from './schema/view'

/** Test functions of the caller's runner. `expect` is accepted but unused (assertions use node:assert). */
export interface ConformanceRunner {
  describe(name: string, fn: () => void): unknown
  it(name: string, fn: () => Promise<void>): unknown
  expect?: unknown
  beforeEach?(fn: () => unknown): unknown
  afterAll?(fn: () => unknown): unknown
}

/** Options of {@link describeAdapterConformance}. */
export interface ConformanceOptions<Ctx> {
  /**
   * Two contexts naming two different tenants, or a function returning a fresh pair for every test
   * (useful when `makeAdapter` returns adapters over one shared database). Default
   * `[{ tenant: 'conformance-a' }, { tenant: 'conformance-b' }]`.
   */
  contexts?: readonly [Ctx, Ctx] | (() => readonly [Ctx, Ctx])
  /** Called after each test with the adapter it used (close connections, drop data). */
  teardown?: (adapter: ScimAdapter<Ctx>) => unknown
  /** Seed of the pseudo-random resources and filters. Default 20240521. */
  seed?: number
  /** Number of random filters of the property test. Default 150. */
  filters?: number
  /** Number of random users of the property test. Default 60. */
  users?: number
  /**
   * Receives the property test's counts: filters checked, skipped because `canFilter` said false
   * (with their text), and checked filters that matched at least one resource.
   */
  onFilterReport?: (report: { checked: number; skipped: string[]; nonEmpty: number }) => void
  /** Skip the Group-membership tests (for adapters that do not store Groups). */
  skipGroups?: boolean
}

const USER_UNIQUE: readonly UniqueConstraint[] = [{ path: 'userName', caseExact: false }]
const GROUP_UNIQUE: readonly UniqueConstraint[] = [{ path: 'displayName', caseExact: false }]

const registry = createRegistry([userSchema, groupSchema, enterpriseUserSchema], [userResourceType, groupResourceType])
const USERS = registry.byName('User') as CompiledResourceType
const GROUPS = registry.byName('Group') as CompiledResourceType

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function rejectsWith(p: Promise<unknown>, code: string, what: string): Promise<void> {
  try {
    await p
  } catch (err) {
    assert.equal((err as { code?: unknown }).code, code, `${what}: expected an error with code ${code}, got ${String(err)}`)
    return
  }
  assert.fail(`${what}: expected an error with code ${code}, but it succeeded`)
}

/** A structural copy built in this module's realm, so that deepStrictEqual ignores foreign prototypes (jest/vitest sandboxes). */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out: unknown[] = [] // not v.map: that would build the array in v's realm
    for (const x of v) out.push(plain(x))
    return out
  }
  if (v instanceof Date) return new Date(v.getTime())
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v)) out[k] = plain((v as Record<string, unknown>)[k])
    return out
  }
  return v
}

function same(actual: unknown, expected: unknown, message?: string): void {
  assert.deepStrictEqual(plain(actual), plain(expected), message)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Register the adapter conformance suite in the caller's test runner.
 *
 * @param name - suite name, e.g. the adapter's name.
 * @param makeAdapter - returns an adapter for one test. Each test uses fresh tenants (see
 *   {@link ConformanceOptions.contexts}); with the default contexts, return an adapter over empty
 *   storage each time.
 * @param t - the runner's `describe` and `it` (and optionally `beforeEach`/`afterAll`).
 *
 * @example
 * ```ts
 * // jest or vitest
 * import { describeAdapterConformance } from 'scim-router/testing'
 * describeAdapterConformance('MyAdapter', () => new MyAdapter(db), { describe, it, expect })
 *
 * // node:test
 * import { describe, it } from 'node:test'
 * describeAdapterConformance('MyAdapter', () => new MyAdapter(db), { describe, it })
 * ```
 */
export function describeAdapterConformance<Ctx = unknown>(
  name: string,
  makeAdapter: () => ScimAdapter<Ctx> | Promise<ScimAdapter<Ctx>>,
  t: ConformanceRunner,
  options: ConformanceOptions<Ctx> = {},
): void {
  const defaults = [{ tenant: 'conformance-a' }, { tenant: 'conformance-b' }] as unknown as readonly [Ctx, Ctx]
  const contexts = (): readonly [Ctx, Ctx] => {
    const c = options.contexts
    return typeof c === 'function' ? c() : c ?? defaults
  }
  /** Run a test body with a fresh adapter and contexts, then tear down. */
  const test = (title: string, body: (a: ScimAdapter<Ctx>, A: Ctx, B: Ctx) => Promise<void>): void => {
    t.it(title, async () => {
      const adapter = await makeAdapter()
      const [A, B] = contexts()
      try {
        await body(adapter, A, B)
      } finally {
        await options.teardown?.(adapter)
      }
    })
  }
  const createUser = (a: ScimAdapter<Ctx>, ctx: Ctx, attributes: Record<string, unknown>) =>
    a.create({ resourceType: 'User', attributes, unique: USER_UNIQUE }, ctx)
  const listAll = async (a: ScimAdapter<Ctx>, ctx: Ctx, resourceType: string, extra: { filter?: FilterNode; sort?: SortSpec } = {}) =>
    a.list({ resourceType, startIndex: 1, count: 10_000, ...extra }, ctx)
  const ids = (rs: readonly StoredResource[]) => rs.map((r) => r.id)

  t.describe(`${name}: adapter conformance (scim-router/testing)`, () => {
    // ---------------------------------------------------------------- CRUD
    t.describe('CRUD', () => {
      test('create returns id, version, created/lastModified and the attributes; get reads it back', async (a, A) => {
        const before = Date.now()
        const u = await createUser(a, A, { userName: 'crud@example.com', active: true, name: { givenName: 'Cru' } })
        assert.equal(typeof u.id, 'string')
        assert.ok(u.id.length > 0 && !u.id.includes('bulkId'), 'id is a non-empty string without bulkId')
        assert.equal(typeof u.version, 'string')
        assert.ok(u.created instanceof Date && u.lastModified instanceof Date, 'created and lastModified are Dates')
        assert.ok(u.created.getTime() >= before - 1000 && u.created.getTime() <= Date.now() + 1000, 'created is now')
        assert.equal(u.attributes['userName'], 'crud@example.com')
        const got = await a.get({ resourceType: 'User', id: u.id }, A)
        assert.ok(got, 'get finds the created resource')
        assert.equal(got.id, u.id)
        assert.equal(got.version, u.version)
        assert.equal(got.created.getTime(), u.created.getTime())
        same(got.attributes, { userName: 'crud@example.com', active: true, name: { givenName: 'Cru' } })
      })

      test('strings are stored and returned exactly as sent (MT-011), and still compare after NFC', async (a, A) => {
        const nfd = 'Zoe\u0308 A\u030angstro\u0308m'
        const nfc = nfd.normalize('NFC')
        const u = await createUser(a, A, { userName: 'zoe\u0308.nfd', displayName: nfd, nickName: 'Bob "The Builder"', name: { familyName: "O'Malley" }, emails: [{ value: 'Zoe\u0308@x.com' }] })
        const got = await a.get({ resourceType: 'User', id: u.id }, A)
        assert.equal(got?.attributes['userName'], 'zoe\u0308.nfd', 'userName as sent (NFD)')
        assert.equal(got?.attributes['displayName'], nfd, 'displayName as sent (NFD)')
        assert.equal(got?.attributes['nickName'], 'Bob "The Builder"')
        same(got?.attributes['emails'], [{ value: 'Zoe\u0308@x.com' }])
        const listed = (await listAll(a, A, 'User')).resources.find((r) => r.id === u.id)
        assert.equal(listed?.attributes['displayName'], nfd, 'list returns the value as sent')
        for (const text of [`displayName eq "${nfc}"`, `displayName eq "${nfd.toUpperCase()}"`, `userName eq "ZO\u00cb.NFD"`, `emails.value eq "zo\u00eb@x.com"`, `displayName sw "zo\u00eb"`]) {
          const filter = parseFilter(text, USERS)
          if (a.canFilter && !a.canFilter(filter, 'User')) continue
          same(ids((await listAll(a, A, 'User', { filter })).resources), [u.id], `filter ${JSON.stringify(text)} matches after NFC and case folding`)
        }
      })

      test('get returns null for a missing id and for another resource type', async (a, A) => {
        const u = await createUser(a, A, { userName: 'x@example.com' })
        assert.equal(await a.get({ resourceType: 'User', id: 'no-such-id' }, A), null)
        assert.equal(await a.get({ resourceType: 'Group', id: u.id }, A), null)
      })

      test('ids are unique across resource types', async (a, A) => {
        const seen = new Set<string>()
        for (let i = 0; i < 5; i++) {
          seen.add((await createUser(a, A, { userName: `u${i}` })).id)
          seen.add((await a.create({ resourceType: 'Group', attributes: { displayName: `g${i}` }, unique: [] }, A)).id)
        }
        assert.equal(seen.size, 10)
      })

      test('replace stores the complete new attribute set and a new version; lastModified does not go back', async (a, A) => {
        const u = await createUser(a, A, { userName: 'r@example.com', title: 'Old', nickName: 'n' })
        await sleep(2)
        const r = await a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'r@example.com', title: 'New' }, unique: USER_UNIQUE }, A)
        assert.notEqual(r.version, u.version)
        assert.ok(r.lastModified.getTime() >= u.lastModified.getTime())
        assert.equal(r.created.getTime(), u.created.getTime())
        const got = await a.get({ resourceType: 'User', id: u.id }, A)
        same(got?.attributes, { userName: 'r@example.com', title: 'New' })
        assert.equal(got?.version, r.version)
      })

      test('delete removes; replace and delete of a missing resource throw ERR_SCIM_NOT_FOUND', async (a, A) => {
        const u = await createUser(a, A, { userName: 'd@example.com' })
        await a.delete({ resourceType: 'User', id: u.id }, A)
        assert.equal(await a.get({ resourceType: 'User', id: u.id }, A), null)
        assert.equal((await listAll(a, A, 'User')).totalResults, 0)
        await rejectsWith(a.delete({ resourceType: 'User', id: u.id }, A), 'ERR_SCIM_NOT_FOUND', 'delete of a deleted resource')
        await rejectsWith(
          a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'd@example.com' }, unique: USER_UNIQUE }, A),
          'ERR_SCIM_NOT_FOUND',
          'replace of a deleted resource',
        )
        const g = await a.create({ resourceType: 'Group', attributes: { displayName: 'G' }, unique: [] }, A)
        await rejectsWith(a.delete({ resourceType: 'User', id: g.id }, A), 'ERR_SCIM_NOT_FOUND', 'delete with the wrong resource type')
      })
    })

    // ---------------------------------------------------------------- CAS
    // ---------------------------------------------------------------- deadline
    t.describe('AdapterQuery.signal (the request deadline)', () => {
      test('a write whose signal is aborted rejects and commits nothing', async (a, A) => {
        const controller = new AbortController()
        const reason = new ServiceUnavailableError(5, 'deadline passed (conformance kit)')
        controller.abort(reason)
        const signal = controller.signal
        const aborted = async (p: Promise<unknown>, what: string): Promise<void> => {
          try {
            await p
          } catch {
            return
          }
          assert.fail(`${what} with an aborted signal succeeded: a store must not commit once the signal is aborted`)
        }
        const u = await createUser(a, A, { userName: 'signal@example.com', title: 'old' })
        await aborted(a.create({ resourceType: 'User', attributes: { userName: 'never@example.com' }, unique: USER_UNIQUE, signal }, A), 'create')
        await aborted(a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'signal@example.com', title: 'new' }, unique: USER_UNIQUE, signal }, A), 'replace')
        await aborted(a.delete({ resourceType: 'User', id: u.id, signal }, A), 'delete')
        if (a.modifyMembers && !options.skipGroups) {
          const g = await a.create({ resourceType: 'Group', attributes: { displayName: 'signal' }, unique: GROUP_UNIQUE }, A)
          await aborted(a.modifyMembers({ resourceType: 'Group', id: g.id, add: [u.id], remove: [], signal }, A), 'modifyMembers')
          same(((await a.get({ resourceType: 'Group', id: g.id }, A))?.attributes['members'] as unknown[] | undefined) ?? [], [], 'modifyMembers added nothing')
        }
        const after = await a.get({ resourceType: 'User', id: u.id }, A)
        assert.ok(after, 'the aborted delete left the user in place')
        assert.equal(after.version, u.version, 'the aborted replace left the version unchanged')
        assert.equal(after.attributes['title'], 'old', 'the aborted replace changed nothing')
        same(ids((await listAll(a, A, 'User')).resources), [u.id], 'the aborted create stored nothing')
      })
    })

    t.describe('versioned compare-and-swap', () => {
      test('a stale expectedVersion fails replace and delete with ERR_SCIM_PRECONDITION_FAILED and changes nothing', async (a, A) => {
        const u = await createUser(a, A, { userName: 'cas@example.com', title: 'v1' })
        const r = await a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'cas@example.com', title: 'v2' }, expectedVersion: u.version, unique: USER_UNIQUE }, A)
        await rejectsWith(
          a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'cas@example.com', title: 'v3' }, expectedVersion: u.version, unique: USER_UNIQUE }, A),
          'ERR_SCIM_PRECONDITION_FAILED',
          'replace with a stale version',
        )
        await rejectsWith(a.delete({ resourceType: 'User', id: u.id, expectedVersion: u.version }, A), 'ERR_SCIM_PRECONDITION_FAILED', 'delete with a stale version')
        const got = await a.get({ resourceType: 'User', id: u.id }, A)
        assert.equal(got?.attributes['title'], 'v2')
        assert.equal(got?.version, r.version)
        await a.delete({ resourceType: 'User', id: u.id, expectedVersion: r.version }, A)
        assert.equal(await a.get({ resourceType: 'User', id: u.id }, A), null)
      })

      test('versions change on every write and never repeat', async (a, A) => {
        const u = await createUser(a, A, { userName: 'ver@example.com' })
        const versions = [u.version]
        let current = u.version
        for (let i = 0; i < 12; i++) {
          const r = await a.replace(
            { resourceType: 'User', id: u.id, attributes: { userName: 'ver@example.com', title: i % 2 ? 'a' : 'b' }, expectedVersion: current, unique: USER_UNIQUE },
            A,
          )
          versions.push(r.version)
          current = r.version
        }
        assert.equal(new Set(versions).size, versions.length, `versions repeat: ${versions.join(',')}`)
      })

      test('concurrent replaces with the same expectedVersion: exactly one wins', async (a, A) => {
        const u = await createUser(a, A, { userName: 'race@example.com' })
        const results = await Promise.allSettled(
          [1, 2, 3, 4, 5].map((i) =>
            a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'race@example.com', title: `t${i}` }, expectedVersion: u.version, unique: USER_UNIQUE }, A),
          ),
        )
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
        for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: unknown }).code, 'ERR_SCIM_PRECONDITION_FAILED')
      })
    })

    // ---------------------------------------------------------------- uniqueness
    t.describe('uniqueness', () => {
      test('userName is unique case-insensitively and after NFC normalisation; freed by delete', async (a, A) => {
        const u = await createUser(a, A, { userName: 'Alice@Example.com' })
        await rejectsWith(createUser(a, A, { userName: 'ALICE@example.COM' }), 'ERR_SCIM_UNIQUENESS', 'same userName in another case')
        await createUser(a, A, { userName: 'Zo\u00eb' })
        await rejectsWith(createUser(a, A, { userName: 'zoe\u0308' }), 'ERR_SCIM_UNIQUENESS', 'same userName in NFD')
        // FLT-021: userName folds like the filter rule, so a lookup can never find two users.
        await createUser(a, A, { userName: 'Stra\u00dfe' })
        await rejectsWith(createUser(a, A, { userName: 'STRASSE' }), 'ERR_SCIM_UNIQUENESS', 'userName equal under full case folding')
        await rejectsWith(createUser(a, A, { userName: 'STRA\u1e9eE' }), 'ERR_SCIM_UNIQUENESS', 'capital sharp s folds to ss')
        // Full case folding (foldCase) keeps the dotless i distinct from i.
        await createUser(a, A, { userName: 'adm\u0131n' })
        await createUser(a, A, { userName: 'admin' })
        const b = await createUser(a, A, { userName: 'bob' })
        await rejectsWith(
          a.replace({ resourceType: 'User', id: b.id, attributes: { userName: 'alice@example.com' }, unique: USER_UNIQUE }, A),
          'ERR_SCIM_UNIQUENESS',
          'replace to a taken userName',
        )
        assert.equal((await a.get({ resourceType: 'User', id: b.id }, A))?.attributes['userName'], 'bob')
        // Changing the case of one's own userName is not a collision.
        await a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'ALICE@example.com' }, unique: USER_UNIQUE }, A)
        await a.delete({ resourceType: 'User', id: u.id }, A)
        await createUser(a, A, { userName: 'alice@example.com' })
        // A renamed user frees its old name.
        await a.replace({ resourceType: 'User', id: b.id, attributes: { userName: 'robert' }, unique: USER_UNIQUE }, A)
        await createUser(a, A, { userName: 'BOB' })
      })

      test('only the constraints passed are enforced (User displayName is not unique; Group displayName when asked)', async (a, A) => {
        await createUser(a, A, { userName: 'p1', displayName: 'Same Name' })
        await createUser(a, A, { userName: 'p2', displayName: 'Same Name' })
        await a.create({ resourceType: 'Group', attributes: { displayName: 'Admins' }, unique: GROUP_UNIQUE }, A)
        await rejectsWith(a.create({ resourceType: 'Group', attributes: { displayName: 'ADMINS' }, unique: GROUP_UNIQUE }, A), 'ERR_SCIM_UNIQUENESS', 'group displayName')
      })

      test('concurrent creates of one userName: exactly one succeeds', async (a, A) => {
        const results = await Promise.allSettled([0, 1, 2, 3, 4, 5, 6, 7].map((i) => createUser(a, A, { userName: i % 2 ? 'dup@x.com' : 'DUP@x.com' })))
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
        for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: unknown }).code, 'ERR_SCIM_UNIQUENESS')
        assert.equal((await listAll(a, A, 'User')).totalResults, 1)
      })
    })

    // ---------------------------------------------------------------- paging, order, sort
    t.describe('paging, default order and sorting', () => {
      test('pages are exact windows of the default order (created, then id) with the true totalResults', async (a, A) => {
        for (let i = 0; i < 7; i++) await createUser(a, A, { userName: `page${i}` })
        const all = await listAll(a, A, 'User')
        assert.equal(all.totalResults, 7)
        const views = all.resources.map((r) => toView(USERS, r))
        same(ids(all.resources), [...views].sort(compareDefault).map((v) => v['id']), 'default order is created, then id')
        const windows: [number, number][] = [[1, 3], [4, 3], [7, 3], [8, 3], [2, 0], [1, 7], [3, 100], [100, 5]]
        for (const [startIndex, count] of windows) {
          const page = await a.list({ resourceType: 'User', startIndex, count }, A)
          assert.equal(page.totalResults, 7, `totalResults for startIndex=${startIndex} count=${count}`)
          same(ids(page.resources), ids(all.resources).slice(startIndex - 1, startIndex - 1 + count), `window ${startIndex}/${count}`)
        }
        const filtered = await a.list({ resourceType: 'User', startIndex: 2, count: 1, filter: parseFilter('userName sw "page"', USERS) }, A)
        assert.equal(filtered.totalResults, 7)
        same(ids(filtered.resources), [all.resources[1]!.id])
        assert.equal((await a.list({ resourceType: 'Group', startIndex: 1, count: 10 }, A)).totalResults, 0)
      })

      test('sorting per SortSpec equals compareForSort (strings folded, missing last/first, multi-valued primary, dateTime, boolean) with paging', async (a, A) => {
        const rnd = prng((options.seed ?? 20240521) + 7)
        const titles = ['alpha', 'Beta', 'beta', 'Gamma', '', undefined]
        for (let i = 0; i < 14; i++) {
          const attrs: Record<string, unknown> = { userName: `${rnd() < 0.5 ? 'S' : 's'}ort${Math.floor(rnd() * 5)}-${i}` }
          const title = titles[Math.floor(rnd() * titles.length)]
          if (title !== undefined) attrs['title'] = title
          if (rnd() < 0.7) attrs['active'] = rnd() < 0.5
          if (rnd() < 0.8) {
            attrs['emails'] = [
              { value: `${String.fromCharCode(97 + Math.floor(rnd() * 5))}${i}@x.com`, type: 'work' },
              { value: `${String.fromCharCode(65 + Math.floor(rnd() * 5))}${i}@y.com`, type: 'home', ...(rnd() < 0.5 ? { primary: true } : {}) },
            ]
          }
          if (rnd() < 0.6) attrs[ENTERPRISE_USER_SCHEMA] = { department: ['Ops', 'dev', 'Dev', 'QA'][Math.floor(rnd() * 4)] }
          await createUser(a, A, attrs)
          if (i % 4 === 0) await sleep(2)
        }
        const all = (await listAll(a, A, 'User')).resources
        for (const path of ['userName', 'title', 'emails.value', 'emails.type', 'active', 'meta.created', 'meta.lastModified', `${ENTERPRISE_USER_SCHEMA}:department`, 'id', 'name.familyName']) {
          const resolved = USERS.resolveText(path)
          assert.ok(resolved?.kind === 'attribute')
          for (const order of ['ascending', 'descending'] as const) {
            const sort: SortSpec = { attribute: resolved.info, order }
            if (a.canSort && !a.canSort(sort, 'User')) continue // the router sorts this one in memory
            const cmp = compareForSort(sort.attribute, order)
            const expected = all.map((r) => toView(USERS, r)).sort(cmp).map((v) => v['id'])
            const got = await listAll(a, A, 'User', { sort })
            same(ids(got.resources), expected, `sortBy=${path} ${order}`)
            const page = await a.list({ resourceType: 'User', startIndex: 4, count: 5, sort }, A)
            same(ids(page.resources), expected.slice(3, 8), `sortBy=${path} ${order}, page 4..8`)
            assert.equal(page.totalResults, all.length)
          }
        }
      })

      test('canSort (when implemented) answers a boolean, the same every time; every sort it accepts, derived groups and Group attributes included, equals compareForSort', async (a, A) => {
        if (typeof a.canSort !== 'function') return // optional method: every sort is the adapter's (checked above)
        const canSort = a.canSort.bind(a)
        const users = []
        for (const [i, name] of ['Zed', 'amy', 'Bob', 'carl'].entries()) users.push(await createUser(a, A, { userName: `cs-${name}`, displayName: name, title: i % 2 ? 'x' : 'Y' }))
        if (!options.skipGroups) {
          await a.create({ resourceType: 'Group', attributes: { displayName: 'beta', members: [{ value: users[0]!.id }, { value: users[2]!.id }] }, unique: GROUP_UNIQUE }, A)
          await a.create({ resourceType: 'Group', attributes: { displayName: 'Alpha', members: [{ value: users[1]!.id }] }, unique: GROUP_UNIQUE }, A)
          await a.create({ resourceType: 'Group', attributes: { displayName: 'gamma' }, unique: GROUP_UNIQUE }, A)
        }
        const cases: [CompiledResourceType, string][] = [[USERS, 'userName'], [USERS, 'displayName'], [USERS, 'title'], [USERS, 'meta.created'], [USERS, 'id']]
        if (!options.skipGroups) cases.push([USERS, 'groups.display'], [USERS, 'groups.value'], [GROUPS, 'displayName'], [GROUPS, 'members.value'], [GROUPS, 'meta.lastModified'])
        for (const [rt, path] of cases) {
          const resolved = rt.resolveText(path)
          assert.ok(resolved?.kind === 'attribute', path)
          for (const order of ['ascending', 'descending'] as const) {
            const sort: SortSpec = { attribute: resolved.info, order }
            const answer: boolean = canSort(sort, rt.name)
            assert.equal(typeof answer, 'boolean', `canSort(${rt.name} ${path}) is a boolean`)
            assert.equal(canSort(sort, rt.name), answer, `canSort(${rt.name} ${path}) answers the same twice`)
            if (!answer) continue
            const all = (await listAll(a, A, rt.name)).resources
            const expected = all.map((r) => toView(rt, r)).sort(compareForSort(sort.attribute, order)).map((v) => v['id'])
            same(ids((await listAll(a, A, rt.name, { sort })).resources), expected, `${rt.name} sortBy=${path} ${order}`)
          }
        }
      })
    })

    // ---------------------------------------------------------------- cursors (RFC 9865)
    t.describe('cursor pagination (listByCursor, when implemented)', () => {
      /** Walk every page forward with nextCursor; returns the pages. */
      const walk = async (a: ScimAdapter<Ctx>, ctx: Ctx, q: Omit<CursorListQuery, 'cursor'>): Promise<CursorListResult[]> => {
        const pages: CursorListResult[] = []
        let cursor: string | undefined
        for (let guard = 0; guard < 1000; guard++) {
          const page = await a.listByCursor!(cursor === undefined ? q : { ...q, cursor }, ctx)
          pages.push(page)
          if (page.nextCursor === undefined) return pages
          assert.equal(typeof page.nextCursor, 'string', 'nextCursor is a string')
          assert.ok(page.resources.length > 0, 'a page with a nextCursor is not empty')
          cursor = page.nextCursor
        }
        assert.fail('nextCursor never ended')
      }
      const expectedOrder = (rs: readonly StoredResource[], sort: SortSpec | undefined, filter?: FilterNode): string[] => {
        const test = filter ? compileFilter(filter) : () => true
        const cmp = sort ? compareForSort(sort.attribute, sort.order) : compareDefault
        return rs.map((r) => toView(USERS, r)).filter(test).sort(cmp).map((v) => v['id'] as string)
      }
      const cursorTest = (title: string, body: (a: ScimAdapter<Ctx>, A: Ctx) => Promise<void>): void =>
        test(title, async (a, A) => {
          if (typeof a.listByCursor !== 'function') return // optional method: nothing to check
          await body(a, A)
        })
      const sortOf = (path: string, order: 'ascending' | 'descending'): SortSpec => {
        const resolved = USERS.resolveText(path)
        assert.ok(resolved?.kind === 'attribute', path)
        return { attribute: resolved.info, order }
      }

      cursorTest('pages cover every match exactly once, in the list order, for the default order, sorts and filters; previousCursor walks back', async (a, A) => {
        const rnd = prng((options.seed ?? 20240521) + 11)
        for (let i = 0; i < 13; i++) {
          const attrs: Record<string, unknown> = { userName: `${rnd() < 0.5 ? 'C' : 'c'}ur${Math.floor(rnd() * 4)}-${i}` }
          const title = pick(rnd, ['alpha', 'Beta', 'beta', 'Zoe\u0308', 'zo\u00eb', '', undefined])
          if (title !== undefined) attrs['title'] = title
          if (rnd() < 0.7) attrs['active'] = rnd() < 0.5
          if (rnd() < 0.7) attrs['emails'] = [{ value: `${String.fromCharCode(97 + Math.floor(rnd() * 4))}${i}@x.com`, ...(rnd() < 0.5 ? { primary: true } : {}) }]
          if (rnd() < 0.6) attrs[ENTERPRISE_USER_SCHEMA] = { department: pick(rnd, ['Ops', 'dev', 'Dev']) }
          await createUser(a, A, attrs)
          if (i % 3 === 0) await sleep(2)
        }
        await a.create({ resourceType: 'Group', attributes: { displayName: 'not a user' }, unique: [] }, A)
        const all = (await listAll(a, A, 'User')).resources
        const cases: { sort?: SortSpec; filter?: FilterNode; count: number }[] = [
          { count: 4 },
          { count: 1 },
          { count: 13 },
          { count: 50 },
          { count: 3, filter: parseFilter('userName sw "c" and not (title eq "beta")', USERS) },
        ]
        for (const path of ['userName', 'title', 'active', 'emails.value', 'meta.lastModified', `${ENTERPRISE_USER_SCHEMA}:department`]) {
          for (const order of ['ascending', 'descending'] as const) cases.push({ sort: sortOf(path, order), count: 3 })
        }
        cases.push({ sort: sortOf('title', 'descending'), count: 2, filter: parseFilter('active pr', USERS) })
        for (const c of cases) {
          const what = `sortBy=${c.sort ? `${c.sort.attribute.path} ${c.sort.order}` : '(default)'} count=${c.count}${c.filter ? ' with a filter' : ''}`
          const q: Omit<CursorListQuery, 'cursor'> = { resourceType: 'User', count: c.count, ...(c.sort ? { sort: c.sort } : {}), ...(c.filter ? { filter: c.filter } : {}) }
          if (c.filter && a.canFilter && !a.canFilter(c.filter, 'User')) continue
          if (c.sort && a.canSort && !a.canSort(c.sort, 'User')) continue
          const expected = expectedOrder(all, c.sort, c.filter)
          const pages = await walk(a, A, q)
          same(pages.flatMap((p) => ids(p.resources)), expected, `${what}: pages in order, each match once`)
          assert.equal(pages[0]!.previousCursor, undefined, `${what}: no previousCursor on the first page`)
          for (const p of pages) {
            assert.ok(p.resources.length <= c.count, `${what}: at most count resources per page`)
            if (p.totalResults !== undefined) assert.equal(p.totalResults, expected.length, `${what}: totalResults`)
          }
          // previousCursor is optional; when offered it returns the page before, back to the first.
          const lastPage = pages[pages.length - 1]!
          if (pages.length > 1 && lastPage.previousCursor !== undefined) {
            let cursor: string | undefined = lastPage.previousCursor
            for (let i = pages.length - 2; i >= 0; i--) {
              if (cursor === undefined) assert.fail(`${what}: no previousCursor on page ${i + 2}`)
              const back: CursorListResult = await a.listByCursor!({ ...q, cursor }, A)
              same(ids(back.resources), ids(pages[i]!.resources), `${what}: previousCursor returns page ${i + 1}`)
              assert.ok(back.nextCursor !== undefined, `${what}: a page reached backwards has a nextCursor`)
              cursor = back.previousCursor
            }
            assert.equal(cursor, undefined, `${what}: no previousCursor once back at the first page`)
          }
        }
        const zero = await a.listByCursor!({ resourceType: 'User', count: 0 }, A)
        same(ids(zero.resources), [], 'count 0: no resources')
        if (zero.totalResults !== undefined) assert.equal(zero.totalResults, all.length, 'count 0: totalResults')
      })

      cursorTest('inserts and deletes between pages neither skip nor repeat resources (keyset, not offsets)', async (a, A) => {
        for (const sort of [undefined, sortOf('userName', 'ascending'), sortOf('title', 'descending')]) {
          const made: StoredResource[] = []
          const tenantA = A
          const prefix = `k${sort ? sort.attribute.path[0] : 'd'}${sort?.order === 'descending' ? 'D' : 'A'}`
          for (let i = 0; i < 8; i++) {
            made.push(await createUser(a, tenantA, { userName: `${prefix}-m${i}`, ...(i % 3 ? { title: `t${i % 4}` } : {}) }))
          }
          const filter = parseFilter(`userName sw "${prefix}-"`, USERS)
          const what = `sortBy=${sort ? `${sort.attribute.path} ${sort.order}` : '(default)'}`
          const q: Omit<CursorListQuery, 'cursor'> = { resourceType: 'User', count: 3, filter, ...(sort ? { sort } : {}) }
          const cmp = sort ? compareForSort(sort.attribute, sort.order) : compareDefault
          const p1 = await a.listByCursor!(q, A)
          assert.equal(p1.resources.length, 3, `${what}: first page`)
          assert.ok(p1.nextCursor, `${what}: first page has a nextCursor`)
          const seen = ids(p1.resources)
          const boundary = toView(USERS, p1.resources[2]!)
          // Delete a seen resource, the boundary itself, and one not seen yet; insert resources
          // that sort before the boundary (must not appear) and after it (must appear).
          const current = expectedOrder((await listAll(a, A, 'User', { filter })).resources, sort)
          const unseen = current.filter((id) => !seen.includes(id))
          await a.delete({ resourceType: 'User', id: seen[0]! }, A)
          await a.delete({ resourceType: 'User', id: seen[2]! }, A)
          await a.delete({ resourceType: 'User', id: unseen[1]! }, A)
          await createUser(a, A, { userName: `${prefix}-a-new`, title: 'a-new' })
          await createUser(a, A, { userName: `${prefix}-z-new`, title: 'z-new' })
          await createUser(a, A, { userName: `${prefix}-n-new` })
          const now = (await listAll(a, A, 'User', { filter })).resources
          const expectedRest = expectedOrder(now, sort).filter((id) => {
            const r = now.find((x) => x.id === id)!
            return cmp(toView(USERS, r), boundary) > 0
          })
          let cursor: string | undefined = p1.nextCursor
          const rest: string[] = []
          const pages: CursorListResult[] = []
          while (cursor !== undefined) {
            const page: CursorListResult = await a.listByCursor!({ ...q, cursor }, A)
            pages.push(page)
            rest.push(...ids(page.resources))
            cursor = page.nextCursor
          }
          same(rest, expectedRest, `${what}: the pages after the boundary are exactly the current matches after it`)
          for (const id of rest) assert.ok(!seen.includes(id), `${what}: no resource repeats`)
          const totalNow = now.length
          for (const p of pages) if (p.totalResults !== undefined) assert.equal(p.totalResults, totalNow, `${what}: totalResults counts the current matches`)
          // previousCursor of the second page: the (current) resources just before its first one.
          const second = pages[0]!
          if (second.previousCursor !== undefined && second.resources.length > 0) {
            const back = await a.listByCursor!({ ...q, cursor: second.previousCursor }, A)
            const order = expectedOrder(now, sort)
            const at = order.indexOf(second.resources[0]!.id)
            same(ids(back.resources), order.slice(Math.max(0, at - 3), at), `${what}: previousCursor returns the resources just before the page`)
          }
        }
      })
    })

    // ---------------------------------------------------------------- tenants
    t.describe('tenant isolation', () => {
      test('resources of one context are invisible to the other, and uniqueness is per tenant', async (a, A, B) => {
        const u = await createUser(a, A, { userName: 'tenant@example.com' })
        assert.equal(await a.get({ resourceType: 'User', id: u.id }, B), null)
        assert.equal((await listAll(a, B, 'User')).totalResults, 0)
        assert.equal((await listAll(a, B, 'User', { filter: parseFilter(`id eq "${u.id}"`, USERS) })).totalResults, 0)
        assert.equal((await listAll(a, B, 'User', { filter: parseFilter('userName eq "tenant@example.com"', USERS) })).totalResults, 0)
        await rejectsWith(a.delete({ resourceType: 'User', id: u.id }, B), 'ERR_SCIM_NOT_FOUND', 'delete from another tenant')
        await rejectsWith(
          a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'x' }, unique: USER_UNIQUE }, B),
          'ERR_SCIM_NOT_FOUND',
          'replace from another tenant',
        )
        const other = await createUser(a, B, { userName: 'TENANT@example.com' })
        if (!options.skipGroups) {
          await rejectsWith(
            a.create({ resourceType: 'Group', attributes: { displayName: 'x', members: [{ value: u.id }] }, unique: [] }, B),
            'ERR_SCIM_INVALID_VALUE',
            'a member from another tenant',
          )
        }
        assert.equal((await listAll(a, A, 'User')).totalResults, 1)
        same(ids((await listAll(a, B, 'User')).resources), [other.id])
        assert.equal((await a.get({ resourceType: 'User', id: u.id }, A))?.attributes['userName'], 'tenant@example.com')
      })
    })

    // ---------------------------------------------------------------- groups
    if (!options.skipGroups) {
      t.describe('Group membership', () => {
        test('User.groups is derived; members carry value/type/display; replace changes membership', async (a, A) => {
          const u1 = await createUser(a, A, { userName: 'm1', displayName: 'Member One' })
          const u2 = await createUser(a, A, { userName: 'm2' })
          const g = await a.create({ resourceType: 'Group', attributes: { displayName: 'Team', members: [{ value: u1.id }] }, unique: GROUP_UNIQUE }, A)
          const members = g.attributes['members'] as Record<string, unknown>[]
          assert.equal(members.length, 1)
          assert.equal(members[0]!['value'], u1.id)
          assert.equal(members[0]!['type'], 'User')
          const got1 = await a.get({ resourceType: 'User', id: u1.id }, A)
          same(
            (got1?.attributes['groups'] as Record<string, unknown>[]).map((x) => [x['value'], x['display'], x['type']]),
            [[g.id, 'Team', 'direct']],
          )
          const listed = (await listAll(a, A, 'User')).resources.find((r) => r.id === u1.id)
          assert.ok(Array.isArray(listed?.attributes['groups']), 'list returns derived groups too')
          const gr = await a.get({ resourceType: 'Group', id: g.id }, A)
          assert.equal((gr?.attributes['members'] as Record<string, unknown>[])[0]!['display'], 'Member One')
          await a.replace({ resourceType: 'Group', id: g.id, attributes: { displayName: 'Team', members: [{ value: u2.id }] }, unique: GROUP_UNIQUE }, A)
          assert.equal((await a.get({ resourceType: 'User', id: u1.id }, A))?.attributes['groups'], undefined)
          assert.equal(((await a.get({ resourceType: 'User', id: u2.id }, A))?.attributes['groups'] as unknown[]).length, 1)
          const byMember = await listAll(a, A, 'Group', { filter: parseFilter(`members.value eq "${u2.id}"`, GROUPS) })
          same(ids(byMember.resources), [g.id])
        })

        test('members[].display is displayName, else userName; renaming a member changes the group\'s version (RES-061, ETG-002)', async (a, A) => {
          const u = await createUser(a, A, { userName: 'plain' })
          const g = await a.create({ resourceType: 'Group', attributes: { displayName: 'Shown', members: [{ value: u.id }] }, unique: [] }, A)
          const display = async (): Promise<[unknown, string | undefined]> => {
            const got = await a.get({ resourceType: 'Group', id: g.id }, A)
            return [(got?.attributes['members'] as Record<string, unknown>[])[0]!['display'], got?.version]
          }
          const [first, v1] = await display()
          assert.equal(first, 'plain', 'userName when there is no displayName')
          await a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'plain', title: 'x' }, unique: [] }, A)
          assert.equal((await display())[1], v1, 'an edit that leaves the display alone keeps the group version')
          await a.replace({ resourceType: 'User', id: u.id, attributes: { userName: 'plain', displayName: 'Plain Person' }, unique: [] }, A)
          const [renamed, v2] = await display()
          assert.equal(renamed, 'Plain Person')
          assert.notEqual(v2, v1, 'the group representation changed, so its version did')
        })

        test('deleting a user removes it from every group and changes those groups\' versions', async (a, A) => {
          const u1 = await createUser(a, A, { userName: 'gone' })
          const u2 = await createUser(a, A, { userName: 'stays' })
          const g1 = await a.create({ resourceType: 'Group', attributes: { displayName: 'G1', members: [{ value: u1.id }, { value: u2.id }] }, unique: [] }, A)
          const g2 = await a.create({ resourceType: 'Group', attributes: { displayName: 'G2', members: [{ value: u1.id }] }, unique: [] }, A)
          await a.delete({ resourceType: 'User', id: u1.id }, A)
          const n1 = await a.get({ resourceType: 'Group', id: g1.id }, A)
          const n2 = await a.get({ resourceType: 'Group', id: g2.id }, A)
          same((n1?.attributes['members'] as Record<string, unknown>[]).map((m) => m['value']), [u2.id])
          assert.ok(n2?.attributes['members'] === undefined || (n2.attributes['members'] as unknown[]).length === 0, 'empty group has no members')
          assert.notEqual(n1?.version, g1.version)
          assert.notEqual(n2?.version, g2.version)
          assert.equal((await listAll(a, A, 'Group', { filter: parseFilter(`members.value eq "${u1.id}"`, GROUPS) })).totalResults, 0)
        })

        test('an unknown member id is rejected with ERR_SCIM_INVALID_VALUE and nothing is stored', async (a, A) => {
          const u = await createUser(a, A, { userName: 'known' })
          await rejectsWith(
            a.create({ resourceType: 'Group', attributes: { displayName: 'Bad', members: [{ value: u.id }, { value: 'no-such-user' }] }, unique: [] }, A),
            'ERR_SCIM_INVALID_VALUE',
            'create with an unknown member',
          )
          assert.equal((await listAll(a, A, 'Group')).totalResults, 0)
          const g = await a.create({ resourceType: 'Group', attributes: { displayName: 'Ok' }, unique: [] }, A)
          await rejectsWith(
            a.replace({ resourceType: 'Group', id: g.id, attributes: { displayName: 'Ok', members: [{ value: 'nope' }] }, unique: [] }, A),
            'ERR_SCIM_INVALID_VALUE',
            'replace with an unknown member',
          )
          assert.equal((await a.get({ resourceType: 'Group', id: g.id }, A))?.version, g.version)
        })

        test('modifyMembers (when implemented): adds and removes in place, no-op keeps the version, concurrent changes all land', async (a, A) => {
          if (!a.modifyMembers) return
          const users = [] as StoredResource[]
          for (let i = 0; i < 12; i++) users.push(await createUser(a, A, { userName: `mm${i}` }))
          const g = await a.create({ resourceType: 'Group', attributes: { displayName: 'MM', members: [{ value: users[0]!.id }] }, unique: [] }, A)
          const r1 = await a.modifyMembers({ resourceType: 'Group', id: g.id, add: [users[0]!.id, users[1]!.id], remove: ['not-a-member'] }, A)
          same(r1.added, [users[1]!.id])
          same(r1.removed, [])
          assert.notEqual(r1.resource.version, g.version)
          const r2 = await a.modifyMembers({ resourceType: 'Group', id: g.id, add: [users[1]!.id], remove: [] }, A)
          same([r2.added, r2.removed], [[], []])
          assert.equal(r2.resource.version, r1.resource.version, 'nothing changed, same version')
          await rejectsWith(a.modifyMembers({ resourceType: 'Group', id: g.id, add: ['no-such-user'], remove: [] }, A), 'ERR_SCIM_INVALID_VALUE', 'unknown member id')
          await rejectsWith(a.modifyMembers({ resourceType: 'Group', id: 'no-such-group', add: [], remove: [] }, A), 'ERR_SCIM_NOT_FOUND', 'unknown group')
          await Promise.all(users.slice(2).map((u) => a.modifyMembers!({ resourceType: 'Group', id: g.id, add: [u.id], remove: [] }, A)))
          await a.modifyMembers({ resourceType: 'Group', id: g.id, add: [], remove: [users[0]!.id] }, A)
          const after = await a.get({ resourceType: 'Group', id: g.id }, A)
          same(
            ((after?.attributes['members'] as Record<string, unknown>[]) ?? []).map((m) => m['value']).sort(),
            users.slice(1).map((u) => u.id).sort(),
          )
          assert.equal((await a.get({ resourceType: 'User', id: users[0]!.id }, A))?.attributes['groups'], undefined)
          assert.equal(((await a.get({ resourceType: 'User', id: users[5]!.id }, A))?.attributes['groups'] as unknown[]).length, 1)
        })
      })
    }

    // ---------------------------------------------------------------- filter pushdown
    t.describe('filter pushdown equals compileFilter (property test)', () => {
      test(`random resources × ${options.filters ?? 150} random filters: list() selects exactly what compileFilter selects`, async (a, A) => {
        const seed = options.seed ?? 20240521
        const rnd = prng(seed)
        const data = await seedResources(a, A, rnd, options.users ?? 60, !options.skipGroups)
        const users = (await listAll(a, A, 'User')).resources
        const groups = (await listAll(a, A, 'Group')).resources
        const gen = filterGenerator(rnd, users, groups, data)
        const total = options.filters ?? 150
        let checked = 0
        const skippedFilters: string[] = []
        let nonEmpty = 0
        const failures: string[] = []
        for (let i = 0; i < total; i++) {
          const isGroup = !options.skipGroups && i % 6 === 5
          const rt = isGroup ? GROUPS : USERS
          const text = isGroup ? gen.group() : gen.user()
          const filter = parseFilter(text, rt)
          if (a.canFilter && !a.canFilter(filter, rt.name)) {
            skippedFilters.push(`${rt.name}: ${text}`)
            continue
          }
          const pool = isGroup ? groups : users
          const test = compileFilter(filter)
          const expected = pool.map((r) => toView(rt, r)).filter(test).sort(compareDefault).map((v) => v['id'] as string)
          const got = await listAll(a, A, rt.name, { filter })
          checked++
          if (expected.length > 0) nonEmpty++
          const gotIds = ids(got.resources)
          if (got.totalResults !== expected.length || JSON.stringify(gotIds) !== JSON.stringify(expected)) {
            failures.push(`${rt.name}?filter=${text}\n    expected ${expected.length} ${JSON.stringify(expected.map(label(pool)))}\n    got      ${got.totalResults} ${JSON.stringify(gotIds.map(label(pool)))}`)
          }
          if (i % 10 === 0 && expected.length > 2) {
            const page = await a.list({ resourceType: rt.name, startIndex: 2, count: 2, filter }, A)
            if (page.totalResults !== expected.length || JSON.stringify(ids(page.resources)) !== JSON.stringify(expected.slice(1, 3))) {
              failures.push(`${rt.name}?filter=${text} (startIndex=2, count=2): wrong page or totalResults`)
            }
          }
        }
        options.onFilterReport?.({ checked, skipped: skippedFilters, nonEmpty })
        assert.equal(failures.length, 0, `${failures.length} of ${checked} filters disagree with compileFilter (seed ${seed}):\n  ${failures.slice(0, 10).join('\n  ')}`)
        assert.ok(checked >= total / 2, `only ${checked} of ${total} filters were pushed down (canFilter false for ${skippedFilters.length})`)
        assert.ok(nonEmpty >= checked / 4, `too few filters matched anything (${nonEmpty} of ${checked}); the generator is off`)
      })
    })
  })
}

const label = (pool: readonly StoredResource[]) => (id: string) => {
  const r = pool.find((x) => x.id === id)
  return String(r?.attributes['userName'] ?? r?.attributes['displayName'] ?? id)
}

// ----------------------------------------------------------------------------- random data

interface Seeded {
  /** Words that occur in the data, for operands. */
  words: string[]
  /** created/lastModified instants seen, for dateTime operands. */
  instants: Date[]
}

const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
const randomCase = (rnd: () => number, s: string): string => [...s].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('')

// 'zoe\u0308' and 'A\u030asa' are NFD: stored as sent (MT-011), they must still equal 'zoë'/'åsa' in comparisons.
const NAMES = ['anna', 'bob', 'carl', 'dora', 'émile', 'zoë', 'åsa', "o'brien", 'per_cent%', 'back\\slash', 'under_score', 'x"quote', 'eve', 'zoe\u0308', 'A\u030asa']
const DOMAINS = ['example.com', 'Example.org', 'corp.test', 'mail_x.com']
const TITLES = ['Engineer', 'engineer', 'Manager', 'Tour Guide', 'CEO', '']
const DEPARTMENTS = ['Sales', 'sales', 'R&D', 'Ops', 'Ops_1', '100%']
const TYPES = ['work', 'home', 'Work', 'other']

async function seedResources<Ctx>(a: ScimAdapter<Ctx>, ctx: Ctx, rnd: () => number, count: number, withGroups: boolean): Promise<Seeded> {
  const ids: string[] = []
  const instants: Date[] = []
  for (let i = 0; i < count; i++) {
    const base = pick(rnd, NAMES)
    const attrs: Record<string, unknown> = { userName: `${randomCase(rnd, base)}.${i}@${pick(rnd, DOMAINS)}` }
    if (rnd() < 0.7) attrs['active'] = rnd() < 0.6
    if (rnd() < 0.6) attrs['title'] = pick(rnd, TITLES)
    if (rnd() < 0.5) attrs['displayName'] = `${randomCase(rnd, pick(rnd, NAMES))} ${pick(rnd, ['Smith', 'SMITH', 'Öz', 'Lee'])}`
    if (rnd() < 0.4) attrs['externalId'] = `${rnd() < 0.5 ? 'EXT' : 'ext'}-${i % 9}`
    if (rnd() < 0.5) attrs['name'] = { givenName: randomCase(rnd, pick(rnd, NAMES)), ...(rnd() < 0.6 ? { familyName: pick(rnd, ['Smith', 'Jensen', 'Öz']) } : {}) }
    const n = Math.floor(rnd() * 4)
    if (n > 0) {
      const emails: Record<string, unknown>[] = []
      for (let k = 0; k < n; k++) {
        const e: Record<string, unknown> = { value: `${randomCase(rnd, pick(rnd, NAMES))}${k}@${pick(rnd, DOMAINS)}` }
        if (rnd() < 0.8) e['type'] = pick(rnd, TYPES)
        if (rnd() < 0.3) e['primary'] = rnd() < 0.7
        emails.push(e)
      }
      attrs['emails'] = emails
    }
    if (rnd() < 0.3) attrs['roles'] = [{ value: pick(rnd, ['admin', 'Admin', 'user']), ...(rnd() < 0.5 ? { primary: true } : {}) }]
    if (rnd() < 0.6) {
      const ext: Record<string, unknown> = {}
      if (rnd() < 0.8) ext['department'] = pick(rnd, DEPARTMENTS)
      if (rnd() < 0.5) ext['employeeNumber'] = String(Math.floor(rnd() * 1000))
      if (ids.length > 0 && rnd() < 0.4) ext['manager'] = { value: pick(rnd, ids) }
      if (Object.keys(ext).length > 0) attrs[ENTERPRISE_USER_SCHEMA] = ext
    }
    let created: StoredResource
    try {
      created = await a.create({ resourceType: 'User', attributes: attrs, unique: USER_UNIQUE }, ctx)
    } catch {
      continue // a random userName collided; fine
    }
    ids.push(created.id)
    instants.push(created.created)
    if (rnd() < 0.15) {
      const r = await a.replace({ resourceType: 'User', id: created.id, attributes: { ...attrs, nickName: 'changed' }, unique: USER_UNIQUE }, ctx)
      instants.push(r.lastModified)
    }
    if (i % 7 === 0) await sleep(2)
  }
  if (withGroups) {
    for (let g = 0; g < 6; g++) {
      const members = ids.filter(() => rnd() < 0.2).map((value) => ({ value }))
      const attrs: Record<string, unknown> = { displayName: `${pick(rnd, ['Admins', 'admins team', 'Sales_EU', 'R&D', 'Tour Guides', 'Ops%'])} ${g}` }
      if (members.length > 0) attrs['members'] = members
      if (rnd() < 0.5) attrs['externalId'] = `grp-${g}`
      await a.create({ resourceType: 'Group', attributes: attrs, unique: [] }, ctx)
    }
  }
  return { words: [...NAMES, ...DOMAINS, ...TITLES, ...DEPARTMENTS, ...TYPES], instants }
}

/** JSON string literal for a filter. */
const q = (s: string): string => JSON.stringify(s)

function filterGenerator(rnd: () => number, users: readonly StoredResource[], groups: readonly StoredResource[], data: Seeded) {
  const values = (path: string, pool: readonly StoredResource[], rt: CompiledResourceType): string[] => {
    const out: string[] = []
    const info = rt.resolveText(path)
    if (info?.kind !== 'attribute') return out
    for (const r of pool) {
      const v = toView(rt, r)
      const raw = readView(v, path)
      for (const x of raw) if (typeof x === 'string') out.push(x)
    }
    return out
  }
  /** An operand: an existing value (maybe re-cased or cut), or a word, or junk with SQL metacharacters. */
  const operand = (path: string, pool: readonly StoredResource[], rt: CompiledResourceType, cut: boolean): string => {
    const vs = values(path, pool, rt)
    const r = rnd()
    if (vs.length > 0 && r < 0.7) {
      let v = pick(rnd, vs)
      if (cut && v.length > 2) {
        const a = Math.floor(rnd() * (v.length - 1))
        v = v.slice(a, a + 1 + Math.floor(rnd() * Math.min(5, v.length - a)))
      }
      return rnd() < 0.4 ? randomCase(rnd, v) : v
    }
    if (r < 0.85) return pick(rnd, data.words)
    return pick(rnd, ["x' OR 1=1 --", '%', '_', '\\', '%_', "'", '"', 'per_c', 'nt%', ''])
  }
  const instant = (): string => {
    const d = pick(rnd, data.instants)
    const ms = d.getTime() + pick(rnd, [0, 0, 0, -1, 1, -1000, 5000])
    const iso = new Date(ms).toISOString()
    const k = rnd()
    if (k < 0.2) return iso.replace(/\.(\d{3})Z$/, '.$1' + pick(rnd, ['0000', '0001', '5']) + 'Z') // sub-ms digits
    if (k < 0.35) {
      // the same instant at +02:00
      const local = new Date(ms + 2 * 3600_000).toISOString().replace('Z', '+02:00')
      return local
    }
    if (k < 0.45) return iso.replace(/\.\d{3}Z$/, 'Z')
    return iso
  }
  const strOps = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']
  const ordOps = ['eq', 'ne', 'gt', 'ge', 'lt', 'le']
  const userString = ['userName', 'title', 'displayName', 'nickName', 'externalId', 'name.givenName', 'name.familyName', 'emails.value', 'emails.type', 'emails', 'roles.value',
    `${ENTERPRISE_USER_SCHEMA}:department`, 'employeeNumber', `${ENTERPRISE_USER_SCHEMA}:manager.value`, 'meta.resourceType']
  const userPresent = ['title', 'nickName', 'name', 'emails', 'emails.type', 'emails.primary', 'active', 'externalId', 'displayName', 'roles', 'groups',
    `${ENTERPRISE_USER_SCHEMA}:manager`, 'department', 'name.familyName']

  const userAtom = (depth: number): string => {
    const k = rnd()
    if (k < 0.42) {
      const path = pick(rnd, userString)
      const op = pick(rnd, strOps)
      return `${path} ${op} ${q(operand(path === 'emails' ? 'emails.value' : path === 'employeeNumber' ? `${ENTERPRISE_USER_SCHEMA}:employeeNumber` : path, users, USERS, ['co', 'sw', 'ew'].includes(op)))}`
    }
    if (k < 0.5) return `${pick(rnd, ['active', 'emails.primary', 'roles.primary'])} ${pick(rnd, ['eq', 'ne'])} ${pick(rnd, ['true', 'false'])}`
    if (k < 0.6) return `${pick(rnd, userPresent)} pr`
    if (k < 0.7) return `${pick(rnd, ['meta.created', 'meta.lastModified'])} ${pick(rnd, ordOps)} ${q(instant())}`
    if (k < 0.72) return `id eq ${q(pick(rnd, users).id)}`
    if (k < 0.75) return `schemas eq ${q(pick(rnd, [ENTERPRISE_USER_SCHEMA, 'urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:user']))}`
    if (k < 0.82 && groups.length > 0) {
      const g = pick(rnd, groups)
      return pick(rnd, [`groups.value eq ${q(g.id)}`, `groups[value eq ${q(g.id)}]`, `groups.display ${pick(rnd, ['eq', 'co', 'sw'])} ${q(String(g.attributes['displayName']).slice(0, 5 + Math.floor(rnd() * 8)))}`, 'groups.type eq "direct"'])
    }
    if (k < 0.92 || depth > 1) {
      const inner = [`type ${pick(rnd, ['eq', 'ne'])} ${q(pick(rnd, TYPES))}`, `value ${pick(rnd, ['co', 'sw', 'ew', 'eq', 'gt'])} ${q(operand('emails.value', users, USERS, true))}`, 'primary eq true', 'type pr', 'not (primary eq true)']
      const a = pick(rnd, inner)
      const b = pick(rnd, inner)
      const body = rnd() < 0.4 ? a : `${a} ${pick(rnd, ['and', 'or'])} ${b}`
      return rnd() < 0.2 ? `name[givenName ${pick(rnd, ['eq', 'sw', 'co'])} ${q(operand('name.givenName', users, USERS, true))}]` : `emails[${body}]`
    }
    return `not (${userExpr(depth + 1)})`
  }
  const userExpr = (depth: number): string => {
    const k = rnd()
    if (depth > 2 || k < 0.45) return userAtom(depth)
    if (k < 0.7) return `${userAtom(depth)} and ${userExpr(depth + 1)}`
    if (k < 0.9) return `(${userAtom(depth)} or ${userExpr(depth + 1)})`
    return `not (${userExpr(depth + 1)})`
  }
  const groupAtom = (): string => {
    const k = rnd()
    const u = pick(rnd, users)
    if (k < 0.3) {
      const op = pick(rnd, strOps)
      return `displayName ${op} ${q(operand('displayName', groups, GROUPS, ['co', 'sw', 'ew'].includes(op)))}`
    }
    if (k < 0.5) return `members.value eq ${q(rnd() < 0.7 ? u.id : u.id.toUpperCase())}`
    if (k < 0.6) return `members[value eq ${q(u.id)} and type eq "User"]`
    if (k < 0.7) return `members ${pick(rnd, ['pr', 'eq ' + q(u.id)])}`
    if (k < 0.8) return `externalId ${pick(rnd, ['eq', 'sw', 'pr'])}${rnd() < 0.9 ? ' ' + q(pick(rnd, ['grp-1', 'grp', 'GRP-2', 'grp-3'])) : ''}`.replace(/ pr .*/, ' pr')
    if (k < 0.9) return `members.type ${pick(rnd, ['eq', 'ne'])} ${q(pick(rnd, ['User', 'user', 'Group']))}`
    return `meta.created ${pick(rnd, ordOps)} ${q(instant())}`
  }
  const groupExpr = (): string => {
    const k = rnd()
    if (k < 0.5) return groupAtom()
    if (k < 0.7) return `${groupAtom()} and ${groupAtom()}`
    if (k < 0.9) return `${groupAtom()} or not (${groupAtom()})`
    return `not (${groupAtom()})`
  }
  return { user: () => userExpr(0), group: groupExpr }
}

/** Values at a dotted path of a view (flattening multi-valued), for operand generation. */
function readView(view: Record<string, unknown>, path: string): unknown[] {
  const resolved = USERS.resolveText(path) ?? GROUPS.resolveText(path)
  let container: unknown = view
  let rest = path
  if (resolved?.kind === 'attribute' && resolved.info.extension) {
    container = view[resolved.info.schema]
    rest = resolved.info.parent ? `${resolved.info.parent.def.name}.${resolved.info.def.name}` : resolved.info.def.name
  } else if (path.startsWith('urn:')) return []
  let current: unknown[] = [container]
  for (const key of rest.split('.')) {
    const next: unknown[] = []
    for (const c of current) {
      const v = c !== null && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, unknown>)[key] : undefined
      if (Array.isArray(v)) next.push(...v)
      else if (v !== undefined) next.push(v)
    }
    current = next
  }
  return current
}
