/* global URLSearchParams */
/*
 * Mintdesk storefront: a plain ES module, no build step, no third-party code.
 *
 * Rules this file keeps:
 * - Untrusted text (product names, server messages, addresses) only ever reaches the page as text
 *   nodes: elements are built with `h()`, never with innerHTML.
 * - The card number and security code live in the form fields and, during one placement, in the
 *   request body in memory. They are never written to localStorage/sessionStorage or logged.
 * - One Idempotency-Key per checkout attempt, reused on every retry of it, so a lost response
 *   cannot turn into a second order.
 */

const CART_KEY = 'mintdesk.cartId';
const VISITOR_KEY = 'mintdesk.visitorToken';
const PAGE_SIZE = 12;
const VIEWS = ['catalog', 'cart', 'checkout', 'confirmation', 'status'];

const state = {
  config: { testMode: false, testCards: [] },
  catalog: { page: 1, total: 0, shown: 0 },
  /** The cart as the API last returned it (CartView), or null before one exists. */
  cart: null,
  /** Names of products seen in the catalog, for the waiting-room message. */
  productNames: new Map(),
  checkout: {
    busy: false,
    /** Set on the first submit of an attempt; cleared only when an order is placed. */
    idempotencyKey: null,
    /** Address fingerprints the shopper has already decided on (suggestion accepted or kept). */
    decided: new Map(),
  },
  lastOrder: null,
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const $ = (selector, root = document) => root.querySelector(selector);
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const dollars = (cents) => money.format(cents / 100);
const dateTime = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' });

/** Builds an element; children are appended as text unless they are elements already. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(typeof child === 'object' ? child : String(child));
  }
  return element;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let idCounter = 0;
const nextId = (stem) => `${stem}-${(idCounter += 1)}`;

function announce(text) {
  const region = $('#announcer');
  region.textContent = '';
  // A fresh text node is what screen readers notice in a live region.
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/** A v4 UUID; `crypto.randomUUID` needs a secure context, `getRandomValues` does not. */
function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------
// API

async function api(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { ok: false, status: 0, data: null, headers: null };
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  return { ok: response.ok, status: response.status, data, headers: response.headers };
}

/** The error body of a failed call, or a stand-in when there is none (network down, proxy page). */
function errorOf(result) {
  if (result.data && typeof result.data.error === 'object' && result.data.error) return result.data.error;
  if (result.status === 0) return { code: 'network', message: 'We could not reach the store. Check your connection and try again.' };
  return { code: 'unknown', message: 'Something went wrong on our side. Please try again.' };
}

// ---------------------------------------------------------------------------------------------
// Views

function currentView() {
  const match = location.hash.match(/^#\/([a-z]+)/);
  return match && VIEWS.includes(match[1]) ? match[1] : 'catalog';
}

let firstRoute = true;
function route() {
  const view = currentView();
  for (const name of VIEWS) $(`#view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  $('#page-error').hidden = true;
  if (view === 'cart') renderCartView();
  if (view === 'checkout') enterCheckout();
  if (view === 'confirmation' && !state.lastOrder) {
    location.hash = '#/catalog';
    return;
  }
  // Moving focus to the new heading tells screen-reader users the page changed.
  const heading = $(`#view-${view} h1`);
  if (!firstRoute && heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
  firstRoute = false;
}

function showPageError(message) {
  const box = $('#page-error');
  box.textContent = message;
  box.hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Test mode note

async function loadConfig() {
  const result = await api('GET', '/api/storefront/config');
  if (!result.ok) return;
  state.config = result.data;
  if (!state.config.testMode) return;
  const list = $('#test-cards');
  list.replaceChildren(
    ...state.config.testCards.map((card) => h('li', {}, h('code', {}, card.number.replace(/(\d{4})(?=\d)/g, '$1 ')), ' — ', card.description)),
  );
  $('#test-mode').hidden = false;
}

// ---------------------------------------------------------------------------------------------
// Catalog

const AVAILABILITY = { in_stock: 'In stock', low: 'Only a few left', sold_out: 'Sold out', coming_soon: 'Coming soon' };
const CATEGORY = {
  coins: 'Coin',
  proof_sets: 'Proof set',
  uncirculated: 'Uncirculated',
  commemorative: 'Commemorative',
  bullion: 'Bullion',
  medals: 'Medal',
  accessories: 'Accessory',
};

function metalClass(metal) {
  const text = (metal ?? '').toLowerCase();
  if (text.includes('gold')) return 'gold';
  if (/platinum|palladium/.test(text)) return 'platinum';
  if (/copper|bronze|brass|clad|nickel/.test(text)) return 'bronze';
  return 'silver';
}

function productMedia(product) {
  const url = product.mediaUrls?.[0];
  if (typeof url === 'string' && url.startsWith('https://')) {
    const image = h('img', { class: 'product__image', src: url, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' });
    // A broken image falls back to the struck-coin placeholder.
    image.addEventListener('error', () => image.replaceWith(coinPlaceholder(product)), { once: true });
    return image;
  }
  return coinPlaceholder(product);
}

function coinPlaceholder(product) {
  return h(
    'div',
    { class: `coin coin--${metalClass(product.metal)}`, 'aria-hidden': 'true' },
    h('span', { class: 'coin__year' }, product.year ?? '★'),
    product.mintMark ? h('span', { class: 'coin__mark' }, product.mintMark) : null,
  );
}

function productCard(product) {
  const titleId = nextId('product');
  const quantityId = nextId('qty');
  const status = h('p', { class: 'product__status', role: 'status' });
  const buyable = product.availability === 'in_stock' || product.availability === 'low';
  const maxQuantity = Math.min(product.householdLimit ?? 100, 100);
  const quantity = h('input', { id: quantityId, type: 'number', min: 1, max: maxQuantity, value: 1, inputmode: 'numeric', disabled: !buyable });
  const form = h(
    'form',
    {
      class: 'product__add',
      onsubmit: (event) => {
        event.preventDefault();
        const count = Number.parseInt(quantity.value, 10);
        void addToCart(product.sku, Number.isFinite(count) && count > 0 ? count : 1, status, form.querySelector('button'));
      },
    },
    h('label', { for: quantityId }, 'Quantity'),
    quantity,
    h('button', { type: 'submit', class: 'button button--primary', disabled: !buyable, 'aria-describedby': titleId }, buyable ? 'Add to cart' : AVAILABILITY[product.availability]),
  );
  const details = [product.metal, product.year, product.mintMark ? `${product.mintMark} mint mark` : null].filter(Boolean).join(' · ');
  return h(
    'article',
    { class: 'product', 'data-sku': product.sku, 'aria-labelledby': titleId },
    h('div', { class: 'product__media' }, productMedia(product)),
    h(
      'div',
      { class: 'product__body' },
      h('p', { class: 'product__category' }, CATEGORY[product.category] ?? product.category),
      h('h2', { class: 'product__name', id: titleId }, product.name),
      details ? h('p', { class: 'product__details' }, details) : null,
      product.description ? h('p', { class: 'product__description' }, product.description) : null,
      h(
        'div',
        { class: 'product__price-row' },
        h('p', { class: 'product__price' }, dollars(product.priceCents)),
        h('p', { class: `availability availability--${product.availability}` }, AVAILABILITY[product.availability] ?? product.availability),
      ),
      product.householdLimit ? h('p', { class: 'product__limit' }, `Limit ${product.householdLimit} per household`) : null,
      form,
      status,
    ),
  );
}

async function loadCatalog({ append = false } = {}) {
  const statusLine = $('#catalog-status');
  const grid = $('#product-grid');
  if (!append) {
    state.catalog.page = 1;
    state.catalog.shown = 0;
  }
  statusLine.textContent = 'Loading the catalog…';
  const params = new URLSearchParams({ page: String(state.catalog.page), pageSize: String(PAGE_SIZE), sort: $('#filter-sort').value });
  if ($('#filter-category').value) params.set('category', $('#filter-category').value);
  const result = await api('GET', `/api/catalog/products?${params}`);
  if (!result.ok) {
    statusLine.textContent = errorOf(result).message;
    return;
  }
  const { items, total } = result.data;
  for (const product of items) state.productNames.set(product.sku, product.name);
  const cards = items.map(productCard);
  if (append) grid.append(...cards);
  else grid.replaceChildren(...cards);
  state.catalog.total = total;
  state.catalog.shown += items.length;
  statusLine.textContent = total === 0 ? 'Nothing is on sale in this category right now.' : `Showing ${state.catalog.shown} of ${total}.`;
  $('#catalog-more').hidden = state.catalog.shown >= total;
}

// ---------------------------------------------------------------------------------------------
// Cart

function setCart(cart) {
  state.cart = cart;
  const count = cart ? cart.lines.reduce((sum, line) => sum + line.quantity, 0) : 0;
  $('#cart-count').textContent = String(count);
  return cart;
}

async function loadCart() {
  const cartId = localStorage.getItem(CART_KEY);
  if (!cartId) return setCart(null);
  const result = await api('GET', `/api/carts/${encodeURIComponent(cartId)}`);
  if (result.ok) return setCart(result.data);
  // Expired or unknown: forget it; a new one is made on the next add.
  if (result.status === 404) localStorage.removeItem(CART_KEY);
  return setCart(null);
}

async function ensureCart() {
  if (state.cart) return state.cart;
  const created = await api('POST', '/api/carts');
  if (!created.ok) throw errorOf(created);
  localStorage.setItem(CART_KEY, created.data.cartId);
  return setCart(created.data);
}

/** Sets one line's quantity; starts a new cart once if the stored one has expired. */
async function setLine(sku, quantity) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const cart = await ensureCart();
    const result = await api('PUT', `/api/carts/${encodeURIComponent(cart.cartId)}/lines`, { body: { sku, quantity } });
    if (result.ok) return setCart(result.data);
    const error = errorOf(result);
    if (error.code !== 'cart.not_found' || attempt > 0) throw error;
    localStorage.removeItem(CART_KEY);
    setCart(null);
  }
  return state.cart;
}

async function addToCart(sku, quantity, statusElement, button) {
  button.disabled = true;
  statusElement.className = 'product__status';
  statusElement.textContent = 'Adding…';
  try {
    if (!state.cart) await loadCart();
    const existing = state.cart?.lines.find((line) => line.sku === sku)?.quantity ?? 0;
    await setLine(sku, existing + quantity);
    statusElement.replaceChildren('Added to your cart. ', h('a', { href: '#/cart' }, 'View cart'));
    statusElement.classList.add('product__status--ok');
  } catch (error) {
    statusElement.textContent = error?.message ?? 'We could not add this item. Please try again.';
    statusElement.classList.add('product__status--error');
  } finally {
    button.disabled = false;
  }
}

/** The cart with editable quantities (cart view). */
function cartTable(cart) {
  const rows = cart.lines.map((line) => {
    const inputId = nextId('line-qty');
    const input = h('input', { id: inputId, type: 'number', min: 0, max: Math.min(line.householdLimit ?? 100, 100), value: line.quantity, inputmode: 'numeric', class: 'line__qty' });
    const lineStatus = h('span', { class: 'line__status', role: 'status' });
    const update = async (quantity) => {
      lineStatus.textContent = '';
      try {
        await setLine(line.sku, quantity);
        renderCartView();
        announce(quantity === 0 ? `${line.name} removed from your cart.` : `Quantity of ${line.name} is now ${quantity}.`);
      } catch (error) {
        lineStatus.textContent = error?.message ?? 'Could not update the cart.';
      }
    };
    const form = h(
      'form',
      {
        class: 'line__form',
        onsubmit: (event) => {
          event.preventDefault();
          const quantity = Number.parseInt(input.value, 10);
          void update(Number.isFinite(quantity) && quantity >= 0 ? quantity : line.quantity);
        },
      },
      h('label', { for: inputId, class: 'visually-hidden' }, `Quantity of ${line.name}`),
      input,
      h('button', { type: 'submit', class: 'button button--small' }, 'Update'),
      h('button', { type: 'button', class: 'button button--small button--link', onclick: () => void update(0) }, 'Remove', h('span', { class: 'visually-hidden' }, ` ${line.name}`)),
    );
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('span', { class: 'line__name' }, line.name), h('span', { class: 'line__sku' }, line.sku)),
      h('td', { class: 'num' }, dollars(line.unitPriceCents)),
      h('td', {}, form, lineStatus),
      h('td', { class: 'num' }, dollars(line.unitPriceCents * line.quantity)),
    );
  });
  return h(
    'table',
    { class: 'lines' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col' }, 'Quantity'), h('th', { scope: 'col', class: 'num' }, 'Total'))),
    h('tbody', {}, ...rows),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row', colspan: 3 }, 'Subtotal'), h('td', { class: 'num' }, dollars(cart.subtotalCents)))),
  );
}

/** A narrow, read-only list of the cart beside the checkout form. */
function summaryTable(cart) {
  return h(
    'table',
    { class: 'lines lines--compact' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col', class: 'num' }, 'Total'))),
    h(
      'tbody',
      {},
      ...cart.lines.map((line) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, h('span', { class: 'line__name' }, line.name), h('span', { class: 'line__sku' }, `${line.quantity} × ${dollars(line.unitPriceCents)}`)),
          h('td', { class: 'num' }, dollars(line.unitPriceCents * line.quantity)),
        ),
      ),
    ),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, 'Subtotal'), h('td', { class: 'num' }, dollars(cart.subtotalCents)))),
  );
}

