-- AEGIS tenants: the locale in which the pages write the tenant's numbers and
-- days (decimal comma or point, day-month order), beside its currency and
-- time zone. A BCP 47 tag of a language and an optional region (en-GB, fr-FR,
-- de, pt-BR); the pages fall back to en-GB for a tag the runtime does not know.
--
-- Idempotent: the column and its check are added when missing.

BEGIN;

SELECT pg_advisory_xact_lock(hashtext('aegis.deploy'));

SET LOCAL ROLE aegis_owner;

ALTER TABLE saas.tenants ADD COLUMN IF NOT EXISTS locale text NOT NULL DEFAULT 'en-GB';

DO $locale$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
                 WHERE conrelid = 'saas.tenants'::regclass AND conname = 'tenants_locale_check') THEN
    ALTER TABLE saas.tenants ADD CONSTRAINT tenants_locale_check CHECK (locale ~ '^[a-z]{2,3}(-[A-Z]{2})?$');
  END IF;
END
$locale$;

COMMENT ON COLUMN saas.tenants.locale IS
  'BCP 47 tag (language, optional region: en-GB, fr-FR, de) in which the pages write numbers and days; currency and time zone are their own columns.';

COMMIT;
