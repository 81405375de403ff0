//! Each planting alone, and a small corpus whole: what fails here names
//! the form or layout the detector missed.

use corral_orchestrator::internals::{Findings, Redactor};

use super::corpus::Corpus;
use super::{check, plant};
use crate::rng::Rng;

fn redactor(secrets: &[(String, String)]) -> Redactor {
    Redactor::new(
        secrets
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
}

#[test]
fn every_planting_alone_is_redacted_once_and_no_near_miss_at_all() {
    let mut rng = Rng::new(3);
    let secrets = plant::secrets(&mut rng, 24);
    let redactor = redactor(&secrets);
    let mut blocks = plant::token_shapes(&mut rng);
    for (name, value) in &secrets {
        blocks.extend(plant::secret_forms(&mut rng, name, value));
        blocks.extend(plant::near_misses(&mut rng, value));
    }
    let mut failures = Vec::new();
    for block in blocks {
        let mut findings = Findings::default();
        let _ = redactor.redact_text(&block.text, &mut findings);
        let expected: Vec<String> = block.expect.iter().cloned().collect();
        if findings.names != expected {
            failures.push(format!(
                "{}: {:?} in {:?}",
                block.kind, findings.names, block.text
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_small_corpus_is_redacted_as_planted() {
    let corpus = Corpus::build(3, 6, 1);
    let redactor = redactor(&corpus.secrets);
    let mut names = Vec::new();
    let mut output = String::new();
    for text in &corpus.texts {
        let mut findings = Findings::default();
        let redacted = redactor.redact_text(&text.body, &mut findings);
        output.push_str(redacted.as_deref().unwrap_or(&text.body));
        names.extend(findings.names);
    }
    assert_eq!(
        check("whole", &names, &corpus, &output),
        Vec::<String>::new()
    );
}

#[test]
fn a_missed_planting_and_a_redacted_decoy_are_problems() {
    let corpus = Corpus::build(2, 3, 1);
    let problems = check("whole", &[], &corpus, "");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains(&format!("0 redactions for {}", corpus.planted())));
}
