// The signed-in frame: navigation with live counts, the tenant (name and
// currency), the tenant switcher, and the signed-in user with their role.
import Link from 'next/link';
import type { ReactNode } from 'react';
import { SignOutButton } from '@/components/auth/SignOutButton';
import { ROLE_LABEL, type Role } from '@/lib/tenancy/roles';
import { CriticalBanner } from '@/components/anomalies/CriticalBanner';
import { NavLinks, type NavItem } from './NavLinks';
import { TenantSwitcher, type TenantOption } from './TenantSwitcher';

export interface ShellProps {
  tenant: { tenantId: string; tenantName: string; currency: string };
  user: { email: string; name: string | null };
  role: Role;
  memberships: TenantOption[];
  counts: { pendingRecommendations: number; activeAnomalies: number; criticalAnomalies?: number; optimizationScore: number | null };
  children: ReactNode;
}

export function AppShell({ tenant, user, role, memberships, counts, children }: ShellProps) {
  const items: NavItem[] = [
    { href: '/performance', label: 'Performance' },
    { href: '/recommendations', label: 'Recommendations', badge: { count: counts.pendingRecommendations, label: 'pending' } },
    { href: '/anomalies', label: 'Anomalies', badge: { count: counts.activeAnomalies, label: 'active' } },
    { href: '/ab-tests', label: 'A/B tests' },
    { href: '/budgets', label: 'Budgets' },
    { href: '/benchmarks', label: 'Benchmarks' },
    { href: '/settings', label: 'Settings' },
    { href: '/imports', label: 'Imports' },
    { href: '/members', label: 'Members' },
    { href: '/audit', label: 'Audit' },
  ];
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/performance" className="brand">
          AEGIS
        </Link>
        <div className="tenant-info" aria-label="Current tenant">
          <span className="tenant-name">{tenant.tenantName}</span>
          <span className="tenant-currency" title="Reporting currency">
            {tenant.currency}
          </span>
        </div>
        {counts.optimizationScore !== null ? (
          <Link
            href="/recommendations#score"
            className="score-pill"
            title="Optimization score: how much of the improvement the engine estimates is attainable is already done (100 % = nothing pending)"
          >
            Score <strong>{Math.floor(counts.optimizationScore * 100)} %</strong>
          </Link>
        ) : null}
        {memberships.length > 1 ? <TenantSwitcher current={tenant.tenantId} options={memberships} /> : null}
        <div className="user-info">
          <span className="user-email">{user.name ? `${user.name} · ${user.email}` : user.email}</span>
          <span className="role-pill" aria-label={`Role: ${ROLE_LABEL[role]}`}>
            {ROLE_LABEL[role]}
          </span>
          <Link href="/account/password" className="account-link">
            Change password
          </Link>
          <SignOutButton />
        </div>
      </header>
      <div className="shell-body">
        <nav className="sidebar" aria-label="Main">
          <NavLinks items={items} />
        </nav>
        <main id="main" className="content" tabIndex={-1}>
          <CriticalBanner count={counts.criticalAnomalies ?? 0} />
          {children}
        </main>
      </div>
    </div>
  );
}
