//! `qunjia backup <file>`: a consistent online copy of the SQLite database,
//! taken while servers keep writing. `VACUUM INTO` reads one snapshot of the
//! database (WAL included) inside a read transaction, so writers go on and the
//! copy holds exactly what was committed when it began. The file name is bound
//! as a parameter, never spliced into the SQL.
//!
//! The copy holds the database only: the development JWT secret and data key
//! (`data/jwt_secret`, `data/data_key`) are files beside it, and in production
//! environment variables; they are kept apart from backups on purpose.
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions, Connection, Row};

use crate::config::Settings;

/// What a finished backup wrote.
#[derive(Debug, Clone)]
pub struct Done {
    /// The database copied.
    pub source: PathBuf,
    /// The new file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Time the copy took.
    pub copy: Duration,
    /// Time `PRAGMA integrity_check` of the copy took.
    pub check: Duration,
    /// Whether the target folder also holds the development data key.
    pub beside_data_key: bool,
}

/// The file of a `sqlite:` URL, or `None` for an in-memory database.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Copies the configured SQLite database into `file`, which must not exist, and
/// checks the copy. Refuses PostgreSQL (pg_dump is its tool).
pub async fn backup(settings: &Settings, file: &Path) -> anyhow::Result<Done> {
    let url = settings.database_url.as_str();
    if !url.starts_with("sqlite:") {
        anyhow::bail!(
            "backup copies a SQLite database only; DATABASE_URL is PostgreSQL: use \
             pg_dump -Fc (and pg_restore --clean to restore), see README \"Backup and restore\""
        );
    }
    let Some(source) = sqlite_file(url) else {
        anyhow::bail!("DATABASE_URL names no SQLite file: {url}");
    };
    if !source.is_file() {
        anyhow::bail!("no database at {}", source.display());
    }
    let file = absolute(file)?;
    if file.symlink_metadata().is_ok() {
        anyhow::bail!(
            "{} already exists: a backup never overwrites, choose a new file name",
            file.display()
        );
    }
    let Some(target) = file.to_str().map(str::to_owned) else {
        anyhow::bail!("the backup file name must be UTF-8: {}", file.display());
    };
    // Claim the name first (exclusive create, readable by the owner only: the copy
    // holds personal data). SQLite then writes into the empty file.
    create_private(&file).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", file.display()))?;
    let copied = copy(url, &target).await;
    let copy_time = match copied {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_file(&file);
            return Err(e);
        }
    };
    let started = Instant::now();
    let verdict = integrity(&file).await?;
    if verdict != "ok" {
        anyhow::bail!(
            "the copy in {} failed its integrity check: {verdict}",
            file.display()
        );
    }
    let beside_data_key = file
        .parent()
        .is_some_and(|dir| dir.join("data_key").exists() || dir.join("jwt_secret").exists());
    Ok(Done {
        source,
        bytes: std::fs::metadata(&file)?.len(),
        file,
        copy: copy_time,
        check: started.elapsed(),
        beside_data_key,
    })
}

fn absolute(file: &Path) -> anyhow::Result<PathBuf> {
    if file.as_os_str().is_empty() {
        anyhow::bail!("name the backup file: qunjia backup <file>");
    }
    Ok(if file.is_absolute() {
        file.to_owned()
    } else {
        std::env::current_dir()?.join(file)
    })
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map(drop)
}

/// `VACUUM INTO` over a connection of its own to the live database.
async fn copy(url: &str, target: &str) -> anyhow::Result<Duration> {
    let opts = SqliteConnectOptions::from_str(url)?
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30));
    let mut conn = opts.connect().await?;
    let started = Instant::now();
    // An absolute path never starts with `file:`, so SQLite takes it as a plain name.
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(&mut conn)
        .await?;
    let took = started.elapsed();
    conn.close().await?;
    Ok(took)
}

/// `PRAGMA integrity_check` of the copy, opened read-only: `ok` or the problems.
async fn integrity(file: &Path) -> anyhow::Result<String> {
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await?;
    let rows = sqlx::query("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    let lines: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok())
        .collect();
    Ok(lines.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_file_reads_the_path_of_the_url() {
        assert_eq!(
            sqlite_file("sqlite://data/qunjia.db?mode=rwc"),
            Some(PathBuf::from("data/qunjia.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:/tmp/x.db"),
            Some(PathBuf::from("/tmp/x.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://h/db"), None);
    }
}
