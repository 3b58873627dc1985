import { expect } from 'chai';
import { DEFAULT_IVR_CONFIG } from '../../api/ivr/defaults.ts';
import { ServiceUnavailableError } from '../../platform/errors.ts';
import { describeError, twimlForError } from '../../ivr/errors.ts';
import { parseTwiml, type EnqueueVerb, type SayVerb } from '../../ivr/simulator/twiml.ts';

/** The TwiML mapper of the error family: always a valid document that apologises and reaches a rep. */

const base = { config: DEFAULT_IVR_CONFIG, publicBaseUrl: 'https://ivr.example.com/phone' };

describe('IVR error mapping to TwiML', () => {
  it('apologises in both languages before one was chosen, then queues for a rep with absolute URLs', () => {
    const verbs = parseTwiml(twimlForError({ ...base, context: 'flow', lang: null }));
    const says = verbs.filter((v): v is SayVerb => v.verb === 'say');
    expect(says.map((s) => s.language)).to.deep.equal(['en-US', 'es-US', 'en-US', 'es-US']);
    expect(says[0]!.text).to.equal("We're sorry, something went wrong on our end.");
    const enqueue = verbs.at(-1) as EnqueueVerb;
    expect(enqueue).to.deep.include({ verb: 'enqueue', queue: 'mintdesk-customer-service', waitUrl: 'https://ivr.example.com/phone/ivr/queue/wait', action: 'https://ivr.example.com/phone/ivr/queue/left' });
  });

  it('uses the caller’s language once known', () => {
    const says = parseTwiml(twimlForError({ ...base, context: 'flow', lang: 'es' })).filter((v): v is SayVerb => v.verb === 'say');
    expect(says.map((s) => s.text)).to.deep.equal([DEFAULT_IVR_CONFIG.prompts.apology.es, DEFAULT_IVR_CONFIG.prompts.apologyRep.es]);
  });

  it('keeps a waiting caller on hold, and answers callbacks with an empty document', () => {
    expect(parseTwiml(twimlForError({ ...base, context: 'wait', lang: 'en' }))).to.deep.equal([{ verb: 'play', url: DEFAULT_IVR_CONFIG.queue.holdMusicUrl, loop: 1, attributes: {} }]);
    expect(parseTwiml(twimlForError({ ...base, context: 'notify', lang: null }))).to.deep.equal([]);
  });

  it('logs codes, not messages that could echo input', () => {
    expect(describeError(new ServiceUnavailableError('db.down', 'Mongo is down'))).to.deep.equal({ code: 'db.down', kind: 'unavailable' });
    expect(describeError(new TypeError('x'))).to.deep.equal({ name: 'TypeError', message: 'x' });
  });
});
