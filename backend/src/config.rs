//! Settings: defaults, then environment overrides. Secrets stay wrapped in
//! `SecretString` so that they never end up in a log line by accident.
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// Where the server runs: development is forgiving, production refuses unsafe settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local work: log SMS provider allowed, JWT secret generated and kept in the data folder.
    Development,
    /// Real users: webhook SMS and an explicit secret of at least 32 bytes.
    Production,
}

/// How one-time codes reach the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsProvider {
    /// Writes `sms to=<phone> code=<code>` to the server log.
    Log,
    /// POSTs `{"phone","template","params"}` to the gateway URL.
    Webhook(String),
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port.
    pub bind: String,
    /// sea-orm database URL (`sqlite://…?mode=rwc` or `postgres://…`).
    pub database_url: String,
    /// Folder for the SQLite file and the development JWT secret.
    pub data_dir: PathBuf,
    /// development or production.
    pub environment: Environment,
    /// HMAC key for JWTs and code hashes.
    pub jwt_secret: SecretString,
    /// Public base URL of the PWA, used in links and QR codes.
    pub public_url: String,
    /// SMS delivery.
    pub sms: SmsProvider,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// One-time codes one client IP may ask for per hour.
    pub otp_ip_limit_per_hour: u32,
    /// Largest pool for PostgreSQL (SQLite always uses one writer connection).
    pub db_max_connections: u32,
    /// SQLite: read-only connections beside the writer (0: every read on the writer).
    pub db_readers: u32,
    /// Issuer and audience of our JWTs.
    pub jwt_issuer: String,
    /// Staff count from which a social organization, association or park enterprise is required (应建).
    pub required_employees: u32,
    /// 32-byte key (64 hex digits) that encrypts the free text and files of cases at rest.
    pub data_key: SecretString,
    /// Earlier data keys, newest first: they open what was sealed before a
    /// rotation but never seal. Empty once `qunjia rekey` has run.
    pub data_key_previous: Vec<SecretString>,
    /// How often each instance looks for SMS still waiting in the outbox, in ms;
    /// the retry backoff grows from it (×4 per failed attempt).
    pub outbox_interval_ms: u64,
    /// How often each instance tries to run the retention sweep, in ms; one
    /// instance per interval claims it, the others skip.
    pub housekeeping_interval_ms: u64,
    /// How long what the sweep deletes is kept.
    pub retention: Retention,
}

/// Days each kind of short-lived personal data is kept once it has served its
/// purpose (PIPL: no longer than needed). Idempotency keys are not here: API.md
/// fixes their life at 24 h.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// One-time codes (phone and code hash), counted from their expiry.
    pub otp_code_days: u32,
    /// Rate-limit windows (keys hold phones and IPs), counted from the window's
    /// start; at least 1, the longest window, so no live window is lost.
    pub rate_limit_days: u32,
    /// Refresh tokens, counted from their expiry (used or not).
    pub refresh_expired_days: u32,
    /// Revoked refresh tokens, counted from the revocation; at least the token
    /// lifetime (30 days), so a revoked login is recognised while its tokens verify.
    pub refresh_revoked_days: u32,
    /// Refused check-ins (who, which activity, why), counted from the attempt.
    pub checkin_failure_days: u32,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            otp_code_days: 1,
            rate_limit_days: 2,
            refresh_expired_days: 7,
            refresh_revoked_days: REFRESH_LIFETIME_DAYS,
            checkin_failure_days: 90,
        }
    }
}

/// Days a refresh token lives: the least a revoked one is kept.
pub const REFRESH_LIFETIME_DAYS: u32 = (crate::auth::jwt::REFRESH_TTL_SECS / 86_400) as u32;

/// Default of `QUNJIA_HOUSEKEEPING_INTERVAL_MS`: an hour.
pub const HOUSEKEEPING_INTERVAL_MS: u32 = 3_600_000;

impl Retention {
    /// Reads `QUNJIA_RETENTION_*_DAYS`, each a whole number of days above its least.
    pub fn from_env() -> Result<Retention, ConfigError> {
        let d = Retention::default();
        Ok(Retention {
            otp_code_days: parse_at_least("QUNJIA_RETENTION_OTP_DAYS", d.otp_code_days, 1)?,
            rate_limit_days: parse_at_least(
                "QUNJIA_RETENTION_RATE_LIMIT_DAYS",
                d.rate_limit_days,
                1,
            )?,
            refresh_expired_days: parse_at_least(
                "QUNJIA_RETENTION_REFRESH_EXPIRED_DAYS",
                d.refresh_expired_days,
                1,
            )?,
            refresh_revoked_days: parse_at_least(
                "QUNJIA_RETENTION_REFRESH_REVOKED_DAYS",
                d.refresh_revoked_days,
                REFRESH_LIFETIME_DAYS,
            )?,
            checkin_failure_days: parse_at_least(
                "QUNJIA_RETENTION_CHECKIN_FAILURE_DAYS",
                d.checkin_failure_days,
                1,
            )?,
        })
    }
}

