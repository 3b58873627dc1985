import { expect } from 'chai';
import { DEFAULT_SCRYPT_PARAMS, hashPassword, needsRehash, verifyPassword } from '../../api/staff/password.ts';

describe('staff passwords: scrypt hashing', function () {
  this.timeout(20_000);
  // Cheap parameters keep the unit test fast; the format and checks are the same at any cost.
  const fast = { N: 1024, r: 8, p: 1 };

  it('verifies the right password and rejects a wrong one', async () => {
    const hash = await hashPassword('correct horse battery', fast);
    expect(await verifyPassword('correct horse battery', hash)).to.equal(true);
    expect(await verifyPassword('correct horse batterY', hash)).to.equal(false);
    expect(await verifyPassword('', hash)).to.equal(false);
  });

  it('stores the algorithm, its parameters and a per-hash salt, never the password', async () => {
    const a = await hashPassword('same password here', fast);
    const b = await hashPassword('same password here', fast);
    expect(a).to.match(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).to.not.equal(b);
    expect(a).to.not.include('same password here');
    expect(await verifyPassword('same password here', b)).to.equal(true);
  });

  it('verifies with the parameters stored in the hash, not the current defaults', async () => {
    const weak = await hashPassword('an older account', { N: 512, r: 4, p: 1 });
    expect(await verifyPassword('an older account', weak)).to.equal(true);
    expect(needsRehash(weak, fast)).to.equal(true);
    expect(needsRehash(await hashPassword('x'.repeat(12), fast), fast)).to.equal(false);
  });

  it('uses a default cost of at least N=2^15', async () => {
    expect(DEFAULT_SCRYPT_PARAMS.N).to.be.at.least(2 ** 15);
    const hash = await hashPassword('default cost password');
    expect(hash.split('$')[1]).to.equal(String(DEFAULT_SCRYPT_PARAMS.N));
    expect(await verifyPassword('default cost password', hash)).to.equal(true);
  });

  it('normalises Unicode so the same passphrase typed on another keyboard matches', async () => {
    const composed = 'caf\u00e9 au lait 2024';
    const decomposed = 'cafe\u0301 au lait 2024';
    const hash = await hashPassword(composed, fast);
    expect(await verifyPassword(decomposed, hash)).to.equal(true);
  });

  it('never verifies against a malformed or tampered hash', async () => {
    const hash = await hashPassword('tamper target pw', fast);
    const parts = hash.split('$');
    const flipped = [...parts.slice(0, 5), `${parts[5]!.slice(0, -2)}${parts[5]!.endsWith('AA') ? 'AB' : 'AA'}`].join('$');
    expect(await verifyPassword('tamper target pw', flipped)).to.equal(false);
    for (const bad of ['', 'plain', 'bcrypt$1$2$3$4$5', 'scrypt$1000$8$1$c2FsdHNhbHQ$aGFzaA', `scrypt$${2 ** 30}$8$1$${parts[4]}$${parts[5]}`]) {
      expect(await verifyPassword('tamper target pw', bad), bad).to.equal(false);
    }
    expect(needsRehash('garbage')).to.equal(true);
  });

  it('refuses oversized passwords without hashing them', async () => {
    const hash = await hashPassword('x'.repeat(256), fast);
    expect(await verifyPassword('x'.repeat(256), hash)).to.equal(true);
    expect(await verifyPassword('x'.repeat(257), hash)).to.equal(false);
  });
});
