import { expect } from 'chai';
import fc from 'fast-check';
import { ValidationError } from '../../platform/errors.ts';
import { householdCanonicalForm, householdKey, nameKey } from '../../api/addresses/household.ts';
import { AddressInput, AddressSuggestion, PostalAddress, StandardizeAddressRequest, usStateCode, type AddressInputDraft } from '../../api/addresses/schema.ts';
import { createAddressService } from '../../api/addresses/service.ts';
import { standardizeAddress } from '../../api/addresses/standardize.ts';

const SPRINGFIELD = { city: 'SPRINGFIELD', state: 'IL', postalCode: '62701' } as const;
const at = (line1: string, line2?: string): AddressInputDraft => ({ line1, ...(line2 === undefined ? {} : { line2 }), ...SPRINGFIELD });

describe('addresses: standardizeAddress (US delivery line)', () => {
  // [line1 as typed, line 2 as typed, expected line1, expected line2]
  const cases: Array<[string, string | undefined, string, string | undefined]> = [
    // suffixes (addresser's Pub 28 C1 table)
    ['123 Main Street', undefined, '123 MAIN ST', undefined],
    ['123 Elm Avenue', undefined, '123 ELM AVE', undefined],
    ['77 Sunset Boulevard', undefined, '77 SUNSET BLVD', undefined],
    ['9 Oak Lane', undefined, '9 OAK LN', undefined],
    ['5 Heritage Parkway', undefined, '5 HERITAGE PKWY', undefined],
    ['12 Harbor Circle', undefined, '12 HARBOR CIR', undefined],
    ['400 Park Av.', undefined, '400 PARK AVE', undefined],
    ['123 Ocean Key', undefined, '123 OCEAN KY', undefined],
    ['123 Ocean Key W Apt 4', undefined, '123 OCEAN KY W APT 4', undefined],
    // only the last type word is the suffix; a lone type word is the name
    ['100 Park Avenue', undefined, '100 PARK AVE', undefined],
    ['1 Court Street', undefined, '1 COURT ST', undefined],
    ['100 Avenue of the Americas', undefined, '100 AVENUE OF THE AMERICAS', undefined],
    ['42 Broadway', undefined, '42 BROADWAY', undefined],
    ['123 Highway 66', undefined, '123 HIGHWAY 66', undefined],
    ['1234 County Road 5', undefined, '1234 COUNTY ROAD 5', undefined],
    // directionals, pre and post, one and two words
    ['123 North Main Street', undefined, '123 N MAIN ST', undefined],
    ['123 Main Street North', undefined, '123 MAIN ST N', undefined],
    ['1600 Pennsylvania Ave. N.W.', undefined, '1600 PENNSYLVANIA AVE NW', undefined],
    ['1600 Pennsylvania Avenue Northwest', undefined, '1600 PENNSYLVANIA AVE NW', undefined],
    ['123 North West Main St', undefined, '123 NW MAIN ST', undefined],
    ['123 Main St South East', undefined, '123 MAIN ST SE', undefined],
    ['9 West 57th Street', undefined, '9 W 57TH ST', undefined],
    ['842 East 1700 South', undefined, '842 E 1700 S', undefined],
    // a directional that is the whole street name stays spelled out
    ['100 North Avenue', undefined, '100 NORTH AVE', undefined],
    ['123 South West St', undefined, '123 S WEST ST', undefined],
    ['50 E Street NW', undefined, '50 E ST NW', undefined],
    // secondary units, in line 1 or line 2
    ['123 Main St Apartment 4', undefined, '123 MAIN ST APT 4', undefined],
    ['123 Main St Apt. #4', undefined, '123 MAIN ST APT 4', undefined],
    ['123 Main St #4', undefined, '123 MAIN ST # 4', undefined],
    ['500 S Park Ave Suite 200', undefined, '500 S PARK AVE STE 200', undefined],
    ['1 Main St Building 5 Floor 3', undefined, '1 MAIN ST BLDG 5 FL 3', undefined],
    ['1 Main St Unit 4-B', undefined, '1 MAIN ST UNIT 4-B', undefined],
    ['1 Main St Apt-4', undefined, '1 MAIN ST APT 4', undefined],
    ['1 Main St Room 12', undefined, '1 MAIN ST RM 12', undefined],
    ['1 Main St Trailer 7', undefined, '1 MAIN ST TRLR 7', undefined],
    ['1 Main St Penthouse', undefined, '1 MAIN ST PH', undefined],
    ['1 Main St Rear', undefined, '1 MAIN ST REAR', undefined],
    ['1 Main St Lower', undefined, '1 MAIN ST LOWR', undefined],
    ['1 Main St PMB 45', undefined, '1 MAIN ST PMB 45', undefined],
    ['1 Main St', 'Apartment 4', '1 MAIN ST', 'APT 4'],
    ['1 Main St', 'Suite 200', '1 MAIN ST', 'STE 200'],
    ['1 Main St', 'Bldg. 5, Fl. 3', '1 MAIN ST', 'BLDG 5 FL 3'],
    ['1 Main St', '#12', '1 MAIN ST', '# 12'],
    ['10 Main St Apt 3', 'Floor 2', '10 MAIN ST APT 3', 'FL 2'],
    // "Front" is only a unit after a clear end of street
    ['123 Lake Front', undefined, '123 LAKE FRONT', undefined],
    ['123 Main St Front', undefined, '123 MAIN ST FRNT', undefined],
    // significant punctuation kept, the rest removed; case and spacing folded
    ['123 1/2 Main St', undefined, '123 1/2 MAIN ST', undefined],
    ['112-10 Bronx Rd', undefined, '112-10 BRONX RD', undefined],
    ['N95W18000 Appleton Ave', undefined, 'N95W18000 APPLETON AVE', undefined],
    ['  123   main   st.,  apt 4  ', undefined, '123 MAIN ST APT 4', undefined],
    ['123\tMain St\nApt 4', undefined, '123 MAIN ST APT 4', undefined],
    ["15 St. John's Rd", undefined, '15 ST JOHNS RD', undefined],
    ['123 MAIN ST', undefined, '123 MAIN ST', undefined],
    ['123 Main', undefined, '123 MAIN', undefined],
    // unit words that are also street names
    ['1 Pier Ave', undefined, '1 PIER AVE', undefined],
    ['3 Old Slip', undefined, '3 OLD SLIP', undefined],
    ['2101 Space Center Blvd', undefined, '2101 SPACE CENTER BLVD', undefined],
    // PO boxes, rural routes, highway contracts, military, general delivery
    ['P.O. Box 123', undefined, 'PO BOX 123', undefined],
    ['PO Box #123', undefined, 'PO BOX 123', undefined],
    ['Post Office Box 0123', undefined, 'PO BOX 0123', undefined],
    ['POB 77', undefined, 'PO BOX 77', undefined],
    ['RR 2 Box 152', undefined, 'RR 2 BOX 152', undefined],
    ['Rural Route 2, Box 152', undefined, 'RR 2 BOX 152', undefined],
    ['R.F.D. 3 Box 9A', undefined, 'RR 3 BOX 9A', undefined],
    ['Highway Contract 68 Box 23A', undefined, 'HC 68 BOX 23A', undefined],
    ['Star Route 4 Box 10', undefined, 'HC 4 BOX 10', undefined],
    ['psc 1234 box 5678', undefined, 'PSC 1234 BOX 5678', undefined],
    ['General Delivery', undefined, 'GENERAL DELIVERY', undefined],
  ];
  for (const [line1, line2, want1, want2] of cases) {
    it(`${JSON.stringify(line1)}${line2 === undefined ? '' : ` / ${JSON.stringify(line2)}`} -> ${want1}${want2 === undefined ? '' : ` / ${want2}`}`, () => {
      const s = standardizeAddress(at(line1, line2));
      expect(s.status, JSON.stringify(s.messages)).to.not.equal('unverifiable');
      expect(s.standardized.line1).to.equal(want1);
      expect(s.standardized.line2).to.equal(want2);
    });
  }

  // Lines that cannot be taken apart without guessing: kept exactly as typed.
  const unparseable: Array<[string, string | undefined]> = [
    ['Main St', undefined], // no house number
    ['123', undefined], // no street
    ['Apt 4', '1 Main St'], // lines swapped
    ['123 Apt 4 Main St', undefined], // unit in the middle
    ['123 Main St Apt 4 B', undefined], // which part is the unit?
    ['123 Main Suite', undefined], // a unit without its number
    ['123 Main St & 5th Ave', undefined], // corner address
    ['One Main Street', undefined], // spelled-out number
    ['1 Main St', 'c/o Jane Doe'], // line 2 is not a unit
    ['1 Main St', 'Attn: Receiving'],
    ['garbage', undefined],
    ['!!!', undefined],
    ['🏠 123 Main St', undefined],
    ['x'.repeat(5000), undefined],
  ];
  for (const [line1, line2] of unparseable) {
    it(`keeps ${JSON.stringify(line1.slice(0, 40))}${line2 === undefined ? '' : ` / ${JSON.stringify(line2)}`} intact as unverifiable`, () => {
      const input = at(line1, line2);
      const s = standardizeAddress(input);
      expect(s.status).to.equal('unverifiable');
      expect(s.standardized).to.deep.equal({ ...input, country: 'US' });
      expect(s.changes).to.deep.equal([]);
      expect(s.messages.map((m) => m.code)).to.satisfy((codes: string[]) => codes.some((c) => c.startsWith('address.line')));
    });
  }

  it('reports each field it changed, from and to', () => {
    const s = standardizeAddress({ line1: '123 North Main Street Apt 4', city: 'Springfield', state: 'Illinois', postalCode: '627011234' });
    expect(s.status).to.equal('corrected');
    expect(s.standardized).to.deep.equal({ line1: '123 N MAIN ST APT 4', city: 'SPRINGFIELD', state: 'IL', postalCode: '62701-1234', country: 'US' });
    expect(s.changes).to.deep.equal([
      { field: 'line1', from: '123 North Main Street Apt 4', to: '123 N MAIN ST APT 4' },
      { field: 'city', from: 'Springfield', to: 'SPRINGFIELD' },
      { field: 'state', from: 'Illinois', to: 'IL' },
      { field: 'postalCode', from: '627011234', to: '62701-1234' },
    ]);
    expect(s.messages.map((m) => m.code)).to.deep.equal(['address.standardized']);
    expect(s.input.line1).to.equal('123 North Main Street Apt 4');
  });

  it('says unchanged for an address already in postal form', () => {
    const s = standardizeAddress({ line1: '123 N MAIN ST APT 4', city: 'SPRINGFIELD', state: 'IL', postalCode: '62701-1234', country: 'US' });
    expect(s.status).to.equal('unchanged');
    expect(s.changes).to.deep.equal([]);
    expect(s.messages.map((m) => m.code)).to.deep.equal(['address.already_standard']);
  });

  it('maps state names (including territories and military) to USPS codes without partial matches', () => {
    const cases: Array<[string, string]> = [
      ['Illinois', 'IL'], ['illinois', 'IL'], ['il', 'IL'], [' New   York ', 'NY'], ['West Virginia', 'WV'], ['Virginia', 'VA'],
      ['Kansas', 'KS'], ['Arkansas', 'AR'], ['District of Columbia', 'DC'], ['D.C.', 'DC'], ['Puerto Rico', 'PR'],
      ['U.S. Virgin Islands', 'VI'], ['Guam', 'GU'], ['ae', 'AE'], ['Armed Forces Pacific', 'AP'],
    ];
    for (const [typed, code] of cases) {
      const s = standardizeAddress({ line1: '1 Main St', city: 'Anytown', state: typed, postalCode: '12345' });
      expect(s.standardized.state, typed).to.equal(code);
    }
    for (const unknown of ['Ill.', 'Calif', 'ZZ', 'Ontario', 'ON', 'Springfield', '']) {
      const s = standardizeAddress({ line1: '1 Main St', city: 'Anytown', state: unknown, postalCode: '12345' });
      expect(s.status, unknown).to.equal('unverifiable');
      expect(s.messages.map((m) => m.code), unknown).to.include('address.state_unrecognized');
    }
    expect(usStateCode('northern mariana islands')).to.equal('MP');
  });

  it('formats ZIP and ZIP+4 and never pads or truncates one', () => {
    const zip = (postalCode: string) => standardizeAddress({ line1: '1 Main St', city: 'Boston', state: 'MA', postalCode });
    expect(zip('02108').standardized.postalCode).to.equal('02108');
    expect(zip('02108-1234').standardized.postalCode).to.equal('02108-1234');
    expect(zip('021081234').standardized.postalCode).to.equal('02108-1234');
    expect(zip('02108 1234').standardized.postalCode).to.equal('02108-1234');
    for (const bad of ['2108', '02108-12', '0210812345', 'ABCDE', '02108-']) {
      const s = zip(bad);
      expect(s.status, bad).to.equal('unverifiable');
      expect(s.standardized.postalCode).to.equal(bad);
      expect(s.messages.map((m) => m.code)).to.include('address.postal_code_unrecognized');
    }
  });

  it('writes cities in postal form', () => {
    const city = (c: string) => standardizeAddress({ line1: '1 Main St', city: c, state: 'MO', postalCode: '63101' }).standardized.city;
    expect(city('St. Louis')).to.equal('ST LOUIS');
    expect(city('Winston-Salem')).to.equal('WINSTON SALEM');
    expect(city("O'Fallon")).to.equal('O FALLON');
    expect(city("Coeur d'Alene")).to.equal('COEUR D ALENE');
    expect(city('  kansas   city ')).to.equal('KANSAS CITY');
    expect(standardizeAddress({ line1: '1 Main St', city: 'City @ Home', state: 'MO', postalCode: '63101' }).status).to.equal('unverifiable');
  });

  it('handles APO/FPO military addresses', () => {
    const s = standardizeAddress({ line1: 'Unit 2050 Box 4190', city: 'apo', state: 'AP', postalCode: '96278-2050' });
    expect(s.standardized).to.include({ line1: 'UNIT 2050 BOX 4190', city: 'APO', state: 'AP', postalCode: '96278-2050' });
  });

  it('leaves non-US addresses as entered (basic validation only)', () => {
    const input = { line1: '10 Downing St.', city: 'London', state: '', postalCode: 'SW1A 2AA', country: 'GB' };
    const s = standardizeAddress(input);
    expect(s.status).to.equal('unverifiable');
    expect(s.standardized).to.deep.equal(input);
    expect(s.messages.map((m) => m.code)).to.deep.equal(['address.not_us']);
  });

  it('never throws on input that skipped the schema', () => {
    const odd = [null, undefined, 42, 'a string', [], {}, { line1: 5, city: null, state: {}, postalCode: [] }, { line1: '1 Main St', line2: 7 }];
    for (const value of odd) {
      const s = standardizeAddress(value as unknown as AddressInputDraft);
      expect(s.status).to.equal('unverifiable');
    }
  });

  it('gives every verified suggestion in a form an order may keep', () => {
    const s = standardizeAddress({ line1: '500 south park avenue suite 200', city: 'chicago', state: 'illinois', postalCode: '606051234' });
    expect(s.status).to.equal('corrected');
    expect(PostalAddress.safeParse(s.standardized).success).to.equal(true);
    expect(AddressSuggestion.safeParse(s).success).to.equal(true);
  });
});

