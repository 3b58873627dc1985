import { expect } from 'chai';
import { z } from 'zod';
import { parseOrThrow, ValidationError } from '../../platform/errors.ts';

describe('errors: zod field issues', () => {
  it('names each bad field with a stable code', () => {
    const schema = z.strictObject({ a: z.string(), b: z.object({ c: z.number().min(2) }) });
    try {
      parseOrThrow(schema, { b: { c: 1 }, x: 1 });
      expect.fail('should throw');
    } catch (error) {
      expect(error).to.be.instanceOf(ValidationError);
      const fields = (error as ValidationError).fields ?? [];
      expect(fields.map((f) => `${f.path}:${f.code}`)).to.have.members(['a:required', 'b.c:too_small', 'x:unrecognized_key']);
    }
  });
});

describe('errors: required detection', () => {
  it('reports an absent enum, literal or union field as required', () => {
    const schema = z.strictObject({ kind: z.enum(['a', 'b']), yes: z.literal(true), either: z.union([z.string(), z.number()]) });
    try {
      parseOrThrow(schema, {});
      expect.fail('should throw');
    } catch (error) {
      const fields = (error as ValidationError).fields ?? [];
      expect(fields.map((f) => `${f.path}:${f.code}`)).to.have.members(['kind:required', 'yes:required', 'either:required']);
    }
  });
  it('keeps the schema code for a present but wrong value', () => {
    try {
      parseOrThrow(z.strictObject({ kind: z.enum(['a', 'b']) }), { kind: 'c' });
      expect.fail('should throw');
    } catch (error) {
      expect((error as ValidationError).fields?.[0]?.code).to.equal('invalid_value');
    }
  });
});
