import { useEffect, useRef, useState } from 'preact/hooks';
import type { AddressSuggestion } from '../../../api/addresses/schema.ts';
import type { CartView } from '../../../api/carts/schema.ts';
import type { OrderView } from '../../../api/orders/schema.ts';
import type { CardSummary } from '../../../api/vault/service.ts';
import { buildOrder, CHECKOUT_FIELDS, EMPTY_CHECKOUT, NEW_CARD, orderIssues, pathMapper, valueOf, type CheckoutValues } from '../checkout/order-form.ts';
import { waitInLine, type LinePanel } from '../checkout/waiting-room.ts';
import { AddressFields, AddressLines, addressBody, addressValuesOf, type AddressValues } from '../components/address.tsx';
import { CheckField, ErrorSummary, summaryHeading, TextField } from '../components/fields.tsx';
import { SignInForm } from '../components/sign-in-form.tsx';
import { api, newIdempotencyKey, pause, type ApiError, type ApiResult } from '../lib/api.ts';
import { cardName, dollars, formatDateTime, formatWait, phoneForDisplay } from '../lib/format.ts';
import { navigate } from '../lib/router.ts';
import { forgetCart, loadCart, signOut, update, useShop, type Session } from '../lib/store.ts';
import { placeIssues, type FieldErrors, type PlacedIssues } from '../lib/wording.ts';

const RETRYABLE_STATUSES = new Set([0, 502, 503, 504]);

interface Summary {
  message: string;
  unplaced: string[];
}

interface PendingSuggestion {
  prefix: 'billing' | 'shipping';
  title: string;
  typed: AddressValues;
  suggestion: AddressSuggestion;
  /** Set once the shopper chose. */
  choice?: 'suggested' | 'kept';
}

