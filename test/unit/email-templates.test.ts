import { expect } from 'chai';
import { CampaignRequest, EMAIL_TEMPLATES, maskCardNumbers, type EmailTemplateName } from '../../api/email/schema.ts';
import { ValidationError } from '../../platform/errors.ts';
import { formatCents, html } from '../../api/email/render.ts';
import { escapeHtml } from '../../platform/html.ts';
import { orderEmailData, renderEmail, sampleDataOf } from '../../api/email/templates.ts';

const brand = { storeName: 'Mint Store', baseUrl: 'https://store.example.com' };
const PAN = '4111 1111 1111 1111';
// Short enough for every field's length limit (a city is at most 80 characters).
const HOSTILE = `<script>alert("x")</script><img src=x> & 'J' ${PAN}`;

const order = {
  orderNumber: '12345674',
  placedAt: new Date('2025-03-03T15:04:05Z'),
  purchaser: { firstName: HOSTILE, lastName: 'Lovelace', email: 'ada@example.com', phone: '+12025550100' },
  lines: [
    { sku: 'AE25-PROOF', name: HOSTILE, quantity: 2, unitPriceCents: 9_500, shipTo: 0 },
    { sku: 'PS25', name: 'Proof Set', quantity: 1, unitPriceCents: 3_575, shipTo: 1 },
  ],
  totals: { subtotalCents: 22_575, taxCents: 0, shippingCents: 495, totalCents: 23_070 },
  payment: { cardToken: 'tok_abc', brand: 'visa', last4: '4242', avs: null, codeMatch: null, authId: null, captureId: null, declineReason: null },
  shipments: [
    { address: { line1: '1500 Pennsylvania Ave NW', city: 'Washington', state: 'DC', postalCode: '20220', country: 'US' }, gift: false, householdKey: 'h1' },
    {
      address: { line1: '77 Secret Garden Lane', line2: 'Apt 9', city: HOSTILE, state: 'IL', postalCode: '62704', country: 'US' },
      recipient: { firstName: HOSTILE, lastName: 'Babbage' },
      gift: true,
      giftMessage: 'Happy birthday',
      householdKey: 'h2',
      carrier: 'USPS',
      trackingNumber: '9400111899223197428490',
    },
  ],
};

/** Data for each template with hostile text in every free-text field. */
function hostileData(template: EmailTemplateName): unknown {
  const links = { confirmUrl: 'https://store.example.com/c?t="><script>', skipUrl: 'https://store.example.com/s', cancelUrl: 'https://store.example.com/x' };
  switch (template) {
    case 'order_confirmation':
    case 'fraud_hold':
    case 'order_declined':
    case 'order_shipped':
    case 'order_cancelled':
      return orderEmailData(order as never);
    case 'payment_failed':
      return orderEmailData(order as never, { reason: 'insufficient_funds' });
    case 'subscription_upcoming':
      // A quote in a link must not end the href attribute.
      return { firstName: HOSTILE, programName: HOSTILE, releaseName: HOSTILE, releaseDate: '2025-04-15T14:00:00Z', priceCents: 3_575, ...links };
    case 'subscription_created':
      return { firstName: HOSTILE, programName: HOSTILE, manageUrl: 'https://store.example.com/account' };
    case 'subscription_failed':
      return { firstName: HOSTILE, programName: HOSTILE, releaseName: HOSTILE, reason: HOSTILE };
    case 'chat_transcript':
      return {
        firstName: HOSTILE,
        lines: [
          { from: 'customer', name: HOSTILE, text: `my card is ${PAN} and also 5500-0000-0000-0004\n${HOSTILE}` },
          { from: 'agent', text: 'Thanks; never send card numbers in chat.' },
        ],
      };
    case 'marketing_newsletter':
      return { firstName: HOSTILE, topic: 'news_releases', subject: `News ${HOSTILE}`, html: '<p>Hello <strong>collectors</strong></p>', text: `Hello ${HOSTILE}`, unsubscribeUrl: 'https://store.example.com/api/email/unsubscribe/abc.def' };
  }
}

