/**
 * Reads of one resource through the adapter.
 * @module
 */
import type { StoredResource } from '../adapter'
import { NotFoundError } from '../errors'
import type { CompiledResourceType } from '../schema/registry'
import { checkStored, type Call, type Service } from '../service'

/** Read a resource or throw 404 (RFC 7644 §3.12). */
export async function mustGet(svc: Service, call: Call, rt: CompiledResourceType, id: string, omit?: readonly string[]): Promise<StoredResource> {
  const signal = call.deadline.signal
  const stored = await svc.adapter.get(omit ? { resourceType: rt.name, id, omit, signal } : { resourceType: rt.name, id, signal }, call.ctx)
  if (!stored) throw new NotFoundError(`${rt.name} ${id} not found`)
  return checkStored(stored)
}
