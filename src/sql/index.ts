/**
 * `scim-router/sql`: filter and sort pushdown to SQL for SQLite and PostgreSQL.
 *
 * Translates a schema-resolved {@link FilterNode} (what `ScimAdapter.list` receives) into a SQL
 * boolean expression, and a {@link SortSpec} into `ORDER BY` keys, with **exactly** the semantics of
 * the in-memory evaluator (`compileFilter`, `compareForSort`; RFC 7644 §3.4.2.2, §3.4.2.3):
 *
 * - every value reaches SQL as a bound parameter, never as text (fragments are built with the
 *   {@link sql} tagged template, whose interpolations are parameters unless they are fragments);
 * - `caseExact: false` strings compare case-insensitively: the operand is folded in JavaScript
 *   exactly like `compileFilter` does (`foldCase`: NFC and Unicode full case folding), and the
 *   stored side is either a column that already holds the folded value ({@link ColumnStorage.prepared})
 *   or wrapped in the fold function (default `lower`).
 *   **Caveats:** SQLite's built-in `lower()` folds ASCII only and PostgreSQL's follows the
 *   database's `LC_CTYPE`; neither is full case folding (`ß` stays `ß`). Register a function that
 *   computes `foldCase` and pass its name as {@link TranslateOptions.fold}, as the example adapter
 *   does. The
 *   evaluator compares NFC text, so either keep stored strings exactly as sent and set
 *   {@link TranslateOptions.nfc} (the comparison then normalises: `normalize(x, NFC)` in
 *   PostgreSQL, a registered function in SQLite), or store NFC-normalised strings;
 * - an unassigned attribute matches no comparison, `ne` included, and `not` is two-valued
 *   (`NOT COALESCE(expr, FALSE)`);
 * - multi-valued attributes match when any value matches (`EXISTS` over `json_each` /
 *   `jsonb_array_elements`, or an `IN (SELECT …)` over a side table); a valuePath requires one
 *   element to satisfy the whole inner filter;
 * - `co`/`sw`/`ew` use `LIKE … ESCAPE '\'` with `%`, `_` and `\` escaped (SQLite: case-exact
 *   attributes use `GLOB` with `*?[` escaped, because SQLite's `LIKE` ignores ASCII case);
 * - `gt`/`ge`/`lt`/`le` on strings use code-point order (`COLLATE "C"` in PostgreSQL; SQLite's
 *   `BINARY` collation already is); numbers compare numerically, booleans as booleans;
 * - dateTimes compare chronologically when stored in a column as epoch milliseconds or as
 *   fixed-precision ISO UTC text ({@link ColumnStorage.dateTime}); the operand's sub-millisecond
 *   digits are honoured exactly.
 *
 * What cannot be translated makes {@link translateFilter} return `undefined` for the **whole**
 * filter (never a partial one), so an adapter's `canFilter` can answer false and the router
 * evaluates the filter in memory instead. Untranslatable by default: `dateTime` attributes inside
 * the JSON document, common attributes other than `externalId` that the mapping does not place
 * (`id`, `meta.*`, `schemas`), and anything the mapping marks `unsupported`.
 *
 * Storage model: a JSON document column holds `StoredResource.attributes` (core attributes by
 * canonical name, extensions in objects keyed by their URN); a {@link SqlMapping} moves any
 * attribute into a column, and multi-valued attributes into side tables. The translator assumes
 * stored values have their schema types (strings are strings, booleans booleans), which the router
 * guarantees for everything it writes.
 *
 * @example
 * ```ts
 * import { sql, raw, translateFilter, translateSort, renderSql } from 'scim-router/sql'
 * const mapping = {
 *   document: raw('r.doc'),
 *   storage: (a) => a.path === 'id' ? { kind: 'column', sql: raw('r.id'), prepared: true } : undefined,
 * }
 * const where = translateFilter(filter, { dialect: 'postgres', mapping })
 * if (where) {
 *   const q = renderSql(sql`SELECT r.doc FROM users r WHERE r.tenant = ${tenant} AND ${where}`, 'postgres')
 *   await pool.query(q.text, q.values) // text: ... WHERE r.tenant = $1 AND ..., values: [tenant, ...]
 * }
 * ```
 * @module
 */
import type { SortSpec } from '../adapter'
import type { CompareNode, FilterNode } from '../filter/ast'
import { parseDateTime, prepareString } from '../filter/values'
import type { AttributeInfo } from '../schema/registry'

/** The SQL dialects the translator writes. */
export type SqlDialect = 'sqlite' | 'postgres'

