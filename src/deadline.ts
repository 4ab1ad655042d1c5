/**
 * The per-request deadline (`adapterTimeout`): one `AbortSignal` handed to every adapter
 * call, and a record of whether a write has committed. A 503 may only be answered while nothing
 * has; once a write resolved, the client gets the success response whatever time it is.
 * @module
 */
import createDebug from 'debug'
import { ServiceUnavailableError, isScimError } from './errors'

const log = createDebug('scim:router')

/** Seconds of `Retry-After` on a deadline 503. */
const RETRY_AFTER_S = 5
/** Longest the router waits, after aborting, for storage work to settle before answering 503. */
const MAX_GRACE_MS = 2000

/** The deadline of one request (shared by every operation of a Bulk request). */
export class Deadline {
  readonly signal: AbortSignal
  #commits = 0

  constructor(signal: AbortSignal) {
    this.signal = signal
  }

  /** A deadline that never passes (Bulk compensations, which must run after it). */
  static none(): Deadline {
    return new Deadline(new AbortController().signal)
  }

  /** Whether the deadline has passed. */
  get expired(): boolean {
    return this.signal.aborted
  }

  /** Writes that have committed so far in this request. */
  get commits(): number {
    return this.#commits
  }

  /**
   * Run one adapter write with the signal. Refused (the deadline's 503) once the deadline passed,
   * so nothing is even attempted; counted as committed when it resolves. A failure after the
   * deadline that is not a SCIM error (a driver's abort error) becomes the deadline's 503.
   */
  async write<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.signal.throwIfAborted()
    let out: T
    try {
      out = await fn(this.signal)
    } catch (err) {
      if (this.signal.aborted && !isScimError(err)) throw this.signal.reason
      throw err
    }
    this.#commits++
    return out
  }
}

/** The 503 of a request whose deadline passed before anything committed. */
export function deadlineError(ms: number): ServiceUnavailableError {
  return new ServiceUnavailableError(RETRY_AFTER_S, `Storage did not answer within ${ms} ms; nothing was changed; retry later`)
}

/**
 * Whether `err` means "stopped by the deadline, nothing committed": the deadline's own 503, or
 * any non-SCIM failure (a driver's abort error) after the deadline, with no write committed since
 * `commitsBefore`.
 */
export function stoppedByDeadline(deadline: Deadline, err: unknown, commitsBefore: number): boolean {
  if (!deadline.expired || deadline.commits !== commitsBefore) return false
  return err === deadline.signal.reason || !isScimError(err)
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

function settle<T>(work: Promise<T>): Promise<Outcome<T>> {
  return work.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
}

/** Resolves after `ms` (undefined), unless cancelled; never keeps the process alive. */
function delay(ms: number): { done: Promise<undefined>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined
  const done = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms)
    timer.unref()
  })
  return { done, cancel: () => clearTimeout(timer) }
}

/**
 * Run `fn` against a deadline of `ms`. At the deadline the signal is aborted (adapters roll back
 * and stop) and the work gets a short grace (at most 2 s) to settle: a write that committed in
 * that window, or before, yields its success response, however long the rest takes (event
 * delivery is bounded separately). When nothing committed, the answer is the deadline's 503.
 */
export async function runWithDeadline<T>(ms: number, fn: (deadline: Deadline) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  const deadline = new Deadline(controller.signal)
  const outcome = settle(Promise.resolve().then(() => fn(deadline)))
  const first = delay(ms)
  let result = await Promise.race([outcome, first.done])
  first.cancel()
  if (result === undefined) {
    controller.abort(deadlineError(ms))
    const grace = delay(Math.min(ms, MAX_GRACE_MS))
    result = await Promise.race([outcome, grace.done])
    grace.cancel()
    if (result === undefined) {
      if (deadline.commits === 0) {
        log('deadline of %d ms passed with nothing committed; answering 503 (storage still busy after the abort)', ms)
        throw controller.signal.reason
      }
      log('deadline of %d ms passed after a write committed; waiting for the success response', ms)
      result = await outcome
    }
  }
  if (result.ok) return result.value
  if (deadline.expired && deadline.commits === 0 && !isScimError(result.error)) throw controller.signal.reason
  throw result.error
}
