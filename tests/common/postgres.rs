//! A throwaway PostgreSQL server for tests: Debian's `postgresql` package (`.ci/run` installs it),
//! a fresh cluster in a temporary directory on 127.0.0.1 and a free port, run as the `postgres`
//! user when the tests run as root (PostgreSQL refuses root), stopped and removed on drop.
use std::path::PathBuf;
use std::process::Command;

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    pub url: String,
}

fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok()).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).collect();
    dirs.sort();
    dirs.pop()
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir().expect("PostgreSQL server binaries (Debian package `postgresql`; .ci/run installs it)");
        let as_postgres = running_as_root();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        if as_postgres {
            Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()).status().unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let run = |prog: &str, args: Vec<String>| {
            let mut c = if as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(bin.join(prog));
                c
            } else {
                Command::new(bin.join(prog))
            };
            let out = c.args(&args).output().unwrap();
            assert!(out.status.success(), "{prog} failed: {}", String::from_utf8_lossy(&out.stderr));
        };
        let d = data.display().to_string();
        run("initdb", vec!["-D".into(), d.clone(), "-U".into(), "zkinfer".into(), "--auth=trust".into()]);
        let opts = format!("-p {port} -c listen_addresses=127.0.0.1 -k {}", dir.path().display());
        run("pg_ctl", vec!["-D".into(), d.clone(), "-o".into(), opts, "-l".into(), format!("{}/log", dir.path().display()), "-w".into(), "start".into()]);
        run("createdb", vec!["-h".into(), "127.0.0.1".into(), "-p".into(), port.to_string(), "-U".into(), "zkinfer".into(), "operator".into()]);
        Postgres { url: format!("postgres://zkinfer@127.0.0.1:{port}/operator"), dir, bin, as_postgres }
    }
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join("pg_ctl"));
            c
        } else {
            Command::new(self.bin.join("pg_ctl"))
        };
        let _ = c.args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}
