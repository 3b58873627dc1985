import { useEffect, useState } from 'preact/hooks';
import { GuestOrderLookup, type OrderView } from '../../../api/orders/schema.ts';
import { fieldIssuesFromZod } from '../../../platform/errors.ts';
import { ErrorSummary, summaryHeading, TextField } from '../components/fields.tsx';
import { OrderDetails, StatusTimeline } from '../components/order.tsx';
import { api } from '../lib/api.ts';
import { formatDateTime } from '../lib/format.ts';
import { useShop } from '../lib/store.ts';
import { placeIssues, W, type FieldErrors, type FormField } from '../lib/wording.ts';

const FIELDS: FormField[] = [
  { id: 'status-number', paths: ['orderNumber'], wording: W.orderNumber },
  { id: 'status-email', paths: ['email'], wording: W.lookupEmail },
  { id: 'status-zip', paths: ['postalCode'], wording: W.lookupZip },
];

export function StatusPage({ active }: { active: boolean }) {
  const { lastOrder } = useShop();
  const [orderNumber, setOrderNumber] = useState('');
  const [email, setEmail] = useState('');
  const [zip, setZip] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [summary, setSummary] = useState<{ message: string; unplaced: string[] } | null>(null);
  const [focusKey, setFocusKey] = useState(0);
  const [order, setOrder] = useState<OrderView | null>(null);

  // Arriving from the confirmation: the number is already known.
  useEffect(() => {
    if (active && lastOrder && !orderNumber) setOrderNumber(lastOrder.orderNumber);
  }, [active, lastOrder]);

  async function submit(event: Event) {
    event.preventDefault();
    setOrder(null);
    const body = { orderNumber: orderNumber.replace(/[\s-]/g, ''), ...(email.trim() ? { email: email.trim() } : {}), ...(zip.trim() ? { postalCode: zip.trim() } : {}) };
    const values: Record<string, string> = { 'status-number': body.orderNumber, 'status-email': email.trim(), 'status-zip': zip.trim() };
    const show = (issues: Parameters<typeof placeIssues>[0], fallback: string) => {
      const placed = placeIssues(issues, FIELDS, (id) => values[id]);
      setErrors(placed.errors);
      setSummary({ message: summaryHeading(Object.keys(placed.errors).length, placed.unplaced.length, fallback), unplaced: Object.keys(placed.errors).length ? placed.unplaced : [] });
      setFocusKey((key) => key + 1);
    };
    const parsed = GuestOrderLookup.safeParse(body);
    if (!parsed.success) return show(fieldIssuesFromZod(parsed.error, body), '');
    setErrors({});
    setSummary(null);
    const result = await api<OrderView>('POST', '/api/orders/lookup', { body });
    if (!result.ok) return show(result.error.fields ?? [], result.error.message);
    setOrder(result.data);
  }

  return (
    <>
      <h1 id="status-title">Order status</h1>
      <form id="status-form" class="status-form" noValidate onSubmit={submit}>
        <ErrorSummary id="status-errors" message={summary?.message ?? null} unplaced={summary?.unplaced} focusKey={focusKey} errors={errors} />
        <TextField id="status-number" label="Order number" inputMode="numeric" autoComplete="off" value={orderNumber} onValue={setOrderNumber} error={errors['status-number']} />
        <div class="row">
          <TextField id="status-email" label="Email used for the order" type="email" autoComplete="email" value={email} onValue={setEmail} error={errors['status-email']} />
          <TextField id="status-zip" label="or billing ZIP code" inputMode="numeric" autoComplete="postal-code" value={zip} onValue={setZip} error={errors['status-zip']} />
        </div>
        <button type="submit" class="button button--primary">
          Find my order
        </button>
      </form>
      <div id="status-result" aria-live="polite">
        {order ? (
          <section class="status-card" aria-labelledby="status-card-title">
            <h2 id="status-card-title">Order {order.orderNumber}</h2>
            <p class="status-card__status">{order.statusText}</p>
            <p class="muted">Placed {formatDateTime(order.placedAt)}</p>
            <StatusTimeline order={order} />
            <OrderDetails order={order} />
          </section>
        ) : null}
      </div>
    </>
  );
}
