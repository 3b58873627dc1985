import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AppError, ServiceUnavailableError } from '../../platform/errors.ts';
import { requiredSignals, scoreOrder } from '../../api/fraud/engine.ts';
import type { OrderFacts } from '../../api/fraud/facts.ts';
import { DEFAULT_FRAUD_RULE_SET } from '../../api/fraud/rules-schema.ts';
import { createVelocityTracker, MAX_SET_MEMBERS, trackOrder, type VelocityRedis } from '../../workers/fraud/velocity.ts';
import { scanKeys } from '../../platform/redis-keys.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECRET = 'velocity-test-secret-0123456789abcdef';
const T0 = new Date('2031-05-01T10:00:00Z').getTime();
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

describe('fraud velocity tracker (Redis)', () => {
  let redis: Redis;
  let prefix: string;
  let now: number;
  const clock = () => new Date(now);
  const at = (ms: number) => new Date(ms);
  const tracker = (extra: { retentionSeconds?: number; redis?: VelocityRedis } = {}) =>
    createVelocityTracker({ redis: extra.redis ?? redis, prefix, secret: SECRET, clock, ...(extra.retentionSeconds ? { retentionSeconds: extra.retentionSeconds } : {}) });

  async function keys(): Promise<string[]> {
    const found: string[] = [];
    for await (const batch of scanKeys(redis, `${prefix}:*`)) found.push(...batch);
    return found;
  }

  before(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
  });

  beforeEach(() => {
    prefix = `test:fraud-velocity:${randomUUID()}`;
    now = T0;
  });

  afterEach(async () => {
    const found = await keys();
    if (found.length > 0) await redis.del(...found);
  });

  after(async () => {
    await redis.quit();
  });

  it('counts a sliding window relative to the given time, lower bound exclusive', async () => {
    const v = tracker();
    for (const [id, offset] of [['o1', 0], ['o2', 10 * MIN], ['o3', 50 * MIN]] as const) {
      await v.record('ip', '198.51.100.23', id, at(T0 + offset));
    }
    expect(await v.count('ip', '198.51.100.23', 3600, at(T0 + 59 * MIN))).to.equal(3);
    expect(await v.count('ip', '198.51.100.23', 3600, at(T0 + 60 * MIN))).to.equal(2); // o1 is exactly one window old: out
    expect(await v.count('ip', '198.51.100.23', 3600, at(T0 + 70 * MIN))).to.equal(1);
    // Events after `at` do not count, so re-scoring an old order sees what it saw then.
    expect(await v.count('ip', '198.51.100.23', 3600, at(T0 + 5 * MIN))).to.equal(1);
  });

  it('defaults times to the injected clock', async () => {
    const v = tracker();
    await v.record('card', 'fp_1', 'o1');
    now += 30 * MIN;
    await v.record('card', 'fp_1', 'o2');
    expect(await v.count('card', 'fp_1', 3600)).to.equal(2);
    now += 45 * MIN;
    expect(await v.count('card', 'fp_1', 3600)).to.equal(1);
    now += 31 * MIN;
    expect(await v.count('card', 'fp_1', 3600)).to.equal(0);
  });

  it('records each event once however often a job retries', async () => {
    const v = tracker();
    expect(await v.record('email', 'a@example.com', 'o1', at(T0))).to.equal(true);
    expect(await v.record('email', 'a@example.com', 'o1', at(T0))).to.equal(false);
    // A retry later keeps the first time seen, so the event does not slide forward.
    expect(await v.record('email', 'a@example.com', 'o1', at(T0 + 2 * HOUR))).to.equal(false);
    expect(await v.count('email', 'a@example.com', 3600, at(T0 + 2 * HOUR))).to.equal(0);
    const first = await v.recordAndCount('email', 'a@example.com', 'o2', at(T0 + MIN), [3600, 86_400]);
    const retry = await v.recordAndCount('email', 'a@example.com', 'o2', at(T0 + MIN), [3600, 86_400]);
    expect(first).to.deep.equal({ added: true, counts: [2, 2] });
    expect(retry).to.deep.equal({ added: false, counts: [2, 2] });
  });

  it('counts each concurrent order exactly once and shows it its own position', async () => {
    const v = tracker();
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => v.recordAndCount('card', 'fp_burst', `o${i}`, at(T0 + i), [3600])),
    );
    expect(results.every((r) => r.added)).to.equal(true);
    expect(Math.max(...results.map((r) => r.counts[0]!))).to.equal(25);
    expect(new Set(results.map((r) => r.counts[0])).size).to.equal(25);
  });

  it('folds trivial variants of a key into one counter', async () => {
    const v = tracker();
    await v.record('email', 'Ann.Lee+1@gmail.com', 'o1', at(T0));
    await v.record('email', ' annlee@GOOGLEMAIL.com', 'o2', at(T0));
    await v.record('ip', '2a00:1450:4001:81b::1', 'o3', at(T0));
    await v.record('ip', '2a00:1450:4001:81b:ffff::2', 'o4', at(T0));
    await v.record('household', '1 Main St., Apt 4', 'o5', at(T0));
    await v.record('household', '1 main st apt 4', 'o6', at(T0));
    expect(await v.count('email', 'annlee@gmail.com', 3600, at(T0))).to.equal(2);
    expect(await v.count('ip', '2a00:1450:4001:81b::9', 3600, at(T0))).to.equal(2);
    expect(await v.count('household', '1 MAIN ST APT 4', 3600, at(T0))).to.equal(2);
    expect(await v.count('card', 'annlee@gmail.com', 3600, at(T0))).to.equal(0); // dimensions are separate
  });

  it('stores no raw email, IP, card, address or name, and expires keys after the retention', async () => {
    const v = tracker({ retentionSeconds: 7 * 86_400 });
    await v.record('email', 'secret.person@example.com', 'o1');
    await v.record('ip', '198.51.100.77', 'o1');
    await v.recordDistinct('customer_cards', 'cus_9', 'fp_visible_card');
    await v.recordDistinct('household_names', '9 Hidden Lane', 'Jane Secret');
    const found = await keys();
    expect(found).to.have.length(4);
    for (const key of found) {
      expect(key).to.match(new RegExp(`^${prefix}:fraud:(vel|set):[a-z_]+:[0-9a-f]{64}$`));
      const members = await redis.zrange(key, 0, -1);
      for (const raw of ['secret.person', '198.51.100.77', 'fp_visible_card', 'hidden', 'jane', 'cus_9']) {
        expect(key.toLowerCase()).not.to.include(raw);
        expect(members.join(' ').toLowerCase()).not.to.include(raw);
      }
      const ttl = await redis.pttl(key);
      expect(ttl).to.be.within(7 * DAY - 60_000, 7 * DAY);
    }
  });

  it('prunes entries older than the retention on write', async () => {
    const v = tracker({ retentionSeconds: 3600 });
    await v.record('card', 'fp_old', 'o1', at(T0));
    now = T0 + 2 * HOUR;
    await v.record('card', 'fp_old', 'o2', at(now));
    const [key] = await keys();
    expect(await redis.zcard(key!)).to.equal(1);
  });

  it('caps a flooded set so it cannot grow without bound', async () => {
    const v = tracker();
    const [key] = await (async () => {
      await v.record('ip', '198.51.100.1', 'seed', at(T0));
      return keys();
    })();
    // Fill directly (one round trip) to just over the cap, then let one write trim it.
    const args: (string | number)[] = [];
    for (let i = 0; i < MAX_SET_MEMBERS + 50; i++) args.push(T0 + i, `bulk${i}`);
    await redis.zadd(key!, ...args);
    const result = await v.recordAndCount('ip', '198.51.100.1', 'last', at(T0 + MAX_SET_MEMBERS + 100), [3600]);
    expect(await redis.zcard(key!)).to.equal(MAX_SET_MEMBERS);
    expect(result.counts[0]).to.equal(MAX_SET_MEMBERS);
  });

  it('refuses windows longer than the retention instead of under-counting', async () => {
    const v = tracker({ retentionSeconds: 3600 });
    try {
      await v.count('ip', '198.51.100.1', 7200);
      expect.fail('should throw');
    } catch (error) {
      expect(error).to.be.instanceOf(AppError).with.property('code', 'fraud.window_exceeds_retention');
    }
  });

  describe('distinct sets', () => {
    it('counts distinct cards per customer in a window of days, refreshing a reused card', async () => {
      const v = tracker();
      expect(await v.recordDistinct('customer_cards', 'cus_1', 'fp_a', at(T0 - 40 * DAY))).to.equal(true);
      await v.recordDistinct('customer_cards', 'cus_1', 'fp_b', at(T0 - 20 * DAY));
      await v.recordDistinct('customer_cards', 'cus_1', 'fp_c', at(T0 - DAY));
      expect(await v.recordDistinct('customer_cards', 'cus_1', 'fp_c', at(T0))).to.equal(false);
      expect(await v.countDistinct('customer_cards', 'cus_1', 30 * 86_400, at(T0))).to.equal(2);
      // Using the old card again brings it back into the window.
      const reuse = await v.recordDistinctAndCount('customer_cards', 'cus_1', 'fp_a', at(T0), [30 * 86_400, 86_400]);
      expect(reuse).to.deep.equal({ added: false, counts: [3, 2] });
      // An out-of-order (older) retry never moves a value back in time.
      await v.recordDistinct('customer_cards', 'cus_1', 'fp_a', at(T0 - 40 * DAY));
      expect(await v.countDistinct('customer_cards', 'cus_1', 86_400, at(T0))).to.equal(2);
      expect(await v.countDistinct('customer_cards', 'cus_2', 30 * 86_400, at(T0))).to.equal(0);
    });

    it('counts distinct recipient names per household, folding case and spacing', async () => {
      const v = tracker();
      await v.recordDistinct('household_names', '9 Elm St', 'John Smith', at(T0));
      await v.recordDistinct('household_names', '9 elm st.', 'JOHN  SMITH', at(T0));
      await v.recordDistinct('household_names', '9 Elm St', 'J. Smith', at(T0));
      await v.recordDistinct('household_names', '9 Elm St', 'Mary Smith', at(T0));
      expect(await v.countDistinct('household_names', '9 ELM ST', 30 * 86_400, at(T0))).to.equal(3);
    });
  });

  describe('trackOrder', () => {
    const order = (overrides: Partial<OrderFacts> = {}): OrderFacts => ({
      orderId: 'ord_1',
      channel: 'web',
      placedAt: new Date(T0),
      totalCents: 45_000,
      email: 'buyer@example.com',
      ip: '198.51.100.50',
      billing: { country: 'US', state: 'NY', postalCode: '10001' },
      shipping: [{ country: 'US', state: 'NY', postalCode: '10001', householdKey: '1 main st', recipientNameKey: 'ann lee' }],
      cardToken: 'tok_1',
      cardFingerprint: 'fp_1',
      customerId: 'cus_1',
      accountCreatedAt: new Date(T0 - 300 * DAY),
      shippingAddressHashes: [],
      ...overrides,
    });
    const required = requiredSignals(DEFAULT_FRAUD_RULE_SET);

    it('gathers every signal the default rule set needs, and a retry changes nothing', async () => {
      const v = tracker();
      const first = await trackOrder(v, order(), required);
      expect(first.velocity).to.have.deep.members(required.velocity.map((r) => ({ ...r, count: 1 })));
      expect(first.distinctCards).to.deep.equal([{ windowDays: 30, count: 1 }]);
      expect(first.householdNames).to.deep.equal([{ windowDays: 30, count: 1 }]);
      expect(await trackOrder(v, order(), required)).to.deep.equal(first);

      const assessment = scoreOrder(order(), { ...first, ipCountry: 'US', highRisk: { email: false, shippingAddress: false } }, DEFAULT_FRAUD_RULE_SET);
      expect(assessment.unevaluated).to.deep.equal([]);
      expect(assessment.decision).to.equal('clear');
    });

    it('flags a card-testing burst and household-limit evasion under the default rule set', async () => {
      const v = tracker();
      let signals = await trackOrder(v, order(), required);
      for (let i = 2; i <= 4; i++) {
        signals = await trackOrder(
          v,
          order({
            orderId: `ord_${i}`,
            placedAt: new Date(T0 + i * MIN),
            cardToken: `tok_${i}`,
            cardFingerprint: `fp_${i}`,
            shipping: [{ country: 'US', state: 'NY', postalCode: '10001', householdKey: '1 Main St.', recipientNameKey: `name ${i}` }],
          }),
          required,
        );
      }
      expect(signals.distinctCards).to.deep.equal([{ windowDays: 30, count: 4 }]);
      expect(signals.householdNames).to.deep.equal([{ windowDays: 30, count: 4 }]);
      const ipHour = signals.velocity.find((s) => s.dimension === 'ip' && s.windowSeconds === 3600);
      expect(ipHour?.count).to.equal(4);
      const assessment = scoreOrder(order({ orderId: 'ord_4' }), { ...signals, ipCountry: 'US', highRisk: { email: false, shippingAddress: false } }, DEFAULT_FRAUD_RULE_SET);
      expect(assessment.fired.map((f) => f.ruleId)).to.include.members(['many-cards-30d', 'household-names-30d', 'velocity-email-1h']);
      expect(assessment.decision).to.equal('review');
    });

    it('gathers no IP or account signals for a guest phone order', async () => {
      const v = tracker();
      const signals = await trackOrder(v, order({ ip: undefined, channel: 'phone', customerId: undefined, accountCreatedAt: undefined }), required);
      expect(signals.velocity.map((s) => s.dimension)).not.to.include('ip');
      expect(signals.distinctCards).to.deep.equal([]);
      const assessment = scoreOrder(order({ ip: undefined, customerId: undefined, accountCreatedAt: undefined }), { ...signals, highRisk: { email: false, shippingAddress: false } }, DEFAULT_FRAUD_RULE_SET);
      expect(assessment.unevaluated).to.deep.equal([]);
    });
  });

  describe('Redis behaviour', () => {
    it('loads the script when the server does not have it cached', async () => {
      let evalCalls = 0;
      const noScriptCache: VelocityRedis = {
        evalsha: (async () => {
          throw new Error('NOSCRIPT No matching script. Please use EVAL.');
        }) as unknown as VelocityRedis['evalsha'],
        eval: ((...args: Parameters<Redis['eval']>) => {
          evalCalls++;
          return redis.eval(...args);
        }) as VelocityRedis['eval'],
        zcount: redis.zcount.bind(redis) as VelocityRedis['zcount'],
      };
      const v = tracker({ redis: noScriptCache });
      expect(await v.record('card', 'fp_x', 'o1', at(T0))).to.equal(true);
      expect(evalCalls).to.equal(1);
      expect(await v.count('card', 'fp_x', 60, at(T0))).to.equal(1);
    });

    it('reports a Redis failure as a retryable unavailable error', async () => {
      const down = new Error('connect ECONNREFUSED 127.0.0.1:1');
      const broken: VelocityRedis = {
        evalsha: (async () => {
          throw down;
        }) as unknown as VelocityRedis['evalsha'],
        eval: (async () => {
          throw down;
        }) as unknown as VelocityRedis['eval'],
        zcount: (async () => {
          throw down;
        }) as unknown as VelocityRedis['zcount'],
      };
      const v = tracker({ redis: broken });
      for (const attempt of [() => v.record('card', 'fp', 'o1'), () => v.count('card', 'fp', 60)]) {
        try {
          await attempt();
          expect.fail('should throw');
        } catch (error) {
          expect(error).to.be.instanceOf(ServiceUnavailableError).with.property('code', 'fraud.velocity_unavailable');
          expect((error as Error).cause).to.equal(down);
        }
      }
    });

    it('refuses a weak secret or an empty prefix at construction', () => {
      expect(() => createVelocityTracker({ redis, prefix, secret: 'short' })).to.throw(AppError).with.property('code', 'fraud.secret_too_short');
      expect(() => createVelocityTracker({ redis, prefix: '', secret: SECRET })).to.throw(AppError).with.property('code', 'fraud.prefix_required');
    });

    it('rejects an empty key or event id rather than pooling them', async () => {
      const v = tracker();
      for (const attempt of [() => v.record('email', '  ', 'o1'), () => v.record('card', 'fp', ''), () => v.recordDistinct('customer_cards', 'cus', ' ')]) {
        try {
          await attempt();
          expect.fail('should throw');
        } catch (error) {
          expect(error).to.be.instanceOf(AppError).with.property('kind', 'validation');
        }
      }
      expect(await keys()).to.deep.equal([]);
    });
  });
});