/// A setting that stops the server from starting; `Display` is the one line shown.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Minimum length of a production JWT secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

impl Settings {
    /// Reads the environment. In production, refuses the log SMS provider and a
    /// missing or short secret; in development, generates a secret once and keeps it.
    pub fn from_env() -> Result<Settings, ConfigError> {
        let environment = match var("QUNJIA_ENV").as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "QUNJIA_ENV must be development or production, not {other:?}"
                )));
            }
        };
        let data_dir = PathBuf::from(var("QUNJIA_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = match var("DATABASE_URL") {
            Some(url) => url,
            None => sqlite_url(&data_dir.join("qunjia.db")),
        };
        let sms = match var("QUNJIA_SMS_PROVIDER").as_deref() {
            None | Some("log") => SmsProvider::Log,
            Some("webhook") => {
                SmsProvider::Webhook(var("QUNJIA_SMS_WEBHOOK_URL").ok_or_else(|| {
                    ConfigError("QUNJIA_SMS_PROVIDER=webhook needs QUNJIA_SMS_WEBHOOK_URL".into())
                })?)
            }
            Some(other) => {
                return Err(ConfigError(format!(
                    "QUNJIA_SMS_PROVIDER must be log or webhook, not {other:?}"
                )));
            }
        };
        if environment == Environment::Production && sms == SmsProvider::Log {
            return Err(ConfigError(
                "refusing to start: QUNJIA_SMS_PROVIDER=log writes login codes to the log; set webhook in production".into(),
            ));
        }
        let jwt_secret = match (var("QUNJIA_JWT_SECRET"), environment) {
            (Some(s), _) if s.len() >= MIN_SECRET_LEN => SecretString::from(s),
            (Some(_), Environment::Production) => {
                return Err(ConfigError(format!(
                    "refusing to start: QUNJIA_JWT_SECRET must be at least {MIN_SECRET_LEN} bytes"
                )));
            }
            (None, Environment::Production) => {
                return Err(ConfigError(
                    "refusing to start: QUNJIA_JWT_SECRET is required in production (at least 32 bytes)".into(),
                ));
            }
            (Some(_), Environment::Development) | (None, Environment::Development) => {
                development_file(&data_dir, "jwt_secret", MIN_SECRET_LEN)?
            }
        };
        let data_key = match (var("QUNJIA_DATA_KEY"), environment) {
            (Some(k), _) if is_hex_key(&k) => SecretString::from(k),
            (Some(_), _) => {
                return Err(ConfigError(
                    "refusing to start: QUNJIA_DATA_KEY must be 64 hex digits (32 bytes)".into(),
                ));
            }
            (None, Environment::Production) => {
                return Err(ConfigError(
                    "refusing to start: QUNJIA_DATA_KEY is required in production (64 hex digits); it encrypts case files at rest".into(),
                ));
            }
            (None, Environment::Development) => development_file(&data_dir, "data_key", 64)?,
        };
        let data_key_previous = match var("QUNJIA_DATA_KEY_PREVIOUS") {
            None => Vec::new(),
            Some(list) => parse_previous_keys(&list)?,
        };
        let trusted_proxies = match var("QUNJIA_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => parse_proxies(&list)?,
        };
        let bind = var("QUNJIA_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url = var("QUNJIA_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        Ok(Settings {
            bind,
            database_url,
            data_dir,
            environment,
            jwt_secret,
            public_url,
            sms,
            trusted_proxies,
            otp_ip_limit_per_hour: parse_num("QUNJIA_OTP_IP_LIMIT_PER_HOUR", 30)?,
            db_max_connections: parse_num("QUNJIA_DB_MAX_CONNECTIONS", 16)?,
            db_readers: parse_num("QUNJIA_DB_READERS", crate::db::default_readers())?,
            jwt_issuer: var("QUNJIA_JWT_ISSUER").unwrap_or_else(|| "qunjia".into()),
            required_employees: parse_num("QUNJIA_REQUIRED_EMPLOYEES", 30)?,
            data_key,
            data_key_previous,
            outbox_interval_ms: u64::from(parse_num("QUNJIA_OUTBOX_INTERVAL_MS", 15_000)?.max(10)),
            housekeeping_interval_ms: u64::from(parse_at_least(
                "QUNJIA_HOUSEKEEPING_INTERVAL_MS",
                HOUSEKEEPING_INTERVAL_MS,
                1,
            )?),
            retention: Retention::from_env()?,
        })
    }

    /// Whether the server runs in production mode.
    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// The secret as bytes, for the HMAC keys.
    pub fn secret_bytes(&self) -> &[u8] {
        self.jwt_secret.expose_secret().as_bytes()
    }
}

