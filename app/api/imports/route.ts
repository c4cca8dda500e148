// POST /api/imports: a buyer's CSV upload from the /imports page, as a dry run
// (the preview) or the import itself, answered as NDJSON progress lines and a
// final result. Who is asking comes from next-auth's session and the tenant
// chosen in the top bar; the rest lives in lib/ingest/upload.ts.
import { uploadRoute } from '@/lib/ingest/upload';
import { getPreferredTenantId, getSessionUserId } from '@/lib/tenancy/session';

// Node streams and the database pool: never the edge runtime, never cached.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

export const POST = uploadRoute({
  session: async () => ({ userId: await getSessionUserId(), preferredTenantId: await getPreferredTenantId() }),
});
