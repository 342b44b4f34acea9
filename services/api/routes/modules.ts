import type { FastifyInstance } from 'fastify';
import { ZgasError } from '../../../contracts/errors.ts';
import { getModule, putModule } from '../../store/index.ts';
import type { RouteOptions } from '../deps.ts';
import { hashParams, openApiSchema, parseRequest } from '../schemas.ts';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function checkWasmHeader(bytes: Uint8Array): void {
  if (bytes.length < WASM_MAGIC.length || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ZgasError('InvalidModule', { reason: 'not a WebAssembly 1.0 binary (magic and version)' });
  }
}

/**
 * PUT /v1/modules, GET /v1/modules/:hash: content-addressed WASM modules. Anyone may upload: until
 * a registered zApp references an upload it counts against its uploader's quota (429
 * ModuleQuotaExceeded) and the node's bound on unregistered uploads (507 StorageFull), and it
 * expires after a time to live.
 */
export async function moduleRoutes(app: FastifyInstance, { deps, limits }: RouteOptions): Promise<void> {
  app.addContentTypeParser(['application/wasm', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: limits.moduleBytes }, (_request, body, done) => {
    done(null, body);
  });

  app.put(
    '/v1/modules',
    {
      bodyLimit: limits.moduleBytes,
      schema: {
        tags: ['modules'],
        summary: 'Upload a WASM module (application/wasm or application/octet-stream); stored under its SHA3-256, and deleted after a time to live unless a RegisterZApp references it',
        response: { 200: { type: 'object', properties: { moduleHash: { type: 'string' } } } },
      },
    },
    async (request) => {
      const body = request.body;
      if (!(body instanceof Uint8Array)) throw new ZgasError('UnsupportedMediaType', { expected: 'application/wasm or application/octet-stream' });
      if (body.length > limits.moduleBytes) throw new ZgasError('ModuleTooLarge', { bytes: body.length, max: limits.moduleBytes });
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      checkWasmHeader(bytes);
      deps.validateModule?.(bytes);
      const moduleHash = await putModule(deps.db, bytes, { uploader: request.ip, bounds: limits.moduleBounds });
      return { moduleHash };
    },
  );

  app.get(
    '/v1/modules/:hash',
    { schema: { tags: ['modules'], summary: 'The module bytes stored under a hash', params: openApiSchema(hashParams) } },
    async (request, reply) => {
      const { hash } = parseRequest(hashParams, request.params);
      const bytes = await getModule(deps.db, hash.toLowerCase() as `0x${string}`);
      if (bytes === null) throw new ZgasError('NotFound', { moduleHash: hash });
      return reply.type('application/wasm').send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    },
  );
}
