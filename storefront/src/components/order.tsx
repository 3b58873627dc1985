import type { OrderView } from '../../../api/orders/schema.ts';
import { dollars, formatDateTime, paymentLine } from '../lib/format.ts';

export function OrderDetails({ order }: { order: OrderView }) {
  const totals: [string, number][] = [
    ['Subtotal', order.totals.subtotalCents],
    ['Shipping', order.totals.shippingCents],
    ['Tax', order.totals.taxCents],
  ];
  return (
    <div class="order">
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
          {order.lines.map((line) => (
            <tr key={`${line.sku}-${line.shipTo}`}>
              <th scope="row">
                <span class="line__name">{line.name}</span>
                <span class="line__sku">{line.sku}</span>
              </th>
              <td class="num">{dollars(line.unitPriceCents)}</td>
              <td class="num">× {line.quantity}</td>
              <td class="num">{dollars(line.unitPriceCents * line.quantity)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          {totals.map(([label, cents]) => (
            <tr key={label}>
              <th scope="row" colSpan={3}>
                {label}
              </th>
              <td class="num">{dollars(cents)}</td>
            </tr>
          ))}
          <tr class="lines__total">
            <th scope="row" colSpan={3}>
              Total
            </th>
            <td class="num">{dollars(order.totals.totalCents)}</td>
          </tr>
        </tfoot>
      </table>
      <p class="order__payment">{paymentLine(order)}</p>
      {order.shipments.map((shipment, index) => (
        <p class="order__shipment" key={index}>
          Ships to {shipment.recipientName}, {shipment.city}, {shipment.state} {shipment.postalCode}
          {shipment.trackingNumber ? ` · ${shipment.carrier ?? 'Carrier'} tracking ${shipment.trackingNumber}` : ''}
        </p>
      ))}
    </div>
  );
}

/** Each status the order reached, with when: the order's history as the customer may see it. */
export function StatusTimeline({ order }: { order: OrderView }) {
  return (
    <ol class="timeline" aria-label={`Status history of order ${order.orderNumber}`}>
      {order.timeline.map((entry, index) => (
        <li key={`${entry.status}-${entry.at}`} class={index === order.timeline.length - 1 ? 'timeline__step timeline__step--current' : 'timeline__step'}>
          <span class="timeline__status">{capitalise(entry.statusText)}</span>
          <time class="timeline__time" dateTime={entry.at}>
            {formatDateTime(entry.at)}
          </time>
        </li>
      ))}
    </ol>
  );
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
