import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

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
