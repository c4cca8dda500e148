// POST /api/imports: a buyer's CSV upload from the /imports page, as a dry run
// (the preview) or the import itself, answered as NDJSON progress lines and a
// final result. Who is asking comes from next-auth's session and the tenant
// chosen in the top bar; the rest lives in lib/ingest/upload.ts.
import { DATABASE_UNAVAILABLE_API, isDatabaseUnavailable, RETRY_AFTER_SECONDS } from '@/lib/db/unavailable';
import type { UploadErrorBody } from '@/lib/ingest/upload-protocol';
import { uploadRoute } from '@/lib/ingest/upload';
import { getPreferredTenantId, getSessionUserId } from '@/lib/tenancy/session';

// Node streams and the database pool: never the edge runtime, never cached.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const upload = uploadRoute({
  session: async () => ({ userId: await getSessionUserId(), preferredTenantId: await getPreferredTenantId() }),
});

export async function POST(req: Request): Promise<Response> {
  try {
    return await upload(req);
  } catch (err) {
    // The session and membership are read before the answer starts: a database that is away then is a 503 the page
    // shows as it is. Once the lines stream, a failure is the stream's last line (nothing is kept either way).
    if (!isDatabaseUnavailable(err)) throw err;
    console.error(`[imports] upload refused: the database is unavailable (${(err as Error).message})`);
    const body: UploadErrorBody = { error: { code: 'unavailable', message: DATABASE_UNAVAILABLE_API } };
    return new Response(JSON.stringify(body), {
      status: 503,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'retry-after': String(RETRY_AFTER_SECONDS) },
    });
  }
}
