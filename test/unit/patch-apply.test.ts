/**
 * Unit tests of the PATCH engine (RFC 7644 §3.5.2, requirements §5 PAT-001..092): the PatchOp
 * envelope (`parsePatchRequest`) and the pure `applyPatch`, table-driven per requirement, plus the
 * interoperability dialects (Entra, Okta), atomicity and prototype-pollution probes.
 */
import { u1Attributes } from '../fixtures/requirements'
import { isScimError, type ScimError } from '../../src/errors'
import { applyPatch, type PatchOptions, type PatchResult } from '../../src/patch/apply'
import { parsePatchRequest } from '../../src/patch/operations'
import { createRegistry } from '../../src/schema/registry'
import {
  enterpriseUserSchema,
  groupResourceType,
  groupSchema,
  userResourceType,
  userSchema,
  ENTERPRISE_USER_SCHEMA as ENT,
  PATCH_OP,
} from '../../src/schema/core-schemas'
import { defineAttribute, type SchemaDefinition } from '../../src/schema/types'
import type { Attributes } from '../../src/schema/resource'

const TEST_EXT = 'urn:example:params:scim:schemas:extension:test:2.0:User'
const testExtension: SchemaDefinition = {
  id: TEST_EXT,
  name: 'Test',
  description: 'Test extension with an immutable attribute',
  attributes: [
    defineAttribute({ name: 'badge', mutability: 'immutable' }),
    defineAttribute({ name: 'clearance', type: 'integer' }),
  ],
}

const reg = createRegistry(
  [userSchema, groupSchema, enterpriseUserSchema, testExtension],
  [{ ...userResourceType, schemaExtensions: [...userResourceType.schemaExtensions, { schema: TEST_EXT, required: false }] }, groupResourceType],
)
const users = reg.bySegment('Users')!
const groups = reg.bySegment('Groups')!
type RT = typeof users

const LIMITS = { maxLength: 4096, maxDepth: 32, maxTerms: 200 }
const LENIENT: PatchOptions = { strict: false, strictSchema: false }
const STRICT: PatchOptions = { strict: true, strictSchema: false }

const U1ID = '2819c223-7f76-453a-919d-413861904646'
const U2ID = '9a1f3b6e-0c2d-4e5f-8a7b-1c2d3e4f5a6b'
const U3ID = 'c0ffee00-0000-4000-8000-000000000003'

/** Stored (writable) attributes of the requirement fixtures. */
const U1: Attributes = {
  ...u1Attributes(U2ID),
  addresses: [{ type: 'work', streetAddress: '100 Universal City Plaza', locality: 'Hollywood', primary: true }],
}
const U2: Attributes = {
  userName: 'JSmith@Example.com',
  active: false,
  name: { givenName: 'James', familyName: 'Smith' },
  emails: [{ value: 'jsmith@example.org', type: 'work' }],
  [ENT]: { costCenter: '4130' },
}
const U3: Attributes = {
  userName: 'omalley',
  name: { familyName: "O'Malley", givenName: 'Zoë' },
  displayName: 'Zoë Ångström',
  nickName: 'Bob "The Builder"',
  active: true,
}
const G1: Attributes = { displayName: 'Tour Guides', members: [{ value: U1ID }, { value: U2ID }] }
const G2: Attributes = { displayName: 'Employees' }

/**
 * PAT-011: applyPatch never writes the stored attributes (it copies on write and shares the rest):
 * every fixture is deep-frozen, so any write into one throws in every test of this file.
 */
function deepFrozen<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFrozen(x)
  }
  return v
}
const FIXTURES = deepFrozen({ U1, U2, U3, G1, G2 })
type Fixture = keyof typeof FIXTURES
const rtOf = (f: Fixture): RT => (f.startsWith('G') ? groups : users)
const idOf = (f: Fixture): string => ({ U1: U1ID, U2: U2ID, U3: U3ID, G1: 'g1', G2: 'g2' })[f]

/** Parse and apply `ops` (as JSON text or values) to a fixture; JSON text keeps `__proto__` as an own key. */
function run(fixture: Fixture, ops: unknown[] | string, opts: PatchOptions = LENIENT): PatchResult {
  const Operations = typeof ops === 'string' ? JSON.parse(ops) : ops
  const body = { schemas: [PATCH_OP], Operations }
  const rt = rtOf(fixture)
  return applyPatch(rt, idOf(fixture), FIXTURES[fixture], parsePatchRequest(rt, body, LIMITS, opts.strict), opts)
}

function failure(fn: () => unknown): ScimError {
  try {
    fn()
  } catch (err) {
    if (isScimError(err)) return err
    throw err
  }
  throw new Error('expected a SCIM error')
}

function fails(fixture: Fixture, ops: unknown[] | string, scimType: string, opts: PatchOptions = LENIENT): ScimError {
  const err = failure(() => run(fixture, ops, opts))
  expect({ status: err.status, scimType: err.scimType, detail: err.detail }).toEqual({ status: 400, scimType, detail: expect.any(String) })
  return err
}

function parse(body: unknown, strict = false, rt: RT = users) {
  return parsePatchRequest(rt, body as Record<string, unknown>, LIMITS, strict)
}

/**
 * Jest runs tests in a vm context while `structuredClone` creates objects in the host realm, so
 * there are two `Object.prototype`s to keep clean and to compare prototypes against.
 */
const HOST_OBJECT_PROTO = Object.getPrototypeOf(structuredClone({})) as object
const HOST_ARRAY_PROTO = Object.getPrototypeOf(structuredClone([])) as object
const PLAIN_PROTOS = [Object.prototype, Array.prototype, HOST_OBJECT_PROTO, HOST_ARRAY_PROTO]
function expectUnpolluted(): void {
  for (const proto of [Object.prototype, HOST_OBJECT_PROTO]) {
    for (const k of ['polluted', 'polluted2', 'polluted3', 'polluted4']) expect(Object.prototype.hasOwnProperty.call(proto, k)).toBe(false)
  }
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
}
/** Every object in `v` has a plain prototype and no own `__proto__` key. */
function expectPlain(v: unknown): void {
  if (typeof v !== 'object' || v === null) return
  expect(PLAIN_PROTOS).toContain(Object.getPrototypeOf(v))
  expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).toBe(false)
  Object.values(v).forEach(expectPlain)
}

const snapshots = new Map<Fixture, string>()
beforeAll(() => {
  for (const k of Object.keys(FIXTURES) as Fixture[]) snapshots.set(k, JSON.stringify(FIXTURES[k]))
})
afterEach(() => {
  // applyPatch is pure: no test may change a fixture (PAT-011).
  for (const k of Object.keys(FIXTURES) as Fixture[]) expect(JSON.stringify(FIXTURES[k])).toBe(snapshots.get(k))
  expectUnpolluted()
})

// ------------------------------------------------------------------------------------ envelope

