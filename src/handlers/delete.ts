/**
 * DELETE /{Type}/{id} (RFC 7644 §3.6), through the write path (`storage/write.ts`).
 * @module
 */
import type { CompiledResourceType } from '../schema/registry'
import type { Call, Reply, Service } from '../service'
import { writeDelete } from '../storage/write'
import { conditionsOf } from './reply'

/** DELETE /{Type}/{id} (RFC 7644 §3.6). */
export async function deleteResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  await writeDelete(svc, call, rt, id, conditionsOf(call))
  return { status: 204 }
}
