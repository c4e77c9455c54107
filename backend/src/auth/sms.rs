//! Delivery of one-time codes and short notices: to the log (development) or an HTTP gateway.
use std::time::Duration;

use serde::Serialize;

use crate::config::SmsProvider;

/// Sends SMS through the configured provider.
#[derive(Clone)]
pub struct SmsSender {
    provider: SmsProvider,
    http: reqwest::Client,
}

#[derive(Serialize)]
struct GatewayRequest<'a> {
    phone: &'a str,
    template: &'a str,
    params: serde_json::Value,
}

/// Tries after the first one.
const RETRIES: u32 = 2;

impl SmsSender {
    /// A sender for the provider, with a 5 s timeout per gateway call.
    #[expect(
        clippy::expect_used,
        reason = "start-up: a client without custom TLS always builds"
    )]
    pub fn new(provider: SmsProvider) -> SmsSender {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("a client without custom TLS settings always builds");
        SmsSender { provider, http }
    }

    /// Delivers a login code; `Err` holds the reason for the log.
    pub async fn send_code(&self, phone: &str, code: &str) -> Result<(), String> {
        match &self.provider {
            SmsProvider::Log => {
                tracing::info!("sms to={phone} code={code}");
                Ok(())
            }
            SmsProvider::Webhook(url) => {
                let body = GatewayRequest {
                    phone,
                    template: "login_code",
                    params: serde_json::json!({ "code": code, "minutes": 5 }),
                };
                let mut last = String::new();
                for attempt in 0..=RETRIES {
                    if attempt > 0 {
                        tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt - 1)))
                            .await;
                    }
                    match self.http.post(url).json(&body).send().await {
                        Ok(r) if r.status().is_success() => return Ok(()),
                        // A 4xx will not get better by asking again.
                        Ok(r) if r.status().is_client_error() => {
                            return Err(format!("gateway answered {}", r.status()));
                        }
                        Ok(r) => last = format!("gateway answered {}", r.status()),
                        Err(e) => last = format!("gateway unreachable: {e}"),
                    }
                }
                Err(last)
            }
        }
    }

    /// Delivers a notice (template and parameters, never a code or a sensitive
    /// detail) in one try: the outbox retries. `Err` holds the reason for the log.
    pub async fn send_notice(
        &self,
        phone: &str,
        template: &str,
        params: serde_json::Value,
    ) -> Result<(), String> {
        match &self.provider {
            SmsProvider::Log => {
                tracing::info!("sms notice to={phone} template={template} params={params}");
                Ok(())
            }
            SmsProvider::Webhook(url) => {
                let body = GatewayRequest {
                    phone,
                    template,
                    params,
                };
                match self.http.post(url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(format!("gateway answered {}", r.status())),
                    Err(e) => Err(format!("gateway unreachable: {e}")),
                }
            }
        }
    }
}
