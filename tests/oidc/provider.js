// A certified OpenID Provider (panva/node-oidc-provider) for the tests of signed-in access and
// for trying the demo signed in: it mints the access tokens the service must accept, with keys
// of its own made at start.
//   PORT=18600 node tests/oidc/provider.js
// Clients (client credentials; secret = id + "-secret"), each for one CVR number:
//   kommune-it     29189846  a municipality's integration (a number no demo dataset holds)
//   no-scope       29189846  granted no scope of the service
//   demo-almenbo   91000000  the demo's Almenbo Danmark (an organisation with departments in many areas)
//   demo-bf-aarhus 91007510  the demo's Boligforeningen Aarhus
//   demo-aarhus    90007510  the demo's Aarhus municipality (synthetic CVR numbers: see the demo's manifest)
// More with EXTRA_CLIENTS="id:cvr,id:cvr". The map page's public client "map" (authorization code
// with PKCE, no secret) is there when MAP_REDIRECT_URIS lists its redirect URIs; its users sign
// in at the provider's development login with a name of USERS below (any password).
// Access tokens are JWTs (RFC 9068) for the resource https://api.boligsocial.test/, audience
// "boligsocial".
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const RESOURCE = 'https://api.boligsocial.test/';
const SCOPE = 'boligsocial:departments';
const CVRS = {
  'kommune-it': '29189846',
  'no-scope': '29189846',
  'demo-almenbo': '91000000',
  'demo-bf-aarhus': '91007510',
  'demo-aarhus': '90007510',
};
for (const pair of (process.env.EXTRA_CLIENTS || '').split(',').filter(Boolean)) {
  const [id, cvr] = pair.split(':');
  CVRS[id] = cvr;
}
// the map page's users: login name → CVR number
const USERS = { almenbo: '91000000', aarhus: '90007510', 'bf-aarhus': '91007510' };

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

const clients = Object.keys(CVRS).map((id) => client(id, id === 'no-scope' ? 'openid' : `openid ${SCOPE}`));
const redirects = (process.env.MAP_REDIRECT_URIS || '').split(',').filter(Boolean);
if (redirects.length > 0) {
  clients.push({
    client_id: 'map',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: redirects,
    scope: `openid ${SCOPE}`,
  });
}

const provider = new Provider(issuer, {
  clients,
  scopes: ['openid', SCOPE],
  jwks: { keys: [key('RS256', { modulusLength: 2048 }), key('ES256', { namedCurve: 'P-256' })] },
  pkce: { required: () => true },
  findAccount: (ctx, id) => (USERS[id] ? { accountId: id, claims: () => ({ sub: id }) } : undefined),
  // (the map page is served from another origin than the provider's)
  clientBasedCORS: () => true,
  features: {
    devInteractions: { enabled: redirects.length > 0 },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, c) => ({
        scope: c.clientId === 'no-scope' ? '' : SCOPE,
        audience: 'boligsocial',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  extraTokenClaims: (ctx, token) => ({ cvr: token.accountId ? USERS[token.accountId] : CVRS[token.clientId] }),
});
provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
