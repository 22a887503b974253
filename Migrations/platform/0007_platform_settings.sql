-- The installation's own settings: the operator's brand (name, logo, colours, links) over the product's defaults. It
-- frames the platform's pages, the 404 page of unknown hosts, shops no agency manages and the "powered by" label.
CREATE TABLE platform.settings (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    branding jsonb NOT NULL DEFAULT '{}'::jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO platform.settings DEFAULT VALUES;

CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE ON platform.settings
    FOR EACH STATEMENT EXECUTE FUNCTION platform.notify_directory();

-- Reads go through statements prepared per connection on schema-qualified SQL (TenantStatements): this dynamic-SQL
-- door made PostgreSQL plan every request anew.
DROP FUNCTION platform.tenant_rows(text, text, text[]);
