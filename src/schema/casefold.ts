/**
 * The one case fold of the library: every case-insensitive comparison (filters, sorting, PATCH
 * value matching, uniqueness keys in MemoryAdapter and the example SQL stores) goes through
 * {@link foldCase}.
 * @module
 */
import { FULL, SIMPLE_RUNS } from './casefold-table'

let table: Map<string, string> | undefined

function loadTable(): Map<string, string> {
  const t = new Map<string, string>()
  for (let i = 0; i + 3 < SIMPLE_RUNS.length; i += 4) {
    const first = SIMPLE_RUNS[i] as number
    const count = SIMPLE_RUNS[i + 1] as number
    const step = SIMPLE_RUNS[i + 2] as number
    const delta = SIMPLE_RUNS[i + 3] as number
    for (let k = 0; k < count; k++) {
      const cp = first + k * step
      t.set(String.fromCodePoint(cp), String.fromCodePoint(cp + delta))
    }
  }
  for (const [cp, folded] of FULL) t.set(String.fromCodePoint(cp), folded)
  return t
}

const ASCII = /^[\x00-\x7f]*$/

/**
 * The comparison key of a case-insensitive string: Unicode NFC normalisation, then Unicode full
 * case folding (CaseFolding.txt statuses C and F, Unicode 17.0), then NFC again. It is what
 * RFC 7643 §2.1 / §7 (`caseExact: false`) and RFC 7644 §5 (PRECIS comparison of `userName`,
 * RFC 8265 §3.3 UsernameCaseMapped) ask for when two strings are compared, and it is idempotent:
 * `foldCase(foldCase(s)) === foldCase(s)`.
 *
 * Unlike `toLowerCase()` it folds `ß`, `ẞ` and `SS` alike (`strasse`), the Kelvin sign like `k`,
 * and it does not merge the Turkish dotless `ı` with `i`. Locale-independent; never throws.
 *
 * Adapters that store comparison keys (unique indexes, lookup columns) must compute them with this
 * function, so that a store finds and rejects exactly what the in-memory filter evaluator would.
 *
 * @example
 * foldCase('Straße') === foldCase('STRASSE') // true: both 'strasse'
 * foldCase('x.admın') === foldCase('x.admin') // false
 */
export function foldCase(s: string): string {
  if (ASCII.test(s)) return s.toLowerCase()
  const nfc = s.normalize('NFC')
  const t = (table ??= loadTable())
  let out = ''
  let changed = false
  for (const ch of nfc) {
    const f = t.get(ch)
    if (f === undefined) out += ch
    else {
      out += f
      changed = true
    }
  }
  return changed ? out.normalize('NFC') : nfc
}
