import { z } from 'zod';
import { freeText } from '../http/free-text.ts';
import { PostalAddress } from '../addresses/schema.ts';
import { normalizeEmail, normalizeLoginName, normalizePhone } from './normalize.ts';

export { PostalAddress };

/**
 * Customer shapes shared by the API, the storefront bundle and the console (zod only, no Node).
 * Every object is strict: an unknown field is an error naming that field, never silently dropped.
 *
 * What is collected follows PIA C.1-C.2: name, email, phone, login name, password, ONE security
 * question, communication preferences, consents, an optional birth month (never a date of birth)
 * and saved addresses. Registration requires the 18+ warranty and the terms, both kept as consent
 * records; tracking (full IP, browsing) and marketing email are separate opt-ins.
 */

// --- fixed vocabularies ---

export const SECURITY_QUESTIONS = {
  first_pet: 'What was the name of your first pet?',
  birth_city: 'In what city were you born?',
  first_school: 'What was the name of your first school?',
  mother_maiden: "What is your mother's maiden name?",
  first_car: 'What was the make of your first car?',
  favourite_coin: 'What is the first coin you collected?',
  childhood_street: 'What street did you live on as a child?',
  father_middle: "What is your father's middle name?",
} as const;
export type SecurityQuestionId = keyof typeof SECURITY_QUESTIONS;
export const SECURITY_QUESTION_IDS = Object.keys(SECURITY_QUESTIONS) as [SecurityQuestionId, ...SecurityQuestionId[]];

/** The store's e-mail newsletters (PIA C.4), each subscribed to separately. */
export const NEWSLETTER_TOPICS = ['product_updates', 'lessons_that_make_cents', 'news_releases', 'coins_online'] as const;
export type NewsletterTopic = (typeof NEWSLETTER_TOPICS)[number];

/**
 * `age_attestation` (the 18+ warranty) and `terms` are recorded once at registration (or checkout
 * for guests); `tracking` (full IP and browsing tied to the account) and `marketing_email` are the
 * opt-ins a customer may grant and withdraw at any time.
 */
export const CONSENT_TYPES = ['tracking', 'marketing_email', 'terms', 'age_attestation'] as const;
export type ConsentType = (typeof CONSENT_TYPES)[number];
export const WITHDRAWABLE_CONSENTS = ['tracking', 'marketing_email'] as const;
export type WithdrawableConsent = (typeof WITHDRAWABLE_CONSENTS)[number];
export const CONSENT_SOURCES = ['web', 'phone', 'chat', 'admin'] as const;
export type ConsentSource = (typeof CONSENT_SOURCES)[number];

export const CUSTOMER_KINDS = ['registered', 'guest'] as const;
export type CustomerKind = (typeof CUSTOMER_KINDS)[number];
export const CUSTOMER_STATUSES = ['active', 'closed'] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

// --- field rules ---

const noControlChars = /^[^\p{Cc}\p{Cf}]*$/u;
const text = (max: number) => freeText(max, { min: 1 }).regex(noControlChars, 'Control characters are not allowed.');

export const personName = text(60);

/** Lower-cased, trimmed, then checked. */
export const emailSchema = z.preprocess((v) => (typeof v === 'string' ? normalizeEmail(v) : v), z.email().max(254));

/**
 * Normalised to E.164 (see normalizePhone); anything that cannot be normalised is `invalid_format`,
 * one stable code for "not a phone number".
 */
export const phoneSchema = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const normalised = normalizePhone(value);
    if (normalised) return normalised;
    ctx.addIssue({ code: 'invalid_format', format: 'phone', input: value, message: 'Enter a phone number such as (202) 555-0100 or +44 20 7946 0958.' });
    return z.NEVER;
  });

export const loginNameSchema = z.preprocess(
  (v) => (typeof v === 'string' ? normalizeLoginName(v) : v),
  z
    .string()
    .min(3)
    .max(40)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'Use letters, digits, ".", "_" or "-", starting with a letter or digit.'),
);

/** 256 is the most api/staff/password.ts will verify (longer only burns CPU). */
export const passwordSchema = z.string().min(10, 'Use at least 10 characters.').max(256);

/** PIA C.2 collects a birth month only: 1-12, never a day or year. */
export const birthMonthSchema = z.number().int().min(1).max(12);

export const securityQuestionIdSchema = z.enum(SECURITY_QUESTION_IDS);
export const securityAnswerSchema = freeText(100, { min: 2 }).regex(noControlChars, 'Control characters are not allowed.');

export const SecurityQuestionInput = z.strictObject({
  questionId: securityQuestionIdSchema,
  answer: securityAnswerSchema,
});

export const addressLabelSchema = text(40);

export const NewSavedAddress = z.strictObject({
  label: addressLabelSchema,
  address: PostalAddress,
});
export type NewSavedAddress = z.infer<typeof NewSavedAddress>;

