import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { AppError } from '../../platform/errors.ts';
import {
  decryptPan,
  encryptPan,
  fingerprintPan,
  generateMasterKey,
  needsRewrap,
  parseKeyring,
  rewrapSealedPan,
  type SealedPan,
} from '../../api/vault/crypto.ts';

const PAN = '4242424242424242';
const TOKEN = 'card_tok_01';
const K1 = generateMasterKey();
const K2 = generateMasterKey();

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(AppError);
    return (error as AppError).code;
  }
  expect.fail('expected an AppError');
}

/** Flips one bit of a base64 field, keeping it well-formed so only the cryptography can notice. */
function flipBit(sealed: SealedPan, field: keyof Omit<SealedPan, 'v' | 'masterKeyId'>): SealedPan {
  const bytes = Buffer.from(sealed[field], 'base64');
  bytes[bytes.length - 1]! ^= 0x01;
  return { ...sealed, [field]: bytes.toString('base64') };
}

describe('vault/crypto', () => {
  describe('parseKeyring', () => {
    it('parses ids and keys and exposes the active id', () => {
      const keyring = parseKeyring(` k1:${K1} , k2:${K2} `, 'k2');
      expect(keyring.activeKeyId).to.equal('k2');
      expect(keyring.keyIds).to.deep.equal(['k1', 'k2']);
      expect(keyring.has('k1')).to.equal(true);
      expect(keyring.has('k3')).to.equal(false);
    });

    it('fails clearly on a bad spec without echoing key material', () => {
      const short = randomBytes(16).toString('base64');
      const cases: [string, string][] = [
        ['', 'k1'],
        [`k1=${K1}`, 'k1'],
        [`k 1:${K1}`, 'k 1'],
        [`k1:${short}`, 'k1'],
        [`k1:${K1.slice(0, -2)}!!`, 'k1'],
        [`k1:${K1},k1:${K2}`, 'k1'],
        [`k1:${K1}`, 'k2'],
      ];
      for (const [spec, active] of cases) {
        try {
          parseKeyring(spec, active);
          expect.fail(`should reject ${spec}`);
        } catch (error) {
          expect((error as AppError).code, spec).to.equal('vault.keyring_invalid');
          expect((error as Error).message).not.to.include(K1.slice(0, 20));
          expect((error as Error).message).not.to.include(short.slice(0, 12));
        }
      }
    });

    it('cannot leak keys through JSON or inspection', () => {
      const keyring = parseKeyring(`k1:${K1}`, 'k1');
      expect(JSON.stringify(keyring)).to.equal('{"activeKeyId":"k1","keyIds":["k1"]}');
      expect(inspect(keyring, { showHidden: true, depth: 5 })).not.to.include(K1.slice(0, 20));
    });

    it('generates 32-byte base64 keys', () => {
      expect(Buffer.from(generateMasterKey(), 'base64')).to.have.length(32);
      expect(generateMasterKey()).not.to.equal(generateMasterKey());
    });
  });

  describe('seal and open', () => {
    const keyring = parseKeyring(`k1:${K1}`, 'k1');

    it('round-trips a PAN and never stores it in the clear', () => {
      const sealed = encryptPan(PAN, keyring, TOKEN);
      expect(sealed.v).to.equal(1);
      expect(sealed.masterKeyId).to.equal('k1');
      expect(JSON.stringify(sealed)).not.to.include(PAN);
      expect(Buffer.from(sealed.iv, 'base64')).to.have.length(12);
      expect(Buffer.from(sealed.tag, 'base64')).to.have.length(16);
      expect(decryptPan(JSON.parse(JSON.stringify(sealed)) as SealedPan, keyring, TOKEN)).to.equal(PAN);
    });

    it('uses a fresh data key and IVs every time', () => {
      const a = encryptPan(PAN, keyring, TOKEN);
      const b = encryptPan(PAN, keyring, TOKEN);
      expect(a.wrappedKey).not.to.equal(b.wrappedKey);
      expect(a.iv).not.to.equal(b.iv);
      expect(a.ciphertext).not.to.equal(b.ciphertext);
    });

    for (const field of ['ciphertext', 'tag', 'iv', 'wrappedKey', 'keyTag', 'keyIv'] as const) {
      it(`detects tampering with ${field}`, () => {
        const sealed = encryptPan(PAN, keyring, TOKEN);
        expect(errorCode(() => decryptPan(flipBit(sealed, field), keyring, TOKEN))).to.equal('vault.decrypt_failed');
      });
    }

    it('refuses a blob moved to another token', () => {
      const sealed = encryptPan(PAN, keyring, TOKEN);
      expect(errorCode(() => decryptPan(sealed, keyring, 'card_tok_02'))).to.equal('vault.decrypt_failed');
      expect(errorCode(() => rewrapSealedPan(sealed, parseKeyring(`k1:${K1},k2:${K2}`, 'k2'), 'card_tok_02'))).to.equal('vault.decrypt_failed');
    });

    it('refuses a data key swapped in from another blob of the same token', () => {
      const a = encryptPan(PAN, keyring, TOKEN);
      const b = encryptPan('5555555555554444', keyring, TOKEN);
      const mixed = { ...a, wrappedKey: b.wrappedKey, keyIv: b.keyIv, keyTag: b.keyTag };
      expect(errorCode(() => decryptPan(mixed, keyring, TOKEN))).to.equal('vault.decrypt_failed');
    });

    it('refuses a blob relabelled to another master key', () => {
      const both = parseKeyring(`k1:${K1},k2:${K1}`, 'k1'); // same bytes, so only the bound key id differs
      const sealed = encryptPan(PAN, both, TOKEN);
      expect(errorCode(() => decryptPan({ ...sealed, masterKeyId: 'k2' }, both, TOKEN))).to.equal('vault.decrypt_failed');
    });

    it('rejects truncated tags, unknown versions and malformed fields before decrypting', () => {
      const sealed = encryptPan(PAN, keyring, TOKEN);
      const shortTag = Buffer.from(sealed.tag, 'base64').subarray(0, 8).toString('base64');
      expect(errorCode(() => decryptPan({ ...sealed, tag: shortTag }, keyring, TOKEN))).to.equal('vault.sealed_invalid');
      expect(errorCode(() => decryptPan({ ...sealed, v: 2 } as unknown as SealedPan, keyring, TOKEN))).to.equal('vault.sealed_invalid');
      expect(errorCode(() => decryptPan({ ...sealed, ciphertext: 'not base64!' }, keyring, TOKEN))).to.equal('vault.sealed_invalid');
    });

    it('only seals normalised card numbers under a token', () => {
      expect(errorCode(() => encryptPan('4242 4242 4242 4242', keyring, TOKEN))).to.equal('vault.pan_invalid');
      expect(errorCode(() => encryptPan(PAN, keyring, ''))).to.equal('vault.token_required');
    });
  });

  describe('rotation', () => {
    it('re-wraps under the new active key, after which the old key can be removed', () => {
      const before = parseKeyring(`k1:${K1}`, 'k1');
      const sealed = encryptPan(PAN, before, TOKEN);

      const rotating = parseKeyring(`k1:${K1},k2:${K2}`, 'k2');
      expect(needsRewrap(sealed, rotating)).to.equal(true);
      expect(decryptPan(sealed, rotating, TOKEN)).to.equal(PAN); // old blobs still open mid-rotation
      const rewrapped = rewrapSealedPan(sealed, rotating, TOKEN);
      expect(rewrapped.masterKeyId).to.equal('k2');
      expect(needsRewrap(rewrapped, rotating)).to.equal(false);
      // The PAN ciphertext is carried over untouched; only the key envelope changes.
      expect([rewrapped.iv, rewrapped.ciphertext, rewrapped.tag]).to.deep.equal([sealed.iv, sealed.ciphertext, sealed.tag]);
      expect(rewrapped.wrappedKey).not.to.equal(sealed.wrappedKey);

      const after = parseKeyring(`k2:${K2}`, 'k2');
      expect(decryptPan(rewrapped, after, TOKEN)).to.equal(PAN);
      // A blob that missed the re-wrap cannot be opened once k1 is gone.
      expect(errorCode(() => decryptPan(sealed, after, TOKEN))).to.equal('vault.master_key_missing');
    });

    it('is idempotent for blobs already under the active key', () => {
      const keyring = parseKeyring(`k1:${K1},k2:${K2}`, 'k2');
      const sealed = encryptPan(PAN, keyring, TOKEN);
      expect(rewrapSealedPan(sealed, keyring, TOKEN)).to.equal(sealed);
    });

    it('detects tampering while re-wrapping', () => {
      const sealed = encryptPan(PAN, parseKeyring(`k1:${K1}`, 'k1'), TOKEN);
      const rotating = parseKeyring(`k1:${K1},k2:${K2}`, 'k2');
      expect(errorCode(() => rewrapSealedPan(flipBit(sealed, 'wrappedKey'), rotating, TOKEN))).to.equal('vault.decrypt_failed');
    });
  });

  describe('fingerprintPan', () => {
    const secret = randomBytes(32);

    it('recognises the same card however it was typed', () => {
      const fingerprint = fingerprintPan(PAN, secret);
      expect(fingerprint).to.match(/^[0-9a-f]{64}$/);
      expect(fingerprintPan('4242 4242-4242 4242', secret)).to.equal(fingerprint);
      expect(fingerprint).not.to.include(PAN);
    });

    it('differs per card and per secret', () => {
      expect(fingerprintPan(PAN, secret)).not.to.equal(fingerprintPan('5555555555554444', secret));
      expect(fingerprintPan(PAN, secret)).not.to.equal(fingerprintPan(PAN, randomBytes(32)));
    });

    it('insists on a strong secret and a card number', () => {
      expect(errorCode(() => fingerprintPan(PAN, 'short'))).to.equal('vault.fingerprint_secret_weak');
      expect(errorCode(() => fingerprintPan('42', secret))).to.equal('vault.pan_invalid');
    });
  });
});
