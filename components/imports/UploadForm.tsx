'use client';
// The upload flow of /imports: choose a file (drop it or pick it) and the
// platform → the preview, a dry run of the whole file → the column mapping
// when the format is not recognised or a column is wrong → the import, with
// its progress → what it did, and the optimiser for the days that changed.
// The file goes to POST /api/imports twice (dry run, then import): the
// browser keeps it, the server keeps nothing between the two.
import { useRouter } from 'next/navigation';
import { useCallback, useId, useRef, useState, type DragEvent } from 'react';
import { RunOptimizerForm } from '@/components/engine/RunOptimizerForm';
import { formatCalendarDay, formatNumber, type NumberStyle } from '@/lib/format/number';
import type { ColumnMapping, ImportPlatform, ImportResult } from '@/lib/ingest/types';
import { MappingEditor, type SavedMapping } from './MappingEditor';
import { CountList, Preview, ProblemList, type PreviewResult } from './Preview';
import { ProgressBar, type ProgressView } from './ProgressBar';
import { PLATFORM_CHOICES, plural } from './labels';
import { ACCEPT_ATTRIBUTE, hasAcceptedExtension, MAX_UPLOAD_BYTES, MAX_UPLOAD_LABEL, type UploadMode } from '@/lib/ingest/upload-protocol';
import { sendUpload, type RunningUpload } from './send';
import styles from './imports.module.css';

type PlatformChoice = 'detect' | ImportPlatform;

