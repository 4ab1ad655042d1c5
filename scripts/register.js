/**
 * Load the TypeScript sources in this process: generate the filter parser when it is missing or
 * stale (scripts/codegen.js, idempotent and fast), then register ts-node (transpile only).
 * Every script that runs the sources — `npm run example`, the benchmarks, the soak — requires
 * this first, so each works on a fresh clone whatever ran before it.
 */
'use strict'
const path = require('node:path')

require('./codegen')
require('ts-node').register({ transpileOnly: true, project: path.join(__dirname, '..', 'tsconfig.json') })
