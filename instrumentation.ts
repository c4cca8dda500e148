// Runs once when the server starts (Node.js runtime only; not while building).
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs' && process.env.NEXT_PHASE !== 'phase-production-build') {
    const { refuseUnsafeRole } = await import('./instrumentation-node');
    await refuseUnsafeRole();
  }
}
