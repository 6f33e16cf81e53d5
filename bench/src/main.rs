//! The taskapi benchmarks. Each figure is taken against a baseline measured in the same
//! run, because absolute numbers on a shared machine drift; see BENCHMARKS.md.

mod chart;
mod local;
mod wrk;

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Parser)]
#[command(about = "Benchmarks taskapi against baselines in the same run")]
struct Args {
    /// A short run for CI: fewer users and seconds; reports, asserts nothing.
    #[arg(long)]
    quick: bool,
    /// Where results (JSON) and charts (SVG) go.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// The release `taskapi` binary to measure.
    #[arg(long, default_value = "target/release/taskapi")]
    taskapi: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let profile = if args.quick {
        local::Profile::QUICK
    } else {
        local::Profile::FULL
    };
    let report = local::run(&args.taskapi, profile).await?;
    std::fs::write(
        args.out.join("local.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(
        args.out.join("local-throughput.svg"),
        chart::throughput(&report),
    )?;
    println!("{}", report.markdown());
    Ok(())
}