describe('addresses: schemas', () => {
  const valid = { line1: '123 Main St', city: 'Springfield', state: 'IL', postalCode: '62701' };

  it('PostalAddress defaults the country and accepts ZIP or ZIP+4 with a USPS state code', () => {
    expect(PostalAddress.parse(valid)).to.deep.equal({ ...valid, country: 'US' });
    expect(PostalAddress.safeParse({ ...valid, postalCode: '62701-1234', state: 'il' }).success).to.equal(true);
    expect(PostalAddress.safeParse({ ...valid, state: 'PR' }).success).to.equal(true);
    expect(PostalAddress.parse({ ...valid, line2: '' }).line2).to.equal(undefined);
  });

  it('PostalAddress rejects what an order must not keep, naming the field', () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ ...valid, state: 'Illinois' }, 'state'],
      [{ ...valid, state: 'ZZ' }, 'state'],
      [{ ...valid, postalCode: '627011234' }, 'postalCode'],
      [{ ...valid, postalCode: '6270' }, 'postalCode'],
      [{ ...valid, postalCode: '' }, 'postalCode'],
      [{ ...valid, line1: '' }, 'line1'],
      [{ ...valid, line1: 'x'.repeat(101) }, 'line1'],
      [{ ...valid, country: 'USA' }, 'country'],
      [{ ...valid, country: 'UK' }, 'country'],
      [{ ...valid, zip: '62701' }, 'zip'],
    ];
    for (const [address, field] of bad) {
      const result = PostalAddress.safeParse(address);
      expect(result.success, JSON.stringify(address)).to.equal(false);
      expect(result.error?.issues.map((i) => [...i.path, ...('keys' in i ? i.keys : [])].join('.'))).to.include(field);
    }
  });

  it('non-US addresses need no state or postal code and keep their own formats', () => {
    const gb = PostalAddress.parse({ line1: '10 Downing St', city: 'London', state: '', postalCode: 'SW1A 2AA', country: 'gb' });
    expect(gb.country).to.equal('GB');
    expect(PostalAddress.safeParse({ line1: '1 Queen St', city: 'Hong Kong', state: '', postalCode: '', country: 'HK' }).success).to.equal(true);
  });

  it('AddressInput accepts what a shopper types, for the suggestion to fix', () => {
    expect(AddressInput.safeParse({ ...valid, state: 'Illinois', postalCode: '62701 1234' }).success).to.equal(true);
    expect(AddressInput.safeParse({ ...valid, state: '' }).success).to.equal(false);
    expect(StandardizeAddressRequest.safeParse({ address: valid }).success).to.equal(true);
  });
});

