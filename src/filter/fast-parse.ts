/**
 * A hand-written recursive-descent parser for the language of grammar/scim-filter.peggy (start
 * rules `Filter` and `Path`), rule for rule: the same ordered choices, the same greedy
 * repetitions, the same trees. It never reports an error: for any input it does not accept, or
 * that would nest past `maxDepth`, it returns `undefined` and the caller runs the generated Peggy
 * parser, which accepts or rejects it with its own message and column. The grammar stays the
 * source of truth; test/filter/fastpath-property.test.ts checks on generated filters and paths
 * (valid, mutated and hostile) that this parser accepts exactly what the generated parser accepts,
 * with an identical tree. Internal module.
 *
 * Why: the generated parser sets up its rule closures on every call, tests a regular expression
 * per character and builds result arrays per rule; this one scans character codes and allocates
 * only the nodes it returns (5–10× faster on compound filters, bench/README.md).
 * @module
 */
import type { CompareOperator, ParsedAttrPath, ParsedFilter, ParsedPath, ValueKind } from './ast'

// Parser state, module-level (the parser is synchronous and never re-entered).
let src = ''
let pos = 0
let len = 0
let depth = 0
let maxDepth = 0

// Character classes of the ASCII range, one bit each (code units from 128 up, and NaN past the
// end of the input, are in none of them; bareChar is handled apart).
const WS = 1 // [ \t]: the grammar's `ws`
const NAME_START = 2 // [A-Za-z$]: the first character of an attribute name
const NAME_CHAR = 4 // [A-Za-z0-9_$-]: the grammar's `nameChar`
const PATH_CHAR = 8 // [A-Za-z0-9:._$-]: the characters of an `attrPath`
const DIGIT = 16 // [0-9]
const HEX = 32 // [0-9a-fA-F]
const NOT_BARE = 64 // [ \t\r\n()[\]"]: what `bareChar` excludes
const CLASSES = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  let k = 0
  if (ch === ' ' || ch === '\t') k |= WS
  if (/[A-Za-z$]/.test(ch)) k |= NAME_START
  if (/[A-Za-z0-9_$-]/.test(ch)) k |= NAME_CHAR
  if (/[A-Za-z0-9:._$-]/.test(ch)) k |= PATH_CHAR
  if (/[0-9]/.test(ch)) k |= DIGIT
  if (/[0-9a-fA-F]/.test(ch)) k |= HEX
  if (' \t\r\n()[]"'.includes(ch)) k |= NOT_BARE
  CLASSES[c] = k
}
const classOf = (c: number): number => (c < 128 ? (CLASSES[c] as number) : 0)

const isWs = (c: number): boolean => (classOf(c) & WS) !== 0
const isNameStart = (c: number): boolean => (classOf(c) & NAME_START) !== 0
const isNameChar = (c: number): boolean => (classOf(c) & NAME_CHAR) !== 0
const isPathChar = (c: number): boolean => (classOf(c) & PATH_CHAR) !== 0
/** `[^ \t\r\n()[\]"]`, any code unit (so not past the end, where `c` is NaN): the grammar's `bareChar`. */
const isBareChar = (c: number): boolean => (c < 128 ? ((CLASSES[c] as number) & NOT_BARE) === 0 : c === c)
const isDigit = (c: number): boolean => (classOf(c) & DIGIT) !== 0
const isHex = (c: number): boolean => (classOf(c) & HEX) !== 0

/** Skip `ws*`; returns how many were skipped. */
function skipWs(): number {
  const start = pos
  while (isWs(src.charCodeAt(pos))) pos++
  return pos - start
}

/** The lower-case ASCII keyword `kw` at `at`, case-insensitively (`"and"i`). */
function keywordAt(at: number, kw: string): boolean {
  for (let k = 0; k < kw.length; k++) if ((src.charCodeAt(at + k) | 0x20) !== kw.charCodeAt(k)) return false
  return true
}

/**
 * Parse a whole filter (`Filter = ws* FILTER ws* EOF`). Returns the tree the generated parser
 * builds, or `undefined` when it does not accept `text` or it nests deeper than `limit`.
 */
export function fastParseFilter(text: string, limit: number): ParsedFilter | undefined {
  return whole(text, limit, () => orExp(false))
}

/**
 * Run `parse` over all of `text` (`ws* <rule> ws* EOF`) with nesting `limit`: its result when it
 * accepts and consumed everything, else `undefined` (a stack overflow under a host-raised limit
 * included: the generated parser then reports the error).
 */
