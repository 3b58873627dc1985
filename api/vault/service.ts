import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { AppError, NotFoundError } from '../../platform/errors.ts';
import type { ValidatedCard } from './cards.ts';
import { decryptPan, encryptPan, fingerprintPan, parseKeyring, rewrapSealedPan, type SealedPan } from './crypto.ts';
import { vaultCardModel, type VaultCardDoc } from './model.ts';

/** What anyone but the vault sees of a card. */
export interface CardSummary {
  cardToken: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  nameOnCard: string;
  saved: boolean;
}

/** What a key rotation did: counted from the writes that happened, not from the cards it looked at. */
export interface RewrapReport {
  activeKeyId: string;
  rewrapped: number;
  /** Cards still sealed under another master key after this run (a limited run, or failures). */
  remaining: number;
  /** Cards that could not be re-wrapped, grouped by the master key they are under and why. */
  failed: { masterKeyId: string; code: string; cards: number }[];
}

/** Card data opened for one authorisation call; the caller must not keep it. */
export interface OpenedCard {
  pan: string;
  expMonth: number;
  expYear: number;
}

const summary = (doc: Pick<VaultCardDoc, '_id' | 'brand' | 'last4' | 'expMonth' | 'expYear' | 'nameOnCard' | 'saved'>): CardSummary => ({
  cardToken: doc._id,
  brand: doc.brand,
  last4: doc.last4,
  expMonth: doc.expMonth,
  expYear: doc.expYear,
  nameOnCard: doc.nameOnCard,
  saved: doc.saved,
});

/**
 * The card vault. Only this module can decrypt a card number, and only hands it to a payment call
 * (`withCardForAuthorisation`). The CVV never enters the vault at all.
 */
export function createVaultService({ mongo, clock, masterKeys, activeKeyId, fingerprintSecret }: { mongo: Connection; clock: Clock; masterKeys: string; activeKeyId: string; fingerprintSecret: string }) {
  const Cards = vaultCardModel(mongo);
  const keyring = parseKeyring(masterKeys, activeKeyId);

  return {
    async tokenise(card: ValidatedCard, options: { nameOnCard: string; customerId: string | null; save: boolean }): Promise<CardSummary & { fingerprint: string }> {
      const token = `card_${randomBytes(18).toString('base64url')}`;
      const doc: VaultCardDoc = {
        _id: token,
        sealed: encryptPan(card.number, keyring, token),
        brand: card.brand,
        last4: card.last4,
        expMonth: card.expMonth,
        expYear: card.expYear,
        nameOnCard: options.nameOnCard,
        fingerprint: fingerprintPan(card.number, fingerprintSecret),
        customerId: options.customerId,
        saved: options.save && options.customerId !== null,
        createdAt: clock(),
        forgottenAt: null,
      };
      await Cards.create(doc);
      return { ...summary(doc), fingerprint: doc.fingerprint };
    },

    /** A customer's saved card, or not found (another customer's token is indistinguishable from none). */
    async savedCard(customerId: string, cardToken: string): Promise<CardSummary & { fingerprint: string }> {
      const doc = await Cards.findOne({ _id: cardToken, customerId, saved: true, forgottenAt: null }).lean();
      if (!doc) throw new NotFoundError('card', 'card.not_found', 'No such saved card.');
      return { ...summary(doc), fingerprint: doc.fingerprint };
    },

    async card(cardToken: string): Promise<(CardSummary & { fingerprint: string; customerId: string | null }) | undefined> {
      const doc = await Cards.findById(cardToken).lean();
      return doc ? { ...summary(doc), fingerprint: doc.fingerprint, customerId: doc.customerId } : undefined;
    },

    async listSaved(customerId: string): Promise<CardSummary[]> {
      const docs = await Cards.find({ customerId, saved: true, forgottenAt: null }).sort({ createdAt: -1 }).lean();
      return docs.map(summary);
    },

    /** Deleting a saved card wipes the sealed number; orders keep brand and last four. */
    async deleteSaved(customerId: string, cardToken: string): Promise<void> {
      const result = await Cards.updateOne({ _id: cardToken, customerId, saved: true, forgottenAt: null }, { $set: { sealed: null, saved: false, forgottenAt: clock() } });
      if (result.matchedCount === 0) throw new NotFoundError('card', 'card.not_found', 'No such saved card.');
    },

    /**
     * Every saved card of a customer forgotten at once (the account is closing): the sealed numbers
     * are wiped, orders keep brand and last four. Returns how many were forgotten.
     */
    async forgetSaved(customerId: string): Promise<number> {
      const result = await Cards.updateMany({ customerId, saved: true, forgottenAt: null }, { $set: { sealed: null, saved: false, forgottenAt: clock() } });
      return result.modifiedCount;
    },

    /** Single-use cards are forgotten once their order is settled. */
    async forget(cardToken: string): Promise<void> {
      await Cards.updateOne({ _id: cardToken, saved: false, forgottenAt: null }, { $set: { sealed: null, forgottenAt: clock() } });
    },

    /**
     * Opens the card for exactly one call to a payment gateway. The number exists only inside `use`;
     * nothing here logs or returns it.
     */
    async withCardForAuthorisation<T>(cardToken: string, use: (card: OpenedCard) => Promise<T>): Promise<T> {
      const doc = await Cards.findById(cardToken).lean();
      if (!doc || !doc.sealed) throw new NotFoundError('card', 'card.not_found', 'The card is no longer on file.');
      const pan = decryptPan(doc.sealed as never, keyring, doc._id);
      return use({ pan, expMonth: doc.expMonth, expYear: doc.expYear });
    },

    /**
     * Key rotation: re-wraps every data key still under another master key, at most `limit` of them.
     * Each write is conditional on the blob that was read, so two runs at once, or a run that was
     * interrupted and started again, never wrap a key twice or write over a card forgotten meanwhile.
     */
    async rewrapAll(options: { limit?: number } = {}): Promise<RewrapReport> {
      const activeKeyId = keyring.activeKeyId;
      const staleFilter = { sealed: { $ne: null }, 'sealed.masterKeyId': { $ne: activeKeyId } };
      let rewrapped = 0;
      const failed: Record<string, { masterKeyId: string; code: string; cards: number }> = {};
      // Plain objects (lean), not hydrated documents: spreading a mongoose subdocument copies its
      // internals ($__parent, _doc) instead of its fields, which once wrote the old blob back.
      const stale = Cards.find(staleFilter, { _id: 1, sealed: 1 }).lean().cursor();
      for await (const doc of stale) {
        if (options.limit !== undefined && rewrapped >= options.limit) break;
        const sealed = doc.sealed as SealedPan | null;
        if (!sealed) continue;
        let next: SealedPan;
        try {
          next = rewrapSealedPan(sealed, keyring, doc._id);
        } catch (error) {
          const code = error instanceof AppError ? error.code : 'vault.rewrap_failed';
          const key = `${sealed.masterKeyId}:${code}`;
          failed[key] ??= { masterKeyId: sealed.masterKeyId, code, cards: 0 };
          failed[key].cards += 1;
          continue;
        }
        const result = await Cards.updateOne(
          { _id: doc._id, 'sealed.masterKeyId': sealed.masterKeyId, 'sealed.wrappedKey': sealed.wrappedKey },
          { $set: { sealed: next } },
        );
        rewrapped += result.modifiedCount;
      }
      const remaining = await Cards.countDocuments(staleFilter);
      return { activeKeyId, rewrapped, remaining, failed: Object.values(failed) };
    },
  };
}

export type VaultService = ReturnType<typeof createVaultService>;
