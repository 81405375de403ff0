//! Scripted model upstreams for tests: corral's own scripted servers (the
//! product's, reused) on loopback, registered as a provider of a
//! [`TestServer`](crate::TestServer) with a key the tests can hunt for.

use corral_orchestrator::Config;
use corral_orchestrator::internals::SecretValue;
use corral_orchestrator::internals::{Script, ScriptedServer};
use corral_orchestrator::{Provider, ProviderKey, ProviderKind};
use serde_json::Value;

/// The provider name tests register their scripted upstream under.
pub const TEST_PROVIDER: &str = "up";
/// The model the test provider defaults to.
pub const TEST_MODEL: &str = "test-model-1";

/// A scripted upstream and the key the orchestrator sends it.
pub struct Upstream {
    /// The scripted server; its `requests()` show what reached it.
    pub server: ScriptedServer,
    /// The provider key: must reach the upstream and nothing else.
    pub key: String,
    /// Which API it speaks.
    pub kind: ProviderKind,
}

impl Upstream {
    /// Serves `script` (JSON, as in a script file) on loopback.
    pub async fn start(kind: ProviderKind, script: &Value) -> Self {
        let script = Script::parse(&script.to_string()).expect("test script is valid");
        let server = ScriptedServer::start(script)
            .await
            .expect("scripted upstream starts");
        let key = format!(
            "sk-test-{}",
            corral_orchestrator::internals::random_hex(16).expect("random")
        );
        Self { server, key, kind }
    }

    /// Registers this upstream as the server's default provider.
    pub fn register(&self, config: &mut Config) {
        let base_url = match self.kind {
            ProviderKind::Openai => self.server.openai_base_url(),
            ProviderKind::Anthropic => self.server.anthropic_base_url(),
        };
        config.llm.providers.insert(
            TEST_PROVIDER.to_owned(),
            Provider {
                name: TEST_PROVIDER.to_owned(),
                kind: self.kind,
                base_url,
                key: ProviderKey::Value(SecretValue::new(self.key.clone())),
                model: Some(TEST_MODEL.to_owned()),
                input_price: Some(3.0),
                output_price: Some(15.0),
                max_tokens: 1024,
                oauth: false,
            },
        );
        config.llm.default_provider = Some(TEST_PROVIDER.to_owned());
    }
}
