import { useEffect, useRef, useState } from 'preact/hooks';
import type { ReviewDetail } from '../../../../api/fraud/schema.ts';
import { ReviewDecisionRequest } from '../../../../api/fraud/schema.ts';
import type { FraudReviewDetail } from '../../../../api/console-contract/fraud.ts';
import { dateTime, money } from '../../lib/format.ts';
import { announce } from '../announce.ts';
import { OfferCard } from '../desk/OfferCard.tsx';
import { WrapUpForm } from '../desk/WrapUpForm.tsx';
import type { FraudDesk } from './fraud-desk.ts';

type Detail = { source: 'task'; detail: FraudReviewDetail } | { source: 'api'; detail: ReviewDetail };

function windowLabel(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${Math.round(seconds / 60)} min`;
}

function ScoreBadge({ score, threshold }: { score: number | null; threshold?: number | null }) {
  if (score === null) return <span class="score score--none">unscored</span>;
  const level = threshold != null && score >= threshold ? 'high' : score >= 50 ? 'high' : score >= 25 ? 'medium' : 'low';
  return (
    <span class={`score score--${level}`} aria-label={`Risk score ${score}${threshold != null ? ` of review threshold ${threshold}` : ''}`}>
      {score}
    </span>
  );
}

function Address({ a }: { a: ReviewDetail['billingAddress'] }) {
  return (
    <address>
      {a.line1}
      {a.line2 ? <>, {a.line2}</> : null}
      <br />
      {a.city}, {a.state} {a.postalCode} {a.country}
    </address>
  );
}

function DecisionForm({ orderNumber, onDecide }: { orderNumber: string; onDecide: (decision: 'approve' | 'decline', note: string) => Promise<void> }) {
  const [decision, setDecision] = useState<'approve' | 'decline' | ''>('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    if (!decision) return setError('Choose approve or decline.');
    const parsed = ReviewDecisionRequest.safeParse({ decision, note });
    if (!parsed.success) return setError(parsed.error.issues[0]?.message ?? 'Check the reason.');
    setBusy(true);
    setError(null);
    try {
      await onDecide(decision, parsed.data.note);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="decision" onSubmit={submit} aria-labelledby="decision-title">
      <h3 id="decision-title">Decision on {orderNumber}</h3>
      <fieldset class="radio-group radio-group--inline">
        <legend class="sr-only">Decision</legend>
        <label class={`choice choice--approve ${decision === 'approve' ? 'is-on' : ''}`}>
          <input type="radio" name="decision" value="approve" checked={decision === 'approve'} onChange={() => setDecision('approve')} /> Approve: send on to payment
        </label>
        <label class={`choice choice--decline ${decision === 'decline' ? 'is-on' : ''}`}>
          <input type="radio" name="decision" value="decline" checked={decision === 'decline'} onChange={() => setDecision('decline')} /> Decline: cancel the order
        </label>
      </fieldset>
      <label for="decision-note">Reason</label>
      <textarea id="decision-note" rows={3} maxLength={1000} value={note} onInput={(e) => setNote(e.currentTarget.value)} aria-describedby="decision-note-hint" />
      <p id="decision-note-hint" class="hint">
        Kept on the order for the next analyst and for disputes. Never paste card data.
      </p>
      {error ? (
        <p class="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" class="button button--primary" disabled={busy}>
        Record decision
      </button>
    </form>
  );
}

function ReviewPanel({ fraud, orderNumber }: { fraud: FraudDesk; orderNumber: string }) {
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [wrapFocus, setWrapFocus] = useState(0);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const task = fraud.tasksByOrder.value.get(orderNumber);
  const taskState = task?.state;
  useEffect(() => {
    setDetail(null);
    setError(null);
    fraud.detail(orderNumber).then(setDetail, (e: Error) => setError(e.message));
  }, [orderNumber, taskState]);
  useEffect(() => headingRef.current?.focus(), [orderNumber]);

  if (error) return <p class="notice notice--error pad" role="alert">{error}</p>;
  if (!detail) return <p class="hint pad">Loading the review…</p>;
  const d = detail.detail;
  const decided = d.review.decision;
  return (
    <article class="review" aria-labelledby="review-title">
      <header class="review__head">
        <div>
          <h2 id="review-title" ref={headingRef} tabIndex={-1}>
            Order {d.orderNumber}
          </h2>
          <p class="hint">
            Placed {dateTime(d.placedAt)} · {d.channel} · {money(d.totalCents)} · rule set v{d.ruleSetVersion ?? '—'}
          </p>
        </div>
        <div class="review__score">
          <span class="hint">Score</span>
          <ScoreBadge score={d.score} threshold={detail.source === 'task' ? detail.detail.reviewThreshold : null} />
          {detail.source === 'task' && detail.detail.reviewThreshold !== null ? <span class="hint">review at {detail.detail.reviewThreshold}</span> : null}
        </div>
      </header>

      <section aria-labelledby="rules-title">
        <h3 id="rules-title">Rules that fired</h3>
        {d.fired.length ? (
          <ul class="rules">
            {d.fired.map((rule) => (
              <li key={rule.ruleId} class="rule">
                <span class="rule__weight" aria-label={`weight ${rule.weight}`}>
                  +{rule.weight}
                </span>
                <span class="rule__text">
                  <strong>{rule.explanation}</strong>
                  <span class="hint">
                    {rule.ruleId} · {rule.kind.replace(/_/g, ' ')}
                  </span>
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="hint">No rule fired.</p>
        )}
      </section>

      <div class="review__grid">
        <section aria-labelledby="purchaser-title">
          <h3 id="purchaser-title">Customer</h3>
          <dl class="facts">
            <dt>Name</dt>
            <dd>
              {d.purchaser.firstName} {d.purchaser.lastName}
            </dd>
            <dt>Email</dt>
            <dd>{d.purchaser.email}</dd>
            <dt>Phone</dt>
            <dd>{d.purchaser.phone}</dd>
            {detail.source === 'task' ? (
              <>
                <dt>Account</dt>
                <dd>{detail.detail.customer ? `since ${detail.detail.customer.accountCreatedAt ? dateTime(detail.detail.customer.accountCreatedAt) : 'unknown'}` : 'Guest checkout'}</dd>
              </>
            ) : null}
            <dt>Card</dt>
            <dd>
              {d.payment.brand} ending {d.payment.last4}
            </dd>
            <dt>AVS</dt>
            <dd>{d.payment.avs ?? '—'}</dd>
            <dt>CVV check</dt>
            <dd>{d.payment.cvvCheck ?? '—'}</dd>
          </dl>
        </section>
        <section aria-labelledby="addresses-title">
          <h3 id="addresses-title">Addresses</h3>
          <h4 class="facts__label">Billing</h4>
          <Address a={d.billingAddress} />
          {d.shipments.map((s, i) => (
            <div key={i}>
              <h4 class="facts__label">
                Ship to {s.recipientName}
                {s.gift ? ' (gift)' : ''}
              </h4>
              <Address a={s.address} />
            </div>
          ))}
        </section>
        <section aria-labelledby="velocity-title">
          <h3 id="velocity-title">Velocity</h3>
          {detail.source === 'task' ? (
            <table class="table table--compact">
              <caption class="sr-only">Orders seen per dimension and window, this order included</caption>
              <thead>
                <tr>
                  <th scope="col">Same</th>
                  <th scope="col">Window</th>
                  <th scope="col" class="num">
                    Orders
                  </th>
                </tr>
              </thead>
              <tbody>
                {detail.detail.velocity.map((v) => (
                  <tr key={`${v.dimension}-${v.windowSeconds}`}>
                    <td>{v.dimension}</td>
                    <td>{windowLabel(v.windowSeconds)}</td>
                    <td class="num">{v.count}</td>
                  </tr>
                ))}
                {detail.detail.distinctCards.map((c) => (
                  <tr key={`cards-${c.windowDays}`}>
                    <td>cards on account</td>
                    <td>{c.windowDays} d</td>
                    <td class="num">{c.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="hint">Accept the review task to see the velocity counts.</p>
          )}
        </section>
      </div>

      <section aria-labelledby="lines-title">
        <h3 id="lines-title">Items</h3>
        <table class="table table--compact">
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Item</th>
              <th scope="col" class="num">
                Qty
              </th>
              <th scope="col" class="num">
                Price
              </th>
            </tr>
          </thead>
          <tbody>
            {d.lines.map((line) => (
              <tr key={line.sku}>
                <td>{line.sku}</td>
                <td>{line.name}</td>
                <td class="num">{line.quantity}</td>
                <td class="num">{money(line.unitPriceCents)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {task?.state === 'wrapping_up' ? (
        <WrapUpForm task={task} focusNonce={wrapFocus} codes={['fraud_approved', 'fraud_declined', 'follow_up', 'other']} onSubmit={(wrapUp) => fraud.desk.wrapUp(task.id, wrapUp)} />
      ) : decided ? (
        <p class="notice notice--info" role="status">
          {decided === 'approved' ? 'Approved' : 'Declined'} by {d.review.reviewedBy} {d.review.reviewedAt ? dateTime(d.review.reviewedAt) : ''}: {d.review.note}
        </p>
      ) : (
        <DecisionForm
          orderNumber={d.orderNumber}
          onDecide={async (decision, note) => {
            const review = await fraud.decide(d.orderNumber, decision, note);
            announce(`Order ${d.orderNumber} ${review.decision ?? decision}.`, 'assertive');
            setDetail(await fraud.detail(d.orderNumber).catch(() => null));
            setWrapFocus((n) => n + 1);
          }}
        />
      )}
    </article>
  );
}

/** The fraud analyst's screen: offers, the queue of held orders, and the selected review. */
export function FraudScreen({ desk: fraud }: { desk: FraudDesk }) {
  const [selected, setSelected] = useState<string | null>(null);
  useEffect(() => void fraud.loadQueue(), []);
  const items = fraud.queue.value?.items ?? [];
  const mine = fraud.tasksByOrder.value;

  return (
    <div class="fraud">
      <aside class="fraud__side" aria-label="Review queue">
        {fraud.desk.offers.value.length ? (
          <section class="panel" aria-labelledby="fraud-offers-title">
            <h2 id="fraud-offers-title" class="panel__title">
              Offered to you
            </h2>
            {fraud.desk.offers.value.map((task, index) => (
              <OfferCard key={task.id} task={task} desk={fraud.desk} first={index === 0} onAccepted={(t) => t.summary.channel === 'fraud_review' && setSelected(t.summary.orderNumber)} />
            ))}
          </section>
        ) : null}
        <section class="panel panel--fill" aria-labelledby="queue-title">
          <div class="panel__head">
            <h2 id="queue-title" class="panel__title">
              Review queue <span class="count">{fraud.queue.value?.total ?? 0}</span>
            </h2>
            <button type="button" class="button button--small" onClick={() => void fraud.loadQueue()}>
              Refresh
            </button>
          </div>
          {fraud.queueError.value ? (
            <p class="notice notice--error" role="alert">
              {fraud.queueError.value}
            </p>
          ) : null}
          {items.length === 0 ? <p class="hint">No order is held for review.</p> : null}
          <ul class="queue-list">
            {items.map((item) => {
              const task = mine.get(item.orderNumber);
              return (
                <li key={item.orderNumber}>
                  <button type="button" class={`queue-item ${selected === item.orderNumber ? 'queue-item--selected' : ''}`} aria-current={selected === item.orderNumber ? 'true' : undefined} onClick={() => setSelected(item.orderNumber)}>
                    <span class="queue-item__top">
                      <strong>{item.orderNumber}</strong>
                      <ScoreBadge score={item.score} />
                    </span>
                    <span class="queue-item__line">
                      {item.purchaserName} · {money(item.totalCents)}
                    </span>
                    <span class="queue-item__line hint">
                      {dateTime(item.placedAt)} · {item.fired.length} rule{item.fired.length === 1 ? '' : 's'}
                      {task ? <span class="tag">{task.state === 'offered' ? 'offered to you' : 'yours'}</span> : null}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      </aside>
      <main id="main" class="fraud__main" tabIndex={-1} aria-label="Review">
        {selected ? (
          <ReviewPanel key={selected} fraud={fraud} orderNumber={selected} />
        ) : (
          <div class="empty">
            <h2>Choose a review</h2>
            <p>Select an order in the queue to see its score, the rules that fired and the facts behind them.</p>
          </div>
        )}
      </main>
    </div>
  );
}
