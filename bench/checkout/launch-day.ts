import { randomUUID } from 'node:crypto';
import type { Services } from '../../api/services.ts';
import { createJsonClient, runPool, type JsonResponse } from '../lib/http.ts';

/**
 * The launch-day scenario, shared by the integration test (2,000 attempts on 100 units) and the
 * checkout benchmark (20,000 on 1,000): many households race for a release with a household limit,
 * every attempt goes through the real HTTP API with its own Idempotency-Key, and afterwards the
 * durable orders in Mongo, the answers the shoppers got and the Redis counters must agree.
 *
 * Households are generated, so the scenario knows the truth the household key has to find: an
 * eager household tries again under other names and other spellings of its address ("123 North
 * Main Street Unit 4" = "123 n. main st., apt. 4"), and only the normalised address can tell that
 * those attempts are one household. Each household shops from its own client address (the store
 * sits behind a proxy that sets X-Forwarded-For), so the per-IP order limiter meters each
 * household rather than the benchmark machine.
 */

export interface LaunchDayOptions {
  baseUrl: string;
  sku: string;
  attempts: number;
  households: number;
  /** Requests in flight at once, each on its own keep-alive connection. */
  concurrency: number;
  /** Share of attempts the client sends again with the same key after the first answer. @defaultValue 0.05 */
  retryShare?: number;
  /** Share of attempts sent twice at the same moment with the same key (a double-clicked button). @defaultValue 0.01 */
  doubleSubmitShare?: number;
  seed?: number;
}

export interface Household {
  id: number;
  lastName: string;
  /** X-Forwarded-For of every attempt of this household. */
  ip: string;
  /** Spellings of one dwelling; attempt n uses variant n mod length. */
  variants: ShippingAddress[];
}

export interface ShippingAddress {
  line1: string;
  line2?: string;
  city: string;
  state: string;
  postalCode: string;
  country: 'US';
}

export interface Attempt {
  id: number;
  household: Household;
  idempotencyKey: string;
  body: Record<string, unknown>;
  kind: 'single' | 'retry' | 'double_submit';
}

export interface Answer {
  status: number;
  body: unknown;
  replayed: boolean;
  /** When the answer arrived, in ms since the launch opened. */
  atMs: number;
}

export interface AttemptResult {
  attempt: Attempt;
  /** The answer to the first (or, for a double submit, either) request. */
  first: Answer;
  /** The retry after the first answer, or the simultaneous twin of a double submit. */
  second?: Answer;
}

export interface LaunchDayRun {
  results: AttemptResult[];
  requests: number;
  durationMs: number;
  /** When the last order was confirmed (the release sold out), in ms since the launch opened. */
  lastOrderAtMs: number;
}

// Streets, suffixes and places chosen so no name can be read as a directional or a suffix.
const STREETS = ['Main', 'Oak', 'Maple', 'Cedar', 'Elm', 'Walnut', 'Chestnut', 'Birch', 'Spruce', 'Willow', 'Lincoln', 'Jefferson', 'Madison', 'Franklin', 'Adams', 'Monroe'];
const SUFFIXES: [string, string][] = [['St', 'Street'], ['Ave', 'Avenue'], ['Rd', 'Road'], ['Dr', 'Drive'], ['Ln', 'Lane'], ['Blvd', 'Boulevard']];
const DIRECTIONALS: ([string, string] | null)[] = [null, ['N', 'North'], ['S', 'South'], ['E', 'East'], ['W', 'West']];
const PLACES: [string, string, string][] = [
  ['Springfield', 'IL', '62701'], ['Columbus', 'OH', '43215'], ['Austin', 'TX', '78701'], ['Denver', 'CO', '80202'], ['Portland', 'OR', '97204'],
  ['Madison', 'WI', '53703'], ['Raleigh', 'NC', '27601'], ['Boise', 'ID', '83702'], ['Albany', 'NY', '12207'], ['Richmond', 'VA', '23219'],
];
const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Niklaus', 'Margaret', 'John'];
const LAST_NAMES = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Wirth', 'Hamilton', 'Backus'];

/** Deterministic PRNG (mulberry32), so a failing run can be replayed with its seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One dwelling per id (the house number alone makes them distinct), written four ways: postal
 * abbreviations, words in capitals, lower case with periods, and the unit on line 2 with a ZIP+4.
 */
