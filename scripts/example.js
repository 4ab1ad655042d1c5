#!/usr/bin/env node
/**
 * `npm run example`: the example server (examples/server.ts) in this one process — the filter
 * parser is generated first when missing, and the sources load through ts-node — so a fresh clone
 * needs nothing else, and Ctrl-C or SIGTERM stops everything the command started.
 */
'use strict'
require('./register')
require('../examples/server.ts')
