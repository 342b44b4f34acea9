// `npm run docs:openapi`: writes the OpenAPI documents of the settlement API and the runner API to docs/.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { documentText, runnerApiDocument, settlementApiDocument } from './documents.ts';

export const SETTLEMENT_API_JSON = fileURLToPath(new URL('../../docs/settlement-api.openapi.json', import.meta.url));
export const RUNNER_API_JSON = fileURLToPath(new URL('../../docs/runner-api.openapi.json', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SETTLEMENT_API_JSON, documentText(await settlementApiDocument()));
  writeFileSync(RUNNER_API_JSON, documentText(await runnerApiDocument()));
  process.stdout.write(`wrote ${SETTLEMENT_API_JSON}\nwrote ${RUNNER_API_JSON}\n`);
}
