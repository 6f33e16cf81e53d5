// Custom authentication (CUSTOM_AUTH) with amazon-cognito-identity-js against `taskapi
// serve`, whose pool's challenge triggers ask "What is 6 times 7?". Run by
// tests/python/test_pool_triggers.py: node identity_js_custom_auth.mjs <endpoint> <pool id>
// <client id> <e-mail>. Answers wrong once, then right; prints one line per step.
import assert from 'node:assert/strict';

import cognito from 'amazon-cognito-identity-js';

const { AuthenticationDetails, CognitoUser, CognitoUserPool } = cognito;

const [endpoint, poolId, clientId, email] = process.argv.slice(2);
const pool = new CognitoUserPool({ UserPoolId: poolId, ClientId: clientId, endpoint });
const user = new CognitoUser({ Username: email, Pool: pool });
user.setAuthenticationFlowType('CUSTOM_AUTH');

const answers = ['41', '42'];
const questions = [];
const session = await new Promise((resolve, reject) => {
  const callbacks = {
    onSuccess: resolve,
    onFailure: reject,
    customChallenge(parameters) {
      questions.push(parameters.question);
      user.sendCustomChallengeAnswer(answers.shift(), callbacks);
    },
  };
  user.initiateAuth(new AuthenticationDetails({ Username: email }), callbacks);
});
assert.deepEqual(questions, ['What is 6 times 7?', 'What is 6 times 7?']);
console.log('ok: asked twice, answered wrong then right');
assert.equal(session.getIdToken().decodePayload().email, email);
console.log(`ok: signed in as ${email}`);