async function renderCartView() {
  const contents = $('#cart-contents');
  const status = $('#cart-status');
  status.textContent = 'Loading your cart…';
  await loadCart();
  status.textContent = '';
  if (!state.cart || state.cart.lines.length === 0) {
    contents.replaceChildren(h('p', {}, 'Your cart is empty. ', h('a', { href: '#/catalog' }, 'Browse the catalog'), '.'));
    return;
  }
  contents.replaceChildren(
    cartTable(state.cart),
    h('p', { class: 'muted' }, 'Shipping and any tax are added when you place the order.'),
    h('p', { class: 'actions' }, h('a', { class: 'button button--primary', href: '#/checkout', id: 'go-checkout' }, 'Proceed to checkout')),
  );
}

// ---------------------------------------------------------------------------------------------
// Checkout: reading and writing the form

const value = (id) => document.getElementById(id).value.trim();

function readAddress(prefix) {
  return {
    line1: value(`${prefix}-line1`),
    line2: value(`${prefix}-line2`),
    city: value(`${prefix}-city`),
    state: value(`${prefix}-state`),
    postalCode: value(`${prefix}-zip`),
    country: document.getElementById(`${prefix}-country`).value,
  };
}

function writeAddress(prefix, address) {
  document.getElementById(`${prefix}-line1`).value = address.line1 ?? '';
  document.getElementById(`${prefix}-line2`).value = address.line2 ?? '';
  document.getElementById(`${prefix}-city`).value = address.city ?? '';
  document.getElementById(`${prefix}-state`).value = address.state ?? '';
  document.getElementById(`${prefix}-zip`).value = address.postalCode ?? '';
  const country = document.getElementById(`${prefix}-country`);
  if ([...country.options].some((option) => option.value === address.country)) country.value = address.country;
}

