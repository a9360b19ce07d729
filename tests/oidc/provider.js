// A certified OpenID Provider (panva/node-oidc-provider) for the tests of signed-in access:
// it mints the access tokens the service must accept, with keys of its own made at start.
//   PORT=18600 node tests/oidc/provider.js
// Clients (client credentials; secret = id + "-secret"): "kommune-it" (a municipality's
// integration, CVR 29189846) and "no-scope" (granted no scope of the service). Access tokens
// are JWTs (RFC 9068) for the resource https://api.boligsocial.test/, audience "boligsocial".
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'https://api.boligsocial.test/';
const SCOPE = 'boligsocial:departments';
const CVRS = { 'kommune-it': '29189846', 'no-scope': '29189846' };

const key = (alg, options) => {
  const { privateKey } = generateKeyPairSync(alg === 'ES256' ? 'ec' : 'rsa', options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg.toLowerCase()}-${Date.now()}` };
};

const client = (id, scope) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  grant_types: ['client_credentials'],
  redirect_uris: [],
  response_types: [],
  scope,
});

const provider = new Provider(issuer, {
  clients: [client('kommune-it', `openid ${SCOPE}`), client('no-scope', 'openid')],
  scopes: ['openid', SCOPE],
  jwks: { keys: [key('RS256', { modulusLength: 2048 }), key('ES256', { namedCurve: 'P-256' })] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, c) => ({
        scope: c.clientId === 'kommune-it' ? SCOPE : '',
        audience: 'boligsocial',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: (ctx, token) => ({ cvr: CVRS[token.clientId] }),
});
provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
