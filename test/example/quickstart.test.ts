/**
 * The README's quick start on a fresh clone (issue 11 item 1): `npm run example` must work on a
 * tree that has never run `npm test` (no generated parser), print a ready-to-paste
 * `export SCIM_TOKEN=…`, serve every optional feature (Bulk, RFC 9865 cursors), and stop every
 * process it started on Ctrl-C (SIGINT) or SIGTERM.
 *
 * The "fresh clone" is a copy of the working tree's tracked and unignored files (so generated
 * and build output are absent) with node_modules linked in, as `npm ci` would leave it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(__dirname, '..', '..')
jest.setTimeout(120_000)

function freshTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'scim-quickstart-'))
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  if (files.status !== 0) throw new Error(`git ls-files failed: ${files.stderr}`)
  for (const f of files.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(ROOT, f))) continue // deleted in the working tree
    cpSync(join(ROOT, f), join(dir, f), { recursive: true })
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
  return dir
}

interface Started {
  proc: ChildProcess
  url: string
  token: string
  output: () => string
}

function startExample(cwd: string): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' }
  delete env['SCIM_TOKEN']
  delete env['DATABASE_URL']
  delete env['SCIM_STORE']
  // detached: npm leads its own process group, so the test can see every process it started.
  const proc = spawn('npm', ['run', 'example'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString()
      const url = /SCIM server ready at (\S+)/.exec(out)?.[1]
      const token = /^export SCIM_TOKEN=(\S+)$/m.exec(out)?.[1]
      if (url && token) resolve({ proc, url, token, output: () => out })
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`npm run example exited (${code}) before it was ready:\n${out}`)))
  })
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

async function waitGroupGone(pgid: number): Promise<boolean> {
  for (let i = 0; i < 100 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100))
  return !groupAlive(pgid)
}

describe('README quick start on a fresh clone: npm run example', () => {
  let tree: string
  beforeAll(() => {
    tree = freshTree()
  })
  afterAll(() => rmSync(tree, { recursive: true, force: true }))

  it.each(['SIGTERM', 'SIGINT'] as const)('starts without generated files, serves Bulk and cursors, and %s stops every process', async (signal) => {
    rmSync(join(tree, 'src', 'filter', 'generated'), { recursive: true, force: true })
    expect(existsSync(join(tree, 'src', 'filter', 'generated'))).toBe(false)
    const ex = await startExample(tree)
    const pgid = ex.proc.pid!
    try {
      // The printed line is what the README's curl uses.
      const auth = { Authorization: `Bearer ${ex.token}` }
      const spc = await fetch(`${ex.url}/ServiceProviderConfig`, { headers: auth })
      expect(spc.status).toBe(200)
      const body = (await spc.json()) as { bulk: { supported: boolean }; pagination?: { cursor: boolean } }
      expect(body.bulk.supported).toBe(true)
      expect(body.pagination?.cursor).toBe(true)
      const users = await fetch(`${ex.url}/Users?count=1&cursor`, { headers: auth })
      expect(users.status).toBe(200)
      expect(((await users.json()) as { schemas: string[] }).schemas).toContain('urn:ietf:params:scim:api:messages:2.0:ListResponse')
      expect((await fetch(`${ex.url}/Users`)).status).toBe(401)
      // The default store is SQLite in the working directory.
      expect(existsSync(join(tree, 'scim-example.db'))).toBe(true)
    } finally {
      // Only npm itself gets the signal, as from a process manager; Ctrl-C would reach the whole
      // group, which is the easier case.
      process.kill(pgid, signal)
    }
    const gone = await waitGroupGone(pgid)
    if (!gone) process.kill(-pgid, 'SIGKILL')
    expect({ gone, output: gone ? '' : ex.output() }).toEqual({ gone: true, output: '' })
  })
})
