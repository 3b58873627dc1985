import { useEffect } from 'preact/hooks';
import { OrderDetails } from '../components/order.tsx';
import { navigate } from '../lib/router.ts';
import { useShop } from '../lib/store.ts';

export function ConfirmationPage({ active }: { active: boolean }) {
  const { lastOrder, session } = useShop();
  useEffect(() => {
    // Nothing to confirm after a reload: the order is in the status lookup (and the account).
    if (active && !lastOrder) navigate('/catalog');
  }, [active, lastOrder]);
  if (!lastOrder) return null;
  return (
    <div class="confirmation">
      <span class="confirmation__seal" aria-hidden="true"></span>
      <h1 id="confirmation-title" tabIndex={-1}>
        Thank you for your order
      </h1>
      <p class="confirmation__number">
        Order number <strong id="confirmation-number">{lastOrder.orderNumber}</strong>
      </p>
      <p id="confirmation-status" class="muted">{`Status: ${lastOrder.statusText}. We will email you when it ships.`}</p>
      <div id="confirmation-details">
        <OrderDetails order={lastOrder} />
      </div>
      <p>
        {session ? (
          <>
            It is in your <a href="#/account/orders">order history</a>; with your email or billing ZIP code the order number also lets you <a href="#/status">check the order status</a>.
          </>
        ) : (
          <>
            Keep the order number: with your email or billing ZIP code it lets you <a href="#/status">check the order status</a>.
          </>
        )}
      </p>
      <p>
        <a class="button button--secondary" href="#/catalog">
          Continue shopping
        </a>
      </p>
    </div>
  );
}
