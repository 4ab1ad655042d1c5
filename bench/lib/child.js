'use strict'
/**
 * The child side of the parent/child protocol every benchmark server speaks over IPC:
 *   child → parent  { type: 'ready', port, base, users: [{ id, userName }], bigGroupId, seedMs }
 *   parent → child  { type: 'cpu' }            → { type: 'cpu', usage: process.cpuUsage(), rss }
 *   parent → child  { type: 'profile-start' }  → { type: 'profile-start' }   (V8 CPU profiler on)
 *   parent → child  { type: 'profile-stop', file } → { type: 'profile-stop' } (.cpuprofile written)
 *   parent → child  { type: 'exit' }           the child closes the server and exits
 */
const fs = require('node:fs')
const path = require('node:path')
const data = require('./data')

let session
function post(method, params) {
  return new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))))
}

async function onMessage(server, msg) {
  switch (msg?.type) {
    case 'cpu':
      process.send({ type: 'cpu', usage: process.cpuUsage(), rss: process.memoryUsage().rss })
      break
    case 'profile-start': {
      const inspector = require('node:inspector')
      session = new inspector.Session()
      session.connect()
      await post('Profiler.enable')
      await post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_SAMPLING_US ?? 200) })
      await post('Profiler.start')
      process.send({ type: 'profile-start' })
      break
    }
    case 'profile-stop': {
      const { profile } = await post('Profiler.stop')
      session.disconnect()
      fs.mkdirSync(path.dirname(msg.file), { recursive: true })
      fs.writeFileSync(msg.file, JSON.stringify(profile))
      process.send({ type: 'profile-stop' })
      break
    }
    case 'exit':
      server.closeAllConnections?.()
      server.close(() => process.exit(0))
      setTimeout(() => process.exit(0), 2000).unref()
      break
  }
}

/** Start `server` (an http.Server not yet listening) on 127.0.0.1 with a free port, then report. */
function serve(server, seeded) {
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address()
    process.send({ type: 'ready', port, base: '/scim/v2', ...seeded })
  })
  process.on('message', (msg) => {
    onMessage(server, msg).catch((err) => {
      console.error(err)
      process.exit(1)
    })
  })
  process.on('disconnect', () => process.exit(0))
}

module.exports = { serve, data, token: () => process.env.BENCH_TOKEN || 'bench-token' }
