/** scim-router/sql: the SQL text and bound parameters of representative filters and sorts. */
import { parseFilter } from '../../src/filter/parse'
import type { CompareNode } from '../../src/filter/ast'
import { enterpriseUserSchema, groupResourceType, groupSchema, userResourceType, userSchema } from '../../src/schema/core-schemas'
import { createRegistry, type AttributeInfo } from '../../src/schema/registry'
import {
  escapeGlob,
  escapeLike,
  raw,
  renderSql,
  sql,
  translateFilter,
  translateSort,
  translateSortKey,
  type AttributeStorage,
  type SqlDialect,
  type SqlMapping,
} from '../../src/sql'

const registry = createRegistry([userSchema, groupSchema, enterpriseUserSchema], [userResourceType, groupResourceType])
const users = registry.byName('User')!

const mapping: SqlMapping = {
  document: raw('r.doc'),
  storage(a: AttributeInfo): AttributeStorage | undefined {
    if (a.path === 'userName') return { kind: 'column', sql: raw('r.user_name_key'), prepared: true }
    if (a.path === 'id') return { kind: 'column', sql: raw('r.id'), prepared: true }
    if (a.path === 'meta.created') return { kind: 'column', sql: raw('r.created'), dateTime: 'epochMs' }
    if (a.path === 'emails.value') {
      return { kind: 'rows', key: raw('r.id'), select: raw('v.resource_id'), from: raw('vals v'), where: sql`v.path = ${'emails.value'}`, value: { kind: 'column', sql: raw('v.value_key'), prepared: true } }
    }
    return undefined
  },
}

const tr = (filter: string, dialect: SqlDialect = 'sqlite', m: SqlMapping = mapping) => {
  const f = translateFilter(parseFilter(filter, users), { dialect, mapping: m })
  return f && renderSql(f, dialect)
}

