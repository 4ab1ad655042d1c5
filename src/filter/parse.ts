/**
 * The typed facade over the generated parser (grammar/scim-filter.peggy): limits, syntax errors
 * mapped to SCIM errors with the column, and schema resolution.
 * @module
 */
import debugFactory from 'debug'
import { InvalidFilterError, InvalidPathError, InvalidValueError, type ScimError } from '../errors'
import type { CompiledResourceType } from '../schema/registry'
import type { FilterNode, ParsedFilter, ParsedPath, PatchPath } from './ast'
import { parse as peggyParse, SyntaxError as PeggySyntaxError } from './generated/parser'
import { resolveChildPath, resolveFilter, resolveTopPath } from './resolve'
import { fastParseFilter, fastParsePath } from './fast-parse'
import { hasForbiddenChar } from '../http/strings'

const debug = debugFactory('scim:filter')

/**
 * Resource limits for filters. Exceeding one yields 400 `invalidFilter` naming the limit.
 * Length is checked before the (recursive-descent) parser runs, depth while it runs (where the
 * grammar nests, so the parser stops at the first level too many), terms right after; hostile
 * input can neither exhaust the stack nor take long.
 */
export interface FilterLimits {
  /** Maximum length in UTF-16 code units. Default 4096. */
  readonly maxLength?: number
  /**
   * Maximum nesting of parenthesised groups (`(...)`, `not (...)`) and valuePath brackets
   * (`emails[...]`), counted by the parser itself. Default 32.
   */
  readonly maxDepth?: number
  /** Maximum number of attribute expressions (`attr op value`, `attr pr`). Default 200. */
  readonly maxTerms?: number
}

/** The defaults of {@link FilterLimits}. */
export const DEFAULT_FILTER_LIMITS: Readonly<Required<FilterLimits>> = Object.freeze({
  maxLength: 4096,
  maxDepth: 32,
  maxTerms: 200,
})

type Fail = (detail: string, cause?: unknown) => ScimError

const filterFail: Fail = (detail, cause) => new InvalidFilterError(detail, cause === undefined ? undefined : { cause })
const pathFail: Fail = (detail, cause) => new InvalidPathError(detail, cause === undefined ? undefined : { cause })

function checkLimits(text: string, limits: FilterLimits | undefined, what: string): Required<FilterLimits> {
  const l = limits === undefined ? DEFAULT_FILTER_LIMITS : { ...DEFAULT_FILTER_LIMITS, ...limits }
  if (text.length > l.maxLength) {
    throw new InvalidFilterError(`The ${what} is longer than the limit of ${l.maxLength} characters (maxLength)`)
  }
  return l
}

function checkTerms(tree: ParsedFilter, l: Required<FilterLimits>, what: string): void {
  if (checkLiterals(tree, what) > l.maxTerms) {
    throw new InvalidFilterError(`The ${what} has more than the limit of ${l.maxTerms} expressions (maxTerms)`)
  }
}

/**
 * No string literal may hold U+0000 or an unpaired surrogate (reachable through `\u0000` /
 * `\ud800` escapes or raw characters): the same rule as for bodies and ids, so no store ever
 * compares against one (400 invalidValue). Iterative, linear in the tree; returns the number of
 * attribute expressions, which `maxTerms` bounds (one walk for both checks).
 */
function checkLiterals(root: ParsedFilter, what: string): number {
  let terms = 0
  const stack: ParsedFilter[] = [root]
  for (let node = stack.pop(); node; node = stack.pop()) {
    switch (node.type) {
      case 'and':
      case 'or':
        for (const f of node.filters) stack.push(f)
        break
      case 'not':
      case 'valuePath':
        stack.push(node.filter)
        break
      case 'compare':
        terms++
        if (typeof node.value === 'string' && hasForbiddenChar(node.value)) {
          throw new InvalidValueError(`A string in the ${what} contains U+0000 or an unpaired UTF-16 surrogate, which SCIM strings cannot hold`)
        }
        break
      default:
        terms++
    }
  }
  return terms
}

function runParser(
  text: string,
  startRule: 'Filter' | 'Path',
  maxDepth: number,
  fail: (err: PeggySyntaxError) => ScimError,
): unknown {
  const what = startRule === 'Filter' ? 'filter' : 'path'
  // Called by the grammar at the first level past maxDepth; the parse stops there.
  const tooDeep = (offset: number): never => {
    throw new InvalidFilterError(`The ${what} is nested deeper than the limit of ${maxDepth} levels (maxDepth) at column ${offset + 1}`)
  }
  try {
    return peggyParse(text, { startRule, maxDepth, tooDeep })
  } catch (err) {
    if (err instanceof InvalidFilterError) throw err
    if (err instanceof PeggySyntaxError) throw fail(err)
    if (err instanceof RangeError) {
      // Only reachable when a host raises maxDepth far beyond the default.
      throw new InvalidFilterError(`The ${what} is nested too deeply`, { cause: err })
    }
    throw err
  }
}

