import { expect } from 'chai';
import { z } from 'zod';
import { parseOrThrow, ValidationError } from '../../platform/errors.ts';
import { findUnsafeText, hasUnsafeCharacter } from '../../platform/safe-text.ts';

describe('safe text: NUL and unpaired surrogates are refused at every boundary', () => {
  it('tells unsafe characters from ordinary text, emoji included', () => {
    for (const text of ['a\u0000b', '\uD800', 'x\uDC00', '\uDC00\uD800', 'end\uDBFF']) expect(hasUnsafeCharacter(text), JSON.stringify(text)).to.equal(true);
    for (const text of ['', 'Ada Lovelace', 'Zoë – 東京', '🪙 coins', '\uD83E\uDE99', 'tab\tnew\nline']) expect(hasUnsafeCharacter(text), JSON.stringify(text)).to.equal(false);
  });

  it('names the first offending value or key by its dotted path', () => {
    expect(findUnsafeText({ a: 'ok', b: [{ c: 'fine' }, { d: 'no\u0000' }] })).to.equal('b.1.d');
    expect(findUnsafeText({ shipments: [{ ['gift\uD800']: true }] })).to.equal('shipments.0.gift\uFFFD');
    expect(findUnsafeText('\u0000')).to.equal('');
    expect(findUnsafeText({ at: new Date(), n: 1, nothing: null, ok: ['x'] })).to.equal(undefined);
  });

  it('walks a deeply nested body without exhausting the stack', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    expect(findUnsafeText(deep)).to.match(/^(0\.){99999}0$/);
  });

  it('parseOrThrow refuses them whatever the schema says, as input.invalid_character', () => {
    let caught: unknown;
    try {
      parseOrThrow(z.object({ login: z.string() }), { login: 'ada\u0000' });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ValidationError);
    expect((caught as ValidationError).code).to.equal('input.invalid_character');
    expect((caught as ValidationError).fields).to.deep.equal([{ path: 'login', code: 'input.invalid_character', message: (caught as ValidationError).message }]);
  });
});
