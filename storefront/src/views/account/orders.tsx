import { useEffect, useState } from 'preact/hooks';
import type { OrderView } from '../../../../api/orders/schema.ts';
import { OrderDetails, StatusTimeline } from '../../components/order.tsx';
import { api } from '../../lib/api.ts';
import { dollars, formatDate } from '../../lib/format.ts';

interface OrderPage {
  items: OrderView[];
  page: number;
  pageSize: number;
  total: number;
}

function itemCount(order: OrderView): string {
  const count = order.lines.reduce((n, line) => n + line.quantity, 0);
  return count === 1 ? '1 item' : `${count} items`;
}

/** Every order of the account, newest first, each with its status history. */
export function OrdersSection() {
  const [orders, setOrders] = useState<OrderView[] | null>(null);
  const [page, setPage] = useState(1);
  const [total, setTotal] = useState(0);
  const [problem, setProblem] = useState('');

  async function load(next: number) {
    const result = await api<OrderPage>('GET', `/api/customers/me/orders?page=${next}`);
    if (!result.ok) {
      setProblem(result.error.message);
      return;
    }
    setOrders((current) => (next === 1 ? result.data.items : [...(current ?? []), ...result.data.items]));
    setPage(next);
    setTotal(result.data.total);
  }

  useEffect(() => {
    void load(1);
  }, []);

  if (problem) return <p class="alert alert--error">{problem}</p>;
  if (!orders) return <p class="muted">Loading your orders…</p>;
  if (orders.length === 0) {
    return (
      <p>
        You have no orders yet. <a href="#/catalog">Browse the catalog</a>.
      </p>
    );
  }
  return (
    <>
      <ul class="order-history">
        {orders.map((order) => (
          <li key={order.orderNumber} class="order-history__item" data-order={order.orderNumber}>
            <div class="order-history__head">
              <h3>Order {order.orderNumber}</h3>
              <p class="order-history__meta">
                Placed {formatDate(order.placedAt)} · {itemCount(order)} · {dollars(order.totals.totalCents)}
              </p>
              <p class="order-history__status">Status: {order.statusText}</p>
            </div>
            <StatusTimeline order={order} />
            <details>
              <summary>Items, payment and delivery</summary>
              <OrderDetails order={order} />
            </details>
          </li>
        ))}
      </ul>
      {orders.length < total ? (
        <p class="center">
          <button type="button" class="button button--secondary" onClick={() => void load(page + 1)}>
            Show older orders
          </button>
        </p>
      ) : null}
    </>
  );
}
