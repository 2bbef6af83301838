-- Time entries: worked hours per employee and day (given as hours, or as clock in/out converted
-- to hours by the API), with the job worked, an optional rate override (otherwise the employee's
-- job rate or compensation applies when a payroll is calculated) and the shift's tips.
-- Imports are idempotent by external_id (unique per tenant). The employee reference is a composite
-- (tenant_id, employee_id) foreign key, so an entry can never point at another tenant's employee.

CREATE TABLE time_entries (
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    id            uuid PRIMARY KEY,
    external_id   text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    employee_id   uuid NOT NULL,
    date          date NOT NULL,
    hours         numeric NOT NULL CHECK (hours >= 0 AND hours <= 24),
    clock_in      timestamptz,
    clock_out     timestamptz,
    job           text CHECK (job IS NULL OR length(job) BETWEEN 1 AND 100),
    rate          numeric CHECK (rate IS NULL OR rate >= 0),
    cash_tips     numeric(14,2) NOT NULL DEFAULT 0 CHECK (cash_tips >= 0),
    charged_tips  numeric(14,2) NOT NULL DEFAULT 0 CHECK (charged_tips >= 0),
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, external_id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id),
    CHECK ((clock_in IS NULL) = (clock_out IS NULL)),
    CHECK (clock_out IS NULL OR (clock_out > clock_in AND clock_out - clock_in <= interval '24 hours'))
);
-- Listing order (and cursor key) is (date, id), optionally for one employee.
CREATE INDEX time_entries_tenant_employee_date ON time_entries (tenant_id, employee_id, date, id);
CREATE INDEX time_entries_tenant_date ON time_entries (tenant_id, date, id);
SELECT enable_tenant_rls('time_entries', 'SELECT, INSERT, UPDATE, DELETE');
