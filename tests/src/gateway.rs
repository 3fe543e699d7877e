//! [`Gateway`]: a stand-in for a hall's SMS gateway on `127.0.0.1`: a real HTTP/1.1 listener
//! that records every request it is sent (headers and body) and answers each with the next
//! status of its script (then 200).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request the gateway received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the webhook body is JSON")
    }
}

/// A recording HTTP receiver.
pub struct Gateway {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Gateway {
    /// Listens on a free port; answers with `script`'s statuses in turn, then 200.
    pub async fn start(script: &[u16]) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::on(listener, script)
    }

    /// Listens on `addr` (a port chosen earlier), answering as [`Gateway::start`].
    pub async fn start_at(addr: SocketAddr, script: &[u16]) -> Gateway {
        let listener = TcpListener::bind(addr)
            .await
            .expect("bind the gateway's port");
        Self::on(listener, script)
    }

    fn on(listener: TcpListener, script: &[u16]) -> Gateway {
        let addr = listener.local_addr().expect("addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(
            script.iter().copied().collect::<VecDeque<u16>>(),
        ));
        let (rec, scr) = (received.clone(), script);
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let (rec, scr) = (rec.clone(), scr.clone());
                tokio::spawn(async move {
                    let _ = serve(sock, rec, scr).await;
                });
            }
        });
        Gateway {
            addr,
            received,
            task,
        }
    }

    /// `http://127.0.0.1:PORT/sms`
    pub fn url(&self) -> String {
        format!("http://{}/sms", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests came (or `timeout` passed); returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let end = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= end {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the requests of one connection (keep-alive).
async fn serve(
    sock: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(sock);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).await?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        reader.read_exact(&mut body).await?;
        received.lock().unwrap().push(Received {
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let status = script.lock().unwrap().pop_front().unwrap_or(200);
        let answer = if status == 200 { "queued" } else { "busy" };
        let resp = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{answer}",
            answer.len()
        );
        reader.get_mut().write_all(resp.as_bytes()).await?;
    }
}
