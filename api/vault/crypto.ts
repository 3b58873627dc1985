import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { AppError } from '../../platform/errors.ts';
import { normalizePan } from './cards.ts';

/**
 * Envelope encryption for stored card numbers. Each PAN gets its own random data key (AES-256-GCM);
 * the data key is stored wrapped by a master key from the keyring. Rotating a master key therefore
 * re-wraps 32-byte keys and never decrypts or re-encrypts a PAN, and a leaked data key exposes one card.
 *
 * The card token (the id other records use to refer to the card) is bound into both GCM operations
 * as additional authenticated data, so a sealed blob copied onto another token does not decrypt.
 */

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12; // the GCM-native nonce size; random per encryption, and keys are never reused across PANs
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
/** The fingerprint secret guards a small search space (PANs are ~15 guessable digits), so demand a full key. */
const MIN_FINGERPRINT_SECRET_BYTES = 32;

export interface SealedPan {
  v: 1;
  masterKeyId: string;
  wrappedKey: string;
  keyIv: string;
  keyTag: string;
  iv: string;
  ciphertext: string;
  tag: string;
}

/**
 * The key material is kept out of the object (in a module-private WeakMap) so logging, JSON-encoding
 * or inspecting a keyring can never print a master key.
 */
export interface Keyring {
  readonly activeKeyId: string;
  readonly keyIds: readonly string[];
  has(keyId: string): boolean;
}

const keyMaterial = new WeakMap<Keyring, ReadonlyMap<string, Buffer>>();

function vaultError(code: string, message: string, details?: Record<string, unknown>, cause?: unknown): AppError {
  return new AppError('internal', code, message, { ...(details ? { details } : {}), ...(cause === undefined ? {} : { cause }) });
}

/** Buffer.from(…, 'base64') silently skips junk; a mistyped key must fail loudly instead. */
function decodeBase64Strict(value: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return null;
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : null;
}

function parseKeyEntry(entry: string, position: number): [string, Buffer] {
  const separator = entry.indexOf(':');
  if (separator < 0) {
    throw vaultError('vault.keyring_invalid', `Keyring entry ${position} must look like "<id>:<base64 key>".`);
  }
  const id = entry.slice(0, separator).trim();
  if (!KEY_ID_PATTERN.test(id)) {
    throw vaultError('vault.keyring_invalid', `Keyring entry ${position} has an invalid key id (1-32 of A-Z a-z 0-9 _ . -).`);
  }
  const key = decodeBase64Strict(entry.slice(separator + 1).trim());
  if (!key || key.length !== KEY_BYTES) {
    // Never echo the value: it is (a typo of) a master key.
    throw vaultError('vault.keyring_invalid', `Master key "${id}" must be ${KEY_BYTES} bytes of standard base64.`);
  }
  return [id, key];
}

/**
 * Parses `"k1:<base64 32 bytes>,k2:<base64>"`. The active key encrypts everything new; the others
 * only decrypt (and are re-wrapped away from) until they can be removed.
 */
export function parseKeyring(spec: string, activeId: string): Keyring {
  const entries = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw vaultError('vault.keyring_invalid', 'The keyring is empty; configure at least one master key.');
  const keys = new Map<string, Buffer>();
  entries.forEach((entry, index) => {
    const [id, key] = parseKeyEntry(entry, index + 1);
    if (keys.has(id)) throw vaultError('vault.keyring_invalid', `Master key id "${id}" appears more than once.`);
    keys.set(id, key);
  });
  if (!keys.has(activeId)) {
    throw vaultError('vault.keyring_invalid', `The active master key "${activeId}" is not in the keyring.`, { keyIds: [...keys.keys()] });
  }
  return createKeyring(keys, activeId);
}

