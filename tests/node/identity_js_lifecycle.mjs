// An app's whole life against `taskapi serve` with amazon-cognito-identity-js and its
// defaults (USER_SRP_AUTH; nothing switched to the password flow). Run by
// tests/python/test_pool_identity_js.py: node identity_js_lifecycle.mjs <endpoint> <pool id>
// <client id> <outbox.jsonl>. Prints one line per step and exits non-zero on the first
// failure.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

import cognito from 'amazon-cognito-identity-js';

const {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
} = cognito;

const [endpoint, poolId, clientId, outboxPath] = process.argv.slice(2);
const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint });
const PASSWORD = 'TestPass123!';

function step(name) {
  console.log(`ok: ${name}`);
}

/** The newest code the server's outbox holds for an address and purpose. */
function codeFor(to, purpose) {
  const messages = readFileSync(outboxPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .filter((m) => m.to === to && m.purpose === purpose);
  assert.ok(messages.length, `no ${purpose} message for ${to}`);
  return messages.at(-1).code;
}

/** RFC 6238 (SHA-1, 30 s, 6 digits): the authenticator app. */
function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '')) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

const node = (fn) =>
  new Promise((resolve, reject) => fn((err, result) => (err ? reject(err) : resolve(result))));

function user(email) {
  return new CognitoUser({ Username: email, Pool: pool });
}

/** authenticateUser with the library's default flow; resolves with the outcome. */
function signIn(cognitoUser, password) {
  return new Promise((resolve, reject) => {
    cognitoUser.authenticateUser(new AuthenticationDetails({ Username: cognitoUser.getUsername(), Password: password }), {
      onSuccess: (session) => resolve({ kind: 'tokens', session }),
      onFailure: reject,
      totpRequired: () => resolve({ kind: 'totp' }),
      mfaSetup: () => resolve({ kind: 'mfaSetup' }),
      newPasswordRequired: () => resolve({ kind: 'newPassword' }),
    });
  });
}

function sendTotp(cognitoUser, code) {
  return new Promise((resolve, reject) =>
    cognitoUser.sendMFACode(code, { onSuccess: resolve, onFailure: reject }, 'SOFTWARE_TOKEN_MFA'),
  );
}

async function expectError(promise, code) {
  try {
    await promise;
  } catch (error) {
    assert.equal(error.code, code, `${error.code}: ${error.message}`);
    return error;
  }
  assert.fail(`expected ${code}`);
}

const email = `ijs-${Date.now()}@example.com`;
const me = user(email);

await node((cb) => pool.signUp(email, PASSWORD, [], null, cb));
step('sign up');
await node((cb) => me.confirmRegistration(codeFor(email, 'sign-up'), true, cb));
step('confirm sign-up with the e-mailed code');

let outcome = await signIn(me, PASSWORD);
assert.equal(outcome.kind, 'tokens');
const first = outcome.session;
assert.ok(first.isValid());
const access = first.getAccessToken();
assert.ok(access.payload.iat && access.payload.origin_jti);
assert.equal(first.getIdToken().payload.email, email);
step('USER_SRP_AUTH sign-in');

const refreshed = await node((cb) => me.refreshSession(first.getRefreshToken(), cb));
assert.notEqual(refreshed.getAccessToken().getJwtToken(), access.getJwtToken());
step('refresh');

await node((cb) => me.updateAttributes([new CognitoUserAttribute({ Name: 'name', Value: 'Ada' })], cb));
let attributes = await node((cb) => me.getUserAttributes(cb));
assert.equal(attributes.find((a) => a.Name === 'name').Value, 'Ada');
const moved = `ijs-moved-${Date.now()}@example.com`;
await node((cb) => me.updateAttributes([new CognitoUserAttribute({ Name: 'email', Value: moved })], cb));
attributes = await node((cb) => me.getUserAttributes(cb));
assert.equal(attributes.find((a) => a.Name === 'email_verified').Value, 'false');
await new Promise((resolve, reject) =>
  me.getAttributeVerificationCode('email', { onSuccess: resolve, onFailure: reject, inputVerificationCode: resolve }),
);
await new Promise((resolve, reject) =>
  me.verifyAttribute('email', codeFor(moved, 'verify-email'), { onSuccess: resolve, onFailure: reject }),
);
attributes = await node((cb) => me.getUserAttributes(cb));
assert.equal(attributes.find((a) => a.Name === 'email_verified').Value, 'true');
await node((cb) => me.deleteAttributes(['name'], cb));
attributes = await node((cb) => me.getUserAttributes(cb));
assert.ok(!attributes.some((a) => a.Name === 'name'));
step('update, verify and delete attributes');

await node((cb) => me.changePassword(PASSWORD, 'Changed1234!', cb));
const again = user(moved);
assert.equal((await signIn(again, 'Changed1234!')).kind, 'tokens');
step('change password');

await new Promise((resolve, reject) =>
  again.forgotPassword({ onSuccess: resolve, onFailure: reject, inputVerificationCode: resolve }),
);
await new Promise((resolve, reject) =>
  again.confirmPassword(codeFor(moved, 'forgot-password'), 'Forgot1234!', { onSuccess: resolve, onFailure: reject }),
);
const recovered = user(moved);
assert.equal((await signIn(recovered, 'Forgot1234!')).kind, 'tokens');
await expectError(signIn(user(moved), 'Changed1234!'), 'NotAuthorizedException');
step('forgot and confirm password');

const secret = await new Promise((resolve, reject) =>
  recovered.associateSoftwareToken({ associateSecretCode: resolve, onFailure: reject }),
);
await new Promise((resolve, reject) =>
  recovered.verifySoftwareToken(totp(secret), 'phone', { onSuccess: resolve, onFailure: reject }),
);
await node((cb) =>
  recovered.setUserMfaPreference(null, { Enabled: true, PreferredMfa: true }, cb),
);
step('TOTP set-up');

const challenged = user(moved);
outcome = await signIn(challenged, 'Forgot1234!');
assert.equal(outcome.kind, 'totp');
// The current step's code was used to verify; the next one is within the allowed skew.
const session = await sendTotp(challenged, totp(secret, Date.now() + 30_000));
assert.ok(session.isValid());
step('sign-in answering SOFTWARE_TOKEN_MFA');

// Turned off again with the MFA-signed-in session, so the next sign-in needs no code.
await node((cb) => challenged.setUserMfaPreference(null, { Enabled: false, PreferredMfa: false }, cb));
await new Promise((resolve, reject) => challenged.globalSignOut({ onSuccess: resolve, onFailure: reject }));
await expectError(node((cb) => challenged.refreshSession(session.getRefreshToken(), cb)), 'NotAuthorizedException');
step('global sign-out');

const leaving = user(moved);
assert.equal((await signIn(leaving, 'Forgot1234!')).kind, 'tokens');
await node((cb) => leaving.deleteUser(cb));
await expectError(signIn(user(moved), 'Forgot1234!'), 'NotAuthorizedException');
step('delete user; the deleted user cannot sign in');
