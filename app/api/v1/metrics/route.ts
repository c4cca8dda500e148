// POST /api/v1/metrics: daily metrics from an API key's system into the key's
// tenant. Authorization: Bearer <key> only (no session cookie counts); the
// logic, limits and answers are in lib/ingest/api.ts, documented by
// GET /api/v1/openapi.json and docs/api.md.
import { handleMetricsRequest } from '@/lib/ingest/api';

export const dynamic = 'force-dynamic';

export function POST(request: Request): Promise<Response> {
  return handleMetricsRequest(request);
}