/** "MM/YY", "MM/YYYY", "MMYY" or "MM YY" to numbers; null when it is none of those. */
function parseExpiry(text) {
  const match = text.replace(/\s+/g, '').match(/^(\d{1,2})\/?(\d{2}|\d{4})$/);
  if (!match) return null;
  const month = Number(match[1]);
  const year = match[2].length === 2 ? 2000 + Number(match[2]) : Number(match[2]);
  return month >= 1 && month <= 12 ? { expMonth: month, expYear: year } : null;
}

/** The PlaceOrderRequest from the form, or the fields that cannot even be expressed. */
function buildOrder() {
  const expiry = parseExpiry(value('card-exp'));
  if (!expiry) return { localErrors: [{ path: 'payment.card.expMonth', message: 'Enter the expiry as MM/YY, e.g. 08/29.' }] };
  const billingAddress = readAddress('billing');
  const shipment = { address: $('#ship-same').checked ? billingAddress : readAddress('shipping'), gift: $('#gift').checked };
  if (shipment.gift) {
    const recipient = { firstName: value('recipient-first'), lastName: value('recipient-last') };
    // No recipient name means the purchaser receives it.
    if (recipient.firstName || recipient.lastName) shipment.recipient = recipient;
    if (value('gift-message')) shipment.giftMessage = value('gift-message');
  }
  return {
    body: {
      cartId: state.cart?.cartId,
      purchaser: { firstName: value('purchaser-first'), lastName: value('purchaser-last'), email: value('purchaser-email'), phone: value('purchaser-phone') },
      billingAddress,
      shipments: [shipment],
      payment: {
        type: 'card',
        card: { number: value('card-number').replace(/[\s-]/g, ''), ...expiry, cvv: value('card-cvv'), nameOnCard: value('card-name') },
      },
      attestation: { termsAccepted: $('#terms').checked, ageConfirmed: $('#age').checked },
      marketingOptIn: $('#marketing').checked,
    },
  };
}

