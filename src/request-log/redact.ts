/**
 * Redaction of what the request log stores: passwords (any case, at any depth, in PATCH
 * operations and Bulk operations too), credentials, token-shaped strings and the configured
 * sensitive attributes are replaced by `[REDACTED]` before anything is serialised, and every value
 * removed that way is also scrubbed from the rest of the entry (an error detail, the path).
 * Pure functions, no I/O.
 * @module
 */

/** What replaces a redacted value. */
export const REDACTED = '[REDACTED]'

/** Attribute and field names always redacted, compared case-insensitively without `_` and `-`. */
const ALWAYS = ['password', 'passwd', 'pwd', 'secret', 'clientsecret', 'token', 'accesstoken', 'refreshtoken', 'idtoken', 'apikey', 'authorization', 'bearer', 'credential', 'credentials', 'privatekey']

const fold = (name: string): string => name.toLowerCase().replace(/[_-]/g, '')

/** Strings that look like credentials wherever they appear: connection tokens, JWTs, `Bearer …`. */
const TOKEN_SHAPED = /(scimct_[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|\bbearer\s+[A-Za-z0-9._~+/=-]{8,})/gi

/** A compiled redaction policy (built once per router). */
export class Redactor {
  readonly #names: Set<string>

  /**
   * @param sensitive - more attribute names to redact (e.g. `employeeNumber`,
   *   `urn:…:enterprise:2.0:User:employeeNumber`, `name.familyName`): matched by their last
   *   name segment, case-insensitively, at any depth.
   */
  constructor(sensitive: readonly string[] = []) {
    this.#names = new Set(ALWAYS)
    for (const s of sensitive) {
      const last = s.split(':').pop()?.split('.').pop()
      if (last) this.#names.add(fold(last))
    }
  }

  /** Whether a field or attribute name (or a PATCH path) names something redacted. */
  sensitive(name: string): boolean {
    // A PATCH path: `password`, `urn:…:User:password`, `name.givenName`, `emails[type eq "work"].value`.
    const bare = name.replace(/\[[^\]]*\]/g, '')
    const last = bare.split(':').pop()?.split('.').pop() ?? bare
    const first = bare.split(':').pop()?.split('.')[0] ?? bare
    return this.#names.has(fold(last)) || this.#names.has(fold(first))
  }

  /**
   * A redacted deep copy of a JSON value, and the strings removed from it (for {@link scrub}).
   * A PATCH operation whose `path` is sensitive has its `value` redacted.
   */
  redact(value: unknown): { value: unknown; removed: string[] } {
    const removed: string[] = []
    const take = (v: unknown): string => {
      collect(v, removed)
      return REDACTED
    }
    const walk = (v: unknown, depth: number): unknown => {
      if (depth > 64) return REDACTED
      if (typeof v === 'string') return scrubTokens(v, removed)
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1))
      if (v === null || typeof v !== 'object') return v
      const o = v as Record<string, unknown>
      const out: Record<string, unknown> = {}
      const opPath = typeof o['path'] === 'string' && 'value' in o && this.sensitive(o['path'])
      for (const key of Object.keys(o)) {
        if (this.#names.has(fold(key.split(':').pop() ?? key))) out[key] = take(o[key])
        else if (opPath && key === 'value') out[key] = take(o[key])
        else out[key] = walk(o[key], depth + 1)
      }
      return out
    }
    return { value: walk(value, 0), removed }
  }

  /** The query string of a URL with credential parameters and filters naming sensitive attributes redacted. */
  redactUrl(url: string): { url: string; removed: string[] } {
    const removed: string[] = []
    const q = url.indexOf('?')
    if (q < 0) return { url: scrubTokens(url, removed), removed }
    const parts = url
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=')
        const rawName = eq < 0 ? pair : pair.slice(0, eq)
        let name = rawName
        let value = eq < 0 ? '' : pair.slice(eq + 1)
        try {
          name = decodeURIComponent(rawName.replace(/\+/g, ' '))
          value = decodeURIComponent(value.replace(/\+/g, ' '))
        } catch {
          return `${rawName}=${REDACTED}`
        }
        if (this.sensitive(name) || (name.toLowerCase() === 'filter' && this.#mentionsSensitive(value))) {
          if (value) removed.push(value)
          return `${rawName}=${REDACTED}`
        }
        return pair
      })
    return { url: scrubTokens(`${url.slice(0, q)}?${parts.join('&')}`, removed), removed }
  }

  #mentionsSensitive(filter: string): boolean {
    for (const word of filter.match(/[A-Za-z_][A-Za-z0-9_.:-]*/g) ?? []) if (this.sensitive(word)) return true
    return false
  }
}

/** Every string (at least 3 characters) inside a value removed by redaction. */
function collect(v: unknown, into: string[]): void {
  if (typeof v === 'string') {
    if (v.length >= 3) into.push(v)
  } else if (typeof v === 'number') into.push(String(v))
  else if (Array.isArray(v)) for (const x of v) collect(x, into)
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) collect(x, into)
}

/** `s` with token-shaped substrings replaced; each one found is added to `removed`. */
function scrubTokens(s: string, removed: string[]): string {
  return s.replace(TOKEN_SHAPED, (m) => {
    removed.push(m)
    return REDACTED
  })
}

/**
 * `text` with every occurrence of the `secrets` (and of their JSON-escaped forms) replaced by
 * `[REDACTED]`. Secrets shorter than 3 characters are left alone (they would blank common text).
 */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text
  const all = new Set<string>()
  for (const s of secrets) {
    if (s.length < 3) continue
    all.add(s)
    const escaped = JSON.stringify(s).slice(1, -1)
    if (escaped !== s) all.add(escaped)
  }
  // Longest first, so a secret containing another is removed whole.
  for (const s of [...all].sort((a, b) => b.length - a.length)) out = out.split(s).join(REDACTED)
  return scrubTokens(out, [])
}

/** JSON text of `value`, at most `maxBytes` UTF-8 bytes; longer text is cut and ends with `…[truncated]`. */
export function boundedJson(value: unknown, maxBytes: number): string | null {
  if (value === undefined) return null
  let text: string
  try {
    text = JSON.stringify(value) ?? 'null'
  } catch {
    return null
  }
  return bounded(text, maxBytes)
}

/** `text` cut to at most `maxBytes` UTF-8 bytes (marked), never inside a character. */
export function bounded(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text
  const mark = '…[truncated]'
  const room = Math.max(0, maxBytes - Buffer.byteLength(mark, 'utf8'))
  const cut = Buffer.from(text, 'utf8').subarray(0, room).toString('utf8').replace(/\uFFFD+$/, '')
  return cut + mark
}
