import { z } from 'zod';

/**
 * Every environment variable mintdesk reads, parsed once at boot into a frozen object.
 * A bad or missing value stops start-up with one line per variable saying what it expects.
 * Optional service URLs left empty mean "use the embedded default" (see platform/embedded).
 */

const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = (protocols: string[], hint: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, hint)
      .optional(),
  );
const port = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(fallback));
const positiveInt = (fallback: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().positive().default(fallback));
const bool = (fallback: boolean) =>
  z.preprocess(
    emptyToUndefined,
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((value) => ['true', '1', 'yes'].includes(value)),
  );

export const EnvSchema = z
  .object({
    NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'test', 'production']).default('development')),
    LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
    MINTDESK_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('.data')),

    PORT: port(3000),
    WS_PORT: port(3001),
    PUBLIC_BASE_URL: optionalUrl(['http:', 'https:'], 'expected an http(s) URL such as https://desk.example.com'),
    TRUST_PROXY: bool(false),

    MONGODB_URI: optionalUrl(['mongodb:', 'mongodb+srv:'], 'expected a mongodb:// or mongodb+srv:// URL'),
    MONGODB_DB: z.preprocess(emptyToUndefined, z.string().regex(/^[A-Za-z0-9_-]{1,60}$/, 'expected a database name (letters, digits, _ or -)').default('mintdesk')),
    MONGODB_EMBEDDED: z.preprocess(emptyToUndefined, z.enum(['auto', 'memory-server', 'ferretdb']).default('auto')),
    FERRETDB_POSTGRESQL_URL: optionalUrl(['postgres:', 'postgresql:'], 'expected a postgres:// URL for FerretDB to store data in'),

    REDIS_URL: optionalUrl(['redis:', 'rediss:'], 'expected a redis:// or rediss:// URL'),
    REDIS_PREFIX: z.preprocess(emptyToUndefined, z.string().default('mintdesk')),

    S3_ENDPOINT: optionalUrl(['http:', 'https:'], 'expected an http(s) URL of an S3-compatible endpoint'),
    S3_REGION: z.preprocess(emptyToUndefined, z.string().default('us-east-1')),
    S3_BUCKET: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)').default('mintdesk')),
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
    S3_FORCE_PATH_STYLE: bool(true),

    SMTP_URL: optionalUrl(['smtp:', 'smtps:'], 'expected an smtp:// or smtps:// URL'),
    MAIL_FROM: z.preprocess(emptyToUndefined, z.string().default('Mint Customer Service <service@mintdesk.local>')),

    TWILIO_ACCOUNT_SID: z.preprocess(emptyToUndefined, z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'expected an account SID: AC followed by 32 hex digits').optional()),
    TWILIO_AUTH_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'expected the account auth token').optional()),
    TWILIO_PHONE_NUMBER: z.preprocess(emptyToUndefined, z.string().regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number such as +12025550100').optional()),
    TWILIO_API_BASE_URL: optionalUrl(['http:', 'https:'], 'expected the http(s) base URL of the Twilio REST API (only for a local stand-in)'),

    MINTDESK_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'expected at least 32 characters of random secret').optional()),
    VAULT_MASTER_KEYS: z.preprocess(emptyToUndefined, z.string().regex(/^([A-Za-z0-9_-]+:[A-Za-z0-9+/=]{43,44})(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]{43,44})*$/, 'expected "keyId:base64-32-byte-key[,keyId:key...]"').optional()),
    VAULT_ACTIVE_KEY_ID: optionalString,
    AUDIT_HMAC_KEY: z.preprocess(emptyToUndefined, z.string().min(32, 'expected at least 32 characters of random secret, kept out of the database').optional()),

    STAFF_IDLE_TIMEOUT_MINUTES: positiveInt(15),
    STAFF_MAX_SESSION_HOURS: positiveInt(12),
    LOGIN_LOCKOUT_THRESHOLD: positiveInt(6),
    LOGIN_LOCKOUT_MINUTES: positiveInt(30),
    RESERVATION_TTL_SECONDS: positiveInt(600),
    AUDIT_RETENTION_MONTHS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(12, 'audit entries are kept at least 12 months').default(12)),
    AUDIT_CHECKPOINT_MINUTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(1440, 'at most 1440 (a day)').default(15)),
    AUDIT_CHECKPOINT_BUCKET: z.preprocess(emptyToUndefined, z.string().regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)').optional()),
    AUDIT_CHECKPOINT_LOCK_MODE: z.preprocess(emptyToUndefined, z.enum(['compliance', 'governance']).default('compliance')),
    SHUTDOWN_GRACE_SECONDS: positiveInt(20),
    STORE_NAME: z.preprocess(emptyToUndefined, z.string().min(2).max(60).default('Mint Store')),
    WORKER_FRAUD_CONCURRENCY: positiveInt(50),
    WORKER_PAYMENT_CONCURRENCY: positiveInt(10),
    EMAIL_RATE_PER_SECOND: positiveInt(50),
    IVR_REQUEST_BUDGET_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(100).max(14_000).default(3000)),
    TASK_OFFER_TIMEOUT_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1, 'at least 1 second').max(600, 'at most 600 seconds').default(20)),
  })
  .superRefine((env, ctx) => {
    const twilio = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN];
    if (twilio.some(Boolean) && !twilio.every(Boolean)) {
      for (const key of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when the other Twilio credential is set (leave both empty to simulate the phone network)' });
      }
    }
    if (env.S3_ENDPOINT && (!env.S3_ACCESS_KEY_ID || !env.S3_SECRET_ACCESS_KEY)) {
      for (const key of ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when S3_ENDPOINT is set' });
      }
    }
    if (env.VAULT_MASTER_KEYS) {
      const ids = env.VAULT_MASTER_KEYS.split(',').map((entry) => entry.split(':')[0]);
      if (!env.VAULT_ACTIVE_KEY_ID) ctx.addIssue({ code: 'custom', path: ['VAULT_ACTIVE_KEY_ID'], message: 'required when VAULT_MASTER_KEYS is set: the key id new cards are sealed with' });
      else if (!ids.includes(env.VAULT_ACTIVE_KEY_ID)) ctx.addIssue({ code: 'custom', path: ['VAULT_ACTIVE_KEY_ID'], message: `must be one of the ids in VAULT_MASTER_KEYS (${ids.join(', ')})` });
    }
    // One leaked secret must not also forge the audit trail's anchors.
    if (env.AUDIT_HMAC_KEY && env.AUDIT_HMAC_KEY === env.MINTDESK_SECRET) ctx.addIssue({ code: 'custom', path: ['AUDIT_HMAC_KEY'], message: 'must differ from MINTDESK_SECRET' });
    if (env.NODE_ENV === 'production') {
      // Embedded development secrets are generated and kept on disk; production must bring its own.
      const required = ['MINTDESK_SECRET', 'VAULT_MASTER_KEYS', 'AUDIT_HMAC_KEY', 'PUBLIC_BASE_URL', 'MONGODB_URI', 'REDIS_URL'] as const;
      for (const key of required) {
        if (!env[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'required when NODE_ENV=production' });
      }
    }
  });

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  logLevel: Env['LOG_LEVEL'];
  dataDir: string;
  http: { port: number; publicBaseUrl: string | undefined; trustProxy: boolean };
  ws: { port: number };
  mongo: { uri: string | undefined; dbName: string; embedded: Env['MONGODB_EMBEDDED']; ferretPostgresUrl: string | undefined };
  redis: { url: string | undefined; prefix: string };
  s3: { endpoint: string | undefined; region: string; bucket: string; accessKeyId: string | undefined; secretAccessKey: string | undefined; forcePathStyle: boolean };
  smtp: { url: string | undefined; from: string };
  twilio: { accountSid: string | undefined; authToken: string | undefined; phoneNumber: string | undefined; apiBaseUrl: string | undefined };
  secrets: { appSecret: string | undefined; vaultMasterKeys: string | undefined; vaultActiveKeyId: string | undefined; auditHmacKey: string | undefined };
  staff: { idleTimeoutMinutes: number; maxSessionHours: number; lockoutThreshold: number; lockoutMinutes: number };
  checkout: { reservationTtlSeconds: number };
  audit: { retentionMonths: number; checkpointMinutes: number; checkpointBucket: string | undefined; checkpointLockMode: Env['AUDIT_CHECKPOINT_LOCK_MODE'] };
  shutdownGraceSeconds: number;
  ivr: { requestBudgetMs: number };
  tasks: { offerTimeoutSeconds: number };
  storeName: string;
  workers: { fraudConcurrency: number; paymentConcurrency: number; emailRatePerSecond: number };
}