export function household(id: number): Household {
  const [city, state, zip] = PLACES[id % PLACES.length]!;
  const street = STREETS[Math.floor(id / PLACES.length) % STREETS.length]!;
  const [suffix, suffixWord] = SUFFIXES[Math.floor(id / 160) % SUFFIXES.length]!;
  const directional = DIRECTIONALS[Math.floor(id / 960) % DIRECTIONALS.length]!;
  const number = String(100 + id);
  const unit = id % 3 === 0 ? String((id % 40) + 1) : undefined;
  const parts = (dir: string | undefined, name: string, suf: string) => [number, dir, name, suf].filter(Boolean).join(' ');
  const place = { city, state, postalCode: zip, country: 'US' as const };
  const variants: ShippingAddress[] = [
    { line1: `${parts(directional?.[0], street, suffix)}${unit ? ` Apt ${unit}` : ''}`, ...place },
    { line1: `${parts(directional?.[1], street, suffixWord)}${unit ? ` Unit ${unit}` : ''}`.toUpperCase(), ...place, city: city.toUpperCase() },
    { line1: `${parts(directional ? `${directional[0].toLowerCase()}.` : undefined, street.toLowerCase(), `${suffix.toLowerCase()}.`)}${unit ? `, apt. ${unit}` : ''}`, ...place, city: city.toLowerCase() },
    { line1: parts(directional?.[0], street, suffix), ...(unit ? { line2: `#${unit}` } : {}), ...place, postalCode: `${zip}-${String(1000 + (id % 9000)).padStart(4, '0')}` },
  ];
  return {
    id,
    lastName: LAST_NAMES[id % LAST_NAMES.length]!,
    ip: `10.${(id >> 16) & 255}.${(id >> 8) & 255}.${id & 255}`,
    variants,
  };
}

/** The attempts in the order they are sent: every household once, eager ones several times, shuffled. */
export function planLaunchDay(options: Omit<LaunchDayOptions, 'baseUrl' | 'concurrency'>): Attempt[] {
  const random = prng(options.seed ?? 20240601);
  const retryShare = options.retryShare ?? 0.05;
  const doubleShare = options.doubleSubmitShare ?? 0.01;
  const households = Array.from({ length: options.households }, (_, id) => household(id));
  const owners: Household[] = [...households];
  for (let extra = options.households; extra < options.attempts; extra += 1) owners.push(households[Math.floor(random() * households.length)]!);
  for (let i = owners.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [owners[i], owners[j]] = [owners[j]!, owners[i]!];
  }
  const triesSoFar = new Map<number, number>();
  return owners.map((owner, id) => {
    const tryIndex = triesSoFar.get(owner.id) ?? 0;
    triesSoFar.set(owner.id, tryIndex + 1);
    const roll = random();
    return {
      id,
      household: owner,
      idempotencyKey: `launch-${randomUUID()}`,
      body: orderBody(options.sku, owner, tryIndex),
      kind: roll < doubleShare ? 'double_submit' : roll < doubleShare + retryShare ? 'retry' : 'single',
    };
  });
}

/** A complete web checkout body; another try of the same household uses another name and spelling. */
function orderBody(sku: string, owner: Household, tryIndex: number): Record<string, unknown> {
  const firstName = FIRST_NAMES[(owner.id + tryIndex * 5) % FIRST_NAMES.length]!;
  const lastName = tryIndex % 2 === 0 ? owner.lastName : owner.lastName.toUpperCase();
  const shipTo = owner.variants[tryIndex % owner.variants.length]!;
  const billing = owner.variants[0]!;
  return {
    lines: [{ sku, quantity: 1 }],
    purchaser: { firstName, lastName, email: `${firstName}.${lastName}.${owner.id}.${tryIndex}@example.com`.toLowerCase(), phone: `202555${String(owner.id % 10_000).padStart(4, '0')}` },
    billingAddress: billing,
    shipments: [{ address: shipTo }],
    payment: { type: 'card', card: { number: '4242 4242 4242 4242', expMonth: 12, expYear: new Date().getUTCFullYear() + 2, cvv: '123', nameOnCard: `${firstName} ${lastName}` } },
    attestation: { termsAccepted: true, ageConfirmed: true },
  };
}

/** Sends every attempt through POST /api/orders with bounded concurrency over keep-alive connections. */
export async function runLaunchDay(options: LaunchDayOptions): Promise<LaunchDayRun> {
  const attempts = planLaunchDay(options);
  const client = createJsonClient(options.baseUrl, { connections: options.concurrency + 1 });
  const results: AttemptResult[] = [];
  let requests = 0;
  const started = performance.now();
  const send = async (attempt: Attempt): Promise<Answer> => {
    requests += 1;
    const response: JsonResponse = await client.send('POST', '/api/orders', {
      body: attempt.body,
      headers: { 'idempotency-key': attempt.idempotencyKey, 'x-forwarded-for': attempt.household.ip },
    });
    return { status: response.status, body: response.body, replayed: response.headers['idempotent-replayed'] === 'true', atMs: performance.now() - started };
  };
  try {
    await runPool(attempts, options.concurrency, async (attempt) => {
      if (attempt.kind === 'double_submit') {
        const [first, second] = await Promise.all([send(attempt), send(attempt)]);
        results.push({ attempt, first, second });
      } else {
        const first = await send(attempt);
        results.push({ attempt, first, ...(attempt.kind === 'retry' ? { second: await send(attempt) } : {}) });
      }
    });
  } finally {
    client.close();
  }
  const confirmed = results.flatMap(({ first, second }) => [first, ...(second ? [second] : [])]).filter((answer) => answer.status === 201 && !answer.replayed);
  return { results, requests, durationMs: performance.now() - started, lastOrderAtMs: Math.max(0, ...confirmed.map((answer) => answer.atMs)) };
}