export function CheckoutPage({ active }: { active: boolean }) {
  const { cart, session } = useShop();
  const [values, setValues] = useState<CheckoutValues>(EMPTY_CHECKOUT);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [summary, setSummary] = useState<Summary | null>(null);
  const [focusKey, setFocusKey] = useState(0);
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState('');
  const [suggestions, setSuggestions] = useState<PendingSuggestion[]>([]);
  const [line, setLinePanel] = useState<LinePanel>(null);
  const [savedCards, setSavedCards] = useState<CardSummary[]>([]);
  const [loaded, setLoaded] = useState(false);
  /** One key per checkout attempt, reused on every retry of it, so a lost answer cannot become a second order. */
  const idempotencyKey = useRef<string | null>(null);
  /** Address fingerprints the shopper already decided on (suggestion taken or declined). */
  const decided = useRef(new Map<string, string>());
  const decisions = useRef(new Map<string, () => void>());
  const leaveLine = useRef<() => void>(() => undefined);
  const latest = useRef(values);
  latest.current = values;

  const set = (patch: Partial<CheckoutValues>) => setValues((current) => ({ ...current, ...patch }));

  useEffect(() => {
    if (!active) return;
    setLoaded(false);
    void loadCart().finally(() => setLoaded(true));
  }, [active]);

  // Signed in: the profile fills what is still empty, and the saved cards are offered.
  useEffect(() => {
    if (!active) return;
    if (!session) {
      setSavedCards([]);
      set({ cardChoice: NEW_CARD, saveCard: false });
      return;
    }
    prefill(session);
    void api<{ items: CardSummary[] }>('GET', '/api/customers/me/cards').then((result) => {
      if (!result.ok) return;
      setSavedCards(result.data.items);
      if (result.data.items.length && latest.current.cardChoice === NEW_CARD && !latest.current.cardNumber) set({ cardChoice: result.data.items[0]!.cardToken });
    });
  }, [active, session?.token]);

  function prefill({ customer }: Session) {
    setValues((current) => ({
      ...current,
      firstName: current.firstName || customer.firstName,
      lastName: current.lastName || customer.lastName,
      email: current.email || (customer.email ?? ''),
      phone: current.phone || (customer.phone ? phoneForDisplay(customer.phone) : ''),
      billing: current.billing.line1 || !customer.addresses[0] ? current.billing : addressValuesOf(customer.addresses[0].address),
    }));
  }

  function showErrors(placed: PlacedIssues, fallback: string) {
    setErrors(placed.errors);
    const fieldCount = Object.keys(placed.errors).length;
    setSummary({ message: summaryHeading(fieldCount, placed.unplaced.length, fallback), unplaced: fieldCount ? placed.unplaced : [] });
    setFocusKey((key) => key + 1);
  }

  const place = (issues: Parameters<typeof placeIssues>[0]) => placeIssues(issues, CHECKOUT_FIELDS, (id) => valueOf(latest.current, id), pathMapper(latest.current));

  // --- address suggestions ---

  /**
   * Offers the postal form of each address the shopper has not decided on yet. Declining is always
   * allowed: the order keeps exactly what the shopper chose.
   */
  async function confirmAddresses(): Promise<void> {
    const current = latest.current;
    const targets: { prefix: 'billing' | 'shipping'; title: string; typed: AddressValues }[] = [{ prefix: 'billing', title: 'Billing address', typed: current.billing }];
    if (!current.shipSame) targets.push({ prefix: 'shipping', title: 'Shipping address', typed: current.shipping });
    const pending: PendingSuggestion[] = [];
    for (const target of targets) {
      const fingerprint = JSON.stringify(addressBody(target.typed));
      if (decided.current.get(target.prefix) === fingerprint) continue;
      const result = await api<AddressSuggestion>('POST', '/api/addresses/standardize', { body: { address: addressBody(target.typed) } });
      // An address too incomplete to format is reported next to its fields by the validation.
      if (!result.ok) continue;
      if (result.data.status !== 'corrected') {
        decided.current.set(target.prefix, fingerprint);
        continue;
      }
      pending.push({ ...target, suggestion: result.data });
    }
    setSuggestions(pending);
    if (pending.length === 0) return;
    setProgress('Please review the suggested address before we place the order.');
    await Promise.all(pending.map((item) => new Promise<void>((resolve) => decisions.current.set(item.prefix, resolve))));
  }

  function decide(item: PendingSuggestion, useSuggestion: boolean) {
    let address = item.typed;
    if (useSuggestion) {
      address = addressValuesOf(item.suggestion.standardized);
      set(item.prefix === 'billing' ? { billing: address } : { shipping: address });
    }
    decided.current.set(item.prefix, JSON.stringify(addressBody(address)));
    setSuggestions((list) => list.map((entry) => (entry.prefix === item.prefix ? { ...entry, choice: useSuggestion ? 'suggested' : 'kept' } : entry)));
    // The form state above is applied before the placement reads it again.
    setTimeout(() => decisions.current.get(item.prefix)?.(), 0);
  }

  // --- placement ---

  async function submitOrder(body: ReturnType<typeof buildOrder>['body']): Promise<void> {
    idempotencyKey.current ??= newIdempotencyKey();
    // One token per launch room guarding the cart: a cart with two launches waits in both lines.
    const admissions = new Map<string, string>();
    let retries = 0;
    let lineVisits = 0;
    for (;;) {
      setProgress('Placing your order…');
      const tokens = [...admissions.values()];
      const payload = tokens.length ? { ...body, admissionToken: tokens.length === 1 ? tokens[0] : tokens } : body;
      const result = await api<OrderView>('POST', '/api/orders', { body: payload, headers: { 'Idempotency-Key': idempotencyKey.current } });
      if (result.ok) return orderPlaced(result.data);
      const error = result.error;
      const transient = RETRYABLE_STATUSES.has(result.status) || error.code === 'idempotency.in_progress';
      if (transient && retries < 3) {
        retries += 1;
        setProgress('The store is busy; trying again…');
        await pause(1000 * 2 ** retries);
        continue;
      }
      if (error.code.startsWith('waiting_room.admission') && lineVisits < 3 + admissions.size) {
        lineVisits += 1;
        const left = new Promise<void>((resolve) => (leaveLine.current = resolve));
        const admitted = await waitInLine(new Set(admissions.keys()), { show: setLinePanel, progress: setProgress, left });
        if (admitted === null) return placementFailed(result, { code: 'waiting_room.left', message: 'You left the line; your order was not placed.' });
        // No other line to join: a token we hold has expired, so the next visit rejoins them all.
        if (admitted) admissions.set(admitted.sku, admitted.token);
        else admissions.clear();
        continue;
      }
      return placementFailed(result, error);
    }
  }

  function placementFailed(result: ApiResult<unknown>, error: ApiError) {
    setProgress('');
    setLinePanel(null);
    if (error.fields?.length) return showErrors(place(error.fields), error.message);
    if (result.status === 402) {
      // Declined: the shopper needs another card, and the old security code must not linger.
      set({ cardCvv: '' });
      const field = latest.current.cardChoice === NEW_CARD ? 'card-number' : 'saved-card';
      return showErrors({ errors: { [field]: error.message }, unplaced: [] }, error.message);
    }
    if (error.code === 'idempotency.key_reused') {
      // An earlier submit of this checkout placed an order; a new key makes the next submit a new order, on purpose.
      idempotencyKey.current = null;
      return showErrors({ errors: {}, unplaced: [] }, 'An order from this checkout was already placed. Check your email for the confirmation, or look up the order status, before ordering again.');
    }
    if (error.code === 'cart.not_found') forgetCart();
    const reference = result.status >= 500 && error.requestId ? ` (reference ${error.requestId})` : '';
    return showErrors({ errors: {}, unplaced: [] }, `${error.message}${reference}`);
  }

  function orderPlaced(order: OrderView) {
    // A shared computer should not keep the shopper's details in the form after the sale.
    setValues(EMPTY_CHECKOUT);
    setSuggestions([]);
    setLinePanel(null);
    setProgress('');
    idempotencyKey.current = null;
    decided.current.clear();
    forgetCart();
    update({ lastOrder: order });
    navigate('/confirmation');
  }

  async function onSubmit(event: Event) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setErrors({});
    setSummary(null);
    try {
      const currentCart: CartView | null = cart;
      if (!currentCart || currentCart.lines.length === 0) return showErrors({ errors: {}, unplaced: [] }, 'Your cart is empty.');
      const first = orderIssues(buildOrder(latest.current, currentCart.cartId), new Date(), { beforeSuggestions: true });
      if (first.length) return showErrors(place(first), 'Please check the highlighted fields.');
      setProgress('Checking your address…');
      await confirmAddresses();
      // Built again: taking a suggestion rewrote the address fields.
      const draft = buildOrder(latest.current, currentCart.cartId);
      const issues = orderIssues(draft, new Date(), { beforeSuggestions: false });
      if (issues.length) {
        setProgress('');
        return showErrors(place(issues), 'Please check the highlighted fields.');
      }
      await submitOrder(draft.body);
    } catch (error) {
      setProgress('');
      showErrors({ errors: {}, unplaced: [] }, (error as ApiError)?.message ?? 'Something went wrong. Please try again.');
    } finally {
      setBusy(false);
    }
  }

  const empty = !cart || cart.lines.length === 0;
  const usingSavedCard = values.cardChoice !== NEW_CARD;

  return (
    <>
      <h1 id="checkout-title">Checkout</h1>
      <AccountPanel session={session} />
      <div class="checkout">
        <form id="checkout-form" class="checkout__form" noValidate onSubmit={onSubmit}>
          <ErrorSummary id="form-errors" message={summary?.message ?? null} unplaced={summary?.unplaced} focusKey={focusKey} errors={errors} />

          <fieldset>
            <legend>Contact</legend>
            <div class="row">
              <TextField id="purchaser-first" label="First name" autoComplete="given-name" value={values.firstName} onValue={(firstName) => set({ firstName })} error={errors['purchaser-first']} />
              <TextField id="purchaser-last" label="Last name" autoComplete="family-name" value={values.lastName} onValue={(lastName) => set({ lastName })} error={errors['purchaser-last']} />
            </div>
            <div class="row">
              <TextField id="purchaser-email" label="Email" type="email" autoComplete="email" value={values.email} onValue={(email) => set({ email })} error={errors['purchaser-email']} />
              <TextField id="purchaser-phone" label="Phone" type="tel" autoComplete="tel" value={values.phone} onValue={(phone) => set({ phone })} error={errors['purchaser-phone']} />
            </div>
          </fieldset>

          <fieldset data-address="billing">
            <legend>Billing address</legend>
            <SavedAddressPicker prefix="billing" session={session} onPick={(billing) => set({ billing })} />
            <AddressFields prefix="billing" section="billing" values={values.billing} onChange={(billing) => set({ billing })} errors={errors} />
          </fieldset>

          <fieldset>
            <legend>Shipping</legend>
            <CheckField id="ship-same" label="Ship to my billing address" checked={values.shipSame} onChecked={(shipSame) => set({ shipSame })} />
            <div id="shipping-address" data-address="shipping" hidden={values.shipSame}>
              {values.shipSame ? null : (
                <>
                  <SavedAddressPicker prefix="shipping" session={session} onPick={(shipping) => set({ shipping })} />
                  <AddressFields prefix="shipping" section="shipping" values={values.shipping} onChange={(shipping) => set({ shipping })} errors={errors} />
                </>
              )}
            </div>
            <CheckField id="gift" label="This is a gift" checked={values.gift} onChecked={(gift) => set({ gift })} />
            {values.gift ? (
              <div id="gift-details">
                <p class="hint">We use the recipient's name only to deliver this order.</p>
                <div class="row">
                  <TextField id="recipient-first" label="Recipient's first name" autoComplete="shipping given-name" value={values.recipientFirst} onValue={(recipientFirst) => set({ recipientFirst })} error={errors['recipient-first']} />
                  <TextField id="recipient-last" label="Recipient's last name" autoComplete="shipping family-name" value={values.recipientLast} onValue={(recipientLast) => set({ recipientLast })} error={errors['recipient-last']} />
                </div>
                <TextField
                  id="gift-message"
                  multiline
                  maxLength={200}
                  label={
                    <>
                      Gift message <span class="optional">(optional, 200 characters)</span>
                    </>
                  }
                  value={values.giftMessage}
                  onValue={(giftMessage) => set({ giftMessage })}
                  error={errors['gift-message']}
                />
              </div>
            ) : null}
          </fieldset>

          <div id="address-suggestions" class="suggestions" hidden={suggestions.length === 0} aria-live="polite">
            {suggestions.map((item, index) => (
              <SuggestionBox key={item.prefix} item={item} focus={index === 0 && !item.choice} onDecide={(use) => decide(item, use)} />
            ))}
          </div>

          <fieldset>
            <legend>Payment</legend>
            {savedCards.length ? (
              <div class="card-choice" role="radiogroup" aria-labelledby="card-choice-title" id="saved-card" aria-invalid={errors['saved-card'] ? 'true' : undefined} aria-describedby={errors['saved-card'] ? 'saved-card-error' : undefined} tabIndex={-1}>
                <p id="card-choice-title" class="card-choice__title">
                  Pay with
                </p>
                {savedCards.map((card) => (
                  <div class="check" key={card.cardToken}>
                    <input type="radio" id={`card-${card.cardToken}`} checked={values.cardChoice === card.cardToken} onChange={() => set({ cardChoice: card.cardToken })} />
                    <label for={`card-${card.cardToken}`}>
                      {cardName(card)} <span class="optional">(expires {String(card.expMonth).padStart(2, '0')}/{String(card.expYear).slice(-2)})</span>
                    </label>
                  </div>
                ))}
                <div class="check">
                  <input type="radio" id="card-new" checked={!usingSavedCard} onChange={() => set({ cardChoice: NEW_CARD })} />
                  <label for="card-new">A new card</label>
                </div>
                {errors['saved-card'] ? (
                  <p class="field-error" id="saved-card-error">
                    {errors['saved-card']}
                  </p>
                ) : null}
              </div>
            ) : null}
            {usingSavedCard ? null : (
              <TextField id="card-number" label="Card number" inputMode="numeric" autoComplete="cc-number" spellcheck={false} value={values.cardNumber} onValue={(cardNumber) => set({ cardNumber })} error={errors['card-number']} />
            )}
            <div class="row row--3">
              {usingSavedCard ? null : (
                <TextField id="card-exp" label="Expiry (MM/YY)" inputMode="numeric" autoComplete="cc-exp" placeholder="MM/YY" value={values.cardExpiry} onValue={(cardExpiry) => set({ cardExpiry })} error={errors['card-exp']} />
              )}
              <TextField id="card-cvv" label="Security code" inputMode="numeric" autoComplete="cc-csc" maxLength={4} value={values.cardCvv} onValue={(cardCvv) => set({ cardCvv })} error={errors['card-cvv']} />
              {usingSavedCard ? null : (
                <TextField id="card-name" label="Name on card" autoComplete="cc-name" value={values.nameOnCard} onValue={(nameOnCard) => set({ nameOnCard })} error={errors['card-name']} />
              )}
            </div>
            {session && !usingSavedCard ? <CheckField id="save-card" label="Save this card to my account for later orders" checked={values.saveCard} onChecked={(saveCard) => set({ saveCard })} /> : null}
            <p class="hint">Your card number goes straight to our payment vault; we keep only the brand and last four digits.</p>
          </fieldset>

          <fieldset>
            <legend>Terms</legend>
            <CheckField id="terms" label="I accept the terms of sale." checked={values.terms} onChecked={(terms) => set({ terms })} error={errors.terms} />
            <CheckField id="age" label="I am 18 years of age or older." checked={values.ageConfirmed} onChecked={(ageConfirmed) => set({ ageConfirmed })} error={errors.age} />
            <CheckField
              id="marketing"
              label={
                <>
                  Email me about new releases <span class="optional">(optional)</span>
                </>
              }
              checked={values.marketing}
              onChecked={(marketing) => set({ marketing })}
            />
          </fieldset>

          <WaitingRoomPanel panel={line} onLeave={() => leaveLine.current()} />

          <div class="actions">
            <button type="submit" id="place-order" class="button button--primary" disabled={busy || (loaded && empty)}>
              Place order
            </button>
            <p id="checkout-progress" class="muted" role="status">
              {progress}
            </p>
          </div>
        </form>

        <aside class="checkout__summary" aria-labelledby="summary-title">
          <h2 id="summary-title">Order summary</h2>
          <div id="checkout-summary">
            {empty ? (
              loaded ? (
                <p>
                  Your cart is empty. <a href="#/catalog">Browse the catalog</a>.
                </p>
              ) : null
            ) : (
              <div>
                <SummaryTable cart={cart} />
                <p class="muted">Shipping and any tax are added when the order is placed.</p>
              </div>
            )}
          </div>
        </aside>
      </div>
    </>
  );
}

