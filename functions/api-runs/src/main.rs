//! AWS Lambda function serving the `runs` endpoint group of the payroll API (`/payroll-runs`,
//! behind API Gateway's HttpApi; pay stubs are `api-paystubs`). Outside Lambda the same binary serves the group as a plain
//! HTTP server on PORT. Calculation chunks go to the queue named by `QUEUE_URL` (SQS on AWS);
//! without one, `POST /payroll-runs/{id}/calculate` answers 503 — there is no in-process worker
//! here (`payroll serve` has one), so this binary does not contain the calculation engine.

fn main() -> std::process::ExitCode {
    payroll_api::function::main_for(&[payroll_api::Group::Runs])
}
