/**
 * The PatchOp envelope read without copies (PAT-001, PAT-003; RFC 7644 §3.5.2) and the PATCH path
 * cache (PAT-006, PAT-007): `readEnvelope` accepts exactly the messages the lowerKeys + Ajv path
 * (`checkedEnvelope`) accepts, with the same result, so every malformed message still gets that
 * path's error; a path is resolved once per resource type, limits and text, and the shared result
 * is frozen; failures are never cached.
 */
import fc from 'fast-check'
import { checkedEnvelope, parsePatchRequest, readEnvelope } from '../../src/patch/operations'
import { Lru } from '../../src/filter/parse'
import { createRegistry } from '../../src/schema/registry'
import { enterpriseUserSchema, groupResourceType, groupSchema, userResourceType, userSchema } from '../../src/schema/core-schemas'

const reg = createRegistry([userSchema, groupSchema, enterpriseUserSchema], [userResourceType, groupResourceType])
const users = reg.bySegment('Users')!
const LIMITS = { maxLength: 4096, maxDepth: 32, maxTerms: 200 }
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

// Member names in several spellings (and two spellings of one name), values well and badly typed.
const spell = (name: string) => fc.constantFrom(name, name.toUpperCase(), name[0]!.toUpperCase() + name.slice(1))
const anyValue = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.string({ maxLength: 4 }), fc.constant([]), fc.constant({}), fc.constant(['x']), fc.constant([1]), fc.constant([PATCH_OP, null]))
const member = (name: string, good: fc.Arbitrary<unknown>) =>
  fc.tuple(spell(name), fc.oneof({ weight: 8, arbitrary: good }, { weight: 1, arbitrary: anyValue }))
const operation = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .tuple(
        fc.option(member('op', fc.constantFrom('add', 'Replace', 'REMOVE', 'move')), { nil: undefined, freq: 10 }),
        fc.option(member('path', fc.constantFrom('active', 'emails[type eq "work"].value', '')), { nil: undefined }),
        fc.option(member('value', fc.constantFrom(false, 'x', { active: true })), { nil: undefined }),
        fc.option(fc.tuple(fc.constantFrom('OP', 'Path', 'VALUE', 'other', '__proto__'), anyValue), { nil: undefined, freq: 2 }),
      )
      .map((members) => {
        const o: Record<string, unknown> = {}
        for (const m of members) if (m) Object.defineProperty(o, m[0], { value: m[1], enumerable: true, writable: true, configurable: true })
        return o
      }),
  },
  { weight: 1, arbitrary: anyValue },
)
const envelope = fc
  .tuple(
    fc.option(member('schemas', fc.constantFrom([PATCH_OP], [], [PATCH_OP, 'x'])), { nil: undefined }),
    fc.option(member('operations', fc.array(operation, { maxLength: 3 })), { nil: undefined, freq: 10 }),
    fc.option(fc.tuple(fc.constantFrom('Schemas', 'OPERATIONS', 'id', '__proto__'), anyValue), { nil: undefined, freq: 2 }),
  )
  .map((members) => {
    const o: Record<string, unknown> = {}
    for (const m of members) if (m) Object.defineProperty(o, m[0], { value: m[1], enumerable: true, writable: true, configurable: true })
    return o
  })

