// Tests here talk to Keycloak many times, send floods and wait for tokens and cached keys to age.
jest.setTimeout(60_000);
