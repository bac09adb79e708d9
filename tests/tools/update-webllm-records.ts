/**
 * Writes `src/core/models/webllm-records.json`: WebLLM's own records for the models in our catalog.
 * The UI reads that snapshot instead of importing `prebuiltAppConfig`, which would pull the whole
 * WebLLM runtime (6 MB) into the first page load. `tests/unit/catalog.test.ts` fails when the
 * snapshot and the installed WebLLM disagree; run `npm run catalog:update` then.
 */
import { writeFileSync } from 'node:fs';
import { prebuiltAppConfig } from '@mlc-ai/web-llm';
import { CATALOG_WEBLLM_MODEL_IDS } from '../../src/core/models/catalog';

const records = prebuiltAppConfig.model_list.filter((record) =>
  CATALOG_WEBLLM_MODEL_IDS.includes(record.model_id),
);
writeFileSync(
  new URL('../../src/core/models/webllm-records.json', import.meta.url),
  `${JSON.stringify(records, null, 2)}\n`,
);
console.log(`wrote ${records.length} WebLLM model records`);
