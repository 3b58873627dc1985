import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Clock } from '../../platform/clock.ts';
import { NotFoundError } from '../../platform/errors.ts';
import type { ValidatedCard } from './cards.ts';
import { decryptPan, encryptPan, fingerprintPan, needsRewrap, parseKeyring, rewrapSealedPan, type Keyring } from './crypto.ts';
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
  let keyring: Keyring = parseKeyring(masterKeys, activeKeyId);

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

    /** A closed account keeps no card: every saved one is wiped as `deleteSaved` wipes one. */
    async deleteAllSaved(customerId: string): Promise<number> {
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

    /** Key rotation: re-wrap every data key still under an old master key. Returns how many. */
    async rewrapAll(newKeys?: { masterKeys: string; activeKeyId: string }): Promise<number> {
      if (newKeys) keyring = parseKeyring(newKeys.masterKeys, newKeys.activeKeyId);
      let count = 0;
      const stale = Cards.find({ sealed: { $ne: null }, 'sealed.masterKeyId': { $ne: keyring.activeKeyId } }).cursor();
      for await (const doc of stale) {
        if (!doc.sealed || !needsRewrap(doc.sealed as never, keyring)) continue;
        const sealed = rewrapSealedPan(doc.sealed as never, keyring, doc._id);
        await Cards.updateOne({ _id: doc._id }, { $set: { sealed } });
        count += 1;
      }
      return count;
    },
  };
}

export type VaultService = ReturnType<typeof createVaultService>;
