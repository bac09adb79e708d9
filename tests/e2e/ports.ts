/** Ports of the built app and of the local "self-hosted" model server used by the tests. */
export const APP_PORT = 4173;
/** The end-to-end build with the scripted test engine (dist-e2e). */
export const E2E_APP_PORT = 4176;
export const MODEL_SERVER_PORT = 4180;
export const MODEL_SERVER = `http://127.0.0.1:${MODEL_SERVER_PORT}`;
