/**
 * The model shared by the fuzz suites: a catalog of the schema's attributes, value pools, a
 * grammar-aware filter generator that also builds the tree each filter is meant to denote, random
 * rendered resources, and an independent reference evaluator written from RFC 7644 §3.4.2.2 and
 * FLT-020..036 (naive on purpose: it reads attributes by their canonical path text and shares no
 * helper with src/filter).
 */
import fc from 'fast-check'
import type { FilterNode } from '../../src/filter'
import type { AttributeInfo, CompiledResourceType } from '../../src/schema/registry'
import { foldCase } from '../../src/schema/casefold'
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, groups, users } from '../filter/fixtures'

export type RT = CompiledResourceType
export type Node = FilterNode

// =============================================================================== schema catalog

export function walk(rt: RT): AttributeInfo[] {
  const out: AttributeInfo[] = []
  const visit = (a: AttributeInfo): void => {
    out.push(a)
    for (const c of a.children?.values() ?? []) visit(c)
  }
  for (const a of rt.ordered) visit(a)
  visit(rt.core.get('schemas') as AttributeInfo)
  return out
}

/**
 * Not filterable: `returned: never` (FLT-035), and values that exist only in rendered output
 * (`meta.location`, generated `$ref`s), which the resolver rejects with invalidFilter.
 */
export const never = (a: AttributeInfo): boolean =>
  a.def.returned === 'never' ||
  a.parent?.def.returned === 'never' ||
  a.path === 'meta.location' || // rewritten by the router (needs the base URL), not by the evaluator
  (a.def.name === '$ref' && ['members', 'groups', 'manager'].includes(a.parent?.def.name ?? ''))

export interface Catalog {
  rt: RT
  leaves: AttributeInfo[]
  complex: AttributeInfo[]
}

export function catalog(rt: RT): Catalog {
  const all = walk(rt).filter((a) => !never(a))
  return {
    rt,
    leaves: all.filter((a) => a.def.type !== 'complex'),
    complex: all.filter((a) => a.def.type === 'complex' && !a.parent && a.children),
  }
}

export const USERS = catalog(users)
export const GROUPS = catalog(groups)

// =============================================================================== value pools

export const WORDS = [
  'a', 'A', 'ab', 'AB', 'abc', 'b', 'z', 'Tour Guide', 'tour guide', 'TOUR', 'guide', 'work', 'Work', 'home', 'HOME',
  'x@example.com', 'X@Example.COM', 'y@other.org', 'example.com', 'stra\u00dfe', 'STRASSE', 'strasse', '\u00e9cole',
  '\u00c9COLE', 'e\u0301cole', 'Zo\u00eb', 'zoe\u0308', '\u00c5ngstr\u00f6m', '\u0130stanbul', 'istanbul', '\u{1F600}',
  '\u{1F600}x', '\uffff', '\u00ff', '', ' ', "O'Malley", 'Bob "The Builder"', 'back\\slash', 'tab\there', 'ext-1',
  'EXT-1', '701984', 'Employee', 'true', 'null', 'urn:ietf:params:scim:schemas:core:2.0:User',
  'URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER', ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, 'User', 'user', 'Group',
]
export const IDS = ['2819c223-7f76-453a-919d-413861904646', '2819C223-7F76-453A-919D-413861904646', 'c0ffee00', 'C0FFEE00', 'a']
export const BINARY = ['TWFu', 'twfu', 'dGVzdA==', 'AAAA', 'aGVsbG8=']

export const word = fc.constantFrom(...WORDS)
export const smallString = fc.oneof(
  { weight: 5, arbitrary: word },
  { weight: 1, arbitrary: fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'A', 'b', '\u00e9', '\u00c9', 'e\u0301', '\u00df', '"', '\\', ' ', '\u{1F600}') }) },
)

export function stringPool(a: AttributeInfo): fc.Arbitrary<string> {
  if (a.def.type === 'binary') return fc.constantFrom(...BINARY)
  const n = a.def.name.toLowerCase()
  if (n === 'id' || n === 'value' || n === 'employeenumber') return fc.oneof(fc.constantFrom(...IDS), smallString)
  return smallString
}

// ------------------------------------------------------------------------------- dateTimes

