/**
 * The string rule of issue 11 item 10: U+0000 and unpaired UTF-16 surrogates are refused (400
 * invalidValue, RFC 7644 §3.12); well-formed text, astral characters included, passes.
 */
import { assertCleanJson, assertCleanString, hasForbiddenChar } from '../../src/http/strings'

describe('hasForbiddenChar', () => {
  it.each([
    ['\u0000', true],
    ['a\u0000', true],
    ['\ud800', true],
    ['a\ud800b', true],
    ['\udc00', true],
    ['\udc00\ud800', true], // reversed pair: both unpaired
    ['\ud83d\ude00\ud83d', true],
    ['\ud83d\ude00', false],
    ['\ud800\udc00', false],
    ['', false],
    ['plain ascii \u0001\u001f', false],
    ['Stra\u00dfe \u{10ffff}', false],
  ])('%j → %s', (s, expected) => {
    expect(hasForbiddenChar(s)).toBe(expected)
  })

  it('JSON.parse yields lone surrogates from \\ud800 escapes, and they are caught', () => {
    expect(hasForbiddenChar(JSON.parse('"\\ud800"') as string)).toBe(true)
  })
})

describe('assertCleanJson', () => {
  const rejects = (v: unknown) => {
    expect(() => assertCleanJson(v, 'request body')).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' }))
  }

  it('checks values at any depth and member names; accepts clean values', () => {
    rejects({ a: [{ b: 'x\u0000' }] })
    rejects({ ['k\ud800']: 1 })
    rejects(['\udfff'])
    expect(() => assertCleanJson({ a: [1, true, null, { b: 'ok \u{1f600}' }] }, 'request body')).not.toThrow()
    expect(() => assertCleanString('ok', 'id')).not.toThrow()
    expect(() => assertCleanString('\u0000', 'id')).toThrow(/id contains U\+0000/)
  })

  it('is iterative: 100,000 nested arrays neither overflow the stack nor pass a bad leaf', () => {
    let v: unknown = 'bad\u0000'
    for (let i = 0; i < 100_000; i++) v = [v]
    rejects(v)
  })
})