describe('translateFilter', () => {
  it('prepared column: the operand is folded in JS, the column compared as is (index-friendly)', () => {
    expect(tr('userName eq "BJensen@Example.COM"')).toEqual({ text: '(r.user_name_key = ?)', values: ['bjensen@example.com'] })
    expect(tr('userName eq "BJensen"', 'postgres')).toEqual({ text: '(r.user_name_key = $1)', values: ['bjensen'] })
  })

  it('JSON document attributes: path and value are both parameters; caseExact false → fold()', () => {
    expect(tr('title eq "Tour Guide"')).toEqual({ text: '(lower(json_extract(r.doc, ?)) = ?)', values: ['$."title"', 'tour guide'] })
    expect(tr('title eq "Tour Guide"', 'postgres')).toEqual({ text: '(lower((r.doc #>> $1::text[])) = $2)', values: [['title'], 'tour guide'] })
    const ext = tr('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "X"')
    expect(ext?.values).toEqual(['$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"."manager"."value"', 'x'])
    const f = translateFilter(parseFilter('title eq "a"', users), { dialect: 'sqlite', mapping, fold: 'scim_fold' })!
    expect(renderSql(f, 'sqlite').text).toBe('(scim_fold(json_extract(r.doc, ?)) = ?)')
  })

  it('externalId is caseExact: no fold; co/sw/ew on SQLite use GLOB with * ? [ escaped', () => {
    expect(tr('externalId eq "AbC"')).toEqual({ text: '(json_extract(r.doc, ?) = ?)', values: ['$."externalId"', 'AbC'] })
    expect(tr('externalId co "a*b?[c"')).toEqual({ text: '(json_extract(r.doc, ?) GLOB ?)', values: ['$."externalId"', '*a[*]b[?][[]c*'] })
    expect(tr('externalId sw "a%"', 'postgres')).toEqual({ text: "((r.doc #>> $1::text[]) LIKE $2 ESCAPE '\\')", values: [['externalId'], 'a\\%%'] })
  })

  it('co/sw/ew escape % _ and \\ for LIKE … ESCAPE', () => {
    expect(escapeLike('50%_off\\')).toBe('50\\%\\_off\\\\')
    expect(escapeGlob('a*?[]')).toBe('a[*][?][[]]')
    expect(tr('userName co "50%_off"')).toEqual({ text: "(r.user_name_key LIKE ? ESCAPE '\\')", values: ['%50\\%\\_off%'] })
    expect(tr('userName sw "a_"')?.values).toEqual(['a\\_%'])
    expect(tr('userName ew "_z"', 'postgres')?.values).toEqual(['%\\_z'])
  })

  it('injection attempts are only bound values', () => {
    const r = tr(`userName eq "x' OR 1=1 --" or title co "'); DROP TABLE r; --"`)!
    expect(r.text).toBe("((r.user_name_key = ?) OR (lower(json_extract(r.doc, ?)) LIKE ? ESCAPE '\\'))")
    expect(r.values).toEqual(["x' or 1=1 --", '$."title"', "%'); drop table r; --%"])
    for (const d of ['sqlite', 'postgres'] as const) {
      const text = tr('displayName eq "\\" OR \\"1\\"=\\"1" and nickName sw "\\u0001;--"', d)!.text
      expect(text).not.toMatch(/1=|DROP|--|OR "/)
    }
  })

  it('not is two-valued: NOT COALESCE(…, FALSE); ne stays false for unassigned', () => {
    expect(tr('not (title eq "x")')?.text).toBe('(NOT COALESCE((lower(json_extract(r.doc, ?)) = ?), FALSE))')
    expect(tr('title ne "x"')?.text).toBe('(lower(json_extract(r.doc, ?)) <> ?)')
  })

  it('multi-valued sub-attributes: EXISTS over json_each / jsonb_array_elements; valuePath on one element', () => {
    expect(tr('emails.type eq "work"')?.text).toBe('EXISTS (SELECT 1 FROM json_each(r.doc, ?) AS scim_e1 WHERE (lower(json_extract(scim_e1.value, ?)) = ?))')
    expect(tr('emails[type eq "work" and value co "@x"]', 'postgres')?.text).toBe(
      "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof((r.doc #> $1::text[])) = 'array' THEN (r.doc #> $2::text[]) END) AS scim_e1(v) WHERE (jsonb_typeof(scim_e1.v) = 'object' AND ((lower((scim_e1.v #>> $3::text[])) = $4) AND (lower((scim_e1.v #>> $5::text[])) LIKE $6 ESCAPE '\\'))))",
    )
  })

  it('rows storage (side table) becomes an uncorrelated IN (SELECT …) for index lookups', () => {
    expect(tr('emails.value eq "A@X.com"')).toEqual({ text: '(r.id IN (SELECT v.resource_id FROM vals v WHERE v.path = ? AND (v.value_key = ?)))', values: ['emails.value', 'a@x.com'] })
  })

  it('booleans, dateTimes (exact sub-millisecond handling) and pr', () => {
    expect(tr('active eq true')).toEqual({ text: "((CASE json_type(r.doc, ?) WHEN 'true' THEN 1 WHEN 'false' THEN 0 END) = ?)", values: ['$."active"', 1] })
    expect(tr('active ne false', 'postgres')?.values).toEqual([['active'], ['active'], false])
    expect(tr('meta.created gt "2020-01-01T00:00:00Z"')).toEqual({ text: '(r.created > ?)', values: [Date.UTC(2020, 0, 1)] })
    expect(tr('meta.created ge "2020-01-01T02:00:00.0000001+02:00"')).toEqual({ text: '(r.created > ?)', values: [Date.UTC(2020, 0, 1)] })
    expect(tr('meta.created eq "2020-01-01T00:00:00.0000001Z"')?.text).toBe('FALSE')
    expect(tr('title pr')?.text).toBe("(json_extract(r.doc, ?) <> '')")
    expect(tr('name pr')?.values.length).toBe(6)
  })

  it('returns undefined (never a partial filter) for what it cannot translate exactly', () => {
    expect(tr('schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"')).toBeUndefined()
    expect(tr('userName eq "a" and meta.location pr')).toBeUndefined()
    expect(tr('meta.lastModified gt "2020-01-01T00:00:00Z"')).toBeUndefined() // not placed by this mapping
    expect(tr('id eq "x" or groups.value eq "g"', 'sqlite', { document: raw('r.doc'), storage: (a) => (a.parent?.def.name === 'groups' ? { kind: 'unsupported' } : undefined) })).toBeUndefined()
  })

  it('PostgreSQL: a NUL byte cannot be stored, so it never matches (no error)', () => {
    // parseFilter refuses NUL literals (400 invalidValue); a tree built by hand can still hold one.
    const withNul = (filter: string) => {
      const node = parseFilter(filter, users) as CompareNode
      const f = translateFilter({ ...node, value: 'a\u0000b' }, { dialect: 'postgres', mapping })
      return f && renderSql(f, 'postgres')
    }
    expect(() => parseFilter('title eq "a\\u0000b"', users)).toThrow(expect.objectContaining({ scimType: 'invalidValue' }))
    expect(withNul('title eq "x"')?.text).toBe('FALSE')
    expect(withNul('title ne "x"')?.text).toBe('(lower((r.doc #>> $1::text[])) IS NOT NULL)')
  })
})

describe('translateSort', () => {
  const sortBy = (path: string, order: 'ascending' | 'descending', dialect: SqlDialect = 'sqlite') => {
    const r = users.resolveText(path)
    if (r?.kind !== 'attribute') throw new Error(path)
    const f = translateSort({ attribute: r.info, order }, { dialect, mapping })
    return f && renderSql(f, dialect)
  }
  it('missing values last ascending and first descending; strings folded, code-point order', () => {
    expect(sortBy('userName', 'ascending')?.text).toBe("(NULLIF(r.user_name_key, '') IS NULL) ASC, NULLIF(r.user_name_key, '') ASC")
    expect(sortBy('title', 'descending', 'postgres')?.text).toBe(
      `((NULLIF(lower((r.doc #>> $1::text[])), '') COLLATE "C") IS NULL) DESC, (NULLIF(lower((r.doc #>> $2::text[])), '') COLLATE "C") DESC`,
    )
    expect(sortBy('meta.created', 'ascending')?.text).toBe('(r.created IS NULL) ASC, r.created ASC')
  })
  it('multi-valued: the primary element, else the first', () => {
    expect(sortBy('emails.type', 'ascending')?.text).toContain("ORDER BY CASE WHEN scim_e1.type = 'object' AND json_type(scim_e1.value, '$.primary') = 'true' THEN 0 ELSE 1 END, scim_e1.key LIMIT 1")
  })
  it('undefined when the attribute cannot be sorted in SQL', () => {
    expect(sortBy('emails.value', 'ascending')).toBeUndefined() // rows storage in this mapping
    expect(sortBy('meta.lastModified', 'ascending')).toBeUndefined()
  })
})

describe('nfc: strings stored as sent are NFC-normalised inside SQL (MT-011)', () => {
  const trn = (filter: string, dialect: SqlDialect, nfc: boolean | string) => {
    const f = translateFilter(parseFilter(filter, users), { dialect, mapping, fold: dialect === 'sqlite' ? 'scim_fold' : 'lower', nfc })
    return f && renderSql(f, dialect)
  }
  it('caseExact: nfc(x); not caseExact: fold(nfc(x)); prepared columns as they are', () => {
    expect(trn('externalId eq "Zo\u00eb"', 'postgres', true)).toEqual({ text: '(normalize((r.doc #>> $1::text[]), NFC) = $2)', values: [['externalId'], 'Zo\u00eb'] })
    expect(trn('title eq "Zoe\u0308"', 'postgres', true)?.text).toBe('(lower(normalize((r.doc #>> $1::text[]), NFC)) = $2)')
    expect(trn('title eq "Zoe\u0308"', 'postgres', true)?.values).toEqual([['title'], 'zo\u00eb'])
    expect(trn('externalId sw "a"', 'sqlite', 'scim_nfc')?.text).toBe('(scim_nfc(json_extract(r.doc, ?)) GLOB ?)')
    expect(trn('title co "a"', 'sqlite', 'scim_nfc')?.text).toBe("(scim_fold(scim_nfc(json_extract(r.doc, ?))) LIKE ? ESCAPE '\\')")
    expect(trn('userName eq "a"', 'sqlite', 'scim_nfc')?.text).toBe('(r.user_name_key = ?)')
  })
  it('SQLite needs a function name; names are identifiers', () => {
    expect(() => trn('title eq "a"', 'sqlite', true)).toThrow(TypeError)
    expect(() => trn('title eq "a"', 'sqlite', 'x); DROP TABLE r; --')).toThrow(TypeError)
  })
  it('translateSortKey: the key expression of translateSort, for keyset pagination', () => {
    const title = users.resolveText('title')
    if (title?.kind !== 'attribute') throw new Error('title')
    const k = translateSortKey(title.info, { dialect: 'postgres', mapping, nfc: true })!
    expect(renderSql(k, 'postgres').text).toBe(`(NULLIF(lower(normalize((r.doc #>> $1::text[]), NFC)), '') COLLATE "C")`)
    const lm = users.resolveText('meta.lastModified')
    if (lm?.kind !== 'attribute') throw new Error('meta.lastModified')
    expect(translateSortKey(lm.info, { dialect: 'sqlite', mapping })).toBeUndefined()
  })
})
