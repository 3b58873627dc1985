import { z } from 'zod';

export const SetCartLineRequest = z.strictObject({
  sku: z.string().trim().toUpperCase().regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, 'Not a product code.'),
  /** The line's new quantity; 0 removes it. */
  quantity: z.number().int('Whole units only.').min(0).max(100),
});
export type SetCartLineRequest = z.infer<typeof SetCartLineRequest>;

export const CartView = z.object({
  cartId: z.string(),
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.number(), unitPriceCents: z.number(), householdLimit: z.number().nullable() })),
  subtotalCents: z.number(),
});
export type CartView = z.infer<typeof CartView>;
