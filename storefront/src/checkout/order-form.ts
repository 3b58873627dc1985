import { usStateCode } from '../../../api/addresses/schema.ts';
import { checkPlaceOrder } from '../../../api/checkout/validate-order.ts';
import type { PlaceOrderInput } from '../../../api/orders/schema.ts';
import type { FieldIssue } from '../../../platform/errors.ts';
import { addressBody, addressFields, EMPTY_ADDRESS, type AddressValues } from '../components/address-values.ts';
import { W, type FormField } from '../lib/wording.ts';

/**
 * The checkout form: what the shopper typed, the order request made from it, and the problems with
 * it. Validation is the API's own (`checkPlaceOrder`, the checkout schema plus the card rules), run
 * here before anything is sent so every field's problem shows on the first submit.
 */

export const NEW_CARD = 'new';

export interface CheckoutValues {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  billing: AddressValues;
  shipSame: boolean;
  shipping: AddressValues;
  gift: boolean;
  recipientFirst: string;
  recipientLast: string;
  giftMessage: string;
  /** `NEW_CARD`, or the token of a saved card. */
  cardChoice: string;
  cardNumber: string;
  cardExpiry: string;
  cardCvv: string;
  nameOnCard: string;
  saveCard: boolean;
  terms: boolean;
  ageConfirmed: boolean;
  marketing: boolean;
}

export const EMPTY_CHECKOUT: CheckoutValues = {
  firstName: '',
  lastName: '',
  email: '',
  phone: '',
  billing: EMPTY_ADDRESS,
  shipSame: true,
  shipping: EMPTY_ADDRESS,
  gift: false,
  recipientFirst: '',
  recipientLast: '',
  giftMessage: '',
  cardChoice: NEW_CARD,
  cardNumber: '',
  cardExpiry: '',
  cardCvv: '',
  nameOnCard: '',
  saveCard: false,
  terms: false,
  ageConfirmed: false,
  marketing: false,
};

/** Element id -> what the shopper entered there (for telling an empty field from a wrong one). */
export function valueOf(values: CheckoutValues, id: string): unknown {
  const byId: Record<string, unknown> = {
    'purchaser-first': values.firstName,
    'purchaser-last': values.lastName,
    'purchaser-email': values.email,
    'purchaser-phone': values.phone,
    'recipient-first': values.recipientFirst,
    'recipient-last': values.recipientLast,
    'gift-message': values.giftMessage,
    'card-number': values.cardNumber,
    'card-exp': values.cardExpiry,
    'card-cvv': values.cardCvv,
    'card-name': values.nameOnCard,
    'saved-card': values.cardChoice === NEW_CARD ? '' : values.cardChoice,
    terms: values.terms,
    age: values.ageConfirmed,
  };
  if (id in byId) return byId[id];
  const [prefix, part] = id.split('-') as [string, string];
  const address = prefix === 'billing' ? values.billing : prefix === 'shipping' ? values.shipping : undefined;
  return address?.[(part === 'zip' ? 'postalCode' : part) as keyof AddressValues];
}

export const CHECKOUT_FIELDS: FormField[] = [
  { id: 'purchaser-first', paths: ['purchaser.firstName'], wording: W.firstName },
  { id: 'purchaser-last', paths: ['purchaser.lastName'], wording: W.lastName },
  { id: 'purchaser-email', paths: ['purchaser.email'], wording: W.email },
  { id: 'purchaser-phone', paths: ['purchaser.phone'], wording: W.phone },
  ...addressFields('billing', 'billingAddress'),
  ...addressFields('shipping', 'shipments.0.address'),
  { id: 'recipient-first', paths: ['shipments.0.recipient.firstName'], wording: W.recipientFirst },
  { id: 'recipient-last', paths: ['shipments.0.recipient.lastName'], wording: W.recipientLast },
  { id: 'gift-message', paths: ['shipments.0.giftMessage'], wording: W.giftMessage },
  { id: 'card-number', paths: ['payment.card.number'], wording: W.cardNumber },
  { id: 'card-exp', paths: ['payment.card.expMonth', 'payment.card.expYear'], wording: W.cardExpiry },
  { id: 'card-cvv', paths: ['payment.card.cvv', 'payment.cvv'], wording: W.cardCvv },
  { id: 'card-name', paths: ['payment.card.nameOnCard'], wording: W.nameOnCard },
  { id: 'saved-card', paths: ['payment.cardToken'], wording: W.savedCard },
  { id: 'terms', paths: ['attestation.termsAccepted'], wording: W.terms },
  { id: 'age', paths: ['attestation.ageConfirmed'], wording: W.ageConfirmed },
];