function syntaxDetail(kind: string, err: PeggySyntaxError): string {
  return `Invalid ${kind} at column ${err.location.start.column}: ${err.message}`
}

function checkFilterText(text: string, limits: FilterLimits | undefined): Required<FilterLimits> {
  if (typeof text !== 'string' || /^[ \t\r\n]*$/.test(text)) {
    throw new InvalidFilterError('The filter must contain at least one valid expression')
  }
  return checkLimits(text, limits, 'filter')
}

/**
 * Parse a filter without resolving attribute names: the grammar's `Filter` start rule. Trees
 * are cached per text (a bounded LRU of 512 entries; only successful parses) and frozen, since
 * the same tree is returned for the same text.
 *
 * @throws {InvalidFilterError} empty filter (RFC 7644 §3.4.2.2), a limit exceeded (the detail names
 *   the limit, and for depth the column of the first level too many), or a syntax error (the detail
 *   names the column).
 * @throws {InvalidValueError} a string literal holding U+0000 or an unpaired surrogate.
 * @example parseFilterSyntax('userName eq "bjensen"') // { type: 'compare', path: { text: 'userName', ... }, ... }
 */
export function parseFilterSyntax(text: string, limits?: FilterLimits): ParsedFilter {
  const l = checkFilterText(text, limits)
  const key = cacheKey(text, l)
  const hit = syntaxCache.get(key)
  if (hit) return hit
  const tree = freezeTree(parseFilterSyntaxUncached(text, l))
  syntaxCache.set(key, tree)
  return tree
}

/**
 * The grammar without the cache: what {@link parseFilterSyntax} runs on a miss. The hand-written
 * parser of ./fast-parse (the same language and trees, checked against the generated parser by
 * property tests) answers every filter it accepts; anything else, every error included, goes
 * through the generated parser, so errors keep its messages and columns. Internal (the filter
 * benchmark measures it).
 */
export function parseFilterSyntaxUncached(text: string, limits?: FilterLimits): ParsedFilter {
  const l = checkLimits(text, limits, 'filter')
  const tree =
    fastParseFilter(text, l.maxDepth) ??
    (runParser(text, 'Filter', l.maxDepth, (err) => filterFail(syntaxDetail('filter', err), err)) as ParsedFilter)
  checkTerms(tree, l, 'filter')
  return tree
}

/**
 * A bounded, approximately least-recently-used map (a `Map` keeps insertion order; the first key
 * is the oldest and is evicted past `capacity`). A hit re-inserts its key only when at least
 * `capacity / 2` keys were inserted since it was (most hits are then a plain lookup, no Map
 * writes): an entry hit at least once every `capacity / 2` insertions is never evicted. Only successful
 * parses are stored, so hostile input that fails costs a parse each time but cannot grow it;
 * each key is at most `maxLength` characters. Internal (also the PATCH path cache of
 * src/patch/operations.ts).
 */
export class Lru<V> {
  private readonly map = new Map<string, { value: V; at: number }>()
  private inserted = 0
  constructor(private readonly capacity: number) {}
  get(key: string): V | undefined {
    const e = this.map.get(key)
    if (e === undefined) return undefined
    if (this.inserted - e.at >= this.capacity >> 1) {
      this.map.delete(key)
      e.at = ++this.inserted
      this.map.set(key, e)
    }
    return e.value
  }
  set(key: string, value: V): void {
    this.map.delete(key)
    this.map.set(key, { value, at: ++this.inserted })
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string)
  }
  get size(): number {
    return this.map.size
  }
  clear(): void {
    this.map.clear()
  }
}

/** Entries per cache (syntax trees, and resolved trees per resource type). */
const CACHE_SIZE = 512
const syntaxCache = new Lru<ParsedFilter>(CACHE_SIZE)
let resolvedCaches = new WeakMap<CompiledResourceType, Lru<FilterNode>>()

/** A parse succeeds or fails the same way for the same text and depth/term limits (length is checked before). */
const cacheKey = (text: string, l: Required<FilterLimits>): string => `${l.maxDepth},${l.maxTerms},${text}`

/**
 * Cached trees are shared between requests, so they are frozen: a caller that tried to change
 * one would throw instead of corrupting the next request. Resolved trees point at the
 * registry's `AttributeInfo`s, which are not ours to freeze (the `attribute` keys are skipped).
 * Internal (also used by the PATCH path cache).
 */
export function freezeTree<T>(root: T): T {
  const stack: unknown[] = [root]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node === null || typeof node !== 'object' || Object.isFrozen(node)) continue
    for (const [k, v] of Object.entries(node)) if (k !== 'attribute' && v !== null && typeof v === 'object') stack.push(v)
    Object.freeze(node)
  }
  return root
}

/** Drop every cached tree. Internal (tests). */
export function clearFilterCaches(): void {
  syntaxCache.clear()
  resolvedCaches = new WeakMap()
}

