'use strict'
/**
 * bench:bulk server: scimRouter(new MemoryAdapter(), { authenticate: 'none', bulk: { maxOperations:
 * 1000, maxPayloadSize: 10_000_000 } }) in Express 5, mounted twice with separate adapters:
 * /warm/scim/v2 takes the warm-up traffic (JIT), /scim/v2 the measured work on an empty store.
 * Speaks the IPC protocol of lib/child.js (ready, cpu, exit).
 */
const path = require('node:path')
require('../../scripts/register')
const express = require('express')
const { scimRouter, MemoryAdapter } = require('../../src')
const { serve } = require('../lib/child')

const options = { authenticate: 'none', bulk: { maxOperations: 1000, maxPayloadSize: 10_000_000 } }
const app = express()
app.disable('x-powered-by')
app.use('/warm/scim/v2', scimRouter(new MemoryAdapter(), options))
app.use('/scim/v2', scimRouter(new MemoryAdapter(), options))
serve(require('node:http').createServer(app), { users: [] })
