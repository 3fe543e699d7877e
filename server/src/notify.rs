//! The sender of messages to customers: it takes due messages from the outbox
//! ([`crate::hall::messages`], written in the transaction of the change that caused them),
//! hands each to the transport, and records the outcome.
//!
//! Once, in order: a sender claims a message with a lease ([`LEASE`]) in one statement that
//! only a message still pending (or whose lease ran out) passes, so two servers on one
//! PostgreSQL never both take it; a message is claimable only when every earlier message of its
//! ticket is done, so "3 ahead of you" always arrives before "please go to window 3". A message
//! committed before a crash is sent after the restart. A sender killed between the gateway's
//! answer and recording it sends that message again when its lease ends: the gateway can tell
//! by the message's id (`X-Qhall-Message-Id`, and `{id}` in the body).
//!
//! Transports: `webhook` POSTs to the hall's SMS gateway (a body template, extra headers, an
//! HMAC-SHA256 signature of the body in `X-Qhall-Signature: sha256=HEX`; the gateway's answer
//! is recorded); a 2xx is sent, anything else is retried with doubling waits up to
//! [`MAX_ATTEMPTS`]. `log` writes the text with the number masked, for trying Qhall out.
//! Numbers are never logged unmasked.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;

use crate::hall::messages::{Outgoing, mask_mobile};
use crate::store::Store;

/// How long a claimed message is the claiming sender's alone.
pub const LEASE: Duration = Duration::from_secs(60);
/// A message is given up (state `failed`) after this many attempts.
pub const MAX_ATTEMPTS: u32 = 10;
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);
/// How often the sender looks for due messages.
pub const POLL: Duration = Duration::from_millis(500);
/// The most messages claimed at once.
const BATCH: i64 = 20;
/// The gateway's answer kept with a message, at most.
const ANSWER_CHARS: usize = 500;

/// The default webhook body: JSON with the message's fields.
pub const DEFAULT_BODY: &str =
    r#"{"id":"{id}","to":"{to}","text":"{text}","kind":"{kind}","lang":"{lang}"}"#;

/// How messages leave this server.
#[derive(Clone, Default)]
pub struct Settings {
    pub transport: Transport,
    /// Milliseconds before the first retry.
    pub retry_base: Duration,
}

/// Where messages go.
#[derive(Clone, Default)]
pub enum Transport {
    /// No messages: customers are not offered them.
    #[default]
    Off,
    /// Into the log, the number masked.
    Log,
    Webhook(Webhook),
}

/// The hall's SMS gateway.
#[derive(Clone)]
pub struct Webhook {
    pub url: String,
    pub secret: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret, nor header values (they may hold the gateway's credentials).
        let t = match &self.transport {
            Transport::Off => "off".to_owned(),
            Transport::Log => "log".to_owned(),
            Transport::Webhook(w) => format!("webhook {}", w.url),
        };
        f.debug_struct("Settings")
            .field("transport", &t)
            .field("retry_base", &self.retry_base)
            .finish()
    }
}

impl Settings {
    /// The transport named (or implied by the other settings), checked.
    pub fn resolve(
        name: Option<&str>,
        url: Option<String>,
        secret: Option<String>,
        headers: BTreeMap<String, String>,
        body: Option<String>,
        retry_ms: Option<u64>,
        demo: bool,
    ) -> anyhow::Result<Settings> {
        let name = name.unwrap_or(match (&url, demo) {
            (Some(_), _) => "webhook",
            (None, true) => "log",
            (None, false) => "off",
        });
        let transport = match name {
            "off" => Transport::Off,
            "log" => Transport::Log,
            "webhook" => {
                let url = url.ok_or_else(|| {
                    anyhow::anyhow!("messages = \"webhook\" needs sms_webhook (the gateway's URL)")
                })?;
                anyhow::ensure!(
                    url.starts_with("http://") || url.starts_with("https://"),
                    "sms_webhook must be an http:// or https:// URL"
                );
                for (k, v) in &headers {
                    axum::http::HeaderName::try_from(k.as_str())
                        .map_err(|_| anyhow::anyhow!("sms_headers: {k:?} is not a header name"))?;
                    axum::http::HeaderValue::try_from(v.as_str()).map_err(|_| {
                        anyhow::anyhow!("sms_headers: the value of {k:?} is not a header value")
                    })?;
                }
                Transport::Webhook(Webhook {
                    url,
                    secret: secret.filter(|s| !s.is_empty()),
                    headers,
                    body: body.unwrap_or_else(|| DEFAULT_BODY.to_owned()),
                })
            }
            other => anyhow::bail!("messages must be off, log or webhook, not {other:?}"),
        };
        let retry_ms = retry_ms.unwrap_or(5000);
        anyhow::ensure!(retry_ms > 0, "message_retry_ms must be at least 1");
        Ok(Settings {
            transport,
            retry_base: Duration::from_millis(retry_ms),
        })
    }

    /// Whether customers can ask for messages.
    pub fn enabled(&self) -> bool {
        !matches!(self.transport, Transport::Off)
    }

