//! A fault-injecting TCP proxy: forwards connections to a target, or, while set down, answers
//! each new connection with `502 store_unavailable` as a gateway whose store is down would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

const DOWN_BODY: &str = r#"{"error":"store_unavailable","message":"injected fault"}"#;

fn down_response() -> String {
    format!(
        "HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{DOWN_BODY}",
        DOWN_BODY.len()
    )
}

/// A running proxy; aborted on drop.
pub struct FaultProxy {
    /// `http://ADDR` of the proxy.
    pub url: String,
    down: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultProxy {
    /// Proxies to `target`, up.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let down = Arc::new(AtomicBool::new(false));
        let flag = down.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let down = flag.load(Ordering::SeqCst);
                tokio::spawn(async move {
                    if down {
                        let _ = client.write_all(down_response().as_bytes()).await;
                        let _ = client.shutdown().await;
                        return;
                    }
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        FaultProxy { url, down, task }
    }

    /// New connections fail (`true`) or are forwarded (`false`).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