/**
 * Parse and resolve a filter (RFC 7644 §3.4.2.2) against one resource type. The result is what
 * adapters receive and what {@link compileFilter} evaluates. Resolved trees are cached per
 * resource type and text (a bounded LRU of 512 entries; only successful parses) and frozen.
 *
 * @throws {InvalidFilterError} (400 invalidFilter) for an empty filter, a limit, a syntax error
 *   (with the column), an unknown operator (named), an unknown or ambiguous attribute (named),
 *   a `returned: never` attribute, or an operator/value unsupported for the attribute type.
 * @throws {InvalidValueError} (400 invalidValue) for a string literal holding U+0000 or an unpaired
 *   surrogate (the same rule as for request bodies, so no store ever compares against one).
 * @example
 * const users = registry.bySegment('Users')!
 * parseFilter('emails[type eq "work" and value co "@example.com"]', users)
 */
export function parseFilter(text: string, resourceType: CompiledResourceType, limits?: FilterLimits): FilterNode {
  const l = checkFilterText(text, limits)
  let cache = resolvedCaches.get(resourceType)
  if (!cache) {
    cache = new Lru<FilterNode>(CACHE_SIZE)
    resolvedCaches.set(resourceType, cache)
  }
  const key = cacheKey(text, l)
  const hit = cache.get(key)
  if (hit) return hit
  const tree = parseFilterSyntax(text, limits)
  const resolved = freezeTree(resolveFilter(tree, resourceType))
  debug('filter %s resolved on %s', tree.type, resourceType.name)
  cache.set(key, resolved)
  return resolved
}

/** Offsets of the first `[` and its matching `]` (outside strings), for classifying PATCH path errors. */
function bracketSpan(text: string): [number, number] {
  const open = text.indexOf('[')
  if (open < 0) return [-1, -1]
  let quote = 0
  for (let i = open + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (quote) {
      if (c === 0x5c) i++
      else if (c === quote) quote = 0
    } else if (c === 0x22) quote = c
    else if (c === 0x5d) return [open, i]
  }
  return [open, text.length]
}

/**
 * Parse the grammar's `Path` start rule without resolution.
 *
 * @throws {InvalidPathError} for a path that does not parse, except that a syntax error inside the
 *   brackets of a valuePath throws {@link InvalidFilterError} (RFC 7644 Table 9).
 */
export function parsePathSyntax(text: string, limits?: FilterLimits): ParsedPath {
  if (typeof text !== 'string' || /^[ \t\r\n]*$/.test(text)) throw new InvalidPathError('The path must not be empty')
  const l = checkLimits(text, limits, 'path')
  const parsed = fastParsePath(text, l.maxDepth) ?? runPathParser(text, l.maxDepth)
  if (parsed.filter) checkTerms(parsed.filter, l, 'path filter')
  return parsed
}

/** The generated parser's `Path` rule, with syntax errors classified as in {@link parsePathSyntax}. */
function runPathParser(text: string, maxDepth: number): ParsedPath {
  return runParser(text, 'Path', maxDepth, (err) => {
    const [open, close] = bracketSpan(text)
    const at = err.location.start.offset
    return open >= 0 && at > open && at <= close
      ? filterFail(syntaxDetail('filter in path', err), err)
      : pathFail(syntaxDetail('path', err), err)
  }) as ParsedPath
}

/**
 * Parse and resolve a PATCH path, `PATH = attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2,
 * Figure 7). Paths may name `returned: never` attributes (`password` is writable); a complex
 * attribute is not read as its `value` sub-attribute as in filters (a path names exactly what it
 * targets).
 *
 * Error choice (RFC 7644 Table 9): the path itself failing to parse, an unknown or ambiguous
 * attribute, a filter on a non-complex attribute, `attr.sub[...]`, or an unknown sub-attribute
 * after `]` throw {@link InvalidPathError}; anything wrong *inside* the brackets (syntax, unknown
 * sub-attribute, operator/type) throws {@link InvalidFilterError}. A path that is only an extension
 * URN is rejected with InvalidPathError (use a no-path operation to write a whole extension).
 *
 * @example parsePath('emails[type eq "work"].value', users) // { attribute: emails, filter, sub: emails.value }
 */
export function parsePath(text: string, resourceType: CompiledResourceType, limits?: FilterLimits): PatchPath {
  const parsed = parsePathSyntax(text, limits)
  const attribute = resolveTopPath(resourceType, parsed.attribute, pathFail)
  if (!parsed.filter) return { attribute }
  if (attribute.def.type !== 'complex' || !attribute.children || attribute.parent) {
    throw new InvalidPathError(`'${parsed.attribute.text}' is not a complex attribute; a value filter [...] needs one`)
  }
  const filter = resolveFilter(parsed.filter, resourceType, attribute)
  if (parsed.sub === undefined) return { attribute, filter }
  const sub = resolveChildPath(attribute, { text: parsed.sub, name: parsed.sub }, pathFail)
  return { attribute, filter, sub }
}
