/** On `attr eq "string"` the hand-written parser builds exactly the tree the grammar builds (FLT-001, FLT-004, FLT-062). */
import { parseFilterSyntax } from '../../src/filter'
import { parse as grammarParse } from '../../src/filter/generated/parser'

const CASES = [
  'userName eq "bjensen@example.com"',
  'USERNAME Eq "x"',
  '  externalId   eq\t"00ujl29u0le5T6Aj10h7"  ',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"',
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"',
  'name.familyName eq "O\'Malley"',
  'nickName eq "Bob \\"The Builder\\""',
  'displayName eq "Zo\\u00eb \\u00c5ngstr\\u00f6m"',
  'displayName eq "\\ud83d\\ude00 \\\\ \\/ \\b\\f\\n\\r\\t"',
  'emails.value eq ""',
]

describe('hand-written parser on attrPath eq "string"', () => {
  it.each(CASES)('%s parses to the same tree as through the grammar', (text) => {
    expect(parseFilterSyntax(text)).toStrictEqual(grammarParse(text, { startRule: 'Filter' }))
    // Parentheses add no node.
    expect(parseFilterSyntax(text)).toEqual(parseFilterSyntax(`(${text})`))
  })

  it.each([
    'userName eq "unterminated',
    'userName eq "raw\u0001control"',
    'userName eq "bad \\x escape"',
    ':userName eq "x"',
    'name.given.family eq "x"',
  ])('%s is rejected', (text) => {
    expect(() => parseFilterSyntax(text)).toThrow(expect.objectContaining({ code: 'ERR_SCIM_INVALID_FILTER' }))
  })
})
