#!/usr/bin/env node
/**
 * `npm run example:existing-tables`: examples/existing-tables/server.ts in this one process (the
 * filter parser generated first when missing, sources through ts-node), like `npm run example`.
 */
'use strict'
require('./register')
require('../examples/existing-tables/server.ts')
