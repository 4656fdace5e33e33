//! Any OpenAI-compatible chat endpoint: `POST {base_url}/chat/completions`
//! (OpenAI, Azure OpenAI's v1 API, vLLM, llama.cpp, Ollama, LiteLLM…).

use async_trait::async_trait;
use atpilot_agent::ports::{ChatRequest, LlmProvider, PortError};
use serde_json::{Value, json};
use std::time::Duration;

pub struct OpenAiCompatible {
    http: reqwest::Client,
    url: String,
    model: String,
    api_key: Option<String>,
    json_mode: bool,
}

impl std::fmt::Debug for OpenAiCompatible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiCompatible")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl OpenAiCompatible {
    /// `base_url` up to `/chat/completions`, e.g. `https://api.openai.com/v1`;
    /// `timeout` bounds each request (a backstop: the classifier has its own).
    pub fn new(
        base_url: &str,
        model: &str,
        api_key: Option<String>,
        json_mode: bool,
        timeout: Duration,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder().timeout(timeout).build().map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            http,
            url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            model: model.to_string(),
            api_key: api_key.filter(|k| !k.trim().is_empty()),
            json_mode,
        })
    }

    /// The request body (OpenAI's Chat Completions shape).
    pub fn body(&self, req: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": req.system},
                {"role": "user", "content": req.user},
            ],
            "temperature": 0,
            "max_tokens": req.max_tokens,
        });
        if self.json_mode {
            body["response_format"] = json!({"type": "json_object"});
        }
        body
    }
}

#[async_trait]
impl LlmProvider for OpenAiCompatible {
    async fn complete(&self, req: &ChatRequest) -> Result<String, PortError> {
        let mut r = self.http.post(&self.url).json(&self.body(req));
        if let Some(key) = &self.api_key {
            r = r.bearer_auth(key);
        }
        let resp = r.send().await.map_err(|e| {
            let mut why = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                why.push_str(&format!(": {s}"));
                source = s.source();
            }
            PortError::Transient(format!("{}: {why}", self.url))
        })?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = body.pointer("/error/message").and_then(Value::as_str).unwrap_or("no error message");
            let text = format!("HTTP {} from {}: {msg}", status.as_u16(), self.url);
            return Err(if status.as_u16() == 429 || status.is_server_error() {
                PortError::Transient(text)
            } else {
                PortError::Permanent(text)
            });
        }
        body.pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| PortError::Permanent(format!("{}: no choices[0].message.content in the answer", self.url)))
    }

    fn name(&self) -> String {
        format!("openai-compatible {}", self.model)
    }
}
