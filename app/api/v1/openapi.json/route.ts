// GET /api/v1/openapi.json: the OpenAPI 3.1 description of the ingest API,
// built from the schemas the API validates with (lib/ingest/openapi.ts).
// Public: it holds no tenant data. The server named is NEXTAUTH_URL (the
// public URL), never the request's Host, which a client chooses.
import { openApiDocument } from '@/lib/ingest/openapi';

export const dynamic = 'force-dynamic';

export function GET(): Response {
  const doc = openApiDocument(process.env.NEXTAUTH_URL || undefined);
  return new Response(JSON.stringify(doc, null, 2), {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' },
  });
}
