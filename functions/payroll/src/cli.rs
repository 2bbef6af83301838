//! The command line: `payroll <command>`. Each subcommand has its own module; later ones
//! (`serve`, `worker`, `scheduler`, `backup`, `restore`, `migrate`) slot into `Command`.

use crate::failure::Failure;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

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
    /// Calculate payroll-run chunks from the queue at QUEUE_URL (redis://...) until SIGTERM.
    Worker(WorkerArgs),
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
        Command::Restore(a) => crate::backup::restore(&a.snapshot, &a.database_url, a.force),
        Command::Worker(a) => {
            crate::worker::worker(a.concurrency, a.visibility_timeout, a.max_deliveries)
        }
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
    fn pretty_conflicts_with_batch() {
        assert!(Cli::try_parse_from(["payroll", "calc", "--batch", "--pretty", "x"]).is_err());
    }
}