describe('parsePatchRequest: the PatchOp envelope (PAT-001..007)', () => {
  it.each<[string, unknown]>([
    ['an array body', []],
    ['no Operations', { schemas: [PATCH_OP] }],
    ['empty Operations', { schemas: [PATCH_OP], Operations: [] }],
    ['Operations an object', { schemas: [PATCH_OP], Operations: { op: 'add' } }],
    ['Operations a string', { schemas: [PATCH_OP], Operations: 'add' }],
    ['an element that is a string', { schemas: [PATCH_OP], Operations: ['add'] }],
    ['an element that is null', { schemas: [PATCH_OP], Operations: [null] }],
    ['an element that is an array', { schemas: [PATCH_OP], Operations: [[{ op: 'add' }]] }],
    ['an element without op', { schemas: [PATCH_OP], Operations: [{ path: 'title', value: 'x' }] }],
    ['op a number', { schemas: [PATCH_OP], Operations: [{ op: 1, path: 'title', value: 'x' }] }],
    ['path a number', { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 1, value: 'x' }] }],
    ['schemas not an array', { schemas: PATCH_OP, Operations: [{ op: 'add', path: 'title', value: 'x' }] }],
    ['op twice in different case', { Operations: [{ op: 'add', Op: 'remove', path: 'title', value: 'x' }] }],
    ['Operations twice in different case', { Operations: [{ op: 'add', path: 'title', value: 'x' }], operations: [] }],
  ])('PAT-001: %s → 400 invalidSyntax', (_, body) => {
    const err = failure(() => parse(body))
    expect([err.status, err.scimType]).toEqual([400, 'invalidSyntax'])
  })

  it('PAT-002: a missing schemas, or one without the PatchOp URN, is accepted; strict rejects it', () => {
    const ops = [{ op: 'add', path: 'title', value: 'x' }]
    expect(parse({ Operations: ops })).toHaveLength(1)
    expect(parse({ schemas: ['urn:other'], Operations: ops })).toHaveLength(1)
    expect(failure(() => parse({ Operations: ops }, true)).scimType).toBe('invalidSyntax')
    expect(parse({ schemas: [PATCH_OP.toUpperCase()], Operations: ops }, true)).toHaveLength(1)
  })

  it('PAT-003: member names are case-insensitive (operations, Op, Path, Value)', () => {
    const ops = parse({ SCHEMAS: [PATCH_OP], operations: [{ Op: 'add', Path: 'title', VALUE: 'x' }] })
    expect(ops).toEqual([expect.objectContaining({ op: 'add', pathText: 'title', hasValue: true, value: 'x' })])
  })

  it.each(['Add', 'ADD', 'Replace', 'REPLACE', 'Remove', 'rEmOvE'])('PAT-004: op %s is accepted', (op) => {
    const ops = parse({ Operations: [{ op, path: 'title', value: 'x' }] })
    expect(ops[0]!.op).toBe(op.toLowerCase())
  })

  it.each(['move', 'copy', 'test', '', 'add ', 'delete'])('PAT-004: op %j → 400 invalidSyntax naming the operation', (op) => {
    const err = failure(() => parse({ Operations: [{ op: 'add', path: 'title', value: 'x' }, { op, path: 'title', value: 'x' }] }))
    expect([err.status, err.scimType]).toEqual([400, 'invalidSyntax'])
    expect(err.detail).toContain('Operations[1]')
  })

  it.each(['add', 'replace', 'Add', 'Replace'])('PAT-005: %s without value → 400 invalidValue', (op) => {
    const err = failure(() => parse({ Operations: [{ op, path: 'title' }] }))
    expect([err.status, err.scimType]).toEqual([400, 'invalidValue'])
  })

  it.each([
    ['a string', 'x'],
    ['an array', [{ title: 'x' }]],
    ['null', null],
    ['a number', 1],
  ])('add/replace without a path needs an object value (%s → invalidValue)', (_, value) => {
    for (const op of ['add', 'replace']) {
      const err = failure(() => parse({ Operations: [{ op, value }] }))
      expect([err.status, err.scimType]).toEqual([400, 'invalidValue'])
    }
  })

  it.each<[string, string]>([
    ['name..givenName', 'invalidPath'],
    ['nope', 'invalidPath'],
    ['name.nope', 'invalidPath'],
    ['emails.value.x', 'invalidPath'],
    ['emails[type eq "work"].nope', 'invalidPath'],
    ['title[value eq "x"]', 'invalidPath'],
    ['emails[type eq]', 'invalidFilter'],
    ['emails[type zz "work"]', 'invalidFilter'],
    ['emails[nope eq "work"]', 'invalidFilter'],
    ['emails[primary gt "x"]', 'invalidFilter'],
    ['"title"', 'invalidPath'],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nope', 'invalidPath'],
  ])('PAT-006: path %s → 400 %s', (path, scimType) => {
    const err = failure(() => parse({ Operations: [{ op: 'replace', path, value: 'x' }] }))
    expect([err.status, err.scimType]).toEqual([400, scimType])
  })

  it('PAT-007: the RFC Figure 8 paths parse', () => {
    for (const path of ['members', 'members[value eq "2819c223-7f76-453a-919d-413861904646"]']) {
      expect(parse({ Operations: [{ op: 'remove', path }] }, false, groups)).toHaveLength(1)
    }
    expect(parse({ Operations: [{ op: 'remove', path: 'name.familyName' }] })).toHaveLength(1)
    expect(parse({ Operations: [{ op: 'remove', path: 'addresses[type eq "work"]' }] })).toHaveLength(1)
    // parses, but the Group schema has no members.displayName
    const err = failure(() => parse({ Operations: [{ op: 'remove', path: 'members[value eq "2819c223"].displayName' }] }, false, groups))
    expect(err.scimType).toBe('invalidPath')
  })

  it.each([{ op: 'remove' }, { op: 'Remove' }, { op: 'remove', path: '' }, { op: 'remove', path: '  ' }, { op: 'remove', value: { title: 'x' } }])(
    'PAT-030: %j → 400 noTarget',
    (op) => {
      const err = failure(() => parse({ Operations: [op] }))
      expect([err.status, err.scimType]).toEqual([400, 'noTarget'])
    },
  )

  it('extra members on an operation (MS reference "name":"addMember") are ignored', () => {
    const ops = parse({ Operations: [{ op: 'Add', name: 'addMember', path: 'members', value: [{ value: U1ID }] }] }, false, groups)
    expect(ops).toHaveLength(1)
  })

  it('too many operations → 400 (configurable limit)', () => {
    const many = Array.from({ length: 5 }, () => ({ op: 'add', path: 'title', value: 'x' }))
    expect(parsePatchRequest(users, { Operations: many }, LIMITS, false, 5)).toHaveLength(5)
    const err = failure(() => parsePatchRequest(users, { Operations: [...many, ...many] }, LIMITS, false, 5))
    expect(err.status).toBe(400)
    expect(err.detail).toMatch(/at most 5/)
  })
})

// ----------------------------------------------------------------------------- the table

interface Case {
  id: string
  fixture: Fixture
  ops: unknown[]
  opts?: PatchOptions
  /** Expected attributes (whole) or a check. */
  expect: Attributes | ((a: Attributes, r: PatchResult) => void)
  changed?: boolean
}