// ----------------------------------------------------------------------------- fragments

/** A bound parameter inside a {@link SqlFragment}. */
class SqlParam {
  constructor(readonly value: unknown) {}
}

/**
 * A piece of SQL: trusted text plus bound parameters, in order. Build with {@link sql} and
 * {@link raw}; turn into text and values with {@link renderSql}. Placeholders are numbered only
 * when rendering, so fragments compose freely.
 */
export class SqlFragment {
  /** Text parts, parameters and nested fragments, in textual order. */
  readonly parts: readonly (string | SqlParam | SqlFragment)[]
  constructor(parts: readonly (string | SqlParam | SqlFragment)[]) {
    this.parts = parts
  }
}

/**
 * Tagged template for SQL: every interpolated value becomes a **bound parameter**, except
 * {@link SqlFragment}s, which are embedded.
 * @example sql`r.tenant = ${tenant} AND ${where}`
 */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
  const parts: (string | SqlParam | SqlFragment)[] = []
  strings.forEach((s, i) => {
    if (s !== '') parts.push(s)
    if (i < values.length) {
      const v = values[i]
      parts.push(v instanceof SqlFragment ? v : new SqlParam(v))
    }
  })
  return new SqlFragment(parts)
}

/** Trusted SQL text (identifiers, keywords). Never pass client input here. */
export function raw(text: string): SqlFragment {
  return new SqlFragment([text])
}

/** Join fragments with a trusted separator such as `' AND '` or `', '`. */
export function joinSql(fragments: readonly SqlFragment[], separator: string): SqlFragment {
  const parts: (string | SqlFragment)[] = []
  fragments.forEach((f, i) => {
    if (i > 0) parts.push(separator)
    parts.push(f)
  })
  return new SqlFragment(parts)
}

/** A rendered statement: `text` with placeholders (`?` for SQLite, `$n` for PostgreSQL) and `values`. */
export interface RenderedSql {
  text: string
  values: unknown[]
}

/**
 * Render a fragment for a dialect. `offset` is the number of PostgreSQL parameters that precede
 * this text (placeholders start at `$offset+1`); ignored for SQLite.
 */
export function renderSql(fragment: SqlFragment, dialect: SqlDialect, offset = 0): RenderedSql {
  const values: unknown[] = []
  let text = ''
  const walk = (f: SqlFragment): void => {
    for (const p of f.parts) {
      if (typeof p === 'string') text += p
      else if (p instanceof SqlFragment) walk(p)
      else {
        values.push(p.value)
        text += dialect === 'postgres' ? `$${offset + values.length}` : '?'
      }
    }
  }
  walk(fragment)
  return { text, values }
}

// ----------------------------------------------------------------------------- mapping

/** A scalar attribute stored in a column (or any scalar SQL expression over the resource row). */
export interface ColumnStorage {
  readonly kind: 'column'
  /** The column or expression, e.g. `raw('r.user_name_key')`. */
  readonly sql: SqlFragment
  /**
   * The column holds {@link prepareValue}`(value, attribute)`: NFC-normalised, and case-folded when
   * the attribute is not caseExact. Comparisons then use the column as is (index-friendly) and
   * only the operand is folded. When false, non-caseExact strings are compared through the fold
   * function.
   */
  readonly prepared?: boolean
  /**
   * Required for `dateTime` attributes: the column holds the instant as integer epoch
   * milliseconds (`epochMs`), or as `YYYY-MM-DDTHH:MM:SS.sssZ` text (`isoMillis`, years 0000-9999).
   */
  readonly dateTime?: 'epochMs' | 'isoMillis'
}

/** The attribute lives in the JSON document column (the default). */
export interface JsonStorage {
  readonly kind: 'json'
}

/**
 * All values of a multi-valued attribute (or of one sub-attribute of a multi-valued complex
 * attribute) as rows of a side table: the attribute matches when `key IN (SELECT select FROM from
 * WHERE where AND <condition on value>)`. An uncorrelated `IN` lets the database use an index on
 * the side table (e.g. `emails.value` lookups).
 */
export interface RowsStorage {
  readonly kind: 'rows'
  /** The resource row's key, e.g. `raw('r.id')`. */
  readonly key: SqlFragment
  /** The side table's column matching {@link key}. */
  readonly select: SqlFragment
  /** `FROM` clause of the side table, with an alias. */
  readonly from: SqlFragment
  /** Conditions that scope the side table (tenant, attribute path), bound parameters allowed. */
  readonly where?: SqlFragment
  /** The value column. */
  readonly value: ColumnStorage
}

