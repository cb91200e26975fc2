// A real OpenID provider (node-oidc-provider) for Iris's sign-in tests, on a free loopback port.
//
// Configured by the JSON in $OIDC_TEST_CONFIG: { client_id, client_secret, redirect_uris,
// accounts_file }, the file holding { <login>: { email, groups, tamper? } }, read at each use so a
// test can change an account's claims. Prints "issuer <url>" once it listens.
// Signing in takes any password (the provider's development interactions): the login names the
// account. An account with `tamper` gets an ID token re-signed after the provider issued it, with
// one thing wrong, so the tests can prove Iris refuses it:
//   audience   aud is another client        expired    exp an hour ago
//   issuer     iss is another provider      nonce      nonce is not the one Iris sent
//   signature  signed by a key not in the provider's JWKS (same key id)
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? "{}");
const accounts = () => JSON.parse(readFileSync(config.accounts_file, "utf8"));

async function signingKey(kid) {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" } };
}

const kid = randomUUID();
const real = await signingKey(kid);
const impostor = await signingKey(kid);

const TAMPER = {
  audience: (claims) => ({ ...claims, aud: "someone-else" }),
  expired: (claims) => ({ ...claims, iat: claims.iat - 7200, exp: claims.iat - 3600 }),
  issuer: (claims) => ({ ...claims, iss: "https://another-provider.example" }),
  nonce: (claims) => ({ ...claims, nonce: "not-the-nonce-iris-sent" }),
  signature: (claims) => claims,
};

async function tampered(idToken) {
  const claims = decodeJwt(idToken);
  const how = accounts()[claims.sub]?.tamper;
  if (!how) return idToken;
  const key = how === "signature" ? impostor.privateKey : real.privateKey;
  return new SignJWT(TAMPER[how](claims))
    .setProtectedHeader(decodeProtectedHeader(idToken))
    .sign(key);
}

const server = createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
// localhost: another site than Iris's 127.0.0.1, so a browser sees a cross-site sign-in.
const issuer = `http://localhost:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  jwks: { keys: [real.jwk] },
  cookies: { keys: [randomUUID()] },
  claims: { openid: ["sub"], email: ["email", "email_verified"], groups: ["groups"] },
  scopes: ["openid", "email", "groups"],
  pkce: { required: () => true },
  // The test client is first-party: no consent screen after the login form.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid email groups");
    await grant.save();
    return grant;
  },
  async findAccount(_ctx, sub) {
    const account = accounts()[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: true, groups: account.groups ?? [] };
      },
    };
  },
});

provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route === "token" && ctx.status === 200 && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: await tampered(ctx.body.id_token) };
  }
});

server.on("request", provider.callback());
process.stdout.write(`issuer ${issuer}\n`);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
