#!/usr/bin/env bash
# Test what we publish (CONVENTIONS §6.12, issue 8): pack, install the tarball into an empty
# project, load every entry with require and import, type-check a consumer, run publint and attw.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
npm run build --silent >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pack"
tgz="$work/pack/$(npm pack --silent --pack-destination "$work/pack" | tail -1)"
npx --no-install publint --strict "$root"
npx --no-install attw "$tgz" --profile node16
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$tgz" express@5 @types/express@5 @types/node@20 typescript@5.9 >/dev/null
node -e "
const m = require('scim-router'); const t = require('scim-router/testing'); const s = require('scim-router/sql'); const k = require('scim-router/kysely');
if (typeof k.kyselyAdapter !== 'function' || typeof k.migrationStatements !== 'function') throw new Error('cjs: kysely exports missing');
if (typeof m.scimRouter !== 'function' || typeof m.MemoryAdapter !== 'function') throw new Error('cjs: main exports missing');
if (typeof t.describeAdapterConformance !== 'function') throw new Error('cjs: testing export missing');
if (Object.keys(s).length === 0) throw new Error('cjs: sql exports missing');
console.log('require: ok')"
node --input-type=module -e "
import { scimRouter, MemoryAdapter, bearerToken } from 'scim-router';
import { describeAdapterConformance } from 'scim-router/testing';
import * as sql from 'scim-router/sql';
import express from 'express';
const app = express();
app.use('/scim/v2', scimRouter(new MemoryAdapter(), { authenticate: bearerToken('t') }));
const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  const res = await fetch('http://127.0.0.1:' + port + '/scim/v2/Users', { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/scim+json' }, body: JSON.stringify({ userName: 'pkg' }) });
  server.close();
  if (res.status !== 201 || typeof describeAdapterConformance !== 'function' || Object.keys(sql).length === 0) { console.error('import: failed', res.status); process.exit(1) }
  console.log('import: ok');
});"
cat > consumer.ts <<'TS'
import express from 'express'
import { scimRouter, MemoryAdapter, bearerToken, type ScimAdapter, type StoredResource, type ScimEvent } from 'scim-router'
const adapter: ScimAdapter<{ tenant: string }> = new MemoryAdapter<{ tenant: string }>()
const onEvent = (e: ScimEvent<{ tenant: string }>): void => { if (e.type === 'user.deprovisioned') void e.reason }
const authenticate = bearerToken({ tok: { tenant: 'a' } })
const app = express()
app.use('/scim/v2', scimRouter(adapter, { authenticate, context: (_req, p) => ({ tenant: p.tenant }), onEvent }))
export const stored: StoredResource | null = null
TS
for mode in "--module nodenext --moduleResolution nodenext" "--module esnext --moduleResolution bundler" "--module commonjs --moduleResolution node10"; do
  # shellcheck disable=SC2086
  npx --no-install tsc --noEmit --strict --skipLibCheck false --types node --esModuleInterop $mode --target es2022 consumer.ts
done
echo "typecheck (nodenext, bundler, node10): ok"
echo "package verified"