const BASE = Date.UTC(2024, 4, 1, 10, 0, 0) / 1000 // seconds
const OFFSETS = [0, 0, -7 * 60, 5 * 60 + 30, 14 * 60, -12 * 60]

/** An instant near BASE, formatted as xsd:dateTime with a random offset and precision. */
export const dateTime = fc
  .tuple(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(0, 0, 1, 999_999_999, 500_000_000, 861_797_900),
    fc.constantFrom(...OFFSETS),
    fc.constantFrom(0, 3, 7, 9),
    fc.boolean(),
  )
  .map(([ds, nanos, offsetMin, digits, useZ]) => formatDateTime(BASE + ds, nanos, offsetMin, digits, useZ))

export function formatDateTime(seconds: number, nanos: number, offsetMin: number, digits: number, useZ: boolean): string {
  const local = new Date((seconds + offsetMin * 60) * 1000).toISOString().slice(0, 19)
  const frac = digits === 0 ? '' : '.' + String(nanos).padStart(9, '0').slice(0, digits)
  const sign = offsetMin < 0 ? '-' : '+'
  const abs = Math.abs(offsetMin)
  const zone = offsetMin === 0 && useZ ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
  return local + frac + zone
}

// =============================================================================== reference evaluator

/**
 * A naive reference for RFC 7644 §3.4.2.2 / FLT-020..036, written without the implementation's
 * helpers. It reads attributes by their canonical path text.
 */
const hasOwn = (o: unknown, k: string): boolean => o !== null && typeof o === 'object' && !Array.isArray(o) && Object.prototype.hasOwnProperty.call(o, k)
const get = (o: unknown, k: string): unknown => (hasOwn(o, k) ? (o as Record<string, unknown>)[k] : undefined)

/** `urn:…:User:manager.value` → container URN (or undefined) and the dotted names. */
function splitCanonical(path: string): { urn: string | undefined; names: string[] } {
  if (path.toLowerCase().startsWith('urn:')) {
    const colon = path.lastIndexOf(':')
    return { urn: path.slice(0, colon), names: path.slice(colon + 1).split('.') }
  }
  return { urn: undefined, names: path.split('.') }
}

/** The raw value of an attribute: sub-attributes of a multi-valued parent give one entry per element. */
function refRead(subject: unknown, a: AttributeInfo, scope: AttributeInfo | undefined): unknown {
  if (scope && a.parent === scope) return get(subject, a.def.name)
  const { urn, names } = splitCanonical(a.path)
  const container = urn === undefined ? subject : get(subject, urn)
  const top = get(container, names[0] as string)
  if (names.length === 1) return top
  const sub = names[1] as string
  return Array.isArray(top) ? top.map((el) => get(el, sub)) : get(top, sub)
}

function refValues(raw: unknown): unknown[] {
  if (raw === undefined || raw === null) return []
  const list = Array.isArray(raw) ? raw.flat(1) : [raw]
  return list.filter((v) => v !== undefined && v !== null)
}

/** FLT-028. */
export function refPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false
  if (Array.isArray(v)) return v.some(refPresent)
  if (typeof v === 'object') return Object.values(v as object).some(refPresent)
  return true
}

/**
 * FLT-020/021, RES-021: NFC when caseExact, else full case folding. The fold itself is the
 * library's `foldCase`, checked against the Unicode table on its own in test/unit/casefold.test.ts.
 */
export function refFold(s: string, a: AttributeInfo): string {
  return a.def.caseExact ? s.normalize('NFC') : foldCase(s)
}

/** Code-point order (RFC 7644 "lexicographical"), no locale. */
function refCodePointCompare(x: string, y: string): number {
  const a = Array.from(x, (c) => c.codePointAt(0) as number)
  const b = Array.from(y, (c) => c.codePointAt(0) as number)
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/** xsd:dateTime → nanoseconds since the epoch (BigInt); undefined when unparseable. */
export function refInstant(v: unknown): bigint | undefined {
  if (typeof v !== 'string') return undefined
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(v)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as string[]
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
  let offset = 0
  if (zone !== 'Z') offset = (zone!.startsWith('-') ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)))
  const seconds = BigInt(ms / 1000 - offset * 60)
  return seconds * 1_000_000_000n + BigInt((frac ?? '').padEnd(9, '0') || '0')
}

