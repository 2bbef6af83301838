-- Organisation: work locations and pay schedules.
-- Employees (V003) reference both; reference them with a composite foreign key
-- (tenant_id, location_id) REFERENCES locations (tenant_id, id) so a row can never point at another
-- tenant's object. Keep the default ON DELETE NO ACTION: DELETE /locations/{id} relies on the
-- foreign-key violation to deactivate a referenced location instead of deleting it.

CREATE TABLE locations (
    tenant_id   uuid NOT NULL REFERENCES tenants(id),
    id          uuid PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    state       text NOT NULL CHECK (state ~ '^[A-Z]{2}$'),
    locality    text CHECK (locality IS NULL OR length(locality) BETWEEN 1 AND 200),
    address     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(address) = 'object'),
    active      boolean NOT NULL DEFAULT true,
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id)
);
CREATE INDEX locations_tenant_created ON locations (tenant_id, created_at, id);
SELECT enable_tenant_rls('locations', 'SELECT, INSERT, UPDATE, DELETE');

CREATE TABLE pay_schedules (
    tenant_id             uuid NOT NULL REFERENCES tenants(id),
    id                    uuid PRIMARY KEY,
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    frequency             text NOT NULL CHECK (frequency IN ('weekly', 'biweekly', 'semimonthly', 'monthly')),
    first_period_start    date NOT NULL,
    pay_date_offset_days  integer NOT NULL DEFAULT 0 CHECK (pay_date_offset_days BETWEEN 0 AND 30),
    active                boolean NOT NULL DEFAULT true,
    version               bigint NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    CHECK (frequency <> 'semimonthly' OR extract(day FROM first_period_start) IN (1, 16)),
    CHECK (frequency <> 'monthly' OR extract(day FROM first_period_start) = 1)
);
CREATE INDEX pay_schedules_tenant_created ON pay_schedules (tenant_id, created_at, id);
SELECT enable_tenant_rls('pay_schedules', 'SELECT, INSERT, UPDATE, DELETE');
