/**
 * Issue 11 item 14: with `bearerToken({ token: principal })` written inline, `context` used to get
 * the principal as `unknown` (TS18046 under `strict`, the TSDoc example included). The fixture is
 * compiled with the TypeScript compiler under `strict`; it must have no diagnostics, and its
 * `@ts-expect-error` lines prove the principal is typed, not `any`.
 */
import { join } from 'node:path'
import ts from 'typescript'

jest.setTimeout(60_000)

it('the principal handed to context and me is typed from the token map (strict)', () => {
  const file = join(__dirname, '..', 'types', 'principal.fixture.ts')
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
  })
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file || d.file === undefined)
    .map((d) => `${d.file ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
  expect(diagnostics).toEqual([])
})