const cases: Case[] = [
  // 5.2 processing model
  {
    id: 'PAT-010 ops apply in order (validator "Multiple Ops on same attribute")',
    fixture: 'U1',
    ops: [
      { op: 'remove', path: 'externalId' },
      { op: 'add', path: 'externalId', value: 'e1' },
      { op: 'replace', path: 'externalId', value: 'e2' },
    ],
    expect: { ...U1, externalId: 'e2' },
  },
  {
    id: 'PAT-013 Okta group rename carrying the same id',
    fixture: 'G2',
    ops: [{ op: 'replace', value: { id: 'g2', displayName: 'Staff' } }],
    expect: { displayName: 'Staff' },
  },
  {
    id: 'PAT-013 meta with an equal resourceType is ignored',
    fixture: 'G2',
    ops: [{ op: 'replace', value: { meta: { resourceType: 'Group' }, schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Staff' } }],
    expect: { displayName: 'Staff' },
  },
  {
    id: 'PAT-014 extension attribute by URN path (adds the container)',
    fixture: 'U3',
    ops: [{ op: 'add', path: `${ENT}:employeeNumber`, value: '42' }],
    expect: { ...U3, [ENT]: { employeeNumber: '42' } },
  },
  {
    id: 'PAT-014 removing the last extension attribute drops the container',
    fixture: 'U2',
    ops: [{ op: 'remove', path: `${ENT}:costCenter` }],
    expect: (a) => expect(a).not.toHaveProperty([ENT]),
  },
  {
    id: 'PAT-014 extension attribute by URN path, case-insensitive URN',
    fixture: 'U2',
    ops: [{ op: 'replace', path: `${ENT.toUpperCase()}:COSTCENTER`, value: '9' }],
    expect: { ...U2, [ENT]: { costCenter: '9' } },
  },
  {
    id: 'PAT-015 add with primary:true clears the other primaries',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails', value: [{ value: 'new@example.com', type: 'other', primary: true }] }],
    expect: (a) => {
      const emails = a['emails'] as Record<string, unknown>[]
      expect(emails.filter((e) => e['primary'] === true).map((e) => e['value'])).toEqual(['new@example.com'])
      expect(emails).toHaveLength(3)
    },
  },
  {
    id: 'PAT-015 replace emails[type eq "home"].primary true moves primary',
    fixture: 'U1',
    ops: [{ op: 'replace', path: 'emails[type eq "home"].primary', value: true }],
    expect: (a) =>
      expect(a['emails']).toEqual([
        { value: 'bjensen@example.com', type: 'work', primary: false },
        { value: 'babs@jensen.org', type: 'home', primary: true },
      ]),
  },
  {
    id: 'PAT-015 re-adding an existing email as primary makes that one primary',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org', type: 'home', primary: true }] }],
    expect: (a) =>
      expect(a['emails']).toEqual([
        { value: 'bjensen@example.com', type: 'work', primary: false },
        { value: 'babs@jensen.org', type: 'home', primary: true },
      ]),
  },
  {
    id: 'PAT-015 two primaries in one add: the last wins',
    fixture: 'U3',
    ops: [{ op: 'add', path: 'emails', value: [{ value: 'a@x.org', primary: true }, { value: 'b@x.org', primary: true }] }],
    expect: (a) => expect(a['emails']).toEqual([{ value: 'a@x.org', primary: false }, { value: 'b@x.org', primary: true }]),
  },
  {
    id: 'PAT-016 add of a member already present is a no-op',
    fixture: 'G1',
    ops: [{ op: 'add', path: 'members', value: [{ value: U1ID }] }],
    expect: G1,
    changed: false,
  },
  // 5.3 add
  { id: 'PAT-020 add nickName', fixture: 'U1', ops: [{ op: 'add', path: 'nickName', value: 'Babs' }], expect: { ...U1, nickName: 'Babs' } },
  {
    id: 'PAT-020 add replaces a single-valued attribute',
    fixture: 'U3',
    ops: [{ op: 'Add', path: 'nickName', value: 'Barbie' }],
    expect: { ...U3, nickName: 'Barbie' },
  },
  {
    id: 'PAT-021 add to a complex attribute merges',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'name', value: { middleName: 'Jane' } }],
    expect: { ...U1, name: { givenName: 'Barbara', familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen III', middleName: 'Jane' } },
  },
  {
    id: 'PAT-021 add to a missing complex attribute creates it',
    fixture: 'U2',
    ops: [{ op: 'add', path: 'name', value: { middleName: 'M' } }, { op: 'remove', path: 'name' }, { op: 'add', path: 'name', value: { middleName: 'M' } }],
    expect: (a) => expect(a['name']).toEqual({ middleName: 'M' }),
  },
  {
    id: 'PAT-022 add to a multi-valued attribute appends',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails', value: [{ value: 'x@example.net', type: 'other' }] }],
    expect: (a) => expect((a['emails'] as unknown[]).slice(2)).toEqual([{ value: 'x@example.net', type: 'other' }]),
  },
  {
    id: 'PAT-022 a single object for a multi-valued attribute is wrapped',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails', value: { value: 'y@example.net', type: 'other' } }],
    expect: (a) => expect(a['emails']).toHaveLength(3),
  },
  {
    id: 'PAT-023 add of an email equal in value (case-insensitive) and type is a no-op',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails', value: [{ value: 'BABS@jensen.org', type: 'HOME' }] }],
    expect: U1,
    changed: false,
  },
  {
    id: 'PAT-023 same email value with another type is a new value',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails', value: [{ value: 'babs@jensen.org', type: 'other' }] }],
    expect: (a) => expect(a['emails']).toHaveLength(3),
  },
  {
    id: 'PAT-024 path-less add (RFC example; nickname maps to nickName)',
    fixture: 'U1',
    ops: [{ op: 'add', value: { emails: [{ value: 'babs@jensen.org', type: 'home' }], nickname: 'Babs' } }],
    expect: { ...U1, nickName: 'Babs' },
  },
  {
    id: 'PAT-024 path-less add appends a new email',
    fixture: 'U1',
    ops: [{ op: 'add', value: { emails: [{ value: 'babs@example.org', type: 'home' }] } }],
    expect: (a) => expect(a['emails']).toHaveLength(3),
  },
  {
    id: 'PAT-025 add emails[type eq "work"].display sets it on the match only',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails[type eq "work"].display', value: 'Work mail' }],
    expect: (a) =>
      expect(a['emails']).toEqual([
        { value: 'bjensen@example.com', type: 'work', primary: true, display: 'Work mail' },
        { value: 'babs@jensen.org', type: 'home' },
      ]),
  },
  {
    id: 'PAT-026 Entra Add emails[type eq "work"].value creates the element',
    fixture: 'U3',
    ops: [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'zoe@example.com' }],
    expect: { ...U3, emails: [{ type: 'work', value: 'zoe@example.com' }] },
  },
  {
    id: 'PAT-026 add on a valuePath without sub-attribute creates the element from the filter',
    fixture: 'U3',
    ops: [{ op: 'add', path: 'emails[type eq "work" and value eq "z@x.org"]', value: { display: 'Z' } }],
    expect: { ...U3, emails: [{ type: 'work', value: 'z@x.org', display: 'Z' }] },
  },
  {
    id: 'PAT-026 add with a strict option still creates (RFC bullet 2)',
    fixture: 'U3',
    opts: STRICT,
    ops: [{ op: 'add', path: 'emails[type eq "work"].value', value: 'zoe@example.com' }],
    expect: { ...U3, emails: [{ type: 'work', value: 'zoe@example.com' }] },
  },
  {
    id: 'PAT-027 immutable attribute without a value may be added',
    fixture: 'U3',
    ops: [{ op: 'add', path: `${TEST_EXT}:badge`, value: 'B-1' }],
    expect: { ...U3, [TEST_EXT]: { badge: 'B-1' } },
  },
  // 5.4 remove
  {
    id: 'PAT-031 remove title',
    fixture: 'U1',
    ops: [{ op: 'remove', path: 'title' }],
    expect: (a) => expect(a).not.toHaveProperty('title'),
  },
  {
    id: 'PAT-031 remove the enterprise manager',
    fixture: 'U1',
    ops: [{ op: 'remove', path: `${ENT}:manager` }],
    expect: (a) => expect(a[ENT]).toEqual({ employeeNumber: '701984', department: 'Tour Operations' }),
  },
  {
    id: 'PAT-031 remove a sub-attribute name.givenName',
    fixture: 'U1',
    ops: [{ op: 'remove', path: 'name.givenName' }],
    expect: (a) => expect(a['name']).toEqual({ familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen III' }),
  },
  {
    id: 'PAT-032 remove all members',
    fixture: 'G1',
    ops: [{ op: 'remove', path: 'members' }],
    expect: { displayName: 'Tour Guides' },
  },
  {
    id: 'PAT-033 remove members[value eq U2]',
    fixture: 'G1',
    ops: [{ op: 'remove', path: `members[value eq "${U2ID}"]` }],
    expect: { displayName: 'Tour Guides', members: [{ value: U1ID }] },
  },
  {
    id: 'PAT-033 remove emails[type eq "work" and value ew "example.com"] (RFC example)',
    fixture: 'U1',
    ops: [{ op: 'remove', path: 'emails[type eq "work" and value ew "example.com"]' }],
    expect: (a) => expect(a['emails']).toEqual([{ value: 'babs@jensen.org', type: 'home' }]),
  },
  {
    id: 'PAT-033 remove the last matching element unassigns the attribute',
    fixture: 'U2',
    ops: [{ op: 'remove', path: 'emails[type eq "work"]' }],
    expect: (a) => expect(a).not.toHaveProperty('emails'),
  },
  {
    id: 'PAT-034 remove with a filter that matches nothing changes nothing',
    fixture: 'G1',
    ops: [{ op: 'remove', path: 'members[value eq "nonexistent"]' }],
    expect: G1,
    changed: false,
  },
  {
    id: 'PAT-034 remove with a filter on an absent attribute changes nothing',
    fixture: 'G2',
    ops: [{ op: 'remove', path: 'members[value eq "nonexistent"]' }],
    expect: G2,
    changed: false,
  },
  {
    id: 'PAT-035 remove emails[type eq "home"].value drops the element',
    fixture: 'U1',
    ops: [{ op: 'remove', path: 'emails[type eq "home"].value' }],
    expect: (a) => expect(a['emails']).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }]),
  },
  {
    id: 'PAT-035 remove emails[type eq "work"].primary keeps the element',
    fixture: 'U1',
    ops: [{ op: 'remove', path: 'emails[type eq "work"].primary' }],
    expect: (a) => expect((a['emails'] as unknown[])[0]).toEqual({ value: 'bjensen@example.com', type: 'work' }),
  },
  {
    id: 'PAT-037 remove of an unassigned attribute changes nothing',
    fixture: 'U1',
    ops: [{ op: 'remove', path: 'nickName' }],
    expect: U1,
    changed: false,
  },
  {
    id: 'PAT-037 remove of an unassigned extension attribute changes nothing',
    fixture: 'U3',
    ops: [{ op: 'remove', path: `${ENT}:manager` }],
    expect: U3,
    changed: false,
  },
  {
    id: 'remove of a whole extension by its URN',
    fixture: 'U1',
    ops: [{ op: 'remove', path: ENT }],
    expect: (a) => expect(a).not.toHaveProperty([ENT]),
  },
  // 5.5 replace
  {
    id: 'PAT-040 replace userName',
    fixture: 'U1',
    ops: [{ op: 'replace', path: 'userName', value: 'bj2@example.com' }],
    expect: { ...U1, userName: 'bj2@example.com' },
  },
  { id: 'PAT-040 replace active false', fixture: 'U1', ops: [{ op: 'replace', path: 'active', value: false }], expect: { ...U1, active: false } },
  {
    id: 'PAT-041 replace members replaces the list',
    fixture: 'G1',
    ops: [{ op: 'replace', path: 'members', value: [{ value: U3ID }] }],
    expect: { displayName: 'Tour Guides', members: [{ value: U3ID }] },
  },
  {
    id: 'PAT-041 replace with an empty list unassigns',
    fixture: 'G1',
    ops: [{ op: 'replace', path: 'members', value: [] }],
    expect: { displayName: 'Tour Guides' },
  },
  { id: 'PAT-042 replace of an absent attribute adds it', fixture: 'U2', ops: [{ op: 'replace', path: 'title', value: 'Manager' }], expect: { ...U2, title: 'Manager' } },
  {
    id: 'PAT-043 replace of a complex attribute merges',
    fixture: 'U1',
    ops: [{ op: 'replace', path: 'name', value: { familyName: 'Doe' } }],
    expect: { ...U1, name: { givenName: 'Barbara', familyName: 'Doe', formatted: 'Ms. Barbara J Jensen III' } },
  },
  {
    id: 'PAT-043 replace name with a null sub-attribute unassigns only that sub-attribute',
    fixture: 'U1',
    ops: [{ op: 'replace', path: 'name', value: { formatted: null } }],
    expect: { ...U1, name: { givenName: 'Barbara', familyName: 'Jensen' } },
  },
  {
    id: 'PAT-043 add name with an empty-string sub-attribute unassigns only that sub-attribute',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'name', value: { formatted: '' } }],
    expect: { ...U1, name: { givenName: 'Barbara', familyName: 'Jensen' } },
  },
  {
    id: 'PAT-044 replace addresses[type eq "work"] swaps the record (RFC example)',
    fixture: 'U1',
    ops: [
      {
        op: 'replace',
        path: 'addresses[type eq "work"]',
        value: {
          type: 'work',
          streetAddress: '911 Universal City Plaza',
          locality: 'Hollywood',
          region: 'CA',
          postalCode: '91608',
          country: 'US',
          formatted: '911 Universal City Plaza\nHollywood, CA 91608 US',
          primary: true,
        },
      },
    ],
    expect: (a) =>
      expect(a['addresses']).toEqual([
        {
          type: 'work',
          streetAddress: '911 Universal City Plaza',
          locality: 'Hollywood',
          region: 'CA',
          postalCode: '91608',
          country: 'US',
          formatted: '911 Universal City Plaza\nHollywood, CA 91608 US',
          primary: true,
        },
      ]),
  },
  {
    id: 'PAT-044 replace emails[type eq "home"] with primary:true clears the work primary',
    fixture: 'U1',
    ops: [{ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'b2@jensen.org', type: 'home', primary: true } }],
    expect: (a) =>
      expect(a['emails']).toEqual([
        { value: 'bjensen@example.com', type: 'work', primary: false },
        { value: 'b2@jensen.org', type: 'home', primary: true },
      ]),
  },
  {
    id: 'PAT-045 Entra Replace emails[type eq "work"].value + name.familyName',
    fixture: 'U1',
    ops: [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ],
    expect: (a) => {
      expect(a['emails']).toEqual([
        { value: 'updatedEmail@microsoft.com', type: 'work', primary: true },
        { value: 'babs@jensen.org', type: 'home' },
      ])
      expect(a['name']).toEqual({ givenName: 'Barbara', familyName: 'updatedFamilyName', formatted: 'Ms. Barbara J Jensen III' })
    },
  },
  {
    id: 'PAT-045 validator: phoneNumbers/addresses valuePath sub-attributes in one request',
    fixture: 'U1',
    ops: [
      { op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '+1-555-0199' },
      { op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: '1 Main St' },
      { op: 'replace', path: 'addresses[type eq "work"].locality', value: 'Burbank' },
    ],
    expect: (a) => {
      expect(a['phoneNumbers']).toEqual([{ value: '+1-555-0199', type: 'work' }])
      expect(a['addresses']).toEqual([{ type: 'work', streetAddress: '1 Main St', locality: 'Burbank', primary: true }])
    },
  },
  {
    id: 'PAT-045 attribute names in paths are case-insensitive (XP8)',
    fixture: 'U1',
    ops: [{ op: 'replace', path: 'EMAILS[TYPE eq "work"].VALUE', value: 'case@example.com' }],
    expect: (a) => {
      expect((a['emails'] as Record<string, unknown>[])[0]!['value']).toBe('case@example.com')
      expect(a).not.toHaveProperty('EMAILS')
    },
  },
  {
    id: 'PAT-046 replace name.givenName on a user without name creates name',
    fixture: 'U3',
    ops: [
      { op: 'remove', path: 'name' },
      { op: 'replace', path: 'name.givenName', value: 'Z' },
    ],
    expect: (a) => expect(a['name']).toEqual({ givenName: 'Z' }),
  },
  {
    id: 'PAT-046 replace name.middleName on a user without name creates name',
    fixture: 'U2',
    ops: [
      { op: 'remove', path: 'name' },
      { op: 'replace', path: 'name.middleName', value: 'Q' },
    ],
    expect: (a) => expect(a['name']).toEqual({ middleName: 'Q' }),
  },
  {
    id: 'PAT-050 Okta deactivation replace {active:false} leaves everything else',
    fixture: 'U1',
    ops: [{ op: 'replace', value: { active: false } }],
    expect: { ...U1, active: false },
  },
  {
    id: 'PAT-050 validator: path-less replace userName',
    fixture: 'U1',
    ops: [{ op: 'replace', value: { userName: 'emilio@hermann.uk' } }],
    expect: { ...U1, userName: 'emilio@hermann.uk' },
  },
  {
    id: 'PAT-050 validator: path-less replace Group displayName',
    fixture: 'G1',
    ops: [{ op: 'replace', value: { displayName: 'MSADPJJZWBUS' } }],
    expect: { ...G1, displayName: 'MSADPJJZWBUS' },
  },
  {
    id: 'PAT-051 Entra aadOptscim062020 dotted and URN keys',
    fixture: 'U1',
    ops: [
      {
        op: 'replace',
        value: { displayName: 'Bjfe', 'name.givenName': 'Kkom', 'name.familyName': 'Unua', [`${ENT}:employeeNumber`]: 'Aklq' },
      },
    ],
    expect: {
      ...U1,
      displayName: 'Bjfe',
      name: { givenName: 'Kkom', familyName: 'Unua', formatted: 'Ms. Barbara J Jensen III' },
      [ENT]: { employeeNumber: 'Aklq', department: 'Tour Operations', manager: { value: U2ID } },
    },
  },
  {
    id: 'PAT-051 URN-keyed object merges into the extension',
    fixture: 'U1',
    ops: [{ op: 'replace', value: { [ENT]: { department: 'X' } } }],
    expect: { ...U1, [ENT]: { employeeNumber: '701984', department: 'X', manager: { value: U2ID } } },
  },
  {
    id: 'PAT-051 URN-keyed object on a user without the extension creates it',
    fixture: 'U3',
    ops: [{ op: 'add', value: { [ENT]: { department: 'X' } } }],
    expect: { ...U3, [ENT]: { department: 'X' } },
  },
  {
    id: 'PAT-051 URN path to the whole extension with an object value merges',
    fixture: 'U2',
    ops: [{ op: 'replace', path: ENT, value: { department: 'D' } }],
    expect: { ...U2, [ENT]: { costCenter: '4130', department: 'D' } },
  },
  {
    id: 'PAT-051 unknown path-less keys are ignored (RES-005)',
    fixture: 'U3',
    ops: [{ op: 'replace', value: { nickName: 'N', favouriteColour: 'blue', 'name.nope': 1 } }],
    expect: { ...U3, nickName: 'N' },
  },
  {
    id: 'PAT-051 the core URN as a container holds core attributes',
    fixture: 'U1',
    ops: [{ op: 'replace', value: { 'urn:ietf:params:scim:schemas:core:2.0:User': { active: false, actve: true } } }],
    expect: { ...U1, active: false },
  },
  {
    id: 'PAT-052 path-less Group replace without members keeps membership',
    fixture: 'G1',
    ops: [{ op: 'replace', value: { displayName: 'Guides' } }],
    expect: { ...G1, displayName: 'Guides' },
  },
  {
    id: 'PAT-053 Replace on a valuePath with no match creates the element (default)',
    fixture: 'U3',
    ops: [{ op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '+1-555-0199' }],
    expect: { ...U3, phoneNumbers: [{ type: 'work', value: '+1-555-0199' }] },
  },
  {
    id: 'PAT-053 replace with null on a valuePath with no match changes nothing',
    fixture: 'U3',
    ops: [{ op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: null }],
    expect: U3,
    changed: false,
  },
  // 5.6 group membership
  {
    id: 'PAT-060 Entra Add members with $ref:null (U1 deduped)',
    fixture: 'G1',
    ops: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: U3ID }, { value: U1ID }] }],
    expect: { displayName: 'Tour Guides', members: [{ value: U1ID }, { value: U2ID }, { value: U3ID }] },
  },
  {
    id: 'PAT-060 Okta display and MS displayName keys inside a member are ignored',
    fixture: 'G2',
    ops: [{ op: 'add', path: 'members', value: [{ value: U3ID, display: 'omalley', displayName: 'x' }] }],
    expect: { displayName: 'Employees', members: [{ value: U3ID }] },
  },
  {
    id: 'PAT-061 Entra Remove members with a value array removes only the listed ones',
    fixture: 'G1',
    ops: [{ op: 'Remove', path: 'members', value: [{ value: U2ID }] }],
    expect: { displayName: 'Tour Guides', members: [{ value: U1ID }] },
  },
  {
    id: 'PAT-061 Remove members with a single object value',
    fixture: 'G1',
    ops: [{ op: 'Remove', path: 'members', value: { value: U1ID } }],
    expect: { displayName: 'Tour Guides', members: [{ value: U2ID }] },
  },
  {
    id: 'PAT-061 Remove members with a value array of an unknown member changes nothing',
    fixture: 'G1',
    ops: [{ op: 'Remove', path: 'members', value: [{ value: 'nobody' }] }],
    expect: G1,
    changed: false,
  },
  {
    id: 'PAT-061 Remove members with value [] removes all',
    fixture: 'G1',
    ops: [{ op: 'Remove', path: 'members', value: [] }],
    expect: { displayName: 'Tour Guides' },
  },
  {
    id: 'PAT-061 Remove members listing every member unassigns members',
    fixture: 'G1',
    ops: [{ op: 'remove', path: 'members', value: [{ value: U1ID }, { value: U2ID }] }],
    expect: { displayName: 'Tour Guides' },
  },
  {
    id: 'PAT-061 remove of emails with a value removes only that email',
    fixture: 'U1',
    ops: [{ op: 'remove', path: 'emails', value: [{ value: 'babs@jensen.org', type: 'home' }] }],
    expect: (a) => expect(a['emails']).toEqual([{ value: 'bjensen@example.com', type: 'work', primary: true }]),
  },
  {
    id: 'PAT-062 remove members[value eq U2] (filter form)',
    fixture: 'G1',
    ops: [{ op: 'remove', path: `members[value eq "${U2ID}"]` }],
    expect: { displayName: 'Tour Guides', members: [{ value: U1ID }] },
  },
  {
    id: 'PAT-063 Okta remove + add in one request',
    fixture: 'G1',
    ops: [
      { op: 'remove', path: `members[value eq "${U2ID}"]` },
      { op: 'add', path: 'members', value: [{ value: U3ID, display: 'omalley' }] },
    ],
    expect: { displayName: 'Tour Guides', members: [{ value: U1ID }, { value: U3ID }] },
  },
  // 5.7 Entra's value shapes
  { id: 'PAT-070 Replace active "False"', fixture: 'U1', ops: [{ op: 'Replace', path: 'active', value: 'False' }], expect: { ...U1, active: false } },
  { id: 'PAT-070 Replace active "True"', fixture: 'U2', ops: [{ op: 'Replace', path: 'active', value: 'True' }], expect: { ...U2, active: true } },
  { id: 'PAT-070 Replace active "FALSE" (any case)', fixture: 'U1', ops: [{ op: 'replace', path: 'active', value: 'FALSE' }], expect: { ...U1, active: false } },
  {
    id: 'PAT-070 path-less {"active":"False"} with dotted and URN keys (peer P3)',
    fixture: 'U1',
    ops: [{ op: 'Replace', value: { active: 'False', 'name.givenName': 'X', [`${ENT}:department`]: 'D' } }],
    expect: (a) => {
      expect(a['active']).toBe(false)
      expect((a['name'] as Record<string, unknown>)['givenName']).toBe('X')
      expect((a[ENT] as Record<string, unknown>)['department']).toBe('D')
    },
  },
  {
    id: 'PAT-070 primary "True" inside an element is coerced',
    fixture: 'U3',
    ops: [{ op: 'add', path: 'emails', value: [{ value: 'a@x.org', primary: 'True' }] }],
    expect: { ...U3, emails: [{ value: 'a@x.org', primary: true }] },
  },
  {
    id: 'PAT-071 manager as an array, unqualified path (MS-TUT Example 5)',
    fixture: 'U3',
    ops: [{ op: 'Add', path: 'manager', value: [{ $ref: `http://x/Users/${U1ID}`, value: U1ID }] }],
    expect: { ...U3, [ENT]: { manager: { value: U1ID } } },
  },
  {
    id: 'PAT-071 manager as an object on the URN path',
    fixture: 'U1',
    ops: [{ op: 'add', path: `${ENT}:manager`, value: { value: U3ID } }],
    expect: { ...U1, [ENT]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: U3ID } } },
  },
  {
    id: 'PAT-071 manager as a bare string',
    fixture: 'U1',
    ops: [{ op: 'replace', path: `${ENT}:manager`, value: U3ID }],
    expect: { ...U1, [ENT]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: U3ID } } },
  },
  {
    id: 'PAT-071 manager "" removes it',
    fixture: 'U1',
    ops: [{ op: 'replace', path: `${ENT}:manager`, value: '' }],
    expect: { ...U1, [ENT]: { employeeNumber: '701984', department: 'Tour Operations' } },
  },
  {
    id: 'PAT-071 manager null removes it',
    fixture: 'U1',
    ops: [{ op: 'replace', path: `${ENT}:manager`, value: null }],
    expect: { ...U1, [ENT]: { employeeNumber: '701984', department: 'Tour Operations' } },
  },
  {
    id: 'PAT-071 manager {"value":""} removes it',
    fixture: 'U1',
    ops: [{ op: 'replace', path: `${ENT}:manager`, value: { value: '' } }],
    expect: { ...U1, [ENT]: { employeeNumber: '701984', department: 'Tour Operations' } },
  },
  {
    id: 'PAT-071 manager.displayName in the value is dropped (readOnly, derived)',
    fixture: 'U3',
    ops: [{ op: 'add', path: `${ENT}:manager`, value: { value: U1ID, displayName: 'Babs' } }],
    expect: { ...U3, [ENT]: { manager: { value: U1ID } } },
  },
  {
    id: 'PAT-071 path-less manager key as a bare string',
    fixture: 'U3',
    ops: [{ op: 'replace', value: { [`${ENT}:manager`]: U1ID } }],
    expect: { ...U3, [ENT]: { manager: { value: U1ID } } },
  },
  {
    id: 'PAT-072 Remove emails[type eq "work"].value with the current value removes it',
    fixture: 'U1',
    ops: [{ op: 'Remove', path: 'emails[type eq "work"].value', value: 'BJENSEN@example.com' }],
    expect: (a) => expect(a['emails']).toEqual([{ value: 'babs@jensen.org', type: 'home' }]),
  },
  {
    id: 'PAT-072 Remove emails[type eq "work"].value with another value changes nothing (and never writes it)',
    fixture: 'U1',
    ops: [{ op: 'Remove', path: 'emails[type eq "work"].value', value: 'old@example.org' }],
    expect: U1,
    changed: false,
  },
  {
    id: 'PAT-072 Remove title with a value removes it (single-valued)',
    fixture: 'U1',
    ops: [{ op: 'Remove', path: 'title', value: 'Tour Guide' }],
    expect: (a) => expect(a).not.toHaveProperty('title'),
  },
  {
    id: 'PAT-073 roles with a JSON-encoded string value are stored unchanged',
    fixture: 'U3',
    ops: [{ op: 'Add', path: 'roles', value: [{ value: '{"id":"06b07648","value":"25","displayName":"Role1234"}' }] }],
    expect: { ...U3, roles: [{ value: '{"id":"06b07648","value":"25","displayName":"Role1234"}' }] },
  },
  {
    id: 'PAT-074 {"Value": …} inside a complex value is matched case-insensitively',
    fixture: 'U3',
    ops: [{ op: 'add', path: 'manager', value: { Value: 'SuzzyQ' } }],
    expect: { ...U3, [ENT]: { manager: { value: 'SuzzyQ' } } },
  },
  {
    id: 'PAT-026 readOnly filter terms are matched but not stored in a derived element',
    fixture: 'G2',
    ops: [{ op: 'add', path: 'members[display eq "Zoe"].value', value: U3ID }],
    expect: { displayName: 'Employees', members: [{ value: U3ID }] },
  },
  {
    id: 'PAT-021 add on a matched record with a null sub-attribute unassigns it',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails[type eq "work"]', value: { primary: null, display: 'W' } }],
    expect: (a) =>
      expect(a['emails']).toEqual([
        { value: 'bjensen@example.com', type: 'work', display: 'W' },
        { value: 'babs@jensen.org', type: 'home' },
      ]),
  },
  {
    id: 'PAT-021 add {"primary": null} alone on a matched record unassigns it',
    fixture: 'U1',
    ops: [{ op: 'add', path: 'emails[type eq "work"]', value: { primary: null } }],
    expect: (a) => expect((a['emails'] as unknown[])[0]).toEqual({ value: 'bjensen@example.com', type: 'work' }),
  },
  // misc
  {
    id: 'externalId is writable',
    fixture: 'U3',
    ops: [{ op: 'add', path: 'externalId', value: 'ext-3' }],
    expect: { ...U3, externalId: 'ext-3' },
  },
  {
    id: 'null on a single-valued attribute unassigns it',
    fixture: 'U1',
    ops: [{ op: 'replace', path: 'title', value: null }],
    expect: (a) => expect(a).not.toHaveProperty('title'),
  },
  {
    id: 'replace name null unassigns the whole complex attribute',
    fixture: 'U1',
    ops: [{ op: 'replace', path: 'name', value: null }],
    expect: (a) => expect(a).not.toHaveProperty('name'),
  },
  {
    id: 'extension attribute by bare name resolves to the extension',
    fixture: 'U3',
    ops: [{ op: 'add', path: 'department', value: 'Ops' }],
    expect: { ...U3, [ENT]: { department: 'Ops' } },
  },
  {
    id: 'valuePath on an extension attribute (manager[value eq …].value)',
    fixture: 'U1',
    ops: [{ op: 'replace', path: `${ENT}:manager[value eq "${U2ID}"].value`, value: U3ID }],
    expect: { ...U1, [ENT]: { employeeNumber: '701984', department: 'Tour Operations', manager: { value: U3ID } } },
  },
]

