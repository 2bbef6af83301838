//! AWS Lambda function triggered by the payroll-run chunk queue (SQS, with
//! `ReportBatchItemFailures`): calculates each record's chunk and returns the records to retry.
//! See src/lib.rs for what happens to each record.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let worker = worker_runs::Worker::from_env()?;
    let worker = &worker;
    lambda_runtime::run(lambda_runtime::service_fn(move |e| worker.handle(e))).await
}