function clearCardFields() {
  for (const id of ['card-number', 'card-exp', 'card-cvv', 'card-name']) document.getElementById(id).value = '';
}

// ---------------------------------------------------------------------------------------------
// Field errors

function clearErrors(form, summary) {
  for (const element of form.querySelectorAll('.field-error')) element.remove();
  for (const input of form.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }
  summary.hidden = true;
  summary.replaceChildren();
}

/** zod's generic "too small" for an empty text field reads badly; everything else is already plain. */
function friendlyMessage(issue) {
  if (issue.code === 'too_small' && /expected string to have >=1 characters/.test(issue.message)) return 'This field is required.';
  return issue.message;
}

function fieldFor(form, path) {
  // With "ship to my billing address", shipment address errors belong to the billing fields.
  const mapped = $('#ship-same').checked && form.id === 'checkout-form' ? path.replace(/^shipments\.0\.address\./, 'billingAddress.') : path;
  return [...form.querySelectorAll('[data-path]')].find((element) => element.dataset.path.split(' ').includes(mapped) && !element.closest('[hidden]'));
}

function addFieldError(input, message) {
  const errorId = `${input.id}-error`;
  let element = document.getElementById(errorId);
  if (!element) {
    element = h('p', { class: 'field-error', id: errorId });
    (input.closest('.field, .check') ?? input.parentElement).append(element);
  }
  if (!element.textContent.includes(message)) element.textContent = element.textContent ? `${element.textContent} ${message}` : message;
  input.setAttribute('aria-invalid', 'true');
  input.setAttribute('aria-describedby', errorId);
}

