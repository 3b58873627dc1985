import { z } from 'zod';
import { freeText } from '../http/free-text.ts';
import { PlaceOrderRequest } from '../orders/schema.ts';
import { ORDER_STATUSES } from '../orders/status.ts';

/** Route-level shapes of the checkout and order routes, shared with the OpenAPI document. */
export const OrderNumberParam = z.strictObject({ orderNumber: z.string().min(8).max(12) });
export const RoomParam = z.strictObject({ roomId: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).meta({ description: 'The launch sku the room guards.' }) });
export const CartParam = z.strictObject({ cartId: z.string().min(8).max(64) });
export const CardTokenParam = z.strictObject({ cardToken: z.string().min(10).max(80) });

export const PhoneOrderRequest = z.strictObject({
  customerId: z.string().min(1).max(64).nullable().default(null).meta({ description: 'The customer the CSR looked up; null for a caller without an account.' }),
  order: PlaceOrderRequest,
});

export const StaffOrderQuery = z.strictObject({
  status: z.enum(ORDER_STATUSES).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});

export const OpenLaunchRequest = z.strictObject({ sku: z.string().min(2).max(40), opensAt: z.coerce.date(), admitPerSecond: z.number().positive().max(100_000) });
export const CancelOrderRequest = z.strictObject({ reason: freeText(500, { min: 3 }) });
