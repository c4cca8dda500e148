// Filters for the audit page: a plain GET form, so the filters live in the URL.
import Link from 'next/link';
import type { AuditFilter } from '@/lib/audit/schema';

export function AuditFilters({ filter, actions, entityTypes }: { filter: AuditFilter; actions: string[]; entityTypes: string[] }) {
  return (
    <form method="get" action="/audit" className="form form-inline filters" aria-label="Filter the audit log">
      {/* The chosen order survives a new filter. */}
      {filter.sort ? <input type="hidden" name="sort" value={filter.sort} /> : null}
      {filter.dir ? <input type="hidden" name="dir" value={filter.dir} /> : null}
      <div className="field">
        <label htmlFor="f-action">Action</label>
        <select id="f-action" name="action" defaultValue={filter.action ?? ''}>
          <option value="">Any</option>
          {actions.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-entity">Entity</label>
        <select id="f-entity" name="entity" defaultValue={filter.entity ?? ''}>
          <option value="">Any</option>
          {entityTypes.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-actor">Who</label>
        <input id="f-actor" name="actor" type="search" defaultValue={filter.actor ?? ''} placeholder="email" />
      </div>
      <div className="field">
        <label htmlFor="f-from">From</label>
        <input id="f-from" name="from" type="date" defaultValue={filter.from ?? ''} />
      </div>
      <div className="field">
        <label htmlFor="f-to">To</label>
        <input id="f-to" name="to" type="date" defaultValue={filter.to ?? ''} />
      </div>
      <div className="field field-submit">
        <button type="submit" className="button button-secondary">
          Filter
        </button>
        <Link href="/audit" className="clear-link">
          Clear
        </Link>
      </div>
    </form>
  );
}
