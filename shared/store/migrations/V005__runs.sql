-- Payroll runs: the run lifecycle (DESIGN §4), one row per employee and run with the exact
-- calculation request and result, the year-to-date accumulators advanced when a run is paid, and
-- the final pay stubs. Paid runs are never edited: a void creates a linked reversal run.

CREATE TABLE payroll_runs (
    tenant_id        uuid NOT NULL REFERENCES tenants(id),
    id               uuid PRIMARY KEY,
    pay_schedule_id  uuid NOT NULL,
    type             text NOT NULL CHECK (type IN ('regular', 'off_cycle', 'correction')),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN
                        ('draft', 'calculating', 'calculated', 'approved', 'paid', 'failed', 'voided')),
    period_start     date NOT NULL,
    period_end       date NOT NULL,
    pay_date         date NOT NULL,
    -- Off-cycle runs: their own earnings, {"<employee_id>": [EarningInput, ...]}.
    earnings         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(earnings) = 'object'),
    -- Bumped by every calculate; chunks of an older attempt are ignored.
    calc_attempt     integer NOT NULL DEFAULT 0,
    inputs_hash      text,
    calc_hash        text,
    total            integer NOT NULL DEFAULT 0,
    done             integer NOT NULL DEFAULT 0,
    failed           integer NOT NULL DEFAULT 0,
    gross_pay        numeric(14,2) NOT NULL DEFAULT 0,
    net_pay          numeric(14,2) NOT NULL DEFAULT 0,
    employee_taxes   numeric(14,2) NOT NULL DEFAULT 0,
    employer_taxes   numeric(14,2) NOT NULL DEFAULT 0,
    reverses_run_id  uuid,
    error            text,
    calculated_at    timestamptz,
    approved_at      timestamptz,
    approved_by      text,
    paid_at          timestamptz,
    version          bigint NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    CHECK (period_end >= period_start),
    CHECK (done >= 0 AND failed >= 0 AND done + failed <= total),
    FOREIGN KEY (tenant_id, pay_schedule_id) REFERENCES pay_schedules (tenant_id, id),
    FOREIGN KEY (tenant_id, reverses_run_id) REFERENCES payroll_runs (tenant_id, id)
);
-- One active regular run per (tenant, pay schedule, period).
CREATE UNIQUE INDEX payroll_runs_one_active_regular
    ON payroll_runs (tenant_id, pay_schedule_id, period_start)
    WHERE type = 'regular' AND status NOT IN ('voided', 'failed');
-- At most one reversal per run.
CREATE UNIQUE INDEX payroll_runs_one_reversal ON payroll_runs (reverses_run_id)
    WHERE reverses_run_id IS NOT NULL;
CREATE INDEX payroll_runs_tenant_created ON payroll_runs (tenant_id, created_at, id);
SELECT enable_tenant_rls('payroll_runs', 'SELECT, INSERT, UPDATE');

-- One row per (run, employee): a redelivered chunk upserts the same key and changes nothing.
CREATE TABLE payroll_run_items (
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    run_id          uuid NOT NULL,
    employee_id     uuid NOT NULL,
    calc_attempt    integer NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'calculated', 'failed')),
    -- The exact request and result text (json, not jsonb: stored as produced, no re-parsing of
    -- ~16 kB of trace per employee; lz4 compresses them several times faster than pglz).
    request         json COMPRESSION lz4,
    result          json COMPRESSION lz4,
    error           jsonb,
    input_hash      text,
    result_hash     text,
    gross_pay       numeric(14,2),
    net_pay         numeric(14,2),
    employee_taxes  numeric(14,2),
    employer_taxes  numeric(14,2),
    -- What paying this item adds to the employee's year-to-date (the Ytd fields).
    ytd_delta       jsonb,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, employee_id),
    FOREIGN KEY (tenant_id, run_id) REFERENCES payroll_runs (tenant_id, id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id)
);
CREATE INDEX payroll_run_items_run_status ON payroll_run_items (run_id, status);
SELECT enable_tenant_rls('payroll_run_items', 'SELECT, INSERT, UPDATE, DELETE');

-- Year-to-date per employee and calendar year (of the pay date), advanced only when a run is paid.
CREATE TABLE ytd_accumulators (
    tenant_id              uuid NOT NULL REFERENCES tenants(id),
    employee_id            uuid NOT NULL,
    year                   integer NOT NULL,
    gross                  numeric(14,2) NOT NULL DEFAULT 0,
    fit_wages              numeric(14,2) NOT NULL DEFAULT 0,
    social_security_wages  numeric(14,2) NOT NULL DEFAULT 0,
    medicare_wages         numeric(14,2) NOT NULL DEFAULT 0,
    futa_wages             numeric(14,2) NOT NULL DEFAULT 0,
    sui_wages              numeric(14,2) NOT NULL DEFAULT 0,
    sdi_wages              numeric(14,2) NOT NULL DEFAULT 0,
    supplemental           numeric(14,2) NOT NULL DEFAULT 0,
    k401                   numeric(14,2) NOT NULL DEFAULT 0,
    version                bigint NOT NULL DEFAULT 1,
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, employee_id, year),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id)
);
SELECT enable_tenant_rls('ytd_accumulators', 'SELECT, INSERT, UPDATE');

-- Final pay stubs: one per employee per paid run (reversal runs get negative stubs).
CREATE TABLE pay_stubs (
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    id              uuid PRIMARY KEY,
    run_id          uuid NOT NULL,
    employee_id     uuid NOT NULL,
    pay_date        date NOT NULL,
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    year            integer NOT NULL,
    gross_pay       numeric(14,2) NOT NULL,
    net_pay         numeric(14,2) NOT NULL,
    employee_taxes  numeric(14,2) NOT NULL,
    employer_taxes  numeric(14,2) NOT NULL,
    result          json COMPRESSION lz4 NOT NULL,
    ytd             jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, employee_id),
    FOREIGN KEY (tenant_id, run_id) REFERENCES payroll_runs (tenant_id, id),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id)
);
CREATE INDEX pay_stubs_employee_year ON pay_stubs (tenant_id, employee_id, year, pay_date);
SELECT enable_tenant_rls('pay_stubs', 'SELECT, INSERT');
