// The one road for tenant reads from pages, layouts and route handlers:
//   session -> membership (database) -> role -> withTenant(reader).
// Usage, in a server component:
//   const { tenant, data: members } = await tenantRead('viewer', (trx, { tenant }) => listMembers(trx, tenant.tenantId));
// Pages never call withTenant themselves.
import 'server-only';
import { notFound, redirect } from 'next/navigation';
import { getAccess } from '@/lib/tenancy/session';
import type { Role } from '@/lib/tenancy/roles';
import { runTenantRead, type TenantContext, type TenantReader } from './read-core';

export type { TenantContext } from './read-core';

export async function tenantRead(minRole?: Role): Promise<TenantContext & { data: undefined }>;
export async function tenantRead<T>(minRole: Role, read: TenantReader<T>): Promise<TenantContext & { data: T }>;
export async function tenantRead<T>(minRole: Role = 'viewer', read?: TenantReader<T>): Promise<TenantContext & { data: T }> {
  const outcome = await runTenantRead(await getAccess(), minRole, read);
  if (outcome.kind === 'redirect') redirect(outcome.to);
  if (outcome.kind === 'not-found') notFound();
  return { ...outcome.ctx, data: outcome.data };
}
