/**
 * One rule for strings on every store: U+0000 and unpaired UTF-16 surrogates are rejected at the
 * router with 400 `invalidValue`, before any adapter sees them. JSON allows both (`"\u0000"`,
 * `"\ud800"`), but they are not Unicode scalar text: PostgreSQL `text`/`jsonb` cannot hold them
 * (a 500 there), SQLite treats NUL as a terminator in `instr`/`LIKE` (`co "\u0000"` matched every
 * row) and memory would accept them, so the only rule every store can keep is "never". Checked with
 * linear scans. Internal module.
 * @module
 */
import { InvalidValueError } from '../errors'

/** U+0000, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const FORBIDDEN = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** True when `s` holds U+0000 or an unpaired surrogate. Linear in the length of `s`. */
export function hasForbiddenChar(s: string): boolean {
  return FORBIDDEN.test(s)
}

const problem = (where: string): InvalidValueError =>
  new InvalidValueError(`${where} contains U+0000 or an unpaired UTF-16 surrogate, which SCIM strings cannot hold`)

/**
 * Reject a string that holds U+0000 or an unpaired surrogate.
 * @throws InvalidValueError (400 invalidValue) naming `where`; the value itself is not echoed.
 */
export function assertCleanString(s: string, where: string): void {
  if (FORBIDDEN.test(s)) throw problem(where)
}

/**
 * Reject a parsed JSON value any of whose strings, member names included, holds U+0000 or an
 * unpaired surrogate. Iterative (no recursion limit) and linear in the size of the value.
 * @throws InvalidValueError (400 invalidValue) naming `where`.
 */
export function assertCleanJson(value: unknown, where: string): void {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'string') {
      if (FORBIDDEN.test(v)) throw problem(`A string in the ${where}`)
    } else if (Array.isArray(v)) {
      for (const el of v) stack.push(el)
    } else if (v !== null && typeof v === 'object') {
      for (const key of Object.keys(v)) {
        if (FORBIDDEN.test(key)) throw problem(`A member name in the ${where}`)
        stack.push((v as Record<string, unknown>)[key])
      }
    }
  }
}