/**
 * A multi-valued complex attribute stored one element per row (e.g. Group `members` in a
 * membership table): sub-attributes map to columns of the row. Filters, valuePaths and `pr` become
 * `key IN (SELECT select FROM from WHERE where AND …)`. Every row must have at least one present
 * sub-attribute (so that a row's existence means `attr pr`).
 */
export interface ElementsStorage {
  readonly kind: 'elements'
  readonly key: SqlFragment
  readonly select: SqlFragment
  readonly from: SqlFragment
  readonly where?: SqlFragment
  /** The column of a sub-attribute; `undefined` makes filters on it untranslatable. */
  sub(attribute: AttributeInfo): ColumnStorage | undefined
}

/** The attribute cannot be filtered in SQL (e.g. it is derived at read time). */
export interface UnsupportedStorage {
  readonly kind: 'unsupported'
}

/** Where one attribute is stored. */
export type AttributeStorage = ColumnStorage | JsonStorage | RowsStorage | ElementsStorage | UnsupportedStorage

/** How SCIM attributes map to storage, for one resource type (and typically one tenant). */
export interface SqlMapping {
  /**
   * The JSON document column holding `StoredResource.attributes` (TEXT containing JSON for SQLite,
   * `jsonb` for PostgreSQL), e.g. `raw('r.doc')`.
   */
  readonly document: SqlFragment
  /**
   * Where an attribute lives. Return `undefined` for the default: inside {@link document} for
   * `externalId`, core and extension attributes, unsupported for the other common attributes
   * (`id`, `meta.*`, `schemas`), which `StoredResource.attributes` never holds.
   */
  storage?(attribute: AttributeInfo): AttributeStorage | undefined
}

/** Options of {@link translateFilter} and {@link translateSort}. */
export interface TranslateOptions {
  readonly dialect: SqlDialect
  readonly mapping: SqlMapping
  /**
   * Name of the SQL function that case-folds a text value for non-caseExact comparison of
   * columns/JSON values that are not {@link ColumnStorage.prepared}. Default `lower`. It must agree
   * with `foldCase` (NFC and Unicode full case folding) on the data you store; `lower()` agrees on
   * most text but not on e.g. `ß`, the Kelvin sign, Cherokee or ligatures, so register a function
   * (SQLite: `db.function('scim_fold', foldCase)`; PostgreSQL: see the example adapter).
   */
  readonly fold?: string
  /**
   * NFC-normalise stored strings inside SQL before comparing and sorting them, for data stored
   * exactly as sent instead of NFC-normalised on write. PostgreSQL: `true` uses the
   * built-in `normalize(x, NFC)` (UTF-8 databases). SQLite has no built-in: pass the name of a
   * registered function (`db.function('scim_nfc', (s) => s.normalize('NFC'))`). The fold function
   * then receives NFC text (`fold(nfc(x))`); {@link ColumnStorage.prepared} columns are compared as
   * they are. Default: off (stored strings are assumed to be NFC).
   */
  readonly nfc?: boolean | string
}

/**
 * The exact value a {@link ColumnStorage.prepared} column must hold: NFC, then `foldCase`d unless
 * `caseExact` (RFC 7644 §5). The same function folds operands.
 */
export function prepareValue(value: string, attribute: AttributeInfo): string {
  return prepareString(value, attribute)
}

