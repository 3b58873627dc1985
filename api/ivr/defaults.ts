import type { IvrConfig } from './schema.ts';

/**
 * The IVR as shipped: a numismatic store's phone line, in English and Spanish. `{store}` is the
 * store's name (STORE_NAME) and `{storeNumber}` the number callers dial. It is version 0:
 * used until an admin saves a first version, and as the last resort when the stored config cannot
 * be read (the caller still hears the apology and reaches a rep).
 *
 * Holidays are the US federal holidays as observed (a Saturday holiday is observed the Friday
 * before, a Sunday one the Monday after) for 2026 and 2027; admins add later years.
 */
export const DEFAULT_IVR_CONFIG: IvrConfig = {
  voices: {
    en: { language: 'en-US', voice: 'Polly.Joanna' },
    es: { language: 'es-US', voice: 'Polly.Lupe' },
  },
  languageMenu: {
    en: { key: '1', speech: ['english', 'ingles'] },
    es: { key: '2', speech: ['espanol', 'spanish'] },
  },
  recording: {
    declineKey: '9',
    declineSpeech: {
      en: ['do not record', "don't record", 'no recording', 'decline'],
      es: ['no grabar', 'no grabe', 'sin grabacion'],
    },
  },
  mainMenu: {
    options: [
      {
        key: '1',
        action: 'order_status',
        label: { en: 'For the status of an order', es: 'Para el estado de un pedido' },
        speech: {
          en: ['order status', 'order', 'status', 'track my order', 'tracking', 'shipping', 'where is my order'],
          es: ['estado de mi pedido', 'pedido', 'estado', 'orden', 'envio', 'rastrear'],
        },
      },
      {
        key: '2',
        action: 'new_releases',
        label: { en: 'For new releases and product information', es: 'Para nuevos lanzamientos e información sobre productos' },
        speech: {
          en: ['new releases', 'releases', 'new coins', 'products', 'product information', 'catalog', 'proof sets'],
          es: ['nuevos lanzamientos', 'lanzamientos', 'productos', 'monedas nuevas', 'catalogo'],
        },
      },
      {
        key: '3',
        action: 'hours_address',
        label: { en: 'For our hours and mailing address', es: 'Para nuestro horario y dirección postal' },
        speech: {
          en: ['hours', 'business hours', 'address', 'mailing address', 'when are you open'],
          es: ['horario', 'horas', 'direccion', 'direccion postal'],
        },
      },
      {
        key: '4',
        action: 'tty',
        label: { en: 'For hearing-impaired and TTY information', es: 'Para información para personas con discapacidad auditiva y TTY' },
        speech: {
          en: ['tty', 'hearing impaired', 'hearing', 'deaf', 'relay'],
          es: ['tty', 'discapacidad auditiva', 'sordo', 'sorda', 'retransmision'],
        },
      },
      {
        key: '0',
        action: 'representative',
        label: { en: 'To speak with a representative', es: 'Para hablar con un representante' },
        speech: {
          en: ['representative', 'agent', 'operator', 'person', 'customer service', 'someone'],
          es: ['representante', 'agente', 'operador', 'persona', 'asesor'],
        },
      },
    ],
  },
  input: { timeoutSeconds: 6, ttyTimeoutSeconds: 30, noticeTimeoutSeconds: 3, maxAttempts: 3 },
  queue: {
    name: 'mintdesk-customer-service',
    // Twilio's public hold playlist; replace with the store's own licensed audio.
    holdMusicUrl: 'http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3',
    secondsPerCallerAhead: 180,
    repRingSeconds: 20,
  },
  hours: {
    timeZone: 'America/New_York',
    weekly: [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], open: '08:30', close: '20:00' },
      { days: ['sat'], open: '09:00', close: '17:00' },
    ],
    holidays: [
      { date: '2026-01-01', name: "New Year's Day" },
      { date: '2026-01-19', name: 'Martin Luther King Jr. Day' },
      { date: '2026-02-16', name: "Washington's Birthday" },
      { date: '2026-05-25', name: 'Memorial Day' },
      { date: '2026-06-19', name: 'Juneteenth' },
      { date: '2026-07-03', name: 'Independence Day (observed)' },
      { date: '2026-09-07', name: 'Labor Day' },
      { date: '2026-10-12', name: 'Columbus Day' },
      { date: '2026-11-11', name: 'Veterans Day' },
      { date: '2026-11-26', name: 'Thanksgiving Day' },
      { date: '2026-12-25', name: 'Christmas Day' },
      { date: '2027-01-01', name: "New Year's Day" },
      { date: '2027-01-18', name: 'Martin Luther King Jr. Day' },
      { date: '2027-02-15', name: "Washington's Birthday" },
      { date: '2027-05-31', name: 'Memorial Day' },
      { date: '2027-06-18', name: 'Juneteenth (observed)' },
      { date: '2027-07-05', name: 'Independence Day (observed)' },
      { date: '2027-09-06', name: 'Labor Day' },
      { date: '2027-10-11', name: 'Columbus Day' },
      { date: '2027-11-11', name: 'Veterans Day' },
      { date: '2027-11-25', name: 'Thanksgiving Day' },
      { date: '2027-12-24', name: 'Christmas Day (observed)' },
    ],
  },
  prompts: {
    greeting: {
      en: 'Thank you for calling {store}, home of collector coins, proof sets and medals.',
      es: 'Gracias por llamar a {store}, su tienda de monedas de colección, sets de prueba y medallas.',
    },
    chooseLanguage: { en: 'For English, press {key}, or say English.', es: 'Para español, oprima {key}, o diga español.' },
    recordingNotice: {
      en: 'Calls with our representatives may be recorded for quality and training.',
      es: 'Las llamadas con nuestros representantes pueden ser grabadas para fines de calidad y capacitación.',
    },
    declineRecording: {
      en: 'If you do not want your call recorded, press {key} now.',
      es: 'Si no desea que su llamada sea grabada, oprima {key} ahora.',
    },
    recordingDeclined: { en: 'Thank you. Your call will not be recorded.', es: 'Gracias. Su llamada no será grabada.' },
    mainMenuIntro: { en: 'Main menu.', es: 'Menú principal.' },
    menuOption: { en: '{label}, press {key}, or say {phrase}.', es: '{label}, oprima {key}, o diga {phrase}.' },
    notUnderstood: { en: "Sorry, I didn't understand that.", es: 'Lo siento, no le entendí.' },
    noInput: { en: "Sorry, I didn't hear a response.", es: 'Lo siento, no escuché ninguna respuesta.' },
    anythingElse: {
      en: 'To hear that again, press {repeatKey}. For the main menu, press {menuKey}. To speak with a representative, press {repKey}. Or, you may hang up.',
      es: 'Para escucharlo de nuevo, oprima {repeatKey}. Para el menú principal, oprima {menuKey}. Para hablar con un representante, oprima {repKey}. O puede colgar.',
    },
    orderNumber: {
      en: 'Please enter your eight-digit order number, or say it one digit at a time. You will find it on your order confirmation.',
      es: 'Por favor ingrese su número de pedido de ocho dígitos, o dígalo un dígito a la vez. Lo encontrará en la confirmación de su pedido.',
    },
    orderNumberInvalid: {
      en: "That order number doesn't seem right. Please check it and try again.",
      es: 'Ese número de pedido no parece correcto. Por favor verifíquelo e intente de nuevo.',
    },
    billingZip: {
      en: 'For your security, please enter the five-digit ZIP code of the billing address for this order.',
      es: 'Por su seguridad, ingrese el código postal de cinco dígitos de la dirección de facturación de este pedido.',
    },
    orderNotVerified: {
      en: "I'm sorry, I couldn't find an order with that order number and ZIP code.",
      es: 'Lo siento, no encontré un pedido con ese número de pedido y código postal.',
    },
    tooManyAttempts: {
      en: 'Let me connect you with a representative who can help.',
      es: 'Permítame comunicarle con un representante que pueda ayudarle.',
    },
    newReleasesIntro: { en: 'Here are our newest releases.', es: 'Estos son nuestros lanzamientos más recientes.' },
    noNewReleases: { en: 'There are no new releases at the moment.', es: 'No hay nuevos lanzamientos en este momento.' },
    productInfo: {
      en: 'Our full catalog of coins, proof sets, medals and subscription programs is online at mintdesk dot example. Subscribers receive each new release automatically.',
      es: 'Nuestro catálogo completo de monedas, sets de prueba, medallas y programas de suscripción está en línea en mintdesk punto example. Los suscriptores reciben cada nuevo lanzamiento automáticamente.',
    },
    hoursAndAddress: {
      en: 'Our representatives are available {hours}. Our mailing address is {store} Customer Service, P.O. Box 1792, Washington, D.C. 2 0 2 2 0.',
      es: 'Nuestros representantes están disponibles {hours}. Nuestra dirección postal es {store} Customer Service, P.O. Box 1792, Washington, D.C. 2 0 2 2 0.',
    },
    ttyInfo: {
      en: 'If you are deaf or hard of hearing, you can reach us through your relay service by dialing 7 1 1 and giving the operator our number, {storeNumber}. We will now wait longer for each of your responses.',
      es: 'Si usted es sordo o tiene dificultades auditivas, puede comunicarse con nosotros a través de su servicio de retransmisión marcando 7 1 1 y dando al operador nuestro número, {storeNumber}. A partir de ahora esperaremos más tiempo cada una de sus respuestas.',
    },
    queueEntering: { en: 'Please hold for the next available representative.', es: 'Por favor espere al próximo representante disponible.' },
    queuePosition: { en: 'You are number {position} in line.', es: 'Usted es el número {position} en la fila.' },
    queueEstimate: { en: 'Your estimated wait is about {minutes} minutes.', es: 'El tiempo de espera estimado es de unos {minutes} minutos.' },
    queueEstimateOneMinute: { en: 'Your estimated wait is about one minute.', es: 'El tiempo de espera estimado es de aproximadamente un minuto.' },
    queueCallbackOffer: {
      en: 'To leave the line and have us call you back instead, press {key} at any time.',
      es: 'Para salir de la fila y que le devolvamos la llamada, oprima {key} en cualquier momento.',
    },
    connecting: { en: 'Thank you for waiting. Connecting you to a representative now.', es: 'Gracias por esperar. Le estamos comunicando con un representante.' },
    repUnavailable: {
      en: 'Sorry, that representative could not take your call. Please stay on the line.',
      es: 'Lo siento, ese representante no pudo tomar su llamada. Por favor permanezca en la línea.',
    },
    afterHours: {
      en: 'Our representatives are not available right now. They are available {hours}.',
      es: 'Nuestros representantes no están disponibles en este momento. Están disponibles {hours}.',
    },
    callbackOffer: {
      en: 'To request a call back, press {callbackKey}. For the main menu, press {menuKey}.',
      es: 'Para solicitar que le devolvamos la llamada, oprima {callbackKey}. Para el menú principal, oprima {menuKey}.',
    },
    callbackUseCallerId: {
      en: 'We can call you back at the number ending in {last4}. To use this number, press {useKey}. To enter a different number, press {otherKey}.',
      es: 'Podemos devolverle la llamada al número que termina en {last4}. Para usar este número, oprima {useKey}. Para ingresar otro número, oprima {otherKey}.',
    },
    callbackEnterNumber: {
      en: 'Please enter your ten-digit phone number, starting with the area code.',
      es: 'Por favor ingrese su número de teléfono de diez dígitos, comenzando con el código de área.',
    },
    callbackNumberInvalid: {
      en: "That doesn't look like a ten-digit phone number.",
      es: 'Ese no parece un número de teléfono de diez dígitos.',
    },
    callbackBestTime: {
      en: 'When is the best time to reach you? Press {morningKey} for morning, {afternoonKey} for afternoon, or {eveningKey} for evening. Or, say a day and time.',
      es: '¿Cuál es el mejor momento para comunicarnos con usted? Oprima {morningKey} para la mañana, {afternoonKey} para la tarde o {eveningKey} para la noche. O diga un día y una hora.',
    },
    callbackConfirmed: {
      en: 'Thank you. A representative will call you back {when}.',
      es: 'Gracias. Un representante le devolverá la llamada {when}.',
    },
    goodbye: { en: 'Thank you for calling {store}. Goodbye.', es: 'Gracias por llamar a {store}. Adiós.' },
    apology: {
      en: "We're sorry, something went wrong on our end.",
      es: 'Lo sentimos, tenemos un problema técnico.',
    },
    apologyRep: {
      en: 'Please stay on the line and the next available representative will help you.',
      es: 'Por favor permanezca en la línea y el próximo representante disponible le atenderá.',
    },
  },
};