function refOrder(op: string, c: number): boolean {
  switch (op) {
    case 'eq': return c === 0
    case 'ne': return c !== 0
    case 'gt': return c > 0
    case 'ge': return c >= 0
    case 'lt': return c < 0
    case 'le': return c <= 0
    default: throw new Error(`order op ${op}`)
  }
}

function refCompareOne(a: AttributeInfo, op: string, operand: unknown, v: unknown): boolean {
  switch (a.def.type) {
    case 'boolean':
      if (typeof v !== 'boolean') return false
      return op === 'eq' ? v === operand : op === 'ne' ? v !== operand : fail(`boolean ${op}`)
    case 'integer':
    case 'decimal':
      if (typeof v !== 'number') return false
      return refOrder(op, v === operand ? 0 : v < (operand as number) ? -1 : 1)
    case 'dateTime': {
      const x = refInstant(v)
      const y = refInstant(operand)
      if (x === undefined || y === undefined) return false
      return refOrder(op, x === y ? 0 : x < y ? -1 : 1)
    }
    default: {
      if (typeof v !== 'string') return false
      const s = refFold(v, a)
      const o = refFold(operand as string, a)
      if (op === 'co') return s.includes(o)
      if (op === 'sw') return s.startsWith(o)
      if (op === 'ew') return s.endsWith(o)
      return refOrder(op, refCodePointCompare(s, o))
    }
  }
}

function fail(msg: string): never {
  throw new Error(`reference: unexpected ${msg}`)
}

export function refEval(node: Node, subject: unknown, scope?: AttributeInfo): boolean {
  switch (node.type) {
    case 'and':
      return node.filters.every((f) => refEval(f, subject, scope))
    case 'or':
      return node.filters.some((f) => refEval(f, subject, scope))
    case 'not':
      return !refEval(node.filter, subject, scope)
    case 'present':
      return refPresent(refRead(subject, node.attribute, scope))
    case 'compare':
      return refValues(refRead(subject, node.attribute, scope)).some((v) => refCompareOne(node.attribute, node.op, node.value, v))
    case 'valuePath': {
      const raw = refRead(subject, node.attribute, scope)
      const elements = Array.isArray(raw) ? raw : [raw]
      return elements.some((el) => el !== null && typeof el === 'object' && !Array.isArray(el) && refEval(node.filter, el, node.attribute))
    }
  }
}

// =============================================================================== filter generator

/** A generated filter: its text and the resolved tree it is meant to denote. */
export interface Gen {
  text: string
  expected: Node
  /** Top-level connective, for parenthesisation. */
  kind: 'leaf' | 'and' | 'or'
}

export const ws = fc.constantFrom(' ', ' ', ' ', '  ', '\t')
export const caseOf = (w: string): fc.Arbitrary<string> => fc.constantFrom(w, w.toUpperCase(), w.charAt(0).toUpperCase() + w.slice(1), w.toLowerCase())

