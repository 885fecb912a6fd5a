import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';

export interface SamlKeyPair {
  key: string;
  cert: string;
}

/** A self-signed RSA certificate for an IdP (or an impostor). */
export async function samlKeyPair(cn = 'idp.example.test'): Promise<SamlKeyPair> {
  const pems = await generate([{ name: 'commonName', value: cn }], { keySize: 2048, algorithm: 'sha256' });
  return { key: pems.private, cert: pems.cert };
}

export interface AssertionFields {
  idpEntityId: string;
  spEntityId: string;
  acsUrl: string;
  inResponseTo: string;
  nameId: string;
  attributes: Record<string, string | string[]>;
  assertionId?: string;
  audience?: string;
  recipient?: string;
  destination?: string;
  notBefore?: Date;
  notOnOrAfter?: Date;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** An unsigned SAML 2.0 Response with one Assertion, as an IdP would issue for an SP-initiated login. */
export function samlResponseXml(f: AssertionFields): string {
  const now = new Date();
  const notBefore = f.notBefore ?? new Date(now.getTime() - 30_000);
  const notOnOrAfter = f.notOnOrAfter ?? new Date(now.getTime() + 300_000);
  const attributes = Object.entries(f.attributes)
    .map(
      ([name, value]) =>
        `<saml:Attribute Name="${esc(name)}">${(Array.isArray(value) ? value : [value])
          .map((v) => `<saml:AttributeValue>${esc(v)}</saml:AttributeValue>`)
          .join('')}</saml:Attribute>`,
    )
    .join('');
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
    ` ID="_r${randomUUID()}" Version="2.0" IssueInstant="${iso(now)}" Destination="${esc(f.destination ?? f.acsUrl)}"` +
    ` InResponseTo="${esc(f.inResponseTo)}">` +
    `<saml:Issuer>${esc(f.idpEntityId)}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion ID="${esc(f.assertionId ?? `_a${randomUUID()}`)}" Version="2.0" IssueInstant="${iso(now)}">` +
    `<saml:Issuer>${esc(f.idpEntityId)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">${esc(f.nameId)}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData` +
    ` InResponseTo="${esc(f.inResponseTo)}" NotOnOrAfter="${iso(notOnOrAfter)}" Recipient="${esc(f.recipient ?? f.acsUrl)}"/>` +
    `</saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(notOnOrAfter)}">` +
    `<saml:AudienceRestriction><saml:Audience>${esc(f.audience ?? f.spEntityId)}</saml:Audience></saml:AudienceRestriction>` +
    `</saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(now)}" SessionIndex="_s${randomUUID()}"><saml:AuthnContext>` +
    `<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>` +
    `</saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` +
    `</saml:Assertion></samlp:Response>`
  );
}

/** Signs the Assertion (enveloped XML-DSig, exclusive c14n, RSA-SHA256), signature placed after its Issuer. */
export function signAssertion(xml: string, signer: SamlKeyPair): string {
  const sig = new SignedXml({
    privateKey: signer.key,
    publicCert: signer.cert,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: "//*[local-name(.)='Assertion']",
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
  });
  sig.computeSignature(xml, {
    location: { reference: "//*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' },
  });
  return sig.getSignedXml();
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

export const SAML_IDP = 'https://idp.example.test/metadata';
export const SAML_SP = 'https://agent-bom.example.test/sp';
export const SAML_ACS = 'https://agent-bom.example.test/v1/auth/saml/acs';

/** The AGENT_BOM_SAML_* environment of a control plane that trusts `idp` (its certificate written to a temp file). */
export function samlEnv(idp: SamlKeyPair, extra: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'abom-saml-'));
  writeFileSync(path.join(dir, 'idp.pem'), idp.cert);
  return {
    AGENT_BOM_SAML_IDP_ENTITY_ID: SAML_IDP,
    AGENT_BOM_SAML_IDP_SSO_URL: 'https://idp.example.test/sso',
    AGENT_BOM_SAML_IDP_CERT_FILE: path.join(dir, 'idp.pem'),
    AGENT_BOM_SAML_SP_ENTITY_ID: SAML_SP,
    AGENT_BOM_SAML_ACS_URL: SAML_ACS,
    ...extra,
  };
}

/** Starts an SP-initiated login: the RelayState and the AuthnRequest id the response must answer. */
export async function startSamlLogin(app: NestFastifyApplication, returnTo = '/') {
  const res = await app.inject({
    method: 'GET',
    url: `/v1/auth/saml/login?return_to=${encodeURIComponent(returnTo)}`,
  });
  if (res.statusCode !== 302) throw new Error(`saml login: ${res.statusCode} ${res.body}`);
  const url = new URL(String(res.headers.location));
  const request = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString(
    'utf8',
  );
  return {
    url,
    relayState: url.searchParams.get('RelayState')!,
    requestId: /\bID="([^"]+)"/.exec(request)![1],
    request,
  };
}

/** Posts a SAML response to the ACS as the IdP's HTTP-POST form would. */
export function postToAcs(app: NestFastifyApplication, samlResponse: string, relayState: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/auth/saml/acs',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: relayState }).toString(),
  });
}
