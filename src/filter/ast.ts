/**
 * Filter and PATCH path trees (RFC 7644 §3.4.2.2, §3.5.2).
 *
 * Two layers:
 * - the **parsed** tree ({@link ParsedFilter}, {@link ParsedPath}) that the generated parser returns:
 *   attribute paths are still text;
 * - the **resolved** tree ({@link FilterNode}, {@link PatchPath}) that adapters receive: every
 *   attribute is an {@link AttributeInfo} from the schema registry, values are typed and
 *   normalised, so an adapter never re-interprets names or literals.
 * @module
 */
import type { AttributeInfo } from '../schema/registry'

/** The attribute operators of RFC 7644 §3.4.2.2 Table 3 except `pr` (see {@link PresentNode}). */
export type CompareOperator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le'

/** A comparison value after resolution: a string for string/reference/binary/dateTime attributes. */
export type CompareValue = string | number | boolean | null

// ----------------------------------------------------------------------------- resolved tree

/**
 * `attribute op value`, with the value already typed for the attribute (RFC 7644 §3.4.2.2):
 * - `string`, `reference`, `binary`: a string; compare honouring `attribute.def.caseExact`;
 * - `boolean`: a boolean; only `eq`/`ne`;
 * - `integer`, `decimal`: a number; no `co`/`sw`/`ew`;
 * - `dateTime`: the xsd:dateTime string as sent, already validated; compare as instants.
 *
 * `attribute` is never complex: `emails co "x"` resolves to `emails.value`. When the
 * attribute is a sub-attribute of a multi-valued attribute, the node matches when any value
 * matches. An unassigned attribute never matches, `ne` included. `value` is never `null`:
 * `eq null`/`ne null` become {@link NotNode}/{@link PresentNode}.
 */
export interface CompareNode {
  readonly type: 'compare'
  readonly attribute: AttributeInfo
  readonly op: CompareOperator
  readonly value: CompareValue
}

/**
 * `attribute pr` (RFC 7644 §3.4.2.2): true when the attribute has a value other than `null`, `""`
 * or `[]`; for a complex attribute, when at least one sub-attribute has such a value.
 */
export interface PresentNode {
  readonly type: 'present'
  readonly attribute: AttributeInfo
}

/** Conjunction of two or more filters (flat, never nested `and` inside `and`). */
export interface AndNode {
  readonly type: 'and'
  readonly filters: readonly FilterNode[]
}

/** Disjunction of two or more filters (flat, never nested `or` inside `or`). */
export interface OrNode {
  readonly type: 'or'
  readonly filters: readonly FilterNode[]
}

/** Negation. Two-valued: `not (title eq "x")` is true for a resource without a title. */
export interface NotNode {
  readonly type: 'not'
  readonly filter: FilterNode
}

/**
 * `attribute[filter]` (RFC 7644 §3.4.2.2): true when one single value of the complex
 * `attribute` satisfies the whole inner `filter`. Leaves of `filter` hold sub-attributes whose
 * `parent` is `attribute`. A single-valued complex attribute counts as a one-element list.
 * The Entra form `emails[type eq "work"].value eq "x"` arrives as
 * `emails[type eq "work" and value eq "x"]`.
 */
export interface ValuePathNode {
  readonly type: 'valuePath'
  readonly attribute: AttributeInfo
  readonly filter: FilterNode
}

/** A schema-resolved filter: what `parseFilter` returns and what adapters receive. */
export type FilterNode = CompareNode | PresentNode | AndNode | OrNode | NotNode | ValuePathNode

/**
 * A resolved PATCH path, `PATH = attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2, Figure 7).
 * - `members` → `{ attribute: members }`
 * - `name.givenName` → `{ attribute: name.givenName }` (a sub-attribute; its `parent` is `name`)
 * - `emails[type eq "work"]` → `{ attribute: emails, filter }`
 * - `emails[type eq "work"].value` → `{ attribute: emails, filter, sub: emails.value }`
 */
export interface PatchPath {
  /** The attribute named before any `[`; a sub-attribute for `name.givenName`. */
  readonly attribute: AttributeInfo
  /** The value selection filter; its leaves are sub-attributes of {@link attribute}. */
  readonly filter?: FilterNode
  /** The sub-attribute after `]` (only with {@link filter}). */
  readonly sub?: AttributeInfo
}

// ----------------------------------------------------------------------------- parsed tree

/**
 * An attribute path as written. `text` is the whole path (`urn:…:User:manager.value`); `uri`,
 * `name` and `sub` split it at the last `:` and the first `.` after it. Resolution uses `text`
 * with the registry's longest-URN-prefix match (RFC 7644 §3.10).
 */
export interface ParsedAttrPath {
  readonly text: string
  readonly uri?: string
  readonly name: string
  readonly sub?: string
}

/** How a comparison value was written: JSON string or 'single quoted' (`string`), bare word, number, literal. */
export type ValueKind = 'string' | 'bare' | 'number' | 'boolean' | 'null'

/** Parsed `attrPath op value`. Inside a valuePath, `path` is relative to the valuePath's attribute. */
export interface ParsedCompare {
  readonly type: 'compare'
  readonly path: ParsedAttrPath
  readonly op: CompareOperator
  readonly value: CompareValue
  readonly valueKind: ValueKind
}

/** Parsed `attrPath pr`. */
export interface ParsedPresent {
  readonly type: 'present'
  readonly path: ParsedAttrPath
}

/** Parsed n-ary `and`. */
export interface ParsedAnd {
  readonly type: 'and'
  readonly filters: readonly ParsedFilter[]
}

/** Parsed n-ary `or`. */
export interface ParsedOr {
  readonly type: 'or'
  readonly filters: readonly ParsedFilter[]
}

/** Parsed `not (…)`. */
export interface ParsedNot {
  readonly type: 'not'
  readonly filter: ParsedFilter
}

/** Parsed `attrPath[valFilter]` (and Entra's `attr[filter].sub op value` form, already folded into `filter`). */
export interface ParsedValuePath {
  readonly type: 'valuePath'
  readonly path: ParsedAttrPath
  readonly filter: ParsedFilter
}

/** The unresolved filter tree returned by the grammar's `Filter` start rule. */
export type ParsedFilter = ParsedCompare | ParsedPresent | ParsedAnd | ParsedOr | ParsedNot | ParsedValuePath

/** The unresolved PATCH path returned by the grammar's `Path` start rule. */
export interface ParsedPath {
  readonly attribute: ParsedAttrPath
  readonly filter?: ParsedFilter
  readonly sub?: string
}

// ----------------------------------------------------------------------------- resources

/**
 * A resource as rendered, the input of {@link compileFilter}'s predicate and of sort comparators:
 * `{ id, externalId?, meta: { resourceType, created, lastModified, version, location? }, schemas,
 * ...core attributes, [extensionUrn]: { ...extension attributes } }`.
 * Attribute keys are canonical (schema) names; extension attributes live under the extension URN
 * exactly as registered. `meta.created`/`meta.lastModified` are ISO strings (Date objects are
 * accepted too). Typed loosely so that any plain object can be passed; missing keys are unassigned.
 */
export type ScimResourceView = Readonly<Record<string, unknown>>
