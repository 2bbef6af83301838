//! `payroll`: the payroll engine's command-line binary. The logic lives in the modules; this file
//! only parses the command line and turns the outcome into an exit code.

mod backup;
mod batch;
mod calc;
mod cli;
mod demo;
mod failure;
mod generate;
mod io;
mod rng;
mod scheduler;
mod server;
mod worker;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}