export class ConfigError extends Error {
  readonly problems: { variable: string; message: string }[];

  constructor(problems: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function loadConfig(source: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): Readonly<Config> {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '(environment)'), message: issue.message })),
    );
  }
  const env = parsed.data;
  return deepFreeze({
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    dataDir: env.MINTDESK_DATA_DIR,
    http: { port: env.PORT, publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ''), trustProxy: env.TRUST_PROXY },
    ws: { port: env.WS_PORT },
    mongo: { uri: env.MONGODB_URI, dbName: env.MONGODB_DB, embedded: env.MONGODB_EMBEDDED, ferretPostgresUrl: env.FERRETDB_POSTGRESQL_URL },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
    s3: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      bucket: env.S3_BUCKET,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
    },
    smtp: { url: env.SMTP_URL, from: env.MAIL_FROM },
    twilio: { accountSid: env.TWILIO_ACCOUNT_SID, authToken: env.TWILIO_AUTH_TOKEN, phoneNumber: env.TWILIO_PHONE_NUMBER, apiBaseUrl: env.TWILIO_API_BASE_URL },
    secrets: { appSecret: env.MINTDESK_SECRET, vaultMasterKeys: env.VAULT_MASTER_KEYS, vaultActiveKeyId: env.VAULT_ACTIVE_KEY_ID, auditHmacKey: env.AUDIT_HMAC_KEY },
    staff: {
      idleTimeoutMinutes: env.STAFF_IDLE_TIMEOUT_MINUTES,
      maxSessionHours: env.STAFF_MAX_SESSION_HOURS,
      lockoutThreshold: env.LOGIN_LOCKOUT_THRESHOLD,
      lockoutMinutes: env.LOGIN_LOCKOUT_MINUTES,
    },
    checkout: { reservationTtlSeconds: env.RESERVATION_TTL_SECONDS },
    audit: {
      retentionMonths: env.AUDIT_RETENTION_MONTHS,
      checkpointMinutes: env.AUDIT_CHECKPOINT_MINUTES,
      checkpointBucket: env.AUDIT_CHECKPOINT_BUCKET,
      checkpointLockMode: env.AUDIT_CHECKPOINT_LOCK_MODE,
    },
    shutdownGraceSeconds: env.SHUTDOWN_GRACE_SECONDS,
    storeName: env.STORE_NAME,
    workers: { fraudConcurrency: env.WORKER_FRAUD_CONCURRENCY, paymentConcurrency: env.WORKER_PAYMENT_CONCURRENCY, emailRatePerSecond: env.EMAIL_RATE_PER_SECOND },
    ivr: { requestBudgetMs: env.IVR_REQUEST_BUDGET_MS },
    tasks: { offerTimeoutSeconds: env.TASK_OFFER_TIMEOUT_SECONDS },
  });
}

