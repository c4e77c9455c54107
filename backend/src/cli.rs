//! `qunjia serve | migrate | grant | demo | rekey | backup`.
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::phone::Phone;
use crate::auth::roles::parse_grant;
use crate::auth::scope::scope_region;
use crate::config::Settings;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "qunjia",
    version,
    about = "群家 — mass organizations for workers, by phone"
)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrating the database first).
    Serve,
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Give a person a role, e.g. the first admin: `grant --phone 13800000000 --role admin --scope region:1`.
    Grant {
        /// Phone number (the account is created if needed).
        #[arg(long)]
        phone: String,
        /// admin, org_admin, centre_admin or party_admin.
        #[arg(long)]
        role: String,
        /// region:<id>, org:<id>, centre:<id> or party_org:<id>.
        #[arg(long)]
        scope: String,
    },
    /// Fill a fresh database with realistic demo data and print how to log in.
    Demo,
    /// Re-seal every encrypted case value under QUNJIA_DATA_KEY (after a key
    /// rotation, with the old key in QUNJIA_DATA_KEY_PREVIOUS); safe to run again.
    Rekey,
    /// Copy the SQLite database into a new file, consistently, while servers keep
    /// writing (PostgreSQL: use pg_dump). The copy holds no key: keep the data key apart.
    Backup {
        /// The file to write; it must not exist yet.
        file: std::path::PathBuf,
    },
}

/// Runs the command; errors are printed as one line.
pub async fn run(cli: Cli) -> ExitCode {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("qunjia: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    let output = match command {
        Command::Serve => crate::telemetry::Output::Background,
        _ => crate::telemetry::Output::Direct,
    };
    // Kept to the end of `run`: dropping it writes out the lines still queued.
    let _log = crate::telemetry::init(settings.is_production(), output);
    let result = match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => crate::db::connect(&settings)
            .await
            .map(|_| println!("database is up to date"))
            .map_err(Into::into),
        Command::Grant { phone, role, scope } => grant(&settings, &phone, &role, &scope).await,
        Command::Demo => crate::demo::run(&settings).await,
        Command::Rekey => rekey(&settings).await,
        Command::Backup { file } => backup(&settings, &file).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qunjia: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let bind = settings.bind.clone();
    let public = settings.public_url.clone();
    let app = crate::startup::Application::build(settings).await?;
    tracing::info!(%bind, port = app.port(), %public, "qunjia is listening");
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn grant(settings: &Settings, phone: &str, role: &str, scope: &str) -> anyhow::Result<()> {
    let phone = Phone::parse(phone).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (role, scope) = parse_grant(role, scope).map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = crate::db::connect(settings).await?;
    let Some(region) = scope_region(&db, scope)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    else {
        anyhow::bail!("{scope} does not exist");
    };
    // The entry belongs to the scope's region, so the admins covering it see it.
    let by = crate::auth::roles::GrantedBy {
        actor: None,
        region_id: Some(region.id),
        ip: None,
        via_cli: true,
    };
    let (g, user) = crate::auth::roles::grant(&db, phone.clone(), role, scope, by)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "granted {} on {} to {} (user {})",
        g.role,
        g.scope,
        phone.as_str(),
        user.id
    );
    Ok(())
}

async fn rekey(settings: &Settings) -> anyhow::Result<()> {
    let key = crate::crypto::DataKey::from_settings(settings)?;
    let db = crate::db::connect(settings).await?;
    let report = crate::crypto::rekey::rekey(&db, &key, |col, r| {
        println!(
            "{}.{}: {} re-sealed, {} already current, {} changed meanwhile, {} unreadable",
            col.table, col.column, r.resealed, r.current, r.changed_meanwhile, r.unreadable
        );
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let resealed: u64 = report.iter().map(|(_, r)| r.resealed).sum();
    let unreadable: u64 = report.iter().map(|(_, r)| r.unreadable).sum();
    let changed: u64 = report.iter().map(|(_, r)| r.changed_meanwhile).sum();
    if unreadable > 0 {
        anyhow::bail!(
            "{unreadable} values open with none of the configured keys and were left as they are: \
             put the key that sealed them in QUNJIA_DATA_KEY_PREVIOUS and run rekey again"
        );
    }
    if changed > 0 {
        println!("{changed} values changed while rekey ran: run it again to check them");
    }
    println!("rekey done: {resealed} values now sealed with the current key");
    Ok(())
}

async fn backup(settings: &Settings, file: &std::path::Path) -> anyhow::Result<()> {
    let done = crate::backup::backup(settings, file).await?;
    let mib = done.bytes as f64 / (1024.0 * 1024.0);
    println!(
        "backup of {} written to {}: {} bytes ({mib:.1} MiB) in {} ms, integrity ok (checked in {} ms)",
        done.source.display(),
        done.file.display(),
        done.bytes,
        done.copy.as_millis(),
        done.check.as_millis()
    );
    if done.beside_data_key {
        println!(
            "warning: {} also holds the JWT secret or the data key; keep backups apart from the keys",
            done.file
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    Ok(())
}
