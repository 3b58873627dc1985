import type { Logger } from '../../platform/logger.ts';
import { PaymentError } from '../../platform/errors.ts';
import type { PostalAddress } from '../addresses/schema.ts';
import type { ValidatedCard } from '../vault/cards.ts';
import type { VaultService } from '../vault/service.ts';
import { paymentErrorForDecline, type AuthResult, type AvsResult, type CvvResult, type PaymentGateway } from './gateway.ts';

export interface CardCheck {
  avs: AvsResult;
  cvv: CvvResult;
}

const billingFor = (address: PostalAddress) => ({ line1: address.line1, zip: address.postalCode.slice(0, 5) });

/**
 * Payments as the order flow sees them. The card number reaches the gateway only through the vault
 * (`withCardForAuthorisation`) or straight from the checkout request; the CVV only through `verify`.
 */
export function createPaymentService({ gateway, vault, logger }: { gateway: PaymentGateway; vault: VaultService; logger: Logger }) {
  function declined(reason: Parameters<typeof paymentErrorForDecline>[0]['reason'], last4: string): PaymentError {
    return paymentErrorForDecline({ status: 'declined', reason, last4, declinedAt: new Date() });
  }

  return {
    gateway,

    /** Checkout with a new card: number, expiry, CVV and address checked while the shopper is here. */
    async verifyNewCard(card: ValidatedCard, billing: PostalAddress, attemptKey: string): Promise<CardCheck> {
      const result = await gateway.verify({ pan: card.number, expMonth: card.expMonth, expYear: card.expYear, cvv: card.cvv, currency: 'USD', billing: billingFor(billing), idempotencyKey: attemptKey });
      if (result.status === 'declined') throw declined(result.reason, result.last4);
      return { avs: result.avs, cvv: result.cvv };
    },

    /** A saved card re-checked with the CVV the shopper just typed. */
    async verifySavedCard(cardToken: string, cvv: string, billing: PostalAddress, attemptKey: string): Promise<CardCheck> {
      const result = await vault.withCardForAuthorisation(cardToken, (card) =>
        gateway.verify({ pan: card.pan, expMonth: card.expMonth, expYear: card.expYear, cvv, currency: 'USD', billing: billingFor(billing), idempotencyKey: attemptKey }),
      );
      if (result.status === 'declined') throw declined(result.reason, result.last4);
      return { avs: result.avs, cvv: result.cvv };
    },

    /** After fraud screening: authorise the order total on the card on file (no CVV exists any more). */
    async authoriseOrder(order: { _id: string; payment: { cardToken: string }; totals: { totalCents: number }; billingAddress: PostalAddress }): Promise<AuthResult> {
      const result = await vault.withCardForAuthorisation(order.payment.cardToken, (card) =>
        gateway.authorise({
          pan: card.pan,
          expMonth: card.expMonth,
          expYear: card.expYear,
          amountCents: order.totals.totalCents,
          currency: 'USD',
          billing: billingFor(order.billingAddress),
          // One key per order: a retried job gets the first answer instead of a second hold.
          idempotencyKey: `order-auth:${order._id}`,
        }),
      );
      logger.info({ orderId: order._id, status: result.status }, 'authorisation result');
      return result;
    },

    capture: (authId: string, amountCents: number) => gateway.capture(authId, amountCents),
    void: (authId: string) => gateway.void(authId),
    refund: (captureId: string, amountCents: number) => gateway.refund(captureId, amountCents),
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
