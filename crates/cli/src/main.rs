//! `taskapi`: the command-line entry point. Kept thin: parse the configuration, set up
//! logging, hand over to the library.

use clap::Parser;
use taskapi::config::{Cli, Command, TableCommand};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    taskapi::telemetry::init(cli.log_format);
    match cli.command {
        Command::Serve(config) => taskapi::serve::run(config).await,
        Command::Table(TableCommand::Create(config)) => taskapi::table::create(config).await,
    }
}
