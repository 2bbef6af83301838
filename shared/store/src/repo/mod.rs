//! Repositories: one module per resource, every function tenant-scoped through a `TenantTx`.

pub mod tenants;
