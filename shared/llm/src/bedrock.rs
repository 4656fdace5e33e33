//! Amazon Bedrock's Converse API (`POST /model/{modelId}/converse`), signed
//! with the function's IAM role (`bedrock:InvokeModel`). The endpoint can be
//! overridden (`endpoint_url`, or `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`).

use async_trait::async_trait;
use atpilot_agent::ports::{ChatRequest, LlmProvider, PortError};
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput, InferenceConfiguration, Message, SystemContentBlock,
};

#[derive(Debug, Clone)]
pub struct BedrockConverse {
    client: Client,
    model: String,
}

impl BedrockConverse {
    pub fn new(client: Client, model: &str) -> Self {
        Self { client, model: model.to_string() }
    }

    /// A client from the environment (credentials, region), with an optional region and endpoint override.
    pub async fn from_env(model: &str, region: Option<&str>, endpoint_url: Option<&str>) -> Self {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r.to_string()));
        }
        if let Some(e) = endpoint_url {
            loader = loader.endpoint_url(e);
        }
        Self::new(Client::new(&loader.load().await), model)
    }
}

/// Throttling, 5xx and network failures are worth retrying; the rest (access denied, validation) is not.
fn port_error<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> PortError {
    let transient = match &e {
        SdkError::ServiceError(s) => matches!(
            s.err().code(),
            Some(
                "ThrottlingException"
                    | "ServiceUnavailableException"
                    | "InternalServerException"
                    | "ModelNotReadyException"
                    | "ModelTimeoutException"
            )
        ),
        _ => true,
    };
    let text = format!("Bedrock Converse: {}", DisplayErrorContext(&e));
    if transient { PortError::Transient(text) } else { PortError::Permanent(text) }
}

#[async_trait]
impl LlmProvider for BedrockConverse {
    async fn complete(&self, req: &ChatRequest) -> Result<String, PortError> {
        let message = Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text(req.user.clone()))
            .build()
            .map_err(|e| PortError::Permanent(format!("Bedrock message: {e}")))?;
        let out = self
            .client
            .converse()
            .model_id(&self.model)
            .system(SystemContentBlock::Text(req.system.clone()))
            .messages(message)
            .inference_config(
                InferenceConfiguration::builder()
                    .max_tokens(i32::try_from(req.max_tokens).unwrap_or(i32::MAX))
                    .temperature(0.0)
                    .build(),
            )
            .send()
            .await
            .map_err(port_error)?;
        let Some(ConverseOutput::Message(m)) = out.output() else {
            return Err(PortError::Permanent("Bedrock Converse: the answer has no output message".into()));
        };
        let text: String = m.content().iter().filter_map(|b| b.as_text().ok()).map(String::as_str).collect();
        if text.trim().is_empty() {
            return Err(PortError::Permanent(format!(
                "Bedrock Converse: empty answer (stop reason {})",
                out.stop_reason().as_str()
            )));
        }
        Ok(text)
    }

    fn name(&self) -> String {
        format!("bedrock {}", self.model)
    }
}
