//! AWS Lambda function serving the `paystubs` endpoint group of the payroll API (pay stubs as JSON
//! or, with `Accept: application/pdf`, as PDF; behind API Gateway's HttpApi). Outside Lambda the
//! same binary serves the group as a plain HTTP server on PORT.

fn main() -> std::process::ExitCode {
    payroll_api::function::main_for(&[payroll_api::Group::Paystubs])
}
