//! AWS Lambda function run by an EventBridge schedule (e.g. every 5 minutes): one beat of the
//! payroll scheduler — draft runs for periods paid soon, optional calculation, re-drive of stuck
//! calculations. See src/lib.rs for the configuration.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let job = job_scheduler::Job::from_env().await?;
    let job = &job;
    lambda_runtime::run(lambda_runtime::service_fn(move |e| job.handle(e))).await
}
