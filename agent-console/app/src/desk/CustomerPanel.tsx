import { useEffect, useState } from 'preact/hooks';
import type { z } from 'zod';
import type { StaffSessionView } from '../../../../api/console-contract/chat.ts';
import type { CustomerOrders, LinkTarget } from '../../../../api/console-contract/events.ts';
import { dateTime, money } from '../../lib/format.ts';
import { can } from '../session.ts';
import { TOPIC_LABELS } from './labels.ts';

type Orders = z.infer<typeof CustomerOrders>;

/**
 * The visitor beside the chat: who they said they are, and their orders matched by the pre-chat
 * email (the lookup is audited). Chat takes no orders: the agent sends a storefront link instead.
 */
export function CustomerPanel(props: { session: StaffSessionView; loadOrders: () => Promise<Orders>; sendLink: (target: z.input<typeof LinkTarget>) => Promise<void> }) {
  const { visitor } = props.session;
  const [orders, setOrders] = useState<Orders | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [sku, setSku] = useState('');
  const mayReadOrders = can('orders:read');
  useEffect(() => {
    setOrders(null);
    setError(null);
    setStatus(null);
  }, [props.session.sessionId]);

  async function lookUp() {
    setError(null);
    try {
      setOrders(await props.loadOrders());
    } catch (e) {
      setError((e as Error).message);
    }
  }
  async function link(target: z.input<typeof LinkTarget>, what: string) {
    setError(null);
    try {
      await props.sendLink(target);
      setStatus(`Sent: ${what}.`);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  return (
    <aside class="panel customer" aria-labelledby="customer-title">
      <h2 id="customer-title" class="panel__title">
        Customer
      </h2>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{visitor.name}</dd>
        <dt>Email</dt>
        <dd>{visitor.email}</dd>
        <dt>Topic</dt>
        <dd>{TOPIC_LABELS[visitor.topic]}</dd>
        <dt>Language</dt>
        <dd>{visitor.language.toUpperCase()}</dd>
      </dl>

      <h3 class="panel__subtitle">Orders</h3>
      {mayReadOrders ? (
        orders ? (
          <>
            {orders.customer ? (
              <p class="hint">
                Account: {orders.customer.firstName} {orders.customer.lastName}
              </p>
            ) : (
              <p class="hint">No account with this email (guest orders are listed).</p>
            )}
            {orders.orders.length ? (
              <ul class="order-list" aria-label={`Orders of ${visitor.name}`}>
                {orders.orders.map((order) => (
                  <li key={order.orderNumber} class="order-item">
                    <div class="order-item__line">
                      <strong>{order.orderNumber}</strong>
                      <span class={`status status--${order.status}`}>{order.statusText}</span>
                    </div>
                    <div class="order-item__line hint">
                      {dateTime(order.placedAt)} · {order.itemCount} item{order.itemCount === 1 ? '' : 's'} · {money(order.totalCents)}
                    </div>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="hint">No orders for {visitor.email}.</p>
            )}
          </>
        ) : (
          <button type="button" class="button" onClick={() => void lookUp()}>
            Look up orders
          </button>
        )
      ) : (
        <p class="hint">Your role cannot see orders.</p>
      )}

      <h3 class="panel__subtitle">Send a storefront link</h3>
      <p class="hint">Chat takes no orders: send the customer to the store.</p>
      <div class="button-row">
        <button type="button" class="button" onClick={() => void link({ kind: 'home' }, 'storefront link')}>
          Send storefront link
        </button>
        <button type="button" class="button" onClick={() => void link({ kind: 'cart' }, 'cart link')}>
          Send cart link
        </button>
      </div>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (sku.trim()) void link({ kind: 'product', sku: sku.trim() }, `product link for ${sku.trim()}`);
        }}
      >
        <label for="link-sku">Product SKU</label>
        <div class="inline-form__row">
          <input id="link-sku" value={sku} onInput={(e) => setSku(e.currentTarget.value)} autocomplete="off" />
          <button type="submit" class="button" disabled={!sku.trim()}>
            Send product link
          </button>
        </div>
      </form>
      <p role="status" class="hint">
        {status}
      </p>
      {error ? (
        <p class="notice notice--error" role="alert">
          {error}
        </p>
      ) : null}
    </aside>
  );
}