describe('PatchOp envelope without copies (RFC 7644 §3.5.2)', () => {
  it('PAT-001, PAT-003: readEnvelope accepts exactly what lowerKeys + Ajv accepts (objects of up to 8 members), with the same result', () => {
    let accepted = 0
    fc.assert(
      fc.property(envelope, (body) => {
        let expected: unknown
        let error: unknown
        try {
          expected = checkedEnvelope(body)
        } catch (err) {
          error = err
        }
        const fast = readEnvelope(body)
        if (error === undefined) {
          accepted++
          expect(fast).toEqual(expected)
        } else {
          expect(error).toMatchObject({ scimType: 'invalidSyntax' })
          expect(fast).toBeUndefined()
        }
      }),
      { numRuns: 3000 },
    )
    expect(accepted).toBeGreaterThan(300)
  })

  it('an object with many members takes the linear Ajv path, with the same result', () => {
    const op: Record<string, unknown> = { op: 'replace', path: 'active', value: false }
    for (let i = 0; i < 20_000; i++) op[`x${i}`] = i
    const body = { schemas: [PATCH_OP], Operations: [op] }
    expect(readEnvelope(body)).toBeUndefined()
    const [parsed] = parsePatchRequest(users, body, LIMITS, true)
    expect(parsed).toMatchObject({ op: 'replace', hasValue: true, value: false, pathText: 'active' })
    expect(parsed!.path!.attribute).toBe(users.core.get('active'))
  })

  it('PAT-003: a member spelled twice is the Ajv path’s error', () => {
    expect(() => parsePatchRequest(users, { Operations: [{ op: 'add', Op: 'add', value: {} }] }, LIMITS, false)).toThrow(/member 'Op' appears more than once/)
    expect(() => parsePatchRequest(users, { Operations: [{ op: 'add' }], operations: [] }, LIMITS, false)).toThrow(/appears more than once/)
  })
})

describe('PATCH path cache', () => {
  const body = (path: string) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path, value: 'x' }] })

  it('PAT-007: one frozen, resolved path per resource type, limits and text', () => {
    const a = parsePatchRequest(users, body('emails[type eq "work"].value'), LIMITS, false)[0]!.path!
    const b = parsePatchRequest(users, body('emails[type eq "work"].value'), LIMITS, false)[0]!.path!
    expect(b).toBe(a)
    expect(a.attribute).toBe(users.core.get('emails'))
    expect(a.sub).toBe(users.core.get('emails')!.children!.get('value'))
    expect(Object.isFrozen(a)).toBe(true)
    expect(Object.isFrozen(a.filter)).toBe(true)
    // The registry's AttributeInfo objects are not frozen by the cache.
    expect(Object.isFrozen(a.attribute)).toBe(false)
    expect(Object.isFrozen(a.sub)).toBe(false)
    // Another limit is another entry: a lower maxTerms is still enforced.
    expect(() => parsePatchRequest(users, body('emails[type eq "work" and value pr]'), { ...LIMITS, maxTerms: 1 }, false)).toThrow(/maxTerms/)
    expect(parsePatchRequest(users, body('emails[type eq "work" and value pr]'), LIMITS, false)[0]!.path!.filter?.type).toBe('and')
    expect(() => parsePatchRequest(users, body('emails[type eq "work" and value pr]'), { ...LIMITS, maxTerms: 1 }, false)).toThrow(/maxTerms/)
  })

  it('PAT-006: a bad path is an error every time (failures are not cached)', () => {
    for (let i = 0; i < 2; i++) {
      expect(() => parsePatchRequest(users, body('nope'), LIMITS, false)).toThrow(expect.objectContaining({ scimType: 'invalidPath' }))
      expect(() => parsePatchRequest(users, body('emails[type eq]'), LIMITS, false)).toThrow(expect.objectContaining({ scimType: 'invalidFilter' }))
    }
  })

  it('an extension URN path stays the whole container', () => {
    const [op] = parsePatchRequest(users, body(enterpriseUserSchema.id), LIMITS, false)
    expect(op!.extension?.urn).toBe(enterpriseUserSchema.id)
    expect(parsePatchRequest(users, body(enterpriseUserSchema.id), LIMITS, false)[0]!.extension).toBe(op!.extension)
  })
})

describe('parse-cache LRU', () => {
  it('stays bounded, and an entry hit at least once per capacity/2 insertions is never evicted', () => {
    const lru = new Lru<number>(8)
    lru.set('hot', 0)
    for (let i = 0; i < 100; i++) {
      lru.set(`k${i}`, i)
      if (i % 4 === 0) expect(lru.get('hot')).toBe(0)
      expect(lru.size).toBeLessThanOrEqual(8)
    }
    expect(lru.get('hot')).toBe(0)
    expect(lru.get('k0')).toBeUndefined()
    expect(lru.get('k99')).toBe(99)
  })
})