export const addressIdSchema = z.string().regex(/^[A-Za-z0-9_-]{6,40}$/, 'Not an address id.');
export const customerIdSchema = z.uuid();

export const MAX_SAVED_ADDRESSES = 20;

/** One patch can add, change and remove saved addresses; changes apply in that order. */
export const AddressChanges = z
  .strictObject({
    add: z.array(NewSavedAddress).max(MAX_SAVED_ADDRESSES).optional(),
    update: z
      .array(
        z.strictObject({
          id: addressIdSchema,
          label: addressLabelSchema.optional(),
          address: PostalAddress.optional(),
        }),
      )
      .max(MAX_SAVED_ADDRESSES)
      .optional(),
    remove: z.array(addressIdSchema).max(MAX_SAVED_ADDRESSES).optional(),
  })
  .refine((v) => Boolean(v.add?.length || v.update?.length || v.remove?.length), 'Name at least one address to add, update or remove.');
export type AddressChanges = z.infer<typeof AddressChanges>;

export const EmailTopicsInput = z.strictObject(
  Object.fromEntries(NEWSLETTER_TOPICS.map((topic) => [topic, z.boolean().optional()])) as Record<NewsletterTopic, z.ZodOptional<z.ZodBoolean>>,
);
export type EmailTopicsInput = z.infer<typeof EmailTopicsInput>;

/** A boolean that must be `true`: missing is `required`, `false` is `invalid_value`. */
const mustBeTrue = (message: string) => z.boolean().pipe(z.literal(true, { error: message }));

// --- inputs ---

export const RegisterInput = z
  .strictObject({
    firstName: personName,
    lastName: personName,
    email: emailSchema,
    phone: phoneSchema,
    loginName: loginNameSchema,
    password: passwordSchema,
    securityQuestion: SecurityQuestionInput,
    /** The 18+ warranty of the Terms of Service (PIA C.1). */
    ageAttestation: mustBeTrue('You must confirm that you are 18 or older.'),
    acceptTerms: mustBeTrue('You must accept the terms of service.'),
    /** Opt-ins; leaving them out means "no". */
    consents: z
      .strictObject({
        tracking: z.boolean().optional(),
        marketingEmail: z.boolean().optional(),
      })
      .optional(),
    emailTopics: EmailTopicsInput.optional(),
    birthMonth: birthMonthSchema.optional(),
    addresses: z.array(NewSavedAddress).max(MAX_SAVED_ADDRESSES).optional(),
  })
  .superRefine((input, ctx) => {
    const lowered = input.password.toLowerCase();
    if (lowered === input.loginName || lowered === input.email) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'Your password must differ from your login name and email.' });
    }
    if (input.emailTopics && Object.values(input.emailTopics).some(Boolean) && input.consents?.marketingEmail === false) {
      ctx.addIssue({ code: 'custom', path: ['emailTopics'], message: 'Newsletters need marketing email consent.' });
    }
  });
export type RegisterInput = z.infer<typeof RegisterInput>;

/** `login` is the login name or the email address. */
export const LoginInput = z.strictObject({
  login: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(256),
});
export type LoginInput = z.infer<typeof LoginInput>;

const profileFields = {
  firstName: personName.optional(),
  lastName: personName.optional(),
  email: emailSchema.optional(),
  phone: phoneSchema.optional(),
  /** `null` removes the birth month. */
  birthMonth: birthMonthSchema.nullable().optional(),
  addresses: AddressChanges.optional(),
};

const hasSomeChange = (v: Record<string, unknown>) => Object.values(v).some((value) => value !== undefined);

export const ProfileUpdateInput = z.strictObject(profileFields).refine(hasSomeChange, 'Send at least one field to change.');
export type ProfileUpdateInput = z.infer<typeof ProfileUpdateInput>;

export const PreferencesInput = z
  .strictObject({
    /** Topics named here are set; topics left out keep their current setting. */
    emailTopics: EmailTopicsInput.optional(),
    /** Unsubscribes from every newsletter (applied before `emailTopics`). */
    unsubscribeAll: z.literal(true).optional(),
  })
  .refine((v) => v.emailTopics !== undefined || v.unsubscribeAll !== undefined, 'Send emailTopics or unsubscribeAll.');
export type PreferencesInput = z.infer<typeof PreferencesInput>;

export const ConsentInput = z.strictObject({
  type: z.enum(WITHDRAWABLE_CONSENTS),
  granted: z.boolean(),
});
export type ConsentInput = z.infer<typeof ConsentInput>;

export const ChangePasswordInput = z.strictObject({
  currentPassword: z.string().min(1).max(256),
  newPassword: passwordSchema,
});
export type ChangePasswordInput = z.infer<typeof ChangePasswordInput>;

export const CloseAccountInput = z.strictObject({
  /** Re-entered so a session left open on a shared computer cannot close the account. */
  password: z.string().min(1).max(256),
});
export type CloseAccountInput = z.infer<typeof CloseAccountInput>;

