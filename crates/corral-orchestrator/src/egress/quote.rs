//! How a host a job named is quoted in its events: never with a secret
//! in it, whole or in part.

use corral_proto::NewEvent;
use corral_proto::event::NetworkData;

use super::EgressProxy;
use super::allow::{normalize, shown};
use crate::redact::Findings;

impl EgressProxy {
    /// Refuses `host` (normalized from `asked`) when the part of it the
    /// job chose, not named by the allow entry that covers it, holds a
    /// secret: a host is sent in clear to name servers. What an entry
    /// names is the operator's (an account number in a registry's host
    /// may be a stored secret and still be allowed by name).
    pub(super) fn chose_no_secret(&self, asked: &str, host: &str) -> Result<(), String> {
        let named = self
            .allow
            .iter()
            .filter(|rule| rule.covers(host))
            .map(|rule| rule.named_tail(host))
            .max()
            .unwrap_or(0);
        // Normalizing keeps the length: the same bytes of each.
        let chosen = host.len().saturating_sub(named);
        let asked = asked.trim().trim_end_matches('.');
        let (Some(as_asked), Some(lowered)) = (asked.get(..chosen), host.get(..chosen)) else {
            return Ok(());
        };
        if self.redactor.finds(as_asked) || self.redactor.finds(lowered) {
            return Err(format!(
                "`{}` holds a secret: a host is sent in clear to name servers",
                self.quoted(asked)
            ));
        }
        Ok(())
    }

    /// `host` as an event quotes it: normalized and [`shown`] short, or,
    /// when it holds a secret, redacted as the job sent it before it is
    /// cut or lowercased (a secret cut, or lowercased, would pass the
    /// leak detector the event goes through).
    pub(super) fn quoted(&self, host: &str) -> String {
        let mut findings = Findings::default();
        let normalized = normalize(host);
        let redacted = self
            .redactor
            .redact_text(host, &mut findings)
            .or_else(|| self.redactor.redact_text(&normalized, &mut findings));
        shown(&redacted.unwrap_or(normalized))
    }

    /// Records a refused connection.
    pub(super) async fn deny(&self, host: &str, port: u16, reason: &str) {
        let network = NetworkData {
            host: self.quoted(host),
            port,
            allowed: false,
            mode: None,
            reason: Some(reason.to_owned()),
            status: None,
            bytes_up: None,
            bytes_down: None,
        };
        self.record_capped(NewEvent::of(&network)).await;
    }
}
