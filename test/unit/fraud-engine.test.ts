import { expect } from 'chai';
import fc from 'fast-check';
import { parseOrThrow, ValidationError, AppError } from '../../platform/errors.ts';
import { formatWindow, requiredSignals, scoreOrder } from '../../api/fraud/engine.ts';
import type { FraudSignals, OrderFacts } from '../../api/fraud/facts.ts';
import {
  hashEmail,
  hashHouseholdKey,
  highRiskEntryKeys,
  keyedDigest,
  normalizeEmail,
  normalizeHouseholdKey,
  orderHighRiskHashes,
} from '../../api/fraud/high-risk.ts';
import {
  DEFAULT_FRAUD_RULE_SET,
  FraudRuleSchema,
  FraudRuleSetSchema,
  longestWindowSeconds,
  RULE_PLACEHOLDERS,
  type FraudRule,
  type FraudRuleSet,
} from '../../api/fraud/rules-schema.ts';

const PLACED_AT = new Date('2030-03-01T12:00:00Z');
const DAY_MS = 86_400_000;

function baseFacts(overrides: Partial<OrderFacts> = {}): OrderFacts {
  return {
    orderId: 'ord_1',
    channel: 'web',
    placedAt: PLACED_AT,
    totalCents: 12_500,
    email: 'collector@example.com',
    ip: '203.0.113.9',
    billing: { country: 'US', state: 'NY', postalCode: '10001' },
    shipping: [{ country: 'US', state: 'NY', postalCode: '10001', householdKey: 'us|10001|1 main st', recipientNameKey: 'ann lee' }],
    cardToken: 'tok_abc',
    cardFingerprint: 'fp_abc',
    customerId: 'cus_1',
    accountCreatedAt: new Date(PLACED_AT.getTime() - 400 * DAY_MS),
    avsResult: 'match',
    cvvResult: 'match',
    emailHash: 'e'.repeat(64),
    shippingAddressHashes: ['a'.repeat(64)],
    ...overrides,
  };
}

/** Signals for an unremarkable order: every count 1, everything known, nothing on the list. */
function quietSignals(ruleSet: FraudRuleSet, overrides: Partial<FraudSignals> = {}): FraudSignals {
  const required = requiredSignals(ruleSet);
  return {
    velocity: required.velocity.map((v) => ({ ...v, count: 1 })),
    distinctCards: required.distinctCardWindowsDays.map((windowDays) => ({ windowDays, count: 1 })),
    householdNames: required.householdNameWindowsDays.map((windowDays) => ({ windowDays, count: 1 })),
    ipCountry: 'US',
    highRisk: { email: false, shippingAddress: false },
    ...overrides,
  };
}

function ruleSetOf(rules: FraudRule[], reviewThreshold = 50): FraudRuleSet {
  return parseOrThrow(FraudRuleSetSchema, { version: 7, reviewThreshold, rules });
}

