//! From the configuration to the stub: `[model.llm]` absent means no LLM
//! call at all; present, the configured endpoint, model and key are used.
//! (One test in its own binary: it sets the AWS credential variables.)

use atpilot_agent::classifiers::keyword::KeywordClassifier;
use atpilot_config::{Config, EXAMPLE};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, HeaderMap, Value)>>>;

async fn answer(State(seen): State<Seen>, uri: Uri, headers: HeaderMap, body: Bytes) -> axum::Json<Value> {
    seen.lock().unwrap().push((uri.path().to_string(), headers, serde_json::from_slice(&body).unwrap_or(Value::Null)));
    let text = r#"{"category": "password-reset", "queue": null, "priority": null, "draft": null}"#;
    // Both shapes in one body: each adapter reads its own fields.
    axum::Json(json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}
    }))
}

fn config(llm: &str) -> Config {
    let text = EXAMPLE.replacen(
        "physical_categories = [\"hardware\"]\n",
        &format!("physical_categories = [\"hardware\"]\n\n[model.llm]\n{llm}\n"),
        1,
    );
    Config::parse(&text, "test").unwrap()
}

#[tokio::test]
async fn the_configuration_chooses_the_provider_and_its_endpoint() {
    // SAFETY: the only test of this binary; set before any thread reads the environment.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDWIRING");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "wiring-secret");
        std::env::remove_var("AWS_PROFILE");
    }
    let seen: Seen = Arc::default();
    let app = axum::Router::new().fallback(answer).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (title, body) = ("Password reset", "I forgot my password");

    // No [model.llm]: the local model alone, nothing sent.
    let local: Arc<dyn atpilot_agent::ports::Classifier> = Arc::new(KeywordClassifier);
    let off =
        atpilot_llm::classifier(&Config::parse(EXAMPLE, "x").unwrap(), local.clone(), None, Some("sk-unused".into()))
            .await
            .unwrap();
    let out = off.classify_ticket(title, body).await;
    assert!(out.notes.is_empty() && seen.lock().unwrap().is_empty());
    // the Lambda wiring takes the loaded model back from it instead of loading it twice
    assert!(Arc::ptr_eq(&off.local().expect("a local classifier hands back its model"), &local));

    let openai =
        config(&format!("provider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"{url}/v1\"\ntimeout_ms = 3000"));
    let c = atpilot_llm::classifier(&openai, Arc::new(KeywordClassifier), None, Some("sk-wired".into())).await.unwrap();
    assert!(c.local().is_none(), "an LLM classifier is not a bare local model");
    let out = c.classify_ticket(title, body).await;
    assert!(out.notes.iter().any(|n| n.contains("openai-compatible gpt-4o-mini agrees")), "{:?}", out.notes);
    {
        let seen = seen.lock().unwrap();
        let (path, headers, sent) = seen.last().unwrap();
        assert_eq!(
            (path.as_str(), headers["authorization"].to_str().unwrap()),
            ("/v1/chat/completions", "Bearer sk-wired")
        );
        assert_eq!(sent["model"], "gpt-4o-mini");
        // The example's configured categories are offered too.
        assert!(sent["messages"][0]["content"].as_str().unwrap().contains("\"mfa-enrollment\""));
    }

    let bedrock = config(&format!(
        "provider = \"bedrock\"\nmodel = \"amazon.nova-micro-v1:0\"\nregion = \"us-west-2\"\nendpoint_url = \"{url}\"\ntimeout_ms = 3000"
    ));
    let c = atpilot_llm::classifier(&bedrock, Arc::new(KeywordClassifier), None, None).await.unwrap();
    let out = c.classify_ticket(title, body).await;
    assert!(out.notes.iter().any(|n| n.contains("bedrock amazon.nova-micro-v1:0 agrees")), "{:?}", out.notes);
    let seen = seen.lock().unwrap();
    let (path, headers, _) = seen.last().unwrap();
    assert_eq!(path, "/model/amazon.nova-micro-v1%3A0/converse");
    let auth = headers["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDWIRING/") && auth.contains("/us-west-2/bedrock/aws4_request"),
        "{auth}"
    );
    assert_eq!(seen.len(), 2);
}
