import { escapeHtml } from '../../platform/html.ts';

/**
 * Building blocks of every email: an HTML tag function that escapes each interpolated value unless
 * it is already `SafeHtml`, the branded layout (inline CSS only: most mail clients drop <style>
 * blocks and never load external sheets), and formatting of money, dates and cards.
 */

/** Markup that is safe to insert as is: produced by `html` or explicitly trusted with `trustedHtml`. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}


function interpolate(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(interpolate).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * Template literal tag: every `${value}` is escaped unless it is SafeHtml (nested `html` fragments),
 * so a template cannot forget to escape a customer's name. Arrays of fragments are joined.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += interpolate(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup written by an admin for a campaign (validated by CampaignHtml). The one way around escaping. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

// --- branding ---

export interface EmailBrand {
  /** Shown in the header, subjects and footers. */
  storeName: string;
  /** Public base URL of the store (links in mail). */
  baseUrl: string;
}

export const DEFAULT_STORE_NAME = 'Mint Store';

/** A restrained palette: navy header, a thin mint-green rule, quiet greys. */
export const PALETTE = {
  navy: '#14284b',
  mint: '#8fd3bd',
  mintDark: '#2f7d66',
  page: '#f2f5f4',
  border: '#d8e2dd',
  ink: '#1f2a37',
  muted: '#5b6770',
  panel: '#f7faf8',
} as const;

const FONT = 'Arial,Helvetica,sans-serif';
const SERIF = 'Georgia,Times New Roman,serif';

export const styles = {
  h1: `margin:0 0 16px 0;font-family:${SERIF};font-size:22px;font-weight:normal;color:${PALETTE.navy};`,
  h2: `margin:24px 0 8px 0;font-family:${SERIF};font-size:17px;font-weight:normal;color:${PALETTE.navy};`,
  p: `margin:0 0 14px 0;`,
  small: `margin:0 0 8px 0;font-size:13px;color:${PALETTE.muted};`,
  table: `width:100%;border-collapse:collapse;font-family:${FONT};font-size:14px;color:${PALETTE.ink};`,
  th: `text-align:left;padding:6px 4px;border-bottom:1px solid ${PALETTE.border};font-weight:bold;font-size:12px;color:${PALETTE.muted};text-transform:uppercase;letter-spacing:0.5px;`,
  td: `padding:8px 4px;border-bottom:1px solid ${PALETTE.border};vertical-align:top;`,
  tdRight: `padding:8px 4px;border-bottom:1px solid ${PALETTE.border};vertical-align:top;text-align:right;white-space:nowrap;`,
  totalLabel: `padding:4px;text-align:right;color:${PALETTE.muted};`,
  totalValue: `padding:4px;text-align:right;white-space:nowrap;`,
  grandTotal: `padding:8px 4px;text-align:right;white-space:nowrap;font-weight:bold;border-top:2px solid ${PALETTE.navy};`,
  panel: `margin:0 0 16px 0;padding:12px 16px;background-color:${PALETTE.panel};border-left:3px solid ${PALETTE.mint};`,
  link: `color:${PALETTE.mintDark};text-decoration:underline;`,
  button: `display:inline-block;margin:4px 8px 4px 0;padding:10px 18px;background-color:${PALETTE.navy};color:#ffffff;text-decoration:none;font-family:${FONT};font-size:14px;border-radius:3px;`,
  buttonQuiet: `display:inline-block;margin:4px 8px 4px 0;padding:9px 17px;background-color:#ffffff;color:${PALETTE.navy};text-decoration:none;font-family:${FONT};font-size:14px;border:1px solid ${PALETTE.navy};border-radius:3px;`,
} as const;

export function button(label: string, href: string, quiet = false): SafeHtml {
  return html`<a href="${href}" style="${quiet ? styles.buttonQuiet : styles.button}">${label}</a>`;
}

export function link(label: string, href: string): SafeHtml {
  return html`<a href="${href}" style="${styles.link}">${label}</a>`;
}

/** The branded frame around a template's body. `preheader` is the preview line most clients show. */
export function layoutHtml(options: { brand: EmailBrand; title: string; preheader: string; body: SafeHtml; footer: SafeHtml }): string {
  const { brand } = options;
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<title>${options.title}</title>
</head>
<body style="margin:0;padding:0;background-color:${PALETTE.page};">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;font-size:1px;line-height:1px;color:${PALETTE.page};">${options.preheader}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:${PALETTE.page};">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background-color:#ffffff;border:1px solid ${PALETTE.border};">
<tr><td style="background-color:${PALETTE.navy};padding:20px 28px;border-bottom:4px solid ${PALETTE.mint};">
<span style="font-family:${SERIF};font-size:22px;letter-spacing:0.5px;color:#ffffff;">${brand.storeName}</span>
</td></tr>
<tr><td style="padding:28px;font-family:${FONT};font-size:15px;line-height:1.55;color:${PALETTE.ink};">
${options.body}
</td></tr>
<tr><td style="padding:18px 28px;background-color:${PALETTE.panel};border-top:1px solid ${PALETTE.border};font-family:${FONT};font-size:12px;line-height:1.5;color:${PALETTE.muted};">
${options.footer}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>`.value;
}

/** The plain-text alternative: same content, no markup. Text needs no escaping, only masking (done by the schemas). */
export function layoutText(options: { brand: EmailBrand; body: string; footer: string }): string {
  const name = options.brand.storeName.toUpperCase();
  const body = options.body.replace(/\n{3,}/g, '\n\n').trim();
  return `${name}\n${'='.repeat(Math.min(name.length, 60))}\n\n${body}\n\n--\n${options.footer.trim()}\n`;
}

// --- formatting ---

const USD = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** Integer cents to dollars for display; arithmetic stays in cents. */
export function formatCents(cents: number): string {
  return USD.format(cents / 100);
}

const DATE = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'America/New_York' });
const TIME = new Intl.DateTimeFormat('en-US', { hour: 'numeric', minute: '2-digit', timeZone: 'America/New_York', timeZoneName: 'short' });

export function formatDate(iso: string): string {
  return DATE.format(new Date(iso));
}
export function formatTime(iso: string): string {
  return TIME.format(new Date(iso));
}

const BRAND_NAMES: Record<string, string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  jcb: 'JCB',
  diners: 'Diners Club',
  unionpay: 'UnionPay',
};

/** "Visa ending in 4242": the brand and last four are all a customer email ever shows of a card. */
export function describeCard(card: { brand: string; last4: string }): string {
  return `${BRAND_NAMES[card.brand.toLowerCase()] ?? card.brand} ending in ${card.last4}`;
}

/** Tracking page of the carriers we ship with; undefined for others (the number is shown either way). */
export function trackingUrl(carrier: string | undefined, trackingNumber: string | undefined): string | undefined {
  if (!carrier || !trackingNumber) return undefined;
  const number = encodeURIComponent(trackingNumber.replace(/\s+/g, ''));
  switch (carrier.trim().toLowerCase()) {
    case 'usps':
      return `https://tools.usps.com/go/TrackConfirmAction?tLabels=${number}`;
    case 'ups':
      return `https://www.ups.com/track?tracknum=${number}`;
    case 'fedex':
      return `https://www.fedex.com/fedextrack/?trknbr=${number}`;
    default:
      return undefined;
  }
}

/** Header values must stay on one line (a newline would start a new header). */
export function oneLine(value: string): string {
  return value.replace(/[\r\n\t]+/g, ' ').trim();
}