/** Escape `%`, `_` and `\` for `LIKE … ESCAPE '\'`. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => '\\' + c)
}

/** Escape `*`, `?` and `[` for SQLite `GLOB`. */
export function escapeGlob(value: string): string {
  return value.replace(/[*?[]/g, (c) => `[${c}]`)
}

// ----------------------------------------------------------------------------- translation

/** Thrown internally when part of a filter cannot be translated; never escapes this module. */
class Untranslatable extends Error {}

const fail = (why: string): never => {
  throw new Untranslatable(why)
}

/** A scalar slot: a column, or a JSON value at `keys` below `root`. */
type Slot =
  | { readonly kind: 'column'; readonly col: ColumnStorage }
  | { readonly kind: 'json'; readonly root: SqlFragment; readonly keys: readonly string[]; readonly elementType?: SqlFragment }

/** The element scope of a valuePath. */
type Scope =
  | { readonly kind: 'json'; readonly attribute: AttributeInfo; readonly root: SqlFragment; readonly elementType?: SqlFragment }
  | { readonly kind: 'table'; readonly attribute: AttributeInfo; readonly spec: ElementsStorage }

const FALSE = raw('FALSE')
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/

class Translator {
  readonly #dialect: SqlDialect
  readonly #mapping: SqlMapping
  readonly #fold: string
  readonly #nfc: string | undefined
  #alias = 0

  constructor(options: TranslateOptions) {
    this.#dialect = options.dialect
    this.#mapping = options.mapping
    this.#fold = options.fold ?? 'lower'
    if (!FUNCTION_NAME.test(this.#fold)) throw new TypeError(`translateFilter: invalid fold function name '${this.#fold}'`)
    const nfc = options.nfc
    if (typeof nfc === 'string') {
      if (!FUNCTION_NAME.test(nfc)) throw new TypeError(`translateFilter: invalid nfc function name '${nfc}'`)
      this.#nfc = nfc
    } else if (nfc === true) {
      if (options.dialect !== 'postgres') throw new TypeError('translateFilter: SQLite has no built-in NFC normalisation; pass the name of a registered function as `nfc`')
      this.#nfc = 'normalize'
    }
  }

  get #pg(): boolean {
    return this.#dialect === 'postgres'
  }

  #nextAlias(): string {
    return `scim_e${++this.#alias}`
  }

  /** Storage of an attribute, with the defaults. */
  storage(a: AttributeInfo): AttributeStorage {
    const s = this.#mapping.storage?.(a)
    if (s) return s
    if (a.common && !(a.def.name === 'externalId' && !a.parent)) return { kind: 'unsupported' }
    const top = a.parent ?? a
    if (top.common && top.def.name !== 'externalId') return { kind: 'unsupported' }
    return { kind: 'json' }
  }

  // ------------------------------------------------------------------ JSON access

  #sqlitePath(keys: readonly string[]): string {
    let p = '$'
    for (const k of keys) {
      if (k.includes('"')) fail(`JSON key with a double quote: ${k}`)
      p += `."${k}"`
    }
    return p
  }

  /** The jsonb value of a JSON slot (PostgreSQL). */
  #jsonb(slot: { root: SqlFragment; keys: readonly string[] }): SqlFragment {
    return slot.keys.length === 0 ? sql`${slot.root}` : sql`(${slot.root} #> ${[...slot.keys]}::text[])`
  }

  /** The string value of a slot (NULL when unassigned). */
  text(slot: Slot): SqlFragment {
    if (slot.kind === 'column') return slot.col.sql
    if (this.#pg) {
      return slot.keys.length === 0 ? sql`(${slot.root} #>> '{}')` : sql`(${slot.root} #>> ${[...slot.keys]}::text[])`
    }
    if (slot.keys.length === 0) return sql`(CASE WHEN ${slot.elementType ?? raw("'text'")} = 'text' THEN ${slot.root} END)`
    return sql`json_extract(${slot.root}, ${this.#sqlitePath(slot.keys)})`
  }

  /** The numeric value of a slot (NULL unless a JSON number). */
  number(slot: Slot): SqlFragment {
    if (slot.kind === 'column') return slot.col.sql
    if (this.#pg) {
      const v = this.#jsonb(slot)
      return sql`(CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v})::numeric END)`
    }
    if (slot.keys.length === 0) return sql`(CASE WHEN ${slot.elementType ?? raw('NULL')} IN ('integer', 'real') THEN ${slot.root} END)`
    const p = this.#sqlitePath(slot.keys)
    return sql`(CASE WHEN json_type(${slot.root}, ${p}) IN ('integer', 'real') THEN json_extract(${slot.root}, ${p}) END)`
  }

  /** The boolean value of a slot (NULL unless a JSON boolean); 0/1 in SQLite. */
  boolean(slot: Slot): SqlFragment {
    if (slot.kind === 'column') return slot.col.sql
    if (this.#pg) {
      const v = this.#jsonb(slot)
      return sql`(CASE WHEN jsonb_typeof(${v}) = 'boolean' THEN (${v})::boolean END)`
    }
    const type = slot.keys.length === 0 ? slot.elementType ?? raw('NULL') : sql`json_type(${slot.root}, ${this.#sqlitePath(slot.keys)})`
    return sql`(CASE ${type} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`
  }

  #boolParam(b: boolean): unknown {
    return this.#pg ? b : b ? 1 : 0
  }

  /** `EXISTS` over the elements of the JSON array in `slot`; `body` receives the element scope root. */
  #existsElements(slot: { root: SqlFragment; keys: readonly string[] }, body: (root: SqlFragment, type: SqlFragment | undefined) => SqlFragment): SqlFragment {
    const alias = this.#nextAlias()
    if (this.#pg) {
      const v = this.#jsonb(slot)
      const root = raw(`${alias}.v`)
      return sql`EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${v}) = 'array' THEN ${v} END) AS ${raw(alias)}(v) WHERE ${body(root, undefined)})`
    }
    const source = slot.keys.length === 0 ? sql`json_each(${slot.root})` : sql`json_each(${slot.root}, ${this.#sqlitePath(slot.keys)})`
    return sql`EXISTS (SELECT 1 FROM ${source} AS ${raw(alias)} WHERE ${body(raw(`${alias}.value`), raw(`${alias}.type`))})`
  }

  /** JSON keys of a top-level attribute or of a sub-attribute of a singular complex attribute. */
  #keys(a: AttributeInfo): string[] {
    const top = a.parent ?? a
    const keys = top.extension ? [top.schema] : []
    if (a.parent) keys.push(a.parent.def.name)
    keys.push(a.def.name)
    return keys
  }

  #jsonSlot(keys: readonly string[]): Slot {
    return { kind: 'json', root: this.#mapping.document, keys }
  }

  // ------------------------------------------------------------------ nodes

  node(n: FilterNode, scope: Scope | undefined): SqlFragment {
    switch (n.type) {
      case 'and':
      case 'or':
        return sql`(${joinSql(n.filters.map((f) => this.node(f, scope)), n.type === 'and' ? ' AND ' : ' OR ')})`
      case 'not':
        return sql`(NOT COALESCE(${this.node(n.filter, scope)}, FALSE))`
      case 'present':
        return this.#present(n.attribute, scope)
      case 'compare':
        return this.#leaf(n.attribute, scope, (slot) => this.compare(slot, n))
      case 'valuePath':
        return this.#valuePath(n.attribute, n.filter, scope)
    }
  }

  /** A condition on every value slot of `a` (any-value semantics for multi-valued). */
  #leaf(a: AttributeInfo, scope: Scope | undefined, cond: (slot: Slot) => SqlFragment): SqlFragment {
    if (scope && a.parent === scope.attribute) {
      if (a.def.multiValued) fail(`multi-valued sub-attribute ${a.path}`)
      if (scope.kind === 'table') {
        const col = scope.spec.sub(a) ?? fail(`no column for ${a.path}`)
        return cond({ kind: 'column', col })
      }
      return cond({ kind: 'json', root: scope.root, keys: [a.def.name] })
    }
    const own = this.storage(a)
    switch (own.kind) {
      case 'unsupported':
        return fail(`unsupported attribute ${a.path}`)
      case 'column':
        return cond({ kind: 'column', col: own })
      case 'rows':
        return this.#inRows(own, cond({ kind: 'column', col: own.value }))
      case 'elements':
        return fail(`complex attribute ${a.path} used as a scalar`)
      case 'json':
        break
    }
    const parent = a.parent
    if (parent) {
      const ps = this.storage(parent)
      if (ps.kind === 'elements') {
        const col = ps.sub(a) ?? fail(`no column for ${a.path}`)
        return this.#inRows(ps, cond({ kind: 'column', col }))
      }
      if (ps.kind !== 'json') return fail(`unsupported attribute ${parent.path}`)
      if (a.def.multiValued) fail(`multi-valued sub-attribute ${a.path}`)
      if (parent.def.multiValued) {
        const keys = this.#keys(parent)
        return this.#existsElements({ root: this.#mapping.document, keys }, (root) => cond({ kind: 'json', root, keys: [a.def.name] }))
      }
      return cond(this.#jsonSlot(this.#keys(a)))
    }
    if (a.def.multiValued) {
      if (a.def.type === 'complex') fail(`complex attribute ${a.path} used as a scalar`)
      return this.#existsElements({ root: this.#mapping.document, keys: this.#keys(a) }, (root, type) =>
        cond(type ? { kind: 'json', root, keys: [], elementType: type } : { kind: 'json', root, keys: [] }),
      )
    }
    if (a.def.type === 'complex') fail(`complex attribute ${a.path} used as a scalar`)
    return cond(this.#jsonSlot(this.#keys(a)))
  }

  #inRows(spec: RowsStorage | ElementsStorage, cond: SqlFragment | undefined): SqlFragment {
    const where = [spec.where, cond].filter((x): x is SqlFragment => x !== undefined)
    const clause = where.length > 0 ? sql` WHERE ${joinSql(where, ' AND ')}` : raw('')
    return sql`(${spec.key} IN (SELECT ${spec.select} FROM ${spec.from}${clause}))`
  }

  #valuePath(a: AttributeInfo, inner: FilterNode, scope: Scope | undefined): SqlFragment {
    if (scope && a.parent === scope.attribute) fail('nested valuePath')
    const s = this.storage(a)
    if (s.kind === 'elements') {
      return this.#inRows(s, this.node(inner, { kind: 'table', attribute: a, spec: s }))
    }
    if (s.kind !== 'json') return fail(`unsupported valuePath on ${a.path}`)
    if (!a.def.multiValued) {
      // A singular complex value is a one-element list: the element exists iff the attribute is
      // present (stored complex values always have content), and its sub-attributes read the same.
      return sql`(${this.#present(a, undefined)} AND ${this.node(inner, undefined)})`
    }
    return this.#existsElements({ root: this.#mapping.document, keys: this.#keys(a) }, (root, type) => {
      const isObject = this.#pg ? sql`jsonb_typeof(${root}) = 'object'` : sql`${type ?? raw('NULL')} = 'object'`
      const sc: Scope = type ? { kind: 'json', attribute: a, root, elementType: type } : { kind: 'json', attribute: a, root }
      return sql`(${isObject} AND ${this.node(inner, sc)})`
    })
  }

  /** `pr` presence (RFC 7644 §3.4.2.2). */
  #present(a: AttributeInfo, scope: Scope | undefined): SqlFragment {
    if (a.def.type !== 'complex') return this.#leaf(a, scope, (slot) => this.#scalarPresent(slot, a))
    const s = this.storage(a)
    if (s.kind === 'elements') return this.#inRows(s, undefined)
    if (s.kind !== 'json') return fail(`unsupported attribute ${a.path}`)
    const children = [...(a.children?.values() ?? [])]
    if (children.length === 0) fail(`complex attribute ${a.path} without sub-attributes`)
    if (!a.def.multiValued) return sql`(${joinSql(children.map((c) => this.#present(c, scope)), ' OR ')})`
    return this.#existsElements({ root: this.#mapping.document, keys: this.#keys(a) }, (root, type) => {
      const sc: Scope = type ? { kind: 'json', attribute: a, root, elementType: type } : { kind: 'json', attribute: a, root }
      return sql`(${joinSql(children.map((c) => this.#present(c, sc)), ' OR ')})`
    })
  }

  #scalarPresent(slot: Slot, a: AttributeInfo): SqlFragment {
    switch (a.def.type) {
      case 'boolean':
        return sql`(${this.boolean(slot)} IS NOT NULL)`
      case 'integer':
      case 'decimal':
        return sql`(${this.number(slot)} IS NOT NULL)`
      case 'dateTime':
        if (slot.kind === 'column') return slot.col.dateTime === 'epochMs' ? sql`(${slot.col.sql} IS NOT NULL)` : sql`(${slot.col.sql} <> '')`
        return sql`(${this.text(slot)} <> '')`
      default:
        return sql`(${this.text(slot)} <> '')`
    }
  }

  /** A comparison of one value slot with the node's operand. */
  compare(slot: Slot, n: CompareNode): SqlFragment {
    const a = n.attribute
    const op = n.op
    switch (a.def.type) {
      case 'boolean': {
        const b = this.boolean(slot)
        const v = this.#boolParam(n.value === true)
        if (op === 'eq') return sql`(${b} = ${v})`
        if (op === 'ne') return sql`(${b} <> ${v})`
        return fail(`operator ${op} on a boolean`)
      }
      case 'integer':
      case 'decimal': {
        if (op === 'co' || op === 'sw' || op === 'ew') return fail(`operator ${op} on a number`)
        const operand = Number(n.value)
        if (!Number.isFinite(operand)) return fail('non-finite number')
        return sql`(${this.number(slot)} ${raw(SQL_OPS[op])} ${operand})`
      }
      case 'dateTime':
        return this.#compareDateTime(slot, n)
      default:
        return this.#compareString(slot, n)
    }
  }

  #compareDateTime(slot: Slot, n: CompareNode): SqlFragment {
    if (slot.kind !== 'column' || !slot.col.dateTime) return fail(`dateTime ${n.attribute.path} not stored in a dateTime column`)
    const op = n.op
    if (op === 'co' || op === 'sw' || op === 'ew') return fail(`operator ${op} on a dateTime`)
    const instant = parseDateTime(n.value)
    if (!instant) return FALSE
    // Stored instants have millisecond precision; compare exactly against the operand's nanos.
    const floorMs = instant.seconds * 1000 + Math.floor(instant.nanos / 1_000_000)
    const inexact = instant.nanos % 1_000_000 !== 0
    if (!Number.isSafeInteger(floorMs)) return fail('dateTime out of range')
    let value: unknown = floorMs
    if (slot.col.dateTime === 'isoMillis') {
      const d = new Date(floorMs)
      if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 0 || d.getUTCFullYear() > 9999) return fail('dateTime out of range')
      value = d.toISOString()
    }
    const c = slot.col.sql
    switch (op) {
      case 'eq':
        return inexact ? FALSE : sql`(${c} = ${value})`
      case 'ne':
        return inexact ? sql`(${c} IS NOT NULL)` : sql`(${c} <> ${value})`
      case 'gt':
        return sql`(${c} > ${value})`
      case 'ge':
        return inexact ? sql`(${c} > ${value})` : sql`(${c} >= ${value})`
      case 'lt':
        return inexact ? sql`(${c} <= ${value})` : sql`(${c} < ${value})`
      case 'le':
        return sql`(${c} <= ${value})`
    }
  }

  /** The comparable string of a slot: NFC (when asked) and folded per caseExact, unless the column is prepared. */
  #stringKey(slot: Slot, a: AttributeInfo): SqlFragment {
    const t = this.text(slot)
    if (slot.kind === 'column' && slot.col.prepared) return t
    const n = this.#nfc === undefined ? t : this.#nfc === 'normalize' && this.#pg ? sql`normalize(${t}, NFC)` : sql`${raw(this.#nfc)}(${t})`
    return a.def.caseExact ? n : sql`${raw(this.#fold)}(${n})`
  }

  #compareString(slot: Slot, n: CompareNode): SqlFragment {
    const a = n.attribute
    const op = n.op
    const operand = prepareString(String(n.value), a)
    const k = this.#stringKey(slot, a)
    if (this.#pg && operand.includes('\u0000')) {
      // PostgreSQL text cannot hold NUL, so no stored value contains the operand.
      if (op === 'ne') return sql`(${k} IS NOT NULL)`
      if (op === 'eq' || op === 'co' || op === 'sw' || op === 'ew') return FALSE
      return fail('NUL in an ordering comparison')
    }
    switch (op) {
      case 'eq':
        return sql`(${k} = ${operand})`
      case 'ne':
        return sql`(${k} <> ${operand})`
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        return this.#pg ? sql`(${k} COLLATE "C" ${raw(SQL_OPS[op])} ${operand})` : sql`(${k} ${raw(SQL_OPS[op])} ${operand})`
      case 'co':
      case 'sw':
      case 'ew': {
        if (!this.#pg && a.def.caseExact) {
          // SQLite's LIKE ignores ASCII case; GLOB is case-sensitive.
          const e = escapeGlob(operand)
          return sql`(${k} GLOB ${op === 'co' ? `*${e}*` : op === 'sw' ? `${e}*` : `*${e}`})`
        }
        const e = escapeLike(operand)
        return sql`(${k} LIKE ${op === 'co' ? `%${e}%` : op === 'sw' ? `${e}%` : `%${e}`} ESCAPE '\\')`
      }
    }
  }

  // ------------------------------------------------------------------ sort

  /** The sort key (RFC 7644 §3.4.2.3), or fail. */
  sortKey(a: AttributeInfo): SqlFragment {
    const typed = (slot: Slot): SqlFragment => {
      switch (a.def.type) {
        case 'boolean':
          return this.boolean(slot)
        case 'integer':
        case 'decimal':
          return this.number(slot)
        case 'dateTime':
          if (slot.kind !== 'column' || !slot.col.dateTime) return fail('dateTime sort outside a dateTime column')
          return slot.col.sql
        case 'complex':
          return fail('complex sort')
        default: {
          const k = sql`NULLIF(${this.#stringKey(slot, a)}, '')`
          return this.#pg ? sql`(${k} COLLATE "C")` : k
        }
      }
    }
    const own = this.storage(a)
    if (own.kind === 'column') return typed({ kind: 'column', col: own })
    if (own.kind !== 'json') return fail(`cannot sort by ${a.path}`)
    const parent = a.parent
    if (parent) {
      if (this.storage(parent).kind !== 'json') return fail(`cannot sort by ${a.path}`)
      if (!parent.def.multiValued) return typed(this.#jsonSlot(this.#keys(a)))
      // The primary element if any, else the first (RFC 7644 §3.4.2.3).
      return this.#chosenElement(this.#keys(parent), (root) => typed({ kind: 'json', root, keys: [a.def.name] }))
    }
    if (a.def.multiValued) {
      return this.#chosenElement(this.#keys(a), (root, type) => typed(type ? { kind: 'json', root, keys: [], elementType: type } : { kind: 'json', root, keys: [] }))
    }
    return typed(this.#jsonSlot(this.#keys(a)))
  }

  #chosenElement(keys: readonly string[], expr: (root: SqlFragment, type: SqlFragment | undefined) => SqlFragment): SqlFragment {
    const alias = this.#nextAlias()
    const doc = this.#mapping.document
    if (this.#pg) {
      const v = this.#jsonb({ root: doc, keys })
      const root = raw(`${alias}.v`)
      return sql`(SELECT ${expr(root, undefined)} FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${v}) = 'array' THEN ${v} END) WITH ORDINALITY AS ${raw(alias)}(v, i) ORDER BY CASE WHEN (${root} -> 'primary') = 'true'::jsonb THEN 0 ELSE 1 END, ${raw(alias)}.i LIMIT 1)`
    }
    const root = raw(`${alias}.value`)
    const type = raw(`${alias}.type`)
    return sql`(SELECT ${expr(root, type)} FROM json_each(${doc}, ${this.#sqlitePath(keys)}) AS ${raw(alias)} ORDER BY CASE WHEN ${type} = 'object' AND json_type(${root}, '$.primary') = 'true' THEN 0 ELSE 1 END, ${raw(alias)}.key LIMIT 1)`
  }
}

