// A real OpenID provider for atpilot's sign-in tests: node-oidc-provider
// (OpenID Certified) on loopback, with one confidential client and any
// account name accepted by its development login page (the account's e-mail
// is the name typed, so a test signs in as "dispatch@msp.example"; anything
// after a '#' makes another account with the same e-mail).
//
//   node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI [REDIRECT_URI…]
//
// Prints "ready <issuer>" once it listens. ID_TOKEN_TTL (seconds) shortens
// ID tokens. Test-only: never a production IdP.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, ...redirects] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || redirects.length === 0) {
  console.error('usage: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI…');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: redirects,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  // A login "ann@msp.example#2" is another account (sub) with the same e-mail,
  // as when a mailbox moves to a new account at the provider.
  findAccount: async (ctx, id) => ({
    accountId: id,
    async claims() {
      const email = id.split('#')[0];
      return { sub: id, email, email_verified: true, name: email, preferred_username: email };
    },
  }),
  // The e-mail goes into the ID token, as Entra's optional claim does.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['atpilot-test-provider-cookie-key'] },
  // ID_TOKEN_TTL (seconds) shortens ID tokens for the expiry test.
  ttl: { IdToken: Number(process.env.ID_TOKEN_TTL || 3600) },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
