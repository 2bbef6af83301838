//! AWS Lambda function run hourly by an EventBridge schedule: back up the database to BACKUP_URL,
//! then prune snapshots older than BACKUP_KEEP_DAYS (default 30). See src/lib.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let job = job_backup::Job::from_env().await?;
    let job = &job;
    lambda_runtime::run(lambda_runtime::service_fn(move |e| job.handle(e))).await
}