const R = {
  orderValue: (thresholdCents: number, weight = 60): FraudRule => ({
    id: 'value',
    kind: 'order_value',
    weight,
    enabled: true,
    thresholdCents,
    explanation: 'Order total {total} is at or above {threshold}',
  }),
  velocity: (dimension: 'card' | 'email' | 'ip' | 'household', windowSeconds: number, maxCount: number): FraudRule => ({
    id: `velocity-${dimension}`,
    kind: 'velocity',
    weight: 60,
    enabled: true,
    dimension,
    windowSeconds,
    maxCount,
    explanation: '{count} orders from this {dimension} in {window} (limit {limit})',
  }),
  countryMismatch: (): FraudRule => ({
    id: 'country',
    kind: 'country_mismatch',
    weight: 60,
    enabled: true,
    explanation: 'Ships to {shippingCountry} but billed in {billingCountry}',
  }),
  distance: (compare: 'zip3' | 'state'): FraudRule => ({
    id: 'distance',
    kind: 'distance_mismatch',
    weight: 60,
    enabled: true,
    compare,
    explanation: 'Shipping {compare} {shipping} differs from billing {compare} {billing}',
  }),
  ipCountry: (): FraudRule => ({
    id: 'ip-country',
    kind: 'ip_country_mismatch',
    weight: 60,
    enabled: true,
    explanation: 'IP in {ipCountry}, billed in {billingCountry}',
  }),
  newAccount: (accountAgeDays: number, thresholdCents: number): FraudRule => ({
    id: 'new-account',
    kind: 'new_account_high_value',
    weight: 60,
    enabled: true,
    accountAgeDays,
    thresholdCents,
    explanation: 'Account is {ageDays} days old (under {accountAgeDays}); order {total} (at least {threshold})',
  }),
  manyCards: (maxDistinctCards: number, windowDays: number): FraudRule => ({
    id: 'many-cards',
    kind: 'many_cards',
    weight: 60,
    enabled: true,
    maxDistinctCards,
    windowDays,
    explanation: '{count} cards in {windowDays} days (limit {limit})',
  }),
  names: (maxDistinctNames: number, windowDays: number): FraudRule => ({
    id: 'names',
    kind: 'household_name_evasion',
    weight: 60,
    enabled: true,
    maxDistinctNames,
    windowDays,
    explanation: '{count} names at one address in {windowDays} days (limit {limit})',
  }),
  avs: (fireOn: ('street_only' | 'postal_only' | 'no_match' | 'unavailable')[]): FraudRule => ({
    id: 'avs',
    kind: 'avs_mismatch',
    weight: 60,
    enabled: true,
    fireOn,
    explanation: 'AVS: {result}',
  }),
  cvv: (fireOn: ('no_match' | 'not_checked' | 'unavailable')[]): FraudRule => ({
    id: 'cvv',
    kind: 'cvv_mismatch',
    weight: 60,
    enabled: true,
    fireOn,
    explanation: 'CVV: {result}',
  }),
  highRisk: (which: 'email' | 'shipping_address'): FraudRule => ({
    id: `high-risk-${which}`,
    kind: 'high_risk_match',
    weight: 60,
    enabled: true,
    which,
    explanation: 'The {which} matches a confirmed fraudulent order',
  }),
};

/** Scores one rule and returns its explanation if it fired, null if it did not. */
function fire(rule: FraudRule, facts: OrderFacts, signals?: Partial<FraudSignals>): string | null {
  const set = ruleSetOf([rule]);
  const result = scoreOrder(facts, quietSignals(set, signals), set);
  expect(result.unevaluated, 'unexpected unevaluated rules').to.deep.equal([]);
  expect(result.fired.length).to.be.at.most(1);
  return result.fired[0]?.explanation ?? null;
}