const BARE_OK = /^[^ \t\r\n()[\]"']+$/
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/
const KEYWORD = /^(?:true|false|null)$/i

/** Spellings of a string literal whose decoded value is `v` (FLT-004, FLT-061). */
export function stringLiteral(v: string): fc.Arbitrary<string> {
  const forms = [JSON.stringify(v)]
  // Every non-ASCII or special UTF-16 code unit as \uXXXX (surrogate pairs as two escapes).
  let escaped = '"'
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    escaped += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? v[i] : '\\u' + c.toString(16).padStart(4, '0')
  }
  forms.push(escaped + '"')
  if (!/[\u0000-\u001f]/.test(v)) forms.push("'" + v.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'")
  if (BARE_OK.test(v) && !JSON_NUMBER.test(v) && !KEYWORD.test(v)) forms.push(v)
  return fc.constantFrom(...forms)
}

/** Spellings of an attribute's path (FLT-010..012, RFC 7643 §2.1 case-insensitivity). */
export function pathText(a: AttributeInfo, rt: RT, relative: boolean): fc.Arbitrary<string> {
  if (relative) return caseOf(a.def.name)
  const core = rt.coreSchema.id
  const names = a.parent ? `${a.parent.def.name}.${a.def.name}` : a.def.name
  if (a.extension) return fc.constantFrom(names, `${a.schema}:${names}`, `${a.schema.toLowerCase()}:${names}`, names.toUpperCase())
  return fc.oneof({ weight: 4, arbitrary: caseOf(names) }, { weight: 1, arbitrary: fc.constant(`${core}:${names}`) })
}

const OPS: Record<string, string[]> = {
  string: ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'],
  reference: ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'],
  binary: ['eq', 'ne', 'co', 'sw', 'ew'],
  boolean: ['eq', 'ne'],
  dateTime: ['eq', 'ne', 'gt', 'ge', 'lt', 'le'],
}

/** `op value` for a (non-complex) attribute: [op text, literal text, typed value]. */
export function opAndValue(a: AttributeInfo): fc.Arbitrary<{ op: string; opText: string; lit: string; value: string | boolean }> {
  const ops = OPS[a.def.type] as string[]
  const op = fc.constantFrom(...ops).chain((o) => caseOf(o).map((t) => ({ op: o, opText: t })))
  let value: fc.Arbitrary<{ lit: string; value: string | boolean }>
  switch (a.def.type) {
    case 'boolean':
      value = fc.boolean().chain((b) =>
        fc.constantFrom(String(b), String(b).toUpperCase(), `"${b ? 'True' : 'False'}"`, `"${b}"`).map((lit) => ({ lit, value: b })),
      )
      break
    case 'dateTime':
      value = dateTime.chain((d) => fc.constantFrom(JSON.stringify(d), d).map((lit) => ({ lit, value: d })))
      break
    default:
      value = stringPool(a).chain((s) => stringLiteral(s).map((lit) => ({ lit, value: s })))
  }
  return fc.tuple(op, value).map(([o, v]) => ({ ...o, ...v }))
}

/** A leaf over `a` (relative inside a valuePath): compare, pr, or eq/ne null (FLT-029). */
export function leafOf(a: AttributeInfo, rt: RT, relative: boolean): fc.Arbitrary<Gen> {
  // FLT-030: a complex attribute compares through its `value` sub-attribute.
  const target = a.def.type === 'complex' ? (a.children?.get('value') as AttributeInfo) : a
  const path = pathText(a, rt, relative)
  const present = path.chain((p) => caseOf('pr').map((pr): Gen => ({ text: `${p} ${pr}`, expected: { type: 'present', attribute: a }, kind: 'leaf' })))
  if (!target) return present
  const compare = fc.tuple(path, ws, opAndValue(target), ws).map(
    ([p, w1, ov, w2]): Gen => ({
      text: `${p}${w1}${ov.opText}${w2}${ov.lit}`,
      expected: { type: 'compare', attribute: target, op: ov.op as 'eq', value: ov.value },
      kind: 'leaf',
    }),
  )
  const nul = fc.tuple(path, fc.constantFrom('eq', 'ne', 'EQ', 'Ne'), caseOf('null')).map(
    ([p, op, n]): Gen => ({
      text: `${p} ${op} ${n}`,
      expected:
        op.toLowerCase() === 'eq'
          ? { type: 'not', filter: { type: 'present', attribute: target } }
          : { type: 'present', attribute: target },
      kind: 'leaf',
    }),
  )
  return fc.oneof({ weight: 6, arbitrary: compare }, { weight: 1, arbitrary: present }, { weight: 1, arbitrary: nul })
}

function topLeaf(cat: Catalog): fc.Arbitrary<Gen> {
  const withValue = cat.complex.filter((c) => c.children?.has('value'))
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...cat.leaves).chain((a) => leafOf(a, cat.rt, false)) },
    { weight: 1, arbitrary: fc.constantFrom(...cat.complex).chain((a) => leafOf(a, cat.rt, false)) },
    ...(withValue.length ? [{ weight: 1, arbitrary: fc.constantFrom(...withValue).chain((a) => leafOf(a, cat.rt, false)) }] : []),
  )
}

const paren = (g: Gen, kind: 'and' | 'or'): fc.Arbitrary<string> =>
  // `or` inside `and` needs parentheses; anything may have them.
  g.kind === 'or' && kind === 'and' ? fc.constant(`(${g.text})`) : fc.constantFrom(g.text, `(${g.text})`, `( ${g.text} )`)