/** Signed in: who, and a way out. A guest: sign in here without losing the cart or what is typed. */
function AccountPanel({ session }: { session: Session | null }) {
  if (session) {
    const { customer } = session;
    return (
      <p class="account-panel">
        Signed in as <strong>{`${customer.firstName} ${customer.lastName}`}</strong>
        {customer.email ? ` (${customer.email})` : ''}.{' '}
        <button type="button" class="button button--small button--secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </p>
    );
  }
  return (
    <details class="account-panel">
      <summary>Have an account? Sign in for your saved addresses and cards.</summary>
      <SignInForm idPrefix="checkout-signin" />
      <p class="hint">
        New here? <a href="#/register?next=/checkout">Create an account</a> and come back to this checkout.
      </p>
    </details>
  );
}

function SavedAddressPicker({ prefix, session, onPick }: { prefix: string; session: Session | null; onPick: (address: AddressValues) => void }) {
  const addresses = session?.customer.addresses ?? [];
  if (!addresses.length) return null;
  return (
    <div class="field field--narrow">
      <label for={`${prefix}-saved`}>Fill in a saved address</label>
      <select
        id={`${prefix}-saved`}
        value=""
        onChange={(event) => {
          const chosen = addresses.find((entry) => entry.id === event.currentTarget.value);
          if (chosen) onPick(addressValuesOf(chosen.address));
          event.currentTarget.value = '';
        }}
      >
        <option value="">Choose…</option>
        {addresses.map((entry) => (
          <option key={entry.id} value={entry.id}>
            {entry.label}: {entry.address.line1}, {entry.address.city}
          </option>
        ))}
      </select>
    </div>
  );
}

