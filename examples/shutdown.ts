import type { Server } from 'node:http'

/**
 * Stop the example servers on Ctrl-C or SIGTERM: stop accepting, end idle keep-alive connections
 * (they would hold `server.close()` open), run `cleanup` (event dispatcher, database), then exit;
 * after 5 s exit anyway, so the signal always stops the process.
 */
export function stopOnSignals(server: Server, cleanup: () => Promise<unknown>): void {
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    setTimeout(() => process.exit(0), 5000).unref()
    server.close(() => void cleanup().finally(() => process.exit(0)))
    server.closeIdleConnections()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
