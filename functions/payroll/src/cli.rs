//! The command line: `payroll <command>`. Each subcommand has its own module; later ones
//! (`serve`, `worker`, `scheduler`, `backup`, `restore`, `migrate`) slot into `Command`.

use crate::failure::Failure;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub mod beat_endpoint;
pub mod routes;

const ABOUT: &str = "US payroll engine: calculates paychecks (earnings, taxes, deductions, \
garnishments, net pay) from a JSON request, with a line-by-line trace.";

const AFTER_HELP: &str = "\
Exit codes: 0 success; 2 invalid input (bad JSON, missing or invalid field, unsupported state, no
rule pack for the pay date, unreadable file, bad arguments); 1 internal error.

Examples:
  payroll calc examples/ca-tipped-server-overtime.json --pretty
  payroll generate --count 100000 --seed 7 --output requests.jsonl
  payroll calc --batch requests.jsonl --output results.jsonl";

#[derive(Debug, Parser)]
#[command(name = "payroll", version, about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Calculate one paycheck (JSON in, JSON out), or many with --batch (JSON Lines).
    Calc(CalcArgs),
    /// Write N realistic, varied, valid paycheck requests as JSON Lines (for benchmarks and tests).
    Generate(GenerateArgs),
    /// Apply database migrations (DATABASE_URL).
    Migrate,
    /// Serve the HTTP API on PORT (default 8000): every route, graceful shutdown on SIGTERM.
    Serve,
    /// Manage tenants (employers).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Print a signed bearer token (PAYROLL_JWT_SECRET) for a tenant and role.
    Token(TokenArgs),
    /// Load the demo restaurant group (a new tenant unless --tenant is given); prints the tenant id.
    Demo(DemoArgs),
    /// Back up the database (DATABASE_URL) to BACKUP_URL, encrypted with PAYROLL_BACKUP_KEY:
    /// `run` (the default), `list`, `prune --keep-days 30`.
    Backup(BackupArgs),
    /// Restore a snapshot from BACKUP_URL into an empty database (verifies every checksum).
    Restore(RestoreArgs),
    /// Calculate payroll-run chunks from the queue at QUEUE_URL (redis://... for Redis Streams,
    /// or an SQS queue URL) until SIGTERM.
    Worker(WorkerArgs),
    /// Run the scheduler's beat every --interval seconds until SIGTERM: draft runs for periods
    /// paid within --lead-days, optional calculation, re-drive of stuck calculations.
    Scheduler(SchedulerArgs),
    /// Print every HTTP route (method, path) and the endpoint groups (Lambda functions) serving it.
    Routes {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Serve the scheduler's beat over HTTP on PORT: each POST / runs one beat and answers its
    /// report (for Knative's PingSource or a cron that calls a URL). Needs QUEUE_URL.
    BeatEndpoint,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Chunks calculated at the same time.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Seconds after which an unacknowledged chunk (a killed worker) is taken over.
    #[arg(long, default_value_t = 60)]
    pub visibility_timeout: u64,
    /// Deliveries after which a failing chunk is dead-lettered and its employees marked failed.
    #[arg(long, default_value_t = 5)]
    pub max_deliveries: u32,
}