/** The variables, their defaults and meaning, for the README table and `mintdesk config`. */
export const CONFIG_DOC: { variable: string; default: string; meaning: string }[] = [
  { variable: 'NODE_ENV', default: 'development', meaning: 'development, test or production (production requires real secrets and service URLs)' },
  { variable: 'LOG_LEVEL', default: 'info', meaning: 'pino level' },
  { variable: 'MINTDESK_DATA_DIR', default: '.data', meaning: 'where embedded servers and development secrets keep their files' },
  { variable: 'PORT', default: '3000', meaning: 'HTTP port of the API, IVR webhooks and console' },
  { variable: 'WS_PORT', default: '3001', meaning: 'port of `mintdesk ws`' },
  { variable: 'PUBLIC_BASE_URL', default: 'http://localhost:$PORT', meaning: 'URL Twilio and browsers use; Twilio signatures are checked against it' },
  { variable: 'TRUST_PROXY', default: 'false', meaning: 'trust X-Forwarded-* from a reverse proxy (client IPs for rate limits and audit)' },
  { variable: 'MONGODB_URI', default: '(embedded)', meaning: 'MongoDB 7 URL; empty starts mongodb-memory-server or FerretDB' },
  { variable: 'MONGODB_DB', default: 'mintdesk', meaning: 'database name' },
  { variable: 'MONGODB_EMBEDDED', default: 'auto', meaning: 'auto, memory-server or ferretdb: which embedded server to try' },
  { variable: 'FERRETDB_POSTGRESQL_URL', default: '(local PostgreSQL if reachable, else SQLite)', meaning: 'storage for embedded FerretDB' },
  { variable: 'REDIS_URL', default: '(local Redis or embedded redis-server)', meaning: 'Redis 7 URL (noeviction policy required by BullMQ)' },
  { variable: 'REDIS_PREFIX', default: 'mintdesk', meaning: 'prefix of every key and queue' },
  { variable: 'S3_ENDPOINT', default: '(embedded s3rver)', meaning: 'S3-compatible endpoint URL' },
  { variable: 'S3_REGION', default: 'us-east-1', meaning: 'S3 region' },
  { variable: 'S3_BUCKET', default: 'mintdesk', meaning: 'bucket for recordings and captures' },
  { variable: 'S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY', default: '', meaning: 'S3 credentials, required with S3_ENDPOINT' },
  { variable: 'S3_FORCE_PATH_STYLE', default: 'true', meaning: 'path-style bucket addressing (MinIO, s3rver)' },
  { variable: 'SMTP_URL', default: '(embedded SMTP server)', meaning: 'smtp:// or smtps:// URL with credentials' },
  { variable: 'MAIL_FROM', default: 'Mint Customer Service <service@mintdesk.local>', meaning: 'From header of outgoing mail' },
  { variable: 'TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN', default: '(phone simulator)', meaning: 'Twilio credentials; both or neither' },
  { variable: 'TWILIO_PHONE_NUMBER', default: '', meaning: 'the store number callers dial (E.164)' },
  { variable: 'TWILIO_API_BASE_URL', default: 'https://api.twilio.com', meaning: 'only for pointing the Twilio client at a local stand-in' },
  { variable: 'MINTDESK_SECRET', default: '(generated into .data in development)', meaning: 'HMAC secret for tokens, signed links and keyed hashes (32+ chars)' },
  { variable: 'VAULT_MASTER_KEYS / VAULT_ACTIVE_KEY_ID', default: '(generated into .data in development)', meaning: 'card vault master keys "id:base64,..." and the id used to seal new cards' },
  { variable: 'AUDIT_HMAC_KEY', default: '(generated into .data in development)', meaning: 'key of the audit trail\'s HMACs and signed checkpoints (32+ chars, distinct from MINTDESK_SECRET; never stored in the database)' },
  { variable: 'STAFF_IDLE_TIMEOUT_MINUTES', default: '15', meaning: 'staff session idle timeout' },
  { variable: 'STAFF_MAX_SESSION_HOURS', default: '12', meaning: 'staff session absolute lifetime' },
  { variable: 'LOGIN_LOCKOUT_THRESHOLD', default: '6', meaning: 'failed staff logons before lockout' },
  { variable: 'LOGIN_LOCKOUT_MINUTES', default: '30', meaning: 'lockout duration' },
  { variable: 'RESERVATION_TTL_SECONDS', default: '600', meaning: 'how long a cart reservation holds stock' },
  { variable: 'AUDIT_RETENTION_MONTHS', default: '12', meaning: 'minimum audit retention (at least 12)' },
  { variable: 'AUDIT_CHECKPOINT_MINUTES', default: '15', meaning: 'how often the workers write a signed checkpoint of the audit head to S3 and the log' },
  { variable: 'AUDIT_CHECKPOINT_BUCKET', default: '(S3_BUCKET)', meaning: 'bucket for audit checkpoints; in production one created with object lock' },
  { variable: 'AUDIT_CHECKPOINT_LOCK_MODE', default: 'compliance', meaning: 'object-lock mode of checkpoints where the bucket has object lock: compliance or governance' },
  { variable: 'SHUTDOWN_GRACE_SECONDS', default: '20', meaning: 'time allowed for in-flight work on SIGTERM' },
  { variable: 'STORE_NAME', default: 'Mint Store', meaning: 'store name in emails' },
  { variable: 'WORKER_FRAUD_CONCURRENCY', default: '50', meaning: 'fraud checks one workers process runs at once' },
  { variable: 'WORKER_PAYMENT_CONCURRENCY', default: '10', meaning: 'payment authorisations one workers process runs at once' },
  { variable: 'EMAIL_RATE_PER_SECOND', default: '50', meaning: 'most emails sent per second (BullMQ limiter, across processes)' },
  { variable: 'TASK_OFFER_TIMEOUT_SECONDS', default: '20', meaning: 'how long an agent has to accept an offered task (chat, call, review) before it goes to the next agent' },
  { variable: 'IVR_REQUEST_BUDGET_MS', default: '3000', meaning: 'longest an IVR webhook may take before the caller hears the apology and is offered a rep (Twilio gives up at 15 s)' },
];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
