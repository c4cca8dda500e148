// Filters for the audit page: a plain GET form, so the filters live in the URL.
import Link from 'next/link';
import type { AuditFilter } from '@/lib/audit/schema';

// The empty "Any" choice submits an empty value, which the filter reads as no filter.
function AnySelect(props: { id: string; name: string; label: string; values: string[]; value: string | undefined }) {
  const { id, name, label, values, value } = props;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} defaultValue={value ?? ''}>
        <option value="">Any</option>
        {values.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    </div>
  );
}

export function AuditFilters({ filter, actions, entityTypes }: { filter: AuditFilter; actions: string[]; entityTypes: string[] }) {
  return (
    <form method="get" action="/audit" className="form form-inline filters" aria-label="Filter the audit log">
      {/* The chosen order survives a new filter. */}
      {filter.sort ? <input type="hidden" name="sort" value={filter.sort} /> : null}
      {filter.dir ? <input type="hidden" name="dir" value={filter.dir} /> : null}
      <AnySelect id="f-action" name="action" label="Action" values={actions} value={filter.action} />
      <AnySelect id="f-entity" name="entity" label="Entity" values={entityTypes} value={filter.entity} />
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
