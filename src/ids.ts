/**
 * Resource ids for adapters: UUIDv7 (RFC 9562 §5.7) with a monotonic counter in `rand_a`, so ids
 * sort in creation order and the default order "created, then id" is creation order even for
 * resources created within one millisecond. Unique across all resource types (RFC 7643 §3.1).
 * @module
 */
import { randomFillSync } from 'node:crypto'

let lastMs = 0
let counter = 0
const pool = Buffer.alloc(16 * 256)
let poolOffset = pool.length

/**
 * A new UUIDv7 string, monotonic within this process.
 * @example
 * const id = uuidv7() // '01936b2e-7c4a-7000-8f3e-...'
 */
export function uuidv7(): string {
  let ms = Date.now()
  if (ms <= lastMs) {
    counter++
    if (counter > 0xfff) {
      lastMs++
      counter = 0
    }
    ms = lastMs
  } else {
    lastMs = ms
    counter = 0
  }
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const b = Buffer.from(pool.subarray(poolOffset, (poolOffset += 16)))
  b.writeUIntBE(ms, 0, 6)
  b[6] = 0x70 | (counter >> 8)
  b[7] = counter & 0xff
  b[8] = 0x80 | ((b[8] as number) & 0x3f)
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
