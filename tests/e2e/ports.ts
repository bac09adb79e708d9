/**
 * Ports of the built app and of the local "self-hosted" model server used by the tests.
 * `PERSONA_PORT_BASE` moves them all, so two checkouts can run their tests side by side.
 */
const base = Number(process.env.PERSONA_PORT_BASE ?? 4173);

export const APP_PORT = base;
/** The end-to-end build with the scripted test engine (dist-e2e). */
export const E2E_APP_PORT = base + 3;
export const MODEL_SERVER_PORT = base + 7;
export const MODEL_SERVER = `http://127.0.0.1:${MODEL_SERVER_PORT}`;
/** A copy of the app served by the test itself (offline and update tests), see static-app-server.ts. */
export const STATIC_APP_PORT = base + 5;