describe('addresses: service', () => {
  it('suggest validates the shape and names each bad field', () => {
    const service = createAddressService();
    try {
      service.suggest({ city: 'Springfield', state: 'IL', postalCode: '62701', zip: '1' });
      expect.fail('should throw');
    } catch (error) {
      expect(error).to.be.instanceOf(ValidationError);
      expect(((error as ValidationError).fields ?? []).map((f) => `${f.path}:${f.code}`)).to.have.members(['line1:required', 'zip:unrecognized_key']);
    }
  });

  it('suggest standardises valid input', () => {
    const s = createAddressService().suggest({ line1: ' 123 north main street ', city: 'springfield', state: 'illinois', postalCode: '62701' });
    expect(s.status).to.equal('corrected');
    expect(s.input.line1).to.equal('123 north main street');
    expect(s.standardized.line1).to.equal('123 N MAIN ST');
  });

  it('keys households and names with its secret', () => {
    const address = at('123 Main St');
    const plain = createAddressService();
    const keyed = createAddressService({ householdSecret: 'a-long-server-side-secret-value' });
    expect(plain.householdKey(address)).to.equal(householdKey(address));
    expect(keyed.householdKey(address)).to.equal(householdKey(address, { secret: 'a-long-server-side-secret-value' }));
    expect(keyed.householdKey(address)).to.not.equal(plain.householdKey(address));
    expect(keyed.nameKey('Ann', 'Lee')).to.not.equal(plain.nameKey('Ann', 'Lee'));
  });
});