function junction(kind: 'and' | 'or', parts: fc.Arbitrary<Gen>): fc.Arbitrary<Gen> {
  return fc.array(parts, { minLength: 2, maxLength: 3 }).chain((gs) =>
    fc.tuple(fc.tuple(...gs.map((g) => paren(g, kind))), fc.array(fc.tuple(ws, caseOf(kind), ws), { minLength: gs.length - 1, maxLength: gs.length - 1 })).map(
      ([texts, seps]): Gen => {
        let text = texts[0] as string
        for (let i = 1; i < texts.length; i++) {
          const [w1, k, w2] = seps[i - 1] as [string, string, string]
          text += `${w1}${k}${w2}${texts[i]}`
        }
        return { text, expected: { type: kind, filters: gs.map((g) => g.expected) }, kind }
      },
    ),
  )
}

function negation(inner: fc.Arbitrary<Gen>): fc.Arbitrary<Gen> {
  return fc.tuple(caseOf('not'), fc.constantFrom('', ' ', '  '), inner).map(([n, w, g]): Gen => ({ text: `${n}${w}(${g.text})`, expected: { type: 'not', filter: g.expected }, kind: 'leaf' }))
}

/** Filters inside `attr[...]`: sub-attributes only, no nested valuePath (errata 4690/7322). */
function valFilter(a: AttributeInfo, rt: RT, depth: number): fc.Arbitrary<Gen> {
  const subs = [...(a.children?.values() ?? [])].filter((c) => !never(c))
  const leaf = fc.constantFrom(...subs).chain((s) => leafOf(s, rt, true))
  if (depth <= 0) return leaf
  const rec = valFilter(a, rt, depth - 1)
  return fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: junction('and', rec) }, { weight: 1, arbitrary: junction('or', rec) }, { weight: 1, arbitrary: negation(rec) })
}

function valuePath(cat: Catalog, depth: number): fc.Arbitrary<Gen> {
  return fc.constantFrom(...cat.complex).chain((a) => {
    const inner = valFilter(a, cat.rt, Math.min(depth, 2))
    const plain = fc.tuple(pathText(a, cat.rt, false), inner).map(([p, g]): Gen => ({ text: `${p}[${g.text}]`, expected: { type: 'valuePath', attribute: a, filter: g.expected }, kind: 'leaf' }))
    const subs = [...(a.children?.values() ?? [])].filter((c) => !never(c))
    // FLT-060: `emails[type eq "work"].value eq "x"` means `emails[type eq "work" and value eq "x"]`.
    const entra = fc.tuple(pathText(a, cat.rt, false), inner, fc.constantFrom(...subs)).chain(([p, g, s]) =>
      fc.tuple(caseOf(s.def.name), opAndValue(s)).map(([sn, ov]): Gen => {
        const leaf: Node = { type: 'compare', attribute: s, op: ov.op as 'eq', value: ov.value }
        const inside = g.kind === 'or' ? `(${g.text})` : g.text
        const filter: Node = g.expected.type === 'and' && g.kind === 'and' ? { type: 'and', filters: [...g.expected.filters, leaf] } : { type: 'and', filters: [g.expected, leaf] }
        return { text: `${p}[${inside}].${sn} ${ov.opText} ${ov.lit}`, expected: { type: 'valuePath', attribute: a, filter }, kind: 'leaf' }
      }),
    )
    return fc.oneof({ weight: 3, arbitrary: plain }, { weight: 1, arbitrary: entra })
  })
}

export function filterGen(cat: Catalog, depth: number): fc.Arbitrary<Gen> {
  if (depth <= 0) return topLeaf(cat)
  const rec = filterGen(cat, depth - 1)
  return fc.oneof(
    { weight: 5, arbitrary: topLeaf(cat) },
    { weight: 2, arbitrary: junction('and', rec) },
    { weight: 2, arbitrary: junction('or', rec) },
    { weight: 1, arbitrary: negation(rec) },
    { weight: 2, arbitrary: valuePath(cat, depth - 1) },
  )
}

