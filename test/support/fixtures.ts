import type { Services } from '../../api/services.ts';
import { luhnValid } from '../../api/vault/cards.ts';

export const SYSTEM = { type: 'system', component: 'test' } as const;

/** `payload` with the digit appended that makes it pass the Luhn check (test card numbers). */
export function withLuhnCheckDigit(payload: string): string {
  for (let digit = 0; digit <= 9; digit += 1) if (luhnValid(`${payload}${digit}`)) return `${payload}${digit}`;
  throw new Error('unreachable: one digit always completes a Luhn number');
}

let skuCounter = 0;
/** A released, active product with live stock, created through the catalog service. */
export async function createProduct(services: Services, overrides: Record<string, unknown> = {}) {
  skuCounter += 1;
  const sku = (overrides.sku as string | undefined) ?? `T-${Date.now().toString(36).toUpperCase()}-${skuCounter}`;
  return services.catalog.create(
    {
      sku,
      name: `Test coin ${sku}`,
      description: 'A coin made for a test.',
      priceCents: 5_000,
      // Released an hour before the service's own clock, which tests may fix at another date than today.
      releaseAt: new Date(services.core.clock().getTime() - 3600_000).toISOString(),
      totalStock: 100,
      householdLimit: null,
      active: true,
      category: 'coins',
      ...overrides,
    },
    SYSTEM,
  );
}

export const address = (overrides: Record<string, unknown> = {}) => ({
  line1: '1500 Pennsylvania Ave NW',
  city: 'Washington',
  state: 'DC',
  postalCode: '20220',
  country: 'US',
  ...overrides,
});

/** A complete, valid web checkout body for the given lines. */
export function checkoutBody(lines: { sku: string; quantity: number; shipTo?: number }[], overrides: Record<string, unknown> = {}) {
  return {
    lines,
    purchaser: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '202-555-0100' },
    billingAddress: address(),
    shipments: [{ address: address() }],
    payment: { type: 'card', card: { number: '4242 4242 4242 4242', expMonth: 12, expYear: new Date().getUTCFullYear() + 2, cvv: '123', nameOnCard: 'Ada Lovelace' } },
    attestation: { termsAccepted: true, ageConfirmed: true },
    ...overrides,
  };
}