    /// The wait before attempt `attempts + 1`: the base, doubled per attempt, at most
    /// [`MAX_BACKOFF`].
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32 << attempts.saturating_sub(1).min(16);
        self.retry_base.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered to the transport; its answer.
    Sent(String),
    /// Refused or unreachable; why. Retried unless the attempts are spent.
    Failed(String),
}

/// Sends due messages until the task is aborted.
pub async fn run(store: Store, settings: Settings) {
    if !settings.enabled() {
        return;
    }
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the SMS gateway client: no messages are sent");
            return;
        }
    };
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = Utc::now();
        match store.messages_due(now).await {
            Ok(false) => continue,
            Ok(true) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading the message outbox failed");
                continue;
            }
        }
        let claimed = match store.claim_messages(now, LEASE, BATCH).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "claiming messages failed");
                continue;
            }
        };
        for m in claimed {
            let outcome = deliver(&client, &settings.transport, &m).await;
            let retry = settings.backoff(m.attempts);
            if let Outcome::Failed(why) = &outcome {
                tracing::warn!(message = m.id, kind = %m.kind, attempt = m.attempts, reason = %why, "message not delivered");
            }
            if let Err(e) = store
                .finish_message(
                    m.id,
                    &outcome,
                    m.attempts >= MAX_ATTEMPTS,
                    retry,
                    Utc::now(),
                )
                .await
            {
                tracing::warn!(error = %e, message = m.id, "recording a message's outcome failed");
            }
        }
    }
}

/// One attempt to hand `m` to the transport.
pub async fn deliver(client: &reqwest::Client, transport: &Transport, m: &Outgoing) -> Outcome {
    match transport {
        Transport::Off => Outcome::Failed("messages are off".into()),
        Transport::Log => {
            tracing::info!(
                message = m.id,
                kind = %m.kind,
                to = %mask_mobile(&m.recipient),
                lang = %m.lang,
                text = %m.body,
                "message (log transport)"
            );
            Outcome::Sent("logged".into())
        }
        Transport::Webhook(w) => {
            let body = render_body(&w.body, m);
            let mut req = client
                .post(&w.url)
                .header("content-type", "application/json")
                .header("x-qhall-message-id", m.id.to_string());
            for (k, v) in &w.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            if let Some(secret) = &w.secret {
                let sig = hex::encode(hmac_sha256(secret.as_bytes(), body.as_bytes()));
                req = req.header("x-qhall-signature", format!("sha256={sig}"));
            }
            match req.body(body).send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let text = resp.text().await.unwrap_or_default();
                    let answer: String = format!("{} {}", status.as_u16(), text.trim())
                        .chars()
                        .take(ANSWER_CHARS)
                        .collect();
                    if status.is_success() {
                        Outcome::Sent(answer)
                    } else {
                        Outcome::Failed(answer)
                    }
                }
                // Without the URL: it may carry the gateway's credentials.
                Err(e) => Outcome::Failed(format!("gateway unreachable: {}", e.without_url())),
            }
        }
    }
}

/// The webhook body: the template with each `{field}` replaced by the message's value, escaped
/// for a JSON string.
pub fn render_body(template: &str, m: &Outgoing) -> String {
    let esc = |s: &str| {
        let quoted = serde_json::to_string(s).unwrap_or_default();
        quoted[1..quoted.len() - 1].to_owned()
    };
    template
        .replace("{id}", &m.id.to_string())
        .replace("{kind}", &esc(&m.kind))
        .replace("{lang}", &esc(&m.lang))
        .replace("{to}", &esc(&m.recipient))
        .replace("{text}", &esc(&m.body))
}

/// HMAC-SHA256 (RFC 2104) of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(data)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block is hashed first.
        let mac = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn the_body_escapes_what_it_inserts() {
        let m = Outgoing {
            id: 7,
            kind: "near".into(),
            recipient: "+8613800138000".into(),
            lang: "en".into(),
            body: "say \"hi\"\n".into(),
            attempts: 1,
        };
        let body = render_body(DEFAULT_BODY, &m);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["text"], "say \"hi\"\n");
        assert_eq!(v["to"], "+8613800138000");
        assert_eq!(v["id"], "7");
    }

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_the_cap() {
        let s = Settings {
            transport: Transport::Log,
            retry_base: Duration::from_secs(5),
        };
        assert_eq!(s.backoff(1), Duration::from_secs(5));
        assert_eq!(s.backoff(2), Duration::from_secs(10));
        assert_eq!(s.backoff(3), Duration::from_secs(20));
        assert_eq!(s.backoff(30), MAX_BACKOFF);
    }

    #[test]
    fn a_webhook_needs_its_url_and_an_unknown_transport_is_refused() {
        let none = BTreeMap::new();
        assert!(
            Settings::resolve(Some("webhook"), None, None, none.clone(), None, None, false)
                .is_err()
        );
        assert!(
            Settings::resolve(Some("pigeon"), None, None, none.clone(), None, None, false).is_err()
        );
        let s = Settings::resolve(None, None, None, none.clone(), None, None, false).unwrap();
        assert!(!s.enabled());
        let s = Settings::resolve(None, None, None, none, None, None, true).unwrap();
        assert!(matches!(s.transport, Transport::Log));
    }
}
