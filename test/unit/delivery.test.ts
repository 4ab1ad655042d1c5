/**
 * Issue 13: the retry schedule (bounded exponential backoff) and the `eventDelivery` option checks,
 * as pure functions (no clocks).
 */
import { retryDelay } from '../../src'
import { resolveDelivery } from '../../src/delivery'

describe('retryDelay (issue 13)', () => {
  it('doubles from initialMs after each failed attempt and never exceeds maxMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, 1000, 10_000))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000])
    expect(retryDelay(1000, 1000, 300_000)).toBe(300_000) // no overflow to Infinity/NaN
  })
})

describe('eventDelivery options (issue 13)', () => {
  it('defaults: 30 s handler timeout, lease longer than it, 10 attempts, 1 s to 5 min backoff', () => {
    expect(resolveDelivery(undefined)).toMatchObject({ handlerTimeout: 30_000, leaseMs: 60_000, maxAttempts: 10, initialMs: 1000, maxMs: 300_000, dispatcher: true })
  })
  it.each([
    [{ leaseMs: 100, handlerTimeout: 100 }, /leaseMs must exceed/],
    [{ maxAttempts: 0 }, /maxAttempts must be a positive integer/],
    [{ backoff: { initialMs: -1 } }, /backoff.initialMs/],
    [{ context: 'x' }, /context must be a function/],
  ])('rejects %j at startup', (opts, message) => {
    expect(() => resolveDelivery(opts as never)).toThrow(message)
  })
})