const orderNumberOf = (answer: Answer | undefined): string | undefined =>
  answer?.status === 201 ? ((answer.body as { orderNumber?: string } | undefined)?.orderNumber ?? undefined) : undefined;
const errorOf = (answer: Answer): { code?: unknown; message?: unknown } | undefined => (answer.body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;

export interface LaunchDayFacts {
  orders: { orderNumber: string; householdKeys: string[]; quantity: number }[];
  stockAfter: number | null;
  /** Redis held count of each order's household, read before the reconcile. */
  heldByOrderHousehold: number[];
  reconciled: { available: number; oversoldBy: number; households: number; openQuantity: number; committedQuantity: number };
  stockAfterReconcile: number | null;
}

/**
 * Reads the durable orders of the sku, the live Redis counters, and then rebuilds those counters
 * from the orders the way start-up does, so the two can be compared.
 */
export async function collectLaunchDayFacts(services: Services, sku: string, totalStock: number): Promise<LaunchDayFacts> {
  const docs = await services.orders.model.find({ 'lines.sku': sku }, { orderNumber: 1, shipments: 1, lines: 1 }).lean();
  const orders = docs.map((doc) => ({
    orderNumber: doc.orderNumber,
    householdKeys: doc.shipments.map((s) => s.householdKey),
    quantity: doc.lines.filter((l) => l.sku === sku).reduce((sum, l) => sum + l.quantity, 0),
  }));
  const stockAfter = await services.inventory.getStock(sku);
  const heldByOrderHousehold = await Promise.all(orders.map((o) => services.inventory.householdHeld(sku, o.householdKeys[0]!)));
  const reconciled = await services.inventory.reconcile({
    sku,
    totalStock,
    committed: docs.flatMap((doc) => doc.lines.filter((l) => l.sku === sku).map((l) => ({ householdKey: doc.shipments[l.shipTo]!.householdKey, quantity: l.quantity, reservationId: `${doc._id}:${l.shipTo}` }))),
  });
  return { orders, stockAfter, heldByOrderHousehold, reconciled, stockAfterReconcile: await services.inventory.getStock(sku) };
}

export interface LaunchDayVerdict {
  /** Every rule the run broke, in words; empty when the launch went right. */
  failures: string[];
  ordersInMongo: number;
  answered201: number;
  soldOut: number;
  householdLimited: number;
  replays: number;
}

const MAX_LISTED = 5;

/**
 * The launch-day rules, checked against what shoppers were told and what Mongo and Redis hold:
 * exactly the stock is sold, no household (by the key and by the generator's truth) gets more
 * than the limit, every 201 is one order in Mongo and every order in Mongo was a 201 to someone,
 * retries replay the first answer, every refusal is a well-formed 422, and Redis agrees with a
 * rebuild from Mongo.
 */
export function judgeLaunchDay(run: LaunchDayRun, facts: LaunchDayFacts, rules: { totalStock: number; householdLimit: number }): LaunchDayVerdict {
  const failures: string[] = [];
  const fail = (rule: string, examples: unknown[]) => {
    if (examples.length) failures.push(`${rule} (${examples.length}): ${JSON.stringify(examples.slice(0, MAX_LISTED))}`);
  };

  const sold = facts.orders.reduce((sum, o) => sum + o.quantity, 0);
  if (sold !== rules.totalStock) failures.push(`sold ${sold} units in ${facts.orders.length} orders, expected exactly ${rules.totalStock}`);

  const perKey = new Map<string, number>();
  for (const order of facts.orders) for (const key of new Set(order.householdKeys)) perKey.set(key, (perKey.get(key) ?? 0) + order.quantity);
  fail('household keys holding more than the limit', [...perKey].filter(([, n]) => n > rules.householdLimit));

  const mongoCount = new Map<string, number>();
  for (const order of facts.orders) mongoCount.set(order.orderNumber, (mongoCount.get(order.orderNumber) ?? 0) + 1);
  fail('order numbers stored more than once', [...mongoCount].filter(([, n]) => n > 1));

  // What shoppers were told: order number -> the attempts (idempotency keys) it was given to.
  const toldBy = new Map<string, Set<string>>();
  const ordersOfHousehold = new Map<number, Set<string>>();
  const malformed: unknown[] = [];
  const badRetries: unknown[] = [];
  let soldOut = 0;
  let householdLimited = 0;
  let replays = 0;
  for (const { attempt, first, second } of run.results) {
    for (const answer of second ? [first, second] : [first]) {
      const number = orderNumberOf(answer);
      if (number) {
        const keys = toldBy.get(number) ?? new Set();
        keys.add(attempt.idempotencyKey);
        toldBy.set(number, keys);
        const mine = ordersOfHousehold.get(attempt.household.id) ?? new Set();
        mine.add(number);
        ordersOfHousehold.set(attempt.household.id, mine);
        if (answer.replayed) replays += 1;
        continue;
      }
      const error = errorOf(answer);
      const code = error?.code;
      const acceptable = answer.status === 422 && (code === 'inventory.sold_out' || code === 'inventory.household_limit') && typeof error?.message === 'string';
      // Only a twin sent at the same moment may be told the first is still running.
      const inProgressTwin = attempt.kind === 'double_submit' && answer.status === 409 && code === 'idempotency.in_progress';
      if (!acceptable && !inProgressTwin) malformed.push({ attempt: attempt.id, kind: attempt.kind, status: answer.status, body: answer.body });
      if (code === 'inventory.sold_out') soldOut += 1;
      if (code === 'inventory.household_limit') householdLimited += 1;
    }
    if (attempt.kind === 'retry' && second) {
      const firstNumber = orderNumberOf(first);
      const sameOrder = firstNumber !== undefined && orderNumberOf(second) === firstNumber && second.replayed;
      // A refusal changes nothing and is not stored, so the retry runs again; stock only falls, so it is refused again.
      const sameRefusal = firstNumber === undefined && second.status === first.status && errorOf(second)?.code === errorOf(first)?.code;
      if (!sameOrder && !sameRefusal) badRetries.push({ attempt: attempt.id, first: { status: first.status, body: first.body }, second: { status: second.status, body: second.body } });
    }
    if (attempt.kind === 'double_submit' && second) {
      const numbers = [orderNumberOf(first), orderNumberOf(second)].filter(Boolean);
      if (numbers.length === 2 && numbers[0] !== numbers[1]) badRetries.push({ attempt: attempt.id, twoOrders: numbers });
    }
  }
  fail('answers that are neither 201 nor a well-formed 422 inventory refusal', malformed);
  fail('retries with the same Idempotency-Key that did not get the first result', badRetries);
  fail('order numbers told to more than one attempt', [...toldBy].filter(([, keys]) => keys.size > 1).map(([number]) => number));
  fail('201 answers whose order is not in Mongo', [...toldBy.keys()].filter((number) => !mongoCount.has(number)));
  fail('orders in Mongo nobody was told about', [...mongoCount.keys()].filter((number) => !toldBy.has(number)));
  fail('households (by their true identity) with more than the limit', [...ordersOfHousehold].filter(([, numbers]) => numbers.size > rules.householdLimit).map(([id, numbers]) => ({ household: id, orders: [...numbers] })));
  // A household refused for its limit must hold an order, or a hold leaked. (Unless one of its
  // attempts failed after reserving: that attempt held the unit when the other was refused.)
  const failedHouseholds = new Set(run.results.filter(({ first, second }) => first.status >= 500 || (second?.status ?? 0) >= 500).map(({ attempt }) => attempt.household.id));
  const limitedWithoutOrder = run.results
    .filter(({ first }) => errorOf(first)?.code === 'inventory.household_limit')
    .filter(({ attempt }) => !ordersOfHousehold.has(attempt.household.id) && !failedHouseholds.has(attempt.household.id))
    .map(({ attempt }) => attempt.household.id);
  fail('households refused for the limit while holding no order', [...new Set(limitedWithoutOrder)]);

  if (facts.stockAfter !== 0) failures.push(`Redis stock after the launch is ${facts.stockAfter}, expected 0`);
  fail('order households whose Redis held count is not their ordered quantity', facts.heldByOrderHousehold.map((held, i) => ({ held, ordered: facts.orders[i]!.quantity })).filter((x) => x.held !== x.ordered));
  const { reconciled } = facts;
  if (reconciled.available !== facts.stockAfter || reconciled.oversoldBy !== 0 || reconciled.openQuantity !== 0 || reconciled.committedQuantity !== sold || reconciled.households !== perKey.size) {
    failures.push(`rebuilding Redis from Mongo disagrees with the live counters: ${JSON.stringify({ live: facts.stockAfter, reconciled, sold, households: perKey.size })}`);
  }
  if (facts.stockAfterReconcile !== 0) failures.push(`stock after the reconcile is ${facts.stockAfterReconcile}, expected 0`);

  return { failures, ordersInMongo: facts.orders.length, answered201: toldBy.size, soldOut, householdLimited, replays };
}