/// Flags override the environment (SCHEDULER_LEAD_DAYS, SCHEDULER_AUTO_CALCULATE,
/// SCHEDULER_STUCK_AFTER_SECONDS, SCHEDULER_MAX_REDRIVES, SCHEDULER_INTERVAL_SECONDS).
#[derive(Debug, Args)]
#[command(after_help = "\
Chunks go to the queue QUEUE_URL names (redis://... or an SQS queue URL); without QUEUE_URL this
process calculates them itself. Chunk size: PAYROLL_RUN_CHUNK_SIZE (default 500).")]
pub struct SchedulerArgs {
    /// Seconds between beats [env SCHEDULER_INTERVAL_SECONDS; default 60].
    #[arg(long, value_name = "SECS")]
    pub interval: Option<u64>,
    /// Run one beat, print its report (JSON) and exit.
    #[arg(long)]
    pub once: bool,
    /// Create draft runs for periods paid within this many days [env SCHEDULER_LEAD_DAYS; default 3].
    #[arg(long, value_name = "DAYS")]
    pub lead_days: Option<u32>,
    /// Calculate due drafts once their period has ended [env SCHEDULER_AUTO_CALCULATE; default false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub auto_calculate: Option<bool>,
    /// Re-drive calculating runs without progress for this long [env SCHEDULER_STUCK_AFTER_SECONDS; default 900].
    #[arg(long, value_name = "SECS")]
    pub stuck_after: Option<u64>,
    /// Re-drives of one calculation before its remaining employees are marked failed [env SCHEDULER_MAX_REDRIVES; default 5].
    #[arg(long, value_name = "N")]
    pub max_redrives: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant; prints its id.
    Create {
        /// The employer's name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The tenant id.
    #[arg(long)]
    pub tenant: uuid::Uuid,
    /// payroll_admin, payroll_manager, payroll_clerk or employee.
    #[arg(long)]
    pub role: String,
    /// The employee id (required for the employee role).
    #[arg(long)]
    pub employee: Option<uuid::Uuid>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl: i64,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Load into this existing tenant instead of creating one.
    #[arg(long)]
    pub tenant: Option<uuid::Uuid>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Single mode: reads one request (a JSON object) and prints the result as one line of JSON
(--pretty: indented). On invalid input nothing is printed on stdout, exactly one line
`error: <field>: <message>` goes to stderr, and the exit code is 2 (1 for an internal error).

Batch mode (--batch): one request per line in, one result per line out, in input order,
computed in parallel. Blank lines are skipped (input line numbers are kept). A bad line does not
stop the batch: its output line is
  {\"line\": N, \"error\": {\"code\": ..., \"field\": ..., \"message\": ...}}
and `line N: error: <field>: <message>` goes to stderr. Exit code 2 at the end if any line was
invalid, 1 if any line hit an internal error, else 0.

The request contract: docs/ARCHITECTURE.md and the files in examples/.")]
pub struct CalcArgs {
    /// The request file (a JSON object; with --batch, JSON Lines). `-` or none: standard input.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Read one request per line and write one result per line (JSON Lines).
    #[arg(long)]
    pub batch: bool,

    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,

    /// Indent the JSON result (single mode only).
    #[arg(long, conflicts_with = "batch")]
    pub pretty: bool,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many requests to write.
    #[arg(long, short = 'n', value_name = "N")]
    pub count: u64,

    /// Seed of the generator: the same seed and count give byte-identical output.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    #[command(flatten)]
    pub run: BackupRunArgs,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Take a snapshot now (the default).
    Run(BackupRunArgs),
    /// List the snapshots in BACKUP_URL.
    List,
    /// Remove snapshots older than --keep-days (never the newest complete one).
    Prune {
        #[arg(long, default_value_t = 30)]
        keep_days: u32,
    },
}

#[derive(Debug, Args)]
pub struct BackupRunArgs {
    /// Also write the backup gauges to this file in Prometheus text format (Pushgateway, textfile
    /// collector).
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The snapshot id (YYYY/MM/DD/HHMMSSZ, see `payroll backup list`) or `latest`.
    #[arg(long, default_value = "latest")]
    pub snapshot: String,
    /// The database to restore into (must be empty unless --force).
    #[arg(long, value_name = "URL")]
    pub database_url: String,
    /// Replace the contents of a non-empty database.
    #[arg(long)]
    pub force: bool,
    /// Database connections loading and indexing in parallel.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub jobs: u16,
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Calc(a) if a.batch => crate::batch::run(&a),
        Command::Calc(a) => crate::calc::run(&a),
        Command::Generate(a) => crate::generate::run(&a),
        Command::Migrate => crate::server::migrate(),
        Command::Serve => crate::server::serve(),
        Command::Tenant(TenantCommand::Create { name }) => crate::server::tenant_create(&name),
        Command::Token(a) => crate::server::token(a.tenant, &a.role, a.employee, a.ttl),
        Command::Demo(a) => crate::server::demo(a.tenant),
        Command::Backup(a) => match a.command {
            None => crate::backup::run(a.run.metrics_file.as_deref()),
            Some(BackupCommand::Run(r)) => crate::backup::run(r.metrics_file.as_deref()),
            Some(BackupCommand::List) => crate::backup::list(),
            Some(BackupCommand::Prune { keep_days }) => crate::backup::prune(keep_days),
        },
        Command::Restore(a) => {
            crate::backup::restore(&a.snapshot, &a.database_url, a.force, a.jobs.into())
        }
        Command::Worker(a) => {
            crate::worker::worker(a.concurrency, a.visibility_timeout, a.max_deliveries)
        }
        Command::Scheduler(a) => crate::scheduler::scheduler(&crate::scheduler::Overrides {
            interval: a.interval,
            once: a.once,
            lead_days: a.lead_days,
            auto_calculate: a.auto_calculate,
            stuck_after: a.stuck_after,
            max_redrives: a.max_redrives,
        }),
        Command::Routes { json } => routes::run(json),
        Command::BeatEndpoint => beat_endpoint::run(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn batch_takes_the_file_positionally() {
        let cli = Cli::try_parse_from(["payroll", "calc", "--batch", "in.jsonl", "--output", "o"])
            .unwrap_or_else(|e| panic!("{e}"));
        let Command::Calc(a) = cli.command else {
            panic!("not calc")
        };
        assert!(a.batch);
        assert_eq!(a.file, Some(PathBuf::from("in.jsonl")));
        assert_eq!(a.output, Some(PathBuf::from("o")));
    }

    #[test]
    fn scheduler_flags_are_optional_overrides() {
        let parse = |line: &str| match Cli::try_parse_from(line.split_whitespace())
            .unwrap_or_else(|e| panic!("{e}"))
            .command
        {
            Command::Scheduler(a) => a,
            c => panic!("{c:?}"),
        };
        let a = parse("payroll scheduler");
        assert!(!a.once && a.interval.is_none() && a.lead_days.is_none());
        assert_eq!(a.auto_calculate, None);
        let a = parse("payroll scheduler --once --lead-days 5 --auto-calculate");
        assert!(a.once);
        assert_eq!((a.lead_days, a.auto_calculate), (Some(5), Some(true)));
        let a = parse("payroll scheduler --auto-calculate false --stuck-after 60");
        assert_eq!((a.auto_calculate, a.stuck_after), (Some(false), Some(60)));
        assert!(Cli::try_parse_from(["payroll", "scheduler", "--lead-days", "x"]).is_err());
    }

    #[test]
    fn pretty_conflicts_with_batch() {
        assert!(Cli::try_parse_from(["payroll", "calc", "--batch", "--pretty", "x"]).is_err());
    }
}