fn parse_num(name: &str, default: u32) -> Result<u32, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a whole number, not {v:?}"))),
    }
}

/// A whole number of at least `least` (days, or ms for the interval).
fn parse_at_least(name: &str, default: u32, least: u32) -> Result<u32, ConfigError> {
    let n = parse_num(name, default)?;
    check_least(name, n, least)
}

fn check_least(name: &str, n: u32, least: u32) -> Result<u32, ConfigError> {
    if n < least {
        return Err(ConfigError(format!(
            "refusing to start: {name} must be at least {least}, not {n}"
        )));
    }
    Ok(n)
}

/// `sqlite://` URL for a file, created if missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Parses `QUNJIA_TRUSTED_PROXIES`: addresses or CIDRs, comma-separated.
pub fn parse_proxies(list: &str) -> Result<Vec<IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError(format!(
                        "QUNJIA_TRUSTED_PROXIES: {s:?} is not an address or CIDR"
                    ))
                })
        })
        .collect()
}

/// Whether `k` is 32 bytes written as 64 hex digits.
pub fn is_hex_key(k: &str) -> bool {
    k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `QUNJIA_DATA_KEY_PREVIOUS`: comma-separated keys of 64 hex digits.
fn parse_previous_keys(list: &str) -> Result<Vec<SecretString>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .enumerate()
        .map(|(i, k)| {
            if is_hex_key(k) {
                Ok(SecretString::from(k.to_owned()))
            } else {
                Err(ConfigError(format!(
                    "refusing to start: key {} of QUNJIA_DATA_KEY_PREVIOUS is not 64 hex digits",
                    i + 1
                )))
            }
        })
        .collect()
}

/// Loads a development secret (64 hex digits) from the data folder, creating it on
/// first run, so that logins and encrypted case files survive a restart.
fn development_file(
    data_dir: &Path,
    name: &str,
    min_len: usize,
) -> Result<SecretString, ConfigError> {
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= min_len {
            return Ok(SecretString::from(existing));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        ConfigError(format!(
            "cannot create data folder {}: {e}",
            data_dir.display()
        ))
    })?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &secret)
        .map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
    Ok(SecretString::from(secret))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_accept_addresses_and_cidrs() {
        let p = parse_proxies("10.0.0.1, 192.168.0.0/16,::1").expect("valid list");
        assert_eq!(p.len(), 3);
        assert!(p[1].contains(&"192.168.3.4".parse::<std::net::IpAddr>().expect("ip")));
    }

    #[test]
    fn previous_keys_are_a_comma_list_of_hex_keys() {
        let (a, b) = ("ab".repeat(32), "CD".repeat(32));
        let keys = parse_previous_keys(&format!("{a}, {b},")).expect("two keys");
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[1].expose_secret(), b);
        assert!(parse_previous_keys("").expect("none").is_empty());
        let e = parse_previous_keys(&format!("{a},short")).expect_err("refused");
        assert!(e.0.contains("key 2"), "{}", e.0);
        assert!(!e.0.contains("short"), "the key is not echoed: {}", e.0);
    }

    #[test]
    fn retention_refuses_zero_and_revoked_tokens_kept_shorter_than_their_life() {
        assert_eq!(check_least("X", 7, 1).ok(), Some(7));
        let e = check_least("QUNJIA_RETENTION_OTP_DAYS", 0, 1).expect_err("zero refused");
        assert!(e.0.contains("QUNJIA_RETENTION_OTP_DAYS"), "{}", e.0);
        assert_eq!(REFRESH_LIFETIME_DAYS, 30);
        assert!(check_least("R", 29, REFRESH_LIFETIME_DAYS).is_err());
        let d = Retention::default();
        assert!(d.refresh_revoked_days >= REFRESH_LIFETIME_DAYS && d.rate_limit_days >= 1);
    }

    #[test]
    fn proxies_reject_garbage() {
        assert!(parse_proxies("10.0.0.1,not-an-ip").is_err());
    }
}
