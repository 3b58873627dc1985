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
