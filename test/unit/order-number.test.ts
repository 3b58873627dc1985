import { expect } from 'chai';
import fc from 'fast-check';
import {
  dammCheckDigit,
  dammValid,
  formatOrderNumberForDisplay,
  formatOrderNumberForSpeech,
  generateOrderNumber,
  isValidOrderNumber,
  normalizeOrderNumberInput,
  type RandomInt,
} from '../../api/orders/order-number.ts';

/** A RandomInt driven by fast-check, so properties cover the whole number space reproducibly. */
const randomSource = fc.array(fc.nat(), { minLength: 7, maxLength: 7 }).map((values): RandomInt => {
  let i = 0;
  return (max) => values[i++ % values.length]! % max;
});

const orderNumber = randomSource.map((random) => generateOrderNumber(random));

describe('orders/order-number', () => {
  describe('Damm', () => {
    it('matches the published example (572 -> 4)', () => {
      expect(dammCheckDigit('572')).to.equal(4);
      expect(dammValid('5724')).to.equal(true);
      expect(dammValid('5723')).to.equal(false);
    });

    it('rejects non-digits', () => {
      expect(() => dammCheckDigit('12a')).to.throw(TypeError);
      expect(dammValid('')).to.equal(false);
    });
  });

  describe('generateOrderNumber', () => {
    it('produces 8 digits, never starting with 0, that pass the check', () => {
      fc.assert(
        fc.property(orderNumber, (n) => {
          expect(n).to.match(/^[1-9]\d{7}$/);
          expect(isValidOrderNumber(n)).to.equal(true);
        }),
      );
    });

    it('covers the extremes of the random source', () => {
      expect(generateOrderNumber(() => 0)).to.equal('10000004');
      expect(generateOrderNumber((max) => max - 1)).to.match(/^9999999\d$/).and.satisfy(isValidOrderNumber);
    });

    it('uses a CSPRNG by default', () => {
      const seen = new Set(Array.from({ length: 200 }, () => generateOrderNumber()));
      expect(seen.size).to.be.greaterThan(195);
      for (const n of seen) expect(isValidOrderNumber(n)).to.equal(true);
    });

    it('refuses a random source that goes out of range', () => {
      expect(() => generateOrderNumber(() => 10)).to.throw(RangeError);
    });
  });

  describe('error detection', () => {
    it('catches every single-digit substitution', () => {
      fc.assert(
        fc.property(orderNumber, (n) => {
          for (let i = 0; i < n.length; i += 1) {
            for (let d = 0; d <= 9; d += 1) {
              if (String(d) === n[i]) continue;
              const typo = n.slice(0, i) + d + n.slice(i + 1);
              expect(isValidOrderNumber(typo), `${n} -> ${typo}`).to.equal(false);
            }
          }
        }),
        { numRuns: 300 },
      );
    });

    it('catches every adjacent transposition', () => {
      fc.assert(
        fc.property(orderNumber, (n) => {
          for (let i = 0; i < n.length - 1; i += 1) {
            if (n[i] === n[i + 1]) continue;
            const swapped = n.slice(0, i) + n[i + 1] + n[i] + n.slice(i + 2);
            expect(isValidOrderNumber(swapped), `${n} -> ${swapped}`).to.equal(false);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('rejects the wrong length, a leading zero and non-digits', () => {
      const valid = generateOrderNumber(() => 3);
      expect(isValidOrderNumber(valid.slice(1))).to.equal(false);
      expect(isValidOrderNumber(`${valid}0`)).to.equal(false);
      // 0000000 + check digit 0 passes Damm, but a leading zero is never issued.
      expect(isValidOrderNumber('00000000')).to.equal(false);
      expect(isValidOrderNumber(`${valid.slice(0, 4)}-${valid.slice(4)}`)).to.equal(false);
    });
  });

  describe('input from callers', () => {
    it('strips spaces and dashes as people type them', () => {
      expect(normalizeOrderNumberInput(' 4521-7730 ')).to.equal('45217730');
      expect(normalizeOrderNumberInput('4521 7730')).to.equal('45217730');
      expect(normalizeOrderNumberInput('4521\u20137730')).to.equal('45217730');
    });

    it('understands digits as a speech recogniser writes them', () => {
      expect(normalizeOrderNumberInput('four five two one, seven seven three oh.')).to.equal('45217730');
      expect(normalizeOrderNumberInput('Four five 21 double seven 3 zero')).to.equal('45217730');
      expect(normalizeOrderNumberInput('45 21 triple 7 0')).to.equal('45217770');
    });

    it('keeps what it does not understand, so validation fails rather than guesses', () => {
      expect(isValidOrderNumber(normalizeOrderNumberInput('four five two one seven seven three ten'))).to.equal(false);
      expect(normalizeOrderNumberInput('4521773 double')).to.equal('4521773double');
    });

    it('round-trips every generated number through its spoken and printed forms', () => {
      fc.assert(
        fc.property(orderNumber, (n) => {
          expect(normalizeOrderNumberInput(formatOrderNumberForSpeech(n))).to.equal(n);
          expect(normalizeOrderNumberInput(formatOrderNumberForDisplay(n))).to.equal(n);
        }),
      );
    });
  });

  describe('formatting', () => {
    it('reads digit by digit in groups of four', () => {
      expect(formatOrderNumberForSpeech('45217730')).to.equal('4 5 2 1, 7 7 3 0');
      expect(formatOrderNumberForSpeech('4521-7730')).to.equal('4 5 2 1, 7 7 3 0');
      expect(formatOrderNumberForDisplay('45217730')).to.equal('4521-7730');
    });
  });
});
