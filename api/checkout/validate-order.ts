import { fieldIssuesFromZod, isAppError, type FieldIssue } from '../../platform/errors.ts';
import { PlaceOrderRequest } from '../orders/schema.ts';
import { validateCard, type CardInput, type ValidatedCard } from '../vault/cards.ts';

/**
 * Everything wrong with an order placement request, in one list: the checkout schema's problems
 * and the card's (number, expiry, security code) together, one per field. The API answers with
 * this list and the storefront runs the same function before sending, so a shopper sees every
 * problem on the first submit instead of the schema's first and the card's after fixing those.
 * Pure and browser-safe (no Node imports).
 */
export type CheckedOrder = { ok: true; order: PlaceOrderRequest; card: ValidatedCard | null } | { ok: false; issues: FieldIssue[] };

export function checkPlaceOrder(raw: unknown, now: Date): CheckedOrder {
  const parsed = PlaceOrderRequest.safeParse(raw);
  const issues = parsed.success ? [] : fieldIssuesFromZod(parsed.error, raw);
  let card: ValidatedCard | null = null;
  const payment = (raw as { payment?: { type?: unknown; card?: unknown } } | null)?.payment;
  if (payment?.type === 'card' && payment.card && typeof payment.card === 'object') {
    try {
      card = validateCard(payment.card as CardInput, now, 'payment.card');
    } catch (error) {
      if (!isAppError(error) || !error.fields) throw error;
      issues.push(...error.fields);
    }
  }
  if (issues.length > 0 || !parsed.success) return { ok: false, issues: onePerField(issues) };
  return { ok: true, order: parsed.data, card };
}

/** The first issue of each field: the schema's comes before the card rules' for the same field. */
function onePerField(issues: FieldIssue[]): FieldIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => !seen.has(issue.path) && seen.add(issue.path));
}
