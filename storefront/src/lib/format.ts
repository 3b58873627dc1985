import type { OrderView } from '../../../api/orders/schema.ts';

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
export const dollars = (cents: number) => money.format(cents / 100);

const dateTime = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });
export const formatDateTime = (iso: string) => dateTime.format(new Date(iso));
const dateOnly = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium' });
export const formatDate = (iso: string) => dateOnly.format(new Date(iso));

const BRAND_NAMES: Record<string, string> = {
  visa: 'VISA',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  jcb: 'JCB',
  diners: 'Diners Club',
  unionpay: 'UnionPay',
};
export const cardName = (card: { brand: string; last4: string }) => `${BRAND_NAMES[card.brand.toLowerCase()] ?? card.brand.toUpperCase()} ending in ${card.last4}`;

/**
 * What the order's card has been through, said as it is: "paid" only once the money was captured.
 * Until then the card was only checked (and, after review, authorised), so nothing was taken.
 */
export function paymentLine(order: Pick<OrderView, 'payment' | 'status'>): string {
  const card = cardName(order.payment);
  switch (order.payment.charge) {
    case 'charged':
      return `Paid with ${card}.`;
    case 'refunded':
      return `Card ${card}, refunded.`;
    default:
      return order.status === 'cancelled' || order.status === 'declined' ? `Card ${card}, not charged.` : `Card ${card}, not charged yet.`;
  }
}

export function formatWait(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return 'unknown';
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? 'about 1 minute' : `about ${minutes} minutes`;
}

let idCounter = 0;
/** A page-unique element id, for labels and aria references. */
export const nextId = (stem: string) => `${stem}-${(idCounter += 1)}`;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const monthName = (month: number) => MONTHS[month - 1] ?? '';

/** A stored phone number as people write it: US numbers as (202) 555-0100, others as stored. */
export function phoneForDisplay(e164: string): string {
  const us = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return us ? `(${us[1]}) ${us[2]}-${us[3]}` : e164;
}