/** Why the browser will not send this file, or null. */
export function fileProblem(file: File): string | null {
  if (!hasAcceptedExtension(file.name)) return `${file.name} is not a CSV export: choose a .csv, .tsv or .txt file.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > MAX_UPLOAD_BYTES) return `${file.name} is over the ${MAX_UPLOAD_LABEL} limit. Export a shorter date range, or split the file.`;
  return null;
}

function sizeLabel(bytes: number, locale: string): string {
  return bytes >= 1024 * 1024 ? `${formatNumber(bytes / (1024 * 1024), { locale }, 1)} MB` : `${formatNumber(Math.max(bytes / 1024, 0.1), { locale }, 1)} KB`;
}

/** Refusals the mapping editor can fix. */
const MAPPING_REFUSALS = new Set(['unknown_format', 'mapping']);

interface Running {
  mode: UploadMode;
  progress: ProgressView;
}

export function UploadForm({
  tenantId,
  style,
  yesterday,
  savedMappings,
}: {
  tenantId: string;
  style: NumberStyle;
  /** The tenant's last complete day (what the optimiser runs for). */
  yesterday: string;
  savedMappings: Partial<Record<ImportPlatform, ColumnMapping>>;
}) {
  const router = useRouter();
  const uid = useId();
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [platform, setPlatform] = useState<PlatformChoice>('detect');
  const [mapping, setMapping] = useState<ColumnMapping | undefined>(undefined);
  const [running, setRunning] = useState<Running | null>(null);
  const [preview, setPreview] = useState<PreviewResult | null>(null);
  const [done, setDone] = useState<ImportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [skip, setSkip] = useState(false);
  const [editing, setEditing] = useState(false);
  const [dragging, setDragging] = useState(false);
  const upload = useRef<RunningUpload | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  const reset = () => {
    setPreview(null);
    setDone(null);
    setError(null);
    setSkip(false);
    setEditing(false);
    setMapping(undefined);
  };

  const choose = (f: File | null) => {
    reset();
    if (!f) {
      setFile(null);
      setFileError(null);
      return;
    }
    const problem = fileProblem(f);
    setFileError(problem);
    setFile(problem ? null : f);
  };

  const run = useCallback(
    async (mode: UploadMode, over: { platform?: PlatformChoice; mapping?: ColumnMapping } = {}) => {
      if (!file || upload.current) return;
      const p = over.platform ?? platform;
      const m = over.mapping ?? mapping;
      setError(null);
      setRunning({ mode, progress: { phase: 'sending', bytesDone: 0, bytesTotal: file.size, rowsRead: 0 } });
      // The preview leaves the rows with problems out, so its counts are what an import that skips them would do.
      const current = sendUpload(file, { mode, platform: p, skipInvalid: mode === 'preview' ? true : skip, tenant: tenantId }, m, {
        onSent: (loaded, total) =>
          setRunning((r) => (r && r.progress.phase === 'sending' ? { ...r, progress: { ...r.progress, bytesDone: loaded, bytesTotal: total } } : r)),
        onProgress: (pr) =>
          setRunning((r) => (r ? { ...r, progress: { phase: pr.phase, bytesDone: pr.bytesRead, bytesTotal: pr.bytesTotal ?? file.size, rowsRead: pr.rowsRead } } : r)),
      });
      upload.current = current;
      const outcome = await current.done;
      upload.current = null;
      setRunning(null);
      // An import leaves a line in the history whatever its outcome (a refusal, a run that broke off).
      if (mode === 'import') router.refresh();
      if (outcome.kind === 'aborted') {
        setError(mode === 'import' ? 'Import cancelled. Check the history below: an import the server had finished is listed there.' : 'Preview cancelled.');
        return;
      }
      if (outcome.kind === 'error') {
        setError(
          mode === 'import' && outcome.status === 0
            ? `${outcome.message} Check the history below before importing again: the server may have finished the import.`
            : outcome.message,
        );
        return;
      }
      if (mode === 'preview') {
        setPreview(outcome.result);
        setSkip(false);
        const refusal = outcome.result.refusal?.code;
        if (refusal && MAPPING_REFUSALS.has(refusal)) setEditing(true);
      } else {
        setDone(outcome.result);
      }
    },
    [file, platform, mapping, skip, tenantId, router],
  );

  const onSaved = useCallback(
    (saved: SavedMapping) => {
      setPlatform(saved.platform);
      setMapping(saved.mapping);
      setEditing(false);
      void run('preview', { platform: saved.platform, mapping: saved.mapping });
    },
    [run],
  );

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setDragging(false);
    if (running) return;
    const f = e.dataTransfer.files[0] ?? null;
    if (e.dataTransfer.files.length > 1) {
      setFileError('Drop one file at a time.');
      return;
    }
    if (inputRef.current) inputRef.current.value = '';
    choose(f);
  };

  const busy = running !== null;
  const problems = preview?.problemCount ?? 0;
  const leftOut = preview ? Math.max(preview.counts.rejected, 0) : 0;
  const importable = Boolean(preview && !preview.refusal && (problems === 0 || skip));
  const headers = preview?.format?.headers ?? [];
  const editorPlatform = platform === 'detect' ? (preview?.format?.platform ?? null) : platform;
  // The editor starts from the mapping last sent, else what the file was read with, else the one saved for the platform.
  const detected = preview?.format?.mapping;
  const editorMapping =
    mapping ?? (detected && Object.keys(detected).length > 0 ? detected : undefined) ?? (editorPlatform ? savedMappings[editorPlatform] : undefined) ?? {};

  return (
    <>
      <section className="card" aria-labelledby="upload-title">
        <h2 id="upload-title">Upload an export</h2>
        <form
          className={styles.uploadForm}
          aria-label="Upload an export"
          onSubmit={(e) => {
            e.preventDefault();
            void run('preview');
          }}
          noValidate
        >
          <div
            className={`${styles.dropZone} ${dragging ? styles.dropZoneActive : ''}`}
            onDragOver={(e) => {
              e.preventDefault();
              if (!busy) setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <label htmlFor={`${uid}-file`} className={styles.dropLabel}>
              <strong>Drop a CSV export here</strong> or choose a file
            </label>
            <input
              ref={inputRef}
              id={`${uid}-file`}
              type="file"
              accept={ACCEPT_ATTRIBUTE}
              disabled={busy}
              aria-describedby={`${uid}-file-hint ${uid}-file-error`}
              aria-invalid={fileError ? true : undefined}
              onChange={(e) => choose(e.target.files?.[0] ?? null)}
              className={styles.fileInput}
            />
            <p id={`${uid}-file-hint`} className="muted field-hint">
              A daily report exported from Meta, Google Ads, TikTok or LinkedIn (.csv, .tsv or .txt, up to {MAX_UPLOAD_LABEL}).
              {file ? (
                <>
                  {' '}
                  Chosen: <span className={styles.fileName}>{file.name}</span> ({sizeLabel(file.size, style.locale)}).
                </>
              ) : null}
            </p>
            <p id={`${uid}-file-error`} className="field-error" aria-live="polite">
              {fileError}
            </p>
          </div>
          <div className={styles.formRow}>
            <div className="field">
              <label htmlFor={`${uid}-platform`}>Platform</label>
              <select
                id={`${uid}-platform`}
                value={platform}
                disabled={busy}
                onChange={(e) => {
                  setPlatform(e.target.value as PlatformChoice);
                  setPreview(null);
                  setDone(null);
                  setMapping(undefined);
                  setEditing(false);
                }}
              >
                {PLATFORM_CHOICES.map((c) => (
                  <option key={c.value} value={c.value}>
                    {c.label}
                  </option>
                ))}
              </select>
            </div>
            <button type="submit" className="button button-primary" disabled={!file || busy} aria-disabled={!file || busy}>
              {preview ? 'Preview again' : 'Preview'}
            </button>
          </div>
        </form>
      </section>

      {running ? (
        <section className="card" aria-label={running.mode === 'preview' ? 'Preview in progress' : 'Import in progress'}>
          <ProgressBar
            progress={running.progress}
            label={running.mode === 'preview' ? `Previewing ${file?.name ?? 'the file'}` : `Importing ${file?.name ?? 'the file'}`}
            locale={style.locale}
          />
          <button type="button" className="button button-secondary button-small" onClick={() => upload.current?.abort()}>
            Cancel
          </button>
        </section>
      ) : null}

      <div aria-live="polite">
        {error ? (
          <p className="notice notice-error" role="alert">
            {error}
          </p>
        ) : null}
      </div>

      {preview && !done && file ? (
        <>
          <Preview result={preview} style={style} fileName={file.name} />
          {editing ? (
            headers.length > 0 ? (
              <MappingEditor
                key={`${editorPlatform ?? 'none'}-${headers.join('|')}`}
                headers={headers}
                initial={editorMapping}
                platform={editorPlatform}
                tenantId={tenantId}
                onSaved={onSaved}
                onCancel={() => setEditing(false)}
              />
            ) : (
              <p className="notice notice-error">
                The header line of this file could not be read, so its columns cannot be mapped. Check that it is a CSV export with one header line.
              </p>
            )
          ) : null}
          <section className={`card ${styles.importBar}`} aria-label="Import">
            {problems > 0 && !preview.refusal ? (
              <label className={styles.skip}>
                <input type="checkbox" checked={skip} disabled={busy} onChange={(e) => setSkip(e.target.checked)} />
                <span>
                  Skip the listed rows: {plural(leftOut, 'row', 'rows', style.locale)} with problems left out, the other{' '}
                  {plural(preview.counts.inserted + preview.counts.updated + preview.counts.unchanged, 'row', 'rows', style.locale)} imported.
                </span>
              </label>
            ) : null}
            <div className={styles.buttons}>
              <button
                type="button"
                className="button button-primary"
                disabled={!importable || busy}
                aria-disabled={!importable || busy}
                aria-describedby={`${uid}-import-why`}
                onClick={() => void run('import')}
              >
                Import
              </button>
              {headers.length > 0 && !editing ? (
                <button type="button" className="button button-secondary" disabled={busy} onClick={() => setEditing(true)}>
                  Change the column mapping
                </button>
              ) : null}
            </div>
            <p id={`${uid}-import-why`} className="muted small">
              {preview.refusal
                ? 'This file cannot be imported as it is: see the preview.'
                : problems > 0 && !skip
                  ? 'Import is off while the file has problems: correct them, change the mapping, or tick “Skip the listed rows”.'
                  : 'The import writes the rows in one go: if anything fails, nothing is kept.'}
            </p>
          </section>
        </>
      ) : null}

      {done && file ? (
        <ImportOutcome
          result={done}
          fileName={file.name}
          style={style}
          tenantId={tenantId}
          yesterday={yesterday}
          onBack={() => setDone(null)}
          onAnother={() => {
            choose(null);
            if (inputRef.current) inputRef.current.value = '';
          }}
        />
      ) : null}
    </>
  );
}

function ImportOutcome({
  result,
  fileName,
  style,
  tenantId,
  yesterday,
  onBack,
  onAnother,
}: {
  result: ImportResult;
  fileName: string;
  style: NumberStyle;
  tenantId: string;
  yesterday: string;
  onBack: () => void;
  onAnother: () => void;
}) {
  const day = (d: string) => formatCalendarDay(d, style.locale);
  const changed = result.changedDays;
  return (
    <section className="card" aria-labelledby="outcome-title">
      <h2 id="outcome-title">{result.refusal ? `${fileName} was not imported` : `${fileName} is imported`}</h2>
      {result.refusal ? (
        <>
          <p className="notice notice-error" role="alert">
            {result.refusal.message} Nothing was stored; the refusal is in the history below.
          </p>
          <ProblemList result={result} style={style} />
          <div className={styles.buttons}>
            <button type="button" className="button button-secondary" onClick={onBack}>
              Back to the preview
            </button>
          </div>
        </>
      ) : (
        <>
          <p className="notice notice-ok" role="status">
            {changed
              ? `Stored. Days changed: ${changed.from === changed.to ? day(changed.from) : `${day(changed.from)} to ${day(changed.to)}`}.`
              : 'Stored. No day changed: every row was already stored with the same figures.'}
          </p>
          <CountList counts={result.counts} locale={style.locale} dryRun={false} />
          {changed ? (
            <div className={styles.loop}>
              <h3>Run the optimiser</h3>
              <p className="muted small">
                The optimiser runs for {day(yesterday)}, the last complete day: its baselines read every stored day and it checks the week before
                for anomalies, so changes in that week count. Recommendations and anomalies of earlier days are not recomputed.
              </p>
              <RunOptimizerForm tenantId={tenantId} />
            </div>
          ) : null}
          <div className={styles.buttons}>
            <button type="button" className="button button-secondary" onClick={onAnother}>
              Import another file
            </button>
          </div>
        </>
      )}
    </section>
  );
}
