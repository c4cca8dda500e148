'use client';
// A new API key, shown once from the action's answer: copy it now, then hide
// it. The server keeps only its hash, and no page shows it again.
import { useState } from 'react';
import styles from './api-keys.module.css';

export function ApiKeysSecret({ name, apiKey, onHide }: { name: string; apiKey: string; onHide: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(apiKey);
      setCopied('yes');
    } catch {
      setCopied('failed');
    }
  };
  return (
    <div className="one-time" role="status">
      <p>
        <strong>{name}</strong> — copy this key into the system that sends your metrics now: it is not shown again.
      </p>
      <div className={styles.secretRow}>
        <code className={`secret ${styles.secret}`} aria-label="The new API key">
          {apiKey}
        </code>
        <button type="button" className="button button-secondary button-small" onClick={copy}>
          Copy
        </button>
        <button type="button" className="button button-secondary button-small" onClick={onHide}>
          I have saved it — hide
        </button>
      </div>
      <p className="muted small" aria-live="polite">
        {copied === 'yes' ? 'Copied.' : copied === 'failed' ? 'The browser did not allow copying: select the key and copy it by hand.' : null}
      </p>
      <p className="muted small">
        Send it as <code>Authorization: Bearer &lt;key&gt;</code> to <code>POST /api/v1/metrics</code>. Lost it? Revoke it and create another.
      </p>
    </div>
  );
}
