/** Ports of the built app and of the local "self-hosted" model server used by the tests. */
export const APP_PORT = 4173;
export const MODEL_SERVER_PORT = 4180;
export const MODEL_SERVER = `http://127.0.0.1:${MODEL_SERVER_PORT}`;
