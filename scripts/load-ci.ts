// npx tsx scripts/load-ci.ts [--users 20] [--duration 10] [--max-requests N] [--json FILE]
// CI's short load run: the e2e setup's throwaway database and `next start` on
// the production build (e2e/global-setup.ts), scripts/load.ts against it, then
// both stopped. Exits 1 on any error or any answer of another tenant.
import type { FullConfig } from '@playwright/test';
import globalSetup from '../e2e/global-setup';
import { parseArgs, report, runLoad } from './load';

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), { users: 20, durationS: 10 });
  const baseUrl = `http://127.0.0.1:${Number(process.env.LOAD_PORT ?? 3260)}`;
  // The setup reads only the base URL of the first project.
  const teardown = await globalSetup({ projects: [{ use: { baseURL: baseUrl } }] } as unknown as FullConfig);
  try {
    const ownerUrl = process.env.AEGIS_E2E_OWNER_URL;
    if (!ownerUrl) throw new Error('the e2e setup gave no owner URL');
    const r = await runLoad({ baseUrl, ownerUrl, users: args.users, durationS: args.durationS, maxRequests: args.maxRequests, log: (l) => console.log(`[load] ${l}`) });
    return await report(r, args.json);
  } finally {
    await teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
