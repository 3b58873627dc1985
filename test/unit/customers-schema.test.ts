import { expect } from 'chai';
import { fieldIssuesFromZod } from '../../platform/errors.ts';
import { looksLikeCardNumber, maskEmail, normalizePhone, normalizeSecurityAnswer, truncateIp } from '../../api/customers/normalize.ts';
import { birthMonthSchema, CustomerSearchQuery, phoneSchema, PreferencesInput, ProfileUpdateInput, RegisterInput, StaffUpdateInput } from '../../api/customers/schema.ts';

const validRegistration = () => ({
  firstName: 'Jane',
  lastName: 'Doe',
  email: '  Jane.Doe@Example.COM ',
  phone: '(202) 555-0143',
  loginName: 'JaneDoe',
  password: 'correct horse battery',
  securityQuestion: { questionId: 'first_pet', answer: 'Rex' },
  ageAttestation: true,
  acceptTerms: true,
});

const issues = (result: { success: boolean; error?: unknown }) => (result.success ? [] : fieldIssuesFromZod(result.error as Parameters<typeof fieldIssuesFromZod>[0]));

describe('customers: schema rules', () => {
  describe('phone normalisation', () => {
    for (const [input, expected] of [
      ['(202) 555-0143', '+12025550143'],
      ['202.555.0143', '+12025550143'],
      ['202-555-0143', '+12025550143'],
      ['1 202 555 0143', '+12025550143'],
      ['+1 (202) 555-0143', '+12025550143'],
      ['2025550143', '+12025550143'],
      ['+44 20 7946 0958', '+442079460958'],
      ['011 44 20 7946 0958', '+442079460958'],
    ] as const) {
      it(`normalises "${input}" to ${expected}`, () => {
        expect(normalizePhone(input)).to.equal(expected);
        expect(phoneSchema.parse(input)).to.equal(expected);
      });
    }
    for (const input of ['555-0143', '(123) 555-0143', '(202) 155-0143', '(911) 555-0143', '+1 202 555 014', '202-555-CALL', '202 555 0143 ext 2', '', '+0 123 4567 890', '12345678901234567']) {
      it(`rejects "${input}" with invalid_format`, () => {
        const result = phoneSchema.safeParse(input);
        expect(result.success).to.equal(false);
        expect(issues(result)[0]?.code).to.equal('invalid_format');
      });
    }
  });

  describe('birth month', () => {
    it('accepts 1 to 12 only', () => {
      for (let m = 1; m <= 12; m += 1) expect(birthMonthSchema.parse(m)).to.equal(m);
      expect(issues(birthMonthSchema.safeParse(0))[0]?.code).to.equal('too_small');
      expect(issues(birthMonthSchema.safeParse(13))[0]?.code).to.equal('too_big');
      expect(birthMonthSchema.safeParse(6.5).success).to.equal(false);
      expect(birthMonthSchema.safeParse('6').success).to.equal(false);
    });

    it('is never a full date of birth', () => {
      const result = RegisterInput.safeParse({ ...validRegistration(), birthMonth: '1990-06-14' });
      expect(issues(result)).to.deep.include({ path: 'birthMonth', code: 'invalid_type', message: 'Invalid input: expected number, received string' });
      expect(issues(RegisterInput.safeParse({ ...validRegistration(), dateOfBirth: '1990-06-14' }))[0]).to.include({ path: 'dateOfBirth', code: 'unrecognized_key' });
    });

    it('can be cleared with null in a profile update', () => {
      expect(ProfileUpdateInput.parse({ birthMonth: null })).to.deep.equal({ birthMonth: null });
    });
  });

  describe('registration', () => {
    it('normalises email, phone and login name', () => {
      const parsed = RegisterInput.parse(validRegistration());
      expect(parsed.email).to.equal('jane.doe@example.com');
      expect(parsed.phone).to.equal('+12025550143');
      expect(parsed.loginName).to.equal('janedoe');
    });

    it('requires the 18+ attestation and terms: missing is required, false is invalid_value', () => {
      const { ageAttestation: _a, acceptTerms: _t, ...rest } = validRegistration();
      expect(issues(RegisterInput.safeParse(rest)).map((i) => `${i.path}:${i.code}`)).to.have.members(['ageAttestation:required', 'acceptTerms:required']);
      const declined = issues(RegisterInput.safeParse({ ...validRegistration(), ageAttestation: false, acceptTerms: false }));
      expect(declined.map((i) => `${i.path}:${i.code}`)).to.have.members(['ageAttestation:invalid_value', 'acceptTerms:invalid_value']);
    });

    it('only offers the fixed security questions', () => {
      const result = issues(RegisterInput.safeParse({ ...validRegistration(), securityQuestion: { questionId: 'favourite_colour', answer: 'blue' } }));
      expect(result[0]).to.include({ path: 'securityQuestion.questionId', code: 'invalid_value' });
    });

    it('refuses a password equal to the login name', () => {
      const result = issues(RegisterInput.safeParse({ ...validRegistration(), loginName: 'janedoe1234', password: 'JaneDoe1234' }));
      expect(result[0]).to.include({ path: 'password', code: 'custom' });
    });

    it('rejects unknown fields anywhere', () => {
      const result = issues(RegisterInput.safeParse({ ...validRegistration(), securityQuestion: { questionId: 'first_pet', answer: 'Rex', hint: 'dog' } }));
      expect(result[0]).to.include({ path: 'securityQuestion.hint', code: 'unrecognized_key' });
    });
  });

  describe('updates', () => {
    it('refuse an empty change', () => {
      expect(ProfileUpdateInput.safeParse({}).success).to.equal(false);
      expect(PreferencesInput.safeParse({}).success).to.equal(false);
      expect(StaffUpdateInput.safeParse({}).success).to.equal(false);
    });

    it('take newsletter topics from the fixed list only', () => {
      expect(PreferencesInput.parse({ emailTopics: { coins_online: true } })).to.deep.equal({ emailTopics: { coins_online: true } });
      expect(issues(PreferencesInput.safeParse({ emailTopics: { spam: true } }))[0]).to.include({ path: 'emailTopics.spam', code: 'unrecognized_key' });
    });
  });

  describe('staff search query', () => {
    it('caps the page size at 50 and coerces numbers from the query string', () => {
      expect(CustomerSearchQuery.parse({ name: 'doe', page: '2', pageSize: '50' })).to.include({ page: 2, pageSize: 50 });
      expect(issues(CustomerSearchQuery.safeParse({ name: 'doe', pageSize: '51' }))[0]).to.include({ path: 'pageSize', code: 'too_big' });
      expect(CustomerSearchQuery.parse({ name: 'doe' })).to.include({ page: 1, pageSize: 20 });
    });

    it('rejects unknown criteria such as cardNumber', () => {
      expect(issues(CustomerSearchQuery.safeParse({ cardNumber: '4111' }))[0]).to.include({ path: 'cardNumber', code: 'unrecognized_key' });
    });
  });

  describe('card-number detection', () => {
    it('flags card numbers however they are typed, Luhn-valid or not', () => {
      for (const value of ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111', '378282246310005', '4111111111111112', 'card 5555555555554444', '4222222222222']) {
        expect(looksLikeCardNumber(value), value).to.equal(true);
      }
    });

    it('leaves names, phone numbers, postal codes and order numbers alone', () => {
      for (const value of ['Jane Doe', '(202) 555-0143', '+12025550143', '20220-0001', '12345674', 'jane@example.com']) {
        expect(looksLikeCardNumber(value), value).to.equal(false);
      }
      expect(looksLikeCardNumber('+442079460958123', { phone: true })).to.equal(false);
      expect(looksLikeCardNumber('+4111111111111111', { phone: true })).to.equal(true);
      expect(looksLikeCardNumber('+442079460958123')).to.equal(true);
    });
  });

  describe('other normalisation', () => {
    it('matches security answers ignoring case and spacing', () => {
      expect(normalizeSecurityAnswer('  New   York ')).to.equal(normalizeSecurityAnswer('new york'));
      expect(normalizeSecurityAnswer('ＲＥＸ')).to.equal('rex');
    });

    it('truncates IPs to a region (/24, /48)', () => {
      expect(truncateIp('203.0.113.77')).to.equal('203.0.113.0');
      expect(truncateIp('::ffff:203.0.113.77')).to.equal('203.0.113.0');
      expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).to.equal('2001:db8:85a3::');
      expect(truncateIp('2001:db8::1')).to.equal('2001:db8:0::');
      expect(truncateIp('not an ip')).to.equal(undefined);
      expect(truncateIp(undefined)).to.equal(undefined);
    });

    it('masks emails for search summaries', () => {
      expect(maskEmail('jane.doe@example.com')).to.equal('j***@example.com');
    });
  });
});
