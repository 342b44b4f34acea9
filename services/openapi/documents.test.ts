// The OpenAPI documents committed in docs/ are the apps' own: `npm run docs:openapi` after changing a route.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { documentText, runnerApiDocument, settlementApiDocument } from './documents.ts';
import { RUNNER_API_JSON, SETTLEMENT_API_JSON } from './write.ts';

describe('the committed OpenAPI documents', () => {
  it('docs/runner-api.openapi.json is what the runner app declares', async () => {
    const document = await runnerApiDocument();
    expect(readFileSync(RUNNER_API_JSON, 'utf8'), 'run npm run docs:openapi').toBe(documentText(document));
    expect(Object.keys((document as { paths: object }).paths)).toEqual(expect.arrayContaining(['/v1/sessions/{id}/calls', '/v1/sessions/{id}/receipts/latest', '/v1/sessions/{id}/abort']));
  });

  it('docs/settlement-api.openapi.json is what the settlement API app declares', async () => {
    expect(readFileSync(SETTLEMENT_API_JSON, 'utf8'), 'run npm run docs:openapi').toBe(documentText(await settlementApiDocument()));
  });
});