describe('addresses: householdKey', () => {
  const same = (a: AddressInputDraft, b: AddressInputDraft) =>
    expect(householdKey(a), `${householdCanonicalForm(a)}  vs  ${householdCanonicalForm(b)}`).to.equal(householdKey(b));
  const different = (a: AddressInputDraft, b: AddressInputDraft) =>
    expect(householdKey(a), `${householdCanonicalForm(a)}  vs  ${householdCanonicalForm(b)}`).to.not.equal(householdKey(b));

  it('treats the spellings of one apartment as one household', () => {
    same(
      { line1: '123 North Main Street Apt 4', city: 'Springfield', state: 'Illinois', postalCode: '62701-1234' },
      { line1: '123 N Main St #4', city: 'springfield', state: 'IL', postalCode: '62701' },
    );
    const variants = [
      at('123 N Main St Apt 4'),
      at('123 n. main st., apt. 4'),
      at('123  NORTH  MAIN  STREET  UNIT 4'),
      at('123 N Main St Suite 4'),
      at('123 N Main St Apt 04'),
      at('123 N Main St', 'Apt 4'),
      at('123 N Main St', '#4'),
      at('123 N Main St', 'c/o Jane Doe, Apt 4'),
      { ...at('123 N Main St Apt 4'), postalCode: '62701-9999' },
      { ...at('123 N Main St Apt 4'), city: 'Springfeild' },
      { ...at('123 N Main St Apt 4'), state: 'Ill.' },
      { ...at('123 N Main St Apt 4'), country: 'us' },
    ];
    for (const v of variants) same(variants[0] as AddressInputDraft, v);
  });

  it('treats spellings of other address forms as one household', () => {
    same(at('123 Main St Apt 4-B'), at('123 Main St Apt 4B'));
    same(at('P.O. Box 123'), at('post office box 123'));
    same(at('Rural Route 2 Box 152'), at('RR 2 BOX 152'));
    same(at('1600 Pennsylvania Avenue Northwest'), at('1600 pennsylvania ave nw'));
    same(at('12 Peña Blvd'), at('12 PENA BOULEVARD'));
    same(at('1 Main St', 'Attn: Receiving'), at('1 main st', 'ATTN RECEIVING'));
    const gb = { line1: '10 Downing St.', city: 'London', state: '', postalCode: 'SW1A 2AA', country: 'GB' };
    same(gb, { ...gb, line1: '10 downing st', postalCode: 'sw1a2aa', city: 'LONDON' });
  });

  it('keeps different dwellings apart', () => {
    const home = at('123 N Main St Apt 4');
    different(home, at('123 N Main St Apt 5')); // another apartment in the building
    different(home, at('123 N Main St')); // the building itself
    different(home, at('123 N Main St Bldg 4')); // a building is not an apartment
    different(home, at('123 N Main St Fl 4'));
    different(home, at('125 N Main St Apt 4'));
    different(home, at('123 S Main St Apt 4'));
    different(home, at('123 N Main Ave Apt 4'));
    different(home, at('123 N Maine St Apt 4'));
    different(home, { ...home, postalCode: '62702' });
    different(home, { ...home, country: 'CA' });
    different(at('123 Main St Bldg 4 Apt 5'), at('123 Main St Bldg 5 Apt 4'));
    different(at('12-34 56th Ave'), at('1234 56th Ave'));
    different(at('123 Main St Upper'), at('123 Main St Lower'));
    different(at('PO Box 123'), at('PO Box 124'));
  });

  it('is 32 hex characters that do not reveal the address', () => {
    const key = householdKey(at('123 N Main St Apt 4'));
    expect(key).to.match(/^[0-9a-f]{32}$/);
    expect(householdKey(at('123 N Main St Apt 4'))).to.equal(key); // stable
    const keyed = householdKey(at('123 N Main St Apt 4'), { secret: 'server-side-secret' });
    expect(keyed).to.match(/^[0-9a-f]{32}$/).and.to.not.equal(key);
  });
});

