// Member roles and their order (viewer < buyer < admin), shared by server
// checks and by pages that hide what a role cannot do.
import type { MemberRole } from '@/lib/db/schema.generated';

export type Role = MemberRole;

export const ROLES: readonly Role[] = ['viewer', 'buyer', 'admin'];

const RANK: Record<Role, number> = { viewer: 0, buyer: 1, admin: 2 };

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

/** True when `role` is at least `min`. */
export function hasRole(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

export const ROLE_LABEL: Record<Role, string> = { viewer: 'Viewer', buyer: 'Buyer', admin: 'Admin' };

export const ROLE_DESCRIPTION: Record<Role, string> = {
  viewer: 'reads every page',
  buyer: 'also approves, dismisses, resolves, edits budgets and thresholds, runs the optimizer',
  admin: 'also manages members and API keys',
};
