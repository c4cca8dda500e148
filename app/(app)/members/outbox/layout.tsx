// The outbox is for admins: the role is checked here, above the page's
// loading state, so anyone else gets a 404 status and not a streamed "not
// found" under a 200 (the page checks again for its own data).
import type { ReactNode } from 'react';
import { tenantRead } from '@/lib/request/read';

export default async function OutboxLayout({ children }: { children: ReactNode }) {
  await tenantRead('admin');
  return children;
}
