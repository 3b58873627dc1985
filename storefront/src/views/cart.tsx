import { useEffect, useState } from 'preact/hooks';
import type { CartView } from '../../../api/carts/schema.ts';
import { announce } from '../lib/announce.ts';
import type { ApiError } from '../lib/api.ts';
import { dollars, nextId } from '../lib/format.ts';
import { loadCart, setLine, useShop } from '../lib/store.ts';

export function CartPage({ active }: { active: boolean }) {
  const { cart } = useShop();
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    if (!active) return;
    setLoading(true);
    void loadCart().finally(() => setLoading(false));
  }, [active]);

  return (
    <>
      <h1 id="cart-title">Your cart</h1>
      <p id="cart-status" class="muted" role="status">
        {loading && !cart ? 'Loading your cart…' : ''}
      </p>
      <div id="cart-contents">
        {!cart || cart.lines.length === 0 ? (
          loading ? null : (
            <p>
              Your cart is empty. <a href="#/catalog">Browse the catalog</a>.
            </p>
          )
        ) : (
          <>
            <CartTable cart={cart} />
            <p class="muted">Shipping and any tax are added when you place the order.</p>
            <p class="actions">
              <a class="button button--primary" href="#/checkout" id="go-checkout">
                Proceed to checkout
              </a>
            </p>
          </>
        )}
      </div>
    </>
  );
}

function CartTable({ cart }: { cart: CartView }) {
  return (
    <table class="lines">
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col" class="num">
            Price
          </th>
          <th scope="col">Quantity</th>
          <th scope="col" class="num">
            Total
          </th>
        </tr>
      </thead>
      <tbody>
        {cart.lines.map((line) => (
          <CartLine key={line.sku} line={line} />
        ))}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row" colSpan={3}>
            Subtotal
          </th>
          <td class="num">{dollars(cart.subtotalCents)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

function CartLine({ line }: { line: CartView['lines'][number] }) {
  const [inputId] = useState(() => nextId('line-qty'));
  const [quantity, setQuantity] = useState(String(line.quantity));
  const [problem, setProblem] = useState('');
  useEffect(() => setQuantity(String(line.quantity)), [line.quantity]);

  async function change(next: number) {
    setProblem('');
    try {
      await setLine(line.sku, next);
      announce(next === 0 ? `${line.name} removed from your cart.` : `Quantity of ${line.name} is now ${next}.`);
    } catch (error) {
      setProblem((error as ApiError).message ?? 'We could not update your cart. Please try again.');
    }
  }

  return (
    <tr>
      <th scope="row">
        <span class="line__name">{line.name}</span>
        <span class="line__sku">{line.sku}</span>
      </th>
      <td class="num">{dollars(line.unitPriceCents)}</td>
      <td>
        <form
          class="line__form"
          onSubmit={(event) => {
            event.preventDefault();
            const next = Number.parseInt(quantity, 10);
            void change(Number.isFinite(next) && next >= 0 ? next : line.quantity);
          }}
        >
          <label for={inputId} class="visually-hidden">
            Quantity of {line.name}
          </label>
          <input id={inputId} type="number" min={0} max={Math.min(line.householdLimit ?? 100, 100)} value={quantity} inputMode="numeric" class="line__qty" onInput={(event) => setQuantity(event.currentTarget.value)} />
          <button type="submit" class="button button--small">
            Update
          </button>
          <button type="button" class="button button--small button--link" onClick={() => void change(0)}>
            Remove<span class="visually-hidden"> {line.name}</span>
          </button>
        </form>
        <span class="line__status" role="status">
          {problem}
        </span>
      </td>
      <td class="num">{dollars(line.unitPriceCents * line.quantity)}</td>
    </tr>
  );
}
