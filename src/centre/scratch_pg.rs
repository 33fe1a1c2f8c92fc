//! A throwaway PostgreSQL server from Debian's packages, for the tests and `kiosk bench city
//! --postgres`: `initdb` in a folder of the caller's, a password, a free port on 127.0.0.1,
//! stopped when dropped. Not for production: the centre's IT runs its own server.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running scratch server.
pub struct ScratchPostgres {
    bin: PathBuf,
    data: PathBuf,
    pub port: u16,
    /// The superuser `centre`'s password, in a file the receivers' `store.password_file` names.
    pub password_file: PathBuf,
    as_postgres: bool,
    /// The server's `-o` options (port, addresses, durability), for `start_again`.
    options: String,
}

/// Where Debian puts the server's programs (`initdb` is not on PATH there).
fn find_bin() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("PATH") {
        for d in std::env::split_paths(&path) {
            if d.join("initdb").is_file() && d.join("pg_ctl").is_file() {
                return Some(d);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl ScratchPostgres {
    /// Whether this machine has the server programs.
    pub fn available() -> bool {
        find_bin().is_some()
    }

    /// Start a server under `dir` (which must exist). `Ok(None)` when this machine has no
    /// PostgreSQL server programs (`scripts/setup` installs them); `durable = false` turns
    /// fsync off, for tests that measure nothing.
    pub fn start(dir: &Path, durable: bool) -> Result<Option<ScratchPostgres>, String> {
        let Some(bin) = find_bin() else {
            return Ok(None);
        };
        // The server refuses to run as root: then it runs as Debian's `postgres` user.
        let as_postgres = unsafe { libc::geteuid() } == 0;
        let data = dir.join("pgdata");
        let password_file = dir.join("pg.password");
        let password = format!("scratch-{}", crate::hub::service::random_id());
        std::fs::write(&password_file, &password).map_err(|e| e.to_string())?;
        if as_postgres {
            use std::os::unix::fs::PermissionsExt;
            // The `postgres` user must reach its data folder and read the password once.
            let open = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(dir, open.clone()).map_err(|e| e.to_string())?;
            std::fs::set_permissions(&password_file, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| e.to_string())?;
            std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&data)
                .status()
                .map_err(|e| e.to_string())?
                .success();
            if !ok {
                return Err(format!("chown postgres {}", data.display()));
            }
        }
        let port = free_port().map_err(|e| e.to_string())?;
        let mut options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=200",
            data.display()
        );
        if !durable {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let server = ScratchPostgres {
            bin,
            data,
            port,
            password_file,
            as_postgres,
            options,
        };
        let pwfile = server.password_file.display().to_string();
        server.run(
            "initdb",
            &[
                "-D",
                &server.data.display().to_string(),
                "-U",
                "centre",
                &format!("--pwfile={pwfile}"),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        server.start_again()?;
        // Restore the password file's privacy now that initdb has read it.
        if as_postgres {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(
                &server.password_file,
                std::fs::Permissions::from_mode(0o600),
            );
        }
        Ok(Some(server))
    }

    /// Stop the server (fast), as a crash or a failover would.
    pub fn stop(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data.display().to_string(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        )
    }

    /// Start the server (again: on the same port and data).
    pub fn start_again(&self) -> Result<(), String> {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data.display().to_string(),
                "-l",
                &self.data.join("server.log").display().to_string(),
                "-o",
                &self.options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .current_dir("/")
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout)
            ))
        }
    }

    /// The connection string (password not included) for database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("host=127.0.0.1 port={} user=centre dbname={db}", self.port)
    }

    pub fn password(&self) -> String {
        std::fs::read_to_string(&self.password_file)
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Create database `name` (empty) and return its connection string.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let mut c = postgres::Config::new();
        c.host("127.0.0.1")
            .port(self.port)
            .user("centre")
            .password(self.password())
            .dbname("postgres");
        let mut client = c.connect(postgres::NoTls).map_err(|e| e.to_string())?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{}\"", name.replace('"', "")))
            .map_err(|e| e.to_string())?;
        Ok(self.url(name))
    }

    /// The `[store]` section of a receiver's config on database `db`.
    pub fn store_toml(&self, db: &str, identity_key_file: &Path, pool: usize) -> String {
        format!(
            "[store]\nengine = \"postgres\"\nurl = \"{}\"\npassword_file = \"{}\"\npool = {pool}\n\
             identity_key_file = \"{}\"\n",
            self.url(db),
            self.password_file.display(),
            identity_key_file.display()
        )
    }
}

impl Drop for ScratchPostgres {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}