/** Puts each issue next to its field; what has no field goes into the summary at the top. */
function showErrors(form, summary, { message, fields = [] }) {
  const unplaced = [];
  let first;
  for (const issue of fields) {
    const input = fieldFor(form, issue.path);
    if (!input) {
      unplaced.push(friendlyMessage(issue));
      continue;
    }
    addFieldError(input, friendlyMessage(issue));
    first ??= input;
  }
  const heading = fields.length && first ? (unplaced.length ? 'Please check the highlighted fields and the notes below.' : 'Please check the highlighted fields.') : message;
  summary.replaceChildren(h('p', {}, heading));
  if (unplaced.length) summary.append(h('ul', {}, ...unplaced.map((text) => h('li', {}, text))));
  summary.hidden = false;
  (first ?? summary).focus();
}

// ---------------------------------------------------------------------------------------------
// Checkout: address suggestions

function addressLines(address, changed = new Set()) {
  const part = (field, text) => (changed.has(field) ? h('mark', {}, text) : text);
  const cityLine = [part('city', address.city), ', ', part('state', address.state), ' ', part('postalCode', address.postalCode)];
  return h(
    'address',
    { class: 'address' },
    h('span', {}, part('line1', address.line1)),
    address.line2 ? h('span', {}, part('line2', address.line2)) : null,
    h('span', {}, ...cityLine),
    h('span', {}, part('country', address.country)),
  );
}

function askAboutSuggestion(panel, target, typed, suggestion) {
  return new Promise((resolve) => {
    const titleId = nextId('suggestion');
    const changed = new Set(suggestion.changes.map((change) => change.field));
    const decide = (useSuggestion) => {
      if (useSuggestion) writeAddress(target.prefix, suggestion.standardized);
      state.checkout.decided.set(target.prefix, JSON.stringify(readAddress(target.prefix)));
      box.replaceWith(h('p', { class: 'suggestion__done' }, `${target.title}: ${useSuggestion ? 'using the suggested address.' : 'keeping the address as you entered it.'}`));
      resolve();
    };
    const box = h(
      'section',
      { class: 'suggestion', 'aria-labelledby': titleId, 'data-address': target.prefix },
      h('h3', { id: titleId, tabindex: -1 }, `${target.title}: we suggest the postal format`),
      h(
        'div',
        { class: 'suggestion__options' },
        h('div', { class: 'suggestion__option' }, h('h4', {}, 'Suggested'), addressLines(suggestion.standardized, changed)),
        h('div', { class: 'suggestion__option' }, h('h4', {}, 'You entered'), addressLines(typed)),
      ),
      ...suggestion.messages.map((note) => h('p', { class: 'hint' }, note.message)),
      h(
        'div',
        { class: 'suggestion__actions' },
        h('button', { type: 'button', class: 'button button--primary', onclick: () => decide(true) }, 'Use suggested address'),
        h('button', { type: 'button', class: 'button button--secondary', onclick: () => decide(false) }, 'Keep mine'),
      ),
    );
    panel.append(box);
  });
}

/**
 * Offers the postal form of each address the shopper has not decided on yet. Declining is always
 * allowed: the order keeps exactly what the shopper chose.
 */
async function confirmAddresses() {
  const targets = [{ prefix: 'billing', title: 'Billing address' }];
  if (!$('#ship-same').checked) targets.push({ prefix: 'shipping', title: 'Shipping address' });
  const panel = $('#address-suggestions');
  panel.replaceChildren();
  panel.hidden = true;
  const pending = [];
  for (const target of targets) {
    const typed = readAddress(target.prefix);
    const fingerprint = JSON.stringify(typed);
    if (state.checkout.decided.get(target.prefix) === fingerprint) continue;
    const result = await api('POST', '/api/addresses/standardize', { body: { address: typed } });
    // An address too incomplete to format is reported by the placement itself, next to its fields.
    if (!result.ok) continue;
    if (result.data.status !== 'corrected') {
      state.checkout.decided.set(target.prefix, fingerprint);
      continue;
    }
    pending.push(askAboutSuggestion(panel, target, typed, result.data));
  }
  if (pending.length === 0) return;
  panel.hidden = false;
  progress('Please review the suggested address before we place the order.');
  panel.querySelector('h3')?.focus();
  await Promise.all(pending);
}

// ---------------------------------------------------------------------------------------------
// Checkout: waiting room

