-- Employees and their sub-resources: effective-dated compensation, tax profile (federal and state
-- W-4), deductions, garnishments, bank accounts. SSNs and account numbers are stored only encrypted
-- (AES-256-GCM, nonce ‖ ciphertext ‖ tag) plus their last four digits for masked display.
-- Every reference to another tenant table is a composite (tenant_id, id) foreign key, so a row can
-- never point at another tenant's object. Other tables reference employees the same way.

CREATE TABLE employees (
    tenant_id           uuid NOT NULL REFERENCES tenants(id),
    id                  uuid PRIMARY KEY,
    first_name          text NOT NULL CHECK (length(first_name) BETWEEN 1 AND 100),
    last_name           text NOT NULL CHECK (length(last_name) BETWEEN 1 AND 100),
    email               text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 254),
    ssn_enc             bytea,
    ssn_last4           text CHECK (ssn_last4 IS NULL OR ssn_last4 ~ '^[0-9]{4}$'),
    hire_date           date NOT NULL,
    termination_date    date,
    termination_reason  text CHECK (termination_reason IS NULL OR length(termination_reason) <= 500),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'terminated')),
    location_id         uuid,
    pay_schedule_id     uuid,
    pay_type            text NOT NULL CHECK (pay_type IN ('hourly', 'salary')),
    tipped              boolean NOT NULL DEFAULT false,
    flsa_exempt         boolean NOT NULL DEFAULT false,
    overtime_rules      text CHECK (overtime_rules IS NULL OR overtime_rules IN ('flsa', 'california')),
    resident_state      text CHECK (resident_state IS NULL OR resident_state ~ '^[A-Z]{2}$'),
    home_address        jsonb CHECK (home_address IS NULL OR jsonb_typeof(home_address) = 'object'),
    job_rates           jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(job_rates) = 'object'),
    version             bigint NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, id),
    CHECK ((ssn_enc IS NULL) = (ssn_last4 IS NULL)),
    CHECK ((status = 'terminated') = (termination_date IS NOT NULL)),
    CHECK (termination_date IS NULL OR termination_date >= hire_date),
    FOREIGN KEY (tenant_id, location_id) REFERENCES locations (tenant_id, id),
    FOREIGN KEY (tenant_id, pay_schedule_id) REFERENCES pay_schedules (tenant_id, id)
);
-- The list order (and cursor key) is (last_name, first_name, id).
CREATE INDEX employees_tenant_name ON employees (tenant_id, last_name, first_name, id);
CREATE INDEX employees_tenant_location ON employees (tenant_id, location_id);
CREATE INDEX employees_tenant_schedule ON employees (tenant_id, pay_schedule_id);
SELECT enable_tenant_rls('employees', 'SELECT, INSERT, UPDATE');

-- Effective-dated pay: the row with the latest effective_date on or before a date applies.
CREATE TABLE compensations (
    tenant_id       uuid NOT NULL REFERENCES tenants(id),
    id              uuid PRIMARY KEY,
    employee_id     uuid NOT NULL,
    effective_date  date NOT NULL,
    pay_type        text NOT NULL CHECK (pay_type IN ('hourly', 'salary')),
    hourly_rate     numeric CHECK (hourly_rate IS NULL OR hourly_rate > 0),
    annual_salary   numeric(14,2) CHECK (annual_salary IS NULL OR annual_salary > 0),
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (employee_id, effective_date),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id),
    CHECK ((pay_type = 'hourly' AND hourly_rate IS NOT NULL AND annual_salary IS NULL)
        OR (pay_type = 'salary' AND annual_salary IS NOT NULL AND hourly_rate IS NULL))
);
CREATE INDEX compensations_tenant_employee ON compensations (tenant_id, employee_id, effective_date);
SELECT enable_tenant_rls('compensations', 'SELECT, INSERT');

-- One per employee; the JSON shapes are the calculation contract's `federal_w4` and `state_w4`.
CREATE TABLE tax_profiles (
    tenant_id    uuid NOT NULL REFERENCES tenants(id),
    id           uuid PRIMARY KEY,
    employee_id  uuid NOT NULL UNIQUE,
    federal_w4   jsonb CHECK (federal_w4 IS NULL OR jsonb_typeof(federal_w4) = 'object'),
    state_w4     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(state_w4) = 'object'),
    version      bigint NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id)
);
SELECT enable_tenant_rls('tax_profiles', 'SELECT, INSERT, UPDATE');

