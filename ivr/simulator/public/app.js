// Mintdesk phone simulator page: plain ES module, no build step.
// The server (/simulator/api) holds the simulated call and signs every webhook like Twilio; this
// page is the caller's handset (keypad, speech, loudspeaker) and a minimal rep console that uses
// the staff API to take a waiting call.

const $ = (id) => document.getElementById(id);

const ui = {
  dialForm: $('dial-form'),
  from: $('caller-number'),
  call: $('call-button'),
  hangup: $('hangup-button'),
  state: $('call-state'),
  queue: $('call-queue'),
  rep: $('call-rep'),
  sid: $('call-sid'),
  listening: $('listening'),
  entry: $('entry'),
  keypad: $('keypad'),
  sendKeys: $('send-keys'),
  silence: $('silence'),
  speechForm: $('speech-form'),
  speechText: $('speech-text'),
  sayButton: document.querySelector('#speech-form button[type=submit]'),
  listen: $('listen'),
  tts: $('tts'),
  transcript: $('transcript'),
  showHttp: $('show-http'),
  repLogin: $('rep-login'),
  repError: $('rep-error'),
  repConsole: $('rep-console'),
  repName: $('rep-name'),
  repLogout: $('rep-logout'),
  waitingRows: $('waiting-rows'),
  waitingEmpty: $('waiting-empty'),
  line: $('line-status'),
  repCall: $('rep-call'),
  repHangup: $('rep-hangup'),
};

// --- HTTP ------------------------------------------------------------------------------------

async function request(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data?.error?.message ?? `${response.status} ${response.statusText}`);
    error.status = response.status;
    error.code = data?.error?.code;
    throw error;
  }
  return data;
}

// --- the call ----------------------------------------------------------------------------------

let current = null; // { id, next, gather, state, queue }
const seen = new Set();
let stream = null;
let busy = false;

function setBusy(value) {
  busy = value;
  updateControls();
}

/** Waiting for a rep between two wait documents: keys still go to the line, as on a phone. */
const onHold = () => Boolean(current && current.state === 'queued' && current.queue && !current.repLeg);

function updateControls() {
  const live = current && !['completed', 'failed'].includes(current.state);
  const listening = live && current.state === 'awaiting_input' && current.gather && !busy;
  const holding = live && onHold() && !busy;
  ui.call.disabled = Boolean(live);
  ui.hangup.disabled = !live;
  ui.sendKeys.disabled = !(listening || holding) || ui.entry.value === '';
  ui.silence.disabled = !listening;
  ui.sayButton.disabled = !listening || !current.gather.input.includes('speech');
  ui.listen.disabled = ui.sayButton.disabled;
  for (const key of ui.keypad.querySelectorAll('button')) key.disabled = !live;
  ui.listening.hidden = !(listening || holding);
  if (holding && !listening) ui.listening.textContent = 'On hold: the keys you press go to the line.';
  if (listening) {
    const g = current.gather;
    const how = g.input.includes('speech') ? 'keys or speech' : 'keys';
    const digits = g.numDigits ? `, ${g.numDigits} digit${g.numDigits === 1 ? '' : 's'}` : g.finishOnKey ? `, end with ${g.finishOnKey}` : '';
    ui.listening.textContent = `Listening for ${how}${digits} (${g.language}).`;
  }
}

function applyView(view) {
  current = { ...(current ?? {}), id: view.id, state: view.state, gather: view.gather, queue: view.queue, repLeg: view.repLeg, next: Math.max(current?.next ?? 0, view.next) };
  ui.state.textContent = view.state;
  ui.queue.textContent = view.queue ? `in queue “${view.queue}”` : '';
  showRepLeg(view.repLeg);
  ui.sid.textContent = view.callSid;
  view.events.forEach((event, i) => addEvent(view.next - view.events.length + i, event));
  if (view.state === 'completed' || view.state === 'failed') closeStream();
  updateControls();
}

function applyState({ state, queue, repLeg }) {
  if (!current) return;
  current.state = state;
  current.queue = queue;
  current.repLeg = repLeg;
  ui.state.textContent = state;
  ui.queue.textContent = queue ? `in queue “${queue}”` : '';
  showRepLeg(repLeg);
  if (state === 'awaiting_input' || state === 'completed' || state === 'failed') void refresh();
  updateControls();
}

