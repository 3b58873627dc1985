import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { DEFAULT_IVR_CONFIG } from '../../api/ivr/defaults.ts';
import { promptText } from '../../ivr/speech.ts';
import { Twiml } from '../../ivr/twiml-builder.ts';

/**
 * The floor the IVR is compared with: an express endpoint that parses Twilio's form body as the
 * IVR router does and answers one fixed TwiML document, the size of the IVR's main menu (a Gather
 * with the menu's sentences) whose action is itself. No signature check, no state, no database.
 */
export const STATIC_PATH = '/static/twiml';

export async function startStaticTwiml(): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 300 }));
  let body = '';
  app.post(STATIC_PATH, (_req, res) => void res.status(200).type('text/xml').send(body));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  body = mainMenuDocument(base);
  return {
    url: `${base}${STATIC_PATH}`,
    server,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function mainMenuDocument(base: string): string {
  const config = DEFAULT_IVR_CONFIG;
  const options = config.mainMenu.options;
  const twiml = new Twiml(config, base);
  twiml.gather('en', { action: STATIC_PATH, numDigits: 1, timeout: config.input.timeoutSeconds, hints: options.flatMap((o) => o.speech.en.slice(0, 3)) }, (say) => {
    say('en', promptText(config, 'mainMenuIntro', 'en'));
    for (const option of options) say('en', promptText(config, 'menuOption', 'en', { label: option.label.en, key: option.key, phrase: option.speech.en[0] ?? '' }));
  });
  return twiml.toString();
}
