import { useEffect, useState } from 'preact/hooks';
import type { CardSummary } from '../../../../api/vault/service.ts';
import { api } from '../../lib/api.ts';
import { announce } from '../../lib/announce.ts';
import { cardName } from '../../lib/format.ts';

/** Cards kept for later orders: brand, last four and expiry are all the store ever shows of them. */
export function CardsSection() {
  const [cards, setCards] = useState<CardSummary[] | null>(null);
  const [problem, setProblem] = useState('');

  async function load() {
    const result = await api<{ items: CardSummary[] }>('GET', '/api/customers/me/cards');
    if (result.ok) setCards(result.data.items);
    else setProblem(result.error.message);
  }

  useEffect(() => {
    void load();
  }, []);

  async function remove(card: CardSummary) {
    setProblem('');
    const result = await api('DELETE', `/api/customers/me/cards/${encodeURIComponent(card.cardToken)}`);
    if (!result.ok) return setProblem(result.error.message);
    announce(`${cardName(card)} removed.`);
    await load();
  }

  if (!cards) return problem ? <p class="alert alert--error">{problem}</p> : <p class="muted">Loading your cards…</p>;
  return (
    <>
      {problem ? <p class="alert alert--error">{problem}</p> : null}
      {cards.length === 0 ? (
        <p>You have no saved cards. Tick “Save this card to my account” when you pay, and the card is offered at your next checkout.</p>
      ) : (
        <ul class="saved-list">
          {cards.map((card) => (
            <li key={card.cardToken} class="saved-list__item" data-card={card.last4}>
              <div>
                <h3>{cardName(card)}</h3>
                <p class="muted">
                  {card.nameOnCard} · expires {String(card.expMonth).padStart(2, '0')}/{card.expYear}
                </p>
              </div>
              <div class="saved-list__actions">
                <button type="button" class="button button--small button--link" onClick={() => void remove(card)}>
                  Remove<span class="visually-hidden"> {cardName(card)}</span>
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <p class="hint">Removing a card deletes its number from our vault. Orders already paid with it are not affected.</p>
    </>
  );
}
