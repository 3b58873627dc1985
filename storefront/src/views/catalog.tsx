import { useEffect, useState } from 'preact/hooks';
import type { ProductPublic } from '../../../api/catalog/schema.ts';
import { api } from '../lib/api.ts';
import { dollars, nextId } from '../lib/format.ts';
import { loadCart, setLine, shop, update } from '../lib/store.ts';
import type { ApiError } from '../lib/api.ts';

const PAGE_SIZE = 12;

export const AVAILABILITY: Record<string, string> = { in_stock: 'In stock', low: 'Only a few left', sold_out: 'Sold out', coming_soon: 'Coming soon' };
const CATEGORY: Record<string, string> = {
  coins: 'Coin',
  proof_sets: 'Proof set',
  uncirculated: 'Uncirculated',
  commemorative: 'Commemorative',
  bullion: 'Bullion',
  medals: 'Medal',
  accessories: 'Accessory',
};
const CATEGORY_FILTERS = [
  ['', 'All'],
  ['coins', 'Coins'],
  ['proof_sets', 'Proof sets'],
  ['uncirculated', 'Uncirculated'],
  ['commemorative', 'Commemorative'],
  ['bullion', 'Bullion'],
  ['medals', 'Medals'],
  ['accessories', 'Accessories'],
] as const;
const SORTS = [
  ['newest', 'Newest'],
  ['price_asc', 'Price: low to high'],
  ['price_desc', 'Price: high to low'],
  ['name', 'Name'],
] as const;

interface ProductPage {
  items: ProductPublic[];
  total: number;
}

