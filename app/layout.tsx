import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

// Rendered per request, every page included: the Content-Security-Policy nonce
// (proxy.ts) is new for each response, and a page built ahead of time would
// carry scripts without it.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = {
  title: { default: 'AEGIS Media Buying', template: '%s · AEGIS Media Buying' },
  description: 'Daily ad performance against baselines, recommendations, anomalies, A/B tests and budgets.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