function createKeyring(keys: ReadonlyMap<string, Buffer>, activeKeyId: string): Keyring {
  const keyIds = Object.freeze([...keys.keys()]);
  const describe = (): { activeKeyId: string; keyIds: readonly string[] } => ({ activeKeyId, keyIds });
  const keyring = Object.freeze({
    activeKeyId,
    keyIds,
    has: (keyId: string) => keys.has(keyId),
    toJSON: describe,
    [inspect.custom]: () => `Keyring ${inspect(describe())}`,
  });
  keyMaterial.set(keyring, keys);
  return keyring;
}

function masterKey(keyring: Keyring, keyId: string): Buffer {
  const key = keyMaterial.get(keyring)?.get(keyId);
  if (!key) {
    throw vaultError('vault.master_key_missing', `Master key "${keyId}" is not in the keyring; it was removed before everything was re-wrapped.`, {
      masterKeyId: keyId,
    });
  }
  return key;
}

/** A fresh master key for the keyring config, as standard base64. */
export function generateMasterKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function requireToken(token: string): void {
  if (typeof token !== 'string' || token.length === 0) throw vaultError('vault.token_required', 'A card token is required to seal or open a PAN.');
}

// JSON arrays are an unambiguous encoding of the parts, and the labels keep the two AADs distinct.
const panAad = (token: string): Buffer => Buffer.from(JSON.stringify(['mintdesk.vault.pan', 1, token]));
const keyAad = (token: string, masterKeyId: string): Buffer => Buffer.from(JSON.stringify(['mintdesk.vault.data-key', 1, masterKeyId, token]));

