import { expect } from 'chai';
import { parseOrThrow, ValidationError } from '../../platform/errors.ts';
import {
  CatalogAdminQuery,
  CatalogQuery,
  computeAvailability,
  CreateProduct,
  escapeRegex,
  lowStockThreshold,
  ProductPublic,
  UpdateProduct,
} from '../../api/catalog/schema.ts';
import { catalogSeedProducts } from '../../api/catalog/seed-data.ts';

const valid = {
  sku: 'PS-2026-SILVER',
  name: '2026 Silver Proof Set',
  priceCents: 13_200,
  releaseAt: '2026-03-01T17:00:00Z',
  totalStock: 1000,
  category: 'proof_sets',
};

function issuesOf(schema: Parameters<typeof parseOrThrow>[0], input: unknown): string[] {
  try {
    parseOrThrow(schema, input);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return ((error as ValidationError).fields ?? []).map((f) => `${f.path}:${f.code}`);
  }
  return [];
}

describe('catalog schema', () => {
  describe('CreateProduct', () => {
    it('accepts a minimal product and fills the defaults', () => {
      const product = parseOrThrow(CreateProduct, valid);
      expect(product).to.deep.include({
        sku: 'PS-2026-SILVER',
        currency: 'USD',
        description: '',
        program: null,
        householdLimit: null,
        active: true,
        mediaUrls: [],
        metal: null,
        year: null,
        mintMark: null,
      });
      expect(product.releaseAt).to.be.instanceOf(Date);
      expect(product.releaseAt.toISOString()).to.equal('2026-03-01T17:00:00.000Z');
    });

    it('accepts a Date for releaseAt from in-process callers and an offset time from JSON', () => {
      expect(parseOrThrow(CreateProduct, { ...valid, releaseAt: new Date('2026-01-01T00:00:00Z') }).releaseAt.toISOString()).to.equal('2026-01-01T00:00:00.000Z');
      expect(parseOrThrow(CreateProduct, { ...valid, releaseAt: '2026-01-01T09:00:00-05:00' }).releaseAt.toISOString()).to.equal('2026-01-01T14:00:00.000Z');
    });

    const { sku: _sku, ...withoutSku } = valid;
    const { name: _name, ...withoutName } = valid;
    const { priceCents: _price, ...withoutPrice } = valid;
    const { releaseAt: _releaseAt, ...withoutReleaseAt } = valid;
    const { totalStock: _stock, ...withoutStock } = valid;
    const cases: [string, unknown, string][] = [
      ['missing sku', withoutSku, 'sku:required'],
      ['missing name', withoutName, 'name:required'],
      ['missing price', withoutPrice, 'priceCents:required'],
      ['missing releaseAt', withoutReleaseAt, 'releaseAt:required'],
      ['missing totalStock', withoutStock, 'totalStock:required'],
      ['lowercase sku', { ...valid, sku: 'ps-2026-silver' }, 'sku:invalid_format'],
      ['sku with a space', { ...valid, sku: 'PS 2026' }, 'sku:invalid_format'],
      ['sku with a double dash', { ...valid, sku: 'PS--2026' }, 'sku:invalid_format'],
      ['sku ending in a dash', { ...valid, sku: 'PS-2026-' }, 'sku:invalid_format'],
      ['sku too long', { ...valid, sku: 'A'.repeat(41) }, 'sku:too_big'],
      ['blank name', { ...valid, name: '   ' }, 'name:too_small'],
      ['negative price', { ...valid, priceCents: -100 }, 'priceCents:too_small'],
      ['zero price', { ...valid, priceCents: 0 }, 'priceCents:too_small'],
      ['fractional price', { ...valid, priceCents: 132.5 }, 'priceCents:invalid_type'],
      ['price as a string', { ...valid, priceCents: '13200' }, 'priceCents:invalid_type'],
      ['absurd price', { ...valid, priceCents: 100_000_001 }, 'priceCents:too_big'],
      ['other currency', { ...valid, currency: 'EUR' }, 'currency:invalid_value'],
      ['releaseAt not a time', { ...valid, releaseAt: 'next tuesday' }, 'releaseAt:invalid_format'],
      ['releaseAt without a zone', { ...valid, releaseAt: '2026-03-01T12:00:00' }, 'releaseAt:invalid_format'],
      ['releaseAt as epoch millis', { ...valid, releaseAt: 1767225600000 }, 'releaseAt:invalid_type'],
      ['bad program code', { ...valid, program: 'proof set annual' }, 'program:invalid_format'],
      ['negative stock', { ...valid, totalStock: -1 }, 'totalStock:too_small'],
      ['fractional stock', { ...valid, totalStock: 1.5 }, 'totalStock:invalid_type'],
      ['household limit 0', { ...valid, householdLimit: 0 }, 'householdLimit:too_small'],
      ['fractional household limit', { ...valid, householdLimit: 1.5 }, 'householdLimit:invalid_type'],
      ['active as a string', { ...valid, active: 'yes' }, 'active:invalid_type'],
      ['http media url', { ...valid, mediaUrls: ['http://media.example.com/a.jpg'] }, 'mediaUrls.0:invalid_format'],
      ['javascript media url', { ...valid, mediaUrls: ['https://media.example.com/a.jpg', 'javascript:alert(1)'] }, 'mediaUrls.1:invalid_format'],
      ['media url without a host name', { ...valid, mediaUrls: ['https://localhost/a.jpg'] }, 'mediaUrls.0:invalid_format'],
      ['media urls not a list', { ...valid, mediaUrls: 'https://media.example.com/a.jpg' }, 'mediaUrls:invalid_type'],
      ['unknown category', { ...valid, category: 'stamps' }, 'category:invalid_value'],
      ['lowercase mint mark', { ...valid, mintMark: 'w' }, 'mintMark:invalid_format'],
      ['year before the first US mint', { ...valid, year: 1500 }, 'year:too_small'],
      ['unknown field', { ...valid, color: 'silver' }, 'color:unrecognized_key'],
      ['totalStock spelt differently', { ...valid, stock: 5 }, 'stock:unrecognized_key'],
    ];
    for (const [label, input, expected] of cases) {
      it(`rejects ${label} as ${expected}`, () => {
        expect(issuesOf(CreateProduct, input)).to.include(expected);
      });
    }
  });

  describe('UpdateProduct', () => {
    it('takes any subset of the editable fields, null clears a nullable one', () => {
      expect(parseOrThrow(UpdateProduct, { priceCents: 14_000, program: null })).to.deep.equal({ priceCents: 14_000, program: null });
    });

    it('refuses the sku and totalStock (stock moves only through an adjustment)', () => {
      expect(issuesOf(UpdateProduct, { sku: 'X-1', totalStock: 5 })).to.have.members(['sku:unrecognized_key', 'totalStock:unrecognized_key']);
    });
  });

  describe('CatalogQuery', () => {
    it('parses query-string numbers and applies defaults', () => {
      expect(parseOrThrow(CatalogQuery, { page: '3', pageSize: '10', minPriceCents: '100' })).to.deep.equal({
        page: 3,
        pageSize: 10,
        minPriceCents: 100,
        sort: 'newest',
      });
      expect(parseOrThrow(CatalogQuery, {})).to.deep.equal({ page: 1, pageSize: 24, sort: 'newest' });
    });

    const cases: [string, unknown, string][] = [
      ['page 0', { page: '0' }, 'page:too_small'],
      ['pageSize 101', { pageSize: '101' }, 'pageSize:too_big'],
      ['pageSize not a number', { pageSize: 'ten' }, 'pageSize:invalid_type'],
      ['fractional page', { page: '1.5' }, 'page:invalid_type'],
      ['unknown sort', { sort: 'random' }, 'sort:invalid_value'],
      ['unknown category', { category: 'stamps' }, 'category:invalid_value'],
      ['price range upside down', { minPriceCents: '500', maxPriceCents: '100' }, 'maxPriceCents:custom'],
      ['releasedAfter not a time', { releasedAfter: 'yesterday' }, 'releasedAfter:invalid_format'],
      ['unknown parameter', { color: 'gold' }, 'color:unrecognized_key'],
      ['admin-only filter on the public list', { active: 'false' }, 'active:unrecognized_key'],
      ['a repeated parameter', { category: ['coins', 'medals'] }, 'category:invalid_value'],
    ];
    for (const [label, input, expected] of cases) {
      it(`rejects ${label} as ${expected}`, () => {
        expect(issuesOf(CatalogQuery, input)).to.include(expected);
      });
    }

    it('lets the admin list filter on active and released', () => {
      expect(parseOrThrow(CatalogAdminQuery, { active: 'false', released: 'true' })).to.include({ active: false, released: true });
    });
  });

  describe('availability', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    const released = new Date('2026-05-01T12:00:00Z');

    it('is coming_soon before the release whatever the stock', () => {
      expect(computeAvailability({ releaseAt: new Date('2026-06-01T12:00:01Z'), now, available: 1000, totalStock: 1000 })).to.equal('coming_soon');
    });

    it('is in_stock, low, then sold_out as units run out', () => {
      const at = (available: number) => computeAvailability({ releaseAt: released, now, available, totalStock: 1000 });
      expect(at(1000)).to.equal('in_stock');
      expect(at(101)).to.equal('in_stock');
      expect(at(100)).to.equal('low');
      expect(at(1)).to.equal('low');
      expect(at(0)).to.equal('sold_out');
      expect(at(-3)).to.equal('sold_out');
    });

    it('scales the low threshold with the mintage within 1..250', () => {
      expect(lowStockThreshold(0)).to.equal(1);
      expect(lowStockThreshold(5)).to.equal(1);
      expect(lowStockThreshold(100)).to.equal(10);
      expect(lowStockThreshold(500_000)).to.equal(250);
    });
  });

  it('escapes search text so it matches literally', () => {
    const text = 'Set (2026) [W] $9.99 + tax? a|b ^x\\y /z-';
    expect(new RegExp(escapeRegex(text)).test(`the ${text} case`)).to.equal(true);
    expect(new RegExp(escapeRegex('.*')).test('anything')).to.equal(false);
  });

  describe('seed data', () => {
    const now = new Date('2026-11-29T12:00:00Z');
    const products = catalogSeedProducts(now);

    it('is valid, unique by sku, and covers the store', () => {
      const parsed = products.map((p) => parseOrThrow(CreateProduct, p));
      expect(new Set(parsed.map((p) => p.sku)).size).to.equal(parsed.length);
      expect(parsed.length).to.be.within(10, 16);
      expect(parsed.some((p) => p.householdLimit === 1)).to.equal(true);
      expect(parsed.some((p) => p.releaseAt > now)).to.equal(true);
      expect(new Set(parsed.map((p) => p.program).filter(Boolean)).size).to.equal(2);
      for (const category of ['proof_sets', 'bullion', 'commemorative']) expect(parsed.some((p) => p.category === category), category).to.equal(true);
    });

    it('produces public views that match ProductPublic', () => {
      const p = parseOrThrow(CreateProduct, products[0]);
      const view = { ...p, releaseAt: p.releaseAt.toISOString(), availability: 'in_stock' } as Record<string, unknown>;
      delete view.totalStock;
      delete view.active;
      expect(ProductPublic.safeParse(view).success).to.equal(true);
    });
  });
});