describe('addresses: nameKey', () => {
  it('ignores case, accents, spacing and punctuation', () => {
    const key = nameKey("Jean-Luc", "O'Neil");
    expect(key).to.match(/^[0-9a-f]{32}$/);
    expect(nameKey('jean luc', 'oneil')).to.equal(key);
    expect(nameKey('  JEAN LUC ', 'O NEIL')).to.equal(key);
    expect(nameKey('José', 'Núñez')).to.equal(nameKey('JOSE', 'NUNEZ'));
  });

  it('keeps different people apart', () => {
    expect(nameKey('Ann', 'Lee')).to.not.equal(nameKey('Anne', 'Lee'));
    expect(nameKey('Ann', 'Lee')).to.not.equal(nameKey('Lee', 'Ann'));
    expect(nameKey('John', 'Smith')).to.not.equal(nameKey('John', 'Smith Jr'));
    expect(nameKey('AB', 'C')).to.not.equal(nameKey('A', 'BC'));
    expect(nameKey('Ann', 'Lee')).to.not.equal(householdKey(at('Ann Lee')));
  });
});

describe('addresses: properties', () => {
  const pick = <T>(...values: T[]) => fc.constantFrom(...values);
  const realistic: fc.Arbitrary<AddressInputDraft> = fc
    .record({
      number: pick('1', '123', '4500', '12-34', '123 1/2', '77A'),
      predir: pick('', 'North ', 'n ', 'South West ', 'E. ', 'NE '),
      name: pick('Main', 'Park', 'North', 'martin luther king', '57th', "O'Brien", 'Avenue of the', 'Winston-Salem', 'Broad'),
      suffix: pick('', ' Street', ' st.', ' Avenue', ' ave', ' Blvd', ' parkway', ' Court', ' Highway 9', ' Key'),
      postdir: pick('', ' North', ' nw', ' South East', ' W'),
      unit: pick('', ' Apt 4', ' apt. #4b', ' #12', ' Suite 200', ' Bldg 5 Floor 3', ' Rear', ' Unit 4-B', ' Penthouse'),
      line2: pick(undefined, 'Apt 4', 'suite 9', '#3', 'c/o Jane', 'Building 2'),
      special: pick(undefined, 'P.O. Box 12', 'Rural Route 2 Box 5', 'hc 3 box 4', 'General Delivery', 'psc 12 box 3'),
      city: pick('Springfield', 'st. louis', "O'Fallon", 'Winston-Salem', 'NEW  YORK', 'x@y'),
      state: pick('IL', 'il', 'Illinois', 'west virginia', 'D.C.', 'Puerto Rico', 'Ill.', 'ae'),
      postalCode: pick('62701', '62701-1234', '627011234', '62701 1234', '6270', '00501'),
      country: pick(undefined, 'US', 'us', 'CA'),
    })
    .map(({ number, predir, name, suffix, postdir, unit, line2, special, city, state, postalCode, country }) => ({
      line1: special ?? `${number} ${predir}${name}${suffix}${postdir}${unit}`,
      ...(line2 === undefined ? {} : { line2 }),
      city,
      state,
      postalCode,
      ...(country === undefined ? {} : { country }),
    }));
  const arbitraryText = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 120 }), fc.string({ unit: 'grapheme-ascii', maxLength: 80 }));
  const arbitrary: fc.Arbitrary<AddressInputDraft> = fc.record({
    line1: arbitraryText,
    line2: fc.option(arbitraryText, { nil: undefined }),
    city: arbitraryText,
    state: arbitraryText,
    postalCode: arbitraryText,
    country: fc.option(fc.oneof(pick('US', 'us', 'GB'), arbitraryText), { nil: undefined }),
  });
  // Address words in any order: where the grammar's ambiguities (KEY, FRONT, NORTH, #) surface.
  const soupWord = pick('123', '4', 'B', '1/2', '12-34', '#', 'North', 'W', 'NE', 'West', 'Main', 'Park', 'St', 'Street', 'Ave', 'Key', 'Front', 'Rear', 'Apt', 'Suite', 'Unit', 'Bldg', 'Fl', 'PO', 'Box', 'RR', 'Highway', '.', ',', '-');
  const soup: fc.Arbitrary<AddressInputDraft> = fc
    .record({ line1: fc.array(soupWord, { minLength: 1, maxLength: 9 }), line2: fc.option(fc.array(soupWord, { minLength: 1, maxLength: 4 }), { nil: undefined }) })
    .map(({ line1, line2 }) => ({ line1: line1.join(' '), ...(line2 ? { line2: line2.join(' ') } : {}), ...SPRINGFIELD }));
  const addresses = fc.oneof(realistic, soup, arbitrary);

  it('standardising a standardised address changes nothing', () => {
    fc.assert(
      fc.property(addresses, (address) => {
        const once = standardizeAddress(address);
        const twice = standardizeAddress(once.standardized);
        expect(twice.standardized).to.deep.equal(once.standardized);
        if (once.status !== 'unverifiable') expect(twice.status).to.equal('unchanged');
      }),
      { numRuns: 2000 },
    );
  });

  it('never adds, drops or reorders a digit', () => {
    const digits = (a: { line1: string; line2?: string | undefined; postalCode: string }) => `${a.line1} ${a.line2 ?? ''} ${a.postalCode}`.replace(/\D/g, '');
    fc.assert(
      fc.property(addresses, (address) => {
        const s = standardizeAddress(address);
        expect(digits(s.standardized)).to.equal(digits(s.input));
      }),
      { numRuns: 1000 },
    );
  });

  it('the suggestion is the same household as the input', () => {
    fc.assert(
      fc.property(addresses, (address) => {
        expect(householdKey(standardizeAddress(address).standardized)).to.equal(householdKey(address));
      }),
      { numRuns: 1000 },
    );
  });

  it('householdKey and nameKey never throw, whatever they are given', () => {
    fc.assert(
      fc.property(fc.oneof(addresses, fc.anything() as fc.Arbitrary<unknown>), fc.anything(), fc.anything(), (address, first, last) => {
        expect(householdKey(address as AddressInputDraft)).to.match(/^[0-9a-f]{32}$/);
        expect(nameKey(first as string, last as string)).to.match(/^[0-9a-f]{32}$/);
      }),
      { numRuns: 1000 },
    );
  });
});