const SQL_OPS = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' } as const

/**
 * Translate a resolved filter into a SQL boolean expression over the resource row, or `undefined`
 * when any part of it cannot be translated with exact semantics (the caller then evaluates the
 * whole filter in memory; an adapter's `canFilter` returns false). Never throws for well-formed
 * trees.
 *
 * The expression may be NULL where the filter is false (SQL three-valued logic); use it in `WHERE`
 * (or wrap it in `COALESCE(…, FALSE)`), where NULL and FALSE both exclude the row.
 *
 * @example
 * translateFilter(parseFilter('userName eq "Bob"', users), { dialect: 'sqlite', mapping })
 * // sql: (r.user_name_key = ?)  params: ['bob']
 */
export function translateFilter(filter: FilterNode, options: TranslateOptions): SqlFragment | undefined {
  try {
    return new Translator(options).node(filter, undefined)
  } catch (err) {
    if (err instanceof Untranslatable) return undefined
    throw err
  }
}

/**
 * Whether {@link translateFilter} can translate a filter: the natural body of an adapter's
 * `canFilter`.
 */
export function canTranslateFilter(filter: FilterNode, options: TranslateOptions): boolean {
  return translateFilter(filter, options) !== undefined
}

/**
 * Translate a sort into `ORDER BY` keys with the semantics of `compareForSort`: strings folded
 * unless caseExact, in code-point order; numbers numerically; booleans false first; dateTimes
 * chronologically (dateTime columns only); a multi-valued attribute sorts by its primary value,
 * else the first; resources without a value sort last ascending and first descending. Returns the
 * key terms only (e.g. `(k IS NULL) ASC, k ASC`): append the default order yourself,
 * `created ASC, id ASC` (`id COLLATE "C"` in PostgreSQL), so that the order is total.
 * `undefined` when the attribute cannot be sorted in SQL (sort in memory with `compareForSort`).
 */
export function translateSort(sort: SortSpec, options: TranslateOptions): SqlFragment | undefined {
  try {
    const k = new Translator(options).sortKey(sort.attribute)
    return sort.order === 'descending' ? sql`(${k} IS NULL) DESC, ${k} DESC` : sql`(${k} IS NULL) ASC, ${k} ASC`
  } catch (err) {
    if (err instanceof Untranslatable) return undefined
    throw err
  }
}


/**
 * The single sort key expression of {@link translateSort} (`k` in `(k IS NULL) ASC, k ASC`): the
 * folded string, number, boolean (0/1 in SQLite) or dateTime column a resource sorts by, NULL when
 * it has no value. For keyset (cursor) pagination: select it with the page, remember the last
 * row's key, `created` and `id`, and continue with a row-value condition on the same expression.
 * `undefined` when the attribute cannot be sorted in SQL.
 */
export function translateSortKey(attribute: AttributeInfo, options: TranslateOptions): SqlFragment | undefined {
  try {
    return new Translator(options).sortKey(attribute)
  } catch (err) {
    if (err instanceof Untranslatable) return undefined
    throw err
  }
}