export function CatalogView() {
  const [category, setCategory] = useState('');
  const [sort, setSort] = useState('newest');
  const [products, setProducts] = useState<ProductPublic[]>([]);
  const [total, setTotal] = useState(0);
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState('Loading the catalog…');

  async function load(nextPage: number) {
    setStatus('Loading the catalog…');
    const params = new URLSearchParams({ page: String(nextPage), pageSize: String(PAGE_SIZE), sort });
    if (category) params.set('category', category);
    const result = await api<ProductPage>('GET', `/api/catalog/products?${params}`);
    if (!result.ok) {
      setStatus(result.status === 0 ? result.error.message : 'The catalog could not be loaded. Please reload the page.');
      return;
    }
    const names = new Map(shop().productNames);
    for (const product of result.data.items) names.set(product.sku, product.name);
    update({ productNames: names });
    const shown = nextPage === 1 ? result.data.items : [...products, ...result.data.items];
    setProducts(shown);
    setTotal(result.data.total);
    setPage(nextPage);
    setStatus(result.data.total === 0 ? 'Nothing is on sale in this category right now.' : `Showing ${shown.length} of ${result.data.total}.`);
  }

  useEffect(() => {
    void load(1);
  }, [category, sort]);

  return (
    <>
      <div class="view__head">
        <div>
          <h1 id="catalog-title">Coins &amp; collectibles</h1>
          <p class="lede">Proof sets, uncirculated coins, commemoratives and medals, shipped from the mint.</p>
        </div>
        <form id="catalog-filters" class="filters" role="search" aria-label="Filter the catalog" onSubmit={(event) => event.preventDefault()}>
          <label for="filter-category">Category</label>
          <select id="filter-category" value={category} onChange={(event) => setCategory(event.currentTarget.value)}>
            {CATEGORY_FILTERS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <label for="filter-sort">Sort by</label>
          <select id="filter-sort" value={sort} onChange={(event) => setSort(event.currentTarget.value)}>
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </form>
      </div>
      <p id="catalog-status" class="muted" role="status">
        {status}
      </p>
      <div id="product-grid" class="product-grid">
        {products.map((product) => (
          <ProductCard key={product.sku} product={product} />
        ))}
      </div>
      <p class="center">
        <button type="button" id="catalog-more" class="button button--secondary" hidden={products.length >= total} onClick={() => void load(page + 1)}>
          Show more
        </button>
      </p>
    </>
  );
}

function metalClass(metal: string | null): string {
  const text = (metal ?? '').toLowerCase();
  if (text.includes('gold')) return 'gold';
  if (/platinum|palladium/.test(text)) return 'platinum';
  if (/copper|bronze|brass|clad|nickel/.test(text)) return 'bronze';
  return 'silver';
}

/** A struck coin drawn in CSS from the product's metal, year and mint mark. */
function Coin({ product }: { product: ProductPublic }) {
  return (
    <div class={`coin coin--${metalClass(product.metal)}`} aria-hidden="true">
      <span class="coin__year">{product.year ?? '★'}</span>
      {product.mintMark ? <span class="coin__mark">{product.mintMark}</span> : null}
    </div>
  );
}

/** The product's own picture when it has one; the drawn coin otherwise, or when the picture fails to load. */
function ProductMedia({ product }: { product: ProductPublic }) {
  const url = product.mediaUrls[0];
  const [failed, setFailed] = useState(false);
  if (!url || !url.startsWith('https://') || failed) return <Coin product={product} />;
  return <img class="product__image" src={url} alt="" loading="lazy" referrerpolicy="no-referrer" onError={() => setFailed(true)} />;
}

function ProductCard({ product }: { product: ProductPublic }) {
  const [ids] = useState(() => ({ title: nextId('product'), quantity: nextId('qty') }));
  const [quantity, setQuantity] = useState('1');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  const buyable = product.availability === 'in_stock' || product.availability === 'low';
  const details = [product.metal, product.year, product.mintMark ? `${product.mintMark} mint mark` : null].filter(Boolean).join(' · ');

  async function add(event: Event) {
    event.preventDefault();
    const count = Number.parseInt(quantity, 10);
    setBusy(true);
    setOutcome({ ok: true, text: 'Adding…' });
    try {
      if (!shop().cart) await loadCart();
      const existing = shop().cart?.lines.find((line) => line.sku === product.sku)?.quantity ?? 0;
      await setLine(product.sku, existing + (Number.isFinite(count) && count > 0 ? count : 1));
      setOutcome({ ok: true, text: 'added' });
    } catch (error) {
      setOutcome({ ok: false, text: (error as ApiError).message ?? 'We could not add this item. Please try again.' });
    } finally {
      setBusy(false);
    }
  }

  return (
    <article class="product" data-sku={product.sku} aria-labelledby={ids.title}>
      <div class="product__media">
        <ProductMedia product={product} />
      </div>
      <div class="product__body">
        <p class="product__category">{CATEGORY[product.category] ?? product.category}</p>
        <h2 class="product__name" id={ids.title}>
          {product.name}
        </h2>
        {details ? <p class="product__details">{details}</p> : null}
        {product.description ? <p class="product__description">{product.description}</p> : null}
        <div class="product__price-row">
          <p class="product__price">{dollars(product.priceCents)}</p>
          <p class={`availability availability--${product.availability}`}>{AVAILABILITY[product.availability] ?? product.availability}</p>
        </div>
        {product.householdLimit ? <p class="product__limit">Limit {product.householdLimit} per household</p> : null}
        <form class="product__add" onSubmit={add}>
          <label for={ids.quantity}>Quantity</label>
          <input id={ids.quantity} type="number" min={1} max={Math.min(product.householdLimit ?? 100, 100)} value={quantity} inputMode="numeric" disabled={!buyable} onInput={(event) => setQuantity(event.currentTarget.value)} />
          <button type="submit" class="button button--primary" disabled={!buyable || busy} aria-describedby={ids.title}>
            {buyable ? 'Add to cart' : AVAILABILITY[product.availability]}
          </button>
        </form>
        <p class={`product__status${outcome ? (outcome.ok ? (outcome.text === 'added' ? ' product__status--ok' : '') : ' product__status--error') : ''}`} role="status">
          {outcome?.text === 'added' ? (
            <>
              Added to your cart. <a href="#/cart">View cart</a>
            </>
          ) : (
            outcome?.text
          )}
        </p>
      </div>
    </article>
  );
}
