import { expect } from 'chai';
import { z } from 'zod';
import { CARD_NUMBER_IN_TEXT, containsCardNumber, findCardNumbers, freeText, maskCardNumbersInText } from '../../api/http/free-text.ts';
import { PlaceOrderRequest } from '../../api/orders/schema.ts';
import { parseOrThrow, ValidationError } from '../../platform/errors.ts';

describe('free text: card numbers typed where they do not belong', () => {
  const cards = ['4242424242424242', '4242 4242 4242 4242', '4242-4242-4242-4242', '3782 822463 10005', '5555 5555 5555 4444', '6011 1111 1111 1117', '4222222222222', '4242\u20134242\u20134242\u20134242', '\uFF14\uFF12\uFF14\uFF12424242424242'];
  for (const card of cards) {
    it(`finds "${card}" alone and embedded in other text`, () => {
      expect(containsCardNumber(card)).to.equal(true);
      expect(containsCardNumber(`card ${card} thanks`)).to.equal(true);
      expect(containsCardNumber(`Apt${card}`)).to.equal(true);
      expect(containsCardNumber(`(${card}).`)).to.equal(true);
    });
  }

  it('reports where each card is, and masks to the last four', () => {
    const text = 'pay 4242 4242 4242 4242 or 378282246310005 please';
    expect(findCardNumbers(text).map(({ start, end }) => text.slice(start, end))).to.deep.equal(['4242 4242 4242 4242', '378282246310005']);
    expect(maskCardNumbersInText(text)).to.equal('pay •••• 4242 or •••• 0005 please');
  });

  const harmless = [
    'Happy birthday, Ada!',
    '4242 4242 4242 4241', // not Luhn-valid
    '424242424242', // 12 digits
    '42424242424242424242', // 20 digits in one run: not a card
    'Call (202) 555-0142 or +1 312 555 0199',
    '1600 Pennsylvania Ave NW, Washington DC 20500-0003',
    'Order 100234567 shipped',
    '0000 0000 0000 0000', // Luhn-valid, but no card starts with 0
    'cache-bust 1767225600000', // a millisecond timestamp: Luhn-valid, but a card never starts with 1
    'PO Box 4242, Suite 4242',
  ];
  for (const text of harmless) {
    it(`leaves "${text}" alone`, () => {
      expect(containsCardNumber(text)).to.equal(false);
    });
  }

  it('freeText refuses a card number with the stable code, at the field, for the whole request', () => {
    const Schema = z.strictObject({ note: freeText(100, { min: 1 }), other: z.string() });
    let caught: unknown;
    try {
      parseOrThrow(Schema, { note: 'my card is 4242 4242 4242 4242', other: 'fine' });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ValidationError);
    const error = caught as ValidationError;
    expect(error.code).to.equal(CARD_NUMBER_IN_TEXT);
    expect(error.message).to.equal("Please don't enter a card number here.");
    expect(error.fields).to.deep.equal([{ path: 'note', code: CARD_NUMBER_IN_TEXT, message: "Please don't enter a card number here." }]);
    expect(JSON.stringify(error.fields)).not.to.contain('4242');
    expect(parseOrThrow(Schema, { note: '  trimmed  ', other: 'x' }).note).to.equal('trimmed');
  });

  it('the checkout refuses the issue\'s examples: gift message, address line 2 and name on card', () => {
    const order = (overrides: { giftMessage?: string; line2?: string; nameOnCard?: string }) => ({
      lines: [{ sku: 'PS-2026', quantity: 1 }],
      purchaser: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '2025550142' },
      billingAddress: { line1: '1 Main St', city: 'Springfield', state: 'IL', postalCode: '62701' },
      shipments: [{ address: { line1: '1 Main St', line2: overrides.line2, city: 'Springfield', state: 'IL', postalCode: '62701' }, giftMessage: overrides.giftMessage }],
      payment: { type: 'card', card: { number: '4242424242424242', expMonth: 12, expYear: 2030, cvv: '123', nameOnCard: overrides.nameOnCard ?? 'Ada Lovelace' } },
      attestation: { termsAccepted: true, ageConfirmed: true },
    });
    const paths = (input: unknown) => {
      const result = PlaceOrderRequest.safeParse(input);
      return result.success ? [] : result.error.issues.filter((issue) => issue.code === 'custom' && issue.params?.code === CARD_NUMBER_IN_TEXT).map((issue) => issue.path.join('.'));
    };
    expect(paths(order({}))).to.deep.equal([]);
    expect(paths(order({ giftMessage: 'card 4242 4242 4242 4242' }))).to.deep.equal(['shipments.0.giftMessage']);
    expect(paths(order({ line2: 'Apt 4242424242424242' }))).to.deep.equal(['shipments.0.address.line2']);
    expect(paths(order({ nameOnCard: '4242424242424242' }))).to.deep.equal(['payment.card.nameOnCard']);
  });
});