function SuggestionBox({ item, focus, onDecide }: { item: PendingSuggestion; focus: boolean; onDecide: (useSuggestion: boolean) => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focus) heading.current?.focus();
  }, [focus]);
  if (item.choice) {
    return <p class="suggestion__done">{`${item.title}: ${item.choice === 'suggested' ? 'using the suggested address.' : 'keeping the address as you entered it.'}`}</p>;
  }
  const titleId = `suggestion-${item.prefix}`;
  const changed = new Set(item.suggestion.changes.map((change) => change.field));
  return (
    <section class="suggestion" aria-labelledby={titleId} data-address={item.prefix}>
      <h3 id={titleId} tabIndex={-1} ref={heading}>
        {item.title}: we suggest the postal format
      </h3>
      <div class="suggestion__options">
        <div class="suggestion__option">
          <h4>Suggested</h4>
          <AddressLines address={item.suggestion.standardized} changed={changed} />
        </div>
        <div class="suggestion__option">
          <h4>You entered</h4>
          <AddressLines address={addressBody(item.typed)} />
        </div>
      </div>
      {item.suggestion.messages.map((note) => (
        <p class="hint" key={note.code}>
          {note.message}
        </p>
      ))}
      <div class="suggestion__actions">
        <button type="button" class="button button--primary" onClick={() => onDecide(true)}>
          Use suggested address
        </button>
        <button type="button" class="button button--secondary" onClick={() => onDecide(false)}>
          Keep mine
        </button>
      </div>
    </section>
  );
}