function whole<T>(text: string, limit: number, parse: () => T | undefined): T | undefined {
  src = text
  len = text.length
  pos = 0
  depth = 0
  maxDepth = limit
  try {
    skipWs()
    const r = parse()
    if (r === undefined) return undefined
    skipWs()
    return pos === len ? r : undefined
  } catch {
    return undefined
  } finally {
    src = ''
  }
}

/**
 * Parse a whole PATCH path (`Path = ws* PATH ws* EOF`, `PATH = attrPath "[" bracket subAttr? /
 * attrPath`). Returns the tree the generated parser builds, or `undefined`.
 */
export function fastParsePath(text: string, limit: number): ParsedPath | undefined {
  return whole(text, limit, () => {
    const attribute = attrPath()
    if (attribute === undefined) return undefined
    if (src.charCodeAt(pos) !== 0x5b) return { attribute }
    pos++
    const filter = bracket()
    if (filter === undefined) return undefined
    if (src.charCodeAt(pos) === 0x2e && isNameStart(src.charCodeAt(pos + 1))) {
      pos++
      return { attribute, filter, sub: attrName() }
    }
    return { attribute, filter }
  })
}

/** Build a flat n-ary and/or node; operands of the same type (parenthesised groups) are spliced in (the grammar's `flatten`). */
function flatten(type: 'and' | 'or', all: ParsedFilter[]): ParsedFilter {
  let splice = false
  for (let i = 0; i < all.length; i++) if ((all[i] as ParsedFilter).type === type) splice = true
  if (!splice) return { type, filters: all }
  const filters: ParsedFilter[] = []
  for (let i = 0; i < all.length; i++) {
    const f = all[i] as ParsedFilter
    if (f.type === type) for (let j = 0; j < f.filters.length; j++) filters.push(f.filters[j] as ParsedFilter)
    else filters.push(f)
  }
  return { type, filters }
}

/**
 * After an operand: `ws+ kw ws+` (kw = "or"/"and", case-insensitive). Consumes it and returns
 * true, or restores the position and returns false (the repetition ends there, as in the grammar).
 */
function connective(kw: string): boolean {
  const start = pos
  if (skipWs() > 0 && keywordAt(pos, kw)) {
    pos += kw.length
    if (skipWs() > 0) return true
  }
  pos = start
  return false
}

/**
 * `operand (ws+ op ws+ operand)*`, flattened: the grammar's `FILTER`/`valFilter` (`or` over
 * {@link andExp}) and `andExp`/`valAndExp` (`and` over {@link unaryExp}).
 */
function chain(op: 'or' | 'and', operand: (inBracket: boolean) => ParsedFilter | undefined, inBracket: boolean): ParsedFilter | undefined {
  const head = operand(inBracket)
  if (head === undefined || !connective(op)) return head
  const all = [head]
  do {
    const next = operand(inBracket)
    if (next === undefined) return undefined
    all.push(next)
  } while (connective(op))
  return flatten(op, all)
}

/** `FILTER` / `valFilter`: `andExp (ws+ "or"i ws+ andExp)*`. */
function orExp(inBracket: boolean): ParsedFilter | undefined {
  return chain('or', andExp, inBracket)
}

/** `andExp` / `valAndExp`: `unaryExp (ws+ "and"i ws+ unaryExp)*`. */
function andExp(inBracket: boolean): ParsedFilter | undefined {
  return chain('and', unaryExp, inBracket)
}

/** `unaryExp` / `valUnaryExp`: `"not"i ws* "(" group / "(" group / valuePath / attrExp` (in brackets: `valAttrExp`). */
function unaryExp(inBracket: boolean): ParsedFilter | undefined {
  const c = src.charCodeAt(pos)
  if (c === 0x28) {
    pos++
    return group(inBracket, 0x29)
  }
  if ((c | 0x20) === 0x6e && keywordAt(pos, 'not')) {
    const start = pos
    pos += 3
    skipWs()
    if (src.charCodeAt(pos) === 0x28) {
      pos++
      const filter = group(inBracket, 0x29)
      return filter === undefined ? undefined : { type: 'not', filter }
    }
    pos = start
  }
  if (inBracket) {
    const path = valAttrPath()
    return path === undefined || skipWs() === 0 ? undefined : attrTail(path)
  }
  const path = attrPath()
  if (path === undefined) return undefined
  if (src.charCodeAt(pos) === 0x5b) {
    pos++
    return valuePath(path)
  }
  return skipWs() === 0 ? undefined : attrTail(path)
}

/**
 * The rest of a parenthesised filter after its "(" (`group`, `valGroup`) or of a valuePath after
 * its "[" (`bracket`, with `close` "]"): one nesting level, past `maxDepth` left to the generated
 * parser (which stops there with the limit's error).
 */
