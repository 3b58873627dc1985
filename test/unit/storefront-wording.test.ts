import { expect } from 'chai';
import { checkPlaceOrder } from '../../api/checkout/validate-order.ts';
import { CHECKOUT_FIELDS, pathMapper, valueOf, EMPTY_CHECKOUT, buildOrder, orderIssues } from '../../storefront/src/checkout/order-form.ts';
import { messageFor, placeIssues, problemOf, UNREADABLE, W, type Wording } from '../../storefront/src/lib/wording.ts';
import { VALIDATOR_JARGON } from '../support/storefront-pages.ts';
import { checkoutBody } from '../support/fixtures.ts';

const NOW = new Date('2026-12-01T15:00:00Z');

describe('storefront wording: what a shopper reads about a field', () => {
  it('is written for shoppers: full sentences, no validator jargon', () => {
    for (const [field, wording] of Object.entries(W) as [string, Wording][]) {
      const messages = [wording.missing, wording.invalid, wording.expired, wording.unsupported, wording.custom, wording.taken, messageFor(wording, 'too_long')].filter((m): m is string => Boolean(m));
      for (const message of messages) {
        expect(message, field).not.to.match(VALIDATOR_JARGON);
        expect(message, field).to.match(/^[A-Z].*[.]$/);
      }
    }
  });

  it('tells an empty field from a wrong one by what was typed, whatever code the schema used', () => {
    expect(problemOf({ code: 'too_small' }, '')).to.equal('missing');
    expect(problemOf({ code: 'invalid_format' }, '   ')).to.equal('missing');
    expect(problemOf({ code: 'invalid_value' }, false)).to.equal('missing');
    expect(problemOf({ code: 'too_small' }, 'A')).to.equal('invalid');
    expect(problemOf({ code: 'too_big' }, 'x'.repeat(99))).to.equal('too_long');
    expect(problemOf({ code: 'card.expired' }, '01/20')).to.equal('expired');
    expect(problemOf({ code: 'customers.email_taken' }, 'ada@example.com')).to.equal('taken');
    expect(messageFor(W.firstName, 'too_long')).to.equal('Use 60 characters or fewer.');
  });

  it("puts each of the API's issues next to its checkout field in shopper words, one per field, none in the schema's words", () => {
    const body = checkoutBody([{ sku: 'PS-2026', quantity: 1 }], {
      purchaser: { firstName: '', lastName: 'x'.repeat(61), email: 'ada@', phone: '12' },
      billingAddress: { line1: '', city: '', state: 'ZZ', postalCode: '1', country: 'US' },
      shipments: [{ address: { line1: '', city: '', state: '', postalCode: '', country: 'US' }, recipient: { firstName: 'Grace', lastName: '' } }],
      payment: { type: 'card', card: { number: '4242424242424241', expMonth: 1, expYear: 2020, cvv: '1', nameOnCard: '' } },
      attestation: { termsAccepted: false, ageConfirmed: false },
    });
    const checked = checkPlaceOrder(body, NOW);
    expect(checked.ok).to.equal(false);
    if (checked.ok) return;
    const values = {
      ...EMPTY_CHECKOUT,
      shipSame: false,
      lastName: 'x'.repeat(61),
      email: 'ada@',
      phone: '12',
      billing: { ...EMPTY_CHECKOUT.billing, state: 'ZZ', postalCode: '1' },
      recipientFirst: 'Grace',
      gift: true,
      cardNumber: '4242424242424241',
      cardExpiry: '01/20',
      cardCvv: '1',
    };
    const placed = placeIssues(checked.issues, CHECKOUT_FIELDS, (id) => valueOf(values, id), pathMapper(values));
    expect(placed.unplaced).to.deep.equal([]);
    expect(placed.errors).to.deep.equal({
      'purchaser-first': W.firstName.missing,
      'purchaser-last': 'Use 60 characters or fewer.',
      'purchaser-email': W.email.invalid,
      'purchaser-phone': W.phone.invalid,
      'billing-line1': W.line1.missing,
      'billing-city': W.city.missing,
      'billing-state': W.state.invalid,
      'billing-zip': W.postalCode.invalid,
      'shipping-line1': W.line1.missing,
      'shipping-city': W.city.missing,
      'shipping-state': W.state.missing,
      'shipping-zip': W.postalCode.missing,
      'recipient-last': W.recipientLast.missing,
      'card-number': W.cardNumber.invalid,
      'card-exp': W.cardExpiry.expired,
      'card-cvv': W.cardCvv.invalid,
      'card-name': W.nameOnCard.missing,
      terms: W.terms.missing,
      age: W.ageConfirmed.missing,
    });
    const schemaMessages = new Set(checked.issues.map((issue) => issue.message));
    for (const message of Object.values(placed.errors)) expect(schemaMessages.has(message), message).to.equal(false);
  });

  it('summarises what no field shows: business messages as written, anything from a schema as one plain sentence', () => {
    const placed = placeIssues(
      [
        { path: 'lines.0.sku', code: 'product.unavailable', message: 'PS-2026 is not available.' },
        { path: 'admissionToken', code: 'too_big', message: 'Too big: expected string to have <=512 characters' },
        { path: 'surprise', code: 'unrecognized_key', message: 'Unknown field "surprise".' },
      ],
      CHECKOUT_FIELDS,
      () => '',
    );
    expect(placed.errors).to.deep.equal({});
    expect(placed.unplaced).to.deep.equal(['PS-2026 is not available.', UNREADABLE]);
  });

  it('with "ship to my billing address" the shipment address problems mark the billing fields', () => {
    const values = { ...EMPTY_CHECKOUT, billing: { ...EMPTY_CHECKOUT.billing, line1: '1 Main St', city: 'Springfield', state: 'IL', postalCode: '62701' } };
    const placed = placeIssues([{ path: 'shipments.0.address.postalCode', code: 'custom', message: 'x' }], CHECKOUT_FIELDS, (id) => valueOf(values, id), pathMapper(values));
    expect(placed.errors).to.deep.equal({ 'billing-zip': W.postalCode.invalid });
  });

  it('offers the postal fix before calling a fixable state or ZIP wrong, and checks what was kept afterwards', () => {
    const values = { ...EMPTY_CHECKOUT, firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '(202) 555-0100', cardNumber: '4242 4242 4242 4242', cardExpiry: '12/29', cardCvv: '123', nameOnCard: 'Ada Lovelace', terms: true, ageConfirmed: true };
    const typed = { ...values, billing: { ...values.billing, line1: '1 Main St', city: 'Springfield', state: 'Illinois', postalCode: '627011234' } };
    const draft = buildOrder(typed, 'cart-123456');
    expect(orderIssues(draft, NOW, { beforeSuggestions: true })).to.deep.equal([]);
    expect(orderIssues(draft, NOW, { beforeSuggestions: false }).map((issue) => issue.path)).to.include.members(['billingAddress.state', 'billingAddress.postalCode']);
  });
});