function visitorHeaders() {
  const token = localStorage.getItem(VISITOR_KEY);
  return token ? { 'X-Visitor-Token': token } : {};
}

/**
 * The line panel, built once per wait so polling only changes its text (a screen reader or a
 * keyboard user on "Leave the line" is not disturbed every few seconds).
 */
function waitingPanel(panel, name, onLeave) {
  const headline = h('p', { class: 'waiting-room__position' });
  const detail = h('p', {});
  panel.replaceChildren(
    h('h3', {}, `You are in line for ${name}`),
    headline,
    detail,
    h('p', { class: 'hint' }, 'Keep this page open: we place your order as soon as it is your turn.'),
    h('button', { type: 'button', class: 'button button--small button--secondary', onclick: onLeave }, 'Leave the line'),
  );
  panel.hidden = false;
  return {
    update(status) {
      if (status.state === 'not_open') {
        headline.textContent = `The sale opens ${status.opensAt ? dateTime.format(new Date(status.opensAt)) : 'soon'}.`;
        detail.textContent = 'Everyone who joins before then gets a random place in line when it opens.';
      } else {
        headline.textContent = `Your place in line: ${status.position ?? '…'}`;
        detail.textContent = `${status.aheadOfYou ?? 0} ahead of you · estimated wait ${formatWait(status.estimatedWaitSeconds)}`;
      }
    },
  };
}

function formatWait(seconds) {
  if (seconds === null || seconds === undefined) return 'unknown';
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  return minutes === 1 ? 'about 1 minute' : `about ${minutes} minutes`;
}

/** Polls often when the turn is near, gently when it is far. */
const pollDelayMs = (status) => Math.min(15, Math.max(2, Math.ceil((status.estimatedWaitSeconds ?? 6) / 3))) * 1000;

/**
 * Joins the waiting room guarding one of the cart's skus (other than those in `held`) and waits for
 * admission. Returns the room's sku and admission token, '' when no other room guards the cart, or
 * null when the shopper left.
 */