// A rep accepted (here or anywhere else through the staff API): the caller is talking to them.
function showRepLeg(repLeg) {
  ui.rep.textContent = repLeg ? `Connected to a representative (${repLeg.recorded ? 'recorded' : 'not recorded'})` : '';
}

async function refresh() {
  if (!current) return;
  try {
    applyView(await request('GET', `/simulator/api/calls/${current.id}?after=${current.next}`));
  } catch {
    // The stream keeps the page up to date; a missed refresh is repaired by the next one.
  }
}

function openStream() {
  closeStream();
  if (!window.EventSource) return;
  stream = new EventSource(`/simulator/api/calls/${current.id}/stream?after=${current.next}`);
  stream.addEventListener('call-event', (message) => {
    const { index, event } = JSON.parse(message.data);
    addEvent(index, event);
    if (current) current.next = Math.max(current.next, index + 1);
  });
  stream.addEventListener('state', (message) => applyState(JSON.parse(message.data)));
  stream.onerror = () => {
    if (current && ['completed', 'failed'].includes(current.state)) closeStream();
  };
}

function closeStream() {
  stream?.close();
  stream = null;
}

async function act(path, body) {
  if (!current) return;
  window.speechSynthesis?.cancel(); // the caller talks over the prompt: barge-in
  setBusy(true);
  try {
    const send = () => request('POST', `/simulator/api/calls/${current.id}/${path}?after=${current.next}`, body);
    let view;
    try {
      view = await send();
    } catch (error) {
      // The hold loop may be fetching the next wait document right now: the keys go to it a moment later.
      if (error.code !== 'call.wrong_state') throw error;
      await new Promise((resolve) => setTimeout(resolve, 400));
      view = await send();
    }
    applyView(view);
  } catch (error) {
    note(`Could not ${path.replace('-', ' ')}: ${error.message}`, 'error');
  } finally {
    setBusy(false);
  }
}

// --- transcript ----------------------------------------------------------------------------------

function note(text, kind, lang) {
  const li = document.createElement('li');
  li.className = kind;
  if (lang) {
    const badge = document.createElement('span');
    badge.className = 'lang';
    badge.textContent = lang;
    li.append(badge, ' ');
  }
  li.append(text);
  ui.transcript.append(li);
  li.scrollIntoView({ block: 'nearest' });
  return li;
}

function speak(text, lang) {
  if (!ui.tts.checked || !window.speechSynthesis) return;
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = lang;
  const voice = window.speechSynthesis.getVoices().find((v) => v.lang === lang) ?? window.speechSynthesis.getVoices().find((v) => v.lang.startsWith(lang.slice(0, 2)));
  if (voice) utterance.voice = voice;
  window.speechSynthesis.speak(utterance);
}

function addEvent(index, event) {
  if (seen.has(index)) return;
  seen.add(index);
  switch (event.type) {
    case 'say':
      note(event.text, 'say', event.language);
      speak(event.text, event.language);
      break;
    case 'play':
      note(event.digits ? `(tones ${event.digits})` : '♪ hold music', 'play');
      break;
    case 'caller':
      if (event.action === 'press') note(`You pressed ${event.digits}`, 'caller');
      else if (event.action === 'speak') note(`You said “${event.speech}”`, 'caller');
      else if (event.action === 'timeout') note('(you stayed silent)', 'caller');
      else if (event.action === 'hangup') note('You hung up', 'caller');
      break;
    case 'enqueued':
      note(`Waiting in queue ${event.queue}`, 'system');
      break;
    case 'left_queue':
      note(`Left the queue (${event.result}) after ${event.queueTime} s`, 'system');
      break;
    case 'dialed':
      note(`Rep leg ${event.status}, ${event.durationSeconds} s${event.recordingSid ? ', recorded' : ', not recorded'}`, 'system');
      break;
    case 'hangup':
      note(event.by === 'caller' ? 'Call ended' : 'The IVR hung up', 'system');
      break;
    case 'application_error':
      note(`Application error (${event.code}): ${event.message}`, 'error');
      break;
    case 'warning':
      note(`Warning: ${event.message}`, 'warn');
      break;
    case 'http': {
      const li = note(`${event.method} ${new URL(event.url).pathname} → ${event.status ?? 'no answer'} (${event.ms} ms)`, 'http');
      li.hidden = !ui.showHttp.checked;
      break;
    }
    default:
      break;
  }
}

ui.showHttp.addEventListener('change', () => {
  for (const li of ui.transcript.querySelectorAll('li.http')) li.hidden = !ui.showHttp.checked;
});