export const USER_FILTERS = filterGen(USERS, 3)
export const GROUP_FILTERS = filterGen(GROUPS, 3)
export const anyGen = fc.oneof(
  { weight: 3, arbitrary: USER_FILTERS.map((g) => ({ cat: USERS, g })) },
  { weight: 1, arbitrary: GROUP_FILTERS.map((g) => ({ cat: GROUPS, g })) },
)

// =============================================================================== resources

export const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(null) })

/** Drop undefined members (an absent key is unassigned). */
export function clean(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out
}

const multi = (element: fc.Arbitrary<Record<string, unknown>>) => opt(fc.array(element.map(clean), { maxLength: 3 }))
const meta = (resourceType: string) =>
  fc.record({ created: dateTime, lastModified: dateTime, version: fc.constantFrom('W/"1"', 'W/"A"'), id: fc.constantFrom(...IDS) }).map((m) => ({
    resourceType,
    created: m.created,
    lastModified: m.lastModified,
    version: m.version,
    location: `https://example.com/scim/v2/${resourceType}s/${m.id}`,
  }))

export const userView = fc
  .record({
    id: fc.constantFrom(...IDS),
    externalId: opt(smallString),
    meta: meta('User'),
    userName: smallString,
    name: opt(fc.record({ givenName: opt(smallString), familyName: opt(smallString), formatted: opt(smallString) }).map(clean)),
    displayName: opt(smallString),
    nickName: opt(smallString),
    title: opt(smallString),
    userType: opt(smallString),
    profileUrl: opt(smallString),
    active: opt(fc.boolean()),
    emails: multi(fc.record({ value: opt(stringPool({ def: { name: 'value' } } as AttributeInfo)), type: opt(fc.constantFrom('work', 'home', 'Work', 'other')), primary: opt(fc.boolean()), display: opt(smallString) })),
    phoneNumbers: multi(fc.record({ value: opt(smallString), type: opt(fc.constantFrom('work', 'mobile')) })),
    roles: multi(fc.record({ value: opt(smallString), primary: opt(fc.boolean()), type: opt(smallString) })),
    x509Certificates: multi(fc.record({ value: fc.constantFrom(...BINARY) })),
    groups: multi(fc.record({ value: fc.constantFrom(...IDS), display: opt(smallString), type: fc.constantFrom('direct', 'indirect') })),
    enterprise: opt(
      fc
        .record({
          employeeNumber: opt(smallString),
          department: opt(smallString),
          costCenter: opt(smallString),
          manager: opt(fc.record({ value: opt(fc.constantFrom(...IDS)), displayName: opt(smallString) }).map(clean)),
        })
        .map(clean),
    ),
    schemaCase: fc.boolean(),
  })
  .map(({ enterprise, schemaCase, ...rest }) => {
    const v = clean(rest)
    v['schemas'] = [schemaCase ? USER_SCHEMA : USER_SCHEMA.toUpperCase()]
    if (enterprise !== undefined) {
      v[ENTERPRISE_USER_SCHEMA] = enterprise
      ;(v['schemas'] as string[]).push(ENTERPRISE_USER_SCHEMA)
    }
    return v
  })

export const groupView = fc
  .record({
    id: fc.constantFrom(...IDS),
    externalId: opt(smallString),
    meta: meta('Group'),
    displayName: opt(smallString),
    members: multi(fc.record({ value: opt(fc.constantFrom(...IDS)), type: opt(fc.constantFrom('User', 'Group')), display: opt(smallString) })),
  })
  .map((g) => ({ ...clean(g), schemas: [GROUP_SCHEMA] }))

// =============================================================================== tree helpers

const TYPES = new Set(['compare', 'present', 'and', 'or', 'not', 'valuePath'])
const CMP_OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'])