/** What closing an account did, so the customer is told their saved cards are gone. */
export const AccountClosed = z.strictObject({
  status: z.literal('closed'),
  /** Saved cards whose numbers were wiped from the vault. */
  savedCardsForgotten: z.number().int().min(0),
});
export type AccountClosed = z.infer<typeof AccountClosed>;

export const SecurityQuestionLookupInput = z.strictObject({
  login: z.string().trim().min(1).max(254),
});

export const SecurityQuestionResetInput = z.strictObject({
  login: z.string().trim().min(1).max(254),
  answer: z.string().min(1).max(100),
  newPassword: passwordSchema,
});
export type SecurityQuestionResetInput = z.infer<typeof SecurityQuestionResetInput>;

/** What checkout passes for a single-transaction (guest) customer. */
export const GuestInput = z.strictObject({
  firstName: personName,
  lastName: personName,
  email: emailSchema,
  phone: phoneSchema,
  /** Checkout shows the 18+ notice and terms; what the buyer ticked is recorded as consent. */
  consents: z
    .strictObject({
      ageAttestation: z.boolean().optional(),
      terms: z.boolean().optional(),
      tracking: z.boolean().optional(),
      marketingEmail: z.boolean().optional(),
    })
    .optional(),
});
export type GuestInput = z.infer<typeof GuestInput>;

/**
 * A staff member changing details on a caller's behalf (recorded with source `phone`): contact
 * details, addresses, newsletters and the withdrawable consents.
 */
export const StaffUpdateInput = z
  .strictObject({
    ...profileFields,
    emailTopics: EmailTopicsInput.optional(),
    consents: z.array(ConsentInput).min(1).max(WITHDRAWABLE_CONSENTS.length).optional(),
  })
  .refine(hasSomeChange, 'Send at least one field to change.');
export type StaffUpdateInput = z.infer<typeof StaffUpdateInput>;

// --- staff search ---

export const SEARCH_CRITERIA = ['name', 'email', 'phone', 'postalCode', 'line1', 'loginName', 'orderNumber'] as const;
export type SearchCriterion = (typeof SEARCH_CRITERIA)[number];
export const MAX_PAGE_SIZE = 50;

const queryText = (min: number, max: number) => z.string().trim().min(min).max(max).regex(noControlChars, 'Control characters are not allowed.');

/** Query-string values arrive as strings; page numbers are coerced. */
export const CustomerSearchQuery = z.strictObject({
  /** First name, last name or both ("jane do"): each word must start a first or last name. */
  name: queryText(2, 120).optional(),
  email: emailSchema.optional(),
  phone: phoneSchema.optional(),
  postalCode: z.string().trim().toUpperCase().min(3).max(12).regex(/^[A-Z0-9][A-Z0-9 -]*$/, 'Enter a postal code.').optional(),
  /** Start of the street line, e.g. "801 9th". */
  line1: queryText(3, 100).optional(),
  loginName: loginNameSchema.optional(),
  orderNumber: z
    .string()
    .transform((v) => v.replace(/[\s-]/g, ''))
    .pipe(z.string().regex(/^\d{6,12}$/, 'Enter an order number (digits).'))
    .optional(),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(20),
});
export type CustomerSearchQuery = z.infer<typeof CustomerSearchQuery>;

// --- outputs ---

export interface ConsentState {
  granted: boolean;
  at: string;
  source: ConsentSource;
}

export interface SavedAddress {
  id: string;
  label: string;
  address: PostalAddress;
}

/** What a customer sees of their own account (and staff see in the full profile). */
export interface CustomerProfile {
  id: string;
  kind: CustomerKind;
  status: CustomerStatus;
  firstName: string;
  lastName: string;
  email: string | null;
  phone: string | null;
  loginName: string | null;
  birthMonth: number | null;
  securityQuestion: { questionId: SecurityQuestionId; question: string } | null;
  addresses: SavedAddress[];
  emailTopics: Record<NewsletterTopic, boolean>;
  consents: Partial<Record<ConsentType, ConsentState>>;
  createdAt: string;
  closedAt: string | null;
}

export interface ConsentRecordView {
  type: ConsentType;
  granted: boolean;
  at: string;
  source: ConsentSource;
}

/** The full profile for staff: the profile plus the consent history (without IPs). */
export interface StaffCustomerView extends CustomerProfile {
  consentHistory: ConsentRecordView[];
}

/** One search hit: enough to tell callers apart, not enough to act on without opening the record. */
export interface CustomerSummary {
  id: string;
  kind: CustomerKind;
  status: CustomerStatus;
  firstName: string;
  lastName: string;
  emailMasked: string | null;
  phoneLast4: string | null;
  /** City, state and postal code of saved addresses (no street lines). */
  places: { city: string; state: string; postalCode: string }[];
}

export interface CustomerSearchPage {
  items: CustomerSummary[];
  page: number;
  pageSize: number;
  total: number;
}