function group(inBracket: boolean, close: number): ParsedFilter | undefined {
  if (++depth > maxDepth) return undefined
  skipWs()
  const f = orExp(inBracket)
  if (f === undefined) return undefined
  skipWs()
  if (src.charCodeAt(pos) !== close) return undefined
  pos++
  depth--
  return f
}

const bracket = (): ParsedFilter | undefined => group(true, 0x5d)

/** `valuePath` after `attrPath "["`: `bracket valueSub?`, with the FLT-060 form `[...].sub op value` folded into the filter. */
function valuePath(path: ParsedAttrPath): ParsedFilter | undefined {
  const filter = bracket()
  if (filter === undefined) return undefined
  if (src.charCodeAt(pos) !== 0x2e || !isNameStart(src.charCodeAt(pos + 1))) return { type: 'valuePath', path, filter }
  // valueSub = subAttr ws+ attrTail. If it fails the generated parser ends the valuePath at "]",
  // and then fails on the ".", which nothing may follow: no accepted input is lost here.
  pos++
  const name = attrName()
  if (skipWs() === 0) return undefined
  const sub = attrTail({ text: name, name })
  if (sub === undefined) return undefined
  return { type: 'valuePath', path, filter: flatten('and', [filter, sub]) }
}

/** `ATTRNAME = [A-Za-z$] nameChar*`, at a position already known to hold a name start. */
function attrName(): string {
  const start = pos++
  while (isNameChar(src.charCodeAt(pos))) pos++
  return src.slice(start, pos)
}

/** `valAttrPath = ATTRNAME subAttr?`. */
function valAttrPath(): ParsedAttrPath | undefined {
  if (!isNameStart(src.charCodeAt(pos))) return undefined
  const start = pos
  const name = attrName()
  let path: ParsedAttrPath = { text: name, name }
  if (src.charCodeAt(pos) === 0x2e && isNameStart(src.charCodeAt(pos + 1))) {
    pos++
    const sub = attrName()
    path = { text: src.slice(start, pos), name, sub }
  }
  return path
}

/**
 * `attrPath = $([A-Za-z$] [A-Za-z0-9:._$-]*)`, split at the last ":" into `{ text, name, uri?, sub? }`
 * (the grammar's `splitPath`; where that throws, this returns undefined).
 */
function attrPath(): ParsedAttrPath | undefined {
  if (!isNameStart(src.charCodeAt(pos))) return undefined
  const start = pos++
  let colon = -1
  for (let c = src.charCodeAt(pos); isPathChar(c); c = src.charCodeAt(++pos)) if (c === 0x3a) colon = pos
  const end = pos
  // The tail after the last ":" must be ATTRNAME ("." ATTRNAME)?.
  const nameStart = colon < 0 ? start : colon + 1
  if (!isNameStart(src.charCodeAt(nameStart))) return undefined
  let i = nameStart + 1
  while (i < end && isNameChar(src.charCodeAt(i))) i++
  const nameEnd = i
  if (i < end) {
    if (src.charCodeAt(i) !== 0x2e || !isNameStart(src.charCodeAt(i + 1))) return undefined
    i += 2
    while (i < end && isNameChar(src.charCodeAt(i))) i++
    if (i < end) return undefined
  }
  const text = src.slice(start, end)
  const name = src.slice(nameStart, nameEnd)
  if (colon < 0) return nameEnd === end ? { text, name } : { text, name, sub: src.slice(nameEnd + 1, end) }
  const uri = src.slice(start, colon)
  return nameEnd === end ? { text, name, uri } : { text, name, uri, sub: src.slice(nameEnd + 1, end) }
}

/** `attrTail` (after the path's `ws+`) and the leaf: `"pr"i !nameChar` or `compareOp ws+ compValue`. */
function attrTail(path: ParsedAttrPath): ParsedFilter | undefined {
  const a = src.charCodeAt(pos) | 0x20
  const b = src.charCodeAt(pos + 1) | 0x20
  if (a === 0x70 && b === 0x72 && !isNameChar(src.charCodeAt(pos + 2))) {
    pos += 2
    return { type: 'present', path }
  }
  const op = compareOp(a, b)
  if (op === undefined) return undefined
  pos += 2
  if (skipWs() === 0) return undefined
  const v = compValue()
  if (v === undefined) return undefined
  return { type: 'compare', path, op, value: valueOf, valueKind: v }
}

/** `compareOp` from the two lower-cased character codes at the position. */
function compareOp(a: number, b: number): CompareOperator | undefined {
  switch (a) {
    case 0x65: // e
      return b === 0x71 ? 'eq' : b === 0x77 ? 'ew' : undefined
    case 0x6e: // n
      return b === 0x65 ? 'ne' : undefined
    case 0x63: // c
      return b === 0x6f ? 'co' : undefined
    case 0x73: // s
      return b === 0x77 ? 'sw' : undefined
    case 0x67: // g
      return b === 0x74 ? 'gt' : b === 0x65 ? 'ge' : undefined
    case 0x6c: // l
      return b === 0x74 ? 'lt' : b === 0x65 ? 'le' : undefined
    default:
      return undefined
  }
}

