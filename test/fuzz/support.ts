/**
 * Shared settings of the property-based (fast-check) suites in test/fuzz.
 *
 * Every run is reproducible: the seed is fixed (override with `FUZZ_SEED=<n>`), and a failure
 * reports the seed, the counterexample path and the command that replays it. `FUZZ_SCALE=<k>`
 * multiplies every run count (e.g. `FUZZ_SCALE=10 npx jest test/fuzz` for a longer local soak).
 */
import fc from 'fast-check'

export const SEED = Number(process.env['FUZZ_SEED'] ?? 20240501)
export const SCALE = Math.max(0.01, Number(process.env['FUZZ_SCALE'] ?? 1))

/** Per-test timeout: generous, so a slow shared CI machine does not turn into a flaky failure. */
export const TEST_TIMEOUT_MS = 180_000 * Math.max(1, SCALE)

/** Scaled run count (at least 1). */
export function runs(n: number): number {
  return Math.max(1, Math.round(n * SCALE))
}

fc.configureGlobal({ seed: SEED })

/**
 * `fc.assert`/`fc.assert(async)` with the seed printed on failure. The fast-check report (which
 * includes the shrunk counterexample, seed and path) is kept as the error message.
 */
export async function check<T>(name: string, property: fc.IProperty<T> | fc.IAsyncProperty<T>, numRuns: number): Promise<void> {
  const params: fc.Parameters<T> = { seed: SEED, numRuns: runs(numRuns), endOnFailure: false }
  try {
    await fc.assert(property as fc.IAsyncProperty<T>, params)
  } catch (err) {
    const msg = `[fuzz] property '${name}' failed with seed ${SEED} (replay: FUZZ_SEED=${SEED} npx jest test/fuzz)`
    // eslint-disable-next-line no-console
    console.error(msg)
    if (err instanceof Error) err.message = `${msg}\n${err.message}`
    throw err
  }
}