-- Recurring deductions (the calculation contract's DeductionInput). DELETE ends them
-- (deleted_at) so past payroll runs keep their meaning.
CREATE TABLE deductions (
    tenant_id     uuid NOT NULL REFERENCES tenants(id),
    id            uuid PRIMARY KEY,
    employee_id   uuid NOT NULL,
    type          text NOT NULL CHECK (type IN ('401k', '403b', '457b', 'section_125', 'fsa',
                      'dependent_care', 'hsa', 'roth_401k', 'union_dues', 'loan', 'other')),
    amount        numeric(14,2) CHECK (amount IS NULL OR amount >= 0),
    percent       numeric CHECK (percent IS NULL OR (percent >= 0 AND percent <= 100)),
    annual_limit  numeric(14,2) CHECK (annual_limit IS NULL OR annual_limit >= 0),
    coverage      text CHECK (coverage IS NULL OR coverage IN ('self_only', 'family')),
    start_date    date,
    end_date      date,
    deleted_at    timestamptz,
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id),
    CHECK ((amount IS NULL) <> (percent IS NULL)),
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX deductions_tenant_employee ON deductions (tenant_id, employee_id, created_at);
SELECT enable_tenant_rls('deductions', 'SELECT, INSERT, UPDATE');

-- Garnishment orders (the calculation contract's GarnishmentInput); `priority` orders orders of
-- the same type (earlier orders first).
CREATE TABLE garnishments (
    tenant_id      uuid NOT NULL REFERENCES tenants(id),
    id             uuid PRIMARY KEY,
    employee_id    uuid NOT NULL,
    type           text NOT NULL CHECK (type IN ('child_support', 'tax_levy', 'student_loan', 'creditor')),
    amount         numeric(14,2) CHECK (amount IS NULL OR amount >= 0),
    percent        numeric CHECK (percent IS NULL OR (percent >= 0 AND percent <= 100)),
    limit_percent  numeric,
    exempt_amount  numeric(14,2) CHECK (exempt_amount IS NULL OR exempt_amount >= 0),
    fee            numeric(14,2) CHECK (fee IS NULL OR fee >= 0),
    reference      text CHECK (reference IS NULL OR length(reference) <= 200),
    start_date     date,
    end_date       date,
    deleted_at     timestamptz,
    version        bigint NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id),
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX garnishments_tenant_employee ON garnishments (tenant_id, employee_id, created_at);
SELECT enable_tenant_rls('garnishments', 'SELECT, INSERT, UPDATE');

-- Direct-deposit accounts. The net pay is split in priority order: fixed amounts and percentages
-- first, then the (single) remainder account.
CREATE TABLE bank_accounts (
    tenant_id           uuid NOT NULL REFERENCES tenants(id),
    id                  uuid PRIMARY KEY,
    employee_id         uuid NOT NULL,
    routing_number      text NOT NULL CHECK (routing_number ~ '^[0-9]{9}$'),
    account_number_enc  bytea NOT NULL,
    account_last4       text NOT NULL CHECK (account_last4 ~ '^[0-9]{4}$'),
    account_type        text NOT NULL CHECK (account_type IN ('checking', 'savings')),
    split               text NOT NULL CHECK (split IN ('percent', 'amount', 'remainder')),
    percent             numeric CHECK (percent IS NULL OR (percent > 0 AND percent <= 100)),
    amount              numeric(14,2) CHECK (amount IS NULL OR amount > 0),
    priority            integer NOT NULL DEFAULT 1 CHECK (priority BETWEEN 1 AND 100),
    deleted_at          timestamptz,
    version             bigint NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, employee_id) REFERENCES employees (tenant_id, id),
    CHECK ((split = 'percent') = (percent IS NOT NULL)),
    CHECK ((split = 'amount') = (amount IS NOT NULL))
);
CREATE INDEX bank_accounts_tenant_employee ON bank_accounts (tenant_id, employee_id, priority);
-- At most one live remainder account per employee.
CREATE UNIQUE INDEX bank_accounts_one_remainder ON bank_accounts (employee_id)
    WHERE split = 'remainder' AND deleted_at IS NULL;
SELECT enable_tenant_rls('bank_accounts', 'SELECT, INSERT, UPDATE');
