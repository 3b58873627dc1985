import { expect } from 'chai';
import { createRequire } from 'node:module';
import { isPublicIp, lookupCountry, normalizeIp } from '../../workers/fraud/geoip.ts';
import { ipVelocityKey } from '../../workers/fraud/velocity.ts';

const dataset = createRequire(import.meta.url)('geoip-country') as { lookup(ip: string): { country: string } | null };

describe('fraud geoip', () => {
  it('maps well-known public addresses to their country per the dataset', () => {
    const known: [string, string][] = [
      ['8.8.8.8', 'US'], // Google public DNS
      ['81.2.69.142', 'GB'], // MaxMind's documented GeoLite2 test address
      ['2001:4860:4860::8888', 'US'],
    ];
    for (const [ip, country] of known) {
      expect(lookupCountry(ip), ip).to.equal(country);
      expect(lookupCountry(ip), ip).to.equal(dataset.lookup(ip)?.country);
    }
  });

  it('unwraps IPv4-mapped IPv6 and tolerates surrounding whitespace', () => {
    expect(lookupCountry('::ffff:8.8.8.8')).to.equal('US');
    expect(lookupCountry('::ffff:808:808')).to.equal('US');
    expect(lookupCountry(' 8.8.8.8 ')).to.equal('US');
  });

  it('returns null for private, loopback, link-local, shared and documentation addresses', () => {
    for (const ip of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.10.10',
      '100.64.0.1',
      '0.0.0.0',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.5',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1%eth0',
      'fd12:3456:789a::1',
      '2001:db8::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
    ]) {
      expect(lookupCountry(ip), ip).to.equal(null);
      expect(isPublicIp(ip), ip).to.equal(false);
    }
    expect(isPublicIp('8.8.8.8')).to.equal(true);
  });

  it('returns null for malformed input', () => {
    for (const ip of ['', 'localhost', '8.8.8', '8.8.8.256', '010.1.1.1', '1:2:3', 'example.com']) {
      expect(lookupCountry(ip), ip).to.equal(null);
    }
  });

  it('normalises IPv6 to the full form', () => {
    expect(normalizeIp('2001:DB8::1')).to.deep.include({ version: 6, address: '2001:0db8:0000:0000:0000:0000:0000:0001' });
    expect(normalizeIp('::')).to.deep.include({ version: 6, address: '0000:0000:0000:0000:0000:0000:0000:0000' });
    expect(normalizeIp('1::')).to.deep.include({ version: 6, address: '0001:0000:0000:0000:0000:0000:0000:0000' });
    expect(normalizeIp('64:ff9b::1.2.3.4')).to.deep.include({ version: 6, address: '0064:ff9b:0000:0000:0000:0000:0102:0304' });
    expect(normalizeIp('::ffff:1.2.3.4')).to.deep.equal({ version: 4, address: '1.2.3.4' });
  });

  it('keys IPv6 velocity by /64 and IPv4 by address', () => {
    expect(ipVelocityKey('2a00:1450:4001:81b::200e')).to.equal(ipVelocityKey('2a00:1450:4001:81b:aaaa:bbbb:cccc:dddd'));
    expect(ipVelocityKey('2a00:1450:4001:81b::200e')).to.equal('2a00:1450:4001:081b::/64');
    expect(ipVelocityKey('2a00:1450:4001:81c::200e')).not.to.equal(ipVelocityKey('2a00:1450:4001:81b::200e'));
    expect(ipVelocityKey('::ffff:8.8.8.8')).to.equal('8.8.8.8');
  });
});