describe('fraud engine: rules', () => {
  describe('order_value', () => {
    it('fires at the threshold and not one cent below', () => {
      expect(fire(R.orderValue(250_000), baseFacts({ totalCents: 249_999 }))).to.equal(null);
      expect(fire(R.orderValue(250_000), baseFacts({ totalCents: 250_000 }))).to.equal('Order total $2,500.00 is at or above $2,500.00');
    });
  });

  describe('velocity', () => {
    for (const dimension of ['card', 'email', 'ip', 'household'] as const) {
      it(`${dimension}: fires above maxCount, not at it`, () => {
        const rule = R.velocity(dimension, 3600, 5);
        const signal = (count: number) => ({ velocity: [{ dimension, windowSeconds: 3600, count }] });
        expect(fire(rule, baseFacts(), signal(5))).to.equal(null);
        expect(fire(rule, baseFacts(), signal(6))).to.be.a('string');
      });
    }

    it('explains with count, dimension noun, window and limit', () => {
      const explanation = fire(R.velocity('ip', 3600, 5), baseFacts(), { velocity: [{ dimension: 'ip', windowSeconds: 3600, count: 7 }] });
      expect(explanation).to.equal('7 orders from this IP in 1 h (limit 5)');
    });

    it('reads only the signal for its own dimension and window', () => {
      const set = ruleSetOf([R.velocity('card', 3600, 2)]);
      const result = scoreOrder(
        baseFacts(),
        {
          velocity: [
            { dimension: 'card', windowSeconds: 86_400, count: 50 },
            { dimension: 'email', windowSeconds: 3600, count: 50 },
          ],
        },
        set,
      );
      expect(result.fired).to.deep.equal([]);
      expect(result.unevaluated).to.deep.equal([{ ruleId: 'velocity-card', kind: 'velocity', missing: 'velocity' }]);
    });

    it('does not apply an IP rule to an order without an IP (phone, renewal)', () => {
      const set = ruleSetOf([R.velocity('ip', 3600, 1)]);
      const result = scoreOrder(baseFacts({ ip: undefined, channel: 'phone' }), {}, set);
      expect(result.fired).to.deep.equal([]);
      expect(result.unevaluated).to.deep.equal([]);
    });

    it('does not apply a household rule to an order with no shipment', () => {
      const set = ruleSetOf([R.velocity('household', 3600, 1)]);
      const result = scoreOrder(baseFacts({ shipping: [], shippingAddressHashes: [] }), {}, set);
      expect(result).to.include({ score: 0, decision: 'clear' });
      expect(result.unevaluated).to.deep.equal([]);
    });
  });

  describe('country_mismatch', () => {
    it('compares countries case-insensitively', () => {
      expect(fire(R.countryMismatch(), baseFacts({ billing: { country: 'us', state: 'NY', postalCode: '10001' } }))).to.equal(null);
    });

    it('fires when any shipment leaves the billing country', () => {
      const facts = baseFacts();
      facts.shipping.push({ country: 'CA', state: 'ON', postalCode: 'M5V 2T6', householdKey: 'ca|m5v2t6|9 king', recipientNameKey: 'ann lee' });
      expect(fire(R.countryMismatch(), facts)).to.equal('Ships to CA but billed in US');
    });

    it('has nothing to compare without a shipment', () => {
      expect(fire(R.countryMismatch(), baseFacts({ shipping: [] }))).to.equal(null);
    });
  });

  describe('distance_mismatch', () => {
    const ship = (country: string, state: string, postalCode: string) => [
      { country, state, postalCode, householdKey: `${country}|${postalCode}|x`, recipientNameKey: 'ann lee' },
    ];

    it('state: fires on a different state, not on the same one', () => {
      expect(fire(R.distance('state'), baseFacts({ shipping: ship('US', 'ny', '10099') }))).to.equal(null);
      expect(fire(R.distance('state'), baseFacts({ shipping: ship('US', 'NJ', '07001') }))).to.equal('Shipping state NJ differs from billing state NY');
    });

    it('zip3: compares the first three postal characters only', () => {
      expect(fire(R.distance('zip3'), baseFacts({ shipping: ship('US', 'NY', '10099-1234') }))).to.equal(null);
      const explanation = fire(R.distance('zip3'), baseFacts({ shipping: ship('US', 'NY', '11201-1234') }));
      expect(explanation).to.equal('Shipping ZIP3 112 differs from billing ZIP3 100');
      expect(explanation).not.to.include('11201');
    });

    it('leaves cross-border shipments to country_mismatch', () => {
      expect(fire(R.distance('state'), baseFacts({ shipping: ship('CA', 'ON', 'M5V 2T6') }))).to.equal(null);
    });

    it('does not fire when a state is unknown', () => {
      expect(fire(R.distance('state'), baseFacts({ billing: { country: 'US', postalCode: '10001' }, shipping: ship('US', 'NJ', '07001') }))).to.equal(null);
      expect(fire(R.distance('state'), baseFacts({ shipping: ship('US', '  ', '07001') }))).to.equal(null);
    });
  });

  describe('ip_country_mismatch', () => {
    it('fires when the IP country differs from billing', () => {
      expect(fire(R.ipCountry(), baseFacts(), { ipCountry: 'US' })).to.equal(null);
      expect(fire(R.ipCountry(), baseFacts(), { ipCountry: 'ng' })).to.equal('IP in NG, billed in US');
    });

    it('treats an unknown or private IP as no evidence', () => {
      expect(fire(R.ipCountry(), baseFacts(), { ipCountry: null })).to.equal(null);
    });

    it('is unevaluated when the worker did not look the IP up, and not applicable without an IP', () => {
      const set = ruleSetOf([R.ipCountry()]);
      expect(scoreOrder(baseFacts(), {}, set).unevaluated).to.deep.equal([{ ruleId: 'ip-country', kind: 'ip_country_mismatch', missing: 'ipCountry' }]);
      expect(scoreOrder(baseFacts({ ip: undefined }), {}, set).unevaluated).to.deep.equal([]);
    });
  });

  describe('new_account_high_value', () => {
    const created = (ageMs: number) => new Date(PLACED_AT.getTime() - ageMs);

    it('fires for an account younger than accountAgeDays, not for one exactly that old', () => {
      const rule = R.newAccount(7, 100_000);
      expect(fire(rule, baseFacts({ totalCents: 100_000, accountCreatedAt: created(7 * DAY_MS) }))).to.equal(null);
      expect(fire(rule, baseFacts({ totalCents: 100_000, accountCreatedAt: created(7 * DAY_MS - 1) }))).to.equal(
        'Account is 6 days old (under 7); order $1,000.00 (at least $1,000.00)',
      );
    });

    it('needs the value threshold too', () => {
      expect(fire(R.newAccount(7, 100_000), baseFacts({ totalCents: 99_999, accountCreatedAt: created(DAY_MS) }))).to.equal(null);
    });

    it('measures from placedAt, not the wall clock', () => {
      const facts = baseFacts({ totalCents: 500_000, placedAt: new Date('2001-01-02T00:00:00Z'), accountCreatedAt: new Date('2001-01-01T00:00:00Z') });
      expect(fire(R.newAccount(7, 100_000), facts)).to.equal('Account is 1 days old (under 7); order $5,000.00 (at least $1,000.00)');
    });

    it('does not apply to guest checkout', () => {
      expect(fire(R.newAccount(7, 1), baseFacts({ customerId: undefined, accountCreatedAt: undefined }))).to.equal(null);
    });
  });

  describe('many_cards', () => {
    it('fires above maxDistinctCards, not at it', () => {
      const rule = R.manyCards(3, 30);
      expect(fire(rule, baseFacts(), { distinctCards: [{ windowDays: 30, count: 3 }] })).to.equal(null);
      expect(fire(rule, baseFacts(), { distinctCards: [{ windowDays: 30, count: 4 }] })).to.equal('4 cards in 30 days (limit 3)');
    });

    it('does not apply to guests and is unevaluated without the signal', () => {
      const set = ruleSetOf([R.manyCards(3, 30)]);
      expect(scoreOrder(baseFacts({ customerId: undefined }), {}, set).unevaluated).to.deep.equal([]);
      expect(scoreOrder(baseFacts(), { distinctCards: [{ windowDays: 7, count: 9 }] }, set).unevaluated).to.deep.equal([
        { ruleId: 'many-cards', kind: 'many_cards', missing: 'distinctCards' },
      ]);
    });
  });

  describe('household_name_evasion', () => {
    it('fires above maxDistinctNames, not at it', () => {
      const rule = R.names(2, 30);
      expect(fire(rule, baseFacts(), { householdNames: [{ windowDays: 30, count: 2 }] })).to.equal(null);
      expect(fire(rule, baseFacts(), { householdNames: [{ windowDays: 30, count: 3 }] })).to.equal('3 names at one address in 30 days (limit 2)');
    });

    it('does not apply without a shipment', () => {
      const set = ruleSetOf([R.names(2, 30)]);
      expect(scoreOrder(baseFacts({ shipping: [] }), {}, set).unevaluated).to.deep.equal([]);
    });
  });

  describe('avs_mismatch / cvv_mismatch', () => {
    it('AVS fires only on the configured outcomes', () => {
      expect(fire(R.avs(['no_match']), baseFacts({ avsResult: 'match' }))).to.equal(null);
      expect(fire(R.avs(['no_match']), baseFacts({ avsResult: 'postal_only' }))).to.equal(null);
      expect(fire(R.avs(['no_match']), baseFacts({ avsResult: 'no_match' }))).to.equal('AVS: no match');
      expect(fire(R.avs(['postal_only', 'no_match']), baseFacts({ avsResult: 'postal_only' }))).to.equal('AVS: postal code matches, street does not');
    });

    it('CVV fires only on the configured outcomes', () => {
      expect(fire(R.cvv(['no_match']), baseFacts({ cvvResult: 'match' }))).to.equal(null);
      expect(fire(R.cvv(['no_match']), baseFacts({ cvvResult: 'not_checked' }))).to.equal(null);
      expect(fire(R.cvv(['no_match']), baseFacts({ cvvResult: 'no_match' }))).to.equal('CVV: no match');
      expect(fire(R.cvv(['no_match', 'not_checked']), baseFacts({ cvvResult: 'not_checked' }))).to.equal('CVV: not checked');
    });

    it('does not treat a missing gateway result as a mismatch', () => {
      expect(fire(R.avs(['no_match', 'unavailable']), baseFacts({ avsResult: undefined }))).to.equal(null);
      expect(fire(R.cvv(['no_match', 'unavailable']), baseFacts({ cvvResult: undefined }))).to.equal(null);
    });
  });

  describe('high_risk_match', () => {
    it('fires on a list hit for its own target only', () => {
      expect(fire(R.highRisk('email'), baseFacts(), { highRisk: { email: false, shippingAddress: true } })).to.equal(null);
      expect(fire(R.highRisk('email'), baseFacts(), { highRisk: { email: true, shippingAddress: false } })).to.equal(
        'The email address matches a confirmed fraudulent order',
      );
      expect(fire(R.highRisk('shipping_address'), baseFacts(), { highRisk: { email: false, shippingAddress: true } })).to.equal(
        'The shipping address matches a confirmed fraudulent order',
      );
    });

    it('is unevaluated when the list was not queried', () => {
      const set = ruleSetOf([R.highRisk('email')]);
      expect(scoreOrder(baseFacts(), { highRisk: { shippingAddress: false } }, set).unevaluated).to.deep.equal([
        { ruleId: 'high-risk-email', kind: 'high_risk_match', missing: 'highRisk' },
      ]);
    });
  });
});

