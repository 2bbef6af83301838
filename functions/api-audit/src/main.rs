//! AWS Lambda function serving the `audit` endpoint group of the payroll API (behind API Gateway's
//! HttpApi). Outside Lambda the same binary serves the group as a plain HTTP server on PORT.

fn main() -> std::process::ExitCode {
    payroll_api::function::main_for(&[payroll_api::Group::Audit])
}
