import { expect } from 'chai';
import { ValidationError } from '../../platform/errors.ts';
import { parseTwiml, type TwimlVerb } from '../../ivr/simulator/twiml.ts';

function parseError(xml: string): ValidationError {
  try {
    parseTwiml(xml);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return error as ValidationError;
  }
  expect.fail('parseTwiml should have thrown');
}

function only<V extends TwimlVerb['verb']>(verbs: TwimlVerb[], verb: V): Extract<TwimlVerb, { verb: V }> {
  const found = verbs.filter((v) => v.verb === verb);
  expect(found, `one <${verb}>`).to.have.length(1);
  return found[0] as Extract<TwimlVerb, { verb: V }>;
}

describe('twiml: parsing TwiML voice documents', () => {
  it('keeps verb order, including repeated verbs', () => {
    const verbs = parseTwiml(`<?xml version="1.0" encoding="UTF-8"?>
      <!-- greeting -->
      <Response>
        <Say>One</Say>
        <Pause length="2"/>
        <Say>Two</Say>
        <Play>https://cdn.example.test/chime.mp3</Play>
        <Say>Three</Say>
        <Hangup/>
      </Response>`);
    expect(verbs.map((v) => v.verb)).to.deep.equal(['say', 'pause', 'say', 'play', 'say', 'hangup']);
    expect(verbs.flatMap((v) => (v.verb === 'say' ? [v.text] : []))).to.deep.equal(['One', 'Two', 'Three']);
  });

  it('reads Say, Play and Pause with Twilio defaults', () => {
    const verbs = parseTwiml(`<Response>
      <Say voice="Polly.Joanna" language="en-GB" loop="2">  Hello &amp; welcome,
        caller  </Say>
      <Say>We&#39;re open <say-as interpret-as="date">2030-01-01</say-as> <break time="1s"/>until noon.</Say>
      <Play loop="0">https://cdn.example.test/hold.mp3</Play>
      <Play digits="ww1234#"/>
      <Pause/>
    </Response>`);
    expect(verbs[0]).to.deep.equal({
      verb: 'say',
      text: 'Hello & welcome, caller',
      voice: 'Polly.Joanna',
      language: 'en-GB',
      loop: 2,
      attributes: { voice: 'Polly.Joanna', language: 'en-GB', loop: '2' },
    });
    expect(verbs[1]).to.deep.include({ verb: 'say', text: "We're open 2030-01-01 until noon.", loop: 1 });
    expect(verbs[1]).to.not.have.property('language');
    expect(verbs[2]).to.deep.include({ verb: 'play', url: 'https://cdn.example.test/hold.mp3', loop: 0 });
    expect(verbs[3]).to.deep.include({ verb: 'play', url: '', digits: 'ww1234#', loop: 1 });
    expect(verbs[4]).to.deep.include({ verb: 'pause', length: 1 });
  });

  it('reads a Gather with its nested prompts and defaults', () => {
    const verbs = parseTwiml(`<Response>
      <Gather input="dtmf speech" numDigits="1" finishOnKey="" timeout="7" speechTimeout="auto" action="menu?step=2"
              method="get" language="es-MX" hints="gold, silver ,bullion" actionOnEmptyResult="true">
        <Say>Press 1 for orders.</Say>
        <Pause length="1"/>
        <Play>https://cdn.example.test/beep.mp3</Play>
        <Dial>+15550001111</Dial>
      </Gather>
      <Gather/>
    </Response>`);
    const [full, bare] = verbs;
    expect(full).to.deep.include({
      verb: 'gather',
      input: ['dtmf', 'speech'],
      numDigits: 1,
      finishOnKey: '',
      timeout: 7,
      speechTimeout: 'auto',
      action: 'menu?step=2',
      method: 'GET',
      language: 'es-MX',
      hints: ['gold', 'silver', 'bullion'],
      actionOnEmptyResult: true,
    });
    if (full?.verb !== 'gather') expect.fail('expected a gather');
    expect(full.nested.map((v) => v.verb)).to.deep.equal(['say', 'pause', 'play', 'unknown']);
    expect(full.nested[3]).to.deep.include({ verb: 'unknown', name: 'Dial', text: '+15550001111' });

    expect(bare).to.deep.include({ verb: 'gather', input: ['dtmf'], finishOnKey: '#', timeout: 5, speechTimeout: 5, method: 'POST', language: 'en-US', hints: [], actionOnEmptyResult: false, nested: [] });
    expect(bare).to.not.have.property('action');
    expect(bare).to.not.have.property('numDigits');
  });

  it('reads Redirect, Enqueue, Leave, Reject and Record', () => {
    const verbs = parseTwiml(`<Response>
      <Redirect method="GET"> /ivr/hours?x=1&amp;y=2 </Redirect>
      <Enqueue waitUrl="wait" waitUrlMethod="GET" action="/ivr/after-queue">numismatists</Enqueue>
      <Enqueue workflowSid="WW0123"><Task>{"skill":"grading"}</Task></Enqueue>
      <Leave/>
      <Reject reason="busy"/>
      <Record action="" maxLength="120" finishOnKey="*#" playBeep="false" recordingStatusCallback="/ivr/rec" transcribe="true"/>
    </Response>`);
    expect(verbs[0]).to.deep.include({ verb: 'redirect', url: '/ivr/hours?x=1&y=2', method: 'GET' });
    expect(verbs[1]).to.deep.include({ verb: 'enqueue', queue: 'numismatists', waitUrl: 'wait', waitUrlMethod: 'GET', action: '/ivr/after-queue', method: 'POST' });
    expect(verbs[2]).to.deep.include({ verb: 'enqueue', queue: '', workflowSid: 'WW0123', task: '{"skill":"grading"}' });
    expect(verbs[3]).to.deep.include({ verb: 'leave' });
    expect(verbs[4]).to.deep.include({ verb: 'reject', reason: 'busy' });
    expect(verbs[5]).to.deep.include({
      verb: 'record',
      method: 'POST',
      timeout: 5,
      finishOnKey: '*#',
      maxLength: 120,
      playBeep: false,
      trim: 'trim-silence',
      recordingStatusCallback: '/ivr/rec',
      recordingStatusCallbackEvent: ['completed'],
      transcribe: true,
    });
    // action="" means "not set" (post back to the current document), as Twilio treats it.
    expect(verbs[5]).to.not.have.property('action');
    expect(parseTwiml('<Response><Reject/></Response>')[0]).to.deep.include({ verb: 'reject', reason: 'rejected' });
  });

  it('reads Dial with each kind of target', () => {
    const dial = only(
      parseTwiml(`<Response>
        <Dial action="/ivr/dial-done" timeout="20" record="record-from-answer-dual" recordingStatusCallback="/ivr/rec"
              recordingStatusCallbackEvent="in-progress completed" callerId="+15550009999" hangupOnStar="true">
          <Number sendDigits="ww12" url="/whisper">+15550001111</Number>
          <Client><Identity>agent-7</Identity><Parameter name="ticket" value="T-42"/></Client>
          <Client>legacy-agent</Client>
          <Queue url="/ivr/queue-announce">numismatists</Queue>
          <Conference startConferenceOnEnter="false" endConferenceOnExit="true" waitUrl="/hold">grading-room</Conference>
          <Sip>sip:desk@pbx.example.test</Sip>
          <Application>AP123</Application>
        </Dial>
      </Response>`),
      'dial',
    );
    expect(dial).to.deep.include({
      action: '/ivr/dial-done',
      method: 'POST',
      timeout: 20,
      record: 'record-from-answer-dual',
      recordingStatusCallback: '/ivr/rec',
      recordingStatusCallbackEvent: ['in-progress', 'completed'],
      callerId: '+15550009999',
      hangupOnStar: true,
      answerOnBridge: false,
      timeLimit: 14400,
    });
    expect(dial.targets.map((t) => t.type)).to.deep.equal(['number', 'client', 'client', 'queue', 'conference', 'sip', 'unknown']);
    expect(dial.targets[0]).to.deep.include({ type: 'number', number: '+15550001111', sendDigits: 'ww12', url: '/whisper' });
    expect(dial.targets[1]).to.deep.include({ type: 'client', identity: 'agent-7', parameters: { ticket: 'T-42' } });
    expect(dial.targets[2]).to.deep.include({ type: 'client', identity: 'legacy-agent' });
    expect(dial.targets[3]).to.deep.include({ type: 'queue', name: 'numismatists', url: '/ivr/queue-announce' });
    expect(dial.targets[4]).to.deep.include({ type: 'conference', name: 'grading-room', startConferenceOnEnter: false, endConferenceOnExit: true, waitUrl: '/hold' });
    expect(dial.targets[5]).to.deep.include({ type: 'sip', uri: 'sip:desk@pbx.example.test' });
    expect(dial.targets[6]).to.deep.include({ type: 'unknown', name: 'Application', text: 'AP123' });

    const shorthand = only(parseTwiml('<Response><Dial record="true">+15550002222</Dial></Response>'), 'dial');
    expect(shorthand.targets).to.deep.equal([{ type: 'number', number: '+15550002222', method: 'POST', attributes: {} }]);
    expect(shorthand).to.deep.include({ record: 'record-from-answer', timeout: 30 });
  });

  it('reads Start/Stop Recording and keeps other streaming nouns by name', () => {
    const verbs = parseTwiml(`<Response>
      <Start>
        <Recording name="consent" channels="dual" recordingStatusCallback="/ivr/rec" recordingStatusCallbackMethod="GET"/>
        <Stream name="asr" url="wss://asr.example.test/in"/>
        <Transcription/>
      </Start>
      <Stop><Recording name="consent"/></Stop>
    </Response>`);
    const start = only(verbs, 'start');
    expect(start.nouns[0]).to.deep.include({ type: 'recording', name: 'consent', channels: 'dual', track: 'both', recordingStatusCallback: '/ivr/rec', recordingStatusCallbackMethod: 'GET' });
    expect(start.nouns[1]).to.deep.include({ type: 'stream', name: 'asr', url: 'wss://asr.example.test/in' });
    expect(start.nouns[2]).to.deep.include({ type: 'other', name: 'Transcription' });
    expect(only(verbs, 'stop').nouns[0]).to.deep.include({ type: 'recording', name: 'consent' });
  });

  it('turns unknown verbs and stray text into typed unknown entries instead of throwing', () => {
    const verbs = parseTwiml(`<Response>
      <Say>Hi</Say>
      <Connect><ConversationRelay url="wss://x.example.test"/></Connect>
      <Pay chargeAmount="10.00"/>
      stray words
      <Hangup/>
    </Response>`);
    expect(verbs.map((v) => (v.verb === 'unknown' ? `?${v.name}` : v.verb))).to.deep.equal(['say', '?Connect', '?Pay', '?#text', 'hangup']);
    expect(verbs[2]).to.deep.include({ verb: 'unknown', name: 'Pay', attributes: { chargeAmount: '10.00' } });
    expect(verbs[3]).to.deep.include({ verb: 'unknown', name: '#text', text: 'stray words' });
  });

  it('accepts an empty <Response>', () => {
    expect(parseTwiml('<Response/>')).to.deep.equal([]);
    expect(parseTwiml('\uFEFF<?xml version="1.0"?>\n<Response>\n</Response>\n')).to.deep.equal([]);
  });

  it('rejects malformed XML', () => {
    for (const xml of ['', '   ', 'Thanks for calling!', '<Response><Say>unclosed</Response>', '<Response><Say a=1>x</Say></Response>', '{"say":"hi"}']) {
      expect(parseError(xml).code, JSON.stringify(xml)).to.equal('twiml.malformed');
    }
  });

  it('rejects a root other than a single <Response>', () => {
    for (const xml of ['<html><body>Oops</body></html>', '<response><Say>x</Say></response>', '<Say>x</Say>', '<Response/><Response/>']) {
      expect(parseError(xml).code, xml).to.equal('twiml.bad_root');
    }
  });

  it('rejects attribute values Twilio would refuse, naming each one', () => {
    const error = parseError(`<Response>
      <Say loop="-1">x</Say>
      <Gather numDigits="0" finishOnKey="##" input="keypad" method="PUT" timeout="soon" actionOnEmptyResult="yes"/>
      <Redirect/>
      <Reject reason="nope"/>
      <Play digits="12a"/>
    </Response>`);
    expect(error.code).to.equal('twiml.invalid');
    expect(error.fields?.map((f) => f.path)).to.have.members([
      'Response.0:Say.loop',
      'Response.1:Gather.numDigits',
      'Response.1:Gather.finishOnKey',
      'Response.1:Gather.input',
      'Response.1:Gather.method',
      'Response.1:Gather.timeout',
      'Response.1:Gather.actionOnEmptyResult',
      'Response.2:Redirect',
      'Response.3:Reject.reason',
      'Response.4:Play.digits',
    ]);
  });

  it('validates prompts nested in a Gather too', () => {
    const error = parseError('<Response><Gather><Pause length="x"/></Gather></Response>');
    expect(error.fields?.map((f) => f.path)).to.deep.equal(['Response.0:Gather.0:Pause.length']);
  });
});
