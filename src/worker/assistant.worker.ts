import * as Comlink from 'comlink';
import { openDatabase } from '../db';
import { Assistant } from './assistant';
import { loadEngine } from './engine-loader';
import { installErrorTransfer } from './error-transfer';

installErrorTransfer();
Comlink.expose(
  new Assistant({
    db: openDatabase(),
    loadEngine,
    appVersion: __APP_VERSION__,
    // A session also ends by idling: check every minute (the shortest idle setting).
    learnEveryMs: 60_000,
    // After start-up has read what the first screen shows: each batch holds the tables it writes.
    indexSearchAfterMs: 2_000,
  }),
);