/** The line of a launch: the same elements for the whole wait, so polling changes only their text. */
function WaitingRoomPanel({ panel, onLeave }: { panel: LinePanel; onLeave: () => void }) {
  if (panel && 'turn' in panel) {
    return (
      <div id="waiting-room" class="waiting-room" role="status" aria-live="polite">
        <h3>It is your turn</h3>
        <p>Placing your order now…</p>
      </div>
    );
  }
  const status = panel?.status;
  const notOpen = status?.state === 'not_open';
  return (
    <div id="waiting-room" class="waiting-room" hidden={!panel} role="status" aria-live="polite">
      <h3>{panel ? `You are in line for ${panel.name}` : ''}</h3>
      <p class="waiting-room__position">
        {notOpen ? `The sale opens ${status?.opensAt ? formatDateTime(status.opensAt) : 'soon'}.` : `Your place in line: ${status?.position ?? '…'}`}
      </p>
      <p>{notOpen ? 'Everyone who joins before then gets a random place in line when it opens.' : `${status?.aheadOfYou ?? 0} ahead of you · estimated wait ${formatWait(status?.estimatedWaitSeconds)}`}</p>
      <p class="hint">Keep this page open: we place your order as soon as it is your turn.</p>
      <button type="button" class="button button--small button--secondary" onClick={onLeave}>
        Leave the line
      </button>
    </div>
  );
}

/** A narrow, read-only list of the cart beside the checkout form. */
function SummaryTable({ cart }: { cart: CartView }) {
  return (
    <table class="lines lines--compact">
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col" class="num">
            Total
          </th>
        </tr>
      </thead>
      <tbody>
        {cart.lines.map((line) => (
          <tr key={line.sku}>
            <th scope="row">
              <span class="line__name">{line.name}</span>
              <span class="line__sku">{`${line.quantity} × ${dollars(line.unitPriceCents)}`}</span>
            </th>
            <td class="num">{dollars(line.unitPriceCents * line.quantity)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Subtotal</th>
          <td class="num">{dollars(cart.subtotalCents)}</td>
        </tr>
      </tfoot>
    </table>
  );
}
