/**
 * DELETE /{Type}/{id} (RFC 7644 §3.6).
 * @module
 */
import type { CompiledResourceType } from '../schema/registry'
import type { Call, Reply, Service } from '../service'
import { deleteWithRetry } from '../storage/write'

/** DELETE /{Type}/{id} (RFC 7644 §3.6). */
export async function deleteResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<Reply> {
  const rec = svc.delivery.recorder()
  await deleteWithRetry(svc, call, rt, id, rec)
  await rec.committed(undefined)
  return { status: 204 }
}
