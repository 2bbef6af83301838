-- Core: the application role, tenants, company settings, audit log, idempotency keys.
-- Row-level security: every tenant table carries tenant_id and a policy comparing it with the
-- transaction's app.tenant_id (set by Db::tenant_tx together with SET LOCAL ROLE payroll_app).

DO $$
BEGIN
    CREATE ROLE payroll_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- roles are cluster-wide; another database created it already
END
$$;

GRANT USAGE ON SCHEMA public TO payroll_app;

-- The tenant of the current transaction (NULL when unset: then policies match no row).
CREATE FUNCTION app_tenant() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$;

-- Enable RLS on a tenant table and grant the app role the given privileges.
CREATE FUNCTION enable_tenant_rls(tbl regclass, privileges text) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (tenant_id = app_tenant()) WITH CHECK (tenant_id = app_tenant())', tbl);
    EXECUTE format('GRANT %s ON %s TO payroll_app', privileges, tbl);
END
$$;

CREATE TABLE tenants (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants USING (id = app_tenant());
GRANT SELECT ON tenants TO payroll_app;

CREATE TABLE company_settings (
    tenant_id              uuid PRIMARY KEY REFERENCES tenants(id),
    legal_name             text NOT NULL DEFAULT '',
    ein                    text,
    address                jsonb NOT NULL DEFAULT '{}'::jsonb,
    workweek_start         text NOT NULL DEFAULT 'monday',
    sui                    jsonb NOT NULL DEFAULT '{}'::jsonb,   -- {"CA": {"rate": "0.034", "wage_base": "7000.00"}}
    futa_credit_reduction  jsonb NOT NULL DEFAULT '{}'::jsonb,   -- {"CA": "0.009"}
    version                bigint NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
SELECT enable_tenant_rls('company_settings', 'SELECT, INSERT, UPDATE');

-- Append-only audit log: the app role may insert and read; nobody may update or delete.
CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,          -- create | update | delete | read_sensitive | ...
    entity      text NOT NULL,          -- employee | location | ...
    entity_id   text,
    request_id  text,
    before      jsonb,
    after       jsonb
);
CREATE INDEX audit_events_tenant_entity_at ON audit_events (tenant_id, entity, at);
SELECT enable_tenant_rls('audit_events', 'SELECT, INSERT');
GRANT USAGE ON SEQUENCE audit_events_id_seq TO payroll_app;

CREATE FUNCTION audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Idempotency-Key records: the first response to a POST is replayed for the same key and body.
CREATE TABLE idempotency_keys (
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    method        text NOT NULL,
    path          text NOT NULL,
    request_hash  text NOT NULL,
    status        integer,              -- NULL while the first request is in flight
    headers       jsonb,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
SELECT enable_tenant_rls('idempotency_keys', 'SELECT, INSERT, UPDATE, DELETE');
