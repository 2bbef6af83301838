//! The shared test harness lives in `payroll_api::testing` (feature `testing`), so the function
//! crates' Lambda tests use the same one.
#![allow(unused_imports)]

pub use payroll_api::testing::*;
