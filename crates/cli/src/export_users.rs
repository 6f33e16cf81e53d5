//! `taskapi export-users`: the local pool's users as the CSV of Cognito's user import jobs.

use std::fs::File;
use std::io::{self, BufWriter};

use anyhow::Context;
use taskapi_userpool::write_users_csv;

use crate::config::ExportUsersConfig;

pub fn run(config: &ExportUsersConfig) -> anyhow::Result<()> {
    let to_stdout = config.out.as_os_str() == "-";
    let count = if to_stdout {
        write_users_csv(&config.data_dir, &config.pool_name, io::stdout().lock())?
    } else {
        let file = File::create(&config.out)
            .with_context(|| format!("cannot write {}", config.out.display()))?;
        write_users_csv(&config.data_dir, &config.pool_name, BufWriter::new(file))?
    };
    eprintln!(
        "exported {count} users of pool {} to {}. Passwords cannot be moved (Cognito imports \
         none): after a user import job, each user sets a new password with a code sent to \
         them at their first sign-in.",
        config.pool_name,
        config.out.display()
    );
    Ok(())
}