describe('applyPatch: PAT-010..074 (table)', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_, c) => {
    const r = run(c.fixture, c.ops, c.opts)
    if (typeof c.expect === 'function') c.expect(r.attributes, r)
    else expect(r.attributes).toEqual(c.expect)
    expect(r.changed).toBe(c.changed ?? true)
    expectPlain(r.attributes)
  })
})

interface ErrorCase {
  id: string
  fixture: Fixture
  ops: unknown[]
  scimType: string
  opts?: PatchOptions
}

const errorCases: ErrorCase[] = [
  { id: 'PAT-011 second op on id fails the whole request', fixture: 'U1', ops: [{ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', path: 'id', value: 'x' }], scimType: 'mutability' },
  { id: 'PAT-012 add groups on a User', fixture: 'U1', ops: [{ op: 'add', path: 'groups', value: [{ value: 'g2' }] }], scimType: 'mutability' },
  { id: 'PAT-012 add id', fixture: 'U1', ops: [{ op: 'add', path: 'id', value: 'hijack' }], scimType: 'mutability' },
  { id: 'PAT-012 remove id', fixture: 'U1', ops: [{ op: 'remove', path: 'id' }], scimType: 'mutability' },
  { id: 'PAT-012 replace meta', fixture: 'U1', ops: [{ op: 'replace', path: 'meta', value: { resourceType: 'User' } }], scimType: 'mutability' },
  { id: 'PAT-012 replace meta.lastModified', fixture: 'U1', ops: [{ op: 'replace', path: 'meta.lastModified', value: '2020-01-01T00:00:00Z' }], scimType: 'mutability' },
  { id: 'PAT-012 remove meta', fixture: 'U1', ops: [{ op: 'remove', path: 'meta' }], scimType: 'mutability' },
  { id: 'PAT-012 replace schemas', fixture: 'U1', ops: [{ op: 'replace', path: 'schemas', value: ['x'] }], scimType: 'mutability' },
  { id: 'PAT-012 manager.displayName is readOnly', fixture: 'U1', ops: [{ op: 'replace', path: `${ENT}:manager.displayName`, value: 'Boss' }], scimType: 'mutability' },
  { id: 'PAT-012 members[…].display is readOnly', fixture: 'G1', ops: [{ op: 'replace', path: `members[value eq "${U1ID}"].display`, value: 'B' }], scimType: 'mutability' },
  { id: 'PAT-012 groups[…].value', fixture: 'U1', ops: [{ op: 'remove', path: 'groups[value eq "g1"]' }], scimType: 'mutability' },
  { id: 'PAT-013 path-less id with another value', fixture: 'G2', ops: [{ op: 'replace', value: { id: 'other', displayName: 'Staff' } }], scimType: 'mutability' },
  { id: 'PAT-013 path-less groups with a value', fixture: 'U1', ops: [{ op: 'add', value: { groups: [{ value: 'g2' }] } }], scimType: 'mutability' },
  { id: 'PAT-013 path-less meta with another resourceType', fixture: 'G2', ops: [{ op: 'replace', value: { meta: { resourceType: 'User' } } }], scimType: 'mutability' },
  { id: 'PAT-017 replace userName null (required)', fixture: 'U1', ops: [{ op: 'replace', path: 'userName', value: null }], scimType: 'invalidValue' },
  { id: 'PAT-017 replace userName ""', fixture: 'U1', ops: [{ op: 'replace', path: 'userName', value: '' }], scimType: 'invalidValue' },
  { id: 'PAT-017 path-less replace displayName null on a Group', fixture: 'G1', ops: [{ op: 'replace', value: { displayName: null } }], scimType: 'invalidValue' },
  { id: 'PAT-022 strict: a single object for a multi-valued attribute', fixture: 'U1', ops: [{ op: 'add', path: 'emails', value: { value: 'y@example.net' } }], scimType: 'invalidValue', opts: STRICT },
  { id: 'PAT-026 filter with or cannot derive an element', fixture: 'U3', ops: [{ op: 'add', path: 'emails[type eq "work" or type eq "home"].value', value: 'z@x.org' }], scimType: 'noTarget' },
  { id: 'PAT-026 filter with co cannot derive an element', fixture: 'U3', ops: [{ op: 'replace', path: 'emails[type co "wo"].value', value: 'z@x.org' }], scimType: 'noTarget' },
  { id: 'PAT-026 filter with not cannot derive an element', fixture: 'U3', ops: [{ op: 'replace', path: 'emails[not (type eq "work")].value', value: 'z@x.org' }], scimType: 'noTarget' },
  { id: 'PAT-027 immutable attribute with a different value', fixture: 'U3', ops: [{ op: 'add', path: `${TEST_EXT}:badge`, value: 'B-1' }, { op: 'add', path: `${TEST_EXT}:badge`, value: 'B-2' }], scimType: 'mutability' },
  { id: 'PAT-027 members.value is immutable', fixture: 'G1', ops: [{ op: 'replace', path: `members[value eq "${U1ID}"].value`, value: U3ID }], scimType: 'mutability' },
  { id: 'PAT-036 remove userName', fixture: 'U1', ops: [{ op: 'remove', path: 'userName' }], scimType: 'mutability' },
  { id: 'PAT-036 Remove USERNAME (Entra case)', fixture: 'U1', ops: [{ op: 'Remove', path: 'USERNAME' }], scimType: 'mutability' },
  { id: 'PAT-036 remove Group displayName', fixture: 'G1', ops: [{ op: 'remove', path: 'displayName' }], scimType: 'mutability' },
  { id: 'PAT-036 remove groups', fixture: 'U1', ops: [{ op: 'remove', path: 'groups' }], scimType: 'mutability' },
  { id: 'PAT-053 strict: replace on a valuePath with no match', fixture: 'U3', ops: [{ op: 'replace', path: 'phoneNumbers[type eq "work"].value', value: '+1-555-0199' }], scimType: 'noTarget', opts: STRICT },
  { id: 'PAT-053 strict: replace whole element on a valuePath with no match', fixture: 'U3', ops: [{ op: 'replace', path: 'emails[type eq "work"]', value: { value: 'a@x.org' } }], scimType: 'noTarget', opts: STRICT },
  { id: 'PAT-053 strict XP3: displayName + fax replace fails atomically', fixture: 'U1', ops: [{ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', path: 'emails[type eq "fax"].value', value: 'zzz' }], scimType: 'noTarget', opts: STRICT },
  { id: 'PAT-054 immutable replace of an existing value', fixture: 'U3', ops: [{ op: 'add', path: `${TEST_EXT}:badge`, value: 'B-1' }, { op: 'replace', path: `${TEST_EXT}:badge`, value: 'B-2' }], scimType: 'mutability' },
  { id: 'PAT-054 immutable remove of an existing value', fixture: 'U3', ops: [{ op: 'add', path: `${TEST_EXT}:badge`, value: 'B-1' }, { op: 'remove', path: `${TEST_EXT}:badge` }], scimType: 'mutability' },
  { id: 'PAT-070 "yes" for a boolean', fixture: 'U1', ops: [{ op: 'replace', path: 'active', value: 'yes' }], scimType: 'invalidValue' },
  { id: 'PAT-070 strict: "False" for a boolean', fixture: 'U1', ops: [{ op: 'Replace', path: 'active', value: 'False' }], scimType: 'invalidValue', opts: STRICT },
  { id: 'PAT-070 strict: path-less "True"', fixture: 'U1', ops: [{ op: 'replace', value: { active: 'True' } }], scimType: 'invalidValue', opts: STRICT },
  { id: 'wrong type: integer for a string', fixture: 'U1', ops: [{ op: 'replace', path: 'title', value: 5 }], scimType: 'invalidValue' },
  { id: 'wrong type: string for an integer (extension)', fixture: 'U1', ops: [{ op: 'replace', path: `${TEST_EXT}:clearance`, value: '5' }], scimType: 'invalidValue' },
  { id: 'wrong type: array for a single-valued string', fixture: 'U1', ops: [{ op: 'replace', path: 'title', value: ['a'] }], scimType: 'invalidValue' },
  { id: 'wrong type: string for a complex attribute', fixture: 'U1', ops: [{ op: 'replace', path: 'name', value: 'Barbara' }], scimType: 'invalidValue' },
  { id: 'wrong type: string for a whole extension', fixture: 'U1', ops: [{ op: 'replace', path: ENT, value: 'x' }], scimType: 'invalidValue' },
  { id: 'strictSchema: unknown path-less key', fixture: 'U1', ops: [{ op: 'replace', value: { favouriteColour: 'blue' } }], scimType: 'invalidPath', opts: { strict: false, strictSchema: true } },
  { id: 'PAT-006 lenient: a path-less value whose only key is a typo (actve)', fixture: 'U1', ops: [{ op: 'replace', value: { actve: false } }], scimType: 'invalidPath' },
  { id: 'PAT-006 lenient: every key unknown, one inside an extension container', fixture: 'U1', ops: [{ op: 'add', value: { actve: false, [ENT]: { departmnt: 'X' } } }], scimType: 'invalidPath' },
  { id: 'PAT-006 lenient: core URN container holding only a typo', fixture: 'U1', ops: [{ op: 'replace', value: { 'urn:ietf:params:scim:schemas:core:2.0:User': { actve: false } } }], scimType: 'invalidPath' },
  { id: 'PAT-006 lenient: extension path whose value names no attribute', fixture: 'U1', ops: [{ op: 'replace', path: ENT, value: { departmnt: 'X' } }], scimType: 'invalidPath' },
  { id: 'PAT-006 lenient: a later no-op typo fails the whole request (PAT-011)', fixture: 'U1', ops: [{ op: 'replace', path: 'title', value: 'New' }, { op: 'replace', value: { actve: false } }], scimType: 'invalidPath' },
]

describe('applyPatch: failures (table)', () => {
  it.each(errorCases.map((c) => [c.id, c] as const))('%s', (_, c) => {
    fails(c.fixture, c.ops, c.scimType, c.opts)
  })
})

// ------------------------------------------------------------------------------ atomicity

describe('PAT-011 atomicity: applyPatch is pure', () => {
  it('a failing second op leaves the input deep-equal to its snapshot and names the failing operation', () => {
    const input = structuredClone(U1)
    const snapshot = structuredClone(input)
    const ops = parse({
      Operations: [
        { op: 'replace', path: 'name.givenName', value: 'Changed' },
        { op: 'add', path: 'emails', value: [{ value: 'n@x.org' }] },
        { op: 'remove', path: `${ENT}:manager` },
        { op: 'replace', path: 'id', value: 'x' },
      ],
    })
    const err = failure(() => applyPatch(users, U1ID, input, ops, LENIENT))
    expect(err.scimType).toBe('mutability')
    expect(err.detail).toContain('Operations[3]')
    expect(input).toEqual(snapshot)
  })

  it('a patch never writes its input (deep-frozen here), and shares with it only what no operation wrote (copy on write)', () => {
    const deepFreeze = (v: unknown): unknown => {
      if (v !== null && typeof v === 'object') {
        Object.freeze(v)
        for (const x of Object.values(v)) deepFreeze(x)
      }
      return v
    }
    const input = deepFreeze(structuredClone(U1)) as typeof U1
    const ops = parse({
      Operations: [
        { op: 'replace', path: 'name.givenName', value: 'Barb' },
        { op: 'replace', path: 'emails[type eq "work"].value', value: 'barb@example.com' },
        { op: 'add', path: 'emails', value: [{ value: 'third@example.com', type: 'other', primary: true }] },
        { op: 'replace', path: 'phoneNumbers[type eq "work"].primary', value: true },
        { op: 'add', value: { [`${ENT}:department`]: 'Ops' } },
      ],
    })
    const r = applyPatch(users, U1ID, input, ops, LENIENT)
    expect(input).toEqual(U1)
    expect((r.attributes['name'] as Record<string, unknown>)['givenName']).toBe('Barb')
    expect((r.attributes['emails'] as Record<string, unknown>[]).map((e) => [e['value'], e['primary']])).toEqual([
      ['barb@example.com', false],
      ['babs@jensen.org', undefined],
      ['third@example.com', true],
    ])
    expect((r.attributes[ENT] as Record<string, unknown>)["department"]).toBe("Ops")
    // Written attributes are the patch's own; the others are the input's values, not copies.
    expect(r.attributes['name']).not.toBe(input['name'])
    expect(r.attributes['emails']).not.toBe(input['emails'])
    expect(r.attributes['addresses']).toBe(input['addresses'])
    expect(r.attributes['phoneNumbers']).not.toBe(input['phoneNumbers'])
  })

  it('the same operations applied twice give the same result (re-apply on CAS retry)', () => {
    const ops = parse({ Operations: [{ op: 'add', path: 'members', value: [{ value: U3ID }] }] }, false, groups)
    const a = applyPatch(groups, 'g1', G1, ops, LENIENT)
    const b = applyPatch(groups, 'g1', G1, ops, LENIENT)
    expect(a.attributes).toEqual(b.attributes)
    const again = applyPatch(groups, 'g1', a.attributes, ops, LENIENT)
    expect(again.changed).toBe(false)
  })

  it('a required-attribute check after all operations fails the request (PAT-017)', () => {
    const err = fails('U1', [{ op: 'replace', value: { userName: null, title: 'T' } }], 'invalidValue')
    expect(err.detail).toContain('userName')
  })

  it('touched lists the canonical paths written (PAT-092)', () => {
    const r = run('U1', [
      { op: 'replace', path: 'NAME.givenName', value: 'x' },
      { op: 'replace', path: `${ENT}:department`, value: 'y' },
    ])
    expect([...r.touched].sort()).toEqual([`${ENT}:department`, 'name'].sort())
  })
})

// ------------------------------------------------------------------------------ security

describe('prototype pollution (peer A.4)', () => {
  afterEach(expectUnpolluted)

  it.each([
    '__proto__',
    '__proto__.polluted',
    'constructor',
    'constructor.prototype',
    'constructor.prototype.polluted',
    'prototype',
    'name.__proto__',
    'name.constructor',
    'emails.__proto__',
    '__proto__[primary eq true].polluted',
    'emails[type eq "work"].__proto__',
    `${ENT}:__proto__`,
    `${ENT}:constructor.prototype`,
    `${ENT}:manager.__proto__`,
    'hasOwnProperty',
    'toString',
  ])('path %s → 400 invalidPath/invalidFilter for add, replace and remove', (path) => {
    for (const op of ['add', 'replace', 'remove']) {
      const err = failure(() => run('U1', [{ op, path, value: { polluted: 1 } }]))
      expect(err.status).toBe(400)
      expect(['invalidPath', 'invalidFilter']).toContain(err.scimType)
    }
  })

  it.each(['emails[__proto__ eq "x"]', 'emails[constructor pr]', 'emails[type eq "work" and __proto__.polluted eq "x"]'])(
    'path %s with a polluting filter → 400 invalidFilter',
    (path) => {
      const err = failure(() => run('U1', [{ op: 'replace', path, value: 'x' }]))
      expect([err.status, err.scimType]).toEqual([400, 'invalidFilter'])
    },
  )

  const pathless: string[] = [
    '{"__proto__": {"polluted": 1}}',
    '{"__proto__.polluted": "yes"}',
    '{"__proto__.polluted2": "yes"}',
    '{"constructor": {"prototype": {"polluted": 1}}}',
    '{"constructor.prototype": {"polluted": 1}}',
    '{"prototype": {"polluted": 1}}',
    '{"name": {"__proto__": {"polluted": 1}, "givenName": "G"}}',
    '{"name.__proto__": {"polluted": 1}}',
    '{"emails": [{"value": "p@x.org", "__proto__": {"polluted": 1}}]}',
    `{"${ENT}": {"__proto__": {"polluted": 1}, "department": "D"}}`,
    `{"${ENT}:__proto__": {"polluted": 1}}`,
    `{"${ENT}": {"manager": {"__proto__": {"polluted": 1}, "value": "m"}}}`,
  ]

  // Values whose every key names no attribute: 400 invalidPath even when lenient (PAT-006).
  const onlyUnknown = new Set([...pathless.slice(0, 6), '{"name.__proto__": {"polluted": 1}}', `{"${ENT}:__proto__": {"polluted": 1}}`])

  it.each(pathless.filter((v) => !onlyUnknown.has(v)))('path-less add/replace %s is ignored (lenient) and pollutes nothing', (value) => {
    for (const op of ['add', 'replace']) {
      const r = run('U3', `[{"op":"${op}","value":${value}}]`)
      const json = JSON.stringify(r.attributes)
      expect(json).not.toContain('polluted')
      expect(json).not.toContain('__proto__')
      expectPlain(r.attributes)
    }
  })

  it.each([...onlyUnknown])('path-less add/replace %s names no attribute: 400 invalidPath (lenient too) and pollutes nothing', (value) => {
    for (const op of ['add', 'replace']) {
      const err = failure(() => run('U3', `[{"op":"${op}","value":${value}}]`))
      expect([err.status, err.scimType]).toEqual([400, 'invalidPath'])
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    }
  })

  it.each(pathless.slice(0, 6))('path-less %s with strictSchema → 400 invalidPath', (value) => {
    const err = failure(() => run('U3', `[{"op":"replace","value":${value}}]`, { strict: false, strictSchema: true }))
    expect([err.status, err.scimType]).toEqual([400, 'invalidPath'])
  })

  it.each([
    ['name', '{"__proto__": {"polluted": 1}, "givenName": "G"}'],
    ['emails', '[{"value": "p@x.org", "__proto__": {"polluted": 1}}]'],
    ['members', '[{"value": "m", "__proto__": {"polluted": 1}}]'],
    ['emails[type eq "work"]', '{"value": "p@x.org", "__proto__": {"polluted": 1}}'],
  ])('complex value on %s with a __proto__ key pollutes nothing', (path, value) => {
    const fixture: Fixture = path === 'members' ? 'G1' : 'U1'
    const r = run(fixture, `[{"op":"add","path":${JSON.stringify(path)},"value":${value}}]`)
    expect(JSON.stringify(r.attributes)).not.toContain('polluted')
  })

  it('envelope and operation __proto__ members are not inherited', () => {
    // An envelope whose only Operations come through __proto__ has none of its own.
    const env = JSON.parse('{"__proto__": {"Operations": [{"op":"add","path":"title","value":"x"}]}}')
    expect(failure(() => parse(env)).scimType).toBe('invalidSyntax')
    // An operation whose path comes through __proto__ has no path: remove → noTarget.
    const op = JSON.parse('{"Operations": [{"op":"remove","__proto__": {"path":"userName"}}]}')
    expect(failure(() => parse(op)).scimType).toBe('noTarget')
    const add = JSON.parse('{"Operations": [{"op":"add","__proto__": {"value": {"polluted": 1}}}]}')
    expect(failure(() => parse(add)).scimType).toBe('invalidValue')
  })
})
