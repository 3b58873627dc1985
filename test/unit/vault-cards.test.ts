import { expect } from 'chai';
import fc from 'fast-check';
import { ValidationError } from '../../platform/errors.ts';
import {
  detectBrand,
  expectedCvvLength,
  expectedLengths,
  expiryValid,
  last4,
  luhnValid,
  maskPan,
  normalizePan,
  validateCard,
  type CardInput,
} from '../../api/vault/cards.ts';
import { withLuhnCheckDigit } from '../support/fixtures.ts';

const NOW = new Date('2026-06-15T10:00:00Z');

function validationFields(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return ((error as ValidationError).fields ?? []).map((f) => `${f.path}:${f.code}`);
  }
  expect.fail('expected a ValidationError');
}

const card = (overrides: Partial<CardInput> = {}): CardInput => ({ number: '4242 4242 4242 4242', expMonth: 12, expYear: 2027, cvv: '123', ...overrides });

describe('vault/cards', () => {
  describe('normalizePan', () => {
    it('strips spaces and dashes only', () => {
      expect(normalizePan(' 4242-4242 4242\u00a04242 ')).to.equal('4242424242424242');
      expect(normalizePan('4242x4242')).to.equal('4242x4242');
    });
  });

  describe('luhnValid', () => {
    it('accepts known-good numbers and rejects non-digits and trivially short input', () => {
      expect(luhnValid('4242424242424242')).to.equal(true);
      expect(luhnValid('378282246310005')).to.equal(true);
      expect(luhnValid('4242424242424241')).to.equal(false);
      expect(luhnValid('')).to.equal(false);
      expect(luhnValid('0')).to.equal(false);
      expect(luhnValid('4242 4242 4242 4242')).to.equal(false);
    });

    it('catches every single-digit substitution', () => {
      fc.assert(
        fc.property(
          fc.stringMatching(/^\d{12,18}$/),
          fc.nat(),
          fc.integer({ min: 1, max: 9 }),
          (payload, at, delta) => {
            const pan = withLuhnCheckDigit(payload);
            const i = at % pan.length;
            const changed = pan.slice(0, i) + ((Number(pan[i]) + delta) % 10) + pan.slice(i + 1);
            return luhnValid(pan) && !luhnValid(changed);
          },
        ),
      );
    });
  });

  describe('detectBrand', () => {
    const samples: Record<string, string[]> = {
      visa: ['4242424242424242', '4111111111111', '4000056655665556'],
      mastercard: ['5555555555554444', '5105105105105100', '2221000000000009', '2223003122003222', '2720999999999996'],
      amex: ['378282246310005', '341111111111111'],
      discover: ['6011111111111117', '6445644564456445', '6511000000000000'],
      jcb: ['3530111333300000', '3566002020360505', '3589000000000000'],
      diners: ['30569309025904', '36227206271667', '38520000023237', '3095000000000000'],
      unionpay: ['6200000000000005', '6250941006528599'],
    };
    for (const [brand, pans] of Object.entries(samples)) {
      it(`detects ${brand}`, () => {
        for (const pan of pans) expect(detectBrand(pan), pan).to.equal(brand);
      });
    }

    it('respects the edges of the Mastercard 2-series and JCB ranges', () => {
      expect(detectBrand('2220990000000000')).to.equal('unknown');
      expect(detectBrand('2721000000000000')).to.equal('unknown');
      expect(detectBrand('3527000000000000')).to.equal('unknown');
      expect(detectBrand('3590000000000000')).to.equal('unknown');
      expect(detectBrand('5011000000000000')).to.equal('unknown');
      expect(detectBrand('5600000000000000')).to.equal('unknown');
    });

    it('returns unknown for other or malformed input', () => {
      for (const pan of ['1234567812345678', '9999999999999999', '', 'abcd', '3']) expect(detectBrand(pan)).to.equal('unknown');
    });

    it('tolerates spaces and dashes', () => {
      expect(detectBrand('3782 822463 10005')).to.equal('amex');
    });
  });

  describe('lengths', () => {
    it('knows the lengths and CVV sizes per brand', () => {
      expect(expectedLengths('amex')).to.deep.equal([15]);
      expect(expectedLengths('visa')).to.deep.equal([13, 16, 19]);
      expect(expectedLengths('mastercard')).to.deep.equal([16]);
      expect(expectedCvvLength('amex')).to.equal(4);
      expect(expectedCvvLength('visa')).to.equal(3);
    });
  });

  describe('expiryValid', () => {
    it('keeps a card valid through the end of its expiry month, in every time zone', () => {
      expect(expiryValid(3, 2025, new Date('2025-03-31T23:59:59Z'))).to.equal(true);
      // Still 31 March in UTC-12.
      expect(expiryValid(3, 2025, new Date('2025-04-01T11:59:59Z'))).to.equal(true);
      expect(expiryValid(3, 2025, new Date('2025-04-01T12:00:00Z'))).to.equal(false);
      expect(expiryValid(3, 2025, new Date('2025-02-01T00:00:00Z'))).to.equal(true);
    });

    it('rolls December over into January of the next year', () => {
      expect(expiryValid(12, 2025, new Date('2026-01-01T11:00:00Z'))).to.equal(true);
      expect(expiryValid(12, 2025, new Date('2026-01-01T12:00:00Z'))).to.equal(false);
    });

    it('reads two-digit years as this century and rejects impossible months', () => {
      expect(expiryValid(6, 26, NOW)).to.equal(true);
      expect(expiryValid(5, 26, NOW)).to.equal(false);
      expect(expiryValid(0, 2030, NOW)).to.equal(false);
      expect(expiryValid(13, 2030, NOW)).to.equal(false);
      expect(expiryValid(1.5, 2030, NOW)).to.equal(false);
    });
  });

  describe('masking', () => {
    it('shows the last four only', () => {
      expect(maskPan('4242 4242 4242 4242')).to.equal('•••• 4242');
      expect(last4('378282246310005')).to.equal('0005');
      expect(maskPan('12')).to.equal('••••');
    });
  });

  describe('validateCard', () => {
    it('returns the normalised card with its brand', () => {
      expect(validateCard(card({ expMonth: '03', expYear: '29' }), NOW)).to.deep.equal({
        number: '4242424242424242',
        brand: 'visa',
        last4: '4242',
        expMonth: 3,
        expYear: 2029,
        cvv: '123',
      });
    });

    it('rejects a mistyped digit', () => {
      expect(validationFields(() => validateCard(card({ number: '4242424242424241' }), NOW))).to.deep.equal(['payment.card.number:card.luhn']);
    });

    it('rejects unknown and non-accepted brands', () => {
      expect(validationFields(() => validateCard(card({ number: '9999999999999995' }), NOW))).to.deep.equal([
        'payment.card.number:card.brand_unsupported',
      ]);
      expect(validationFields(() => validateCard(card(), NOW, 'payment.card', ['mastercard']))).to.deep.equal([
        'payment.card.number:card.brand_unsupported',
      ]);
    });

    it('rejects a number of the wrong length for its brand', () => {
      // 15 digits is right for Amex but not for Visa, even when the Luhn check happens to pass.
      expect(validationFields(() => validateCard(card({ number: withLuhnCheckDigit('42424242424242') }), NOW))).to.deep.equal([
        'payment.card.number:card.length',
      ]);
    });

    it('rejects characters other than digits, spaces and dashes', () => {
      expect(validationFields(() => validateCard(card({ number: '4242.4242.4242.4242' }), NOW))).to.deep.equal([
        'payment.card.number:card.number_format',
      ]);
    });

    it('rejects an expired card, pointing at the part to change', () => {
      expect(validationFields(() => validateCard(card({ expMonth: 5, expYear: 2026 }), NOW))).to.deep.equal(['payment.card.expMonth:card.expired']);
      expect(validationFields(() => validateCard(card({ expMonth: 12, expYear: 2025 }), NOW))).to.deep.equal(['payment.card.expYear:card.expired']);
    });

    it('rejects malformed expiry fields', () => {
      expect(validationFields(() => validateCard(card({ expMonth: 13, expYear: 'xx' }), NOW))).to.deep.equal([
        'payment.card.expMonth:card.expiry_format',
        'payment.card.expYear:card.expiry_format',
      ]);
      expect(validationFields(() => validateCard(card({ expYear: 2207 }), NOW))).to.deep.equal(['payment.card.expYear:card.expiry_format']);
    });

    it('wants 3 CVV digits, 4 for Amex', () => {
      expect(validationFields(() => validateCard(card({ cvv: '1234' }), NOW))).to.deep.equal(['payment.card.cvv:card.cvv_format']);
      expect(validationFields(() => validateCard(card({ number: '378282246310005', cvv: '123' }), NOW))).to.deep.equal([
        'payment.card.cvv:card.cvv_format',
      ]);
      expect(validateCard(card({ number: '378282246310005', cvv: '1234' }), NOW).brand).to.equal('amex');
      expect(validateCard(card({ cvv: '012' }), NOW).cvv).to.equal('012');
    });

    it('names every bad field at once under the given prefix', () => {
      expect(
        validationFields(() => validateCard({ number: '4242424242424241', expMonth: 1, expYear: 2020, cvv: '1' }, NOW, 'checkout.payment'))
      ).to.deep.equal(['checkout.payment.number:card.luhn', 'checkout.payment.expYear:card.expired', 'checkout.payment.cvv:card.cvv_format']);
      expect(validationFields(() => validateCard(card({ cvv: '' }), NOW, ''))).to.deep.equal(['cvv:card.cvv_format']);
    });

    it('never puts the card number in the error', () => {
      const pan = '4242424242424241';
      try {
        validateCard(card({ number: pan }), NOW);
        expect.fail('should throw');
      } catch (error) {
        expect(JSON.stringify({ ...(error as ValidationError), message: (error as Error).message })).not.to.include(pan);
      }
    });
  });
});
