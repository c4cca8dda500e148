// The OpenAPI 3.1 description of the ingest API (GET /api/v1/openapi.json),
// built from the zod schemas the request is validated with (lib/ingest/api.ts)
// and its limits, so the document cannot drift from what the server does.
import 'server-only';
import { z } from 'zod';
import {
  countsSchema,
  errorSchema,
  importedSchema,
  MAX_BODY_BYTES,
  MAX_ROWS,
  metricRowSchema,
  metricsBodySchema,
  problemSchema,
  refusedSchema,
  UNAUTHORIZED_MESSAGE,
} from './api';
import { API_RATE_LIMIT } from './api-keys';
import { MAX_PROBLEMS } from './types';
import { DATABASE_UNAVAILABLE_API } from '@/lib/db/unavailable';

type JsonObject = Record<string, unknown>;

/**
 * The names of the schemas under components/schemas. Kept in a registry of
 * this module (not zod's global one, which every module shares): a schema
 * used inside another one becomes a $ref to its name.
 */
const NAMED: [z.ZodType, string][] = [
  [metricsBodySchema, 'MetricsRequest'],
  [metricRowSchema, 'MetricRow'],
  [importedSchema, 'ImportResult'],
  [refusedSchema, 'ImportRefused'],
  [countsSchema, 'ImportCounts'],
  [problemSchema, 'RowProblem'],
  [errorSchema, 'Error'],
];

function componentSchemas(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of NAMED) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` });
  const schemas: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(out.schemas)) {
    // Named by their place under components/schemas: no $schema (the document's dialect applies) and no $id
    // (2020-12 forbids a fragment in $id, and the name is the reference already).
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonObject;
    schemas[id] = rest;
  }
  return schemas;
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string, example?: unknown) => ({ 'application/json': { schema: ref(id), ...(example ? { example } : {}) } });

const rateHeaders = {
  'X-RateLimit-Limit': { description: `Requests allowed per key per ${API_RATE_LIMIT.windowSeconds} s.`, schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer' } },
};

const errorResponse = (description: string, code: string, message: string, headers?: JsonObject) => ({
  description,
  ...(headers ? { headers } : {}),
  content: json('Error', { error: code, message }),
});

export const OPENAPI_PATH = '/api/v1/openapi.json';
export const METRICS_PATH = '/api/v1/metrics';

/** The whole document; `serverUrl` is where this instance answers (its origin). */
export function openApiDocument(serverUrl?: string): JsonObject {
  const example = {
    rows: [
      {
        platform: 'meta',
        campaign_id: '120210000000001',
        campaign_name: 'Prospecting FR',
        day: '2025-03-14',
        spend: 412.5,
        impressions: 98000,
        clicks: 1450,
        conversions: 31,
        conversion_value: 2480,
        currency: 'EUR',
      },
      {
        platform: 'meta',
        level: 'adset',
        campaign_id: '120210000000001',
        adset_id: '120210000000101',
        adset_name: 'Lookalike 1 %',
        day: '2025-03-14',
        spend: 201.25,
        impressions: 51000,
        clicks: 700,
        conversions: 17,
        conversion_value: 1320.4,
      },
    ],
    skip_invalid: false,
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'AEGIS Media Buying ingest API',
      version: '1.0.0',
      description:
        'Load daily metrics into the tenant of an API key, through the same validation and upsert as the Imports page. ' +
        'Admins make keys on Settings \u2192 API keys; a key writes metrics and nothing else. See docs/api.md.',
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ apiKey: [] }],
    paths: {
      [METRICS_PATH]: {
        post: {
          operationId: 'importMetrics',
          summary: 'Import daily metric rows',
          description:
            `Rows are upserted on (platform, level, id, day) for the key\u2019s tenant: a row sent again with the same figures is unchanged, ` +
            `with other figures it is updated. At most ${MAX_ROWS} rows and ${MAX_BODY_BYTES} bytes a request; ` +
            `${API_RATE_LIMIT.max} requests per ${API_RATE_LIMIT.windowSeconds} s per key. The body names no tenant: ` +
            'a tenant_id field, at the top or in a row, is refused. Without skip_invalid, one invalid row refuses the request and nothing is written.',
          security: [{ apiKey: [] }],
          requestBody: { required: true, content: json('MetricsRequest', example) },
          responses: {
            '200': { description: 'Imported. Counts per outcome; rows left out by skip_invalid are listed with their problems.', headers: rateHeaders, content: json('ImportResult') },
            '400': errorResponse('Malformed: not UTF-8, not JSON, or not the body\u2019s shape (unknown field, tenant_id, rows not an array, skip_invalid not a boolean).', 'bad_request', 'Malformed JSON: Unexpected end of JSON input'),
            '401': {
              ...errorResponse('No key, a malformed key, an unknown key, a wrong secret or a revoked key: one answer for all.', 'unauthorized', UNAUTHORIZED_MESSAGE),
              headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer realm="aegis"' } },
            },
            '403': errorResponse('The key\u2019s role may not write metrics.', 'forbidden', 'This key may not write metrics.'),
            '413': errorResponse(`Over ${MAX_BODY_BYTES} bytes (Content-Length, or counted while reading), or over ${MAX_ROWS} rows.`, 'payload_too_large', `At most ${MAX_ROWS} rows a request: split the load.`),
            '415': errorResponse('Not application/json (UTF-8).', 'unsupported_media_type', 'Send the body as JSON: Content-Type: application/json (UTF-8).'),
            '422': {
              description: `Refused as a whole, nothing written: invalid rows without skip_invalid (each problem listed, at most ${MAX_PROBLEMS}), or a refusal of the import (e.g. rows in another currency).`,
              headers: rateHeaders,
              content: json('ImportRefused'),
            },
            '429': errorResponse(`Over ${API_RATE_LIMIT.max} requests per ${API_RATE_LIMIT.windowSeconds} s for this key; not counted.`, 'rate_limited', 'Try again in 12 s.', {
              'Retry-After': { description: 'Seconds until a request is allowed again.', schema: { type: 'integer', minimum: 1 } },
              ...rateHeaders,
            }),
            '500': errorResponse('Failed on the server; nothing was written.', 'internal', 'The import failed on our side; nothing was written. Try again later.'),
            '503': errorResponse('The database is unreachable for the moment (restarting, or the connection was cut); nothing was written.', 'unavailable', DATABASE_UNAVAILABLE_API, {
              'Retry-After': { description: 'Seconds to wait before sending the request again.', schema: { type: 'integer', minimum: 1 } },
            }),
          },
        },
      },
      [OPENAPI_PATH]: {
        get: {
          operationId: 'openApi',
          summary: 'This description',
          security: [],
          responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
    },
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'aegis_<prefix>_<secret>',
          description: 'An API key of the tenant, sent as Authorization: Bearer <key>. Session cookies are not accepted.',
        },
      },
      schemas: componentSchemas(),
    },
  };
}
