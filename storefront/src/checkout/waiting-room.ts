import type { WaitingRoomStatus } from '../../../api/waiting-room/schema.ts';
import { api, pause, type ApiError } from '../lib/api.ts';
import { shop, VISITOR_KEY } from '../lib/store.ts';

/** What the line panel shows: the product's name and the latest status, or the shopper's turn. */
export type LinePanel = { name: string; status: WaitingRoomStatus } | { turn: true } | null;

export interface LineCallbacks {
  show(panel: LinePanel): void;
  progress(text: string): void;
  /** Resolves when the shopper presses "Leave the line". */
  left: Promise<void>;
}

function visitorHeaders(): Record<string, string> {
  const token = localStorage.getItem(VISITOR_KEY);
  return token ? { 'X-Visitor-Token': token } : {};
}

/** Polls often when the turn is near, gently when it is far. */
const pollDelayMs = (status: WaitingRoomStatus) => Math.min(15, Math.max(2, Math.ceil((status.estimatedWaitSeconds ?? 6) / 3))) * 1000;

type Joined = WaitingRoomStatus & { visitorToken: string };

/**
 * Joins the waiting room guarding one of the cart's skus (other than those in `held`) and waits for
 * admission. Returns the room's sku and admission token, '' when no other room guards the cart, or
 * null when the shopper left.
 */
export async function waitInLine(held: Set<string>, ui: LineCallbacks): Promise<{ sku: string; token: string } | '' | null> {
  const LEFT = Symbol('left');
  const left = ui.left.then(() => LEFT);
  const cart = shop().cart;
  for (const sku of cart?.lines.map((line) => line.sku) ?? []) {
    if (held.has(sku)) continue;
    const room = encodeURIComponent(sku);
    const joined = await api<Joined>('POST', `/api/waiting-room/${room}/join`, { headers: visitorHeaders() });
    if (joined.status === 404) continue;
    if (!joined.ok) throw joined.error;
    // The visitor token identifies our place in line (it is not personal data); keeping it lets a reload keep the place.
    localStorage.setItem(VISITOR_KEY, joined.data.visitorToken);
    let status: WaitingRoomStatus = joined.data;
    const name = shop().productNames.get(sku) ?? cart?.lines.find((line) => line.sku === sku)?.name ?? sku;
    ui.progress('Waiting for your turn…');
    while (status.state !== 'admitted') {
      ui.show({ name, status });
      // Whichever comes first: the next poll, or the shopper leaving the line.
      if ((await Promise.race([pause(pollDelayMs(status)).then(() => 'poll' as const), left])) === LEFT) {
        ui.show(null);
        return null;
      }
      const polled = await api<WaitingRoomStatus>('GET', `/api/waiting-room/${room}/status`, { headers: visitorHeaders() });
      if (!polled.ok) {
        if (polled.status === 0 || polled.status >= 500) continue;
        throw polled.error satisfies ApiError;
      }
      status = polled.data;
      if (status.state === 'unknown') {
        // The room was closed (no line any more) or our place was lost: rejoin to find out.
        if (status.opensAt === null) return '';
        const again = await api<Joined>('POST', `/api/waiting-room/${room}/join`, { headers: visitorHeaders() });
        if (!again.ok) throw again.error;
        status = again.data;
      }
    }
    ui.show({ turn: true });
    return { sku, token: status.admissionToken ?? '' };
  }
  return '';
}