describe('fraud engine: score and decision', () => {
  const weighted = (id: string, weight: number, enabled = true): FraudRule => ({ ...R.orderValue(1, weight), id, enabled });

  it('reviews at the threshold and clears one point below', () => {
    const at = ruleSetOf([weighted('a', 30), weighted('b', 20)], 50);
    expect(scoreOrder(baseFacts(), {}, at)).to.include({ score: 50, rawScore: 50, decision: 'review', reviewThreshold: 50 });
    const below = ruleSetOf([weighted('a', 30), weighted('b', 19)], 50);
    expect(scoreOrder(baseFacts(), {}, below)).to.include({ score: 49, decision: 'clear' });
  });

  it('caps the score at 100 and keeps the raw sum', () => {
    const set = ruleSetOf([weighted('a', 80), weighted('b', 70)], 100);
    expect(scoreOrder(baseFacts(), {}, set)).to.include({ score: 100, rawScore: 150, decision: 'review' });
  });

  it('skips disabled rules entirely', () => {
    const set = ruleSetOf([weighted('on', 10), weighted('off', 90, false), { ...R.ipCountry(), enabled: false }], 50);
    const result = scoreOrder(baseFacts(), {}, set);
    expect(result.fired.map((f) => f.ruleId)).to.deep.equal(['on']);
    expect(result.unevaluated).to.deep.equal([]);
    expect(result.decision).to.equal('clear');
    expect(requiredSignals(set).ipCountry).to.equal(false);
  });

  it('records weight-0 rules as fired without moving the score', () => {
    const result = scoreOrder(baseFacts(), {}, ruleSetOf([weighted('shadow', 0)], 1));
    expect(result.fired).to.deep.equal([{ ruleId: 'shadow', kind: 'order_value', weight: 0, explanation: 'Order total $125.00 is at or above $0.01' }]);
    expect(result).to.include({ score: 0, decision: 'clear' });
  });

  it('reports the rule set version and lists fired rules in rule-set order', () => {
    const set = ruleSetOf([R.cvv(['no_match']), weighted('value', 5), R.countryMismatch()], 90);
    const facts = baseFacts({ cvvResult: 'no_match', shipping: [{ ...baseFacts().shipping[0]!, country: 'GB' }] });
    const result = scoreOrder(facts, quietSignals(set), set);
    expect(result.ruleSetVersion).to.equal(7);
    expect(result.orderId).to.equal('ord_1');
    expect(result.fired.map((f) => f.ruleId)).to.deep.equal(['cvv', 'value', 'country']);
  });

  it('is deterministic', () => {
    const facts = baseFacts({ cvvResult: 'no_match', totalCents: 2_000_000 });
    const signals = quietSignals(DEFAULT_FRAUD_RULE_SET, { ipCountry: 'RU' });
    expect(scoreOrder(facts, signals, DEFAULT_FRAUD_RULE_SET)).to.deep.equal(scoreOrder(facts, signals, DEFAULT_FRAUD_RULE_SET));
  });

  it('clears an unremarkable order under the default rule set, with every rule evaluated', () => {
    const result = scoreOrder(baseFacts(), quietSignals(DEFAULT_FRAUD_RULE_SET), DEFAULT_FRAUD_RULE_SET);
    expect(result).to.include({ score: 0, decision: 'clear', ruleSetVersion: 1 });
    expect(result.unevaluated).to.deep.equal([]);
  });

  it('sends a confirmed-fraud list hit to review under the default rule set', () => {
    const result = scoreOrder(baseFacts(), quietSignals(DEFAULT_FRAUD_RULE_SET, { highRisk: { email: true, shippingAddress: false } }), DEFAULT_FRAUD_RULE_SET);
    expect(result.decision).to.equal('review');
  });

  it('never puts an email, address, name or card identifier into an explanation', () => {
    // The "~" marker never occurs in an explanation, so any hit is a leak, not a coincidence.
    const text = fc.string({ minLength: 4, maxLength: 24 }).map((s) => `~${s}`);
    fc.assert(
      fc.property(fc.emailAddress(), text, text, text, fc.stringMatching(/^[0-9]{5}$/), (email, street, name, card, zip) => {
        const facts = baseFacts({
          email,
          totalCents: 5_000_000,
          cardToken: `tok_${card}`,
          cardFingerprint: `fp_${card}`,
          accountCreatedAt: new Date(PLACED_AT.getTime() - DAY_MS),
          avsResult: 'no_match',
          cvvResult: 'no_match',
          billing: { country: 'US', state: 'TX', postalCode: zip },
          shipping: [{ country: 'US', state: 'NY', postalCode: '10001', householdKey: street, recipientNameKey: name }],
        });
        const everything = {
          ...DEFAULT_FRAUD_RULE_SET,
          rules: [...DEFAULT_FRAUD_RULE_SET.rules, R.distance('zip3'), { ...R.countryMismatch(), id: 'country-2' }],
        };
        const signals: FraudSignals = {
          velocity: requiredSignals(everything).velocity.map((v) => ({ ...v, count: 999 })),
          distinctCards: [{ windowDays: 30, count: 9 }],
          householdNames: [{ windowDays: 30, count: 9 }],
          ipCountry: 'RO',
          highRisk: { email: true, shippingAddress: true },
        };
        const result = scoreOrder(facts, signals, everything);
        const fired = new Set(result.fired.map((f) => f.kind));
        expect(fired.size).to.equal(Object.keys(RULE_PLACEHOLDERS).length - 1); // all but country_mismatch (same country)
        for (const { explanation } of result.fired) {
          for (const secret of [email, street, name, card, zip]) expect(explanation).not.to.include(secret);
          expect(explanation).not.to.include('@');
          expect(explanation).not.to.match(/\{[a-zA-Z]+\}/);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('fraud engine: requiredSignals / formatWindow', () => {
  it('lists each velocity window once and distinct windows sorted', () => {
    const set = ruleSetOf([
      R.velocity('ip', 3600, 5),
      { ...R.velocity('ip', 3600, 9), id: 'ip-2' },
      { ...R.velocity('card', 600, 2), id: 'card-10m' },
      { ...R.manyCards(3, 30), id: 'c30' },
      { ...R.manyCards(2, 7), id: 'c7' },
      R.names(2, 14),
      R.ipCountry(),
      R.highRisk('shipping_address'),
    ]);
    expect(requiredSignals(set)).to.deep.equal({
      velocity: [
        { dimension: 'ip', windowSeconds: 3600 },
        { dimension: 'card', windowSeconds: 600 },
      ],
      distinctCardWindowsDays: [7, 30],
      householdNameWindowsDays: [14],
      ipCountry: true,
      highRisk: { email: false, shippingAddress: true },
    });
    expect(longestWindowSeconds(set)).to.equal(30 * 86_400);
  });

  it('formats windows the way agents read them', () => {
    expect([45, 600, 3600, 5400, 86_400, 7 * 86_400].map(formatWindow)).to.deep.equal(['45 s', '10 min', '1 h', '90 min', '24 h', '7 d']);
  });
});

describe('fraud rules schema', () => {
  function issues(input: unknown): string[] {
    try {
      parseOrThrow(FraudRuleSetSchema, input);
    } catch (error) {
      expect(error).to.be.instanceOf(ValidationError);
      return ((error as ValidationError).fields ?? []).map((f) => `${f.path}:${f.code}`);
    }
    return [];
  }
  const valid = () => structuredClone({ ...DEFAULT_FRAUD_RULE_SET, rules: DEFAULT_FRAUD_RULE_SET.rules.slice(0, 3) }) as { rules: Record<string, unknown>[] } & Record<string, unknown>;

  it('accepts the default rule set, which covers every rule kind', () => {
    expect(issues(DEFAULT_FRAUD_RULE_SET)).to.deep.equal([]);
    const kinds = new Set(DEFAULT_FRAUD_RULE_SET.rules.map((r) => r.kind));
    expect([...kinds].sort()).to.deep.equal(Object.keys(RULE_PLACEHOLDERS).sort());
    expect(requiredSignals(DEFAULT_FRAUD_RULE_SET).velocity).to.have.length(5);
  });

  it('rejects duplicate rule ids at the second occurrence', () => {
    const set = valid();
    set.rules[2]!.id = set.rules[0]!.id;
    expect(issues(set)).to.deep.equal(['rules.2.id:custom']);
  });

  it('rejects placeholders the rule kind does not provide', () => {
    const set = valid();
    set.rules[0]!.explanation = 'Order by {email} is {total}';
    expect(issues(set)).to.deep.equal(['rules.0.explanation:custom']);
    expect(() => parseOrThrow(FraudRuleSchema, { ...R.velocity('ip', 3600, 5), explanation: '{count} from {ip}' })).to.throw(ValidationError, /invalid/);
  });

  it('rejects card-number-like digit runs in explanations', () => {
    const set = valid();
    set.rules[0]!.explanation = 'Card 4111111111111111 seen';
    expect(issues(set)).to.deep.equal(['rules.0.explanation:input.card_number_in_text']);
    set.rules[0]!.explanation = 'Ref 411111111111 seen'; // 12 digits: not a card, still refused as a long run
    expect(issues(set)).to.deep.equal(['rules.0.explanation:custom']);
  });

  it('rejects out-of-range weights, thresholds and windows', () => {
    const set = valid();
    set.rules[0]!.weight = 101;
    set.rules[1]!.thresholdCents = 0;
    set.rules[2]!.windowSeconds = 91 * 86_400;
    set.reviewThreshold = 0;
    expect(issues(set)).to.have.members(['rules.0.weight:too_big', 'rules.1.thresholdCents:too_small', 'rules.2.windowSeconds:too_big', 'reviewThreshold:too_small']);
  });

  it('rejects unknown kinds, unknown params and missing fields', () => {
    const set = valid();
    set.rules[0] = { ...set.rules[0], kind: 'ip_blocklist' };
    set.rules[1] = { ...set.rules[1], treshold: 5 };
    delete set.rules[2]!.enabled;
    expect(issues(set)).to.have.members(['rules.0.kind:invalid_union', 'rules.1.treshold:unrecognized_key', 'rules.2.enabled:required']);
  });

  it('requires an integer version of at least 1', () => {
    expect(issues({ ...valid(), version: 1.5 })).to.deep.equal(['version:invalid_type']);
    expect(issues({ ...valid(), version: 0 })).to.deep.equal(['version:too_small']);
  });
});

describe('fraud high-risk hashing', () => {
  const SECRET = 'test-secret-0123456789abcdef-0123456789';

  it('normalises emails, folding Gmail dots and +tags only for Gmail', () => {
    expect(normalizeEmail('  Ann.Lee+coins@GoogleMail.com ')).to.equal('annlee@gmail.com');
    expect(normalizeEmail('ann.lee+coins@example.com')).to.equal('ann.lee+coins@example.com');
    expect(normalizeEmail('Ann@Example.COM.')).to.equal('ann@example.com');
    expect(normalizeEmail('not-an-email')).to.equal('not-an-email');
  });

  it('normalises household keys across case, punctuation and spacing', () => {
    expect(normalizeHouseholdKey('123 Main St., Apt #4')).to.equal(normalizeHouseholdKey(' 123  MAIN st apt 4 '));
  });

  it('hashes the same mailbox to the same key, and nothing in clear', () => {
    const a = hashEmail(SECRET, 'a.nn+x@gmail.com');
    expect(a).to.equal(hashEmail(SECRET, 'ANN@gmail.com'));
    expect(a).to.match(/^[0-9a-f]{64}$/);
    expect(a).not.to.equal(hashEmail(`${SECRET}-rotated`, 'ann@gmail.com'));
  });

  it('separates domains: the same text as email and as address hashes differently', () => {
    expect(hashEmail(SECRET, 'x@y.z')).not.to.equal(hashHouseholdKey(SECRET, 'x@y.z'));
    expect(keyedDigest(SECRET, 'velocity.ip', '10.0.0.1')).not.to.equal(keyedDigest(SECRET, 'velocity.email', '10.0.0.1'));
    // A label with a newline could make two (label, value) pairs encode alike.
    expect(() => keyedDigest(SECRET, 'a\nb', 'c')).to.throw(AppError).with.property('code', 'fraud.digest_domain_invalid');
  });

  it('builds list entries without customer data, skipping blanks and duplicates', () => {
    const entries = highRiskEntryKeys(SECRET, { email: ' ', householdKeys: ['1 Main St', '1 main st.', ''] });
    expect(entries).to.deep.equal([{ kind: 'shipping_address', hash: hashHouseholdKey(SECRET, '1 Main St') }]);
    const order = orderHighRiskHashes(SECRET, { email: 'Ann@example.com', shipping: [{ householdKey: '1 Main St' }] });
    expect(order).to.deep.equal({ emailHash: hashEmail(SECRET, 'ann@example.com'), shippingAddressHashes: [hashHouseholdKey(SECRET, '1 main st')] });
  });

  it('refuses a short secret and an empty value', () => {
    expect(() => hashEmail('short', 'a@b.c')).to.throw(AppError).with.property('code', 'fraud.secret_too_short');
    expect(() => hashEmail(SECRET, '  ')).to.throw(ValidationError);
  });
});
