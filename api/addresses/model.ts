import { Schema } from 'mongoose';

/**
 * How a PostalAddress is stored inside other documents (customers, enrollments). State and postal
 * code may be empty for non-US addresses, as the zod PostalAddress allows.
 */
export function postalAddressSchema(): Schema {
  return new Schema(
    {
      line1: { type: String, required: true },
      line2: { type: String },
      city: { type: String, required: true },
      state: { type: String, default: '' },
      postalCode: { type: String, default: '' },
      country: { type: String, required: true },
    },
    { _id: false },
  );
}
