//! The HTTP API's integration tests, in one test binary (one link instead of seven): every
//! module talks to real PostgreSQL (a fresh database per test) and Redis where it is reachable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod company;
mod employees;
mod functions;
mod paychecks;
mod paystubs;
mod platform;
mod runs;
mod scheduler;
mod smoke;
mod time;
