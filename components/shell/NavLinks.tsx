'use client';
// The main navigation; marks the current section with aria-current.
import Link from 'next/link';
import { usePathname } from 'next/navigation';

export interface NavItem {
  href: string;
  label: string;
  /** A count shown beside the label, with what it counts for screen readers. */
  badge?: { count: number; label: string };
}

export function NavLinks({ items }: { items: NavItem[] }) {
  const pathname = usePathname();
  return (
    <ul className="nav-list">
      {items.map((item) => {
        const current = pathname === item.href || pathname.startsWith(`${item.href}/`);
        return (
          <li key={item.href}>
            <Link href={item.href} aria-current={current ? 'page' : undefined} className="nav-link">
              <span>{item.label}</span>
              {item.badge && item.badge.count > 0 ? (
                <span className="badge" aria-label={`${item.badge.count} ${item.badge.label}`}>
                  {item.badge.count}
                </span>
              ) : null}
            </Link>
          </li>
        );
      })}
    </ul>
  );
}