interface Sealed {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

function open(key: Buffer, sealed: Sealed, aad: Buffer): Buffer {
  // An explicit authTagLength stops a truncated tag from being accepted as a weaker one.
  const decipher = createDecipheriv(ALGORITHM, key, sealed.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (error) {
    // Wrong key, wrong token, or tampering: deliberately indistinguishable to the caller.
    throw vaultError('vault.decrypt_failed', 'The sealed card could not be opened.', undefined, error);
  }
}

interface DecodedSealedPan {
  masterKeyId: string;
  key: Sealed;
  pan: Sealed;
}

function decodeField(sealed: SealedPan, field: Exclude<keyof SealedPan, 'v' | 'masterKeyId'>, bytes?: number): Buffer {
  const value = decodeBase64Strict(typeof sealed[field] === 'string' ? sealed[field] : '');
  if (!value || (bytes !== undefined && value.length !== bytes) || value.length === 0) {
    throw vaultError('vault.sealed_invalid', `The sealed card is malformed (${field}).`);
  }
  return value;
}

function decodeSealedPan(sealed: SealedPan): DecodedSealedPan {
  if (sealed === null || typeof sealed !== 'object' || sealed.v !== 1) {
    throw vaultError('vault.sealed_invalid', 'The sealed card has an unknown format version.');
  }
  if (typeof sealed.masterKeyId !== 'string' || !KEY_ID_PATTERN.test(sealed.masterKeyId)) {
    throw vaultError('vault.sealed_invalid', 'The sealed card is malformed (masterKeyId).');
  }
  return {
    masterKeyId: sealed.masterKeyId,
    key: { iv: decodeField(sealed, 'keyIv', IV_BYTES), ciphertext: decodeField(sealed, 'wrappedKey', KEY_BYTES), tag: decodeField(sealed, 'keyTag', TAG_BYTES) },
    pan: { iv: decodeField(sealed, 'iv', IV_BYTES), ciphertext: decodeField(sealed, 'ciphertext'), tag: decodeField(sealed, 'tag', TAG_BYTES) },
  };
}

function wrapDataKey(dataKey: Buffer, keyring: Keyring, token: string): Pick<SealedPan, 'masterKeyId' | 'wrappedKey' | 'keyIv' | 'keyTag'> {
  const masterKeyId = keyring.activeKeyId;
  const wrapped = seal(masterKey(keyring, masterKeyId), dataKey, keyAad(token, masterKeyId));
  return {
    masterKeyId,
    wrappedKey: wrapped.ciphertext.toString('base64'),
    keyIv: wrapped.iv.toString('base64'),
    keyTag: wrapped.tag.toString('base64'),
  };
}

function unwrapDataKey(decoded: DecodedSealedPan, keyring: Keyring, token: string): Buffer {
  return open(masterKey(keyring, decoded.masterKeyId), decoded.key, keyAad(token, decoded.masterKeyId));
}

/** Seals a PAN (digits only) for storage under `token`. */
export function encryptPan(pan: string, keyring: Keyring, token: string): SealedPan {
  requireToken(token);
  if (!/^\d{12,19}$/.test(pan)) throw vaultError('vault.pan_invalid', 'Only a normalised card number (12-19 digits) can be sealed.');
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const sealedPan = seal(dataKey, Buffer.from(pan, 'utf8'), panAad(token));
    return {
      v: 1,
      ...wrapDataKey(dataKey, keyring, token),
      iv: sealedPan.iv.toString('base64'),
      ciphertext: sealedPan.ciphertext.toString('base64'),
      tag: sealedPan.tag.toString('base64'),
    };
  } finally {
    dataKey.fill(0); // the PAN string itself cannot be wiped in JS; the key at least does not linger
  }
}

/** Opens a sealed PAN stored under `token`. Fails with `vault.decrypt_failed` on any tampering or token swap. */
export function decryptPan(sealed: SealedPan, keyring: Keyring, token: string): string {
  requireToken(token);
  const decoded = decodeSealedPan(sealed);
  const dataKey = unwrapDataKey(decoded, keyring, token);
  try {
    const plaintext = open(dataKey, decoded.pan, panAad(token));
    const pan = plaintext.toString('utf8');
    plaintext.fill(0);
    return pan;
  } finally {
    dataKey.fill(0);
  }
}

/** True when the blob is wrapped by a key other than the active one, i.e. a rotation job should re-wrap it. */
export function needsRewrap(sealed: SealedPan, keyring: Keyring): boolean {
  return sealed.masterKeyId !== keyring.activeKeyId;
}

/**
 * Key rotation: re-wraps the data key under the active master key; the PAN ciphertext, IV and tag are
 * carried over untouched. Already-current blobs are returned as they are, so a rotation job can be
 * re-run safely. The old master key may be removed from the keyring only once every blob is re-wrapped.
 */
export function rewrapSealedPan(sealed: SealedPan, keyring: Keyring, token: string): SealedPan {
  requireToken(token);
  const decoded = decodeSealedPan(sealed);
  if (decoded.masterKeyId === keyring.activeKeyId) return sealed;
  const dataKey = unwrapDataKey(decoded, keyring, token);
  try {
    return { ...sealed, ...wrapDataKey(dataKey, keyring, token) };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Keyed hash (HMAC-SHA256, hex) of a PAN, so the same card can be recognised across orders and
 * accounts (velocity limits, "many cards on one account") without storing it. Keep the secret apart
 * from the master keys: without it the fingerprint cannot be brute-forced from the small PAN space.
 * A card number must never be usable to retrieve anything, so fingerprints are for internal risk rules
 * only; do not build a staff-facing "find by card number" on them.
 */
export function fingerprintPan(pan: string, secret: string | Buffer): string {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (key.length < MIN_FINGERPRINT_SECRET_BYTES) {
    throw vaultError('vault.fingerprint_secret_weak', `The fingerprint secret must be at least ${MIN_FINGERPRINT_SECRET_BYTES} bytes.`);
  }
  const digits = normalizePan(pan);
  if (!/^\d{12,19}$/.test(digits)) throw vaultError('vault.pan_invalid', 'Only a card number (12-19 digits) can be fingerprinted.');
  return createHmac('sha256', key).update(`mintdesk.card-fingerprint.v1:${digits}`).digest('hex');
}
