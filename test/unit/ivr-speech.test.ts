import { expect } from 'chai';
import { DEFAULT_IVR_CONFIG } from '../../api/ivr/defaults.ts';
import { callbackWhenSpeech, carrierSpeech, fill, keyName, moneySpeech, orderStatusSpeech, type OrderForSpeech } from '../../ivr/speech.ts';
import { digitsFrom, matchFollowUp, matchMenuOption, matchPhrases, spokenKey } from '../../ivr/match.ts';

/** What the IVR says, and how it understands keys and speech. */

const TZ = 'America/New_York';
const order = (overrides: Partial<OrderForSpeech> = {}): OrderForSpeech => ({
  orderNumber: '45217730',
  status: 'paid',
  placedAt: new Date('2026-03-03T15:00:00Z'),
  lines: [{ quantity: 2 }, { quantity: 1 }],
  shipments: [{}],
  ...overrides,
});

describe('IVR speech', () => {
  it('reads an order: number digit by digit, date, item count, status', () => {
    expect(orderStatusSpeech(order(), 'en', TZ)).to.deep.equal(['I found order 4 5 2 1, 7 7 3 0, placed on Tuesday, March 3.', 'It has 3 items.', 'It is paid and being prepared for shipment.']);
    expect(orderStatusSpeech(order({ lines: [{ quantity: 1 }] }), 'es', TZ)).to.deep.equal(['Encontré el pedido 4 5 2 1, 7 7 3 0, realizado el martes, 3 de marzo.', 'Tiene 1 artículo.', 'Está pagado y se está preparando para el envío.']);
  });

  it('says when and how a shipment left, in the store zone', () => {
    // 02:00 UTC on the 6th is still the 5th in New York.
    const shipped = order({ status: 'shipped', shipments: [{ carrier: 'usps', shippedAt: new Date('2026-03-06T02:00:00Z') }] });
    expect(orderStatusSpeech(shipped, 'en', TZ).slice(2)).to.deep.equal(['It shipped on Thursday, March 5, by the U.S. Postal Service.']);
    expect(orderStatusSpeech(shipped, 'es', TZ).slice(2)).to.deep.equal(['Se envió el jueves, 5 de marzo, por el Servicio Postal de los Estados Unidos.']);
    const split = order({ status: 'shipped', shipments: [{ carrier: 'UPS', shippedAt: new Date('2026-03-05T15:00:00Z') }, {}] });
    expect(orderStatusSpeech(split, 'en', TZ).slice(2)).to.deep.equal(['It ships in 2 packages.', 'Package 1 shipped on Thursday, March 5, by U P S.', 'Package 2 has not shipped yet.']);
    expect(carrierSpeech('Royal Mail', 'en')).to.equal('Royal Mail');
  });

  it('says money, keys and placeholders plainly', () => {
    expect(moneySpeech(9550, 'en')).to.equal('95 dollars and 50 cents');
    expect(moneySpeech(100, 'en')).to.equal('1 dollar');
    expect(moneySpeech(123456, 'es')).to.equal('1,234 dólares con 56 centavos');
    expect(keyName('*', 'en')).to.equal('star');
    expect(keyName('#', 'es')).to.equal('numeral');
    expect(fill('Press {key}, not {other}.', { key: 1 })).to.equal('Press 1, not {other}.');
  });

  it('promises a callback for the next opening in words', () => {
    expect(callbackWhenSpeech({ date: '2026-12-07', weekday: 'mon', open: '08:30', daysAhead: 2, openNow: false }, 'morning', 'en')).to.equal('on Monday, in the morning');
    expect(callbackWhenSpeech({ date: '2026-12-07', weekday: 'mon', open: '08:30', daysAhead: 1, openNow: false }, 'evening', 'es')).to.equal('mañana, por la noche');
    expect(callbackWhenSpeech({ date: '2026-12-07', weekday: 'mon', open: '10:00', daysAhead: 0, openNow: true }, 'after lunch', 'en')).to.equal('at the time you asked for');
  });
});

describe('IVR input matching', () => {
  const options = DEFAULT_IVR_CONFIG.mainMenu.options;
  const action = (input: { digits?: string; speech?: string }, lang: 'en' | 'es' = 'en') => matchMenuOption(input, options, lang)?.action;

  it('prefers keys, and understands phrases as whole words in either language', () => {
    expect(action({ digits: '1', speech: 'representative' })).to.equal('order_status');
    expect(action({ speech: 'I want to TRACK MY ORDER.' })).to.equal('order_status');
    expect(action({ speech: '¿Cuál es el horario?' }, 'es')).to.equal('hours_address');
    expect(action({ speech: 'Quiero hablar con un asesor' }, 'es')).to.equal('representative');
    expect(action({ speech: 'statuses' })).to.equal(undefined);
    expect(action({ speech: 'press two' })).to.equal('new_releases');
    expect(action({ speech: 'opción cero' }, 'es')).to.equal('representative');
    expect(action({ digits: '7' })).to.equal(undefined);
  });

  it('treats two equally good matches as not understood', () => {
    expect(matchPhrases('order or agent', [{ value: 'a', phrases: ['order'] }, { value: 'b', phrases: ['agent'] }])).to.equal(undefined);
    expect(matchPhrases('order status or agent', [{ value: 'a', phrases: ['order status'] }, { value: 'b', phrases: ['agent'] }])).to.equal('a');
  });

  it('turns keys and spoken digits, English or Spanish, into digits', () => {
    expect(digitsFrom({ digits: '45217730' })).to.equal('45217730');
    expect(digitsFrom({ speech: '4521 7730.' })).to.equal('45217730');
    expect(digitsFrom({ speech: 'four five two one, seven seven three oh' })).to.equal('45217730');
    expect(digitsFrom({ speech: 'cuatro cinco dos uno siete siete tres cero' })).to.equal('45217730');
    expect(digitsFrom({ speech: 'cuatro cinco dos uno doble siete tres cero' })).to.equal('45217730');
    expect(digitsFrom({ speech: 'my order is banana' })).not.to.match(/^\d+$/);
    expect(spokenKey('the number one please')).to.equal('1');
    expect(spokenKey('one two')).to.equal(undefined);
  });

  it('understands the short follow-up menus', () => {
    const keys = { '1': 'repeat', '*': 'menu', '0': 'rep' } as const;
    expect(matchFollowUp({ digits: '*' }, keys, 'en')).to.equal('menu');
    expect(matchFollowUp({ speech: 'say that again' }, keys, 'en')).to.equal('repeat');
    expect(matchFollowUp({ speech: 'menú principal' }, keys, 'es')).to.equal('menu');
    expect(matchFollowUp({ speech: 'uno' }, keys, 'es')).to.equal('repeat');
    expect(matchFollowUp({ digits: '5' }, keys, 'en')).to.equal(undefined);
  });
});
