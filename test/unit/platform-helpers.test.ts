import { expect } from 'chai';
import { escapeHtml } from '../../platform/html.ts';
import { withTimeout } from '../../platform/timeout.ts';

describe('platform helpers', () => {
  describe('withTimeout', () => {
    it('passes on the value or the error of a promise that settles', async () => {
      expect(await withTimeout(Promise.resolve('answer'), 1_000)).to.equal('answer');
      const failure = await withTimeout(Promise.reject(new Error('refused')), 1_000).catch((error: Error) => error);
      expect((failure as Error).message).to.equal('refused');
    });

    it('rejects with the given error when the promise never settles', async () => {
      const never = new Promise<never>(() => undefined);
      const plain = await withTimeout(never, 5).catch((error: Error) => error);
      expect((plain as Error).message).to.equal('no answer within 5 ms');
      class Unavailable extends Error {}
      const custom = await withTimeout(never, 5, () => new Unavailable('queues away')).catch((error: Error) => error);
      expect(custom).to.be.instanceOf(Unavailable);
      expect((custom as Error).message).to.equal('queues away');
    });
  });

  describe('escapeHtml', () => {
    it('escapes the markup characters and the backtick, and nothing else', () => {
      expect(escapeHtml(`<a href="x" title='y'>&\`</a>`)).to.equal('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&#96;&lt;/a&gt;');
      expect(escapeHtml('Proof set 2027 — 50 ¢ / $1.00')).to.equal('Proof set 2027 — 50 ¢ / $1.00');
      expect(escapeHtml('&amp;')).to.equal('&amp;amp;');
    });
  });
});
