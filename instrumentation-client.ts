// Runs in the browser before the app. Pages are served under a
// Content-Security-Policy without 'unsafe-eval' (proxy.ts): zod must neither
// compile its parsers with Function() nor probe whether it may, since the
// browser reports even a caught probe as a policy violation.
import { z } from 'zod';

z.config({ jitless: true });