async function waitInLine(held = new Set()) {
  const panel = $('#waiting-room');
  let leave;
  const left = new Promise((resolve) => {
    leave = () => resolve(null);
  });
  for (const sku of state.cart?.lines.map((line) => line.sku) ?? []) {
    if (held.has(sku)) continue;
    const room = encodeURIComponent(sku);
    let result = await api('POST', `/api/waiting-room/${room}/join`, { headers: visitorHeaders() });
    if (result.status === 404) continue;
    if (!result.ok) throw errorOf(result);
    // The visitor token identifies our place in line (it is not personal data); keeping it lets a reload keep the place.
    localStorage.setItem(VISITOR_KEY, result.data.visitorToken);
    let status = result.data;
    const name = state.productNames.get(sku) ?? state.cart.lines.find((line) => line.sku === sku)?.name ?? sku;
    progress('Waiting for your turn…');
    const view = waitingPanel(panel, name, () => leave());
    while (status.state !== 'admitted') {
      view.update(status);
      // Whichever comes first: the next poll, or the shopper leaving the line.
      if ((await Promise.race([pause(pollDelayMs(status)).then(() => 'poll'), left])) === null) {
        panel.hidden = true;
        return null;
      }
      result = await api('GET', `/api/waiting-room/${room}/status`, { headers: visitorHeaders() });
      if (!result.ok) {
        if (result.status === 0 || result.status >= 500) continue;
        throw errorOf(result);
      }
      status = result.data;
      if (status.state === 'unknown') {
        // The room was closed (no line any more) or our place was lost: rejoin to find out.
        if (status.opensAt === null) return '';
        result = await api('POST', `/api/waiting-room/${room}/join`, { headers: visitorHeaders() });
        if (!result.ok) throw errorOf(result);
        status = result.data;
      }
    }
    panel.replaceChildren(h('h3', {}, 'It is your turn'), h('p', {}, 'Placing your order now…'));
    return { sku, token: status.admissionToken };
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Checkout: placing the order

function progress(text) {
  $('#checkout-progress').textContent = text;
}

const RETRYABLE_STATUSES = new Set([0, 502, 503, 504]);

/**
 * Sends the order with this attempt's Idempotency-Key. Lost answers and busy servers are retried
 * with the same key (the server replays a placed order instead of placing it twice); a waiting
 * room answer sends the shopper into the line and retries with the admission token.
 */
async function submitOrder(body) {
  const attempt = state.checkout;
  attempt.idempotencyKey ??= newIdempotencyKey();
  // One token per launch room guarding the cart: a cart with two launches waits in both lines.
  const admissions = new Map();
  let retries = 0;
  let lineVisits = 0;
  for (;;) {
    progress('Placing your order…');
    const tokens = [...admissions.values()];
    const payload = tokens.length ? { ...body, admissionToken: tokens.length === 1 ? tokens[0] : tokens } : body;
    const result = await api('POST', '/api/orders', { body: payload, headers: { 'Idempotency-Key': attempt.idempotencyKey } });
    if (result.ok) return orderPlaced(result.data);
    const error = errorOf(result);
    const transient = RETRYABLE_STATUSES.has(result.status) || error.code === 'idempotency.in_progress';
    if (transient && retries < 3) {
      retries += 1;
      progress('The store is busy; trying again…');
      await pause(1000 * 2 ** retries);
      continue;
    }
    if (error.code?.startsWith('waiting_room.admission') && lineVisits < 3 + admissions.size) {
      lineVisits += 1;
      const admitted = await waitInLine(new Set(admissions.keys()));
      if (admitted === null) return showPlacementError(result, { code: 'waiting_room.left', message: 'You left the line; your order was not placed.' });
      // No other line to join: a token we hold has expired, so the next visit rejoins them all.
      if (admitted) admissions.set(admitted.sku, admitted.token);
      else admissions.clear();
      continue;
    }
    return showPlacementError(result, error);
  }
}

function showPlacementError(result, error) {
  const form = $('#checkout-form');
  const summary = $('#form-errors');
  progress('');
  $('#waiting-room').hidden = true;
  if (error.fields?.length) return showErrors(form, summary, error);
  if (result.status === 402) {
    // Declined: the shopper needs another card, and the old security code must not linger.
    document.getElementById('card-cvv').value = '';
    return showErrors(form, summary, { message: error.message, fields: [{ path: 'payment.card.number', code: error.code, message: error.message }] });
  }
  if (error.code === 'idempotency.key_reused') {
    // An earlier submit of this checkout placed an order; a new key makes the next submit a new order, on purpose.
    state.checkout.idempotencyKey = null;
    return showErrors(form, summary, { message: 'An order from this checkout was already placed. Check your email for the confirmation, or look up the order status, before ordering again.' });
  }
  if (error.code === 'cart.not_found') {
    localStorage.removeItem(CART_KEY);
    setCart(null);
  }
  const reference = result.status >= 500 && error.requestId ? ` (reference ${error.requestId})` : '';
  return showErrors(form, summary, { message: `${error.message}${reference}` });
}

function orderPlaced(order) {
  const form = $('#checkout-form');
  clearCardFields();
  // A shared computer should not keep the shopper's details in the form after the sale.
  form.reset();
  $('#address-suggestions').hidden = true;
  $('#waiting-room').hidden = true;
  state.checkout.idempotencyKey = null;
  state.checkout.decided.clear();
  localStorage.removeItem(CART_KEY);
  setCart(null);
  state.lastOrder = order;
  progress('');
  renderConfirmation(order);
  location.hash = '#/confirmation';
}

async function onCheckoutSubmit(event) {
  event.preventDefault();
  const attempt = state.checkout;
  if (attempt.busy) return;
  const form = $('#checkout-form');
  const summary = $('#form-errors');
  const button = $('#place-order');
  attempt.busy = true;
  button.disabled = true;
  try {
    clearErrors(form, summary);
    if (!state.cart || state.cart.lines.length === 0) {
      showErrors(form, summary, { message: 'Your cart is empty.' });
      return;
    }
    const draft = buildOrder();
    if (draft.localErrors) {
      showErrors(form, summary, { message: 'Please check the highlighted fields.', fields: draft.localErrors });
      return;
    }
    progress('Checking your address…');
    await confirmAddresses();
    // Rebuilt: accepting a suggestion rewrote the address fields.
    const order = buildOrder();
    await submitOrder(order.body);
  } catch (error) {
    showErrors(form, summary, { message: error?.message ?? 'Something went wrong. Please try again.' });
    progress('');
  } finally {
    attempt.busy = false;
    button.disabled = false;
  }
}

async function enterCheckout() {
  const summary = $('#checkout-summary');
  await loadCart();
  const empty = !state.cart || state.cart.lines.length === 0;
  $('#place-order').disabled = empty;
  summary.replaceChildren(
    empty
      ? h('p', {}, 'Your cart is empty. ', h('a', { href: '#/catalog' }, 'Browse the catalog'), '.')
      : h('div', {}, summaryTable(state.cart), h('p', { class: 'muted' }, 'Shipping and any tax are added when the order is placed.')),
  );
}

// ---------------------------------------------------------------------------------------------
// Orders: confirmation and status lookup

function orderDetails(order) {
  const totals = [
    ['Subtotal', order.totals.subtotalCents],
    ['Shipping', order.totals.shippingCents],
    ['Tax', order.totals.taxCents],
  ];
  return h(
    'div',
    { class: 'order' },
    h(
      'table',
      { class: 'lines' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col', class: 'num' }, 'Price'), h('th', { scope: 'col' }, 'Quantity'), h('th', { scope: 'col', class: 'num' }, 'Total'))),
      h(
        'tbody',
        {},
        ...order.lines.map((line) =>
          h('tr', {}, h('th', { scope: 'row' }, h('span', { class: 'line__name' }, line.name), h('span', { class: 'line__sku' }, line.sku)), h('td', { class: 'num' }, dollars(line.unitPriceCents)), h('td', { class: 'num' }, `× ${line.quantity}`), h('td', { class: 'num' }, dollars(line.unitPriceCents * line.quantity))),
        ),
      ),
      h(
        'tfoot',
        {},
        ...totals.map(([label, cents]) => h('tr', {}, h('th', { scope: 'row', colspan: 3 }, label), h('td', { class: 'num' }, dollars(cents)))),
        h('tr', { class: 'lines__total' }, h('th', { scope: 'row', colspan: 3 }, 'Total'), h('td', { class: 'num' }, dollars(order.totals.totalCents))),
      ),
    ),
    h('p', {}, `Paid with ${order.payment.brand.toUpperCase()} ending in ${order.payment.last4}.`),
    ...order.shipments.map((shipment) =>
      h(
        'p',
        { class: 'order__shipment' },
        `Ships to ${shipment.recipientName}, ${shipment.city}, ${shipment.state} ${shipment.postalCode}`,
        shipment.trackingNumber ? ` · ${shipment.carrier ?? 'Carrier'} tracking ${shipment.trackingNumber}` : '',
      ),
    ),
  );
}

function renderConfirmation(order) {
  $('#confirmation-number').textContent = order.orderNumber;
  $('#confirmation-status').textContent = `Status: ${order.statusText}. We will email you when it ships.`;
  $('#confirmation-details').replaceChildren(orderDetails(order));
  $('#status-number').value = order.orderNumber;
}

async function onStatusSubmit(event) {
  event.preventDefault();
  const form = $('#status-form');
  const summary = $('#status-errors');
  const output = $('#status-result');
  clearErrors(form, summary);
  output.replaceChildren();
  const body = { orderNumber: value('status-number').replace(/[\s-]/g, '') };
  if (value('status-email')) body.email = value('status-email');
  if (value('status-zip')) body.postalCode = value('status-zip');
  if (!body.email && !body.postalCode) {
    showErrors(form, summary, { message: 'Give the email used for the order or the billing ZIP code.', fields: [{ path: 'email', code: 'required', message: 'Give the email used for the order or the billing ZIP code.' }] });
    return;
  }
  const result = await api('POST', '/api/orders/lookup', { body });
  if (!result.ok) {
    showErrors(form, summary, errorOf(result));
    return;
  }
  const order = result.data;
  output.replaceChildren(
    h(
      'section',
      { class: 'status-card', 'aria-labelledby': 'status-card-title' },
      h('h2', { id: 'status-card-title' }, `Order ${order.orderNumber}`),
      h('p', { class: 'status-card__status' }, order.statusText),
      h('p', { class: 'muted' }, `Placed ${dateTime.format(new Date(order.placedAt))}`),
      orderDetails(order),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Start-up

function toggle(checkboxId, sectionId, showWhenChecked) {
  const checkbox = document.getElementById(checkboxId);
  const sync = () => {
    document.getElementById(sectionId).hidden = checkbox.checked !== showWhenChecked;
  };
  checkbox.addEventListener('change', sync);
  // form.reset() restores the checkboxes; the sections must follow.
  checkbox.form?.addEventListener('reset', () => setTimeout(sync, 0));
  sync();
}

function start() {
  document.body.append(h('div', { id: 'announcer', class: 'visually-hidden', 'aria-live': 'polite' }));
  toggle('ship-same', 'shipping-address', false);
  toggle('gift', 'gift-details', true);
  $('#checkout-form').addEventListener('submit', onCheckoutSubmit);
  $('#status-form').addEventListener('submit', onStatusSubmit);
  $('#catalog-filters').addEventListener('change', () => void loadCatalog());
  $('#catalog-filters').addEventListener('submit', (event) => event.preventDefault());
  $('#catalog-more').addEventListener('click', () => {
    state.catalog.page += 1;
    void loadCatalog({ append: true });
  });
  window.addEventListener('hashchange', route);
  route();
  void loadConfig();
  void loadCart();
  void loadCatalog().catch(() => showPageError('The catalog could not be loaded. Please reload the page.'));
}

start();