/** The documented shape of a resolved tree (ast.ts): flat and/or of ≥ 2, typed values, never complex leaves. */
export function assertWellFormed(node: Node, rt: RT, scope?: AttributeInfo): void {
  if (!TYPES.has(node.type)) throw new Error(`unknown node type ${String(node.type)}`)
  switch (node.type) {
    case 'and':
    case 'or':
      if (node.filters.length < 2) throw new Error(`${node.type} with ${node.filters.length} operand(s)`)
      for (const f of node.filters) {
        if (f.type === node.type) throw new Error(`${node.type} nested directly in ${node.type} (not flat)`)
        assertWellFormed(f, rt, scope)
      }
      return
    case 'not':
      return assertWellFormed(node.filter, rt, scope)
    case 'valuePath':
      if (scope) throw new Error('valuePath nested in a valuePath')
      if (node.attribute.def.type !== 'complex') throw new Error('valuePath on a non-complex attribute')
      return assertWellFormed(node.filter, rt, node.attribute)
    case 'present':
      if (scope && node.attribute.parent !== scope) throw new Error(`leaf ${node.attribute.path} outside its valuePath ${scope.path}`)
      if (never(node.attribute)) throw new Error(`returned:never attribute ${node.attribute.path} in a filter`)
      return
    case 'compare': {
      const a = node.attribute
      if (scope && a.parent !== scope) throw new Error(`leaf ${a.path} outside its valuePath ${scope.path}`)
      if (never(a)) throw new Error(`returned:never attribute ${a.path} in a filter`)
      if (a.def.type === 'complex') throw new Error(`compare on complex ${a.path}`)
      if (!CMP_OPS.has(node.op)) throw new Error(`op ${node.op}`)
      if (node.value === null) throw new Error('null compare value')
      const t = a.def.type
      const want = t === 'boolean' ? 'boolean' : t === 'integer' || t === 'decimal' ? 'number' : 'string'
      if (typeof node.value !== want) throw new Error(`${t} attribute ${a.path} with ${typeof node.value} value`)
      if (t === 'boolean' && node.op !== 'eq' && node.op !== 'ne') throw new Error(`${node.op} on boolean`)
      if ((t === 'dateTime' || t === 'integer' || t === 'decimal' || t === 'boolean') && ['co', 'sw', 'ew'].includes(node.op)) throw new Error(`${node.op} on ${t}`)
      if (t === 'binary' && ['gt', 'ge', 'lt', 'le'].includes(node.op)) throw new Error(`${node.op} on binary`)
      return
    }
  }
}

/** Flatten nested same-type and/or (the grammar splices parenthesised groups). */
export function normalize(node: Node): Node {
  switch (node.type) {
    case 'and':
    case 'or': {
      const out: Node[] = []
      for (const f of node.filters.map(normalize)) {
        if (f.type === node.type) out.push(...f.filters)
        else out.push(f)
      }
      return out.length === 1 ? (out[0] as Node) : { type: node.type, filters: out }
    }
    case 'not':
      return { type: 'not', filter: normalize(node.filter) }
    case 'valuePath':
      return { type: 'valuePath', attribute: node.attribute, filter: normalize(node.filter) }
    default:
      return node
  }
}

/** Structural equivalence of resolved trees (attributes by identity, values by type and content). */
export function equivalent(x: Node, y: Node): string | undefined {
  if (x.type !== y.type) return `${x.type} vs ${y.type}`
  switch (x.type) {
    case 'and':
    case 'or': {
      const ys = (y as typeof x).filters
      if (x.filters.length !== ys.length) return `${x.type} arity ${x.filters.length} vs ${ys.length}`
      for (let i = 0; i < ys.length; i++) {
        const d = equivalent(x.filters[i] as Node, ys[i] as Node)
        if (d) return d
      }
      return undefined
    }
    case 'not':
      return equivalent(x.filter, (y as typeof x).filter)
    case 'valuePath':
      if (x.attribute !== (y as typeof x).attribute) return `valuePath ${x.attribute.path} vs ${(y as typeof x).attribute.path}`
      return equivalent(x.filter, (y as typeof x).filter)
    case 'present':
      return x.attribute === (y as typeof x).attribute ? undefined : `pr ${x.attribute.path} vs ${(y as typeof x).attribute.path}`
    case 'compare': {
      const z = y as typeof x
      if (x.attribute !== z.attribute) return `attribute ${x.attribute.path} vs ${z.attribute.path}`
      if (x.op !== z.op) return `op ${x.op} vs ${z.op}`
      if (typeof x.value !== typeof z.value || x.value !== z.value) return `value ${JSON.stringify(x.value)} vs ${JSON.stringify(z.value)}`
      return undefined
    }
  }
}

