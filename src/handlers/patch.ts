/**
 * PATCH /{Type}/{id} (RFC 7644 §3.5.2): read, apply the operations in memory (`applyPatch`, pure
 * and atomic), then write once with the version read as a compare-and-swap. A concurrent writer
 * makes the swap fail; without a client `If-Match` the router re-reads and re-applies (bounded),
 * so no update is lost; with one, the client gets 412.
 * @module
 */
import type { StoredResource } from '../adapter'
import { NotFoundError, PreconditionFailedError, isScimError } from '../errors'
import { readJsonBody, requireObject } from '../http/body'
import { parseList } from '../http/query'
import { send } from '../http/respond'
import { applyPatch } from '../patch/apply'
import { parsePatchRequest } from '../patch/operations'
import type { CompiledResourceType } from '../schema/registry'
import { compileProjection, etagOf, locationOf, renderResource } from '../schema/render'
import { checkStored, uniqueFor, type Call, type Service } from '../service'
import { ifMatchVersion, writableAttributes } from './resources'

const MAX_RETRIES = 3

/** PATCH /{Type}/{id}. */
export async function patchResource(svc: Service, call: Call, rt: CompiledResourceType, id: string): Promise<void> {
  const attributes = parseList(call.query.getAll('attributes'))
  const excluded = parseList(call.query.getAll('excludedAttributes'))
  const projection = compileProjection(rt, attributes, excluded)
  const body = requireObject(await readJsonBody(call.req, svc.options.maxBodyBytes))
  const operations = parsePatchRequest(rt, body, svc.options.filterLimits, svc.options.strict)
  const pinned = ifMatchVersion(call)
  for (let attempt = 0; ; attempt++) {
    const current = await svc.adapter.get({ resourceType: rt.name, id }, call.ctx)
    if (!current) throw new NotFoundError(`${rt.name} ${id} not found`)
    checkStored(current)
    if (pinned !== undefined && pinned !== current.version) throw new PreconditionFailedError()
    const before = writableAttributes(rt, current.attributes)
    const result = applyPatch(rt, id, before, operations, svc.options)
    let stored: StoredResource = current
    if (result.changed) {
      try {
        stored = checkStored(
          await svc.adapter.replace(
            { resourceType: rt.name, id, attributes: result.attributes, expectedVersion: current.version, unique: uniqueFor(svc, rt) },
            call.ctx,
          ),
        )
      } catch (err) {
        if (pinned === undefined && attempt < MAX_RETRIES && isScimError(err) && err.status === 412) continue
        throw err
      }
    }
    const location = locationOf(call.render, rt, stored.id)
    const headers = { Location: location, 'Content-Location': location, ETag: etagOf(stored.version) }
    // PAT-090: Groups answer 204 (Entra) unless a projection is asked for; Users 200 with the resource.
    if (rt.name === 'Group' && svc.options.groupPatchResponse === 204 && projection.mode === 'default') {
      send(call.res, 204, undefined, headers)
      return
    }
    send(call.res, 200, renderResource(rt, stored, call.render, projection, result.touched), headers)
    return
  }
}