describe('email templates', () => {
  for (const template of EMAIL_TEMPLATES) {
    describe(template, () => {
      it('renders the sample data as branded HTML and text', () => {
        const rendered = renderEmail(template, sampleDataOf(template), brand);
        expect(rendered.subject).to.be.a('string').and.not.match(/[\r\n]/);
        expect(rendered.subject.length).to.be.greaterThan(5);
        expect(rendered.html).to.match(/^<!DOCTYPE html>/);
        expect(rendered.html).to.contain('Mint Store');
        expect(rendered.text).to.match(/^MINT STORE\n/);
        // Inline CSS only: no style blocks, no stylesheets, no scripts.
        expect(rendered.html).not.to.match(/<style|<link|<script/i);
        expect(rendered.html).to.contain('style="');
      });

      it('escapes hostile input in HTML, keeps it readable in text, and masks card numbers in both', () => {
        const rendered = renderEmail(template, hostileData(template), brand);
        for (const body of [rendered.html, rendered.text, rendered.subject]) {
          expect(body).not.to.contain(PAN);
          expect(body).not.to.match(/4111\D?1111\D?1111\D?1111/);
          expect(body).not.to.match(/5500\D?0000\D?0000\D?0004/);
        }
        expect(rendered.html).not.to.match(/<script/i);
        expect(rendered.html).not.to.match(/<img src=x/i);
        expect(rendered.html).to.contain('&lt;script&gt;');
        expect(rendered.text).to.contain('<script>alert("x")</script>');
        expect(rendered.html + rendered.text).to.contain('•••• 1111');
      });
    });
  }

  it('words order emails from the order: dollars from cents, brand and last four, city/state of a gift recipient only', () => {
    const rendered = renderEmail('order_shipped', orderEmailData(order as never), brand);
    expect(rendered.html).to.contain('$230.70');
    expect(rendered.html).to.contain('$190.00');
    expect(rendered.html).to.contain('Visa ending in 4242');
    expect(rendered.text).to.contain('Visa ending in 4242');
    expect(rendered.html).to.contain('9400111899223197428490');
    expect(rendered.html).to.contain('https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223197428490');
    for (const body of [rendered.html, rendered.text]) {
      expect(body).not.to.contain('Secret Garden');
      expect(body).not.to.contain('62704');
      expect(body).not.to.contain('Apt 9');
      expect(body).not.to.contain('tok_abc');
      expect(body).not.to.contain('Happy birthday');
      expect(body).to.contain('IL');
    }
  });

  it('never tells the purchaser about a fraud hold or the reason of a decline beyond the safe wording', () => {
    const held = renderEmail('fraud_hold', sampleDataOf('fraud_hold'), brand);
    expect(`${held.subject} ${held.text}`.toLowerCase()).not.to.contain('fraud');
    const declined = renderEmail('payment_failed', { ...(sampleDataOf('payment_failed') as object), reason: 'insufficient_funds' }, brand);
    expect(declined.text.toLowerCase()).not.to.contain('insufficient');
    expect(declined.text).to.contain('did not approve');
  });

  it('keeps a quote in a link inside its href', () => {
    const rendered = renderEmail('subscription_upcoming', hostileData('subscription_upcoming'), brand);
    expect(rendered.html).to.contain('href="https://store.example.com/c?t=&quot;&gt;&lt;script&gt;"');
  });

  it('refuses links that are not http(s) and data that is missing, naming the fields', () => {
    const data = { ...(sampleDataOf('subscription_upcoming') as object), confirmUrl: 'javascript:alert(1)', skipUrl: undefined };
    let error: unknown;
    try {
      renderEmail('subscription_upcoming', data, brand);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).fields!.map((f) => f.path)).to.include.members(['confirmUrl', 'skipUrl']);
  });

  it('puts the unsubscribe link in the newsletter footer instead of the service footer', () => {
    const rendered = renderEmail('marketing_newsletter', hostileData('marketing_newsletter'), brand);
    expect(rendered.html).to.contain('href="https://store.example.com/api/email/unsubscribe/abc.def"');
    expect(rendered.html).to.contain('<strong>collectors</strong>');
    expect(rendered.text).to.contain('https://store.example.com/api/email/unsubscribe/abc.def');
    expect(rendered.text).not.to.contain('service message');
    expect(renderEmail('order_confirmation', sampleDataOf('order_confirmation'), brand).text).to.contain('service message');
  });

  it('refuses campaign HTML with active content', () => {
    for (const bad of ['<script>x</script>', '<p onclick="x()">a</p>', '<a href="javascript:alert(1)">a</a>', '<iframe src="https://x"></iframe>', '<style>p{}</style>', '<form action="https://x"></form>']) {
      expect(CampaignRequest.safeParse({ topic: 'news_releases', subject: 'Hello all', html: bad, text: 'x' }).success, bad).to.equal(false);
    }
    expect(CampaignRequest.safeParse({ topic: 'news_releases', subject: 'Hello all', html: '<p style="color:#123">Buy one = get one</p><img src="https://x/y.png" alt="">', text: 'x' }).success).to.equal(true);
  });
});

describe('email rendering helpers', () => {
  it('masks card-number runs to the last four and leaves other numbers alone', () => {
    expect(maskCardNumbers('card 4111 1111 1111 1111 ok')).to.equal('card •••• 1111 ok');
    expect(maskCardNumbers('4111-1111-1111-1111')).to.equal('•••• 1111');
    expect(maskCardNumbers('pan:4111111111111111.')).to.equal('pan:•••• 1111.');
    expect(maskCardNumbers('visa4111111111111111x')).to.equal('visa•••• 1111x');
    expect(maskCardNumbers('378282246310005')).to.equal('•••• 0005');
    expect(maskCardNumbers('order 12345674, call +1 202 555 0100')).to.equal('order 12345674, call +1 202 555 0100');
    // USPS tracking numbers are 20-22 digits: not a card number.
    expect(maskCardNumbers('9400111899223197428490')).to.equal('9400111899223197428490');
  });

  it('escapes every interpolation of the html tag unless it is already safe markup', () => {
    const name = '<b>"Ada" & \'co\'</b>';
    expect(html`<p title="${name}">${name}${html`<i>ok</i>`}</p>`.value).to.equal(`<p title="${escapeHtml(name)}">${escapeHtml(name)}<i>ok</i></p>`);
    expect(escapeHtml(name)).to.equal('&lt;b&gt;&quot;Ada&quot; &amp; &#39;co&#39;&lt;/b&gt;');
    expect(html`${[html`<li>a</li>`, '<li>']}${null}${undefined}${false}`.value).to.equal('<li>a</li>&lt;li&gt;');
  });

  it('formats integer cents as dollars', () => {
    expect(formatCents(0)).to.equal('$0.00');
    expect(formatCents(495)).to.equal('$4.95');
    expect(formatCents(123_456_789)).to.equal('$1,234,567.89');
  });
});
