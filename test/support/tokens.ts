/** Token factories for the JWT matrix and for authenticated requests. */
import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";

export const TEST_JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long!";

/** Signs HS256 claims; a five-minute expiry is added unless the claims carry their own `exp`. */
export function hsToken(claims: object, options: jwt.SignOptions = {}, secret: string = TEST_JWT_SECRET): string {
  const expiry: jwt.SignOptions = "exp" in claims ? {} : { expiresIn: "5m" };
  return jwt.sign(claims, secret, { algorithm: "HS256", ...expiry, ...options });
}

export function tokenFor(userId: string): string {
  return hsToken({ sub: userId });
}

let rsaKeys: { publicKey: string; privateKey: string } | undefined;
/** One RSA pair per test file: generating keys is slow. */
export function rsaKeyPair(): { publicKey: string; privateKey: string } {
  rsaKeys ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return rsaKeys;
}

export function ecKeyPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync("ec", {
    namedCurve: "P-256",
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
}

/** Builds a token by hand, for shapes jsonwebtoken refuses to sign (alg none, forged headers). */
export function rawToken(header: object, payload: object, signature = ""): string {
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString("base64url");
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