// --- caller controls -------------------------------------------------------------------------------

ui.dialForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  ui.transcript.replaceChildren();
  seen.clear();
  current = null;
  setBusy(true);
  try {
    const from = ui.from.value.trim();
    const view = await request('POST', '/simulator/api/calls', from ? { from } : {});
    applyView(view);
    openStream();
  } catch (error) {
    note(`Could not place the call: ${error.message}`, 'error');
  } finally {
    setBusy(false);
  }
});

ui.hangup.addEventListener('click', () => {
  window.speechSynthesis?.cancel();
  void act('hangup');
});

ui.keypad.addEventListener('click', (event) => {
  const key = event.target.closest('button')?.dataset.key;
  if (!key || !current) return;
  ui.entry.value += key;
  const g = current.gather;
  // Like a phone: the Gather completes itself on its digit count or its finish key, and on hold
  // each key goes straight to the line (the wait document's Gather hears it).
  if (onHold() || (current.state === 'awaiting_input' && g && ((g.finishOnKey && key === g.finishOnKey) || (g.numDigits && ui.entry.value.replace(/[#*]$/, '').length >= g.numDigits)))) sendKeys();
  updateControls();
});

function sendKeys() {
  const digits = ui.entry.value;
  ui.entry.value = '';
  if (digits) void act('press', { digits });
}

ui.sendKeys.addEventListener('click', sendKeys);
ui.silence.addEventListener('click', () => void act('timeout'));

ui.speechForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const speech = ui.speechText.value.trim();
  if (!speech) return;
  ui.speechText.value = '';
  void act('say', { speech });
});

// Browser speech recognition, where available, fills the "Say" box.
const Recognition = window.SpeechRecognition ?? window.webkitSpeechRecognition;
if (Recognition) {
  ui.listen.hidden = false;
  ui.listen.addEventListener('click', () => {
    const recognition = new Recognition();
    recognition.lang = current?.gather?.language ?? 'en-US';
    recognition.onresult = (event) => {
      ui.speechText.value = event.results[0][0].transcript;
      ui.speechForm.requestSubmit();
    };
    recognition.start();
  });
}

// --- the rep -------------------------------------------------------------------------------------

let repToken = window.sessionStorage.getItem('mintdesk-sim-rep-token');
let repPoll = null;
let repActiveCall = null;

async function repRequest(method, path, body) {
  try {
    return await request(method, path, body, repToken);
  } catch (error) {
    if (error.status === 401) repSignedOut();
    throw error;
  }
}

const ROLE_NAMES = { csr: 'customer service rep', supervisor: 'supervisor', fraud_analyst: 'fraud analyst', admin: 'administrator', auditor: 'auditor' };

/**
 * Only roles that take calls get the rep console. Anyone else is signed out again with one message
 * saying why, rather than a console whose every request answers "Your role does not allow this."
 */
async function checkRole() {
  const me = await repRequest('GET', '/api/staff/me');
  const username = me.user?.username ?? 'staff';
  if (me.permissions?.includes('calls:accept')) return repSignedIn(username);
  await repRequest('POST', '/api/staff/logout').catch(() => undefined);
  repSignedOut();
  const role = ROLE_NAMES[me.user?.role] ?? me.user?.role ?? 'this role';
  ui.repError.textContent = `${username} is ${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}: only customer service reps and supervisors take calls here. Sign in with one of their accounts.`;
}

function repSignedIn(name) {
  ui.repError.textContent = '';
  ui.repLogin.hidden = true;
  ui.repConsole.hidden = false;
  ui.repName.textContent = name;
  clearInterval(repPoll);
  repPoll = setInterval(loadWaiting, 3000);
  void loadWaiting();
}

function repSignedOut() {
  repToken = null;
  window.sessionStorage.removeItem('mintdesk-sim-rep-token');
  clearInterval(repPoll);
  ui.repLogin.hidden = false;
  ui.repConsole.hidden = true;
}

ui.repLogin.addEventListener('submit', async (event) => {
  event.preventDefault();
  ui.repError.textContent = '';
  try {
    const totpCode = $('rep-totp').value.trim();
    const body = { username: $('rep-username').value.trim(), password: $('rep-password').value, ...(totpCode ? { totpCode } : {}) };
    const session = await request('POST', '/api/staff/login', body);
    repToken = session.token;
    window.sessionStorage.setItem('mintdesk-sim-rep-token', repToken);
    await checkRole();
  } catch (error) {
    ui.repError.textContent = error.message;
  }
});

ui.repLogout.addEventListener('click', async () => {
  await repRequest('POST', '/api/staff/logout').catch(() => undefined);
  repSignedOut();
});

async function loadWaiting() {
  let waiting;
  try {
    waiting = (await repRequest('GET', '/api/staff/ivr/calls/waiting')).items;
  } catch (error) {
    ui.repError.textContent = error.message;
    return;
  }
  ui.waitingEmpty.hidden = waiting.length > 0;
  const cell = (main, detail) => {
    const td = document.createElement('td');
    td.append(main);
    if (detail) {
      const small = document.createElement('small');
      small.textContent = detail;
      td.append(small);
    }
    return td;
  };
  ui.waitingRows.replaceChildren(
    ...waiting.map((call) => {
      const tr = document.createElement('tr');
      const entered = Object.entries(call.entered).map(([k, v]) => `${k}: ${v}`).join('; ');
      const customer = call.customer ? call.customer.name : call.customerMatches > 1 ? `${call.customerMatches} customers share this number` : 'unknown caller';
      tr.append(
        cell(String(call.position)),
        cell(`${call.callerId}${call.tty ? ' (TTY)' : ''}`, `${customer} · ${call.language}`),
        cell(entered || '—', call.recordingDeclined ? 'recording declined' : 'recording allowed'),
        cell(`${call.waitingSeconds} s`),
      );
      const td = document.createElement('td');
      const accept = document.createElement('button');
      accept.type = 'button';
      accept.textContent = call.acceptedBy ? 'Taken' : 'Accept';
      accept.disabled = Boolean(call.acceptedBy);
      accept.dataset.testid = 'accept';
      accept.addEventListener('click', () => acceptCall(call));
      td.append(accept);
      tr.append(td);
      return tr;
    }),
  );
}

async function acceptCall(call) {
  try {
    await repRequest('POST', `/api/staff/ivr/calls/${call.callSid}/accept`, {});
    repActiveCall = call.callSid;
    ui.repCall.hidden = false;
    ui.repCall.textContent = `On the line with ${call.customer?.name ?? call.callerId}${call.recordingDeclined ? ' — the caller declined recording; this call is not recorded.' : '.'}`;
    ui.repHangup.hidden = false;
    void loadWaiting();
  } catch (error) {
    ui.repError.textContent = error.message;
  }
}

ui.repHangup.addEventListener('click', async () => {
  if (!repActiveCall) return;
  try {
    await request('POST', `/simulator/api/calls/${repActiveCall}/rep-hangup`, {});
  } catch (error) {
    ui.repError.textContent = error.message;
  }
  repActiveCall = null;
  ui.repCall.hidden = true;
  ui.repHangup.hidden = true;
});

if (repToken) checkRole().catch(() => repSignedOut());

// --- the line: the store's number, the representatives' hours, and whether they answer now ----------

const WEEKDAY_NAMES = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

function clockTime(hhmm) {
  const [h, m] = hhmm.split(':').map(Number);
  return `${((h + 11) % 12) + 1}${m ? `:${String(m).padStart(2, '0')}` : ''} ${h < 12 || h === 24 ? 'AM' : 'PM'}`;
}

async function loadLine() {
  let line;
  try {
    line = await request('GET', '/api/phone-line');
  } catch {
    return;
  }
  const number = line.storeNumber.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '($1) $2-$3');
  const day = (opening) => (opening.daysAhead === 0 ? 'today' : opening.daysAhead === 1 ? 'tomorrow' : WEEKDAY_NAMES[opening.weekday]);
  const next = line.nextOpening ? `${day(line.nextOpening)} at ${clockTime(line.nextOpening.time)}` : 'not in the next 30 days';
  const state = line.openNow
    ? 'The line is open: a call can reach a representative now.'
    : `The line is closed now${line.holidayToday ? ` (${line.holidayToday})` : ''}: a call can hear order status and ask for a call back, but cannot reach a person. Representatives are next available ${next}.`;
  ui.line.textContent = `Calling ${line.storeName} at ${number}. Representatives answer ${line.hours}. ${state}`;
  ui.line.classList.toggle('closed', !line.openNow);
}
void loadLine();
setInterval(loadLine, 60_000);

updateControls();