/** The value of the last {@link compValue} (its kind is the return value; no wrapper object per value). */
let valueOf: string | number | boolean | null = null

/**
 * `compValue = string / singleQuoted / number !bareChar / "true"i !bareChar / "false"i !bareChar /
 * "null"i !bareChar / bareChar+`: sets {@link valueOf} and returns the kind.
 */
function compValue(): ValueKind | undefined {
  const start = pos
  const c = src.charCodeAt(pos)
  if (c === 0x22) {
    const s = quoted(0x22)
    if (s === undefined) return undefined // nothing else may start with '"'
    valueOf = s
    return 'string'
  }
  if (c === 0x27) {
    const s = quoted(0x27)
    if (s !== undefined) {
      valueOf = s
      return 'string'
    }
    pos = start // an unterminated or bad 'single quoted' value is a bare word
  } else {
    if (number() && !isBareChar(src.charCodeAt(pos))) {
      valueOf = Number(src.slice(start, pos))
      return 'number'
    }
    pos = start
    if (literal('true', true) || literal('false', false) || literal('null', null)) return valueOf === null ? 'null' : 'boolean'
  }
  while (isBareChar(src.charCodeAt(pos))) pos++
  if (pos === start) return undefined
  valueOf = src.slice(start, pos)
  return 'bare'
}

/** `kw !bareChar` (case-insensitive) at the position: consumes it and sets {@link valueOf}. */
function literal(kw: string, value: boolean | null): boolean {
  if (!keywordAt(pos, kw) || isBareChar(src.charCodeAt(pos + kw.length))) return false
  pos += kw.length
  valueOf = value
  return true
}

/** `number = "-"? int frac? exp?` (JSON), consuming it; false when there is none. */
function number(): boolean {
  if (src.charCodeAt(pos) === 0x2d) pos++
  const c = src.charCodeAt(pos)
  if (c === 0x30) pos++
  else if (c >= 0x31 && c <= 0x39) while (isDigit(src.charCodeAt(++pos)));
  else return false
  if (src.charCodeAt(pos) === 0x2e && isDigit(src.charCodeAt(pos + 1))) {
    pos++
    while (isDigit(src.charCodeAt(++pos)));
  }
  if ((src.charCodeAt(pos) | 0x20) === 0x65) {
    let e = pos + 1
    const s = src.charCodeAt(e)
    if (s === 0x2b || s === 0x2d) e++
    if (isDigit(src.charCodeAt(e))) {
      pos = e
      while (isDigit(src.charCodeAt(++pos)));
    }
  }
  return true
}

/**
 * `string = '"' char* '"'` (quote `"`) or `singleQuoted = "'" sqChar* "'"` (quote `'`, where `\'`
 * is also an escape), at the opening quote: the decoded text, or undefined (position unspecified).
 */
function quoted(quote: number): string | undefined {
  let out = ''
  let start = ++pos
  for (;;) {
    const c = src.charCodeAt(pos)
    if (c === quote) {
      out = out === '' ? src.slice(start, pos) : out + src.slice(start, pos)
      pos++
      return out
    }
    if (c === 0x5c) {
      const e = src.charCodeAt(pos + 1)
      const decoded = e === quote && quote === 0x27 ? "'" : escape(e)
      if (decoded === undefined) return undefined
      out += src.slice(start, pos) + decoded
      pos += e === 0x75 ? 6 : 2
      start = pos
    } else if (c >= 0x20) pos++ // also false past the end (NaN)
    else return undefined
  }
}

/** `escape` after a backslash (`e` = the code after it); for `u`, the four hex digits follow. */
function escape(e: number): string | undefined {
  switch (e) {
    case 0x22:
      return '"'
    case 0x5c:
      return '\\'
    case 0x2f:
      return '/'
    case 0x62:
      return '\b'
    case 0x66:
      return '\f'
    case 0x6e:
      return '\n'
    case 0x72:
      return '\r'
    case 0x74:
      return '\t'
    case 0x75: {
      const at = pos + 2
      if (!isHex(src.charCodeAt(at)) || !isHex(src.charCodeAt(at + 1)) || !isHex(src.charCodeAt(at + 2)) || !isHex(src.charCodeAt(at + 3))) return undefined
      return String.fromCharCode(parseInt(src.slice(at, at + 4), 16))
    }
    default:
      return undefined
  }
}
