//! Repositories: one module per resource, every function tenant-scoped through a `TenantTx`.

pub mod company;
pub mod employee_items;
pub mod employees;
pub mod locations;
pub mod schedules;
pub mod tenants;
pub mod time_entries;
