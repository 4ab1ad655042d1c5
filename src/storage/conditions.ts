/**
 * Conditional requests (RFC 7644 §3.14, RFC 7232): `If-Match` and `If-None-Match` against the
 * resource's version, compared weakly (RFC 7232 §2.3.2). The check runs on the version just read,
 * and the write passes that version to the adapter as `expectedVersion`, so check and write are one
 * atomic compare-and-swap.
 * @module
 */
import { InvalidValueError, PreconditionFailedError } from '../errors'

/** The conditional headers of a write, as received (`If-Match`, `If-None-Match`). */
export interface Conditions {
  ifMatch?: string | string[] | undefined
  ifNoneMatch?: string | string[] | undefined
}

/** A parsed entity-tag list: `*`, or the opaque tags (W/ stripped), with bare tokens flagged. */
export interface EtagList {
  readonly any: boolean
  readonly tags: readonly string[]
  /** Some tags were sent without quotes (accepted for comparison). */
  readonly bare: boolean
}

const TAG = /^(?:W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/

/** Parse an `If-Match`/`If-None-Match` value; undefined when the header is absent. */
export function parseEtags(header: string | string[] | undefined): EtagList | undefined {
  if (header === undefined) return undefined
  const text = Array.isArray(header) ? header.join(',') : header
  if (text.trim() === '*') return { any: true, tags: [], bare: false }
  const tags: string[] = []
  let bare = false
  for (const part of text.split(',')) {
    const item = part.trim()
    if (!item) continue
    const m = TAG.exec(item)
    if (m) tags.push(m[1] as string)
    else if (/^[\x21\x23-\x2b\x2d-\x7e]+$/.test(item)) {
      tags.push(item.replace(/^W\//, ''))
      bare = true
    } else throw new InvalidValueError(`Malformed entity-tag in conditional header: ${item}`)
  }
  if (tags.length === 0) throw new InvalidValueError('Empty entity-tag list in conditional header')
  return { any: false, tags, bare }
}

/** Whether a list matches a version (weak comparison). */
export function etagMatches(list: EtagList, version: string): boolean {
  return list.any || list.tags.includes(version)
}

/**
 * Preconditions of a write (PUT, PATCH, DELETE) against the version just read.
 * @returns true when the client pinned a version with If-Match (then no retry on conflict).
 * @throws PreconditionFailedError (412, RFC 7232 §3.1, §3.2) or InvalidValueError (malformed tag).
 */
export function checkConditions(conditions: Conditions, version: string): boolean {
  const ifMatch = parseEtags(conditions.ifMatch)
  if (ifMatch && !etagMatches(ifMatch, version)) {
    if (ifMatch.bare) throw new InvalidValueError('If-Match must hold quoted entity-tags, e.g. W/"abc" (RFC 7232 §3.1)')
    throw new PreconditionFailedError()
  }
  const ifNoneMatch = parseEtags(conditions.ifNoneMatch)
  if (ifNoneMatch && etagMatches(ifNoneMatch, version)) throw new PreconditionFailedError()
  return ifMatch !== undefined && !ifMatch.any
}

/** Whether a write carries a (non-empty) condition: then it is read, checked and compare-and-swapped. */
export function hasConditions(conditions: Conditions): boolean {
  return Boolean(conditions.ifMatch) || Boolean(conditions.ifNoneMatch)
}