/** With "ship to my billing address" the shipment's address problems belong to the billing fields. */
export const pathMapper = (values: CheckoutValues) => (path: string) => (values.shipSame ? path.replace(/^shipments\.0\.address\./, 'billingAddress.') : path);

/** "MM/YY", "MM/YYYY", "MMYY" or "MM YY" to numbers; null when it is none of those. */
export function parseExpiry(text: string): { expMonth: number; expYear: number } | null {
  const match = text.replace(/\s+/g, '').match(/^(\d{1,2})\/?(\d{2}|\d{4})$/);
  if (!match) return null;
  const month = Number(match[1]);
  const year = match[2]!.length === 2 ? 2000 + Number(match[2]) : Number(match[2]);
  return month >= 1 && month <= 12 ? { expMonth: month, expYear: year } : null;
}

export interface DraftOrder {
  body: PlaceOrderInput;
  /** Problems only the form can see (an expiry that is not MM/YY), reported before the schema's. */
  formIssues: FieldIssue[];
}

export function buildOrder(values: CheckoutValues, cartId: string | undefined): DraftOrder {
  const formIssues: FieldIssue[] = [];
  const billingAddress = addressBody(values.billing);
  const shipment: PlaceOrderInput['shipments'][number] = { address: values.shipSame ? billingAddress : addressBody(values.shipping), gift: values.gift };
  if (values.gift) {
    const recipient = { firstName: values.recipientFirst.trim(), lastName: values.recipientLast.trim() };
    // No recipient name means the purchaser receives it.
    if (recipient.firstName || recipient.lastName) shipment.recipient = recipient;
    if (values.giftMessage.trim()) shipment.giftMessage = values.giftMessage.trim();
  }
  let payment: PlaceOrderInput['payment'];
  if (values.cardChoice === NEW_CARD) {
    const expiry = parseExpiry(values.cardExpiry);
    if (!expiry) formIssues.push({ path: 'payment.card.expMonth', code: values.cardExpiry.trim() ? 'invalid_format' : 'required', message: 'expiry is not MM/YY' });
    payment = {
      type: 'card',
      card: { number: values.cardNumber.replace(/[\s-]/g, ''), expMonth: expiry?.expMonth ?? 0, expYear: expiry?.expYear ?? 0, cvv: values.cardCvv.trim(), nameOnCard: values.nameOnCard.trim() },
      saveCard: values.saveCard,
    };
  } else {
    // The web asks for the security code of a saved card too: it proves the card is at hand.
    if (!values.cardCvv.trim()) formIssues.push({ path: 'payment.cvv', code: 'required', message: 'security code missing' });
    payment = { type: 'saved_card', cardToken: values.cardChoice, cvv: values.cardCvv.trim() };
  }
  return {
    body: {
      ...(cartId ? { cartId } : {}),
      purchaser: { firstName: values.firstName.trim(), lastName: values.lastName.trim(), email: values.email.trim(), phone: values.phone.trim() },
      billingAddress,
      shipments: [shipment],
      payment,
      attestation: { termsAccepted: values.terms as true, ageConfirmed: values.ageConfirmed as true },
      marketingOptIn: values.marketing,
    },
    formIssues,
  };
}

/**
 * Every problem of the order at once. With `beforeSuggestions`, an address the postal suggestion
 * will put right ("Illinois" for IL, a ZIP+4 typed without its dash) is not a problem yet: the
 * shopper is offered the fix first, and only an address kept as typed must pass as it is.
 */
export function orderIssues(draft: DraftOrder, now: Date, options: { beforeSuggestions: boolean }): FieldIssue[] {
  let body = draft.body;
  if (options.beforeSuggestions) {
    body = { ...body, billingAddress: fixable(body.billingAddress), shipments: body.shipments.map((s) => ({ ...s, address: fixable(s.address) })) };
  }
  const checked = checkPlaceOrder(body, now);
  return [...draft.formIssues, ...(checked.ok ? [] : checked.issues)];
}

type Address = PlaceOrderInput['billingAddress'];
function fixable(address: Address): Address {
  if ((address.country ?? 'US') !== 'US') return address;
  const state = usStateCode(address.state) ?? address.state;
  const postalCode = /^\d{9}$/.test(address.postalCode.trim()) ? `${address.postalCode.trim().slice(0, 5)}-${address.postalCode.trim().slice(5)}` : address.postalCode;
  return { ...address, state, postalCode };
}
