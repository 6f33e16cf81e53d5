//! `taskapi`: the command-line entry point. Kept thin: parse the configuration, set up
//! logging, hand over to the library.

use clap::Parser;
use mimalloc::MiMalloc;
use taskapi::config::{Cli, Command, TableCommand};

/// Every request allocates small strings (ids, titles, JSON); mimalloc serves them with
/// less contention and no periodic consolidation than glibc's malloc (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: MiMalloc = MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    taskapi::telemetry::init(cli.log_format);
    match cli.command {
        Command::Serve(config) => taskapi::serve::run(*config).await,
        Command::Table(TableCommand::Create(config)) => taskapi::table::create(config).await,
        Command::Table(TableCommand::Reshard(config)) => taskapi::table::reshard(config).await,
        Command::Export(config) => taskapi::export::run(config).await,
        Command::Import(config) => taskapi::import::run(config).await,
        Command::Backup(config) => taskapi::backup::run(&config),
        Command::ExportUsers(config) => taskapi::export_users::run(&config),
    }
}
