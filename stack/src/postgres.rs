//! The database of a local stack: a fresh database on the server `DATABASE_URL` names, or a
//! private cluster made with the system's `initdb` and run with `pg_ctl` on a free port.

use sqlx::{Connection, Executor, PgConnection};
use std::path::{Path, PathBuf};
use std::process::Command;
use thiserror::Error;

/// Why no database could be provided.
#[derive(Debug, Error)]
pub enum PostgresError {
    /// No `DATABASE_URL` and no PostgreSQL server programs on this machine.
    #[error(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found: install PostgreSQL \
         (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql`) or set \
         DATABASE_URL to a server kiln may create a database on"
    )]
    NotInstalled,
    /// `initdb` or `pg_ctl` failed.
    #[error("`{what}` failed: {detail}")]
    Command {
        /// The command.
        what: String,
        /// Its output.
        detail: String,
    },
    /// The server refused a connection or a statement.
    #[error("PostgreSQL at {url}: {source}")]
    Sql {
        /// The server (password removed).
        url: String,
        /// The cause.
        source: sqlx::Error,
    },
    /// A file operation.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A database for one run: dropped (or its cluster stopped) by [`Postgres::stop`] or on drop.
#[derive(Debug)]
pub struct Postgres {
    url: String,
    owned: Owned,
}

#[derive(Debug)]
enum Owned {
    /// A database created on an existing server: `admin` is the server's URL.
    Database { admin: String, name: String },
    /// A private cluster.
    Cluster(Cluster),
}

#[derive(Debug)]
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    running: bool,
}

impl Postgres {
    /// `database_url` set: a fresh database named `kiln_up_<unique>` on that server. Otherwise a
    /// private cluster in `dir` (re-made each run) on a free 127.0.0.1 port.
    pub async fn provide(database_url: Option<&str>, dir: &Path) -> Result<Self, PostgresError> {
        match database_url {
            Some(url) => Self::fresh_database(url).await,
            None => Self::private_cluster(dir).await,
        }
    }

    /// The run's connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn fresh_database(admin: &str) -> Result<Self, PostgresError> {
        let sql = |source| PostgresError::Sql {
            url: redact(admin),
            source,
        };
        let name = format!(
            "kiln_up_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default()
        );
        let mut conn = PgConnection::connect(admin).await.map_err(sql)?;
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .map_err(sql)?;
        Ok(Self {
            url: with_database(admin, &name),
            owned: Owned::Database {
                admin: admin.to_string(),
                name,
            },
        })
    }

    async fn private_cluster(dir: &Path) -> Result<Self, PostgresError> {
        let bin = server_bindir().ok_or(PostgresError::NotInstalled)?;
        // PostgreSQL refuses to run as root: then the cluster belongs to the `postgres` user.
        let run_as = nix::unistd::geteuid()
            .is_root()
            .then(|| "postgres".to_string());
        // The `postgres` user cannot reach a root-owned home: its cluster lives in the
        // system's temporary folder, under a name fixed by `dir`'s absolute path so a later run finds it.
        let data = match &run_as {
            Some(_) => {
                let abs = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
                std::env::temp_dir().join(format!("kiln-pg-{:016x}", fnv(path_str(&abs))))
            }
            None => dir.join("pg"),
        };
        let mut cluster = Cluster {
            bin,
            data,
            run_as,
            running: false,
        };
        // A cluster left by a run that was killed: stop it and start over.
        if cluster.data.join("postmaster.pid").exists() {
            let _ = cluster.pg_ctl(&["stop", "-m", "immediate"]);
        }
        if cluster.data.exists() {
            std::fs::remove_dir_all(&cluster.data)?;
        }
        std::fs::create_dir_all(&cluster.data)?;
        if let Some(user) = &cluster.run_as {
            run(Command::new("chown").arg("-R").arg(user).arg(&cluster.data))?;
        }
        cluster.exec(
            "initdb",
            &[
                "-D",
                path_str(&cluster.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        )?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            path_str(&cluster.data)
        );
        let log = cluster.data.join("server.log");
        cluster.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            path_str(&log),
            "-o",
            &options,
        ])?;
        cluster.running = true;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        Ok(Self {
            url,
            owned: Owned::Cluster(cluster),
        })
    }

    /// Drops the run's database, or stops the private cluster.
    pub async fn stop(mut self) {
        if let Owned::Database { admin, name } = &mut self.owned {
            drop_database(admin, name).await;
            name.clear();
        }
        if let Owned::Cluster(c) = &mut self.owned {
            c.stop();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        match &mut self.owned {
            Owned::Cluster(c) => c.stop(),
            // Not stopped in order (a failed start, a panic): drop the database from a thread
            // of its own, since drop cannot await.
            Owned::Database { admin, name } => {
                let (admin, name) = (admin.clone(), std::mem::take(name));
                if name.is_empty() {
                    return;
                }
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(drop_database(&admin, &name));
                })
                .join();
            }
        }
    }
}

async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::connect(admin).await {
        let _ = conn
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
    }
}

impl Cluster {
    fn exec(&self, program: &str, args: &[&str]) -> Result<(), PostgresError> {
        let path = self.bin.join(program);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        cmd.args(args);
        run(&mut cmd)
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), PostgresError> {
        let mut all = vec!["-D", path_str(&self.data)];
        all.extend_from_slice(args);
        self.exec("pg_ctl", &all)
    }

    fn stop(&mut self) {
        if std::mem::take(&mut self.running) {
            let _ = self.pg_ctl(&["stop", "-m", "fast", "-w"]);
            let _ = std::fs::remove_dir_all(&self.data);
        }
    }
}

fn run(cmd: &mut Command) -> Result<(), PostgresError> {
    let what = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| PostgresError::Command {
        what: what.clone(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(PostgresError::Command {
        what,
        detail: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    })
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

/// The folder holding `initdb` and `pg_ctl`: on `PATH`, else Debian's
/// `/usr/lib/postgresql/<newest>/bin`, else `pg_config --bindir`.
fn server_bindir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Some(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    bin.join("initdb").is_file().then_some(bin)
}

/// 64-bit FNV-1a of `s`.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `url` with its database path replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// `url` without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_rewritten_and_redacted() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }
}
