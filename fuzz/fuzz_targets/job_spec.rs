//! A job spec as `POST /v1/jobs` receives it: the JSON decoder and the
//! server's check never panic, and a spec that passes has an image
//! reference of safe characters and limits within the server's bounds.
#![no_main]

use corral_orchestrator::internals::check_limits;
use corral_orchestrator::internals::validate_spec;
use corral_orchestrator::internals::LlmSettings;
use corral_proto::JobSpec;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(spec) = serde_json::from_slice::<JobSpec>(data) else {
        return;
    };
    let Ok(accepted) = validate_spec(spec, &LlmSettings::default()) else {
        return;
    };
    let image = &accepted.image;
    assert!(!image.is_empty() && image.len() <= 255, "{image:?}");
    assert!(
        image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@+".contains(c)),
        "{image:?}"
    );
    assert!(
        check_limits(&accepted.limits).is_ok(),
        "{:?}",
        accepted.limits
    );
});
